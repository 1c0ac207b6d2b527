//! The room actor: the one place that knows which connections are in which rooms,
//! who is online, and in what order messages go out.
//!
//! Messages are stored first (by the group-commit writer) and fanned out only once
//! committed, in id order, serialized once for all recipients. A join registers the
//! connection before its history is read and buffers what arrives meanwhile, so that
//! history plus live messages have no gap and no duplicate.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

mod cluster;
mod messages;
mod sequence;
mod waiting;

pub use messages::{Command, Connect, Disconnect, EndLogin, PostMessage, PostedMessage, ReadMoved, Request, Subscribe};

use super::broker::{Broker, ClusterEvent};
use super::fanout::{Batch, Outbox};
use super::protocol::Frame;
use super::protocol::{self, FrameError};
use super::store::{StoreFailed, StoreWriter, StoredBatch};
use crate::codes::{CloseReason, ErrorCode};
use crate::config::Limits;
use crate::db::{Db, DbResult};
use crate::models::message::{Message, NewMessage, Page, Stored};
use crate::models::room::{Room, RoomMember};
use crate::models::user::PublicUser;
use sequence::{Chained, Sequencer};
use waiting::Waiting;

/// A connection (WebSocket or event stream) as the room actor knows it.
pub type ConnId = u64;

/// Typing notices from one connection in one room are relayed at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(1);

/// Requests one connection may have waiting behind a room lookup; more are refused.
const HELD_REQUESTS_MAX: usize = 256;

// ---- the actor's own state ----

#[derive(Debug, Clone)]
struct RoomInfo {
    id: i64,
    name: Arc<str>,
    /// For a direct room, its two members: nobody else may enter.
    direct_members: Option<Vec<i64>>,
}

impl RoomInfo {
    /// The room-access rule of `services::rooms::room_for`, from the cache: a public
    /// room admits everybody, a direct room its two members only (to anyone else it
    /// is a room that does not exist).
    fn admits(&self, user_id: i64) -> bool {
        self.direct_members.as_ref().is_none_or(|members| members.contains(&user_id))
    }

    /// A direct room is written with its two members in one transaction; a room read
    /// otherwise is not worth caching.
    fn is_whole(&self) -> bool {
        self.direct_members.as_ref().is_none_or(|members| members.len() == 2)
    }
}

struct Connection {
    user: PublicUser,
    login_id: String,
    outbox: Outbox,
    /// Rooms this connection joined, by name.
    rooms: HashMap<Arc<str>, i64>,
    last_typing: HashMap<i64, Instant>,
    /// While a room this connection joins is looked up in the database, its next
    /// requests wait here, in order: a `send` right after `join` must not find the
    /// room not joined yet.
    held: Option<VecDeque<Request>>,
}

enum SubState {
    /// The history is being read; live message frames wait here.
    Loading {
        generation: u64,
        buffer: Vec<Arc<Frame>>,
    },
    Live,
}

struct Subscriber {
    user_id: i64,
    state: SubState,
    /// Whether this subscription counts towards its user's presence in the room.
    online: bool,
    /// The highest message id this connection got in this room (no duplicates).
    last_sent: i64,
}

struct RoomState {
    info: RoomInfo,
    subscribers: HashMap<ConnId, Subscriber>,
    /// Users online here and how many of their connections are.
    online: HashMap<i64, (PublicUser, usize)>,
    /// Users online in this room through other nodes only.
    remote_online: HashMap<i64, PublicUser>,
    /// Joins whose history is read but whose member list waits for the other nodes'
    /// presence, read from Redis when the room becomes active here (None once read).
    awaiting_remote: Option<Vec<ReadyJoin>>,
}

/// A join with its history read, ready to go live.
struct ReadyJoin {
    conn: ConnId,
    generation: u64,
    since: Option<i64>,
    result: DbResult<(Vec<Message>, bool)>,
}

impl RoomState {
    fn members(&self) -> Vec<PublicUser> {
        self.online.values().map(|(u, _)| u.clone()).chain(self.remote_online.values().cloned()).collect()
    }
}

/// Who waits for a message being stored.
pub enum Waiter {
    Connection { conn: ConnId, room: Arc<str>, client_id: String },
    Http { room: Arc<str>, reply: tokio::sync::oneshot::Sender<Result<PostedMessage, ErrorCode>> },
}

/// What the writer carries back with each message: the ticket of its waiter, and the
/// room name its frame is rendered with.
pub struct Ticket {
    id: u64,
    room: Arc<str>,
}

pub struct RoomHub {
    db: Db,
    limits: Limits,
    broker: Broker,
    /// Events from other nodes, until the actor starts reading them.
    cluster_events: Option<tokio::sync::mpsc::UnboundedReceiver<ClusterEvent>>,
    sequence: Sequencer,
    /// This actor's own address, for work it hands to itself.
    me: Option<Addr<RoomHub>>,
    writer: Option<StoreWriter<Ticket>>,
    /// Senders waiting for the writer; answered `unavailable` when their deadline
    /// passes first.
    waiting: Waiting<Waiter>,
    next_conn: ConnId,
    next_generation: u64,
    connections: HashMap<ConnId, Connection>,
    by_user: HashMap<i64, HashSet<ConnId>>,
    rooms: HashMap<i64, RoomState>,
    known_rooms: HashMap<Arc<str>, RoomInfo>,
}

