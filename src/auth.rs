//! Who is asking: the logged-in user from the session, CSRF tokens, logging in and out.

use std::future::{ready, Ready};

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use rand::distr::{Alphanumeric, SampleString};

use crate::errors::AppError;
use crate::ids::UserId;
use crate::models::user::PublicUser;
use crate::views::PageError;

pub const USER_ID: &str = "uid";
const NICKNAME: &str = "nick";
/// Identifies one login, so that logging out can close that login's streams only.
const LOGIN_ID: &str = "sid";
const CSRF: &str = "csrf";

/// The user behind a request with a live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub nickname: String,
    pub login_id: String,
}

impl CurrentUser {
    pub fn public(&self) -> PublicUser {
        PublicUser { id: self.id, nickname: self.nickname.clone() }
    }

    fn from_session(session: &Session) -> Option<CurrentUser> {
        Some(CurrentUser {
            id: session.get::<UserId>(USER_ID).ok()??,
            nickname: session.get::<String>(NICKNAME).ok()??,
            login_id: session.get::<String>(LOGIN_ID).ok()??,
        })
    }
}

/// For the API: no session answers 401 JSON.
impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(CurrentUser::from_session(&req.get_session()).ok_or(AppError::Unauthorized))
    }
}

/// For pages: no session redirects to the login page.
pub struct PageUser(pub CurrentUser);

impl FromRequest for PageUser {
    type Error = PageError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(CurrentUser::from_session(&req.get_session()).map(PageUser).ok_or(PageError(AppError::Unauthorized)))
    }
}

fn random_token() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 43)
}

fn session_write_failed<E: std::fmt::Display>(e: E) -> AppError {
    tracing::error!(error = %e, "session state could not be written");
    AppError::Unavailable
}

/// Starts a login on a fresh session id (no fixation) with a fresh CSRF token.
pub fn log_in(session: &Session, user: &PublicUser) -> Result<(), AppError> {
    session.renew();
    session.insert(USER_ID, user.id).map_err(session_write_failed)?;
    session.insert(NICKNAME, &user.nickname).map_err(session_write_failed)?;
    session.insert(LOGIN_ID, random_token()).map_err(session_write_failed)?;
    session.insert(CSRF, random_token()).map_err(session_write_failed)?;
    Ok(())
}

/// Ends the session; returns the login it was, if any, so its streams can be closed.
pub fn log_out(session: &Session) -> Option<String> {
    let login_id = session.get::<String>(LOGIN_ID).ok().flatten();
    session.purge();
    login_id
}

/// The session's CSRF token, created on first use (one per session, valid on every form).
pub fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return Ok(token);
    }
    let token = random_token();
    session.insert(CSRF, &token).map_err(session_write_failed)?;
    Ok(token)
}

/// Refuses a form whose token is missing or is not this session's.
pub fn verify_csrf(session: &Session, submitted: Option<&str>) -> Result<(), AppError> {
    let expected = session.get::<String>(CSRF).ok().flatten();
    match (expected, submitted) {
        (Some(expected), Some(submitted)) if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) => Ok(()),
        _ => Err(AppError::Forbidden("the form has expired or did not come from this site; reload the page".into())),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
