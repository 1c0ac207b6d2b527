//! Every URL in one table.

use actix_web::web;

use crate::controllers::{
    self, account, admin, api, assets, auth, directory, events, health, invites, members, messages, moderation,
    openapi, people, rooms, search, settings, ws,
};

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
        .route("/search", web::get().to(search::page))
        .route("/settings", web::get().to(settings::page))
        .route("/settings/nickname", web::post().to(settings::nickname))
        .route("/settings/password", web::post().to(settings::password))
        .route("/settings/avatar", web::post().to(settings::remove_avatar))
        .route("/settings/delete", web::post().to(settings::delete))
        .route("/avatars/{user_id}/{version}", web::get().to(account::avatar))
        .route("/invite/{code}", web::get().to(invites::page))
        .route("/invite/{code}", web::post().to(invites::join))
        .route("/ws", web::get().to(ws::connect))
        .service(
            web::scope("/api")
                .service(
                    api_resource("/session", "POST, DELETE")
                        .route(web::post().to(api::create_session))
                        .route(web::delete().to(api::delete_session)),
                )
                .service(
                    api_resource("/me", "GET, PATCH, DELETE")
                        .route(web::get().to(api::me))
                        .route(web::patch().to(account::change_nickname))
                        .route(web::delete().to(account::delete_account)),
                )
                .service(api_resource("/me/password", "POST").route(web::post().to(account::change_password)))
                .service(
                    api_resource("/me/avatar", "PUT, DELETE")
                        .route(web::put().to(account::put_avatar))
                        .route(web::delete().to(account::delete_avatar)),
                )
                .service(api_resource("/me/export", "GET").route(web::get().to(account::export)))
                .service(api_resource("/search", "GET").route(web::get().to(search::search)))
                .service(api_resource("/directory", "GET").route(web::get().to(directory::directory)))
                .service(api_resource("/users", "GET").route(web::get().to(people::find)))
                .service(
                    api_resource("/rooms", "GET, POST")
                        .route(web::get().to(api::list_rooms))
                        .route(web::post().to(api::create_room)),
                )
                .service(
                    api_resource("/rooms/{name}", "GET, PATCH, DELETE")
                        .route(web::get().to(moderation::get_room))
                        .route(web::patch().to(moderation::set_topic))
                        .route(web::delete().to(moderation::delete_room)),
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
                .service(
                    api_resource("/rooms/{name}/mutes", "GET, POST")
                        .route(web::get().to(moderation::list_mutes))
                        .route(web::post().to(moderation::mute)),
                )
                .service(
                    api_resource("/rooms/{name}/mutes/{user_id}", "DELETE").route(web::delete().to(moderation::unmute)),
                )
                .service(
                    api_resource("/rooms/{name}/bans", "GET, POST")
                        .route(web::get().to(moderation::list_bans))
                        .route(web::post().to(moderation::ban)),
                )
                .service(
                    api_resource("/rooms/{name}/bans/{user_id}", "DELETE").route(web::delete().to(moderation::unban)),
                )
                .service(api_resource("/rooms/{name}/moderation", "GET").route(web::get().to(moderation::log)))
                .service(
                    api_resource("/rooms/{name}/invites", "GET, POST")
                        .route(web::get().to(invites::list))
                        .route(web::post().to(invites::create)),
                )
                .service(
                    api_resource("/invites/{code}", "POST, DELETE")
                        .route(web::post().to(invites::accept))
                        .route(web::delete().to(invites::revoke)),
                )
                .service(api_resource("/admin/users/{id}/disable", "POST").route(web::post().to(admin::disable)))
                .service(api_resource("/admin/users/{id}/enable", "POST").route(web::post().to(admin::enable)))
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
