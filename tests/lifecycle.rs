//! Replies, edits, deletes and reactions (docs/protocol.md, "the message lifecycle"):
//! every rule and error, over WebSocket, HTTP and the event stream, and resume that
//! carries changes with no gap and no duplicate.

use chatroom_testkit as common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn id_of(message: &Value) -> i64 {
    message["id"].as_i64().expect("an id")
}

fn seq_of(message: &Value) -> i64 {
    message["seq"].as_i64().expect("a seq")
}

/// Two users in `lobby` on WebSockets.
async fn two_in_lobby(server: &TestServer) -> (Client, Ws, Client, Ws) {
    let (alice, bob) = (server.user().await, server.user().await);
    let mut a = alice.ws(server).await;
    let mut b = bob.ws(server).await;
    a.join("lobby").await;
    b.join("lobby").await;
    (alice, a, bob, b)
}

#[tokio::test]
async fn a_new_message_carries_its_lifecycle_fields() {
    let server = TestServer::start();
    let (_alice, mut a, _bob, _b) = two_in_lobby(&server).await;
    let said = a.say("lobby", "plain").await;
    assert_eq!(seq_of(&said), id_of(&said), "an unchanged message's seq is its id");
    assert_eq!(said["reply_to"], Value::Null);
    assert_eq!(said["edited_at"], Value::Null);
    assert_eq!(said["deleted"], false);
    assert_eq!(said["reactions"], json!([]));
}

