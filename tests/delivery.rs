//! Nothing lost, nothing twice: resume, idempotent sends, several devices, unread
//! counts, direct rooms, HTTP and Server-Sent Events clients, logout.

use chatroom_testkit as common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const FAST: &[(&str, &str)] =
    &[("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "10000"), ("CHATROOM_LIMITS_SEND_BURST", "10000")];

fn ids(messages: &Value) -> Vec<i64> {
    messages.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

async fn stored_ids(client: &Client, room: &str) -> Vec<i64> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = client.get_json(&format!("/api/rooms/{room}/messages?after={after}&limit=200")).await;
        assert_eq!(status, StatusCode::OK);
        let batch = ids(&page["messages"]);
        all.extend(&batch);
        if !page["has_more"].as_bool().unwrap() {
            return all;
        }
        after = *batch.last().unwrap();
    }
}

async fn post(client: &Client, room: &str, text: &str, client_id: &str) -> (StatusCode, Value) {
    client.post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": text, "client_id": client_id})).await
}

#[tokio::test]
async fn resuming_with_since_has_no_gap_and_no_duplicate_while_others_send() {
    let server = TestServer::start_with(FAST);
    let sender = server.user().await;
    let reader = server.user().await;
    let mut seen: Vec<i64> = Vec::new();
    let mut ws = reader.ws(&server).await;
    let joined = ws.join("lobby").await;
    seen.extend(ids(&joined["messages"]));

    let sending = tokio::spawn({
        let client = sender.http.clone();
        let url = sender.url("/api/rooms/lobby/messages");
        async move {
            for i in 0..300 {
                let body = json!({"text": format!("m{i}"), "client_id": format!("s{i}")});
                let response = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        }
    });
    // Drop the connection again and again mid-stream, resuming from the last id seen.
    for round in 0..12 {
        for _ in 0..(3 + round * 2) {
            if let Some(frame) = ws.try_recv(Duration::from_millis(200)).await {
                if frame["type"] == "message" {
                    seen.push(frame["message"]["id"].as_i64().unwrap());
                }
            }
        }
        drop(ws);
        ws = reader.ws(&server).await;
        let since = seen.last().copied().unwrap_or(0);
        let joined = ws.join_since("lobby", since).await;
        assert!(joined.get("limited").is_none());
        seen.extend(ids(&joined["messages"]));
    }
    sending.await.unwrap();
    let stored = stored_ids(&reader, "lobby").await;
    while seen.len() < stored.len() {
        let frame = ws.recv_type("message").await;
        seen.push(frame["message"]["id"].as_i64().unwrap());
    }
    assert_eq!(seen, stored, "every stored message once, in order");
}

#[tokio::test]
async fn past_the_resume_cap_come_the_latest_with_limited() {
    let mut env = FAST.to_vec();
    env.push(("CHATROOM_LIMITS_RESUME_CAP", "10"));
    let server = TestServer::start_with(&env);
    let user = server.user().await;
    let mut posted = Vec::new();
    for i in 0..25 {
        posted.push(
            post(&user, "lobby", &format!("n{i}"), &format!("cap{i}")).await.1["message"]["id"].as_i64().unwrap(),
        );
    }
    let mut ws = user.ws(&server).await;
    let joined = ws.join_since("lobby", posted[2]).await;
    assert_eq!(joined["limited"], true);
    assert_eq!(ids(&joined["messages"]), posted[15..].to_vec());
    let joined = ws.join_since("lobby", posted[17]).await;
    assert!(joined.get("limited").is_none(), "within the cap nothing is limited");
    assert_eq!(ids(&joined["messages"]), posted[18..].to_vec());
    ws.send(json!({"type": "history", "room": "lobby", "before": posted[15], "limit": 50})).await;
    assert_eq!(ids(&ws.recv_type("history").await["messages"]), posted[..15].to_vec(), "paging back fills the rest");
}

#[tokio::test]
async fn the_same_client_id_is_stored_once_and_every_repeat_gets_the_first_copy() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut watcher = bob.ws(&server).await;
    watcher.join("lobby").await;
    let mut a1 = alice.ws(&server).await;
    let mut a2 = alice.ws(&server).await;
    a1.join("lobby").await;
    a2.join("lobby").await;

    // Repeats on one connection, on a racing second connection, and over HTTP.
    for ws in [&mut a1, &mut a2] {
        ws.send(json!({"type": "send", "room": "lobby", "text": "once", "client_id": "dup-1"})).await;
    }
    a1.send(json!({"type": "send", "room": "lobby", "text": "once", "client_id": "dup-1"})).await;
    let mut acks = Vec::new();
    for ws in [&mut a1, &mut a2] {
        loop {
            let frame = ws.recv_type("message").await;
            if frame["message"]["client_id"] == "dup-1" {
                acks.push(frame["message"].clone());
                if acks.len() >= 2 {
                    break;
                }
            }
        }
    }
    let (status, body) = post(&alice, "lobby", "once", "dup-1").await;
    assert_eq!(status, StatusCode::OK, "a repeat over HTTP is 200 with the first message");
    assert!(acks.iter().all(|a| a == &body["message"]), "{acks:?} vs {body}");

    let first = watcher.recv_type("message").await;
    assert_eq!(first["message"], body["message"]);
    watcher.expect_no("message", Duration::from_millis(500)).await;
    assert_eq!(stored_ids(&alice, "lobby").await.len(), 1);

    let (status, created) = post(&alice, "lobby", "other", "dup-2").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = post(&alice, "lobby", "other", "dup-2").await;
    assert_eq!((status, &again), (StatusCode::OK, &created));
    // Another user's identical client_id is another message.
    assert_eq!(post(&bob, "lobby", "mine", "dup-2").await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn racing_http_repeats_store_one_message() {
    let server = TestServer::start_with(FAST);
    let user = server.user().await;
    let mut racers = Vec::new();
    for _ in 0..12 {
        let client = user.http.clone();
        let url = user.url("/api/rooms/lobby/messages");
        racers.push(tokio::spawn(async move {
            let response =
                client.post(&url).json(&json!({"text": "race", "client_id": "race-1"})).send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut created = 0;
    let mut messages = Vec::new();
    for racer in racers {
        let (status, body) = racer.await.unwrap();
        if status == StatusCode::CREATED {
            created += 1;
        } else {
            assert_eq!(status, StatusCode::OK);
        }
        messages.push(body["message"].clone());
    }
    assert_eq!(created, 1, "exactly one call stored it");
    assert!(messages.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(stored_ids(&user, "lobby").await.len(), 1);
}

#[tokio::test]
async fn every_device_gets_every_message_and_read_markers_travel() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut phone = bob.ws(&server).await;
    let mut laptop = bob.ws(&server).await;
    phone.join("lobby").await;
    laptop.join("lobby").await;
    let (_, sent) = post(&alice, "lobby", "to both devices", "d1").await;
    for ws in [&mut phone, &mut laptop] {
        assert_eq!(ws.recv_type("message").await["message"], sent["message"]);
    }
    let id = sent["message"]["id"].as_i64().unwrap();
    phone.send(json!({"type": "read", "room": "lobby", "message_id": id})).await;
    assert_eq!(laptop.recv_type("read").await, json!({"type": "read", "room": "lobby", "message_id": id}));
    phone.expect_no("read", Duration::from_millis(300)).await;
    // Over HTTP too, and only forward: an older marker changes nothing.
    let (_, next) = post(&alice, "lobby", "second", "d2").await;
    let next_id = next["message"]["id"].as_i64().unwrap();
    assert_eq!(bob.post_json("/api/rooms/lobby/read", &json!({"message_id": next_id})).await.0, StatusCode::NO_CONTENT);
    for ws in [&mut phone, &mut laptop] {
        assert_eq!(ws.recv_type("read").await["message_id"], next_id);
    }
    assert_eq!(bob.post_json("/api/rooms/lobby/read", &json!({"message_id": id})).await.0, StatusCode::NO_CONTENT);
    laptop.expect_no("read", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn unread_counts_follow_the_read_marker() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let unread = |body: &Value, room: &str| {
        body["rooms"].as_array().unwrap().iter().find(|r| r["name"] == room).map(|r| r["unread"].as_i64().unwrap())
    };
    let mut ws = bob.ws(&server).await;
    ws.join("lobby").await;
    ws.close().await;
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(post(&alice, "lobby", &format!("u{i}"), &format!("u{i}")).await.1["message"]["id"].as_i64().unwrap());
    }
    let (_, rooms) = bob.get_json("/api/rooms").await;
    assert_eq!(unread(&rooms, "lobby"), Some(3));
    let lobby = rooms["rooms"].as_array().unwrap().iter().find(|r| r["name"] == "lobby").unwrap().clone();
    assert_eq!(lobby["last_message_id"], sent[2]);
    let (_, mine) = alice.get_json("/api/rooms").await;
    assert_eq!(unread(&mine, "lobby"), Some(0), "your own messages are not unread");

    bob.post_json("/api/rooms/lobby/read", &json!({"message_id": sent[1]})).await;
    assert_eq!(unread(&bob.get_json("/api/rooms").await.1, "lobby"), Some(1));
    let page = bob.get("/rooms").await;
    assert!(
        page.body.contains(r#"<span class="badge">1<span class="sr-only"> unread</span></span>"#),
        "the room list shows the badge"
    );
    bob.post_json("/api/rooms/lobby/read", &json!({"message_id": sent[0]})).await;
    assert_eq!(unread(&bob.get_json("/api/rooms").await.1, "lobby"), Some(1), "markers only move forward");
    let mut ws = bob.ws(&server).await;
    ws.join("lobby").await;
    ws.send(json!({"type": "read", "room": "lobby", "message_id": sent[2]})).await;
    // The marker moved once the frame was handled; poll the API for it.
    let mut count = None;
    for _ in 0..50 {
        count = unread(&bob.get_json("/api/rooms").await.1, "lobby");
        if count == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count, Some(0));
}

#[tokio::test]
async fn a_direct_room_is_made_once_and_only_its_two_members_get_in() {
    let server = TestServer::start();
    let (alice, bob, eve) = (server.user().await, server.user().await, server.user().await);
    let (status, first) = alice.post_json("/api/direct", &json!({"nickname": bob.nickname})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let name = first["room"]["name"].as_str().unwrap().to_owned();
    assert_eq!(first["room"]["title"], bob.nickname.as_str());
    let (status, again) = bob.post_json("/api/direct", &json!({"nickname": alice.nickname})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["room"]["name"], name.as_str());
    assert_eq!(again["room"]["title"], alice.nickname.as_str());
    assert_eq!(alice.post_json("/api/direct", &json!({"nickname": "nobody-has-this"})).await.0, StatusCode::NOT_FOUND);

    for (client, other) in [(&alice, &bob), (&bob, &alice)] {
        let (_, rooms) = client.get_json("/api/rooms").await;
        let room = rooms["rooms"].as_array().unwrap().iter().find(|r| r["name"] == name.as_str()).cloned();
        assert_eq!(room.expect("listed for both")["title"], other.nickname.as_str());
        assert!(client.get("/rooms").await.body.contains(&other.nickname));
    }
    let (_, rooms) = eve.get_json("/api/rooms").await;
    assert!(!rooms.to_string().contains(&name), "not listed for others");

    let mut a = alice.ws(&server).await;
    a.join(&name).await;
    let said = a.say(&name, "just us").await;
    let mut b = bob.ws(&server).await;
    assert_eq!(b.join(&name).await["messages"][0], said);

    // To an outsider, someone else's direct room is a room that does not exist.
    let path = format!("/api/rooms/{name}/messages");
    assert_eq!(eve.get_json(&path).await.1["error"]["code"], "not_found");
    assert_eq!(eve.get_json(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&eve, &name, "let me in", "e1").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        eve.post_json(&format!("/api/rooms/{name}/read"), &json!({"message_id": 1})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(eve.get(&format!("/rooms/{name}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(eve.sse(&format!("rooms={name}"), None).await.err().map(|e| e.0), Some(StatusCode::NOT_FOUND));
    let mut e = eve.ws(&server).await;
    e.send(json!({"type": "join", "room": name})).await;
    assert_eq!(e.error().await["code"], "not_found");
    e.send(json!({"type": "send", "room": name, "text": "hi", "client_id": "e2"})).await;
    assert_eq!(e.error().await["code"], "not_found");
}

#[tokio::test]
async fn racing_direct_room_requests_make_one_room() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut calls = Vec::new();
    for i in 0..8 {
        let (client, nickname) = if i % 2 == 0 { (&alice, &bob.nickname) } else { (&bob, &alice.nickname) };
        let http = client.http.clone();
        let url = client.url("/api/direct");
        let body = json!({"nickname": nickname});
        calls.push(tokio::spawn(async move {
            http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut names = Vec::new();
    for call in calls {
        names.push(call.await.unwrap()["room"]["name"].as_str().unwrap().to_owned());
    }
    names.dedup();
    assert_eq!(names.len(), 1);
    let rooms = server.db.query_strings("SELECT name AS value FROM rooms WHERE kind = 'direct'");
    assert_eq!(rooms.len(), 1);
}

#[tokio::test]
async fn a_message_posted_over_http_reaches_websocket_and_sse_clients() {
    let server = TestServer::start();
    let (alice, bob, carol) = (server.user().await, server.user().await, server.user().await);
    let mut ws = bob.ws(&server).await;
    ws.join("lobby").await;
    let mut sse = carol.sse("rooms=lobby", None).await.expect("a stream");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, posted) = post(&alice, "lobby", "over HTTP 👋 <b>", "h1").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(posted["message"]["client_id"], "h1");
    assert_eq!(ws.recv_type("message").await["message"], posted["message"]);
    assert_eq!(sse.message().await, posted["message"]);
}

#[tokio::test]
async fn event_streams_refuse_other_accepts_and_need_a_session() {
    let server = TestServer::start();
    let user = server.user().await;
    let json_only =
        user.http.get(user.url("/api/events?rooms=lobby")).header("Accept", "application/json").send().await.unwrap();
    assert_eq!(json_only.status(), StatusCode::NOT_ACCEPTABLE);
    let (status, _) = server.client().get_json("/api/events?rooms=lobby").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(user.sse("rooms=nowhere", None).await.err().map(|e| e.0), Some(StatusCode::NOT_FOUND));
    assert_eq!(user.sse("rooms=", None).await.err().map(|e| e.0), Some(StatusCode::BAD_REQUEST));
    assert_eq!(user.sse("rooms=lobby&since=abc", None).await.err().map(|e| e.0), Some(StatusCode::BAD_REQUEST));
    let wildcard = user.http.get(user.url("/api/events?rooms=lobby")).header("Accept", "*/*").send().await.unwrap();
    assert_eq!(wildcard.status(), StatusCode::OK);
}

#[tokio::test]
async fn event_streams_resume_by_last_event_id_or_since_without_gap_or_duplicate() {
    let server = TestServer::start_with(FAST);
    let (alice, bob) = (server.user().await, server.user().await);
    alice.post_json("/api/rooms", &json!({"name": "second"})).await;
    let mut seen = Vec::new();
    let mut sse = bob.sse("rooms=lobby,second", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sending = tokio::spawn({
        let http = alice.http.clone();
        let base = alice.url("");
        async move {
            for i in 0..200 {
                let room = if i % 3 == 0 { "second" } else { "lobby" };
                let body = json!({"text": format!("e{i}"), "client_id": format!("e{i}")});
                let response = http.post(format!("{base}/api/rooms/{room}/messages")).json(&body).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        }
    });
    for round in 0..10 {
        for _ in 0..(2 + round * 3) {
            if let Some(event) = sse.next_event(Duration::from_millis(200)).await {
                seen.push(event.id.unwrap().parse::<i64>().unwrap());
            }
        }
        drop(sse);
        let last = seen.last().copied().unwrap_or(0);
        sse = if round % 2 == 0 {
            bob.sse("rooms=lobby,second", Some(last)).await.unwrap()
        } else {
            bob.sse(&format!("rooms=lobby,second&since={last}"), None).await.unwrap()
        };
    }
    sending.await.unwrap();
    let mut stored = stored_ids(&bob, "lobby").await;
    stored.extend(stored_ids(&bob, "second").await);
    stored.sort();
    while seen.len() < stored.len() {
        seen.push(sse.message().await["id"].as_i64().unwrap());
    }
    assert_eq!(seen, stored, "every message of both rooms once, in id order");
}

#[tokio::test]
async fn an_event_stream_resuming_past_the_resume_cap_still_gets_everything_it_missed() {
    let mut env = FAST.to_vec();
    env.push(("CHATROOM_LIMITS_RESUME_CAP", "4"));
    let server = TestServer::start_with(&env);
    let (alice, bob) = (server.user().await, server.user().await);
    let mut posted = Vec::new();
    for i in 0..15 {
        posted
            .push(post(&alice, "lobby", &format!("p{i}"), &format!("p{i}")).await.1["message"]["id"].as_i64().unwrap());
    }
    // An event stream has no `limited` flag: it pages on until it has caught up.
    let mut sse = bob.sse("rooms=lobby", Some(posted[1])).await.unwrap();
    let mut seen = Vec::new();
    for _ in 2..15 {
        seen.push(sse.message().await["id"].as_i64().unwrap());
    }
    assert_eq!(seen, posted[2..].to_vec());
    let live = post(&alice, "lobby", "live", "live").await.1["message"]["id"].as_i64().unwrap();
    assert_eq!(sse.message().await["id"].as_i64().unwrap(), live, "then the live ones, nothing twice");
    assert!(sse.next_event(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn idle_event_streams_get_keep_alive_comments() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_SSE_KEEP_ALIVE_SECS", "1")]);
    let user = server.user().await;
    let mut sse = user.sse("rooms=lobby", None).await.unwrap();
    assert!(sse.next_event(Duration::from_millis(2500)).await.is_none(), "no events, only comments");
    assert!(sse.comments >= 2, "keep-alive comments came ({})", sse.comments);
}

#[tokio::test]
async fn logging_out_closes_that_sessions_websocket_and_event_stream() {
    let server = TestServer::start();
    let user = server.user().await;
    let other = server.client();
    assert_eq!(other.api_login(&user.phone, PASSWORD).await.0, StatusCode::OK);
    let mut ws = user.ws(&server).await;
    ws.join("lobby").await;
    let mut sse = user.sse("rooms=lobby", None).await.unwrap();
    let mut other_ws = other.ws(&server).await;
    other_ws.join("lobby").await;
    let cookie = user.cookie_header();

    assert_eq!(user.delete("/api/session").await.0, StatusCode::NO_CONTENT);
    assert!(ws.try_recv(Duration::from_secs(5)).await.is_none(), "the WebSocket was closed");
    assert!(sse.ends_within(Duration::from_secs(5)).await, "the event stream ended");
    assert_eq!(ws_connect(&server, Some(&cookie), None).await.err(), Some(401), "the old cookie opens nothing");
    // The same user's other login is untouched.
    let (_, sent) = post(&other, "lobby", "still here", "o1").await;
    assert_eq!(other_ws.recv_type("message").await["message"], sent["message"]);

    // The logout page does the same.
    let mut ws = other.ws(&server).await;
    ws.join("lobby").await;
    let page = other.submit("/rooms", "/logout", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(ws.try_recv(Duration::from_secs(5)).await.is_none());
}
