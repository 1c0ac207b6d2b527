//! Messages as they are read: the message object of docs/protocol.md in its current
//! state (edits, deletes, reactions applied), history pages and resume reads. How
//! messages and their changes are written is in `message_writes.rs`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{message_edits, message_sequence, messages, reactions, rooms, users};
use super::user::PublicUser;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

pub use super::message_writes::{Change, ChangeKind, NewMessage, Refused, Stored, Write};

/// A stored message with its author's nickname, in its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    /// The position of this state in the commit order (= `id` until changed).
    pub seq: MessageId,
    pub room_id: RoomId,
    pub user_id: UserId,
    /// The author as shown now: the current nickname and avatar ("Deleted user" once
    /// the account is deleted).
    pub author: PublicUser,
    pub body: String,
    pub client_id: String,
    pub created_at: NaiveDateTime,
    pub reply_to: Option<MessageId>,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted: bool,
    pub reactions: Vec<Reaction>,
    /// Who the text names as `@nickname` (members of the room), in order.
    pub mentions: Vec<UserId>,
}

/// One emoji on a message and who reacted with it, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<UserId>,
}

pub(super) type MessageRow = (
    MessageId,
    MessageId,
    RoomId,
    UserId,
    (String, Option<String>, Option<NaiveDateTime>),
    String,
    String,
    NaiveDateTime,
    Option<MessageId>,
    Option<NaiveDateTime>,
    bool,
);

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        let (
            id,
            seq,
            room_id,
            user_id,
            (nickname, avatar, gone),
            body,
            client_id,
            created_at,
            reply_to,
            edited_at,
            deleted,
        ) = row;
        Message {
            id,
            seq,
            room_id,
            user_id,
            author: PublicUser::shown(user_id, &nickname, avatar.as_deref(), gone.is_some()),
            body,
            client_id,
            created_at,
            reply_to,
            edited_at,
            deleted,
            reactions: Vec::new(),
            mentions: Vec::new(),
        }
    }
}

/// The message object of docs/protocol.md, one shape everywhere.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView<'a> {
    pub id: MessageId,
    pub seq: MessageId,
    pub room: &'a str,
    pub user: PublicUser,
    pub text: &'a str,
    pub client_id: &'a str,
    pub sent_at: String,
    pub reply_to: Option<MessageId>,
    pub edited_at: Option<String>,
    pub deleted: bool,
    pub reactions: &'a [Reaction],
    pub mentions: &'a [UserId],
}

impl Message {
    pub fn view<'a>(&'a self, room: &'a str) -> MessageView<'a> {
        MessageView {
            id: self.id,
            seq: self.seq,
            room,
            user: self.author.clone(),
            text: &self.body,
            client_id: &self.client_id,
            sent_at: super::rfc3339(&self.created_at),
            reply_to: self.reply_to,
            edited_at: self.edited_at.as_ref().map(super::rfc3339),
            deleted: self.deleted,
            reactions: &self.reactions,
            mentions: &self.mentions,
        }
    }

    /// Whether this state is the message's first (it was never changed).
    pub fn is_original(&self) -> bool {
        self.seq == self.id
    }
}

/// An earlier version of an edited message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditView {
    pub text: String,
    /// When this version was replaced by the next.
    pub edited_at: String,
}

macro_rules! message_columns {
    () => {
        (
            messages::id,
            messages::seq,
            messages::room_id,
            messages::user_id,
            (users::nickname, users::avatar, users::deleted_at),
            messages::body,
            messages::client_id,
            messages::created_at,
            messages::reply_to,
            messages::edited_at,
            messages::deleted,
        )
    };
}
pub(super) use message_columns;

/// What to read of a room's history.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    /// The latest `limit`.
    Latest,
    /// The `limit` just before this id (exclusive).
    Before(MessageId),
    /// The `limit` just after this id (exclusive), optionally below a bound.
    After(MessageId, Option<MessageId>),
}

/// What a connection missed in one room since a position: messages it never saw (by
/// id) and the current state of older ones changed since (by seq).
#[derive(Debug, Default)]
pub struct Missed {
    pub messages: Vec<Message>,
    pub updates: Vec<Message>,
    /// More than the cap was missed: `messages` is the latest page instead.
    pub limited: bool,
}

