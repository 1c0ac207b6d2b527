//! What the room actor tells the other nodes, and how.
//!
//! On one node the broker is in-process: the room actor already sees every commit, so
//! there is nothing to send. With `redis_url` set it is Redis pub/sub: a node stores
//! first, then publishes; every node fans out to its own sessions. Pub/sub may lose
//! things (a restart, a dropped subscription), so nothing depends on it alone: message
//! order and completeness come from the `prev` chain and the database (see
//! `room/mod.rs`), presence from keys with a time-to-live that live nodes keep refreshing.
//!
//! Over 400 lines on purpose: the trait, both implementations and the Redis scripts
//! they run read best side by side.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::ids::{MessageId, RoomId, UserId};
use crate::models::user::PublicUser;

const CHANNEL: &str = "chatroom:events";

/// What nodes tell each other.
///
/// Externally tagged (`{"message": {...}}`): serde reads an internally tagged enum
/// through a buffer, and the message's `RawValue` cannot be read back from one.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterEvent {
    /// A committed message or change of one, at position `seq` of the commit order:
    /// `prev` is the position committed just before it (any room).
    Message {
        node: String,
        id: MessageId,
        seq: MessageId,
        prev: MessageId,
        room_id: RoomId,
        room: String,
        /// A new state of a message (an `update` frame) rather than a new message.
        update: bool,
        message: Box<RawValue>,
    },
    Presence {
        node: String,
        room_id: RoomId,
        room: String,
        user: PublicUser,
        online: bool,
    },
    Typing {
        node: String,
        room_id: RoomId,
        room: String,
        user: PublicUser,
    },
    Read {
        node: String,
        user_id: UserId,
        room: String,
        message_id: MessageId,
    },
    EndLogin {
        node: String,
        login_id: String,
    },
    /// A frame for everyone in a room (a role change, a topic), or for one user there.
    RoomFrame {
        node: String,
        room_id: RoomId,
        text: String,
        #[serde(default)]
        only_user: Option<UserId>,
    },
    /// Connections taken out of a room: one user's (a ban) or everyone's (a deleted room).
    Removed {
        node: String,
        room_id: RoomId,
        user_id: Option<UserId>,
        text: String,
        forget: bool,
    },
    /// A disabled or deleted account, or a password change: close its connections
    /// (all, or all but one login's).
    EndUser {
        node: String,
        user_id: UserId,
        #[serde(default)]
        except_login: Option<String>,
    },
    /// A user's nickname or avatar changed.
    UserChanged {
        node: String,
        user: PublicUser,
    },
    /// Not sent by nodes: the subscription was (re)established and events may have
    /// been missed meanwhile.
    #[serde(skip)]
    Resubscribed,
}

impl ClusterEvent {
    fn node(&self) -> Option<&str> {
        match self {
            ClusterEvent::Message { node, .. }
            | ClusterEvent::Presence { node, .. }
            | ClusterEvent::Typing { node, .. }
            | ClusterEvent::Read { node, .. }
            | ClusterEvent::EndLogin { node, .. }
            | ClusterEvent::RoomFrame { node, .. }
            | ClusterEvent::Removed { node, .. }
            | ClusterEvent::EndUser { node, .. }
            | ClusterEvent::UserChanged { node, .. } => Some(node),
            ClusterEvent::Resubscribed => None,
        }
    }
}

/// What a broker's futures fail with.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BrokerError(#[from] redis::RedisError);

/// A broker's answer, later.
pub type BrokerFuture<T> = Pin<Box<dyn Future<Output = Result<T, BrokerError>> + Send>>;

