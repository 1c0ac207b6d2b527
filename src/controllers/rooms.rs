//! The room list and the chat page.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::page_context;
use crate::auth::{self, CurrentUser, PageUser};
use crate::errors::AppError;
use crate::ids::MessageId;
use crate::models::message::Message;
use crate::models::room::{Room, RoomMember, RoomSummary};
use crate::permissions::{self, Action};
use crate::services::rooms::{authorize, create_room, describe, open_direct, title_for};
use crate::state::AppState;
use crate::views;
use crate::views::{sentence, PageError};

type PageResult = Result<HttpResponse, PageError>;

/// A room in the list page: its summary and its latest message.
#[derive(Serialize)]
struct RoomListItem {
    #[serde(flatten)]
    summary: RoomSummary,
    preview: Option<Preview>,
}

#[derive(Serialize)]
struct Preview {
    nickname: String,
    text: String,
    sent_at: String,
}

/// A form on the rooms page sent back with what was typed and why it was refused, so
/// the error shows next to its own field.
enum Refused<'a> {
    Create { name: &'a str, error: &'a str },
    Direct { nickname: &'a str, error: &'a str },
}

async fn rooms_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    status: StatusCode,
    refused: Option<Refused<'_>>,
) -> PageResult {
    let user_id = user.id;
    let (rooms, latest) = state
        .db
        .run(move |c| {
            let rooms = Room::list_for(c, user_id)?;
            let ids: Vec<MessageId> =
                rooms.iter().map(|r| r.last_message_id).filter(|id| *id > MessageId::NONE).collect();
            Ok((rooms, Message::find_by_ids(c, &ids)?))
        })
        .await?;
    let total_unread: i64 = rooms.iter().map(|r| r.unread).sum();
    let items: Vec<RoomListItem> = rooms
        .into_iter()
        .map(|summary| {
            let preview = latest.iter().find(|m| m.id == summary.last_message_id).map(|m| Preview {
                nickname: m.author.nickname.clone(),
                text: m.body.chars().take(120).collect(),
                sent_at: crate::models::rfc3339(&m.created_at),
            });
            RoomListItem { summary, preview }
        })
        .collect();
    let mut context = page_context(session, Some(user), "Rooms")?;
    context.insert("rooms", &items);
    context.insert("total_unread", &total_unread);
    match refused {
        Some(Refused::Create { name, error }) => {
            context.insert("name", name);
            context.insert("name_error", error);
        }
        Some(Refused::Direct { nickname, error }) => {
            context.insert("nickname", nickname);
            context.insert("nickname_error", error);
        }
        None => {}
    }
    Ok(views::page(status, "rooms.html", &context)?)
}

pub async fn list(state: web::Data<AppState>, session: Session, PageUser(user): PageUser) -> PageResult {
    rooms_page(&state, &session, &user, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateRoomForm {
    pub csrf_token: Option<String>,
    pub name: String,
    /// The "private" checkbox: present (any value) when ticked.
    pub private: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    session: Session,
    PageUser(user): PageUser,
    form: web::Form<CreateRoomForm>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    let name = form.name.trim();
    match create_room(&state, name, form.private.is_some(), &user).await {
        Ok(room) => {
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/rooms/{}", room.name))).finish())
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let error = sentence(&e.to_string());
            rooms_page(&state, &session, &user, e.status(), Some(Refused::Create { name, error: &error })).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DirectForm {
    pub csrf_token: Option<String>,
    pub nickname: String,
}

pub async fn direct(
    state: web::Data<AppState>,
    session: Session,
    PageUser(user): PageUser,
    form: web::Form<DirectForm>,
) -> PageResult {
    auth::verify_csrf(&session, form.csrf_token.as_deref())?;
    match open_direct(&state, &user, &form.nickname).await {
        Ok((room, _, _)) => {
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/rooms/{}", room.name))).finish())
        }
        Err(e @ (AppError::Invalid(_) | AppError::NotFound(_))) => {
            let (nickname, error) = (form.nickname.trim(), sentence(&e.to_string()));
            rooms_page(&state, &session, &user, e.status(), Some(Refused::Direct { nickname, error: &error })).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    PageUser(user): PageUser,
    name: web::Path<String>,
) -> PageResult {
    let (room, standing) = authorize(&state, &name, &user, Action::Read).await?;
    let title = title_for(&state, &room, &user).await?;
    let (room_id, user_id) = (room.id, user.id);
    let last_read = state.db.run(move |c| RoomMember::last_read(c, room_id, user_id)).await?;
    let mut context = page_context(&session, Some(&user), &title)?;
    // What the page offers: the room menu to those who moderate, roles to the owner.
    let now = crate::models::now();
    let facts = room.facts();
    let may = |action| permissions::may(facts, &standing, action, now).is_ok();
    context.insert("moderates", &may(Action::Moderate));
    context.insert("gives_roles", &may(Action::GiveRoles));
    context.insert("deletes_room", &may(Action::DeleteRoom));
    context.insert("muted_until", &standing.muted_at(now).map(|t| crate::models::rfc3339(&t)).unwrap_or_default());
    context.insert("room", &describe(&state, room, title.clone(), &user).await?);
    context.insert("last_read", &last_read);
    context.insert("max_text_chars", &state.config.limits.max_text_chars);
    context.insert("history_page", &state.config.limits.history_default);
    Ok(views::page(StatusCode::OK, "room.html", &context)?)
}
