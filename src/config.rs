//! Settings: defaults in code < `conf/app.toml` < `CHATROOM_*` environment variables.
//!
//! A top-level key `k` is overridden by `CHATROOM_K`; a key `k` of the section `[s]`
//! by `CHATROOM_S_K` (e.g. `CHATROOM_LIMITS_SEND_RATE_PER_SEC=1000`).
//!
//! Slightly over 400 lines: one struct per section, each field with its default and its
//! check, which belong together.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

/// Sections of the configuration file; their keys are reached from the environment as
/// `CHATROOM_<SECTION>_<KEY>`.
const SECTIONS: &[&str] = &["limits"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port the HTTP server listens on.
    pub bind: String,
    /// `sqlite://<path>` or `mysql://user:pass@host:port/db`; empty = SQLite in `data_dir`.
    pub database_url: String,
    /// Where the default SQLite file and the generated session key live.
    pub data_dir: PathBuf,
    /// Connections in the database pool.
    pub database_pool_size: u32,
    /// bcrypt work factor for new password hashes (10..=31).
    pub bcrypt_cost: u32,
    /// Region used to read phone numbers written without a leading `+` (ISO 3166 code).
    pub default_region: String,
    /// Mark the session cookie `Secure` (serve over HTTPS when set).
    pub cookie_secure: bool,
    /// How long a session lasts without being used, in hours.
    pub session_ttl_hours: u64,
    /// Origins allowed to open a WebSocket; empty = the server's own origin only.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_origins: Vec<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// HTTP worker threads; 0 = one per CPU core.
    pub workers: usize,
    /// Log filter in `tracing` syntax, e.g. `info` or `chatroom=debug,info`.
    pub log: String,
    /// Redis for running several nodes (`redis://127.0.0.1:6379`); empty = one node.
    pub redis_url: String,
    /// Seconds a node's presence claims live in Redis without renewal: the users of a
    /// node that died go offline within this time.
    pub presence_ttl_secs: u64,
    /// SQLite's `synchronous` setting: `full` (default) syncs the log at every commit, so
    /// an acknowledged message survives a power loss; `normal` is faster and survives a
    /// crash of the server but not of the machine.
    pub sqlite_synchronous: String,
    /// Addresses of the reverse proxies in front of the server (IPs or CIDR ranges): with
    /// `trust_forwarded_for`, the client is the right-most `X-Forwarded-For` hop that is
    /// not one of them. Empty = only the proxy that connected is trusted.
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: String,
    /// When set (e.g. `127.0.0.1:9100`), `/metrics` is served on this address only, not
    /// on `bind`.
    pub metrics_bind: String,
    pub limits: Limits,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest message text, in characters, after trimming.
    pub max_text_chars: usize,
    /// Largest WebSocket frame, in bytes; a bigger one closes the socket.
    pub max_frame_bytes: usize,
    /// Sustained sends per second per WebSocket connection (per user over HTTP).
    pub send_rate_per_sec: u32,
    /// Sends allowed in a burst above the sustained rate.
    pub send_burst: u32,
    /// Failed logins per phone number within the window before 429.
    pub login_failures_per_phone: u32,
    /// Failed logins per client address within the window before 429.
    pub login_failures_per_addr: u32,
    /// The login throttling window, in seconds.
    pub login_window_secs: u64,
    /// Messages replayed on `join` with `since` before answering `"limited": true`.
    pub resume_cap: usize,
    /// Messages in a history page when the client gives no `limit`.
    pub history_default: usize,
    /// Largest history page; a bigger `limit` is clamped.
    pub history_max: usize,
    /// Deliveries (batches of frames, shared by all recipients) waiting for one
    /// connection before it is dropped as too slow.
    pub outbox_capacity: usize,
    /// Rooms with more people online than this get no presence or typing frames (the
    /// member list still comes with `joined`): thousands joining must not cost everyone
    /// a frame per join.
    pub presence_room_max: usize,
    /// The most people online a `joined` frame lists (the first by user id); the rest
    /// are at `GET /api/rooms/{name}/members`, and `online_count` says how many.
    pub joined_members_max: usize,
    /// Seconds between keep-alive comments on an idle event stream.
    pub sse_keep_alive_secs: u64,
    /// Seconds between WebSocket pings.
    pub heartbeat_secs: u64,
    /// Seconds without any sign of life before a WebSocket is closed.
    pub client_timeout_secs: u64,
    /// Seconds database work may take before the request is answered `unavailable` (a
    /// stalled database must not hang requests or sends).
    pub database_timeout_secs: u64,
    /// Accounts one client address may register within the registration window.
    pub registrations_per_addr: u32,
    /// The registration throttling window, in seconds.
    pub registration_window_secs: u64,
    /// Open WebSockets and event streams one user may hold at once.
    pub sockets_per_user: usize,
    /// Open WebSockets and event streams one client address may hold at once.
    pub sockets_per_addr: usize,
    /// Seconds a client may take to send a request body.
    pub body_read_secs: u64,
    /// Hours an anonymous visit's session (a CSRF token, no user) is kept.
    pub anonymous_session_hours: u64,
    /// Distinct emoji one message may carry.
    pub max_reactions_per_message: usize,
    /// Largest avatar upload, in bytes (413 beyond).
    pub max_avatar_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: String::new(),
            data_dir: PathBuf::from("./data"),
            database_pool_size: 8,
            bcrypt_cost: 12,
            default_region: "CN".into(),
            cookie_secure: false,
            session_ttl_hours: 24 * 30,
            allowed_origins: Vec::new(),
            trust_forwarded_for: false,
            workers: 0,
            log: "info".into(),
            redis_url: String::new(),
            presence_ttl_secs: 15,
            sqlite_synchronous: "full".into(),
            trusted_proxies: Vec::new(),
            metrics_token: String::new(),
            metrics_bind: String::new(),
            limits: Limits::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: 4000,
            max_frame_bytes: 64 * 1024,
            send_rate_per_sec: 20,
            send_burst: 100,
            login_failures_per_phone: 5,
            login_failures_per_addr: 100,
            login_window_secs: 15 * 60,
            resume_cap: 1000,
            history_default: 50,
            history_max: 200,
            outbox_capacity: 256,
            presence_room_max: 500,
            joined_members_max: 100,
            sse_keep_alive_secs: 15,
            heartbeat_secs: 5,
            client_timeout_secs: 30,
            database_timeout_secs: 5,
            registrations_per_addr: 10,
            registration_window_secs: 3600,
            sockets_per_user: 20,
            sockets_per_addr: 200,
            body_read_secs: 10,
            anonymous_session_hours: 2,
            max_reactions_per_message: 20,
            max_avatar_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Which database a URL points at, parsed once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Mysql(String),
}

