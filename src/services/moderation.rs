//! Moderating a room (docs/protocol.md, "Rooms"): roles, mutes, bans, the topic,
//! deleting the room, and the log of it all. Each action is checked by
//! `crate::permissions`, written in one transaction with its log entry, and then
//! reaches the live connections on every node before the answer goes out.

use chrono::NaiveDateTime;

use crate::auth::CurrentUser;
use crate::chat::protocol::{self, to_frame, RemovedCause};
use crate::chat::room::{RemoveFromRoom, RoomFrame};
use crate::db::{DbConn, DbResult};
use crate::errors::AppError;
use crate::ids::{RoomId, UserId};
use crate::models::moderation::{
    self, ActionKind, LoggedAction, ModerationLog, NewAction, Sanction, SanctionKind, Sanctions,
};
use crate::models::now;
use crate::models::room::{Role, Room, RoomMember, RoomSummary};
use crate::models::user::{PublicUser, User};
use crate::permissions::{self, Action, Standing};
use crate::state::AppState;

use super::rooms::denied;

/// Longest a mute may be: 30 days, in minutes.
pub const MUTE_MAX_MINUTES: i64 = 43_200;
/// Longest a ban with an end may be: a year, in minutes (without one it is for good).
pub const BAN_MAX_MINUTES: i64 = 525_600;

fn no_such_user() -> AppError {
    AppError::NotFound("there is no such user".into())
}

/// The person acted on: who they are and what they are in the room.
fn target(
    conn: &mut DbConn,
    room_id: RoomId,
    user_id: UserId,
    now: NaiveDateTime,
) -> DbResult<Option<(PublicUser, Standing)>> {
    let Some(user) = User::find(conn, user_id)? else { return Ok(None) };
    Ok(Some((user.public(), moderation::standing(conn, room_id, user_id, now)?)))
}

/// Checks `action` in the room, then runs `work` on the room and what the caller is in
/// it, in one database call: the rule and the change see the same state.
async fn act<T: Send + 'static>(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    action: Action,
    work: impl FnOnce(&mut DbConn, &Room, &Standing, NaiveDateTime) -> DbResult<Result<T, AppError>> + Send + 'static,
) -> Result<(Room, T), AppError> {
    let (name, user_id) = (name.to_owned(), user.id);
    state
        .db
        .run(move |c| {
            let (room, standing) = match Room::open_for(c, &name, user_id, action)? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(denied(refusal))),
            };
            let now = now();
            Ok(work(c, &room, &standing, now)?.map(|done| (room, done)))
        })
        .await?
}

/// A moderator's action on one person: the rules of who may act on whom, then `write`
/// in a transaction with its log entry. `Ok(None)` when the person does not exist.
#[allow(clippy::too_many_arguments)]
async fn act_on(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    target_id: UserId,
    kind: ActionKind,
    reason: Option<String>,
    detail: Option<String>,
    write: impl FnOnce(&mut DbConn, &Room, NaiveDateTime) -> DbResult<bool> + Send + 'static,
) -> Result<(Room, PublicUser, bool), AppError> {
    let actor = user.id;
    let (room, (person, changed)) = act(state, user, name, Action::Moderate, move |c, room, who, now| {
        let Some((person, standing)) = target(c, room.id, target_id, now)? else { return Ok(Err(no_such_user())) };
        if let Err(refusal) = permissions::may_act_on(who, &standing) {
            return Ok(Err(denied(refusal)));
        }
        let room_id = room.id;
        let changed = c.write_transaction(|c| {
            let changed = write(c, room, now)?;
            if changed {
                let entry = NewAction {
                    room_id,
                    action: kind,
                    actor,
                    target: Some(target_id),
                    reason: reason.as_deref(),
                    detail,
                };
                ModerationLog::record(c, entry, now)?;
            }
            Ok(changed)
        })?;
        Ok(Ok((person, changed)))
    })
    .await?;
    Ok((room, person, changed))
}

