//! A room's members over the JSON API (docs/protocol.md, "Rooms"): roles, set by the
//! owner. The change reaches everyone in the room, on every node, as a `role` frame.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::chat::room::OnlineIn;
use crate::errors::{AppError, ErrorBody};
use crate::ids::UserId;
use crate::models::moderation::Sanctions;
use crate::models::rfc3339;
use crate::models::room::{Role, RoomMember};
use crate::services::{moderation, rooms};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// `moderator` or `member` (there is one owner, the room's creator).
    #[schema(pattern = "^(moderator|member)$")]
    pub role: String,
}

/// Makes a member a moderator, or a moderator a member again (the owner only).
#[utoipa::path(put, path = "/api/rooms/{name}/members/{user_id}/role", tag = "rooms", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), ("user_id" = i64, Path, description = "the member")),
    request_body = RoleRequest,
    responses(
        (status = 204, description = "the member has this role"),
        (status = 400, description = "malformed body", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not the room's owner, or the owner's own role", body = ErrorBody),
        (status = 404, description = "no such room, or no such member", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "not a role that can be given", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn set_role(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Json<RoleRequest>,
) -> Result<HttpResponse, AppError> {
    let (name, target) = path.into_inner();
    // The room first: an outsider of a private room learns nothing from the body.
    rooms::room_for(&state, &name, &user).await?;
    let role = match body.role.as_str() {
        "moderator" => Role::Moderator,
        "member" => Role::Member,
        _ => return Err(AppError::Invalid("role must be moderator or member".into())),
    };
    let target = target
        .parse::<i64>()
        .map(UserId)
        .map_err(|_| AppError::NotFound("there is no such member of this room".into()))?;
    moderation::set_role(&state, &user, &name, target, role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Most members in one page.
const MEMBERS_PAGE: usize = 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Members after this user id (the next page).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    id: UserId,
    nickname: String,
    /// Where their picture is; null without one.
    #[schema(value_type = Option<String>)]
    avatar_url: Option<String>,
    role: Role,
    online: bool,
    /// Muted in the room until then; null when not.
    #[schema(value_type = Option<String>)]
    muted_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    members: Vec<MemberView>,
}

/// A room's members with their roles and whether they are online there, by user id.
#[utoipa::path(get, path = "/api/rooms/{name}/members", tag = "rooms", security(("session" = [])),
    params(("name" = String, Path, description = "the room"), MembersQuery),
    responses(
        (status = 200, description = "at most 1000 members; `after` the last id for more", body = MemberList),
        (status = 400, description = "bad after", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn list_members(
    state: web::Data<AppState>,
    user: CurrentUser,
    name: web::Path<String>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, AppError> {
    let after = match query.after {
        None => UserId(0),
        Some(after) if after >= 0 => UserId(after),
        Some(_) => return Err(AppError::BadRequest("after must be a user id".into())),
    };
    let room = rooms::room_for(&state, &name, &user).await?;
    let room_id = room.id;
    let (members, mutes) = state
        .db
        .run(move |c| {
            let members = RoomMember::list(c, room_id, after, MEMBERS_PAGE)?;
            Ok((members, Sanctions::mutes_in(c, room_id, crate::models::now())?))
        })
        .await?;
    let online = state.hub.send(OnlineIn { room_id }).await.map_err(|_| AppError::Unavailable)?;
    let members = members
        .into_iter()
        .map(|(user, role)| MemberView {
            online: online.contains(&user.id),
            muted_until: mutes.get(&user.id).map(rfc3339),
            id: user.id,
            nickname: user.nickname,
            avatar_url: user.avatar_url,
            role,
        })
        .collect();
    Ok(HttpResponse::Ok().json(MemberList { members }))
}
