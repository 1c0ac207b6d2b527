//! Liveness for load balancers and Prometheus metrics for operators.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use std::time::Duration;

use crate::models::user::User;
use crate::state::AppState;

/// How long `/healthz` waits for the database: load balancers give up after a few
/// seconds, and a stalled database must read as down, not as a hung node.
const HEALTH_DEADLINE: Duration = Duration::from_millis(1500);

/// 200 when the database answers a query on our tables, else 503. Asked on the probe's
/// own connection and thread, so that it answers at once however busy the pool is.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let healthy = state.health.healthy(HEALTH_DEADLINE).await;
    if healthy {
        HttpResponse::Ok().json(json!({ "status": "ok", "database": state.db.backend_name() }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(json!({ "status": "unavailable", "database": state.db.backend_name() }))
    }
}

/// Prometheus metrics; with `metrics_token` set, only for `Authorization: Bearer <token>`.
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let token = state.config.metrics_token.as_str();
    if !token.is_empty() {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compared in constant time: the token is a secret.
        if !constant_time_eq(presented.trim().as_bytes(), token.as_bytes()) {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(crate::errors::AppError::Unauthorized.body());
        }
    }
    let (connections, idle) = state.db.pool_state();
    metrics::gauge!("db_pool_connections").set(connections as f64);
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    if let Ok(users) = state.db.call_within(HEALTH_DEADLINE, |db| User::count(&mut db.get()?)).await {
        metrics::gauge!("registered_users").set(users as f64);
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
