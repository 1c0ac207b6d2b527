//! The product as a person sees it: Debian's Chromium, headless, against the real server.
//!
//! Each test starts the server (tests/common) and its own chromedriver, opens one browser
//! per person, and asserts what that person sees. The screenshots of the main pages at
//! phone and desktop width land in `target/screenshots/`.

use chatroom_testkit as common;
#[path = "browser/accessibility.rs"]
mod accessibility;
#[path = "browser/directory.rs"]
mod directory;
#[path = "browser/driver.rs"]
mod driver;
#[path = "browser/lifecycle.rs"]
mod lifecycle;
#[path = "browser/moderation.rs"]
mod moderation;
#[path = "browser/polish.rs"]
mod polish;
#[path = "browser/search.rs"]
mod search;
#[path = "browser/settings.rs"]
mod settings;

use common::*;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use driver::*;
use fantoccini::key::Key;
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
            let mut conn = MysqlConnection::establish(&db.url).expect("open the test database");
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

/// The messages the chat page shows, top to bottom: `[id, author, text, pending]`
/// (id 0 while a message is pending).
const SHOWN: &str = "return Array.from(document.querySelectorAll('#message-list .message')).map(li => [
    Number(li.dataset.id || 0),
    li.querySelector('.author').textContent,
    li.querySelector('.text').textContent,
    li.classList.contains('pending'),
])";

/// The texts of the stored (acknowledged) messages shown, top to bottom.
fn stored_texts(shown: &Value) -> Vec<String> {
    let rows = shown.as_array().cloned().unwrap_or_default();
    rows.iter().filter(|r| r[3] == false).map(|r| r[2].as_str().unwrap_or_default().to_owned()).collect()
}

/// Waits until the chat page shows exactly these messages, in this order, each once,
/// none pending, in ascending id order; returns their ids.
async fn wait_for_exactly(browser: &Browser, texts: &[&str]) -> Vec<i64> {
    let shown = browser
        .wait_until(&format!("exactly the messages {texts:?}"), SHOWN, |shown| {
            let rows = shown.as_array().cloned().unwrap_or_default();
            rows.iter().all(|r| r[3] == false) && stored_texts(shown) == texts
        })
        .await;
    let ids: Vec<i64> = shown.as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend with no repeat: {ids:?}");
    ids
}

