//! Users and rooms for a run, made through the server's own pages and API.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::join_all;
use reqwest::redirect::Policy;
use serde_json::json;

/// A registered user: the cookie its connections present.
#[derive(Clone)]
pub struct BenchUser {
    pub cookie: String,
}

fn client(jar: Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder().cookie_provider(jar).redirect(Policy::none()).build().expect("an HTTP client")
}

/// Registers `count` users (a few at a time, bcrypt is slow on purpose).
pub async fn register_users(addr: SocketAddr, count: usize, run_tag: &str) -> Result<Vec<BenchUser>, String> {
    let mut users = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        let results = join_all(chunk.iter().map(|i| register(addr, *i, run_tag))).await;
        for result in results {
            users.push(result?);
        }
    }
    Ok(users)
}

async fn register(addr: SocketAddr, index: usize, run_tag: &str) -> Result<BenchUser, String> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = client(jar.clone());
    let base = format!("http://{addr}");
    let form = http.get(format!("{base}/register")).send().await.map_err(|e| e.to_string())?;
    let body = form.text().await.map_err(|e| e.to_string())?;
    let token = body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("the register page has no CSRF token")?
        .to_owned();
    // A valid Chinese mobile number per user and run, so reruns on one database work.
    let tag_digits: u64 = run_tag.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)) % 10_000;
    let phone = format!("+86139{:04}{:04}", tag_digits, index % 10_000);
    let nickname = format!("bench-{run_tag}-{index}");
    let password = "benchmark password";
    let response = http
        .post(format!("{base}/register"))
        .form(&[
            ("phone", phone.as_str()),
            ("nickname", nickname.as_str()),
            ("password", password),
            ("password_confirm", password),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        // Already registered by an earlier run on this database: log in instead.
        let login = http
            .post(format!("{base}/api/session"))
            .json(&json!({"phone": phone, "password": password}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !login.status().is_success() {
            return Err(format!("cannot register or log in {nickname}: {}", login.status()));
        }
    }
    use reqwest::cookie::CookieStore;
    let cookie = jar
        .cookies(&base.parse().expect("a URL"))
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .ok_or("no session cookie")?;
    Ok(BenchUser { cookie })
}

/// Logs in an existing user (one the seeder wrote) and returns its session cookie.
pub async fn log_in(addr: SocketAddr, phone: &str, password: &str) -> Result<BenchUser, String> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = client(jar.clone());
    let base = format!("http://{addr}");
    let response = http
        .post(format!("{base}/api/session"))
        .json(&json!({"phone": phone, "password": password}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("cannot log in {phone}: {}", response.status()));
    }
    use reqwest::cookie::CookieStore;
    let cookie = jar
        .cookies(&base.parse().expect("a URL"))
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .ok_or("no session cookie")?;
    Ok(BenchUser { cookie })
}

/// Logs in every phone, `at_once` at a time, in order.
pub async fn log_in_all(
    addr: SocketAddr,
    phones: &[String],
    password: &str,
    at_once: usize,
) -> Result<Vec<BenchUser>, String> {
    let mut users = Vec::with_capacity(phones.len());
    for chunk in phones.chunks(at_once.max(1)) {
        for result in join_all(chunk.iter().map(|p| log_in(addr, p, password))).await {
            users.push(result?);
        }
    }
    Ok(users)
}

/// Creates the rooms (an existing one is fine) and returns their names.
pub async fn create_rooms(
    addr: SocketAddr,
    user: &BenchUser,
    count: usize,
    prefix: &str,
) -> Result<Vec<String>, String> {
    let http = reqwest::Client::new();
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("{prefix}-{i}");
        let response = http
            .post(format!("http://{addr}/api/rooms"))
            .header("Cookie", &user.cookie)
            .json(&json!({"name": name}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if !(status == reqwest::StatusCode::CREATED || status == reqwest::StatusCode::CONFLICT) {
            return Err(format!("cannot create room {name}: {status}"));
        }
        names.push(name);
    }
    Ok(names)
}
