//! Delivery in commit order, with no gap and no duplicate, whatever the transport did.
//!
//! Every committed message, and every change of one, has a position in one commit
//! order (a new message's id, a change's seq) and carries `prev`, the position
//! committed just before it in any room (the `message_sequence` row makes commits one
//! chain, across nodes too). The room
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
use crate::ids::{MessageId, RoomId};
use crate::models::message::Message;

/// How long a message ahead of the chain waits for the ones before it to arrive.
const GAP_GRACE: Duration = Duration::from_millis(5);
/// Most messages one fill reads.
const FILL_LIMIT: usize = 2000;

/// A committed message and its place in the chain.
pub(crate) struct Chained {
    pub id: MessageId,
    pub prev: MessageId,
    pub room_id: RoomId,
    pub frame: Arc<Frame>,
}

#[derive(Default)]
pub(crate) struct Sequencer {
    /// The last id delivered (or known to be before everything still to come).
    pub last: MessageId,
    /// Messages ahead of the chain, by the id they follow.
    waiting: BTreeMap<MessageId, Chained>,
    fill_scheduled: bool,
    fill_running: bool,
    /// Answers to repeated sends whose first copy is still ahead of the chain: they go
    /// out once it is delivered, so that no connection sees an id before its elders.
    held_repeats: Vec<(MessageId, ConnId, Frame)>,
}

impl Sequencer {
    pub fn starting_at(last: MessageId) -> Self {
        Sequencer { last, ..Sequencer::default() }
    }

    /// Takes committed messages, from this node or another, in any order and with any
    /// repeats: what the chain now allows goes out in order, grouped in runs of one room.
    pub fn accept(&mut self, items: Vec<Chained>) -> Accepted {
        for item in items {
            if item.id > self.last {
                self.waiting.insert(item.prev, item);
            }
        }
        let mut accepted = Accepted::default();
        while let Some(item) = self.waiting.remove(&self.last) {
            self.last = item.id;
            match accepted.runs.last_mut() {
                Some((room_id, frames)) if *room_id == item.room_id => frames.push(item.frame),
                _ => accepted.runs.push((item.room_id, vec![item.frame])),
            }
        }
        let last = self.last;
        if self.held_repeats.iter().any(|(id, _, _)| *id <= last) {
            let (due, held) = std::mem::take(&mut self.held_repeats).into_iter().partition(|(id, _, _)| *id <= last);
            self.held_repeats = held;
            accepted.released = due.into_iter().map(|(_, conn, frame)| (conn, frame)).collect();
        }
        // What fell below the head meanwhile was delivered already.
        self.waiting.retain(|_, item| item.id > last);
        accepted.gap = !self.waiting.is_empty();
        accepted
    }

    /// A repeated send's answer (its first copy): now, when the chain has delivered
    /// the first copy, or once it does (no connection sees an id before its elders).
    pub fn repeat(&mut self, conn: ConnId, first_id: MessageId, frame: Frame) -> Option<(ConnId, Frame)> {
        if first_id <= self.last {
            Some((conn, frame))
        } else {
            self.held_repeats.push((first_id, conn, frame));
            None
        }
    }
}

/// What [`Sequencer::accept`] lets out.
#[derive(Default)]
pub(crate) struct Accepted {
    /// Deliverable messages in chain order, consecutive ones of a room together.
    pub runs: Vec<(RoomId, Vec<Arc<Frame>>)>,
    /// Held answers to repeated sends that may go out now.
    pub released: Vec<(ConnId, Frame)>,
    /// Messages wait ahead of a gap: the missing ones must be read.
    pub gap: bool,
}

