//! The randomized consistency test: ~30 clients of 10 users in several rooms, over
//! WebSocket, HTTP + Server-Sent Events and HTTP polling, each sending, dropping its
//! connection mid-stream and resuming with `since`. In the end every client's view of
//! every room it is in must equal the stored history exactly, and every acknowledged
//! message must be stored under the id it was acknowledged with.
//!
//! It runs on one node, and (on MySQL) on three nodes sharing a Redis, each client
//! talking to one of them. The seed is printed; `CHATROOM_TEST_SEED=<seed>` runs the
//! same scenario again.

use chatroom_testkit as common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};

const USERS: usize = 10;
const DEVICES_PER_USER: usize = 3;
const ROOMS: &[&str] = &["lobby", "alpha", "beta", "gamma"];
const ACTIONS_PER_CLIENT: usize = 140;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WebSocket,
    EventStream,
    Polling,
}

/// What one client saw, room by room, and what it was told was stored.
#[derive(Default)]
struct View {
    rooms: BTreeMap<String, Vec<i64>>,
    acked: HashMap<String, (String, i64)>,
    /// Acknowledgements still owed for repeated client_ids: they answer with the first
    /// copy, an id already in the view, and are not deliveries.
    repeats: HashMap<String, usize>,
    problems: Vec<String>,
}

impl View {
    fn record(&mut self, room: &str, id: i64) {
        let seen = self.rooms.entry(room.to_owned()).or_default();
        if let Some(last) = seen.last() {
            if id <= *last {
                self.problems.push(format!("{room}: id {id} after {last} (duplicate or out of order)"));
                return;
            }
        }
        seen.push(id);
    }

    fn last(&self, room: &str) -> i64 {
        self.rooms.get(room).and_then(|ids| ids.last().copied()).unwrap_or(0)
    }

    fn last_overall(&self) -> i64 {
        self.rooms.values().filter_map(|ids| ids.last().copied()).max().unwrap_or(0)
    }

    fn ack(&mut self, client_id: &str, room: &str, id: i64) {
        if let Some((_, first)) = self.acked.get(client_id) {
            if *first != id {
                self.problems.push(format!("{client_id} acknowledged as {first} and then as {id}"));
            }
        }
        self.acked.insert(client_id.to_owned(), (room.to_owned(), id));
    }

    /// A message frame or event: part of the view, and an ack when it is ours.
    fn message(&mut self, message: &Value, me: i64) {
        let room = message["room"].as_str().unwrap().to_owned();
        let id = message["id"].as_i64().unwrap();
        if message["user"]["id"] == me {
            let client_id = message["client_id"].as_str().unwrap();
            self.ack(client_id, &room, id);
            if id <= self.last(&room) {
                if let Some(owed) = self.repeats.get_mut(client_id).filter(|n| **n > 0) {
                    *owed -= 1;
                    return;
                }
            }
        }
        self.record(&room, id);
    }

    fn expect_repeat(&mut self, client_id: &str) {
        *self.repeats.entry(client_id.to_owned()).or_default() += 1;
    }
}

struct Device {
    index: usize,
    kind: Kind,
    /// The node this device talks to.
    server: std::sync::Arc<TestServer>,
    client: Client,
    rooms: Vec<String>,
    rng: StdRng,
    view: View,
    ws: Option<Ws>,
    sse: Option<Sse>,
    /// Sends not yet acknowledged: client_id -> (room, text).
    unacked: HashMap<String, (String, String)>,
    sent: usize,
    /// Times the server closed this device's connection (too slow a reader, say) and
    /// it came back with `since`, as a real client does.
    dropped_by_server: usize,
}

impl Device {
    fn handle_frame(&mut self, frame: &Value) {
        match frame["type"].as_str() {
            Some("message") => self.view.message(&frame["message"], self.client.id),
            Some("joined") => {
                for message in frame["messages"].as_array().unwrap() {
                    self.view.message(message, self.client.id);
                }
                if frame.get("limited").is_some() {
                    self.view.problems.push("a resume was limited".into());
                }
            }
            Some("error") => {
                let code = frame["code"].as_str().unwrap_or_default();
                // A refused send is simply sent again later with the same client_id.
                if code != "unavailable" && code != "rate_limited" {
                    self.view.problems.push(format!("unexpected error frame {frame}"));
                }
            }
            _ => {}
        }
    }

