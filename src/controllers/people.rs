//! Finding people (docs/protocol.md, "Finding people"): `GET /api/users?q=`, the
//! suggestions of "Message someone" as a nickname is typed. Nicknames only, never a
//! phone number, for logged-in users, at the pace of a person typing.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::errors::{AppError, ErrorBody};
use crate::models::user::{PublicUser, User};
use crate::models::validate::NICKNAME_MAX_CHARS;
use crate::state::AppState;

/// Most people one lookup answers.
const MOST_FOUND: usize = 10;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// The start of a nickname, 1 to 32 characters, any case (trimmed).
    #[serde(default)]
    #[param(required = true, min_length = 1, max_length = 32, pattern = "\\S")]
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct People {
    /// At most 10, by nickname ignoring case; never the caller, never a deleted account.
    users: Vec<PublicUser>,
}

/// People whose nickname starts with `q`, ignoring case (a start longer than a
/// nickname can be matches nobody: 422).
#[utoipa::path(get, path = "/api/users", tag = "account", security(("session" = [])),
    params(PeopleQuery),
    responses(
        (status = 200, description = "at most 10 people", body = People),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 422, description = "an empty or too long q", body = ErrorBody),
        (status = 429, description = "looking up too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn find(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    // Normalised as nicknames are stored (models::validate::nickname): NFC.
    let prefix: String = query.q.trim().nfc().collect();
    if prefix.is_empty() {
        return Err(AppError::Invalid("q is the start of a nickname".into()));
    }
    if prefix.chars().count() > NICKNAME_MAX_CHARS {
        return Err(AppError::Invalid(format!("q is at most {NICKNAME_MAX_CHARS} characters")));
    }
    state.allow_lookup(user.id)?;
    let me = user.id;
    let found = state.db.run(move |c| User::by_nickname_prefix(c, &prefix, me, MOST_FOUND)).await?;
    Ok(HttpResponse::Ok().json(People { users: found.iter().map(User::public).collect() }))
}
