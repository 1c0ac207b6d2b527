//! Request handlers: they parse, call models or actors, and render a view or JSON.

pub mod api;
pub mod assets;
pub mod auth;
pub mod health;

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
