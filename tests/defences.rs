//! The defences a public server needs, each driven from outside: security headers,
//! origin and forwarding rules, nickname look-alikes, per-user and per-address limits,
//! slow request bodies, short-lived anonymous sessions, a guarded `/metrics`, and
//! WebSocket conformance (fragments, invalid UTF-8).

use chatroom_testkit as common;

use std::time::Duration;

use common::raw_ws::{RawWs, OP_CONTINUATION, OP_TEXT};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---- headers ----

#[tokio::test]
async fn pages_and_api_answers_carry_the_security_headers() {
    let server = TestServer::start();
    let user = server.user().await;
    for path in ["/login", "/rooms", "/api/me", "/static/chat.js"] {
        let response = user.http.get(user.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp:?}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp:?}");
        assert_eq!(headers.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
        assert!(headers.get("referrer-policy").is_some(), "{path}");
    }
    // No page relies on inline script, which the policy forbids.
    for path in ["/login", "/register", "/rooms", "/rooms/lobby"] {
        let body = user.get(path).await.body;
        for tag in body.split("<script").skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            assert!(tag.contains("src="), "{path} has an inline script: <script{tag}>");
        }
    }
}

// ---- origin and forwarding ----

async fn ws_status(server: &TestServer, user: &Client, headers: &[(&str, &str)]) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("Cookie", user.cookie_header().parse().unwrap());
    for (name, value) in headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("handshake failed: {e}"),
    }
}

#[tokio::test]
async fn a_forwarded_host_does_not_make_a_foreign_origin_ours_unless_forwarding_is_trusted() {
    let server = TestServer::start();
    let user = server.user().await;
    let evil = [("Origin", "http://evil.example"), ("X-Forwarded-Host", "evil.example")];
    assert_eq!(ws_status(&server, &user, &evil).await, 403);
    let forwarded = [("Origin", "http://evil.example"), ("Forwarded", "host=evil.example;proto=http")];
    assert_eq!(ws_status(&server, &user, &forwarded).await, 403);
    assert_eq!(ws_status(&server, &user, &[("Origin", &server.origin())]).await, 101);
}

