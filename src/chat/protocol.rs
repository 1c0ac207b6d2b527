//! WebSocket frames (docs/protocol.md) as serde enums, and the shared, serialize-once form
//! in which the server sends them.

use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::ErrorCode;
use crate::ids::{MessageId, RoomId};
use crate::models::message::Message;
use crate::models::user::PublicUser;

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Join {
        room: String,
        #[serde(default)]
        since: Option<MessageId>,
    },
    Leave {
        room: String,
    },
    Send {
        room: String,
        text: String,
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        reply_to: Option<MessageId>,
    },
    Edit {
        room: String,
        message_id: MessageId,
        text: String,
        #[serde(default)]
        client_id: Option<String>,
    },
    Delete {
        room: String,
        message_id: MessageId,
        #[serde(default)]
        client_id: Option<String>,
    },
    React {
        room: String,
        message_id: MessageId,
        emoji: String,
        #[serde(default = "reaction_on")]
        on: bool,
        #[serde(default)]
        client_id: Option<String>,
    },
    Typing {
        room: String,
    },
    History {
        room: String,
        #[serde(default)]
        before: Option<MessageId>,
        #[serde(default)]
        limit: Option<i64>,
    },
    Read {
        room: String,
        message_id: MessageId,
    },
}

const FRAME_TYPES: &[&str] = &["join", "leave", "send", "typing", "history", "read", "edit", "delete", "react"];

/// A `react` frame without `on` adds the reaction.
fn reaction_on() -> bool {
    true
}

/// A refused client frame: the error frame to answer with.
#[derive(Debug, Clone)]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
    pub client_id: Option<String>,
    pub room: Option<String>,
}

impl FrameError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        FrameError { code, message: message.into(), client_id: None, room: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        FrameError::new(ErrorCode::BadRequest, message)
    }

    pub fn in_room(mut self, room: &str) -> Self {
        self.room = Some(room.to_owned());
        self
    }

    pub fn for_client_id(mut self, client_id: Option<&str>) -> Self {
        self.client_id = client_id.map(str::to_owned);
        self
    }

    /// Storage did not answer (in time): the client may retry.
    pub fn unavailable() -> Self {
        FrameError::new(ErrorCode::Unavailable, "the service is temporarily unavailable; try again later")
    }

    pub fn to_frame(&self) -> ByteString {
        #[derive(Serialize)]
        struct ErrorFrame<'a> {
            r#type: &'static str,
            code: ErrorCode,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            client_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            room: Option<&'a str>,
        }
        to_frame(&ErrorFrame {
            r#type: "error",
            code: self.code,
            message: &self.message,
            client_id: self.client_id.as_deref(),
            room: self.room.as_deref(),
        })
    }
}

/// Parses a text frame. The error names what was wrong and carries the frame's
/// `client_id` and `room` when they could be read, so the client can match it up.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| FrameError::bad_request(format!("the frame is not valid JSON: {e}")))?;
    let context = |e: FrameError| {
        let room = value.get("room").and_then(Value::as_str);
        let client_id = value.get("client_id").and_then(Value::as_str);
        FrameError { room: room.map(str::to_owned), client_id: client_id.map(str::to_owned), ..e }
    };
    let Some(object) = value.as_object() else {
        return Err(FrameError::bad_request("a frame is a JSON object with a \"type\""));
    };
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind,
        Some(_) => return Err(context(FrameError::bad_request("\"type\" must be a string"))),
        None => return Err(context(FrameError::bad_request("the frame has no \"type\""))),
    };
    if !FRAME_TYPES.contains(&kind.as_str()) {
        return Err(context(FrameError::bad_request(format!(
            "unknown frame type {kind:?} (expected one of {})",
            FRAME_TYPES.join(", ")
        ))));
    }
    ClientFrame::deserialize(&value).map_err(|e| context(FrameError::bad_request(format!("invalid {kind} frame: {e}"))))
}

pub fn to_frame<T: Serialize>(value: &T) -> ByteString {
    serde_json::to_string(value).expect("frames serialize").into()
}

/// One outgoing frame, serialized once and shared by every recipient. Message and
/// update frames also keep the bare message object, which Server-Sent Events streams
/// send as `data:`.
#[derive(Debug)]
pub struct Frame {
    pub text: ByteString,
    pub message: Option<MessageFrame>,
    /// Event streams get this frame too, as `event: <name>` with the frame as `data`
    /// (and no `id`: it is no position to resume from).
    pub stream_event: Option<&'static str>,
}

