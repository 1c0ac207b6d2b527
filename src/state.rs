//! What every handler shares.

use std::sync::Arc;

use actix_web::HttpRequest;

use crate::chat::room::RoomHub;
use crate::config::{Config, Limits};
use crate::db::Db;
use crate::throttle::LoginThrottle;

pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub region: phonenumber::country::Id,
    pub throttle: LoginThrottle,
    /// A bcrypt hash checked when the phone is unknown, so both failures take as long.
    pub dummy_hash: String,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub limits: Arc<Limits>,
    pub hub: actix::Addr<RoomHub>,
    /// Messages posted over HTTP, limited per user.
    pub http_sends: governor::DefaultKeyedRateLimiter<i64>,
}

impl AppState {
    /// The client's address, from `X-Forwarded-For` only when configured to trust it.
    pub fn client_addr(&self, req: &HttpRequest) -> String {
        if self.config.trust_forwarded_for {
            if let Some(addr) = req.connection_info().realip_remote_addr() {
                return addr.to_owned();
            }
        }
        req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
    }
}
