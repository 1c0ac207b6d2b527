//! How messages and their changes are written: one transaction per batch (the
//! group-commit writer's), every new message and every change taking the next position
//! of the one commit order from `message_sequence`, locked for the transaction, so that
//! ids and seqs increase in commit order across rooms and nodes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::mentions::Mentions;
use super::message::{message_columns, Message, MessageRow};
use super::message_changes::apply_change;
use super::moderation::{InForce, Sanctions};
use super::schema::{message_sequence, messages, rooms, users};
use super::search::SearchIndex;
use super::user::PublicUser;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

/// A message to store, as the group-commit writer receives it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room_id: RoomId,
    pub user_id: UserId,
    /// The author as their message shows them.
    pub author: PublicUser,
    pub body: String,
    pub client_id: String,
    pub reply_to: Option<MessageId>,
}

/// A change to a stored message.
#[derive(Debug, Clone)]
pub struct Change {
    pub room_id: RoomId,
    pub message_id: MessageId,
    pub user_id: UserId,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone)]
pub enum ChangeKind {
    Edit {
        text: String,
    },
    Delete,
    /// Add (`on`) or take back a reaction.
    React {
        emoji: String,
        on: bool,
    },
}

/// One write for the writer; a batch is written in the order given.
#[derive(Debug, Clone)]
pub enum Write {
    Send(NewMessage),
    Change(Change),
}

impl Write {
    /// Who writes in which room.
    fn writer(&self) -> (RoomId, UserId) {
        match self {
            Write::Send(m) => (m.room_id, m.user_id),
            Write::Change(c) => (c.room_id, c.user_id),
        }
    }
}

impl InForce {
    /// What a ban or a mute refuses of sends, edits and reactions.
    pub(super) fn refuses_writing(&self) -> Option<Refused> {
        if self.banned {
            Some(Refused::Banned)
        } else {
            self.muted_until.map(Refused::Muted)
        }
    }
}

/// What one write of a batch came to.
#[derive(Debug, Clone)]
pub enum Stored {
    /// Stored now, right after `prev` in the commit order.
    New { message: Message, prev: MessageId },
    /// The same sender already stored this `client_id`: here is the first copy.
    Existing(Message),
    /// Changed now, its new state at `message.seq`, right after `prev`.
    Changed { message: Message, prev: MessageId },
    /// The change was already so (a reaction already there, a message already
    /// deleted): nothing stored, no position taken.
    Unchanged(Message),
    /// The rules said no.
    Refused(Refused),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No such message in that room, or a deleted one (a reply to it, an edit of it).
    NotFound,
    /// Someone else's message.
    Forbidden,
    /// A new emoji on a message that has the most distinct emoji allowed already.
    TooManyReactions,
    /// The writer is banned from the room.
    Banned,
    /// The writer is muted in the room until then.
    Muted(NaiveDateTime),
}

/// The commit order within one transaction: the positions given out, and what the
/// rooms' pointers to their last message must become.
pub(super) struct Chain {
    top: MessageId,
    start: MessageId,
    /// Rooms with new messages, and their highest new id.
    room_tops: BTreeMap<RoomId, MessageId>,
    /// Rooms where a message was deleted: their last message is read again.
    pub(super) rooms_with_deletes: BTreeSet<RoomId>,
}

impl Chain {
    /// The next position and the one before it.
    pub(super) fn advance(&mut self) -> (MessageId, MessageId) {
        let prev = self.top;
        self.top = MessageId(prev.0 + 1);
        (self.top, prev)
    }
}

impl Message {
    /// Writes a batch in one transaction (group commit), in order. Idempotency of sends
    /// rests on the unique key (user_id, client_id): a key already stored, or repeated
    /// within the batch, answers with the first copy instead of a new row.
    /// `max_reactions` is the most distinct emoji one message may carry.
    pub fn store_batch(conn: &mut DbConn, batch: &[Write], max_reactions: usize) -> DbResult<Vec<Stored>> {
        let now = super::now();
        conn.write_transaction(|conn| {
            // Locked until commit (SQLite: the transaction is the lock; MySQL: the row
            // lock), so that positions are committed in increasing order on every node.
            // The locking read also sees the latest commit, not an older snapshot.
            let top: MessageId = db_run!(
                conn,
                sqlite | c | message_sequence::table.find(1).select(message_sequence::last_message_id).first(c),
                mysql
                    | c
                    | message_sequence::table.find(1).select(message_sequence::last_message_id).for_update().first(c)
            )?;
            let mut chain = Chain { top, start: top, room_tops: BTreeMap::new(), rooms_with_deletes: BTreeSet::new() };
            // Mutes and bans decide here, under the lock, so that one made on any node
            // holds from its commit on: one query for the whole batch.
            let writers: Vec<(RoomId, UserId)> = batch.iter().map(Write::writer).collect();
            let sanctions = Sanctions::in_force_on(conn, &writers, now)?;
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut rest = batch;
            while let Some(first) = rest.first() {
                match first {
                    Write::Send(_) => {
                        let run = rest.iter().take_while(|w| matches!(w, Write::Send(_))).count();
                        let sends: Vec<&NewMessage> = rest[..run]
                            .iter()
                            .filter_map(|w| match w {
                                Write::Send(m) => Some(m),
                                Write::Change(_) => None,
                            })
                            .collect();
                        outcomes.extend(store_sends(conn, &sends, now, &sanctions, &mut chain)?);
                        rest = &rest[run..];
                    }
                    Write::Change(change) => {
                        let in_force = sanctions.get(&(change.room_id, change.user_id)).copied().unwrap_or_default();
                        outcomes.push(apply_change(conn, change, now, max_reactions, in_force, &mut chain)?);
                        rest = &rest[1..];
                    }
                }
            }
            finish(conn, &chain)?;
            Ok(outcomes)
        })
    }
}

