//! The room directory as a person sees it on the rooms page: "Browse rooms" offered once
//! the list is longer than a screenful (and not before), its panel with the search field
//! filtering by part of the name as one types (debounced), each result's topic and
//! whether we are in it, "More rooms" through a result set bigger than a page, the
//! empty result said, a lost connection and a 429 said with "Try again", Escape closing
//! it back to its button, and a room opened from a result by keyboard. Each at phone and
//! desktop width; the screenshots land in `target/screenshots/`.

use super::*;

/// Whether the page fits the window's width (nothing to scroll sideways).
const NO_SIDEWAYS_SCROLL: &str = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth";

/// The results shown, top to bottom: `[name, topic line, membership badge or null, link]`.
const RESULTS: &str = "return Array.from(document.querySelectorAll('#browse-results .browse-item')).map(a => [
    a.dataset.room, a.querySelector('.room-preview').textContent,
    a.querySelector('.browse-joined') ? a.querySelector('.browse-joined').textContent : null,
    new URL(a.href).pathname])";

/// The names of the results shown, top to bottom.
const NAMES: &str =
    "return Array.from(document.querySelectorAll('#browse-results .browse-item')).map(a => a.dataset.room)";

/// The status line's text.
const STATUS: &str = "return document.getElementById('browse-status').textContent";

/// `[the dialog open, the button's aria-expanded, the focused element's id or href]`.
const OPEN: &str = "const e = document.activeElement;
    return [document.getElementById('browse').open, document.getElementById('browse-open').getAttribute('aria-expanded'),
        e.id || e.getAttribute('href') || e.tagName]";

/// The directory requests the page made so far: their query strings.
const REQUESTS: &str = "return performance.getEntriesByType('resource')
    .map(e => new URL(e.name)).filter(u => u.pathname === '/api/directory').map(u => u.search)";

/// Replaces the page's `fetch` for the directory: `'offline'` fails as a lost connection
/// does, a number answers with that status, `null` lets requests through again.
fn break_directory(how: &str) -> String {
    format!(
        "if (!window.__realFetch) window.__realFetch = window.fetch;
         const how = {how};
         window.fetch = (url, options) => {{
             if (how === null || !String(url).startsWith('/api/directory')) return window.__realFetch(url, options);
             if (how === 'offline') return Promise.reject(new TypeError('Failed to fetch'));
             return Promise.resolve(new Response(JSON.stringify({{error: {{code: 'rate_limited', message: 'slow down'}}}}),
                 {{status: how, headers: {{'Content-Type': 'application/json'}}}}));
         }};
         return true;"
    )
}

