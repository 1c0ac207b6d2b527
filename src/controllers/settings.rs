//! The settings page (`/settings`): nickname, password, avatar and deleting the
//! account, each its own form with its errors next to its fields. The avatar is
//! uploaded by the page's script through the JSON API (`PUT /api/me/avatar`), after a
//! preview; removing it is a form.

use std::collections::BTreeMap;

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::page_context;
use crate::auth::{self, CurrentUser, PageUser};
use crate::errors::AppError;
use crate::services::account;
use crate::state::AppState;
use crate::views::{self, PageError};

type PageResult = Result<HttpResponse, PageError>;

/// Which form said what: its field errors, and what to put back in it.
#[derive(Default)]
struct Outcome<'a> {
    errors: BTreeMap<&'static str, String>,
    nickname: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    /// The form that was just saved, to say so.
    pub saved: Option<String>,
}

fn render(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    status: StatusCode,
    outcome: Outcome<'_>,
    saved: Option<&str>,
) -> PageResult {
    let mut context = page_context(session, Some(user), "Settings")?;
    context.insert("nickname", outcome.nickname.unwrap_or(&user.nickname));
    context.insert("errors", &outcome.errors);
    context.insert("max_avatar_bytes", &state.limits.max_avatar_bytes);
    let saved = saved.filter(|s| ["nickname", "password", "avatar"].contains(s));
    context.insert("saved", saved.unwrap_or_default());
    Ok(views::page(status, "settings.html", &context)?)
}

fn saved(form: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/settings?saved={form}"))).finish()
}

/// An error message as a sentence under a field.
fn sentence(error: &AppError) -> String {
    views::sentence(&error.to_string())
}

pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    PageUser(user): PageUser,
    query: web::Query<SavedQuery>,
) -> PageResult {
    render(&state, &session, &user, StatusCode::OK, Outcome::default(), query.saved.as_deref())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NicknameForm {
    pub csrf_token: Option<String>,
    pub nickname: String,
}

pub async fn nickname(
    state: web::Data<AppState>,
    session: Session,
    PageUser(user): PageUser,
    form: web::Form<NicknameForm>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    match account::change_nickname(&state, &user, &form.nickname).await {
        Ok(_) => Ok(saved("nickname")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let outcome =
                Outcome { errors: BTreeMap::from([("nickname", sentence(&e))]), nickname: Some(form.nickname.trim()) };
            render(&state, &session, &user, e.status(), outcome, None)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub csrf_token: Option<String>,
    pub current: String,
    pub new: String,
    pub new_confirm: String,
}

pub async fn password(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    PageUser(user): PageUser,
    form: web::Form<PasswordForm>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    let refuse = |field: &'static str, status: StatusCode, message: String| {
        let outcome = Outcome { errors: BTreeMap::from([(field, message)]), ..Outcome::default() };
        render(&state, &session, &user, status, outcome, None)
    };
    if form.new != form.new_confirm {
        return refuse("new_confirm", StatusCode::UNPROCESSABLE_ENTITY, "The two new passwords differ.".into());
    }
    match account::change_password(&state, &req, &user, &form.current, &form.new).await {
        Ok(()) => Ok(saved("password")),
        Err(e @ AppError::Invalid(_)) => refuse("new", e.status(), sentence(&e)),
        Err(e @ (AppError::Forbidden(_) | AppError::RateLimited { .. })) => refuse("current", e.status(), sentence(&e)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf_token: Option<String>,
}

/// The "Remove picture" button.
pub async fn remove_avatar(
    state: web::Data<AppState>,
    session: Session,
    PageUser(user): PageUser,
    form: web::Form<CsrfOnly>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    account::remove_avatar(&state, &user).await?;
    Ok(saved("avatar"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    pub csrf_token: Option<String>,
    pub password: String,
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    PageUser(user): PageUser,
    form: web::Form<DeleteForm>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    match account::delete_account(&state, &req, &user, &form.password).await {
        Ok(()) => {
            auth::log_out(&session);
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/login?deleted=1")).finish())
        }
        Err(e @ (AppError::Forbidden(_) | AppError::RateLimited { .. })) => {
            let outcome = Outcome { errors: BTreeMap::from([("delete_password", sentence(&e))]), ..Outcome::default() };
            render(&state, &session, &user, e.status(), outcome, None)
        }
        Err(e) => Err(e.into()),
    }
}
