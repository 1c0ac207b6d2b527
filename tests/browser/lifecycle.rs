//! Replies, edits, deletes and reactions on the chat page, as two people see them: each
//! action at phone width on one side and desktop width on the other, then the other
//! way round. Screenshots land in `target/screenshots/`.

use super::*;
use std::time::Duration;

/// The `<li>` of a stored message.
fn li(id: i64) -> String {
    format!("#message-list .message[data-id='{id}']")
}

/// The id of the stored message showing this text, once it shows.
async fn shown_id(browser: &Browser, text: &str) -> i64 {
    let script = format!(
        "const li = Array.from(document.querySelectorAll('#message-list .message[data-id]'))
             .find(li => li.querySelector('.text').textContent === {});
         return li ? Number(li.dataset.id) : null",
        json!(text)
    );
    browser.wait_until(&format!("the message {text:?}"), &script, Value::is_i64).await.as_i64().unwrap()
}

/// What a message shows, as a person would read it: its text, "(edited)" and its
/// tooltip, the quote above it, its reaction chips `[emoji, count, pressed, title]`,
/// whether it has a menu button, and whether it shows as deleted (null: not shown).
fn state_script(id: i64) -> String {
    format!(
        "const li = document.querySelector({css});
         if (!li) return null;
         const edited = li.querySelector('.edited');
         const quote = li.querySelector('.quote');
         return {{
             text: li.querySelector('.text').textContent,
             edited: edited ? [edited.textContent, edited.title] : null,
             quote: quote ? quote.textContent : null,
             reactions: Array.from(li.querySelectorAll('.reaction')).map(r => [
                 r.dataset.emoji, Number(r.querySelector('.reaction-count').textContent),
                 r.getAttribute('aria-pressed') === 'true', r.title]),
             actions: !!li.querySelector('.message-actions'),
             deleted: li.classList.contains('deleted'),
         }}",
        css = json!(li(id))
    )
}

/// Waits until the message shows a state `ready` accepts, and returns it.
async fn wait_state(browser: &Browser, id: i64, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    browser.wait_until(what, &state_script(id), |v| !v.is_null() && ready(v)).await
}

/// Opens a message's menu as with a mouse: over the message, then its "⋯" button.
async fn open_menu(browser: &Browser, id: i64) {
    browser.hover(&li(id)).await;
    browser.click(&format!("{} .message-actions", li(id))).await;
    browser.find("#menu-layer:not([hidden]) #message-menu").await;
}

/// Picks an item of the open menu (`[data-action=reply]`, `[data-emoji='👍']`).
async fn choose(browser: &Browser, item: &str) {
    browser.click(&format!("#message-menu {item}")).await;
}

/// What has the focus: its id, its menu action or emoji, or its class.
const FOCUSED: &str = "const e = document.activeElement;
    return e.id || e.dataset.action || (e.closest('#message-menu') ? e.dataset.emoji : e.className)";

fn draft_value() -> &'static str {
    "return document.getElementById('draft').value"
}