impl RoomHub {
    /// `sequence_top` is the chain's position when this node starts: everything up to
    /// it is in the database (read it after subscribing to the other nodes' events).
    pub fn new(
        db: Db,
        limits: Limits,
        broker: Broker,
        sequence_top: i64,
        cluster_events: Option<tokio::sync::mpsc::UnboundedReceiver<ClusterEvent>>,
    ) -> Self {
        RoomHub {
            db,
            limits,
            broker,
            cluster_events,
            sequence: Sequencer::starting_at(sequence_top),
            me: None,
            writer: None,
            waiting: Waiting::default(),
            next_conn: 1,
            next_generation: 1,
            connections: HashMap::new(),
            by_user: HashMap::new(),
            rooms: HashMap::new(),
            known_rooms: HashMap::new(),
        }
    }

    /// Sends one frame to one connection; a full queue drops the connection.
    fn send_to(&mut self, conn: ConnId, frame: Frame) {
        let overflow = match self.connections.get(&conn) {
            Some(c) => c.outbox.push_frame(frame).is_err(),
            None => return,
        };
        if overflow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }

    fn send_error(&mut self, conn: ConnId, error: FrameError) {
        self.send_to(conn, Frame::plain(error.to_frame()));
    }

    /// Runs blocking database work off this thread, then `then` back on the actor, with
    /// the work's result or [`DbError::Timeout`] once the database deadline passes.
    fn spawn_db<T: Send + 'static>(
        &self,
        ctx: &mut Context<Self>,
        work: impl FnOnce(&Db) -> DbResult<T> + Send + 'static,
        then: impl FnOnce(&mut Self, &mut Context<Self>, DbResult<T>) + Send + 'static,
    ) {
        let db = self.db.clone();
        let addr = ctx.address();
        actix::spawn(async move {
            let result = db.call(work).await;
            addr.do_send(Continue(Box::new(move |hub, ctx| then(hub, ctx, result))));
        });
    }

    // ---- joining ----

    fn join(&mut self, ctx: &mut Context<Self>, conn: ConnId, name: String, since: Option<i64>) {
        if let Some(info) = self.known_rooms.get(name.as_str()).cloned() {
            return self.start_join(ctx, conn, info, since);
        }
        if crate::models::validate::room_name(&name).is_err() && !name.starts_with("dm-") {
            return self.send_error(conn, FrameError::new(ErrorCode::NotFound, "there is no such room").in_room(&name));
        }
        let lookup = name.clone();
        if let Some(c) = self.connections.get_mut(&conn) {
            c.held.get_or_insert_with(VecDeque::new);
        }
        self.spawn_db(
            ctx,
            move |db| -> DbResult<Option<RoomInfo>> {
                let mut c = db.get()?;
                let Some(room) = Room::find_by_name(&mut c, &lookup)? else { return Ok(None) };
                let direct_members = if room.is_direct() { Some(Room::member_ids(&mut c, room.id)?) } else { None };
                Ok(Some(RoomInfo { id: room.id, name: Arc::from(room.name), direct_members }))
            },
            move |hub, ctx, result| {
                match result {
                    Ok(Some(info)) => {
                        // A direct room is created with its two members in one
                        // transaction; anything else read here is not cached.
                        if info.is_whole() {
                            hub.known_rooms.insert(info.name.clone(), info.clone());
                        }
                        hub.start_join(ctx, conn, info, since);
                    }
                    Ok(None) => hub
                        .send_error(conn, FrameError::new(ErrorCode::NotFound, "there is no such room").in_room(&name)),
                    Err(e) => {
                        tracing::error!(error = %e, "room lookup failed");
                        hub.send_error(conn, FrameError::unavailable().in_room(&name));
                    }
                }
                hub.release_held(ctx, conn);
            },
        );
    }

    /// Handles, in order, the requests that waited for a room lookup, until one of
    /// them starts another lookup (the rest then wait behind that one).
    fn release_held(&mut self, ctx: &mut Context<Self>, conn: ConnId) {
        let Some(mut held) = self.connections.get_mut(&conn).and_then(|c| c.held.take()) else { return };
        while let Some(request) = held.pop_front() {
            self.handle_request(ctx, conn, request);
            match self.connections.get_mut(&conn) {
                Some(Connection { held: Some(waiting), .. }) => return waiting.extend(held),
                Some(_) => {}
                None => return,
            }
        }
    }

    /// Registers a connection in a room as loading: live message frames for it wait in
    /// a buffer until its history has been read. Returns false if it is gone.
    fn begin_loading(&mut self, conn: ConnId, info: &RoomInfo, generation: u64) -> bool {
        let Some(connection) = self.connections.get_mut(&conn) else { return false };
        let user_id = connection.user.id;
        connection.rooms.insert(info.name.clone(), info.id);
        let activated = !self.rooms.contains_key(&info.id);
        let clustered = self.broker.is_clustered();
        let room = self.rooms.entry(info.id).or_insert_with(|| RoomState {
            info: info.clone(),
            subscribers: HashMap::new(),
            online: HashMap::new(),
            remote_online: HashMap::new(),
            awaiting_remote: clustered.then(Vec::new),
        });
        let subscriber = room.subscribers.entry(conn).or_insert(Subscriber {
            user_id,
            state: SubState::Live,
            online: false,
            last_sent: 0,
        });
        // A join again on the same connection starts over from its `since`.
        subscriber.state = SubState::Loading { generation, buffer: Vec::new() };
        subscriber.last_sent = 0;
        if activated && self.broker.is_clustered() {
            if let Some(addr) = &self.me {
                addr.do_send(RoomActivated { room_id: info.id });
            }
        }
        true
    }

    fn is_loading(&self, conn: ConnId, room_id: i64, generation: u64) -> bool {
        self.rooms.get(&room_id).is_some_and(|room| {
            matches!(
                room.subscribers.get(&conn),
                Some(Subscriber { state: SubState::Loading { generation: g, .. }, .. }) if *g == generation
            )
        })
    }

    /// Gives up a join whose history could not be read.
    fn abort_loading(&mut self, conn: ConnId, room_id: i64) {
        let name = self.rooms.get(&room_id).map(|r| r.info.name.clone());
        self.unsubscribe(conn, room_id);
        if let (Some(c), Some(name)) = (self.connections.get_mut(&conn), name) {
            c.rooms.remove(&name);
        }
    }

    /// Turns a loading subscription live: counts its user online (announcing them if
    /// this is their first connection here) and returns the frames buffered meanwhile.
    fn go_live(&mut self, conn: ConnId, room_id: i64) -> Vec<Arc<Frame>> {
        let Some(user) = self.connections.get(&conn).map(|c| c.user.clone()) else { return Vec::new() };
        let Some(room) = self.rooms.get_mut(&room_id) else { return Vec::new() };
        let Some(subscriber) = room.subscribers.get_mut(&conn) else { return Vec::new() };
        let buffer = match std::mem::replace(&mut subscriber.state, SubState::Live) {
            SubState::Loading { buffer, .. } => buffer,
            SubState::Live => Vec::new(),
        };
        if !subscriber.online {
            subscriber.online = true;
            let entry = room.online.entry(user.id).or_insert_with(|| (user.clone(), 0));
            entry.1 += 1;
            if entry.1 == 1 {
                let known_elsewhere = room.remote_online.remove(&user.id).is_some();
                self.presence_changed(room_id, user, true, known_elsewhere);
            }
        }
        buffer
    }

    fn set_last_sent(&mut self, conn: ConnId, room_id: i64, last_sent: i64) {
        if let Some(subscriber) = self.rooms.get_mut(&room_id).and_then(|r| r.subscribers.get_mut(&conn)) {
            subscriber.last_sent = last_sent;
        }
    }

    fn start_join(&mut self, ctx: &mut Context<Self>, conn: ConnId, info: RoomInfo, since: Option<i64>) {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return };
        if !info.admits(user_id) {
            let error = FrameError::new(ErrorCode::NotFound, "there is no such room");
            return self.send_error(conn, error.in_room(&info.name));
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.begin_loading(conn, &info, generation);
        let (room_id, cap, latest) = (info.id, self.limits.resume_cap, self.limits.history_default);
        self.spawn_db(
            ctx,
            move |db| -> DbResult<(Vec<Message>, bool, Option<i64>)> {
                let mut c = db.get()?;
                RoomMember::enter(&mut c, room_id, user_id)?;
                let room_top = Room::last_message_id(&mut c, room_id)?;
                // A `since` past the latest message (a database restored from a backup)
                // means "up to date": taken as is, it would filter out every new message.
                let since = since.map(|since| since.min(room_top));
                let (messages, limited) = match since {
                    Some(since) => Message::missed_since(&mut c, room_id, since, cap)?,
                    // Without `since` the latest page comes; older ones are paged with `history`.
                    None => (Message::page(&mut c, room_id, Page::Latest, latest)?.0, false),
                };
                Ok((messages, limited, since))
            },
            move |hub, _, result| {
                let (since, result) = match result {
                    Ok((messages, limited, clamped)) => (clamped, Ok((messages, limited))),
                    Err(e) => (since, Err(e)),
                };
                hub.finish_join(room_id, ReadyJoin { conn, generation, since, result })
            },
        );
    }

    fn finish_join(&mut self, room_id: i64, ready: ReadyJoin) {
        if !self.is_loading(ready.conn, room_id, ready.generation) {
            return; // left, disconnected or joined again meanwhile
        }
        if let Some(waiting) = self.rooms.get_mut(&room_id).and_then(|r| r.awaiting_remote.as_mut()) {
            return waiting.push(ready);
        }
        let ReadyJoin { conn, since, result, .. } = ready;
        let name = self.rooms[&room_id].info.name.clone();
        let (messages, limited) = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::error!(error = %e, "reading history for a join failed");
                self.abort_loading(conn, room_id);
                return self.send_error(conn, FrameError::unavailable().in_room(&name));
            }
        };
        let buffer = self.go_live(conn, room_id);
        // What the history already holds is not sent twice.
        let seen = messages.last().map(|m| m.id).or(since).unwrap_or(0);
        let backlog: Vec<Arc<Frame>> =
            buffer.into_iter().filter(|f| f.message_id().is_none_or(|id| id > seen)).collect();
        let last_sent = backlog.iter().filter_map(|f| f.message_id()).max().unwrap_or(seen).max(seen);
        self.set_last_sent(conn, room_id, last_sent);
        let members = self.rooms[&room_id].members();
        let joined = protocol::joined_frame(&name, &members, &messages, limited);
        let mut frames = vec![Arc::new(Frame::plain(joined))];
        frames.extend(backlog);
        self.deliver(conn, Arc::from(frames));
    }

    /// An event stream enters several rooms at once; what it missed since `since` comes
    /// merged in id order, so that its last event id is a resume point for all of them.
    fn subscribe_stream(&mut self, ctx: &mut Context<Self>, conn: ConnId, rooms: Vec<RoomInfo>, since: Option<i64>) {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return };
        let generation = self.next_generation;
        self.next_generation += 1;
        for info in &rooms {
            self.begin_loading(conn, info, generation);
        }
        let room_ids: Vec<i64> = rooms.iter().map(|r| r.id).collect();
        let page = self.limits.resume_cap;
        let ids = room_ids.clone();
        self.spawn_db(
            ctx,
            move |db| -> DbResult<(Vec<Message>, bool, Option<i64>)> {
                let mut c = db.get()?;
                for room_id in &ids {
                    RoomMember::enter(&mut c, *room_id, user_id)?;
                }
                // A `Last-Event-ID` past the latest message means "up to date" (see `join`).
                let since = match since {
                    Some(since) => Some(since.min(Message::sequence_top(&mut c)?)),
                    None => None,
                };
                let (messages, more) = match since {
                    Some(since) => Message::missed_since_in(&mut c, &ids, since, page)?,
                    None => (Vec::new(), false),
                };
                Ok((messages, more, since))
            },
            move |hub, ctx, result| {
                let (since, result) = match result {
                    Ok((messages, more, clamped)) => (clamped, Ok((messages, more))),
                    Err(e) => (since, Err(e)),
                };
                hub.finish_stream(ctx, conn, room_ids, generation, since, result)
            },
        );
    }

    /// Hands an event stream what it missed, a page (the resume cap) at a time: an
    /// event stream has no `limited` flag, so it gets everything, however much. Live
    /// messages wait in the loading buffer until the last page is out; a client too
    /// slow for it is dropped like any slow consumer and resumes from its last id.
    fn finish_stream(
        &mut self,
        ctx: &mut Context<Self>,
        conn: ConnId,
        room_ids: Vec<i64>,
        generation: u64,
        since: Option<i64>,
        result: DbResult<(Vec<Message>, bool)>,
    ) {
        let room_ids: Vec<i64> = room_ids.into_iter().filter(|id| self.is_loading(conn, *id, generation)).collect();
        if room_ids.is_empty() {
            return;
        }
        let (history, more) = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::error!(error = %e, "reading history for an event stream failed");
                // The stream ends; its client reconnects with Last-Event-ID.
                return self.drop_connection(conn, Some(CloseReason::StorageUnavailable));
            }
        };
        let mut frames: Vec<Arc<Frame>> = Vec::new();
        for message in &history {
            if let Some(name) = self.rooms.get(&message.room_id).map(|r| r.info.name.clone()) {
                frames.push(Arc::new(Frame::message(message, &name)));
            }
        }
        if more {
            let after = history.last().map_or(since.unwrap_or(0), |m| m.id);
            if !frames.is_empty() {
                self.deliver(conn, Arc::from(frames));
            }
            let (page, ids) = (self.limits.resume_cap, room_ids.clone());
            return self.spawn_db(
                ctx,
                move |db| db.get().and_then(|mut c| Message::missed_since_in(&mut c, &ids, after, page)),
                move |hub, ctx, result| hub.finish_stream(ctx, conn, room_ids, generation, Some(after), result),
            );
        }
        let floor = since.unwrap_or(0);
        for room_id in &room_ids {
            let buffered = self.go_live(conn, *room_id);
            frames.extend(buffered.into_iter().filter(|f| f.message_id().is_some_and(|id| id > floor)));
        }
        frames.sort_by_key(|f| f.message_id());
        frames.dedup_by_key(|f| f.message_id());
        for room_id in &room_ids {
            let top = frames.iter().rfind(|f| f.message.as_ref().is_some_and(|m| m.room_id == *room_id));
            let last_sent = top.and_then(|f| f.message_id()).unwrap_or(floor);
            self.set_last_sent(conn, *room_id, last_sent);
        }
        if !frames.is_empty() {
            self.deliver(conn, Arc::from(frames));
        }
    }

    // ---- leaving ----

    /// Removes a connection from a room, announcing its user offline when it was
    /// their last connection there.
    fn unsubscribe(&mut self, conn: ConnId, room_id: i64) {
        let Some(room) = self.rooms.get_mut(&room_id) else { return };
        let Some(subscriber) = room.subscribers.remove(&conn) else { return };
        let mut offline = None;
        if subscriber.online {
            if let Some(entry) = room.online.get_mut(&subscriber.user_id) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    offline = room.online.remove(&subscriber.user_id).map(|(user, _)| user);
                }
            }
        }
        if let Some(user) = offline {
            self.presence_changed(room_id, user, false, false);
        }
        if self.rooms.get(&room_id).is_some_and(|r| r.subscribers.is_empty()) {
            self.rooms.remove(&room_id);
        }
    }

    /// A user's first or last connection here in a room. On one node that is the whole
    /// story; in a cluster the other nodes' claims decide (asynchronously, via Redis).
    fn presence_changed(&mut self, room_id: i64, user: PublicUser, online: bool, known_elsewhere: bool) {
        if !self.broker.is_clustered() {
            self.announce(room_id, &user, online);
        } else if !known_elsewhere {
            if let Some(addr) = &self.me {
                addr.do_send(PresenceChanged { room_id, user, online });
            }
        } else if let Some(addr) = &self.me {
            // Already shown online through another node: only the claim is renewed.
            addr.do_send(PresenceChanged { room_id, user, online: true });
        }
    }

    fn drop_connection(&mut self, conn: ConnId, reason: Option<CloseReason>) {
        let Some(connection) = self.connections.remove(&conn) else { return };
        if reason == Some(CloseReason::TooSlow) {
            metrics::counter!("ws_slow_consumers_dropped_total").increment(1);
            tracing::info!(conn, user_id = connection.user.id, "dropped a connection that stopped reading");
        }
        if let Some(reason) = reason {
            connection.outbox.close(reason);
        }
        if let Some(conns) = self.by_user.get_mut(&connection.user.id) {
            conns.remove(&conn);
            if conns.is_empty() {
                self.by_user.remove(&connection.user.id);
            }
        }
        for room_id in connection.rooms.values() {
            self.unsubscribe(conn, *room_id);
        }
        metrics::gauge!("chat_connections").set(self.connections.len() as f64);
    }

    // ---- fan-out ----

    /// Hands a batch to one connection (or to its join buffer while it loads).
    fn deliver(&mut self, conn: ConnId, batch: Batch) {
        let overflow = self.connections.get(&conn).is_some_and(|c| c.outbox.push(&batch).is_err());
        if overflow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }

    /// Presence and typing: to every live connection in the room but the user's own.
    fn broadcast_except_user(&mut self, room_id: i64, user_id: i64, frame: Frame) {
        let Some(room) = self.rooms.get(&room_id) else { return };
        let batch: Batch = Arc::from([Arc::new(frame)]);
        let targets: Vec<ConnId> = room
            .subscribers
            .iter()
            .filter(|(_, s)| s.user_id != user_id && matches!(s.state, SubState::Live))
            .map(|(conn, _)| *conn)
            .collect();
        let mut slow = Vec::new();
        for conn in targets {
            if let Some(c) = self.connections.get(&conn) {
                if c.outbox.push(&batch).is_err() {
                    slow.push(conn);
                }
            }
        }
        for conn in slow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }

    /// New messages of one room, in id order, to every connection in it.
    fn fan_out(&mut self, room_id: i64, frames: Vec<Arc<Frame>>) {
        let Some(room) = self.rooms.get_mut(&room_id) else { return };
        let first_id = frames.first().and_then(|f| f.message_id()).unwrap_or(0);
        let top_id = frames.last().and_then(|f| f.message_id()).unwrap_or(0);
        let batch: Batch = Arc::from(frames);
        // A join's buffer holds frames for the time one history read takes.
        let max_buffer = self.limits.outbox_capacity.saturating_mul(64);
        let mut slow = Vec::new();
        for (conn, subscriber) in room.subscribers.iter_mut() {
            match &mut subscriber.state {
                SubState::Loading { buffer, .. } => {
                    buffer.extend(batch.iter().cloned());
                    if buffer.len() > max_buffer {
                        slow.push(*conn);
                    }
                }
                SubState::Live => {
                    let Some(connection) = self.connections.get(conn) else { continue };
                    let pushed = if subscriber.last_sent < first_id {
                        connection.outbox.push(&batch)
                    } else {
                        // Some of these were already sent (a join overlapped): skip them.
                        let unseen: Vec<Arc<Frame>> = batch
                            .iter()
                            .filter(|f| f.message_id().is_none_or(|id| id > subscriber.last_sent))
                            .cloned()
                            .collect();
                        if unseen.is_empty() {
                            continue;
                        }
                        connection.outbox.push(&Arc::from(unseen))
                    };
                    match pushed {
                        Ok(()) => subscriber.last_sent = subscriber.last_sent.max(top_id),
                        Err(_) => slow.push(*conn),
                    }
                }
            }
        }
        for conn in slow {
            self.drop_connection(conn, Some(CloseReason::TooSlow));
        }
    }

    // ---- requests ----

    /// The room a connection joined under this name.
    fn joined_room(&self, conn: ConnId, name: &str) -> Option<i64> {
        self.connections.get(&conn)?.rooms.get(name).copied()
    }

    /// Answers a request about a room the connection is not in: `not_found` when the
    /// room does not exist, `forbidden` (join first) when it does.
    fn refuse_not_joined(&mut self, ctx: &mut Context<Self>, conn: ConnId, name: String, client_id: Option<String>) {
        let Some(user_id) = self.connections.get(&conn).map(|c| c.user.id) else { return };
        // Someone else's direct room does not exist, as far as an outsider can tell.
        let known = self.known_rooms.get(name.as_str()).map(|info| info.admits(user_id));
        let lookup = name.clone();
        let answer = move |hub: &mut RoomHub, exists: bool| {
            let error = if exists {
                FrameError::new(ErrorCode::Forbidden, format!("join the room {name:?} first"))
            } else {
                FrameError::new(ErrorCode::NotFound, "there is no such room")
            };
            hub.send_error(conn, error.in_room(&name).for_client_id(client_id.as_deref()));
        };
        if let Some(open) = known {
            return answer(self, open);
        }
        self.spawn_db(
            ctx,
            move |db| db.get().and_then(|mut c| Room::open_for(&mut c, &lookup, user_id)),
            move |hub, _, found| answer(hub, !matches!(found, Ok(Err(_)))),
        );
    }

    fn handle_request(&mut self, ctx: &mut Context<Self>, conn: ConnId, request: Request) {
        if let Some(held) = self.connections.get_mut(&conn).and_then(|c| c.held.as_mut()) {
            if held.len() < HELD_REQUESTS_MAX {
                return held.push_back(request);
            }
            let client_id = match &request {
                Request::Send { client_id, .. } => Some(client_id.as_str()),
                _ => None,
            };
            let error = FrameError::new(ErrorCode::RateLimited, "too many requests while a room is being joined");
            return self.send_error(conn, error.for_client_id(client_id));
        }
        match request {
            Request::Join { room, since } => self.join(ctx, conn, room, since),
            Request::Leave { room } => match self.joined_room(conn, &room) {
                Some(room_id) => {
                    if let Some(c) = self.connections.get_mut(&conn) {
                        c.rooms.remove(room.as_str());
                        c.last_typing.remove(&room_id);
                    }
                    self.unsubscribe(conn, room_id);
                }
                None => self.refuse_not_joined(ctx, conn, room, None),
            },
            Request::Send { room, text, client_id } => {
                let Some(room_id) = self.joined_room(conn, &room) else {
                    return self.refuse_not_joined(ctx, conn, room, Some(client_id));
                };
                let (user, room_name) = {
                    let c = &self.connections[&conn];
                    (
                        c.user.clone(),
                        self.rooms.get(&room_id).map_or_else(|| Arc::from(room.as_str()), |r| r.info.name.clone()),
                    )
                };
                let waiter = Waiter::Connection { conn, room: room_name, client_id: client_id.clone() };
                let message = NewMessage { room_id, user_id: user.id, nickname: user.nickname, body: text, client_id };
                self.submit(message, waiter);
            }
            Request::Typing { room } => {
                let Some(room_id) = self.joined_room(conn, &room) else {
                    return self.refuse_not_joined(ctx, conn, room, None);
                };
                let Some(c) = self.connections.get_mut(&conn) else { return };
                let now = Instant::now();
                if c.last_typing.get(&room_id).is_some_and(|t| now.duration_since(*t) < TYPING_EVERY) {
                    return;
                }
                c.last_typing.insert(room_id, now);
                let user = c.user.clone();
                let too_big = self
                    .rooms
                    .get(&room_id)
                    .is_none_or(|r| r.online.len() + r.remote_online.len() > self.limits.presence_room_max);
                if !too_big {
                    self.broadcast_except_user(room_id, user.id, Frame::plain(protocol::typing_frame(&room, &user)));
                    let node = self.broker.node().to_owned();
                    self.publish(ClusterEvent::Typing { node, room_id, room, user });
                }
            }
            Request::History { room, before, limit } => {
                let Some(room_id) = self.joined_room(conn, &room) else {
                    return self.refuse_not_joined(ctx, conn, room, None);
                };
                let page = before.map_or(Page::Latest, Page::Before);
                self.spawn_db(
                    ctx,
                    move |db| db.get().and_then(|mut c| Message::page(&mut c, room_id, page, limit)),
                    move |hub, _, result| match result {
                        Ok((messages, has_more)) => {
                            let frame = protocol::history_frame(&room, &messages, has_more);
                            hub.send_to(conn, Frame::plain(frame));
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "reading history failed");
                            hub.send_error(conn, FrameError::unavailable().in_room(&room));
                        }
                    },
                );
            }
            Request::Read { room, message_id } => {
                let Some(room_id) = self.joined_room(conn, &room) else {
                    return self.refuse_not_joined(ctx, conn, room, None);
                };
                let user_id = self.connections[&conn].user.id;
                self.spawn_db(
                    ctx,
                    move |db| db.get().and_then(|mut c| RoomMember::mark_read(&mut c, room_id, user_id, message_id)),
                    move |hub, _, result| match result {
                        Ok(Some(message_id)) => {
                            hub.tell_devices(user_id, Some(conn), &room, message_id);
                            let node = hub.broker.node().to_owned();
                            hub.publish(ClusterEvent::Read { node, user_id, room, message_id });
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "moving a read marker failed");
                            hub.send_error(conn, FrameError::unavailable().in_room(&room));
                        }
                    },
                );
            }
        }
    }

    /// Closes this node's connections of a login that ended.
    fn end_login(&mut self, login_id: &str) {
        let conns: Vec<ConnId> =
            self.connections.iter().filter(|(_, c)| c.login_id == login_id).map(|(id, _)| *id).collect();
        for conn in conns {
            self.drop_connection(conn, Some(CloseReason::LoggedOut));
        }
    }

    /// A read marker moved: every other connection of the user hears of it.
    fn tell_devices(&mut self, user_id: i64, except: Option<ConnId>, room: &str, message_id: i64) {
        let Some(conns) = self.by_user.get(&user_id) else { return };
        let targets: Vec<ConnId> = conns.iter().copied().filter(|c| Some(*c) != except).collect();
        if targets.is_empty() {
            return;
        }
        let batch: Batch = Arc::from([Arc::new(Frame::plain(protocol::read_frame(room, message_id)))]);
        for conn in targets {
            if self.connections.get(&conn).is_some_and(|c| !c.outbox.is_event_stream()) {
                self.deliver(conn, batch.clone());
            }
        }
    }

    fn submit(&mut self, message: NewMessage, waiter: Waiter) {
        let Some(writer) = &self.writer else { return };
        let room = match &waiter {
            Waiter::Connection { room, .. } | Waiter::Http { room, .. } => room.clone(),
        };
        let deadline = Instant::now() + self.db.timeout();
        let id = self.waiting.next_ticket();
        if writer.submit(message, Ticket { id, room }, deadline).is_err() {
            return self.answer_failure(waiter);
        }
        self.waiting.insert(waiter, deadline);
    }

    /// Answers `unavailable` to every sender whose message was not stored in time; the
    /// writer will not start on it any more, and a retry with the same `client_id`
    /// stores it once (or finds it, when its transaction was already committing).
    fn expire_waiting(&mut self) {
        for waiter in self.waiting.expired(Instant::now()) {
            metrics::counter!("message_store_timeouts_total").increment(1);
            self.answer_failure(waiter);
        }
    }

    fn answer_failure(&mut self, waiter: Waiter) {
        match waiter {
            Waiter::Connection { conn, room, client_id } => {
                let error = FrameError::unavailable().in_room(&room).for_client_id(Some(&client_id));
                self.send_error(conn, error);
            }
            Waiter::Http { reply, .. } => {
                let _ = reply.send(Err(ErrorCode::Unavailable));
            }
        }
    }
}

