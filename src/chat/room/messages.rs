//! The messages the room actor takes from the transports (WebSocket sessions, event
//! streams, HTTP handlers).

use actix::prelude::*;
use bytestring::ByteString;

use super::ConnId;
use crate::chat::fanout::Outbox;
use crate::codes::ErrorCode;
use crate::ids::{MessageId, RoomId, UserId};
use crate::models::message::ChangeKind;
use crate::models::room::Room;
use crate::models::user::PublicUser;

/// A connection (WebSocket or event stream) arrives.
#[derive(Message)]
#[rtype(result = "ConnId")]
pub struct Connect {
    pub user: PublicUser,
    pub login_id: String,
    pub outbox: Outbox,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub conn: ConnId,
}

/// A validated request from a connection.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Command {
    pub conn: ConnId,
    pub request: Request,
}

#[derive(Debug)]
pub enum Request {
    Join {
        room: String,
        since: Option<MessageId>,
    },
    Leave {
        room: String,
    },
    Send {
        room: String,
        text: String,
        client_id: String,
        reply_to: Option<MessageId>,
    },
    /// An edit, delete or reaction.
    Change {
        room: String,
        message_id: MessageId,
        kind: ChangeKind,
        client_id: Option<String>,
    },
    Typing {
        room: String,
    },
    History {
        room: String,
        before: Option<MessageId>,
        limit: usize,
    },
    Read {
        room: String,
        message_id: MessageId,
    },
}

/// An event stream's rooms (already checked to be open to its user), entered at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe {
    pub conn: ConnId,
    pub rooms: Vec<Room>,
    pub since: Option<MessageId>,
}

/// A message posted over HTTP by a user already checked to be allowed in the room.
#[derive(Message)]
#[rtype(result = "Result<PostedMessage, ErrorCode>")]
pub struct PostMessage {
    pub room: Room,
    pub user: PublicUser,
    pub text: String,
    pub client_id: String,
    pub reply_to: Option<MessageId>,
}

/// An edit, delete or reaction over HTTP, by a user already checked to be allowed in
/// the room. Answered with the message's new state (`created` when it changed).
#[derive(Message)]
#[rtype(result = "Result<PostedMessage, ErrorCode>")]
pub struct ChangeMessage {
    pub room: Room,
    pub user: PublicUser,
    pub message_id: MessageId,
    pub kind: ChangeKind,
}

/// The stored message object (JSON) and whether this call stored it.
pub struct PostedMessage {
    pub json: ByteString,
    pub created: bool,
}

/// A read marker moved (over HTTP): tell the user's connections.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReadMoved {
    pub user_id: UserId,
    pub room: String,
    pub message_id: MessageId,
}

/// A frame for everyone in a room, on every node (a role change).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RoomFrame {
    pub room_id: RoomId,
    pub text: ByteString,
}

/// Who is online in a room (here and, in a cluster, on the other nodes).
#[derive(Message)]
#[rtype(result = "Vec<UserId>")]
pub struct OnlineIn {
    pub room_id: RoomId,
}

/// A login ended: close its connections.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EndLogin {
    pub login_id: String,
}