impl Missed {
    /// The highest position this read covers.
    pub fn top(&self) -> Option<MessageId> {
        self.messages.iter().chain(&self.updates).map(|m| m.seq).max()
    }
}

impl Message {
    /// Fills in the reactions and mentions of `messages`, in one query each.
    pub fn attach_details(conn: &mut DbConn, messages: &mut [Message]) -> DbResult<()> {
        let ids: Vec<MessageId> = messages.iter().filter(|m| !m.deleted).map(|m| m.id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let mut mentions = super::mentions::Mentions::of(conn, &ids)?;
        for message in messages.iter_mut() {
            message.mentions = mentions.remove(&message.id).unwrap_or_default();
        }
        let rows: Vec<(MessageId, String, UserId)> = db_run!(conn, |c| reactions::table
            .filter(reactions::message_id.eq_any(&ids))
            .order(reactions::id.asc())
            .select((reactions::message_id, reactions::emoji, reactions::user_id))
            .load(c))?;
        let mut by_message: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
        for (message_id, emoji, user_id) in rows {
            let list = by_message.entry(message_id).or_default();
            match list.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => reaction.user_ids.push(user_id),
                None => list.push(Reaction { emoji, user_ids: vec![user_id] }),
            }
        }
        for message in messages {
            message.reactions = by_message.remove(&message.id).unwrap_or_default();
        }
        Ok(())
    }

    fn loaded(conn: &mut DbConn, rows: Vec<MessageRow>) -> DbResult<Vec<Message>> {
        let mut messages: Vec<Message> = rows.into_iter().map(Message::from).collect();
        Message::attach_details(conn, &mut messages)?;
        Ok(messages)
    }

