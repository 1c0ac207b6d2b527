//! Invites to a room: found by the SHA-256 of their code (the code itself is never
//! stored), with an end and a number of uses left.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::room_invites;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{RoomId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = room_invites)]
pub struct Invite {
    pub id: i64,
    pub room_id: RoomId,
    /// The code is derived from it with a key kept outside the database.
    pub nonce: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub uses_left: i32,
}

/// An invite to store.
pub struct NewInvite<'a> {
    pub room_id: RoomId,
    pub code_hash: &'a str,
    pub nonce: &'a str,
    pub created_by: UserId,
    pub expires_at: NaiveDateTime,
    pub uses: i32,
}

/// Live: not expired, not used up (revoked invites are deleted).
macro_rules! live {
    ($now:expr) => {
        room_invites::expires_at.gt($now).and(room_invites::uses_left.gt(0))
    };
}

impl Invite {
    pub fn create(conn: &mut DbConn, new: &NewInvite<'_>, now: NaiveDateTime) -> DbResult<Invite> {
        let values = (
            room_invites::room_id.eq(new.room_id),
            room_invites::code_hash.eq(new.code_hash),
            room_invites::nonce.eq(new.nonce),
            room_invites::created_by.eq(new.created_by),
            room_invites::created_at.eq(now),
            room_invites::expires_at.eq(new.expires_at),
            room_invites::uses_left.eq(new.uses),
        );
        db_run!(conn, |c| diesel::insert_into(room_invites::table).values(values).execute(c))?;
        let id: i64 = db_run!(conn, |c| room_invites::table
            .filter(room_invites::code_hash.eq(new.code_hash))
            .select(room_invites::id)
            .first(c))?;
        Ok(Invite {
            id,
            room_id: new.room_id,
            nonce: new.nonce.to_owned(),
            created_by: new.created_by,
            created_at: now,
            expires_at: new.expires_at,
            uses_left: new.uses,
        })
    }

    /// The live invite with this code's hash.
    pub fn find_live(conn: &mut DbConn, code_hash: &str, now: NaiveDateTime) -> DbResult<Option<Invite>> {
        db_run!(conn, |c| room_invites::table
            .filter(room_invites::code_hash.eq(code_hash))
            .filter(live!(now))
            .select(Invite::as_select())
            .first(c)
            .optional())
        .map_err(Into::into)
    }

    /// A room's live invites, newest first.
    pub fn list_live(conn: &mut DbConn, room_id: RoomId, now: NaiveDateTime) -> DbResult<Vec<Invite>> {
        db_run!(conn, |c| room_invites::table
            .filter(room_invites::room_id.eq(room_id))
            .filter(live!(now))
            .order(room_invites::id.desc())
            .limit(200)
            .select(Invite::as_select())
            .load(c))
        .map_err(Into::into)
    }

    /// Takes one use; false when none is left or it expired meanwhile (the update
    /// decides races).
    pub fn take_use(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> DbResult<bool> {
        let taken = db_run!(conn, |c| diesel::update(room_invites::table.find(id).filter(live!(now)))
            .set(room_invites::uses_left.eq(room_invites::uses_left - 1))
            .execute(c))?;
        Ok(taken > 0)
    }

    pub fn revoke(conn: &mut DbConn, id: i64) -> DbResult<()> {
        db_run!(conn, |c| diesel::delete(room_invites::table.find(id)).execute(c))?;
        Ok(())
    }

    /// Deletes invites that can no longer be used.
    pub fn delete_dead(conn: &mut DbConn, now: NaiveDateTime) -> DbResult<usize> {
        db_run!(conn, |c| diesel::delete(
            room_invites::table.filter(room_invites::expires_at.le(now).or(room_invites::uses_left.le(0)))
        )
        .execute(c))
        .map_err(Into::into)
    }
}
