//! A guard in front of the WebSocket frame parser that enforces the frame limit as the
//! bytes arrive.
//!
//! actix-http's parser waits for a whole frame before it compares its length with the
//! limit, so a client declaring a 2^40-byte frame could make the server buffer without
//! end. This adapter reads each frame header as the bytes pass through (without copying
//! them) and ends the stream as soon as a header declares more than the limit: at most
//! one frame within the limit is ever buffered per connection.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

/// Where the parser stands in the client's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a header: the bytes of it seen so far.
    Header { seen: usize, buf: [u8; 14] },
    /// Skipping the payload of a frame within the limit.
    Payload { left: u64 },
}

/// Reads RFC 6455 frame headers out of a byte stream, chunk by chunk.
#[derive(Debug, Clone)]
pub struct FrameHeaderReader {
    max_payload: u64,
    state: State,
}

impl FrameHeaderReader {
    pub fn new(max_payload: usize) -> Self {
        Self { max_payload: max_payload as u64, state: State::Header { seen: 0, buf: [0; 14] } }
    }

    /// Follows `chunk`; `Some(offset)` when a frame header ending in it declares more
    /// than the limit, `offset` being where that frame starts in this chunk (0 when its
    /// header began in an earlier one).
    pub fn feed(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < chunk.len() {
            match &mut self.state {
                State::Payload { left } => {
                    let skip = (*left).min((chunk.len() - at) as u64);
                    *left -= skip;
                    at += skip as usize;
                    if *left == 0 {
                        self.state = State::Header { seen: 0, buf: [0; 14] };
                    }
                }
                State::Header { seen, buf } => {
                    let frame_start = at.saturating_sub(*seen);
                    buf[*seen] = chunk[at];
                    *seen += 1;
                    at += 1;
                    let Some(payload) = declared_payload(&buf[..*seen]) else { continue };
                    if payload > self.max_payload {
                        return Some(frame_start);
                    }
                    self.state = if payload == 0 {
                        State::Header { seen: 0, buf: [0; 14] }
                    } else {
                        State::Payload { left: payload }
                    };
                }
            }
        }
        None
    }
}

/// The payload length a complete header declares, or `None` while the header is still
/// incomplete.
fn declared_payload(header: &[u8]) -> Option<u64> {
    if header.len() < 2 {
        return None;
    }
    let masked = header[1] & 0x80 != 0;
    let short = u64::from(header[1] & 0x7f);
    let extended = match short {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let total = 2 + extended + if masked { 4 } else { 0 };
    if header.len() < total {
        return None;
    }
    Some(match extended {
        2 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        8 => u64::from_be_bytes(header[2..10].try_into().expect("eight bytes")),
        _ => short,
    })
}

/// The client's byte stream with [`FrameHeaderReader`] applied: the bytes before an
/// oversized frame pass, then the stream fails and `tripped` is set.
pub struct FrameGuard<S> {
    inner: S,
    reader: FrameHeaderReader,
    tripped: Arc<AtomicBool>,
    failed: bool,
}

impl<S> FrameGuard<S> {
    pub fn new(inner: S, max_payload: usize, tripped: Arc<AtomicBool>) -> Self {
        Self { inner, reader: FrameHeaderReader::new(max_payload), tripped, failed: false }
    }
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => match self.reader.feed(&chunk) {
                None => Poll::Ready(Some(Ok(chunk))),
                Some(frame_start) => {
                    self.failed = true;
                    self.tripped.store(true, Ordering::Relaxed);
                    if frame_start > 0 {
                        // The whole frames before the oversized one are still read.
                        Poll::Ready(Some(Ok(chunk.slice(..frame_start))))
                    } else {
                        Poll::Ready(Some(Err(PayloadError::Overflow)))
                    }
                }
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A masked client frame with this payload, the way browsers send them.
    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]));
        out
    }

    fn header_declaring(len: u64) -> Vec<u8> {
        let mut out = vec![0x81, 0x80 | 127];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out
    }

    #[test]
    fn frames_within_the_limit_pass() {
        let mut reader = FrameHeaderReader::new(200);
        let bytes = [frame(1, b"hello"), frame(1, &[b'x'; 200]), frame(9, b""), frame(1, &[b'y'; 130])].concat();
        assert_eq!(reader.feed(&bytes), None);
    }

    #[test]
    fn a_header_declaring_more_trips_at_its_start() {
        let mut reader = FrameHeaderReader::new(100);
        let first = frame(1, b"fine");
        let bytes = [first.clone(), header_declaring(1 << 40)].concat();
        assert_eq!(reader.feed(&bytes), Some(first.len()));
    }

    #[test]
    fn a_header_split_over_chunks_trips_when_it_completes() {
        let mut reader = FrameHeaderReader::new(65_536);
        let header = header_declaring(70_000);
        assert_eq!(reader.feed(&header[..3]), None);
        assert_eq!(reader.feed(&header[3..]), Some(0));
    }

    proptest! {
        /// However the bytes are cut, frames within the limit never trip the guard, and
        /// one frame past the limit always does, at the same place.
        #[test]
        fn any_chunking_gives_the_same_verdict(
            sizes in proptest::collection::vec(0usize..300, 0..8),
            oversize in proptest::option::of(301u64..u64::MAX),
            cuts in proptest::collection::vec(1usize..40, 1..50),
        ) {
            let mut bytes: Vec<u8> = sizes.iter().flat_map(|n| frame(2, &vec![7; *n])).collect();
            let valid_len = bytes.len();
            if let Some(len) = oversize {
                bytes.extend(header_declaring(len));
            }
            let mut reader = FrameHeaderReader::new(300);
            let (mut at, mut verdict) = (0, None);
            for cut in cuts.iter().cycle() {
                if at >= bytes.len() {
                    break;
                }
                let end = (at + cut).min(bytes.len());
                if let Some(offset) = reader.feed(&bytes[at..end]) {
                    verdict = Some(at + offset);
                    break;
                }
                at = end;
            }
            match oversize {
                None => prop_assert_eq!(verdict, None),
                // The frame starts at `valid_len`, possibly in an earlier chunk than the
                // one its header completes in (then the offset is 0 in that chunk).
                Some(_) => prop_assert!(verdict.is_some_and(|v| (valid_len..valid_len + 14).contains(&v))),
            }
        }

        /// Arbitrary bytes never panic the reader.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000), limit in 0usize..100_000) {
            let mut reader = FrameHeaderReader::new(limit);
            let _ = reader.feed(&bytes);
        }
    }
}
