//! Mentions: `@` followed by a room member's exact nickname (the longest that matches,
//! not followed by a letter, digit, `_` or `-`) names that member. Found by the writer
//! when a message is stored or edited, kept in `message_mentions` for the message
//! object's `mentions` and the room list's mention counts.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::schema::{message_mentions, room_members, users};
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

/// A nickname has at most this many characters (`validate::nickname`).
const NICKNAME_MAX_CHARS: usize = 32;
/// The `@`s of one message looked at: more is not a conversation, and each costs up to
/// 32 candidate nicknames in the query.
const MAX_MENTIONS_PER_MESSAGE: usize = 50;
/// Nicknames per query.
const CANDIDATES_PER_QUERY: usize = 500;

fn ends_a_nickname(next: Option<&char>) -> bool {
    next.is_none_or(|c| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
}

/// For each `@` in the text, the strings after it that could be a whole nickname,
/// longest first.
pub fn candidates(text: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for (at, _) in chars.iter().enumerate().filter(|(_, c)| **c == '@').take(MAX_MENTIONS_PER_MESSAGE) {
        let rest = &chars[at + 1..];
        let mut options: Vec<String> = (1..=rest.len().min(NICKNAME_MAX_CHARS))
            .filter(|&len| ends_a_nickname(rest.get(len)))
            .map(|len| rest[..len].iter().collect::<String>())
            // Nicknames are trimmed: none starts or ends with a space.
            .filter(|s| s.trim() == s)
            .collect();
        options.reverse();
        if !options.is_empty() {
            found.push(options);
        }
    }
    found
}

/// Who a text names, given the nicknames of its room's members: each `@` names the
/// longest nickname that follows it; each member once, by user id.
pub fn named(text: &str, members: &HashMap<String, UserId>) -> Vec<UserId> {
    let mut ids: Vec<UserId> = Vec::new();
    for options in candidates(text) {
        if let Some(id) = options.iter().find_map(|o| members.get(o)) {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
    }
    ids.sort_unstable();
    ids
}

pub struct Mentions;

impl Mentions {
    /// Who each text names in its room (same order as `texts`).
    pub fn resolve(conn: &mut DbConn, texts: &[(RoomId, &str)]) -> DbResult<Vec<Vec<UserId>>> {
        let per_text: Vec<Vec<Vec<String>>> = texts.iter().map(|(_, t)| candidates(t)).collect();
        let wanted: HashSet<&str> = per_text.iter().flatten().flatten().map(String::as_str).collect();
        if wanted.is_empty() {
            return Ok(vec![Vec::new(); texts.len()]);
        }
        let rooms: HashSet<RoomId> = texts.iter().map(|(r, _)| *r).collect();
        let rooms: Vec<RoomId> = rooms.into_iter().collect();
        let wanted: Vec<&str> = wanted.into_iter().collect();
        let mut by_room: HashMap<RoomId, HashMap<String, UserId>> = HashMap::new();
        for chunk in wanted.chunks(CANDIDATES_PER_QUERY) {
            let rows: Vec<(RoomId, UserId, String)> = db_run!(conn, |c| room_members::table
                .inner_join(users::table.on(users::id.eq(room_members::user_id)))
                .filter(room_members::room_id.eq_any(&rooms))
                .filter(users::nickname.eq_any(chunk))
                .filter(users::deleted_at.is_null())
                .select((room_members::room_id, users::id, users::nickname))
                .load(c))?;
            for (room, user, nickname) in rows {
                // MySQL's collation compares loosely; a mention is the exact nickname.
                if chunk.contains(&nickname.as_str()) {
                    by_room.entry(room).or_default().insert(nickname, user);
                }
            }
        }
        let empty = HashMap::new();
        Ok(texts.iter().map(|(room, text)| named(text, by_room.get(room).unwrap_or(&empty))).collect())
    }

    /// Stores who each message names.
    pub fn record(conn: &mut DbConn, found: &[(MessageId, RoomId, Vec<UserId>)]) -> DbResult<()> {
        let rows: Vec<_> = found
            .iter()
            .flat_map(|(message, room, users)| {
                users.iter().map(move |user| {
                    (
                        message_mentions::message_id.eq(*message),
                        message_mentions::user_id.eq(*user),
                        message_mentions::room_id.eq(*room),
                    )
                })
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        db_run!(conn, |c| diesel::insert_into(message_mentions::table).values(&rows).execute(c))?;
        Ok(())
    }

    /// Forgets who some messages name (deleted, or about to be read again).
    pub fn clear(conn: &mut DbConn, ids: &[MessageId]) -> DbResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        db_run!(conn, |c| diesel::delete(message_mentions::table.filter(message_mentions::message_id.eq_any(ids)))
            .execute(c))?;
        Ok(())
    }

    /// Who each of some messages names, by message, by user id.
    pub fn of(conn: &mut DbConn, ids: &[MessageId]) -> DbResult<HashMap<MessageId, Vec<UserId>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(MessageId, UserId)> = db_run!(conn, |c| message_mentions::table
            .filter(message_mentions::message_id.eq_any(ids))
            .order((message_mentions::message_id, message_mentions::user_id))
            .select((message_mentions::message_id, message_mentions::user_id))
            .load(c))?;
        let mut by_message: HashMap<MessageId, Vec<UserId>> = HashMap::new();
        for (message, user) in rows {
            by_message.entry(message).or_default().push(user);
        }
        Ok(by_message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(names: &[(&str, i64)]) -> HashMap<String, UserId> {
        names.iter().map(|(n, id)| (n.to_string(), UserId(*id))).collect()
    }

    #[test]
    fn the_longest_nickname_that_matches_wins() {
        let m = members(&[("ann", 1), ("ann lee", 2), ("bob", 3)]);
        assert_eq!(named("hi @bob and @ann lee!", &m), vec![UserId(2), UserId(3)]);
        assert_eq!(named("hi @ann, and @ann again", &m), vec![UserId(1)]);
    }

    #[test]
    fn a_nickname_followed_by_a_word_character_is_no_mention() {
        let m = members(&[("bob", 3)]);
        assert!(named("@bobby @bob_ @bob-x @bob1", &m).is_empty());
        assert_eq!(named("(@bob) @bob.", &m), vec![UserId(3)]);
        assert_eq!(named("@Bob", &m), vec![], "the exact nickname only");
    }

    #[test]
    fn cjk_nicknames_and_no_nickname() {
        let m = members(&[("小明", 5)]);
        assert_eq!(named("@小明 你好", &m), vec![UserId(5)]);
        assert!(named("@小明你好", &m).is_empty(), "a letter follows: not a whole nickname");
        assert!(candidates("mail me @ home").is_empty());
    }
}
