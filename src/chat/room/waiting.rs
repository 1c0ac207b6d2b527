//! Senders waiting for the group-commit writer, each with a deadline: a stalled
//! database must not leave a send unanswered.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Whoever waits for a send, keyed by the ticket the writer carries back.
pub(crate) struct Waiting<W> {
    by_ticket: HashMap<u64, W>,
    /// Deadlines oldest first (tickets are issued with one fixed delay, in order).
    deadlines: VecDeque<(Instant, u64)>,
    next_ticket: u64,
}

impl<W> Default for Waiting<W> {
    fn default() -> Self {
        Waiting { by_ticket: HashMap::new(), deadlines: VecDeque::new(), next_ticket: 1 }
    }
}

impl<W> Waiting<W> {
    /// Registers a waiter under the next ticket, until `deadline`.
    pub fn insert(&mut self, waiter: W, deadline: Instant) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.by_ticket.insert(ticket, waiter);
        self.deadlines.push_back((deadline, ticket));
        ticket
    }

    /// The waiter of a ticket the writer answered; `None` when it was answered already
    /// (its deadline passed).
    pub fn take(&mut self, ticket: u64) -> Option<W> {
        self.by_ticket.remove(&ticket)
    }

    /// The waiters whose deadline passed by `now`, oldest first.
    pub fn expired(&mut self, now: Instant) -> Vec<W> {
        let mut expired = Vec::new();
        while let Some(&(deadline, ticket)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            expired.extend(self.by_ticket.remove(&ticket));
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_waiter_is_answered_once_by_the_writer_or_by_its_deadline() {
        let start = Instant::now();
        let mut waiting = Waiting::default();
        let first = waiting.insert("first", start + Duration::from_secs(1));
        let second = waiting.insert("second", start + Duration::from_secs(2));
        assert_eq!(waiting.take(first), Some("first"));
        assert!(waiting.expired(start + Duration::from_millis(1500)).is_empty(), "first was answered");
        assert_eq!(waiting.expired(start + Duration::from_secs(3)), ["second"]);
        assert_eq!(waiting.take(second), None, "the writer's late answer finds nobody waiting");
    }
}
