//! Accessibility as a tool measures it: axe-core (from npm, tests/browser/axe) injected
//! into every page (login and register, with and without field errors; the room list
//! with private and direct rooms and its suggestions open; a chat with links, mentions,
//! a reply, reactions, an edit and a delete; a room's menu; search results; settings;
//! an invite; an error page; the room browser has its own in directory.rs) at phone and desktop width, in the light and the dark scheme. Any
//! violation of any rule axe runs by default fails the test, with every one listed.
//! Each page's screenshot in each scheme lands in `target/screenshots/`.

use super::*;

/// Waits for the page to have drawn what it loads by script.
async fn settled(browser: &Browser, ready: &str) {
    browser.wait_until(&format!("the page ready ({ready})"), ready, |v| v == true).await;
    // Transitions (a dialog, a colour change) at rest before axe reads colours.
    browser.js("return new Promise(r => setTimeout(() => r(true), 350))").await;
}

/// Scans the page the browser shows, noting what is wrong under `name`.
async fn scan(browser: &Browser, name: &str, problems: &mut Vec<String>) {
    for violation in browser.accessibility_violations().await {
        problems.push(format!("{name}: {violation}"));
    }
    browser.screenshot(name).await;
}

const ALWAYS: &str = "return document.readyState === 'complete'";

async fn every_page(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    person(&server, "bobby").await;
    let (status, _) = alice.post_json("/api/rooms", &json!({"name": "plans", "private": true})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = alice.post_json("/api/rooms/plans/invites", &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let invite = body["invite"]["code"].as_str().unwrap().to_owned();
    let (status, _) = bob.post_json("/api/direct", &json!({"nickname": "alice"})).await;
    assert!(status.is_success());
    let first = post(&alice, "lobby", "Hello all, the notes are at https://example.org/notes").await;
    let reply = bob
        .post_json(
            "/api/rooms/lobby/messages",
            &json!({"text": "@alice thanks, reading them now", "client_id": "r1", "reply_to": first}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::CREATED);
    let edited = post(&bob, "lobby", "A typo here").await;
    assert_eq!(
        bob.patch_json(&format!("/api/rooms/lobby/messages/{edited}"), &json!({"text": "No typo here"})).await.0,
        StatusCode::OK
    );
    let gone = post(&bob, "lobby", "Never mind").await;
    assert_eq!(bob.delete(&format!("/api/rooms/lobby/messages/{gone}")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(bob.put(&format!("/api/rooms/lobby/messages/{first}/reactions/👍")).await.0, StatusCode::NO_CONTENT);

    let driver = Driver::start();
    let (stranger, a) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), size).await);
    log_in(&a, &alice).await;
    let w = size.0;
    let mut problems = Vec::new();
    for scheme in ["light", "dark"] {
        stranger.color_scheme(scheme).await;
        a.color_scheme(scheme).await;
        let at = |page: &str| format!("a11y-{page}-{scheme}-{w}");

        stranger.goto("/login").await;
        scan(&stranger, &at("login"), &mut problems).await;
        stranger.goto("/register").await;
        scan(&stranger, &at("register"), &mut problems).await;
        stranger.click("form[action='/register'] button[type=submit]").await;
        stranger.find(".field-error").await;
        scan(&stranger, &at("register-errors"), &mut problems).await;
        stranger.goto("/login").await;
        stranger.fill("#phone", &alice.phone).await;
        stranger.fill("#password", "wrong password").await;
        stranger.click("form[action='/login'] button[type=submit]").await;
        stranger.find(".form-error, .field-error, [role=alert]").await;
        scan(&stranger, &at("login-error"), &mut problems).await;

        a.goto("/rooms").await;
        settled(&a, ALWAYS).await;
        scan(&a, &at("rooms"), &mut problems).await;
        a.find("#direct-nickname").await.send_keys("bo").await.expect("type");
        a.wait_until("suggestions", "return !document.getElementById('people-list').hidden", |v| v == true).await;
        for violation in a.accessibility_violations().await {
            problems.push(format!("{}: {violation}", at("rooms-suggestions")));
        }
        a.screenshot_with_focus(&at("rooms-suggestions")).await;

        a.goto("/rooms/lobby").await;
        a.wait_for_text("#status", "Online").await;
        settled(&a, "return document.querySelectorAll('#message-list .message').length >= 4").await;
        scan(&a, &at("chat"), &mut problems).await;

        a.goto("/rooms/plans").await;
        a.wait_for_text("#status", "Online").await;
        a.click("#room-menu-toggle").await;
        settled(&a, "return document.getElementById('room-menu').open").await;
        scan(&a, &at("room-menu"), &mut problems).await;

        a.goto("/search?q=notes").await;
        settled(&a, "return document.querySelectorAll('#search-results .search-result').length > 0").await;
        scan(&a, &at("search"), &mut problems).await;

        a.goto("/settings").await;
        settled(&a, ALWAYS).await;
        scan(&a, &at("settings"), &mut problems).await;

        stranger.goto(&format!("/invite/{invite}")).await;
        settled(&stranger, ALWAYS).await;
        scan(&stranger, &at("invite"), &mut problems).await;

        a.goto("/rooms/no-such-room").await;
        settled(&a, ALWAYS).await;
        scan(&a, &at("not-found"), &mut problems).await;
    }
    assert!(problems.is_empty(), "axe-core found {} violation(s) at {w} px:\n{}", problems.len(), problems.join("\n"));
}

#[tokio::test]
async fn every_page_passes_axe_core_in_both_schemes_at_phone_width() {
    every_page(PHONE).await;
}

#[tokio::test]
async fn every_page_passes_axe_core_in_both_schemes_at_desktop_width() {
    every_page(DESKTOP).await;
}
