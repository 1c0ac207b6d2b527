use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{message_sequence, messages, rooms, users};
use super::user::PublicUser;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

/// A stored message with its author's nickname: everything the message object shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    pub user_id: UserId,
    pub nickname: String,
    pub body: String,
    pub client_id: String,
    pub created_at: NaiveDateTime,
}

type MessageRow = (MessageId, RoomId, UserId, String, String, String, NaiveDateTime);

impl From<MessageRow> for Message {
    fn from((id, room_id, user_id, nickname, body, client_id, created_at): MessageRow) -> Self {
        Message { id, room_id, user_id, nickname, body, client_id, created_at }
    }
}

/// The message object of docs/protocol.md, one shape everywhere.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView<'a> {
    pub id: MessageId,
    pub room: &'a str,
    pub user: PublicUser,
    pub text: &'a str,
    pub client_id: &'a str,
    pub sent_at: String,
}

impl Message {
    pub fn view<'a>(&'a self, room: &'a str) -> MessageView<'a> {
        MessageView {
            id: self.id,
            room,
            user: PublicUser { id: self.user_id, nickname: self.nickname.clone() },
            text: &self.body,
            client_id: &self.client_id,
            sent_at: super::rfc3339(&self.created_at),
        }
    }
}

macro_rules! message_columns {
    () => {
        (
            messages::id,
            messages::room_id,
            messages::user_id,
            users::nickname,
            messages::body,
            messages::client_id,
            messages::created_at,
        )
    };
}

/// The messages already stored under some (user_id, client_id) keys, by key.
macro_rules! existing_by_key {
    ($c:ident, $keys:expr) => {{
        let keys: Vec<(UserId, &str)> = $keys.collect();
        let mut user_ids: Vec<UserId> = keys.iter().map(|k| k.0).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let client_ids: Vec<&str> = keys.iter().map(|k| k.1).collect();
        messages::table
            .inner_join(users::table)
            .filter(messages::user_id.eq_any(user_ids))
            .filter(messages::client_id.eq_any(client_ids))
            .select(message_columns!())
            .load::<MessageRow>($c)?
            .into_iter()
            .map(Message::from)
            .map(|m| ((m.user_id, m.client_id.clone()), m))
            .collect::<HashMap<(UserId, String), Message>>()
    }};
}

