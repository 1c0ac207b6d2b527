//! Moderation on the chat page, as each person sees it: the owner's room menu (the
//! topic, invite links, roles, mutes, bans, the log, deleting the room), the muted
//! person's composer, the banned person's notice, a moderator deleting someone else's
//! message, and an invite link followed from a logged-out browser. Each at phone and
//! desktop width; the screenshots land in `target/screenshots/`.

use super::*;
use std::time::Duration;

/// A public room owned by `owner`, with `members` in it (each posts a line there).
async fn room_with(owner: &Client, name: &str, members: &[(&Client, &str)]) {
    let (status, body) = owner.post_json("/api/rooms", &json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (member, text) in members {
        post(member, name, text).await;
    }
}

async fn make_moderator(owner: &Client, room: &str, who: &Client) {
    let path = format!("/api/rooms/{room}/members/{}/role", who.id);
    assert_eq!(owner.put_json(&path, &json!({"role": "moderator"})).await.0, StatusCode::NO_CONTENT);
}

/// Opens the room menu from the header, and checks what a person relying on the
/// keyboard or a screen reader needs: the button says it is open, the focus is in it.
async fn open_room_menu(browser: &Browser) {
    browser.click("#room-menu-toggle").await;
    browser.wait_until("the room menu open", "return document.getElementById('room-menu').open", |v| v == true).await;
    assert_eq!(
        browser.js("return document.getElementById('room-menu-toggle').getAttribute('aria-expanded')").await,
        "true"
    );
    let inside = "return document.getElementById('room-menu').contains(document.activeElement)";
    assert_eq!(browser.js(inside).await, true, "the focus moves into the menu");
}

/// The menu's row for a person.
fn person_row(who: &Client) -> String {
    format!("#people-list .person[data-user-id='{}']", who.id)
}

/// The people in the menu, as shown: `[name, role, presence, muted line, actions]`.
const PEOPLE: &str = "return Array.from(document.querySelectorAll('#people-list .person')).map(li => [
    li.querySelector('.person-name').firstChild.textContent,
    li.querySelector('.role-badge') ? li.querySelector('.role-badge').textContent : 'Member',
    li.querySelector('.presence').textContent,
    li.querySelector('.person-muted') ? li.querySelector('.person-muted').textContent : null,
    Array.from(li.querySelectorAll('.person-actions [data-action]')).map(b => b.dataset.action),
])";

/// The row of `PEOPLE` for this nickname, once the menu shows one that `ready` accepts.
async fn wait_person(browser: &Browser, nickname: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let row = |v: &Value| v.as_array().and_then(|rows| rows.iter().find(|r| r[0] == nickname).cloned());
    let people = browser.wait_until(what, PEOPLE, |v| row(v).is_some_and(|r| ready(&r))).await;
    row(&people).unwrap()
}

/// The moderation log's sentences, newest first.
const LOG: &str =
    "return Array.from(document.querySelectorAll('#mod-log .log-entry .log-text')).map(e => e.textContent)";

async fn wait_log_top(browser: &Browser, starts: &str) -> String {
    let starts = starts.to_owned();
    let log = browser
        .wait_until(&format!("the log to start with {starts:?}"), LOG, |v| {
            v[0].as_str().is_some_and(|t| t.starts_with(starts.as_str()))
        })
        .await;
    log[0].as_str().unwrap().to_owned()
}

/// The actions the open message menu offers.
const MENU_ITEMS: &str =
    "return Array.from(document.querySelectorAll('#message-menu [data-action]')).map(b => b.dataset.action)";

/// A time as the page words it (chat-room-format.js), for what the page should say.
async fn local_when(browser: &Browser, iso: &str) -> String {
    let script = format!("return import('/static/chat-room-format.js').then(m => m.localWhen({}))", json!(iso));
    browser.js(&script).await.as_str().unwrap().to_owned()
}

/// Whether the open dialog fits the screen: inside the viewport, nothing wider than it.
const FITS: &str = "const d = document.getElementById('room-menu');
    const r = d.getBoundingClientRect();
    const body = d.querySelector('.room-menu-body');
    return r.left >= 0 && r.right <= window.innerWidth + 0.5 && r.top >= 0 && r.bottom <= window.innerHeight + 0.5
        && body.scrollWidth <= body.clientWidth";