/// How often senders whose message is late are looked for.
const WAITING_SWEEP: Duration = Duration::from_millis(100);

/// How often a clustered node checks the chain's head against the database.
const CHAIN_SWEEP: Duration = Duration::from_secs(1);

/// A user's first or last connection in a room on this node (clustered presence).
#[derive(Message)]
#[rtype(result = "()")]
struct PresenceChanged {
    room_id: i64,
    user: PublicUser,
    online: bool,
}

impl Handler<PresenceChanged> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: PresenceChanged, ctx: &mut Context<Self>) {
        if msg.online {
            self.came_online_here(ctx, msg.room_id, msg.user);
        } else {
            self.went_offline_here(ctx, msg.room_id, msg.user);
        }
    }
}

/// A room got its first connection on this node.
#[derive(Message)]
#[rtype(result = "()")]
struct RoomActivated {
    room_id: i64,
}

impl Handler<RoomActivated> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: RoomActivated, ctx: &mut Context<Self>) {
        self.load_remote_presence(ctx, msg.room_id);
    }
}

/// Work finished elsewhere (a database read) continuing on the actor.
#[derive(Message)]
#[rtype(result = "()")]
struct Continue(Continuation);

type Continuation = Box<dyn FnOnce(&mut RoomHub, &mut Context<RoomHub>) + Send>;

