//! The JSON API (docs/protocol.md): the same session cookie as the pages, errors as JSON.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{self, CurrentUser};
use crate::chat::room::{PostMessage, ReadMoved};
use crate::errors::{AppError, ErrorBody};
use crate::ids::MessageId;
use crate::models::message::{Message, MessageView, Page};
use crate::models::room::{Room, RoomMember, RoomSummary};
use crate::models::user::PublicUser;
use crate::models::validate;
use crate::services::accounts::{authenticate, end_session};
use crate::services::rooms;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub phone: String,
    pub password: String,
}

/// The user, as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct UserEnvelope {
    pub user: PublicUser,
}

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct RoomEnvelope {
    pub room: RoomSummary,
}

#[derive(Serialize, ToSchema)]
#[schema(bound = "")]
pub struct MessageEnvelope<'a> {
    pub message: MessageView<'a>,
}

/// Logs in: the session cookie comes with the answer.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, description = "logged in", body = UserEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "wrong phone number or password", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 429, description = "too many failed logins", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn create_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let user = authenticate(&state, &req, &body.phone, &body.password).await?;
    auth::log_in(&session, &user)?;
    Ok(HttpResponse::Ok().json(UserEnvelope { user }))
}

/// Logs out: the session ends, with the sockets and streams it opened.
#[utoipa::path(delete, path = "/api/session", tag = "session", security(("session" = [])),
    responses(
        (status = 204, description = "logged out"),
        (status = 401, description = "not logged in", body = ErrorBody),
    ))]
pub async fn delete_session(req: HttpRequest, session: Session, _user: CurrentUser) -> HttpResponse {
    end_session(&req, &session);
    HttpResponse::NoContent().finish()
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/me", tag = "session", security(("session" = [])),
    responses(
        (status = 200, description = "the logged-in user", body = UserEnvelope),
        (status = 401, description = "not logged in", body = ErrorBody),
    ))]
pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(UserEnvelope { user: user.public() })
}

/// Turns the extractors' own refusals into docs/protocol.md's JSON errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, req| {
        use actix_web::error::JsonPayloadError;
        match err {
            // An empty body needs no Content-Type (docs/protocol.md): where the route
            // wants one, the body is what is missing.
            JsonPayloadError::ContentType if has_empty_body(req) => {
                AppError::BadRequest("this request needs a JSON body".into())
            }
            JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                AppError::TooLarge("the request body is too large".into())
            }
            err => AppError::BadRequest(format!("invalid JSON body: {err}")),
        }
        .into()
    })
}

/// A JSON body that may be left out entirely (every field has a default): an empty
/// body is `None`, anything else must be JSON like any other body.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        if has_empty_body(req) {
            return Box::pin(std::future::ready(Ok(OptionalJson(None))));
        }
        // Read as a value first: serde would also take a struct from a JSON array.
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if !value.is_object() {
                return Err(AppError::BadRequest("the body must be a JSON object".into()).into());
            }
            let body =
                serde_json::from_value(value).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))?;
            Ok(OptionalJson(Some(body)))
        })
    }
}

/// No body at all: no `Content-Length` (and no chunked body), or a length of 0.
fn has_empty_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if headers.contains_key(actix_web::http::header::TRANSFER_ENCODING) {
        return false;
    }
    headers.get(actix_web::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == "0")
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| AppError::BadRequest(format!("invalid query string: {err}")).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| AppError::BadRequest(format!("invalid path: {err}")).into())
}

// ---- rooms and messages ----

