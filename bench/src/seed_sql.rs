//! What the seeders (S7's `seed`, S8's `seed-year`) share: a connection to the server's
//! database with its schema made by the server's own migrations, string literals for
//! either backend, multi-row INSERTs of messages with their search-index rows, and the
//! pointers the server's writer keeps (`message_sequence`, `rooms.last_message_id`,
//! `search_backfill`), so that the server opens a consistent history.

use std::time::Duration;

use chatroom::config::{Config, DatabaseUrl};
use chatroom::db::{Db, DbConn};
use chatroom::models::search_terms;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Scalar {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

pub fn exec(conn: &mut DbConn, sql: &str) -> Result<(), String> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute(sql),
        DbConn::Mysql(c) => c.batch_execute(sql),
    }
    .map_err(|e| format!("{e} in {}", &sql[..sql.len().min(200)]))
}

pub fn scalar(conn: &mut DbConn, sql: &str) -> Result<i64, String> {
    let rows: Vec<Scalar> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).load(&mut **c),
        DbConn::Mysql(c) => diesel::sql_query(sql).load(&mut **c),
    }
    .map_err(|e| format!("{e} in {sql}"))?;
    rows.first().map(|r| r.v).ok_or_else(|| format!("no row from {sql}"))
}

/// A string literal for either backend (MySQL also reads backslashes as escapes).
pub fn quoted(s: &str, mysql: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if mysql => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The n-th message's time: one every 25 s from 2026-01-01 (about 290 days for 1M).
pub fn timestamp(n: usize) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("a date");
    (start + chrono::Duration::seconds(n as i64 * 25)).format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// One connection to a fresh database, its schema made by the server's migrations.
pub struct SeedDb {
    pub conn: DbConn,
    pub mysql: bool,
    url: DatabaseUrl,
}

impl SeedDb {
    /// Opens (on MySQL: creates) the database, runs the migrations and refuses one that
    /// holds messages already.
    pub fn open(database_url: &str) -> Result<SeedDb, String> {
        let url = Config { database_url: database_url.to_owned(), ..Config::default() }.database()?;
        let mysql = matches!(url, DatabaseUrl::Mysql(_));
        let db = Db::connect(&url, 1, Duration::from_secs(3600), "OFF".into())?;
        let applied = db.migrate()?;
        eprintln!("schema ready ({applied} migrations applied)");
        let mut conn = db.get().map_err(|e| e.to_string())?;
        if scalar(&mut conn, "SELECT COUNT(*) AS v FROM messages")? != 0 {
            return Err("the database has messages already: seed an empty one".into());
        }
        if mysql {
            // Session settings of this connection only: checked anyway by construction.
            exec(&mut conn, "SET foreign_key_checks = 0; SET unique_checks = 0;")?;
        }
        Ok(SeedDb { conn, mysql, url })
    }

    pub fn exec(&mut self, sql: &str) -> Result<(), String> {
        exec(&mut self.conn, sql)
    }

    pub fn scalar(&mut self, sql: &str) -> Result<i64, String> {
        scalar(&mut self.conn, sql)
    }

    pub fn quoted(&self, s: &str) -> String {
        quoted(s, self.mysql)
    }

    pub fn begin(&mut self) -> Result<(), String> {
        let begin = if self.mysql { "START TRANSACTION" } else { "BEGIN IMMEDIATE" };
        self.exec(begin)
    }

    /// Commits; on SQLite also empties the write-ahead log, which would otherwise grow
    /// to the size of the whole history.
    pub fn commit(&mut self) -> Result<(), String> {
        self.exec("COMMIT")?;
        if !self.mysql {
            self.exec("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        Ok(())
    }

    /// The first free ids of users, rooms and messages (`lobby` is there already).
    pub fn first_free_ids(&mut self) -> Result<(i64, i64, i64), String> {
        Ok((
            self.scalar("SELECT COALESCE(MAX(id), 0) AS v FROM users")? + 1,
            self.scalar("SELECT COALESCE(MAX(id), 0) AS v FROM rooms")? + 1,
            self.scalar("SELECT last_message_id AS v FROM message_sequence WHERE id = 1")? + 1,
        ))
    }

    /// `INSERT INTO <into> VALUES` the rows, `per_statement` at a time.
    pub fn insert_rows(&mut self, into: &str, rows: &[String], per_statement: usize) -> Result<(), String> {
        for chunk in rows.chunks(per_statement.max(1)) {
            self.exec(&format!("INSERT INTO {into} VALUES {}", chunk.join(",")))?;
        }
        Ok(())
    }

    /// The writer's pointers after messages `first_id..=last_id`: the sequence, each
    /// room's latest message (`room_tops`: room id, message id), and the search
    /// backfill: done through the last message when the seeder wrote the index
    /// (`indexed`), else all of it left to the server's start-up.
    pub fn set_pointers(
        &mut self,
        first_id: i64,
        last_id: i64,
        room_tops: &[(i64, i64)],
        indexed: bool,
    ) -> Result<(), String> {
        let cases: String = room_tops
            .iter()
            .filter(|(_, top)| *top > 0)
            .map(|(room, top)| format!(" WHEN {room} THEN {top}"))
            .collect();
        self.begin()?;
        self.exec(&format!("UPDATE message_sequence SET last_message_id = {last_id} WHERE id = 1"))?;
        if !cases.is_empty() {
            self.exec(&format!("UPDATE rooms SET last_message_id = CASE id{cases} ELSE last_message_id END"))?;
        }
        let done = if indexed { last_id } else { first_id - 1 };
        self.exec(&format!("UPDATE search_backfill SET done_id = {done}, through_id = {last_id} WHERE id = 1"))?;
        if self.mysql {
            // MySQL's index follows the commit order (`indexed_seq`; the seq of these rows
            // is their id): done through the last, or all of it left to the server's start.
            let indexed = if indexed { last_id } else { 0 };
            self.exec(&format!("UPDATE search_backfill SET indexed_seq = {indexed} WHERE id = 1"))?;
        }
        self.commit()
    }

    /// Fresh statistics for the planner, over the tables the seeders fill.
    pub fn analyze(&mut self) -> Result<(), String> {
        if self.mysql {
            self.exec("ANALYZE TABLE messages, message_terms, rooms, room_members, users, message_mentions")
        } else {
            self.exec("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        }
    }

    pub fn database_bytes(&mut self) -> Option<u64> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            DatabaseUrl::Mysql(_) => self
                .scalar(
                    "SELECT CAST(SUM(data_length + index_length) AS SIGNED) AS v FROM information_schema.tables \
                     WHERE table_schema = DATABASE()",
                )
                .ok()
                .map(|v| v as u64),
        }
    }
}

/// One message as the seeders store it (a message never changed: seq = id).
pub struct MessageRow<'a> {
    pub id: i64,
    pub room_id: i64,
    pub user_id: i64,
    pub text: &'a str,
    /// `search_terms::document(text)`, which the caller often needs too.
    pub document: &'a str,
    pub created_at: &'a str,
    pub client_id: &'a str,
}

/// Messages and their index rows, written a statement at a time.
pub struct MessageWriter {
    per_statement: usize,
    index: bool,
    messages: Vec<String>,
    search: Vec<String>,
}

impl MessageWriter {
    /// `index`: also write the search index the server would have written (FTS rows on
    /// SQLite, posting rows on MySQL, as src/models/search.rs does).
    pub fn new(per_statement: usize, index: bool) -> MessageWriter {
        MessageWriter { per_statement, index, messages: Vec::with_capacity(per_statement), search: Vec::new() }
    }

    pub fn push(&mut self, db: &mut SeedDb, m: &MessageRow<'_>) -> Result<(), String> {
        let mysql = db.mysql;
        self.messages.push(format!(
            "({id}, {id}, {}, {}, {}, {}, {}, 0)",
            m.room_id,
            m.user_id,
            quoted(m.text, mysql),
            quoted(m.client_id, mysql),
            quoted(m.created_at, mysql),
            id = m.id
        ));
        if self.index && !m.document.is_empty() {
            if mysql {
                // Posting rows, a term once per message.
                for term in search_terms::distinct_terms(m.document) {
                    self.search.push(format!("({}, {}, {})", quoted(term, mysql), m.id, m.room_id));
                }
            } else {
                self.search.push(format!("({}, {}, {})", m.id, quoted(m.document, mysql), m.room_id));
            }
        }
        if self.messages.len() >= self.per_statement {
            self.flush(db)?;
        }
        Ok(())
    }

    pub fn flush(&mut self, db: &mut SeedDb) -> Result<(), String> {
        if !self.messages.is_empty() {
            db.exec(&format!(
                "INSERT INTO messages (id, seq, room_id, user_id, body, client_id, created_at, deleted) VALUES {}",
                self.messages.join(",")
            ))?;
            self.messages.clear();
        }
        if !self.search.is_empty() {
            let into = if db.mysql {
                "message_terms (term, message_id, room_id)"
            } else {
                "message_search (rowid, terms, room_id)"
            };
            db.exec(&format!("INSERT INTO {into} VALUES {}", self.search.join(",")))?;
            self.search.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped_for_each_backend() {
        assert_eq!(quoted("don't", false), "'don''t'");
        assert_eq!(quoted("a\\b'", true), "'a\\\\b'''");
        assert_eq!(quoted("a\\b", false), "'a\\b'");
    }

    #[test]
    fn timestamps_are_what_the_server_writes() {
        assert_eq!(timestamp(0), "2026-01-01 00:00:00.000");
        assert_eq!(timestamp(4), "2026-01-01 00:01:40.000");
    }
}
