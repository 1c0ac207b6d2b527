//! A WebSocket client speaking the chat frames.

use std::time::Duration;

use serde_json::Value;

use crate::*;

// ---- WebSocket client ----

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a frame it expects.
pub const FRAME_WAIT: Duration = Duration::from_secs(15);

pub struct Ws {
    pub stream: WsStream,
    /// Every text frame received, for checks over the whole conversation.
    pub seen: Vec<String>,
    /// The server closed the socket (or it broke).
    pub closed: bool,
}

/// Opens a WebSocket with the given cookie and Origin; the HTTP status on refusal.
pub async fn ws_connect(server: &TestServer, cookie: Option<&str>, origin: Option<&str>) -> Result<Ws, u16> {
    let mut request = server.ws_url().into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request.headers_mut().insert("Cookie", cookie.parse().unwrap());
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((stream, _)) => Ok(Ws { stream, seen: Vec::new(), closed: false }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("WebSocket handshake failed: {e}"),
    }
}

impl Client {
    /// A WebSocket logged in as this client, from the server's own origin.
    pub async fn ws(&self, server: &TestServer) -> Ws {
        ws_connect(server, Some(&self.cookie_header()), Some(&server.origin())).await.expect("WebSocket opens")
    }
}

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.stream.send(WsMessage::Text(frame.to_string().into())).await.expect("send a frame");
    }

    pub async fn send_raw(&mut self, message: WsMessage) {
        self.stream.send(message).await.expect("send a frame");
    }

    /// The next text frame; panics after [`FRAME_WAIT`].
    pub async fn recv(&mut self) -> Value {
        self.try_recv(FRAME_WAIT).await.expect("a frame in time")
    }

    /// The next text frame within `wait`, or None (silence or a closed socket).
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.closed {
            match tokio::time::timeout_at(deadline, self.stream.next()).await.ok()? {
                Some(Ok(WsMessage::Text(text))) => {
                    self.seen.push(text.to_string());
                    return Some(serde_json::from_str(&text).expect("frames are JSON"));
                }
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => self.closed = true,
                Some(Ok(_)) => {}
            }
        }
        None
    }

    /// Skips frames until one of this type comes.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts that no frame of this type comes within `wait`.
    pub async fn expect_no(&mut self, kind: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Some(frame) = self.try_recv(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
            assert_ne!(frame["type"], kind, "unexpected frame {frame}");
        }
    }

    pub async fn join(&mut self, room: &str) -> Value {
        self.send(serde_json::json!({"type": "join", "room": room})).await;
        let frame = self.recv_type("joined").await;
        assert_eq!(frame["room"], room);
        frame
    }

    pub async fn join_since(&mut self, room: &str, since: i64) -> Value {
        self.send(serde_json::json!({"type": "join", "room": room, "since": since})).await;
        self.recv_type("joined").await
    }

    /// Sends a message and waits for its acknowledgement (the stored copy).
    pub async fn say(&mut self, room: &str, text: &str) -> Value {
        let client_id = format!("c{}", unique());
        self.send(serde_json::json!({"type": "send", "room": room, "text": text, "client_id": client_id})).await;
        loop {
            let frame = self.recv().await;
            if frame["type"] == "message" && frame["message"]["client_id"] == client_id.as_str() {
                return frame["message"].clone();
            }
            assert!(
                !(frame["type"] == "error" && frame["client_id"] == client_id.as_str()),
                "the send was refused: {frame}"
            );
        }
    }

    /// Whether the server closes the socket before `wait` runs out (frames before that
    /// are skipped).
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while self.try_recv(deadline.saturating_duration_since(tokio::time::Instant::now())).await.is_some() {}
        tokio::time::Instant::now() < deadline
    }

    /// The next error frame.
    pub async fn error(&mut self) -> Value {
        self.recv_type("error").await
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