/// Mutes a member for `minutes`: their sends, edits and reactions are refused until
/// then, on every node (the writer checks), and their connections are told.
pub async fn mute(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    target_id: UserId,
    minutes: i64,
    reason: Option<String>,
) -> Result<(), AppError> {
    if !(1..=MUTE_MAX_MINUTES).contains(&minutes) {
        return Err(AppError::Invalid(format!("minutes must be 1 to {MUTE_MAX_MINUTES}")));
    }
    let until = now() + chrono::Duration::minutes(minutes);
    let reason = reason_of(reason)?;
    let detail = Some(crate::models::rfc3339(&until));
    let by = user.id;
    let stored_reason = reason.clone().unwrap_or_default();
    let (room, _, _) = act_on(state, user, name, target_id, ActionKind::Mute, reason, detail, move |c, room, now| {
        Sanctions::put(c, room.id, target_id, SanctionKind::Mute, Some(until), &stored_reason, by, now)?;
        Ok(true)
    })
    .await?;
    let text = protocol::muted_frame(&room.name, Some(&until));
    state
        .hub
        .send(RoomFrame { room_id: room.id, text, only_user: Some(target_id) })
        .await
        .map_err(|_| AppError::Unavailable)
}

pub async fn unmute(state: &AppState, user: &CurrentUser, name: &str, target_id: UserId) -> Result<(), AppError> {
    let (room, _, lifted) = act_on(state, user, name, target_id, ActionKind::Unmute, None, None, move |c, room, _| {
        Sanctions::lift(c, room.id, target_id, SanctionKind::Mute)
    })
    .await?;
    if lifted {
        let text = protocol::muted_frame(&room.name, None);
        state
            .hub
            .send(RoomFrame { room_id: room.id, text, only_user: Some(target_id) })
            .await
            .map_err(|_| AppError::Unavailable)?;
    }
    Ok(())
}

/// Bans someone from the room (for `minutes`, or for good): they stop being a member,
/// their connections in the room get `removed` and leave it, on every node, and
/// everything about the room answers them 403 until the ban is lifted.
pub async fn ban(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    target_id: UserId,
    reason: Option<String>,
    minutes: Option<i64>,
) -> Result<(), AppError> {
    if minutes.is_some_and(|m| !(1..=BAN_MAX_MINUTES).contains(&m)) {
        return Err(AppError::Invalid(format!("minutes must be 1 to {BAN_MAX_MINUTES}, or absent for good")));
    }
    let reason = reason_of(reason)?;
    let until = minutes.map(|m| now() + chrono::Duration::minutes(m));
    let detail = until.as_ref().map(crate::models::rfc3339);
    let by = user.id;
    let stored_reason = reason.clone().unwrap_or_default();
    let (room, _, _) =
        act_on(state, user, name, target_id, ActionKind::Ban, reason.clone(), detail, move |c, room, now| {
            Sanctions::put(c, room.id, target_id, SanctionKind::Ban, until, &stored_reason, by, now)?;
            RoomMember::remove(c, room.id, target_id)?;
            Ok(true)
        })
        .await?;
    // No reason given: null, and the client words it.
    let text = protocol::removed_frame(&room.name, reason.as_deref(), RemovedCause::Banned);
    state
        .hub
        .send(RemoveFromRoom { room_id: room.id, user_id: Some(target_id), text, forget: false })
        .await
        .map_err(|_| AppError::Unavailable)
}

pub async fn unban(state: &AppState, user: &CurrentUser, name: &str, target_id: UserId) -> Result<(), AppError> {
    act_on(state, user, name, target_id, ActionKind::Unban, None, None, move |c, room, _| {
        Sanctions::lift(c, room.id, target_id, SanctionKind::Ban)
    })
    .await?;
    Ok(())
}

fn reason_of(reason: Option<String>) -> Result<Option<String>, AppError> {
    match reason {
        None => Ok(None),
        Some(reason) => {
            let reason = crate::models::validate::short_text(&reason, "reason").map_err(AppError::Invalid)?;
            Ok((!reason.is_empty()).then(|| reason.to_owned()))
        }
    }
}

