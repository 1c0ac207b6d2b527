//! One actor per WebSocket connection: it keeps the heartbeat, reads and checks the
//! client's frames, enforces the per-connection limits and writes frames out. It holds
//! no shared state; everything about rooms is the room actor's.
//!
//! This file is the only one that knows the WebSocket transport (actix-web-actors), so
//! moving to its successor (actix-ws) would touch this file alone.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use bytes::BytesMut;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::distr::{Alphanumeric, SampleString};

use super::fanout::{CloseConnection, Deliver, Outbox, QueueGauge, Sink, SocketCloser};
use super::frame_guard::FrameGuard;
use super::protocol::{self, ClientFrame, FrameError};
use super::room::{Command, ConnId, Connect, Disconnect, Request, RoomHub};
use crate::auth::CurrentUser;
use crate::codes::{CloseReason, ErrorCode};
use crate::config::Limits;
use crate::ids::MessageId;
use crate::models::message::ChangeKind;
use crate::models::validate;
use crate::state::SocketSlot;

/// Frames other than sends (joins, history, typing…) a connection may send per second.
const FRAMES_PER_SEC: u32 = 200;

pub struct WsSession {
    user: CurrentUser,
    hub: Addr<RoomHub>,
    limits: Arc<Limits>,
    conn: Option<ConnId>,
    last_heard: Instant,
    sends: DefaultDirectRateLimiter,
    frames: DefaultDirectRateLimiter,
    gauge: QueueGauge,
    closer: Option<SocketCloser>,
    /// Set by the frame guard when the client declared a frame over the limit.
    oversize: Arc<AtomicBool>,
    /// A fragmented text message being put back together (RFC 6455 section 5.4).
    fragments: Option<BytesMut>,
    /// This socket's place in the per-user and per-address counts, freed with the actor.
    _slot: SocketSlot,
}

/// Upgrades an authenticated request to a WebSocket served by a new session actor.
pub fn start(
    req: &HttpRequest,
    stream: web::Payload,
    user: CurrentUser,
    hub: Addr<RoomHub>,
    limits: Arc<Limits>,
    closer: Option<SocketCloser>,
    slot: SocketSlot,
) -> Result<HttpResponse, actix_web::Error> {
    let per_sec = NonZeroU32::new(limits.send_rate_per_sec).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limits.send_burst).unwrap_or(NonZeroU32::MIN);
    let frames = NonZeroU32::new(FRAMES_PER_SEC).expect("positive");
    let oversize = Arc::new(AtomicBool::new(false));
    let session = WsSession {
        user,
        hub,
        conn: None,
        last_heard: Instant::now(),
        sends: RateLimiter::direct(Quota::per_second(per_sec).allow_burst(burst)),
        frames: RateLimiter::direct(Quota::per_second(frames)),
        gauge: QueueGauge::default(),
        closer,
        limits: limits.clone(),
        oversize: oversize.clone(),
        fragments: None,
        _slot: slot,
    };
    let guarded = FrameGuard::new(stream, limits.max_frame_bytes, oversize);
    ws::WsResponseBuilder::new(session, req, guarded).frame_size(limits.max_frame_bytes).start()
}

impl WsSession {
    fn close_too_large(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let limit = self.limits.max_frame_bytes;
        self.reply_error(ctx, FrameError::new(ErrorCode::TooLarge, format!("frames are limited to {limit} bytes")));
        close_with(ctx, CloseReason::TooLarge);
    }

    /// RFC 6455 section 8.1: text that is not UTF-8 fails the connection with 1007.
    fn close_invalid_text(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        close_with(ctx, CloseReason::InvalidText);
    }

    /// Puts a fragmented message back together, within the frame limit as a whole.
    fn reassemble(&mut self, item: actix_http::ws::Item, ctx: &mut ws::WebsocketContext<Self>) {
        let (bytes, last) = match item {
            actix_http::ws::Item::FirstText(bytes) => {
                self.fragments = Some(BytesMut::new());
                (bytes, false)
            }
            actix_http::ws::Item::FirstBinary(_) => {
                self.fragments = None;
                return self
                    .reply_error(ctx, FrameError::bad_request("binary frames are not understood; send JSON text"));
            }
            actix_http::ws::Item::Continue(bytes) => (bytes, false),
            actix_http::ws::Item::Last(bytes) => (bytes, true),
        };
        // Continuations of a binary message (already refused) are dropped with it.
        let Some(message) = self.fragments.as_mut() else { return };
        if message.len() + bytes.len() > self.limits.max_frame_bytes {
            self.fragments = None;
            return self.close_too_large(ctx);
        }
        message.extend_from_slice(&bytes);
        if !last {
            return;
        }
        let message = self.fragments.take().unwrap_or_default();
        match std::str::from_utf8(&message) {
            Ok(text) => self.handle_text(text, ctx),
            Err(_) => self.close_invalid_text(ctx),
        }
    }

