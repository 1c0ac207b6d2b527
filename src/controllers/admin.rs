//! What only server administrators may do over the JSON API (docs/protocol.md,
//! "Rooms"): disabling and enabling accounts. Administrators are made on the command
//! line, `chatroom admin grant <phone>`.

use actix_web::{web, HttpResponse};

use crate::auth::CurrentUser;
use crate::errors::{AppError, ErrorBody};
use crate::ids::UserId;
use crate::services::admin;
use crate::state::AppState;

fn user_in_path(text: &str) -> Result<UserId, AppError> {
    text.parse::<i64>().map(UserId).map_err(|_| AppError::NotFound("there is no such user".into()))
}

/// Disables an account: its sessions end, its sockets and streams close on every node,
/// and logging in is refused (with the generic message) until it is enabled again.
#[utoipa::path(post, path = "/api/admin/users/{id}/disable", tag = "admin", security(("session" = [])),
    params(("id" = i64, Path, description = "the user")),
    responses(
        (status = 204, description = "disabled"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not an administrator, or your own account", body = ErrorBody),
        (status = 404, description = "no such user", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn disable(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    admin::disable(&state, &user, user_in_path(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Enables a disabled account again.
#[utoipa::path(post, path = "/api/admin/users/{id}/enable", tag = "admin", security(("session" = [])),
    params(("id" = i64, Path, description = "the user")),
    responses(
        (status = 204, description = "enabled"),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "not an administrator", body = ErrorBody),
        (status = 404, description = "no such user", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn enable(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    admin::enable(&state, &user, user_in_path(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
