//! Your account over the JSON API (docs/protocol.md, "Your account"): the nickname,
//! the password, the avatar, deleting the account and exporting its data; and the
//! avatars themselves, served with a validator and for good (their URL changes with
//! the picture).

use actix_session::Session;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::ToSchema;

use super::api::UserEnvelope;
use crate::auth::{self, CurrentUser};
use crate::errors::{AppError, ErrorBody};
use crate::ids::UserId;
use crate::services::account;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NicknameRequest {
    /// 1 to 32 characters (after trimming and NFC), no control or format characters.
    #[schema(min_length = 1, max_length = 32)]
    pub nickname: String,
}

/// Changes the nickname; rooms where you are present get a `user` frame.
#[utoipa::path(patch, path = "/api/me", tag = "account", security(("session" = [])), request_body = NicknameRequest,
    responses(
        (status = 200, description = "the user with the new nickname", body = UserEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 409, description = "taken, or too like a taken one", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "not a valid nickname", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn change_nickname(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<NicknameRequest>,
) -> Result<HttpResponse, AppError> {
    let user = account::change_nickname(&state, &user, &body.nickname).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordRequest {
    pub current: String,
    /// 8 to 72 bytes.
    #[schema(min_length = 8)]
    pub new: String,
}

/// Changes the password: every other session ends (its sockets and streams close).
#[utoipa::path(post, path = "/api/me/password", tag = "account", security(("session" = [])), request_body = PasswordRequest,
    responses(
        (status = 204, description = "changed; this session stays"),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "the current password is wrong (a failed login)", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "the new password is too short or too long", body = ErrorBody),
        (status = 429, description = "too many failed logins", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    body: web::Json<PasswordRequest>,
) -> Result<HttpResponse, AppError> {
    account::change_password(&state, &req, &user, &body.current, &body.new).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A size in megabytes as people write it: "2 MB", "1.5 MB".
fn megabytes(bytes: usize) -> String {
    let mb = bytes as f64 / 1_048_576.0;
    if (mb - mb.round()).abs() < 0.05 {
        format!("{} MB", mb.round())
    } else {
        format!("{mb:.1} MB")
    }
}

/// Reads an upload's body up to `limit` bytes: 413 beyond (at once, when the declared
/// length says so), 400 when there is none.
pub async fn read_upload(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let too_large = || AppError::TooLarge(format!("a picture is at most {}", megabytes(limit)));
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(64 * 1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("the upload broke off".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(AppError::BadRequest("send the picture as the request body".into()));
    }
    Ok(body.freeze())
}

/// Sets your avatar from a PNG, JPEG, GIF or WebP body, stored as a 256×256 square.
#[utoipa::path(put, path = "/api/me/avatar", tag = "account", security(("session" = [])),
    request_body(content = Vec<u8>, content_type = "image/*", description = "the picture, at most max_avatar_bytes"),
    responses(
        (status = 200, description = "the user with the new avatar_url", body = UserEnvelope),
        (status = 400, description = "no body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 413, description = "over max_avatar_bytes", body = ErrorBody),
        (status = 415, description = "the Content-Type is not image/*", body = ErrorBody),
        (status = 422, description = "not a picture, damaged, or over 4096×4096", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn put_avatar(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let upload = read_upload(&req, payload, state.limits.max_avatar_bytes).await?;
    if !content_type.trim().to_ascii_lowercase().starts_with("image/") {
        return Err(AppError::WrongMediaType("send the picture with a Content-Type of image/*".into()));
    }
    let user = account::set_avatar(&state, &user, upload).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user }))
}

/// Removes your avatar (initials again).
#[utoipa::path(delete, path = "/api/me/avatar", tag = "account", security(("session" = [])),
    responses(
        (status = 204, description = "no avatar"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn delete_avatar(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    account::remove_avatar(&state, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteAccountRequest {
    pub password: String,
}

/// Deletes your account; your messages stay, signed "Deleted user".
#[utoipa::path(delete, path = "/api/me", tag = "account", security(("session" = [])), request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "deleted; every session has ended"),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "the password is wrong (a failed login)", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 429, description = "too many failed logins", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn delete_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    user: CurrentUser,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, AppError> {
    account::delete_account(&state, &req, &user, &body.password).await?;
    auth::log_out(&session);
    Ok(HttpResponse::NoContent().finish())
}

/// Everything the server keeps about you, as one JSON download.
#[utoipa::path(get, path = "/api/me/export", tag = "account", security(("session" = [])),
    responses(
        (status = 200, description = "{profile, rooms, messages}, as an attachment", content_type = "application/json", body = serde_json::Value),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn export(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let document = account::export(&state, &user).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"chatroom-export.json\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(document))
}

/// An avatar: cached for good (its URL names its version), validated by its version.
pub async fn avatar(
    state: web::Data<AppState>,
    req: HttpRequest,
    _user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (user_id, version) = path.into_inner();
    let missing = || AppError::NotFound("there is no such picture".into());
    let user_id = user_id.parse::<i64>().map(UserId).map_err(|_| missing())?;
    if version.is_empty() || version.len() > 32 || !version.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let etag = format!("\"{version}\"");
    let cache = (header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let picture = account::avatar(&state, user_id, &version).await?.ok_or_else(missing)?;
    if matches {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).insert_header(cache).finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(picture.content_type)
        .insert_header((header::ETAG, etag))
        .insert_header(cache)
        .body(picture.data))
}