    async fn connect(&mut self) {
        match self.kind {
            Kind::WebSocket => {
                let mut ws = self.client.ws(&self.server).await;
                for room in &self.rooms {
                    ws.send(json!({"type": "join", "room": room, "since": self.view.last(room)})).await;
                }
                let mut joined = 0;
                while joined < self.rooms.len() {
                    let frame = ws.recv().await;
                    if frame["type"] == "joined" {
                        joined += 1;
                    }
                    self.handle_frame(&frame);
                }
                // Whatever was in flight when the connection dropped and is not in the
                // history just received goes again, with its client_id.
                self.settle_acks();
                let unacked: Vec<(String, (String, String))> =
                    self.unacked.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                for (client_id, (room, text)) in unacked {
                    self.view.expect_repeat(&client_id);
                    ws.send(json!({"type": "send", "room": room, "text": text, "client_id": client_id})).await;
                }
                self.ws = Some(ws);
            }
            Kind::EventStream => {
                let query = format!("rooms={}", self.rooms.join(","));
                self.sse = Some(self.client.sse(&query, Some(self.view.last_overall())).await.expect("a stream"));
            }
            Kind::Polling => {}
        }
    }

    /// Takes in whatever has arrived, without waiting for more than `wait`.
    async fn drain(&mut self, wait: Duration) {
        match self.kind {
            Kind::WebSocket => {
                let mut ws = self.ws.take().expect("connected");
                while let Some(frame) = ws.try_recv(wait).await {
                    self.handle_frame(&frame);
                }
                if ws.closed {
                    self.dropped_by_server += 1;
                    self.connect().await;
                } else {
                    self.ws = Some(ws);
                }
            }
            Kind::EventStream => {
                let mut sse = self.sse.take().expect("connected");
                while let Some(event) = sse.next_event(wait).await {
                    let message: Value = serde_json::from_str(&event.data).unwrap();
                    if event.id.as_deref() != Some(message["id"].to_string().as_str()) {
                        self.view.problems.push(format!("event id {:?} is not the message id", event.id));
                    }
                    self.view.message(&message, self.client.id);
                }
                if sse.ended {
                    self.dropped_by_server += 1;
                    self.connect().await;
                } else {
                    self.sse = Some(sse);
                }
            }
            Kind::Polling => {
                for room in self.rooms.clone() {
                    loop {
                        let after = self.view.last(&room);
                        let (status, page) =
                            self.client.get_json(&format!("/api/rooms/{room}/messages?after={after}&limit=200")).await;
                        assert_eq!(status, StatusCode::OK);
                        for message in page["messages"].as_array().unwrap() {
                            self.view.message(message, self.client.id);
                        }
                        if page["has_more"] != true {
                            break;
                        }
                    }
                }
            }
        }
    }

    async fn send(&mut self) {
        let room = self.rooms[self.rng.random_range(0..self.rooms.len())].clone();
        // Now and then a client_id already acknowledged goes again: it must come back
        // as the first copy, with nothing stored twice.
        let repeat = self.rng.random_bool(0.05) && !self.view.acked.is_empty();
        let (client_id, text, room) = if repeat {
            let (client_id, (room, _)) = self.view.acked.iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
            (client_id, "repeat".to_owned(), room)
        } else {
            self.sent += 1;
            (format!("d{}-{}", self.index, self.sent), format!("{} says {} in {room}", self.index, self.sent), room)
        };
        match self.kind {
            Kind::WebSocket => {
                if repeat {
                    self.view.expect_repeat(&client_id);
                } else {
                    self.unacked.insert(client_id.clone(), (room.clone(), text.clone()));
                }
                let frame = json!({"type": "send", "room": room, "text": text, "client_id": client_id});
                self.ws.as_mut().expect("connected").send(frame).await;
            }
            Kind::EventStream | Kind::Polling => {
                let (status, body) = self
                    .client
                    .post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": text, "client_id": client_id}))
                    .await;
                let expected = if repeat { StatusCode::OK } else { StatusCode::CREATED };
                if status != expected {
                    self.view.problems.push(format!("POST {client_id}: {status} {body}"));
                } else {
                    let id = body["message"]["id"].as_i64().unwrap();
                    self.view.ack(&client_id, &room, id);
                }
            }
        }
    }

