//! The stylesheet, scripts and icon, compiled into the binary like the templates.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::errors::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset { name: "style.css", content_type: "text/css; charset=utf-8", body: include_str!("../../static/style.css") },
    Asset { name: "icon.svg", content_type: "image/svg+xml", body: include_str!("../../static/icon.svg") },
    Asset { name: "ui.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../../static/ui.js") },
    Asset {
        name: "settings.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/settings.js"),
    },
    Asset {
        name: "rooms.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/rooms.js"),
    },
    Asset {
        name: "chat.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat.js"),
    },
    // ES modules that chat.js imports: the outbox and the words and list layout (tested
    // on their own in tests/js/), the WebSocket connection, the view with its message
    // list and composer, and the sending over the outbox.
    Asset {
        name: "chat-outbox.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-outbox.js"),
    },
    Asset {
        name: "chat-connection.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-connection.js"),
    },
    Asset {
        name: "chat-format.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-format.js"),
    },
    Asset {
        name: "chat-view.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-view.js"),
    },
    Asset {
        name: "chat-message-list.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-message-list.js"),
    },
    Asset {
        name: "chat-composer.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-composer.js"),
    },
    Asset {
        name: "chat-sending.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-sending.js"),
    },
    // Replies, edits, deletes and reactions: the controller's part, the pure lifecycle
    // (tested in tests/js/), one message drawn, and the message menu.
    Asset {
        name: "chat-actions.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-actions.js"),
    },
    Asset {
        name: "chat-lifecycle.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-lifecycle.js"),
    },
    Asset {
        name: "chat-message-render.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-message-render.js"),
    },
    Asset {
        name: "chat-message-menu.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-message-menu.js"),
    },
    // Moderation: what we are in the room (a role, a mute, being removed), the room
    // menu with its people list, the JSON calls behind it, and its words and rules
    // (pure, tested in tests/js/).
    Asset {
        name: "chat-standing.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-standing.js"),
    },
    Asset {
        name: "chat-room-menu.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-room-menu.js"),
    },
    Asset {
        name: "chat-room-members.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-room-members.js"),
    },
    Asset {
        name: "chat-room-api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-room-api.js"),
    },
    Asset {
        name: "chat-room-format.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-room-format.js"),
    },
    // Search and mentions: the search page's script and its words and highlighting
    // (pure, tested in tests/js/), the mentions' rules (pure, tested) and the composer's
    // @ suggestions, and the browser notifications shared by the chat and room list.
    Asset {
        name: "search.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/search.js"),
    },
    Asset {
        name: "search-format.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/search-format.js"),
    },
    Asset {
        name: "chat-mentions.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-mentions.js"),
    },
    Asset {
        name: "chat-mention-picker.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/chat-mention-picker.js"),
    },
    Asset {
        name: "notifications.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/notifications.js"),
    },
    // The rooms page's "Browse rooms" (the room directory) and its words (pure, tested
    // in tests/js/).
    Asset {
        name: "rooms-directory.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/rooms-directory.js"),
    },
    Asset {
        name: "directory-format.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/directory-format.js"),
    },
    // "Message someone"'s suggestions, and the listbox they share with the composer's
    // `@` suggestions.
    Asset {
        name: "people-picker.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/people-picker.js"),
    },
    Asset {
        name: "suggestion-list.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/suggestion-list.js"),
    },
];

/// A weak validator from the content, so browsers revalidate cheaply (304).
fn etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}

pub async fn asset(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let asset =
        ASSETS.iter().find(|a| a.name == name.as_str()).ok_or_else(|| AppError::NotFound("no such file".into()))?;
    let tag = etag(asset.body);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    Ok(if fresh { response.finish() } else { response.content_type(asset.content_type).body(asset.body) })
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    /// A file added to static/ but not here would be a 404 for the page that imports it.
    #[test]
    fn every_file_in_static_is_served() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
        for entry in std::fs::read_dir(dir).expect("static/") {
            let name = entry.expect("an entry").file_name().into_string().expect("a UTF-8 name");
            let served =
                ASSETS.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("static/{name} is not in ASSETS"));
            let on_disk = std::fs::read_to_string(format!("{dir}/{name}")).expect("readable");
            assert_eq!(served.body, on_disk, "static/{name}");
        }
    }
}
