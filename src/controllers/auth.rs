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

fn current_user(req: &HttpRequest) -> Option<CurrentUser> {
    use actix_web::FromRequest;
    CurrentUser::extract(req).into_inner().ok()
}

pub async fn home(req: HttpRequest) -> HttpResponse {
    match current_user(&req) {
        Some(_) => see_other("/rooms"),
        None => see_other("/login"),
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub csrf_token: Option<String>,
    pub phone: String,
    pub password: String,
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
    context.insert("phone", form.phone.trim());
    context.insert("nickname", form.nickname.trim());
    if !errors.is_empty() {
        context.insert("errors", errors);
    }
    Ok(views::page(status, "register.html", &context)?)
}

fn login_page(session: &Session, status: StatusCode, phone: &str, error: Option<&str>) -> PageResult {
    let mut context = page_context(session, None, "Log in")?;
    context.insert("phone", phone.trim());
    if let Some(error) = error {
        context.insert("error", error);
    }
    Ok(views::page(status, "login.html", &context)?)
}

pub async fn register_form(session: Session) -> PageResult {
    register_page(&session, StatusCode::OK, &RegisterForm::default(), &BTreeMap::new())
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
            Ok(see_other("/rooms"))
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

pub async fn login_form(session: Session) -> PageResult {
    login_page(&session, StatusCode::OK, "", None)
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
            Ok(see_other("/rooms"))
        }
        Err(AppError::BadCredentials) => {
            login_page(&session, StatusCode::UNAUTHORIZED, &form.phone, Some("Wrong phone number or password."))
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            let message = format!("Too many failed attempts. Try again in {} minutes.", retry_after_secs.div_ceil(60));
            let mut response = login_page(&session, StatusCode::TOO_MANY_REQUESTS, &form.phone, Some(&message))?;
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(req: HttpRequest, form: Option<web::Form<CsrfForm>>) -> PageResult {
    let session = req.get_session();
    if current_user(&req).is_some() {
        auth::verify_csrf(&session, form.as_ref().and_then(|f| f.csrf_token.as_deref()))?;
        end_session(&req, &session);
    }
    Ok(see_other("/login"))
}
