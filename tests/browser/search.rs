//! Search and mentions as each person sees them: the search page (words, a Chinese
//! substring, the marks on what matched, older results, a search kept to one room), a
//! result opening its room at that message with the history around it (and the latest
//! messages coming in after it, however many), the composer's @ suggestions by keyboard
//! and mouse, the mention marked for the person named and counted on their room list
//! (capped at 999+), and notifications: the offer, the permission asked only on its
//! click, and a notification for a direct message and a mention while the page is in
//! the background, each opening the room at that message. Headless Chromium shows no
//! notification, so the page's `Notification` is replaced by a recorder there; the
//! permission itself is the browser's, granted through WebDriver. Each at phone and
//! desktop width; the screenshots land in `target/screenshots/`.

use super::*;
use futures_util::stream::{self, StreamExt};

/// Whether the page fits the window's width, a scroll bar's included (nothing to scroll
/// sideways).
const NO_SIDEWAYS_SCROLL: &str = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth";

/// The results shown, top to bottom: `[id, room, author, text, [marked words], link]`.
const RESULTS: &str = "return Array.from(document.querySelectorAll('#search-results .search-result')).map(li => {
    const link = new URL(li.querySelector('a').href);
    return [Number(li.dataset.id), li.querySelector('.search-room').textContent,
        li.querySelector('.author').textContent, li.querySelector('.search-text').textContent,
        Array.from(li.querySelectorAll('mark')).map(m => m.textContent), link.pathname + link.search];
})";

/// The `@` suggestions: `[open, the box's aria-expanded (none: a textarea may not have
/// it), its active option's text,
/// every option's text]`.
const SUGGESTIONS: &str = "const list = document.getElementById('mention-list');
    const draft = document.getElementById('draft');
    const active = document.getElementById(draft.getAttribute('aria-activedescendant') || '-');
    return [!list.hidden, draft.getAttribute('aria-expanded'),
        active && active.getAttribute('aria-selected') === 'true' ? active.querySelector('.mention-name').textContent : null,
        Array.from(list.querySelectorAll('[role=option]')).map(o => o.querySelector('.mention-name').textContent)];";

/// Replaces the page's `Notification` with one that records what it is asked to show
/// (headless Chromium shows none), keeping the browser's permission, and makes the page
/// believe it is in the background.
const RECORD_NOTIFICATIONS: &str = "window.__notes = [];
    const Real = window.Notification;
    window.Notification = class extends EventTarget {
        static get permission() { return Real.permission; }
        static requestPermission() { return Real.requestPermission(); }
        constructor(title, options) {
            super();
            Object.assign(this, { title, body: options.body, tag: options.tag, closed: false });
            window.__notes.push(this);
        }
        close() { this.closed = true; }
    };
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    return true;";

/// Whether the chat page says it shows the beginning of the conversation.
const EDGE_SHOWN: &str = "return !document.getElementById('history-edge').hidden";

/// What the recorder was asked to show: `[title, body, tag]`.
const NOTES: &str = "return (window.__notes || []).map(n => [n.title, n.body, n.tag])";

fn px(size: (u32, u32)) -> u32 {
    size.0
}

