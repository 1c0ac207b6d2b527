//! One message over the JSON API (docs/protocol.md, "Replies, edits, deletes,
//! reactions"): reading it and its edit history, editing, deleting, reacting. Changes go
//! through the room actor to the group-commit writer, so that they take their place in
//! the same commit order as new messages and reach every connection as `update` frames.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::MessageEnvelope;
use crate::auth::CurrentUser;
use crate::chat::protocol::FrameError;
use crate::chat::room::{ChangeMessage, PostedMessage};
use crate::codes::ErrorCode;
use crate::errors::{AppError, ErrorBody};
use crate::ids::MessageId;
use crate::models::message::{ChangeKind, EditView, Message};
use crate::models::room::Room;
use crate::models::validate;
use crate::services::rooms;
use crate::state::AppState;

/// The room and a message id from the path: a non-numeric or non-positive id is a
/// message that does not exist.
async fn room_and_id(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    id: &str,
) -> Result<(Room, MessageId), AppError> {
    let room = rooms::room_for(state, name, user).await?;
    match id.parse::<i64>() {
        Ok(id) if id > 0 => Ok((room, MessageId(id))),
        _ => Err(no_such_message()),
    }
}

fn no_such_message() -> AppError {
    AppError::NotFound("there is no such message in this room".into())
}

/// The room actor's refusal as an HTTP error.
pub(super) fn refusal(error: FrameError) -> AppError {
    match error.code {
        ErrorCode::NotFound => AppError::NotFound(error.message),
        ErrorCode::Forbidden => AppError::Forbidden(error.message),
        ErrorCode::BadRequest => AppError::Invalid(error.message),
        _ => AppError::Unavailable,
    }
}

async fn change(
    state: &AppState,
    user: &CurrentUser,
    room: Room,
    message_id: MessageId,
    kind: ChangeKind,
) -> Result<PostedMessage, AppError> {
    if state.http_sends.check_key(&user.id).is_err() {
        return Err(AppError::RateLimited { retry_after_secs: 1 });
    }
    state
        .hub
        .send(ChangeMessage { room, user: user.public(), message_id, kind })
        .await
        .map_err(|_| AppError::Unavailable)?
        .map_err(refusal)
}

fn message_response(posted: &PostedMessage) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(format!(r#"{{"message":{}}}"#, posted.json))
}

/// One message in its current state.
#[utoipa::path(get, path = "/api/rooms/{name}/messages/{id}", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("id" = i64, Path, description = "the message")),
    responses(
        (status = 200, description = "the message", body = MessageEnvelope),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room or message", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn get_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, id) = path.into_inner();
    let (room, id) = room_and_id(&state, &user, &name, &id).await?;
    let room_id = room.id;
    let message = state.db.run(move |c| Message::find(c, room_id, id)).await?.ok_or_else(no_such_message)?;
    Ok(HttpResponse::Ok().json(MessageEnvelope { message: message.view(&room.name) }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EditRequest {
    /// The new text, under the same rules as a new message's (see `PostMessageRequest`).
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "[^\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub text: String,
}

/// Edits a message (its author only).
#[utoipa::path(patch, path = "/api/rooms/{name}/messages/{id}", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("id" = i64, Path, description = "the message")),
    request_body = EditRequest,
    responses(
        (status = 200, description = "the message's new state", body = MessageEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "someone else's message", body = ErrorBody),
        (status = 404, description = "no such room or message, or a deleted one", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "empty or too long text", body = ErrorBody),
        (status = 429, description = "writing too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn edit_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Json<EditRequest>,
) -> Result<HttpResponse, AppError> {
    let (name, id) = path.into_inner();
    let text = validate::message_text(&body.text, state.config.limits.max_text_chars).map_err(AppError::Invalid)?;
    let kind = ChangeKind::Edit { text: text.to_owned() };
    let (room, id) = room_and_id(&state, &user, &name, &id).await?;
    let posted = change(&state, &user, room, id, kind).await?;
    Ok(message_response(&posted))
}

/// Deletes a message (its author): it stays as a tombstone in its place.
#[utoipa::path(delete, path = "/api/rooms/{name}/messages/{id}", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("id" = i64, Path, description = "the message")),
    responses(
        (status = 204, description = "deleted (or already)"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "someone else's message", body = ErrorBody),
        (status = 404, description = "no such room or message", body = ErrorBody),
        (status = 429, description = "writing too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn delete_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, id) = path.into_inner();
    let (room, id) = room_and_id(&state, &user, &name, &id).await?;
    change(&state, &user, room, id, ChangeKind::Delete).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn react(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String, String)>,
    on: bool,
) -> Result<HttpResponse, AppError> {
    let (name, id, emoji) = path.into_inner();
    validate::emoji(&emoji).map_err(AppError::Invalid)?;
    let (room, id) = room_and_id(&state, &user, &name, &id).await?;
    change(&state, &user, room, id, ChangeKind::React { emoji, on }).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds your reaction (idempotent).
#[utoipa::path(put, path = "/api/rooms/{name}/messages/{id}/reactions/{emoji}", tag = "messages",
    security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("id" = i64, Path, description = "the message"),
        ("emoji" = String, Path, description = "one emoji, percent-encoded")),
    responses(
        (status = 204, description = "your reaction is there"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room or message, or a deleted one", body = ErrorBody),
        (status = 422, description = "not one emoji, or too many different ones on the message", body = ErrorBody),
        (status = 429, description = "writing too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn add_reaction(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    react(state, user, path, true).await
}

/// Takes your reaction back (idempotent).
#[utoipa::path(delete, path = "/api/rooms/{name}/messages/{id}/reactions/{emoji}", tag = "messages",
    security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("id" = i64, Path, description = "the message"),
        ("emoji" = String, Path, description = "one emoji, percent-encoded")),
    responses(
        (status = 204, description = "your reaction is gone"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room or message, or a deleted one", body = ErrorBody),
        (status = 422, description = "not one emoji", body = ErrorBody),
        (status = 429, description = "writing too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn remove_reaction(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    react(state, user, path, false).await
}

#[derive(Serialize, ToSchema)]
pub struct EditHistory {
    edits: Vec<EditView>,
}

/// The earlier versions of a message, oldest first (none once deleted).
#[utoipa::path(get, path = "/api/rooms/{name}/messages/{id}/edits", tag = "messages", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("id" = i64, Path, description = "the message")),
    responses(
        (status = 200, description = "earlier versions", body = EditHistory),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room or message", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn message_edits(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (name, id) = path.into_inner();
    let (room, id) = room_and_id(&state, &user, &name, &id).await?;
    let room_id = room.id;
    let edits = state
        .db
        .run(move |c| match Message::find(c, room_id, id)? {
            Some(_) => Message::edits(c, id).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(no_such_message)?;
    Ok(HttpResponse::Ok().json(EditHistory { edits }))
}
