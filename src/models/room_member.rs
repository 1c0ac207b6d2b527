//! Memberships: who is in which room, their read marker, and unread counts.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::serialize::{self, ToSql};
use diesel::sql_types::Text;
use serde::Serialize;

use super::room::Room;
use super::schema::room_members;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

/// A member's role in a room: stored as its name in `room_members.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, AsExpression, FromSqlRow, utoipa::ToSchema)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the room.
    Owner,
    Moderator,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Moderator => "moderator",
            Role::Member => "member",
        }
    }
}

impl<DB: Backend> FromSql<Text, DB> for Role
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        match String::from_sql(bytes)?.as_str() {
            "owner" => Ok(Role::Owner),
            "moderator" => Ok(Role::Moderator),
            "member" => Ok(Role::Member),
            other => Err(format!("unknown role {other:?}").into()),
        }
    }
}

impl<DB: Backend> ToSql<Text, DB> for Role
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut serialize::Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

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
    pub fn list(
        conn: &mut DbConn,
        room_id: RoomId,
        after: UserId,
        limit: usize,
    ) -> DbResult<Vec<(UserId, String, Role)>> {
        use super::schema::users;
        db_run!(conn, |c| room_members::table
            .inner_join(users::table.on(users::id.eq(room_members::user_id)))
            .filter(room_members::room_id.eq(room_id))
            .filter(room_members::user_id.gt(after))
            .order(room_members::user_id.asc())
            .limit(limit as i64)
            .select((users::id, users::nickname, room_members::role))
            .load(c))
        .map_err(Into::into)
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

    /// Unread messages per room for one user: others' messages after the read marker,
    /// counted on the (room_id, id) index from the marker on.
    pub fn unread_counts(conn: &mut DbConn, user_id: UserId) -> DbResult<Vec<(RoomId, i64)>> {
        use super::schema::messages;
        db_run!(conn, |c| messages::table
            .inner_join(
                room_members::table
                    .on(room_members::room_id.eq(messages::room_id).and(room_members::user_id.eq(user_id))),
            )
            .filter(messages::id.gt(room_members::last_read_message_id))
            .filter(messages::user_id.ne(user_id))
            .filter(messages::deleted.eq(false))
            .group_by(messages::room_id)
            .select((messages::room_id, diesel::dsl::count_star()))
            .load(c))
        .map_err(Into::into)
    }
}