/// The texts stored in a room, oldest first, once at least `count` are there (10 s at most).
async fn stored_texts_once_there(client: &Client, room: &str, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = client.get_json(&format!("/api/rooms/{room}/messages")).await;
        let texts: Vec<String> = body["messages"]
            .as_array()
            .map(|ms| ms.iter().map(|m| m["text"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default();
        if texts.len() >= count || std::time::Instant::now() > deadline {
            return texts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits until the chat page shows a stored message with this text from this author.
async fn wait_for_message(browser: &Browser, author: &str, text: &str) {
    let (author, text) = (author.to_owned(), text.to_owned());
    browser
        .wait_until(&format!("{author}'s message {text:?}"), SHOWN, |shown| {
            let rows = shown.as_array().cloned().unwrap_or_default();
            rows.iter().any(|r| r[1] == author.as_str() && r[2] == text.as_str() && r[3] == false)
        })
        .await;
}

/// Types into the message box and presses Enter.
async fn say(browser: &Browser, text: &str) {
    browser.find("#draft").await.send_keys(&format!("{text}{}", Key::Enter)).await.expect("type a message");
}

/// The field error shown for an input: its text, and whether it sits right under the
/// input, inside the same field, and is tied to it for screen readers.
async fn field_error(browser: &Browser, input: &str) -> (String, bool) {
    let script = format!(
        "const input = document.querySelector({input});
         const ids = (input.getAttribute('aria-describedby') || '').split(' ');
         const error = input.closest('.field').querySelector('.field-error');
         if (!error) return ['', false];
         const gap = error.getBoundingClientRect().top - input.getBoundingClientRect().bottom;
         return [error.textContent, ids.includes(error.id) && input.getAttribute('aria-invalid') === 'true'
             && gap >= 0 && gap < 24 && getComputedStyle(error).display !== 'none'];",
        input = json!(input)
    );
    let value = browser.js(&script).await;
    (value[0].as_str().unwrap_or_default().to_owned(), value[1] == true)
}

/// The unread badge of a room in the room list ("" without one).
fn badge_script(room: &str) -> String {
    format!(
        "const b = document.querySelector('a[data-room={room}] .badge'); return b ? b.firstChild.textContent : ''",
        room = json!(room)
    )
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

    // The start of the conversation: a day separator per day, the oldest by its date.
    let separators =
        browser.js("return Array.from(document.querySelectorAll('.day-separator')).map(s => s.textContent)").await;
    let separators: Vec<&str> = separators.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(separators.len(), 3, "{separators:?}");
    assert!(separators[0].contains(char::is_numeric), "a date two days back: {separators:?}");
    assert_eq!(separators[1..], ["Yesterday", "Today"]);
    browser.js("document.getElementById('messages').scrollTop = 0").await;
    browser.wait_for_text("#history-edge", "beginning of the conversation").await;
    browser.screenshot("chat-top-1280").await;
}

// ---- accounts ----

#[tokio::test]
async fn registering_shows_each_field_error_next_to_its_field_then_opens_the_rooms() {
    let server = TestServer::start();
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), PHONE).await;
    browser.goto("/register").await;
    browser.fill("#phone", "12345").await;
    browser.fill("#password", "short").await;
    browser.fill("#password_confirm", "short").await;
    browser.click("form[action='/register'] button[type=submit]").await;
    browser.find("#phone-error").await;

    let (text, placed) = field_error(&browser, "#phone").await;
    assert!(text.contains("not a valid phone number"), "{text}");
    assert!(placed, "the phone error sits under the phone field");
    let (text, placed) = field_error(&browser, "#nickname").await;
    assert_eq!(text, "Choose a nickname.");
    assert!(placed, "the nickname error sits under the nickname field");
    let (text, placed) = field_error(&browser, "#password").await;
    assert!(text.contains("at least 8 characters"), "{text}");
    assert!(placed, "the password error sits under the password field");
    assert_eq!(browser.js("return document.getElementById('phone').value").await, "12345", "the phone is kept");
    assert_eq!(browser.js("return document.getElementById('password').value").await, "", "a password never is");
    browser.screenshot("register-errors-390").await;

    let phone = fresh_phone();
    browser.fill("#phone", &phone).await;
    browser.fill("#nickname", "alice").await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#password_confirm", "another password").await;
    browser.click("form[action='/register'] button[type=submit]").await;
    browser.find("#password_confirm-error").await;
    let (text, placed) = field_error(&browser, "#password_confirm").await;
    assert_eq!(text, "The two passwords differ.");
    assert!(placed, "the confirmation error sits under its field");
    assert_eq!(field_error(&browser, "#phone").await.0, "", "the fixed fields have no error left");
    assert_eq!(browser.js("return document.getElementById('nickname').value").await, "alice");

    browser.fill("#password", PASSWORD).await;
    browser.fill("#password_confirm", PASSWORD).await;
    browser.click("form[action='/register'] button[type=submit]").await;
    browser.wait_for_path("/rooms").await;
    let shown =
        "const r = document.querySelector('.me-name').getBoundingClientRect(); return r.width > 1 && r.height > 1";
    assert_eq!(browser.js(shown).await, false, "the nickname is hidden at phone width");
    let name = "const name = document.querySelector('.me-name');
        return getComputedStyle(name).display === 'none' ? '' : name.textContent";
    assert_eq!(browser.js(name).await, "alice", "screen readers still hear whose settings the link opens");
    assert_eq!(browser.js("return document.querySelector('.me').title").await, "Logged in as alice: settings");
    browser.wait_for_text("#room-list", "#lobby").await;
}

#[tokio::test]
async fn logging_in_with_a_wrong_password_says_so_and_the_right_one_opens_the_rooms() {
    let server = TestServer::start();
    let alice = person(&server, "alice").await;
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), DESKTOP).await;
    browser.goto("/rooms").await;
    browser.wait_for_path("/login").await;

    browser.fill("#phone", &alice.phone).await;
    browser.fill("#password", "not the password").await;
    browser.click("form[action='/login'] button[type=submit]").await;
    assert_eq!(browser.text(".alert").await, "Wrong phone number or password.");
    assert_eq!(browser.path().await, "/login");
    assert_eq!(browser.js("return document.getElementById('phone').value").await, alice.phone.as_str());

    browser.fill("#password", PASSWORD).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    browser.wait_for_path("/rooms").await;
    assert_eq!(browser.text(".me-name").await, "alice");
}

#[tokio::test]
async fn logging_out_ends_the_session_and_returns_to_the_login_page() {
    let server = TestServer::start();
    let alice = person(&server, "alice").await;
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), DESKTOP).await;
    log_in(&browser, &alice).await;
    open_room(&browser, "lobby").await;

    browser.click(".topnav button[type=submit]").await;
    browser.wait_for_path("/login").await;
    browser.goto("/rooms/lobby").await;
    browser.wait_for_path("/login").await;
    let status = browser.js("return fetch('/api/me').then(r => r.status)").await;
    assert_eq!(status, 401, "the session is over, not just the page");
}

