use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::users;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub phone: String,
    pub nickname: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

/// What other people may see of a user: never the phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable, utoipa::ToSchema)]
pub struct PublicUser {
    pub id: UserId,
    pub nickname: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub phone: &'a str,
    pub nickname: &'a str,
    /// [`crate::models::validate::nickname_skeleton`] of `nickname`.
    pub nickname_skeleton: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

/// Why a registration could not be stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    Phone,
    Nickname,
}

impl User {
    pub fn public(&self) -> PublicUser {
        PublicUser { id: self.id, nickname: self.nickname.clone() }
    }

    pub fn find(conn: &mut DbConn, id: UserId) -> DbResult<Option<User>> {
        db_run!(conn, |c| users::table.find(id).select(User::as_select()).first(c).optional()).map_err(Into::into)
    }

    pub fn find_by_phone(conn: &mut DbConn, phone: &str) -> DbResult<Option<User>> {
        db_run!(conn, |c| users::table.filter(users::phone.eq(phone)).select(User::as_select()).first(c).optional())
            .map_err(Into::into)
    }

    pub fn find_by_nickname(conn: &mut DbConn, nickname: &str) -> DbResult<Option<User>> {
        db_run!(conn, |c| users::table
            .filter(users::nickname.eq(nickname))
            .select(User::as_select())
            .first(c)
            .optional())
        .map_err(Into::into)
    }

    /// Whether a nickname, or one that looks the same (same skeleton), is taken.
    pub fn nickname_taken(conn: &mut DbConn, nickname: &str, skeleton: &str) -> DbResult<bool> {
        let found: Option<UserId> = db_run!(conn, |c| users::table
            .filter(users::nickname.eq(nickname).or(users::nickname_skeleton.eq(skeleton)))
            .select(users::id)
            .first(c)
            .optional())?;
        Ok(found.is_some())
    }

    /// Computes the skeletons of accounts made before nicknames had them. An account whose
    /// nickname looks like an earlier one's keeps none (both names stay usable; the next
    /// look-alike is refused).
    pub fn fill_skeletons(conn: &mut DbConn) -> DbResult<usize> {
        let missing: Vec<(UserId, String)> = db_run!(conn, |c| users::table
            .filter(users::nickname_skeleton.is_null())
            .order(users::id.asc())
            .select((users::id, users::nickname))
            .load(c))?;
        let mut filled = 0;
        for (id, nickname) in missing {
            let skeleton = super::validate::nickname_skeleton(&nickname);
            let updated = db_run!(conn, |c| diesel::update(users::table.find(id))
                .set(users::nickname_skeleton.eq(&skeleton))
                .execute(c));
            match updated {
                Ok(_) => filled += 1,
                Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(filled)
    }

    /// Stores a new account. The unique keys decide races; the answer says which one held.
    pub fn create(conn: &mut DbConn, new: &NewUser<'_>) -> DbResult<Result<User, Taken>> {
        let inserted = db_run!(
            conn,
            sqlite | c | diesel::insert_into(users::table).values(new).returning(users::id).get_result::<UserId>(c),
            mysql
                | c
                | c.transaction(|c| {
                    diesel::insert_into(users::table).values(new).execute(c)?;
                    diesel::select(super::last_insert_id()).get_result::<i64>(c).map(UserId)
                })
        );
        match inserted {
            Ok(id) => Ok(Ok(User {
                id,
                phone: new.phone.to_owned(),
                nickname: new.nickname.to_owned(),
                password_hash: new.password_hash.to_owned(),
                created_at: new.created_at,
            })),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                if User::find_by_phone(conn, new.phone)?.is_some() {
                    Ok(Err(Taken::Phone))
                } else {
                    Ok(Err(Taken::Nickname))
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn count(conn: &mut DbConn) -> DbResult<i64> {
        db_run!(conn, |c| users::table.count().get_result(c)).map_err(Into::into)
    }
}