impl Config {
    /// Reads the layers: defaults, then `file` when it exists, then the environment.
    pub fn load(file: &Path) -> Result<Self, String> {
        let env = Env::prefixed("CHATROOM_").map(|key| {
            let key = key.as_str().to_ascii_lowercase();
            let key = key.as_str();
            for section in SECTIONS {
                if let Some(rest) = key.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
                    return format!("{section}.{rest}").into();
                }
            }
            key.to_owned().into()
        });
        // Only keys the configuration knows are taken from the environment, so that other
        // CHATROOM_* variables (the test script's, say) are not mistaken for typos.
        let known = Self::known_keys();
        let env = env.filter(move |key| known.iter().any(|k| k.eq_ignore_ascii_case(key.as_str())));
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if file.exists() {
            figment = figment.merge(Toml::file(file));
        }
        let mut config: Config = figment.merge(env).extract().map_err(|e| {
            let e = e.into_iter().next().map(|e| e.to_string()).unwrap_or_default();
            format!("configuration error: {e}")
        })?;
        config.validate()?;
        // docs/protocol.md names only `history_max`: lowering it below the default page size
        // makes it the default too, rather than a configuration error.
        config.limits.history_default = config.limits.history_default.min(config.limits.history_max);
        Ok(config)
    }

    /// Setting names as the environment provider spells them after mapping (`limits.resume_cap`).
    fn known_keys() -> Vec<String> {
        let defaults = Config::default();
        let mut keys = Vec::new();
        if let Ok(serde_json::Value::Object(top)) = serde_json::to_value(&defaults) {
            for (key, value) in top {
                match value {
                    serde_json::Value::Object(section) => keys.extend(section.keys().map(|k| format!("{key}.{k}"))),
                    _ => keys.push(key),
                }
            }
        }
        keys
    }

    fn validate(&self) -> Result<(), String> {
        let bad = |what: String| Err(format!("configuration error: {what}"));
        if self.bind.parse::<SocketAddr>().is_err() {
            return bad(format!("bind must be an address and port such as 127.0.0.1:8080 (got {:?})", self.bind));
        }
        self.database()?;
        if !(10..=31).contains(&self.bcrypt_cost) {
            return bad(format!("bcrypt_cost must be between 10 and 31 (got {})", self.bcrypt_cost));
        }
        if self.default_region.parse::<phonenumber::country::Id>().is_err() {
            return bad(format!(
                "default_region must be a two-letter region code such as CN or US (got {:?})",
                self.default_region
            ));
        }
        if self.database_pool_size == 0 {
            return bad("database_pool_size must be at least 1".into());
        }
        let redis = self.redis_url.trim();
        if !(redis.is_empty() || redis.starts_with("redis://") || redis.starts_with("rediss://")) {
            return bad(format!("redis_url must start with redis:// or rediss:// (got {:?})", redact(redis)));
        }
        if self.presence_ttl_secs < 2 {
            return bad("presence_ttl_secs must be at least 2".into());
        }
        if self.session_ttl_hours == 0 {
            return bad("session_ttl_hours must be at least 1".into());
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return bad(format!("allowed_origins entries must start with http:// or https:// (got {origin:?})"));
            }
        }
        if !matches!(self.sqlite_synchronous.to_ascii_lowercase().as_str(), "full" | "normal" | "extra") {
            return bad(format!(
                "sqlite_synchronous must be full, normal or extra (got {:?})",
                self.sqlite_synchronous
            ));
        }
        if let Err(e) = self.trusted_proxy_nets() {
            return bad(e);
        }
        if !self.metrics_bind.is_empty() && self.metrics_bind.parse::<SocketAddr>().is_err() {
            return bad(format!(
                "metrics_bind must be an address and port such as 127.0.0.1:9100 (got {:?})",
                self.metrics_bind
            ));
        }
        let l = &self.limits;
        let positive = [
            ("max_text_chars", l.max_text_chars as u64),
            ("max_frame_bytes", l.max_frame_bytes as u64),
            ("send_rate_per_sec", l.send_rate_per_sec as u64),
            ("send_burst", l.send_burst as u64),
            ("login_failures_per_phone", l.login_failures_per_phone as u64),
            ("login_failures_per_addr", l.login_failures_per_addr as u64),
            ("login_window_secs", l.login_window_secs),
            ("resume_cap", l.resume_cap as u64),
            ("history_default", l.history_default as u64),
            ("history_max", l.history_max as u64),
            ("outbox_capacity", l.outbox_capacity as u64),
            ("presence_room_max", l.presence_room_max as u64),
            ("joined_members_max", l.joined_members_max as u64),
            ("sse_keep_alive_secs", l.sse_keep_alive_secs),
            ("heartbeat_secs", l.heartbeat_secs),
            ("client_timeout_secs", l.client_timeout_secs),
            ("database_timeout_secs", l.database_timeout_secs),
            ("registrations_per_addr", l.registrations_per_addr as u64),
            ("registration_window_secs", l.registration_window_secs),
            ("sockets_per_user", l.sockets_per_user as u64),
            ("sockets_per_addr", l.sockets_per_addr as u64),
            ("body_read_secs", l.body_read_secs),
            ("anonymous_session_hours", l.anonymous_session_hours),
            ("max_reactions_per_message", l.max_reactions_per_message as u64),
            ("max_avatar_bytes", l.max_avatar_bytes as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return bad(format!("limits.{name} must be greater than 0"));
        }
        if l.client_timeout_secs <= l.heartbeat_secs {
            return bad("limits.client_timeout_secs must be longer than limits.heartbeat_secs".into());
        }
        Ok(())
    }

    /// `trusted_proxies` parsed: single addresses become /32 or /128 networks.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("trusted_proxies entries must be IP addresses or CIDR ranges (got {entry:?})"))
            })
            .collect()
    }

    /// The database to open: the configured URL, or SQLite in the data directory.
    pub fn database(&self) -> Result<DatabaseUrl, String> {
        let url = self.database_url.trim();
        if url.is_empty() {
            return Ok(DatabaseUrl::Sqlite(self.data_dir.join("chatroom.db")));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("configuration error: database_url sqlite:// needs a file path".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("mysql://") {
            return Ok(DatabaseUrl::Mysql(url.to_owned()));
        }
        Err(format!("configuration error: database_url must start with sqlite:// or mysql:// (got {:?})", redact(url)))
    }

    pub fn bind_addr(&self) -> SocketAddr {
        self.bind.parse().expect("validated in Config::load")
    }

    pub fn database_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.database_timeout_secs)
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_hours * 3600)
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &credentials[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Accepts a list, or one string of comma-separated items (the form environment variables take).
fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        OneOrMany::Many(v) => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(redact("mysql://root:secret@127.0.0.1/chat"), "mysql://root:***@127.0.0.1/chat");
        assert_eq!(redact("mysql://root@127.0.0.1/chat"), "mysql://root@127.0.0.1/chat");
    }

    #[test]
    fn database_url_schemes() {
        let mut c = Config::default();
        assert_eq!(c.database().unwrap(), DatabaseUrl::Sqlite(PathBuf::from("./data/chatroom.db")));
        c.database_url = "sqlite:///var/lib/chatroom/chat.db".into();
        assert_eq!(c.database().unwrap(), DatabaseUrl::Sqlite(PathBuf::from("/var/lib/chatroom/chat.db")));
        c.database_url = "postgres://x".into();
        assert!(c.database().unwrap_err().contains("sqlite:// or mysql://"));
    }
}