impl Actor for RoomHub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.me = Some(ctx.address());
        self.writer = Some(StoreWriter::start(self.db.clone(), ctx.address().recipient()));
        ctx.run_interval(WAITING_SWEEP, |hub, _| hub.expire_waiting());
        if let Some(mut events) = self.cluster_events.take() {
            ctx.add_stream(futures_util::stream::poll_fn(move |cx| events.poll_recv(cx)));
        }
        if let Broker::Redis(redis) = &self.broker {
            ctx.run_interval(redis.refresh_every(), |hub, ctx| hub.refresh_presence(ctx));
            // Pub/sub is the fast path, not the guarantee: compare with the database.
            ctx.run_interval(CHAIN_SWEEP, |hub, ctx| hub.sweep(ctx));
        }
    }
}

impl Handler<Continue> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: Continue, ctx: &mut Context<Self>) {
        (msg.0)(self, ctx)
    }
}

impl Handler<Connect> for RoomHub {
    type Result = ConnId;

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) -> ConnId {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.by_user.entry(msg.user.id).or_default().insert(conn);
        self.connections.insert(
            conn,
            Connection {
                user: msg.user,
                login_id: msg.login_id,
                outbox: msg.outbox,
                rooms: HashMap::new(),
                last_typing: HashMap::new(),
                held: None,
            },
        );
        metrics::gauge!("chat_connections").set(self.connections.len() as f64);
        conn
    }
}

