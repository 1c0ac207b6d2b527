//! The product as a person sees it: Debian's Chromium, headless, against the real server.
//!
//! Each test starts the server (tests/common) and its own chromedriver, opens one browser
//! per person, and asserts what that person sees. The screenshots of the main pages at
//! phone and desktop width land in `target/screenshots/`.

mod common;
#[path = "browser/driver.rs"]
mod driver;

use common::*;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use driver::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

// ---- helpers ----

/// Registers `nickname` over HTTP (quick); the browser logs in through the page.
async fn person(server: &TestServer, nickname: &str) -> Client {
    let mut client = server.client();
    let page = client.register(&fresh_phone(), nickname, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "registering {nickname}: {}", page.body);
    client
}

/// Logs the browser in through the login page, as the person would.
async fn log_in(browser: &Browser, who: &Client) {
    browser.goto("/login").await;
    browser.fill("#phone", &who.phone).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    browser.wait_for_path("/rooms").await;
}

/// Opens a room's page and waits until it is connected.
async fn open_room(browser: &Browser, room: &str) {
    browser.goto(&format!("/rooms/{room}")).await;
    browser.wait_for_text("#status", "Online").await;
}

async fn post(client: &Client, room: &str, text: &str) -> i64 {
    let (status, body) = client
        .post_json(
            &format!("/api/rooms/{room}/messages"),
            &json!({"text": text, "client_id": format!("c{}", unique())}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["message"]["id"].as_i64().unwrap()
}

/// Runs SQL on the test database (to date messages back for the day separators).
fn exec_sql(db: &TestDb, sqlite: &str, mysql: &str) {
    match backend() {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://");
            let mut conn = diesel::sqlite::SqliteConnection::establish(path).expect("open the test SQLite file");
            conn.batch_execute(&format!("PRAGMA busy_timeout = 5000; {sqlite}")).expect("SQL");
        }
        Backend::Mysql => off_runtime(|| {
            let mut conn = chatroom::db::MysqlConnection::establish(&db.url).expect("open the test database");
            conn.batch_execute(mysql).expect("SQL");
        }),
    }
}

/// Moves messages up to `last_id` back by `days` days.
fn date_back(server: &TestServer, first_id: i64, last_id: i64, days: u32) {
    exec_sql(
        &server.db,
        &format!(
            "UPDATE messages SET created_at = strftime('%Y-%m-%d %H:%M:%f', created_at, '-{days} days') \
             WHERE id BETWEEN {first_id} AND {last_id}"
        ),
        &format!(
            "UPDATE messages SET created_at = created_at - INTERVAL {days} DAY WHERE id BETWEEN {first_id} AND {last_id}"
        ),
    );
}

/// What the chat page shows, message by message: id (0 while pending), author, text,
/// and whether it is still pending.
async fn messages(browser: &Browser) -> Vec<Value> {
    let list = browser
        .js("return Array.from(document.querySelectorAll('#message-list .message')).map(li => ({
                id: Number(li.dataset.id || 0),
                author: li.querySelector('.author').textContent,
                text: li.querySelector('.text').textContent,
                pending: li.classList.contains('pending'),
            }))")
        .await;
    list.as_array().cloned().unwrap_or_default()
}

/// Waits until the chat page shows a message with this text from this author.
async fn wait_for_message(browser: &Browser, author: &str, text: &str) {
    let script = format!(
        "return Array.from(document.querySelectorAll('#message-list .message:not(.pending)'))
            .some(li => li.querySelector('.author').textContent === {} && li.querySelector('.text').textContent === {})",
        json!(author),
        json!(text)
    );
    browser.wait_until(&format!("{author}'s message {text:?}"), &script, |v| v == true).await;
}

// ---- the look of it ----

#[tokio::test]
async fn screenshots_of_every_page_at_phone_and_desktop_width() {
    let server = TestServer::start();
    let alice = person(&server, "Alice").await;
    let bob = person(&server, "Bob Li").await;
    let carol = person(&server, "carol").await;

    // Two days ago and yesterday, then today: day separators.
    let first = post(&bob, "lobby", "Morning all! Has anyone tried the new build?").await;
    post(&alice, "lobby", "Yes, it starts in under a second now 🚀").await;
    let last = post(&carol, "lobby", "Nice. I will deploy it to staging tonight.").await;
    date_back(&server, first, last, 2);
    let first = post(&bob, "lobby", "Staging looks good. Logs are clean.").await;
    post(&bob, "lobby", "Shall we ship on Monday?").await;
    let last = post(&alice, "lobby", "Monday works for me 👍").await;
    date_back(&server, first, last, 1);
    post(&carol, "lobby", "Coffee first ☕").await;
    let read = post(&alice, "lobby", "Agreed. See you at 10.").await;
    assert_eq!(alice.post_json("/api/rooms/lobby/read", &json!({"message_id": read})).await.0, StatusCode::NO_CONTENT);
    // What Alice has not read yet: below the "New messages" divider.
    post(&bob, "lobby", "Release notes are up: please have a look before the call 📝").await;
    post(&carol, "lobby", "Looks great 🎉 One typo in the second paragraph, otherwise ready.").await;
    post(&bob, "lobby", "Fixed, thanks!").await;

    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "design"})).await.0, StatusCode::CREATED);
    post(&alice, "design", "Sketches for the new onboarding are in the shared folder.").await;
    let (_, direct) = bob.post_json("/api/direct", &json!({"nickname": "Alice"})).await;
    let dm = direct["room"]["name"].as_str().unwrap().to_owned();
    post(&bob, &dm, "Got a minute after the call?").await;
    alice.post_json("/api/rooms", &json!({"name": "random"})).await;

    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), PHONE).await;
    browser.goto("/register").await;
    browser.screenshot("register-390").await;
    browser.goto("/login").await;
    browser.screenshot("login-390").await;
    browser.resize(DESKTOP).await;
    browser.screenshot("login-1280").await;
    browser.goto("/register").await;
    browser.screenshot("register-1280").await;

    log_in(&browser, &alice).await;
    browser.wait_until("the unread count in the title", "return document.title", |t| t == "(4) Rooms · chatroom").await;
    browser.screenshot("rooms-1280").await;
    browser.resize(PHONE).await;
    browser.screenshot("rooms-390").await;

    // Bob is online and typing while Alice reads.
    let mut bob_ws = bob.ws(&server).await;
    bob_ws.join("lobby").await;
    open_room(&browser, "lobby").await;
    browser.wait_for_text("#online-count", "2").await;
    browser.wait_for_text(".new-divider", "New messages").await;
    bob_ws.send(json!({"type": "typing", "room": "lobby"})).await;
    browser.wait_for_text("#typing", "Bob Li is typing").await;
    browser.screenshot("chat-390").await;
    browser.resize(DESKTOP).await;
    bob_ws.send(json!({"type": "typing", "room": "lobby"})).await;
    browser.wait_for_text("#typing", "Bob Li is typing").await;
    browser.screenshot("chat-1280").await;
}
