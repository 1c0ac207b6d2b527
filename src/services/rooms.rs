//! Rooms: who may use which room, and making them. Every transport (pages, JSON API,
//! event streams) asks here; the room actor applies the same rule from its cache
//! (`RoomInfo::admits`).

use crate::auth::CurrentUser;
use crate::errors::AppError;
use crate::models::room::{Refusal, Room, RoomSummary};
use crate::models::user::User;
use crate::models::validate;
use crate::state::AppState;

/// A room the user may use, or the error docs/protocol.md gives for it.
pub async fn room_for(state: &AppState, name: &str, user: &CurrentUser) -> Result<Room, AppError> {
    let (name, user_id) = (name.to_owned(), user.id);
    match state.db.run(move |c| Room::open_for(c, &name, user_id)).await? {
        Ok(room) => Ok(room),
        Err(Refusal::NoSuchRoom) => Err(AppError::NotFound("there is no such room".into())),
    }
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
