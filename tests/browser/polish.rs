//! The chat page's finish: the typing line going the moment the message it announced
//! lands (or its writer leaves), and web addresses in messages as links that open in a
//! new tab and say nothing of where they came from, while every other scheme stays
//! text and a long address still wraps; "Message someone" suggesting people as their
//! nickname is typed, by keyboard. Each at phone and desktop width.

use super::*;

/// What the other person sees the moment a message shows: `[the message shown, the
/// typing line]`, read together so that nothing can change between the two.
fn shown_and_typing(text: &str) -> String {
    format!(
        "const shown = Array.from(document.querySelectorAll('#message-list .message:not(.pending) .text'))
            .some(t => t.textContent === {text});
         return [shown, document.getElementById('typing').textContent];",
        text = json!(text)
    )
}

async fn typing_line(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), size).await);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    open_room(&a, "lobby").await;
    open_room(&b, "lobby").await;

    // Bob types: Alice sees it, then his message, and the line is gone with it, long
    // before the sign would have run out by itself (4 s).
    b.find("#draft").await.send_keys("On my way").await.expect("type");
    a.wait_for_text("#typing", "bob is typing").await;
    b.keys(&Key::Enter.to_string()).await;
    let seen = a.wait_until("bob's message", &shown_and_typing("On my way"), |v| v[0] == true).await;
    assert_eq!(seen[1], "", "the typing line went with the message it announced");

    // He types again soon after (past the server's one typing notice a second, within
    // the page's own 2.5 s pacing): the line comes back, a send having reset the pacing.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    b.find("#draft").await.send_keys("and").await.expect("type");
    a.wait_for_text("#typing", "bob is typing").await;

    // He leaves while typing: the line goes with him.
    b.goto("/rooms").await;
    a.wait_until(
        "the typing line cleared when bob left",
        "return document.getElementById('typing').textContent",
        |v| v == "",
    )
    .await;
}

#[tokio::test]
async fn the_typing_line_goes_when_the_message_lands_or_its_writer_leaves_at_phone_width() {
    typing_line(PHONE).await;
}

#[tokio::test]
async fn the_typing_line_goes_when_the_message_lands_or_its_writer_leaves_at_desktop_width() {
    typing_line(DESKTOP).await;
}

/// Every link in the message with this text: `[text, href, target, rel]`, and the
/// message's whole text.
fn links_of(text_starts: &str) -> String {
    format!(
        "const p = Array.from(document.querySelectorAll('#message-list .message .text'))
            .find(t => t.textContent.startsWith({text_starts}));
         if (!p) return null;
         return [Array.from(p.querySelectorAll('a')).map(a => [a.textContent, a.href, a.target, a.rel]), p.textContent];",
        text_starts = json!(text_starts)
    )
}

async fn links(size: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let text = "Links: https://example.org/a?b=1. Not these: javascript:alert(1) data:text/html,<b>x</b> \
                ftp://example.org <a href=\"https://evil.example\">x</a>";
    post(&bob, "lobby", text).await;
    let long = format!("Long: https://example.org/{}", "segment-".repeat(40));
    post(&bob, "lobby", &long).await;
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), size).await;
    log_in(&a, &alice).await;
    open_room(&a, "lobby").await;

    let found = a.wait_until("the message with links", &links_of("Links:"), |v| !v.is_null()).await;
    assert_eq!(found[1], text, "the text reads as sent, markup and all");
    let links = found[0].as_array().unwrap();
    assert_eq!(links.len(), 2, "the http address, and the https one inside the quoted markup's text: {links:?}");
    assert_eq!(
        links[0],
        json!(["https://example.org/a?b=1", "https://example.org/a?b=1", "_blank", "noopener noreferrer nofollow"])
    );
    // Markup is text: the address inside it is linked as text, its tag is not a tag.
    assert_eq!(links[1][0], "https://evil.example");
    let anchors = a.js("return document.querySelectorAll('#message-list a:not(.text-link)').length").await;
    assert_eq!(anchors, 0, "no anchor but ours in the list");
    let elements = a.js("return document.querySelectorAll('#message-list .text b').length").await;
    assert_eq!(elements, 0, "no element from a message");

    // A long address wraps in its bubble: nothing scrolls sideways.
    let long_links = a.wait_until("the long address", &links_of("Long:"), |v| !v.is_null()).await;
    assert_eq!(long_links[0].as_array().unwrap().len(), 1);
    let fits = a
        .js("return document.documentElement.scrollWidth <= document.documentElement.clientWidth
               && Array.from(document.querySelectorAll('#message-list .text')).every(t => t.scrollWidth <= t.clientWidth + 1)")
        .await;
    assert_eq!(fits, true, "long addresses wrap");
    a.screenshot(&format!("chat-links-{}", size.0)).await;
}

