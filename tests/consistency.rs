//! The randomized consistency test: ~30 clients of 10 users in several rooms, over
//! WebSocket, HTTP + Server-Sent Events and HTTP polling, each sending, editing,
//! deleting and reacting, dropping its connection mid-stream and resuming with `since`.
//! In the end every client's view of every room it is in must equal the stored history
//! exactly (the same messages, each delivered once; for the clients that get live
//! changes, every message in exactly its stored state), and every acknowledged message
//! must be stored under the id it was acknowledged with.
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
    /// Every message's latest state seen, by id.
    states: HashMap<i64, Value>,
    /// The highest position (id or seq) seen in each room: the resume point.
    cursors: HashMap<String, i64>,
    /// On the current connection, the highest position delivered live in each room:
    /// live frames must come above it, each once.
    live: HashMap<String, i64>,
    acked: HashMap<String, (String, i64)>,
    /// Acknowledgements still owed for repeated client_ids: they answer with the first
    /// copy, an id already in the view, and are not deliveries.
    repeats: HashMap<String, usize>,
    /// HTTP writes answered 503 and tried again.
    unavailable: usize,
    problems: Vec<String>,
}

impl View {
    fn record(&mut self, room: &str, id: i64) {
        let seen = self.rooms.entry(room.to_owned()).or_default();
        if seen.contains(&id) {
            self.problems.push(format!("{room}: message {id} delivered twice"));
            return;
        }
        seen.push(id);
    }

    /// A message's state: never an older one after a newer one.
    fn state(&mut self, message: &Value) {
        let (room, id, seq) = (message["room"].as_str().unwrap(), id_of(message), seq_of(message));
        let cursor = self.cursors.entry(room.to_owned()).or_default();
        *cursor = (*cursor).max(seq);
        if let Some(known) = self.states.get(&id) {
            if seq_of(known) > seq {
                self.problems.push(format!("{room}: message {id} at seq {seq} after seq {}", seq_of(known)));
                return;
            }
        }
        self.states.insert(id, message.clone());
    }

    /// A frame delivered live on the current connection: above everything before it.
    fn live(&mut self, message: &Value) {
        let (room, seq) = (message["room"].as_str().unwrap().to_owned(), seq_of(message));
        let last = self.live.entry(room.clone()).or_default();
        if seq <= *last {
            self.problems.push(format!("{room}: live position {seq} after {last} (duplicate or out of order)"));
        }
        *last = (*last).max(seq);
    }

    fn update(&mut self, message: &Value) {
        if !self.states.contains_key(&id_of(message)) {
            self.problems.push(format!("an update of message {} never delivered", id_of(message)));
        }
        self.state(message);
    }

    fn last(&self, room: &str) -> i64 {
        self.cursors.get(room).copied().unwrap_or(0)
    }

    fn last_overall(&self) -> i64 {
        self.cursors.values().copied().max().unwrap_or(0)
    }

    fn ack(&mut self, client_id: &str, room: &str, id: i64) {
        if let Some((_, first)) = self.acked.get(client_id) {
            if *first != id {
                self.problems.push(format!("{client_id} acknowledged as {first} and then as {id}"));
            }
        }
        self.acked.insert(client_id.to_owned(), (room.to_owned(), id));
    }

    /// A message frame or event: part of the view, and an ack when it is ours. Returns
    /// false for the answer to a repeated send (not a delivery).
    fn message(&mut self, message: &Value, me: i64) -> bool {
        let room = message["room"].as_str().unwrap().to_owned();
        let id = id_of(message);
        if message["user"]["id"] == me {
            let client_id = message["client_id"].as_str().unwrap();
            self.ack(client_id, &room, id);
            if self.rooms.get(&room).is_some_and(|ids| ids.contains(&id)) {
                if let Some(owed) = self.repeats.get_mut(client_id).filter(|n| **n > 0) {
                    *owed -= 1;
                    self.state(message);
                    return false;
                }
            }
        }
        self.record(&room, id);
        self.state(message);
        true
    }

