//! Every URL in one table.

use actix_web::web;

use crate::controllers::{self, api, assets, auth, health};

/// Routes that need no session (and so skip the session store).
pub fn public(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/static/{name}", web::get().to(assets::asset));
}

/// Routes that read or write the session.
pub fn with_session(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(auth::home))
        .route("/register", web::get().to(auth::register_form))
        .route("/register", web::post().to(auth::register))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .service(
            web::scope("/api")
                .route("/session", web::post().to(api::create_session))
                .route("/session", web::delete().to(api::delete_session))
                .route("/me", web::get().to(api::me))
                .default_service(web::to(controllers::not_found_json)),
        );
}
