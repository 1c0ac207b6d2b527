//! Edits, deletes and reactions, applied inside the writer's transaction under the
//! rules of docs/protocol.md ("the message lifecycle"), each taking the next position of
//! the commit order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::message::{message_columns, Message, MessageRow};
use super::message_writes::{Chain, Change, ChangeKind, Refused, Stored};
use super::room_member::{Role, RoomMember};
use super::schema::{message_edits, messages, reactions, users};
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::MessageId;

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
    Message::attach_reactions(conn, &mut found)?;
    Ok(found.pop())
}

/// Applies one change under the rules: the author edits, the author deletes (owners
/// and moderators come with roles), anyone in the room reacts; a deleted message takes
/// no edit or reaction; a change that changes nothing is `Unchanged`.
pub(super) fn apply_change(
    conn: &mut DbConn,
    change: &Change,
    now: NaiveDateTime,
    max_reactions: usize,
    chain: &mut Chain,
) -> DbResult<Stored> {
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
            let message = Message { body: text.clone(), edited_at: Some(now), seq, ..message };
            Ok(Stored::Changed { message, prev })
        }
        ChangeKind::Delete => {
            if message.deleted {
                return Ok(Stored::Unchanged(message));
            }
            // The author, or the room's owner or a moderator.
            if message.user_id != change.user_id
                && !matches!(
                    RoomMember::role(conn, change.room_id, change.user_id)?,
                    Some(Role::Owner | Role::Moderator)
                )
            {
                return Ok(Stored::Refused(Refused::Forbidden));
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
            chain.rooms_with_deletes.insert(change.room_id);
            let message =
                Message { deleted: true, body: String::new(), reply_to: None, reactions: Vec::new(), seq, ..message };
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
            Message::attach_reactions(conn, std::slice::from_mut(&mut message))?;
            Ok(Stored::Changed { message, prev })
        }
    }
}
