//! The JSON API (PROTOCOL.md): the same session cookie as the pages, errors as JSON.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::{authenticate, end_session};
use crate::auth::{self, CurrentUser};
use crate::errors::AppError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub phone: String,
    pub password: String,
}

pub async fn create_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let user = authenticate(&state, &req, &body.phone, &body.password).await?;
    auth::log_in(&session, &user)?;
    Ok(HttpResponse::Ok().json(json!({ "user": user })))
}

pub async fn delete_session(req: HttpRequest, session: Session, _user: CurrentUser) -> HttpResponse {
    end_session(&req, &session);
    HttpResponse::NoContent().finish()
}

pub async fn me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "user": user.public() }))
}

/// Turns the extractors' own refusals into PROTOCOL.md's JSON errors.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _req| {
        use actix_web::error::JsonPayloadError;
        match err {
            JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                AppError::TooLarge("the request body is too large".into())
            }
            err => AppError::BadRequest(format!("invalid JSON body: {err}")),
        }
        .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| AppError::BadRequest(format!("invalid query string: {err}")).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| AppError::BadRequest(format!("invalid path: {err}")).into())
}
