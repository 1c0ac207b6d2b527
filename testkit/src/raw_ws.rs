//! A WebSocket client on a bare TCP socket, for what a well-behaved client library will
//! not send: oversized or fragmented frames, invalid UTF-8, a payload that never ends.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::TestServer;

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;

pub struct RawWs {
    pub stream: TcpStream,
    /// Bytes read from the server and not parsed yet.
    buffer: Vec<u8>,
}

/// A frame from the server (servers do not mask).
#[derive(Debug)]
pub struct ServerFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl ServerFrame {
    /// The status code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == OP_CLOSE && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    pub fn text(&self) -> Option<serde_json::Value> {
        (self.opcode == OP_TEXT).then(|| serde_json::from_slice(&self.payload).ok()).flatten()
    }
}

/// The header of a masked client frame declaring `len` bytes of payload.
pub fn client_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut header = vec![if fin { 0x80 | opcode } else { opcode }];
    if len < 126 {
        header.push(0x80 | len as u8);
    } else if len <= u64::from(u16::MAX) {
        header.push(0x80 | 126);
        header.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        header.push(0x80 | 127);
        header.extend_from_slice(&len.to_be_bytes());
    }
    header.extend_from_slice(&MASK);
    header
}

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn masked(payload: &[u8]) -> Vec<u8> {
    payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]).collect()
}

impl RawWs {
    /// Opens `/ws` with the client's cookie and the server's own origin.
    pub async fn connect(server: &TestServer, cookie: &str) -> RawWs {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Origin: {origin}\r\nCookie: {cookie}\r\n\r\n",
            addr = server.addr,
            origin = server.origin(),
        );
        stream.write_all(request.as_bytes()).await.expect("handshake");
        let mut raw = RawWs { stream, buffer: Vec::new() };
        let head = raw.read_until_blank_line().await;
        assert!(head.starts_with("HTTP/1.1 101"), "the upgrade was refused: {head}");
        raw
    }

    async fn read_until_blank_line(&mut self) -> String {
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buffer.drain(..end + 4).collect();
                return String::from_utf8_lossy(&head).into_owned();
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.expect("read the handshake");
            assert!(n > 0, "the server closed during the handshake");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends one whole frame, masked as clients must.
    pub async fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        let mut frame = client_header(fin, opcode, payload.len() as u64);
        frame.extend_from_slice(&masked(payload));
        self.stream.write_all(&frame).await.expect("send a frame");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send_frame(true, OP_TEXT, text.as_bytes()).await;
    }

    /// The next frame within `wait`; None on silence or a closed connection.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(frame) = self.parse_frame() {
                return Some(frame);
            }
            let mut chunk = [0u8; 16384];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buffer.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }

    /// Frames until the close frame (returned) or the end of the connection (None).
    pub async fn until_close(&mut self, wait: Duration) -> (Vec<ServerFrame>, Option<ServerFrame>) {
        let mut before = Vec::new();
        while let Some(frame) = self.next_frame(wait).await {
            if frame.opcode == OP_CLOSE {
                return (before, Some(frame));
            }
            before.push(frame);
        }
        (before, None)
    }

    fn parse_frame(&mut self) -> Option<ServerFrame> {
        let b = &self.buffer;
        if b.len() < 2 {
            return None;
        }
        let opcode = b[0] & 0x0f;
        let (len, start) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize, 10),
            126 | 127 => return None,
            n => (n as usize, 2),
        };
        if b.len() < start + len {
            return None;
        }
        let payload = b[start..start + len].to_vec();
        self.buffer.drain(..start + len);
        Some(ServerFrame { opcode, payload })
    }
}
