//! Accounts: registering and logging in, with the throttles that guard them.

use actix_session::Session;
use actix_web::{web, HttpRequest};

use crate::auth;
use crate::errors::{off_workers as blocking, AppError};
use crate::models::now;
use crate::models::user::{NewUser, PublicUser, Taken, User};
use crate::models::validate;
use crate::state::AppState;

/// Stores a new account unless its phone or (a look-alike of) its nickname is taken.
pub async fn create_account(
    state: &AppState,
    phone: String,
    nickname: String,
    skeleton: String,
    password: String,
) -> Result<Result<User, Taken>, AppError> {
    let taken = {
        let (phone, nickname, skeleton) = (phone.clone(), nickname.clone(), skeleton.clone());
        // A cheap look first spares a bcrypt hash; the unique keys still decide races.
        state
            .db
            .run(move |conn| {
                Ok(if User::find_by_phone(conn, &phone)?.is_some() {
                    Some(Taken::Phone)
                } else if User::nickname_taken(conn, &nickname, &skeleton)? {
                    Some(Taken::Nickname)
                } else {
                    None
                })
            })
            .await?
    };
    let created = match taken {
        Some(taken) => Err(taken),
        None => {
            let cost = state.config.bcrypt_cost;
            let hash = blocking(move || bcrypt::hash(password, cost)).await?.map_err(|e| {
                tracing::error!(error = %e, "bcrypt failed");
                AppError::Unavailable
            })?;
            state
                .db
                .run(move |conn| {
                    let new = NewUser {
                        phone: &phone,
                        nickname: &nickname,
                        nickname_skeleton: &skeleton,
                        password_hash: &hash,
                        created_at: now(),
                    };
                    User::create(conn, &new)
                })
                .await?
        }
    };
    Ok(created)
}

/// Ends the session and the WebSocket and event streams it opened.
pub fn end_session(req: &HttpRequest, session: &Session) {
    if let Some(login_id) = auth::log_out(session) {
        if let Some(state) = req.app_data::<web::Data<AppState>>() {
            state.hub.do_send(crate::chat::room::EndLogin { login_id });
        }
    }
}

/// Checks a phone and password under the login throttle. Every failure looks the same.
pub async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    phone_input: &str,
    password: &str,
) -> Result<PublicUser, AppError> {
    // The throttle key is the normalized number when there is one, so that writing the
    // same number differently does not earn more attempts.
    let phone = validate::normalize_phone(phone_input, state.region).unwrap_or_else(|_| phone_input.trim().to_owned());
    let addr = state.client_addr(req);
    let attempt =
        state.throttle.reserve(&phone, &addr).map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    let lookup_phone = phone.clone();
    let password = password.to_owned();
    let dummy_hash = state.dummy_hash.clone();
    let checked = async move {
        let user = state.db.run(move |conn| User::find_by_phone(conn, &lookup_phone)).await?;
        let hash = user.as_ref().map_or(dummy_hash, |u| u.password_hash.clone());
        let matches = blocking(move || {
            password.len() <= validate::PASSWORD_MAX_BYTES && bcrypt::verify(&password, &hash).unwrap_or(false)
        })
        .await?;
        // A disabled account is refused like a wrong password: nothing tells them apart.
        Ok::<_, AppError>(user.filter(|u| matches && u.disabled_at.is_none()))
    }
    .await;

    match checked {
        Ok(Some(user)) => {
            state.throttle.succeeded(&attempt);
            Ok(user.public())
        }
        Ok(None) => Err(AppError::BadCredentials),
        Err(e) => {
            state.throttle.release(&attempt);
            Err(e)
        }
    }
}
