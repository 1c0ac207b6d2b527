//! Accounts: PROTOCOL.md's pages and JSON session routes, against the real server.

use chatroom_testkit as common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn root_redirects_to_login_then_to_rooms_once_logged_in() {
    let server = TestServer::start();
    let anonymous = server.client();
    let page = anonymous.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login"));

    let user = server.user().await;
    let page = user.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/rooms"));
}

#[tokio::test]
async fn register_and_login_pages_have_their_fields_and_a_csrf_token() {
    let server = TestServer::start();
    let client = server.client();
    let register = client.get("/register").await;
    assert_eq!(register.status, StatusCode::OK);
    for field in ["phone", "nickname", "password", "password_confirm", "csrf_token"] {
        assert!(register.body.contains(&format!("name=\"{field}\"")), "register form lacks {field}");
    }
    let login = client.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    for field in ["phone", "password", "csrf_token"] {
        assert!(login.body.contains(&format!("name=\"{field}\"")), "login form lacks {field}");
    }
    assert_eq!(register.csrf(), login.csrf(), "one CSRF token per session");
}

#[tokio::test]
async fn register_logout_and_login_again() {
    let server = TestServer::start();
    let mut client = server.client();
    let phone = fresh_phone();
    let nickname = fresh_nickname();
    let page = client.register(&phone, &nickname, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/rooms"));
    let (status, me) = client.get_json("/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["nickname"], nickname.as_str());
    assert!(me["user"]["id"].is_i64());
    assert!(me["user"].get("phone").is_none(), "the phone number is private");

    let page = client.submit("/login", "/logout", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login"));
    let (status, _) = client.get_json("/api/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let page = client.submit("/login", "/login", &[("phone", &phone), ("password", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/rooms"));
    let (status, me) = client.get_json("/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["nickname"], nickname.as_str());
}

#[tokio::test]
async fn each_registration_error_is_a_422_field_error_that_keeps_phone_and_nickname() {
    let server = TestServer::start();
    let client = server.client();
    let long_password = "p".repeat(73);
    let long_nickname = "n".repeat(33);
    let cases: Vec<(&str, [&str; 4])> = vec![
        ("phone", ["12", "kept-nick", PASSWORD, PASSWORD]),
        ("phone", ["not a number", "kept-nick", PASSWORD, PASSWORD]),
        ("nickname", ["+8613800138111", "", PASSWORD, PASSWORD]),
        ("nickname", ["+8613800138111", &long_nickname, PASSWORD, PASSWORD]),
        ("nickname", ["+8613800138111", "bell\u{7}", PASSWORD, PASSWORD]),
        ("password", ["+8613800138111", "kept-nick", "short", "short"]),
        ("password", ["+8613800138111", "kept-nick", &long_password, &long_password]),
        ("password_confirm", ["+8613800138111", "kept-nick", PASSWORD, "something else"]),
    ];
    for (field, [phone, nickname, password, confirm]) in cases {
        let page = client
            .submit(
                "/register",
                "/register",
                &[("phone", phone), ("nickname", nickname), ("password", password), ("password_confirm", confirm)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{field} error for {phone:?}/{nickname:?}");
        assert!(page.body.contains(&format!("id=\"{field}-error\"")), "{field} error is shown next to its field");
        assert!(page.body.contains(&format!("value=\"{}\"", phone.trim())), "the phone is kept");
        if field != "nickname" {
            assert!(page.body.contains(&format!("value=\"{nickname}\"")), "the nickname is kept");
        }
        assert!(!page.body.contains(password), "the password is never echoed");
    }
}

#[tokio::test]
async fn the_same_number_written_two_ways_is_one_account() {
    let server = TestServer::start();
    let mut first = server.client();
    let page = first.register("+86 138 0013 8000", &fresh_nickname(), PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    let mut second = server.client();
    let page = second.register("138-0013-8000", &fresh_nickname(), PASSWORD).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("id=\"phone-error\""));

    // Either spelling logs in to the one account.
    let (status, body) = second.api_login("(138) 0013 8000", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"].as_i64(), Some(first.id));
    let stored = server.db.query_strings("SELECT phone AS value FROM users");
    assert_eq!(stored, vec!["+8613800138000".to_owned()], "stored in E.164");
}

#[tokio::test]
async fn a_taken_nickname_is_a_conflict() {
    let server = TestServer::start();
    let first = server.user().await;
    let mut second = server.client();
    let page = second.register(&fresh_phone(), &first.nickname, PASSWORD).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("id=\"nickname-error\""));
}

#[tokio::test]
async fn forms_without_or_with_a_wrong_csrf_token_are_forbidden() {
    let server = TestServer::start();
    let client = server.client();
    let phone = fresh_phone();
    let fields =
        [("phone", phone.as_str()), ("nickname", "csrf-test"), ("password", PASSWORD), ("password_confirm", PASSWORD)];
    let _ = client.get("/register").await; // a session with a token exists
    let page = client.post_form("/register", &fields).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "missing token");
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf_token", "not-the-token"));
    let page = client.post_form("/register", &with_wrong).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "wrong token");
    let page = client.post_form("/login", &[("phone", &phone), ("password", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "login without token");
    // A cookie-less client (another site's form) has no token at all.
    let page = server.client().post_form("/register", &with_wrong).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "no session");
    assert!(server.db.query_strings("SELECT phone AS value FROM users").is_empty(), "nothing was stored");

    // A POST with no form at all (no body, or JSON) has no token either.
    let bare = client.http.post(client.url("/register")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN, "no body");
    let json = client.http.post(client.url("/login")).json(&serde_json::json!({"phone": phone})).send().await.unwrap();
    assert_eq!(json.status(), StatusCode::FORBIDDEN, "JSON instead of a form");

    let user = server.user().await;
    let page = user.post_form("/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "logout with a wrong token");
    let bare = user.http.post(user.url("/logout")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN, "logout without a form");
    let (status, _) = user.get_json("/api/me").await;
    assert_eq!(status, StatusCode::OK, "still logged in");
}

#[tokio::test]
async fn failed_logins_get_one_generic_401_message() {
    let server = TestServer::start();
    let user = server.user().await;
    let client = server.client();
    let wrong_password =
        client.submit("/login", "/login", &[("phone", &user.phone), ("password", "wrong password")]).await;
    let unknown_phone = client.submit("/login", "/login", &[("phone", &fresh_phone()), ("password", PASSWORD)]).await;
    let garbage_phone = client.submit("/login", "/login", &[("phone", "garbage"), ("password", PASSWORD)]).await;
    for page in [&wrong_password, &unknown_phone, &garbage_phone] {
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("Wrong phone number or password."));
        assert!(page.body.contains("name=\"csrf_token\""), "the form is shown again");
    }
    assert!(wrong_password.body.contains(&format!("value=\"{}\"", user.phone)), "the phone is kept");
    assert!(!wrong_password.body.contains("wrong password"), "the password is not");

    let (status, body) = client.api_login(&user.phone, "wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (_, unknown) = client.api_login(&fresh_phone(), "wrong password").await;
    assert_eq!(body["error"]["message"], unknown["error"]["message"], "no hint which field was wrong");
}

#[tokio::test]
async fn logins_are_throttled_per_phone_even_with_the_right_password() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_LOGIN_FAILURES_PER_PHONE", "3")]);
    let user = server.user().await;
    let client = server.client();
    for _ in 0..3 {
        let (status, _) = client.api_login(&user.phone, "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = client.api_login(&user.phone, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another spelling of the same number is the same phone.
    let national = user.phone.trim_start_matches("+86");
    let page = client.submit("/login", "/login", &[("phone", national), ("password", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers.contains_key("retry-after"));
    // Other accounts are not locked.
    let other = server.user().await;
    let (status, _) = client.api_login(&other.phone, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn logins_are_throttled_per_client_address() {
    let server = TestServer::start_with(&[("CHATROOM_LIMITS_LOGIN_FAILURES_PER_ADDR", "4")]);
    let user = server.user().await;
    let client = server.client();
    for _ in 0..4 {
        let (status, _) = client.api_login(&fresh_phone(), "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = client.api_login(&user.phone, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_throttle_window_passes() {
    let server = TestServer::start_with(&[
        ("CHATROOM_LIMITS_LOGIN_FAILURES_PER_PHONE", "2"),
        ("CHATROOM_LIMITS_LOGIN_WINDOW_SECS", "2"),
    ]);
    let user = server.user().await;
    let client = server.client();
    for _ in 0..2 {
        client.api_login(&user.phone, "wrong password").await;
    }
    assert_eq!(client.api_login(&user.phone, PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(client.api_login(&user.phone, PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let server = TestServer::start();
    let page = server.client().get("/login").await;
    let cookie = page.set_cookie().expect("a session cookie");
    assert!(cookie.starts_with(&format!("{}=", chatroom::SESSION_COOKIE)));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "not Secure unless configured");

    let secure = TestServer::start_with(&[("CHATROOM_COOKIE_SECURE", "true")]);
    let page = secure.client().get("/login").await;
    assert!(page.set_cookie().expect("a session cookie").contains("Secure"));
}

#[tokio::test]
async fn the_stored_password_is_a_bcrypt_hash_never_the_password() {
    let server = TestServer::start();
    let _user = server.user().await;
    let hashes = server.db.query_strings("SELECT password_hash AS value FROM users");
    assert_eq!(hashes.len(), 1);
    assert!(hashes[0].starts_with("$2b$10$"), "bcrypt at the configured cost: {}", hashes[0]);
    assert!(!hashes[0].contains(PASSWORD));
}

#[tokio::test]
async fn logging_in_issues_a_fresh_session_id() {
    let server = TestServer::start();
    let user = server.user().await;
    let client = server.client();
    let login_page = client.get("/login").await;
    let before = client.session_cookie().expect("an anonymous session");
    let page = client
        .post_form("/login", &[("phone", &user.phone), ("password", PASSWORD), ("csrf_token", &login_page.csrf())])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let after = client.session_cookie().expect("a session");
    assert_ne!(before, after, "the session id changes at login");

    // The pre-login cookie, replayed by someone who planted it, is not logged in.
    let attacker = server.client();
    attacker.jar.add_cookie_str(&format!("{}={before}", chatroom::SESSION_COOKIE), &server.url("/").parse().unwrap());
    assert_eq!(attacker.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn accounts_and_sessions_survive_a_restart() {
    let mut server = TestServer::start();
    let user = server.user().await;
    server.restart();
    let (status, me) = user.get_json("/api/me").await;
    assert_eq!(status, StatusCode::OK, "the session outlived the restart");
    assert_eq!(me["user"]["id"].as_i64(), Some(user.id));
    let (status, _) = server.client().api_login(&user.phone, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_json_session_api() {
    let server = TestServer::start();
    let user = server.user().await;
    let client = server.client();

    let (status, body) = client.get_json("/api/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"].is_string());

    let (status, body) = client.api_login(&user.phone, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user": {"id": user.id, "nickname": user.nickname, "avatar_url": null}}));
    assert_eq!(client.get_json("/api/me").await.0, StatusCode::OK);

    let (status, body) = client.delete("/api/session").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(client.get_json("/api/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(client.delete("/api/session").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_json_api_refuses_bad_bodies_with_its_codes() {
    let server = TestServer::start();
    let client = server.client();
    let url = client.url("/api/session");
    let form =
        client.http.post(&url).body("phone=1&password=2").header("content-type", "application/x-www-form-urlencoded");
    let (status, body) = Client::json(form.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["error"]["code"], "bad_request");

    let broken = client.http.post(&url).body("{not json").header("content-type", "application/json");
    let (status, body) = Client::json(broken.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_request");

    let (status, body) = client.post_json("/api/session", &json!({"phone": "+8613800138000"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "missing field");
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn unknown_addresses_are_404_as_a_page_or_as_json() {
    let server = TestServer::start();
    let client = server.client();
    let page = client.get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<html"));
    let (status, body) = client.get_json("/api/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn healthz_answers_200_while_the_database_answers() {
    let server = TestServer::start();
    let (status, body) = server.client().get_json("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn healthz_answers_503_when_the_database_is_gone() {
    if backend() != Backend::Mysql {
        // A SQLite file that is open cannot be taken away from under the process.
        return;
    }
    let server = TestServer::start();
    let name = server.db.url.rsplit('/').next().unwrap().to_owned();
    mysql_admin(&format!("DROP DATABASE `{name}`")).unwrap();
    let (status, body) = server.client().get_json("/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
}

#[tokio::test]
async fn metrics_count_requests_and_show_users_and_the_pool() {
    let server = TestServer::start();
    let _user = server.user().await;
    let client = server.client();
    client.get("/login").await;
    let page = client.get("/metrics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(page.body.contains(r#"http_requests_total{route="/login",status="200"}"#), "{}", page.body);
    assert!(page.body.contains(r#"http_requests_total{route="/register",status="303"}"#));
    assert!(page.body.contains("http_request_duration_seconds_bucket{"));
    assert!(page.body.contains("registered_users 1"));
    assert!(page.body.contains("db_pool_connections "));
}

/// Runs the binary with the given settings and returns its exit status and stderr.
fn run_binary(env: &[(&str, &str)], args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chatroom"));
    command.current_dir(tmp.path()).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("CHATROOM_") {
            command.env_remove(key);
        }
    }
    command.env("CHATROOM_DATA_DIR", tmp.path().join("data")).envs(env.iter().copied());
    let output = command.output().unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_configuration_ends_the_start_with_one_clear_line() {
    let cases = [
        ("CHATROOM_BCRYPT_COST", "4", "bcrypt_cost"),
        ("CHATROOM_BIND", "not-an-address", "bind"),
        ("CHATROOM_DATABASE_URL", "postgres://localhost/x", "sqlite:// or mysql://"),
        (
            "CHATROOM_DATABASE_URL",
            "mysql://root@127.0.0.1:1/nothing",
            if cfg!(feature = "mysql") { "cannot connect to the MySQL database" } else { "without MySQL support" },
        ),
        ("CHATROOM_DEFAULT_REGION", "XX", "default_region"),
        ("CHATROOM_LIMITS_SEND_RATE_PER_SEC", "fast", "SEND_RATE_PER_SEC"),
        ("CHATROOM_LIMITS_RESUME_CAP", "0", "resume_cap"),
        ("CHATROOM_SQLITE_SYNCHRONOUS", "sometimes", "sqlite_synchronous"),
        ("CHATROOM_TRUSTED_PROXIES", "10.0.0.0/8,not-an-address", "trusted_proxies"),
        ("CHATROOM_METRICS_BIND", "everywhere", "metrics_bind"),
        ("CHATROOM_LIMITS_DATABASE_TIMEOUT_SECS", "0", "database_timeout_secs"),
    ];
    for (key, value, expected) in cases {
        let mut env = vec![(key, value)];
        if key != "CHATROOM_BIND" {
            env.push(("CHATROOM_BIND", "127.0.0.1:0"));
        }
        let (status, _, stderr) = run_binary(&env, &[]);
        assert!(!status.success(), "{key}={value} must not start");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{key}={value}: exactly one line, got {stderr:?}");
        assert!(lines[0].starts_with("chatroom: "), "{stderr}");
        assert!(lines[0].contains(expected), "{key}={value}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let (status, stdout, stderr) = run_binary(&[], &["migrate"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("up to date"), "{stdout}");
}

#[test]
fn the_session_key_is_generated_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start();
    let meta = std::fs::metadata(server.data_dir.join("session.key")).expect("a session key in the data directory");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 64);
}
