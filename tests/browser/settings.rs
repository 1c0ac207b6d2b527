//! The settings page (`/settings`), as the person changing their account sees it and as
//! someone else in a room with them sees the change: the nickname, the picture (its
//! preview, its upload, the refusals, removing it), the password (which logs out their
//! other browsers) and deleting the account. Each at phone and desktop width; the
//! screenshots land in `target/screenshots/`.

use super::*;
use image::{ImageFormat, Rgb, RgbImage};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether the page fits the window's width (nothing to scroll sideways).
const NO_SIDEWAYS_SCROLL: &str = "return document.documentElement.scrollWidth <= window.innerWidth";

/// Whether the element is wholly in the viewport, below the top bar.
fn in_view(css: &str) -> String {
    format!(
        "const r = document.querySelector({css}).getBoundingClientRect();
         const bar = document.querySelector('.topbar').getBoundingClientRect().bottom;
         return r.top >= bar && r.bottom <= window.innerHeight;",
        css = json!(css)
    )
}

/// Whether the field the server refused has the focus and shows, with its error.
async fn refused_field_shows(browser: &Browser, input: &str) {
    let focused = browser.js("return '#' + document.activeElement.id").await;
    assert_eq!(focused, input, "the refused field has the focus");
    assert_eq!(browser.js(&in_view(input)).await, true, "{input} shows without scrolling");
    assert_eq!(browser.js(&in_view(&format!("{input}-error"))).await, true, "its error shows without scrolling");
}

/// Opens the settings page as a person would: through their name in the top bar.
async fn open_settings(browser: &Browser) {
    browser.click(".topbar a.me").await;
    browser.wait_for_path("/settings").await;
    browser.find("#avatar-file").await;
}

/// What an avatar shows: `["IMG", the path of its picture, loaded]` or `["SPAN", its
/// initials, true]` (null when there is none).
fn avatar_script(css: &str) -> String {
    format!(
        "const a = document.querySelector({css});
         if (!a) return null;
         if (a.tagName !== 'IMG') return [a.tagName, a.textContent, true];
         return ['IMG', a.getAttribute('src') ? new URL(a.src).pathname : '', a.complete && a.naturalWidth > 0];",
        css = json!(css)
    )
}

/// Waits until the avatar shows the picture at `path` (loaded, when `loaded`).
async fn wait_for_picture(browser: &Browser, css: &str, path: &str, loaded: bool) {
    browser
        .wait_until(&format!("{css} to show {path}"), &avatar_script(css), |v| {
            v[0] == "IMG" && v[1] == path && (!loaded || v[2] == true)
        })
        .await;
}

/// Waits until the avatar shows these initials.
async fn wait_for_initials(browser: &Browser, css: &str, initials: &str) {
    browser
        .wait_until(&format!("{css} to show {initials:?}"), &avatar_script(css), |v| v[0] == "SPAN" && v[1] == initials)
        .await;
}

/// Whether an avatar is round and square at the size it is shown: `[width, height, round]`.
fn avatar_box(css: &str) -> String {
    format!(
        "const a = document.querySelector({css});
         const r = a.getBoundingClientRect();
         return [Math.round(r.width), Math.round(r.height), getComputedStyle(a).borderRadius === '50%'];",
        css = json!(css)
    )
}

/// The account's avatar URL as the server has it now.
async fn avatar_url(who: &Client) -> Value {
    who.get_json("/api/me").await.1["user"]["avatar_url"].clone()
}

/// A landscape picture, so that the centre square the server keeps is visible: a sky,
/// a sun in the middle, green hills below.
fn landscape_png(dir: &Path) -> PathBuf {
    let (w, h) = (480u32, 320u32);
    let picture = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as i64 - 240, y as i64 - 140);
        if dx * dx + dy * dy < 60 * 60 {
            Rgb([255, 196, 40])
        } else if y > 220 + ((x as f64 / 40.0).sin() * 12.0) as u32 {
            Rgb([40, 150 - (y / 8) as u8, 70])
        } else {
            Rgb([90 + (y / 4) as u8, 150 + (y / 5) as u8, 235])
        }
    });
    let path = dir.join("sunrise.png");
    picture.save_with_format(&path, ImageFormat::Png).expect("write the picture");
    path
}

