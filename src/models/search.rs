//! The full-text index of messages over the terms of `search_terms`, searched newest
//! first: SQLite FTS5, or on MySQL posting lists of our own (`message_terms`, one row
//! per term and message; InnoDB FULLTEXT reads every match of a word before ordering,
//! a second for a common word in a million messages). Deleted messages are not in it.
//!
//! Who writes it depends on the backend. SQLite: the writer, in the transaction that
//! stores the message (FTS5 is rows in the same file, no cost beyond the rows). MySQL:
//! never under the writer's lock, which every node's sends wait for, as a message is
//! a dozen posting rows or more. Instead the index follows the commit order (`seq`):
//! [`SearchIndex::catch_up`] indexes whatever was committed since it last ran, woken
//! after each batch (`search_indexer`), and every search catches up first, so that it
//! never misses, or finds, what was committed before it began.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::mentions::Mentions;
use super::message::Message;
use super::schema::{messages, search_backfill};
use super::search_terms::{self, QueryTerm};
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

pub struct SearchIndex;

/// MySQL: the posting lists joined in one query; further terms are checked on the
/// candidates.
#[cfg(feature = "mysql")]
const MAX_JOINED_TERMS: usize = 6;
/// MySQL: the most candidates one round reads (each round reads twice the last).
#[cfg(feature = "mysql")]
const MAX_ROUND: usize = 5000;

/// Where to search.
#[derive(Debug, Clone)]
pub enum Scope {
    /// One room (the caller may read it: the service checked).
    Room(RoomId),
    /// Every room the user may read: public rooms but those they are banned from, and
    /// the private and direct rooms they are a member of.
    Readable { user_id: UserId, banned: Vec<RoomId> },
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

impl SearchIndex {
    /// Messages just stored, in the writer's transaction: indexed there on SQLite
    /// (MySQL: [`SearchIndex::catch_up`]).
    pub fn stored(conn: &mut DbConn, rows: &[(MessageId, RoomId, &str)]) -> DbResult<()> {
        if conn.is_mysql() {
            return Ok(());
        }
        SearchIndex::add(conn, rows)
    }

    /// A message edited, in the writer's transaction (see [`SearchIndex::stored`]).
    pub fn edited(conn: &mut DbConn, id: MessageId, room_id: RoomId, text: &str) -> DbResult<()> {
        if conn.is_mysql() {
            return Ok(());
        }
        SearchIndex::replace(conn, id, room_id, text)
    }

    /// A message deleted, in the writer's transaction (see [`SearchIndex::stored`]).
    pub fn deleted(conn: &mut DbConn, id: MessageId) -> DbResult<()> {
        if conn.is_mysql() {
            return Ok(());
        }
        SearchIndex::remove(conn, &[id])
    }

    /// MySQL: whether anything was committed that the index has not caught up with.
    /// Always false on SQLite, whose index is written with the messages.
    pub fn behind(conn: &mut DbConn) -> DbResult<bool> {
        if !conn.is_mysql() {
            return Ok(false);
        }
        let marks: Vec<Hit> = db_run!(conn, |c| diesel::sql_query(
            "SELECT CAST(s.last_message_id > b.indexed_seq AS SIGNED) AS id \
             FROM message_sequence s JOIN search_backfill b ON b.id = 1 WHERE s.id = 1"
        )
        .load(c))?;
        Ok(marks.first().is_some_and(|m| m.id == 1))
    }