/// How the room actor reaches the other nodes: events out, and presence across them.
pub trait Broker: Send + Sync {
    /// This node's name in the events it publishes.
    fn node(&self) -> &str;
    /// Whether there are other nodes. Without them nothing is published, and presence
    /// is this node's own count of connections (the actor does not ask the broker).
    fn is_clustered(&self) -> bool;
    /// Sends an event to the other nodes (in order; never waits, never fails the caller).
    fn publish(&self, event: &ClusterEvent);
    /// Claims the user online in the room from this node; true when nobody had them.
    fn presence_join(&self, room_id: RoomId, user: PublicUser) -> BrokerFuture<bool>;
    /// Drops this node's claim; true when nobody has the user online there any more.
    fn presence_leave(&self, room_id: RoomId, user_id: UserId) -> BrokerFuture<bool>;
    /// Renews this node's claims (room, user).
    fn presence_refresh(&self, claims: Vec<(RoomId, PublicUser)>) -> BrokerFuture<()>;
    /// Everyone online in the room on any live node.
    fn presence_online(&self, room_id: RoomId) -> BrokerFuture<Vec<PublicUser>>;
    /// How often this node must renew its claims; `None` when there is nothing to renew.
    fn refresh_every(&self) -> Option<Duration>;
}

/// One node: nothing to tell anyone.
pub struct InProcess;

impl Broker for InProcess {
    fn node(&self) -> &str {
        "local"
    }

    fn is_clustered(&self) -> bool {
        false
    }

    fn publish(&self, _: &ClusterEvent) {}

    fn presence_join(&self, _: RoomId, _: PublicUser) -> BrokerFuture<bool> {
        Box::pin(std::future::ready(Ok(true)))
    }

    fn presence_leave(&self, _: RoomId, _: UserId) -> BrokerFuture<bool> {
        Box::pin(std::future::ready(Ok(true)))
    }

    fn presence_refresh(&self, _: Vec<(RoomId, PublicUser)>) -> BrokerFuture<()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn presence_online(&self, _: RoomId) -> BrokerFuture<Vec<PublicUser>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    fn refresh_every(&self) -> Option<Duration> {
        None
    }
}

/// Several nodes on one Redis: pub/sub for events, keys with a time-to-live for presence.
#[derive(Clone)]
pub struct RedisBroker {
    pub node: String,
    commands: ConnectionManager,
    outgoing: mpsc::UnboundedSender<String>,
    presence_ttl: Duration,
}

impl Broker for RedisBroker {
    fn node(&self) -> &str {
        &self.node
    }

    fn is_clustered(&self) -> bool {
        true
    }

    fn publish(&self, event: &ClusterEvent) {
        match serde_json::to_string(event) {
            Ok(payload) => {
                let _ = self.outgoing.send(payload);
            }
            Err(e) => tracing::error!(error = %e, "a cluster event did not serialize"),
        }
    }

    fn presence_join(&self, room_id: RoomId, user: PublicUser) -> BrokerFuture<bool> {
        let this = self.clone();
        Box::pin(async move { Ok(this.claim(room_id, &user).await?) })
    }

    fn presence_leave(&self, room_id: RoomId, user_id: UserId) -> BrokerFuture<bool> {
        let this = self.clone();
        Box::pin(async move { Ok(this.release(room_id, user_id).await?) })
    }

    fn presence_refresh(&self, claims: Vec<(RoomId, PublicUser)>) -> BrokerFuture<()> {
        let this = self.clone();
        Box::pin(async move { Ok(this.renew(&claims).await?) })
    }

    fn presence_online(&self, room_id: RoomId) -> BrokerFuture<Vec<PublicUser>> {
        let this = self.clone();
        Box::pin(async move { Ok(this.online(room_id).await?) })
    }

    fn refresh_every(&self) -> Option<Duration> {
        Some(self.renewal_period())
    }
}

/// Connects to Redis, subscribes, and starts the publisher. Events from other nodes
/// arrive on the returned channel (also `Resubscribed` after every reconnection).
pub async fn connect_redis(
    url: &str,
    node: String,
    presence_ttl: Duration,
) -> Result<(Arc<dyn Broker>, mpsc::UnboundedReceiver<ClusterEvent>), String> {
    let client = redis::Client::open(url).map_err(|e| format!("bad redis_url: {e}"))?;
    let commands =
        ConnectionManager::new(client.clone()).await.map_err(|e| format!("cannot connect to Redis at {url}: {e}"))?;
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    // The first subscription is made before returning, so that nothing committed after
    // the caller reads the chain's position can be missed.
    let pubsub = subscribe(&client).await.map_err(|e| format!("cannot subscribe on Redis at {url}: {e}"))?;
    actix_web::rt::spawn(run_subscriber(client, pubsub, node.clone(), events_tx));

    let (outgoing, queue) = mpsc::unbounded_channel::<String>();
    actix_web::rt::spawn(run_publisher(commands.clone(), queue));
    let broker: Arc<dyn Broker> = Arc::new(RedisBroker { node, commands, outgoing, presence_ttl });
    Ok((broker, events_rx))
}

