//! Mutes, bans and the moderation log, and what a user is in a room (their
//! [`Standing`]), read for the rules of `crate::permissions`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::room::Room;
use super::room_member::Role;
use super::schema::{moderation_actions, room_sanctions, users};
use super::user::PublicUser;
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{RoomId, UserId};
use crate::permissions::{RoomFacts, Standing};

/// A mute stops a user writing in a room; a ban shuts them out of it. Stored as its
/// name in `room_sanctions.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanctionKind {
    Mute,
    Ban,
}

impl SanctionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SanctionKind::Mute => "mute",
            SanctionKind::Ban => "ban",
        }
    }
}

/// A mute or ban in force: whom, until when (`None`: until lifted), why, by whom.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sanction {
    pub user: PublicUser,
    #[serde(serialize_with = "super::serialize_optional_time")]
    #[schema(value_type = Option<String>)]
    pub until: Option<NaiveDateTime>,
    pub reason: String,
    pub by: PublicUser,
    #[serde(serialize_with = "super::serialize_time")]
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
}

/// Sanctions in force at `now`: no end, or an end still to come.
macro_rules! in_force {
    ($now:expr) => {
        room_sanctions::until.is_null().or(room_sanctions::until.gt($now))
    };
}

pub struct Sanctions;

impl Sanctions {
    /// Puts a mute or ban on a user in a room, replacing one of the same kind.
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        conn: &mut DbConn,
        room_id: RoomId,
        user_id: UserId,
        kind: SanctionKind,
        until: Option<NaiveDateTime>,
        reason: &str,
        by: UserId,
        now: NaiveDateTime,
    ) -> DbResult<()> {
        Sanctions::lift(conn, room_id, user_id, kind)?;
        db_run!(conn, |c| diesel::insert_into(room_sanctions::table)
            .values((
                room_sanctions::room_id.eq(room_id),
                room_sanctions::user_id.eq(user_id),
                room_sanctions::kind.eq(kind.as_str()),
                room_sanctions::until.eq(until),
                room_sanctions::reason.eq(reason),
                room_sanctions::created_by.eq(by),
                room_sanctions::created_at.eq(now),
            ))
            .execute(c))?;
        Ok(())
    }

    /// Lifts a mute or ban; whether one was there (in force or run out).
    pub fn lift(conn: &mut DbConn, room_id: RoomId, user_id: UserId, kind: SanctionKind) -> DbResult<bool> {
        let lifted = db_run!(conn, |c| diesel::delete(
            room_sanctions::table
                .filter(room_sanctions::room_id.eq(room_id))
                .filter(room_sanctions::user_id.eq(user_id))
                .filter(room_sanctions::kind.eq(kind.as_str()))
        )
        .execute(c))?;
        Ok(lifted > 0)
    }

    /// Whether a sanction of this kind is in force on the user in the room.
    pub fn in_force(
        conn: &mut DbConn,
        room_id: RoomId,
        user_id: UserId,
        kind: SanctionKind,
        now: NaiveDateTime,
    ) -> DbResult<bool> {
        let found: Option<String> = db_run!(conn, |c| room_sanctions::table
            .filter(room_sanctions::room_id.eq(room_id))
            .filter(room_sanctions::user_id.eq(user_id))
            .filter(room_sanctions::kind.eq(kind.as_str()))
            .filter(in_force!(now))
            .select(room_sanctions::kind)
            .first(c)
            .optional())?;
        Ok(found.is_some())
    }

    /// The mutes and bans in force on these (room, user) pairs: the group-commit
    /// writer's check of a whole batch, in one query.
    pub fn in_force_on(
        conn: &mut DbConn,
        pairs: &[(RoomId, UserId)],
        now: NaiveDateTime,
    ) -> DbResult<HashMap<(RoomId, UserId), InForce>> {
        let mut found: HashMap<(RoomId, UserId), InForce> = HashMap::new();
        if pairs.is_empty() {
            return Ok(found);
        }
        let mut rooms: Vec<RoomId> = pairs.iter().map(|p| p.0).collect();
        let mut people: Vec<UserId> = pairs.iter().map(|p| p.1).collect();
        rooms.sort_unstable();
        rooms.dedup();
        people.sort_unstable();
        people.dedup();
        let rows: Vec<(RoomId, UserId, String, Option<NaiveDateTime>)> = db_run!(conn, |c| room_sanctions::table
            .filter(room_sanctions::room_id.eq_any(&rooms))
            .filter(room_sanctions::user_id.eq_any(&people))
            .filter(in_force!(now))
            .select((room_sanctions::room_id, room_sanctions::user_id, room_sanctions::kind, room_sanctions::until))
            .load(c))?;
        for (room_id, user_id, kind, until) in rows {
            let entry = found.entry((room_id, user_id)).or_default();
            match kind.as_str() {
                "ban" => entry.banned = true,
                _ => entry.muted_until = until,
            }
        }
        Ok(found)
    }

    /// Everyone under a sanction of this kind in a room now, latest first.
    pub fn list(conn: &mut DbConn, room_id: RoomId, kind: SanctionKind, now: NaiveDateTime) -> DbResult<Vec<Sanction>> {
        let rows: Vec<(UserId, Option<NaiveDateTime>, String, UserId, NaiveDateTime)> =
            db_run!(conn, |c| room_sanctions::table
                .filter(room_sanctions::room_id.eq(room_id))
                .filter(room_sanctions::kind.eq(kind.as_str()))
                .filter(in_force!(now))
                .order(room_sanctions::created_at.desc())
                .limit(1000)
                .select((
                    room_sanctions::user_id,
                    room_sanctions::until,
                    room_sanctions::reason,
                    room_sanctions::created_by,
                    room_sanctions::created_at,
                ))
                .load(c))?;
        let ids: Vec<UserId> = rows.iter().flat_map(|r| [r.0, r.3]).collect();
        let names = nicknames(conn, &ids)?;
        Ok(rows
            .into_iter()
            .map(|(user, until, reason, by, at)| Sanction {
                user: names.user(user),
                until,
                reason,
                by: names.user(by),
                at,
            })
            .collect())
    }

    /// The end of each mute in force in a room, by user.
    pub fn mutes_in(
        conn: &mut DbConn,
        room_id: RoomId,
        now: NaiveDateTime,
    ) -> DbResult<HashMap<UserId, NaiveDateTime>> {
        let rows: Vec<(UserId, Option<NaiveDateTime>)> = db_run!(conn, |c| room_sanctions::table
            .filter(room_sanctions::room_id.eq(room_id))
            .filter(room_sanctions::kind.eq(SanctionKind::Mute.as_str()))
            .filter(in_force!(now))
            .select((room_sanctions::user_id, room_sanctions::until))
            .load(c))?;
        Ok(rows.into_iter().filter_map(|(user, until)| until.map(|u| (user, u))).collect())
    }

    /// The rooms a user is banned from now.
    pub fn banned_rooms(conn: &mut DbConn, user_id: UserId, now: NaiveDateTime) -> DbResult<Vec<RoomId>> {
        db_run!(conn, |c| room_sanctions::table
            .filter(room_sanctions::user_id.eq(user_id))
            .filter(room_sanctions::kind.eq(SanctionKind::Ban.as_str()))
            .filter(in_force!(now))
            .select(room_sanctions::room_id)
            .load(c))
        .map_err(Into::into)
    }
}