// ---- rooms ----

#[tokio::test]
async fn the_room_list_shows_the_rooms_and_creating_one_opens_it() {
    let server = TestServer::start();
    let alice = person(&server, "alice").await;
    post(&alice, "lobby", "first words 👋").await;
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), DESKTOP).await;
    log_in(&browser, &alice).await;
    let lobby = browser.text("a[data-room=lobby]").await;
    assert!(lobby.contains("#lobby") && lobby.contains("You: first words 👋"), "{lobby}");
    let time = browser.js("return document.querySelector('a[data-room=lobby] time').textContent").await;
    assert!(time.as_str().unwrap().contains(':'), "the preview has a local time of day: {time}");

    browser.fill("#room-name", "Team Talk").await;
    browser.click("form[action='/rooms'] button[type=submit]").await;
    browser.find("#room-name-error").await;
    let (text, placed) = field_error(&browser, "#room-name").await;
    assert!(text.starts_with("A room name is 1 to 64 lowercase letters"), "{text}");
    assert!(placed, "the error sits under the name field");
    assert_eq!(browser.js("return document.getElementById('room-name').value").await, "Team Talk");

    browser.fill("#room-name", "team-talk").await;
    browser.click("form[action='/rooms'] button[type=submit]").await;
    browser.wait_for_path("/rooms/team-talk").await;
    assert_eq!(browser.text("#chat-title").await, "#team-talk");
    browser.wait_for_text("#status", "Online").await;
    assert_eq!(browser.text("#history-edge").await, "This is the beginning of the conversation.");

    browser.click("a.back").await;
    browser.wait_for_path("/rooms").await;
    browser.wait_for_text("#room-list", "#team-talk").await;
    browser.fill("#room-name", "team-talk").await;
    browser.click("form[action='/rooms'] button[type=submit]").await;
    browser.find("#room-name-error").await;
    assert_eq!(field_error(&browser, "#room-name").await, ("A room with this name already exists.".into(), true));
}

// ---- chatting ----

