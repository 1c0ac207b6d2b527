//! `GET /api/events?rooms=a,b`: the same messages as Server-Sent Events, for clients
//! that cannot use WebSocket. Resumes after `Last-Event-ID` or `?since=`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix::Addr;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::auth::CurrentUser;
use crate::chat::fanout::{Batch, Outbox, QueueGauge, Sink};
use crate::chat::room::{ConnId, Connect, Disconnect, RoomHub, Subscribe};
use crate::errors::AppError;
use crate::ids::MessageId;
use crate::services::rooms::room_for;
use crate::state::{AppState, SocketSlot};

/// Most rooms one stream may follow.
const MAX_ROOMS: usize = 64;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    pub rooms: Option<String>,
    pub since: Option<String>,
}

/// Server-Sent Events: every message of the named rooms, each with its id as the event
/// id, from `Last-Event-ID` (or `since`) on.
#[utoipa::path(get, path = "/api/events", tag = "messages", security(("session" = [])), params(EventsQuery),
    responses(
        (status = 200, description = "the event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "no rooms, too many rooms, or a bad resume point", body = crate::errors::ErrorBody),
        (status = 401, description = "not logged in", body = crate::errors::ErrorBody),
        (status = 404, description = "no such room (or someone else's direct room)", body = crate::errors::ErrorBody),
        (status = 406, description = "Accept does not admit text/event-stream", body = crate::errors::ErrorBody),
        (status = 429, description = "too many open sockets", body = crate::errors::ErrorBody),
        (status = 503, description = "storage unavailable", body = crate::errors::ErrorBody),
    ))]
pub async fn stream(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    if !accepts_event_stream(&req) {
        return Err(AppError::NotAcceptable("this endpoint answers with text/event-stream only".into()));
    }
    let names: Vec<&str> =
        query.rooms.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return Err(AppError::BadRequest("name the rooms to follow: ?rooms=a,b".into()));
    }
    if names.len() > MAX_ROOMS {
        return Err(AppError::BadRequest(format!("at most {MAX_ROOMS} rooms per stream")));
    }
    let since = resume_point(&req, query.since.as_deref())?;
    let slot = state.open_socket(&req, user.id)?;
    let mut rooms = Vec::with_capacity(names.len());
    for name in names {
        let room = room_for(&state, name, &user).await?;
        if !rooms.iter().any(|r: &crate::models::room::Room| r.id == room.id) {
            rooms.push(room);
        }
    }

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let gauge = QueueGauge::default();
    let outbox =
        Outbox::new(Sink::EventStream(tx), gauge.clone(), state.limits.outbox_capacity, super::ws::socket_closer(&req));
    let conn = state
        .hub
        .send(Connect { user: user.public(), login_id: user.login_id.clone(), outbox })
        .await
        .map_err(|_| AppError::Unavailable)?;
    state.hub.do_send(Subscribe { conn, rooms, since });

    let keep_alive = Duration::from_secs(state.limits.sse_keep_alive_secs);
    let events = EventStream {
        frames: rx,
        gauge,
        hub: state.hub.clone(),
        conn,
        ready: VecDeque::from([Bytes::from_static(b": connected\n\n")]),
        // A comment line now and then keeps proxies from closing an idle stream.
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive),
        _slot: slot,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events))
}

/// No `Accept` admits anything; otherwise it must name the event stream or a wildcard.
fn accepts_event_stream(req: &HttpRequest) -> bool {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return true };
    accept.split(',').any(|item| {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
        !refused && matches!(media.as_str(), "text/event-stream" | "text/*" | "*/*")
    })
}

/// `Last-Event-ID` (what a reconnecting EventSource sends) wins over `?since=`.
fn resume_point(req: &HttpRequest, since: Option<&str>) -> Result<Option<MessageId>, AppError> {
    let header = req.headers().get("Last-Event-ID").and_then(|v| v.to_str().ok()).map(str::trim);
    match header.filter(|v| !v.is_empty()).or(since.filter(|v| !v.is_empty())) {
        None => Ok(None),
        Some(value) => match value.parse::<i64>() {
            Ok(id) if id >= 0 => Ok(Some(MessageId(id))),
            _ => Err(AppError::BadRequest("Last-Event-ID and since must be message ids".into())),
        },
    }
}

/// The response body: message frames from the room actor, as SSE events.
struct EventStream {
    frames: UnboundedReceiver<Batch>,
    gauge: QueueGauge,
    hub: Addr<RoomHub>,
    conn: ConnId,
    ready: VecDeque<Bytes>,
    keep_alive: tokio::time::Interval,
    /// This stream's place in the per-user and per-address socket counts.
    _slot: SocketSlot,
}

impl Stream for EventStream {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(bytes) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(bytes)));
            }
            match self.frames.poll_recv(cx) {
                Poll::Ready(Some(batch)) => {
                    self.gauge.written();
                    let mut out = Vec::new();
                    for frame in batch.iter() {
                        if let Some(message) = &frame.message {
                            // The event id is the position of the state carried: the cursor.
                            let head = format!("id: {}\nevent: {}\ndata: ", message.seq, message.kind.name());
                            out.extend_from_slice(head.as_bytes());
                            out.extend_from_slice(message.json.as_bytes());
                            out.extend_from_slice(b"\n\n");
                        } else if let Some(name) = frame.stream_event {
                            // No id: it is no position, and must not move the cursor.
                            out.extend_from_slice(format!("event: {name}\ndata: ").as_bytes());
                            out.extend_from_slice(frame.text.as_bytes());
                            out.extend_from_slice(b"\n\n");
                        }
                    }
                    if !out.is_empty() {
                        self.ready.push_back(Bytes::from(out));
                    }
                    continue;
                }
                // The room actor let go of this stream (logout, too slow): it ends.
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            return match self.keep_alive.poll_tick(cx) {
                Poll::Ready(_) => Poll::Ready(Some(Ok(Bytes::from_static(b": keep-alive\n\n")))),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.hub.do_send(Disconnect { conn: self.conn });
    }
}