    /// One message of a room, in its current state.
    pub fn find(conn: &mut DbConn, room_id: RoomId, id: MessageId) -> DbResult<Option<Message>> {
        let row: Option<MessageRow> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::id.eq(id))
            .filter(messages::room_id.eq(room_id))
            .select(message_columns!())
            .first(c)
            .optional())?;
        Ok(Message::loaded(conn, row.into_iter().collect())?.pop())
    }

    /// The earlier versions of a message, oldest first (none once deleted).
    pub fn edits(conn: &mut DbConn, id: MessageId) -> DbResult<Vec<EditView>> {
        let rows: Vec<(String, NaiveDateTime)> = db_run!(conn, |c| message_edits::table
            .filter(message_edits::message_id.eq(id))
            .order(message_edits::id.asc())
            .select((message_edits::body, message_edits::edited_at))
            .load(c))?;
        Ok(rows.into_iter().map(|(text, at)| EditView { text, edited_at: super::rfc3339(&at) }).collect())
    }

    /// A page of a room's history in ascending id order, and whether more exist in the
    /// paging direction.
    pub fn page(conn: &mut DbConn, room_id: RoomId, page: Page, limit: usize) -> DbResult<(Vec<Message>, bool)> {
        let fetch = limit as i64 + 1;
        let mut rows: Vec<MessageRow> = db_run!(conn, |c| {
            let query = messages::table
                .inner_join(users::table)
                .filter(messages::room_id.eq(room_id))
                .select(message_columns!())
                .limit(fetch);
            match page {
                Page::Latest => query.order(messages::id.desc()).load::<MessageRow>(c),
                Page::Before(before) => {
                    query.filter(messages::id.lt(before)).order(messages::id.desc()).load::<MessageRow>(c)
                }
                Page::After(after, None) => {
                    query.filter(messages::id.gt(after)).order(messages::id.asc()).load::<MessageRow>(c)
                }
                Page::After(after, Some(before)) => query
                    .filter(messages::id.gt(after))
                    .filter(messages::id.lt(before))
                    .order(messages::id.asc())
                    .load::<MessageRow>(c),
            }
        })?;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        if !matches!(page, Page::After(..)) {
            rows.reverse();
        }
        Ok((Message::loaded(conn, rows)?, has_more))
    }

    /// The last position in commit order (a message id or a change's seq), across all
    /// rooms.
    pub fn sequence_top(conn: &mut DbConn) -> DbResult<MessageId> {
        db_run!(conn, |c| message_sequence::table.find(1).select(message_sequence::last_message_id).first(c))
            .map_err(Into::into)
    }

    /// Messages whose latest state was committed after `after`, in seq (= commit)
    /// order, in any room: what a node missed of the chain.
    pub fn chain_after(conn: &mut DbConn, after: MessageId, limit: usize) -> DbResult<Vec<(Message, String)>> {
        let rows: Vec<(MessageRow, String)> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .inner_join(rooms::table)
            .filter(messages::seq.gt(after))
            .order(messages::seq.asc())
            .limit(limit as i64)
            .select((message_columns!(), rooms::name))
            .load::<(MessageRow, String)>(c))?;
        Message::loaded_with_names(conn, rows)
    }

    /// Rows joined with their rooms' names, as messages in their current state.
    fn loaded_with_names(conn: &mut DbConn, rows: Vec<(MessageRow, String)>) -> DbResult<Vec<(Message, String)>> {
        let (rows, names): (Vec<MessageRow>, Vec<String>) = rows.into_iter().unzip();
        Ok(Message::loaded(conn, rows)?.into_iter().zip(names).collect())
    }

    /// A user's own messages after `after`, by id, with their rooms' names (an export).
    pub fn written_by(
        conn: &mut DbConn,
        user_id: UserId,
        after: MessageId,
        limit: usize,
    ) -> DbResult<Vec<(Message, String)>> {
        let rows: Vec<(MessageRow, String)> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .inner_join(rooms::table)
            .filter(messages::user_id.eq(user_id))
            .filter(messages::id.gt(after))
            .order(messages::id.asc())
            .limit(limit as i64)
            .select((message_columns!(), rooms::name))
            .load::<(MessageRow, String)>(c))?;
        Message::loaded_with_names(conn, rows)
    }

    /// Messages by id in their current state, with their rooms' names, in no
    /// particular order (search results).
    pub fn with_room_names(conn: &mut DbConn, ids: &[MessageId]) -> DbResult<Vec<(Message, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(MessageRow, String)> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .inner_join(rooms::table)
            .filter(messages::id.eq_any(ids))
            .select((message_columns!(), rooms::name))
            .load::<(MessageRow, String)>(c))?;
        Message::loaded_with_names(conn, rows)
    }

    /// Messages by id (for room previews), in no particular order.
    pub fn find_by_ids(conn: &mut DbConn, ids: &[MessageId]) -> DbResult<Vec<Message>> {
        let rows = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::id.eq_any(ids))
            .select(message_columns!())
            .load::<MessageRow>(c))?;
        Ok(rows.into_iter().map(Message::from).collect())
    }

    /// What a client that has seen up to `since` (an id or a seq) missed in one room:
    /// the messages after it and the changes since to older ones; when that is more
    /// than `cap`, the latest `cap` messages, limited.
    pub fn missed_since(conn: &mut DbConn, room_id: RoomId, since: MessageId, cap: usize) -> DbResult<Missed> {
        let rows: Vec<MessageRow> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::room_id.eq(room_id))
            .filter(messages::seq.gt(since))
            .order(messages::seq.asc())
            .limit(cap as i64 + 1)
            .select(message_columns!())
            .load::<MessageRow>(c))?;
        if rows.len() > cap {
            let (messages, _) = Message::page(conn, room_id, Page::Latest, cap)?;
            return Ok(Missed { messages, updates: Vec::new(), limited: true });
        }
        let (mut messages, updates): (Vec<Message>, Vec<Message>) =
            Message::loaded(conn, rows)?.into_iter().partition(|m| m.id > since);
        messages.sort_by_key(|m| m.id);
        Ok(Missed { messages, updates, limited: false })
    }

    /// What a client of several rooms missed since `since`, in seq order: the oldest
    /// `page` of it, and whether more follow (the event stream reads on from there).
    pub fn missed_since_in(
        conn: &mut DbConn,
        room_ids: &[RoomId],
        since: MessageId,
        page: usize,
    ) -> DbResult<(Vec<Message>, bool)> {
        let mut rows: Vec<MessageRow> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::room_id.eq_any(room_ids))
            .filter(messages::seq.gt(since))
            .order(messages::seq.asc())
            .limit(page as i64 + 1)
            .select(message_columns!())
            .load::<MessageRow>(c))?;
        let more = rows.len() > page;
        rows.truncate(page);
        Ok((Message::loaded(conn, rows)?, more))
    }
}