#[tokio::test]
async fn two_people_chat_both_ways_and_see_each_other_type_come_and_go() {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), DESKTOP).await, driver.browser(&server.url(""), PHONE).await);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    open_room(&a, "lobby").await;
    open_room(&b, "lobby").await;

    // Presence: each sees the other online (at phone width, behind the People button).
    a.wait_for_text("#member-list", "bob").await;
    b.wait_for_text("#online-count", "2").await;
    assert!(!b.find("#members").await.is_displayed().await.unwrap(), "the list is folded away on a phone");
    b.click("#members-toggle").await;
    assert!(b.find("#members").await.is_displayed().await.unwrap());
    assert!(b.text("#member-list").await.contains("alice"));
    b.screenshot("chat-people-390").await;
    b.click("#members-close").await;
    assert!(!b.find("#members").await.is_displayed().await.unwrap(), "and closes again");

    // Typing, then the message, to the other and back to the sender once.
    a.find("#draft").await.send_keys("hello bob 👋").await.unwrap();
    b.wait_for_text("#typing", "alice is typing…").await;
    a.keys(&Key::Enter.to_string()).await;
    wait_for_message(&b, "alice", "hello bob 👋").await;
    wait_for_exactly(&a, &["hello bob 👋"]).await;
    assert_eq!(a.js("return document.getElementById('draft').value").await, "", "the draft is cleared once sent");
    b.wait_for_text("#announcer", "alice: hello bob 👋").await;

    // Shift+Enter starts a new line; the Send button sends.
    let two_lines = format!("hi alice!{}{}{}how are you?", Key::Shift, Key::Enter, Key::Null);
    b.find("#draft").await.send_keys(&two_lines).await.unwrap();
    b.click("#send").await;
    wait_for_message(&a, "bob", "hi alice!\nhow are you?").await;
    a.wait_for_text("#announcer", "bob: hi alice!").await;
    let a_ids = wait_for_exactly(&a, &["hello bob 👋", "hi alice!\nhow are you?"]).await;
    let b_ids = wait_for_exactly(&b, &["hello bob 👋", "hi alice!\nhow are you?"]).await;
    assert_eq!(a_ids, b_ids, "both see the same messages");

    // What the page shows around a message: the sender's initials and a local time.
    let details = a
        .js("const li = document.querySelector('#message-list .message:not(.mine)');
             return [li.querySelector('.avatar').textContent, li.querySelector('time').textContent,
                     document.querySelector('.day-separator').textContent]")
        .await;
    assert_eq!(details[0], "B");
    assert!(details[1].as_str().unwrap().contains(':'), "a local time of day: {details}");
    assert_eq!(details[2], "Today");

    // Bob leaves: Alice sees him go.
    b.goto("/rooms").await;
    a.wait_until("bob to leave the member list", "return document.getElementById('member-list').textContent", |t| {
        !t.as_str().unwrap_or_default().contains("bob")
    })
    .await;
    assert_eq!(a.js("return document.getElementById('online-count').textContent").await, "1");
}

#[tokio::test]
async fn scrolling_back_loads_older_history_until_the_beginning() {
    let server = TestServer::start_with(&[
        ("CHATROOM_LIMITS_HISTORY_DEFAULT", "20"),
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "1000"),
        ("CHATROOM_LIMITS_SEND_BURST", "1000"),
    ]);
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let texts: Vec<String> = (1..=75).map(|i| format!("message {i}")).collect();
    for text in &texts {
        post(&bob, "lobby", text).await;
    }
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), PHONE).await;
    log_in(&browser, &alice).await;
    open_room(&browser, "lobby").await;
    wait_for_message(&browser, "bob", "message 75").await;
    let first = stored_texts(&browser.js(SHOWN).await);
    assert!(first.len() < 75 && first.last().unwrap() == "message 75", "the latest page first: {first:?}");
    assert!(!browser.find("#history-edge").await.is_displayed().await.unwrap());

    // Scroll to the top, again and again, as a reader going back in time would.
    browser
        .wait_until(
            "the whole history after scrolling back",
            "const s = document.getElementById('messages'); s.scrollTop = 0;
             return [document.querySelectorAll('#message-list .message').length,
                     !document.getElementById('history-edge').hidden]",
            |v| v[0] == 75 && v[1] == true,
        )
        .await;
    let all: Vec<&str> = texts.iter().map(String::as_str).collect();
    wait_for_exactly(&browser, &all).await;
    assert_eq!(browser.js("return document.querySelectorAll('.day-separator').length").await, 1);
}