async fn subscribe(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    Ok(pubsub)
}

async fn run_subscriber(
    client: redis::Client,
    mut pubsub: redis::aio::PubSub,
    node: String,
    events: mpsc::UnboundedSender<ClusterEvent>,
) {
    use futures_util::StreamExt;
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let event: ClusterEvent = match serde_json::from_slice(message.get_payload_bytes()) {
                    Ok(event) => event,
                    Err(e) => {
                        tracing::warn!(error = %e, "ignored a cluster event that does not parse");
                        continue;
                    }
                };
                if event.node() == Some(node.as_str()) {
                    continue; // our own, already handled locally
                }
                if events.send(event).is_err() {
                    return; // the room actor is gone: the server is stopping
                }
            }
        }
        tracing::warn!("lost the Redis subscription; reconnecting");
        metrics::counter!("cluster_resubscriptions_total").increment(1);
        let mut delay = Duration::from_millis(100);
        pubsub = loop {
            tokio::time::sleep(delay).await;
            match subscribe(&client).await {
                Ok(pubsub) => break pubsub,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis subscription failed; retrying");
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        };
        tracing::info!("Redis subscription restored");
        if events.send(ClusterEvent::Resubscribed).is_err() {
            return;
        }
    }
}

async fn run_publisher(mut commands: ConnectionManager, mut queue: mpsc::UnboundedReceiver<String>) {
    while let Some(payload) = queue.recv().await {
        let sent: redis::RedisResult<i64> = commands.publish(CHANNEL, payload).await;
        if let Err(e) = sent {
            // Other nodes catch up from the database; presence is refreshed on a timer.
            metrics::counter!("cluster_publish_failures_total").increment(1);
            tracing::warn!(error = %e, "publishing to Redis failed");
        }
    }
}

// ---- presence in Redis ----
//
// For each room and user, a sorted set of the nodes that have them online, scored by
// when that node's claim expires; and for each room, a hash of the users online there
// (id -> nickname) as an index. A live node renews its claims; a dead node's claims
// expire, and the nodes that still serve the room notice on their next reconciliation.

fn user_key(room_id: RoomId, user_id: UserId) -> String {
    format!("chatroom:presence:{room_id}:{user_id}")
}

fn room_key(room_id: RoomId) -> String {
    format!("chatroom:presence:{room_id}")
}

const JOIN: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if before == 0 then return 1 else return 0 end
"#;

const LEAVE: &str = r#"
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('HDEL', KEYS[2], ARGV[3])
  return 1
end
return 0
"#;

