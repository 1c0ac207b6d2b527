//! The test harness: every test starts the real `chatroom` binary on its own throwaway
//! database (SQLite file or MySQL database, chosen by `CHATROOM_TEST_BACKEND`) and talks
//! to it over loopback HTTP and WebSocket, as any client would.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use rand::Rng;
use regex::Regex;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::Value;

pub mod db_proxy;
pub mod raw_ws;

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

/// A throwaway database for one test, dropped with it.
pub struct TestDb {
    pub url: String,
    pub mysql_name: Option<String>,
}

impl TestDb {
    pub fn create(data_dir: &Path) -> TestDb {
        match backend() {
            Backend::Sqlite => {
                TestDb { url: format!("sqlite://{}", data_dir.join("chat.db").display()), mysql_name: None }
            }
            Backend::Mysql => {
                let name = format!("chatroom_test_{}_{}", std::process::id(), unique());
                let server = mysql_server_url();
                mysql_admin(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
                    .expect("CHATROOM_TEST_MYSQL_URL answers (scripts/test makes sure of it)");
                TestDb { url: format!("{server}/{name}"), mysql_name: Some(name) }
            }
        }
    }

    /// Runs SQL against the test database directly (to look at what was stored).
    pub fn query_strings(&self, sql: &str) -> Vec<String> {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            value: String,
        }
        let rows: Vec<Row> = match self.mysql_name {
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut conn = diesel::sqlite::SqliteConnection::establish(path).expect("open the test SQLite file");
                diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("query")
            }
            Some(_) => off_runtime(|| {
                let mut conn = chatroom::db::MysqlConnection::establish(&self.url).expect("open the test database");
                diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("query")
            }),
        };
        rows.into_iter().map(|r| r.value).collect()
    }

    /// Runs statements against the test database directly (a trigger, a lock...).
    pub fn execute(&self, sql: &str) {
        match self.mysql_name {
            None => {
                let mut conn = diesel::sqlite::SqliteConnection::establish(self.sqlite_path()).expect("open SQLite");
                conn.batch_execute(sql).expect("execute");
            }
            Some(_) => off_runtime(|| {
                let mut conn = chatroom::db::MysqlConnection::establish(&self.url).expect("open the test database");
                conn.batch_execute(sql).expect("execute");
            }),
        }
    }

    /// The SQLite file's path (SQLite only).
    pub fn sqlite_path(&self) -> &str {
        self.url.trim_start_matches("sqlite://")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.mysql_name {
            let _ = mysql_admin(&format!("DROP DATABASE IF EXISTS `{name}`"));
        }
    }
}

/// Runs blocking client work on a thread of its own: the MySQL driver blocks on a runtime
/// of its own, which it cannot do inside the test's async runtime.
pub fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("the worker thread"))
}