/// Stores a run of sends: fresh keys get the next positions, keys stored before (or
/// repeated in the run) answer with their first copy.
fn store_sends(
    conn: &mut DbConn,
    sends: &[&NewMessage],
    now: NaiveDateTime,
    sanctions: &HashMap<(RoomId, UserId), InForce>,
    chain: &mut Chain,
) -> DbResult<Vec<Stored>> {
    let replies_ok = reply_targets(conn, sends)?;
    let mut outcomes: Vec<Option<Stored>> = vec![None; sends.len()];
    let mut first_of_key: HashMap<(UserId, &str), usize> = HashMap::new();
    let mut fresh: Vec<(usize, MessageRowInsert)> = Vec::new();
    for (index, m) in sends.iter().enumerate() {
        if first_of_key.contains_key(&(m.user_id, m.client_id.as_str())) {
            continue;
        }
        first_of_key.insert((m.user_id, m.client_id.as_str()), index);
        if let Some(refused) = sanctions.get(&(m.room_id, m.user_id)).and_then(|s| s.refuses_writing()) {
            outcomes[index] = Some(Stored::Refused(refused));
            continue;
        }
        if m.reply_to.is_some_and(|target| !replies_ok.contains(&(target, m.room_id))) {
            outcomes[index] = Some(Stored::Refused(Refused::NotFound));
            continue;
        }
        // A candidate id: a key stored before is ignored and leaves it unused.
        let id = MessageId(chain.top.0 + 1 + fresh.len() as i64);
        fresh.push((index, MessageRowInsert::new(id, m, now)));
    }
    let inserted = insert_fresh(conn, &fresh, chain.top)?;
    let mut named = index_new(conn, sends, &fresh, &inserted)?;
    let mut repeated_keys = Vec::new();
    for (index, row) in &fresh {
        if !inserted.contains(&row.id) {
            repeated_keys.push((row.user_id, sends[*index].client_id.as_str()));
            continue;
        }
        let m = sends[*index];
        let prev = chain.top;
        chain.top = row.id;
        let top = chain.room_tops.entry(m.room_id).or_default();
        *top = (*top).max(row.id);
        let message = Message {
            id: row.id,
            seq: row.id,
            room_id: m.room_id,
            user_id: m.user_id,
            author: m.author.clone(),
            body: m.body.clone(),
            client_id: m.client_id.clone(),
            created_at: now,
            reply_to: m.reply_to,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            mentions: named.remove(&row.id).unwrap_or_default(),
        };
        outcomes[*index] = Some(Stored::New { message, prev });
    }
    let existing = existing_by_key(conn, &repeated_keys)?;
    let mut resolved: Vec<Stored> = Vec::with_capacity(sends.len());
    for (index, m) in sends.iter().enumerate() {
        let first = first_of_key[&(m.user_id, m.client_id.as_str())];
        let outcome = if first < index {
            // A repeat within this run: the answer of its first occurrence.
            match &resolved[first] {
                Stored::New { message, .. } => Stored::Existing(message.clone()),
                other => other.clone(),
            }
        } else if let Some(outcome) = outcomes[index].take() {
            outcome
        } else {
            match existing.get(&(m.user_id, m.client_id.clone())) {
                Some(first_copy) => Stored::Existing(first_copy.clone()),
                // Ignored as stored before, yet not found: nothing sensible to answer.
                None => return Err(diesel::result::Error::NotFound.into()),
            }
        };
        resolved.push(outcome);
    }
    Ok(resolved)
}

/// Puts the messages just inserted into the search index and records who they
/// mention; who each mentions, by id.
fn index_new(
    conn: &mut DbConn,
    sends: &[&NewMessage],
    fresh: &[(usize, MessageRowInsert)],
    inserted: &HashSet<MessageId>,
) -> DbResult<HashMap<MessageId, Vec<UserId>>> {
    let stored: Vec<(MessageId, RoomId, &str)> = fresh
        .iter()
        .filter(|(_, row)| inserted.contains(&row.id))
        .map(|(index, row)| (row.id, row.room_id, sends[*index].body.as_str()))
        .collect();
    SearchIndex::stored(conn, &stored)?;
    let texts: Vec<(RoomId, &str)> = stored.iter().map(|(_, room, text)| (*room, *text)).collect();
    let named = Mentions::resolve(conn, &texts)?;
    let found: Vec<(MessageId, RoomId, Vec<UserId>)> =
        stored.iter().zip(named).map(|((id, room, _), users)| (*id, *room, users)).collect();
    Mentions::record(conn, &found)?;
    Ok(found.into_iter().filter(|(_, _, users)| !users.is_empty()).map(|(id, _, users)| (id, users)).collect())
}