/// The body of [`Message::store_batch`] for one backend. `$insert` stores the rows,
/// skipping keys already stored (INSERT IGNORE / OR IGNORE: the unique key decides), and
/// returns for each row its new id, or None when the key was there before.
macro_rules! store_batch_with {
    ($c:ident, $batch:expr, $created_at:expr, $chain_top:expr, |$rows:ident| $insert:expr) => {{
        let batch: &[NewMessage] = $batch;
        // The chain position before this batch, read under the transaction's lock.
        let mut prev: MessageId = $chain_top;
        // A key repeated within the batch is stored once, by its first occurrence.
        let mut first_of_key: HashMap<(UserId, &str), usize> = HashMap::new();
        let mut fresh = Vec::new();
        for (index, m) in batch.iter().enumerate() {
            if let std::collections::hash_map::Entry::Vacant(slot) =
                first_of_key.entry((m.user_id, m.client_id.as_str()))
            {
                slot.insert(index);
                fresh.push(MessageRowInsert {
                    room_id: m.room_id,
                    user_id: m.user_id,
                    body: &m.body,
                    client_id: &m.client_id,
                    created_at: $created_at,
                });
            }
        }
        let ids: Vec<Option<MessageId>> = {
            let $rows: &[MessageRowInsert<'_>] = &fresh;
            $insert?
        };
        // Keys that were stored before: their first copies (the rare path).
        let repeated: Vec<(UserId, &str)> =
            fresh.iter().zip(&ids).filter(|(_, id)| id.is_none()).map(|(r, _)| (r.user_id, r.client_id)).collect();
        let existing =
            if repeated.is_empty() { HashMap::new() } else { existing_by_key!($c, repeated.iter().copied()) };
        let mut new_by_index: HashMap<usize, (Message, MessageId)> = HashMap::new();
        let mut room_tops: std::collections::BTreeMap<RoomId, MessageId> = std::collections::BTreeMap::new();
        for (row, id) in fresh.iter().zip(&ids) {
            let Some(id) = *id else { continue };
            let index = first_of_key[&(row.user_id, row.client_id)];
            let m = &batch[index];
            let top = room_tops.entry(m.room_id).or_default();
            *top = (*top).max(id);
            let message = Message {
                id,
                room_id: m.room_id,
                user_id: m.user_id,
                nickname: m.nickname.clone(),
                body: m.body.clone(),
                client_id: m.client_id.clone(),
                created_at: $created_at,
            };
            new_by_index.insert(index, (message, prev));
            prev = id;
        }
        if !room_tops.is_empty() {
            diesel::update(message_sequence::table.find(1))
                .set(message_sequence::last_message_id.eq(prev))
                .execute($c)?;
            // Every room's pointer to its last message, in one statement. The values
            // are ids from the database, not input, so they are written inline.
            let cases: String = room_tops.iter().map(|(room, top)| format!(" WHEN {room} THEN {top}")).collect();
            let ids: Vec<String> = room_tops.keys().map(RoomId::to_string).collect();
            diesel::sql_query(format!(
                "UPDATE rooms SET last_message_id = CASE id{cases} END WHERE id IN ({})",
                ids.join(",")
            ))
            .execute($c)?;
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for (index, m) in batch.iter().enumerate() {
            let key = (m.user_id, m.client_id.as_str());
            let outcome = match new_by_index.get(&index) {
                Some((message, prev)) => Stored::New { message: message.clone(), prev: *prev },
                None => match existing.get(&(m.user_id, m.client_id.clone())) {
                    Some(first) => Stored::Existing(first.clone()),
                    None => match new_by_index.get(&first_of_key[&key]) {
                        Some((first, _)) => Stored::Existing(first.clone()),
                        None => return Err(diesel::result::Error::NotFound),
                    },
                },
            };
            outcomes.push(outcome);
        }
        Ok::<_, diesel::result::Error>(outcomes)
    }};
}

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

/// A message to store, as the group-commit writer receives it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub nickname: String,
    pub body: String,
    pub client_id: String,
}

/// What storing one message of a batch came to.
#[derive(Debug, Clone)]
pub enum Stored {
    /// Stored now, right after `prev` in the commit order of all messages.
    New { message: Message, prev: MessageId },
    /// The same sender already stored this `client_id`: here is the first copy.
    Existing(Message),
}

impl Message {
    /// A page of a room's history in ascending id order, and whether more exist in the
    /// paging direction.
    pub fn page(conn: &mut DbConn, room_id: RoomId, page: Page, limit: usize) -> DbResult<(Vec<Message>, bool)> {
        let fetch = limit as i64 + 1;
        let mut rows: Vec<Message> = db_run!(conn, |c| {
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
        })?
        .into_iter()
        .map(Message::from)
        .collect();
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        if !matches!(page, Page::After(..)) {
            rows.reverse();
        }
        Ok((rows, has_more))
    }

    /// The last message id in commit order, across all rooms.
    pub fn sequence_top(conn: &mut DbConn) -> DbResult<MessageId> {
        db_run!(conn, |c| message_sequence::table.find(1).select(message_sequence::last_message_id).first(c))
            .map_err(Into::into)
    }

    /// Messages committed after `after`, in id (= commit) order, in any room: what a
    /// node missed of the chain.
    pub fn chain_after(conn: &mut DbConn, after: MessageId, limit: usize) -> DbResult<Vec<(Message, String)>> {
        db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .inner_join(rooms::table)
            .filter(messages::id.gt(after))
            .order(messages::id.asc())
            .limit(limit as i64)
            .select((message_columns!(), rooms::name))
            .load::<(MessageRow, String)>(c))
        .map(|rows| rows.into_iter().map(|(m, room)| (Message::from(m), room)).collect())
        .map_err(Into::into)
    }

    /// Messages by id (for room previews), in no particular order.
    pub fn find_by_ids(conn: &mut DbConn, ids: &[MessageId]) -> DbResult<Vec<Message>> {
        db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::id.eq_any(ids))
            .select(message_columns!())
            .load::<MessageRow>(c))
        .map(|rows| rows.into_iter().map(Message::from).collect())
        .map_err(Into::into)
    }

    /// What a client that has seen up to `since` missed: everything after it, or when
    /// that is more than `cap`, the latest `cap` and `true` (limited).
    pub fn missed_since(
        conn: &mut DbConn,
        room_id: RoomId,
        since: MessageId,
        cap: usize,
    ) -> DbResult<(Vec<Message>, bool)> {
        let fetch = cap as i64 + 1;
        let mut rows: Vec<Message> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::room_id.eq(room_id))
            .filter(messages::id.gt(since))
            .order(messages::id.desc())
            .limit(fetch)
            .select(message_columns!())
            .load::<MessageRow>(c))?
        .into_iter()
        .map(Message::from)
        .collect();
        let limited = rows.len() > cap;
        rows.truncate(cap);
        rows.reverse();
        Ok((rows, limited))
    }

    /// What a client of several rooms missed since `since`, in id order: the oldest
    /// `page` of it, and whether more follow (the event stream reads on from there).
    pub fn missed_since_in(
        conn: &mut DbConn,
        room_ids: &[RoomId],
        since: MessageId,
        page: usize,
    ) -> DbResult<(Vec<Message>, bool)> {
        let mut rows: Vec<Message> = db_run!(conn, |c| messages::table
            .inner_join(users::table)
            .filter(messages::room_id.eq_any(room_ids))
            .filter(messages::id.gt(since))
            .order(messages::id.asc())
            .limit(page as i64 + 1)
            .select(message_columns!())
            .load::<MessageRow>(c))?
        .into_iter()
        .map(Message::from)
        .collect();
        let more = rows.len() > page;
        rows.truncate(page);
        Ok((rows, more))
    }

    /// Stores a batch in one transaction (group commit), in order. Idempotency rests on
    /// the unique key (user_id, client_id): a key already stored, or repeated within
    /// the batch, answers with the first copy instead of a new row.
    pub fn store_batch(conn: &mut DbConn, batch: &[NewMessage]) -> DbResult<Vec<Stored>> {
        let created_at = super::now();
        db_run!(
            conn,
            sqlite
                | c
                | c.immediate_transaction(|c| {
                    // SQLite has one writer at a time: the transaction is the lock.
                    let top = message_sequence::table.find(1).select(message_sequence::last_message_id).first(c)?;
                    store_batch_with!(c, batch, created_at, top, |rows| rows
                        .iter()
                        .map(|row| diesel::insert_or_ignore_into(messages::table)
                            .values(row)
                            .returning(messages::id)
                            .get_result::<MessageId>(c)
                            .optional())
                        .collect::<QueryResult<Vec<Option<MessageId>>>>())
                }),
            mysql
                | c
                | c.transaction(|c| {
                    // The sequence row is locked before any id is given out, so that across
                    // nodes ids are committed in increasing order, one batch at a time. The
                    // locking read also sees the latest commit (a plain read would see the
                    // transaction's snapshot, possibly older).
                    let top = message_sequence::table
                        .find(1)
                        .select(message_sequence::last_message_id)
                        .for_update()
                        .first(c)?;
                    store_batch_with!(c, batch, created_at, top, |rows| {
                        diesel::insert_or_ignore_into(messages::table).values(rows).execute(c)?;
                        // Only this transaction inserts messages now (it holds the chain's
                        // lock), so the rows after the chain's head are exactly ours.
                        let inserted: HashMap<(UserId, String), MessageId> = messages::table
                            .filter(messages::id.gt(top))
                            .select((messages::id, messages::user_id, messages::client_id))
                            .load::<(MessageId, UserId, String)>(c)?
                            .into_iter()
                            .map(|(id, user, client_id)| ((user, client_id), id))
                            .collect();
                        Ok::<_, diesel::result::Error>(
                            rows.iter()
                                .map(|r| inserted.get(&(r.user_id, r.client_id.to_owned())).copied())
                                .collect::<Vec<Option<MessageId>>>(),
                        )
                    })
                })
        )
        .map_err(Into::into)
    }
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
struct MessageRowInsert<'a> {
    room_id: RoomId,
    user_id: UserId,
    body: &'a str,
    client_id: &'a str,
    created_at: NaiveDateTime,
}
