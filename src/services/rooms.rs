//! Rooms: who may use which room, and making them. Every transport (pages, JSON API,
//! event streams) asks here, and this asks `crate::permissions`; the room actor asks
//! the same rules at each join.

use crate::auth::CurrentUser;
use crate::errors::AppError;
use crate::models::room::{Room, RoomSummary};
use crate::models::user::User;
use crate::models::validate;
use crate::permissions::{Action, Denied, Standing};
use crate::state::AppState;

/// What a refusal of the rules answers: a room that is not there for this user is 404,
/// exactly as a room that does not exist.
pub fn denied(denied: Denied) -> AppError {
    match denied {
        Denied::Missing => AppError::NotFound("there is no such room".into()),
        Denied::Forbidden(why) => AppError::Forbidden(why),
    }
}

/// The room, and what the user is in it, if they may do `action` there; else the
/// error docs/protocol.md gives for it.
pub async fn authorize(
    state: &AppState,
    name: &str,
    user: &CurrentUser,
    action: Action,
) -> Result<(Room, Standing), AppError> {
    let (name, user_id) = (name.to_owned(), user.id);
    state.db.run(move |c| Room::open_for(c, &name, user_id, action)).await?.map_err(denied)
}

/// A room the user may read (and so use), or the error docs/protocol.md gives for it.
pub async fn room_for(state: &AppState, name: &str, user: &CurrentUser) -> Result<Room, AppError> {
    Ok(authorize(state, name, user, Action::Read).await?.0)
}

/// Creates a public or private room owned by `user`; the error says why not (422 bad
/// name, 409 taken).
pub async fn create_room(state: &AppState, name: &str, private: bool, user: &CurrentUser) -> Result<Room, AppError> {
    validate::room_name(name).map_err(|e| AppError::Invalid(e.into()))?;
    let (name, user_id) = (name.to_owned(), user.id);
    state
        .db
        .run(move |c| Room::create(c, &name, private, user_id))
        .await?
        .ok_or_else(|| AppError::Conflict("a room with this name already exists".into()))
}

/// A room as `user` sees it (the room object), called `title`.
pub async fn describe(
    state: &AppState,
    room: Room,
    title: String,
    user: &CurrentUser,
) -> Result<RoomSummary, AppError> {
    let user_id = user.id;
    Ok(state.db.run(move |c| Room::describe(c, room, title, user_id)).await?)
}

/// What the user calls the room: its name, or for a direct room the other person's
/// nickname.
pub async fn title_for(state: &AppState, room: &Room, user: &CurrentUser) -> Result<String, AppError> {
    if !room.is_direct() {
        return Ok(room.name.clone());
    }
    let (room_id, user_id) = (room.id, user.id);
    let partner = state
        .db
        .run(move |c| {
            let ids = Room::member_ids(c, room_id)?;
            let other = ids.into_iter().find(|id| *id != user_id).unwrap_or(user_id);
            User::find(c, other)
        })
        .await?;
    Ok(partner.map_or_else(|| room.name.clone(), |u| u.nickname))
}

/// The private two-person room with the user of this nickname: the room, whether this
/// call created it, and the other person's nickname.
pub async fn open_direct(
    state: &AppState,
    user: &CurrentUser,
    nickname: &str,
) -> Result<(Room, bool, String), AppError> {
    let (nickname, user_id) = (nickname.trim().to_owned(), user.id);
    state
        .db
        .run(move |c| {
            let Some(partner) = User::find_by_nickname(c, &nickname)? else { return Ok(None) };
            if partner.id == user_id {
                return Ok(Some(Err(())));
            }
            let (room, created) = Room::direct_between(c, user_id, partner.id)?;
            Ok(Some(Ok((room, created, partner.nickname))))
        })
        .await?
        .ok_or_else(|| AppError::NotFound("nobody has this nickname".into()))?
        .map_err(|()| AppError::Invalid("a direct room needs someone other than you".into()))
}