#[tokio::test]
async fn a_reply_names_a_message_of_the_same_room_that_is_not_deleted() {
    let server = TestServer::start();
    let (alice, mut a, _bob, mut b) = two_in_lobby(&server).await;
    let first = a.say("lobby", "question?").await;
    assert_eq!(b.recv_type("message").await["message"], first);
    a.send(json!({"type": "send", "room": "lobby", "text": "answer", "client_id": "r1", "reply_to": id_of(&first)}))
        .await;
    let reply = a.recv_type("message").await["message"].clone();
    assert_eq!(reply["reply_to"], first["id"]);
    assert_eq!(b.recv_type("message").await["message"]["reply_to"], first["id"]);

    for (target, client_id) in [(999_999_999, "r2"), (0, "r3")] {
        a.send(
            json!({"type": "send", "room": "lobby", "text": "to nothing", "client_id": client_id, "reply_to": target}),
        )
        .await;
        let error = a.error().await;
        assert_eq!((error["code"].as_str(), error["client_id"].as_str()), (Some("not_found"), Some(client_id)));
    }
    // A message of another room is not there to reply to.
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "elsewhere"})).await.0, StatusCode::CREATED);
    let (status, _) = alice
        .post_json("/api/rooms/elsewhere/messages", &json!({"text": "x", "client_id": "r4", "reply_to": id_of(&first)}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor is a deleted one.
    assert_eq!(alice.delete(&format!("/api/rooms/lobby/messages/{}", id_of(&first))).await.0, StatusCode::NO_CONTENT);
    let (status, body) = alice
        .post_json("/api/rooms/lobby/messages", &json!({"text": "late", "client_id": "r5", "reply_to": id_of(&first)}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, body) = alice
        .post_json("/api/rooms/lobby/messages", &json!({"text": "ok", "client_id": "r6", "reply_to": id_of(&reply)}))
        .await;
    assert_eq!((status, &body["message"]["reply_to"]), (StatusCode::CREATED, &reply["id"]));
}

#[tokio::test]
async fn an_edit_reaches_everyone_in_seq_order_and_keeps_the_earlier_version() {
    let server = TestServer::start();
    let (alice, mut a, bob, mut b) = two_in_lobby(&server).await;
    let said = a.say("lobby", "helo").await;
    b.recv_type("message").await;
    a.send(
        json!({"type": "edit", "room": "lobby", "message_id": id_of(&said), "text": "  hello  ", "client_id": "e1"}),
    )
    .await;
    let update = a.recv_type("update").await;
    assert_eq!(update["room"], "lobby");
    let edited = &update["message"];
    assert_eq!((edited["id"].as_i64(), edited["text"].as_str()), (Some(id_of(&said)), Some("hello")));
    assert!(seq_of(edited) > id_of(&said), "a change takes a new seq: {edited}");
    assert!(edited["edited_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{edited}");
    assert_eq!(edited["client_id"], said["client_id"]);
    assert_eq!(b.recv_type("update").await, update, "every copy is the same");

    let path = format!("/api/rooms/lobby/messages/{}", id_of(&said));
    let (status, current) = bob.get_json(&path).await;
    assert_eq!((status, &current["message"]), (StatusCode::OK, edited));
    let (status, history) = bob.get_json(&format!("{path}/edits")).await;
    assert_eq!(status, StatusCode::OK);
    let edits = history["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["text"], "helo");
    assert_eq!(edits[0]["edited_at"], edited["edited_at"]);
    // History pages show the current state.
    let (_, page) = bob.get_json("/api/rooms/lobby/messages?limit=5").await;
    assert_eq!(page["messages"].as_array().unwrap().last().unwrap(), edited);

    // The same text again changes nothing: no frame, no new seq.
    let (status, same) = alice.patch_json(&path, &json!({"text": "hello"})).await;
    assert_eq!((status, seq_of(&same["message"])), (StatusCode::OK, seq_of(edited)));
    a.expect_no("update", Duration::from_millis(300)).await;
    // Over HTTP, an edit is answered with the new state and reaches the sockets.
    let (status, again) = alice.patch_json(&path, &json!({"text": "hello, world"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seq_of(&again["message"]) > seq_of(edited));
    assert_eq!(b.recv_type("update").await["message"], again["message"]);
}

#[tokio::test]
async fn only_the_author_edits_or_deletes_and_a_deleted_message_takes_no_edit() {
    let server = TestServer::start();
    let (alice, mut a, bob, mut b) = two_in_lobby(&server).await;
    let said = a.say("lobby", "mine").await;
    let path = format!("/api/rooms/lobby/messages/{}", id_of(&said));

    b.send(json!({"type": "edit", "room": "lobby", "message_id": id_of(&said), "text": "yours", "client_id": "x1"}))
        .await;
    let error = b.error().await;
    assert_eq!((error["code"].as_str(), error["client_id"].as_str()), (Some("forbidden"), Some("x1")));
    b.send(json!({"type": "delete", "room": "lobby", "message_id": id_of(&said)})).await;
    assert_eq!(b.error().await["code"], "forbidden");
    let (status, body) = bob.patch_json(&path, &json!({"text": "yours"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    assert_eq!(bob.delete(&path).await.0, StatusCode::FORBIDDEN);

    // Bad input: empty or too long text, unknown messages, unknown ids.
    let (status, _) = alice.patch_json(&path, &json!({"text": "   "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = alice.patch_json(&path, &json!({"text": "x".repeat(4001)})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    a.send(json!({"type": "edit", "room": "lobby", "message_id": id_of(&said), "text": "", "client_id": "x2"})).await;
    assert_eq!(a.error().await["code"], "bad_request");
    for missing in
        ["/api/rooms/lobby/messages/999999999", "/api/rooms/lobby/messages/abc", "/api/rooms/lobby/messages/-1"]
    {
        assert_eq!(alice.patch_json(missing, &json!({"text": "x"})).await.0, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(alice.get_json(missing).await.0, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(alice.delete(missing).await.0, StatusCode::NOT_FOUND, "{missing}");
    }
    a.send(json!({"type": "edit", "room": "lobby", "message_id": 999_999_999, "text": "x", "client_id": "x3"})).await;
    assert_eq!(a.error().await["code"], "not_found");
    assert_eq!(
        alice.patch_json("/api/rooms/no-such-room/messages/1", &json!({"text": "x"})).await.0,
        StatusCode::NOT_FOUND
    );

    // The author deletes: a tombstone in its place, its edit history gone.
    assert_eq!(alice.patch_json(&path, &json!({"text": "mine, edited"})).await.0, StatusCode::OK);
    a.recv_type("update").await;
    b.recv_type("update").await;
    a.send(json!({"type": "delete", "room": "lobby", "message_id": id_of(&said), "client_id": "d1"})).await;
    let tombstone = a.recv_type("update").await["message"].clone();
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["text"], "");
    assert_eq!(tombstone["reactions"], json!([]));
    assert_eq!(tombstone["reply_to"], Value::Null);
    assert_eq!(b.recv_type("update").await["message"], tombstone);
    assert_eq!(bob.get_json(&format!("{path}/edits")).await.1, json!({"edits": []}));
    assert_eq!(bob.get_json(&path).await.1["message"], tombstone);
    // Deleting again is the same success and sends nothing; editing it is not found.
    assert_eq!(alice.delete(&path).await.0, StatusCode::NO_CONTENT);
    a.expect_no("update", Duration::from_millis(300)).await;
    assert_eq!(alice.patch_json(&path, &json!({"text": "back"})).await.0, StatusCode::NOT_FOUND);
    a.send(json!({"type": "react", "room": "lobby", "message_id": id_of(&said), "emoji": "👍"})).await;
    assert_eq!(a.error().await["code"], "not_found");
}

#[tokio::test]
async fn reactions_are_idempotent_ordered_and_limited() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_MAX_REACTIONS_PER_MESSAGE", "2")]);
    let (alice, mut a, bob, mut b) = two_in_lobby(&server).await;
    let said = a.say("lobby", "react to me").await;
    b.recv_type("message").await;
    let id = id_of(&said);

    b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": "👍", "on": true})).await;
    let first = b.recv_type("update").await["message"].clone();
    assert_eq!(first["reactions"], json!([{"emoji": "👍", "user_ids": [bob.id]}]));
    assert_eq!(a.recv_type("update").await["message"], first);
    // Again: nothing changes, nothing is sent.
    b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": "👍", "on": true})).await;
    b.expect_no("update", Duration::from_millis(300)).await;
    // Over HTTP, percent-encoded or not.
    let path = format!("/api/rooms/lobby/messages/{id}/reactions");
    assert_eq!(alice.put(&format!("{path}/%F0%9F%91%8D")).await.0, StatusCode::NO_CONTENT);
    let both = a.recv_type("update").await["message"].clone();
    assert_eq!(b.recv_type("update").await["message"], both);
    assert_eq!(both["reactions"], json!([{"emoji": "👍", "user_ids": [bob.id, alice.id]}]));
    assert!(seq_of(&both) > seq_of(&first));
    assert_eq!(alice.put(&format!("{path}/👍")).await.0, StatusCode::NO_CONTENT, "idempotent");
    assert_eq!(alice.put(&format!("{path}/❤️")).await.0, StatusCode::NO_CONTENT);
    let two = a.recv_type("update").await["message"].clone();
    assert_eq!(b.recv_type("update").await["message"], two);
    assert_eq!(two["reactions"][1], json!({"emoji": "❤️", "user_ids": [alice.id]}), "in the order first added");
    // A third distinct emoji is over the limit; another user's existing one is not.
    let (status, body) = alice.put(&format!("{path}/😂")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_request")));
    b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": "😂", "client_id": "k1"})).await;
    let error = b.error().await;
    assert_eq!((error["code"].as_str(), error["client_id"].as_str()), (Some("bad_request"), Some("k1")));
    b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": "❤️"})).await;
    assert_eq!(b.recv_type("update").await["message"]["reactions"][1]["user_ids"], json!([alice.id, bob.id]));
    a.recv_type("update").await;
    // Not one emoji.
    for bad in ["a", "👍👍", "1"] {
        b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": bad, "client_id": "k2"})).await;
        assert_eq!(b.error().await["code"], "bad_request", "{bad:?}");
    }
    assert_eq!(alice.put(&format!("{path}/abc")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Taking back: the emoji goes when its last user does.
    assert_eq!(alice.delete(&format!("{path}/❤️")).await.0, StatusCode::NO_CONTENT);
    a.recv_type("update").await;
    b.recv_type("update").await;
    b.send(json!({"type": "react", "room": "lobby", "message_id": id, "emoji": "❤️", "on": false})).await;
    let last = b.recv_type("update").await["message"].clone();
    assert_eq!(last["reactions"], json!([{"emoji": "👍", "user_ids": [bob.id, alice.id]}]));
    assert_eq!(alice.delete(&format!("{path}/❤️")).await.0, StatusCode::NO_CONTENT, "idempotent");
    a.recv_type("update").await;
    a.expect_no("update", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_rejoin_with_since_gets_new_messages_and_changes_once_each() {
    let server = TestServer::start();
    let (alice, mut a, bob, mut b) = two_in_lobby(&server).await;
    let old = a.say("lobby", "old").await;
    let kept = a.say("lobby", "kept").await;
    let seen = b.recv_type("message").await["message"].clone();
    assert_eq!(b.recv_type("message").await["message"], kept);
    let since = id_of(&kept);
    let _ = seen;
    b.close().await;

    // While bob is away: an edit of an old message, a new message edited too, a reaction.
    let old_path = format!("/api/rooms/lobby/messages/{}", id_of(&old));
    assert_eq!(alice.patch_json(&old_path, &json!({"text": "old, edited"})).await.0, StatusCode::OK);
    let fresh = a.say("lobby", "fresh").await;
    let fresh_path = format!("/api/rooms/lobby/messages/{}", id_of(&fresh));
    assert_eq!(alice.patch_json(&fresh_path, &json!({"text": "fresh, edited"})).await.0, StatusCode::OK);
    assert_eq!(alice.put(&format!("{old_path}/reactions/🎉")).await.0, StatusCode::NO_CONTENT);

    let mut b = bob.ws(&server).await;
    let joined = b.join_since("lobby", since).await;
    let messages = joined["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{joined}");
    assert_eq!(messages[0]["text"], "fresh, edited", "a new message in its current state");
    let updates = joined["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "{joined}");
    assert_eq!((updates[0]["id"].as_i64(), updates[0]["text"].as_str()), (Some(id_of(&old)), Some("old, edited")));
    assert_eq!(updates[0]["reactions"][0]["emoji"], "🎉");
    // Then live, with nothing repeated.
    let next = a.say("lobby", "live").await;
    assert_eq!(b.recv_type("message").await["message"], next);
    b.expect_no("update", Duration::from_millis(300)).await;

    // A cursor at the latest seq is up to date, and one beyond it too.
    let top = seq_of(&next).max(seq_of(&updates[0]));
    for cursor in [top, top + 1_000_000] {
        let mut c = bob.ws(&server).await;
        let joined = c.join_since("lobby", cursor).await;
        assert_eq!((joined["messages"].as_array().unwrap().len(), joined["updates"].as_array().unwrap().len()), (0, 0));
    }
}

#[tokio::test]
async fn an_event_stream_carries_updates_with_their_seq_and_resumes_from_it() {
    let server = TestServer::start();
    let (alice, mut a, bob, _b) = two_in_lobby(&server).await;
    let first = a.say("lobby", "first").await;
    let mut events = bob.sse("rooms=lobby", Some(id_of(&first))).await.expect("a stream");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let path = format!("/api/rooms/lobby/messages/{}", id_of(&first));
    let (_, edited) = alice.patch_json(&path, &json!({"text": "first!"})).await;
    let event = events.next_event(Duration::from_secs(5)).await.expect("an update event");
    assert_eq!(event.event.as_deref(), Some("update"));
    assert_eq!(event.id, Some(seq_of(&edited["message"]).to_string()), "the event id is the seq");
    assert_eq!(serde_json::from_str::<Value>(&event.data).unwrap(), edited["message"]);

    // Away: a new message, then edited; the replay brings it once, as a message at its seq.
    let cursor = seq_of(&edited["message"]);
    drop(events);
    let second = a.say("lobby", "second").await;
    let second_path = format!("/api/rooms/lobby/messages/{}", id_of(&second));
    let (_, second_edited) = alice.patch_json(&second_path, &json!({"text": "second!"})).await;
    assert_eq!(alice.delete(&path).await.0, StatusCode::NO_CONTENT);
    let mut events = bob.sse("rooms=lobby", Some(cursor)).await.expect("a stream");
    let replayed = events.next_event(Duration::from_secs(5)).await.expect("the new message");
    assert_eq!(replayed.event.as_deref(), Some("message"));
    assert_eq!(replayed.id, Some(seq_of(&second_edited["message"]).to_string()));
    assert_eq!(serde_json::from_str::<Value>(&replayed.data).unwrap(), second_edited["message"]);
    let tombstone = events.next_event(Duration::from_secs(5)).await.expect("the delete");
    assert_eq!(tombstone.event.as_deref(), Some("update"));
    let tombstone: Value = serde_json::from_str(&tombstone.data).unwrap();
    assert_eq!((tombstone["id"].as_i64(), tombstone["deleted"].as_bool()), (Some(id_of(&first)), Some(true)));
    assert!(events.next_event(Duration::from_millis(300)).await.is_none(), "nothing twice");
}

#[tokio::test]
async fn deleted_messages_leave_unread_counts_and_the_room_preview() {
    let server = TestServer::start();
    let (alice, mut a, bob, _b) = two_in_lobby(&server).await;
    let kept = a.say("lobby", "kept").await;
    let gone = a.say("lobby", "gone").await;
    let unread = |rooms: &Value| {
        let lobby = rooms["rooms"].as_array().unwrap().iter().find(|r| r["name"] == "lobby").unwrap().clone();
        (lobby["unread"].as_i64().unwrap(), lobby["last_message_id"].as_i64().unwrap())
    };
    // Bob joined before both: they are unread for him.
    assert_eq!(unread(&bob.get_json("/api/rooms").await.1), (2, id_of(&gone)));
    assert_eq!(alice.delete(&format!("/api/rooms/lobby/messages/{}", id_of(&gone))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(unread(&bob.get_json("/api/rooms").await.1), (1, id_of(&kept)));
    // An edit or a reaction does not make a read message unread again.
    assert_eq!(
        bob.post_json("/api/rooms/lobby/read", &json!({"message_id": id_of(&kept)})).await.0,
        StatusCode::NO_CONTENT
    );
    let kept_path = format!("/api/rooms/lobby/messages/{}", id_of(&kept));
    assert_eq!(alice.patch_json(&kept_path, &json!({"text": "kept, edited"})).await.0, StatusCode::OK);
    assert_eq!(alice.put(&format!("{kept_path}/reactions/👍")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(unread(&bob.get_json("/api/rooms").await.1), (0, id_of(&kept)));
}

#[tokio::test]
async fn a_repeated_send_after_an_edit_answers_with_the_current_state() {
    let server = TestServer::start();
    let (alice, mut a, _bob, _b) = two_in_lobby(&server).await;
    a.send(json!({"type": "send", "room": "lobby", "text": "once", "client_id": "same-1"})).await;
    let said = a.recv_type("message").await["message"].clone();
    let path = format!("/api/rooms/lobby/messages/{}", id_of(&said));
    let (_, edited) = alice.patch_json(&path, &json!({"text": "once, edited"})).await;
    a.recv_type("update").await;
    a.send(json!({"type": "send", "room": "lobby", "text": "once", "client_id": "same-1"})).await;
    let again = a.recv_type("message").await["message"].clone();
    assert_eq!(again, edited["message"], "the first copy, as it is now");
    let (_, page) = alice.get_json("/api/rooms/lobby/messages?limit=10").await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "stored once");
}

#[tokio::test]
async fn reply_to_over_http_is_a_whole_number_even_written_with_a_zero_fraction() {
    let server = TestServer::start();
    let alice = server.user().await;
    let (_, first) = alice.post_json("/api/rooms/lobby/messages", &json!({"text": "first", "client_id": "w1"})).await;
    let id = id_of(&first["message"]);
    let (status, body) = alice
        .post_json("/api/rooms/lobby/messages", &json!({"text": "re", "client_id": "w2", "reply_to": id as f64}))
        .await;
    assert_eq!((status, &body["message"]["reply_to"]), (StatusCode::CREATED, &json!(id)), "{body}");
    let (status, body) = alice
        .post_json("/api/rooms/lobby/messages", &json!({"text": "re", "client_id": "w3", "reply_to": id as f64 + 0.5}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");
    let (status, _) =
        alice.post_json("/api/rooms/lobby/messages", &json!({"text": "re", "client_id": "w4", "reply_to": null})).await;
    assert_eq!(status, StatusCode::CREATED, "null is no reply");
}
