//! Invite links (docs/protocol.md, "Rooms"): made and revoked by a room's owner and
//! moderators over the JSON API, used over the API or on the invite page
//! `/invite/{code}`, which sends a logged-out visitor to log in and back.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{optional_whole_number, OptionalJson, RoomEnvelope};
use super::page_context;
use crate::auth::{self, CurrentUser};
use crate::errors::{AppError, ErrorBody};
use crate::models::rfc3339;
use crate::services::invites::{self, InviteView};
use crate::services::rooms;
use crate::state::AppState;
use crate::views::{self, PageError};

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateInviteRequest {
    /// How many people may use it: 1 to 1000, 50 by default.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub max_uses: Option<i64>,
    /// For how long it works: 1 to 720 hours, 168 (a week) by default.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 720)]
    pub hours: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct InviteEnvelope {
    invite: InviteView,
}

#[derive(Serialize, ToSchema)]
pub struct InviteList {
    /// Live invites, newest first.
    invites: Vec<InviteView>,
}

/// Makes an invite link to the room (owner, moderators).
#[utoipa::path(post, path = "/api/rooms/{name}/invites", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room")), request_body = CreateInviteRequest,
    responses(
        (status = 201, description = "the invite", body = InviteEnvelope),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator, or a direct room", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "max_uses or hours out of range", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    name: web::Path<String>,
    body: OptionalJson<CreateInviteRequest>,
) -> Result<HttpResponse, AppError> {
    rooms::room_for(&state, &name, &user).await?;
    let body = body.0.unwrap_or_default();
    let origin = state.own_origin(&req);
    let invite = invites::create(&state, &user, &name, &origin, body.max_uses, body.hours).await?;
    Ok(HttpResponse::Created().json(InviteEnvelope { invite }))
}

/// The room's live invites (owner, moderators).
#[utoipa::path(get, path = "/api/rooms/{name}/invites", tag = "moderation", security(("session" = [])),
    params(("name" = String, Path, description = "the room")),
    responses(
        (status = 200, description = "live invites, newest first", body = InviteList),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let origin = state.own_origin(&req);
    let invites = invites::list(&state, &user, &name, &origin).await?;
    Ok(HttpResponse::Ok().json(InviteList { invites }))
}

/// Uses an invite: the caller becomes a member of its room.
#[utoipa::path(post, path = "/api/invites/{code}", tag = "rooms", security(("session" = [])),
    params(("code" = String, Path, description = "the invite's code")),
    responses(
        (status = 200, description = "a member now (or already)", body = RoomEnvelope),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "banned from the room", body = ErrorBody),
        (status = 404, description = "no such invite, or expired, used up or revoked", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn accept(
    state: web::Data<AppState>,
    user: CurrentUser,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let joined = invites::accept(&state, &user, &code).await?;
    let title = joined.room.name.clone();
    Ok(HttpResponse::Ok().json(RoomEnvelope { room: rooms::describe(&state, joined.room, title, &user).await? }))
}

/// Revokes an invite (the room's owner, moderators).
#[utoipa::path(delete, path = "/api/invites/{code}", tag = "moderation", security(("session" = [])),
    params(("code" = String, Path, description = "the invite's code")),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "neither owner nor moderator of its room", body = ErrorBody),
        (status = 404, description = "no such live invite", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    invites::revoke(&state, &user, &code).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- the invite page ----

type PageResult = Result<HttpResponse, PageError>;

/// A logged-out visitor logs in first and comes back here.
fn login_then_back(code: &str) -> HttpResponse {
    let next = format!("/invite/{code}");
    let location = format!("/login?next={}", super::auth::encode_query(&next));
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// The room's name and a button to join it.
pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    user: Option<CurrentUser>,
    code: web::Path<String>,
) -> PageResult {
    let Some(user) = user else { return Ok(login_then_back(&code)) };
    let preview = invites::preview(&state, &user, &code).await?;
    let mut context = page_context(&session, Some(&user), &format!("Join {}", preview.room.name))?;
    context.insert("code", code.as_str());
    context.insert("room", &preview.room.name);
    context.insert("topic", &preview.room.topic);
    context.insert("private", &preview.room.private);
    context.insert("member", &preview.member);
    context.insert("expires_at", &rfc3339(&preview.expires_at));
    Ok(views::page(StatusCode::OK, "invite.html", &context)?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JoinForm {
    pub csrf_token: Option<String>,
}

/// The join button: a member now, off to the room.
pub async fn join(
    state: web::Data<AppState>,
    session: Session,
    user: Option<CurrentUser>,
    code: web::Path<String>,
    form: web::Form<JoinForm>,
) -> PageResult {
    let Some(user) = user else { return Ok(login_then_back(&code)) };
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    let joined = invites::accept(&state, &user, &code).await?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/rooms/{}", joined.room.name))).finish())
}
