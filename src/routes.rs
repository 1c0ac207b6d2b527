//! Every URL in one table.

use actix_web::web;

use crate::controllers::{self, api, assets, auth, events, health, members, messages, openapi, rooms, ws};

/// Routes that need no session (and so skip the session store). `/metrics` is here
/// unless it has an address of its own (`metrics_bind`).
pub fn public(cfg: &mut web::ServiceConfig, with_metrics: bool) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/static/{name}", web::get().to(assets::asset))
        .route("/api/openapi.json", web::get().to(openapi::document));
    if with_metrics {
        metrics(cfg);
    }
}

/// The metrics route alone, for the metrics address.
pub fn metrics(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(health::metrics));
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
                .service(
                    api_resource("/session", "POST, DELETE")
                        .route(web::post().to(api::create_session))
                        .route(web::delete().to(api::delete_session)),
                )
                .service(api_resource("/me", "GET").route(web::get().to(api::me)))
                .service(
                    api_resource("/rooms", "GET, POST")
                        .route(web::get().to(api::list_rooms))
                        .route(web::post().to(api::create_room)),
                )
                .service(
                    api_resource("/rooms/{name}/messages", "GET, POST")
                        .route(web::get().to(api::list_messages))
                        .route(web::post().to(api::post_message)),
                )
                .service(
                    api_resource("/rooms/{name}/messages/{id}", "GET, PATCH, DELETE")
                        .route(web::get().to(messages::get_message))
                        .route(web::patch().to(messages::edit_message))
                        .route(web::delete().to(messages::delete_message)),
                )
                .service(
                    api_resource("/rooms/{name}/messages/{id}/reactions/{emoji}", "PUT, DELETE")
                        .route(web::put().to(messages::add_reaction))
                        .route(web::delete().to(messages::remove_reaction)),
                )
                .service(
                    api_resource("/rooms/{name}/messages/{id}/edits", "GET")
                        .route(web::get().to(messages::message_edits)),
                )
                .service(api_resource("/rooms/{name}/members", "GET").route(web::get().to(members::list_members)))
                .service(
                    api_resource("/rooms/{name}/members/{user_id}/role", "PUT").route(web::put().to(members::set_role)),
                )
                .service(api_resource("/rooms/{name}/read", "POST").route(web::post().to(api::mark_read)))
                .service(api_resource("/direct", "POST").route(web::post().to(api::open_direct)))
                .service(api_resource("/events", "GET").route(web::get().to(events::stream)))
                .default_service(web::to(controllers::not_found_json)),
        );
}

/// An API address serving `allow`: another method is answered 405 with `Allow`, not 404.
fn api_resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |req| controllers::method_not_allowed_json(req, allow)))
}
