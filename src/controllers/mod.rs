//! Request handlers: they parse, call models or actors, and render a view or JSON.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod directory;
pub mod events;
pub mod health;
pub mod invites;
pub mod members;
pub mod messages;
pub mod moderation;
pub mod openapi;
pub mod people;
pub mod rooms;
pub mod search;
pub mod settings;
pub mod ws;

use actix_session::Session;
use tera::Context;

use crate::auth::{csrf_token, CurrentUser};
use crate::errors::AppError;

/// What the base layout needs: the user (if any) and the session's CSRF token.
pub fn page_context(session: &Session, user: Option<&CurrentUser>, title: &str) -> Result<Context, AppError> {
    let mut context = Context::new();
    context.insert("title", title);
    context.insert("csrf_token", &csrf_token(session)?);
    if let Some(user) = user {
        context.insert("user", &user.public());
    }
    Ok(context)
}

/// A page form that cannot be read carries no CSRF token either: 403, as docs/protocol.md
/// says of a POST without one (413 when it is too large), instead of a bare 400.
pub fn form_config(limit: usize) -> actix_web::web::FormConfig {
    actix_web::web::FormConfig::default().limit(limit).error_handler(|err, _req| {
        use actix_web::error::UrlencodedError;
        let error = match err {
            UrlencodedError::Overflow { .. } => AppError::TooLarge("the form is too large".into()),
            _ => AppError::Forbidden("the form has expired or did not come from this site; reload the page".into()),
        };
        crate::views::PageError(error).into()
    })
}

/// Unknown addresses outside the API.
pub async fn not_found_page() -> Result<actix_web::HttpResponse, crate::views::PageError> {
    Err(AppError::NotFound("there is nothing at this address".into()).into())
}

/// Unknown addresses under `/api`.
pub async fn not_found_json() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound("there is nothing at this address".into()))
}

pub async fn method_not_allowed_json(
    req: actix_web::HttpRequest,
    allow: &'static str,
) -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed { allow, message: format!("{} is not served at {}", req.method(), req.path()) })
}
