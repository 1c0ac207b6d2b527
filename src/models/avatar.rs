//! Avatars: each user's picture (a 256×256 square, already re-encoded), stored in the
//! database so that every node serves it; `users.avatar` names its version, which is
//! part of its URL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{avatars, users};
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::UserId;

/// A stored picture.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = avatars)]
pub struct Avatar {
    pub version: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Avatar {
    /// Replaces the user's picture, in one transaction with the version their URL names.
    pub fn put(conn: &mut DbConn, user_id: UserId, picture: &Avatar, now: NaiveDateTime) -> DbResult<()> {
        conn.write_transaction(|conn| {
            db_run!(conn, |c| diesel::delete(avatars::table.find(user_id)).execute(c))?;
            db_run!(conn, |c| diesel::insert_into(avatars::table)
                .values((
                    avatars::user_id.eq(user_id),
                    avatars::version.eq(&picture.version),
                    avatars::content_type.eq(&picture.content_type),
                    avatars::data.eq(&picture.data),
                    avatars::updated_at.eq(now),
                ))
                .execute(c))?;
            db_run!(conn, |c| diesel::update(users::table.find(user_id))
                .set(users::avatar.eq(Some(&picture.version)))
                .execute(c))?;
            Ok(())
        })
    }

    /// Removes the user's picture; whether there was one.
    pub fn remove(conn: &mut DbConn, user_id: UserId) -> DbResult<bool> {
        conn.write_transaction(|conn| {
            let removed = db_run!(conn, |c| diesel::delete(avatars::table.find(user_id)).execute(c))?;
            db_run!(conn, |c| diesel::update(users::table.find(user_id))
                .set(users::avatar.eq(None::<String>))
                .execute(c))?;
            Ok(removed > 0)
        })
    }

    /// The user's picture, when it is of this version.
    pub fn find(conn: &mut DbConn, user_id: UserId, version: &str) -> DbResult<Option<Avatar>> {
        db_run!(conn, |c| avatars::table
            .find(user_id)
            .filter(avatars::version.eq(version))
            .select(Avatar::as_select())
            .first(c)
            .optional())
        .map_err(Into::into)
    }
}
