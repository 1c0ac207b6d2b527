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
    let closer = socket_closer(&req);
    session::start(&req, stream, user, state.hub.clone(), state.limits.clone(), closer)
}

/// A handle that can shut this request's connection down from outside, for a stream
/// whose client stopped reading.
pub fn socket_closer(req: &HttpRequest) -> Option<SocketCloser> {
    let fd = req.conn_data::<ConnectionFd>()?;
    Some(SocketCloser::new(fd.0, req.peer_addr()?))
}

/// Browsers always send `Origin` on a WebSocket handshake; one that is not ours (or
/// configured) is a cross-site hijacking attempt. Clients without one are not browsers.
pub fn check_origin(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    let allowed = if state.config.allowed_origins.is_empty() {
        let info = req.connection_info();
        origin == format!("{}://{}", info.scheme(), info.host())
            || origin == format!("https://{}", info.host())
            || origin == format!("http://{}", info.host())
    } else {
        state.config.allowed_origins.iter().any(|o| o.trim_end_matches('/') == origin)
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("WebSocket connections from {origin} are not allowed")))
    }
}