impl Handler<Disconnect> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        // The client went away: there is nothing to close.
        self.drop_connection(msg.conn, None);
    }
}

impl Handler<Command> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: Command, ctx: &mut Context<Self>) {
        self.handle_request(ctx, msg.conn, msg.request);
    }
}

impl Handler<Subscribe> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, ctx: &mut Context<Self>) {
        let rooms = msg
            .rooms
            .into_iter()
            .map(|room| match self.known_rooms.get(room.name.as_str()) {
                Some(info) => info.clone(),
                None => RoomInfo { id: room.id, name: Arc::from(room.name), direct_members: None },
            })
            .collect();
        self.subscribe_stream(ctx, msg.conn, rooms, msg.since);
    }
}

impl Handler<EndLogin> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: EndLogin, _: &mut Context<Self>) {
        self.end_login(&msg.login_id);
        self.publish(ClusterEvent::EndLogin { node: self.broker.node().to_owned(), login_id: msg.login_id });
    }
}

impl Handler<ReadMoved> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: ReadMoved, _: &mut Context<Self>) {
        self.tell_devices(msg.user_id, None, &msg.room, msg.message_id);
        let node = self.broker.node().to_owned();
        self.publish(ClusterEvent::Read { node, user_id: msg.user_id, room: msg.room, message_id: msg.message_id });
    }
}

