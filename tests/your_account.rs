//! Your account (docs/protocol.md, "Your account"): the nickname, the password, the
//! avatar (every kind of picture a person might upload, and those meant to hurt), the
//! settings page, deleting the account and exporting its data.

use chatroom_testkit as common;

use std::io::Cursor;
use std::time::Duration;

use common::*;
use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::StatusCode;
use serde_json::{json, Value};

const RED: Rgb<u8> = Rgb([220, 20, 20]);
const BLUE: Rgb<u8> = Rgb([20, 20, 220]);

fn encode(picture: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A wide picture: red on the left half, blue on the right.
fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| if x < width / 2 { RED } else { BLUE })
}

/// A JPEG whose EXIF says "rotate 90° clockwise to view" (orientation 6), as phones write.
fn jpeg_with_orientation(picture: &RgbImage, orientation: u16) -> Vec<u8> {
    let jpeg = encode(picture, ImageFormat::Jpeg);
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A two-frame animated GIF: red, then green.
fn animated_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        encoder.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for colour in [Rgba([220, 20, 20, 255]), Rgba([20, 200, 20, 255])] {
            let frame = RgbaImage::from_pixel(64, 64, colour);
            let delay = image::Delay::from_numer_denom_ms(100, 1);
            encoder.encode_frame(image::Frame::from_parts(frame, 0, 0, delay)).unwrap();
        }
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A small file whose PNG header declares a 20000×20000 picture (a decompression bomb).
fn huge_png_header() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = 20_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

async fn upload(user: &Client, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    user.put_bytes("/api/me/avatar", content_type, body).await
}

/// The stored picture behind an avatar URL, decoded, with the answer's headers.
async fn served(user: &Client, url: &str) -> (image::DynamicImage, reqwest::header::HeaderMap, usize) {
    let (status, headers, bytes) = user.get_bytes(url, &[]).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    (image::load_from_memory(&bytes).expect("a picture"), headers, bytes.len())
}

fn is_red(pixel: Rgb<u8>) -> bool {
    pixel[0] > 150 && pixel[1] < 90 && pixel[2] < 90
}

fn is_blue(pixel: Rgb<u8>) -> bool {
    pixel[2] > 150 && pixel[0] < 90 && pixel[1] < 90
}

#[tokio::test]
async fn an_avatar_is_a_clean_256_square_served_for_good_and_shown_everywhere() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut b = bob.ws(&server).await;
    b.join("lobby").await;
    let mut a = alice.ws(&server).await;
    a.join("lobby").await;
    a.say("lobby", "before the picture").await;

    let (status, body) = upload(&alice, "image/png", encode(&halves(600, 300), ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["user"]["avatar_url"].as_str().expect("an avatar URL").to_owned();
    assert!(url.starts_with(&format!("/avatars/{}/", alice.id)), "{url}");
    // The room hears of it, and messages, the member list and /api/me carry it.
    let frame = b.recv_type("user").await;
    assert_eq!(frame["user"], json!({"id": alice.id, "nickname": alice.nickname, "avatar_url": url}));
    assert_eq!(alice.get_json("/api/me").await.1["user"]["avatar_url"], url.as_str());
    let (_, history) = bob.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(history["messages"].as_array().unwrap().last().unwrap()["user"]["avatar_url"], url.as_str());
    let (_, members) = bob.get_json("/api/rooms/lobby/members").await;
    let listed = members["members"].as_array().unwrap().iter().find(|m| m["id"] == alice.id).unwrap().clone();
    assert_eq!(listed["avatar_url"], url.as_str());
    assert!(b.join("lobby").await["members"].as_array().unwrap().iter().any(|m| m["avatar_url"] == url.as_str()));

    // What is served: a 256×256 JPEG of the centre (red left, blue right), for good.
    let (picture, headers, size) = served(&bob, &url).await;
    assert_eq!((picture.width(), picture.height()), (256, 256));
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert!(size < 64 * 1024, "a small file: {size} bytes");
    let rgb = picture.to_rgb8();
    assert!(is_red(*rgb.get_pixel(20, 128)) && is_blue(*rgb.get_pixel(236, 128)), "the centre square, unrotated");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, again, bytes) = bob.get_bytes(&url, &[("If-None-Match", &etag)]).await;
    assert_eq!((status, bytes.len()), (StatusCode::NOT_MODIFIED, 0));
    assert_eq!(again["etag"].to_str().unwrap(), etag);
    assert_eq!(server.client().get_bytes(&url, &[]).await.0, StatusCode::UNAUTHORIZED, "for people logged in");

    // A new picture is a new URL; the old one is gone. Transparency stays a PNG.
    let transparent = RgbaImage::from_pixel(300, 300, Rgba([0, 0, 255, 80]));
    let mut png = Cursor::new(Vec::new());
    transparent.write_to(&mut png, ImageFormat::Png).unwrap();
    let (status, body) = upload(&alice, "image/png", png.into_inner()).await;
    assert_eq!(status, StatusCode::OK);
    let second = body["user"]["avatar_url"].as_str().unwrap().to_owned();
    assert_ne!(second, url);
    assert_eq!(bob.get_bytes(&url, &[]).await.0, StatusCode::NOT_FOUND);
    let (_, headers, _) = served(&bob, &second).await;
    assert_eq!(headers["content-type"], "image/png");

    // Removed: initials again, everywhere.
    assert_eq!(alice.delete("/api/me/avatar").await.0, StatusCode::NO_CONTENT);
    assert_eq!(alice.get_json("/api/me").await.1["user"]["avatar_url"], Value::Null);
    assert_eq!(bob.get_bytes(&second, &[]).await.0, StatusCode::NOT_FOUND);
    loop {
        let frame = b.recv_type("user").await;
        if frame["user"]["avatar_url"].is_null() {
            break;
        }
        assert_eq!(frame["user"]["avatar_url"], second.as_str(), "the second picture's frame came first");
    }
}

#[tokio::test]
async fn a_phone_photo_is_turned_upright_and_a_gif_gives_its_first_frame() {
    let server = TestServer::start();
    let alice = server.user().await;
    // Stored sideways (wide), to be viewed turned 90° clockwise: upright, red is on top.
    let (status, body) = upload(&alice, "image/jpeg", jpeg_with_orientation(&halves(400, 200), 6)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (picture, _, _) = served(&alice, body["user"]["avatar_url"].as_str().unwrap()).await;
    let rgb = picture.to_rgb8();
    assert!(is_red(*rgb.get_pixel(128, 20)), "red on top: {:?}", rgb.get_pixel(128, 20));
    assert!(is_blue(*rgb.get_pixel(128, 236)), "blue below: {:?}", rgb.get_pixel(128, 236));

    let (status, body) = upload(&alice, "image/gif", animated_gif()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (picture, _, _) = served(&alice, body["user"]["avatar_url"].as_str().unwrap()).await;
    assert_eq!((picture.width(), picture.height()), (256, 256));
    assert!(is_red(*picture.to_rgb8().get_pixel(128, 128)), "the first frame");
}

#[tokio::test]
async fn what_is_not_a_fitting_picture_is_refused_with_its_reason() {
    let server = TestServer::start();
    let alice = server.user().await;
    let png = encode(&halves(64, 64), ImageFormat::Png);
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode)> = vec![
        ("cut short", "image/png", png[..png.len() / 2].to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "text calling itself a PNG",
            "image/png",
            b"I am a picture, honestly".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("a 20000x20000 header", "image/png", huge_png_header(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "5000 pixels wide",
            "image/png",
            encode(&RgbImage::new(5000, 10), ImageFormat::Png),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("over 2 MiB", "image/png", vec![0u8; 2 * 1024 * 1024 + 1], StatusCode::PAYLOAD_TOO_LARGE),
        ("not image/*", "text/plain", png.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("nothing", "image/png", Vec::new(), StatusCode::BAD_REQUEST),
    ];
    for (what, content_type, body, expected) in cases {
        let started = std::time::Instant::now();
        let (status, answer) = upload(&alice, content_type, body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert!(answer["error"]["code"].is_string(), "{what}: {answer}");
        assert!(started.elapsed() < Duration::from_secs(5), "{what} answered at once");
    }
    let (_, answer) = upload(&alice, "image/png", huge_png_header()).await;
    assert!(answer["error"]["message"].as_str().unwrap().contains("4096"), "{answer}");
    assert_eq!(alice.get_json("/api/me").await.1["user"]["avatar_url"], Value::Null, "nothing stored");
    assert_eq!(server.client().put_bytes("/api/me/avatar", "image/png", png).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_new_nickname_reaches_the_rooms_and_history_and_obeys_the_rules() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut a = alice.ws(&server).await;
    a.join("lobby").await;
    a.say("lobby", "signed by my old name").await;
    let mut b = bob.ws(&server).await;
    b.join("lobby").await;

    let name = format!("Alicia{}", unique() % 100_000);
    let (status, body) = alice.patch_json("/api/me", &json!({"nickname": format!("  {name} ")})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"], json!({"id": alice.id, "nickname": name, "avatar_url": null}));
    assert_eq!(b.recv_type("user").await["user"]["nickname"], name.as_str());
    assert_eq!(a.recv_type("user").await["user"]["nickname"], name.as_str(), "their own other tabs too");
    let (_, history) = bob.get_json("/api/rooms/lobby/messages").await;
    assert_eq!(history["messages"].as_array().unwrap().last().unwrap()["user"]["nickname"], name.as_str());
    assert_eq!(alice.get_json("/api/me").await.1["user"]["nickname"], name.as_str());
    let said = a.say("lobby", "and now the new").await;
    assert_eq!(said["user"]["nickname"], name.as_str(), "live messages carry it at once");
    assert!(alice.get("/rooms").await.body.contains(&name), "and every page");
    // The same name again changes nothing.
    assert_eq!(alice.patch_json("/api/me", &json!({"nickname": name})).await.0, StatusCode::OK);
    b.expect_no("user", Duration::from_millis(300)).await;

    for (nickname, expected) in [
        (bob.nickname.clone(), StatusCode::CONFLICT),
        (bob.nickname.replace('o', "о"), StatusCode::CONFLICT), // a Cyrillic о: looks the same
        ("zero\u{200b}width".to_owned(), StatusCode::UNPROCESSABLE_ENTITY),
        ("Deleted user".to_owned(), StatusCode::UNPROCESSABLE_ENTITY),
        ("".to_owned(), StatusCode::UNPROCESSABLE_ENTITY),
        ("x".repeat(33), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = alice.patch_json("/api/me", &json!({"nickname": nickname})).await;
        assert_eq!(status, expected, "{nickname:?}: {body}");
    }
    assert_eq!(alice.patch_json("/api/me", &json!({})).await.0, StatusCode::BAD_REQUEST);
    // Registration keeps the new rules too: the freed name is free, the taken one is not.
    let mut newcomer = server.client();
    assert_eq!(newcomer.register(&fresh_phone(), &alice.nickname, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let mut copycat = server.client();
    assert_eq!(copycat.register(&fresh_phone(), &name, PASSWORD).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_at_once() {
    let server = TestServer::start();
    let alice = server.user().await;
    let phone = alice.phone.clone();
    let laptop = alice.another_login(&server).await;
    let mut laptop_ws = laptop.ws(&server).await;
    laptop_ws.join("lobby").await;
    let mut laptop_stream = laptop.sse("rooms=lobby", None).await.expect("a stream");
    let mut here = alice.ws(&server).await;
    here.join("lobby").await;

    let path = "/api/me/password";
    let (status, body) = alice.post_json(path, &json!({"current": "not it at all", "new": "a brand new secret"})).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::FORBIDDEN, &json!("forbidden")));
    let (status, _) = alice.post_json(path, &json!({"current": PASSWORD, "new": "short"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(laptop.get_json("/api/me").await.0, StatusCode::OK, "nothing changed yet");

    let new = "a brand new secret";
    assert_eq!(alice.post_json(path, &json!({"current": PASSWORD, "new": new})).await.0, StatusCode::NO_CONTENT);
    assert!(laptop_ws.closes_within(FRAME_WAIT).await, "the other device's socket closes");
    assert!(laptop_stream.ends_within(FRAME_WAIT).await, "and its stream");
    assert_eq!(laptop.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(alice.get_json("/api/me").await.0, StatusCode::OK, "this session stays");
    here.say("lobby", "still here").await;
    assert_eq!(server.client().api_login(&phone, PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(server.client().api_login(&phone, new).await.0, StatusCode::OK);
}

#[tokio::test]
async fn wrong_current_passwords_count_as_failed_logins() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_LOGIN_FAILURES_PER_PHONE", "3")]);
    let alice = server.user().await;
    for _ in 0..3 {
        let status = alice.post_json("/api/me/password", &json!({"current": "guess", "new": "whatever123"})).await.0;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = alice.post_json("/api/me/password", &json!({"current": PASSWORD, "new": "whatever123"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "throttled like a login");
    assert_eq!(server.client().api_login(&alice.phone, PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = alice.delete_json("/api/me", &json!({"password": PASSWORD})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "deleting the account is behind the same throttle");
}

#[tokio::test]
async fn a_deleted_account_leaves_its_messages_signed_deleted_user_and_frees_its_name() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let mut a = alice.ws(&server).await;
    a.join("lobby").await;
    a.say("lobby", "remember me").await;
    assert_eq!(upload(&alice, "image/png", encode(&halves(64, 64), ImageFormat::Png)).await.0, StatusCode::OK);
    let second = alice.another_login(&server).await;

    let (status, body) = alice.delete_json("/api/me", &json!({"password": "wrong one"})).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::FORBIDDEN, &json!("forbidden")));
    assert_eq!(alice.delete_json("/api/me", &json!({"password": PASSWORD})).await.0, StatusCode::NO_CONTENT);
    assert!(a.closes_within(FRAME_WAIT).await, "its sockets close");
    assert_eq!(alice.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(second.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED, "every session ends");
    let (_, history) = bob.get_json("/api/rooms/lobby/messages").await;
    let kept = history["messages"].as_array().unwrap().iter().find(|m| m["text"] == "remember me").unwrap().clone();
    assert_eq!(kept["user"], json!({"id": alice.id, "nickname": "Deleted user", "avatar_url": null}));
    assert_eq!(server.client().api_login(&alice.phone, PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    // Nothing personal is left in the row.
    let column =
        |name: &str| server.db.query_strings(&format!("SELECT {name} AS value FROM users WHERE id = {}", alice.id));
    assert_ne!(column("phone")[0], alice.phone);
    assert_ne!(column("nickname")[0], alice.nickname);
    assert_eq!(column("password_hash"), [String::new()]);
    // The phone number and the nickname may be registered anew.
    let mut again = server.client();
    assert_eq!(again.register(&alice.phone, &alice.nickname, PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(bob.post_json("/api/direct", &json!({"nickname": "Deleted user"})).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_export_is_one_json_download_of_everything_about_you() {
    let server = TestServer::start();
    let alice = server.user().await;
    assert_eq!(alice.post_json("/api/rooms", &json!({"name": "mine", "private": true})).await.0, StatusCode::CREATED);
    let mut a = alice.ws(&server).await;
    a.join("lobby").await;
    a.say("lobby", "one").await;
    a.join("mine").await;
    a.say("mine", "two").await;
    let (status, headers, bytes) = alice.get_bytes("/api/me/export", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let export: Value = serde_json::from_slice(&bytes).expect("one JSON document");
    assert_eq!(export["profile"]["id"], alice.id);
    assert_eq!(export["profile"]["phone"], alice.phone.as_str());
    assert_eq!(export["profile"]["nickname"], alice.nickname.as_str());
    assert!(export["profile"]["created_at"].as_str().unwrap().ends_with('Z'));
    let rooms: Vec<&str> = export["rooms"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(rooms.contains(&"lobby") && rooms.contains(&"mine"), "{rooms:?}");
    let texts: Vec<&str> = export["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "two"]);
    assert_eq!(export["messages"][1]["room"], "mine");
    assert_eq!(server.client().get_json("/api/me/export").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_settings_page_has_a_form_each_with_errors_next_to_their_fields() {
    let server = TestServer::start();
    let (alice, bob) = (server.user().await, server.user().await);
    let page = alice.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    for action in ["/settings/nickname", "/settings/password", "/settings/delete"] {
        assert!(page.body.contains(&format!(r#"action="{action}""#)), "{action}");
    }
    assert!(page.body.contains(r#"href="/settings""#), "linked from the header");
    assert!(page.body.contains(r#"id="avatar-file""#));
    assert_eq!(server.client().get("/settings").await.status, StatusCode::SEE_OTHER, "logged out: to the login page");
    let token = page.csrf();

    let taken = alice.post_form("/settings/nickname", &[("csrf_token", &token), ("nickname", &bob.nickname)]).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains(r#"id="nickname-error""#) && taken.body.contains("taken"));
    let forged = alice.post_form("/settings/nickname", &[("csrf_token", "forged"), ("nickname", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let name = format!("renamed{}", unique() % 100_000);
    let renamed = alice.post_form("/settings/nickname", &[("csrf_token", &token), ("nickname", &name)]).await;
    assert_eq!((renamed.status, renamed.location()), (StatusCode::SEE_OTHER, Some("/settings?saved=nickname")));
    assert!(alice.get("/settings?saved=nickname").await.body.contains(&name));

    let mismatch = [
        ("csrf_token", token.as_str()),
        ("current", PASSWORD),
        ("new", "new password 1"),
        ("new_confirm", "new password 2"),
    ];
    let page = alice.post_form("/settings/password", &mismatch).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"id="new_confirm-error""#));
    let wrong = [
        ("csrf_token", token.as_str()),
        ("current", "nope"),
        ("new", "new password 1"),
        ("new_confirm", "new password 1"),
    ];
    let page = alice.post_form("/settings/password", &wrong).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains(r#"id="current-error""#));
    let wrong = [("csrf_token", token.as_str()), ("password", "nope")];
    let page = alice.post_form("/settings/delete", &wrong).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains(r#"id="delete_password-error""#));
    let deleted = alice.post_form("/settings/delete", &[("csrf_token", &token), ("password", PASSWORD)]).await;
    assert_eq!((deleted.status, deleted.location()), (StatusCode::SEE_OTHER, Some("/login?deleted=1")));
    assert!(alice.get("/login?deleted=1").await.body.contains("account is deleted"));
    assert_eq!(alice.get("/rooms").await.status, StatusCode::SEE_OTHER);
}

// ---- finding people ----

/// The nicknames `GET /api/users?q=` answers, in order.
async fn found(client: &Client, q: &str) -> Vec<String> {
    let (status, body) = client.get_json(&format!("/api/users?q={}", urlencoding(q))).await;
    assert_eq!(status, StatusCode::OK, "{q}: {body}");
    for user in body["users"].as_array().unwrap() {
        let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["avatar_url", "id", "nickname"], "a person as others see them, nothing more");
    }
    body["users"].as_array().unwrap().iter().map(|u| u["nickname"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn people_are_found_by_the_start_of_their_nickname_in_any_case_never_by_phone_and_at_most_ten() {
    let server = TestServer::start();
    let mut me = server.client();
    assert_eq!(me.register(&fresh_phone(), "Zed", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let tag = unique();
    let mut people = Vec::new();
    for i in 0..12 {
        let mut client = server.client();
        let nickname = format!("Pat{tag}-{i:02}");
        assert_eq!(client.register(&fresh_phone(), &nickname, PASSWORD).await.status, StatusCode::SEE_OTHER);
        people.push((client, nickname));
    }
    let mut odd = server.client();
    for nickname in [format!("ärger{tag}"), format!("a_b{tag}"), format!("a%c{tag}"), format!("café{tag}")] {
        assert_eq!(odd.register(&fresh_phone(), &nickname, PASSWORD).await.status, StatusCode::SEE_OTHER);
        odd = server.client();
    }

    // The first ten by nickname, whatever the case typed; the caller is not among them.
    let all: Vec<String> = people.iter().map(|(_, n)| n.clone()).collect();
    assert_eq!(found(&me, &format!("pat{tag}")).await, all[..10]);
    assert_eq!(found(&me, &format!("PAT{tag}-1")).await, all[10..]);
    assert_eq!(found(&me, &format!("  Pat{tag}-03 ")).await, [all[3].clone()], "trimmed");
    assert!(found(&me, "Zed").await.is_empty(), "never the caller");
    assert!(found(&me, &format!("at{tag}")).await.is_empty(), "the start, not the middle");
    // LIKE's wildcards are characters like any other; letters beyond ASCII as typed.
    assert_eq!(found(&me, &format!("a_b{tag}")).await, [format!("a_b{tag}")]);
    assert!(found(&me, "a_").await.iter().all(|n| n.starts_with("a_")), "_ is not a wildcard");
    assert_eq!(found(&me, &format!("a%c{tag}")).await, [format!("a%c{tag}")]);
    assert_eq!(found(&me, &format!("ärger{tag}")).await, [format!("ärger{tag}")]);
    // Typed decomposed (e and a combining acute), found as stored: NFC.
    assert_eq!(found(&me, &format!("cafe\u{301}{tag}")).await, [format!("café{tag}")]);

    // Never by phone number.
    let phone = people[0].0.phone.clone();
    assert!(found(&me, &phone).await.is_empty());
    assert!(found(&me, &phone[1..]).await.is_empty());

    // A deleted account is nobody to message.
    let (gone, gone_name) = people.remove(0);
    assert_eq!(gone.delete_json("/api/me", &json!({"password": PASSWORD})).await.0, StatusCode::NO_CONTENT);
    assert!(found(&me, &gone_name).await.is_empty());

    // Bad input gets its error; strangers get nothing.
    for q in ["", "   ", &"x".repeat(33)] {
        let (status, body) = me.get_json(&format!("/api/users?q={}", urlencoding(q))).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_request")),
            "{q:?}"
        );
    }
    let (status, _) = me.get_json("/api/users").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = server.client().get_json(&format!("/api/users?q=pat{tag}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
}

#[tokio::test]
async fn looking_people_up_faster_than_a_person_types_is_refused_for_a_moment() {
    let server = TestServer::start();
    let me = server.user().await;
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(me.get_json("/api/users?q=someone").await.0);
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let (status, body) = loop {
        let answer = me.get_json("/api/users?q=someone").await;
        if answer.0 == StatusCode::TOO_MANY_REQUESTS {
            break answer;
        }
    };
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
}
