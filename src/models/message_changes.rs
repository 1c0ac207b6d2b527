//! Edits, deletes and reactions, applied inside the writer's transaction under the
//! rules of docs/protocol.md ("the message lifecycle"), each taking the next position of
//! the commit order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::mentions::Mentions;
use super::message::{message_columns, Message, MessageRow};
use super::message_writes::{Chain, Change, ChangeKind, Refused, Stored};
use super::moderation::{self, ActionKind, InForce, ModerationLog, NewAction};
use super::room::Room;
use super::schema::{message_edits, messages, reactions, rooms, users};
use super::search::SearchIndex;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::MessageId;
use crate::permissions::{self, Action};

/// Whether the author of a change may delete other people's messages in its room.
fn may_delete_any(conn: &mut DbConn, change: &Change, now: NaiveDateTime) -> DbResult<bool> {
    let room: Room = db_run!(conn, |c| rooms::table.find(change.room_id).select(Room::as_select()).first(c))?;
    let standing = moderation::standing(conn, change.room_id, change.user_id, now)?;
    Ok(permissions::may(room.facts(), &standing, Action::DeleteAny, now).is_ok())
}

/// The message a change is about, in its current state, read under the lock.
fn current(conn: &mut DbConn, change: &Change) -> DbResult<Option<Message>> {
    let row: Option<MessageRow> = db_run!(conn, |c| messages::table
        .inner_join(users::table)
        .filter(messages::id.eq(change.message_id))
        .filter(messages::room_id.eq(change.room_id))
        .select(message_columns!())
        .first(c)
        .optional())?;
    let mut found: Vec<Message> = row.into_iter().map(Message::from).collect();
    Message::attach_details(conn, &mut found)?;
    Ok(found.pop())
}

/// Applies one change under the rules: the author edits, the author or a moderator
/// deletes, anyone in the room reacts, nobody muted or banned there edits or reacts; a
/// deleted message takes no edit or reaction; a change that changes nothing is
/// `Unchanged`.
pub(super) fn apply_change(
    conn: &mut DbConn,
    change: &Change,
    now: NaiveDateTime,
    max_reactions: usize,
    in_force: InForce,
    chain: &mut Chain,
) -> DbResult<Stored> {
    // A ban stops every change; a mute stops edits and reactions, not deleting one's own.
    match (&change.kind, in_force.refuses_writing()) {
        (_, Some(Refused::Banned)) => return Ok(Stored::Refused(Refused::Banned)),
        (ChangeKind::Edit { .. } | ChangeKind::React { .. }, Some(refused)) => return Ok(Stored::Refused(refused)),
        _ => {}
    }
    let Some(message) = current(conn, change)? else { return Ok(Stored::Refused(Refused::NotFound)) };
    let id = message.id;
    match &change.kind {
        ChangeKind::Edit { text } => {
            if message.deleted {
                return Ok(Stored::Refused(Refused::NotFound));
            }
            if message.user_id != change.user_id {
                return Ok(Stored::Refused(Refused::Forbidden));
            }
            if message.body == *text {
                return Ok(Stored::Unchanged(message));
            }
            db_run!(conn, |c| diesel::insert_into(message_edits::table)
                .values((
                    message_edits::message_id.eq(id),
                    message_edits::body.eq(&message.body),
                    message_edits::edited_at.eq(now),
                ))
                .execute(c))?;
            let (seq, prev) = chain.advance();
            db_run!(conn, |c| diesel::update(messages::table.find(id))
                .set((messages::body.eq(text), messages::edited_at.eq(Some(now)), messages::seq.eq(seq)))
                .execute(c))?;
            // The old words leave the index and the old mentions their counts.
            SearchIndex::edited(conn, id, change.room_id, text)?;
            Mentions::clear(conn, &[id])?;
            let mentions = Mentions::resolve(conn, &[(change.room_id, text.as_str())])?.pop().unwrap_or_default();
            Mentions::record(conn, &[(id, change.room_id, mentions.clone())])?;
            let message = Message { body: text.clone(), edited_at: Some(now), seq, mentions, ..message };
            Ok(Stored::Changed { message, prev })
        }
        ChangeKind::Delete => {
            if message.deleted {
                return Ok(Stored::Unchanged(message));
            }
            // The author, or whoever moderates the room (logged as such).
            if message.user_id != change.user_id {
                if !may_delete_any(conn, change, now)? {
                    return Ok(Stored::Refused(Refused::Forbidden));
                }
                let entry = NewAction {
                    room_id: change.room_id,
                    action: ActionKind::DeleteMessage,
                    actor: change.user_id,
                    target: Some(message.user_id),
                    reason: None,
                    detail: Some(id.to_string()),
                };
                ModerationLog::record(conn, entry, now)?;
            }
            db_run!(conn, |c| diesel::delete(message_edits::table.filter(message_edits::message_id.eq(id)))
                .execute(c))?;
            db_run!(conn, |c| diesel::delete(reactions::table.filter(reactions::message_id.eq(id))).execute(c))?;
            let (seq, prev) = chain.advance();
            db_run!(conn, |c| diesel::update(messages::table.find(id))
                .set((
                    messages::deleted.eq(true),
                    messages::body.eq(""),
                    messages::reply_to.eq(None::<MessageId>),
                    messages::seq.eq(seq),
                ))
                .execute(c))?;
            SearchIndex::deleted(conn, id)?;
            Mentions::clear(conn, &[id])?;
            chain.rooms_with_deletes.insert(change.room_id);
            let message = Message {
                deleted: true,
                body: String::new(),
                reply_to: None,
                reactions: Vec::new(),
                mentions: Vec::new(),
                seq,
                ..message
            };
            Ok(Stored::Changed { message, prev })
        }
        ChangeKind::React { emoji, on } => {
            if message.deleted {
                return Ok(Stored::Refused(Refused::NotFound));
            }
            let reacted = message.reactions.iter().any(|r| r.emoji == *emoji && r.user_ids.contains(&change.user_id));
            if reacted == *on {
                return Ok(Stored::Unchanged(message));
            }
            if *on {
                let known = message.reactions.iter().any(|r| r.emoji == *emoji);
                if !known && message.reactions.len() >= max_reactions {
                    return Ok(Stored::Refused(Refused::TooManyReactions));
                }
                db_run!(conn, |c| diesel::insert_into(reactions::table)
                    .values((
                        reactions::message_id.eq(id),
                        reactions::user_id.eq(change.user_id),
                        reactions::emoji.eq(emoji),
                        reactions::created_at.eq(now),
                    ))
                    .execute(c))?;
            } else {
                db_run!(conn, |c| diesel::delete(
                    reactions::table
                        .filter(reactions::message_id.eq(id))
                        .filter(reactions::user_id.eq(change.user_id))
                        .filter(reactions::emoji.eq(emoji))
                )
                .execute(c))?;
            }
            let (seq, prev) = chain.advance();
            db_run!(conn, |c| diesel::update(messages::table.find(id)).set(messages::seq.eq(seq)).execute(c))?;
            let mut message = Message { seq, ..message };
            Message::attach_details(conn, std::slice::from_mut(&mut message))?;
            Ok(Stored::Changed { message, prev })
        }
    }
}
