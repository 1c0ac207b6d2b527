//! chatroom: a self-hosted, browser-based multi-person chat room server.
//!
//! `main.rs` parses the command line; this crate builds and runs the server, so that
//! tests and the binary start exactly the same thing.

pub mod auth;
pub mod chat;
pub mod config;
pub mod controllers;
pub mod db;
pub mod defences;
pub mod errors;
pub mod models;
pub mod routes;
pub mod sessions;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod views;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::{middleware, web, App, HttpServer};

use crate::config::Config;
use crate::db::Db;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "chatroom_session";
const SESSION_KEY_FILE: &str = "session.key";
/// Largest JSON body the API reads.
const JSON_LIMIT: usize = 64 * 1024;
/// Page forms are a few short fields.
const FORM_LIMIT: usize = 16 * 1024;

/// Everything opened before serving: the checks that can fail with a clear message.
pub struct Prepared {
    pub config: Arc<Config>,
    pub db: Db,
    pub session_key: Key,
}

/// Creates the data directory and session key, opens the database and migrates it.
pub fn prepare(config: Config) -> Result<Prepared, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", config.data_dir.display()))?;
    let session_key = load_or_create_session_key(&config.data_dir)?;
    let db = Db::connect(
        &config.database()?,
        config.database_pool_size,
        config.database_timeout(),
        config.sqlite_synchronous.to_ascii_uppercase(),
    )?;
    let applied = db.migrate()?;
    if applied > 0 {
        tracing::info!(applied, backend = db.backend_name(), "database migrated");
    }
    let filled = db
        .get()
        .and_then(|mut conn| models::user::User::fill_skeletons(&mut conn))
        .map_err(|e| format!("cannot compute the nickname skeletons: {e}"))?;
    if filled > 0 {
        tracing::info!(filled, "computed the look-alike keys of earlier nicknames");
    }
    Ok(Prepared { config: Arc::new(config), db, session_key })
}