    fn expect_repeat(&mut self, client_id: &str) {
        *self.repeats.entry(client_id.to_owned()).or_default() += 1;
    }
}

fn id_of(message: &Value) -> i64 {
    message["id"].as_i64().unwrap()
}

fn seq_of(message: &Value) -> i64 {
    message["seq"].as_i64().unwrap()
}

/// Tries of an HTTP write answered 503 before it counts as a problem.
const HTTP_TRIES: u32 = 10;

/// An HTTP write, tried again while the server answers 503 (`unavailable`: the
/// database was too slow this time), as PROTOCOL.md asks of a client: a send goes again
/// with its `client_id`, so it is stored once whatever the first try did. Counts the
/// 503s; says whether it was tried more than once.
async fn with_retries<'a, Fut>(
    client: &'a Client,
    unavailable: &mut usize,
    request: impl Fn(&'a Client) -> Fut,
) -> (StatusCode, Value, bool)
where
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    let mut tries = 0;
    loop {
        let (status, body) = request(client).await;
        tries += 1;
        if status != StatusCode::SERVICE_UNAVAILABLE || tries == HTTP_TRIES {
            return (status, body, tries > 1);
        }
        *unavailable += 1;
        tokio::time::sleep(Duration::from_millis(100 * u64::from(tries))).await;
    }
}