/// Posts a reply over HTTP.
async fn post_reply(client: &Client, room: &str, text: &str, reply_to: i64) -> i64 {
    let body = json!({"text": text, "client_id": format!("c{}", unique()), "reply_to": reply_to});
    let (status, body) = client.post_json(&format!("/api/rooms/{room}/messages"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["message"]["id"].as_i64().unwrap()
}

/// Two people in the lobby: Alice's browser at `size`, Bob's at `other`.
async fn two_in_the_lobby(
    server: &TestServer,
    driver: &Driver,
    (alice, bob): (&Client, &Client),
    size: (u32, u32),
    other: (u32, u32),
) -> (Browser, Browser) {
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    log_in(&a, alice).await;
    log_in(&b, bob).await;
    open_room(&a, "lobby").await;
    open_room(&b, "lobby").await;
    (a, b)
}

fn width(size: (u32, u32)) -> u32 {
    size.0
}

// ---- replies ----

async fn replies(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let original = post(&bob, "lobby", "Where is the release checklist?\nI looked everywhere.").await;
    for i in 1..=60 {
        post(&alice, "lobby", &format!("filler {i}")).await;
    }
    let answer = post_reply(&bob, "lobby", "Found it: docs/release.md", original).await;
    let driver = Driver::start();
    let (a, b) = two_in_the_lobby(&server, &driver, (&alice, &bob), size, other).await;
    let w = width(size);

    // The original is older than the page loaded: its quote is fetched, author and
    // first line.
    a.wait_for_text(&format!("{} .quote", li(answer)), "bob Where is the release checklist?").await;
    assert_eq!(a.js(&format!("return !!document.querySelector({})", json!(li(original)))).await, false);
    a.click(&format!("{} .quote", li(answer))).await;
    let in_view = format!(
        "const li = document.querySelector({});
         if (!li) return false;
         const r = li.getBoundingClientRect(), s = document.getElementById('messages').getBoundingClientRect();
         return li.classList.contains('highlight') && r.top >= s.top && r.bottom <= s.bottom",
        json!(li(original))
    );
    a.wait_until("the original scrolled to and highlighted", &in_view, |v| v == true).await;
    a.screenshot(&format!("chat-reply-jump-{w}")).await;

    // Replying from the menu: the composer says to whom, Escape gives it up.
    a.click("#jump").await;
    open_menu(&a, answer).await;
    choose(&a, "[data-action=reply]").await;
    assert_eq!(a.text("#composer-mode-text-wrap").await, "Replying to bob: Found it: docs/release.md");
    assert_eq!(a.js(FOCUSED).await, "draft", "the reply is typed at once");
    a.keys(&Key::Escape.to_string()).await;
    a.wait_until("the reply given up", "return document.getElementById('composer-mode').hidden", |v| v == true).await;
    open_menu(&a, answer).await;
    choose(&a, "[data-action=reply]").await;
    a.keys("Thanks, on it!").await;
    a.screenshot(&format!("chat-replying-{w}")).await;
    say(&a, "").await;
    for browser in [&a, &b] {
        let id = shown_id(browser, "Thanks, on it!").await;
        wait_state(browser, id, "the reply with its quote", |s| s["quote"] == "bob Found it: docs/release.md").await;
    }
    assert!(!a.find("#composer-mode").await.is_displayed().await.unwrap(), "the reply mode ends with the send");
    b.screenshot(&format!("chat-replied-{}", width(other))).await;
    let id = shown_id(&a, "Thanks, on it!").await;
    let (_, stored) = alice.get_json(&format!("/api/rooms/lobby/messages/{id}")).await;
    assert_eq!(stored["message"]["reply_to"], answer, "the send frame carried reply_to: {stored}");

    // Bob jumps from the quote to the message it answers, which he has on screen.
    b.click(&format!("{} .quote", li(id))).await;
    b.wait_until("bob's jump", &in_view.replace(&li(original), &li(answer)), |v| v == true).await;
}

#[tokio::test]
async fn a_reply_quotes_its_original_and_the_quote_leads_back_to_it_at_phone_width() {
    replies(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn a_reply_quotes_its_original_and_the_quote_leads_back_to_it_at_desktop_width() {
    replies(DESKTOP, PHONE).await;
}

// ---- edits ----

async fn edits(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let (a, b) = two_in_the_lobby(&server, &driver, (&alice, &bob), size, other).await;
    let w = width(size);
    say(&a, "Teh meeting is at 10").await;
    let id = shown_id(&b, "Teh meeting is at 10").await;

    // From the menu, with a half-written draft that waits for the edit to end.
    a.find("#draft").await.send_keys("half-written thought").await.unwrap();
    open_menu(&a, id).await;
    choose(&a, "[data-action=edit]").await;
    assert_eq!(a.js(draft_value()).await, "Teh meeting is at 10");
    assert_eq!(a.text("#composer-mode-text").await, "Editing message");
    assert_eq!(a.text("#send").await, "Save");
    a.screenshot(&format!("chat-editing-{w}")).await;
    a.fill("#draft", "The meeting is at 10").await;
    a.keys(&Key::Enter.to_string()).await;
    for browser in [&a, &b] {
        let state = wait_state(browser, id, "the edit", |s| s["text"] == "The meeting is at 10").await;
        assert_eq!(state["edited"][0], "(edited)");
        assert!(state["edited"][1].as_str().unwrap().starts_with("Edited "), "the time in the tooltip: {state}");
    }
    assert_eq!(a.js(draft_value()).await, "half-written thought", "the draft comes back");
    assert_eq!(a.text("#send").await, "Send");

    // Up-arrow in an empty composer edits the last message; Escape gives up.
    a.fill("#draft", "").await;
    a.find("#draft").await.send_keys(&Key::Up.to_string()).await.unwrap();
    assert_eq!(a.js(draft_value()).await, "The meeting is at 10");
    a.keys(&Key::Escape.to_string()).await;
    assert_eq!(a.js(draft_value()).await, "", "nothing changed");
    a.find("#draft").await.send_keys(&Key::Up.to_string()).await.unwrap();
    a.fill("#draft", "The meeting is at 11").await;
    a.keys(&Key::Enter.to_string()).await;
    wait_state(&b, id, "the second edit", |s| s["text"] == "The meeting is at 11").await;
    wait_state(&a, id, "the second edit", |s| s["text"] == "The meeting is at 11").await;
    b.screenshot(&format!("chat-edited-{}", width(other))).await;
    let (_, edits) = bob.get_json(&format!("/api/rooms/lobby/messages/{id}/edits")).await;
    let texts: Vec<&str> = edits["edits"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Teh meeting is at 10", "The meeting is at 10"]);

    // Bob's page is away (kept for the Back button) while Alice edits again: coming
    // back, it rejoins from the last change it saw (a seq above every id) and gets this
    // one in the join.
    let (_, now) = bob.get_json(&format!("/api/rooms/lobby/messages/{id}")).await;
    let seen_seq = now["message"]["seq"].as_i64().unwrap();
    assert!(seen_seq > id, "an edit's seq is above the message's id");
    b.js("window.sentFrames = [];
          const send = WebSocket.prototype.send;
          WebSocket.prototype.send = function (data) { window.sentFrames.push(JSON.parse(data)); return send.call(this, data); };
          window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}));")
        .await;
    let (status, _) =
        alice.patch_json(&format!("/api/rooms/lobby/messages/{id}"), &json!({"text": "The meeting is at 11:30"})).await;
    assert_eq!(status, StatusCode::OK);
    b.js("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))").await;
    wait_state(&b, id, "the edit made while away", |s| s["text"] == "The meeting is at 11:30").await;
    let join = b.js("return window.sentFrames.find(f => f.type === 'join')").await;
    assert_eq!(join["since"], seen_seq, "the resume cursor is the highest id or seq seen: {join}");
}

#[tokio::test]
async fn editing_from_the_menu_and_with_up_arrow_changes_the_text_for_everyone_at_phone_width() {
    edits(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn editing_from_the_menu_and_with_up_arrow_changes_the_text_for_everyone_at_desktop_width() {
    edits(DESKTOP, PHONE).await;
}

// ---- deletes ----

async fn deletes(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let (a, b) = two_in_the_lobby(&server, &driver, (&alice, &bob), size, other).await;
    let w = width(size);
    let hello = post(&bob, "lobby", "Morning!").await;
    say(&a, "Oops, wrong room").await;
    let id = shown_id(&a, "Oops, wrong room").await;
    let reply = post_reply(&bob, "lobby", "Which room did you mean?", id).await;
    wait_state(&a, reply, "bob's reply", |s| s["quote"] == "alice Oops, wrong room").await;

    // Someone else's message offers no edit nor delete.
    open_menu(&a, hello).await;
    let items =
        "return Array.from(document.querySelectorAll('#message-menu [data-action]')).map(b => b.dataset.action)";
    assert_eq!(a.js(items).await, json!(["reply"]));
    a.keys(&Key::Escape.to_string()).await;

    // Delete asks first; Cancel leaves it be.
    open_menu(&a, id).await;
    choose(&a, "[data-action=delete]").await;
    a.wait_until("the question", "return document.getElementById('confirm-delete').open", |v| v == true).await;
    assert_eq!(a.text("#confirm-delete .confirm-quote").await, "Oops, wrong room");
    a.screenshot(&format!("chat-delete-confirm-{w}")).await;
    a.click("#confirm-delete button[value=cancel]").await;
    a.wait_until("the question gone", "return document.getElementById('confirm-delete').open", |v| v == false).await;
    assert_eq!(a.js(FOCUSED).await, "message-actions", "the focus goes back to the message's button");
    assert_eq!(wait_state(&a, id, "still there", |_| true).await["deleted"], false);

    open_menu(&a, id).await;
    choose(&a, "[data-action=delete]").await;
    a.click("#confirm-delete-yes").await;
    for browser in [&a, &b] {
        let state = wait_state(browser, id, "the tombstone", |s| s["deleted"] == true).await;
        assert_eq!(state["text"], "This message was deleted");
        assert_eq!(state["actions"], false, "no menu on a deleted message");
        assert_eq!(state["reactions"], json!([]));
        wait_state(browser, reply, "the reply's quote", |s| s["quote"] == "Original message was deleted").await;
    }
    let style = format!("return getComputedStyle(document.querySelector({} + ' .text')).fontStyle", json!(li(id)));
    assert_eq!(a.js(&style).await, "italic");
    a.screenshot(&format!("chat-deleted-{w}")).await;
}

#[tokio::test]
async fn deleting_asks_first_then_leaves_a_tombstone_for_everyone_at_phone_width() {
    deletes(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn deleting_asks_first_then_leaves_a_tombstone_for_everyone_at_desktop_width() {
    deletes(DESKTOP, PHONE).await;
}

// ---- reactions ----

async fn reactions(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let (a, b) = two_in_the_lobby(&server, &driver, (&alice, &bob), size, other).await;
    let w = width(size);
    let id = post(&bob, "lobby", "Shipped 🚀").await;
    shown_id(&a, "Shipped 🚀").await;

    // A long press opens the menu on a phone (a sheet at the bottom); the mouse opens
    // it from the button on a desktop.
    if size == PHONE {
        a.long_press(&format!("{} .text", li(id)), Duration::from_millis(800)).await;
        a.find("#menu-layer.sheet:not([hidden])").await;
    } else {
        open_menu(&a, id).await;
    }
    a.screenshot(&format!("chat-menu-{w}")).await;
    choose(&a, "[data-emoji='👍']").await;
    let chips = |v: &Value| v["reactions"].clone();
    let state = wait_state(&a, id, "alice's 👍", |s| s["reactions"].as_array().is_some_and(|r| r.len() == 1)).await;
    assert_eq!(chips(&state), json!([["👍", 1, true, "You reacted with 👍"]]));
    let state =
        wait_state(&b, id, "alice's 👍 on bob's page", |s| s["reactions"].as_array().is_some_and(|r| r.len() == 1))
            .await;
    assert_eq!(chips(&state), json!([["👍", 1, false, "alice reacted with 👍"]]));

    // Bob adds his to the chip, Alice another emoji.
    b.click(&format!("{} .reaction", li(id))).await;
    wait_state(&a, id, "two 👍", |s| s["reactions"][0][1] == 2).await;
    open_menu(&a, id).await;
    choose(&a, "[data-emoji='🎉']").await;
    let state = wait_state(&b, id, "🎉 too", |s| s["reactions"].as_array().is_some_and(|r| r.len() == 2)).await;
    assert_eq!(
        chips(&state),
        json!([["👍", 2, true, "alice and you reacted with 👍"], ["🎉", 1, false, "alice reacted with 🎉"]])
    );
    a.wait_until("both chips on alice's page", &state_script(id), |s| {
        s["reactions"].as_array().is_some_and(|r| r.len() == 2)
    })
    .await;
    a.screenshot(&format!("chat-reactions-{w}")).await;

    // A second press takes one's own back; the last one gone, the chip goes.
    a.click(&format!("{} .reaction[data-emoji='👍']", li(id))).await;
    let state = wait_state(&b, id, "alice's 👍 taken back", |s| s["reactions"][0][1] == 1).await;
    assert_eq!(state["reactions"][0], json!(["👍", 1, true, "You reacted with 👍"]));
    wait_state(&a, id, "alice's 👍 off", |s| s["reactions"][0] == json!(["👍", 1, false, "bob reacted with 👍"])).await;
    b.click(&format!("{} .reaction[data-emoji='👍']", li(id))).await;
    for browser in [&a, &b] {
        wait_state(browser, id, "only 🎉 left", |s| {
            s["reactions"].as_array().is_some_and(|r| r.len() == 1 && r[0][0] == "🎉")
        })
        .await;
    }
}

#[tokio::test]
async fn reactions_show_as_chips_for_everyone_and_a_second_press_takes_one_back_at_phone_width() {
    reactions(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn reactions_show_as_chips_for_everyone_and_a_second_press_takes_one_back_at_desktop_width() {
    reactions(DESKTOP, PHONE).await;
}

// ---- the keyboard ----

async fn press(browser: &Browser, key: Key) {
    browser.keys(&key.to_string()).await;
}

async fn keyboard(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    post(&bob, "lobby", "Anyone around?").await;
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), size).await;
    log_in(&a, &alice).await;
    open_room(&a, "lobby").await;
    say(&a, "Typed, not clicked").await;
    let id = shown_id(&a, "Typed, not clicked").await;

    // Back from the message box: the last message's button, shown once focused.
    a.keys(&format!("{}{}{}", Key::Shift, Key::Tab, Key::Null)).await;
    assert_eq!(a.js(FOCUSED).await, "message-actions");
    let visible =
        format!("return getComputedStyle(document.querySelector({} + ' .message-actions')).opacity", json!(li(id)));
    assert_eq!(a.js(&visible).await, "1", "the focused button shows");
    press(&a, Key::Enter).await;
    a.find("#menu-layer:not([hidden])").await;
    assert_eq!(a.js(FOCUSED).await, "reply", "the menu opens on its first action");
    a.screenshot_with_focus(&format!("chat-menu-keyboard-{}", width(size))).await;
    assert_eq!(a.js(UNLABELLED).await, json!([]), "every item of the menu has a name");
    let mut path = Vec::new();
    for key in [Key::Down, Key::Down, Key::Down, Key::Right, Key::Up, Key::Home, Key::End, Key::Tab] {
        press(&a, key).await;
        path.push(a.js(FOCUSED).await.as_str().unwrap().to_owned());
    }
    assert_eq!(path, ["edit", "delete", "👍", "❤️", "delete", "👍", "delete", "👍"]);
    press(&a, Key::Escape).await;
    a.wait_until("the menu closed", "return document.getElementById('menu-layer').hidden", |v| v == true).await;
    assert_eq!(a.js(FOCUSED).await, "message-actions", "Escape gives the focus back to the button");
    let expanded =
        format!("return document.querySelector({} + ' .message-actions').getAttribute('aria-expanded')", json!(li(id)));
    assert_eq!(a.js(&expanded).await, "false");

    // Edit from the keyboard, then give it up.
    press(&a, Key::Enter).await;
    press(&a, Key::Down).await;
    press(&a, Key::Enter).await;
    assert_eq!(a.js(FOCUSED).await, "draft");
    assert_eq!(a.js(draft_value()).await, "Typed, not clicked");
    press(&a, Key::Escape).await;
    assert_eq!(a.js(draft_value()).await, "");

    // React from the keyboard; the chip comes next in the Tab order, and Enter on it
    // takes the reaction back.
    a.keys(&format!("{}{}{}", Key::Shift, Key::Tab, Key::Null)).await;
    press(&a, Key::Enter).await;
    press(&a, Key::Home).await;
    press(&a, Key::Enter).await;
    wait_state(&a, id, "the 👍", |s| s["reactions"].as_array().is_some_and(|r| r.len() == 1)).await;
    assert_eq!(a.js(FOCUSED).await, "message-actions");
    press(&a, Key::Tab).await;
    assert_eq!(a.js(FOCUSED).await, "reaction");
    press(&a, Key::Enter).await;
    wait_state(&a, id, "no reaction", |s| s["reactions"] == json!([])).await;
}

#[tokio::test]
async fn the_message_menu_works_from_the_keyboard_alone_at_phone_width() {
    keyboard(PHONE).await;
}

#[tokio::test]
async fn the_message_menu_works_from_the_keyboard_alone_at_desktop_width() {
    keyboard(DESKTOP).await;
}

// ---- the room list ----

#[tokio::test]
async fn the_room_list_preview_follows_edits_and_deletes() {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let first = post(&bob, "lobby", "First words").await;
    let last = post(&bob, "lobby", "Typo in teh title").await;
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), DESKTOP).await;
    log_in(&a, &alice).await;
    let preview = "a[data-room=lobby] .room-preview";
    a.wait_for_text(preview, "bob: Typo in teh title").await;

    // An edit shows when the page comes back into view (the tab, or the Back button).
    let edit = json!({"text": "Typo in the title"});
    assert_eq!(bob.patch_json(&format!("/api/rooms/lobby/messages/{last}"), &edit).await.0, StatusCode::OK);
    a.js("document.dispatchEvent(new Event('visibilitychange'))").await;
    a.wait_for_text(preview, "bob: Typo in the title").await;

    // A delete moves the preview to the message before, by itself; with none left, the
    // room says so.
    assert_eq!(bob.delete(&format!("/api/rooms/lobby/messages/{last}")).await.0, StatusCode::NO_CONTENT);
    a.wait_for_text(preview, "bob: First words").await;
    assert_eq!(bob.delete(&format!("/api/rooms/lobby/messages/{first}")).await.0, StatusCode::NO_CONTENT);
    a.wait_for_text(preview, "No messages yet").await;
    let time = "return document.querySelector('a[data-room=lobby] time')";
    assert_eq!(a.js(time).await, Value::Null, "no time for no message");

    // Drawn by the server, the preview is the last message not deleted, as edited.
    let kept = post(&bob, "lobby", "Kept, then edited").await;
    post(&bob, "lobby", "Deleted").await;
    let edit = json!({"text": "Kept and edited"});
    assert_eq!(bob.patch_json(&format!("/api/rooms/lobby/messages/{kept}"), &edit).await.0, StatusCode::OK);
    let (_, latest) = bob.get_json("/api/rooms/lobby/messages?limit=1").await;
    let deleted = latest["messages"][0]["id"].as_i64().unwrap();
    assert_eq!(bob.delete(&format!("/api/rooms/lobby/messages/{deleted}")).await.0, StatusCode::NO_CONTENT);
    a.goto("/rooms").await;
    assert_eq!(a.text(preview).await, "bob: Kept and edited");
}

// ---- refusals ----

#[tokio::test]
async fn a_refused_reaction_says_why_and_an_edit_of_a_deleted_message_keeps_its_text() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_MAX_REACTIONS_PER_MESSAGE", "1")]);
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let vote = post(&bob, "lobby", "Vote here").await;
    let thumbs = format!("/api/rooms/lobby/messages/{vote}/reactions/%F0%9F%91%8D");
    assert_eq!(bob.put(&thumbs).await.0, StatusCode::NO_CONTENT);
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), PHONE).await;
    log_in(&a, &alice).await;
    open_room(&a, "lobby").await;
    wait_state(&a, vote, "bob's 👍", |s| s["reactions"].as_array().is_some_and(|r| r.len() == 1)).await;

    // One kind of reaction at most here: a second kind is refused, in plain words.
    open_menu(&a, vote).await;
    choose(&a, "[data-emoji='❤️']").await;
    let error = a.wait_for_text("#composer-error", "Reaction not saved").await;
    assert_eq!(error, "Reaction not saved: this message has as many different reactions as it may.");
    let state = wait_state(&a, vote, "the reactions", |_| true).await;
    assert_eq!(state["reactions"], json!([["👍", 1, false, "bob reacted with 👍"]]));

    // The message being edited is deleted (from another tab): the text typed stays,
    // and can go as a new message.
    say(&a, "Draft plan").await;
    let id = shown_id(&a, "Draft plan").await;
    a.find("#draft").await.send_keys(&format!("{}, v2", Key::Up)).await.unwrap();
    assert_eq!(a.js(draft_value()).await, "Draft plan, v2");
    assert_eq!(alice.delete(&format!("/api/rooms/lobby/messages/{id}")).await.0, StatusCode::NO_CONTENT);
    let error = a.wait_for_text("#composer-error", "was deleted").await;
    assert_eq!(error, "The message you were editing was deleted. Your text is kept.");
    assert_eq!(a.js(draft_value()).await, "Draft plan, v2", "not lost");
    assert_eq!(a.text("#send").await, "Send", "no longer an edit");
    a.screenshot("chat-edit-lost-390").await;
    a.find("#draft").await.send_keys(&Key::Enter.to_string()).await.unwrap();
    shown_id(&a, "Draft plan, v2").await;
}