/// What is in force on one user in one room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InForce {
    pub banned: bool,
    pub muted_until: Option<NaiveDateTime>,
}

/// What `user_id` is in the room now: their role, whether they are an administrator,
/// and the mute or ban in force on them.
pub fn standing(conn: &mut DbConn, room_id: RoomId, user_id: UserId, now: NaiveDateTime) -> DbResult<Standing> {
    use super::schema::room_members;
    // The role and the administrator flag in one query: a join asks this every time.
    let found: Option<(bool, Option<Role>)> = db_run!(conn, |c| users::table
        .left_join(room_members::table.on(room_members::user_id.eq(users::id).and(room_members::room_id.eq(room_id))),)
        .filter(users::id.eq(user_id))
        .select((users::is_admin, room_members::role.nullable()))
        .first(c)
        .optional())?;
    let (admin, role) = found.unwrap_or((false, None));
    let in_force = Sanctions::in_force_on(conn, &[(room_id, user_id)], now)?.remove(&(room_id, user_id));
    let in_force = in_force.unwrap_or_default();
    Ok(Standing { user_id, role, admin, banned: in_force.banned, muted_until: in_force.muted_until })
}

impl Room {
    /// The room's kind, as the rules see it.
    pub fn facts(&self) -> RoomFacts {
        RoomFacts { members_only: self.members_only(), direct: self.is_direct(), lobby: self.name == "lobby" }
    }
}

