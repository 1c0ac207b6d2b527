//! The way out to one connection: a bounded queue of shared frames.
//!
//! The room actor never waits on a connection. It hands each one a batch of frames
//! that all recipients share (one `Arc`, the bytes serialized once); a connection with
//! more than its capacity of frames still unwritten is too slow and is dropped (it
//! resumes later with `since`) instead of holding the room up or growing memory.

use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;

use crate::codes::CloseReason;

use super::protocol::Frame;

/// Frames delivered together: one allocation shared by every recipient.
pub type Batch = Arc<[Arc<Frame>]>;

pub fn batch_of(frame: Frame) -> Batch {
    Arc::from([Arc::new(frame)])
}

/// To a WebSocket session: write these frames.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver(pub Batch);

/// To a WebSocket session: close now, for this reason.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct CloseConnection {
    pub reason: CloseReason,
}

/// Where a connection's frames go.
pub enum Sink {
    WebSocket {
        deliver: Recipient<Deliver>,
        close: Recipient<CloseConnection>,
    },
    /// A Server-Sent Events stream reads message frames from this channel.
    EventStream(tokio::sync::mpsc::UnboundedSender<Batch>),
}

/// The queue was full: the connection must be dropped.
#[derive(Debug)]
pub struct Overflow;

/// Counts the batches handed to a connection and not yet written by it.
#[derive(Debug, Clone, Default)]
pub struct QueueGauge(Arc<AtomicUsize>);

impl QueueGauge {
    /// Called by the connection once it has written a batch.
    pub fn written(&self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn queued(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// A way to shut the connection's socket from outside, for a connection that stopped
/// reading (and so is no longer polled, and cannot be told to close).
///
/// It keeps the descriptor's number and the peer's address rather than a duplicate
/// descriptor (which would double the descriptors a server with 10,000 sockets needs):
/// the number is only acted on while it still leads to the same peer.
#[derive(Debug)]
pub struct SocketCloser {
    fd: std::os::fd::RawFd,
    peer: std::net::SocketAddr,
}

impl SocketCloser {
    pub fn new(fd: std::os::fd::RawFd, peer: std::net::SocketAddr) -> Self {
        SocketCloser { fd, peer }
    }

    pub fn shutdown(&self) {
        // SAFETY: only system calls that take a descriptor number are made; if the
        // connection closed and the number went to another socket, its peer differs
        // and nothing is done.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) };
        let socket = socket2::SockRef::from(&fd);
        if socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(self.peer) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

pub struct Outbox {
    sink: Sink,
    gauge: QueueGauge,
    capacity: usize,
    closer: Option<SocketCloser>,
}

impl Outbox {
    pub fn new(sink: Sink, gauge: QueueGauge, capacity: usize, closer: Option<SocketCloser>) -> Self {
        Outbox { sink, gauge, capacity, closer }
    }

    /// Queues a batch, or reports that the connection is too far behind. The bound
    /// counts batches: their frames are shared, so a connection's own cost is per batch.
    pub fn push(&self, batch: &Batch) -> Result<(), Overflow> {
        let before = self.gauge.0.fetch_add(1, Ordering::AcqRel);
        if before >= self.capacity {
            self.gauge.0.fetch_sub(1, Ordering::AcqRel);
            return Err(Overflow);
        }
        let sent = match &self.sink {
            Sink::WebSocket { deliver, .. } => {
                deliver.do_send(Deliver(batch.clone()));
                true
            }
            Sink::EventStream(tx) => tx.send(batch.clone()).is_ok(),
        };
        if !sent {
            // The connection is already gone; its disconnect is on its way.
            self.gauge.0.fetch_sub(1, Ordering::AcqRel);
        }
        Ok(())
    }

    pub fn push_frame(&self, frame: Frame) -> Result<(), Overflow> {
        self.push(&batch_of(frame))
    }

    /// Ends the connection: politely when it is still reading, and by shutting the
    /// socket when it is not.
    pub fn close(&self, reason: CloseReason) {
        // An event stream ends when its channel is dropped with this outbox.
        if let Sink::WebSocket { close, .. } = &self.sink {
            close.do_send(CloseConnection { reason });
        }
        if reason == CloseReason::TooSlow {
            if let Some(closer) = &self.closer {
                closer.shutdown();
            }
        }
    }

    pub fn is_event_stream(&self) -> bool {
        matches!(self.sink, Sink::EventStream(_))
    }
}
