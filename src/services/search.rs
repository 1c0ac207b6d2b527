//! Search over the history the caller may read: one room they may read, or every
//! public room they are not banned from and every private or direct room they are a
//! member of (docs/protocol.md, "Search and mentions").

use crate::auth::CurrentUser;
use crate::errors::AppError;
use crate::ids::MessageId;
use crate::models::message::Message;
use crate::models::moderation::Sanctions;
use crate::models::search::{Scope, SearchIndex};
use crate::models::search_terms;
use crate::permissions::Denied;
use crate::services::rooms;
use crate::state::AppState;

/// A query has at most this many characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Chunks of the index a search may bring up to date before it runs (MySQL).
const CATCH_UP_CHUNKS: usize = 5;

/// What to search for and where.
pub struct SearchRequest<'a> {
    pub q: &'a str,
    /// One room by name, or every room the caller may read.
    pub room: Option<&'a str>,
    pub before: Option<MessageId>,
    pub limit: usize,
}

/// The messages matching every word of `q`, newest first, with their rooms' names,
/// and whether more match. An unknown room, or one the caller may not read, is the
/// 404 of a missing room.
pub async fn search(
    state: &AppState,
    user: &CurrentUser,
    request: SearchRequest<'_>,
) -> Result<(Vec<(Message, String)>, bool), AppError> {
    let q = request.q.trim();
    if q.is_empty() {
        return Err(AppError::Invalid("q must not be empty".into()));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::Invalid(format!("q has at most {MAX_QUERY_CHARS} characters")));
    }
    let scope = match request.room {
        // Banned from it is "may not read": a missing room here, not a 403.
        Some(name) => match rooms::room_for(state, name, user).await {
            Ok(room) => Scope::Room(room.id),
            Err(AppError::Forbidden(_)) => return Err(rooms::denied(Denied::Missing)),
            Err(e) => return Err(e),
        },
        None => {
            let user_id = user.id;
            let banned = state.db.run(move |c| Sanctions::banned_rooms(c, user_id, crate::models::now())).await?;
            Scope::Readable { user_id, banned }
        }
    };
    let terms = search_terms::query(q);
    let (before, limit) = (request.before, request.limit);
    Ok(state
        .db
        .run(move |c| {
            // MySQL: what was committed before this search is indexed before it runs
            // (usually by the indexer already; at most a few chunks here).
            if SearchIndex::behind(c)? {
                for _ in 0..CATCH_UP_CHUNKS {
                    if !SearchIndex::catch_up(c, crate::search_indexer::CHUNK)? {
                        break;
                    }
                }
            }
            SearchIndex::search(c, &terms, &scope, before, limit)
        })
        .await?)
}
