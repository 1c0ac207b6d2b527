//! The database: backend chosen at run time by URL, an r2d2 pool per backend, embedded
//! migrations, and the bridge that runs blocking Diesel work off the async workers.
//!
//! Queries are written once and compiled for each backend by [`db_run!`], the way
//! Vaultwarden does it: the body is monomorphised for every connection type.
//!
//! Every wait for the database has a deadline: a database that stops answering (a
//! stalled server, a lock held elsewhere) costs callers `unavailable` after
//! `limits.database_timeout_secs`, never a hang, and at most a bounded number of
//! blocking threads stay stuck on it.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{redact, DatabaseUrl};

#[cfg(feature = "mysql")]
pub type MysqlConnection =
    diesel_async::async_connection_wrapper::AsyncConnectionWrapper<diesel_async::AsyncMysqlConnection>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// A pool on one of the supported backends, and the deadline for work on it.
#[derive(Clone)]
pub struct Db {
    pool: Backend,
    /// Blocking threads that may be waiting on the database at once: a stalled database
    /// holds this many at most, instead of one per request.
    gate: Arc<tokio::sync::Semaphore>,
    timeout: Duration,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    #[cfg(feature = "mysql")]
    Mysql(Pool<ConnectionManager<MysqlConnection>>),
}

/// A connection checked out of a [`Db`] pool.
pub enum DbConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    #[cfg(feature = "mysql")]
    Mysql(PooledConnection<ConnectionManager<MysqlConnection>>),
}

/// Runs `$body` with `$conn` bound to the concrete Diesel connection of a `&mut DbConn`.
/// The optional `sqlite`/`mysql` arms let a query differ where the backends' SQL does.
#[macro_export]
macro_rules! db_run {
    ($dbconn:expr, |$conn:ident| $body:expr) => {
        match $dbconn {
            $crate::db::DbConn::Sqlite(pooled) => {
                let $conn: &mut diesel::sqlite::SqliteConnection = &mut *pooled;
                $body
            }
            #[cfg(feature = "mysql")]
            $crate::db::DbConn::Mysql(pooled) => {
                let $conn: &mut $crate::db::MysqlConnection = &mut *pooled;
                $body
            }
        }
    };
    ($dbconn:expr, sqlite |$sconn:ident| $sbody:expr, mysql |$mconn:ident| $mbody:expr) => {
        match $dbconn {
            $crate::db::DbConn::Sqlite(pooled) => {
                let $sconn: &mut diesel::sqlite::SqliteConnection = &mut *pooled;
                $sbody
            }
            #[cfg(feature = "mysql")]
            $crate::db::DbConn::Mysql(pooled) => {
                let $mconn: &mut $crate::db::MysqlConnection = &mut *pooled;
                $mbody
            }
        }
    };
}

impl DbConn {
    pub fn is_mysql(&self) -> bool {
        !matches!(self, DbConn::Sqlite(_))
    }

