//! The data model: one struct per table with its queries next to it.

pub mod avatar;
pub mod counts;
pub mod invite;
pub mod mentions;
pub mod message;
mod message_changes;
mod message_writes;
pub mod moderation;
pub mod room;
pub mod room_member;
pub mod schema;
pub mod search;
pub mod search_terms;
pub mod session;
pub mod user;
pub mod validate;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The current time in UTC, cut to the millisecond both backends store.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(3)
}

/// RFC 3339 UTC with milliseconds, the protocol's time format.
pub fn rfc3339(time: &NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(*time, Utc).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A time in the protocol's format, for `#[serde(serialize_with)]`.
pub fn serialize_time<S: serde::Serializer>(time: &NaiveDateTime, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(&rfc3339(time))
}

pub fn serialize_optional_time<S: serde::Serializer>(time: &Option<NaiveDateTime>, out: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => out.serialize_str(&rfc3339(time)),
        None => out.serialize_none(),
    }
}

#[cfg(feature = "mysql")]
diesel::define_sql_function! {
    /// The id MySQL assigned to the last row this connection inserted.
    #[sql_name = "LAST_INSERT_ID"]
    fn last_insert_id() -> diesel::sql_types::BigInt;
}

diesel::define_sql_function! {
    /// SQL's LOWER (SQLite's folds ASCII letters only).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `text` as a LIKE pattern that matches it literally (`!` escapes LIKE's wildcards, so
/// the query says `ESCAPE '!'`).
pub fn like_literal(text: &str) -> String {
    text.chars().flat_map(|c| if matches!(c, '!' | '%' | '_') { vec!['!', c] } else { vec![c] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_with_milliseconds() {
        let t = NaiveDateTime::parse_from_str("2026-11-22 14:39:43.123456", "%Y-%m-%d %H:%M:%S%.f").unwrap();
        assert_eq!(rfc3339(&t.trunc_subsecs(3)), "2026-11-22T14:39:43.123Z");
    }
}
