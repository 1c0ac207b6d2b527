//! Debian's Chromium, headless, driven through its chromedriver over loopback WebDriver.
//!
//! Each test starts its own `chromedriver` on a free loopback port and opens one Chromium
//! per person (a fresh profile each, so cookies and storage are never shared). Nothing is
//! downloaded: `scripts/test` installs the `chromium` and `chromium-driver` packages.
//! `CHATROOM_TEST_CHROMIUM` and `CHATROOM_TEST_CHROMEDRIVER` point at other binaries.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, TouchActions, MOUSE_BUTTON_LEFT};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// How long a test waits for something a person would see.
pub const WAIT: Duration = Duration::from_secs(20);

const POLL: Duration = Duration::from_millis(60);

/// Phone width and desktop width, as the screenshots are taken.
pub const PHONE: (u32, u32) = (390, 844);
pub const DESKTOP: (u32, u32) = (1280, 800);

fn chromium() -> String {
    std::env::var("CHATROOM_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn chromedriver() -> String {
    std::env::var("CHATROOM_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// Where the screenshots go: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().expect("CARGO_TARGET_TMPDIR is inside the target directory").join("screenshots")
}

/// A running chromedriver. Dropping it ends it and every browser it started: they share
/// its process group, which was made for it alone.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start() -> Driver {
        let mut child = Command::new(chromedriver())
            // Port 0: chromedriver picks a free port and says which. It listens on loopback
            // only, as long as no --allowed-ips is given.
            .args(["--port=0", "--log-level=SEVERE"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {} (scripts/test installs chromium-driver): {e}", chromedriver()));
        let stdout = child.stdout.take().expect("chromedriver's stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Read to the end, so chromedriver never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let port = line
                    .split_once("started successfully on port ")
                    .and_then(|(_, rest)| rest.trim_end_matches('.').trim().parse::<u16>().ok());
                if let Some(port) = port {
                    let _ = tx.send(port);
                }
            }
        });
        let Ok(port) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("chromedriver did not say which port it listens on");
        };
        Driver { child, url: format!("http://127.0.0.1:{port}") }
    }

    /// A new headless Chromium with a fresh profile and this window size.
    pub async fn browser(&self, base: &str, (width, height): (u32, u32)) -> Browser {
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium(), "args": args},
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let mut last_error = None;
        // A loaded machine can be slow to bring up a browser; try a second time.
        for _ in 0..2 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&self.url).await {
                Ok(client) => {
                    let browser = Browser { client, base: base.trim_end_matches('/').to_owned(), _profile: profile };
                    browser.resize((width, height)).await;
                    return browser;
                }
                Err(e) => last_error = Some(e),
            }
        }
        panic!("could not start {} through chromedriver: {last_error:?}", chromium());
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's own pid (process_group(0) above).
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One person's browser.
pub struct Browser {
    pub client: Client,
    base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path of the page shown.
    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("the current URL").path().to_owned()
    }

    /// Waits until the page shown is at `path`.
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_until(&format!("the page {path}"), "return location.pathname", |v| v == path).await;
    }

    /// The element, once it is there.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).every(POLL).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css} ({e}) on {}", self.describe_page().await),
        }
    }

    /// Types into a field after emptying it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        if !text.is_empty() {
            field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
        }
    }

    /// Types into the focused element, as a keyboard would (keys such as Tab and Enter
    /// are `fantoccini::key::Key` characters).
    pub async fn keys(&self, keys: &str) {
        let focused = self.client.active_element().await.expect("a focused element");
        focused.send_keys(keys).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Moves the mouse over the element (what shows on hover shows).
    pub async fn hover(&self, css: &str) {
        let element = self.find(css).await;
        let mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        self.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("hover over {css}: {e}"));
    }

    /// Presses a finger on the element for `hold`, as on a touch screen.
    pub async fn long_press(&self, css: &str, hold: Duration) {
        let element = self.find(css).await;
        let finger = TouchActions::new("finger".into())
            .then(PointerAction::MoveToElement { element, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .pause(hold)
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.client.perform_actions(finger).await.unwrap_or_else(|e| panic!("long press on {css}: {e}"));
        self.client.release_actions().await.expect("release the finger");
    }

    /// The element's text as rendered.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Runs a function body in the page and returns what it returns.
    pub async fn js(&self, body: &str) -> Value {
        self.client.execute(body, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// Runs `body` until `ready` accepts what it returns, and returns that; fails after
    /// [`WAIT`] saying what was awaited and what was seen last.
    pub async fn wait_until(&self, what: &str, body: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.client.execute(body, vec![]).await.unwrap_or(Value::Null);
            if ready(&value) {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("waited {WAIT:?} for {what}; last saw {value}\non {}", self.describe_page().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element's text contains `needle`, and returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let body = format!("const e = document.querySelector({}); return e ? e.textContent : null", json!(css));
        let value = self
            .wait_until(&format!("{css} to say {needle:?}"), &body, |v| v.as_str().is_some_and(|t| t.contains(needle)))
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot of the viewport as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        // Never capture a blinking caret.
        self.js("document.activeElement && document.activeElement.blur()").await;
        self.screenshot_with_focus(name).await;
    }

    /// A screenshot that shows where the focus is (its outline), for keyboard use.
    pub async fn screenshot_with_focus(&self, name: &str) {
        // Let fonts and layout settle.
        self.js("return document.fonts.ready.then(() => true)").await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
    }

    /// Makes the viewport (the page's area, without the window's frame) this size.
    pub async fn resize(&self, (width, height): (u32, u32)) {
        let inner = "return [window.innerWidth, window.innerHeight]";
        let size = |v: &Value| (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
        let (outer_w, outer_h) = self.client.get_window_size().await.expect("the window size");
        let (inner_w, inner_h) = size(&self.js(inner).await);
        let frame_w = outer_w.saturating_sub(inner_w);
        let frame_h = outer_h.saturating_sub(inner_h);
        self.client.set_window_size(width + frame_w as u32, height + frame_h as u32).await.expect("resize the window");
        let want = (u64::from(width), u64::from(height));
        self.wait_until(&format!("a {width}×{height} viewport"), inner, |v| size(v) == want).await;
    }

    /// The URL and visible text of the page, for failure messages.
    async fn describe_page(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let text = self
            .client
            .execute("return document.body ? document.body.innerText : ''", vec![])
            .await
            .unwrap_or(Value::Null);
        format!("{url}:\n{}", text.as_str().unwrap_or_default())
    }
}

/// The W3C "Set Permission" command (chromedriver implements it): the browser answers
/// a permission request as if the person had, without its prompt.
#[derive(Debug)]
struct SetPermission {
    body: String,
}

type UrlError = <reqwest::Url as std::str::FromStr>::Err;

impl fantoccini::wd::WebDriverCompatibleCommand for SetPermission {
    fn endpoint(&self, base_url: &reqwest::Url, session_id: Option<&str>) -> Result<reqwest::Url, UrlError> {
        base_url.join(&format!("session/{}/permissions", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(self.body.clone()))
    }
}

/// chromedriver's own command for a DevTools protocol call (`goog/cdp/execute`).
#[derive(Debug)]
struct DevTools {
    body: String,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base_url: &reqwest::Url, session_id: Option<&str>) -> Result<reqwest::Url, UrlError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(self.body.clone()))
    }
}

/// axe-core's script, from npm (tests/browser/axe, installed by `scripts/test --setup`).
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/axe/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e}; `scripts/test --setup` installs axe-core from npm"))
    })
}