#[tokio::test]
async fn web_addresses_are_links_to_a_new_tab_and_other_schemes_stay_text_at_phone_width() {
    links(PHONE).await;
}

#[tokio::test]
async fn web_addresses_are_links_to_a_new_tab_and_other_schemes_stay_text_at_desktop_width() {
    links(DESKTOP).await;
}

/// "Message someone"'s suggestions: `[open, the box's aria-expanded, the active option's
/// name, every option's name, the whole list's text]`.
const PEOPLE: &str = "const list = document.getElementById('people-list');
    const box = document.getElementById('direct-nickname');
    const active = document.getElementById(box.getAttribute('aria-activedescendant') || '-');
    return [!list.hidden, box.getAttribute('aria-expanded'),
        active && active.getAttribute('aria-selected') === 'true' ? active.querySelector('.mention-name').textContent : null,
        Array.from(list.querySelectorAll('[role=option]')).map(o => o.querySelector('.mention-name').textContent),
        list.textContent];";

async fn finding_people(size: (u32, u32)) {
    let server = TestServer::start();
    let alice = person(&server, "alice").await;
    let (bob, _bobby, _carol) =
        (person(&server, "bob").await, person(&server, "Bobby").await, person(&server, "carol").await);
    let driver = Driver::start();
    let a = driver.browser(&server.url(""), size).await;
    log_in(&a, &alice).await;

    // Two people start with "bo", whatever the case; nobody's phone number shows.
    a.find("#direct-nickname").await.send_keys("bo").await.expect("type");
    let shown = a.wait_until("two suggestions", PEOPLE, |v| v[3] == json!(["bob", "Bobby"])).await;
    assert_eq!((&shown[0], &shown[1], &shown[2]), (&json!(true), &json!("true"), &json!("bob")));
    assert!(!shown[4].as_str().unwrap().contains(&bob.phone[3..]), "no phone number");
    a.screenshot_with_focus(&format!("rooms-people-{}", size.0)).await;

    // By keyboard: down to Bobby and back up past the top to him again, up to bob;
    // Enter writes him in and closes the list; Escape closes it too.
    a.keys(&Key::Down.to_string()).await;
    assert_eq!(a.js(PEOPLE).await[2], "Bobby");
    a.keys(&Key::Up.to_string()).await;
    a.keys(&Key::Up.to_string()).await;
    assert_eq!(a.js(PEOPLE).await[2], "Bobby", "it wraps around");
    a.keys(&Key::Up.to_string()).await;
    a.keys(&Key::Enter.to_string()).await;
    let closed = a.js(PEOPLE).await;
    assert_eq!((&closed[0], &closed[1]), (&json!(false), &json!("false")));
    assert_eq!(a.js("return document.getElementById('direct-nickname').value").await, "bob");
    assert_eq!(a.path().await, "/rooms", "a pick fills the box and sends nothing");
    a.fill("#direct-nickname", "car").await;
    a.wait_until("carol suggested", PEOPLE, |v| v[3] == json!(["carol"])).await;
    a.keys(&Key::Escape.to_string()).await;
    assert_eq!(a.js(PEOPLE).await[0], false);

    // Enter on the name typed out in full opens the conversation.
    a.fill("#direct-nickname", "bob").await;
    a.wait_until("no list for a name typed out", PEOPLE, |v| v[0] == false).await;
    a.keys(&Key::Enter.to_string()).await;
    a.wait_until("a direct room", "return location.pathname", |p| p.as_str().unwrap().starts_with("/rooms/dm-")).await;
    assert_eq!(a.text("#chat-title").await, "bob");
}

#[tokio::test]
async fn message_someone_suggests_people_by_the_start_of_their_nickname_by_keyboard_at_phone_width() {
    finding_people(PHONE).await;
}

#[tokio::test]
async fn message_someone_suggests_people_by_the_start_of_their_nickname_by_keyboard_at_desktop_width() {
    finding_people(DESKTOP).await;
}
