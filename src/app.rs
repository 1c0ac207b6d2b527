//! The application: its shared state, and the routes with their middleware as one
//! `configure` function, so that the binary (`serve`) and in-process tests build
//! exactly the same thing.

use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::{middleware, web};

use crate::config::Config;
use crate::db::Db;
use crate::state::AppState;
use crate::{chat, controllers, defences, errors, models, routes, sessions, state, telemetry, throttle};

pub const SESSION_COOKIE: &str = "chatroom_session";
/// Largest JSON body the API reads.
const JSON_LIMIT: usize = 64 * 1024;
/// Page forms are a few short fields.
const FORM_LIMIT: usize = 16 * 1024;

/// Builds what every request shares: the room actor (started here, with the broker to
/// the other nodes when Redis is configured), the throttles and the limits.
pub async fn build_state(config: Arc<Config>, db: Db, session_key: &Key) -> Result<web::Data<AppState>, String> {
    let dummy_hash = {
        let cost = config.bcrypt_cost;
        errors::off_workers(move || bcrypt::hash("not anybody's password", cost))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("bcrypt failed: {e}"))?
    };
    let (broker, cluster_events) = if config.redis_url.trim().is_empty() {
        (Arc::new(chat::broker::InProcess) as Arc<dyn chat::broker::Broker>, None)
    } else {
        let node = rand::distr::SampleString::sample_string(&rand::distr::Alphanumeric, &mut rand::rng(), 12);
        let ttl = Duration::from_secs(config.presence_ttl_secs);
        let (broker, events) = chat::broker::connect_redis(config.redis_url.trim(), node.clone(), ttl).await?;
        tracing::info!(node = %node, "clustered through Redis");
        (broker, Some(events))
    };
    // Read after subscribing: everything up to here is in the database, everything
    // after arrives as events (or is read back when one goes missing).
    let sequence_top = db
        .run(models::message::Message::sequence_top)
        .await
        .map_err(|e| format!("cannot read the message sequence: {e}"))?;
    let hub = actix::Actor::start(chat::room::RoomHub::new(
        db.clone(),
        config.limits.clone(),
        broker,
        sequence_top,
        cluster_events,
    ));
    let limits = &config.limits;
    let http_send_quota =
        governor::Quota::per_second(std::num::NonZeroU32::new(limits.send_rate_per_sec).expect("validated positive"))
            .allow_burst(std::num::NonZeroU32::new(limits.send_burst).expect("validated positive"));
    Ok(web::Data::new(AppState {
        limits: Arc::new(limits.clone()),
        hub,
        http_sends: governor::RateLimiter::keyed(http_send_quota),
        health: crate::health::HealthProbe::start(config.database()?, config.database_timeout()),
        // Ten a second, twenty at once: a person typing a query, not a scraper.
        lookups: governor::RateLimiter::keyed(
            governor::Quota::per_second(std::num::NonZeroU32::new(10).expect("positive"))
                .allow_burst(std::num::NonZeroU32::new(20).expect("positive")),
        ),
        region: config.default_region.parse().expect("validated in Config::load"),
        throttle: throttle::LoginThrottle::new(
            Duration::from_secs(limits.login_window_secs),
            limits.login_failures_per_phone,
            limits.login_failures_per_addr,
        ),
        registrations: throttle::AddressQuota::new(
            Duration::from_secs(limits.registration_window_secs),
            limits.registrations_per_addr,
        ),
        sockets: state::SocketCounts::default(),
        trusted_proxies: config.trusted_proxy_nets()?,
        dummy_hash,
        metrics: telemetry::metrics_handle(),
        invite_key: crate::services::invites::InviteKey::derive(session_key.master()),
        config: config.clone(),
        db,
    }))
}

/// Every route with its middleware, for `App::new().configure(...)`. `with_metrics`
/// is false when `/metrics` has an address of its own.
pub fn configure(
    state: web::Data<AppState>,
    session_key: Key,
    with_metrics: bool,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let store = sessions::DbSessionStore::new(
        state.db.clone(),
        Duration::from_secs(state.config.limits.anonymous_session_hours * 3600),
    );
    move |cfg: &mut web::ServiceConfig| {
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
        cfg.app_data(state.clone())
            .app_data(controllers::api::json_config(JSON_LIMIT))
            .app_data(controllers::form_config(FORM_LIMIT))
            .app_data(controllers::api::query_config())
            .app_data(controllers::api::path_config())
            .service(
                web::scope("")
                    .wrap(middleware::from_fn(defences::harden))
                    .wrap(middleware::from_fn(telemetry::record_request))
                    .wrap(tracing_actix_web::TracingLogger::default())
                    .configure(|cfg| routes::public(cfg, with_metrics))
                    .service(
                        web::scope("")
                            .wrap(session)
                            .configure(routes::with_session)
                            .default_service(web::to(controllers::not_found_page)),
                    ),
            );
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{test, App};

    use super::*;

    /// The application runs in-process, without a socket or the binary.
    #[actix_web::test]
    async fn the_application_runs_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().to_owned(), bcrypt_cost: 10, ..Config::default() };
        let prepared = crate::startup::prepare(config).unwrap();
        let state = build_state(prepared.config, prepared.db, &prepared.session_key).await.unwrap();
        let app = test::init_service(App::new().configure(configure(state, prepared.session_key, true))).await;

        let health = test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
        assert_eq!(health.status(), 200);
        let me = test::call_service(&app, test::TestRequest::get().uri("/api/me").to_request()).await;
        assert_eq!(me.status(), 401);
        let body: serde_json::Value = test::read_body_json(me).await;
        assert_eq!(body["error"]["code"], "unauthorized");
        let login = test::call_service(&app, test::TestRequest::get().uri("/login").to_request()).await;
        assert_eq!(login.status(), 200);
        assert!(login.headers().contains_key("content-security-policy"));
    }
}