    /// MySQL: indexes, in commit order, one chunk of what was committed since the last
    /// call (new messages, edits, deletes: a message's `seq` moves with each change);
    /// whether more is left. One transaction with the marker row locked, so that nodes
    /// take turns and a stop half-way loses nothing. Nothing to do on SQLite.
    pub fn catch_up(conn: &mut DbConn, chunk: usize) -> DbResult<bool> {
        if !conn.is_mysql() {
            return Ok(false);
        }
        conn.write_transaction(|conn| {
            let marker: Vec<Hit> = db_run!(conn, |c| diesel::sql_query(
                "SELECT CAST(indexed_seq AS SIGNED) AS id FROM search_backfill WHERE id = 1 FOR UPDATE"
            )
            .load(c))?;
            let Some(indexed) = marker.first().map(|m| m.id) else { return Ok(false) };
            // Read after the lock: the snapshot holds every commit up to `top`, in order.
            let top = Message::sequence_top(conn)?;
            if top.0 <= indexed {
                return Ok(false);
            }
            let rows: Vec<(MessageId, RoomId, String, bool, MessageId)> = db_run!(conn, |c| messages::table
                .filter(messages::seq.gt(MessageId(indexed)))
                .filter(messages::seq.le(top))
                .order(messages::seq.asc())
                .limit(chunk as i64)
                .select((messages::id, messages::room_id, messages::body, messages::deleted, messages::seq))
                .load(c))?;
            // A full chunk may leave more; otherwise everything through `top` is done
            // (positions without a row belong to rooms deleted since).
            let more = rows.len() == chunk;
            let through = if more { rows.last().map_or(top, |r| r.4) } else { top };
            let ids: Vec<MessageId> = rows.iter().map(|r| r.0).collect();
            SearchIndex::remove(conn, &ids)?;
            let live: Vec<(MessageId, RoomId, &str)> =
                rows.iter().filter(|r| !r.3).map(|(id, room, body, _, _)| (*id, *room, body.as_str())).collect();
            SearchIndex::add(conn, &live)?;
            db_run!(conn, |c| diesel::sql_query("UPDATE search_backfill SET indexed_seq = ? WHERE id = 1")
                .bind::<BigInt, _>(through.0)
                .execute(c))?;
            Ok(more)
        })
    }

    /// Indexes new messages: (id, room, text).
    pub fn add(conn: &mut DbConn, rows: &[(MessageId, RoomId, &str)]) -> DbResult<()> {
        let documents: Vec<(MessageId, RoomId, String)> = rows
            .iter()
            .map(|(id, room, text)| (*id, *room, search_terms::document(text)))
            .filter(|(_, _, terms)| !terms.is_empty())
            .collect();
        if documents.is_empty() {
            return Ok(());
        }
        db_run!(
            conn,
            sqlite | c | {
                // In-process: a statement per row costs nothing like a round trip.
                for (id, room_id, terms) in &documents {
                    diesel::sql_query("INSERT INTO message_search (rowid, terms, room_id) VALUES (?, ?, ?)")
                        .bind::<BigInt, _>(id.0)
                        .bind::<Text, _>(terms)
                        .bind::<BigInt, _>(room_id.0)
                        .execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            },
            mysql | c | {
                // A row per distinct term and message, a few hundred rows a statement.
                let rows: Vec<(&str, MessageId, RoomId)> = documents
                    .iter()
                    .flat_map(|(id, room_id, terms)| {
                        search_terms::distinct_terms(terms).into_iter().map(move |term| (term, *id, *room_id))
                    })
                    .collect();
                for chunk in rows.chunks(500) {
                    let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
                    let mut query = diesel::sql_query(format!(
                        "INSERT INTO message_terms (term, message_id, room_id) VALUES {values}"
                    ))
                    .into_boxed();
                    for (term, id, room_id) in chunk {
                        query = query.bind::<Text, _>(*term).bind::<BigInt, _>(id.0).bind::<BigInt, _>(room_id.0);
                    }
                    query.execute(c)?;
                }
                Ok(())
            }
        )?;
        Ok(())
    }

    /// Takes messages out of the index (deleted, or about to be indexed again).
    pub fn remove(conn: &mut DbConn, ids: &[MessageId]) -> DbResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // Ids from the database, not input: written inline.
        let list = ids.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(",");
        db_run!(
            conn,
            sqlite | c | diesel::sql_query(format!("DELETE FROM message_search WHERE rowid IN ({list})")).execute(c),
            mysql | c | diesel::sql_query(format!("DELETE FROM message_terms WHERE message_id IN ({list})")).execute(c)
        )?;
        Ok(())
    }

    /// An edit: the message's new text replaces the old.
    pub fn replace(conn: &mut DbConn, id: MessageId, room_id: RoomId, text: &str) -> DbResult<()> {
        SearchIndex::remove(conn, &[id])?;
        SearchIndex::add(conn, &[(id, room_id, text)])
    }