impl Handler<PostMessage> for RoomHub {
    type Result = ResponseFuture<Result<PostedMessage, ErrorCode>>;

    fn handle(&mut self, msg: PostMessage, _: &mut Context<Self>) -> Self::Result {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let room: Arc<str> = self
            .known_rooms
            .get(msg.room.name.as_str())
            .map_or_else(|| Arc::from(msg.room.name.as_str()), |r| r.name.clone());
        let message = NewMessage {
            room_id: msg.room.id,
            user_id: msg.user.id,
            nickname: msg.user.nickname,
            body: msg.text,
            client_id: msg.client_id,
        };
        self.submit(message, Waiter::Http { room, reply });
        Box::pin(async move { answer.await.unwrap_or(Err(ErrorCode::Unavailable)) })
    }
}

impl Handler<StoredBatch<Ticket>> for RoomHub {
    type Result = ();

    fn handle(&mut self, msg: StoredBatch<Ticket>, ctx: &mut Context<Self>) {
        let mut committed = Vec::new();
        for (ticket, outcome) in msg.outcomes {
            // A sender answered `unavailable` already has no waiter; its message, if it
            // was stored after all, still goes to the room.
            let waiter = self.waiting.take(ticket.id);
            match (waiter, outcome) {
                (waiter, Ok(Stored::New { message, prev })) => {
                    let room = ticket.room;
                    let frame = Arc::new(Frame::message(&message, &room));
                    let json = frame.message.as_ref().map(|m| m.json.clone()).unwrap_or_default();
                    if let Some(Waiter::Http { reply, .. }) = waiter {
                        let _ = reply.send(Ok(PostedMessage { json: json.clone(), created: true }));
                    }
                    if self.broker.is_clustered() {
                        let message =
                            serde_json::value::RawValue::from_string(json.to_string()).expect("a message object");
                        self.publish(ClusterEvent::Message {
                            node: self.broker.node().to_owned(),
                            id: message_id(&frame),
                            prev,
                            room_id: frame.message.as_ref().map_or(0, |m| m.room_id),
                            room: room.to_string(),
                            message,
                        });
                    }
                    committed.push(Chained { id: message_id(&frame), prev, room_id: message_room(&frame), frame });
                }
                (Some(Waiter::Connection { conn, room, .. }), Ok(Stored::Existing(first))) => {
                    // A repeat: only its sender hears of it again, with the first copy.
                    let room = self.room_name(first.room_id).unwrap_or(room);
                    self.answer_repeat(conn, first.id, Frame::message(&first, &room));
                }
                (Some(Waiter::Http { room, reply }), Ok(Stored::Existing(first))) => {
                    let room = self.room_name(first.room_id).unwrap_or(room);
                    let json = Frame::message(&first, &room).message.map(|m| m.json).unwrap_or_default();
                    let _ = reply.send(Ok(PostedMessage { json, created: false }));
                }
                (Some(waiter), Err(StoreFailed)) => self.answer_failure(waiter),
                (None, _) => {}
            }
        }
        self.accept_chained(ctx, committed);
    }
}

fn message_id(frame: &Frame) -> i64 {
    frame.message_id().unwrap_or(0)
}

fn message_room(frame: &Frame) -> i64 {
    frame.message.as_ref().map_or(0, |m| m.room_id)
}

impl RoomHub {
    fn room_name(&self, room_id: i64) -> Option<Arc<str>> {
        if let Some(room) = self.rooms.get(&room_id) {
            return Some(room.info.name.clone());
        }
        self.known_rooms.values().find(|r| r.id == room_id).map(|r| r.name.clone())
    }
}
