//! The faults an outside probe found, each driven the way the probe (or a failing
//! environment) drove it: oversized WebSocket frames, colliding client ids, a `since`
//! from the future, racing logins and direct rooms, a stalled database.

use chatroom_testkit as common;

use std::time::{Duration, Instant};

use common::db_proxy::DbProxy;
use common::raw_ws::{client_header, RawWs, OP_CLOSE, OP_TEXT};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

const FAST: &[(&str, &str)] =
    &[("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "10000"), ("CHATROOM_LIMITS_SEND_BURST", "10000")];
const FRAME_LIMIT: usize = 65_536;

// ---- 1. a frame header declaring more than the limit ----

#[tokio::test]
async fn a_frame_declaring_more_than_the_limit_is_refused_as_soon_as_its_header_arrives() {
    let server = TestServer::start();
    let user = server.user().await;
    for declared in [1u64 << 40, 70_000] {
        let mut ws = RawWs::connect(&server, &user.cookie_header()).await;
        ws.stream.write_all(&client_header(true, OP_TEXT, declared)).await.unwrap();
        ws.stream.write_all(&vec![b'x'; 1000]).await.unwrap();
        // The rest of the payload never comes: the header alone must be enough.
        let (frames, close) = ws.until_close(Duration::from_secs(5)).await;
        let errors: Vec<Value> = frames.iter().filter_map(|f| f.text()).collect();
        assert!(
            errors.iter().any(|e| e["type"] == "error" && e["code"] == "too_large"),
            "declared {declared}: {errors:?}"
        );
        assert_eq!(close.and_then(|c| c.close_code()), Some(1009), "declared {declared}: closed with 1009");
    }
}

#[tokio::test]
async fn a_never_ending_frame_is_cut_off_before_a_megabyte_past_the_limit_and_memory_stays_flat() {
    let server = TestServer::start();
    let user = server.user().await;
    let rss_before = server.rss_kib();
    for declared in [1u64 << 40, 70_000] {
        let mut ws = RawWs::connect(&server, &user.cookie_header()).await;
        ws.stream.write_all(&client_header(true, OP_TEXT, declared)).await.unwrap();
        let chunk = vec![b'x'; 16 * 1024];
        let (mut sent, cap) = (0usize, 32usize << 20);
        let mut cut_off = false;
        while sent < cap {
            match tokio::time::timeout(Duration::from_millis(50), ws.stream.write_all(&chunk)).await {
                Ok(Ok(())) => sent += chunk.len(),
                Ok(Err(_)) => {
                    cut_off = true; // reset: the server closed the connection
                    break;
                }
                Err(_) => {} // the buffers are full: the server stopped reading
            }
            if let Some(frame) = ws.next_frame(Duration::from_millis(1)).await {
                if frame.opcode == OP_CLOSE {
                    cut_off = true;
                    break;
                }
            }
        }
        assert!(cut_off, "declared {declared}: still open after {sent} bytes");
        assert!(sent < FRAME_LIMIT + (1 << 20), "declared {declared}: cut off only after {sent} bytes");
    }
    let grown_kib = server.rss_kib().saturating_sub(rss_before);
    assert!(grown_kib < 16 * 1024, "the server grew by {grown_kib} KiB");
}

// ---- 2. client ids that one backend could confuse ----

async fn send_frame(ws: &mut Ws, room: &str, text: &str, client_id: &str) {
    ws.send(json!({"type": "send", "room": room, "text": text, "client_id": client_id})).await;
}

/// Waits for the answer (acknowledgement or error) to each of these client ids of
/// this user's.
async fn answers(ws: &mut Ws, me: &Client, client_ids: &[&str]) -> Vec<Value> {
    let mut answers: Vec<Option<Value>> = vec![None; client_ids.len()];
    while answers.iter().any(Option::is_none) {
        let frame = ws.recv().await;
        let client_id = match frame["type"].as_str() {
            Some("message") if frame["message"]["user"]["id"] == me.id => frame["message"]["client_id"].as_str(),
            Some("error") => frame["client_id"].as_str(),
            _ => None,
        };
        if let Some(i) = client_id.and_then(|id| client_ids.iter().position(|c| *c == id)) {
            answers[i].get_or_insert(frame);
        }
    }
    answers.into_iter().map(Option::unwrap).collect()
}

/// Another connection holding the database's write lock: sends queue behind it and
/// then go into one batch together. The first send (which the writer is stuck on when
/// the lock is taken) is made here, by `sender`.
struct HeldWrites {
    release: std::sync::mpsc::Sender<()>,
    done: std::thread::JoinHandle<()>,
}

impl HeldWrites {
    fn release(self) {
        self.release.send(()).unwrap();
        self.done.join().unwrap();
    }
}

async fn hold_writes(db: &TestDb, sender: &mut Ws) -> HeldWrites {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (url, mysql) = (db.url.clone(), db.mysql_name.is_some());
    let done = std::thread::spawn(move || {
        if mysql {
            let mut conn = MysqlConnection::establish(&url).unwrap();
            conn.batch_execute("BEGIN; SELECT * FROM message_sequence WHERE id = 1 FOR UPDATE;").unwrap();
            locked_tx.send(()).unwrap();
            let _ = released.recv();
            conn.batch_execute("COMMIT").unwrap();
        } else {
            let mut conn = diesel::sqlite::SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
            conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            let _ = released.recv();
            conn.batch_execute("COMMIT").unwrap();
        }
    });
    locked.recv().unwrap();
    send_frame(sender, "lobby", "first, alone", &format!("first-{}", unique())).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    HeldWrites { release, done }
}

#[tokio::test]
async fn client_ids_that_differ_only_by_trailing_spaces_are_two_messages() {
    let server = TestServer::start_with(FAST);
    let (alice, bob) = (server.user().await, server.user().await);
    let (mut a, mut b) = (alice.ws(&server).await, bob.ws(&server).await);
    a.join("lobby").await;
    b.join("lobby").await;
    // All four wait behind one transaction, so that they are stored in one batch.
    let held = hold_writes(&server.db, &mut b).await;
    send_frame(&mut a, "lobby", "one", "abc").await;
    send_frame(&mut a, "lobby", "two", "abc ").await;
    send_frame(&mut a, "lobby", "three", "abc  ").await;
    send_frame(&mut b, "lobby", "bob's", "abc").await;
    held.release();
    let mine = answers(&mut a, &alice, &["abc", "abc ", "abc  "]).await;
    let texts: Vec<&str> = mine.iter().map(|f| f["message"]["text"].as_str().unwrap_or("refused")).collect();
    assert_eq!(texts, ["one", "two", "three"], "{mine:?}");
    let ids: std::collections::HashSet<i64> = mine.iter().map(|f| f["message"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(answers(&mut b, &bob, &["abc"]).await[0]["message"]["text"], "bob's");
    let stored = server
        .db
        .query_strings(&format!("SELECT body AS value FROM messages WHERE user_id = {} ORDER BY id", alice.id));
    assert_eq!(stored, ["one", "two", "three"]);
}

#[tokio::test]
async fn a_message_that_cannot_be_stored_fails_alone_and_the_rest_of_its_batch_is_stored() {
    let server = TestServer::start_with(FAST);
    // The database itself refuses one message, as a broken row or a constraint would.
    server.db.execute(match backend() {
        Backend::Sqlite => {
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.body = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;"
        }
        Backend::Mysql => {
            "CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW BEGIN \
             IF NEW.body = 'poison' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned'; END IF; END"
        }
    });
    let (alice, bob) = (server.user().await, server.user().await);
    let (mut a, mut b) = (alice.ws(&server).await, bob.ws(&server).await);
    a.join("lobby").await;
    b.join("lobby").await;
    let bobs: Vec<String> = (0..40).map(|i| format!("b{i}")).collect();
    let held = hold_writes(&server.db, &mut b).await;
    for (i, id) in bobs.iter().enumerate() {
        send_frame(&mut b, "lobby", &format!("fine {i}"), id).await;
        if i == 20 {
            send_frame(&mut a, "lobby", "poison", "p1").await;
        }
    }
    held.release();
    let refused = answers(&mut a, &alice, &["p1"]).await.remove(0);
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "unavailable");
    let ids: Vec<&str> = bobs.iter().map(String::as_str).collect();
    for answer in answers(&mut b, &bob, &ids).await {
        assert_eq!(answer["type"], "message", "one of bob's messages failed with the poisoned one: {answer}");
    }
    let stored =
        server.db.query_strings(&format!("SELECT client_id AS value FROM messages WHERE user_id = {}", bob.id));
    assert_eq!(stored.len(), 41);
}

// ---- 3. a resume point from the future ----

#[tokio::test]
async fn a_join_with_since_past_the_latest_message_is_read_as_the_latest() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut ws = alice.ws(&server).await;
    let joined = ws.join_since("lobby", 1_000_000_000_000).await;
    assert_eq!(joined["messages"], json!([]));
    // Its own sends are acknowledged, and others' messages arrive live.
    ws.say("lobby", "after a restore").await;
    let (status, _) = bob.post_json("/api/rooms/lobby/messages", &json!({"text": "from bob", "client_id": "b1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(ws.recv_type("message").await["message"]["text"], "from bob");
}

#[tokio::test]
async fn an_event_stream_resuming_past_the_latest_message_gets_new_ones() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut sse = bob.sse("rooms=lobby", Some(1_000_000_000_000)).await.expect("a stream");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, posted) =
        alice.post_json("/api/rooms/lobby/messages", &json!({"text": "hello", "client_id": "a1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(sse.message().await, posted["message"]);
}

#[tokio::test]
async fn a_read_marker_past_the_latest_message_is_clamped_so_later_messages_count_as_unread() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut ws = alice.ws(&server).await;
    ws.join("lobby").await;
    let (status, _) = alice.post_json("/api/rooms/lobby/read", &json!({"message_id": i64::MAX})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    ws.send(json!({"type": "read", "room": "lobby", "message_id": i64::MAX - 1})).await;
    for i in 0..2 {
        let (status, _) = bob
            .post_json("/api/rooms/lobby/messages", &json!({"text": format!("m{i}"), "client_id": format!("b{i}")}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, rooms) = alice.get_json("/api/rooms").await;
    let lobby = rooms["rooms"].as_array().unwrap().iter().find(|r| r["name"] == "lobby").unwrap().clone();
    assert_eq!(lobby["unread"], 2, "{lobby}");
}

// ---- 4. logins at the same moment ----

#[tokio::test]
async fn concurrent_wrong_passwords_cannot_get_past_the_throttle() {
    let server = TestServer::start();
    let user = server.user().await;
    let mut attempts = Vec::new();
    for _ in 0..40 {
        let client = server.client();
        let phone = user.phone.clone();
        attempts.push(tokio::spawn(async move { client.api_login(&phone, "wrong password").await.0 }));
    }
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let refused = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(refused, 5, "the limit is 5 failures per phone: {statuses:?}");
    assert_eq!(throttled, 35, "{statuses:?}");
}

// ---- 5. a direct room looked up while it is being made ----

#[tokio::test]
async fn a_third_user_racing_a_direct_room_cannot_lock_its_members_out() {
    let server = TestServer::start();
    let carol = server.user().await;
    for trial in 0..20 {
        let (alice, bob) = (server.user().await, server.user().await);
        let name = format!("dm-{}-{}", alice.id.min(bob.id), alice.id.max(bob.id));
        // Carol asks for the room again and again while it is being made.
        let mut spammers = Vec::new();
        for _ in 0..3 {
            let mut ws = carol.ws(&server).await;
            let name = name.clone();
            spammers.push(tokio::spawn(async move {
                for _ in 0..40 {
                    ws.send(json!({"type": "join", "room": name})).await;
                }
                let mut last = Value::Null;
                while let Some(frame) = ws.try_recv(Duration::from_millis(500)).await {
                    last = frame;
                }
                last
            }));
        }
        let (status, body) = alice.post_json("/api/direct", &json!({"nickname": bob.nickname})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        for spammer in spammers {
            let last = spammer.await.unwrap();
            assert_eq!(last["code"], "not_found", "trial {trial}: carol is told the room does not exist: {last}");
        }
        for member in [&alice, &bob] {
            let mut ws = member.ws(&server).await;
            ws.send(json!({"type": "join", "room": name})).await;
            let answer = ws.recv().await;
            assert_eq!(answer["type"], "joined", "trial {trial}: a member was locked out: {answer}");
        }
    }
}

// ---- 6. a database that stops answering ----

/// A database that stops answering for a while: MySQL behind a frozen proxy, SQLite
/// behind another process's write lock.
enum Stall {
    Proxy(DbProxy),
    Sqlite(String),
}

impl Stall {
    fn server() -> (TestServer, Stall) {
        let env = [("CHATROOM_LIMITS_DATABASE_TIMEOUT_SECS", "2")];
        match backend() {
            Backend::Mysql => {
                let proxy = DbProxy::start(mysql_server_addr());
                let via = proxy.addr;
                let server = TestServer::start_with_db_url(&env, |db| {
                    let name = db.mysql_name.clone().unwrap();
                    // mysql_async switches a loopback TCP connection to the Unix socket
                    // unless told not to, which would bypass the proxy.
                    format!("mysql://root@{via}/{name}?prefer_socket=false")
                });
                (server, Stall::Proxy(proxy))
            }
            Backend::Sqlite => {
                let server = TestServer::start_with(&env);
                let path = server.db.sqlite_path().to_owned();
                (server, Stall::Sqlite(path))
            }
        }
    }

    /// Stops the database answering for `seconds`, in the background.
    fn for_seconds(&self, seconds: u64) -> std::thread::JoinHandle<()> {
        match self {
            Stall::Proxy(proxy) => {
                proxy.pause();
                std::thread::spawn(move || std::thread::sleep(Duration::from_secs(seconds)))
            }
            Stall::Sqlite(path) => {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                let mut conn = diesel::sqlite::SqliteConnection::establish(path).unwrap();
                conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(seconds));
                    conn.batch_execute("COMMIT").unwrap();
                })
            }
        }
    }

    fn end(&self, stalled: std::thread::JoinHandle<()>) {
        stalled.join().unwrap();
        if let Stall::Proxy(proxy) = self {
            proxy.resume();
        }
    }
}

#[tokio::test]
async fn a_stalled_database_gets_answers_in_bounded_time_and_loses_nothing_acknowledged() {
    let (server, stall) = Stall::server();
    let alice = server.user().await;
    let mut ws = alice.ws(&server).await;
    ws.join("lobby").await;
    let before = ws.say("lobby", "before").await;

    let stalled = stall.for_seconds(8);
    let started = Instant::now();
    let health = reqwest::Client::new()
        .get(server.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("/healthz answers");
    let health_took = started.elapsed();
    if backend() == Backend::Mysql {
        assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(health_took < Duration::from_secs(3), "/healthz took {health_took:?}");

    // A page whose session cannot be stored says "unavailable", not a bare 500.
    let started = Instant::now();
    let page = Client::new(&server).get("/login").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(started.elapsed() < Duration::from_secs(5), "/login took {:?}", started.elapsed());

    let started = Instant::now();
    send_frame(&mut ws, "lobby", "during", "during-1").await;
    let answer = answers(&mut ws, &alice, &["during-1"]).await.remove(0);
    let send_took = started.elapsed();
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["code"], "unavailable");
    assert!(send_took < Duration::from_secs(5), "the send was answered after {send_took:?}");
    stall.end(stalled);

    // Once the database is back, the client's retry with the same client_id is safe.
    let mut retried = None;
    for _ in 0..20 {
        send_frame(&mut ws, "lobby", "during", "during-1").await;
        let answer = answers(&mut ws, &alice, &["during-1"]).await.remove(0);
        if answer["type"] == "message" {
            retried = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(retried.is_some(), "the retry was never stored");
    let stored = server
        .db
        .query_strings(&format!("SELECT client_id AS value FROM messages WHERE user_id = {} ORDER BY id", alice.id));
    assert_eq!(stored, [before["client_id"].as_str().unwrap(), "during-1"]);
    let mut healthy = false;
    for _ in 0..50 {
        if server.client().get("/healthz").await.status == StatusCode::OK {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healthy, "/healthz recovers without a restart");
}
