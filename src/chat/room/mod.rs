//! The room actor: the one place that knows which connections are in which rooms,
//! who is online, and in what order messages go out.
//!
//! Messages and their changes are stored first (by the group-commit writer) and fanned
//! out only once committed, in commit order (a message's id, a change's seq),
//! serialized once for all recipients. A join registers the
//! connection before its history is read and buffers what arrives meanwhile, so that
//! history plus live messages have no gap and no duplicate.
//!
//! The actor is one struct (its state is shared by every concern below), its methods
//! spread by concern: `join.rs` (joins and event streams), `requests.rs` (a
//! connection's requests), `writes.rs` (to the writer and back), `deliver.rs`
//! (leaving, presence, fan-out), `cluster.rs` (other nodes), with the pure parts as
//! types of their own: `sequence.rs` (commit order), `waiting.rs` (senders waiting for
//! the writer), `registry.rs` (which connection is in which room), `messages.rs` (what
//! the actor takes). This file is a little over 400 lines: the state types with their
//! small impls and the actor's own small handlers read best next to each other.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use bytestring::ByteString;

mod cluster;
mod deliver;
mod join;
mod messages;
mod registry;
mod removal;
mod requests;
mod sequence;
mod waiting;
mod writes;

pub use messages::{
    ChangeMessage, Command, Connect, Disconnect, EndLogin, EndUser, OnlineIn, PostMessage, PostedMessage, ReadMoved,
    RemoveFromRoom, Request, RoomFrame, Subscribe, UserChanged,
};

use super::broker::{Broker, ClusterEvent};
use super::fanout::{Batch, Outbox};
use super::protocol::{self, FrameError};
use super::protocol::{Frame, MessageEvent};
use super::store::{StoreFailed, StoreWriter, StoredBatch};
use crate::codes::{CloseReason, ErrorCode};
use crate::config::Limits;
use crate::db::{Db, DbResult};
use crate::ids::{MessageId, RoomId, UserId};
use crate::models::message::{Change, ChangeKind, Message, Missed, NewMessage, Page, Refused, Stored, Write};
use crate::models::moderation;
use crate::models::room::{Room, RoomMember};
use crate::models::user::PublicUser;
use crate::permissions::{self, Action, Denied, RoomFacts};
use chrono::NaiveDateTime;
use registry::Registry;
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
    id: RoomId,
    name: Arc<str>,
    /// For a direct room, its two members: nobody else may enter.
    direct_members: Option<Vec<UserId>>,
    /// A private room: its members change (invites, bans), so they are asked of the
    /// database at each join rather than cached.
    private: bool,
}

impl RoomInfo {
    /// The room-access rule of `services::rooms::room_for`, from the cache: a public
    /// room admits everybody, a direct room its two members only (to anyone else it
    /// is a room that does not exist).
    /// None for a private room: only the database knows.
    fn admits(&self, user_id: UserId) -> Option<bool> {
        if self.private {
            return None;
        }
        Some(self.direct_members.as_ref().is_none_or(|members| members.contains(&user_id)))
    }

    /// The room's kind, as the rules see it.
    fn facts(&self) -> RoomFacts {
        RoomFacts {
            members_only: self.private || self.direct_members.is_some(),
            direct: self.direct_members.is_some(),
            lobby: &*self.name == "lobby",
        }
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
    last_typing: HashMap<RoomId, Instant>,
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
    user_id: UserId,
    state: SubState,
    /// Whether this subscription counts towards its user's presence in the room.
    online: bool,
    /// The highest message id this connection got in this room (no duplicates).
    last_sent: MessageId,
}

/// A room with connections on this node (it lives as long as the registry holds one).
struct RoomState {
    info: RoomInfo,
    /// Users online here and how many of their connections are.
    online: HashMap<UserId, (PublicUser, usize)>,
    /// Users online in this room through other nodes only.
    remote_online: HashMap<UserId, PublicUser>,
    /// Joins whose history is read but whose member list waits for the other nodes'
    /// presence, read from Redis when the room becomes active here (None once read).
    awaiting_remote: Option<Vec<ReadyJoin>>,
}

/// A join with its history read, ready to go live.
struct ReadyJoin {
    conn: ConnId,
    generation: u64,
    since: Option<MessageId>,
    /// The joiner is muted in the room until then.
    muted_until: Option<NaiveDateTime>,
    result: DbResult<Missed>,
}

impl RoomState {
    /// Rooms with more people online (here and elsewhere) than `limit` get no presence
    /// or typing frames: thousands coming and going must not cost everyone a frame each.
    fn presence_quiet(&self, limit: usize) -> bool {
        self.online.len() + self.remote_online.len() > limit
    }

