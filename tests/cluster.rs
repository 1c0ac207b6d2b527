//! Several nodes on one MySQL database and one Redis: what a single node promises holds
//! across nodes. Each test runs its own Redis; these tests run on the MySQL backend.

use chatroom_testkit as common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Three nodes sharing a database and a Redis, or None on SQLite.
fn cluster(extra: &[(&str, &str)]) -> Option<(TestRedis, Vec<TestServer>)> {
    if backend() != Backend::Mysql {
        eprintln!("the cluster tests need the MySQL backend; skipped on SQLite");
        return None;
    }
    let redis = TestRedis::start();
    let url = redis.url();
    let mut env = vec![
        ("CHATROOM_REDIS_URL", url.as_str()),
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "10000"),
        ("CHATROOM_LIMITS_SEND_BURST", "10000"),
    ];
    env.extend_from_slice(extra);
    let first = TestServer::start_with(&env);
    let second = first.another_node(&env);
    let third = first.another_node(&env);
    Some((redis, vec![first, second, third]))
}

/// A client of `user` talking to `node` (the session cookie is good on every node).
fn on(user: &Client, node: &TestServer) -> Client {
    user.clone_session(node)
}

async fn stored_ids(client: &Client, room: &str) -> Vec<i64> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = client.get_json(&format!("/api/rooms/{room}/messages?after={after}&limit=200")).await;
        assert_eq!(status, StatusCode::OK);
        for m in page["messages"].as_array().unwrap() {
            after = m["id"].as_i64().unwrap();
            all.push(after);
        }
        if page["has_more"] != true {
            return all;
        }
    }
}