/// The users online in a room, dropping the claims that expired.
const ONLINE: &str = r#"
local users = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #users, 2 do
  local key = ARGV[2] .. users[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if redis.call('ZCARD', key) > 0 then
    table.insert(live, users[i])
    table.insert(live, users[i + 1])
  else
    redis.call('HDEL', KEYS[1], users[i])
  end
end
return live
"#;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A user as the room's presence hash keeps them: their user object as JSON.
fn presence_value(user: &PublicUser) -> String {
    serde_json::to_string(user).expect("users serialize")
}

/// The user of a presence entry; an entry written by an older node is the bare nickname.
fn presence_user(id: UserId, value: &str) -> Option<PublicUser> {
    match serde_json::from_str::<PublicUser>(value) {
        Ok(user) if user.id == id => Some(user),
        Ok(_) => None,
        Err(_) => Some(PublicUser { id, nickname: value.to_owned(), avatar_url: None }),
    }
}

impl RedisBroker {
    fn expiry(&self) -> i64 {
        now_ms() + self.presence_ttl.as_millis() as i64
    }

    /// Claims the user online in the room from this node; true when nobody had them.
    async fn claim(&self, room_id: RoomId, user: &PublicUser) -> redis::RedisResult<bool> {
        let mut conn = self.commands.clone();
        let came: i64 = redis::Script::new(JOIN)
            .key(user_key(room_id, user.id))
            .key(room_key(room_id))
            .arg(&self.node)
            .arg(self.expiry())
            .arg(now_ms())
            .arg(user.id.0)
            .arg(presence_value(user))
            .arg(self.presence_ttl.as_millis() as i64 * 4)
            .invoke_async(&mut conn)
            .await?;
        Ok(came == 1)
    }

    /// Drops this node's claim; true when nobody has the user online there any more.
    async fn release(&self, room_id: RoomId, user_id: UserId) -> redis::RedisResult<bool> {
        let mut conn = self.commands.clone();
        let gone: i64 = redis::Script::new(LEAVE)
            .key(user_key(room_id, user_id))
            .key(room_key(room_id))
            .arg(&self.node)
            .arg(now_ms())
            .arg(user_id.0)
            .invoke_async(&mut conn)
            .await?;
        Ok(gone == 1)
    }

    /// Renews this node's claims (room, user) in one round trip.
    async fn renew(&self, claims: &[(RoomId, PublicUser)]) -> redis::RedisResult<()> {
        if claims.is_empty() {
            return Ok(());
        }
        let mut conn = self.commands.clone();
        let expiry = self.expiry();
        let keep = self.presence_ttl.as_millis() as i64 * 4;
        let mut pipe = redis::pipe();
        for (room_id, user) in claims {
            pipe.zadd(user_key(*room_id, user.id), &self.node, expiry)
                .ignore()
                .pexpire(user_key(*room_id, user.id), keep)
                .ignore()
                .hset(room_key(*room_id), user.id.0, presence_value(user))
                .ignore()
                .pexpire(room_key(*room_id), keep)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await
    }

    /// Everyone online in the room on any live node.
    async fn online(&self, room_id: RoomId) -> redis::RedisResult<Vec<PublicUser>> {
        let mut conn = self.commands.clone();
        let flat: Vec<String> = redis::Script::new(ONLINE)
            .key(room_key(room_id))
            .arg(now_ms())
            .arg(format!("chatroom:presence:{room_id}:"))
            .invoke_async(&mut conn)
            .await?;
        Ok(flat.chunks(2).filter_map(|pair| presence_user(pair.first()?.parse().ok()?, pair.get(1)?)).collect())
    }

    /// How often claims are renewed: well within their time-to-live.
    fn renewal_period(&self) -> Duration {
        (self.presence_ttl / 3).max(Duration::from_millis(200))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_as_it_was_published() {
        let message = RawValue::from_string(r#"{"id":7,"text":"hé 👋"}"#.to_owned()).unwrap();
        let user = PublicUser { id: UserId(3), nickname: "alice".into(), avatar_url: None };
        let events = [
            ClusterEvent::Message {
                node: "a".into(),
                id: MessageId(7),
                seq: MessageId(9),
                prev: MessageId(5),
                room_id: RoomId(1),
                room: "lobby".into(),
                update: true,
                message,
            },
            ClusterEvent::Presence {
                node: "a".into(),
                room_id: RoomId(1),
                room: "lobby".into(),
                user: user.clone(),
                online: true,
            },
            ClusterEvent::Typing { node: "a".into(), room_id: RoomId(1), room: "lobby".into(), user },
            ClusterEvent::Read { node: "a".into(), user_id: UserId(3), room: "lobby".into(), message_id: MessageId(7) },
            ClusterEvent::EndLogin { node: "a".into(), login_id: "x".into() },
            ClusterEvent::RoomFrame {
                node: "a".into(),
                room_id: RoomId(1),
                text: r#"{"type":"role"}"#.into(),
                only_user: None,
            },
        ];
        for event in &events {
            let wire = serde_json::to_string(event).unwrap();
            let back: ClusterEvent = serde_json::from_str(&wire).unwrap_or_else(|e| panic!("{wire}: {e}"));
            assert_eq!(serde_json::to_string(&back).unwrap(), wire);
        }
    }
}
