//! Unread and mention counts that cost the same at 10 or 10 million unread: each room's
//! count reads at most `COUNT_CAP + 1` index entries after the read marker, and shows
//! `COUNT_CAP` with a flag beyond. Exact below the cap, so consistent with deletes and
//! read markers on every device and node (they are read, not maintained).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::{room_members, rooms};
use crate::db::{DbConn, DbResult};
use crate::db_run;
use crate::ids::{MessageId, RoomId, UserId};

/// Counts show exactly up to this, then this and a flag.
pub const COUNT_CAP: i64 = 999;
/// Rooms counted per statement.
const ROOMS_PER_QUERY: usize = 100;

/// One room's counts for one user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub unread: i64,
    pub unread_capped: bool,
    pub mentions: i64,
    pub mentions_capped: bool,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    room_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn capped(n: i64) -> (i64, bool) {
    if n > COUNT_CAP {
        (COUNT_CAP, true)
    } else {
        (n, false)
    }
}

impl Counts {
    /// The counts of a user in every room they are a member of (`only`: just these
    /// rooms), for rooms with anything after the read marker; others are zero.
    pub fn for_user(conn: &mut DbConn, user_id: UserId, only: Option<&[RoomId]>) -> DbResult<HashMap<RoomId, Counts>> {
        let markers: Vec<(RoomId, MessageId)> = db_run!(conn, |c| {
            let query = room_members::table
                .inner_join(rooms::table.on(rooms::id.eq(room_members::room_id)))
                .filter(room_members::user_id.eq(user_id))
                .filter(rooms::last_message_id.gt(room_members::last_read_message_id))
                .select((room_members::room_id, room_members::last_read_message_id))
                .into_boxed();
            match only {
                Some(ids) => query.filter(room_members::room_id.eq_any(ids)).load(c),
                None => query.load(c),
            }
        })?;
        let mut counts: HashMap<RoomId, Counts> = HashMap::new();
        for chunk in markers.chunks(ROOMS_PER_QUERY) {
            // Ids from the database, not input: written inline. Each branch reads at
            // most COUNT_CAP + 1 rows of its room from the read marker on.
            let cap = COUNT_CAP + 1;
            let unread_sql = chunk
                .iter()
                .map(|(room, marker)| {
                    format!(
                        "SELECT {room} AS room_id, COUNT(*) AS n FROM (SELECT 1 AS one FROM messages \
                         WHERE room_id = {room} AND id > {marker} AND user_id <> {user_id} AND deleted = 0 \
                         LIMIT {cap}) AS u{room}"
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let mentions_sql = chunk
                .iter()
                .map(|(room, marker)| {
                    format!(
                        "SELECT {room} AS room_id, COUNT(*) AS n FROM (SELECT 1 AS one FROM message_mentions mm \
                         JOIN messages m ON m.id = mm.message_id \
                         WHERE mm.user_id = {user_id} AND mm.room_id = {room} AND mm.message_id > {marker} \
                         AND m.user_id <> {user_id} LIMIT {cap}) AS m{room}"
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let unread: Vec<Counted> = db_run!(conn, |c| diesel::sql_query(&unread_sql).load(c))?;
            let mentions: Vec<Counted> = db_run!(conn, |c| diesel::sql_query(&mentions_sql).load(c))?;
            for row in unread {
                let entry = counts.entry(RoomId(row.room_id)).or_default();
                (entry.unread, entry.unread_capped) = capped(row.n);
            }
            for row in mentions {
                let entry = counts.entry(RoomId(row.room_id)).or_default();
                (entry.mentions, entry.mentions_capped) = capped(row.n);
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact_up_to_the_cap() {
        assert_eq!(capped(0), (0, false));
        assert_eq!(capped(999), (999, false));
        assert_eq!(capped(1000), (999, true));
    }
}