    /// A room about to be deleted: its messages leave the index (neither an FTS5 table
    /// nor `message_terms` has a foreign key that would cascade).
    pub fn remove_room(conn: &mut DbConn, room_id: RoomId) -> DbResult<()> {
        db_run!(
            conn,
            sqlite
                | c
                | diesel::sql_query(
                    "DELETE FROM message_search WHERE rowid IN (SELECT id FROM messages WHERE room_id = ?)"
                )
                .bind::<BigInt, _>(room_id.0)
                .execute(c),
            mysql
                | c
                | diesel::sql_query(
                    "DELETE t FROM message_terms t JOIN messages m ON m.id = t.message_id WHERE m.room_id = ?"
                )
                .bind::<BigInt, _>(room_id.0)
                .execute(c)
        )?;
        Ok(())
    }

    /// The messages matching every term, newest first, below `before`, in `scope`: at
    /// most `limit`, and whether more match.
    pub fn search(
        conn: &mut DbConn,
        terms: &[QueryTerm],
        scope: &Scope,
        before: Option<MessageId>,
        limit: usize,
    ) -> DbResult<(Vec<(Message, String)>, bool)> {
        if terms.is_empty() {
            return Ok((Vec::new(), false));
        }
        let before = before.map_or(i64::MAX, |b| b.0);
        let fetch = limit as i64 + 1;
        // The scope's condition on `r` (rooms), with inline ids from the database.
        let (room_condition, user_id) = match scope {
            Scope::Room(room_id) => (format!("r.id = {room_id}"), UserId(0)),
            Scope::Readable { user_id, banned } => {
                let mut condition = String::from(
                    "((r.kind = 'public' AND r.private = 0) \
                     OR r.id IN (SELECT rm.room_id FROM room_members rm WHERE rm.user_id = ?))",
                );
                if !banned.is_empty() {
                    let list = banned.iter().map(RoomId::to_string).collect::<Vec<_>>().join(",");
                    condition.push_str(&format!(" AND r.id NOT IN ({list})"));
                }
                (condition, *user_id)
            }
        };
        let with_user = matches!(scope, Scope::Readable { .. });
        #[cfg(feature = "mysql")]
        if conn.is_mysql() {
            let user_id = with_user.then_some(user_id);
            return SearchIndex::search_postings(conn, terms, &room_condition, user_id, before, limit);
        }
        let hits: Vec<Hit> = db_run!(
            conn,
            sqlite | c | {
                let sql = format!(
                    "SELECT message_search.rowid AS id FROM message_search \
                     JOIN rooms r ON r.id = message_search.room_id \
                     WHERE message_search MATCH ? AND message_search.rowid < ? AND {room_condition} \
                     ORDER BY message_search.rowid DESC LIMIT ?"
                );
                let query =
                    diesel::sql_query(sql).bind::<Text, _>(search_terms::fts5_match(terms)).bind::<BigInt, _>(before);
                if with_user {
                    query.bind::<BigInt, _>(user_id.0).bind::<BigInt, _>(fetch).load(c)
                } else {
                    query.bind::<BigInt, _>(fetch).load(c)
                }
            },
            mysql | _c | Ok(Vec::new()) // answered above
        )?;
        let has_more = hits.len() > limit;
        let ids: Vec<MessageId> = hits.iter().take(limit).map(|h| MessageId(h.id)).collect();
        let mut found = Message::with_room_names(conn, &ids)?;
        // A message deleted since the index was read is not a result.
        found.retain(|(m, _)| !m.deleted);
        found.sort_by_key(|(m, _)| std::cmp::Reverse(m.id));
        Ok((found, has_more))
    }