// ---- the owner ----

async fn owner_manages(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob, carol) =
        (person(&server, "alice").await, person(&server, "bob").await, person(&server, "carol").await);
    let dave = person(&server, "dave").await;
    room_with(&alice, "design", &[(&bob, "Hi all"), (&carol, "Cheap watches here!!!"), (&dave, "Hello")]).await;
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    let w = width(size);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    open_room(&a, "design").await;
    open_room(&b, "design").await;
    assert!(a.find("#room-menu-toggle").await.is_displayed().await.unwrap(), "the owner has the menu");
    assert!(!b.find("#room-menu-toggle").await.is_displayed().await.unwrap(), "a member has none");
    assert!(!b.find("#chat-topic").await.is_displayed().await.unwrap(), "no topic yet");

    open_room_menu(&a).await;
    assert_eq!(a.js(FITS).await, true, "the menu fits a {w} px screen");
    let people = wait_person(&a, "carol", "the people", |_| true).await;
    assert_eq!(people, json!(["carol", "Member", "offline", null, ["make_moderator", "mute", "ban"]]));
    let me = wait_person(&a, "alice", "the owner", |_| true).await;
    assert_eq!(me, json!(["alice", "Owner", "online", null, []]), "nothing to do to oneself");
    wait_person(&a, "bob", "bob online", |r| r[2] == "online").await;
    assert_eq!(a.js(UNLABELLED).await, json!([]), "every control of the menu has a name");
    a.screenshot(&format!("room-menu-{w}")).await;

    // A topic the server refuses (too long) says why, next to it.
    a.js("document.getElementById('topic-input').removeAttribute('maxlength')").await;
    a.fill("#topic-input", &"x".repeat(201)).await;
    a.click("#topic-save").await;
    let error = a.wait_for_text("#topic-error", "200").await;
    assert_eq!(error, "The topic is longer than 200 characters.");
    assert!(a.find("#topic-error").await.is_displayed().await.unwrap());

    // The topic: saved, and at once in the header of everyone in the room.
    a.fill("#topic-input", "Release planning for May").await;
    a.click("#topic-save").await;
    a.wait_for_text("#topic-note", "Topic saved.").await;
    b.wait_for_text("#chat-topic", "Release planning for May").await;
    assert!(b.find("#chat-topic").await.is_displayed().await.unwrap());
    a.wait_for_text("#chat-topic", "Release planning for May").await;
    wait_log_top(&a, "alice set the topic to “Release planning for May”").await;
    assert!(!a.find("#topic-error").await.is_displayed().await.unwrap(), "the error goes once it passes");

    // An invite link for 5 people for a day: listed with its uses and end, to copy.
    a.find("#invite-uses").await.select_by_value("5").await.unwrap();
    a.find("#invite-hours").await.select_by_value("24").await.unwrap();
    a.click("#invite-create").await;
    let invite = a
        .wait_until(
            "the new invite link",
            "return Array.from(document.querySelectorAll('#invite-list .invite')).map(li => [
                 li.querySelector('.invite-url').value, li.querySelector('.invite-meta').textContent])",
            |v| v.as_array().is_some_and(|rows| rows.len() == 1),
        )
        .await;
    let (url, meta) = (invite[0][0].as_str().unwrap(), invite[0][1].as_str().unwrap());
    assert!(url.starts_with(&server.url("/invite/")), "{url}");
    let (_, listed) = alice.get_json("/api/rooms/design/invites").await;
    let expires = listed["invites"][0]["expires_at"].as_str().unwrap().to_owned();
    assert_eq!(meta, format!("Expires {} · 5 uses left", local_when(&a, &expires).await));
    a.click("#invite-list .invite [data-action=copy]").await;
    let copied = a
        .wait_until(
            "the copy's outcome",
            "return document.querySelector('#invite-list .invite-status').textContent",
            |v| v.as_str().is_some_and(|t| !t.is_empty()),
        )
        .await;
    let copied = copied.as_str().unwrap();
    if copied != "Copied." {
        // No clipboard for this page: the link is selected, to copy by hand.
        assert!(copied.starts_with("Selected"), "{copied}");
        let selected = "const i = document.querySelector('#invite-list .invite-url');
            return document.activeElement === i && i.selectionStart === 0 && i.selectionEnd === i.value.length";
        assert_eq!(a.js(selected).await, true);
    }
    a.screenshot(&format!("room-menu-invite-{w}")).await;

    // Bob becomes a moderator: his page offers the menu at once, without a reload.
    a.click(&format!("{} [data-action=make_moderator]", person_row(&bob))).await;
    let row = wait_person(&a, "bob", "bob a moderator", |r| r[1] == "Moderator").await;
    assert_eq!(row[4], json!(["make_member", "mute", "ban"]));
    let focused = "return document.activeElement.dataset.action || document.activeElement.id";
    assert_eq!(a.js(focused).await, "make_member", "the focus stays on the row's role button");
    b.wait_until("bob's menu", "return !document.getElementById('room-menu-toggle').hidden", |v| v == true).await;
    wait_log_top(&a, "alice made bob a moderator").await;

    // Carol muted for an hour: in the list, and in the log with the end in words.
    let mute_button = format!("{} [data-action=mute]", person_row(&carol));
    let form_open =
        format!("return !!document.querySelector({})", json!(format!("{} .mute-choices", person_row(&carol))));
    a.click(&mute_button).await;
    a.find(&format!("{} .mute-choices", person_row(&carol))).await;
    assert_eq!(a.js("return document.activeElement.dataset.minutes").await, "10", "the focus on the first duration");
    // Escape gives up the durations only: the menu stays, the focus goes back to Mute….
    a.keys(&Key::Escape.to_string()).await;
    a.wait_until("the durations gone", &form_open, |v| v == false).await;
    assert_eq!(a.js("return document.getElementById('room-menu').open").await, true, "the menu stays open");
    assert_eq!(a.js(focused).await, "mute");
    assert_eq!(
        a.js(&format!("return document.querySelector({}).getAttribute('aria-expanded')", json!(mute_button))).await,
        "false"
    );
    a.click(&mute_button).await;
    a.find(&format!("{} .mute-choices", person_row(&carol))).await;
    a.screenshot(&format!("room-menu-mute-{w}")).await;
    a.click(&format!("{} .mute-choices [data-minutes='60']", person_row(&carol))).await;
    let row = wait_person(&a, "carol", "carol muted", |r| !r[3].is_null()).await;
    assert_eq!(row[4], json!(["make_moderator", "unmute", "ban"]));
    let (_, members) = alice.get_json("/api/rooms/design/members").await;
    let until = members["members"].as_array().unwrap().iter().find(|m| m["id"] == carol.id).unwrap()["muted_until"]
        .as_str()
        .unwrap()
        .to_owned();
    let until_words = local_when(&a, &until).await;
    assert!(until_words.contains(':'), "a time of day: {until_words}");
    assert_eq!(row[3], format!("Muted until {until_words}"));
    assert_eq!(wait_log_top(&a, "alice muted carol").await, format!("alice muted carol until {until_words}"));

    // A refusal shows by the action tried: Dave was banned elsewhere meanwhile (the
    // list has not heard), so he is no member to make a moderator.
    let ban_dave = json!({"user_id": dave.id});
    assert_eq!(alice.post_json("/api/rooms/design/bans", &ban_dave).await.0, StatusCode::NO_CONTENT);
    a.click(&format!("{} [data-action=make_moderator]", person_row(&dave))).await;
    let error = a.wait_for_text(&format!("{} .room-menu-error", person_row(&dave)), "member").await;
    assert_eq!(error, "There is no such member of this room.");
    assert!(a.find(&format!("{} .room-menu-error", person_row(&dave))).await.is_displayed().await.unwrap());

    // Then banned, with a reason: out of the people, into the bans, and the log.
    a.click(&format!("{} [data-action=ban]", person_row(&carol))).await;
    a.fill(&format!("#ban-reason-{}", carol.id), "spamming links").await;
    a.screenshot(&format!("room-menu-ban-{w}")).await;
    a.click(&format!("{} .ban-form button[type=submit]", person_row(&carol))).await;
    a.wait_until("carol out of the people", PEOPLE, |v| {
        v.as_array().is_some_and(|rows| !rows.iter().any(|r| r[0] == "carol"))
    })
    .await;
    let bans = "return Array.from(document.querySelectorAll('#ban-list .ban')).map(li => li.textContent)";
    let ban = a.wait_until("carol's ban", bans, |v| v.as_array().is_some_and(|rows| rows.len() == 2)).await;
    let ban = ban[0].as_str().unwrap();
    assert!(
        ban.contains("carol") && ban.contains("Banned for good by alice") && ban.contains("“spamming links”"),
        "{ban}"
    );
    assert_eq!(a.js(focused).await, "unban", "the focus on the new ban's Unban");
    wait_log_top(&a, "alice banned carol").await;
    let reason = a.text("#mod-log .log-entry:first-child .log-reason").await;
    assert_eq!(reason, "“spamming links”");
    let log = a.js(LOG).await;
    let log: Vec<&str> = log.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(log.len(), 6, "newest first: {log:?}");
    assert_eq!(log[1], "alice banned dave");
    assert!(log[4].starts_with("alice created an invite link (5 uses, until "), "{log:?}");
    a.js("document.getElementById('log-title').scrollIntoView()").await;
    a.screenshot(&format!("room-menu-log-{w}")).await;

    // Unbanned: off the list, into the log.
    a.click(&format!("#ban-list .ban[data-user-id='{}'] [data-action=unban]", carol.id)).await;
    a.wait_until("carol's ban lifted", bans, |v| v.as_array().is_some_and(|rows| rows.len() == 1)).await;
    wait_log_top(&a, "alice lifted the ban on carol").await;

    // Escape closes the menu, and the focus goes back to its button.
    a.keys(&Key::Escape.to_string()).await;
    a.wait_until("the menu closed", "return document.getElementById('room-menu').open", |v| v == false).await;
    assert_eq!(a.js("return document.activeElement.id").await, "room-menu-toggle");
    assert_eq!(a.js("return document.getElementById('room-menu-toggle').getAttribute('aria-expanded')").await, "false");
    a.screenshot(&format!("chat-topic-{w}")).await;

    // Bob, a moderator now, gives no roles and acts on no moderator nor the owner.
    open_room_menu(&b).await;
    let row = wait_person(&b, "alice", "the owner in bob's menu", |_| true).await;
    assert_eq!(row[4], json!([]));
    let row = wait_person(&b, "bob", "bob in his menu", |_| true).await;
    assert_eq!(row[4], json!([]));
    assert_eq!(b.js("return !!document.getElementById('delete-room')").await, false, "only the owner deletes it");
    b.screenshot(&format!("room-menu-moderator-{}", width(other))).await;
}