async fn create(owner: &Client, name: &str, private: bool) {
    let (status, body) = owner.post_json("/api/rooms", &json!({"name": name, "private": private})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Waits until the results are exactly these rooms, in this order.
async fn wait_for_names(browser: &Browser, names: &[&str]) {
    let want = json!(names);
    browser.wait_until(&format!("the rooms {names:?}"), NAMES, |v| v == &want).await;
}

/// Waits until the status line says `text` (and so the answer is in).
async fn wait_for_status(browser: &Browser, text: &str) {
    browser.wait_until(&format!("the status {text:?}"), STATUS, |v| v == text).await;
}

fn project(i: usize) -> String {
    format!("project-{i:02}")
}

async fn browse(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    // 30 public rooms and lobby, one private room alice cannot see; a topic on one, and
    // alice in another (posting makes a member).
    for i in 1..=25 {
        create(&bob, &project(i), false).await;
    }
    for name in ["garden", "gardening-club", "kitchen", "music", "books"] {
        create(&bob, name, false).await;
    }
    create(&bob, "secret-garden", true).await;
    let (status, body) = bob.patch_json("/api/rooms/garden", &json!({"topic": "Seeds, soil and sun"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    post(&alice, "gardening-club", "Hello, gardeners").await;
    let w = size.0;

    let driver = Driver::start();
    let a = driver.browser(&server.url(""), size).await;
    log_in(&a, &alice).await;
    a.wait_until("the room list", "return document.querySelectorAll('#room-list > li').length", |v| v == 31).await;
    a.wait_until("the Browse button", "return !document.getElementById('browse-open').hidden", |v| v == true).await;
    assert_eq!(a.text("#browse-open").await, "Browse rooms");
    assert_eq!(a.js(NO_SIDEWAYS_SCROLL).await, true, "the rooms page fits {w} px");
    a.screenshot(&format!("rooms-long-{w}")).await;
    assert_eq!(a.accessibility_violations().await, Vec::<String>::new(), "axe-core on the rooms page");

    // Opened by keyboard: the search field has the focus, every public room by name.
    a.js("document.getElementById('browse-open').focus()").await;
    a.keys(&Key::Enter.to_string()).await;
    a.wait_until("the panel open", OPEN, |v| v == &json!([true, "true", "browse-q"])).await;
    wait_for_status(&a, "Showing the first 20 public rooms, by name.").await;
    let mut first: Vec<String> =
        ["books", "garden", "gardening-club", "kitchen", "lobby", "music"].map(String::from).to_vec();
    first.extend((1..=14).map(project));
    assert_eq!(a.js(NAMES).await, json!(first));
    assert_eq!(a.js("return document.getElementById('browse-more').hidden").await, false);
    let results = a.js(RESULTS).await;
    assert_eq!(results[1], json!(["garden", "Seeds, soil and sun", null, "/rooms/garden"]), "its topic");
    assert_eq!(
        results[2],
        json!(["gardening-club", "No topic yet", "Joined", "/rooms/gardening-club"]),
        "we are in it"
    );
    assert_eq!(a.js(UNLABELLED).await, json!([]), "every control in the panel has a name");
    assert_eq!(a.accessibility_violations().await, Vec::<String>::new(), "axe-core with the panel open");
    let semantics = "const ul = document.getElementById('browse-results');
        return [ul.tagName, getComputedStyle(ul).listStyleType, Array.from(ul.children).every(c => c.tagName === 'LI'),
            document.getElementById('browse-q').labels[0].textContent,
            document.getElementById('browse').getAttribute('aria-labelledby')]";
    assert_eq!(a.js(semantics).await, json!(["UL", "none", true, "Find a public room by name", "browse-title"]));
    let fits = "const d = document.getElementById('browse').getBoundingClientRect();
        const width = document.documentElement.clientWidth; // the page's scroll bar left out
        return [d.left >= 0 && d.right <= width + 0.5, Math.round(d.height) === window.innerHeight,
            document.getElementById('browse').scrollWidth <= document.getElementById('browse').clientWidth]";
    assert_eq!(a.js(fits).await, json!([true, true, true]), "the panel fits {w} px");
    if w < 600 {
        let full = "return Math.round(document.getElementById('browse').getBoundingClientRect().width)
            === document.documentElement.clientWidth";
        assert_eq!(a.js(full).await, true, "the whole screen on a phone");
    }
    a.screenshot(&format!("rooms-browse-{w}")).await;

    // Typed as a person types: filtered by part of the name, the private room left out,
    // and not one request per key.
    let before = a.js(REQUESTS).await.as_array().unwrap().len();
    a.js("document.getElementById('browse-q').focus()").await; // the screenshot took it away
    a.keys("Garden").await;
    wait_for_names(&a, &["garden", "gardening-club"]).await;
    wait_for_status(&a, "2 rooms have “garden” in their name.").await;
    let requests = a.js(REQUESTS).await;
    let typed = &requests.as_array().unwrap()[before..];
    assert!(typed.len() <= 2, "debounced: {typed:?}");
    assert_eq!(typed.last().unwrap(), "?q=garden&limit=20", "the last one asks for the whole word: {typed:?}");
    let marks = "return Array.from(document.querySelectorAll('#browse-results mark')).map(m => m.textContent)";
    assert_eq!(a.js(marks).await, json!(["garden", "garden"]), "the part of the name that matched is marked");
    assert_eq!(a.js("return document.getElementById('browse-more').hidden").await, true, "one page only");
    a.screenshot(&format!("rooms-browse-garden-{w}")).await;

    // More than a page: "More rooms" follows `next` until there are no more.
    a.fill("#browse-q", "project").await;
    wait_for_status(&a, "Showing the first 20 rooms with “project” in their name.").await;
    let page: Vec<String> = (1..=20).map(project).collect();
    assert_eq!(a.js(NAMES).await, json!(page));
    a.click("#browse-more").await;
    let all: Vec<String> = (1..=25).map(project).collect();
    a.wait_until("the next page", NAMES, |v| v == &json!(all)).await;
    wait_for_status(&a, "25 rooms have “project” in their name.").await;
    assert_eq!(a.js("return document.getElementById('browse-more').hidden").await, true, "no more to load");
    let requests = a.js(REQUESTS).await;
    assert_eq!(requests.as_array().unwrap().last().unwrap(), "?q=project&after=project-20&limit=20");
    let focused = "return document.activeElement.dataset.room || document.activeElement.id";
    assert_eq!(a.js(focused).await, "project-21", "the focus goes on from the first of the next page");
    a.screenshot(&format!("rooms-browse-more-{w}")).await;

    // Nothing found says so.
    a.fill("#browse-q", "zebra").await;
    wait_for_status(&a, "No public rooms have “zebra” in their name.").await;
    assert_eq!(a.js(NAMES).await, json!([]));
    assert_eq!(a.js("return document.getElementById('browse-more').hidden").await, true);
    a.screenshot(&format!("rooms-browse-empty-{w}")).await;

    // A lost connection and a refusal are said, not swallowed; "Try again" recovers.
    a.js(&break_directory("'offline'")).await;
    a.fill("#browse-q", "kitchen").await;
    wait_for_status(&a, "Could not load the rooms: check the connection and try again.").await;
    let error = "const s = document.getElementById('browse-status');
        return [s.dataset.kind, s.getAttribute('role'), !document.getElementById('browse-retry').hidden]";
    assert_eq!(a.js(error).await, json!(["error", "status", true]));
    a.screenshot(&format!("rooms-browse-offline-{w}")).await;
    a.js(&break_directory("429")).await;
    a.click("#browse-retry").await;
    wait_for_status(&a, "Too many requests just now: wait a moment and try again.").await;
    a.js(&break_directory("null")).await;
    a.click("#browse-retry").await;
    wait_for_names(&a, &["kitchen"]).await;
    wait_for_status(&a, "1 room has “kitchen” in its name.").await;
    assert_eq!(a.js("return document.getElementById('browse-retry').hidden").await, true);

    // Escape closes it, from the search field too, and the focus goes back to the button.
    a.js("document.getElementById('browse-q').focus()").await;
    a.keys(&Key::Escape.to_string()).await;
    a.wait_until("the panel closed", OPEN, |v| v == &json!([false, "false", "browse-open"])).await;

    // Opened again, as it was left; the room opened from a result by keyboard.
    a.keys(&Key::Enter.to_string()).await;
    a.wait_until("the panel open again", OPEN, |v| v == &json!([true, "true", "browse-q"])).await;
    assert_eq!(a.js(NAMES).await, json!(["kitchen"]), "the last results are kept");
    a.keys(&format!("garden{}", Key::Enter)).await; // the query was selected: typing replaces it
    wait_for_names(&a, &["garden", "gardening-club"]).await;
    a.keys(&Key::Tab.to_string()).await;
    assert_eq!(a.js(OPEN).await[2], "/rooms/garden", "the first result comes after the field");
    a.keys(&Key::Tab.to_string()).await;
    assert_eq!(a.js(OPEN).await[2], "/rooms/gardening-club");
    a.screenshot_with_focus(&format!("rooms-browse-keyboard-{w}")).await;
    a.keys(&Key::Enter.to_string()).await;
    a.wait_for_path("/rooms/gardening-club").await;
    a.wait_for_text("#status", "Online").await;
}

#[tokio::test]
async fn browse_rooms_filters_as_you_type_pages_with_more_says_when_nothing_or_an_error_and_opens_a_room_at_phone_width(
) {
    browse(PHONE).await;
}

#[tokio::test]
async fn browse_rooms_filters_as_you_type_pages_with_more_says_when_nothing_or_an_error_and_opens_a_room_at_desktop_width(
) {
    browse(DESKTOP).await;
}

#[tokio::test]
async fn browse_rooms_is_offered_only_once_the_room_list_is_longer_than_a_screenful() {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    for i in 1..=11 {
        create(&bob, &project(i), false).await;
    }
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), PHONE).await;
    log_in(&a, &alice).await;
    let offered = "return [document.querySelectorAll('#room-list > li').length,
        !document.getElementById('browse-open').hidden]";
    assert_eq!(a.js(offered).await, json!([12, false]), "twelve rooms fit: no button");
    // A thirteenth room comes into the list while the page is open: now it is offered.
    create(&bob, &project(12), false).await;
    a.wait_until("the button offered", offered, |v| v == &json!([13, true])).await;
    a.click("#browse-open").await;
    wait_for_status(&a, "13 public rooms, by name.").await;
    assert_eq!(a.js("return document.getElementById('browse-more').hidden").await, true);
    // Closed by its ✕, back to the button.
    a.click("#browse-close").await;
    a.wait_until("the panel closed", OPEN, |v| v == &json!([false, "false", "browse-open"])).await;
}