/// Runs one statement on the test MySQL server, outside any database.
pub fn mysql_admin(sql: &str) -> Result<(), String> {
    off_runtime(|| {
        let mut conn =
            chatroom::db::MysqlConnection::establish(&format!("{}/", mysql_server_url())).map_err(|e| e.to_string())?;
        conn.batch_execute(sql).map_err(|e| e.to_string())
    })
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

/// A running `chatroom` process.
pub struct TestServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub db: Arc<TestDb>,
    env: Vec<(String, String)>,
    log: Arc<Mutex<Vec<String>>>,
    tmp: Arc<tempfile::TempDir>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts a server with extra `CHATROOM_*` settings.
    pub fn start_with(env: &[(&str, &str)]) -> TestServer {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let data_dir = tmp.path().join("data");
        let db = TestDb::create(tmp.path());
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut server = TestServer {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir,
            db: Arc::new(db),
            env,
            log: Arc::default(),
            tmp: Arc::new(tmp),
        };
        server.spawn();
        server
    }

    /// Starts a server that reaches its database at the URL `url` makes of the test
    /// database's own (through a proxy, say).
    pub fn start_with_db_url(env: &[(&str, &str)], url: impl FnOnce(&TestDb) -> String) -> TestServer {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let db = TestDb::create(tmp.path());
        let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.push(("CHATROOM_DATABASE_URL".into(), url(&db)));
        let mut server = TestServer {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: tmp.path().join("data"),
            db: Arc::new(db),
            env,
            log: Arc::default(),
            tmp: Arc::new(tmp),
        };
        server.spawn();
        server
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server runs").id()
    }

    /// The server's resident memory, in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// Another node on the same database and data directory (so the same session key:
    /// a cookie from one node is good on every node), with its own settings.
    pub fn another_node(&self, env: &[(&str, &str)]) -> TestServer {
        let mut node = TestServer {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir: self.data_dir.clone(),
            db: self.db.clone(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            log: Arc::default(),
            tmp: self.tmp.clone(),
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chatroom"));
        for (key, _) in std::env::vars() {
            if key.starts_with("CHATROOM_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .current_dir(self.tmp.path())
            .env("CHATROOM_BIND", self.addr.to_string())
            .env("CHATROOM_DATA_DIR", &self.data_dir)
            .env("CHATROOM_DATABASE_URL", &self.db.url)
            .env("CHATROOM_BCRYPT_COST", "10")
            .env("CHATROOM_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start target/.../chatroom");
        let (tx, rx) = mpsc::channel();
        let log = self.log.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let pattern = Regex::new(r"listening on http://(\S+)").unwrap();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = pattern.captures(&line) {
                    let _ = tx.send(addr[1].to_owned());
                }
                if std::env::var_os("CHATROOM_TEST_LOG").is_some() {
                    eprintln!("[server] {line}");
                }
                log.lock().unwrap().push(line);
            }
        });
        let log = self.log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server stderr] {line}");
                log.lock().unwrap().push(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => self.addr = addr.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{}", self.log.lock().unwrap().join("\n"));
            }
        }
        self.child = Some(child);
    }

    /// Kills the process (SIGKILL: no graceful anything) and starts it again on the
    /// same port, data directory and database.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// A new client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client::new(self)
    }

    /// Registers a new account through the page and returns a client logged in as it.
    pub async fn user(&self) -> Client {
        let mut client = self.client();
        client.register_fresh().await;
        client
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    base: String,
    pub phone: String,
    pub nickname: String,
    pub id: i64,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn csrf(&self) -> String {
        let pattern = Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
        pattern.captures(&self.body).map(|c| c[1].to_owned()).expect("the page has a CSRF token")
    }

    pub fn set_cookie(&self) -> Option<&str> {
        self.headers.get("set-cookie").and_then(|v| v.to_str().ok())
    }
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            // A fresh connection per request, so a restarted server is reached at once.
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Client { http, jar, base: server.url(""), phone: String::new(), nickname: String::new(), id: 0 }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.http.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(self.http.post(self.url(path)).form(form).send().await.expect("POST")).await
    }

    /// GETs `form_path` for a CSRF token, then posts the form with it.
    pub async fn submit(&self, form_path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(form_path).await.csrf();
        let mut form = fields.to_vec();
        form.push(("csrf_token", &token));
        self.post_form(action, &form).await
    }

    pub async fn page(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        Self::json(self.http.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::json(self.http.post(self.url(path)).json(body).send().await.expect("POST")).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        Self::json(self.http.delete(self.url(path)).send().await.expect("DELETE")).await
    }

    pub async fn json(response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, value)
    }

    pub async fn register(&mut self, phone: &str, nickname: &str, password: &str) -> Page {
        let page = self
            .submit(
                "/register",
                "/register",
                &[("phone", phone), ("nickname", nickname), ("password", password), ("password_confirm", password)],
            )
            .await;
        if page.status == StatusCode::SEE_OTHER {
            self.phone = phone.to_owned();
            self.nickname = nickname.to_owned();
            let (_, me) = self.get_json("/api/me").await;
            self.id = me["user"]["id"].as_i64().expect("a user id");
        }
        page
    }

    pub async fn register_fresh(&mut self) {
        let page = self.register(&fresh_phone(), &fresh_nickname(), PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "registration failed: {}", page.body);
    }

    pub async fn api_login(&self, phone: &str, password: &str) -> (StatusCode, Value) {
        self.post_json("/api/session", &serde_json::json!({"phone": phone, "password": password})).await
    }

    /// The `Cookie` header this client would send (for WebSocket handshakes).
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar.cookies(&self.base.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    /// The session cookie's value.
    pub fn session_cookie(&self) -> Option<String> {
        let header = self.cookie_header();
        header.split("; ").find_map(|kv| kv.strip_prefix(&format!("{}=", chatroom::SESSION_COOKIE)).map(str::to_owned))
    }
}

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

    /// The next error frame.
    pub async fn error(&mut self) -> Value {
        self.recv_type("error").await
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

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

impl Client {
    /// Another client on the same login (another tab of the same browser).
    pub fn clone_session(&self, server: &TestServer) -> Client {
        let clone = Client::new(server);
        let url = server.url("/").parse().unwrap();
        for cookie in self.cookie_header().split("; ").filter(|c| !c.is_empty()) {
            clone.jar.add_cookie_str(cookie, &url);
        }
        Client { phone: self.phone.clone(), nickname: self.nickname.clone(), id: self.id, ..clone }
    }

    /// The same user logged in again on another device (a session of its own).
    pub async fn another_login(&self, server: &TestServer) -> Client {
        let device = Client::new(server);
        let (status, body) = device.api_login(&self.phone, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Client { phone: self.phone.clone(), nickname: self.nickname.clone(), id: self.id, ..device }
    }
}

// ---- a Redis of the test's own ----

/// A `redis-server` process for one test (several nodes of one test share it; other
/// tests cannot hear it). scripts/test makes sure the binary is installed.
pub struct TestRedis {
    child: Option<Child>,
    pub port: u16,
}

impl TestRedis {
    pub fn start() -> TestRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = TestRedis { child: None, port };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Freezes Redis (SIGSTOP): connections stay open and nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("redis is running").id().to_string();
        let status = Command::new("kill").args([signal, pid.as_str()]).status().expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Kills Redis (everything in it is lost) and starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