impl RoomHub {
    /// Delivers what the chain allows of these committed messages, in order.
    pub(crate) fn accept_chained(&mut self, ctx: &mut Context<Self>, items: Vec<Chained>) {
        let accepted = self.sequence.accept(items);
        for (room_id, frames) in accepted.runs {
            metrics::counter!("chat_messages_delivered_total").increment(frames.len() as u64);
            self.fan_out(room_id, frames);
        }
        for (conn, frame) in accepted.released {
            self.send_to(conn, frame);
        }
        if accepted.gap {
            self.schedule_fill(ctx, GAP_GRACE);
        }
    }

    /// Answers a repeated send with its first copy, once the chain has delivered it.
    pub(crate) fn answer_repeat(&mut self, conn: ConnId, first_id: MessageId, frame: Frame) {
        if let Some((conn, frame)) = self.sequence.repeat(conn, first_id, frame) {
            self.send_to(conn, frame);
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
                                // New to this node's connections when created after its
                                // head; else a new state of a message they have.
                                let item = Chained {
                                    id: message.seq,
                                    prev,
                                    room_id: message.room_id,
                                    frame: Arc::new(Frame::for_position(&message, &room, after)),
                                };
                                prev = message.seq;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chained(id: i64, prev: i64, room_id: i64) -> Chained {
        let frame = Arc::new(Frame::plain(format!("{id}").into()));
        Chained { id: MessageId(id), prev: MessageId(prev), room_id: RoomId(room_id), frame }
    }

    fn delivered(accepted: &Accepted) -> Vec<(i64, Vec<String>)> {
        accepted
            .runs
            .iter()
            .map(|(room, frames)| (room.0, frames.iter().map(|f| f.text.to_string()).collect()))
            .collect()
    }

    #[test]
    fn messages_in_order_go_out_in_runs_of_one_room() {
        let mut sequence = Sequencer::starting_at(MessageId(10));
        let accepted = sequence.accept(vec![chained(11, 10, 1), chained(12, 11, 1), chained(13, 12, 2)]);
        assert_eq!(delivered(&accepted), [(1, vec!["11".into(), "12".into()]), (2, vec!["13".into()])]);
        assert!(!accepted.gap);
        assert_eq!(sequence.last, MessageId(13));
    }

    #[test]
    fn a_message_ahead_of_a_gap_waits_for_the_fill() {
        let mut sequence = Sequencer::starting_at(MessageId(10));
        let early = sequence.accept(vec![chained(13, 12, 1)]);
        assert!(early.runs.is_empty() && early.gap, "13 waits for 11 and 12");
        let filled = sequence.accept(vec![chained(11, 10, 1), chained(12, 11, 2)]);
        assert_eq!(delivered(&filled), [(1, vec!["11".into()]), (2, vec!["12".into()]), (1, vec!["13".into()])]);
        assert!(!filled.gap);
    }

    #[test]
    fn duplicates_and_old_messages_are_dropped() {
        let mut sequence = Sequencer::starting_at(MessageId(10));
        sequence.accept(vec![chained(11, 10, 1)]);
        let again = sequence.accept(vec![chained(11, 10, 1), chained(9, 8, 1)]);
        assert!(again.runs.is_empty() && !again.gap);
        // A fill that overlaps what was delivered adds only what is new.
        let overlap = sequence.accept(vec![chained(11, 10, 1), chained(12, 11, 1)]);
        assert_eq!(delivered(&overlap), [(1, vec!["12".into()])]);
    }

    #[test]
    fn a_repeat_waits_until_its_first_copy_is_delivered() {
        let mut sequence = Sequencer::starting_at(MessageId(10));
        assert!(sequence.repeat(7, MessageId(12), Frame::plain("repeat of 12".into())).is_none());
        let first = sequence.accept(vec![chained(11, 10, 1)]);
        assert!(first.released.is_empty());
        let second = sequence.accept(vec![chained(12, 11, 1)]);
        assert_eq!(second.released.len(), 1);
        assert_eq!(second.released[0].0, 7);
        assert!(sequence.repeat(8, MessageId(12), Frame::plain("now".into())).is_some(), "delivered: answered at once");
    }
}