/// A real PNG over the 2 MB the server takes: noise does not compress.
fn big_png(dir: &Path) -> PathBuf {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let picture = RgbImage::from_fn(1000, 1000, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let path = dir.join("huge.png");
    picture.save_with_format(&path, ImageFormat::Png).expect("write the picture");
    assert!(std::fs::metadata(&path).unwrap().len() > 2 * 1024 * 1024, "the picture is over 2 MB");
    path
}

/// Chooses a file in the picture field, as the file dialog would.
async fn choose_file(browser: &Browser, path: &Path) {
    let input = browser.find("#avatar-file").await;
    input.send_keys(path.to_str().expect("a UTF-8 path")).await.unwrap_or_else(|e| panic!("choose {path:?}: {e}"));
}

/// Whether the picture field shows no preview and offers no upload.
const NOTHING_TO_UPLOAD: &str = "return document.getElementById('avatar-preview').hidden
    && document.getElementById('avatar-upload').hidden && !document.getElementById('avatar-current').hidden";

// ---- the nickname ----

async fn nickname(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, _bob) = (person(&server, "alice").await, person(&server, "bob").await);
    let driver = Driver::start();
    let (a, elsewhere) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    let w = width(size);
    log_in(&a, &alice).await;
    // Alice also has the lobby open in another browser.
    log_in(&elsewhere, &alice).await;
    open_room(&elsewhere, "lobby").await;

    open_settings(&a).await;
    assert_eq!(a.js(NO_SIDEWAYS_SCROLL).await, true, "the page fits {w} px");
    assert_eq!(a.js(UNLABELLED).await, json!([]), "every control on /settings has a name");
    assert_eq!(a.js("return document.getElementById('nickname').value").await, "alice");
    assert_eq!(a.js(&avatar_script("#avatar-current")).await, json!(["SPAN", "A", true]), "initials until a picture");
    a.screenshot(&format!("settings-{w}")).await;
    a.js("window.scrollTo(0, document.documentElement.scrollHeight)").await;
    let bar = a.js("return [window.scrollY > 0, document.querySelector('.topbar').getBoundingClientRect().top]").await;
    assert_eq!(bar, json!([true, 0]), "the top bar stays up all the way down");
    a.screenshot(&format!("settings-bottom-{w}")).await;

    // Taken: said next to the field, what was typed kept.
    a.fill("#nickname", "bob").await;
    a.click("form[action='/settings/nickname'] button[type=submit]").await;
    a.find("#nickname-error").await;
    assert_eq!(field_error(&a, "#nickname").await, ("This nickname is taken; choose another.".into(), true));
    refused_field_shows(&a, "#nickname").await;
    assert_eq!(a.js("return document.getElementById('nickname').value").await, "bob");
    assert_eq!(a.js("return document.querySelector('.me').title").await, "Logged in as alice: settings");
    a.screenshot(&format!("settings-nickname-taken-{w}")).await;

    a.fill("#nickname", "Alice Smith").await;
    a.click("form[action='/settings/nickname'] button[type=submit]").await;
    a.wait_for_text(".notice", "Your nickname is saved.").await;
    assert_eq!(a.path().await, "/settings");
    assert_eq!(a.js("return document.getElementById('nickname').value").await, "Alice Smith");
    assert_eq!(a.js("return document.querySelector('.me-name').textContent").await, "Alice Smith");
    assert_eq!(a.js("return document.querySelector('.me').title").await, "Logged in as Alice Smith: settings");
    assert_eq!(a.js(&avatar_script(".topbar .me .avatar")).await, json!(["SPAN", "AS", true]));
    if size == DESKTOP {
        assert_eq!(a.text(".me-name").await, "Alice Smith", "the top bar shows the new name");
    }
    a.screenshot(&format!("settings-nickname-saved-{w}")).await;
    assert_eq!(alice.get_json("/api/me").await.1["user"]["nickname"], "Alice Smith");

    // Her open chat page shows the new name at once: the top bar, who is online.
    elsewhere.wait_for_text("#member-list", "Alice Smith (you)").await;
    let top = "const me = document.querySelector('.topbar .me');
        return [me.title, me.querySelector('.me-name').textContent, me.querySelector('.avatar').textContent]";
    assert_eq!(elsewhere.js(top).await, json!(["Logged in as Alice Smith: settings", "Alice Smith", "AS"]));
}

