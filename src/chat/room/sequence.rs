//! Delivery in commit order, with no gap and no duplicate, whatever the transport did.
//!
//! Every committed message carries `prev`, the id committed just before it in any room
//! (the `message_sequence` row makes commits one chain, across nodes too). The room
//! actor delivers a message only once the one before it was delivered. Messages that
//! arrive ahead of the chain wait; after a short grace (a publish still on its way) the
//! missing ones are read from the database, which has them, since they were committed
//! before anything chained after them. Duplicates (our own publish echoed, a message
//! both read and received) fall below the chain's head and are dropped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::{ConnId, RoomHub};
use crate::chat::protocol::Frame;
use crate::models::message::Message;

/// How long a message ahead of the chain waits for the ones before it to arrive.
const GAP_GRACE: Duration = Duration::from_millis(5);
/// Most messages one fill reads.
const FILL_LIMIT: usize = 2000;

/// A committed message and its place in the chain.
pub(crate) struct Chained {
    pub id: i64,
    pub prev: i64,
    pub room_id: i64,
    pub frame: Arc<Frame>,
}

#[derive(Default)]
pub(crate) struct Sequencer {
    /// The last id delivered (or known to be before everything still to come).
    pub last: i64,
    /// Messages ahead of the chain, by the id they follow.
    waiting: BTreeMap<i64, Chained>,
    fill_scheduled: bool,
    fill_running: bool,
    /// Answers to repeated sends whose first copy is still ahead of the chain: they go
    /// out once it is delivered, so that no connection sees an id before its elders.
    held_repeats: Vec<(i64, ConnId, Frame)>,
}

impl Sequencer {
    pub fn starting_at(last: i64) -> Self {
        Sequencer { last, ..Sequencer::default() }
    }
}

impl RoomHub {
    /// Takes committed messages, from this node or another, and delivers what the chain
    /// allows, in order.
    pub(crate) fn accept_chained(&mut self, ctx: &mut Context<Self>, items: Vec<Chained>) {
        for item in items {
            if item.id > self.sequence.last {
                self.sequence.waiting.insert(item.prev, item);
            }
        }
        // Consecutive messages of one room go out as one shared batch.
        let mut run: Option<(i64, Vec<Arc<Frame>>)> = None;
        while let Some(item) = self.sequence.waiting.remove(&self.sequence.last) {
            self.sequence.last = item.id;
            if run.as_ref().is_some_and(|(room_id, _)| *room_id != item.room_id) {
                self.flush_run(run.take());
            }
            run.get_or_insert_with(|| (item.room_id, Vec::new())).1.push(item.frame);
        }
        self.flush_run(run);
        let last = self.sequence.last;
        if self.sequence.held_repeats.iter().any(|(id, _, _)| *id <= last) {
            let held = std::mem::take(&mut self.sequence.held_repeats);
            for (id, conn, frame) in held {
                if id <= last {
                    self.send_to(conn, frame);
                } else {
                    self.sequence.held_repeats.push((id, conn, frame));
                }
            }
        }
        self.sequence.waiting.retain(|_, item| item.id > last);
        if !self.sequence.waiting.is_empty() {
            self.schedule_fill(ctx, GAP_GRACE);
        }
    }

    /// Answers a repeated send with its first copy, once the chain has delivered it.
    pub(crate) fn answer_repeat(&mut self, conn: ConnId, first_id: i64, frame: Frame) {
        if first_id <= self.sequence.last {
            self.send_to(conn, frame);
        } else {
            self.sequence.held_repeats.push((first_id, conn, frame));
        }
    }

    fn flush_run(&mut self, run: Option<(i64, Vec<Arc<Frame>>)>) {
        if let Some((room_id, frames)) = run {
            metrics::counter!("chat_messages_delivered_total").increment(frames.len() as u64);
            self.fan_out(room_id, frames);
        }
    }

    /// Reads what the chain misses from the database, soon.
    pub(crate) fn schedule_fill(&mut self, ctx: &mut Context<Self>, after: Duration) {
        if self.sequence.fill_scheduled || self.sequence.fill_running {
            return;
        }
        self.sequence.fill_scheduled = true;
        ctx.run_later(after, |hub, ctx| {
            hub.sequence.fill_scheduled = false;
            hub.fill(ctx);
        });
    }

    fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.sequence.fill_running {
            return;
        }
        self.sequence.fill_running = true;
        let after = self.sequence.last;
        self.spawn_db(
            ctx,
            move |db| db.get().and_then(|mut c| Message::chain_after(&mut c, after, FILL_LIMIT)),
            move |hub, ctx, result| {
                hub.sequence.fill_running = false;
                match result {
                    Ok(rows) => {
                        let full = rows.len() == FILL_LIMIT;
                        if !rows.is_empty() {
                            metrics::counter!("chat_gap_fills_total").increment(1);
                            metrics::counter!("chat_gap_filled_messages_total").increment(rows.len() as u64);
                        }
                        let mut prev = after;
                        let items = rows
                            .into_iter()
                            .map(|(message, room)| {
                                let item = Chained {
                                    id: message.id,
                                    prev,
                                    room_id: message.room_id,
                                    frame: Arc::new(Frame::message(&message, &room)),
                                };
                                prev = message.id;
                                item
                            })
                            .collect();
                        hub.accept_chained(ctx, items);
                        if full {
                            hub.schedule_fill(ctx, Duration::ZERO);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading missed messages failed; retrying");
                        hub.schedule_fill(ctx, Duration::from_secs(1));
                    }
                }
            },
        );
    }

    /// Compares the chain's head with the database's: anything committed that did not
    /// reach this node (a lost publish, a Redis restart) is read and delivered.
    pub(crate) fn sweep(&mut self, ctx: &mut Context<Self>) {
        let last = self.sequence.last;
        self.spawn_db(
            ctx,
            |db| db.get().and_then(|mut c| Message::sequence_top(&mut c)),
            move |hub, ctx, top| {
                if let Ok(top) = top {
                    if top > last && hub.sequence.last < top {
                        hub.schedule_fill(ctx, Duration::ZERO);
                    }
                }
            },
        );
    }
}
