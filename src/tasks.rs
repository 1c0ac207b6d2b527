//! Background work that runs for the life of the server.

use std::time::Duration;

use crate::db::Db;
use crate::{errors, models};

/// Checkpoints SQLite's write-ahead log every second, off the message writer's path.
pub fn spawn_checkpointer(db: Db) {
    if db.backend_name() != "sqlite" {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let db = db.clone();
            if let Ok(Err(e)) = errors::off_workers(move || db.checkpoint()).await {
                tracing::warn!(error = %e, "SQLite checkpoint failed");
            }
        }
    });
}

/// Deletes expired sessions (anonymous ones expire within hours) and invites that can
/// no longer be used, every ten minutes.
pub fn spawn_session_sweeper(db: Db) {
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            let db = db.clone();
            let swept = errors::off_workers(move || {
                db.get().and_then(|mut conn| {
                    models::invite::Invite::delete_dead(&mut conn, models::now())?;
                    models::session::SessionRecord::delete_expired(&mut conn, models::now())
                })
            })
            .await;
            if let Ok(Err(e)) = swept {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
        }
    });
}
