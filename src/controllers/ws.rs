//! `GET /ws`: authenticate, check the origin, hand the socket to a session actor.

use std::os::fd::RawFd;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::CurrentUser;
use crate::chat::fanout::SocketCloser;
use crate::chat::session;
use crate::errors::AppError;
use crate::state::AppState;

/// The accepted socket's descriptor, recorded when the connection was accepted.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionFd(pub RawFd);

pub async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    stream: web::Payload,
    user: CurrentUser,
) -> Result<HttpResponse, actix_web::Error> {
    check_origin(&state, &req)?;
    let slot = state.open_socket(&req, user.id)?;
    let closer = socket_closer(&req);
    session::start(&req, stream, user, state.hub.clone(), state.limits.clone(), closer, slot)
}

/// A handle that can shut this request's connection down from outside, for a stream
/// whose client stopped reading.
pub fn socket_closer(req: &HttpRequest) -> Option<SocketCloser> {
    let fd = req.conn_data::<ConnectionFd>()?;
    Some(SocketCloser::new(fd.0, req.peer_addr()?))
}

/// Browsers always send `Origin` on a WebSocket handshake; one that is not ours (or
/// configured) is a cross-site hijacking attempt. Clients without one are not browsers.
/// "Ours" is the request's own `Host`: `X-Forwarded-Host` and `Forwarded` are anybody's
/// to write, and count only when forwarding is trusted.
pub fn check_origin(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    let allowed = if state.config.allowed_origins.is_empty() {
        state
            .own_host(req)
            .is_some_and(|host| origin == format!("https://{host}") || origin == format!("http://{host}"))
    } else {
        state.config.allowed_origins.iter().any(|o| o.trim_end_matches('/') == origin)
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("WebSocket connections from {origin} are not allowed")))
    }
}