    fn settle_acks(&mut self) {
        let acked: Vec<String> = self.unacked.keys().filter(|k| self.view.acked.contains_key(*k)).cloned().collect();
        for client_id in acked {
            self.unacked.remove(&client_id);
        }
    }

    async fn run(&mut self) {
        for _ in 0..ACTIONS_PER_CLIENT {
            let roll: f64 = self.rng.random();
            if roll < 0.55 {
                self.send().await;
            } else if roll < 0.62 && self.kind != Kind::Polling {
                // Drop the connection mid-stream, without reading what is in flight.
                self.ws = None;
                self.sse = None;
                tokio::time::sleep(Duration::from_millis(self.rng.random_range(0..30))).await;
                self.connect().await;
            }
            let wait = Duration::from_millis(self.rng.random_range(1..6));
            self.drain(wait).await;
            self.settle_acks();
        }
    }
}

#[tokio::test]
async fn every_client_sees_exactly_the_stored_history() {
    let server = TestServer::start_with(FAST_AND_DEEP);
    run_scenario(vec![std::sync::Arc::new(server)]).await;
}

#[tokio::test]
async fn every_client_sees_exactly_the_stored_history_across_three_nodes() {
    if backend() != Backend::Mysql {
        eprintln!("several nodes need the MySQL backend; skipped on SQLite");
        return;
    }
    let redis = TestRedis::start();
    let url = redis.url();
    let mut env = FAST_AND_DEEP.to_vec();
    env.push(("CHATROOM_REDIS_URL", url.as_str()));
    let first = TestServer::start_with(&env);
    let second = first.another_node(&env);
    let third = first.another_node(&env);
    run_scenario(vec![std::sync::Arc::new(first), std::sync::Arc::new(second), std::sync::Arc::new(third)]).await;
    drop(redis);
}

const FAST_AND_DEEP: &[(&str, &str)] = &[
    ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "100000"),
    ("CHATROOM_LIMITS_SEND_BURST", "100000"),
    ("CHATROOM_LIMITS_RESUME_CAP", "100000"),
];