#[tokio::test]
async fn settings_changes_the_nickname_and_says_when_it_is_taken_at_phone_width() {
    nickname(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn settings_changes_the_nickname_and_says_when_it_is_taken_at_desktop_width() {
    nickname(DESKTOP, PHONE).await;
}

// ---- the picture ----

async fn picture(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    post(&alice, "lobby", "Hello from Alice").await;
    post(&bob, "lobby", "Hi Alice").await;
    post(&alice, "lobby", "Picture coming up").await;
    let files = tempfile::tempdir().expect("a directory for the pictures");
    let (sunrise, huge) = (landscape_png(files.path()), big_png(files.path()));
    let notes = files.path().join("notes.txt");
    std::fs::write(&notes, "not a picture").unwrap();
    let fake = files.path().join("fake.png");
    std::fs::write(&fake, "not a picture either, whatever the name says").unwrap();
    // A picture the browser shows but the server refuses: over 4096 pixels wide.
    let wide = files.path().join("banner.png");
    RgbImage::from_pixel(5000, 10, Rgb([200, 60, 60])).save_with_format(&wide, ImageFormat::Png).unwrap();

    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    let (w, ow) = (width(size), width(other));
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    // Alice is in the lobby on another device; Bob has it open.
    let mut alice_elsewhere = alice.another_login(&server).await.ws(&server).await;
    alice_elsewhere.join("lobby").await;
    open_room(&b, "lobby").await;
    wait_for_message(&b, "alice", "Picture coming up").await;
    b.wait_for_text("#member-list", "alice").await;
    let alices_avatars = format!("#message-list .message[data-user-id='{}'] .avatar", alice.id);
    let alice_online = "#member-list li:has(.avatar[data-name=alice]) .avatar".to_owned();
    wait_for_initials(&b, &alices_avatars, "A").await;
    wait_for_initials(&b, &alice_online, "A").await;

    open_settings(&a).await;

    // The wrong kind of file, then one too big: said next to the field, nothing sent.
    choose_file(&a, &notes).await;
    let wrong_type = "“notes.txt” is not a PNG, JPEG, GIF or WebP picture.";
    a.wait_for_text("#avatar-error", wrong_type).await;
    assert_eq!(field_error(&a, "#avatar-file").await, (wrong_type.into(), true));
    assert_eq!(a.js(NOTHING_TO_UPLOAD).await, true, "no preview, no upload button");
    a.screenshot(&format!("settings-avatar-wrong-type-{w}")).await;
    choose_file(&a, &huge).await;
    let error = a.wait_for_text("#avatar-error", "huge.png").await;
    assert!(error.starts_with("“huge.png” is 2.") && error.ends_with(" MB; a picture can be at most 2 MB."), "{error}");
    assert!(field_error(&a, "#avatar-file").await.1, "the size error sits under the field");
    assert_eq!(a.js(NOTHING_TO_UPLOAD).await, true);
    a.screenshot(&format!("settings-avatar-too-big-{w}")).await;
    // Named .png but not a picture: the browser cannot show it, so it is not sent.
    choose_file(&a, &fake).await;
    let damaged = "“fake.png” could not be read as a picture: it may be damaged.";
    a.wait_for_text("#avatar-error", damaged).await;
    assert_eq!(field_error(&a, "#avatar-file").await, (damaged.into(), true));
    assert_eq!(a.js(NOTHING_TO_UPLOAD).await, true);
    assert_eq!(avatar_url(&alice).await, Value::Null, "nothing was uploaded");

    // A picture the server refuses (too wide): it says why, next to the field.
    choose_file(&a, &wide).await;
    a.find("#avatar-preview:not([hidden])").await;
    assert_eq!(field_error(&a, "#avatar-file").await.0, "", "a new choice clears the error");
    a.click("#avatar-upload").await;
    let refused = "The image is larger than 4096×4096 pixels.";
    a.wait_for_text("#avatar-error", refused).await;
    assert_eq!(field_error(&a, "#avatar-file").await, (refused.into(), true));
    let button = "const b = document.getElementById('avatar-upload'); return [b.disabled, b.textContent]";
    assert_eq!(a.js(button).await, json!([false, "Use this picture"]), "ready to try again");
    assert_eq!(a.path().await, "/settings");
    assert_eq!(avatar_url(&alice).await, Value::Null);
    a.screenshot(&format!("settings-avatar-refused-{w}")).await;
    a.click("#avatar-cancel").await;
    assert_eq!(a.js(NOTHING_TO_UPLOAD).await, true, "Cancel puts the current avatar back");
    assert_eq!(a.js("return document.activeElement.id").await, "avatar-file");

    // A picture: previewed before anything is sent.
    choose_file(&a, &sunrise).await;
    let preview = a
        .wait_until(
            "the preview",
            "const p = document.getElementById('avatar-preview');
             return [p.hidden, p.src.slice(0, 5), p.complete && p.naturalWidth,
                     document.getElementById('avatar-current').hidden,
                     document.getElementById('avatar-upload').hidden, document.getElementById('avatar-error').hidden]",
            |v| v[2] == 480,
        )
        .await;
    assert_eq!(preview, json!([false, "blob:", 480, true, false, true]), "the chosen file shows, not yet sent");
    assert_eq!(a.js(&avatar_box("#avatar-preview")).await, json!([96, 96, true]), "a round square preview");
    assert_eq!(avatar_url(&alice).await, Value::Null, "a preview sends nothing");
    assert_eq!(a.js(NO_SIDEWAYS_SCROLL).await, true);
    a.screenshot(&format!("settings-avatar-preview-{w}")).await;

    a.click("#avatar-upload").await;
    a.wait_for_text(".notice", "Your picture is saved.").await;
    let url = avatar_url(&alice).await;
    let url = url.as_str().expect("an avatar URL once uploaded").to_owned();
    assert!(url.starts_with(&format!("/avatars/{}/", alice.id)), "{url}");
    wait_for_picture(&a, "#avatar-current", &url, true).await;
    wait_for_picture(&a, ".topbar .me .avatar", &url, true).await;
    assert_eq!(a.js(&avatar_box("#avatar-current")).await, json!([96, 96, true]));
    assert_eq!(a.js(&avatar_box(".topbar .me .avatar")).await, json!([26, 26, true]), "26 px in the top bar");
    let natural = a.js("return document.getElementById('avatar-current').naturalWidth").await;
    assert_eq!(natural, 256, "the server's square");
    a.find("form[action='/settings/avatar'] button").await;
    assert_eq!(a.text("label[for=avatar-file]").await, "Choose another picture");
    assert_eq!(a.js(NO_SIDEWAYS_SCROLL).await, true);
    a.screenshot(&format!("settings-avatar-saved-{w}")).await;

    // Bob sees it at once, on Alice's messages and among who is online.
    wait_for_picture(&b, &alices_avatars, &url, true).await;
    let pictures =
        b.js(&format!("return document.querySelectorAll({}).length", json!(format!("{alices_avatars}[src]")))).await;
    assert_eq!(pictures, 2, "on each of her messages");
    wait_for_picture(&b, &alice_online, &url, false).await;
    let bobs = format!("#message-list .message[data-user-id='{}'] .avatar", bob.id);
    assert_eq!(b.js(&avatar_script(&bobs)).await, json!(["SPAN", "B", true]), "Bob's own stay initials");
    let first_message = format!("#message-list .message[data-user-id='{}']:not(.continued) .avatar", alice.id);
    assert_eq!(b.js(&avatar_box(&first_message)).await, json!([36, 36, true]), "the size of the initials");
    b.screenshot(&format!("chat-avatars-{ow}")).await;
    if other == PHONE {
        b.click("#members-toggle").await;
    }
    wait_for_picture(&b, &alice_online, &url, true).await;
    assert_eq!(b.js(&avatar_box(&alice_online)).await, json!([26, 26, true]));
    b.screenshot(&format!("chat-avatars-people-{ow}")).await;
    if other == PHONE {
        b.click("#members-close").await;
    }

    // Her own chat page shows it in the top bar and among who is online.
    open_room(&a, "lobby").await;
    wait_for_picture(&a, ".topbar .me .avatar", &url, true).await;
    wait_for_picture(&a, "#member-list li:has(.avatar[data-name=alice]) .avatar", &url, false).await;
    a.screenshot(&format!("chat-avatars-mine-{w}")).await;

    // Removing it: initials again, for Bob too.
    a.goto("/settings").await;
    a.click("form[action='/settings/avatar'] button[type=submit]").await;
    a.wait_for_text(".notice", "Your picture is saved.").await;
    wait_for_initials(&a, "#avatar-current", "A").await;
    wait_for_initials(&a, ".topbar .me .avatar", "A").await;
    assert!(
        a.js("return document.querySelector(\"form[action='/settings/avatar']\")").await.is_null(),
        "nothing to remove"
    );
    assert_eq!(avatar_url(&alice).await, Value::Null);
    wait_for_initials(&b, &alices_avatars, "A").await;
    wait_for_initials(&b, &alice_online, "A").await;
    alice_elsewhere.close().await;
}

#[tokio::test]
async fn settings_previews_uploads_refuses_and_removes_a_picture_others_see_it_live_at_phone_width() {
    picture(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn settings_previews_uploads_refuses_and_removes_a_picture_others_see_it_live_at_desktop_width() {
    picture(DESKTOP, PHONE).await;
}

// ---- the password ----

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn password(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let alice = person(&server, "alice").await;
    let driver = Driver::start();
    let (a, elsewhere) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    let w = width(size);
    log_in(&a, &alice).await;
    log_in(&elsewhere, &alice).await;
    open_room(&elsewhere, "lobby").await;
    open_settings(&a).await;
    let submit = "form[action='/settings/password'] button[type=submit]";

    a.fill("#current", PASSWORD).await;
    a.fill("#new", NEW_PASSWORD).await;
    a.fill("#new_confirm", "a brand new passphrasE").await;
    a.click(submit).await;
    a.find("#new_confirm-error").await;
    assert_eq!(field_error(&a, "#new_confirm").await, ("The two new passwords differ.".into(), true));
    refused_field_shows(&a, "#new_confirm").await;
    assert_eq!(a.js("return document.getElementById('new').value").await, "", "a password is never sent back");
    a.screenshot(&format!("settings-password-differ-{w}")).await;

    a.fill("#current", "not my password").await;
    a.fill("#new", NEW_PASSWORD).await;
    a.fill("#new_confirm", NEW_PASSWORD).await;
    a.click(submit).await;
    a.find("#current-error").await;
    assert_eq!(field_error(&a, "#current").await, ("The current password is wrong.".into(), true));
    refused_field_shows(&a, "#current").await;

    a.fill("#current", PASSWORD).await;
    a.fill("#new", NEW_PASSWORD).await;
    a.fill("#new_confirm", NEW_PASSWORD).await;
    a.click(submit).await;
    a.wait_for_text(".notice", "Your password is changed.").await;
    a.screenshot(&format!("settings-password-changed-{w}")).await;

    // The other browser is logged out, from its open chat page; this one stays.
    elsewhere.wait_for_path("/login").await;
    elsewhere.goto("/rooms").await;
    elsewhere.wait_for_path("/login").await;
    open_room(&a, "lobby").await;
    assert_eq!(a.js("return fetch('/api/me').then(r => r.status)").await, 200, "this session stays");

    // The new password is the one.
    elsewhere.fill("#phone", &alice.phone).await;
    elsewhere.fill("#password", NEW_PASSWORD).await;
    elsewhere.click("form[action='/login'] button[type=submit]").await;
    elsewhere.wait_for_path("/rooms").await;
}

#[tokio::test]
async fn settings_changes_the_password_and_logs_out_the_other_browsers_at_phone_width() {
    password(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn settings_changes_the_password_and_logs_out_the_other_browsers_at_desktop_width() {
    password(DESKTOP, PHONE).await;
}

// ---- deleting the account ----

async fn delete(size: (u32, u32), other: (u32, u32)) {
    let server = TestServer::start();
    let (alice, bob) = (person(&server, "alice").await, person(&server, "bob").await);
    post(&alice, "lobby", "I am off soon").await;
    post(&bob, "lobby", "Sad to see you go").await;
    post(&alice, "lobby", "Bye all").await;
    let driver = Driver::start();
    let (a, b) = (driver.browser(&server.url(""), size).await, driver.browser(&server.url(""), other).await);
    let w = width(size);
    log_in(&a, &alice).await;
    log_in(&b, &bob).await;
    // Alice is in the lobby on another device; Bob has it open.
    let mut alice_elsewhere = alice.another_login(&server).await.ws(&server).await;
    alice_elsewhere.join("lobby").await;
    open_room(&b, "lobby").await;
    wait_for_message(&b, "alice", "Bye all").await;
    b.wait_for_text("#member-list", "alice").await;
    open_settings(&a).await;
    let submit = "form[action='/settings/delete'] button[type=submit]";

    a.fill("#delete_password", "not my password").await;
    a.click(submit).await;
    a.find("#delete_password-error").await;
    assert_eq!(field_error(&a, "#delete_password").await, ("The password is wrong.".into(), true));
    refused_field_shows(&a, "#delete_password").await;
    a.screenshot(&format!("settings-delete-wrong-{w}")).await;
    assert_eq!(alice.get_json("/api/me").await.0, StatusCode::OK, "still there");

    a.fill("#delete_password", PASSWORD).await;
    a.click(submit).await;
    a.wait_for_path("/login").await;
    assert_eq!(a.text(".notice").await, "Your account is deleted. Thank you for having been here.");
    a.screenshot(&format!("login-account-deleted-{w}")).await;
    assert_eq!(a.js("return fetch('/api/me').then(r => r.status)").await, 401);
    a.goto("/settings").await;
    a.wait_for_path("/login").await;

    assert!(alice_elsewhere.closes_within(Duration::from_secs(5)).await, "her other device is logged out too");

    // Bob sees her go from who is online; her messages stay, signed "Deleted user".
    b.wait_until("alice to leave the online list", "return document.getElementById('member-list').textContent", |t| {
        !t.as_str().unwrap_or_default().contains("alice")
    })
    .await;
    b.goto("/rooms/lobby").await;
    b.wait_for_text("#status", "Online").await;
    wait_for_exactly(&b, &["I am off soon", "Sad to see you go", "Bye all"]).await;
    let authors = b.js(SHOWN).await;
    let authors: Vec<&str> = authors.as_array().unwrap().iter().map(|r| r[1].as_str().unwrap()).collect();
    assert_eq!(authors, ["Deleted user", "bob", "Deleted user"]);
    b.screenshot(&format!("chat-deleted-user-{}", width(other))).await;

    // Her nickname is free again.
    let newcomer = person(&server, "alice").await;
    assert_ne!(newcomer.id, alice.id);
}

#[tokio::test]
async fn settings_deletes_the_account_after_the_password_and_others_see_deleted_user_at_phone_width() {
    delete(PHONE, DESKTOP).await;
}

#[tokio::test]
async fn settings_deletes_the_account_after_the_password_and_others_see_deleted_user_at_desktop_width() {
    delete(DESKTOP, PHONE).await;
}

fn width(size: (u32, u32)) -> u32 {
    size.0
}