#[derive(Debug)]
pub struct MessageFrame {
    pub id: MessageId,
    /// The position of the state this frame carries: what connections are ordered and
    /// de-duplicated by, and an event stream's event id.
    pub seq: MessageId,
    pub room_id: RoomId,
    pub json: ByteString,
    pub kind: MessageEvent,
}

/// A message new to the recipient, or a new state of one it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageEvent {
    Message,
    Update,
}

impl MessageEvent {
    pub fn name(self) -> &'static str {
        match self {
            MessageEvent::Message => "message",
            MessageEvent::Update => "update",
        }
    }
}

impl Frame {
    pub fn plain(text: ByteString) -> Frame {
        Frame { text, message: None, stream_event: None }
    }

    /// A frame that event streams also get, as `event: <name>`.
    pub fn for_streams_too(name: &'static str, text: ByteString) -> Frame {
        Frame { text, message: None, stream_event: Some(name) }
    }

    /// `{"type":"message","message":{…}}`, built around the message object's JSON.
    pub fn message(message: &Message, room: &str) -> Frame {
        Frame::of(MessageEvent::Message, message, room)
    }

    /// `{"type":"update","room":…,"message":{…}}`: a message's new state.
    pub fn update(message: &Message, room: &str) -> Frame {
        Frame::of(MessageEvent::Update, message, room)
    }

    /// A message frame for a connection whose position is `seen`: new to it when its
    /// id is above, else an update of one it has.
    pub fn for_position(message: &Message, room: &str, seen: MessageId) -> Frame {
        let kind = if message.id > seen { MessageEvent::Message } else { MessageEvent::Update };
        Frame::of(kind, message, room)
    }

    fn of(kind: MessageEvent, message: &Message, room: &str) -> Frame {
        let json = serde_json::to_string(&message.view(room)).expect("messages serialize");
        Frame::around(kind, message.id, message.seq, message.room_id, room, json.into())
    }