    fn members(&self) -> Vec<PublicUser> {
        self.online.values().map(|(u, _)| u.clone()).chain(self.remote_online.values().cloned()).collect()
    }

    /// What `joined` lists: the first `max` people online by user id (the rest are at
    /// `GET /api/rooms/{name}/members`), and how many are online. Only the listed are
    /// copied, so a join in a room of thousands costs a few ids per person.
    fn members_page(&self, max: usize) -> (Vec<PublicUser>, usize) {
        let mut ids: Vec<UserId> = self.online.keys().chain(self.remote_online.keys()).copied().collect();
        let count = ids.len();
        if ids.len() > max {
            ids.select_nth_unstable(max);
            ids.truncate(max);
        }
        ids.sort_unstable();
        let listed = ids
            .iter()
            .filter_map(|id| self.online.get(id).map(|(u, _)| u).or_else(|| self.remote_online.get(id)).cloned())
            .collect();
        (listed, count)
    }
}

/// Who waits for a message being stored.
pub enum Waiter {
    Connection { conn: ConnId, room: Arc<str>, client_id: Option<String> },
    Http { room: Arc<str>, reply: tokio::sync::oneshot::Sender<Result<PostedMessage, FrameError>> },
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
    broker: Arc<dyn Broker>,
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
    by_user: HashMap<UserId, HashSet<ConnId>>,
    /// Which connection is in which room; changed only by `begin_loading` and
    /// `unsubscribe`.
    registry: Registry<Subscriber>,
    rooms: HashMap<RoomId, RoomState>,
    known_rooms: HashMap<Arc<str>, RoomInfo>,
}

impl RoomHub {
    /// `sequence_top` is the chain's position when this node starts: everything up to
    /// it is in the database (read it after subscribing to the other nodes' events).
    pub fn new(
        db: Db,
        limits: Limits,
        broker: Arc<dyn Broker>,
        sequence_top: MessageId,
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
            registry: Registry::default(),
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
}

/// What a refusal of the rules looks like in an `error` frame.
fn denied_error(denied: Denied) -> FrameError {
    match denied {
        Denied::Missing => FrameError::new(ErrorCode::NotFound, "there is no such room"),
        Denied::Forbidden(why) => FrameError::new(ErrorCode::Forbidden, why),
    }
}

impl RoomHub {
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
}

/// How often senders whose message is late are looked for.
const WAITING_SWEEP: Duration = Duration::from_millis(100);

/// How often a clustered node checks the chain's head against the database.
const CHAIN_SWEEP: Duration = Duration::from_secs(1);

/// A user's first or last connection in a room on this node (clustered presence).
#[derive(Message)]
#[rtype(result = "()")]
struct PresenceChanged {
    room_id: RoomId,
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
    room_id: RoomId,
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
        let max_reactions = self.limits.max_reactions_per_message;
        self.writer = Some(StoreWriter::start(self.db.clone(), max_reactions, ctx.address().recipient()));
        ctx.run_interval(WAITING_SWEEP, |hub, _| hub.expire_waiting());
        if let Some(mut events) = self.cluster_events.take() {
            ctx.add_stream(futures_util::stream::poll_fn(move |cx| events.poll_recv(cx)));
        }
        if let Some(every) = self.broker.refresh_every() {
            ctx.run_interval(every, |hub, ctx| hub.refresh_presence(ctx));
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
                None => {
                    RoomInfo { id: room.id, name: Arc::from(room.name), direct_members: None, private: room.private }
                }
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

impl Handler<OnlineIn> for RoomHub {
    type Result = MessageResult<OnlineIn>;

    fn handle(&mut self, msg: OnlineIn, _: &mut Context<Self>) -> Self::Result {
        MessageResult(
            self.rooms.get(&msg.room_id).map(|r| r.members().iter().map(|u| u.id).collect()).unwrap_or_default(),
        )
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

impl RoomHub {
    fn room_name(&self, room_id: RoomId) -> Option<Arc<str>> {
        if let Some(room) = self.rooms.get(&room_id) {
            return Some(room.info.name.clone());
        }
        self.known_rooms.values().find(|r| r.id == room_id).map(|r| r.name.clone())
    }
}
