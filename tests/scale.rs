//! What keeps everyday requests cheap when the data is big (docs/protocol.md, "Room
//! directory"): the public room directory a page at a time, and `joined` listing a
//! bounded number of the people online.

use chatroom_testkit as common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn directory(client: &Client, query: &str) -> Value {
    let (status, body) = client.get_json(&format!("/api/directory?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn names(page: &Value) -> Vec<String> {
    page["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_directory_finds_public_rooms_by_part_of_their_name_a_page_at_a_time() {
    let server = TestServer::start();
    let (owner, visitor) = (server.user().await, server.user().await);
    let tag = format!("d{}", unique());
    for (suffix, private) in [("gamma", false), ("alpha", false), ("beta", false), ("secret", true), ("x_y", false)] {
        let name = format!("{tag}-{suffix}");
        let (status, body) = owner.post_json("/api/rooms", &json!({"name": name, "private": private})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let all = directory(&visitor, &format!("q={tag}")).await;
    let expected: Vec<String> = ["alpha", "beta", "gamma", "x_y"].iter().map(|s| format!("{tag}-{s}")).collect();
    assert_eq!(names(&all), expected, "public rooms only, by name");
    assert_eq!(all["next"], Value::Null);
    let room = &all["rooms"][0];
    assert_eq!((room["kind"].as_str(), room["owner"]["id"].as_i64()), (Some("public"), Some(owner.id)), "{room}");
    for field in ["title", "topic", "role", "unread", "unread_capped", "mentions", "mentions_capped", "last_message_id"]
    {
        assert!(room.get(field).is_some(), "the room object has {field}: {room}");
    }

    // A page at a time, the cursor opaque but stable.
    let first = directory(&visitor, &format!("q={tag}&limit=2")).await;
    assert_eq!(names(&first), expected[..2]);
    let next = first["next"].as_str().expect("a cursor").to_owned();
    let second = directory(&visitor, &format!("q={tag}&limit=2&after={next}")).await;
    assert_eq!(names(&second), expected[2..]);
    assert_eq!(second["next"], Value::Null);

    // Substring, case-insensitive, and LIKE's wildcards are plain characters.
    assert_eq!(names(&directory(&visitor, &format!("q={}-ALPH", tag.to_uppercase())).await), [format!("{tag}-alpha")]);
    assert_eq!(names(&directory(&visitor, &format!("q={tag}-x_")).await), [format!("{tag}-x_y")]);
    assert_eq!(names(&directory(&visitor, &format!("q={tag}-_")).await), Vec::<String>::new());
    assert_eq!(names(&directory(&visitor, &format!("q={tag}%25")).await), Vec::<String>::new());
    // Without q: every public room, lobby included, at most 100 a page.
    let everything = directory(&visitor, "limit=1000").await;
    assert!(names(&everything).contains(&"lobby".to_owned()) || everything["next"].is_string());
    assert!(names(&everything).len() <= 100);
    assert!(names(&directory(&visitor, "").await).len() <= 50, "50 by default");

    // A banned user does not find the room; bad paging is a 400.
    let (status, _) = owner.post_json(&format!("/api/rooms/{tag}-beta/bans"), &json!({"user_id": visitor.id})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!names(&directory(&visitor, &format!("q={tag}")).await).contains(&format!("{tag}-beta")));
    for query in ["limit=0", "limit=-3", "limit=lots"] {
        assert_eq!(visitor.get_json(&format!("/api/directory?{query}")).await.0, StatusCode::BAD_REQUEST, "{query}");
    }
    assert_eq!(server.client().get_json("/api/directory").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn joined_lists_the_first_people_online_and_counts_them_all() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_JOINED_MEMBERS_MAX", "3")]);
    let mut users = Vec::new();
    for _ in 0..5 {
        users.push(server.user().await);
    }
    let room = format!("j{}", unique());
    assert_eq!(users[0].post_json("/api/rooms", &json!({"name": room})).await.0, StatusCode::CREATED);
    let mut sockets = Vec::new();
    for user in &users[..4] {
        let mut ws = user.ws(&server).await;
        ws.join(&room).await;
        sockets.push(ws);
    }
    let mut last = users[4].ws(&server).await;
    let joined = last.join(&room).await;
    assert_eq!(joined["online_count"], 5, "{joined}");
    let listed: Vec<i64> = joined["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let mut ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    ids.sort_unstable();
    assert_eq!(listed, ids[..3], "the first three by user id");
    // The rest are a page of the members route away.
    let (status, members) = users[4].get_json(&format!("/api/rooms/{room}/members")).await;
    assert_eq!(status, StatusCode::OK);
    let online = members["members"].as_array().unwrap().iter().filter(|m| m["online"] == true).count();
    assert_eq!(online, 5, "{members}");
}
