//! chatroom: a self-hosted, browser-based multi-person chat room server.
//!
//! `main.rs` parses the command line; this crate builds and runs the server, so that
//! tests and the binary start exactly the same thing: [`startup::prepare`] opens what
//! can fail, [`app::build_state`] and [`app::configure`] make the application, and
//! [`serve`] binds it to its address. The protocol is in docs/protocol.md.

pub mod app;
pub mod auth;
pub mod chat;
pub mod codes;
pub mod config;
pub mod controllers;
pub mod db;
pub mod defences;
pub mod errors;
pub mod health;
pub mod ids;
pub mod models;
pub mod permissions;
pub mod routes;
pub mod search_indexer;
pub mod services;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod throttle;
pub mod views;

use std::net::TcpListener;

use actix_web::{web, App, HttpServer};

pub use app::SESSION_COOKIE;
pub use startup::{prepare, Prepared};

use crate::config::Config;
use crate::state::AppState;

/// Binds the listener and runs the server until it is stopped.
pub async fn serve(prepared: Prepared) -> Result<(), String> {
    let Prepared { config, db, session_key } = prepared;
    let listener =
        TcpListener::bind(config.bind_addr()).map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = app::build_state(config.clone(), db.clone(), &session_key).await?;
    tasks::spawn_session_sweeper(db.clone());
    tasks::spawn_checkpointer(db.clone());

    let workers =
        if config.workers == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { config.workers };
    let metrics_here = config.metrics_bind.is_empty();
    let metrics_server = if metrics_here { None } else { Some(metrics_server(&config, state.clone())?) };
    let application = app::configure(state, session_key, metrics_here);
    let server = HttpServer::new(move || App::new().configure(application.clone()))
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
