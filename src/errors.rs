//! One error type for every refusal, mapped to docs/protocol.md's codes in one place, and
//! rendered as JSON for the API or as an HTML page for the browser pages.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::codes::ErrorCode;
use crate::db::DbError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// Malformed input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed input that breaks a rule (422).
    #[error("{0}")]
    Invalid(String),
    /// A JSON route called without `Content-Type: application/json` (415).
    #[error("send JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    /// A body of a type the route does not take (415).
    #[error("{0}")]
    WrongMediaType(String),
    /// `Accept` does not admit what the route produces (406).
    #[error("{0}")]
    NotAcceptable(String),
    #[error("you need to log in")]
    Unauthorized,
    /// Login refused; the text never says which field was wrong.
    #[error("wrong phone number or password")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A method the address does not serve (405); `allow` lists those it does.
    #[error("{message}")]
    MethodNotAllowed { allow: &'static str, message: String },
    /// The request body did not arrive within `limits.body_read_secs` (408).
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// Storage (or another dependency) is down: retry later (503).
    #[error("the service is temporarily unavailable; try again later")]
    Unavailable,
}

impl AppError {
    /// The machine-readable code (docs/protocol.md).
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::BadRequest(_)
            | AppError::Invalid(_)
            | AppError::UnsupportedMediaType
            | AppError::WrongMediaType(_)
            | AppError::NotAcceptable(_)
            | AppError::RequestTimeout
            | AppError::MethodNotAllowed { .. } => ErrorCode::BadRequest,
            AppError::Unauthorized | AppError::BadCredentials => ErrorCode::Unauthorized,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::TooLarge(_) => ErrorCode::TooLarge,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Unavailable => ErrorCode::Unavailable,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::UnsupportedMediaType | AppError::WrongMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code(), message: self.to_string() } }
    }

    pub fn add_headers(&self, response: &mut actix_web::HttpResponseBuilder) {
        match self {
            AppError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Unavailable => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            AppError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, *allow));
            }
            _ => {}
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// docs/protocol.md's machine-readable code.
    pub code: ErrorCode,
    pub message: String,
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Query(diesel::result::Error::NotFound) => AppError::NotFound("not found".into()),
            err if err.is_unique_violation() => AppError::Conflict("already exists".into()),
            err => {
                tracing::error!(error = %err, "storage failure");
                AppError::Unavailable
            }
        }
    }
}

/// JSON rendering, for the API.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        self.add_headers(&mut response);
        response.json(self.body())
    }
}

/// Runs blocking work that is not database work (bcrypt, say) off the async workers.
pub async fn off_workers<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    actix_web::web::block(work).await.map_err(|_| AppError::Unavailable)
}
