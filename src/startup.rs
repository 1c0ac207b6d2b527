//! Everything that happens before serving and can fail with one clear line: the data
//! directory, the session key, the database and its migrations.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use actix_web::cookie::Key;

use crate::config::Config;
use crate::db::Db;
use crate::models;

const SESSION_KEY_FILE: &str = "session.key";

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
    index_earlier_history(&db)?;
    Ok(Prepared { config: Arc::new(config), db, session_key })
}

/// Puts the history stored before search existed into the search index (and finds its
/// mentions), once, before serving: chunk by chunk, each committed, so that a stop
/// half-way goes on from there at the next start.
fn index_earlier_history(db: &Db) -> Result<(), String> {
    let started = std::time::Instant::now();
    // MySQL: the index follows the commit order; whatever it has not caught up with
    // (all history, after the upgrade) is indexed here, chunk by chunk.
    crate::search_indexer::catch_up_all(db).map_err(|e| format!("cannot index the history for search: {e}"))?;
    let mut conn = db.get().map_err(|e| format!("cannot index the history for search: {e}"))?;
    let mut chunks = 0u64;
    while models::search::SearchIndex::backfill_step(&mut conn, 2000)
        .map_err(|e| format!("cannot index the history for search: {e}"))?
    {
        chunks += 1;
        if chunks % 50 == 0 {
            tracing::info!(messages = chunks * 2000, "indexing earlier history for search");
        }
    }
    if chunks > 0 {
        tracing::info!(seconds = started.elapsed().as_secs(), "indexed earlier history for search");
    }
    Ok(())
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
