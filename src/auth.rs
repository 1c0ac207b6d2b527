//! Who is asking: the logged-in user from the session, CSRF tokens, logging in and out.

use actix_session::{Session, SessionExt};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use rand::distr::{Alphanumeric, SampleString};

use crate::errors::AppError;
use crate::ids::UserId;
use crate::models::user::{PublicUser, User};
use crate::state::AppState;
use crate::views::PageError;

pub const USER_ID: &str = "uid";
/// Identifies one login, so that logging out (or a password change) can close that
/// login's streams only (or every other one).
pub const LOGIN_ID: &str = "sid";
const CSRF: &str = "csrf";

/// The user behind a request with a live session, as stored now: a nickname or avatar
/// changed on another device shows at once, and a disabled or deleted account has no
/// session at all.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub nickname: String,
    pub avatar_url: Option<String>,
    pub login_id: String,
}

impl CurrentUser {
    pub fn public(&self) -> PublicUser {
        PublicUser { id: self.id, nickname: self.nickname.clone(), avatar_url: self.avatar_url.clone() }
    }

    /// The session's user id and login, before the account is looked at.
    pub fn session_login(session: &Session) -> Option<(UserId, String)> {
        Some((session.get::<UserId>(USER_ID).ok()??, session.get::<String>(LOGIN_ID).ok()??))
    }

    async fn from_request_async(req: HttpRequest) -> Result<CurrentUser, AppError> {
        let (id, login_id) = CurrentUser::session_login(&req.get_session()).ok_or(AppError::Unauthorized)?;
        let state = req.app_data::<web::Data<AppState>>().ok_or(AppError::Unavailable)?;
        let user = state.db.run(move |c| User::find(c, id)).await?;
        match user {
            Some(user) if user.disabled_at.is_none() && user.deleted_at.is_none() => {
                let shown = user.public();
                Ok(CurrentUser { id, nickname: shown.nickname, avatar_url: shown.avatar_url, login_id })
            }
            _ => Err(AppError::Unauthorized),
        }
    }
}

/// For the API: no session answers 401 JSON.
impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(CurrentUser::from_request_async(req.clone()))
    }
}

/// For pages: no session redirects to the login page.
pub struct PageUser(pub CurrentUser);

impl FromRequest for PageUser {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match CurrentUser::from_request_async(req).await {
                Ok(user) => Ok(PageUser(user)),
                // A storage failure is a 503 page, not a trip to the login page.
                Err(AppError::Unavailable) => Err(PageError(AppError::Unavailable)),
                Err(_) => Err(PageError(AppError::Unauthorized)),
            }
        })
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