impl Browser {
    /// Makes the pages see this `prefers-color-scheme`, `"light"` or `"dark"`, as a
    /// system set so would (it holds across navigations).
    pub async fn color_scheme(&self, scheme: &str) {
        let body = json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
        })
        .to_string();
        self.client.issue_cmd(DevTools { body }).await.unwrap_or_else(|e| panic!("prefers-color-scheme {scheme}: {e}"));
        let check = format!("return matchMedia('(prefers-color-scheme: {scheme})').matches");
        self.wait_until(&format!("the {scheme} scheme"), &check, |v| v == true).await;
    }

    /// What axe-core finds wrong with the page as it is now, every rule it runs by
    /// default: one line per rule and element (`rule (impact) on selector: what`).
    pub async fn accessibility_violations(&self) -> Vec<String> {
        self.client.execute(&format!("{}\nreturn true;", axe_source()), vec![]).await.expect("inject axe-core");
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.passes.length === 0 ? ['axe-core checked nothing'] : r.violations.flatMap(v => v.nodes.map(n =>
                    `${v.id} (${v.impact}) on ${n.target.join(' ')}: ${v.help}; ${(n.failureSummary || '').replace(/\\s+/g, ' ')}`))))
                .catch(e => done([`axe failed: ${e}`]));";
        let found = self.client.execute_async(script, vec![]).await.expect("run axe-core");
        found.as_array().expect("a list").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Sets how the browser answers a permission (`"notifications"`, say) for the page's
    /// origin: `"granted"`, `"denied"` or `"prompt"`.
    pub async fn set_permission(&self, name: &str, state: &str) {
        let body = json!({"descriptor": {"name": name}, "state": state}).to_string();
        self.client
            .issue_cmd(SetPermission { body })
            .await
            .unwrap_or_else(|e| panic!("set the {name} permission to {state}: {e}"));
    }

    /// Scrolls the element's own scrolling box to its end, as a reader would.
    pub async fn scroll_to_end(&self, css: &str) {
        let script = format!(
            "const e = document.querySelector({css}); e.scrollTop = e.scrollHeight; return true",
            css = json!(css)
        );
        self.js(&script).await;
    }
}
