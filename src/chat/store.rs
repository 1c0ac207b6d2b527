//! The group-commit writer: one thread that stores every message waiting at that
//! moment in one transaction, off the async workers, then hands the outcomes back to
//! the room actor in order, which only then fans them out (store first).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix::prelude::*;

use crate::db::{Db, DbConn, DbError};
use crate::models::message::{Message, Stored, Write};
use crate::search_indexer::SearchIndexer;

/// Most messages in one transaction.
const MAX_BATCH: usize = 1024;
/// Under load (the last transaction held at least `LINGER_FROM` messages), a batch
/// waits this long for more before committing: fewer, bigger transactions, and fan-out
/// batches that reach each connection in one write. An idle room never waits.
const LINGER: Duration = Duration::from_millis(2);
const LINGER_FROM: usize = 4;
/// Retries of a message that failed on its own (a race on a unique key, a lost
/// connection mid-transaction).
const RETRIES: usize = 2;
/// Pause between attempts while the database cannot be reached.
const UNREACHABLE_BACKOFF: Duration = Duration::from_millis(100);

/// One write (a message, or a change of one), who is waiting for it, and until when
/// an answer is useful.
pub struct PendingSend<T> {
    pub message: Write,
    pub waiter: T,
    /// After this, the sender has been told `unavailable` and will retry with the same
    /// `client_id`: the writer no longer starts to store it.
    pub deadline: Instant,
}

/// The outcomes of one transaction, in the order the messages were given.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StoredBatch<T: Send + 'static> {
    pub outcomes: Vec<(T, Result<Stored, StoreFailed>)>,
}

#[derive(Debug, Clone, Copy)]
pub struct StoreFailed;

pub struct StoreWriter<T> {
    queue: mpsc::Sender<PendingSend<T>>,
}

impl<T: Send + 'static> StoreWriter<T> {
    /// Starts the writer thread; outcomes go to `done`. `max_reactions` is the most
    /// distinct emoji a message may carry.
    pub fn start(db: Db, max_reactions: usize, done: Recipient<StoredBatch<T>>) -> Self {
        let (queue, pending) = mpsc::channel::<PendingSend<T>>();
        let indexer = SearchIndexer::start(db.clone());
        std::thread::Builder::new()
            .name("chatroom-writer".into())
            .spawn(move || run(Writer { db, conn: None, max_reactions }, pending, done, indexer))
            .expect("the writer thread starts");
        StoreWriter { queue }
    }

    pub fn submit(&self, message: Write, waiter: T, deadline: Instant) -> Result<(), T> {
        self.queue.send(PendingSend { message, waiter, deadline }).map_err(|e| e.0.waiter)
    }
}

fn run<T: Send + 'static>(
    mut writer: Writer,
    pending: mpsc::Receiver<PendingSend<T>>,
    done: Recipient<StoredBatch<T>>,
    indexer: Option<SearchIndexer>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last_batch = 0;
    while let Ok(first) = pending.recv() {
        let linger_until = (last_batch >= LINGER_FROM).then(|| Instant::now() + LINGER);
        batch.push(first);
        // Everything that queued up while the last transaction ran goes in this one.
        while batch.len() < MAX_BATCH {
            let next = match linger_until {
                Some(until) => match until.checked_duration_since(Instant::now()) {
                    Some(left) => pending.recv_timeout(left).ok(),
                    None => pending.try_recv().ok(),
                },
                None => pending.try_recv().ok(),
            };
            match next {
                Some(next) => batch.push(next),
                None => break,
            }
        }
        last_batch = batch.len();
        let now = Instant::now();
        let (live, expired): (Vec<_>, Vec<_>) = batch.drain(..).partition(|p| p.deadline > now);
        let mut outcomes: Vec<(T, Result<Stored, StoreFailed>)> =
            expired.into_iter().map(|p| (p.waiter, Err(StoreFailed))).collect();
        if !live.is_empty() {
            let messages: Vec<Write> = live.iter().map(|p| p.message.clone()).collect();
            let deadline = live.iter().map(|p| p.deadline).min().expect("a live message");
            let started = Instant::now();
            let stored = writer.store(&messages, deadline);
            metrics::histogram!("message_batch_size").record(messages.len() as f64);
            metrics::histogram!("message_commit_seconds").record(started.elapsed().as_secs_f64());
            outcomes.extend(live.into_iter().zip(stored).map(|(p, s)| (p.waiter, s)));
        }
        done.do_send(StoredBatch { outcomes });
        // MySQL: the search index follows what was just committed, off this thread.
        if let Some(indexer) = &indexer {
            indexer.wake();
        }
    }
}

/// The writer keeps its connection between batches: the pool's check on every
/// checkout would cost a round trip per transaction. A failure gives it back.
struct Writer {
    db: Db,
    conn: Option<DbConn>,
    max_reactions: usize,
}

impl Writer {
    /// Stores `messages`, one outcome each. A batch that fails for a reason of its own
    /// (not an unreachable database) is split in halves and each half tried alone, so
    /// that one message the database refuses fails alone and never takes other
    /// people's messages with it.
    fn store(&mut self, messages: &[Write], deadline: Instant) -> Vec<Result<Stored, StoreFailed>> {
        if Instant::now() >= deadline {
            return vec![Err(StoreFailed); messages.len()];
        }
        match self.store_until(messages, deadline) {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(e) if messages.len() > 1 && !e.is_unreachable() => {
                tracing::warn!(error = %e, messages = messages.len(), "a batch failed; storing its halves apart");
                let (left, right) = messages.split_at(messages.len() / 2);
                let mut outcomes = self.store(left, deadline);
                outcomes.extend(self.store(right, deadline));
                outcomes
            }
            Err(e) => {
                tracing::error!(error = %e, messages = messages.len(), "storing messages failed");
                vec![Err(StoreFailed); messages.len()]
            }
        }
    }

    /// One transaction for `messages`, retried while the database cannot be reached and
    /// the deadline has not passed, and a few times for a single message's own failure.
    fn store_until(&mut self, messages: &[Write], deadline: Instant) -> Result<Vec<Stored>, DbError> {
        let mut attempt = 0;
        loop {
            let outcome = self.conn.take().map_or_else(|| self.db.get(), Ok).and_then(|mut conn| {
                Message::store_batch(&mut conn, messages, self.max_reactions).map(|stored| (stored, conn))
            });
            let e = match outcome {
                Ok((stored, conn)) => {
                    self.conn = Some(conn);
                    return Ok(stored);
                }
                Err(e) => e,
            };
            let retry = if e.is_unreachable() {
                Instant::now() + UNREACHABLE_BACKOFF < deadline
            } else {
                messages.len() == 1 && attempt < RETRIES
            };
            if !retry {
                return Err(e);
            }
            attempt += 1;
            tracing::warn!(error = %e, attempt, "storing messages failed; retrying");
            std::thread::sleep(if e.is_unreachable() {
                UNREACHABLE_BACKOFF
            } else {
                Duration::from_millis(50 * attempt as u64)
            });
        }
    }
}