/// Every public room and the user's direct rooms, with unread counts.
#[utoipa::path(get, path = "/api/rooms", tag = "rooms", security(("session" = [])),
    responses(
        (status = 200, description = "the rooms", body = RoomList),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn list_rooms(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let rooms = state.db.run(move |c| Room::list_for(c, user_id)).await?;
    Ok(HttpResponse::Ok().json(RoomList { rooms }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomRequest {
    /// Lowercase letters, digits, `-` and `_`; `dm-<n>-<n>` is kept for direct rooms.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub name: String,
    /// Seen, read and joined by its members only.
    #[serde(default)]
    pub private: bool,
}

/// Creates a public or private room, owned by the caller.
#[utoipa::path(post, path = "/api/rooms", tag = "rooms", security(("session" = [])), request_body = CreateRoomRequest,
    responses(
        (status = 201, description = "created", body = RoomEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 409, description = "the name is taken", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "not a valid room name", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn create_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateRoomRequest>,
) -> Result<HttpResponse, AppError> {
    let room = rooms::create_room(&state, body.name.trim(), body.private, &user).await?;
    let title = room.name.clone();
    Ok(HttpResponse::Created().json(RoomEnvelope { room: rooms::describe(&state, room, title, &user).await? }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this id (older history).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Messages after this id (catching up), up to `before` when both are given.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, at most `history_max` (larger values are clamped).
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// A page size from `limit=`: `default` without one, clamped to `max`, 400 below 1.
pub(crate) fn page_size(limit: Option<i64>, default: usize, max: usize) -> Result<usize, AppError> {
    match limit {
        None => Ok(default),
        Some(l) if l < 1 => Err(AppError::BadRequest("limit must be 1 or more".into())),
        Some(l) => Ok((l as usize).min(max)),
    }
}

/// A page of messages: a room's history (oldest first) or search results (newest first).
#[derive(Serialize, ToSchema)]
#[schema(bound = "")]
pub struct MessagePage<'a> {
    pub(crate) messages: Vec<MessageView<'a>>,
    pub(crate) has_more: bool,
}

/// A page of a room's history, oldest first.
#[utoipa::path(get, path = "/api/rooms/{name}/messages", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), HistoryQuery),
    responses(
        (status = 200, description = "a page of history", body = MessagePage),
        (status = 400, description = "bad paging parameters", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room (or someone else's direct room)", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn list_messages(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let limits = &state.config.limits;
    let limit = page_size(query.limit, limits.history_default, limits.history_max)?;
    if query.before.is_some_and(|b| b < 1) || query.after.is_some_and(|a| a < 0) {
        return Err(AppError::BadRequest("before and after are message ids".into()));
    }
    let page = match (query.before, query.after) {
        (before, Some(after)) => Page::After(MessageId(after), before.map(MessageId)),
        (Some(before), None) => Page::Before(MessageId(before)),
        (None, None) => Page::Latest,
    };
    let room = rooms::room_for(&state, &name, &user).await?;
    let room_id = room.id;
    let (messages, has_more) = state.db.run(move |c| Message::page(c, room_id, page, limit)).await?;
    let body = MessagePage { messages: messages.iter().map(|m| m.view(&room.name)).collect(), has_more };
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostMessageRequest {
    /// Up to `max_text_chars` characters (4000 by default) after trimming; not blank.
    /// The pattern is "at least one character that trimming keeps" (Unicode White_Space,
    /// as Rust trims, which is not quite JavaScript's `\s`).
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "[^\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub text: String,
    /// The sender's id for this message: a retry with the same id is stored once.
    /// Generated when absent.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub client_id: Option<String>,
    /// The message this one answers: in the same room and not deleted, else 404.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<i64>)]
    pub reply_to: Option<i64>,
}

/// Sends a message; a repeated `client_id` answers 200 with the first copy.
#[utoipa::path(post, path = "/api/rooms/{name}/messages", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room")), request_body = PostMessageRequest,
    responses(
        (status = 201, description = "stored", body = MessageEnvelope),
        (status = 200, description = "already stored under this client_id", body = MessageEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room (or someone else's direct room), or no such message to reply to", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "empty or too long text, or a bad client_id", body = ErrorBody),
        (status = 429, description = "sending too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn post_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<PostMessageRequest>,
) -> Result<HttpResponse, AppError> {
    let PostMessageRequest { text, client_id, reply_to } = body.into_inner();
    let client_id = client_id.unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 24));
    validate::client_id(&client_id).map_err(AppError::Invalid)?;
    let text = validate::message_text(&text, state.config.limits.max_text_chars).map_err(AppError::Invalid)?.to_owned();
    if state.http_sends.check_key(&user.id).is_err() {
        return Err(AppError::RateLimited { retry_after_secs: 1 });
    }
    let room = rooms::room_for(&state, &name, &user).await?;
    if reply_to.is_some_and(|id| id < 1) {
        return Err(AppError::NotFound("there is no such message to reply to".into()));
    }
    let reply_to = reply_to.map(MessageId);
    let (room_id, user_id) = (room.id, user.id);
    // Posting makes the poster a member, as joining does.
    state.db.run(move |c| RoomMember::enter(c, room_id, user_id)).await?;
    let posted = state
        .hub
        .send(PostMessage { room, user: user.public(), text, client_id, reply_to })
        .await
        .map_err(|_| AppError::Unavailable)?
        .map_err(super::messages::refusal)?;
    let status = if posted.created { StatusCode::CREATED } else { StatusCode::OK };
    let body = format!(r#"{{"message":{}}}"#, posted.json);
    Ok(HttpResponse::build(status).content_type("application/json").body(body))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReadRequest {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole_number")]
    pub message_id: i64,
}

/// An integer, also when written as a number with a zero fraction (`12.0`): JSON does
/// not tell the two apart, and JSON Schema counts both as integers.
pub(crate) fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!("{number} is not a whole number in range"))),
    }
}

pub(crate) fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|w| w.0))
}

/// Moves the read marker forward (clamped to the room's latest message).
#[utoipa::path(post, path = "/api/rooms/{name}/read", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room")), request_body = ReadRequest,
    responses(
        (status = 204, description = "done"),
        (status = 400, description = "malformed body or not a message id", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room (or someone else's direct room)", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn mark_read(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<ReadRequest>,
) -> Result<HttpResponse, AppError> {
    let message_id = MessageId(body.message_id);
    if message_id < MessageId(1) {
        return Err(AppError::BadRequest("message_id must be a message id".into()));
    }
    let room = rooms::room_for(&state, &name, &user).await?;
    let (room_id, user_id) = (room.id, user.id);
    let moved = state
        .db
        .run(move |c| {
            RoomMember::ensure(c, room_id, user_id, MessageId::NONE)?;
            RoomMember::mark_read(c, room_id, user_id, message_id)
        })
        .await?;
    if let Some(message_id) = moved {
        state.hub.do_send(ReadMoved { user_id, room: room.name, message_id });
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DirectRequest {
    pub nickname: String,
}

/// Opens (or creates) the direct room with the user of this nickname.
#[utoipa::path(post, path = "/api/direct", tag = "rooms", security(("session" = [])), request_body = DirectRequest,
    responses(
        (status = 201, description = "created", body = RoomEnvelope),
        (status = 200, description = "it existed", body = RoomEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "nobody has this nickname", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "yourself", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn open_direct(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<DirectRequest>,
) -> Result<HttpResponse, AppError> {
    let (room, created, partner) = rooms::open_direct(&state, &user, &body.nickname).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(RoomEnvelope { room: rooms::describe(&state, room, partner, &user).await? }))
}
