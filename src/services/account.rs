//! Your account (docs/protocol.md, "Your account"): the nickname, the password, the
//! avatar, deleting the account and taking its data along. The pages and the JSON API
//! both call these.

use actix_web::HttpRequest;
use serde::Serialize;

use super::accounts::authenticate;
use crate::auth::CurrentUser;
use crate::chat::room::{EndUser, UserChanged};
use crate::errors::{off_workers, AppError};
use crate::models::avatar::Avatar;
use crate::models::message::Message;
use crate::models::room::{Room, RoomSummary};
use crate::models::session::SessionRecord;
use crate::models::user::{PublicUser, Taken, User};
use crate::models::{now, rfc3339, validate};
use crate::state::AppState;

/// The account as stored now; a session whose account went away is no session.
async fn account(state: &AppState, user: &CurrentUser) -> Result<User, AppError> {
    let id = user.id;
    state.db.run(move |c| User::find(c, id)).await?.ok_or(AppError::Unauthorized)
}

/// Tells the rooms where the user is present, on every node, who they are now.
async fn announce(state: &AppState, user: PublicUser) -> Result<(), AppError> {
    state.hub.send(UserChanged { user }).await.map_err(|_| AppError::Unavailable)
}

/// Checks the account's password under the login throttle: a wrong one counts as a
/// failed login, and is refused with 403 (`what` says which password).
async fn check_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    password: &str,
    what: &str,
) -> Result<User, AppError> {
    let account = account(state, user).await?;
    match authenticate(state, req, &account.phone, password).await {
        Ok(_) => Ok(account),
        Err(AppError::BadCredentials) => Err(AppError::Forbidden(format!("the {what} is wrong"))),
        Err(e) => Err(e),
    }
}

/// Renames the user (the registration rules: NFC, no control or format characters, not
/// taken, not a look-alike of a taken one). The user as others see them now.
pub async fn change_nickname(state: &AppState, user: &CurrentUser, input: &str) -> Result<PublicUser, AppError> {
    let nickname = validate::nickname(input).map_err(|e| AppError::Invalid(e.into()))?;
    let skeleton = validate::nickname_skeleton(&nickname);
    let id = user.id;
    let renamed = state
        .db
        .run(move |c| {
            let renamed = User::rename(c, id, &nickname, &skeleton)?;
            Ok(renamed.map(|()| User::find(c, id)))
        })
        .await?;
    let account = match renamed {
        Ok(found) => found?.ok_or(AppError::Unauthorized)?,
        Err(Taken::Nickname | Taken::Phone) => {
            return Err(AppError::Conflict("this nickname is taken; choose another".into()))
        }
    };
    let shown = account.public();
    if shown.nickname != user.nickname {
        announce(state, shown.clone()).await?;
    }
    Ok(shown)
}

/// Changes the password: the current one is needed (a wrong one counts as a failed
/// login). Every other session of the user ends, its sockets and streams closing on
/// every node before this returns; this one stays.
pub async fn change_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    validate::password(new).map_err(|e| AppError::Invalid(e.into()))?;
    check_password(state, req, user, current, "current password").await?;
    let cost = state.config.bcrypt_cost;
    let new = new.to_owned();
    let hash = off_workers(move || bcrypt::hash(new, cost)).await?.map_err(|e| {
        tracing::error!(error = %e, "bcrypt failed");
        AppError::Unavailable
    })?;
    let (id, keep) = (user.id, user.login_id.clone());
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| {
                User::set_password_hash(c, id, &hash)?;
                SessionRecord::delete_for_user(c, id, Some(&keep))?;
                Ok(())
            })
        })
        .await?;
    tracing::info!(user_id = %id, "password changed; other sessions ended");
    let except_login = Some(user.login_id.clone());
    state.hub.send(EndUser { user_id: id, except_login }).await.map_err(|_| AppError::Unavailable)
}

