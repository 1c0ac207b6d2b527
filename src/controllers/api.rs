//! The JSON API (PROTOCOL.md): the same session cookie as the pages, errors as JSON.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{authenticate, end_session};
use super::rooms;
use crate::auth::{self, CurrentUser};
use crate::chat::room::{PostMessage, ReadMoved};
use crate::errors::AppError;
use crate::models::message::{Message, MessageView, Page};
use crate::models::room::{Room, RoomMember};
use crate::models::validate;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub phone: String,
    pub password: String,
}

pub async fn create_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let user = authenticate(&state, &req, &body.phone, &body.password).await?;
    auth::log_in(&session, &user)?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

pub async fn delete_session(req: HttpRequest, session: Session, _user: CurrentUser) -> HttpResponse {
    end_session(&req, &session);
    HttpResponse::NoContent().finish()
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "user": user.public() }))
}

/// Turns the extractors' own refusals into PROTOCOL.md's JSON errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _req| {
        use actix_web::error::JsonPayloadError;
        match err {
            JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                AppError::TooLarge("the request body is too large".into())
            }
            err => AppError::BadRequest(format!("invalid JSON body: {err}")),
        }
        .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| AppError::BadRequest(format!("invalid query string: {err}")).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| AppError::BadRequest(format!("invalid path: {err}")).into())
}

// ---- rooms and messages ----

pub async fn list_rooms(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let rooms = state.db.run(move |c| Room::list_for(c, user_id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "rooms": rooms })))
}

#[derive(Debug, Deserialize)]
pub struct CreateRoomRequest {
    pub name: String,
}

pub async fn create_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateRoomRequest>,
) -> Result<HttpResponse, AppError> {
    let room = rooms::create_room(&state, body.name.trim(), &user).await?;
    Ok(HttpResponse::Created().json(json!({ "room": room.summary(room.name.clone(), 0) })))
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    pub before: Option<i64>,
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Serialize)]
struct MessagePage<'a> {
    messages: Vec<MessageView<'a>>,
    has_more: bool,
}

pub async fn list_messages(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let limits = &state.config.limits;
    let limit = match query.limit {
        None => limits.history_default,
        Some(l) if l < 1 => return Err(AppError::BadRequest("limit must be 1 or more".into())),
        Some(l) => (l as usize).min(limits.history_max),
    };
    if query.before.is_some_and(|b| b < 1) || query.after.is_some_and(|a| a < 0) {
        return Err(AppError::BadRequest("before and after are message ids".into()));
    }
    let page = match (query.before, query.after) {
        (before, Some(after)) => Page::After(after, before),
        (Some(before), None) => Page::Before(before),
        (None, None) => Page::Latest,
    };
    let room = rooms::room_for(&state, &name, &user).await?;
    let room_id = room.id;
    let (messages, has_more) = state.db.run(move |c| Message::page(c, room_id, page, limit)).await?;
    let body = MessagePage { messages: messages.iter().map(|m| m.view(&room.name)).collect(), has_more };
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
pub struct PostMessageRequest {
    pub text: String,
    #[serde(default)]
    pub client_id: Option<String>,
}

pub async fn post_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<PostMessageRequest>,
) -> Result<HttpResponse, AppError> {
    let PostMessageRequest { text, client_id } = body.into_inner();
    let client_id = client_id.unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 24));
    validate::client_id(&client_id).map_err(AppError::Invalid)?;
    let text = validate::message_text(&text, state.config.limits.max_text_chars).map_err(AppError::Invalid)?.to_owned();
    if state.http_sends.check_key(&user.id).is_err() {
        return Err(AppError::RateLimited { retry_after_secs: 1 });
    }
    let room = rooms::room_for(&state, &name, &user).await?;
    let (room_id, user_id) = (room.id, user.id);
    // Posting makes the poster a member, as joining does.
    state
        .db
        .run(move |c| {
            let top = Room::last_message_id(c, room_id)?;
            RoomMember::ensure(c, room_id, user_id, top)
        })
        .await?;
    let posted = state
        .hub
        .send(PostMessage { room, user: user.public(), text, client_id })
        .await
        .map_err(|_| AppError::Unavailable)??;
    let status = if posted.created { StatusCode::CREATED } else { StatusCode::OK };
    let body = format!(r#"{{"message":{}}}"#, posted.json);
    Ok(HttpResponse::build(status).content_type("application/json").body(body))
}

#[derive(Debug, Deserialize)]
pub struct ReadRequest {
    pub message_id: i64,
}

pub async fn mark_read(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    body: web::Json<ReadRequest>,
) -> Result<HttpResponse, AppError> {
    let message_id = body.message_id;
    if message_id < 1 {
        return Err(AppError::BadRequest("message_id must be a message id".into()));
    }
    let room = rooms::room_for(&state, &name, &user).await?;
    let (room_id, user_id) = (room.id, user.id);
    let moved = state
        .db
        .run(move |c| {
            RoomMember::ensure(c, room_id, user_id, 0)?;
            RoomMember::mark_read(c, room_id, user_id, message_id)
        })
        .await?;
    if moved {
        state.hub.do_send(ReadMoved { user_id, room: room.name, message_id });
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct DirectRequest {
    pub nickname: String,
}

pub async fn open_direct(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<DirectRequest>,
) -> Result<HttpResponse, AppError> {
    let (room, created, partner) = rooms::open_direct(&state, &user, &body.nickname).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(json!({ "room": room.summary(partner, 0) })))
}