#[tokio::test]
async fn the_owner_sets_the_topic_invites_gives_roles_mutes_and_bans_from_the_room_menu_at_phone_width() {
    owner_manages(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn the_owner_sets_the_topic_invites_gives_roles_mutes_and_bans_from_the_room_menu_at_desktop_width() {
    owner_manages(DESKTOP, PHONE).await;
}

// ---- the muted person ----

/// The composer as shown: `[box disabled, button disabled, the line under it (null: hidden)]`.
const COMPOSER: &str = "const line = document.getElementById('composer-blocked');
    return [document.getElementById('draft').disabled, document.getElementById('send').disabled,
            line.hidden ? null : line.textContent]";

async fn muted(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    room_with(&alice, "design", &[(&bob, "Hello")]).await;
    let driver = Driver::start();
    let b = driver.browser(&server.url(""), size).await;
    let w = width(size);
    log_in(&b, &bob).await;
    open_room(&b, "design").await;
    assert_eq!(b.js(COMPOSER).await, json!([false, false, null]));

    // Muted while on the page: the composer is off at once, saying until when.
    let mute = json!({"user_id": bob.id, "minutes": 10});
    assert_eq!(alice.post_json("/api/rooms/design/mutes", &mute).await.0, StatusCode::NO_CONTENT);
    let state = b.wait_until("the composer off", COMPOSER, |v| v[0] == true).await;
    let (_, members) = alice.get_json("/api/rooms/design/members").await;
    let until = members["members"].as_array().unwrap().iter().find(|m| m["id"] == bob.id).unwrap()["muted_until"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = format!("You are muted in this room until {}.", local_when(&b, &until).await);
    assert_eq!(state, json!([true, true, expected]));
    b.screenshot(&format!("chat-muted-{w}")).await;

    // Their own message offers no Edit meanwhile; Delete stays.
    let hello = "#message-list .message.mine";
    b.hover(hello).await;
    b.click(&format!("{hello} .message-actions")).await;
    b.find("#menu-layer:not([hidden]) #message-menu").await;
    assert_eq!(b.js(MENU_ITEMS).await, json!(["reply", "delete"]));
    b.keys(&Key::Escape.to_string()).await;

    // A reload keeps it (the page knows), and so does a reconnection (the join says so).
    open_room(&b, "design").await;
    assert_eq!(b.js(COMPOSER).await, json!([true, true, expected]));

    // Unmuted: writing again at once.
    assert_eq!(alice.delete(&format!("/api/rooms/design/mutes/{}", bob.id)).await.0, StatusCode::NO_CONTENT);
    b.wait_until("the composer back", COMPOSER, |v| v == &json!([false, false, null])).await;
    say(&b, "Thanks, back now").await;
    wait_for_message(&b, "bob", "Thanks, back now").await;

    // A mute that ends by itself: the composer comes back when its time is up.
    assert_eq!(alice.post_json("/api/rooms/design/mutes", &mute).await.0, StatusCode::NO_CONTENT);
    b.wait_until("the composer off again", COMPOSER, |v| v[0] == true).await;
    exec_sql(
        &server.db,
        "UPDATE room_sanctions SET until = strftime('%Y-%m-%d %H:%M:%f', 'now', '+3 seconds') WHERE kind = 'mute'",
        "UPDATE room_sanctions SET until = UTC_TIMESTAMP(3) + INTERVAL 3 SECOND WHERE kind = 'mute'",
    );
    open_room(&b, "design").await;
    assert_eq!(b.js(COMPOSER).await[0], true, "still muted for a few seconds");
    b.wait_until("the mute to run out", COMPOSER, |v| v == &json!([false, false, null])).await;
    say(&b, "And again").await;
    wait_for_message(&b, "bob", "And again").await;
}

#[tokio::test]
async fn a_muted_person_sees_until_when_and_writes_again_once_unmuted_or_the_time_is_up_at_phone_width() {
    muted(PHONE).await;
}

#[tokio::test]
async fn a_muted_person_sees_until_when_and_writes_again_once_unmuted_or_the_time_is_up_at_desktop_width() {
    muted(DESKTOP).await;
}

// ---- the banned person ----

/// Counts the sockets the page opens from now on, and records the frames it sends.
const WATCH_SOCKETS: &str = "window.socketsOpened = 0; window.sentFrames = [];
    window.WebSocket = new Proxy(window.WebSocket, {
        construct(target, args) { window.socketsOpened += 1; return new target(...args); },
    });
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) { window.sentFrames.push(JSON.parse(data)); return send.call(this, data); };";

async fn banned(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    room_with(&alice, "design", &[(&bob, "Hello")]).await;
    let driver = Driver::start();
    let b = driver.browser(&server.url(""), size).await;
    let w = width(size);
    log_in(&b, &bob).await;
    open_room(&b, "design").await;
    b.js(WATCH_SOCKETS).await;

    let ban = json!({"user_id": bob.id, "reason": "spamming links"});
    assert_eq!(alice.post_json("/api/rooms/design/bans", &ban).await.0, StatusCode::NO_CONTENT);
    b.wait_for_text("#room-removed-text", "You were removed from this room: spamming links.").await;
    assert!(b.find("#room-removed").await.is_displayed().await.unwrap());
    assert_eq!(b.js("return document.querySelector('#room-removed a').getAttribute('href')").await, "/rooms");
    assert_eq!(b.js(COMPOSER).await, json!([true, true, null]), "the composer is off; the notice says why");
    assert_eq!(b.text("#status").await, "Removed from the room");
    let online = "return [document.getElementById('online-count').textContent, document.getElementById('member-list').children.length]";
    assert_eq!(b.js(online).await, json!(["0", 0]), "nobody is seen online there any more");
    b.screenshot(&format!("chat-banned-{w}")).await;
    b.js("document.querySelector('#message-list .message .message-actions').click()").await;
    assert_eq!(b.js("return document.getElementById('menu-layer').hidden").await, true, "no message menu");

    // No reconnection, not even when the network seems to come back.
    b.js("window.dispatchEvent(new Event('online'))").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let watched = b.js("return [window.socketsOpened, window.sentFrames.filter(f => f.type === 'join').length]").await;
    assert_eq!(watched, json!([0, 0]), "no new socket, no join");
    assert_eq!(b.text("#status").await, "Removed from the room", "and no reconnecting");

    // The room's page is closed to them now.
    b.goto("/rooms/design").await;
    let page = b.text("main").await;
    assert!(page.contains("403") && page.contains("banned"), "{page}");
    b.screenshot(&format!("chat-banned-reload-{w}")).await;
}

#[tokio::test]
async fn a_banned_person_is_told_at_once_and_the_page_stops_there_at_phone_width() {
    banned(PHONE).await;
}

#[tokio::test]
async fn a_banned_person_is_told_at_once_and_the_page_stops_there_at_desktop_width() {
    banned(DESKTOP).await;
}

// ---- deleting the room ----

async fn deleted(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    room_with(&alice, "design", &[(&bob, "Hello")]).await;
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    open_room(&a, "design").await;
    open_room(&b, "design").await;

    open_room_menu(&a).await;
    a.click("#delete-room").await;
    let open = "return document.getElementById('confirm-delete-room').open";
    a.wait_until("the question", open, |v| v == true).await;
    a.screenshot(&format!("room-delete-confirm-{}", width(size))).await;
    a.click("#confirm-delete-room button[value=cancel]").await;
    a.wait_until("the question gone", open, |v| v == false).await;
    assert_eq!(a.js("return document.activeElement.id").await, "delete-room", "the focus goes back to the button");
    assert_eq!(a.js("return document.getElementById('room-menu').open").await, true, "the menu stays open");

    a.click("#delete-room").await;
    a.wait_until("the question", open, |v| v == true).await;
    a.click("#confirm-delete-room-yes").await;
    a.wait_for_path("/rooms").await;
    b.wait_for_text("#room-removed-text", "This room was deleted.").await;
    assert_eq!(b.js(COMPOSER).await, json!([true, true, null]));
    assert_eq!(b.text("#status").await, "Room deleted");
    b.screenshot(&format!("chat-room-deleted-{}", width(other))).await;
    assert_eq!(alice.get_json("/api/rooms/design").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_the_room_asks_first_and_everyone_in_it_is_told_at_phone_width() {
    deleted(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn deleting_the_room_asks_first_and_everyone_in_it_is_told_at_desktop_width() {
    deleted(DESKTOP, PHONE).await;
}

// ---- a moderator's delete ----

async fn moderator_deletes(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob, carol) =
        (person(&server, "alice").await, person(&server, "bob").await, person(&server, "carol").await);
    room_with(&alice, "design", &[(&bob, "Morning"), (&carol, "Hi")]).await;
    make_moderator(&alice, "design", &bob).await;
    let spam = post(&carol, "design", "Cheap watches at example.com").await;
    let own = post(&bob, "design", "Mine").await;
    let driver = Driver::start();
    let b = driver.browser(&server.url(""), size).await;
    let w = width(size);
    log_in(&b, &bob).await;
    open_room(&b, "design").await;
    let li = |id: i64| format!("#message-list .message[data-id='{id}']");
    b.find(&li(spam)).await;

    // Someone else's message: Delete, not Edit.
    let items = MENU_ITEMS;
    b.hover(&li(own)).await;
    b.click(&format!("{} .message-actions", li(own))).await;
    b.find("#menu-layer:not([hidden]) #message-menu").await;
    assert_eq!(b.js(items).await, json!(["reply", "edit", "delete"]), "one's own");
    b.keys(&Key::Escape.to_string()).await;
    b.hover(&li(spam)).await;
    b.click(&format!("{} .message-actions", li(spam))).await;
    b.find("#menu-layer:not([hidden]) #message-menu").await;
    assert_eq!(b.js(items).await, json!(["reply", "delete"]), "someone else's, to a moderator");
    b.click("#message-menu [data-action=delete]").await;
    b.wait_until("the question", "return document.getElementById('confirm-delete').open", |v| v == true).await;
    let note = b.text("#confirm-delete .confirm-note").await;
    assert!(note.starts_with("This is carol's message."), "{note}");
    b.screenshot(&format!("chat-moderator-delete-{w}")).await;
    b.click("#confirm-delete-yes").await;
    b.wait_for_text(&format!("{} .text", li(spam)), "This message was deleted").await;

    let (_, message) = carol.get_json(&format!("/api/rooms/design/messages/{spam}")).await;
    assert_eq!(message["message"]["deleted"], true);
    let (_, log) = alice.get_json("/api/rooms/design/moderation").await;
    assert_eq!(log["actions"][0]["action"], "delete_message");
    assert_eq!(log["actions"][0]["actor"]["nickname"], "bob");

    // A member is offered no Delete on someone else's message.
    let c = driver.browser(&server.url(""), size).await;
    log_in(&c, &carol).await;
    open_room(&c, "design").await;
    c.find(&li(own)).await;
    c.hover(&li(own)).await;
    c.click(&format!("{} .message-actions", li(own))).await;
    c.find("#menu-layer:not([hidden]) #message-menu").await;
    assert_eq!(c.js(items).await, json!(["reply"]));
    assert!(!c.find("#room-menu-toggle").await.is_displayed().await.unwrap());
}

#[tokio::test]
async fn a_moderator_deletes_someone_elses_message_from_its_menu_at_phone_width() {
    moderator_deletes(PHONE).await;
}

#[tokio::test]
async fn a_moderator_deletes_someone_elses_message_from_its_menu_at_desktop_width() {
    moderator_deletes(DESKTOP).await;
}

// ---- an invite link ----

async fn invited(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let (status, _) = alice.post_json("/api/rooms", &json!({"name": "plans", "private": true})).await;
    assert_eq!(status, StatusCode::CREATED);
    alice.patch_json("/api/rooms/plans", &json!({"topic": "Release planning"})).await;
    post(&alice, "plans", "Welcome to the planning room").await;
    let (status, body) = alice.post_json("/api/rooms/plans/invites", &json!({"max_uses": 5})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let url = body["invite"]["url"].as_str().unwrap().to_owned();
    let code = body["invite"]["code"].as_str().unwrap().to_owned();
    let driver = Driver::start();
    let b = driver.browser(&server.url(""), size).await;
    let w = width(size);

    // Logged out: the link leads to the login page, and the login back to the invite.
    b.client.goto(&url).await.unwrap();
    b.wait_for_path("/login").await;
    b.fill("#phone", &bob.phone).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_path(&format!("/invite/{code}")).await;
    let heading = b.js("return document.querySelector('.invite-room').textContent").await;
    assert_eq!(heading, "🔒Private room #plans");
    assert_eq!(b.text(".invite-topic").await, "Release planning");
    let until = b.text(".invite-card time").await;
    assert!(until.contains(':'), "the invite's end in local words: {until}");
    assert_eq!(b.js(UNLABELLED).await, json!([]));
    b.screenshot(&format!("invite-{w}")).await;

    b.click(".invite-card form button[type=submit]").await;
    b.wait_for_path("/rooms/plans").await;
    b.wait_for_text("#status", "Online").await;
    assert_eq!(b.text("#chat-title").await, "#plans");
    assert_eq!(b.text("#chat-topic").await, "Release planning");
    wait_for_message(&b, "alice", "Welcome to the planning room").await;
    assert!(!b.find("#room-menu-toggle").await.is_displayed().await.unwrap(), "a new member has no room menu");
    b.screenshot(&format!("invite-joined-{w}")).await;

    // The same link again: already in.
    b.client.goto(&url).await.unwrap();
    b.wait_for_text("main", "You are already a member of this room.").await;
}

#[tokio::test]
async fn an_invite_link_leads_a_logged_out_visitor_through_the_login_into_the_room_at_phone_width() {
    invited(PHONE).await;
}

#[tokio::test]
async fn an_invite_link_leads_a_logged_out_visitor_through_the_login_into_the_room_at_desktop_width() {
    invited(DESKTOP).await;
}

fn width(size: (u32, u32)) -> u32 {
    size.0
}
