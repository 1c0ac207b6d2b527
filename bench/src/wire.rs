//! A lean WebSocket client for load: handshake, masked text frames out, frames in.
//!
//! The load generator has to read a million frames a second on one core, so it does
//! not parse JSON: it finds the few fields it needs in the bytes.

use std::io;
use std::net::SocketAddr;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const OP_TEXT: u8 = 0x1;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

pub struct WsConn {
    pub stream: TcpStream,
    pub buf: BytesMut,
}

/// Opens a WebSocket on `/ws` with a session cookie.
pub async fn connect(addr: SocketAddr, cookie: &str) -> io::Result<WsConn> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed during the handshake"));
        }
        if let Some(end) = memchr::memmem::find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !head.starts_with("HTTP/1.1 101") {
                let status = head.lines().next().unwrap_or_default().to_owned();
                return Err(io::Error::other(format!("handshake refused: {status}")));
            }
            buf.advance(end + 4);
            return Ok(WsConn { stream, buf });
        }
        if buf.len() > 16 * 1024 {
            return Err(io::Error::other("handshake response too long"));
        }
    }
}

/// Appends a masked client frame.
pub fn encode(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    // The mask only has to be present (RFC 6455); its value does not matter here.
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// Takes every complete server frame out of `buf`, calling `frame(opcode, payload)`.
pub fn drain_frames(buf: &mut BytesMut, mut frame: impl FnMut(u8, &[u8])) {
    loop {
        if buf.len() < 2 {
            return;
        }
        let opcode = buf[0] & 0x0f;
        let short = (buf[1] & 0x7f) as usize;
        let (len, header) = match short {
            126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize, 10),
            126 | 127 => return,
            n => (n, 2),
        };
        if buf.len() < header + len {
            if buf.capacity() < header + len {
                buf.reserve(header + len - buf.len());
            }
            return;
        }
        frame(opcode, &buf[header..header + len]);
        buf.advance(header + len);
    }
}

/// The integer after `key` in `bytes`, e.g. `"id":` in a message frame.
pub fn number_after(bytes: &[u8], key: &[u8]) -> Option<i64> {
    let start = memchr::memmem::find(bytes, key)? + key.len();
    let mut value: i64 = 0;
    let mut any = false;
    for b in &bytes[start..] {
        if b.is_ascii_digit() {
            value = value * 10 + (b - b'0') as i64;
            any = true;
        } else {
            break;
        }
    }
    any.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_the_parser() {
        // Server frames are unmasked: build one by hand.
        let payload = br#"{"type":"message","message":{"id":42,"text":"t123 x"}}"#;
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0x81, payload.len() as u8]);
        buf.extend_from_slice(payload);
        buf.extend_from_slice(&[0x89, 0]);
        let mut seen = Vec::new();
        drain_frames(&mut buf, |op, p| seen.push((op, p.to_vec())));
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, OP_TEXT);
        assert_eq!(number_after(&seen[0].1, br#""id":"#), Some(42));
        assert_eq!(number_after(&seen[0].1, br#""text":"t"#), Some(123));
        assert_eq!(seen[1].0, OP_PING);
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_frames_wait_for_the_rest() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0x81, 126, 0x01]);
        let mut n = 0;
        drain_frames(&mut buf, |_, _| n += 1);
        assert_eq!(n, 0);
        assert_eq!(buf.len(), 3);
    }

    #[test]
    fn client_frames_are_masked() {
        let mut out = Vec::new();
        encode(OP_TEXT, &[0u8; 200], &mut out);
        assert_eq!(out[0], 0x81);
        assert_eq!(out[1], 0x80 | 126);
        assert_eq!(out.len(), 4 + 4 + 200);
    }
}
