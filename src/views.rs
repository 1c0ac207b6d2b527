//! Tera views. The templates are compiled into the binary so that it runs from any
//! working directory; `templates/` is where they are edited.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use tera::{Context, Tera};

use actix_web::http::header;
use actix_web::ResponseError;

use crate::db::DbError;
use crate::errors::AppError;

static TEMPLATES: LazyLock<Tera> = LazyLock::new(|| {
    let mut tera = Tera::default();
    tera.add_raw_templates(vec![
        ("base.html", include_str!("../templates/base.html")),
        ("error.html", include_str!("../templates/error.html")),
        ("invite.html", include_str!("../templates/invite.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("register.html", include_str!("../templates/register.html")),
        ("rooms.html", include_str!("../templates/rooms.html")),
        ("room.html", include_str!("../templates/room.html")),
        ("search.html", include_str!("../templates/search.html")),
        ("settings.html", include_str!("../templates/settings.html")),
    ])
    .expect("the built-in templates parse");
    tera.autoescape_on(vec![".html"]);
    tera
});

/// Renders a template into a full page with the given status.
pub fn page(status: StatusCode, template: &str, context: &Context) -> Result<HttpResponse, AppError> {
    let html = TEMPLATES.render(template, context).map_err(|e| {
        tracing::error!(error = ?e, template, "template failed to render");
        AppError::Unavailable
    })?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html))
}

/// An error's text as a sentence on a page: capitalized, with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    if !text.is_empty() && !text.ends_with(['.', '?', '!']) {
        text.push('.');
    }
    text
}

/// The body of an error page; falls back to plain markup if even that cannot render.
pub fn error_page(status: StatusCode, message: &str) -> String {
    let mut context = Context::new();
    context.insert("title", status.canonical_reason().unwrap_or("Error"));
    context.insert("status", &status.as_u16());
    context.insert("message", &sentence(message));
    TEMPLATES.render("error.html", &context).unwrap_or_else(|_| format!("<h1>{}</h1>", status.as_u16()))
}

/// The same errors rendered for a browser: a page, or a redirect to the login page.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub AppError);

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            AppError::Unauthorized => StatusCode::SEE_OTHER,
            ref e => e.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Unauthorized = self.0 {
            return HttpResponse::SeeOther().insert_header((header::LOCATION, "/login")).finish();
        }
        let mut response = HttpResponse::build(self.0.status());
        self.0.add_headers(&mut response);
        response.content_type("text/html; charset=utf-8").body(error_page(self.0.status(), &self.0.to_string()))
    }
}

impl From<DbError> for PageError {
    fn from(err: DbError) -> Self {
        PageError(err.into())
    }
}
