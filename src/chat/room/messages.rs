//! The messages the room actor takes from the transports (WebSocket sessions, event
//! streams, HTTP handlers).

use actix::prelude::*;
use bytestring::ByteString;

use super::ConnId;
use crate::chat::fanout::Outbox;
use crate::chat::protocol::FrameError;
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
#[rtype(result = "Result<PostedMessage, FrameError>")]
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
#[rtype(result = "Result<PostedMessage, FrameError>")]
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

/// A frame for everyone in a room, on every node (a role change, a new topic), or for
/// one user's connections there only (their mute).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RoomFrame {
    pub room_id: RoomId,
    pub text: ByteString,
    pub only_user: Option<UserId>,
}

/// Takes one user's connections (a ban), or everyone's (`user_id` None: the room was
/// deleted), out of a room on every node, each told why by `text`, a `removed` frame.
/// `forget`: the room is gone, and so is what this node knew of it. Answered once this
/// node has done it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveFromRoom {
    pub room_id: RoomId,
    pub user_id: Option<UserId>,
    pub text: ByteString,
    pub forget: bool,
}

/// An account was disabled or deleted (`except_login` None), or its password changed
/// (every login but that one): those connections close on every node. Answered once
/// this node's are closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EndUser {
    pub user_id: UserId,
    pub except_login: Option<String>,
}

/// A user's nickname or avatar changed: rooms where they are present hear of it (a
/// `user` frame) on every node, and their connections carry the new self.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UserChanged {
    pub user: PublicUser,
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