/// The key that signs and encrypts session cookies: generated once, kept in the data
/// directory (mode 0600), never in the repository.
fn load_or_create_session_key(data_dir: &Path) -> Result<Key, String> {
    let path = data_dir.join(SESSION_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Key::try_from(bytes.as_slice()).map_err(|_| {
            format!("the session key {} is damaged (expected 64 bytes); delete it to make a new one", path.display())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = match options.open(&path) {
                Ok(file) => file,
                // Another node sharing this data directory made it first.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return load_or_create_session_key(data_dir),
                Err(e) => return Err(format!("cannot create the session key {}: {e}", path.display())),
            };
            file.write_all(key.master())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write the session key {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new session key");
            Ok(key)
        }
        Err(e) => Err(format!("cannot read the session key {}: {e}", path.display())),
    }
}

/// Binds the listener and runs the server until it is stopped.
pub async fn serve(prepared: Prepared) -> Result<(), String> {
    let Prepared { config, db, session_key } = prepared;
    let listener =
        TcpListener::bind(config.bind_addr()).map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let dummy_hash = {
        let cost = config.bcrypt_cost;
        db::blocking(move || bcrypt::hash("not anybody's password", cost))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("bcrypt failed: {e}"))?
    };
    let (broker, cluster_events) = if config.redis_url.trim().is_empty() {
        (chat::broker::Broker::InProcess, None)
    } else {
        let node = rand::distr::SampleString::sample_string(&rand::distr::Alphanumeric, &mut rand::rng(), 12);
        let ttl = Duration::from_secs(config.presence_ttl_secs);
        let (broker, events) = chat::broker::connect_redis(config.redis_url.trim(), node.clone(), ttl).await?;
        tracing::info!(node = %node, "clustered through Redis");
        (broker, Some(events))
    };
    // Read after subscribing: everything up to here is in the database, everything
    // after arrives as events (or is read back when one goes missing).
    let sequence_top = {
        let db = db.clone();
        db::blocking(move || db.get().and_then(|mut c| models::message::Message::sequence_top(&mut c)))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read the message sequence: {e}"))?
    };
    let hub = actix::Actor::start(chat::room::RoomHub::new(
        db.clone(),
        config.limits.clone(),
        broker,
        sequence_top,
        cluster_events,
    ));
    let http_send_quota = governor::Quota::per_second(
        std::num::NonZeroU32::new(config.limits.send_rate_per_sec).expect("validated positive"),
    )
    .allow_burst(std::num::NonZeroU32::new(config.limits.send_burst).expect("validated positive"));
    let state = web::Data::new(AppState {
        limits: Arc::new(config.limits.clone()),
        hub,
        http_sends: governor::RateLimiter::keyed(http_send_quota),
        region: config.default_region.parse().expect("validated in Config::load"),
        throttle: throttle::LoginThrottle::new(
            Duration::from_secs(config.limits.login_window_secs),
            config.limits.login_failures_per_phone,
            config.limits.login_failures_per_addr,
        ),
        registrations: throttle::AddressQuota::new(
            Duration::from_secs(config.limits.registration_window_secs),
            config.limits.registrations_per_addr,
        ),
        sockets: state::SocketCounts::default(),
        trusted_proxies: config.trusted_proxy_nets()?,
        dummy_hash,
        metrics: telemetry::metrics_handle(),
        config: config.clone(),
        db: db.clone(),
    });
    spawn_session_sweeper(db.clone());
    spawn_checkpointer(db.clone());

    let workers =
        if config.workers == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { config.workers };
    let store =
        sessions::DbSessionStore::new(db.clone(), Duration::from_secs(config.limits.anonymous_session_hours * 3600));
    let metrics_here = config.metrics_bind.is_empty();
    let metrics_server = if metrics_here { None } else { Some(metrics_server(&config, state.clone())?) };
    let server = HttpServer::new(move || {
        let session =
            SessionMiddleware::builder(store.clone(), session_key.clone())
                .cookie_name(SESSION_COOKIE.into())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_secure(state.config.cookie_secure)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(PersistentSession::default().session_ttl(
                    actix_web::cookie::time::Duration::seconds(state.config.session_ttl().as_secs() as i64),
                ))
                .build();
        App::new()
            .app_data(state.clone())
            .app_data(controllers::api::json_config(JSON_LIMIT))
            .app_data(controllers::form_config(FORM_LIMIT))
            .app_data(controllers::api::query_config())
            .app_data(controllers::api::path_config())
            .wrap(middleware::from_fn(defences::harden))
            .wrap(middleware::from_fn(telemetry::record_request))
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(|cfg| routes::public(cfg, metrics_here))
            .service(
                web::scope("")
                    .wrap(session)
                    .configure(routes::with_session)
                    .default_service(web::to(controllers::not_found_page)),
            )
    })
    .workers(workers)
    .on_connect(|conn, extensions| {
        // Chat frames are small and latency matters more than packet count.
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
            extensions.insert(controllers::ws::ConnectionFd(std::os::fd::AsRawFd::as_raw_fd(tcp)));
        }
    })
    .listen(listener)
    .map_err(|e| format!("cannot listen on {addr}: {e}"))?
    .run();

    tracing::info!(backend = db.backend_name(), "listening on http://{addr}");
    match metrics_server {
        Some(metrics) => {
            let (served, _) = futures_util::future::join(server, metrics).await;
            served.map_err(|e| format!("server error: {e}"))
        }
        None => server.await.map_err(|e| format!("server error: {e}")),
    }
}

/// `/metrics` alone on `metrics_bind`, for a scraper on a network the users cannot reach.
fn metrics_server(config: &Config, state: web::Data<AppState>) -> Result<actix_web::dev::Server, String> {
    let bind = config.metrics_bind.as_str();
    let listener = TcpListener::bind(bind).map_err(|e| format!("cannot listen on {bind} (metrics_bind): {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(routes::metrics))
        .workers(1)
        .listen(listener)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?
        .run();
    tracing::info!("metrics on http://{addr}/metrics");
    Ok(server)
}

/// Checkpoints SQLite's write-ahead log every second, off the message writer's path.
fn spawn_checkpointer(db: Db) {
    if db.backend_name() != "sqlite" {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let db = db.clone();
            if let Ok(Err(e)) = db::blocking(move || db.checkpoint()).await {
                tracing::warn!(error = %e, "SQLite checkpoint failed");
            }
        }
    });
}

/// Deletes expired sessions every ten minutes (anonymous ones expire within hours).
fn spawn_session_sweeper(db: Db) {
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            let db = db.clone();
            let swept = db::blocking(move || {
                db.get().and_then(|mut conn| models::session::SessionRecord::delete_expired(&mut conn, models::now()))
            })
            .await;
            if let Ok(Err(e)) = swept {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
        }
    });
}
