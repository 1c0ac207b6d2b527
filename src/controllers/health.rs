//! Liveness for load balancers and Prometheus metrics for operators.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db::blocking;
use crate::models::user::User;
use crate::state::AppState;

/// 200 when the database answers a query on our tables, else 503.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let healthy = blocking(move || db.ping()).await.unwrap_or(false);
    if healthy {
        HttpResponse::Ok().json(json!({ "status": "ok", "database": state.db.backend_name() }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(json!({ "status": "unavailable", "database": state.db.backend_name() }))
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (connections, idle) = state.db.pool_state();
    metrics::gauge!("db_pool_connections").set(connections as f64);
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    let db = state.db.clone();
    if let Ok(Ok(users)) = blocking(move || db.get().and_then(|mut conn| User::count(&mut conn))).await {
        metrics::gauge!("registered_users").set(users as f64);
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render())
}
