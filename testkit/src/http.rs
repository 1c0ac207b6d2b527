//! An HTTP client with its own cookie jar: one browser, or one device.

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::Value;

use crate::*;

pub struct Client {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    base: String,
    pub phone: String,
    pub nickname: String,
    pub id: i64,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn csrf(&self) -> String {
        let pattern = Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
        pattern.captures(&self.body).map(|c| c[1].to_owned()).expect("the page has a CSRF token")
    }

    pub fn set_cookie(&self) -> Option<&str> {
        self.headers.get("set-cookie").and_then(|v| v.to_str().ok())
    }
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            // A fresh connection per request, so a restarted server is reached at once.
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Client { http, jar, base: server.url(""), phone: String::new(), nickname: String::new(), id: 0 }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.http.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Self::page(self.http.post(self.url(path)).form(form).send().await.expect("POST")).await
    }

    /// GETs `form_path` for a CSRF token, then posts the form with it.
    pub async fn submit(&self, form_path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(form_path).await.csrf();
        let mut form = fields.to_vec();
        form.push(("csrf_token", &token));
        self.post_form(action, &form).await
    }

    pub async fn page(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        Self::json(self.http.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::json(self.http.post(self.url(path)).json(body).send().await.expect("POST")).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        Self::json(self.http.delete(self.url(path)).send().await.expect("DELETE")).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::json(self.http.patch(self.url(path)).json(body).send().await.expect("PATCH")).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::json(self.http.put(self.url(path)).json(body).send().await.expect("PUT")).await
    }

    /// A PUT of raw bytes with this Content-Type (an upload).
    pub async fn put_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let request = self.http.put(self.url(path)).header("Content-Type", content_type).body(body);
        Self::json(request.send().await.expect("PUT")).await
    }

    /// A DELETE with a JSON body.
    pub async fn delete_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        Self::json(self.http.delete(self.url(path)).json(body).send().await.expect("DELETE")).await
    }

    /// A GET answered with bytes (a picture, a download), with these request headers.
    pub async fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("GET");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.expect("a body").to_vec())
    }

    /// A POST with an empty body (no Content-Type).
    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        Self::json(self.http.post(self.url(path)).send().await.expect("POST")).await
    }

    /// A PUT with an empty body (no Content-Type).
    pub async fn put(&self, path: &str) -> (StatusCode, Value) {
        Self::json(self.http.put(self.url(path)).send().await.expect("PUT")).await
    }

    pub async fn json(response: reqwest::Response) -> (StatusCode, Value) {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, value)
    }

    pub async fn register(&mut self, phone: &str, nickname: &str, password: &str) -> Page {
        let page = self
            .submit(
                "/register",
                "/register",
                &[("phone", phone), ("nickname", nickname), ("password", password), ("password_confirm", password)],
            )
            .await;
        if page.status == StatusCode::SEE_OTHER {
            self.phone = phone.to_owned();
            self.nickname = nickname.to_owned();
            let (_, me) = self.get_json("/api/me").await;
            self.id = me["user"]["id"].as_i64().expect("a user id");
        }
        page
    }

    pub async fn register_fresh(&mut self) {
        let page = self.register(&fresh_phone(), &fresh_nickname(), PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "registration failed: {}", page.body);
    }

    pub async fn api_login(&self, phone: &str, password: &str) -> (StatusCode, Value) {
        self.post_json("/api/session", &serde_json::json!({"phone": phone, "password": password})).await
    }

    /// The `Cookie` header this client would send (for WebSocket handshakes).
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar.cookies(&self.base.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    /// The session cookie's value.
    pub fn session_cookie(&self) -> Option<String> {
        let header = self.cookie_header();
        header.split("; ").find_map(|kv| kv.strip_prefix(&format!("{}=", crate::SESSION_COOKIE)).map(str::to_owned))
    }
}

impl Client {
    /// Another client on the same login (another tab of the same browser).
    pub fn clone_session(&self, server: &TestServer) -> Client {
        let clone = Client::new(server);
        let url = server.url("/").parse().unwrap();
        for cookie in self.cookie_header().split("; ").filter(|c| !c.is_empty()) {
            clone.jar.add_cookie_str(cookie, &url);
        }
        Client { phone: self.phone.clone(), nickname: self.nickname.clone(), id: self.id, ..clone }
    }

    /// The same user logged in again on another device (a session of its own).
    pub async fn another_login(&self, server: &TestServer) -> Client {
        let device = Client::new(server);
        let (status, body) = device.api_login(&self.phone, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Client { phone: self.phone.clone(), nickname: self.nickname.clone(), id: self.id, ..device }
    }
}