async fn room(owner: &Client, name: &str) {
    let (status, body) = owner.post_json("/api/rooms", &json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Searches from the page's form, as a person would, and waits for its answer.
async fn search_for(browser: &Browser, q: &str) -> Value {
    browser.fill("#search-q", q).await;
    browser.find("#search-q").await.send_keys(&Key::Enter.to_string()).await.expect("submit the search");
    let q = q.to_owned();
    browser
        .wait_until(
            &format!("the results for {q:?}"),
            "return document.getElementById('search-status').textContent",
            |v| v.as_str().is_some_and(|t| t.contains(&format!("“{q}”")) || t.starts_with("No messages")),
        )
        .await;
    browser.js(RESULTS).await
}

/// The texts of the stored messages the chat page shows, top to bottom.
async fn shown_texts(browser: &Browser) -> Vec<String> {
    stored_texts(&browser.js(SHOWN).await)
}

/// Whether the message is highlighted and wholly inside the message list's box.
fn highlighted_in_view(id: i64) -> String {
    format!(
        "const li = document.querySelector('#message-list .message[data-id=\"{id}\"]');
         if (!li) return false;
         const box = document.getElementById('messages').getBoundingClientRect();
         const r = li.getBoundingClientRect();
         return li.classList.contains('highlight') && r.top >= box.top && r.bottom <= box.bottom"
    )
}

// ---- the search page ----

async fn search_page(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    room(&alice, "plans").await;
    let mut texts: Vec<String> = Vec::new();
    for i in 1..=10 {
        texts.push(format!("Earlier note {i}"));
        post(&alice, "plans", texts.last().unwrap()).await;
    }
    let target_text = "The release notes for Monday are ready";
    let target = post(&bob, "plans", target_text).await;
    texts.push(target_text.into());
    for i in 1..=70 {
        texts.push(if i <= 25 { format!("Later note {i}, tick") } else { format!("Later note {i}") });
        post(&alice, "plans", texts.last().unwrap()).await;
    }
    let chinese_text = "会议 notes：我们明天发布新版本";
    let chinese = post(&bob, "lobby", chinese_text).await;
    let w = px(size);

    let driver = Driver::start();
    let a = driver.browser(&server.url(""), size).await;
    log_in(&a, &alice).await;
    a.click(".topnav a[href='/search']").await;
    a.wait_for_path("/search").await;
    a.wait_until("the field focused", "return document.activeElement.id", |v| v == "search-q").await;
    assert_eq!(a.js(UNLABELLED).await, json!([]), "every control on /search has a name");

    // Words in any order, whatever their case: found, and marked as they are written.
    let results = search_for(&a, "monday RELEASE").await;
    let link = format!("/rooms/plans?at={target}");
    assert_eq!(results, json!([[target, "#plans", "bob", target_text, ["release", "Monday"], link]]));
    assert_eq!(a.text("#search-status").await, "1 message matches “monday RELEASE”.");
    assert_eq!(a.js("return location.search").await, "?q=monday+RELEASE", "the address keeps the query");
    let marked = "const m = document.querySelector('#search-results mark');
        return getComputedStyle(m).backgroundColor !== getComputedStyle(m.parentElement).backgroundColor";
    assert_eq!(a.js(marked).await, true, "the marks stand out");
    assert_eq!(a.js(NO_SIDEWAYS_SCROLL).await, true, "the page fits {w} px");
    a.screenshot(&format!("search-{w}")).await;

    // Chinese by any part of it; a word found in two rooms; nothing found says so.
    let results = search_for(&a, "布新").await;
    assert_eq!(
        results,
        json!([[chinese, "#lobby", "bob", chinese_text, ["布新"], format!("/rooms/lobby?at={chinese}")]])
    );
    let results = search_for(&a, "明天发布").await;
    assert_eq!(results[0][4], json!(["明天发布"]));
    let results = search_for(&a, "notes").await;
    let ids: Vec<i64> = results.as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(ids, [chinese, target], "both rooms, newest first");
    a.screenshot(&format!("search-chinese-{w}")).await;
    assert_eq!(search_for(&a, "zebra").await, json!([]));
    assert_eq!(a.text("#search-status").await, "No messages match “zebra”.");
    assert_eq!(a.js("return document.getElementById('search-more').hidden").await, true);

    // Older results, a page at a time, until there are no more.
    let results = search_for(&a, "tick").await;
    assert_eq!(results.as_array().unwrap().len(), 20);
    assert_eq!(a.text("#search-status").await, "Showing the 20 newest messages that match “tick”.");
    a.click("#search-more").await;
    let results = a.wait_until("the older results", RESULTS, |v| v.as_array().is_some_and(|r| r.len() == 25)).await;
    let ids: Vec<i64> = results.as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first, each once: {ids:?}");
    assert_eq!(a.js("return document.getElementById('search-more').hidden").await, true, "no more to load");
    assert_eq!(a.text("#search-status").await, "25 messages match “tick”.");
    let focused = "return document.activeElement.closest('.search-result')?.dataset.id";
    assert_eq!(a.js(focused).await, ids[20].to_string(), "the focus goes on from the first older result");

    // The query in the address runs when the page opens; a result opens its room at it.
    a.goto("/search?q=release").await;
    a.wait_until("the result", RESULTS, |v| v.as_array().is_some_and(|r| r.len() == 1)).await;
    assert_eq!(a.js("return document.getElementById('search-q').value").await, "release");
    a.click(&format!(".search-hit[href='{link}']")).await;
    a.wait_for_path("/rooms/plans").await;
    a.wait_until("the message highlighted in view", &highlighted_in_view(target), |v| v == true).await;
    let focus = format!("return !!document.activeElement.closest('.message[data-id=\"{target}\"]')");
    assert_eq!(a.js(&focus).await, true, "the focus is on the message");
    a.screenshot(&format!("chat-at-message-{w}")).await;
    a.wait_for_text("#status", "Online").await;
    // The history around it, then what came after it through the join: the whole room,
    // in order, each once, and the reader left at the message, not at the end.
    let expected: Vec<&str> = texts.iter().map(String::as_str).collect();
    wait_for_exactly(&a, &expected).await;
    assert_eq!(a.js(EDGE_SHOWN).await, true, "the window reaches back to the beginning");
    let away = "const s = document.getElementById('messages'); return s.scrollHeight - s.scrollTop - s.clientHeight";
    assert!(a.js(away).await.as_f64().unwrap() > 200.0, "still at the message");
    // Live messages still come, after the rest.
    post(&bob, "plans", "One more thing").await;
    wait_for_message(&a, "bob", "One more thing").await;
    assert_eq!(shown_texts(&a).await.last().map(String::as_str), Some("One more thing"));
    a.wait_for_text("#jump", "1 new message").await;

    // From the room's header: a search kept to the room.
    a.click("#search-link").await;
    a.wait_for_path("/search").await;
    assert_eq!(a.js("return location.search").await, "?room=plans");
    assert_eq!(a.text(".search-scope").await, "In #plans only. Search every room");
    let results = search_for(&a, "notes").await;
    assert_eq!(results.as_array().unwrap().len(), 1, "only the room's: {results}");
    assert_eq!(a.text("#search-status").await, "1 message in #plans matches “notes”.");
    assert_eq!(a.js("return location.search").await, "?q=notes&room=plans");
    let everywhere = "return new URL(document.getElementById('search-everywhere').href).search";
    assert_eq!(a.js(everywhere).await, "?q=notes");
    a.screenshot(&format!("search-in-room-{w}")).await;
}

#[tokio::test]
async fn search_finds_words_and_chinese_marks_them_pages_back_and_opens_the_room_at_a_result_at_phone_width() {
    search_page(PHONE).await;
}

#[tokio::test]
async fn search_finds_words_and_chinese_marks_them_pages_back_and_opens_the_room_at_a_result_at_desktop_width() {
    search_page(DESKTOP).await;
}

// ---- a room opened far back ----

async fn far_back(size: (u32, u32)) {
    // A join replays at most 5 messages here: the page has to page forward by itself.
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_RESUME_CAP", "5")]);
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    room(&alice, "plans").await;
    let mut texts: Vec<String> = (1..=3).map(|i| format!("Before {i}")).collect();
    for text in &texts {
        post(&alice, "plans", text).await;
    }
    let target = post(&bob, "plans", "The one we look for").await;
    texts.push("The one we look for".into());
    for i in 1..=60 {
        texts.push(format!("After {i}"));
        post(&alice, "plans", texts.last().unwrap()).await;
    }
    let w = px(size);
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), size).await;
    log_in(&a, &alice).await;

    // The window around the message: a page up to it, a page after it. The rest is
    // more than a join replays: it waits, and the jump button leads to it.
    a.goto(&format!("/rooms/plans?at={target}")).await;
    a.wait_until("the message highlighted in view", &highlighted_in_view(target), |v| v == true).await;
    a.wait_for_text("#status", "Online").await;
    let window: Vec<&str> = texts[..54].iter().map(String::as_str).collect();
    wait_for_exactly(&a, &window).await;
    a.wait_for_text("#jump", "Latest").await;
    assert_eq!(a.js("return document.getElementById('jump').hidden").await, false);
    post(&bob, "plans", "Said while you read").await;
    a.wait_for_text("#jump", "1 new message").await;
    assert_eq!(shown_texts(&a).await, window, "nothing is shown past a gap");
    a.screenshot(&format!("chat-far-back-{w}")).await;

    // Scrolled down: newer pages until they meet the latest; nothing missing, nothing twice.
    let mut all: Vec<&str> = texts.iter().map(String::as_str).collect();
    all.push("Said while you read");
    for _ in 0..3 {
        a.scroll_to_end("#messages").await;
        if shown_texts(&a).await.len() == all.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    wait_for_exactly(&a, &all).await;
    post(&bob, "plans", "And live again").await;
    wait_for_message(&a, "bob", "And live again").await;
    all.push("And live again");
    wait_for_exactly(&a, &all).await;

    // Opened there again, the jump button goes straight to the latest; scrolling up
    // then reads back to the beginning with no gap.
    a.goto(&format!("/rooms/plans?at={target}")).await;
    a.wait_for_text("#status", "Online").await;
    a.wait_for_text("#jump", "Latest").await;
    a.click("#jump").await;
    a.wait_until("the latest messages", SHOWN, |v| {
        stored_texts(v).last().map(String::as_str) == Some("And live again")
    })
    .await;
    let shown = shown_texts(&a).await;
    assert_eq!(shown[..], all[all.len() - shown.len()..], "the latest, with nothing left out");
    assert_eq!(a.js("return document.getElementById('jump').hidden").await, true, "at the end, no jump button");
    for _ in 0..10 {
        a.js("document.getElementById('messages').scrollTop = 0").await;
        if a.js(EDGE_SHOWN).await == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    wait_for_exactly(&a, &all).await;
}

#[tokio::test]
async fn a_result_far_back_shows_its_window_then_pages_forward_to_the_latest_at_phone_width() {
    far_back(PHONE).await;
}

#[tokio::test]
async fn a_result_far_back_shows_its_window_then_pages_forward_to_the_latest_at_desktop_width() {
    far_back(DESKTOP).await;
}

// ---- mentions ----

async fn mentions(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob, bob_li) =
        (person(&server, "alice").await, person(&server, "bob").await, person(&server, "Bob Li").await);
    post(&alice, "lobby", "Morning").await;
    post(&bob, "lobby", "Hi").await;
    post(&bob_li, "lobby", "Hello all").await;
    let w = px(size);
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    log_in(&b, &bob_li).await;
    assert_eq!(b.js(&badge_script("lobby")).await, "", "nothing unread yet");
    log_in(&a, &alice).await;
    open_room(&a, "lobby").await;

    // @ and the start of a name: the people it fits, the first one active.
    a.find("#draft").await.send_keys("Thanks @bo").await.unwrap();
    let open = a
        .wait_until("the suggestions", SUGGESTIONS, |v| v[0] == true && v[3].as_array().is_some_and(|o| o.len() == 2))
        .await;
    assert_eq!(open, json!([true, null, "bob", ["bob", "Bob Li"]]));
    let fits = "const r = document.getElementById('mention-list').getBoundingClientRect();
        return r.left >= 0 && r.right <= window.innerWidth && r.top >= 0";
    assert_eq!(a.js(fits).await, true, "the list fits the screen at {w} px");
    assert_eq!(a.js("return document.getElementById('mention-list').getAttribute('role')").await, "listbox");
    a.screenshot_with_focus(&format!("chat-mention-suggestions-{w}")).await;
    // ArrowDown, Enter: the second one written out, and the list closed.
    a.keys(&Key::Down.to_string()).await;
    assert_eq!(a.js(SUGGESTIONS).await[2], "Bob Li");
    a.keys(&Key::Enter.to_string()).await;
    assert_eq!(a.js("return document.getElementById('draft').value").await, "Thanks @Bob Li ");
    assert_eq!(a.js(SUGGESTIONS).await, json!([false, null, null, []]), "closed, nothing sent");
    assert_eq!(shown_texts(&a).await, ["Morning", "Hi", "Hello all"]);
    // Escape closes it and keeps the text; typing on opens it again; a click picks.
    a.keys("and @b").await;
    a.wait_until("the suggestions", SUGGESTIONS, |v| v[0] == true).await;
    a.keys(&Key::Escape.to_string()).await;
    assert_eq!(a.js(SUGGESTIONS).await[0], false);
    assert_eq!(a.js("return document.getElementById('draft').value").await, "Thanks @Bob Li and @b");
    a.keys("o").await;
    a.wait_until("the suggestions again", SUGGESTIONS, |v| v[0] == true).await;
    a.click(&format!("#mention-list [role=option][data-user-id='{}']", bob.id)).await;
    assert_eq!(a.js("return document.getElementById('draft').value").await, "Thanks @Bob Li and @bob ");
    assert_eq!(a.js("return document.activeElement.id").await, "draft", "the focus stays in the box");
    a.keys(&format!("see you{}", Key::Enter)).await;
    let text = "Thanks @Bob Li and @bob see you";
    wait_for_message(&a, "alice", text).await;
    let marks = "return Array.from(document.querySelectorAll('#message-list .message')).pop()
        .querySelectorAll('.mention').length";
    a.wait_until("the mentions marked", marks, |v| v == 2).await;
    let mine = "const li = Array.from(document.querySelectorAll('#message-list .message')).pop();
        return [li.classList.contains('mentions-me'), li.querySelectorAll('.mention-me').length]";
    assert_eq!(a.js(mine).await, json!([false, 0]), "the writer is not mentioned");

    // Bob Li's room list counts the mention live, beside the unread count.
    let mention_badge = "const b = document.querySelector('a[data-room=lobby] .mention-badge');
        return b ? [b.firstChild.textContent, b.textContent] : null";
    b.wait_until("the mention badge", mention_badge, |v| v[0] == "@1").await;
    assert_eq!(b.js(mention_badge).await, json!(["@1", "@1 mention of you"]));
    assert_eq!(b.js(&badge_script("lobby")).await, "1");
    assert_eq!(b.js(NO_SIDEWAYS_SCROLL).await, true);
    b.screenshot(&format!("rooms-mention-{}", px(other))).await;

    // In the room, his name is marked as his, bob's as someone else's.
    open_room(&b, "lobby").await;
    wait_for_message(&b, "alice", text).await;
    let seen = "const li = Array.from(document.querySelectorAll('#message-list .message')).pop();
        return [li.classList.contains('mentions-me'),
            Array.from(li.querySelectorAll('.mention')).map(m => [m.textContent, m.classList.contains('mention-me')])]";
    assert_eq!(b.js(seen).await, json!([true, [["@Bob Li", true], ["@bob", false]]]));
    b.screenshot(&format!("chat-mentioned-{}", px(other))).await;
    b.goto("/rooms").await;
    b.wait_until("no mention badge once read", mention_badge, |v| v.is_null()).await;
}

#[tokio::test]
async fn mentions_are_picked_by_keyboard_marked_for_the_one_named_and_counted_in_their_room_list_at_phone_width() {
    mentions(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn mentions_are_picked_by_keyboard_marked_for_the_one_named_and_counted_in_their_room_list_at_desktop_width() {
    mentions(DESKTOP, PHONE).await;
}

#[tokio::test]
async fn mention_and_unread_badges_read_999_plus_past_the_cap() {
    let server = TestServer::start_with(&[
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "10000"),
        ("CHATROOM_LIMITS_SEND_BURST", "10000"),
    ]);
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    post(&bob, "lobby", "here").await;
    let driver = Driver::start();
    let b = driver.browser(&server.url(""), PHONE).await;
    log_in(&b, &bob).await;
    stream::iter(0..1000)
        .map(|i| {
            let alice = &alice;
            async move { post(alice, "lobby", &format!("@bob ping {i}")).await }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let badges = "const a = document.querySelector('a[data-room=lobby]');
        const m = a.querySelector('.mention-badge'), u = a.querySelector('.badge');
        return [m && m.firstChild.textContent, u && u.firstChild.textContent]";
    b.wait_until("the capped badges", badges, |v| v == &json!(["@999+", "999+"])).await;
    assert_eq!(b.js(NO_SIDEWAYS_SCROLL).await, true);
    b.screenshot("rooms-capped-390").await;
    b.goto("/rooms").await;
    assert_eq!(b.js(badges).await, json!(["@999+", "999+"]), "the page as the server draws it");
}

// ---- notifications ----

async fn notifications(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let (_, direct) = bob.post_json("/api/direct", &json!({"nickname": "alice"})).await;
    let dm = direct["room"]["name"].as_str().unwrap().to_owned();
    post(&bob, &dm, "Got a minute?").await;
    post(&alice, "lobby", "Morning").await;
    let w = px(size);
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), size).await);

    // The offer shows while the browser has not been asked; it asks only on the click.
    log_in(&a, &alice).await;
    let asked = "window.__asked = 0;
        const ask = Notification.requestPermission.bind(Notification);
        Notification.requestPermission = () => { window.__asked += 1; return ask(); };
        return Notification.permission";
    assert_eq!(a.js(asked).await, "default");
    a.wait_until("the offer", "return !document.getElementById('notify-offer').hidden", |v| v == true).await;
    assert_eq!(a.text("#notify-on").await, "Turn on notifications");
    assert_eq!(a.js("return window.__asked").await, 0, "not asked before the click");
    a.screenshot(&format!("rooms-notify-offer-{w}")).await;
    a.set_permission("notifications", "granted").await;
    a.click("#notify-on").await;
    a.wait_until("the offer gone", "return document.getElementById('notify-offer').hidden", |v| v == true).await;
    assert_eq!(a.js("return [window.__asked, Notification.permission]").await, json!([1, "granted"]));

    // A direct message while the chat page is in the background.
    open_room(&a, &dm).await;
    assert_eq!(a.js("return document.getElementById('notify-offer').hidden").await, true, "allowed: no offer");
    a.js(RECORD_NOTIFICATIONS).await;
    post(&alice, &dm, "A note from my phone").await;
    let id = post(&bob, &dm, "Are you there?\nIt is about the release").await;
    let notes = a.wait_until("a notification", NOTES, |v| v.as_array().is_some_and(|n| !n.is_empty())).await;
    assert_eq!(notes, json!([["bob", "Are you there?", format!("message-{id}")]]), "not for our own message");
    // Its click: the window forward, the message highlighted.
    a.js("window.__notes[0].dispatchEvent(new Event('click', { cancelable: true }))").await;
    a.wait_until("the message highlighted", &highlighted_in_view(id), |v| v == true).await;
    assert_eq!(a.js("return window.__notes[0].closed").await, true);

    // A mention while the room list is in the background; its click opens the room at it.
    a.goto("/rooms").await;
    a.wait_until(
        "the room list read once",
        "return performance.getEntriesByType('resource').some(e => new URL(e.name).pathname === '/api/rooms')",
        |v| v == true,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    a.js(RECORD_NOTIFICATIONS).await;
    post(&bob, "lobby", "Plain words for everyone").await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let mention = post(&bob, "lobby", "@alice can you look at the release?").await;
    let notes = a.wait_until("a notification", NOTES, |v| v.as_array().is_some_and(|n| !n.is_empty())).await;
    assert_eq!(notes, json!([["bob in #lobby", "@alice can you look at the release?", format!("message-{mention}")]]));
    a.js("window.__notes[0].dispatchEvent(new Event('click', { cancelable: true }))").await;
    a.wait_for_path("/rooms/lobby").await;
    assert_eq!(a.js("return location.search").await, format!("?at={mention}"));
    a.wait_until("the message highlighted", &highlighted_in_view(mention), |v| v == true).await;

    // Bob has not been asked: the chat page offers it, and "Not now" is remembered.
    log_in(&b, &bob).await;
    open_room(&b, "lobby").await;
    b.wait_until("the offer", "return !document.getElementById('notify-offer').hidden", |v| v == true).await;
    assert_eq!(b.js(UNLABELLED).await, json!([]));
    assert_eq!(b.js(NO_SIDEWAYS_SCROLL).await, true);
    b.screenshot(&format!("chat-notify-offer-{w}")).await;
    b.click("#notify-later").await;
    assert_eq!(b.js("return document.getElementById('notify-offer').hidden").await, true);
    assert_eq!(b.js("return document.activeElement.id").await, "draft", "the focus goes back to the message box");
    open_room(&b, "lobby").await;
    assert_eq!(b.js("return document.getElementById('notify-offer').hidden").await, true, "not offered again here");
    assert_eq!(b.js("return Notification.permission").await, "default", "and never asked");
}

#[tokio::test]
async fn notifications_are_asked_for_on_a_click_and_shown_for_direct_messages_and_mentions_in_the_background_at_phone_width(
) {
    notifications(PHONE).await;
}

#[tokio::test]
async fn notifications_are_asked_for_on_a_click_and_shown_for_direct_messages_and_mentions_in_the_background_at_desktop_width(
) {
    notifications(DESKTOP).await;
}
