//! Invite links (docs/protocol.md, "Rooms"): made by a room's owner and moderators,
//! used by anyone logged in to become a member, with an end and a number of uses.
//!
//! A code is 128 bits derived from a random nonce with a key that never enters the
//! database (made from the data directory's session key), so that a dump of the
//! database reveals no usable code while the owner can still be shown the link; codes
//! are looked up by their SHA-256.

use base64::Engine;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::CurrentUser;
use crate::errors::AppError;
use crate::models::invite::{Invite, NewInvite};
use crate::models::moderation::{self, ActionKind, ModerationLog, NewAction};
use crate::models::room::{Room, RoomMember};
use crate::models::user::{PublicUser, User};
use crate::models::{now, rfc3339};
use crate::permissions::{self, Action};
use crate::state::AppState;

use super::rooms::{authorize, denied};

pub const MAX_USES: i32 = 1000;
pub const DEFAULT_USES: i32 = 50;
pub const MAX_HOURS: i64 = 720;
pub const DEFAULT_HOURS: i64 = 168;

/// The key invite codes are derived with.
#[derive(Clone)]
pub struct InviteKey([u8; 32]);

impl InviteKey {
    /// A key of its own from the server's secret (the session key's bytes): a code
    /// tells nothing about the session key, and the other way round.
    pub fn derive(secret: &[u8]) -> InviteKey {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(b"chatroom invite codes, version 1");
        InviteKey(mac.finalize().into_bytes().into())
    }

    fn code(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(nonce.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }
}

/// What a code is looked up by.
fn code_hash(code: &str) -> String {
    Sha256::digest(code.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// An invite as its room's owner and moderators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InviteView {
    pub code: String,
    /// The invite page, where the code is used.
    pub url: String,
    pub expires_at: String,
    pub uses_left: i32,
    pub created_by: PublicUser,
    pub created_at: String,
}

fn view(key: &InviteKey, origin: &str, invite: &Invite, created_by: PublicUser) -> InviteView {
    let code = key.code(&invite.nonce);
    InviteView {
        url: format!("{origin}/invite/{code}"),
        code,
        expires_at: rfc3339(&invite.expires_at),
        uses_left: invite.uses_left,
        created_by,
        created_at: rfc3339(&invite.created_at),
    }
}

/// Makes an invite to the room (owner, moderators, administrators).
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    origin: &str,
    max_uses: Option<i64>,
    hours: Option<i64>,
) -> Result<InviteView, AppError> {
    let uses = max_uses.unwrap_or(DEFAULT_USES as i64);
    let hours = hours.unwrap_or(DEFAULT_HOURS);
    if !(1..=MAX_USES as i64).contains(&uses) {
        return Err(AppError::Invalid(format!("max_uses must be 1 to {MAX_USES}")));
    }
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(AppError::Invalid(format!("hours must be 1 to {MAX_HOURS}")));
    }
    let (room, _) = authorize(state, name, user, Action::Invite).await?;
    let nonce = {
        let bytes: [u8; 16] = rand::random();
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let code = state.invite_key.code(&nonce);
    let hash = code_hash(&code);
    let (room_id, actor) = (room.id, user.id);
    let invite = state
        .db
        .run(move |c| {
            let now = now();
            let expires_at = now + chrono::Duration::hours(hours);
            c.write_transaction(|c| {
                let new = NewInvite {
                    room_id,
                    code_hash: &hash,
                    nonce: &nonce,
                    created_by: actor,
                    expires_at,
                    uses: uses as i32,
                };
                let invite = Invite::create(c, &new, now)?;
                let entry = NewAction {
                    room_id,
                    action: ActionKind::CreateInvite,
                    actor,
                    target: None,
                    reason: None,
                    detail: Some(format!("{uses} uses, until {}", rfc3339(&expires_at))),
                };
                ModerationLog::record(c, entry, now)?;
                Ok(invite)
            })
        })
        .await?;
    Ok(view(&state.invite_key, origin, &invite, user.public()))
}

/// The room's live invites, newest first (owner, moderators, administrators).
pub async fn list(state: &AppState, user: &CurrentUser, name: &str, origin: &str) -> Result<Vec<InviteView>, AppError> {
    let (room, _) = authorize(state, name, user, Action::Invite).await?;
    let room_id = room.id;
    let invites = state
        .db
        .run(move |c| {
            let invites = Invite::list_live(c, room_id, now())?;
            let mut shown = Vec::with_capacity(invites.len());
            for invite in invites {
                let by = User::find(c, invite.created_by)?.map(|u| u.public());
                let by = by.unwrap_or(PublicUser { id: invite.created_by, nickname: String::new(), avatar_url: None });
                shown.push((invite, by));
            }
            Ok(shown)
        })
        .await?;
    Ok(invites.iter().map(|(invite, by)| view(&state.invite_key, origin, invite, by.clone())).collect())
}

fn dead_code() -> AppError {
    AppError::NotFound("this invite does not exist, has expired or has been used up".into())
}

/// A live invite by its code, and its room.
pub async fn find(state: &AppState, code: &str) -> Result<(Invite, Room), AppError> {
    // Codes are 22 URL-safe characters; anything else names no invite.
    if code.len() != 22 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(dead_code());
    }
    let hash = code_hash(code);
    state
        .db
        .run(move |c| {
            let Some(invite) = Invite::find_live(c, &hash, now())? else { return Ok(None) };
            let room = crate::models::room::Room::by_id(c, invite.room_id)?;
            Ok(room.map(|room| (invite, room)))
        })
        .await?
        .ok_or_else(dead_code)
}

