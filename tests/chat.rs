//! Real-time rooms over WebSocket, against the real server: what every client sees.

use chatroom_testkit as common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn ids(messages: &Value) -> Vec<i64> {
    messages.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

/// Posts `count` messages over HTTP (quickly, without waiting on sockets).
async fn post_many(client: &Client, room: &str, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..count {
        let (status, body) = client
            .post_json(
                &format!("/api/rooms/{room}/messages"),
                &json!({"text": format!("message {i}"), "client_id": format!("bulk-{i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["message"]["id"].as_i64().unwrap());
    }
    ids
}

#[tokio::test]
async fn a_message_reaches_every_member_and_the_ack_carries_the_client_id() {
    let server = TestServer::start();
    let (alice, bob, carol) = (server.user().await, server.user().await, server.user().await);
    let mut a = alice.ws(&server).await;
    let mut b = bob.ws(&server).await;
    let mut c = carol.ws(&server).await;
    for ws in [&mut a, &mut b, &mut c] {
        ws.join("lobby").await;
    }
    a.send(json!({"type": "send", "room": "lobby", "text": "hello all", "client_id": "alice-1"})).await;
    let ack = a.recv_type("message").await;
    assert_eq!(ack["message"]["client_id"], "alice-1");
    assert_eq!(ack["message"]["text"], "hello all");
    assert_eq!(ack["message"]["room"], "lobby");
    assert_eq!(ack["message"]["user"], json!({"id": alice.id, "nickname": alice.nickname, "avatar_url": null}));
    let sent_at = ack["message"]["sent_at"].as_str().unwrap();
    assert!(sent_at.ends_with('Z') && sent_at.len() == "2026-11-22T14:39:43.123Z".len(), "{sent_at}");
    for ws in [&mut b, &mut c] {
        let got = ws.recv_type("message").await;
        assert_eq!(got["message"], ack["message"], "every copy is the same message object");
    }
}

#[tokio::test]
async fn frames_sent_right_after_join_wait_for_it_even_in_a_room_not_yet_loaded() {
    let server = TestServer::start();
    let alice = server.user().await;
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "brand-new"})).await.0, StatusCode::CREATED);
    let mut a = alice.ws(&server).await;
    // No waiting for `joined` in between: the room is not known to the hub yet.
    a.send(json!({"type": "join", "room": "brand-new"})).await;
    a.send(json!({"type": "send", "room": "brand-new", "text": "first words", "client_id": "quick-1"})).await;
    a.send(json!({"type": "history", "room": "brand-new", "limit": 5})).await;
    a.send(json!({"type": "send", "room": "nowhere-at-all", "text": "lost", "client_id": "quick-2"})).await;
    let joined = a.recv().await;
    assert_eq!((joined["type"].as_str(), joined["room"].as_str()), (Some("joined"), Some("brand-new")), "{joined}");
    // The three answers come from separate pieces of work, in no fixed order.
    let mut answers = std::collections::HashMap::new();
    for _ in 0..3 {
        let frame = a.recv().await;
        answers.insert(frame["type"].as_str().unwrap().to_owned(), frame);
    }
    let ack = &answers["message"];
    assert_eq!(ack["message"]["client_id"], "quick-1");
    assert_eq!(answers["history"]["room"], "brand-new");
    let error = &answers["error"];
    assert_eq!((error["code"].as_str(), error["client_id"].as_str()), (Some("not_found"), Some("quick-2")), "{error}");
    let (_, stored) = alice.get_json("/api/rooms/brand-new/messages").await;
    assert_eq!(ids(&stored["messages"]), vec![ack["message"]["id"].as_i64().unwrap()]);
}

#[tokio::test]
async fn rooms_are_isolated() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "elsewhere"})).await.0, StatusCode::CREATED);
    let mut a = alice.ws(&server).await;
    let mut b = bob.ws(&server).await;
    a.join("lobby").await;
    a.join("elsewhere").await;
    b.join("lobby").await;
    a.say("elsewhere", "only for elsewhere").await;
    let lobby = a.say("lobby", "for the lobby").await;
    let got = b.recv_type("message").await;
    assert_eq!(got["message"]["id"], lobby["id"], "bob sees the lobby message and not the other");
    b.expect_no("message", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn one_connection_in_several_rooms_gets_each_rooms_messages() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    alice.post_json("/api/rooms", &json!({"name": "second"})).await;
    let mut a = alice.ws(&server).await;
    a.join("lobby").await;
    a.join("second").await;
    bob.post_json("/api/rooms/lobby/messages", &json!({"text": "one", "client_id": "b1"})).await;
    bob.post_json("/api/rooms/second/messages", &json!({"text": "two", "client_id": "b2"})).await;
    let first = a.recv_type("message").await;
    let second = a.recv_type("message").await;
    assert_eq!(
        (first["message"]["room"].as_str(), second["message"]["room"].as_str()),
        (Some("lobby"), Some("second"))
    );
    a.send(json!({"type": "leave", "room": "second"})).await;
    // After leaving, nothing more from that room.
    let mut probe = alice.ws(&server).await;
    probe.join("lobby").await;
    bob.post_json("/api/rooms/second/messages", &json!({"text": "three", "client_id": "b3"})).await;
    let lobby = bob.post_json("/api/rooms/lobby/messages", &json!({"text": "four", "client_id": "b4"})).await.1;
    let next = a.recv_type("message").await;
    assert_eq!(next["message"]["id"], lobby["message"]["id"]);
}

