//! A Server-Sent Events client.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::*;

// ---- Server-Sent Events client ----

/// One event of a `text/event-stream`.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

pub struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
    /// Comment lines seen (keep-alives).
    pub comments: usize,
    /// The server ended the stream (or it broke).
    pub ended: bool,
    /// The start of a character split between two chunks.
    partial: Vec<u8>,
}

impl Client {
    /// Opens `/api/events?...`; the response when it is not a stream.
    pub async fn sse(&self, query: &str, last_event_id: Option<i64>) -> Result<Sse, (StatusCode, String)> {
        let mut request =
            self.http.get(self.url(&format!("/api/events?{query}"))).header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        // The stream lives long; the client's request timeout must not cut it.
        let response = request.timeout(Duration::from_secs(3600)).send().await.expect("GET /api/events");
        if response.status() != StatusCode::OK {
            let status = response.status();
            return Err((status, response.text().await.unwrap_or_default()));
        }
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Ok(Sse {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            comments: 0,
            ended: false,
            partial: Vec::new(),
        })
    }
}

impl Sse {
    /// The next event within `wait`, or None (silence or the end of the stream).
    pub async fn next_event(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event { id: None, event: None, data: String::new() };
                let mut any = false;
                for line in block.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value);
                        any = true;
                        match field {
                            "id" => event.id = Some(value.to_owned()),
                            "event" => event.event = Some(value.to_owned()),
                            "data" => {
                                if !event.data.is_empty() {
                                    event.data.push('\n');
                                }
                                event.data.push_str(value)
                            }
                            _ => {}
                        }
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut self.body)).await.ok()? {
                Some(Ok(chunk)) => {
                    self.partial.extend_from_slice(&chunk);
                    let whole = match std::str::from_utf8(&self.partial) {
                        Ok(text) => text.len(),
                        Err(e) if e.error_len().is_none() => e.valid_up_to(),
                        Err(e) => panic!("the event stream is not UTF-8: {e}"),
                    };
                    let text: Vec<u8> = self.partial.drain(..whole).collect();
                    self.buffer.push_str(std::str::from_utf8(&text).expect("checked above"));
                }
                Some(Err(_)) | None => self.ended = true,
            }
        }
    }

    /// The next message event's message object; panics after [`FRAME_WAIT`].
    pub async fn message(&mut self) -> Value {
        let event = self.next_event(FRAME_WAIT).await.expect("an event in time");
        assert_eq!(event.event.as_deref(), Some("message"));
        let message: Value = serde_json::from_str(&event.data).expect("data is a message object");
        assert_eq!(event.id.as_deref(), Some(message["id"].to_string().as_str()), "id: is the message id");
        message
    }

    /// Whether the stream ends within `wait`.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut self.body)).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
