//! Registration, login and logout pages, and the login check the JSON API shares.

use std::collections::BTreeMap;

use actix_session::{Session, SessionExt};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::page_context;
use crate::auth::{self, CurrentUser};
use crate::db::blocking;
use crate::errors::{AppError, PageError};
use crate::models::user::{NewUser, PublicUser, Taken, User};
use crate::models::{now, validate};
use crate::state::AppState;
use crate::views;

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

    let addr = state.client_addr(&req);
    // Loopback is this host: an operator's script, or a reverse proxy whose clients are
    // not told apart (`trust_forwarded_for` off), where one quota for everybody would
    // lock every newcomer out.
    let quota = addr.parse::<std::net::IpAddr>().is_ok_and(|ip| !ip.is_loopback());
    let reserved = if quota {
        let at = state
            .registrations
            .reserve(&addr)
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
        Some(at)
    } else {
        None
    };
    let skeleton = validate::nickname_skeleton(&nickname);
    let created = create_account(&state, phone, nickname, skeleton, form.password.clone()).await;
    if let (Some(at), false) = (reserved, matches!(created, Ok(Ok(_)))) {
        // Only accounts made count against the address.
        state.registrations.release(&addr, at);
    }
    match created? {
        Ok(user) => {
            auth::log_in(&session, &user.public())?;
            tracing::info!(user_id = user.id, "registered");
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

/// Stores a new account unless its phone or (a look-alike of) its nickname is taken.
async fn create_account(
    state: &web::Data<AppState>,
    phone: String,
    nickname: String,
    skeleton: String,
    password: String,
) -> Result<Result<User, Taken>, AppError> {
    let taken = {
        let (phone, nickname, skeleton) = (phone.clone(), nickname.clone(), skeleton.clone());
        // A cheap look first spares a bcrypt hash; the unique keys still decide races.
        state
            .db
            .run(move |conn| {
                Ok(if User::find_by_phone(conn, &phone)?.is_some() {
                    Some(Taken::Phone)
                } else if User::nickname_taken(conn, &nickname, &skeleton)? {
                    Some(Taken::Nickname)
                } else {
                    None
                })
            })
            .await?
    };
    let created = match taken {
        Some(taken) => Err(taken),
        None => {
            let cost = state.config.bcrypt_cost;
            let hash = blocking(move || bcrypt::hash(password, cost)).await?.map_err(|e| {
                tracing::error!(error = %e, "bcrypt failed");
                AppError::Unavailable
            })?;
            state
                .db
                .run(move |conn| {
                    let new = NewUser {
                        phone: &phone,
                        nickname: &nickname,
                        nickname_skeleton: &skeleton,
                        password_hash: &hash,
                        created_at: now(),
                    };
                    User::create(conn, &new)
                })
                .await?
        }
    };
    Ok(created)
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

/// Ends the session and the WebSocket and event streams it opened.
pub fn end_session(req: &HttpRequest, session: &Session) {
    if let Some(login_id) = auth::log_out(session) {
        if let Some(state) = req.app_data::<web::Data<AppState>>() {
            state.hub.do_send(crate::chat::room::EndLogin { login_id });
        }
    }
}

/// Checks a phone and password under the login throttle. Every failure looks the same.
pub async fn authenticate(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    phone_input: &str,
    password: &str,
) -> Result<PublicUser, AppError> {
    // The throttle key is the normalized number when there is one, so that writing the
    // same number differently does not earn more attempts.
    let phone = validate::normalize_phone(phone_input, state.region).unwrap_or_else(|_| phone_input.trim().to_owned());
    let addr = state.client_addr(req);
    let attempt =
        state.throttle.reserve(&phone, &addr).map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    let lookup_phone = phone.clone();
    let password = password.to_owned();
    let dummy_hash = state.dummy_hash.clone();
    let checked = async move {
        let user = state.db.run(move |conn| User::find_by_phone(conn, &lookup_phone)).await?;
        let hash = user.as_ref().map_or(dummy_hash, |u| u.password_hash.clone());
        let matches = blocking(move || {
            password.len() <= validate::PASSWORD_MAX_BYTES && bcrypt::verify(&password, &hash).unwrap_or(false)
        })
        .await?;
        Ok::<_, AppError>(user.filter(|_| matches))
    }
    .await;

    match checked {
        Ok(Some(user)) => {
            state.throttle.succeeded(&attempt);
            Ok(user.public())
        }
        Ok(None) => Err(AppError::BadCredentials),
        Err(e) => {
            state.throttle.release(&attempt);
            Err(e)
        }
    }
}