/// What a moderation log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Mute,
    Unmute,
    Ban,
    Unban,
    MakeModerator,
    MakeMember,
    DeleteMessage,
    Topic,
    CreateInvite,
    RevokeInvite,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Mute => "mute",
            ActionKind::Unmute => "unmute",
            ActionKind::Ban => "ban",
            ActionKind::Unban => "unban",
            ActionKind::MakeModerator => "make_moderator",
            ActionKind::MakeMember => "make_member",
            ActionKind::DeleteMessage => "delete_message",
            ActionKind::Topic => "topic",
            ActionKind::CreateInvite => "create_invite",
            ActionKind::RevokeInvite => "revoke_invite",
        }
    }

    fn parse(name: &str) -> Option<ActionKind> {
        [
            ActionKind::Mute,
            ActionKind::Unmute,
            ActionKind::Ban,
            ActionKind::Unban,
            ActionKind::MakeModerator,
            ActionKind::MakeMember,
            ActionKind::DeleteMessage,
            ActionKind::Topic,
            ActionKind::CreateInvite,
            ActionKind::RevokeInvite,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

/// One entry of a room's moderation log, as `GET /api/rooms/{name}/moderation` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoggedAction {
    pub id: i64,
    pub action: ActionKind,
    pub actor: PublicUser,
    pub target: Option<PublicUser>,
    #[serde(serialize_with = "super::serialize_time")]
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What else the action was about: a mute's end, a deleted message's id, a topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A moderation action to record.
pub struct NewAction<'a> {
    pub room_id: RoomId,
    pub action: ActionKind,
    pub actor: UserId,
    pub target: Option<UserId>,
    pub reason: Option<&'a str>,
    pub detail: Option<String>,
}

pub struct ModerationLog;

impl ModerationLog {
    pub fn record(conn: &mut DbConn, entry: NewAction<'_>, now: NaiveDateTime) -> DbResult<()> {
        db_run!(conn, |c| diesel::insert_into(moderation_actions::table)
            .values((
                moderation_actions::room_id.eq(entry.room_id),
                moderation_actions::action.eq(entry.action.as_str()),
                moderation_actions::actor_id.eq(entry.actor),
                moderation_actions::target_id.eq(entry.target),
                moderation_actions::reason.eq(entry.reason.filter(|r| !r.is_empty())),
                moderation_actions::detail.eq(&entry.detail),
                moderation_actions::at.eq(now),
            ))
            .execute(c))?;
        Ok(())
    }

    /// A room's log, newest first, before the entry `before` when given.
    pub fn page(conn: &mut DbConn, room_id: RoomId, before: Option<i64>, limit: usize) -> DbResult<Vec<LoggedAction>> {
        type Row = (i64, String, UserId, Option<UserId>, Option<String>, Option<String>, NaiveDateTime);
        let rows: Vec<Row> = db_run!(conn, |c| {
            let mut query = moderation_actions::table
                .filter(moderation_actions::room_id.eq(room_id))
                .order(moderation_actions::id.desc())
                .limit(limit as i64)
                .select((
                    moderation_actions::id,
                    moderation_actions::action,
                    moderation_actions::actor_id,
                    moderation_actions::target_id,
                    moderation_actions::reason,
                    moderation_actions::detail,
                    moderation_actions::at,
                ))
                .into_boxed();
            if let Some(before) = before {
                query = query.filter(moderation_actions::id.lt(before));
            }
            query.load(c)
        })?;
        let ids: Vec<UserId> = rows.iter().flat_map(|r| std::iter::once(r.2).chain(r.3)).collect();
        let names = nicknames(conn, &ids)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, action, actor, target, reason, detail, at)| {
                Some(LoggedAction {
                    id,
                    action: ActionKind::parse(&action)?,
                    actor: names.user(actor),
                    target: target.map(|t| names.user(t)),
                    at,
                    reason,
                    detail,
                })
            })
            .collect())
    }
}

/// Some users as others see them, to show them.
struct Nicknames(HashMap<UserId, PublicUser>);

impl Nicknames {
    fn user(&self, id: UserId) -> PublicUser {
        self.0.get(&id).cloned().unwrap_or(PublicUser { id, nickname: String::new(), avatar_url: None })
    }
}

fn nicknames(conn: &mut DbConn, ids: &[UserId]) -> DbResult<Nicknames> {
    Ok(Nicknames(super::user::User::shown_many(conn, ids)?))
}
