//! A room's members over the JSON API (docs/protocol.md, "Rooms"): roles, set by the
//! owner. The change reaches everyone in the room, on every node, as a `role` frame.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::chat::protocol::to_frame;
use crate::chat::room::{OnlineIn, RoomFrame};
use crate::errors::{AppError, ErrorBody};
use crate::ids::UserId;
use crate::models::room::{Role, RoomMember};
use crate::models::user::{PublicUser, User};
use crate::services::rooms;
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
    let room = rooms::room_for(&state, &name, &user).await?;
    let role = match body.role.as_str() {
        "moderator" => Role::Moderator,
        "member" => Role::Member,
        _ => return Err(AppError::Invalid("role must be moderator or member".into())),
    };
    let no_member = || AppError::NotFound("there is no such member of this room".into());
    let target = UserId(target.parse::<i64>().map_err(|_| no_member())?);
    let (room_id, caller) = (room.id, user.id);
    let (changed, member) = state
        .db
        .run(move |c| {
            if RoomMember::role(c, room_id, caller)? != Some(Role::Owner) {
                return Ok(Err(AppError::Forbidden("only the room's owner gives roles".into())));
            }
            match RoomMember::role(c, room_id, target)? {
                None => return Ok(Err(no_member())),
                Some(Role::Owner) => return Ok(Err(AppError::Forbidden("the owner's role does not change".into()))),
                Some(_) => {}
            }
            let changed = RoomMember::set_role(c, room_id, target, role)?;
            Ok(Ok((changed, User::find(c, target)?.map(|u| u.public()))))
        })
        .await??;
    if let (true, Some(member)) = (changed, member) {
        let text = to_frame(&RoleFrame { r#type: "role", room: &room.name, user: &member, role });
        state.hub.do_send(RoomFrame { room_id, text });
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `{"type":"role","room","user","role"}`: a member's new role, to everyone in the room.
#[derive(Serialize)]
struct RoleFrame<'a> {
    r#type: &'static str,
    room: &'a str,
    user: &'a PublicUser,
    role: Role,
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
    role: Role,
    online: bool,
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
    let members = state.db.run(move |c| RoomMember::list(c, room_id, after, MEMBERS_PAGE)).await?;
    let online = state.hub.send(OnlineIn { room_id }).await.map_err(|_| AppError::Unavailable)?;
    let members = members
        .into_iter()
        .map(|(id, nickname, role)| MemberView { id, nickname, role, online: online.contains(&id) })
        .collect();
    Ok(HttpResponse::Ok().json(MemberList { members }))
}