#[tokio::test]
async fn after_a_server_restart_the_page_reconnects_by_itself_with_nothing_missing_or_doubled() {
    let mut server = TestServer::start();
    let (alice, bob, carol) =
        (person(&server, "alice").await, person(&server, "bob").await, person(&server, "carol").await);
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), DESKTOP).await, driver.browser(&server.url(""), PHONE).await);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    open_room(&a, "lobby").await;
    open_room(&b, "lobby").await;
    say(&a, "before the restart").await;
    wait_for_message(&b, "alice", "before the restart").await;

    // Every state the status line goes through, as the person would see it.
    a.js("window.statuses = [];
          const status = document.getElementById('status');
          new MutationObserver(() => window.statuses.push(status.textContent))
              .observe(status, {childList: true, characterData: true, subtree: true});")
        .await;
    server.kill();
    a.wait_for_text("#status", "Offline").await;
    b.wait_for_text("#status", "Offline").await;
    // Written while the server is down: it waits, visibly, and goes once it is back.
    say(&a, "written while offline").await;
    a.wait_for_text("#message-list .pending time", "waiting for the connection").await;

    server.restart();
    post(&carol, "lobby", "posted while they were reconnecting").await;
    a.wait_for_text("#status", "Online").await;
    b.wait_for_text("#status", "Online").await;
    // Carol's post and the waiting message race (the page's reconnection timer may fire
    // before or after her post lands), so the stored order decides what both pages show.
    let stored = stored_texts_once_there(&carol, "lobby", 3).await;
    let mut each_once = stored.clone();
    each_once.sort();
    assert_eq!(
        each_once,
        ["before the restart", "posted while they were reconnecting", "written while offline"],
        "stored once each"
    );
    let expected: Vec<&str> = stored.iter().map(String::as_str).collect();
    assert_eq!(expected[0], "before the restart");
    let a_ids = wait_for_exactly(&a, &expected).await;
    let b_ids = wait_for_exactly(&b, &expected).await;
    assert_eq!(a_ids, b_ids);
    let statuses = a.js("return window.statuses").await;
    let statuses: Vec<&str> = statuses.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let seen = |prefix: &str| statuses.iter().position(|s| s.starts_with(prefix));
    let (offline, reconnecting, back) = (seen("Offline. Reconnecting in"), seen("Reconnecting…"), seen("Back online"));
    assert!(
        offline.is_some() && offline < reconnecting && reconnecting < back,
        "offline, then reconnecting, then back: {statuses:?}"
    );

    say(&b, "and we carry on").await;
    wait_for_message(&a, "bob", "and we carry on").await;
}

