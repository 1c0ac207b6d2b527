//! Server-side session rows: the cookie carries only the encrypted key of one of them,
//! so logging out really ends the session everywhere.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sessions;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::UserId;

pub struct SessionRecord;

/// Whose session it is: the user, and which of their logins.
#[derive(Debug, Clone)]
pub struct Owner {
    pub user_id: UserId,
    pub login_id: String,
}

impl SessionRecord {
    /// The stored state of a live session.
    pub fn load(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> DbResult<Option<String>> {
        db_run!(conn, |c| sessions::table
            .find(key)
            .filter(sessions::expires_at.gt(now))
            .select(sessions::state)
            .first::<String>(c)
            .optional())
        .map_err(Into::into)
    }

    /// Stores a session; `owner` is its logged-in user, when there is one.
    pub fn insert(
        conn: &mut DbConn,
        key: &str,
        state: &str,
        expires_at: NaiveDateTime,
        owner: Option<Owner>,
    ) -> DbResult<()> {
        let (user_id, login_id) = owner.map(|o| (o.user_id, o.login_id)).unzip();
        db_run!(conn, |c| diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(key),
                sessions::state.eq(state),
                sessions::expires_at.eq(expires_at),
                sessions::user_id.eq(user_id),
                sessions::login_id.eq(login_id),
            ))
            .execute(c))?;
        Ok(())
    }

    /// Replaces the state of a live session; false when it no longer exists.
    pub fn update(
        conn: &mut DbConn,
        key: &str,
        state: &str,
        expires_at: NaiveDateTime,
        owner: Option<Owner>,
        now: NaiveDateTime,
    ) -> DbResult<bool> {
        let (user_id, login_id) = owner.map(|o| (o.user_id, o.login_id)).unzip();
        let changed =
            db_run!(conn, |c| diesel::update(sessions::table.find(key).filter(sessions::expires_at.gt(now)))
                .set((
                    sessions::state.eq(state),
                    sessions::expires_at.eq(expires_at),
                    sessions::user_id.eq(user_id),
                    sessions::login_id.eq(login_id),
                ))
                .execute(c))?;
        Ok(changed > 0)
    }

    pub fn touch(conn: &mut DbConn, key: &str, expires_at: NaiveDateTime) -> DbResult<()> {
        db_run!(conn, |c| diesel::update(sessions::table.find(key))
            .set(sessions::expires_at.eq(expires_at))
            .execute(c))?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, key: &str) -> DbResult<()> {
        db_run!(conn, |c| diesel::delete(sessions::table.find(key)).execute(c))?;
        Ok(())
    }

    /// Ends every session of a user (a disabled or deleted account), or every one but
    /// the login `keep` (a password change).
    pub fn delete_for_user(conn: &mut DbConn, user_id: UserId, keep: Option<&str>) -> DbResult<usize> {
        db_run!(conn, |c| match keep {
            None => diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(c),
            Some(keep) => diesel::delete(
                sessions::table
                    .filter(sessions::user_id.eq(user_id))
                    .filter(sessions::login_id.ne(keep).or(sessions::login_id.is_null()))
            )
            .execute(c),
        })
        .map_err(Into::into)
    }

    pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> DbResult<usize> {
        db_run!(conn, |c| diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(c))
            .map_err(Into::into)
    }
}
