//! Memberships: who is in which room, their read marker, and unread counts.

use diesel::prelude::*;

use super::room::Room;
use super::schema::room_members;
use super::user::PublicUser;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

pub use crate::permissions::Role;

pub struct RoomMember;

impl RoomMember {
    /// Makes the user a member (no-op when already one), reading up to `last_read`.
    pub fn ensure(conn: &mut DbConn, room_id: RoomId, user_id: UserId, last_read: MessageId) -> DbResult<()> {
        let values = (
            room_members::room_id.eq(room_id),
            room_members::user_id.eq(user_id),
            room_members::joined_at.eq(super::now()),
            room_members::last_read_message_id.eq(last_read),
        );
        db_run!(conn, |c| diesel::insert_or_ignore_into(room_members::table).values(values).execute(c))?;
        Ok(())
    }

    /// A first join (or first post) makes the user a member who has read everything up
    /// to now: old history is not "unread". Later calls change nothing.
    pub fn enter(conn: &mut DbConn, room_id: RoomId, user_id: UserId) -> DbResult<()> {
        let room_top = Room::last_message_id(conn, room_id)?;
        RoomMember::ensure(conn, room_id, user_id, room_top)
    }

    /// The user's role in a room, when a member.
    pub fn role(conn: &mut DbConn, room_id: RoomId, user_id: UserId) -> DbResult<Option<Role>> {
        db_run!(conn, |c| room_members::table
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.eq(user_id))
            .select(room_members::role)
            .first(c)
            .optional())
        .map_err(Into::into)
    }

    /// A page of a room's members by user id, after `after`, with their roles.
    pub fn list(conn: &mut DbConn, room_id: RoomId, after: UserId, limit: usize) -> DbResult<Vec<(PublicUser, Role)>> {
        use super::schema::users;
        type Row = (UserId, String, Option<String>, Option<chrono::NaiveDateTime>, Role);
        let rows: Vec<Row> = db_run!(conn, |c| room_members::table
            .inner_join(users::table.on(users::id.eq(room_members::user_id)))
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.gt(after))
            .order(room_members::user_id.asc())
            .limit(limit as i64)
            .select((users::id, users::nickname, users::avatar, users::deleted_at, room_members::role))
            .load(c))?;
        Ok(rows
            .into_iter()
            .map(|(id, nickname, avatar, gone, role)| {
                (PublicUser::shown(id, &nickname, avatar.as_deref(), gone.is_some()), role)
            })
            .collect())
    }

    /// Sets a member's role; the owner's never changes. Whether it changed.
    pub fn set_role(conn: &mut DbConn, room_id: RoomId, user_id: UserId, role: Role) -> DbResult<bool> {
        let changed = db_run!(conn, |c| diesel::update(
            room_members::table
                .filter(room_members::room_id.eq(room_id))
                .filter(room_members::user_id.eq(user_id))
                .filter(room_members::role.ne(Role::Owner))
                .filter(room_members::role.ne(role))
        )
        .set(room_members::role.eq(role))
        .execute(c))?;
        Ok(changed > 0)
    }

    /// Ends a membership (a ban).
    pub fn remove(conn: &mut DbConn, room_id: RoomId, user_id: UserId) -> DbResult<()> {
        db_run!(conn, |c| diesel::delete(
            room_members::table.filter(room_members::room_id.eq(room_id)).filter(room_members::user_id.eq(user_id))
        )
        .execute(c))?;
        Ok(())
    }

    pub fn is_member(conn: &mut DbConn, room_id: RoomId, user_id: UserId) -> DbResult<bool> {
        let found: Option<UserId> = db_run!(conn, |c| room_members::table
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.eq(user_id))
            .select(room_members::user_id)
            .first(c)
            .optional())?;
        Ok(found.is_some())
    }

    /// The user's read marker in a room (0 when not a member).
    pub fn last_read(conn: &mut DbConn, room_id: RoomId, user_id: UserId) -> DbResult<MessageId> {
        let marker: Option<MessageId> = db_run!(conn, |c| room_members::table
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.eq(user_id))
            .select(room_members::last_read_message_id)
            .first(c)
            .optional())?;
        Ok(marker.unwrap_or(MessageId::NONE))
    }

    /// Moves the read marker forward (never back, never past the room's latest message:
    /// a marker beyond it would hide every later message from the unread count). The
    /// marker set, when it moved.
    pub fn mark_read(
        conn: &mut DbConn,
        room_id: RoomId,
        user_id: UserId,
        message_id: MessageId,
    ) -> DbResult<Option<MessageId>> {
        let marker = message_id.min(Room::last_message_id(conn, room_id)?);
        let moved = db_run!(conn, |c| diesel::update(
            room_members::table
                .filter(room_members::room_id.eq(room_id))
                .filter(room_members::user_id.eq(user_id))
                .filter(room_members::last_read_message_id.lt(marker))
        )
        .set(room_members::last_read_message_id.eq(marker))
        .execute(c))?;
        Ok((moved > 0).then_some(marker))
    }
}