#[tokio::test]
async fn a_direct_room_opens_from_the_room_list_and_only_the_two_of_them_get_in() {
    let server = TestServer::start();
    let (alice, bob, carol) =
        (person(&server, "alice").await, person(&server, "bob").await, person(&server, "carol").await);
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), DESKTOP).await, driver.browser(&server.url(""), DESKTOP).await);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;

    a.fill("#direct-nickname", "nobody").await;
    a.click("form[action='/direct'] button[type=submit]").await;
    a.find("#direct-nickname-error").await;
    assert_eq!(field_error(&a, "#direct-nickname").await, ("Nobody has this nickname.".into(), true));

    a.fill("#direct-nickname", "bob").await;
    a.click("form[action='/direct'] button[type=submit]").await;
    a.wait_until("a direct room", "return location.pathname", |p| p.as_str().unwrap().starts_with("/rooms/dm-")).await;
    assert_eq!(a.text("#chat-title").await, "bob");
    a.wait_for_text("#status", "Online").await;
    say(&a, "just between us").await;
    wait_for_exactly(&a, &["just between us"]).await;
    let room = a.path().await.trim_start_matches("/rooms/").to_owned();

    // Bob's open room list shows the new conversation, unread, without a reload.
    let link = format!("a[data-room={room}]");
    b.wait_for_text(&link, "alice").await;
    b.wait_until("the unread badge", &badge_script(&room), |v| v == "1").await;
    b.click(&link).await;
    b.wait_for_text("#status", "Online").await;
    assert_eq!(b.text("#chat-title").await, "alice");
    wait_for_exactly(&b, &["just between us"]).await;
    say(&b, "agreed").await;
    wait_for_message(&a, "bob", "agreed").await;

    let page = carol.get(&format!("/rooms/{room}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "a third person is kept out, as if the room did not exist");
}

#[tokio::test]
async fn unread_badges_and_the_title_count_follow_new_and_read_messages() {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    post(&alice, "lobby", "already read").await;
    let driver = Driver::start();
    let b = driver.browser(&server.url(""), PHONE).await;
    log_in(&b, &bob).await;
    open_room(&b, "lobby").await; // Bob is a member from here on
    b.goto("/rooms").await;
    assert_eq!(b.js(&badge_script("lobby")).await, "");
    assert_eq!(b.js("return document.title").await, "Rooms · chatroom");

    post(&alice, "lobby", "are you there?").await;
    b.wait_until("a badge of 1", &badge_script("lobby"), |v| v == "1").await;
    post(&alice, "lobby", "news: the release is out 🎉").await;
    b.wait_until("a badge of 2", &badge_script("lobby"), |v| v == "2").await;
    b.wait_until("the count in the title", "return document.title", |t| t == "(2) Rooms · chatroom").await;
    b.wait_for_text("a[data-room=lobby] .room-preview", "alice: news: the release is out 🎉").await;

    b.click("a[data-room=lobby]").await;
    b.wait_for_text("#status", "Online").await;
    wait_for_exactly(&b, &["already read", "are you there?", "news: the release is out 🎉"]).await;
    let after_divider = b
        .js("const d = document.querySelector('.new-divider');
             return d ? d.nextElementSibling.querySelector('.text').textContent : null")
        .await;
    assert_eq!(after_divider, "are you there?", "the divider sits above the first unread message");

    // While the tab is hidden, the chat page's title counts what comes in.
    b.js("window.open('/rooms', 'other')").await;
    let handles = b.client.windows().await.unwrap();
    let chat = b.client.window().await.unwrap();
    let other = handles.into_iter().find(|h| *h != chat).unwrap();
    b.client.switch_to_window(other).await.unwrap();
    b.wait_until("the chat tab to be hidden", "return window.opener.document.hidden", |v| v == true).await;
    post(&alice, "lobby", "one more").await;
    b.wait_until("the hidden chat tab to count it", "return window.opener.document.title", |t| {
        t == "(1) lobby · chatroom"
    })
    .await;
    b.wait_until("the unread badge on the other tab", &badge_script("lobby"), |v| v == "1").await;
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(chat).await.unwrap();

    b.goto("/rooms").await;
    b.wait_until("no badge once read", &badge_script("lobby"), |v| v == "").await;
    assert_eq!(b.js("return document.title").await, "Rooms · chatroom");
}

// ---- what a person expects ----

/// Records every text the composer's error line shows from now on (into
/// `window.shownErrors`), so a short-lived notice is still seen by the test.
const RECORD_ERRORS: &str = "window.shownErrors = [];
    const line = document.getElementById('composer-error');
    new MutationObserver(() => { if (!line.hidden && line.textContent) window.shownErrors.push(line.textContent); })
        .observe(line, {childList: true, characterData: true, subtree: true, attributes: true});";

#[tokio::test]
async fn a_refused_send_says_why_and_keeps_the_text() {
    let server = TestServer::start_with(&[
        ("CHATROOM_LIMITS_MAX_TEXT_CHARS", "40"),
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "1"),
        ("CHATROOM_LIMITS_SEND_BURST", "1"),
    ]);
    let alice = person(&server, "alice").await;
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), PHONE).await;
    log_in(&browser, &alice).await;
    open_room(&browser, "lobby").await;
    let draft = "return document.getElementById('draft').value";

    // Too long: the reason, the count, and the text stays to be shortened.
    let long = "This message is far too long for this room.";
    say(&browser, long).await;
    let error = browser.wait_for_text("#composer-error", "Too long to send").await;
    assert_eq!(error, "Too long to send: 43 characters, and a message has at most 40.");
    assert_eq!(browser.js(draft).await, long, "the draft is kept");
    assert_eq!(browser.text("#draft-count").await, "43 / 40");
    assert_eq!(stored_texts(&browser.js(SHOWN).await), Vec::<String>::new(), "nothing was sent");
    browser.screenshot("chat-too-long-390").await;
    browser.fill("#draft", "Short enough.").await;
    assert!(!browser.find("#composer-error").await.is_displayed().await.unwrap(), "the error goes once fixed");
    browser.keys(&Key::Enter.to_string()).await;
    wait_for_exactly(&browser, &["Short enough."]).await;

    // Over the rate limit: told why; the message waits and goes by itself, once.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // a fresh token, so "one" passes
    browser.js(RECORD_ERRORS).await;
    say(&browser, &format!("one{}two", Key::Enter)).await;
    wait_for_exactly(&browser, &["Short enough.", "one", "two"]).await;
    let shown = browser.js("return window.shownErrors").await;
    let shown: Vec<&str> = shown.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(
        shown.iter().any(|t| t.starts_with("Not sent yet: slow down") && t.ends_with("your message is kept.")),
        "the refusal was shown: {shown:?}"
    );
    browser
        .wait_until("the notice to go", "return document.getElementById('composer-error').hidden", |v| v == true)
        .await;

    // Storage unavailable: the same, until the database is back.
    exec_sql(&server.db, "ALTER TABLE messages RENAME TO messages_away", "RENAME TABLE messages TO messages_away");
    say(&browser, "three").await;
    let error = browser.wait_for_text("#composer-error", "temporarily unavailable").await;
    assert!(error.starts_with("Not sent yet: ") && error.ends_with("your message is kept."), "{error}");
    let pending = browser.text("#message-list .pending .text").await;
    assert_eq!(pending, "three", "the message is kept, waiting");
    browser.screenshot("chat-refused-390").await;
    exec_sql(&server.db, "ALTER TABLE messages_away RENAME TO messages", "RENAME TABLE messages_away TO messages");
    wait_for_exactly(&browser, &["Short enough.", "one", "two", "three"]).await;
    let (_, stored) = alice.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(stored["messages"].as_array().unwrap().len(), 4, "each stored once: {stored}");
}

