//! Rooms with owners and private rooms (docs/protocol.md, "Rooms"): the room object,
//! and a private room that is, to everyone outside it, exactly a room that does not
//! exist, on every route and frame.

use chatroom_testkit as common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn room_in<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["rooms"].as_array().unwrap().iter().find(|r| r["name"] == name)
}

#[tokio::test]
async fn the_room_object_names_its_kind_owner_topic_and_the_callers_role() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let (status, created) = alice.post_json("/api/rooms", &json!({"name": "team"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let room = &created["room"];
    assert_eq!(room["kind"], "public");
    assert_eq!(room["topic"], "");
    assert_eq!(room["owner"], json!({"id": alice.id, "nickname": alice.nickname, "avatar_url": null}));
    assert_eq!(room["role"], "owner");

    let (_, list) = bob.get_json("/api/rooms").await;
    let team = room_in(&list, "team").expect("a public room is listed for everyone");
    assert_eq!((&team["owner"]["id"], &team["role"]), (&json!(alice.id), &Value::Null), "bob is not a member yet");
    let lobby = room_in(&list, "lobby").unwrap();
    assert_eq!(lobby["owner"], Value::Null, "lobby has no owner");
    let mut b = bob.ws(&server).await;
    b.join("team").await;
    let (_, list) = bob.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, "team").unwrap()["role"], "member", "joining makes a member");

    let (status, direct) = alice.post_json("/api/direct", &json!({"nickname": bob.nickname})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((&direct["room"]["kind"], &direct["room"]["owner"]), (&json!("direct"), &Value::Null));
}

#[tokio::test]
async fn a_private_room_is_seen_and_entered_by_its_members_only() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let (status, created) = alice.post_json("/api/rooms", &json!({"name": "secret", "private": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!((&created["room"]["kind"], &created["room"]["role"]), (&json!("private"), &json!("owner")));
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "secret"})).await.0, StatusCode::CONFLICT);

    // The owner lists it, joins it, posts in it.
    let (_, list) = alice.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, "secret").unwrap()["kind"], "private");
    let mut a = alice.ws(&server).await;
    a.join("secret").await;
    let said = a.say("secret", "just us").await;
    assert_eq!(alice.get("/rooms/secret").await.status, StatusCode::OK);

    // Bob gets what a missing room gets, everywhere.
    let (_, list) = bob.get_json("/api/rooms").await;
    assert!(room_in(&list, "secret").is_none(), "not listed for an outsider");
    let id = said["id"].as_i64().unwrap();
    for (room, kind) in [("secret", "private"), ("no-such-room", "missing")] {
        let probes: Vec<(StatusCode, Value)> = vec![
            bob.get_json(&format!("/api/rooms/{room}/messages")).await,
            bob.post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": "hi", "client_id": "p1"})).await,
            bob.post_json(&format!("/api/rooms/{room}/read"), &json!({"message_id": id})).await,
            bob.get_json(&format!("/api/rooms/{room}/messages/{id}")).await,
            bob.patch_json(&format!("/api/rooms/{room}/messages/{id}"), &json!({"text": "x"})).await,
            bob.delete(&format!("/api/rooms/{room}/messages/{id}")).await,
            bob.put(&format!("/api/rooms/{room}/messages/{id}/reactions/👍")).await,
            bob.get_json(&format!("/api/rooms/{room}/messages/{id}/edits")).await,
        ];
        for (status, body) in probes {
            assert_eq!(status, StatusCode::NOT_FOUND, "{kind}: {body}");
            assert_eq!(body["error"], json!({"code": "not_found", "message": "there is no such room"}), "{kind}");
        }
        assert_eq!(bob.get(&format!("/rooms/{room}")).await.status, StatusCode::NOT_FOUND, "{kind} page");
        let (status, _) = bob.sse(&format!("rooms={room}"), None).await.err().expect("no stream");
        assert_eq!(status, StatusCode::NOT_FOUND, "{kind} stream");
    }
    let mut b = bob.ws(&server).await;
    for frame in [
        json!({"type": "join", "room": "secret"}),
        json!({"type": "send", "room": "secret", "text": "hi", "client_id": "w1"}),
        json!({"type": "history", "room": "secret"}),
        json!({"type": "edit", "room": "secret", "message_id": id, "text": "x"}),
    ] {
        b.send(frame.clone()).await;
        let error = b.error().await;
        let missing = {
            let mut probe = frame.clone();
            probe["room"] = json!("no-such-room");
            b.send(probe).await;
            b.error().await
        };
        assert_eq!(error["code"], "not_found", "{frame}: {error}");
        assert_eq!(error["message"], missing["message"], "{frame}: as for a missing room");
    }
    assert!(a.try_recv(std::time::Duration::from_millis(300)).await.is_none(), "nothing reached the room");

    // A member (invites come next; here the database makes one) gets in.
    server.db.execute(&format!(
        "INSERT INTO room_members (room_id, user_id, joined_at, last_read_message_id, role) \
         SELECT id, {}, created_at, 0, 'member' FROM rooms WHERE name = 'secret'",
        bob.id
    ));
    let joined = b.join("secret").await;
    assert_eq!(joined["messages"][0]["text"], "just us");
    let (_, list) = bob.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, "secret").unwrap()["role"], "member");
}