    fn reply_error(&self, ctx: &mut ws::WebsocketContext<Self>, error: FrameError) {
        ctx.text(error.to_frame());
    }

    fn heartbeat(&self, ctx: &mut ws::WebsocketContext<Self>) {
        let every = Duration::from_secs(self.limits.heartbeat_secs);
        let timeout = Duration::from_secs(self.limits.client_timeout_secs);
        ctx.run_interval(every, move |session, ctx| {
            if session.last_heard.elapsed() > timeout {
                tracing::debug!(user_id = %session.user.id, "WebSocket heartbeat timed out");
                ctx.stop();
            } else {
                ctx.ping(b"");
            }
        });
    }

    /// Checks a frame's fields and limits; what passes goes to the room actor.
    fn request(&self, frame: ClientFrame) -> Result<Request, FrameError> {
        Ok(match frame {
            ClientFrame::Join { room, since } => {
                if since.is_some_and(|s| s.0 < 0) {
                    return Err(FrameError::bad_request("since must be a message id (0 or more)").in_room(&room));
                }
                Request::Join { room, since }
            }
            ClientFrame::Leave { room } => Request::Leave { room },
            ClientFrame::Send { room, text, client_id, reply_to } => {
                let client_id = client_id.unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 24));
                let refuse = |e: FrameError| e.in_room(&room).for_client_id(Some(&client_id));
                validate::client_id(&client_id).map_err(|e| refuse(FrameError::bad_request(e)))?;
                let text = validate::message_text(&text, self.limits.max_text_chars)
                    .map_err(|e| refuse(FrameError::bad_request(e)))?
                    .to_owned();
                if reply_to.is_some_and(|id| id.0 < 1) {
                    return Err(refuse(FrameError::new(ErrorCode::NotFound, "there is no such message to reply to")));
                }
                self.check_send_rate().map_err(refuse)?;
                Request::Send { room, text, client_id, reply_to }
            }
            ClientFrame::Edit { room, message_id, text, client_id } => {
                let text = match validate::message_text(&text, self.limits.max_text_chars) {
                    Ok(text) => text.to_owned(),
                    Err(e) => {
                        return Err(FrameError::bad_request(e).in_room(&room).for_client_id(client_id.as_deref()))
                    }
                };
                self.change(room, message_id, ChangeKind::Edit { text }, client_id)?
            }
            ClientFrame::Delete { room, message_id, client_id } => {
                self.change(room, message_id, ChangeKind::Delete, client_id)?
            }
            ClientFrame::React { room, message_id, emoji, on, client_id } => {
                if let Err(e) = validate::emoji(&emoji) {
                    return Err(FrameError::bad_request(e).in_room(&room).for_client_id(client_id.as_deref()));
                }
                self.change(room, message_id, ChangeKind::React { emoji, on }, client_id)?
            }
            ClientFrame::Typing { room } => Request::Typing { room },
            ClientFrame::History { room, before, limit } => {
                if before.is_some_and(|b| b.0 <= 0) {
                    return Err(FrameError::bad_request("before must be a message id").in_room(&room));
                }
                let limit = match limit {
                    None => self.limits.history_default,
                    Some(l) if l < 1 => return Err(FrameError::bad_request("limit must be 1 or more").in_room(&room)),
                    Some(l) => (l as usize).min(self.limits.history_max),
                };
                Request::History { room, before, limit }
            }
            ClientFrame::Read { room, message_id } => {
                if message_id.0 < 1 {
                    return Err(FrameError::bad_request("message_id must be a message id").in_room(&room));
                }
                Request::Read { room, message_id }
            }
        })
    }

    /// Sends, edits, deletes and reactions share one rate limit: each is a write.
    fn check_send_rate(&self) -> Result<(), FrameError> {
        if self.sends.check().is_err() {
            let message = format!(
                "slow down: at most {} messages a second (bursts of {})",
                self.limits.send_rate_per_sec, self.limits.send_burst
            );
            return Err(FrameError::new(ErrorCode::RateLimited, message));
        }
        Ok(())
    }

    /// An edit, delete or reaction that passed its own field checks.
    fn change(
        &self,
        room: String,
        message_id: MessageId,
        kind: ChangeKind,
        client_id: Option<String>,
    ) -> Result<Request, FrameError> {
        let refuse = |e: FrameError| e.in_room(&room).for_client_id(client_id.as_deref());
        if let Some(id) = &client_id {
            validate::client_id(id).map_err(|e| refuse(FrameError::bad_request(e)))?;
        }
        if message_id.0 < 1 {
            return Err(refuse(FrameError::new(ErrorCode::NotFound, "there is no such message in this room")));
        }
        self.check_send_rate().map_err(refuse)?;
        Ok(Request::Change { room, message_id, kind, client_id })
    }

    fn handle_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let request = protocol::parse(text).and_then(|frame| {
            // Writes have their own limit (checked with their fields); the rest share this.
            let write = matches!(
                frame,
                ClientFrame::Send { .. }
                    | ClientFrame::Edit { .. }
                    | ClientFrame::Delete { .. }
                    | ClientFrame::React { .. }
            );
            if !write && self.frames.check().is_err() {
                return Err(FrameError::new(ErrorCode::RateLimited, "too many frames; slow down"));
            }
            self.request(frame)
        });
        match (request, self.conn) {
            (Ok(request), Some(conn)) => self.hub.do_send(Command { conn, request }),
            (Ok(_), None) => self.reply_error(ctx, FrameError::new(ErrorCode::Unavailable, "not connected yet")),
            (Err(error), _) => self.reply_error(ctx, error),
        }
    }
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.heartbeat(ctx);
        let addr = ctx.address();
        let outbox = Outbox::new(
            Sink::WebSocket { deliver: addr.clone().recipient(), close: addr.recipient() },
            self.gauge.clone(),
            self.limits.outbox_capacity,
            self.closer.take(),
        );
        let connect = Connect { user: self.user.public(), login_id: self.user.login_id.clone(), outbox };
        // Frames that arrive before the room actor has registered us wait for it.
        self.hub
            .send(connect)
            .into_actor(self)
            .then(|result, session, ctx| {
                match result {
                    Ok(conn) => session.conn = Some(conn),
                    Err(_) => ctx.stop(),
                }
                fut::ready(())
            })
            .wait(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Some(conn) = self.conn {
            self.hub.do_send(Disconnect { conn });
        }
    }
}