/// Whether every form control on the page has a name a screen reader can say.
const UNLABELLED: &str = "return Array.from(document.querySelectorAll('input:not([type=hidden]), textarea, button, a'))
    .filter(e => e.getClientRects().length > 0)
    .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label') || e.textContent.trim()))
    .map(e => e.outerHTML)";

#[tokio::test]
async fn the_keyboard_alone_logs_in_opens_a_room_and_sends() {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let browser = driver.browser(&server.url(""), DESKTOP).await;
    let focused = "const e = document.activeElement; return e.id || e.getAttribute('href') || e.textContent.trim()";

    browser.goto("/register").await;
    assert_eq!(browser.js(UNLABELLED).await, json!([]), "every control on /register has a label");
    browser.goto("/login").await;
    assert_eq!(browser.js(UNLABELLED).await, json!([]), "every control on /login has a label");
    assert_eq!(browser.js(focused).await, "phone", "the page starts in the first field");
    browser.keys(&format!("{}{}", alice.phone, Key::Tab)).await;
    assert_eq!(browser.js(focused).await, "password");
    browser.keys(&format!("{PASSWORD}{}", Key::Tab)).await;
    assert_eq!(browser.js(focused).await, "Log in", "then the button");
    browser.keys(&Key::Enter.to_string()).await;
    browser.wait_for_path("/rooms").await;
    assert_eq!(browser.js(UNLABELLED).await, json!([]), "every control on /rooms has a label");

    // From the top of the page: the skip link first, then the header, then the rooms.
    browser.js("document.activeElement.blur()").await;
    browser
        .client
        .find(fantoccini::Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    assert_eq!(browser.js(focused).await, "#main", "a skip link comes first");
    let mut order = Vec::new();
    for _ in 0..7 {
        browser.keys(&Key::Tab.to_string()).await;
        order.push(browser.js(focused).await.as_str().unwrap().to_owned());
        if order.last().unwrap() == "/rooms/lobby" {
            break;
        }
    }
    assert_eq!(
        order,
        ["/", "/rooms", "/search", "/settings", "Log out", "/rooms/lobby"],
        "header first, then the room list"
    );
    browser.keys(&Key::Enter.to_string()).await;
    browser.wait_for_path("/rooms/lobby").await;
    browser.wait_for_text("#status", "Online").await;
    assert_eq!(browser.js(UNLABELLED).await, json!([]), "every control on the chat page has a label");
    assert_eq!(browser.js(focused).await, "draft", "the chat page starts in the message box");
    browser.keys(&format!("typed, not clicked{}", Key::Enter)).await;
    wait_for_exactly(&browser, &["typed, not clicked"]).await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(browser.js(focused).await, "send", "then the Send button");

    // Someone else's message is announced through the live region.
    let live = browser.js("return document.getElementById('announcer').getAttribute('aria-live')").await;
    assert_eq!(live, "polite");
    post(&bob, "lobby", "did you get this?").await;
    browser.wait_for_text("#announcer", "bob: did you get this?").await;
}