/// Makes the upload the user's avatar (see `services::avatars`): 422 for what is not a
/// picture or is too big. The user as others see them now.
pub async fn set_avatar(state: &AppState, user: &CurrentUser, upload: bytes::Bytes) -> Result<PublicUser, AppError> {
    let picture = off_workers(move || super::avatars::process(&upload))
        .await?
        .map_err(|refused| AppError::Invalid(refused.to_string()))?;
    let id = user.id;
    let account = state
        .db
        .run(move |c| {
            Avatar::put(c, id, &picture, now())?;
            User::find(c, id)
        })
        .await?
        .ok_or(AppError::Unauthorized)?;
    let shown = account.public();
    announce(state, shown.clone()).await?;
    Ok(shown)
}

/// Back to initials.
pub async fn remove_avatar(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    let id = user.id;
    let removed = state.db.run(move |c| Avatar::remove(c, id)).await?;
    if removed {
        announce(state, PublicUser { avatar_url: None, ..user.public() }).await?;
    }
    Ok(())
}

/// A stored avatar, for serving: `None` when the user has no picture of this version
/// (their URL changed since).
pub async fn avatar(state: &AppState, user_id: crate::ids::UserId, version: &str) -> Result<Option<Avatar>, AppError> {
    let version = version.to_owned();
    Ok(state.db.run(move |c| Avatar::find(c, user_id, &version)).await?)
}

/// Deletes the account (its password confirms it; a wrong one counts as a failed
/// login): in one transaction its phone number and password hash are erased, its
/// nickname freed, its picture, memberships and sessions deleted; its messages stay,
/// signed "Deleted user". Its sockets and streams close on every node.
pub async fn delete_account(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    password: &str,
) -> Result<(), AppError> {
    check_password(state, req, user, password, "password").await?;
    let id = user.id;
    state.db.run(move |c| User::erase(c, id, now())).await?;
    tracing::info!(user_id = %id, "account deleted");
    // Pages open on its rooms show its messages as a deleted user's at once.
    announce(state, PublicUser::shown(id, "", None, true)).await?;
    state.hub.send(EndUser { user_id: id, except_login: None }).await.map_err(|_| AppError::Unavailable)
}

/// The profile part of an export: the account as its owner sees it.
#[derive(Serialize)]
struct Profile {
    id: crate::ids::UserId,
    nickname: String,
    phone: String,
    avatar_url: Option<String>,
    created_at: String,
}

/// Messages read per query while exporting.
const EXPORT_PAGE: usize = 1000;

/// Everything the server keeps about the user, as one JSON document: the profile, the
/// rooms they are in (as the room list shows them), and every message they wrote, in
/// order, in its current state.
pub async fn export(state: &AppState, user: &CurrentUser) -> Result<String, AppError> {
    let id = user.id;
    state
        .db
        .run(move |c| {
            let account = User::find(c, id)?.ok_or(diesel::result::Error::NotFound)?;
            let shown = account.public();
            let profile = Profile {
                id,
                nickname: shown.nickname,
                phone: account.phone.clone(),
                avatar_url: shown.avatar_url,
                created_at: rfc3339(&account.created_at),
            };
            let rooms: Vec<RoomSummary> = Room::list_for(c, id)?.into_iter().filter(|r| r.role.is_some()).collect();
            let mut out = String::from(r#"{"profile":"#);
            out.push_str(&serde_json::to_string(&profile).expect("a profile serializes"));
            out.push_str(r#","rooms":"#);
            out.push_str(&serde_json::to_string(&rooms).expect("rooms serialize"));
            out.push_str(r#","messages":["#);
            let mut after = crate::ids::MessageId::NONE;
            let mut first = true;
            loop {
                let page = Message::written_by(c, id, after, EXPORT_PAGE)?;
                for (message, room) in &page {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&serde_json::to_string(&message.view(room)).expect("messages serialize"));
                }
                match page.last() {
                    Some((last, _)) if page.len() == EXPORT_PAGE => after = last.id,
                    _ => break,
                }
            }
            out.push_str("]}");
            Ok(out)
        })
        .await
        .map_err(AppError::from)
}