const EMOJI: &[&str] = &["👍", "❤️", "😂", "🎉"];

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
            Some("message") => {
                // The answer to a repeated send is not a delivery: no position check.
                let delivered = self.view.message(&frame["message"], self.client.id);
                if delivered {
                    self.view.live(&frame["message"]);
                }
            }
            Some("update") => {
                self.view.live(&frame["message"]);
                self.view.update(&frame["message"]);
            }
            Some("joined") => {
                let room = frame["room"].as_str().unwrap().to_owned();
                let mut top = self.view.last(&room);
                for message in frame["messages"].as_array().unwrap() {
                    self.view.message(message, self.client.id);
                    top = top.max(seq_of(message));
                }
                for message in frame["updates"].as_array().unwrap() {
                    self.view.update(message);
                    top = top.max(seq_of(message));
                }
                self.view.live.insert(room, top);
                if frame.get("limited").is_some() {
                    self.view.problems.push("a resume was limited".into());
                }
            }
            Some("error") => {
                let code = frame["code"].as_str().unwrap_or_default();
                // A refused send is simply sent again later with the same client_id; a
                // change may find its message deleted by another device meanwhile.
                let change = frame["client_id"].as_str().is_some_and(|c| c.starts_with("change-"));
                if code != "unavailable" && code != "rate_limited" && !(change && code == "not_found") {
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
                self.view.live.clear();
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
                self.view.live.clear();
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
                    if event.id.as_deref() != Some(message["seq"].to_string().as_str()) {
                        self.view.problems.push(format!("event id {:?} is not the message's seq", event.id));
                    }
                    // One stream over several rooms: its positions rise across all of them.
                    let room = message["room"].as_str().unwrap().to_owned();
                    let stream_top = self.view.live.values().copied().max().unwrap_or(0);
                    self.view.live.insert(room, stream_top);
                    self.view.live(&message);
                    match event.event.as_deref() {
                        Some("message") => {
                            self.view.message(&message, self.client.id);
                        }
                        Some("update") => self.view.update(&message),
                        other => self.view.problems.push(format!("unexpected event {other:?}")),
                    }
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
                        // Polling by id sees new messages, not later changes of old ones.
                        let after = self.view.rooms.get(&room).and_then(|ids| ids.iter().max().copied()).unwrap_or(0);
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
                let path = format!("/api/rooms/{room}/messages");
                let body = json!({"text": text, "client_id": client_id});
                let (status, body, retried) =
                    with_retries(&self.client, &mut self.view.unavailable, |client| client.post_json(&path, &body))
                        .await;
                // A retry of a fresh send may find it stored by the attempt answered 503.
                let expected =
                    if repeat || (retried && status == StatusCode::OK) { StatusCode::OK } else { StatusCode::CREATED };
                if status != expected {
                    self.view.problems.push(format!("POST {client_id}: {status} {body}"));
                } else {
                    let id = body["message"]["id"].as_i64().unwrap();
                    self.view.ack(&client_id, &room, id);
                }
            }
        }
    }

    /// Edits or deletes one of this user's messages, or toggles a reaction on any.
    async fn change(&mut self) {
        let mine: Vec<Value> = self
            .view
            .states
            .values()
            .filter(|m| m["user"]["id"] == self.client.id && m["deleted"] == false)
            .cloned()
            .collect();
        let any: Vec<Value> = self.view.states.values().filter(|m| m["deleted"] == false).cloned().collect();
        let roll: f64 = self.rng.random();
        let (target, frame) = if roll < 0.35 && !mine.is_empty() {
            let target = mine[self.rng.random_range(0..mine.len())].clone();
            let text = format!("{} edited by {}", target["text"].as_str().unwrap(), self.index);
            (target.clone(), json!({"type": "edit", "text": text}))
        } else if roll < 0.45 && !mine.is_empty() {
            (mine[self.rng.random_range(0..mine.len())].clone(), json!({"type": "delete"}))
        } else if !any.is_empty() {
            let target = any[self.rng.random_range(0..any.len())].clone();
            let emoji = EMOJI[self.rng.random_range(0..EMOJI.len())];
            let on = !target["reactions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["emoji"] == emoji && r["user_ids"].as_array().unwrap().contains(&json!(self.client.id)));
            (target, json!({"type": "react", "emoji": emoji, "on": on}))
        } else {
            return;
        };
        let (room, id) = (target["room"].as_str().unwrap().to_owned(), id_of(&target));
        self.sent += 1;
        match self.kind {
            Kind::WebSocket => {
                let mut frame = frame;
                frame["room"] = json!(room);
                frame["message_id"] = json!(id);
                frame["client_id"] = json!(format!("change-{}-{}", self.index, self.sent));
                self.ws.as_mut().expect("connected").send(frame).await;
            }
            Kind::EventStream | Kind::Polling => {
                let path = format!("/api/rooms/{room}/messages/{id}");
                let status = match frame["type"].as_str().unwrap() {
                    "edit" => {
                        let body = json!({"text": frame["text"]});
                        with_retries(&self.client, &mut self.view.unavailable, |client| client.patch_json(&path, &body))
                            .await
                            .0
                    }
                    "delete" => {
                        with_retries(&self.client, &mut self.view.unavailable, |client| client.delete(&path)).await.0
                    }
                    _ => {
                        let emoji = frame["emoji"].as_str().unwrap();
                        let path = format!("{path}/reactions/{emoji}");
                        if frame["on"] == true {
                            with_retries(&self.client, &mut self.view.unavailable, |client| client.put(&path)).await.0
                        } else {
                            with_retries(&self.client, &mut self.view.unavailable, |client| client.delete(&path))
                                .await
                                .0
                        }
                    }
                };
                if !matches!(status, StatusCode::OK | StatusCode::NO_CONTENT | StatusCode::NOT_FOUND) {
                    self.view.problems.push(format!("{frame} on {path}: {status}"));
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
            if roll < 0.45 {
                self.send().await;
            } else if roll < 0.60 {
                self.change().await;
            } else if roll < 0.67 && self.kind != Kind::Polling {
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
    let mut stored: HashMap<String, Vec<Value>> = HashMap::new();
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
    let all: Vec<&Value> = stored.values().flatten().collect();
    let edited = all.iter().filter(|m| !m["edited_at"].is_null()).count();
    let deleted = all.iter().filter(|m| m["deleted"] == true).count();
    let reacted = all.iter().filter(|m| !m["reactions"].as_array().unwrap().is_empty()).count();
    eprintln!("consistency: {edited} edited, {deleted} deleted, {reacted} with reactions");
    assert!(edited > 50 && deleted > 20 && reacted > 50, "the scenario changes messages too");

    // All devices read at once: one that waited its turn would fall behind and be
    // dropped as a slow consumer.
    let mut settling = Vec::new();
    for mut device in devices {
        // What the device must have reached in each room: the last message, and (for
        // the clients that get live changes) the last change.
        let tops: HashMap<String, (i64, i64)> = device
            .rooms
            .iter()
            .map(|room| {
                let top_id = stored[room].last().map_or(0, id_of);
                let top_seq = stored[room].iter().map(seq_of).max().unwrap_or(0);
                (room.clone(), (top_id, top_seq))
            })
            .collect();
        settling.push(tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            // WebSocket sends still unacknowledged are re-sent once more on a fresh connection.
            if device.kind == Kind::WebSocket && !device.unacked.is_empty() {
                device.ws = None;
                device.connect().await;
            }
            loop {
                device.settle_acks();
                let reached = |room: &String, (top_id, top_seq): (i64, i64)| match device.kind {
                    Kind::Polling => {
                        device.view.rooms.get(room).is_some_and(|ids| ids.contains(&top_id)) || top_id == 0
                    }
                    _ => device.view.last(room) >= top_seq,
                };
                let done = tops.iter().all(|(room, top)| reached(room, *top)) && device.unacked.is_empty();
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
    let unavailable: usize = devices.iter().map(|d| d.view.unavailable).sum();
    eprintln!("consistency: {unavailable} HTTP write(s) answered 503 and tried again");

    // Anything stored after the first snapshot (late WebSocket resends) is included.
    for room in ROOMS {
        stored.insert(room.to_string(), stored_messages(reader, room).await);
    }
    let mut problems = Vec::new();
    for device in &devices {
        let who = format!("client {} ({:?}, user {})", device.index, device.kind, device.client.id);
        problems.extend(device.view.problems.iter().map(|p| format!("{who}: {p}")));
        for room in &device.rooms {
            let expected: Vec<i64> = stored[room].iter().map(id_of).collect();
            let mut seen = device.view.rooms.get(room).cloned().unwrap_or_default();
            // A replay comes in seq order: a message changed before it was first seen
            // comes after ones created later. Order is checked on the way (positions).
            seen.sort_unstable();
            if seen != expected {
                let missing: Vec<&i64> = expected.iter().filter(|id| !seen.contains(id)).take(10).collect();
                problems.push(format!(
                    "{who}: view of {room} differs: {} seen, {} stored, missing e.g. {missing:?}",
                    seen.len(),
                    expected.len()
                ));
            }
        }
        // Every message in exactly its stored state (polling by id sees no later changes).
        if device.kind != Kind::Polling {
            for room in &device.rooms {
                let wrong: Vec<i64> = stored[room]
                    .iter()
                    .filter(|m| device.view.states.get(&id_of(m)) != Some(*m))
                    .map(id_of)
                    .take(10)
                    .collect();
                if !wrong.is_empty() {
                    problems.push(format!("{who}: in {room}, messages not in their stored state, e.g. {wrong:?}"));
                }
            }
        }
        for (client_id, (room, id)) in &device.view.acked {
            if !stored[room].iter().any(|m| id_of(m) == *id && m["client_id"] == client_id.as_str()) {
                problems.push(format!("{who}: acknowledged {client_id} as {id} in {room}, not stored so"));
            }
        }
        if !device.unacked.is_empty() {
            problems.push(format!("{who}: {} sends never acknowledged", device.unacked.len()));
        }
    }
    assert!(problems.is_empty(), "seed {seed}: {} problems:\n{}", problems.len(), problems.join("\n"));
}

async fn stored_messages(client: &Client, room: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = client.get_json(&format!("/api/rooms/{room}/messages?after={after}&limit=200")).await;
        assert_eq!(status, StatusCode::OK);
        for m in page["messages"].as_array().unwrap() {
            all.push(m.clone());
            after = id_of(m);
        }
        if page["has_more"] != true {
            return all;
        }
    }
}