    /// A frame around a message object's JSON already written (from another node).
    pub fn around(
        kind: MessageEvent,
        id: MessageId,
        seq: MessageId,
        room_id: RoomId,
        room: &str,
        json: ByteString,
    ) -> Frame {
        let text = match kind {
            MessageEvent::Message => format!(r#"{{"type":"message","message":{json}}}"#),
            MessageEvent::Update => {
                let room = serde_json::to_string(room).expect("strings serialize");
                format!(r#"{{"type":"update","room":{room},"message":{json}}}"#)
            }
        };
        Frame { text: text.into(), message: Some(MessageFrame { id, seq, room_id, json, kind }), stream_event: None }
    }

    /// The position of the message state this frame carries.
    pub fn position(&self) -> Option<MessageId> {
        self.message.as_ref().map(|m| m.seq)
    }
}

pub fn joined_frame(
    room: &str,
    members: &[PublicUser],
    online_count: usize,
    messages: &[Message],
    updates: &[Message],
    limited: bool,
    muted_until: Option<&chrono::NaiveDateTime>,
) -> ByteString {
    // The message objects are written by hand around their own JSON, so that a long
    // history is serialized in one pass without intermediate values.
    let mut out = String::with_capacity(128 + messages.len() * 200);
    out.push_str(r#"{"type":"joined","room":"#);
    out.push_str(&serde_json::to_string(room).expect("strings serialize"));
    out.push_str(r#","members":"#);
    out.push_str(&serde_json::to_string(members).expect("users serialize"));
    out.push_str(r#","online_count":"#);
    out.push_str(&online_count.to_string());
    out.push_str(r#","messages":"#);
    push_messages(&mut out, messages, room);
    out.push_str(r#","updates":"#);
    push_messages(&mut out, updates, room);
    if limited {
        out.push_str(r#","limited":true"#);
    }
    if let Some(until) = muted_until {
        out.push_str(r#","muted_until":""#);
        out.push_str(&crate::models::rfc3339(until));
        out.push('"');
    }
    out.push('}');
    out.into()
}

pub fn history_frame(room: &str, messages: &[Message], has_more: bool) -> ByteString {
    let mut out = String::with_capacity(128 + messages.len() * 200);
    out.push_str(r#"{"type":"history","room":"#);
    out.push_str(&serde_json::to_string(room).expect("strings serialize"));
    out.push_str(r#","messages":"#);
    push_messages(&mut out, messages, room);
    out.push_str(if has_more { r#","has_more":true}"# } else { r#","has_more":false}"# });
    out.into()
}

fn push_messages(out: &mut String, messages: &[Message], room: &str) {
    out.push('[');
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(&m.view(room)).expect("messages serialize"));
    }
    out.push(']');
}

pub fn presence_frame(room: &str, user: &PublicUser, online: bool) -> ByteString {
    #[derive(Serialize)]
    struct Presence<'a> {
        r#type: &'static str,
        room: &'a str,
        user: &'a PublicUser,
        online: bool,
    }
    to_frame(&Presence { r#type: "presence", room, user, online })
}

pub fn typing_frame(room: &str, user: &PublicUser) -> ByteString {
    #[derive(Serialize)]
    struct Typing<'a> {
        r#type: &'static str,
        room: &'a str,
        user: &'a PublicUser,
    }
    to_frame(&Typing { r#type: "typing", room, user })
}

pub fn read_frame(room: &str, message_id: MessageId) -> ByteString {
    #[derive(Serialize)]
    struct Read<'a> {
        r#type: &'static str,
        room: &'a str,
        message_id: MessageId,
    }
    to_frame(&Read { r#type: "read", room, message_id })
}

/// `{"type":"room","room":{…}}`: the room changed (its topic). The room object without
/// what is the recipient's own (`role`, `unread`), which this one frame cannot know.
pub fn room_frame(room: &crate::models::room::RoomSummary) -> ByteString {
    #[derive(Serialize)]
    struct Shared<'a> {
        name: &'a str,
        kind: crate::models::room::ShownKind,
        title: &'a str,
        topic: &'a str,
        owner: &'a Option<PublicUser>,
        last_message_id: MessageId,
    }
    #[derive(Serialize)]
    struct RoomChanged<'a> {
        r#type: &'static str,
        room: Shared<'a>,
    }
    let shared = Shared {
        name: &room.name,
        kind: room.kind,
        title: &room.title,
        topic: &room.topic,
        owner: &room.owner,
        last_message_id: room.last_message_id,
    };
    to_frame(&RoomChanged { r#type: "room", room: shared })
}

/// `{"type":"user","user":{…}}`: someone present changed their nickname or avatar.
pub fn user_frame(user: &PublicUser) -> ByteString {
    #[derive(Serialize)]
    struct UserFrame<'a> {
        r#type: &'static str,
        user: &'a PublicUser,
    }
    to_frame(&UserFrame { r#type: "user", user })
}

/// Why a connection was taken out of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedCause {
    Banned,
    Deleted,
}

/// `{"type":"removed","room","reason","cause"}`: this connection is no longer in the
/// room (`reason` null when the moderator gave none).
pub fn removed_frame(room: &str, reason: Option<&str>, cause: RemovedCause) -> ByteString {
    #[derive(Serialize)]
    struct Removed<'a> {
        r#type: &'static str,
        room: &'a str,
        reason: Option<&'a str>,
        cause: RemovedCause,
    }
    to_frame(&Removed { r#type: "removed", room, reason, cause })
}

/// `{"type":"muted","room","until"}`: the user may not write in the room until then
/// (`null`: the mute was lifted).
pub fn muted_frame(room: &str, until: Option<&chrono::NaiveDateTime>) -> ByteString {
    #[derive(Serialize)]
    struct Muted<'a> {
        r#type: &'static str,
        room: &'a str,
        until: Option<String>,
    }
    to_frame(&Muted { r#type: "muted", room, until: until.map(crate::models::rfc3339) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_by_type() {
        assert!(matches!(parse(r#"{"type":"join","room":"lobby"}"#), Ok(ClientFrame::Join { since: None, .. })));
        assert!(matches!(
            parse(r#"{"type":"join","room":"lobby","since":7}"#),
            Ok(ClientFrame::Join { since: Some(MessageId(7)), .. })
        ));
        assert!(matches!(
            parse(r#"{"type":"send","room":"a","text":"hi","client_id":"c1"}"#),
            Ok(ClientFrame::Send { .. })
        ));
    }

    #[test]
    fn bad_frames_say_what_is_wrong_and_keep_their_ids() {
        assert!(parse("not json").unwrap_err().message.contains("not valid JSON"));
        assert!(parse("[1]").unwrap_err().message.contains("JSON object"));
        assert!(parse(r#"{"room":"a"}"#).unwrap_err().message.contains("no \"type\""));
        let unknown = parse(r#"{"type":"dance","room":"a"}"#).unwrap_err();
        assert!(unknown.message.contains("unknown frame type"));
        assert_eq!(unknown.room.as_deref(), Some("a"));
        let missing = parse(r#"{"type":"send","room":"a","client_id":"c9"}"#).unwrap_err();
        assert!(missing.message.contains("text"), "{}", missing.message);
        assert_eq!(missing.client_id.as_deref(), Some("c9"));
        let wrong = parse(r#"{"type":"join","room":5}"#).unwrap_err();
        assert_eq!(wrong.code, ErrorCode::BadRequest);
    }
}