impl Handler<Deliver> for WsSession {
    type Result = ();

    fn handle(&mut self, Deliver(batch): Deliver, ctx: &mut Self::Context) {
        for frame in batch.iter() {
            ctx.text(frame.text.clone());
        }
        self.gauge.written();
    }
}

/// Closes the socket with the reason's code, and stops the session.
fn close_with(ctx: &mut ws::WebsocketContext<WsSession>, reason: CloseReason) {
    let code = ws::CloseCode::from(reason.code());
    ctx.close(Some(ws::CloseReason { code, description: Some(reason.description().into()) }));
    ctx.stop();
}

impl Handler<CloseConnection> for WsSession {
    type Result = ();

    fn handle(&mut self, msg: CloseConnection, ctx: &mut Self::Context) {
        close_with(ctx, msg.reason);
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match item {
            Ok(ws::Message::Text(text)) => self.handle_text(&text, ctx),
            Ok(ws::Message::Binary(_)) => {
                self.reply_error(ctx, FrameError::bad_request("binary frames are not understood; send JSON text"))
            }
            Ok(ws::Message::Continuation(item)) => self.reassemble(item, ctx),
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Err(ws::ProtocolError::Overflow) => self.close_too_large(ctx),
            Err(_) if self.oversize.load(Ordering::Relaxed) => self.close_too_large(ctx),
            // actix-web-actors reports a text frame that is not UTF-8 as an I/O error
            // carrying the UTF-8 decoder's message.
            Err(ws::ProtocolError::Io(e)) if e.to_string().to_ascii_lowercase().contains("utf-8") => {
                self.close_invalid_text(ctx)
            }
            Err(e) => {
                tracing::debug!(error = %e, "WebSocket protocol error");
                ctx.stop();
            }
        }
    }
}
