//! Every URL in one table.

use actix_web::web;

use crate::controllers::{self, api, assets, auth, events, health, rooms, ws};

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
        .route("/rooms", web::get().to(rooms::list))
        .route("/rooms", web::post().to(rooms::create))
        .route("/rooms/{name}", web::get().to(rooms::show))
        .route("/direct", web::post().to(rooms::direct))
        .route("/ws", web::get().to(ws::connect))
        .service(
            web::scope("/api")
                .route("/session", web::post().to(api::create_session))
                .route("/session", web::delete().to(api::delete_session))
                .route("/me", web::get().to(api::me))
                .route("/rooms", web::get().to(api::list_rooms))
                .route("/rooms", web::post().to(api::create_room))
                .route("/rooms/{name}/messages", web::get().to(api::list_messages))
                .route("/rooms/{name}/messages", web::post().to(api::post_message))
                .route("/rooms/{name}/read", web::post().to(api::mark_read))
                .route("/direct", web::post().to(api::open_direct))
                .route("/events", web::get().to(events::stream))
                .default_service(web::to(controllers::not_found_json)),
        );
}