async fn register_from(server: &TestServer, forwarded_for: &str) -> StatusCode {
    let client = Client::new(server);
    let token = client.get("/register").await.csrf();
    let (phone, nickname) = (fresh_phone(), fresh_nickname());
    let form = [
        ("phone", phone.as_str()),
        ("nickname", nickname.as_str()),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let response =
        client.http.post(client.url("/register")).header("X-Forwarded-For", forwarded_for).form(&form).send().await;
    response.unwrap().status()
}

#[tokio::test]
async fn registrations_per_address_are_limited_by_the_rightmost_untrusted_hop() {
    let server = TestServer::start_with(&[
        ("CHATROOM_TRUST_FORWARDED_FOR", "true"),
        ("CHATROOM_LIMITS_REGISTRATIONS_PER_ADDR", "2"),
    ]);
    assert_eq!(register_from(&server, "203.0.113.9").await, StatusCode::SEE_OTHER);
    // What the client wrote to the left of the proxy's entry changes nothing.
    assert_eq!(register_from(&server, "198.51.100.1, 203.0.113.9").await, StatusCode::SEE_OTHER);
    assert_eq!(register_from(&server, "198.51.100.2, 203.0.113.9").await, StatusCode::TOO_MANY_REQUESTS);
    // Another client address has its own quota.
    assert_eq!(register_from(&server, "203.0.113.10").await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_refused_registration_does_not_count_against_the_address() {
    let server = TestServer::start_with(&[
        ("CHATROOM_TRUST_FORWARDED_FOR", "true"),
        ("CHATROOM_LIMITS_REGISTRATIONS_PER_ADDR", "1"),
    ]);
    let taken = server.user().await;
    let client = Client::new(&server);
    let token = client.get("/register").await.csrf();
    let form = [
        ("phone", taken.phone.as_str()),
        ("nickname", "someone-new"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let refused = client.http.post(client.url("/register")).header("X-Forwarded-For", "203.0.113.7").form(&form);
    assert_eq!(refused.send().await.unwrap().status(), StatusCode::CONFLICT);
    // The address's one registration is still there to use.
    assert_eq!(register_from(&server, "203.0.113.7").await, StatusCode::SEE_OTHER);
    assert_eq!(register_from(&server, "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS);
}

// ---- nicknames ----

#[tokio::test]
async fn nicknames_are_normalised_and_invisible_or_look_alike_ones_are_refused() {
    let server = TestServer::start();
    for invisible in ["zero\u{200b}width", "\u{202e}reversed", "soft\u{ad}hyphen"] {
        let page = Client::new(&server).register(&fresh_phone(), invisible, PASSWORD).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{invisible:?}");
    }
    let base = format!("eve{}", unique());
    // A decomposed é is stored composed.
    let mut decomposed = Client::new(&server);
    let page = decomposed.register(&fresh_phone(), &format!("{base}e\u{301}"), PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(decomposed.get_json("/api/me").await.1["user"]["nickname"], format!("{base}\u{e9}"));
    // The same name typed composed is the same name.
    let page = Client::new(&server).register(&fresh_phone(), &format!("{base}\u{e9}"), PASSWORD).await;
    assert_eq!(page.status, StatusCode::CONFLICT);

    let name = format!("alice{}", unique());
    assert_eq!(Client::new(&server).register(&fresh_phone(), &name, PASSWORD).await.status, StatusCode::SEE_OTHER);
    // Cyrillic а (U+0430) for the Latin a: looks the same, so it is taken.
    let look_alike = name.replacen('a', "\u{430}", 1);
    let page = Client::new(&server).register(&fresh_phone(), &look_alike, PASSWORD).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{look_alike:?}");
}

// ---- sockets per user ----

#[tokio::test]
async fn a_user_may_hold_only_so_many_sockets_and_a_closed_one_frees_its_place() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_SOCKETS_PER_USER", "2")]);
    let user = server.user().await;
    let first = user.ws(&server).await;
    let _stream = user.sse("rooms=lobby", None).await.expect("an event stream counts as a socket");
    let refused = ws_connect(&server, Some(&user.cookie_header()), Some(&server.origin())).await;
    assert_eq!(refused.err(), Some(429));
    assert_eq!(user.sse("rooms=lobby", None).await.err().map(|e| e.0), Some(StatusCode::TOO_MANY_REQUESTS));
    // Someone else is not affected.
    let other = server.user().await;
    let _theirs = other.ws(&server).await;
    first.close().await;
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(ws) = ws_connect(&server, Some(&user.cookie_header()), Some(&server.origin())).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "closing a socket frees its place");
}

// ---- request bodies ----

#[tokio::test]
async fn a_request_body_that_trickles_in_is_cut_off_at_the_read_deadline() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_BODY_READ_SECS", "1")]);
    let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/session HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"ph",
        server.addr
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0u8; 4096];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 10 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
}

// ---- sessions ----

#[tokio::test]
async fn an_anonymous_visit_keeps_its_session_row_for_hours_not_a_month() {
    let server = TestServer::start();
    let visitor = Client::new(&server);
    assert_eq!(visitor.get("/login").await.status, StatusCode::OK);
    let user = server.user().await;
    let sql = match backend() {
        Backend::Sqlite => {
            "SELECT CAST((julianday(expires_at) - julianday('now')) * 24 AS INTEGER) || ' ' || \
                            (instr(state, '\"uid\"') > 0) AS value FROM sessions"
        }
        Backend::Mysql => {
            "SELECT CONCAT(TIMESTAMPDIFF(HOUR, UTC_TIMESTAMP(), expires_at), ' ', \
                           LOCATE('\"uid\"', state) > 0) AS value FROM sessions"
        }
    };
    let rows = server.db.query_strings(sql);
    let (mut anonymous, mut logged_in) = (Vec::new(), Vec::new());
    for row in &rows {
        let (hours, has_user) = row.split_once(' ').unwrap();
        let hours: i64 = hours.parse().unwrap();
        if has_user == "1" {
            logged_in.push(hours);
        } else {
            anonymous.push(hours);
        }
    }
    assert!(!anonymous.is_empty() && anonymous.iter().all(|h| *h <= 2), "anonymous rows: {rows:?}");
    assert!(!logged_in.is_empty() && logged_in.iter().all(|h| *h > 24 * 29), "logged-in rows: {rows:?}");
    drop(user);
}

// ---- metrics ----

#[tokio::test]
async fn metrics_can_require_a_token() {
    let server = TestServer::start_with(&[("CHATROOM_METRICS_TOKEN", "s3cret-token")]);
    let http = reqwest::Client::new();
    let bare = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let wrong = http.get(server.url("/metrics")).bearer_auth("s3cret-tokem").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = http.get(server.url("/metrics")).bearer_auth("s3cret-token").send().await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("http_requests"));
}

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_bind = format!("127.0.0.1:{port}");
    let server = TestServer::start_with(&[("CHATROOM_METRICS_BIND", &metrics_bind)]);
    let http = reqwest::Client::new();
    assert_eq!(http.get(server.url("/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let mut answered = None;
    for _ in 0..50 {
        if let Ok(response) = http.get(format!("http://{metrics_bind}/metrics")).send().await {
            answered = Some(response.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answered, Some(StatusCode::OK));
}

// ---- the API document ----

#[tokio::test]
async fn the_api_describes_itself_and_answers_other_methods_with_405() {
    let server = TestServer::start();
    let client = Client::new(&server);
    let (status, document) = client.get_json("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", document["openapi"]);
    let paths = document["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/session", "post"),
        ("/api/session", "delete"),
        ("/api/me", "get"),
        ("/api/rooms", "get"),
        ("/api/rooms", "post"),
        ("/api/rooms/{name}/messages", "get"),
        ("/api/rooms/{name}/messages", "post"),
        ("/api/rooms/{name}/read", "post"),
        ("/api/direct", "post"),
        ("/api/events", "get"),
    ] {
        let operation = &paths.get(path).unwrap_or_else(|| panic!("{path} is documented"))[method];
        assert!(operation["responses"].is_object(), "{method} {path} is documented");
    }
    assert!(document["components"]["securitySchemes"]["session"].is_object());

    let user = server.user().await;
    let response = user.http.put(user.url("/api/rooms")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert_eq!(user.get_json("/api/nowhere").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_empty_body_needs_no_content_type() {
    let server = TestServer::start();
    let user = server.user().await;
    // Where a body is needed, its absence is the error, not the missing Content-Type.
    let response = user.http.post(user.url("/api/rooms/lobby/read")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    // A body that is there still needs its JSON Content-Type.
    let response = user.http.post(user.url("/api/rooms/lobby/read")).body(r#"{"message_id":1}"#).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A route that takes no body takes an empty one without a Content-Type.
    let response = user.http.delete(user.url("/api/session")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_read_marker_may_be_written_as_a_whole_float() {
    let server = TestServer::start();
    let user = server.user().await;
    let mut ws = user.ws(&server).await;
    ws.join("lobby").await;
    let said = ws.say("lobby", "marker").await;
    let id = said["id"].as_i64().unwrap();
    let body = format!(r#"{{"message_id": {id}.0}}"#);
    let response = user
        .http
        .post(user.url("/api/rooms/lobby/read"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = user.post_json("/api/rooms/lobby/read", &json!({"message_id": 1.5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

// ---- WebSocket conformance ----

fn texts(frames: &[common::raw_ws::ServerFrame]) -> Vec<Value> {
    frames.iter().filter_map(|f| f.text()).collect()
}

#[tokio::test]
async fn a_fragmented_message_is_put_back_together() {
    let server = TestServer::start();
    let user = server.user().await;
    let mut ws = RawWs::connect(&server, &user.cookie_header()).await;
    let frame = json!({"type": "join", "room": "lobby"}).to_string().into_bytes();
    let (a, rest) = frame.split_at(5);
    let (b, c) = rest.split_at(7);
    ws.send_frame(false, OP_TEXT, a).await;
    ws.send_frame(false, OP_CONTINUATION, b).await;
    // A ping between fragments is allowed (RFC 6455 section 5.4).
    ws.send_frame(true, 0x9, b"p").await;
    ws.send_frame(true, OP_CONTINUATION, c).await;
    let mut joined = false;
    while let Some(frame) = ws.next_frame(Duration::from_secs(5)).await {
        if frame.text().is_some_and(|v| v["type"] == "joined") {
            joined = true;
            break;
        }
    }
    assert!(joined, "the reassembled join was answered");
}

#[tokio::test]
async fn fragments_adding_up_past_the_limit_close_with_1009() {
    let server = TestServer::start();
    let user = server.user().await;
    let mut ws = RawWs::connect(&server, &user.cookie_header()).await;
    let piece = vec![b'x'; 40_000];
    ws.send_frame(false, OP_TEXT, &piece).await;
    ws.send_frame(false, OP_CONTINUATION, &piece).await;
    ws.send_frame(true, OP_CONTINUATION, &piece).await;
    let (frames, close) = ws.until_close(Duration::from_secs(5)).await;
    assert!(texts(&frames).iter().any(|e| e["code"] == "too_large"), "{:?}", texts(&frames));
    assert_eq!(close.and_then(|c| c.close_code()), Some(1009));
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007_whole_or_fragmented() {
    let server = TestServer::start();
    let user = server.user().await;
    let mut whole = RawWs::connect(&server, &user.cookie_header()).await;
    whole.send_frame(true, OP_TEXT, b"{\"type\":\"join\",\"room\":\"\xff\xfe\"}").await;
    let (_, close) = whole.until_close(Duration::from_secs(5)).await;
    assert_eq!(close.and_then(|c| c.close_code()), Some(1007));

    let mut fragmented = RawWs::connect(&server, &user.cookie_header()).await;
    // A character cut between fragments is fine; bytes that are no character are not.
    let snowman = "☃".as_bytes();
    fragmented
        .send_frame(false, OP_TEXT, &[b"{\"type\":\"join\",\"room\":\"".as_slice(), &snowman[..1]].concat())
        .await;
    fragmented.send_frame(true, OP_CONTINUATION, &[&snowman[1..], b"\xc0\"}".as_slice()].concat()).await;
    let (_, close) = fragmented.until_close(Duration::from_secs(5)).await;
    assert_eq!(close.and_then(|c| c.close_code()), Some(1007));
}
