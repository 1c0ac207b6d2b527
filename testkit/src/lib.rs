//! The test harness of chatroom's integration tests: every test starts the real
//! `chatroom` binary on its own throwaway database (SQLite file or MySQL database,
//! chosen by `CHATROOM_TEST_BACKEND`) and talks to it over loopback HTTP, WebSocket and
//! Server-Sent Events, as any client would. A library of its own, so that each test
//! binary uses what it needs without unused-code warnings.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

pub mod db;
pub mod db_proxy;
pub mod http;
pub mod raw_ws;
pub mod redis;
pub mod server;
pub mod sse;
pub mod ws;

pub use db::{mysql_admin, off_runtime, HeldTransaction, MysqlConnection, TestDb};
pub use http::{Client, Page};
pub use redis::TestRedis;
pub use server::TestServer;
pub use sse::{Event, Sse};
pub use ws::{ws_connect, Ws, FRAME_WAIT};

/// The session cookie's name, as the server sets it.
pub const SESSION_COOKIE: &str = "chatroom_session";

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
}

pub fn backend() -> Backend {
    match std::env::var("CHATROOM_TEST_BACKEND").as_deref() {
        Ok("mysql") => Backend::Mysql,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("CHATROOM_TEST_BACKEND must be sqlite or mysql, not {other}"),
    }
}

fn mysql_server_url() -> String {
    std::env::var("CHATROOM_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// The MySQL server's address, from `CHATROOM_TEST_MYSQL_URL`.
pub fn mysql_server_addr() -> SocketAddr {
    let url = mysql_server_url();
    let host_port = url.trim_start_matches("mysql://").rsplit('@').next().unwrap_or_default().trim_end_matches('/');
    let host_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:3306") };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port.parse().expect("CHATROOM_TEST_MYSQL_URL names host:port")
}

/// `text` percent-encoded for a query string (every byte but unreserved ones).
pub fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    n * 1_000_000 + rand::rng().random_range(0..1_000_000)
}

/// A phone number nobody in this test run has used: a valid Chinese mobile number.
pub fn fresh_phone() -> String {
    format!("+86138{:08}", rand::rng().random_range(0..100_000_000u64))
}

pub fn fresh_nickname() -> String {
    format!("user{}", unique() % 1_000_000_000)
}
