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
    /// A server administrator (`chatroom admin grant`): acts as owner in every room.
    pub is_admin: bool,
    /// Set while an administrator has disabled the account: no login, no session.
    pub disabled_at: Option<NaiveDateTime>,
    /// The version of the user's avatar (part of its URL), when they have one.
    pub avatar: Option<String>,
    /// Set once the account is deleted: its messages stay, shown as a deleted user's.
    pub deleted_at: Option<NaiveDateTime>,
}

/// What other people may see of a user: never the phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicUser {
    pub id: UserId,
    pub nickname: String,
    /// Where the user's picture is served (the URL changes with the picture); null
    /// without one: show initials.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// How a deleted account's messages are signed.
pub const DELETED_NICKNAME: &str = "Deleted user";

impl PublicUser {
    /// A user as others see them, from their stored nickname, avatar version and
    /// whether the account was deleted.
    pub fn shown(id: UserId, nickname: &str, avatar: Option<&str>, deleted: bool) -> PublicUser {
        if deleted {
            return PublicUser { id, nickname: DELETED_NICKNAME.to_owned(), avatar_url: None };
        }
        PublicUser { id, nickname: nickname.to_owned(), avatar_url: avatar.map(|v| avatar_url(id, v)) }
    }
}

/// The URL of a user's avatar of this version.
pub fn avatar_url(id: UserId, version: &str) -> String {
    format!("/avatars/{id}/{version}")
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
        PublicUser::shown(self.id, &self.nickname, self.avatar.as_deref(), self.deleted_at.is_some())
    }

    pub fn find(conn: &mut DbConn, id: UserId) -> DbResult<Option<User>> {
        db_run!(conn, |c| users::table.find(id).select(User::as_select()).first(c).optional()).map_err(Into::into)
    }

    /// Some users as others see them, by id.
    pub fn shown_many(conn: &mut DbConn, ids: &[UserId]) -> DbResult<std::collections::HashMap<UserId, PublicUser>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let rows: Vec<(UserId, String, Option<String>, Option<NaiveDateTime>)> = db_run!(conn, |c| users::table
            .filter(users::id.eq_any(&ids))
            .select((users::id, users::nickname, users::avatar, users::deleted_at))
            .load(c))?;
        Ok(rows
            .into_iter()
            .map(|(id, nickname, avatar, gone)| {
                (id, PublicUser::shown(id, &nickname, avatar.as_deref(), gone.is_some()))
            })
            .collect())
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

    /// Up to `limit` people, by nickname (ignoring case), whose nickname starts with `prefix` in any
    /// case: never `me`, never a deleted account.
    pub fn by_nickname_prefix(conn: &mut DbConn, prefix: &str, me: UserId, limit: usize) -> DbResult<Vec<User>> {
        // Lowercased on both sides (MySQL's nicknames compare as bytes); as typed too,
        // since SQLite's LOWER leaves letters beyond ASCII as they are.
        let folded = format!("{}%", super::like_literal(&prefix.to_lowercase()));
        let as_typed = format!("{}%", super::like_literal(prefix));
        db_run!(conn, |c| users::table
            .filter(
                super::lower(users::nickname)
                    .like(folded.clone())
                    .escape('!')
                    .or(users::nickname.like(as_typed.clone()).escape('!')),
            )
            .filter(users::id.ne(me))
            .filter(users::deleted_at.is_null())
            .order((super::lower(users::nickname).asc(), users::nickname.asc()))
            .limit(limit as i64)
            .select(User::as_select())
            .load(c))
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

    /// Whether a nickname, or a look-alike, belongs to someone other than `me`.
    pub fn nickname_taken_by_other(conn: &mut DbConn, nickname: &str, skeleton: &str, me: UserId) -> DbResult<bool> {
        let found: Option<UserId> = db_run!(conn, |c| users::table
            .filter(users::nickname.eq(nickname).or(users::nickname_skeleton.eq(skeleton)))
            .filter(users::id.ne(me))
            .select(users::id)
            .first(c)
            .optional())?;
        Ok(found.is_some())
    }

    /// Renames a user; `Err(Taken::Nickname)` when the name (or a look-alike) is taken
    /// (the unique keys decide races).
    pub fn rename(conn: &mut DbConn, id: UserId, nickname: &str, skeleton: &str) -> DbResult<Result<(), Taken>> {
        if User::nickname_taken_by_other(conn, nickname, skeleton, id)? {
            return Ok(Err(Taken::Nickname));
        }
        let renamed = db_run!(conn, |c| diesel::update(users::table.find(id))
            .set((users::nickname.eq(nickname), users::nickname_skeleton.eq(Some(skeleton))))
            .execute(c));
        match renamed {
            Ok(_) => Ok(Ok(())),
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                Ok(Err(Taken::Nickname))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn set_password_hash(conn: &mut DbConn, id: UserId, hash: &str) -> DbResult<()> {
        db_run!(conn, |c| diesel::update(users::table.find(id)).set(users::password_hash.eq(hash)).execute(c))?;
        Ok(())
    }

    /// Erases an account, in one transaction: its phone number and password hash go,
    /// its nickname is freed, its picture, memberships and sessions are deleted. The
    /// row stays for the messages it wrote, shown as a deleted user's.
    pub fn erase(conn: &mut DbConn, id: UserId, now: NaiveDateTime) -> DbResult<()> {
        use super::schema::{avatars, room_members, sessions};
        // Placeholders that no real phone number or nickname can equal (a control
        // character), unique by the id: the unique keys hold, and nothing is left.
        let gone = format!("\u{1}deleted-{id}");
        conn.write_transaction(|conn| {
            db_run!(conn, |c| diesel::update(users::table.find(id))
                .set((
                    users::phone.eq(&gone),
                    users::nickname.eq(&gone),
                    users::nickname_skeleton.eq(None::<String>),
                    users::password_hash.eq(""),
                    users::avatar.eq(None::<String>),
                    users::is_admin.eq(false),
                    users::deleted_at.eq(Some(now)),
                ))
                .execute(c))?;
            db_run!(conn, |c| diesel::delete(avatars::table.find(id)).execute(c))?;
            db_run!(conn, |c| diesel::delete(room_members::table.filter(room_members::user_id.eq(id))).execute(c))?;
            db_run!(conn, |c| diesel::delete(sessions::table.filter(sessions::user_id.eq(Some(id)))).execute(c))?;
            Ok(())
        })
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
                is_admin: false,
                disabled_at: None,
                avatar: None,
                deleted_at: None,
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

    /// Makes the user of this phone number an administrator, or no longer one; the
    /// user, when there is one.
    pub fn set_admin(conn: &mut DbConn, phone: &str, admin: bool) -> DbResult<Option<User>> {
        db_run!(conn, |c| diesel::update(users::table.filter(users::phone.eq(phone)))
            .set(users::is_admin.eq(admin))
            .execute(c))?;
        User::find_by_phone(conn, phone)
    }

    /// Disables the account (from `now`) or enables it again (`None`); whether the
    /// user exists.
    pub fn set_disabled(conn: &mut DbConn, id: UserId, disabled_at: Option<NaiveDateTime>) -> DbResult<bool> {
        let found = db_run!(conn, |c| diesel::update(users::table.find(id))
            .set(users::disabled_at.eq(disabled_at))
            .execute(c))?;
        Ok(found > 0)
    }

    pub fn count(conn: &mut DbConn) -> DbResult<i64> {
        db_run!(conn, |c| users::table.count().get_result(c)).map_err(Into::into)
    }
}
