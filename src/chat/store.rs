//! The group-commit writer: one thread that stores every message waiting at that
//! moment in one transaction, off the async workers, then hands the outcomes back to
//! the room actor in order, which only then fans them out (store first).

use std::sync::mpsc;
use std::time::Duration;

use actix::prelude::*;

use crate::db::{Db, DbConn};
use crate::models::message::{Message, NewMessage, Stored};

/// Most messages in one transaction.
const MAX_BATCH: usize = 1024;
/// Under load (the last transaction held at least `LINGER_FROM` messages), a batch
/// waits this long for more before committing: fewer, bigger transactions, and fan-out
/// batches that reach each connection in one write. An idle room never waits.
const LINGER: Duration = Duration::from_millis(2);
const LINGER_FROM: usize = 4;
/// Retries of a batch that failed (a lost connection, a race on a unique key).
const RETRIES: usize = 2;

/// One message to store and who is waiting for it.
pub struct PendingSend<T> {
    pub message: NewMessage,
    pub waiter: T,
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
    /// Starts the writer thread; outcomes go to `done`.
    pub fn start(db: Db, done: Recipient<StoredBatch<T>>) -> Self {
        let (queue, pending) = mpsc::channel::<PendingSend<T>>();
        std::thread::Builder::new()
            .name("chatroom-writer".into())
            .spawn(move || run(db, pending, done))
            .expect("the writer thread starts");
        StoreWriter { queue }
    }

    pub fn submit(&self, message: NewMessage, waiter: T) -> Result<(), T> {
        self.queue.send(PendingSend { message, waiter }).map_err(|e| e.0.waiter)
    }
}

fn run<T: Send + 'static>(db: Db, pending: mpsc::Receiver<PendingSend<T>>, done: Recipient<StoredBatch<T>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last_batch = 0;
    // The writer keeps its connection between batches: the pool's check on every
    // checkout would cost a round trip per transaction. A failure gives it back.
    let mut conn: Option<DbConn> = None;
    while let Ok(first) = pending.recv() {
        let linger_until = (last_batch >= LINGER_FROM).then(|| std::time::Instant::now() + LINGER);
        batch.push(first);
        // Everything that queued up while the last transaction ran goes in this one.
        while batch.len() < MAX_BATCH {
            let next = match linger_until {
                Some(until) => match until.checked_duration_since(std::time::Instant::now()) {
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
        let messages: Vec<NewMessage> = batch.iter().map(|p| p.message.clone()).collect();
        let started = std::time::Instant::now();
        let result = store_with_retries(&db, &mut conn, &messages);
        metrics::histogram!("message_batch_size").record(messages.len() as f64);
        metrics::histogram!("message_commit_seconds").record(started.elapsed().as_secs_f64());
        let outcomes = match result {
            Ok(stored) => batch.drain(..).zip(stored).map(|(p, s)| (p.waiter, Ok(s))).collect(),
            Err(()) => batch.drain(..).map(|p| (p.waiter, Err(StoreFailed))).collect(),
        };
        done.do_send(StoredBatch { outcomes });
    }
}

fn store_with_retries(db: &Db, kept: &mut Option<DbConn>, messages: &[NewMessage]) -> Result<Vec<Stored>, ()> {
    let mut attempt = 0;
    loop {
        let outcome = kept
            .take()
            .map_or_else(|| db.get(), Ok)
            .and_then(|mut conn| Message::store_batch(&mut conn, messages).map(|stored| (stored, conn)));
        match outcome {
            Ok((stored, conn)) => {
                *kept = Some(conn);
                return Ok(stored);
            }
            Err(e) if attempt < RETRIES => {
                tracing::warn!(error = %e, attempt, "storing messages failed; retrying");
                attempt += 1;
                std::thread::sleep(Duration::from_millis(50 * attempt as u64));
            }
            Err(e) => {
                tracing::error!(error = %e, messages = messages.len(), "storing messages failed");
                return Err(());
            }
        }
    }
}