/// Makes a member a moderator, or a moderator a member again (the owner, or an
/// administrator); the room hears of it as a `role` frame on every node.
pub async fn set_role(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    target_id: UserId,
    role: Role,
) -> Result<(), AppError> {
    let actor = user.id;
    let (room, changed) = act(state, user, name, Action::GiveRoles, move |c, room, _, now| {
        let Some((person, standing)) = target(c, room.id, target_id, now)? else {
            return Ok(Err(no_such_member()));
        };
        if let Err(refusal) = permissions::may_give_role_to(&standing) {
            return Ok(Err(match refusal {
                permissions::Denied::Missing => no_such_member(),
                refusal => denied(refusal),
            }));
        }
        let room_id = room.id;
        let changed = c.write_transaction(|c| {
            let changed = RoomMember::set_role(c, room_id, target_id, role)?;
            if changed {
                let action = if role == Role::Moderator { ActionKind::MakeModerator } else { ActionKind::MakeMember };
                let entry = NewAction { room_id, action, actor, target: Some(target_id), reason: None, detail: None };
                ModerationLog::record(c, entry, now)?;
            }
            Ok(changed)
        })?;
        Ok(Ok(changed.then_some(person)))
    })
    .await?;
    if let Some(member) = changed {
        #[derive(serde::Serialize)]
        struct RoleFrame<'a> {
            r#type: &'static str,
            room: &'a str,
            user: &'a PublicUser,
            role: Role,
        }
        let text = to_frame(&RoleFrame { r#type: "role", room: &room.name, user: &member, role });
        state
            .hub
            .send(RoomFrame { room_id: room.id, text, only_user: None })
            .await
            .map_err(|_| AppError::Unavailable)?;
    }
    Ok(())
}

fn no_such_member() -> AppError {
    AppError::NotFound("there is no such member of this room".into())
}

/// Sets the topic (owner, moderators, administrators); everyone in the room gets the
/// room object in a `room` frame. The room as the caller sees it.
pub async fn set_topic(state: &AppState, user: &CurrentUser, name: &str, topic: &str) -> Result<RoomSummary, AppError> {
    let topic = crate::models::validate::short_text(topic, "topic").map_err(AppError::Invalid)?.to_owned();
    let actor = user.id;
    let new_topic = topic.clone();
    let (room, changed) = act(state, user, name, Action::SetTopic, move |c, room, _, now| {
        let room_id = room.id;
        let changed = c.write_transaction(|c| {
            let changed = Room::set_topic(c, room_id, &new_topic)?;
            if changed {
                let entry = NewAction {
                    room_id,
                    action: ActionKind::Topic,
                    actor,
                    target: None,
                    reason: None,
                    detail: Some(new_topic.clone()),
                };
                ModerationLog::record(c, entry, now)?;
            }
            Ok(changed)
        })?;
        Ok(Ok(changed))
    })
    .await?;
    let room = Room { topic, ..room };
    let title = room.name.clone();
    let summary = super::rooms::describe(state, room.clone(), title, user).await?;
    if changed {
        let text = protocol::room_frame(&summary);
        state
            .hub
            .send(RoomFrame { room_id: room.id, text, only_user: None })
            .await
            .map_err(|_| AppError::Unavailable)?;
    }
    Ok(summary)
}

/// Deletes the room (its owner, or an administrator): everyone in it gets `removed`
/// on every node, and its name is free again.
pub async fn delete_room(state: &AppState, user: &CurrentUser, name: &str) -> Result<(), AppError> {
    let (room, ()) = act(state, user, name, Action::DeleteRoom, |c, room, _, _| {
        Room::delete(c, room.id)?;
        Ok(Ok(()))
    })
    .await?;
    tracing::info!(room = %room.name, by = %user.id, "room deleted");
    let text = protocol::removed_frame(&room.name, Some("the room was deleted"), RemovedCause::Deleted);
    state
        .hub
        .send(RemoveFromRoom { room_id: room.id, user_id: None, text, forget: true })
        .await
        .map_err(|_| AppError::Unavailable)
}

/// Most log entries in one page.
pub const LOG_PAGE_MAX: usize = 100;

/// The room's moderation log, newest first (owner, moderators, administrators).
pub async fn log(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<LoggedAction>, AppError> {
    let limit = limit.clamp(1, LOG_PAGE_MAX);
    let (_, actions) = act(state, user, name, Action::ReadModerationLog, move |c, room, _, _| {
        Ok(Ok(ModerationLog::page(c, room.id, before, limit)?))
    })
    .await?;
    Ok(actions)
}

/// Who is banned from, or muted in, the room now (owner, moderators, administrators).
pub async fn sanctions(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    kind: SanctionKind,
) -> Result<Vec<Sanction>, AppError> {
    let (_, list) = act(state, user, name, Action::Moderate, move |c, room, _, now| {
        Ok(Ok(Sanctions::list(c, room.id, kind, now)?))
    })
    .await?;
    Ok(list)
}
