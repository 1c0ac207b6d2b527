//! MySQL's search index follows the commit order on a thread of its own (why: see
//! `models::search`): woken after each batch this node's writer commits, and checking
//! once a second for what other nodes committed. SQLite needs none.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use crate::db::{Db, DbResult};
use crate::models::search::SearchIndex;

/// Messages indexed in one transaction.
pub const CHUNK: usize = 2000;
/// How often the index looks for commits made on other nodes.
const EVERY: Duration = Duration::from_secs(1);
/// Pause after a failure (the database away): the next wake-up tries again.
const AFTER_FAILURE: Duration = Duration::from_secs(1);

pub struct SearchIndexer {
    wake: mpsc::SyncSender<()>,
}

impl SearchIndexer {
    /// Starts the indexing thread on MySQL; `None` on SQLite.
    pub fn start(db: Db) -> Option<SearchIndexer> {
        if !db.is_mysql() {
            return None;
        }
        // One pending wake-up is enough: a pass indexes everything committed so far.
        let (wake, woken) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("chatroom-indexer".into())
            .spawn(move || {
                while !matches!(woken.recv_timeout(EVERY), Err(RecvTimeoutError::Disconnected)) {
                    if let Err(e) = catch_up_all(&db) {
                        tracing::warn!(error = %e, "the search index could not catch up; trying again");
                        std::thread::sleep(AFTER_FAILURE);
                    }
                }
            })
            .expect("the indexer thread starts");
        Some(SearchIndexer { wake })
    }

    /// Something was committed: index it soon.
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

/// Indexes everything committed so far.
pub fn catch_up_all(db: &Db) -> DbResult<()> {
    let mut conn = db.get()?;
    if !SearchIndex::behind(&mut conn)? {
        return Ok(());
    }
    while SearchIndex::catch_up(&mut conn, CHUNK)? {}
    Ok(())
}