    /// MySQL: the newest messages in the posting lists of every term (joined on the
    /// message id, read backwards along the primary key, so that the most common word
    /// costs no more than the page), checked for whole words and consecutive CJK
    /// characters, which the lists cannot tell; round after round, each twice the
    /// last, until the page is full or the lists end (a page is never cut short while
    /// more might match: a client pages on from its last message).
    #[cfg(feature = "mysql")]
    fn search_postings(
        conn: &mut DbConn,
        terms: &[QueryTerm],
        room_condition: &str,
        user_id: Option<UserId>,
        before: i64,
        limit: usize,
    ) -> DbResult<(Vec<(Message, String)>, bool)> {
        let keys = search_terms::postings(terms);
        // More terms than this are checked on the candidates only.
        let keys = &keys[..keys.len().min(MAX_JOINED_TERMS)];
        let joins: String = (1..keys.len())
            .map(|i| format!(" JOIN message_terms t{i} ON t{i}.term = ? AND t{i}.message_id = t0.message_id"))
            .collect();
        let sql = format!(
            "SELECT t0.message_id AS id FROM message_terms t0{joins} JOIN rooms r ON r.id = t0.room_id \
             WHERE t0.term = ? AND t0.message_id < ? AND {room_condition} \
             ORDER BY t0.message_id DESC LIMIT ?"
        );
        let mut batch = limit + 1;
        let mut cursor = before;
        let mut found: Vec<(Message, String)> = Vec::new();
        loop {
            let hits: Vec<Hit> = db_run!(
                conn,
                sqlite | _c | Ok::<_, diesel::result::Error>(Vec::new()), // never: MySQL only
                mysql | c | {
                    let mut query = diesel::sql_query(sql.as_str()).into_boxed();
                    for key in &keys[1..] {
                        query = query.bind::<Text, _>(key.clone());
                    }
                    query = query.bind::<Text, _>(keys[0].clone()).bind::<BigInt, _>(cursor);
                    if let Some(user_id) = user_id {
                        query = query.bind::<BigInt, _>(user_id.0);
                    }
                    query.bind::<BigInt, _>(batch as i64).load(c)
                }
            )?;
            let exhausted = hits.len() < batch;
            let Some(last) = hits.last() else { break };
            cursor = last.id;
            let ids: Vec<MessageId> = hits.iter().map(|h| MessageId(h.id)).collect();
            let mut page = Message::with_room_names(conn, &ids)?;
            page.retain(|(m, _)| !m.deleted && search_terms::text_matches(&m.body, terms));
            page.sort_by_key(|(m, _)| std::cmp::Reverse(m.id));
            found.extend(page);
            if found.len() > limit || exhausted {
                break;
            }
            batch = (batch * 2).min(MAX_ROUND);
        }
        let has_more = found.len() > limit;
        found.truncate(limit);
        Ok((found, has_more))
    }

    /// Finds the mentions of (and, on SQLite, indexes) one chunk of the history stored
    /// before the search migration; whether any is left. Each chunk is one transaction, so that a
    /// node stopped half-way goes on where it was, and nodes starting together take
    /// turns (MySQL: the marker row is locked).
    pub fn backfill_step(conn: &mut DbConn, chunk: usize) -> DbResult<bool> {
        conn.write_transaction(|conn| {
            let marker: Option<(i64, i64)> = db_run!(
                conn,
                sqlite
                    | c
                    | search_backfill::table
                        .find(1)
                        .select((search_backfill::done_id, search_backfill::through_id))
                        .first(c)
                        .optional(),
                mysql
                    | c
                    | search_backfill::table
                        .find(1)
                        .select((search_backfill::done_id, search_backfill::through_id))
                        .for_update()
                        .first(c)
                        .optional()
            )?;
            let Some((done, through)) = marker else { return Ok(false) };
            if done >= through {
                return Ok(false);
            }
            let rows: Vec<(MessageId, RoomId, String)> = db_run!(conn, |c| messages::table
                .filter(messages::id.gt(MessageId(done)))
                .filter(messages::id.le(MessageId(through)))
                .filter(messages::deleted.eq(false))
                .order(messages::id.asc())
                .limit(chunk as i64)
                .select((messages::id, messages::room_id, messages::body))
                .load(c))?;
            let last = if rows.len() < chunk { through } else { rows.last().map_or(through, |r| r.0 .0) };
            let ids: Vec<MessageId> = rows.iter().map(|r| r.0).collect();
            let entries: Vec<(MessageId, RoomId, &str)> = rows.iter().map(|(i, r, b)| (*i, *r, b.as_str())).collect();
            if !conn.is_mysql() {
                // A message edited since the upgrade was indexed by its edit: once only.
                SearchIndex::remove(conn, &ids)?;
                SearchIndex::add(conn, &entries)?;
            }
            Mentions::clear(conn, &ids)?;
            let named = Mentions::resolve(conn, &entries.iter().map(|(_, r, b)| (*r, *b)).collect::<Vec<_>>())?;
            let found: Vec<(MessageId, RoomId, Vec<UserId>)> =
                entries.iter().zip(named).map(|((id, room, _), users)| (*id, *room, users)).collect();
            Mentions::record(conn, &found)?;
            db_run!(conn, |c| diesel::update(search_backfill::table.find(1))
                .set(search_backfill::done_id.eq(last))
                .execute(c))?;
            Ok(last < through)
        })
    }
}
