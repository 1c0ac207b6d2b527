//! Server administrators (docs/protocol.md, "Rooms"): made and unmade on the command
//! line (`chatroom admin grant|revoke <phone>`); they act as owner in every room and can
//! disable accounts.

use crate::auth::CurrentUser;
use crate::chat::room::EndUser;
use crate::db::Db;
use crate::errors::AppError;
use crate::ids::UserId;
use crate::models::session::SessionRecord;
use crate::models::user::User;
use crate::models::{now, validate};
use crate::state::AppState;

/// Makes the account of this phone number an administrator (`admin`) or no longer one.
/// The message says what was done, or why not.
pub fn grant(db: &Db, phone: &str, region: phonenumber::country::Id, admin: bool) -> Result<String, String> {
    let phone = validate::normalize_phone(phone, region).map_err(|e| format!("{phone:?}: {e}"))?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    match User::set_admin(&mut conn, &phone, admin).map_err(|e| e.to_string())? {
        Some(user) if admin => Ok(format!("{} ({phone}) is an administrator", user.nickname)),
        Some(user) => Ok(format!("{} ({phone}) is no longer an administrator", user.nickname)),
        None => Err(format!("nobody is registered with {phone}")),
    }
}

async fn require_admin(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    let id = user.id;
    match state.db.run(move |c| User::find(c, id)).await? {
        Some(found) if found.is_admin => Ok(()),
        _ => Err(AppError::Forbidden("only a server administrator may do this".into())),
    }
}

/// Disables an account: its sessions end and its sockets and streams close on every
/// node before this returns; logging in is refused with the usual generic message.
pub async fn disable(state: &AppState, user: &CurrentUser, target: UserId) -> Result<(), AppError> {
    require_admin(state, user).await?;
    if target == user.id {
        return Err(AppError::Forbidden("you cannot disable your own account".into()));
    }
    let found = state
        .db
        .run(move |c| {
            let found = User::set_disabled(c, target, Some(now()))?;
            if found {
                SessionRecord::delete_for_user(c, target, None)?;
            }
            Ok(found)
        })
        .await?;
    if !found {
        return Err(AppError::NotFound("there is no such user".into()));
    }
    tracing::info!(user_id = %target, by = %user.id, "account disabled");
    state.hub.send(EndUser { user_id: target, except_login: None }).await.map_err(|_| AppError::Unavailable)
}

pub async fn enable(state: &AppState, user: &CurrentUser, target: UserId) -> Result<(), AppError> {
    require_admin(state, user).await?;
    if !state.db.run(move |c| User::set_disabled(c, target, None)).await? {
        return Err(AppError::NotFound("there is no such user".into()));
    }
    tracing::info!(user_id = %target, by = %user.id, "account enabled");
    Ok(())
}

/// Whether the user is an administrator (the pages show them the moderation menu
/// everywhere).
pub async fn is_admin(state: &AppState, user: &CurrentUser) -> Result<bool, AppError> {
    let id = user.id;
    Ok(state.db.run(move |c| User::find(c, id)).await?.is_some_and(|u| u.is_admin))
}
