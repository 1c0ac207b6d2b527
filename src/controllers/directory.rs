//! The room directory (docs/protocol.md, "Room directory"): public rooms by name, a
//! page at a time, so that finding a room costs the same with ten rooms or a hundred
//! thousand.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::page_size;
use crate::auth::CurrentUser;
use crate::errors::{AppError, ErrorBody};
use crate::models::room::{Room, RoomSummary};
use crate::state::AppState;

/// Rooms per page by default, and at most.
const PAGE_DEFAULT: usize = 50;
const PAGE_MAX: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Part of the name (every public room without it).
    pub q: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Page size, at most 100 (larger values are clamped); 50 by default.
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryPage {
    rooms: Vec<RoomSummary>,
    /// Where the next page starts (pass it as `after`), or null on the last page.
    next: Option<String>,
}

/// Public rooms whose name contains `q`, by name.
#[utoipa::path(get, path = "/api/directory", tag = "rooms", security(("session" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "a page of public rooms", body = DirectoryPage),
        (status = 400, description = "bad paging parameters", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn directory(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<DirectoryQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = page_size(query.limit, PAGE_DEFAULT, PAGE_MAX)?;
    let q = query.q.as_deref().unwrap_or_default().trim().to_owned();
    let after = query.after.clone().filter(|a| !a.is_empty());
    let user_id = user.id;
    let (rooms, more) = state.db.run(move |c| Room::directory(c, user_id, &q, after.as_deref(), limit)).await?;
    let next = if more { rooms.last().map(|r| r.name.clone()) } else { None };
    Ok(HttpResponse::Ok().json(DirectoryPage { rooms, next }))
}
