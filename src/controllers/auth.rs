//! Registration, login and logout pages, and the login check the JSON API shares.

use std::collections::BTreeMap;

use actix_session::{Session, SessionExt};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::page_context;
use crate::auth::{self, CurrentUser};
use crate::errors::AppError;
use crate::models::user::Taken;
use crate::models::validate;
use crate::services::accounts::{authenticate, create_account, end_session};
use crate::state::AppState;
use crate::views;
use crate::views::PageError;

type PageResult = Result<HttpResponse, PageError>;

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Whether the request carries a logged-in session (the account is not looked at).
fn logged_in(req: &HttpRequest) -> bool {
    CurrentUser::session_login(&req.get_session()).is_some()
}

/// Where to go after logging in or registering: `next` when it is a path on this site
/// (never another site: `//host` and `/\\host` are refused), else the room list.
pub fn after_login(next: Option<&str>) -> String {
    let safe = next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.starts_with("/\\")
            && n.len() <= 256
            && !n.chars().any(|c| c.is_control() || c == '\\')
    });
    safe.unwrap_or("/rooms").to_owned()
}

/// Percent-encodes a value for a query string.
pub fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?next=` on the login and registration pages.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    pub next: Option<String>,
    /// Set after an account was deleted, to say so.
    pub deleted: Option<String>,
}

pub async fn home(req: HttpRequest) -> HttpResponse {
    if logged_in(&req) {
        see_other("/rooms")
    } else {
        see_other("/login")
    }
}

// Every field is optional so that a missing one is a field error (or a 403 for the
// token), never a generic deserialization failure.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    pub csrf_token: Option<String>,
    pub phone: String,
    pub nickname: String,
    pub password: String,
    pub password_confirm: String,
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub csrf_token: Option<String>,
    pub phone: String,
    pub password: String,
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf_token: Option<String>,
}

fn register_page(
    session: &Session,
    status: StatusCode,
    form: &RegisterForm,
    errors: &BTreeMap<&str, &str>,
) -> PageResult {
    let mut context = page_context(session, None, "Sign up")?;
    insert_next(&mut context, form.next.as_deref());
    context.insert("phone", form.phone.trim());
    context.insert("nickname", form.nickname.trim());
    if !errors.is_empty() {
        context.insert("errors", errors);
    }
    Ok(views::page(status, "register.html", &context)?)
}

/// A `next` worth keeping goes into the page (the form sends it back; the links carry it).
fn insert_next(context: &mut tera::Context, next: Option<&str>) {
    if let Some(next) = next.filter(|n| after_login(Some(n)) == *n) {
        context.insert("next", next);
        context.insert("next_query", &format!("?next={}", encode_query(next)));
    }
}

/// What the login page says above its form: an error, or news.
#[derive(Default)]
struct Notice<'a> {
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn login_page(session: &Session, status: StatusCode, phone: &str, next: Option<&str>, said: Notice<'_>) -> PageResult {
    let mut context = page_context(session, None, "Log in")?;
    insert_next(&mut context, next);
    if let Some(notice) = said.notice {
        context.insert("notice", notice);
    }
    let error = said.error;
    context.insert("phone", phone.trim());
    if let Some(error) = error {
        context.insert("error", error);
    }
    Ok(views::page(status, "login.html", &context)?)
}

pub async fn register_form(session: Session, query: web::Query<NextQuery>) -> PageResult {
    let form = RegisterForm { next: query.into_inner().next, ..RegisterForm::default() };
    register_page(&session, StatusCode::OK, &form, &BTreeMap::new())
}

pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    form: web::Form<RegisterForm>,
) -> PageResult {
    let form = form.into_inner();
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;

    let mut errors = BTreeMap::new();
    let phone = validate::normalize_phone(&form.phone, state.region).map_err(|e| errors.insert("phone", e)).ok();
    let nickname = validate::nickname(&form.nickname).map_err(|e| errors.insert("nickname", e)).ok();
    if let Err(e) = validate::password(&form.password) {
        errors.insert("password", e);
    } else if form.password != form.password_confirm {
        errors.insert("password_confirm", "The two passwords differ.");
    }
    let (Some(phone), Some(nickname), true) = (phone, nickname, errors.is_empty()) else {
        return register_page(&session, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors);
    };

    let addr = state.quota_addr(&req);
    let reserved = match &addr {
        Some(addr) => Some(
            state.registrations.reserve(addr).map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?,
        ),
        None => None,
    };
    let skeleton = validate::nickname_skeleton(&nickname);
    let created = create_account(&state, phone, nickname, skeleton, form.password.clone()).await;
    if let (Some(addr), Some(at), false) = (&addr, reserved, matches!(created, Ok(Ok(_)))) {
        // Only accounts made count against the address.
        state.registrations.release(addr, at);
    }
    match created? {
        Ok(user) => {
            auth::log_in(&session, &user.public())?;
            tracing::info!(user_id = %user.id, "registered");
            Ok(see_other(&after_login(form.next.as_deref())))
        }
        Err(taken) => {
            let errors = match taken {
                Taken::Phone => BTreeMap::from([("phone", "This phone number is already registered. Log in instead?")]),
                Taken::Nickname => BTreeMap::from([("nickname", "This nickname is taken; choose another.")]),
            };
            register_page(&session, StatusCode::CONFLICT, &form, &errors)
        }
    }
}

pub async fn login_form(session: Session, query: web::Query<NextQuery>) -> PageResult {
    let notice = query.deleted.is_some().then_some("Your account is deleted. Thank you for having been here.");
    login_page(&session, StatusCode::OK, "", query.next.as_deref(), Notice { error: None, notice })
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    form: web::Form<LoginForm>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    match authenticate(&state, &req, &form.phone, &form.password).await {
        Ok(user) => {
            auth::log_in(&session, &user)?;
            Ok(see_other(&after_login(form.next.as_deref())))
        }
        Err(AppError::BadCredentials) => login_page(
            &session,
            StatusCode::UNAUTHORIZED,
            &form.phone,
            form.next.as_deref(),
            Notice { error: Some("Wrong phone number or password."), notice: None },
        ),
        Err(AppError::RateLimited { retry_after_secs }) => {
            let message = format!("Too many failed attempts. Try again in {} minutes.", retry_after_secs.div_ceil(60));
            let next = form.next.as_deref();
            let said = Notice { error: Some(&message), notice: None };
            let mut response = login_page(&session, StatusCode::TOO_MANY_REQUESTS, &form.phone, next, said)?;
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(req: HttpRequest, form: Option<web::Form<CsrfForm>>) -> PageResult {
    let session = req.get_session();
    if logged_in(&req) {
        auth::verify_csrf(&session, form.as_ref().and_then(|f| f.csrf_token.as_deref()))?;
        end_session(&req, &session);
    }
    Ok(see_other("/login"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_goes_to_this_site_only() {
        assert_eq!(after_login(Some("/invite/abc")), "/invite/abc");
        assert_eq!(after_login(None), "/rooms");
        for elsewhere in ["https://evil.example", "//evil.example", "/\\evil.example", "invite", "/a\nb", ""] {
            assert_eq!(after_login(Some(elsewhere)), "/rooms", "{elsewhere:?}");
        }
        assert_eq!(encode_query("/invite/a-b_c"), "%2Finvite%2Fa-b_c");
    }
}