/// Revokes an invite (the room's owner, moderators, administrators).
pub async fn revoke(state: &AppState, user: &CurrentUser, code: &str) -> Result<(), AppError> {
    let (invite, room) = find(state, code).await?;
    let (room, _) = authorize(state, &room.name, user, Action::Invite).await?;
    let (room_id, actor, id) = (room.id, user.id, invite.id);
    state
        .db
        .run(move |c| {
            c.write_transaction(|c| {
                Invite::revoke(c, id)?;
                let entry = NewAction {
                    room_id,
                    action: ActionKind::RevokeInvite,
                    actor,
                    target: None,
                    reason: None,
                    detail: None,
                };
                ModerationLog::record(c, entry, now())
            })
        })
        .await?;
    Ok(())
}

/// What using an invite came to.
pub struct Joined {
    pub room: Room,
    /// Already a member: no use was taken.
    pub already: bool,
}

/// Makes the caller a member of the invite's room, taking one use (none when they are
/// a member already). A ban wins over any invite.
pub async fn accept(state: &AppState, user: &CurrentUser, code: &str) -> Result<Joined, AppError> {
    let (invite, room) = find(state, code).await?;
    let user_id = user.id;
    state
        .db
        .run(move |c| {
            let now = now();
            let standing = moderation::standing(c, room.id, user_id, now)?;
            if standing.banned {
                return Ok(Err(denied(permissions::Denied::Forbidden(permissions::BANNED.into()))));
            }
            if standing.role.is_some() {
                return Ok(Ok(Joined { room, already: true }));
            }
            let joined = c.write_transaction(|c| {
                if !Invite::take_use(c, invite.id, now)? {
                    return Ok(false);
                }
                RoomMember::enter(c, room.id, user_id)?;
                Ok(true)
            })?;
            Ok(if joined { Ok(Joined { room, already: false }) } else { Err(dead_code()) })
        })
        .await?
}

/// What the invite page shows.
pub struct Preview {
    pub room: Room,
    pub expires_at: NaiveDateTime,
    pub member: bool,
}

/// The invite's room, for its page; a banned visitor is refused as everywhere else.
pub async fn preview(state: &AppState, user: &CurrentUser, code: &str) -> Result<Preview, AppError> {
    let (invite, room) = find(state, code).await?;
    let (room_id, user_id) = (room.id, user.id);
    let standing = state.db.run(move |c| moderation::standing(c, room_id, user_id, now())).await?;
    if standing.banned {
        return Err(AppError::Forbidden(permissions::BANNED.into()));
    }
    Ok(Preview { room, expires_at: invite.expires_at, member: standing.role.is_some() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_128_bits_of_url_safe_text_that_depend_on_key_and_nonce() {
        let key = InviteKey::derive(&[7; 64]);
        let code = key.code("00112233445566778899aabbccddeeff");
        assert_eq!(code.len(), 22);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{code}");
        assert_eq!(code, key.code("00112233445566778899aabbccddeeff"), "the same link can be shown again");
        assert_ne!(code, key.code("00112233445566778899aabbccddeefe"));
        assert_ne!(code, InviteKey::derive(&[8; 64]).code("00112233445566778899aabbccddeeff"));
        assert_eq!(code_hash(&code).len(), 64);
    }
}