#[tokio::test]
async fn a_message_sent_on_one_node_reaches_members_on_the_others() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let alice = nodes[0].user().await;
    let bob = on(&nodes[0].user().await, &nodes[1]);
    let carol = on(&nodes[0].user().await, &nodes[2]);
    let mut a = alice.ws(&nodes[0]).await;
    let mut b = bob.ws(&nodes[1]).await;
    a.join("lobby").await;
    b.join("lobby").await;
    let mut events = carol.sse("rooms=lobby", None).await.expect("a stream on the third node");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let said = a.say("lobby", "from node one 👋").await;
    assert_eq!(b.recv_type("message").await["message"], said);
    assert_eq!(events.message().await, said);

    let (status, posted) =
        bob.post_json("/api/rooms/lobby/messages", &json!({"text": "over HTTP on node two", "client_id": "n2"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(a.recv_type("message").await["message"], posted["message"]);
    assert_eq!(events.message().await, posted["message"]);
    // The same client_id on another node is still the same message.
    let (status, again) =
        on(&bob, &nodes[2]).post_json("/api/rooms/lobby/messages", &json!({"text": "x", "client_id": "n2"})).await;
    assert_eq!((status, &again["message"]), (StatusCode::OK, &posted["message"]));
    a.expect_no("message", Duration::from_millis(400)).await;
    // They came over pub/sub, not only through the database's gap filling.
    for node in &nodes {
        assert!(!node.log_text().contains("does not parse"), "a node could not read another's event");
    }
}

#[tokio::test]
async fn presence_typing_read_markers_and_logout_cross_nodes() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let alice = nodes[0].user().await;
    let bob = nodes[0].user().await;
    let mut a = alice.ws(&nodes[0]).await;
    a.join("lobby").await;
    let mut b = on(&bob, &nodes[1]).ws(&nodes[1]).await;
    let joined = b.join("lobby").await;
    let members: Vec<i64> = joined["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(members.contains(&bob.id));
    let came = a.recv_type("presence").await;
    assert_eq!((came["user"]["id"].as_i64(), came["online"].as_bool()), (Some(bob.id), Some(true)));

    // Alice's list, read on the third node, shows both.
    let mut probe = on(&alice, &nodes[2]).ws(&nodes[2]).await;
    let seen = probe.join("lobby").await;
    let online: Vec<i64> = seen["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(online.contains(&bob.id) && online.contains(&alice.id), "{seen}");

    b.send(json!({"type": "typing", "room": "lobby"})).await;
    assert_eq!(a.recv_type("typing").await["user"]["id"], bob.id);

    // A read marker moved on node two reaches Bob's other device, on node three.
    let mut bob_elsewhere = on(&bob, &nodes[2]).ws(&nodes[2]).await;
    bob_elsewhere.join("lobby").await;
    let said = a.say("lobby", "read me").await;
    let id = said["id"].as_i64().unwrap();
    b.send(json!({"type": "read", "room": "lobby", "message_id": id})).await;
    assert_eq!(bob_elsewhere.recv_type("read").await["message_id"], id);

    // Bob logs out on node one: his sockets on nodes two and three close.
    assert_eq!(on(&bob, &nodes[0]).delete("/api/session").await.0, StatusCode::NO_CONTENT);
    assert!(b.closes_within(Duration::from_secs(5)).await, "node two closed Bob's socket");
    assert!(bob_elsewhere.closes_within(Duration::from_secs(5)).await, "and node three too");
    let went = a.recv_type("presence").await;
    assert_eq!((went["user"]["id"].as_i64(), went["online"].as_bool()), (Some(bob.id), Some(false)));
}

#[tokio::test]
async fn a_client_resumes_on_another_node_with_no_gap_and_no_duplicate() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let sender = on(&nodes[0].user().await, &nodes[1]);
    let reader = nodes[0].user().await;
    let mut seen = Vec::new();
    let mut ws = reader.ws(&nodes[0]).await;
    seen.extend(ws.join("lobby").await["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()));
    let sending = tokio::spawn({
        let http = sender.http.clone();
        let url = sender.url("/api/rooms/lobby/messages");
        async move {
            for i in 0..150 {
                let body = json!({"text": format!("r{i}"), "client_id": format!("r{i}")});
                assert_eq!(http.post(&url).json(&body).send().await.unwrap().status(), StatusCode::CREATED);
            }
        }
    });
    for round in 0..9 {
        for _ in 0..(2 + round * 2) {
            if let Some(frame) = ws.try_recv(Duration::from_millis(150)).await {
                if frame["type"] == "message" {
                    seen.push(frame["message"]["id"].as_i64().unwrap());
                }
            }
        }
        // Reconnect to the next node, as a load balancer without sticky sessions would.
        let node = &nodes[(round + 1) % nodes.len()];
        ws = on(&reader, node).ws(node).await;
        let since = seen.last().copied().unwrap_or(0);
        let joined = ws.join_since("lobby", since).await;
        seen.extend(joined["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()));
    }
    sending.await.unwrap();
    let stored = stored_ids(&reader, "lobby").await;
    while seen.len() < stored.len() {
        seen.push(ws.recv_type("message").await["message"]["id"].as_i64().unwrap());
    }
    assert_eq!(seen, stored);
}

#[tokio::test]
async fn a_killed_node_leaves_the_others_running_and_its_users_go_offline_within_the_ttl() {
    let Some((_redis, mut nodes)) = cluster(&[("CHATROOM_PRESENCE_TTL_SECS", "3")]) else { return };
    let alice = nodes[0].user().await;
    let bob = nodes[0].user().await;
    let mut a = alice.ws(&nodes[0]).await;
    a.join("lobby").await;
    let mut b = on(&bob, &nodes[1]).ws(&nodes[1]).await;
    b.join("lobby").await;
    assert_eq!(a.recv_type("presence").await["online"], true);

    nodes[1].kill(); // SIGKILL: no goodbye of any kind
    let started = std::time::Instant::now();
    let went = a.recv_type("presence").await;
    assert_eq!((went["user"]["id"].as_i64(), went["online"].as_bool()), (Some(bob.id), Some(false)));
    eprintln!("bob went offline {:?} after his node died (ttl 3 s)", started.elapsed());

    // The others keep serving.
    let carol = on(&nodes[0].user().await, &nodes[2]);
    let mut c = carol.ws(&nodes[2]).await;
    c.join("lobby").await;
    let said = c.say("lobby", "still here").await;
    assert_eq!(a.recv_type("message").await["message"], said);
}

#[tokio::test]
async fn redis_restarted_mid_traffic_loses_nothing() {
    let Some((mut redis, nodes)) = cluster(&[]) else { return };
    let sender = on(&nodes[0].user().await, &nodes[1]);
    let reader = nodes[0].user().await;
    let mut ws = reader.ws(&nodes[0]).await;
    ws.join("lobby").await;
    let sending = tokio::spawn({
        let http = sender.http.clone();
        let url = sender.url("/api/rooms/lobby/messages");
        async move {
            for i in 0..200 {
                let body = json!({"text": format!("k{i}"), "client_id": format!("k{i}")});
                assert_eq!(http.post(&url).json(&body).send().await.unwrap().status(), StatusCode::CREATED);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let mut seen = Vec::new();
    let mut restarted = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(frame) = ws.try_recv(Duration::from_millis(100)).await {
            if frame["type"] == "message" {
                seen.push(frame["message"]["id"].as_i64().unwrap());
            }
        }
        if !restarted && seen.len() >= 40 {
            redis.restart();
            restarted = true;
        }
        if sending.is_finished() && seen.len() >= 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {} of 200 messages arrived", seen.len());
    }
    let stored = stored_ids(&reader, "lobby").await;
    assert_eq!(seen, stored, "every message once, in order, across the Redis restart");
}

#[tokio::test]
async fn every_frame_about_messages_is_the_same_on_every_node() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let users = [nodes[0].user().await, nodes[0].user().await, nodes[0].user().await];
    let mut sockets = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut ws = on(&users[i], node).ws(node).await;
        ws.join("lobby").await;
        sockets.push(ws);
    }
    // Everyone sends at once on their own node; everyone sees one order.
    for (i, ws) in sockets.iter_mut().enumerate() {
        for n in 0..20 {
            ws.send(
                json!({"type": "send", "room": "lobby", "text": format!("{i}:{n}"), "client_id": format!("c{i}-{n}")}),
            )
            .await;
        }
    }
    let mut views: Vec<Vec<Value>> = Vec::new();
    for ws in sockets.iter_mut() {
        let mut view = Vec::new();
        while view.len() < 60 {
            let frame = ws.recv().await;
            if frame["type"] == "message" {
                view.push(frame["message"].clone());
            }
        }
        views.push(view);
    }
    assert!(views.windows(2).all(|w| w[0] == w[1]), "the same messages in the same order on every node");
    let ids: Vec<i64> = views[0].iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn a_first_join_does_not_hang_while_redis_does_not_answer() {
    let Some((redis, nodes)) = cluster(&[]) else { return };
    let alice = on(&nodes[0].user().await, &nodes[1]);
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "quiet"})).await.0, StatusCode::CREATED);
    let mut a = alice.ws(&nodes[1]).await;
    redis.pause();
    // The room is new to the node: its join asks Redis who is online elsewhere, gets
    // no answer, and goes ahead with what this node knows.
    a.send(json!({"type": "join", "room": "quiet"})).await;
    let joined = a.try_recv(Duration::from_secs(5)).await;
    redis.resume();
    let joined = joined.expect("joined without Redis");
    assert_eq!((joined["type"].as_str(), joined["room"].as_str()), (Some("joined"), Some("quiet")), "{joined}");
    let members: Vec<i64> = joined["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(members, vec![alice.id]);
}

#[tokio::test]
async fn edits_deletes_and_reactions_on_one_node_reach_the_others_in_seq_order() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let alice = nodes[0].user().await;
    let bob = on(&nodes[0].user().await, &nodes[1]);
    let carol = on(&nodes[0].user().await, &nodes[2]);
    let mut a = alice.ws(&nodes[0]).await;
    let mut b = bob.ws(&nodes[1]).await;
    a.join("lobby").await;
    b.join("lobby").await;
    let said = a.say("lobby", "to be changed").await;
    assert_eq!(b.recv_type("message").await["message"], said);
    let id = said["id"].as_i64().unwrap();
    let mut events = carol.sse("rooms=lobby", Some(id)).await.expect("a stream on the third node");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Each change, made on one node, reaches every node with the same state.
    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    let mut on_c = Vec::new();
    for step in 0..4 {
        match step {
            0 => a.send(json!({"type": "edit", "room": "lobby", "message_id": id, "text": "changed"})).await,
            1 => b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": "👍"})).await,
            2 => {
                // Over HTTP, on a node where no one has the room open over WebSocket.
                let path = format!("/api/rooms/lobby/messages/{id}/reactions/🎉");
                assert_eq!(on(&alice, &nodes[2]).put(&path).await.0, StatusCode::NO_CONTENT);
            }
            _ => a.send(json!({"type": "delete", "room": "lobby", "message_id": id})).await,
        }
        on_a.push(a.recv_type("update").await["message"].clone());
        let update = b.recv_type("update").await;
        assert_eq!(update["room"], "lobby", "{update}");
        on_b.push(update["message"].clone());
        let event = events.next_event(Duration::from_secs(5)).await.expect("an update event");
        assert_eq!(event.event.as_deref(), Some("update"));
        let message: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(event.id, Some(message["seq"].to_string()));
        on_c.push(message);
    }
    assert_eq!(on_a, on_b);
    assert_eq!(on_a, on_c);
    let seqs: Vec<i64> = on_a.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let last = on_a.last().unwrap();
    assert_eq!((last["deleted"].as_bool(), last["text"].as_str()), (Some(true), Some("")));
    assert!(on_a.iter().any(|m| m["text"] == "changed"));
    assert!(on_a.iter().any(|m| m["reactions"].as_array().is_some_and(|r| r.len() == 2)), "{on_a:?}");
    let (_, stored) = carol.get_json(&format!("/api/rooms/lobby/messages/{id}")).await;
    assert_eq!(&stored["message"], last);
}

#[tokio::test]
async fn a_role_change_on_one_node_reaches_the_room_on_the_others() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let alice = nodes[0].user().await;
    let bob = on(&nodes[0].user().await, &nodes[1]);
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "crew"})).await.0, StatusCode::CREATED);
    let mut b = bob.ws(&nodes[1]).await;
    b.join("crew").await;
    let (status, _) =
        alice.put_json(&format!("/api/rooms/crew/members/{}/role", bob.id), &json!({"role": "moderator"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let frame = b.recv_type("role").await;
    assert_eq!((frame["room"].as_str(), frame["role"].as_str()), (Some("crew"), Some("moderator")));
    assert_eq!(frame["user"]["id"], bob.id);
}

#[tokio::test]
async fn a_ban_or_a_mute_on_one_node_holds_on_the_others_at_once() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let owner = nodes[0].user().await;
    let (troll, noisy) = (nodes[0].user().await, nodes[0].user().await);
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": "watch"})).await.0, StatusCode::CREATED);
    let mut on_b = on(&troll, &nodes[1]).ws(&nodes[1]).await;
    let mut on_c = on(&troll, &nodes[2]).ws(&nodes[2]).await;
    on_b.join("watch").await;
    on_c.join("watch").await;
    let mut stream = on(&troll, &nodes[2]).sse("rooms=watch", None).await.expect("a stream");
    let mut loud = on(&noisy, &nodes[1]).ws(&nodes[1]).await;
    loud.join("watch").await;
    let mut owner_c = on(&owner, &nodes[2]).ws(&nodes[2]).await;
    owner_c.join("watch").await;

    // A mute made on node one: the very next send on node two is refused.
    let mute = json!({"user_id": noisy.id, "minutes": 30});
    assert_eq!(owner.post_json("/api/rooms/watch/mutes", &mute).await.0, StatusCode::NO_CONTENT);
    loud.send(json!({"type": "send", "room": "watch", "text": "still talking", "client_id": "n1"})).await;
    let (mut answer, mut told) = (None, false);
    while answer.is_none() || !told {
        let frame = loud.recv().await;
        match frame["type"].as_str() {
            Some("error" | "message") => answer = Some(frame),
            Some("muted") => told = frame["room"] == "watch",
            _ => {}
        }
    }
    let answer = answer.unwrap();
    assert_eq!((&answer["code"], &answer["client_id"]), (&json!("forbidden"), &json!("n1")), "{answer}");

    // A ban made on node one takes every connection out on nodes two and three.
    let ban = json!({"user_id": troll.id, "reason": "trolling"});
    assert_eq!(owner.post_json("/api/rooms/watch/bans", &ban).await.0, StatusCode::NO_CONTENT);
    for ws in [&mut on_b, &mut on_c] {
        assert_eq!(ws.recv_type("removed").await["reason"], "trolling");
    }
    assert_eq!(stream.next_event(FRAME_WAIT).await.expect("an event").event.as_deref(), Some("removed"));
    assert!(stream.ends_within(FRAME_WAIT).await);
    on_b.send(json!({"type": "join", "room": "watch"})).await;
    assert_eq!(on_b.error().await["code"], "forbidden");
    owner_c.say("watch", "the room goes on").await;
    on_c.expect_no("message", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_deleted_room_or_a_disabled_account_ends_connections_on_every_node() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let (admin, owner, member) = (nodes[0].user().await, nodes[0].user().await, nodes[0].user().await);
    assert!(nodes[0].run(&["admin", "grant", &admin.phone]).0.success());
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": "brief"})).await.0, StatusCode::CREATED);
    let mut on_b = on(&member, &nodes[1]).ws(&nodes[1]).await;
    on_b.join("brief").await;
    on_b.join("lobby").await;
    assert_eq!(owner.delete("/api/rooms/brief").await.0, StatusCode::NO_CONTENT);
    assert_eq!(on_b.recv_type("removed").await["cause"], "deleted");
    // Node two forgot the room: one made again under the same name is a new room there.
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": "brief"})).await.0, StatusCode::CREATED);
    assert_eq!(on_b.join("brief").await["messages"], json!([]));
    on_b.say("brief", "fresh").await;

    let mut on_c = on(&member, &nodes[2]).ws(&nodes[2]).await;
    on_c.join("lobby").await;
    assert_eq!(admin.post(&format!("/api/admin/users/{}/disable", member.id)).await.0, StatusCode::NO_CONTENT);
    assert!(on_b.closes_within(Duration::from_secs(5)).await, "node two closed it");
    assert!(on_c.closes_within(Duration::from_secs(5)).await, "node three too");
    assert_eq!(on(&member, &nodes[1]).get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_or_a_new_nickname_on_one_node_reaches_the_others() {
    let Some((_redis, nodes)) = cluster(&[]) else { return };
    let (alice, bob) = (nodes[0].user().await, nodes[0].user().await);
    let laptop = alice.another_login(&nodes[0]).await;
    let mut laptop_on_b = on(&laptop, &nodes[1]).ws(&nodes[1]).await;
    laptop_on_b.join("lobby").await;
    let mut here_on_c = on(&alice, &nodes[2]).ws(&nodes[2]).await;
    here_on_c.join("lobby").await;
    let mut b_on_c = on(&bob, &nodes[2]).ws(&nodes[2]).await;
    b_on_c.join("lobby").await;

    let name = format!("new{}", unique() % 100_000);
    assert_eq!(alice.patch_json("/api/me", &json!({"nickname": name})).await.0, StatusCode::OK);
    let frame = b_on_c.recv_type("user").await;
    assert_eq!(
        (frame["user"]["id"].as_i64(), frame["user"]["nickname"].as_str()),
        (Some(alice.id), Some(name.as_str()))
    );
    assert_eq!(here_on_c.say("lobby", "renamed").await["user"]["nickname"], name.as_str(), "node three knows");

    let change = json!({"current": PASSWORD, "new": "another good secret"});
    assert_eq!(alice.post_json("/api/me/password", &change).await.0, StatusCode::NO_CONTENT);
    assert!(laptop_on_b.closes_within(Duration::from_secs(5)).await, "the laptop's socket on node two closed");
    here_on_c.say("lobby", "this login stays").await;
    assert_eq!(on(&laptop, &nodes[2]).get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
}
