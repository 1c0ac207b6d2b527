//! Moderating a room over the JSON API (docs/protocol.md, "Rooms"): the room itself
//! (its topic, deleting it), mutes, bans and the moderation log. The rules and their
//! effects live in `services::moderation`; every handler first asks whether the room
//! is there for the caller, so that an outsider of a private room learns nothing, not
//! even from a malformed body.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::{optional_whole_number, whole_number, RoomEnvelope};
use crate::auth::CurrentUser;
use crate::errors::{AppError, ErrorBody};
use crate::ids::UserId;
use crate::models::moderation::{LoggedAction, Sanction, SanctionKind};
use crate::services::{moderation, rooms};
use crate::state::AppState;

/// A user id from the path: anything but a number names nobody.
fn user_in_path(text: &str) -> Result<UserId, AppError> {
    text.parse::<i64>().map(UserId).map_err(|_| AppError::NotFound("there is no such user".into()))
}

/// The room as the caller sees it.
#[utoipa::path(get, path = "/api/rooms/{name}", tag = "rooms", security(("session" = [])),
    params(("name" = String, Path, description = "the room")),
    responses(
        (status = 200, description = "the room object", body = RoomEnvelope),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "banned from the room", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn get_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let room = rooms::room_for(&state, &name, &user).await?;
    let title = rooms::title_for(&state, &room, &user).await?;
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: rooms::describe(&state, room, title, &user).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TopicRequest {
    /// Up to 200 characters, one line; empty for none.
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub topic: String,
}

/// Sets the room's topic (owner, moderators); everyone in it gets a `room` frame.
#[utoipa::path(patch, path = "/api/rooms/{name}", tag = "rooms", security(("session" = [])),
    params(("name" = String, Path, description = "the room")), request_body = TopicRequest,
    responses(
        (status = 200, description = "the room with its new topic", body = RoomEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "a topic over 200 characters or with control characters", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn set_topic(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<TopicRequest>,
) -> Result<HttpResponse, AppError> {
    rooms::room_for(&state, &name, &user).await?;
    let room = moderation::set_topic(&state, &user, &name, &body.topic).await?;
    Ok(HttpResponse::Ok().json(RoomEnvelope { room }))
}

/// Deletes the room and everything in it (the owner); everyone in it gets `removed`.
#[utoipa::path(delete, path = "/api/rooms/{name}", tag = "rooms", security(("session" = [])),
    params(("name" = String, Path, description = "the room")),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not the owner, or the lobby, or a direct room", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn delete_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    moderation::delete_room(&state, &user, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MuteRequest {
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1)]
    pub user_id: i64,
    /// 1 to 43200 (30 days).
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 43200)]
    pub minutes: i64,
    /// Why, for the moderation log (up to 200 characters).
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub reason: Option<String>,
}

/// Mutes someone in the room: their sends, edits and reactions are refused until then.
#[utoipa::path(post, path = "/api/rooms/{name}/mutes", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room")), request_body = MuteRequest,
    responses(
        (status = 204, description = "muted"),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not a moderator, or a target above them", body = ErrorBody),
        (status = 404, description = "no such room or user", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "minutes out of range, or a bad reason", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn mute(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<MuteRequest>,
) -> Result<HttpResponse, AppError> {
    rooms::room_for(&state, &name, &user).await?;
    let MuteRequest { user_id, minutes, reason } = body.into_inner();
    moderation::mute(&state, &user, &name, UserId(user_id), minutes, reason).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts a mute (204 also when there was none).
#[utoipa::path(delete, path = "/api/rooms/{name}/mutes/{user_id}", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("user_id" = i64, Path, description = "the muted user")),
    responses(
        (status = 204, description = "not muted"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not a moderator, or a target above them", body = ErrorBody),
        (status = 404, description = "no such room or user", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn unmute(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, target) = path.into_inner();
    rooms::room_for(&state, &name, &user).await?;
    moderation::unmute(&state, &user, &name, user_in_path(&target)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BanRequest {
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1)]
    pub user_id: i64,
    /// Why: shown to the banned user in their `removed` frame, and kept in the log.
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub reason: Option<String>,
    /// For how long (1 to 525600, a year); absent: until lifted.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 525600)]
    pub minutes: Option<i64>,
}

/// Bans someone from the room: their connections there get `removed`, and everything
/// about the room answers them 403 until the ban is lifted.
#[utoipa::path(post, path = "/api/rooms/{name}/bans", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room")), request_body = BanRequest,
    responses(
        (status = 204, description = "banned"),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not a moderator, or a target above them", body = ErrorBody),
        (status = 404, description = "no such room or user", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "minutes out of range, or a bad reason", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn ban(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<BanRequest>,
) -> Result<HttpResponse, AppError> {
    rooms::room_for(&state, &name, &user).await?;
    let BanRequest { user_id, reason, minutes } = body.into_inner();
    moderation::ban(&state, &user, &name, UserId(user_id), reason, minutes).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts a ban (204 also when there was none); the user may join again (a private
/// room needs a new invite).
#[utoipa::path(delete, path = "/api/rooms/{name}/bans/{user_id}", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("user_id" = i64, Path, description = "the banned user")),
    responses(
        (status = 204, description = "not banned"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not a moderator, or a target above them", body = ErrorBody),
        (status = 404, description = "no such room or user", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn unban(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, target) = path.into_inner();
    rooms::room_for(&state, &name, &user).await?;
    moderation::unban(&state, &user, &name, user_in_path(&target)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct SanctionList {
    /// Latest first.
    sanctions: Vec<Sanction>,
}

async fn sanctions(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    kind: SanctionKind,
) -> Result<HttpResponse, AppError> {
    rooms::room_for(state, name, user).await?;
    let sanctions = moderation::sanctions(state, user, name, kind).await?;
    Ok(HttpResponse::Ok().json(SanctionList { sanctions }))
}

/// Who is muted in the room now, and until when (owner, moderators).
#[utoipa::path(get, path = "/api/rooms/{name}/mutes", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room")),
    responses(
        (status = 200, description = "the mutes in force", body = SanctionList),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn list_mutes(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    sanctions(&state, &user, &name, SanctionKind::Mute).await
}

/// Who is banned from the room now (owner, moderators).
#[utoipa::path(get, path = "/api/rooms/{name}/bans", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room")),
    responses(
        (status = 200, description = "the bans in force", body = SanctionList),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn list_bans(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    sanctions(&state, &user, &name, SanctionKind::Ban).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Entries before this id (the next page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// At most 100; 50 by default.
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionList {
    actions: Vec<LoggedAction>,
}

/// The room's moderation log, newest first (owner, moderators).
#[utoipa::path(get, path = "/api/rooms/{name}/moderation", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), LogQuery),
    responses(
        (status = 200, description = "newest first; `before` the last id for more", body = ActionList),
        (status = 400, description = "bad paging parameters", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn log(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    if query.before.is_some_and(|b| b < 1) || query.limit.is_some_and(|l| l < 1) {
        return Err(AppError::BadRequest("before is an entry id and limit 1 or more".into()));
    }
    let limit = query.limit.map_or(50, |l| l.min(moderation::LOG_PAGE_MAX as i64) as usize);
    let actions = moderation::log(&state, &user, &name, query.before, limit).await?;
    Ok(HttpResponse::Ok().json(ActionList { actions }))
}