/// Runs the scenario with the devices spread over the given nodes.
async fn run_scenario(nodes: Vec<std::sync::Arc<TestServer>>) {
    let seed: u64 =
        std::env::var("CHATROOM_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    eprintln!("consistency seed: {seed} (re-run with CHATROOM_TEST_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let server = &nodes[0];
    let mut users = Vec::new();
    for _ in 0..USERS {
        users.push(server.user().await);
    }
    for room in &ROOMS[1..] {
        assert_eq!(users[0].post_json("/api/rooms", &json!({"name": room})).await.0, StatusCode::CREATED);
    }

    let mut devices = Vec::new();
    for (u, user) in users.iter().enumerate() {
        for d in 0..DEVICES_PER_USER {
            let index = u * DEVICES_PER_USER + d;
            let node = nodes[index % nodes.len()].clone();
            let client = if d == 0 { user.clone_session(&node) } else { user.another_login(&node).await };
            let kind = [Kind::WebSocket, Kind::EventStream, Kind::WebSocket, Kind::Polling][(u + d) % 4];
            let mut rooms: Vec<String> = ROOMS.iter().filter(|_| rng.random_bool(0.6)).map(|r| r.to_string()).collect();
            if rooms.is_empty() {
                rooms.push(ROOMS[rng.random_range(0..ROOMS.len())].to_owned());
            }
            devices.push(Device {
                index,
                kind,
                server: node,
                client,
                rooms,
                rng: StdRng::seed_from_u64(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                view: View::default(),
                ws: None,
                sse: None,
                unacked: HashMap::new(),
                sent: 0,
                dropped_by_server: 0,
            });
        }
    }
    for device in devices.iter_mut() {
        device.connect().await;
    }

    let mut tasks = Vec::new();
    for mut device in devices {
        tasks.push(tokio::spawn(async move {
            device.run().await;
            device
        }));
    }
    let mut devices = Vec::new();
    for task in tasks {
        devices.push(task.await.expect("a client task"));
    }

    // Everything sent is settled: read until each view reaches the stored top.
    let reader = &users[0];
    let mut stored: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for room in ROOMS {
        stored.insert(room.to_string(), stored_messages(reader, room).await);
    }
    let total: usize = stored.values().map(Vec::len).sum();
    eprintln!(
        "consistency: {total} messages stored across {} rooms by {} clients on {} node(s)",
        ROOMS.len(),
        devices.len(),
        nodes.len()
    );
    assert!(total > 1000, "the scenario sends thousands of messages ({total})");

    // All devices read at once: one that waited its turn would fall behind and be
    // dropped as a slow consumer.
    let mut settling = Vec::new();
    for mut device in devices {
        let tops: HashMap<String, i64> =
            device.rooms.iter().map(|room| (room.clone(), stored[room].last().map_or(0, |m| m.0))).collect();
        settling.push(tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            // WebSocket sends still unacknowledged are re-sent once more on a fresh connection.
            if device.kind == Kind::WebSocket && !device.unacked.is_empty() {
                device.ws = None;
                device.connect().await;
            }
            loop {
                device.settle_acks();
                let done = tops.iter().all(|(room, top)| device.view.last(room) >= *top) && device.unacked.is_empty();
                if done || tokio::time::Instant::now() > deadline {
                    break;
                }
                device.drain(Duration::from_millis(100)).await;
            }
            device
        }));
    }
    let mut devices = Vec::new();
    for task in settling {
        devices.push(task.await.expect("a client task"));
    }
    let dropped: usize = devices.iter().map(|d| d.dropped_by_server).sum();
    eprintln!("consistency: the server dropped {dropped} connection(s), each resumed with since");

    // Anything stored after the first snapshot (late WebSocket resends) is included.
    for room in ROOMS {
        stored.insert(room.to_string(), stored_messages(reader, room).await);
    }
    let mut problems = Vec::new();
    for device in &devices {
        let who = format!("client {} ({:?}, user {})", device.index, device.kind, device.client.id);
        problems.extend(device.view.problems.iter().map(|p| format!("{who}: {p}")));
        for room in &device.rooms {
            let expected: Vec<i64> = stored[room].iter().map(|m| m.0).collect();
            let seen = device.view.rooms.get(room).cloned().unwrap_or_default();
            if seen != expected {
                let missing: Vec<&i64> = expected.iter().filter(|id| !seen.contains(id)).take(10).collect();
                problems.push(format!(
                    "{who}: view of {room} differs: {} seen, {} stored, missing e.g. {missing:?}",
                    seen.len(),
                    expected.len()
                ));
            }
        }
        for (client_id, (room, id)) in &device.view.acked {
            if !stored[room].iter().any(|(stored_id, stored_cid)| stored_id == id && stored_cid == client_id) {
                problems.push(format!("{who}: acknowledged {client_id} as {id} in {room}, not stored so"));
            }
        }
        if !device.unacked.is_empty() {
            problems.push(format!("{who}: {} sends never acknowledged", device.unacked.len()));
        }
    }
    assert!(problems.is_empty(), "seed {seed}: {} problems:\n{}", problems.len(), problems.join("\n"));
}

async fn stored_messages(client: &Client, room: &str) -> Vec<(i64, String)> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = client.get_json(&format!("/api/rooms/{room}/messages?after={after}&limit=200")).await;
        assert_eq!(status, StatusCode::OK);
        for m in page["messages"].as_array().unwrap() {
            all.push((m["id"].as_i64().unwrap(), m["client_id"].as_str().unwrap().to_owned()));
            after = m["id"].as_i64().unwrap();
        }
        if page["has_more"] != true {
            return all;
        }
    }
}
