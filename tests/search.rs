//! Search and mentions (docs/protocol.md, "Search and mentions") on the backend under
//! test: words in any order, CJK substrings, only rooms the caller may read, edits and
//! deletes reflected, paging, history indexed at start-up; mentions in messages and
//! the room list's capped counts.

use chatroom_testkit as common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn search(client: &Client, query: &str) -> (StatusCode, Value) {
    client.get_json(&format!("/api/search?{query}")).await
}

/// The texts of a search's results, newest first.
async fn found(client: &Client, q: &str) -> Vec<String> {
    let (status, body) = search(client, &format!("q={}", urlencoding(q))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

async fn post(client: &Client, room: &str, text: &str) -> Value {
    let (status, body) = client
        .post_json(&format!("/api/rooms/{room}/messages"), &json!({"text": text, "client_id": unique().to_string()}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["message"].clone()
}

async fn new_room(owner: &Client, private: bool) -> String {
    let name = format!("s{}", unique());
    let (status, body) = owner.post_json("/api/rooms", &json!({"name": name, "private": private})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    name
}

/// Each test writes words of its own, so that tests sharing a database never see each
/// other's messages.
fn word() -> String {
    format!("w{}", unique())
}

#[tokio::test]
async fn every_word_in_any_order_newest_first_with_paging() {
    let server = TestServer::start();
    let alice = server.user().await;
    let (fox, dog) = (word(), word());
    post(&alice, "lobby", &format!("the quick brown {fox}")).await;
    post(&alice, "lobby", &format!("a lazy {dog}")).await;
    post(&alice, "lobby", &format!("Quick thinking, {fox}!")).await;
    assert_eq!(
        found(&alice, &format!("{fox} QUICK")).await,
        [format!("Quick thinking, {fox}!"), format!("the quick brown {fox}")]
    );
    assert_eq!(found(&alice, &format!("brown {fox}")).await, [format!("the quick brown {fox}")]);
    assert!(found(&alice, &format!("{fox} {dog}")).await.is_empty(), "every word must be there");
    assert!(found(&alice, &fox[..fox.len() - 1]).await.is_empty(), "whole words match, not parts of them");

    // Paging: one at a time, older with `before`.
    let (status, first) = search(&alice, &format!("q={fox}&limit=1")).await;
    assert_eq!((status, first["has_more"].as_bool()), (StatusCode::OK, Some(true)));
    let newest = first["messages"][0].clone();
    assert_eq!(newest["room"], "lobby");
    assert_eq!(newest["user"]["id"], alice.id);
    let (_, second) = search(&alice, &format!("q={fox}&limit=1&before={}", newest["id"])).await;
    assert_eq!(second["messages"][0]["text"], format!("the quick brown {fox}"));
    assert_eq!(second["has_more"], false);

    // One room only.
    let room = new_room(&alice, false).await;
    post(&alice, &room, &format!("{fox} elsewhere")).await;
    let (_, there) = search(&alice, &format!("q={fox}&room={room}")).await;
    assert_eq!(there["messages"].as_array().unwrap().len(), 1, "{there}");
    assert_eq!(found(&alice, &fox).await.len(), 3);
}

#[tokio::test]
async fn bad_queries_get_clear_errors() {
    let server = TestServer::start();
    let alice = server.user().await;
    for query in ["q=", "q=%20%20", "", &format!("q={}", "a".repeat(201))] {
        let (status, body) = search(&alice, query).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_request")),
            "{query}"
        );
    }
    let (status, _) = search(&alice, &format!("q={}", "a".repeat(200))).await;
    assert_eq!(status, StatusCode::OK, "200 characters are allowed");
    for query in ["q=x&limit=0", "q=x&before=0", "q=x&limit=many"] {
        assert_eq!(search(&alice, query).await.0, StatusCode::BAD_REQUEST, "{query}");
    }
    let (status, body) = search(&alice, "q=x&room=no-such-room").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    assert_eq!(found(&alice, "?! ...").await, Vec::<String>::new(), "no word to look for finds nothing");
    assert_eq!(server.client().get_json("/api/search?q=x").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn chinese_japanese_and_korean_match_by_substring() {
    let server = TestServer::start();
    let alice = server.user().await;
    let tag = word();
    post(&alice, "lobby", &format!("我们今天去北京吃烤鸭 {tag}")).await;
    post(&alice, "lobby", &format!("東京タワーに行きました {tag}")).await;
    post(&alice, "lobby", &format!("안녕하세요 여러분 {tag}")).await;
    for (q, expected) in [
        ("北京", "我们今天去北京吃烤鸭"),
        ("京吃", "我们今天去北京吃烤鸭"),
        ("鸭", "我们今天去北京吃烤鸭"),
        ("タワー", "東京タワーに行きました"),
        ("京タ", "東京タワーに行きました"),
        ("하세", "안녕하세요 여러분"),
    ] {
        let results = found(&alice, &format!("{q} {tag}")).await;
        assert_eq!(results, [format!("{expected} {tag}")], "{q}");
    }
    assert!(found(&alice, &format!("上海 {tag}")).await.is_empty());
    assert!(found(&alice, &format!("北吃 {tag}")).await.is_empty(), "the characters must be next to each other");
    assert_eq!(found(&alice, &format!("京 {tag}")).await.len(), 2, "one character is a substring too");
}

#[tokio::test]
async fn only_rooms_the_caller_may_read_are_searched() {
    let server = TestServer::start();
    let (owner, outsider, member) = (server.user().await, server.user().await, server.user().await);
    let secret = word();
    let private = new_room(&owner, true).await;
    post(&owner, &private, &format!("the {secret} plan")).await;
    assert!(found(&outsider, &secret).await.is_empty(), "an outsider finds nothing of a private room");
    let (status, body) = search(&outsider, &format!("q={secret}&room={private}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "as a missing room"
    );
    let (status, invite) = owner.post_json(&format!("/api/rooms/{private}/invites"), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    let code = invite["invite"]["code"].as_str().unwrap();
    assert_eq!(member.post_json(&format!("/api/invites/{code}"), &json!({})).await.0, StatusCode::OK);
    assert_eq!(found(&member, &secret).await, [format!("the {secret} plan")], "a member finds it");

    // A direct room's messages are its two people's.
    let (status, dm) = owner.post_json("/api/direct", &json!({"nickname": member.nickname})).await;
    assert!(status.is_success(), "{dm}");
    let dm = dm["room"]["name"].as_str().unwrap().to_owned();
    let whisper = word();
    post(&owner, &dm, &whisper).await;
    assert_eq!(found(&member, &whisper).await.len(), 1);
    assert!(found(&outsider, &whisper).await.is_empty());

    // A ban takes the room out of the banned user's search.
    let public = new_room(&owner, false).await;
    let said = word();
    post(&owner, &public, &said).await;
    assert_eq!(found(&outsider, &said).await.len(), 1);
    let (status, body) = owner.post_json(&format!("/api/rooms/{public}/bans"), &json!({"user_id": outsider.id})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(found(&outsider, &said).await.is_empty());
    let (status, _) = search(&outsider, &format!("q={said}&room={public}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn edits_and_deletes_are_what_search_sees() {
    let server = TestServer::start();
    let alice = server.user().await;
    let (before, after) = (word(), word());
    let message = post(&alice, "lobby", &format!("{before} draft")).await;
    let path = format!("/api/rooms/lobby/messages/{}", message["id"]);
    assert_eq!(alice.patch_json(&path, &json!({"text": format!("{after} final")})).await.0, StatusCode::OK);
    assert!(found(&alice, &before).await.is_empty(), "an edited-away word is not found");
    let results = found(&alice, &after).await;
    assert_eq!(results, [format!("{after} final")]);
    assert_eq!(alice.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert!(found(&alice, &after).await.is_empty(), "a deleted message is never found");

    // A deleted room's messages go with it.
    let room = new_room(&alice, false).await;
    let gone = word();
    post(&alice, &room, &gone).await;
    assert_eq!(found(&alice, &gone).await.len(), 1);
    assert_eq!(alice.delete(&format!("/api/rooms/{room}")).await.0, StatusCode::NO_CONTENT);
    assert!(found(&alice, &gone).await.is_empty());
    // Nor is anything of it left in the index (a search would hide it behind the join
    // on rooms): on MySQL the posting rows have no cascade to take them.
    let index_rows = match backend() {
        Backend::Mysql => server
            .db
            .query_strings(&format!("SELECT CAST(COUNT(*) AS CHAR) AS value FROM message_terms WHERE term = '{gone}'")),
        Backend::Sqlite => server.db.query_strings(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) AS value FROM message_search WHERE message_search MATCH '\"{gone}\"'"
        )),
    };
    assert_eq!(index_rows, ["0"], "the deleted room's messages left the index");
}

/// The room object of `room` in the user's room list.
async fn listed(client: &Client, room: &str) -> Value {
    let (status, body) = client.get_json("/api/rooms").await;
    assert_eq!(status, StatusCode::OK);
    body["rooms"].as_array().unwrap().iter().find(|r| r["name"] == room).cloned().expect("the room is listed")
}

#[tokio::test]
async fn mentions_name_members_and_are_counted_until_read() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let room = new_room(&alice, false).await;
    let mut b = bob.ws(&server).await;
    b.join(&room).await;
    let mention = post(&alice, &room, &format!("hi @{}!", bob.nickname)).await;
    assert_eq!(mention["mentions"], json!([bob.id]));
    assert_eq!(b.recv_type("message").await["message"]["mentions"], json!([bob.id]), "live frames carry them");
    let plain = post(&alice, &room, &format!("@{}x is someone else", bob.nickname)).await;
    assert_eq!(plain["mentions"], json!([]), "a longer word is not the nickname");
    post(&alice, &room, &format!("and @{} again", bob.nickname)).await;
    let me_myself = post(&bob, &room, &format!("I am @{}", bob.nickname)).await;
    assert_eq!(me_myself["mentions"], json!([bob.id]));

    let seen = listed(&bob, &room).await;
    assert_eq!((seen["unread"].as_i64(), seen["mentions"].as_i64()), (Some(3), Some(2)), "{seen}");
    assert_eq!((seen["unread_capped"].as_bool(), seen["mentions_capped"].as_bool()), (Some(false), Some(false)));
    // History carries the mentions as stored.
    let (_, history) = bob.get_json(&format!("/api/rooms/{room}/messages")).await;
    assert_eq!(history["messages"][0]["mentions"], json!([bob.id]));

    // An edit that takes the mention away, and a deleted mention, no longer count.
    let path = format!("/api/rooms/{room}/messages/{}", mention["id"]);
    let (status, edited) = alice.patch_json(&path, &json!({"text": "hi all"})).await;
    assert_eq!((status, &edited["message"]["mentions"]), (StatusCode::OK, &json!([])));
    assert_eq!(listed(&bob, &room).await["mentions"], 1);
    assert_eq!(alice.patch_json(&path, &json!({"text": format!("hi @{}", bob.nickname)})).await.0, StatusCode::OK);
    assert_eq!(listed(&bob, &room).await["mentions"], 2);
    assert_eq!(alice.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(listed(&bob, &room).await["mentions"], 1);

    // Reading clears them.
    let last = listed(&bob, &room).await["last_message_id"].clone();
    assert_eq!(
        bob.post_json(&format!("/api/rooms/{room}/read"), &json!({"message_id": last})).await.0,
        StatusCode::NO_CONTENT
    );
    let seen = listed(&bob, &room).await;
    assert_eq!((seen["unread"].as_i64(), seen["mentions"].as_i64()), (Some(0), Some(0)), "{seen}");
    // Someone who is not a member is not mentioned.
    let stranger = server.user().await;
    let nobody = post(&alice, &room, &format!("@{} hello", stranger.nickname)).await;
    assert_eq!(nobody["mentions"], json!([]));
}

/// The id of a room, read from the database.
fn room_id(server: &TestServer, room: &str) -> i64 {
    server.db.query_strings(&format!("SELECT CAST(id AS CHAR) AS value FROM rooms WHERE name = '{room}'"))[0]
        .parse()
        .unwrap()
}

/// Writes `count` messages by `user_id` straight into the database (as history from an
/// earlier version would be), taking ids from the commit order's head.
fn insert_history(server: &TestServer, room: &str, user_id: i64, texts: &[String]) {
    let room_id = room_id(server, room);
    let top: i64 = server.db.query_strings("SELECT CAST(last_message_id AS CHAR) AS value FROM message_sequence")[0]
        .parse()
        .unwrap();
    let rows: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let id = top + 1 + i as i64;
            format!("({id}, {room_id}, {user_id}, '{text}', 'old-{id}', '2026-01-01 00:00:00', {id}, 0)")
        })
        .collect();
    let new_top = top + texts.len() as i64;
    server.db.execute(&format!(
        "INSERT INTO messages (id, room_id, user_id, body, client_id, created_at, seq, deleted) VALUES {};
         UPDATE message_sequence SET last_message_id = {new_top};
         UPDATE rooms SET last_message_id = {new_top} WHERE id = {room_id};",
        rows.join(", ")
    ));
}

#[tokio::test]
async fn history_from_before_search_is_indexed_when_the_server_starts() {
    let mut server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let room = new_room(&alice, false).await;
    let mut b = bob.ws(&server).await;
    b.join(&room).await;
    b.close().await;
    let old = word();
    let texts =
        vec![format!("{old} one"), format!("{old} two, @{}", bob.nickname), "东京 {old}".replace("{old}", &old)];
    insert_history(&server, &room, alice.id, &texts);
    if backend() == Backend::Sqlite {
        assert!(found(&alice, &old).await.is_empty(), "not indexed yet");
    } else {
        // MySQL's index follows the commit order, whoever wrote the rows.
        assert_eq!(found(&alice, &old).await.len(), 3);
    }
    // As the migration leaves it for history stored before it.
    let top = server.db.query_strings("SELECT CAST(last_message_id AS CHAR) AS value FROM message_sequence")[0].clone();
    server.db.execute(&format!("UPDATE search_backfill SET done_id = 0, through_id = {top}"));
    server.restart();
    let alice = alice.another_login(&server).await;
    assert_eq!(found(&alice, &old).await.len(), 3);
    assert_eq!(found(&alice, &format!("东 {old}")).await.len(), 1);
    let bob = bob.another_login(&server).await;
    let seen = listed(&bob, &room).await;
    assert_eq!(seen["mentions"], 1, "mentions in earlier history are found too: {seen}");
    // Done once: a second start changes nothing.
    server.restart();
    let alice = alice.another_login(&server).await;
    assert_eq!(found(&alice, &old).await.len(), 3);
}

#[tokio::test]
async fn unread_counts_are_exact_below_the_cap_and_capped_above() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let room = new_room(&alice, false).await;
    let mut b = bob.ws(&server).await;
    b.join(&room).await;
    b.close().await;
    let texts: Vec<String> = (0..998).map(|i| format!("m{i} @{}", bob.nickname)).collect();
    insert_history(&server, &room, alice.id, &texts);
    let seen = listed(&bob, &room).await;
    assert_eq!((seen["unread"].as_i64(), seen["unread_capped"].as_bool()), (Some(998), Some(false)), "{seen}");
    post(&alice, &room, "one more").await;
    let seen = listed(&bob, &room).await;
    assert_eq!((seen["unread"].as_i64(), seen["unread_capped"].as_bool()), (Some(999), Some(false)));
    post(&alice, &room, "and the thousandth").await;
    let seen = listed(&bob, &room).await;
    assert_eq!((seen["unread"].as_i64(), seen["unread_capped"].as_bool()), (Some(999), Some(true)));
    // Deleting one brings the exact count back.
    let (_, page) = alice.get_json(&format!("/api/rooms/{room}/messages?limit=1")).await;
    let last = &page["messages"][0]["id"];
    assert_eq!(alice.delete(&format!("/api/rooms/{room}/messages/{last}")).await.0, StatusCode::NO_CONTENT);
    let seen = listed(&bob, &room).await;
    assert_eq!((seen["unread"].as_i64(), seen["unread_capped"].as_bool()), (Some(999), Some(false)));
    // The same in the one-room answer.
    let (_, one) = bob.get_json(&format!("/api/rooms/{room}")).await;
    assert_eq!(one["room"]["unread"], 999, "{one}");
    assert_eq!(one["room"]["mentions"], 0, "mentions written straight into the database were never found");
}

#[tokio::test]
async fn long_queries_and_many_near_misses_still_give_exact_pages() {
    let server = TestServer::start_with(&[
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "1000"),
        ("CHATROOM_LIMITS_SEND_BURST", "1000"),
    ]);
    let alice = server.user().await;
    // More words than MySQL joins in one query: the rest are checked on the candidates.
    let words: Vec<String> = (0..8).map(|_| word()).collect();
    let all = words.join(" ");
    post(&alice, "lobby", &format!("{all} together")).await;
    assert_eq!(found(&alice, &format!("together {all}")).await, [format!("{all} together")]);
    assert!(found(&alice, &format!("{all} {}", word())).await.is_empty(), "a ninth word it lacks");
    // The one match is older than twenty near misses (both characters, not next to each
    // other): a page of one still finds it, and says nothing more matches.
    let tag = word();
    post(&alice, "lobby", &format!("北吃 {tag}")).await;
    for i in 0..20 {
        post(&alice, "lobby", &format!("北 {tag} 吃 {i}")).await;
    }
    let (status, body) = search(&alice, &format!("q={}&limit=1", urlencoding(&format!("北吃 {tag}")))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts: Vec<&str> = body["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, [format!("北吃 {tag}")]);
    assert_eq!(body["has_more"], false);
}

/// MySQL's index is written by a thread of its own, in transactions that may run for a
/// while over thousands of messages. Edits, reactions and deletes of those messages (on
/// every node, under the writer's lock) must not wait for it: a transaction writing a
/// message's posting rows, as the indexer does, holds nothing an edit of it needs.
#[tokio::test]
async fn edits_never_wait_for_the_search_index_being_written() {
    if backend() != Backend::Mysql {
        eprintln!("SQLite indexes in the writer's own transaction; nothing to wait for");
        return;
    }
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_DATABASE_TIMEOUT_SECS", "2")]);
    let alice = server.user().await;
    let message = post(&alice, "lobby", &word()).await;
    let (id, room_id) = (
        message["id"].as_i64().unwrap(),
        server.db.query_strings("SELECT CAST(id AS CHAR) AS value FROM rooms WHERE name = 'lobby'")[0].clone(),
    );
    let indexing = server.db.hold_transaction(&format!(
        "INSERT INTO message_terms (term, message_id, room_id) VALUES ('held', {id}, {room_id})"
    ));
    let path = format!("/api/rooms/lobby/messages/{id}");
    let started = std::time::Instant::now();
    let (status, body) = alice.patch_json(&path, &json!({"text": "edited while indexed"})).await;
    assert_eq!(status, StatusCode::OK, "{body} after {:?}", started.elapsed());
    assert_eq!(alice.put(&format!("{path}/reactions/👍")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(alice.delete(&path).await.0, StatusCode::NO_CONTENT);
    drop(indexing);
}