#[tokio::test]
async fn the_create_form_makes_a_private_room() {
    let server = TestServer::start();
    let mut alice = server.client();
    alice.register_fresh().await;
    let page = alice.submit("/rooms", "/rooms", &[("name", "quiet-corner"), ("private", "on")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let (_, list) = alice.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, "quiet-corner").unwrap()["kind"], "private");
    let bob = server.user().await;
    let (_, list) = bob.get_json("/api/rooms").await;
    assert!(room_in(&list, "quiet-corner").is_none());
    assert!(!bob.get("/rooms").await.body.contains("quiet-corner"), "not on an outsider's room list page");
}

#[tokio::test]
async fn the_owner_makes_moderators_who_delete_any_message() {
    let server = TestServer::start();
    let (alice, bob, carol) = (server.user().await, server.user().await, server.user().await);
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "club"})).await.0, StatusCode::CREATED);
    let mut b = bob.ws(&server).await;
    let mut c = carol.ws(&server).await;
    b.join("club").await;
    c.join("club").await;
    let said = c.say("club", "carol's words").await;
    b.recv_type("message").await;
    let path = format!("/api/rooms/club/messages/{}", said["id"]);
    let role = |user: i64| format!("/api/rooms/club/members/{user}/role");

    // Bob, a member, may neither delete carol's message nor give roles.
    assert_eq!(bob.delete(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(bob.put_json(&role(carol.id), &json!({"role": "moderator"})).await.0, StatusCode::FORBIDDEN);
    // The owner makes bob a moderator: everyone in the room hears of it.
    assert_eq!(alice.put_json(&role(bob.id), &json!({"role": "moderator"})).await.0, StatusCode::NO_CONTENT);
    let frame = c.recv_type("role").await;
    assert_eq!(
        frame,
        json!({"type": "role", "room": "club", "user": {"id": bob.id, "nickname": bob.nickname, "avatar_url": null}, "role": "moderator"})
    );
    assert_eq!(b.recv_type("role").await, frame);
    let (_, list) = bob.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, "club").unwrap()["role"], "moderator");
    // The same role again changes nothing and sends nothing.
    assert_eq!(alice.put_json(&role(bob.id), &json!({"role": "moderator"})).await.0, StatusCode::NO_CONTENT);
    c.expect_no("role", std::time::Duration::from_millis(300)).await;
    // Now bob deletes carol's message.
    assert_eq!(bob.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(c.recv_type("update").await["message"]["deleted"], true);
    // What cannot be given or changed.
    assert_eq!(
        alice.put_json(&role(alice.id), &json!({"role": "member"})).await.0,
        StatusCode::FORBIDDEN,
        "the owner stays owner"
    );
    assert_eq!(alice.put_json(&role(carol.id), &json!({"role": "owner"})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let stranger = server.user().await;
    assert_eq!(
        alice.put_json(&role(stranger.id), &json!({"role": "moderator"})).await.0,
        StatusCode::NOT_FOUND,
        "not a member"
    );
    assert_eq!(
        alice.put_json("/api/rooms/club/members/abc/role", &json!({"role": "moderator"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(alice.put_json(&role(bob.id), &json!({"role": "member"})).await.0, StatusCode::NO_CONTENT);
    assert_eq!(c.recv_type("role").await["role"], "member");
    let again = c.say("club", "again").await;
    assert_eq!(
        bob.delete(&format!("/api/rooms/club/messages/{}", again["id"])).await.0,
        StatusCode::FORBIDDEN,
        "a member again"
    );
}

#[tokio::test]
async fn the_member_list_shows_roles_and_who_is_online() {
    let server = TestServer::start();
    let (alice, bob, carol) = (server.user().await, server.user().await, server.user().await);
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "den", "private": true})).await.0, StatusCode::CREATED);
    let (status, list) = alice.get_json("/api/rooms/den/members").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!({"members": [{
            "id": alice.id, "nickname": alice.nickname, "avatar_url": null, "role": "owner", "online": false,
            "muted_until": null
        }]})
    );
    assert_eq!(carol.get_json("/api/rooms/den/members").await.0, StatusCode::NOT_FOUND, "a private room's outsider");

    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "yard"})).await.0, StatusCode::CREATED);
    let mut b = bob.ws(&server).await;
    b.join("yard").await;
    let (_, list) = carol.get_json("/api/rooms/yard/members").await;
    let members = list["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!((members[0]["id"].as_i64(), members[0]["online"].as_bool()), (Some(alice.id), Some(false)));
    assert_eq!((&members[1]["role"], &members[1]["online"]), (&json!("member"), &json!(true)), "bob is in it now");
    let (_, page) = carol.get_json(&format!("/api/rooms/yard/members?after={}", alice.id)).await;
    assert_eq!(page["members"].as_array().unwrap().len(), 1);
    assert_eq!(carol.get_json("/api/rooms/yard/members?after=-1").await.0, StatusCode::BAD_REQUEST);
}