/// The (message, room) pairs among the sends' `reply_to` that may be replied to: in
/// that room and not deleted.
fn reply_targets(conn: &mut DbConn, sends: &[&NewMessage]) -> DbResult<HashSet<(MessageId, RoomId)>> {
    let targets: Vec<MessageId> = sends.iter().filter_map(|m| m.reply_to).collect();
    if targets.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<(MessageId, RoomId)> = db_run!(conn, |c| messages::table
        .filter(messages::id.eq_any(&targets))
        .filter(messages::deleted.eq(false))
        .select((messages::id, messages::room_id))
        .load(c))?;
    Ok(rows.into_iter().collect())
}

/// Inserts the fresh rows, skipping keys stored before; returns the ids inserted.
fn insert_fresh(
    conn: &mut DbConn,
    fresh: &[(usize, MessageRowInsert)],
    top: MessageId,
) -> DbResult<HashSet<MessageId>> {
    if fresh.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<&MessageRowInsert> = fresh.iter().map(|(_, row)| row).collect();
    let inserted: Vec<MessageId> = db_run!(
        conn,
        sqlite | c | {
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                if diesel::insert_or_ignore_into(messages::table).values(*row).execute(c)? == 1 {
                    ids.push(row.id);
                }
            }
            Ok::<_, diesel::result::Error>(ids)
        },
        mysql | c | {
            diesel::insert_or_ignore_into(messages::table).values(rows).execute(c)?;
            // This transaction holds the chain's lock: rows above its top are ours.
            messages::table.filter(messages::id.gt(top)).select(messages::id).load::<MessageId>(c)
        }
    )?;
    let _ = top; // read by the MySQL branch only
    Ok(inserted.into_iter().collect())
}

/// The messages already stored under some (user_id, client_id) keys, by key.
fn existing_by_key(conn: &mut DbConn, keys: &[(UserId, &str)]) -> DbResult<HashMap<(UserId, String), Message>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let mut user_ids: Vec<UserId> = keys.iter().map(|k| k.0).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let client_ids: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let rows: Vec<MessageRow> = db_run!(conn, |c| messages::table
        .inner_join(users::table)
        .filter(messages::user_id.eq_any(&user_ids))
        .filter(messages::client_id.eq_any(&client_ids))
        .select(message_columns!())
        .load::<MessageRow>(c))?;
    let mut found: Vec<Message> = rows.into_iter().map(Message::from).collect();
    Message::attach_details(conn, &mut found)?;
    Ok(found.into_iter().map(|m| ((m.user_id, m.client_id.clone()), m)).collect())
}

/// Moves the chain's head and the rooms' pointers to their last (not deleted) message.
fn finish(conn: &mut DbConn, chain: &Chain) -> DbResult<()> {
    if chain.top == chain.start {
        return Ok(());
    }
    db_run!(conn, |c| diesel::update(message_sequence::table.find(1))
        .set(message_sequence::last_message_id.eq(chain.top))
        .execute(c))?;
    if !chain.room_tops.is_empty() {
        // Every room's pointer in one statement. The values are ids from the database,
        // not input, so they are written inline.
        let cases: String = chain.room_tops.iter().map(|(room, top)| format!(" WHEN {room} THEN {top}")).collect();
        let ids: Vec<String> = chain.room_tops.keys().map(RoomId::to_string).collect();
        let sql = format!("UPDATE rooms SET last_message_id = CASE id{cases} END WHERE id IN ({})", ids.join(","));
        db_run!(conn, |c| diesel::sql_query(&sql).execute(c))?;
    }
    for room_id in &chain.rooms_with_deletes {
        let last: Option<MessageId> = db_run!(conn, |c| messages::table
            .filter(messages::room_id.eq(room_id))
            .filter(messages::deleted.eq(false))
            .select(diesel::dsl::max(messages::id))
            .first(c))?;
        db_run!(conn, |c| diesel::update(rooms::table.find(room_id))
            .set(rooms::last_message_id.eq(last.unwrap_or_default()))
            .execute(c))?;
    }
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
struct MessageRowInsert {
    id: MessageId,
    seq: MessageId,
    room_id: RoomId,
    user_id: UserId,
    body: String,
    client_id: String,
    created_at: NaiveDateTime,
    reply_to: Option<MessageId>,
}

impl MessageRowInsert {
    fn new(id: MessageId, m: &NewMessage, now: NaiveDateTime) -> Self {
        MessageRowInsert {
            id,
            seq: id,
            room_id: m.room_id,
            user_id: m.user_id,
            body: m.body.clone(),
            client_id: m.client_id.clone(),
            created_at: now,
            reply_to: m.reply_to,
        }
    }
}