    /// Runs `work` in one write transaction, committed when it returns `Ok`, rolled
    /// back otherwise. SQLite begins IMMEDIATE: the write lock is taken first, so two
    /// writers never deadlock upgrading a read lock.
    pub fn write_transaction<T>(&mut self, work: impl FnOnce(&mut DbConn) -> DbResult<T>) -> DbResult<T> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        db_run!(
            self,
            sqlite | c | AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
            mysql | c | <MysqlConnection as diesel::Connection>::TransactionManager::begin_transaction(c)
        )?;
        let done = work(self).and_then(|value| {
            db_run!(
                self,
                sqlite | c | AnsiTransactionManager::commit_transaction(c),
                mysql | c | <MysqlConnection as diesel::Connection>::TransactionManager::commit_transaction(c)
            )?;
            Ok(value)
        });
        if done.is_err() {
            // Nothing to do when the commit itself rolled back or the connection is gone.
            let _ = db_run!(
                self,
                sqlite | c | AnsiTransactionManager::rollback_transaction(c),
                mysql | c | <MysqlConnection as diesel::Connection>::TransactionManager::rollback_transaction(c)
            );
        }
        done
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// The database did not answer within the deadline.
    #[error("the database did not answer in time")]
    Timeout,
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
    }

    /// No connection could be had: the database is down or stalled, not this query.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DbError::Pool(_) | DbError::Timeout)
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Debug)]
struct SqliteSetup {
    busy_timeout: Duration,
    /// `FULL` or `NORMAL` (validated by the configuration).
    synchronous: String,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // The busy timeout makes a second writer wait (up to the database deadline)
        // instead of failing; SQLite leaves foreign keys off unless asked; FULL syncs the
        // log at every commit (one fsync per group-committed batch), so an acknowledged
        // message survives a power loss. Commits do not checkpoint (that fsyncs again,
        // stalling the message writer): a background task does it (see `Db::checkpoint`).
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; \
             PRAGMA wal_autocheckpoint = 0;",
            self.busy_timeout.as_millis(),
            self.synchronous
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[cfg(feature = "mysql")]
#[derive(Debug)]
struct MysqlSetup;

#[cfg(feature = "mysql")]
impl CustomizeConnection<MysqlConnection, diesel::r2d2::Error> for MysqlSetup {
    fn on_acquire(&self, conn: &mut MysqlConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci; SET time_zone = '+00:00';")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Creates the database a MySQL URL names, for a first start on an empty server.
#[cfg(feature = "mysql")]
fn create_mysql_database(url: &str) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot create the MySQL database of {}: {e}", redact(url));
    let (server, name) = url.rsplit_once('/').ok_or_else(|| fail(&"the URL names no database"))?;
    let name = name.split('?').next().unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
        return Err(fail(&"the database name must be letters, digits and _"));
    }
    let mut conn = MysqlConnection::establish(&format!("{server}/")).map_err(|e| fail(&e))?;
    conn.batch_execute(&format!(
        "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    ))
    .map_err(|e| fail(&e))?;
    tracing::info!(database = name, "created the MySQL database");
    Ok(())
}

impl Db {
    /// Opens the pool, or explains in one line why it cannot. Work on it waits at most
    /// `timeout` for the database.
    pub fn connect(
        url: &DatabaseUrl,
        pool_size: u32,
        timeout: Duration,
        sqlite_synchronous: String,
    ) -> Result<Db, String> {
        let pool = Self::open(url, pool_size, timeout, sqlite_synchronous)?;
        let gate = Arc::new(tokio::sync::Semaphore::new(pool_size as usize * 2 + 2));
        Ok(Db { pool, gate, timeout })
    }

    fn open(url: &DatabaseUrl, pool_size: u32, timeout: Duration, synchronous: String) -> Result<Backend, String> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create the database directory {}: {e}", dir.display()))?;
                }
                let path_str = path.to_string_lossy();
                // WAL (readers beside the writer) is a property of the file: set it once,
                // before the pool opens its connections side by side.
                SqliteConnection::establish(&path_str)
                    .and_then(|mut c| {
                        c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
                    })
                    .map_err(|e| format!("cannot open the SQLite database {}: {e}", path.display()))?;
                let manager = ConnectionManager::<SqliteConnection>::new(path_str);
                let pool = Pool::builder()
                    .max_size(pool_size)
                    .connection_timeout(timeout)
                    .connection_customizer(Box::new(SqliteSetup { busy_timeout: timeout, synchronous }))
                    .build(manager)
                    .map_err(|e| format!("cannot open the SQLite database {}: {e}", path.display()))?;
                Ok(Backend::Sqlite(pool))
            }
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(url) => {
                // One direct attempt first: a clear error at once instead of the pool's retries.
                if let Err(e) = MysqlConnection::establish(url) {
                    if !e.to_string().contains("Unknown database") {
                        return Err(format!("cannot connect to the MySQL database {}: {e}", redact(url)));
                    }
                    create_mysql_database(url)?;
                }
                let manager = ConnectionManager::<MysqlConnection>::new(url.as_str());
                let pool = Pool::builder()
                    .max_size(pool_size)
                    .min_idle(Some(1))
                    .connection_timeout(timeout)
                    .connection_customizer(Box::new(MysqlSetup))
                    .build(manager)
                    .map_err(|e| format!("cannot connect to the MySQL database {}: {e}", redact(url)))?;
                Ok(Backend::Mysql(pool))
            }
            #[cfg(not(feature = "mysql"))]
            DatabaseUrl::Mysql(url) => Err(format!(
                "cannot open {}: this binary was built without MySQL support \
                 (rebuild with `cargo build --release --features mysql`)",
                redact(url)
            )),
        }
    }

    pub fn is_mysql(&self) -> bool {
        !matches!(self.pool, Backend::Sqlite(_))
    }

    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            Backend::Sqlite(_) => "sqlite",
            #[cfg(feature = "mysql")]
            Backend::Mysql(_) => "mysql",
        }
    }

    /// How long work waits for the database before it counts as unavailable.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Applies every migration that has not run yet.
    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = self.get().map_err(|e| e.to_string())?;
        let applied = db_run!(
            &mut conn,
            sqlite | c | c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            mysql | c | c.run_pending_migrations(MYSQL_MIGRATIONS).map(|v| v.len())
        );
        applied.map_err(|e| format!("migration failed: {e}"))
    }

    /// Checks a connection out, blocking: call only off the async workers.
    pub fn get(&self) -> DbResult<DbConn> {
        Ok(match &self.pool {
            Backend::Sqlite(pool) => DbConn::Sqlite(pool.get_timeout(self.timeout)?),
            #[cfg(feature = "mysql")]
            Backend::Mysql(pool) => DbConn::Mysql(pool.get_timeout(self.timeout)?),
        })
    }

    /// Runs blocking database work on the blocking thread pool and awaits its result,
    /// for at most the database deadline.
    pub async fn run<T, F>(&self, work: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    {
        self.call(move |db| work(&mut db.get()?)).await
    }

    /// Runs blocking work on the database off the async workers and waits for it at most
    /// the database deadline ([`DbError::Timeout`] then; the work itself finishes, or
    /// not, on its own thread).
    pub async fn call<T, F>(&self, work: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> DbResult<T> + Send + 'static,
    {
        self.call_within(self.timeout, work).await
    }

    /// [`Db::call`] with a deadline of its own.
    pub async fn call_within<T, F>(&self, deadline: Duration, work: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> DbResult<T> + Send + 'static,
    {
        let until = tokio::time::Instant::now() + deadline;
        let permit = tokio::time::timeout_at(until, self.gate.clone().acquire_owned())
            .await
            .map_err(|_| DbError::Timeout)?
            .map_err(|_| DbError::Timeout)?;
        let db = self.clone();
        let work = actix_web::rt::task::spawn_blocking(move || {
            let _permit = permit;
            work(&db)
        });
        match tokio::time::timeout_at(until, work).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(_) => Err(DbError::Timeout),
        }
    }

    /// Copies the SQLite write-ahead log into the database file without blocking the
    /// writer (PASSIVE), truncating it when nobody is reading. Nothing to do on MySQL.
    pub fn checkpoint(&self) -> DbResult<()> {
        if self.backend_name() != "sqlite" {
            return Ok(());
        }
        let mut conn = self.get()?;
        db_run!(&mut conn, |c| c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);"))?;
        Ok(())
    }

    /// Connections open and idle in the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = match &self.pool {
            Backend::Sqlite(pool) => pool.state(),
            #[cfg(feature = "mysql")]
            Backend::Mysql(pool) => pool.state(),
        };
        (state.connections, state.idle_connections)
    }
}
