//! Moderation (docs/protocol.md, "Moderation"): every rule from both sides, allowed and
//! refused, and each action's effect on live connections, on one node. The same rules
//! across nodes are in tests/cluster.rs; the rules alone in src/permissions.rs.

use chatroom_testkit as common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const QUIET: Duration = Duration::from_millis(300);

fn room_in<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["rooms"].as_array().unwrap().iter().find(|r| r["name"] == name)
}

/// A room owned by `owner` with `moderator` as its moderator; returns its name.
async fn room_with_moderator(owner: &Client, moderator: &Client, server: &TestServer, private: bool) -> String {
    let name = format!("r{}", unique());
    let (status, body) = owner.post_json("/api/rooms", &json!({"name": name, "private": private})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    if private {
        let invite = invite(owner, &name).await;
        assert_eq!(
            moderator.post_json(&format!("/api/invites/{}", invite["code"].as_str().unwrap()), &json!({})).await.0,
            StatusCode::OK
        );
    } else {
        moderator.ws(server).await.join(&name).await;
    }
    let role = format!("/api/rooms/{name}/members/{}/role", moderator.id);
    assert_eq!(owner.put_json(&role, &json!({"role": "moderator"})).await.0, StatusCode::NO_CONTENT);
    name
}

async fn invite(by: &Client, room: &str) -> Value {
    let (status, body) = by.post_json(&format!("/api/rooms/{room}/invites"), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["invite"].clone()
}

async fn mute(by: &Client, room: &str, who: &Client, minutes: i64) -> StatusCode {
    by.post_json(&format!("/api/rooms/{room}/mutes"), &json!({"user_id": who.id, "minutes": minutes})).await.0
}

async fn ban(by: &Client, room: &str, who: &Client, reason: &str) -> StatusCode {
    by.post_json(&format!("/api/rooms/{room}/bans"), &json!({"user_id": who.id, "reason": reason})).await.0
}

async fn log_actions(by: &Client, room: &str) -> Vec<Value> {
    let (status, body) = by.get_json(&format!("/api/rooms/{room}/moderation")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["actions"].as_array().unwrap().clone()
}

/// Sends over the socket and returns the error frame that answers it.
async fn refused(ws: &mut Ws, frame: Value) -> Value {
    ws.send(frame).await;
    ws.error().await
}

#[tokio::test]
async fn a_mute_refuses_writing_until_it_ends_and_tells_the_muted_user() {
    let server = TestServer::start();
    let (owner, moderator, member) = (server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, false).await;
    let mut m = member.ws(&server).await;
    m.join(&room).await;
    let mine = m.say(&room, "before the mute").await;

    assert_eq!(mute(&moderator, &room, &member, 10).await, StatusCode::NO_CONTENT);
    let notice = m.recv_type("muted").await;
    assert_eq!(notice["room"], room.as_str());
    let until = notice["until"].as_str().expect("an end time").to_owned();

    // Sends, edits and reactions are refused everywhere, with the end time.
    let error = refused(&mut m, json!({"type": "send", "room": room, "text": "hi", "client_id": "m1"})).await;
    assert_eq!((&error["code"], &error["client_id"]), (&json!("forbidden"), &json!("m1")));
    assert!(error["message"].as_str().unwrap().contains(&until), "{error}");
    let id = mine["id"].as_i64().unwrap();
    let error = refused(&mut m, json!({"type": "edit", "room": room, "message_id": id, "text": "x"})).await;
    assert_eq!(error["code"], "forbidden");
    let error = refused(&mut m, json!({"type": "react", "room": room, "message_id": id, "emoji": "👍"})).await;
    assert_eq!(error["code"], "forbidden");
    let (status, body) = member
        .post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": "over http", "client_id": "h1"}))
        .await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::FORBIDDEN, &json!("forbidden")));
    assert!(body["error"]["message"].as_str().unwrap().contains("muted"), "{body}");
    assert_eq!(member.put(&format!("/api/rooms/{room}/messages/{id}/reactions/👍")).await.0, StatusCode::FORBIDDEN);
    // Reading goes on, and so does deleting one's own message.
    assert_eq!(member.get_json(&format!("/api/rooms/{room}/messages")).await.0, StatusCode::OK);
    assert_eq!(member.delete(&format!("/api/rooms/{room}/messages/{id}")).await.0, StatusCode::NO_CONTENT);
    // A new connection learns of it in `joined`; the member list and mutes list show it.
    let mut again = member.ws(&server).await;
    assert_eq!(again.join(&room).await["muted_until"], until.as_str());
    let (_, members) = owner.get_json(&format!("/api/rooms/{room}/members")).await;
    let listed = members["members"].as_array().unwrap().iter().find(|x| x["id"] == member.id).unwrap().clone();
    assert_eq!(listed["muted_until"], until.as_str());
    let (_, mutes) = moderator.get_json(&format!("/api/rooms/{room}/mutes")).await;
    assert_eq!(mutes["sanctions"][0]["user"]["id"], member.id);
    assert_eq!(mutes["sanctions"][0]["by"]["id"], moderator.id);

    // Unmuted early: writing works again, and the connections hear of it.
    assert_eq!(moderator.delete(&format!("/api/rooms/{room}/mutes/{}", member.id)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(m.recv_type("muted").await["until"], Value::Null);
    m.say(&room, "free again").await;
    assert!(again.join(&room).await.get("muted_until").is_none());

    // A mute lifts by itself when its time is up (here: moved into the past).
    assert_eq!(mute(&owner, &room, &member, 1).await, StatusCode::NO_CONTENT);
    m.recv_type("muted").await;
    let error = refused(&mut m, json!({"type": "send", "room": room, "text": "still?", "client_id": "m2"})).await;
    assert_eq!(error["code"], "forbidden");
    server.db.execute(&format!(
        "UPDATE room_sanctions SET until = '2020-01-01 00:00:00.000' WHERE user_id = {} AND kind = 'mute'",
        member.id
    ));
    m.say(&room, "the minute passed").await;

    let actions: Vec<String> =
        log_actions(&owner, &room).await.iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["mute", "unmute", "mute", "make_moderator"], "newest first");
}

#[tokio::test]
async fn who_may_mute_and_ban_whom() {
    let server = TestServer::start();
    let (owner, moderator, member, other) =
        (server.user().await, server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, false).await;
    let second_moderator = server.user().await;
    second_moderator.ws(&server).await.join(&room).await;
    let role = format!("/api/rooms/{room}/members/{}/role", second_moderator.id);
    assert_eq!(owner.put_json(&role, &json!({"role": "moderator"})).await.0, StatusCode::NO_CONTENT);
    member.ws(&server).await.join(&room).await;

    for (who, target, expected, why) in [
        (&member, &other, StatusCode::FORBIDDEN, "a member moderates nobody"),
        (&moderator, &owner, StatusCode::FORBIDDEN, "nobody acts on the owner"),
        (&moderator, &second_moderator, StatusCode::FORBIDDEN, "moderators do not act on moderators"),
        (&moderator, &moderator, StatusCode::FORBIDDEN, "nor on themselves"),
        (&owner, &owner, StatusCode::FORBIDDEN, "the owner neither"),
        (&moderator, &member, StatusCode::NO_CONTENT, "a moderator mutes a member"),
        (&owner, &second_moderator, StatusCode::NO_CONTENT, "the owner mutes a moderator"),
        (&moderator, &other, StatusCode::NO_CONTENT, "someone who never came in"),
    ] {
        assert_eq!(mute(who, &room, target, 5).await, expected, "mute: {why}");
        assert_eq!(ban(who, &room, target, "").await, expected, "ban: {why}");
    }
    // Bad input.
    let path = format!("/api/rooms/{room}/mutes");
    for minutes in [0, 43_201, -5] {
        let (status, body) = owner.post_json(&path, &json!({"user_id": member.id, "minutes": minutes})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{minutes}: {body}");
    }
    assert_eq!(owner.post_json(&path, &json!({"user_id": 987_654_321, "minutes": 5})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(owner.post_json(&path, &json!({"user_id": "x", "minutes": 5})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(owner.post_json(&path, &json!({"minutes": 5})).await.0, StatusCode::BAD_REQUEST);
    let long = "x".repeat(201);
    let bans = format!("/api/rooms/{room}/bans");
    assert_eq!(
        owner.post_json(&bans, &json!({"user_id": member.id, "reason": long})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        owner.post_json(&bans, &json!({"user_id": member.id, "minutes": 0})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(owner.delete(&format!("/api/rooms/{room}/mutes/abc")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(member.delete(&format!("/api/rooms/{room}/bans/{}", other.id)).await.0, StatusCode::FORBIDDEN);
    // Only moderators read the lists and the log.
    for path in ["mutes", "bans", "moderation", "invites"] {
        assert_eq!(member.get_json(&format!("/api/rooms/{room}/{path}")).await.0, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(moderator.get_json(&format!("/api/rooms/{room}/{path}")).await.0, StatusCode::OK, "{path}");
    }
    // Nobody moderates a direct room.
    let (_, direct) = member.post_json("/api/direct", &json!({"nickname": other.nickname})).await;
    let dm = direct["room"]["name"].as_str().unwrap();
    assert_eq!(mute(&member, dm, &other, 5).await, StatusCode::FORBIDDEN);
    assert_eq!(member.post_json(&format!("/api/rooms/{dm}/invites"), &json!({})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(member.delete(&format!("/api/rooms/{dm}")).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_ban_takes_the_user_out_of_the_room_on_every_connection_and_shuts_everything() {
    let server = TestServer::start();
    let (owner, moderator, banned) = (server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, false).await;
    let mut first = banned.ws(&server).await;
    let mut second = banned.ws(&server).await;
    first.join(&room).await;
    second.join(&room).await;
    first.join("lobby").await;
    let said = first.say(&room, "spam").await;
    let id = said["id"].as_i64().unwrap();
    let mut stream = banned.sse(&format!("rooms={room}"), None).await.expect("a stream");
    let mut both = banned.sse(&format!("rooms={room},lobby"), None).await.expect("a stream");
    let mut watcher = owner.ws(&server).await;
    watcher.join(&room).await;

    assert_eq!(ban(&moderator, &room, &banned, "spamming").await, StatusCode::NO_CONTENT);
    for ws in [&mut first, &mut second] {
        let removed = ws.recv_type("removed").await;
        assert_eq!(removed, json!({"type": "removed", "room": room, "reason": "spamming", "cause": "banned"}));
    }
    // The stream that followed only this room ends after telling why; the other stays.
    let event = stream.next_event(FRAME_WAIT).await.expect("an event");
    assert_eq!(event.event.as_deref(), Some("removed"));
    assert_eq!(event.id, None, "no position to resume from");
    assert_eq!(serde_json::from_str::<Value>(&event.data).unwrap()["cause"], "banned");
    assert!(stream.ends_within(FRAME_WAIT).await, "the stream ends");
    assert_eq!(both.next_event(FRAME_WAIT).await.expect("an event").event.as_deref(), Some("removed"));
    let lobby = owner.post_json("/api/rooms/lobby/messages", &json!({"text": "still here?", "client_id": "l1"})).await;
    assert_eq!(lobby.0, StatusCode::CREATED);
    assert_eq!(both.message().await["text"], "still here?", "the lobby's stream goes on");
    assert_eq!(first.recv_type("message").await["message"]["room"], "lobby", "so does the lobby on the socket");
    // The room carries on without them: a message there does not reach them.
    watcher.say(&room, "after the ban").await;
    first.expect_no("message", QUIET).await;

    // Everything about the room is forbidden to them now, over every transport.
    for frame in [
        json!({"type": "join", "room": room}),
        json!({"type": "send", "room": room, "text": "again", "client_id": "b1"}),
        json!({"type": "history", "room": room}),
        json!({"type": "read", "room": room, "message_id": id}),
    ] {
        let error = refused(&mut first, frame.clone()).await;
        assert_eq!(error["code"], "forbidden", "{frame}: {error}");
    }
    let probes = [
        banned.get_json(&format!("/api/rooms/{room}")).await,
        banned.get_json(&format!("/api/rooms/{room}/messages")).await,
        banned.post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": "x", "client_id": "b2"})).await,
        banned.post_json(&format!("/api/rooms/{room}/read"), &json!({"message_id": id})).await,
        banned.get_json(&format!("/api/rooms/{room}/members")).await,
        banned.put(&format!("/api/rooms/{room}/messages/{id}/reactions/👍")).await,
        banned.get_json(&format!("/api/rooms/{room}/messages/{id}")).await,
    ];
    for (status, body) in probes {
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], json!({"code": "forbidden", "message": "you are banned from this room"}));
    }
    assert_eq!(banned.get(&format!("/rooms/{room}")).await.status, StatusCode::FORBIDDEN, "the page");
    assert_eq!(banned.sse(&format!("rooms={room}"), None).await.err().unwrap().0, StatusCode::FORBIDDEN);
    let (_, list) = banned.get_json("/api/rooms").await;
    assert!(room_in(&list, &room).is_none(), "the room leaves their list");
    let (_, members) = owner.get_json(&format!("/api/rooms/{room}/members")).await;
    assert!(!members["members"].as_array().unwrap().iter().any(|m| m["id"] == banned.id), "no longer a member");
    let code = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    assert_eq!(banned.post_json(&format!("/api/invites/{code}"), &json!({})).await.0, StatusCode::FORBIDDEN);
    let (_, bans) = owner.get_json(&format!("/api/rooms/{room}/bans")).await;
    assert_eq!(
        (&bans["sanctions"][0]["user"]["id"], &bans["sanctions"][0]["reason"]),
        (&json!(banned.id), &json!("spamming"))
    );
    let logged = &log_actions(&owner, &room).await[1];
    assert_eq!((&logged["action"], &logged["reason"]), (&json!("ban"), &json!("spamming")));
    assert_eq!((&logged["actor"]["id"], &logged["target"]["id"]), (&json!(moderator.id), &json!(banned.id)));

    // Unbanned, they may come back to a public room.
    assert_eq!(moderator.delete(&format!("/api/rooms/{room}/bans/{}", banned.id)).await.0, StatusCode::NO_CONTENT);
    let joined = first.join(&room).await;
    assert!(joined["messages"].as_array().unwrap().iter().any(|m| m["text"] == "after the ban"));
    first.say(&room, "sorry").await;
}

#[tokio::test]
async fn a_ban_with_an_end_lifts_by_itself_and_a_private_room_needs_a_new_invite() {
    let server = TestServer::start();
    let (owner, guest) = (server.user().await, server.user().await);
    let room = format!("p{}", unique());
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": room, "private": true})).await.0, StatusCode::CREATED);
    let code = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    assert_eq!(guest.post_json(&format!("/api/invites/{code}"), &json!({})).await.0, StatusCode::OK);
    let bans = format!("/api/rooms/{room}/bans");
    assert_eq!(owner.post_json(&bans, &json!({"user_id": guest.id, "minutes": 60})).await.0, StatusCode::NO_CONTENT);
    let (status, body) = guest.get_json(&format!("/api/rooms/{room}/messages")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a private room answers 403, not 404, to the banned: {body}");
    server.db.execute("UPDATE room_sanctions SET until = '2020-01-01 00:00:00.000' WHERE kind = 'ban'");
    let (status, _) = guest.get_json(&format!("/api/rooms/{room}/messages")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the ban is over, and the membership with it");
    let code = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    assert_eq!(guest.post_json(&format!("/api/invites/{code}"), &json!({})).await.0, StatusCode::OK);
    assert_eq!(guest.get_json(&format!("/api/rooms/{room}/messages")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn invites_let_people_into_a_private_room_within_their_uses_and_time() {
    let server = TestServer::start();
    let (owner, moderator, member) = (server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, true).await;
    let code = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    assert_eq!(member.post_json(&format!("/api/invites/{code}"), &json!({})).await.0, StatusCode::OK);
    // A member may not make invites; a moderator may, with their own uses and time.
    assert_eq!(member.post_json(&format!("/api/rooms/{room}/invites"), &json!({})).await.0, StatusCode::FORBIDDEN);
    let (status, made) =
        moderator.post_json(&format!("/api/rooms/{room}/invites"), &json!({"max_uses": 2, "hours": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let made = &made["invite"];
    let code = made["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 22);
    assert_eq!(made["uses_left"], 2);
    assert_eq!(made["url"], format!("{}/invite/{code}", server.url("")).as_str());
    assert!(made["expires_at"].as_str().unwrap().ends_with('Z'));
    // The database holds no usable code.
    let dump = server.db.query_strings("SELECT code_hash AS value FROM room_invites").join(" ")
        + &server.db.query_strings("SELECT nonce AS value FROM room_invites").join(" ");
    assert!(!dump.contains(&code), "the code is not stored");

    let (first, second, third) = (server.user().await, server.user().await, server.user().await);
    let (status, joined) = first.post_json(&format!("/api/invites/{code}"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!((&joined["room"]["name"], &joined["room"]["role"]), (&json!(room), &json!("member")));
    assert_eq!(first.post_json(&format!("/api/invites/{code}"), &json!({})).await.0, StatusCode::OK, "again: no use");
    let (_, list) = owner.get_json(&format!("/api/rooms/{room}/invites")).await;
    let listed = list["invites"].as_array().unwrap().iter().find(|i| i["code"] == code.as_str()).unwrap().clone();
    assert_eq!((&listed["uses_left"], &listed["created_by"]["id"]), (&json!(1), &json!(moderator.id)));
    assert_eq!(second.post(&format!("/api/invites/{code}")).await.0, StatusCode::OK, "an empty body will do");
    let (status, body) = third.post_json(&format!("/api/invites/{code}"), &json!({})).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &json!("not_found")), "used up");
    assert_eq!(third.get_json(&format!("/api/rooms/{room}/messages")).await.0, StatusCode::NOT_FOUND);
    let mut w = first.ws(&server).await;
    w.join(&room).await;
    w.say(&room, "in by invite").await;

    // Expired and revoked codes are dead; so is anything that is not a code.
    let expiring = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    server.db.execute("UPDATE room_invites SET expires_at = '2020-01-01 00:00:00.000'");
    assert_eq!(third.post_json(&format!("/api/invites/{expiring}"), &json!({})).await.0, StatusCode::NOT_FOUND);
    let revoked = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    assert_eq!(member.delete(&format!("/api/invites/{revoked}")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(moderator.delete(&format!("/api/invites/{revoked}")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(third.post_json(&format!("/api/invites/{revoked}"), &json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(moderator.delete(&format!("/api/invites/{revoked}")).await.0, StatusCode::NOT_FOUND);
    for bogus in ["nope", "AAAAAAAAAAAAAAAAAAAAAA", "%2e%2e"] {
        assert_eq!(third.post_json(&format!("/api/invites/{bogus}"), &json!({})).await.0, StatusCode::NOT_FOUND);
    }
    for body in [json!([null]), json!("x"), json!({"max_uses": "many"})] {
        let status = owner.post_json(&format!("/api/rooms/{room}/invites"), &body).await.0;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    for body in [json!({"max_uses": 0}), json!({"max_uses": 1001}), json!({"hours": 0}), json!({"hours": 721})] {
        let status = owner.post_json(&format!("/api/rooms/{room}/invites"), &body).await.0;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let actions: Vec<Value> = log_actions(&owner, &room).await.iter().map(|a| a["action"].clone()).collect();
    assert_eq!(actions.iter().filter(|a| *a == "create_invite").count(), 5);
    assert_eq!(actions[0], "revoke_invite");
}

#[tokio::test]
async fn the_invite_page_sends_a_visitor_to_log_in_and_back_then_joins() {
    let server = TestServer::start();
    let owner = server.user().await;
    let room = format!("p{}", unique());
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": room, "private": true})).await.0, StatusCode::CREATED);
    let (_, topic) = owner.patch_json(&format!("/api/rooms/{room}"), &json!({"topic": "Release planning"})).await;
    assert_eq!(topic["room"]["topic"], "Release planning");
    let code = invite(&owner, &room).await["code"].as_str().unwrap().to_owned();
    let path = format!("/invite/{code}");

    // Someone with an account but logged out.
    let visitor = server.user().await;
    let phone = visitor.phone.clone();
    let logout_form = visitor.get("/rooms").await;
    visitor.post_form("/logout", &[("csrf_token", &logout_form.csrf())]).await;
    let page = visitor.get(&path).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let login = page.location().unwrap().to_owned();
    assert_eq!(login, format!("/login?next=%2Finvite%2F{code}"));
    let form = visitor.get(&login).await;
    // (Tera escapes `/` as `&#x2F;` in attributes; a browser reads it back as `/`.)
    assert!(form.body.contains(&format!(r#"name="next" value="&#x2F;invite&#x2F;{code}""#)), "the form keeps next");
    let logged_in = visitor
        .post_form(
            "/login",
            &[("csrf_token", &form.csrf()), ("phone", &phone), ("password", PASSWORD), ("next", &path)],
        )
        .await;
    assert_eq!((logged_in.status, logged_in.location()), (StatusCode::SEE_OTHER, Some(path.as_str())), "and back");
    let page = visitor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&room) && page.body.contains("Release planning"), "the room's name and topic");
    let joined = visitor.post_form(&path, &[("csrf_token", &page.csrf())]).await;
    assert_eq!((joined.status, joined.location()), (StatusCode::SEE_OTHER, Some(format!("/rooms/{room}").as_str())));
    assert_eq!(visitor.get(&format!("/rooms/{room}")).await.status, StatusCode::OK);
    assert!(visitor.get(&path).await.body.contains("already a member"));
    assert_eq!(visitor.post_form(&path, &[("csrf_token", "wrong")]).await.status, StatusCode::FORBIDDEN, "CSRF");

    // A dead code is a 404 page; a next that leaves the site is ignored.
    assert_eq!(visitor.get("/invite/AAAAAAAAAAAAAAAAAAAAAA").await.status, StatusCode::NOT_FOUND);
    let mut stranger = server.client();
    let newcomer = fresh_phone();
    let form = stranger.get("/register?next=//evil.example").await;
    assert!(!form.body.contains("evil.example"));
    let registered = stranger.register(&newcomer, &fresh_nickname(), PASSWORD).await;
    assert_eq!(registered.location(), Some("/rooms"));
}

#[tokio::test]
async fn the_topic_reaches_everyone_in_the_room() {
    let server = TestServer::start();
    let (owner, moderator, member) = (server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, false).await;
    let mut m = member.ws(&server).await;
    m.join(&room).await;
    let path = format!("/api/rooms/{room}");
    assert_eq!(member.patch_json(&path, &json!({"topic": "mine now"})).await.0, StatusCode::FORBIDDEN);
    let (status, body) = moderator.patch_json(&path, &json!({"topic": "  Ship it  "})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["room"]["topic"], &body["room"]["role"]), (&json!("Ship it"), &json!("moderator")));
    let frame = m.recv_type("room").await;
    assert_eq!(frame["room"]["name"], room.as_str());
    assert_eq!(frame["room"]["topic"], "Ship it");
    assert_eq!(frame["room"]["owner"]["id"], owner.id);
    assert_eq!(member.get_json(&path).await.1["room"]["topic"], "Ship it");
    let (_, list) = member.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, &room).unwrap()["topic"], "Ship it");
    // The same topic again changes nothing and sends nothing.
    assert_eq!(moderator.patch_json(&path, &json!({"topic": "Ship it"})).await.0, StatusCode::OK);
    m.expect_no("room", QUIET).await;
    for bad in [json!({"topic": "x".repeat(201)}), json!({"topic": "two\nlines"})] {
        assert_eq!(owner.patch_json(&path, &bad).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(owner.patch_json(&path, &json!({})).await.0, StatusCode::BAD_REQUEST);
    let logged = &log_actions(&owner, &room).await[0];
    assert_eq!((&logged["action"], &logged["detail"]), (&json!("topic"), &json!("Ship it")));
}

#[tokio::test]
async fn deleting_a_room_ends_it_for_everyone_and_frees_its_name() {
    let server = TestServer::start();
    let (owner, moderator, member) = (server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, false).await;
    let mut m = member.ws(&server).await;
    m.join(&room).await;
    m.say(&room, "soon gone").await;
    let mut stream = member.sse(&format!("rooms={room}"), None).await.expect("a stream");
    let path = format!("/api/rooms/{room}");
    assert_eq!(member.delete(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(moderator.delete(&path).await.0, StatusCode::FORBIDDEN, "the owner's alone");
    assert_eq!(owner.delete(&path).await.0, StatusCode::NO_CONTENT);
    let removed = m.recv_type("removed").await;
    assert_eq!(removed["cause"], "deleted");
    assert_eq!(stream.next_event(FRAME_WAIT).await.unwrap().event.as_deref(), Some("removed"));
    assert!(stream.ends_within(FRAME_WAIT).await);
    assert_eq!(member.get_json(&format!("{path}/messages")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(refused(&mut m, json!({"type": "join", "room": room})).await["code"], "not_found");
    let (_, list) = member.get_json("/api/rooms").await;
    assert!(room_in(&list, &room).is_none());
    assert_eq!(owner.delete(&path).await.0, StatusCode::NOT_FOUND);

    // The name is free; the new room starts empty, and the old room's joiners see it.
    assert_eq!(member.post_json("/api/rooms", &json!({"name": room})).await.0, StatusCode::CREATED);
    let joined = m.join(&room).await;
    assert_eq!(joined["messages"], json!([]));
    m.say(&room, "a new start").await;
    let (_, list) = member.get_json("/api/rooms").await;
    assert_eq!(room_in(&list, &room).unwrap()["owner"]["id"], member.id);
    // The lobby stays.
    assert_eq!(owner.delete("/api/rooms/lobby").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_administrator_acts_as_owner_everywhere_and_disables_accounts() {
    let server = TestServer::start();
    let (admin, owner, troll) = (server.user().await, server.user().await, server.user().await);
    let (status, out, err) = server.run(&["admin", "grant", &admin.phone]);
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("is an administrator"), "{out}");
    let (status, _, err) = server.run(&["admin", "grant", "+8613999999999"]);
    assert!(!status.success() && err.contains("nobody is registered"), "{err}");

    // Not a member anywhere, yet owner everywhere: the lobby, and someone's private room.
    let mut t = troll.ws(&server).await;
    t.join("lobby").await;
    assert_eq!(mute(&admin, "lobby", &troll, 5).await, StatusCode::NO_CONTENT);
    let error = refused(&mut t, json!({"type": "send", "room": "lobby", "text": "x", "client_id": "t1"})).await;
    assert_eq!(error["code"], "forbidden");
    let room = format!("p{}", unique());
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": room, "private": true})).await.0, StatusCode::CREATED);
    assert_eq!(admin.get_json(&format!("/api/rooms/{room}/messages")).await.0, StatusCode::OK);
    assert_eq!(admin.patch_json(&format!("/api/rooms/{room}"), &json!({"topic": "moderated"})).await.0, StatusCode::OK);
    assert_eq!(mute(&admin, &room, &owner, 5).await, StatusCode::FORBIDDEN, "but never on the owner");
    // A plain user does none of it.
    assert_eq!(mute(&troll, "lobby", &admin, 5).await, StatusCode::FORBIDDEN);
    let disable = |id: i64| format!("/api/admin/users/{id}/disable");
    assert_eq!(troll.post(&disable(owner.id)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(admin.post(&disable(admin.id)).await.0, StatusCode::FORBIDDEN, "not yourself");
    assert_eq!(admin.post(&disable(987_654_321)).await.0, StatusCode::NOT_FOUND);

    // Disabled: every session ends and every socket and stream closes at once.
    let mut stream = troll.sse("rooms=lobby", None).await.expect("a stream");
    let second_device = troll.another_login(&server).await;
    assert_eq!(admin.post(&disable(troll.id)).await.0, StatusCode::NO_CONTENT);
    assert!(t.closes_within(FRAME_WAIT).await, "the socket closes");
    assert!(stream.ends_within(FRAME_WAIT).await, "the stream ends");
    assert_eq!(troll.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(second_device.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = troll.api_login(&troll.phone, PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "wrong phone number or password", "nothing tells it apart");
    assert_eq!(admin.post(&format!("/api/admin/users/{}/enable", troll.id)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(troll.api_login(&troll.phone, PASSWORD).await.0, StatusCode::OK);

    let (status, out, _) = server.run(&["admin", "revoke", &admin.phone]);
    assert!(status.success() && out.contains("no longer"), "{out}");
    assert_eq!(
        admin.get_json(&format!("/api/rooms/{room}/messages")).await.0,
        StatusCode::NOT_FOUND,
        "an outsider again"
    );
}

#[tokio::test]
async fn a_moderators_delete_of_someone_elses_message_is_logged() {
    let server = TestServer::start();
    let (owner, moderator, member) = (server.user().await, server.user().await, server.user().await);
    let room = room_with_moderator(&owner, &moderator, &server, false).await;
    let mut m = member.ws(&server).await;
    m.join(&room).await;
    let said = m.say(&room, "rude words").await;
    let mine = moderator.post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": "mine"})).await.1;
    assert_eq!(moderator.delete(&format!("/api/rooms/{room}/messages/{}", said["id"])).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        moderator.delete(&format!("/api/rooms/{room}/messages/{}", mine["message"]["id"])).await.0,
        StatusCode::NO_CONTENT
    );
    let actions = log_actions(&owner, &room).await;
    let deletes: Vec<&Value> = actions.iter().filter(|a| a["action"] == "delete_message").collect();
    assert_eq!(deletes.len(), 1, "one's own message is not moderation");
    assert_eq!(deletes[0]["target"]["id"], member.id);
    assert_eq!(deletes[0]["detail"], said["id"].to_string().as_str());
    // Paging: newest first, `before` an entry id.
    let (_, page) = owner.get_json(&format!("/api/rooms/{room}/moderation?limit=1")).await;
    let newest = page["actions"][0]["id"].as_i64().unwrap();
    let (_, older) = owner.get_json(&format!("/api/rooms/{room}/moderation?limit=1&before={newest}")).await;
    assert!(older["actions"][0]["id"].as_i64().unwrap() < newest);
    assert_eq!(owner.get_json(&format!("/api/rooms/{room}/moderation?limit=0")).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_outsider_probing_a_private_room_gets_what_a_missing_room_gets_on_the_moderation_routes() {
    let server = TestServer::start();
    let (owner, outsider) = (server.user().await, server.user().await);
    assert_eq!(owner.post_json("/api/rooms", &json!({"name": "hidden", "private": true})).await.0, StatusCode::CREATED);
    for room in ["hidden", "no-such-room"] {
        let answers = [
            outsider.get_json(&format!("/api/rooms/{room}")).await,
            outsider.patch_json(&format!("/api/rooms/{room}"), &json!({"topic": "x".repeat(500)})).await,
            outsider.delete(&format!("/api/rooms/{room}")).await,
            outsider.post_json(&format!("/api/rooms/{room}/mutes"), &json!({"user_id": owner.id, "minutes": 0})).await,
            outsider.get_json(&format!("/api/rooms/{room}/mutes")).await,
            outsider.delete(&format!("/api/rooms/{room}/mutes/{}", owner.id)).await,
            outsider.post_json(&format!("/api/rooms/{room}/bans"), &json!({"user_id": owner.id})).await,
            outsider.get_json(&format!("/api/rooms/{room}/bans")).await,
            outsider.delete(&format!("/api/rooms/{room}/bans/{}", owner.id)).await,
            outsider.get_json(&format!("/api/rooms/{room}/moderation")).await,
            outsider.post_json(&format!("/api/rooms/{room}/invites"), &json!({"max_uses": 0})).await,
            outsider.get_json(&format!("/api/rooms/{room}/invites")).await,
            outsider.get_json(&format!("/api/rooms/{room}/members")).await,
            outsider.put_json(&format!("/api/rooms/{room}/members/{}/role", owner.id), &json!({"role": "x"})).await,
        ];
        for (i, (status, body)) in answers.into_iter().enumerate() {
            assert_eq!(status, StatusCode::NOT_FOUND, "{room} #{i}: {body}");
            assert_eq!(body["error"], json!({"code": "not_found", "message": "there is no such room"}), "{room} #{i}");
        }
    }
}