#[tokio::test]
async fn joining_gives_the_latest_50_and_history_pages_back() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_SEND_BURST", "1000")]);
    let poster = server.user().await;
    let posted = post_many(&poster, "lobby", 120).await;
    let reader = server.user().await;
    let mut ws = reader.ws(&server).await;
    let joined = ws.join("lobby").await;
    assert_eq!(ids(&joined["messages"]), posted[70..].to_vec(), "the latest 50, ascending");
    assert!(joined.get("limited").is_none());
    assert!(joined["members"].as_array().unwrap().iter().any(|m| m["id"] == reader.id), "the joiner is a member");

    ws.send(json!({"type": "history", "room": "lobby", "before": posted[70]})).await;
    let page = ws.recv_type("history").await;
    assert_eq!(ids(&page["messages"]), posted[20..70].to_vec());
    assert_eq!(page["has_more"], true);
    ws.send(json!({"type": "history", "room": "lobby", "before": posted[20], "limit": 50})).await;
    let page = ws.recv_type("history").await;
    assert_eq!(ids(&page["messages"]), posted[..20].to_vec());
    assert_eq!(page["has_more"], false);
    ws.send(json!({"type": "history", "room": "lobby", "before": posted[100], "limit": 1000})).await;
    let page = ws.recv_type("history").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 100, "a larger limit is clamped to 200, here all 100 older");
}

