//! What every response and request body goes through: security headers, a read deadline
//! for request bodies, and `unavailable` instead of a bare 500 when a dependency (the
//! session store's database, say) fails underneath a handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use bytes::Bytes;
use futures_util::Stream;

use crate::errors::AppError;
use crate::state::AppState;

/// Pages load scripts, styles and images from this server only (and the settings
/// page's preview of a picture not yet sent, a `blob:`), run no inline script and
/// cannot be framed (clickjacking); WebSockets and event streams go to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Security headers, the request-body deadline and 500 → 503, for every request.
pub async fn harden(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let timed_out = Arc::new(AtomicBool::new(false));
    if has_body(req.method()) {
        let seconds = req.app_data::<web::Data<AppState>>().map_or(10, |s| s.limits.body_read_secs);
        let payload = req.take_payload();
        let guarded = BodyDeadline {
            inner: payload,
            deadline: Box::pin(tokio::time::sleep(Duration::from_secs(seconds))),
            timed_out: timed_out.clone(),
        };
        req.set_payload(Payload::from(Box::pin(guarded) as Pin<Box<dyn Stream<Item = _>>>));
    }
    let is_api = req.path().starts_with("/api/");
    let mut response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        // A middleware below (the session store) failed before any handler ran: to a
        // client, the server is unavailable for a moment, and a retry is the answer.
        Err(error) if error.as_response_error().status_code() == StatusCode::INTERNAL_SERVER_ERROR => {
            tracing::warn!(%error, "a failure below the handlers, answered as unavailable");
            return Err(if is_api {
                AppError::Unavailable.into()
            } else {
                crate::views::PageError(AppError::Unavailable).into()
            });
        }
        Err(error) => return Err(error),
    };
    if timed_out.load(Ordering::Relaxed) {
        response = response.into_response(render(&AppError::RequestTimeout, is_api));
    } else if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!("a 500 from below the handlers, answered as unavailable");
        response = response.into_response(render(&AppError::Unavailable, is_api));
    }
    add_security_headers(response.headers_mut());
    Ok(response)
}

fn has_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

fn render(error: &AppError, is_api: bool) -> HttpResponse {
    if is_api {
        actix_web::ResponseError::error_response(error)
    } else {
        actix_web::ResponseError::error_response(&crate::views::PageError(error.clone()))
    }
}

fn add_security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    let set = |headers: &mut actix_web::http::header::HeaderMap, name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
}

/// A request body that must have arrived whole by a deadline: a client trickling a body
/// byte by byte would otherwise hold a worker's connection for as long as it likes.
struct BodyDeadline {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl Stream for BodyDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.timed_out.store(true, Ordering::Relaxed);
            let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time");
            return Poll::Ready(Some(Err(PayloadError::Io(error))));
        }
        Poll::Pending
    }
}
