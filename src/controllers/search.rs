//! Search (docs/protocol.md, "Search and mentions"): `GET /api/search` and the search
//! page, whose script asks the same route.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::api::{page_size, MessagePage};
use super::page_context;
use crate::auth::{CurrentUser, PageUser};
use crate::errors::{AppError, ErrorBody};
use crate::ids::MessageId;
use crate::services::search::{self, SearchRequest};
use crate::state::AppState;
use crate::views::{self, PageError};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find, 1 to 200 characters: a message matches when it has every
    /// word, in any order; Chinese, Japanese and Korean text matches by substring.
    /// (Trimmed: it must have a character that trimming keeps.)
    #[serde(default)]
    #[param(
        required = true,
        min_length = 1,
        max_length = 200,
        pattern = "[^\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub q: String,
    /// Only this room (else every room the caller may read).
    pub room: Option<String>,
    /// Messages older than this id (the next page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Page size, at most `history_max` (larger values are clamped).
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// Messages matching every word of `q`, newest first, in the rooms the caller may read.
#[utoipa::path(get, path = "/api/search", tag = "messages", security(("session" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "a page of results", body = MessagePage),
        (status = 400, description = "bad paging parameters", body = ErrorBody),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 404, description = "no such room (or one the caller may not read)", body = ErrorBody),
        (status = 422, description = "an empty or too long query", body = ErrorBody),
        (status = 429, description = "searching too fast", body = ErrorBody),
        (status = 503, description = "storage unavailable", body = ErrorBody),
    ))]
pub async fn search(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let limits = &state.config.limits;
    let limit = page_size(query.limit, limits.history_default, limits.history_max)?;
    if query.before.is_some_and(|b| b < 1) {
        return Err(AppError::BadRequest("before is a message id".into()));
    }
    state.allow_lookup(user.id)?;
    let request =
        SearchRequest { q: &query.q, room: query.room.as_deref(), before: query.before.map(MessageId), limit };
    let (found, has_more) = search::search(&state, &user, request).await?;
    let body = MessagePage { messages: found.iter().map(|(m, room)| m.view(room)).collect(), has_more };
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub q: String,
    pub room: String,
}

/// The search page: a form, and results drawn by its script from `GET /api/search`.
pub async fn page(
    session: Session,
    PageUser(user): PageUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let mut context = page_context(&session, Some(&user), "Search")?;
    context.insert("q", &query.q);
    context.insert("room", &query.room);
    Ok(views::page(StatusCode::OK, "search.html", &context)?)
}