#[tokio::test]
async fn the_messages_api_pages_both_ways() {
    let server = TestServer::start();
    let user = server.user().await;
    let posted = post_many(&user, "lobby", 30).await;
    let (status, page) = user.get_json("/api/rooms/lobby/messages?limit=10").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page["messages"]), posted[20..].to_vec());
    assert_eq!(page["has_more"], true);
    let (_, page) = user.get_json(&format!("/api/rooms/lobby/messages?before={}&limit=15", posted[20])).await;
    assert_eq!(ids(&page["messages"]), posted[5..20].to_vec());
    assert_eq!(page["has_more"], true);
    let (_, page) = user.get_json(&format!("/api/rooms/lobby/messages?after={}&limit=25", posted[9])).await;
    assert_eq!(ids(&page["messages"]), posted[10..].to_vec());
    assert_eq!(page["has_more"], false);
    let (_, page) = user.get_json(&format!("/api/rooms/lobby/messages?after={}&limit=5", posted[9])).await;
    assert_eq!(ids(&page["messages"]), posted[10..15].to_vec());
    assert_eq!(page["has_more"], true);
    let (_, page) = user.get_json(&format!("/api/rooms/lobby/messages?after={}&before={}", posted[2], posted[6])).await;
    assert_eq!(ids(&page["messages"]), posted[3..6].to_vec(), "both bounds exclusive");
    let (_, page) = user.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(page["has_more"], false);
    assert_eq!(page["messages"].as_array().unwrap().len(), 30);
    assert_eq!(user.get_json("/api/rooms/lobby/messages?limit=0").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(user.get_json("/api/rooms/lobby/messages?limit=abc").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(user.get_json("/api/rooms/nowhere/messages").await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.client().get_json("/api/rooms/lobby/messages").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_history_max_below_the_default_page_clamps_every_page() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_HISTORY_MAX", "5")]);
    let alice = server.user().await;
    let posted = post_many(&alice, "lobby", 8).await;
    let (status, page) = alice.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((ids(&page["messages"]), page["has_more"].as_bool()), (posted[3..].to_vec(), Some(true)));
    let (_, page) = alice.get_json("/api/rooms/lobby/messages?limit=100").await;
    assert_eq!(ids(&page["messages"]), posted[3..].to_vec());
    let mut a = alice.ws(&server).await;
    let joined = a.join("lobby").await;
    assert_eq!(ids(&joined["messages"]), posted[3..].to_vec());
}

#[tokio::test]
async fn presence_follows_the_first_and_last_connection_and_typing_reaches_the_others() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut a = alice.ws(&server).await;
    a.join("lobby").await;
    let mut b1 = bob.ws(&server).await;
    let joined = b1.join("lobby").await;
    let members: Vec<i64> = joined["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(members.contains(&alice.id) && members.contains(&bob.id));
    let came = a.recv_type("presence").await;
    assert_eq!(
        came,
        json!({"type": "presence", "room": "lobby", "user": {"id": bob.id, "nickname": bob.nickname, "avatar_url": null}, "online": true})
    );

    // A second tab is no news; closing one of two is none either.
    let mut b2 = bob.ws(&server).await;
    b2.join("lobby").await;
    b1.close().await;
    a.expect_no("presence", Duration::from_millis(400)).await;

    b2.send(json!({"type": "typing", "room": "lobby"})).await;
    let typing = a.recv_type("typing").await;
    assert_eq!(
        typing,
        json!({"type": "typing", "room": "lobby", "user": {"id": bob.id, "nickname": bob.nickname, "avatar_url": null}})
    );
    b2.expect_no("typing", Duration::from_millis(300)).await;

    b2.close().await;
    let went = a.recv_type("presence").await;
    assert_eq!(went["online"], false);
    assert_eq!(went["user"]["id"], bob.id);
}

#[tokio::test]
async fn each_kind_of_bad_input_gets_its_error_and_the_connection_survives() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_MAX_TEXT_CHARS", "4000")]);
    let user = server.user().await;
    let mut ws = user.ws(&server).await;
    let long = "x".repeat(4001);
    let cases: Vec<(WsMessage, &str, Option<&str>)> = vec![
        (WsMessage::Text("{not json".into()), "bad_request", None),
        (WsMessage::Text(r#"{"type":"dance","room":"lobby"}"#.into()), "bad_request", None),
        (WsMessage::Text(r#"{"room":"lobby"}"#.into()), "bad_request", None),
        (WsMessage::Text(r#"{"type":"join"}"#.into()), "bad_request", None),
        (WsMessage::Text(r#"{"type":"join","room":42}"#.into()), "bad_request", None),
        (WsMessage::Text(r#"{"type":"join","room":"no-such-room"}"#.into()), "not_found", None),
        (
            WsMessage::Text(r#"{"type":"send","room":"lobby","text":"hi","client_id":"not-joined"}"#.into()),
            "forbidden",
            Some("not-joined"),
        ),
        (
            WsMessage::Text(r#"{"type":"send","room":"no-such-room","text":"hi","client_id":"nowhere"}"#.into()),
            "not_found",
            Some("nowhere"),
        ),
        (WsMessage::Binary(vec![1, 2, 3].into()), "bad_request", None),
    ];
    for (frame, code, client_id) in cases {
        let shown = format!("{frame:?}");
        ws.send_raw(frame).await;
        let error = ws.error().await;
        assert_eq!(error["code"], code, "{shown}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        if let Some(client_id) = client_id {
            assert_eq!(error["client_id"], client_id);
        }
    }
    ws.join("lobby").await;
    for (text, client_id) in [("   ", "empty"), (long.as_str(), "too-long")] {
        ws.send(json!({"type": "send", "room": "lobby", "text": text, "client_id": client_id})).await;
        let error = ws.error().await;
        assert_eq!((error["code"].as_str(), error["client_id"].as_str()), (Some("bad_request"), Some(client_id)));
    }
    let exactly_max = "y".repeat(4000);
    let stored = ws.say("lobby", &exactly_max).await;
    assert_eq!(stored["text"].as_str().unwrap().len(), 4000, "still open, and 4000 characters are fine");
    let (_, page) = user.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "nothing refused was stored");
}

#[tokio::test]
async fn sending_over_the_rate_limit_is_refused_and_nothing_is_stored() {
    let server =
        TestServer::start_with(&[("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "1"), ("CHATROOM_LIMITS_SEND_BURST", "3")]);
    let user = server.user().await;
    let mut ws = user.ws(&server).await;
    ws.join("lobby").await;
    for i in 0..4 {
        ws.send(json!({"type": "send", "room": "lobby", "text": format!("n{i}"), "client_id": format!("r{i}")})).await;
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    while acked.len() + refused.len() < 4 {
        let frame = ws.recv().await;
        match frame["type"].as_str() {
            Some("message") => acked.push(frame["message"]["client_id"].as_str().unwrap().to_owned()),
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited");
                refused.push(frame["client_id"].as_str().unwrap().to_owned());
            }
            _ => {}
        }
    }
    assert_eq!(acked, ["r0", "r1", "r2"]);
    assert_eq!(refused, ["r3"]);
    let (_, page) = user.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_frame_over_the_limit_gets_too_large_and_the_socket_closes() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_MAX_FRAME_BYTES", "1024")]);
    let user = server.user().await;
    let mut ws = user.ws(&server).await;
    ws.join("lobby").await;
    let text = "z".repeat(2000);
    ws.send(json!({"type": "send", "room": "lobby", "text": text, "client_id": "big"})).await;
    let error = ws.error().await;
    assert_eq!(error["code"], "too_large");
    assert!(ws.try_recv(Duration::from_secs(5)).await.is_none(), "the socket is closed");
}

#[tokio::test]
async fn the_websocket_needs_a_session_and_our_origin() {
    let server = TestServer::start();
    assert_eq!(ws_connect(&server, None, Some(&server.origin())).await.err(), Some(401));
    let user = server.user().await;
    let cookie = user.cookie_header();
    assert_eq!(ws_connect(&server, Some(&cookie), Some("http://evil.example")).await.err(), Some(403));
    assert!(ws_connect(&server, Some(&cookie), Some(&server.origin())).await.is_ok());
    assert!(ws_connect(&server, Some(&cookie), None).await.is_ok(), "non-browser clients send no Origin");

    let allowed = TestServer::start_with(&[("CHATROOM_ALLOWED_ORIGINS", "https://chat.example.com")]);
    let user = allowed.user().await;
    let cookie = user.cookie_header();
    assert!(ws_connect(&allowed, Some(&cookie), Some("https://chat.example.com")).await.is_ok());
    assert_eq!(ws_connect(&allowed, Some(&cookie), Some("http://evil.example")).await.err(), Some(403));
}

#[tokio::test]
async fn history_survives_a_restart() {
    let mut server = TestServer::start();
    let user = server.user().await;
    let mut ws = user.ws(&server).await;
    ws.join("lobby").await;
    let first = ws.say("lobby", "before the restart").await;
    server.restart();
    let mut ws = user.ws(&server).await;
    let joined = ws.join("lobby").await;
    assert_eq!(joined["messages"][0], first);
    let second = ws.say("lobby", "after the restart").await;
    assert!(second["id"].as_i64() > first["id"].as_i64());
}

#[tokio::test]
async fn html_and_emoji_come_back_byte_for_byte() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut a = alice.ws(&server).await;
    let mut b = bob.ws(&server).await;
    a.join("lobby").await;
    b.join("lobby").await;
    let text = "<script>alert('x')</script> &amp; \"quotes\" 👋🏽 你好 \u{200d}👨‍👩‍👧 𝄞";
    let stored = a.say("lobby", text).await;
    assert_eq!(stored["text"], text);
    assert_eq!(b.recv_type("message").await["message"]["text"], text);
    let (_, page) = bob.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(page["messages"][0]["text"], text);
    let mut again = bob.ws(&server).await;
    assert_eq!(again.join("lobby").await["messages"][0]["text"], text);
}

#[tokio::test]
async fn a_phone_number_never_appears_in_any_frame_or_answer() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut a = alice.ws(&server).await;
    let mut b = bob.ws(&server).await;
    a.join("lobby").await;
    b.join("lobby").await;
    a.say("lobby", "hi").await;
    b.send(json!({"type": "typing", "room": "lobby"})).await;
    a.recv_type("typing").await;
    b.say("lobby", "hello").await;
    let (_, direct) = alice.post_json("/api/direct", &json!({"nickname": bob.nickname})).await;
    let name = direct["room"]["name"].as_str().unwrap().to_owned();
    a.join(&name).await;
    b.close().await;
    a.recv_type("presence").await;
    let mut answers = a.seen.join("\n");
    for path in ["/api/rooms", "/api/me", "/api/rooms/lobby/messages", &format!("/api/rooms/{name}/messages")] {
        answers.push_str(&alice.get_json(path).await.1.to_string());
    }
    answers.push_str(&alice.get(&format!("/rooms/{name}")).await.body);
    answers.push_str(&alice.get("/rooms").await.body);
    for user in [&alice, &bob] {
        let national = user.phone.trim_start_matches("+86");
        assert!(!answers.contains(national), "{}'s number leaked", user.nickname);
    }
}

#[tokio::test]
async fn two_hundred_connections_in_one_room_all_receive_every_message() {
    let server = TestServer::start();
    // Twenty sockets each: as many as one user may hold (`sockets_per_user`).
    let mut users = Vec::new();
    for _ in 0..10 {
        users.push(server.user().await);
    }
    let mut sockets = Vec::new();
    for i in 0..200 {
        let mut ws = users[i % users.len()].ws(&server).await;
        ws.send(json!({"type": "join", "room": "lobby"})).await;
        sockets.push(ws);
    }
    for ws in sockets.iter_mut() {
        ws.recv_type("joined").await;
    }
    let mut sent = Vec::new();
    for i in 0..10 {
        let (status, body) = users[i % users.len()]
            .post_json(
                "/api/rooms/lobby/messages",
                &json!({"text": format!("to all {i}"), "client_id": format!("all-{i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        sent.push(body["message"]["id"].as_i64().unwrap());
    }
    for ws in sockets.iter_mut() {
        let mut got = Vec::new();
        while got.len() < sent.len() {
            let frame = ws.recv().await;
            if frame["type"] == "message" {
                got.push(frame["message"]["id"].as_i64().unwrap());
            }
        }
        assert_eq!(got, sent, "every message, once, in order");
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_delay_the_others_and_is_dropped() {
    let server = TestServer::start_with(&[
        ("CHATROOM_LIMITS_OUTBOX_CAPACITY", "16"),
        ("CHATROOM_LIMITS_MAX_TEXT_CHARS", "60000"),
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "100000"),
        ("CHATROOM_LIMITS_SEND_BURST", "100000"),
    ]);
    let (sender, reader, sleeper) = (server.user().await, server.user().await, server.user().await);
    // The sleeper's socket has a tiny receive buffer and is never read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(server.ws_url()).unwrap();
    request.headers_mut().insert("Cookie", sleeper.cookie_header().parse().unwrap());
    let (mut sleeping, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    futures_util::SinkExt::send(&mut sleeping, WsMessage::Text(r#"{"type":"join","room":"lobby"}"#.into()))
        .await
        .unwrap();

    let mut r = reader.ws(&server).await;
    r.join("lobby").await;
    let mut s = sender.ws(&server).await;
    s.join("lobby").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Big messages fill the kernel's socket buffers (megabytes) in few sends; each is
    // acknowledged before the next, so each reaches the sleeper as a delivery of its own.
    let body = "w".repeat(60_000);
    let total = 200;
    let reading = tokio::spawn(async move {
        let mut got = 0;
        while got < total {
            let frame = r.recv().await;
            if frame["type"] == "message" {
                got += 1;
            }
        }
        got
    });
    for _ in 0..total {
        s.say("lobby", &body).await;
    }
    // Each of its frames came within FRAME_WAIT although the sleeper never read.
    assert_eq!(reading.await.unwrap(), total, "the reader got every message");

    // The sleeper was dropped: once it reads, it finds fewer messages and then the end.
    let mut received = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let ended = loop {
        match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut sleeping)).await {
            Ok(Some(Ok(WsMessage::Text(_)))) => received += 1,
            Ok(Some(Ok(WsMessage::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => break true,
            Ok(Some(Ok(_))) => {}
            Err(_) => break false,
        }
    };
    assert!(ended, "the slow connection was closed by the server");
    assert!(received < total, "it did not get everything ({received})");
    let metrics = server.client().get("/metrics").await.body;
    assert!(metrics.contains("ws_slow_consumers_dropped_total"), "the drop is counted");
}

#[tokio::test]
async fn room_pages_and_the_rooms_api() {
    let server = TestServer::start();
    let anonymous = server.client();
    assert_eq!(anonymous.get("/rooms").await.location(), Some("/login"));
    assert_eq!(anonymous.get("/rooms/lobby").await.location(), Some("/login"));
    assert_eq!(anonymous.get_json("/api/rooms").await.0, StatusCode::UNAUTHORIZED);

    let user = server.user().await;
    let page = user.get("/rooms").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("href=\"/rooms/lobby\""));
    assert!(page.body.contains("name=\"name\""), "a create-room form");

    let page = user.submit("/rooms", "/rooms", &[("name", "book-club")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/rooms/book-club"));
    assert_eq!(user.submit("/rooms", "/rooms", &[("name", "book-club")]).await.status, StatusCode::CONFLICT);
    assert_eq!(
        user.submit("/rooms", "/rooms", &[("name", "Bad Name!")]).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(user.post_form("/rooms", &[("name", "no-token")]).await.status, StatusCode::FORBIDDEN);

    let chat = user.get("/rooms/book-club").await;
    assert_eq!(chat.status, StatusCode::OK);
    assert!(chat.body.contains("/static/chat.js"));
    assert_eq!(user.get("/rooms/no-such-room").await.status, StatusCode::NOT_FOUND);

    let (status, body) = user.post_json("/api/rooms", &json!({"name": "api-room"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["room"]["name"], "api-room");
    assert_eq!(user.post_json("/api/rooms", &json!({"name": "api-room"})).await.0, StatusCode::CONFLICT);
    let (status, body) = user.post_json("/api/rooms", &json!({"name": "-nope"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, body) = user.get_json("/api/rooms").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    for name in ["lobby", "book-club", "api-room"] {
        assert!(names.contains(&name), "{name} listed");
    }
    for room in body["rooms"].as_array().unwrap() {
        assert!(room["unread"].is_i64() && room["last_message_id"].is_i64());
    }
}
