//! `GET /api/openapi.json`: the OpenAPI 3 description of the JSON API, generated from
//! the handlers' annotations and the types they answer with.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{account, admin, api, directory, events, invites, members, messages, moderation, people, search};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chatroom",
        description = "The JSON API of a self-hosted chat server. Errors are \
                       `{\"error\": {\"code\", \"message\"}}` with the codes of docs/protocol.md. \
                       Real-time delivery is the WebSocket at /ws and the event stream at /api/events."
    ),
    paths(
        api::create_session,
        api::delete_session,
        api::me,
        account::change_nickname,
        account::change_password,
        account::put_avatar,
        account::delete_avatar,
        account::delete_account,
        account::export,
        api::list_rooms,
        api::create_room,
        api::list_messages,
        api::post_message,
        messages::get_message,
        messages::edit_message,
        messages::delete_message,
        messages::add_reaction,
        messages::remove_reaction,
        messages::message_edits,
        members::list_members,
        members::set_role,
        moderation::get_room,
        moderation::set_topic,
        moderation::delete_room,
        moderation::mute,
        moderation::unmute,
        moderation::list_mutes,
        moderation::ban,
        moderation::unban,
        moderation::list_bans,
        moderation::log,
        invites::create,
        invites::list,
        invites::accept,
        invites::revoke,
        admin::disable,
        admin::enable,
        api::mark_read,
        api::open_direct,
        events::stream,
        search::search,
        directory::directory,
        people::find,
    ),
    modifiers(&SessionCookie),
    tags(
        (name = "session", description = "logging in and out"),
        (name = "account", description = "your nickname, password, avatar, deleting your account, your data"),
        (name = "rooms", description = "public, private and direct rooms"),
        (name = "moderation", description = "topics, invites, mutes, bans and the moderation log"),
        (name = "admin", description = "what server administrators may do"),
        (name = "messages", description = "history, search, sending, replies, edits, deletes, reactions, read markers, the event stream"),
    )
)]
pub struct ApiDoc;

/// The session cookie the pages and `POST /api/session` set.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::SESSION_COOKIE))),
        );
    }
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_json().expect("the OpenAPI document serializes"));

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}
