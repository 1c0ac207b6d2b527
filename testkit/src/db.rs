//! A throwaway database per test, and direct SQL on it.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::*;

/// The blocking MySQL connection the server uses too (diesel-async's pure-Rust driver).
pub type MysqlConnection =
    diesel_async::async_connection_wrapper::AsyncConnectionWrapper<diesel_async::AsyncMysqlConnection>;

/// A throwaway database for one test, dropped with it.
pub struct TestDb {
    pub url: String,
    pub mysql_name: Option<String>,
}

impl TestDb {
    pub fn create(data_dir: &Path) -> TestDb {
        match backend() {
            Backend::Sqlite => {
                TestDb { url: format!("sqlite://{}", data_dir.join("chat.db").display()), mysql_name: None }
            }
            Backend::Mysql => {
                let name = format!("chatroom_test_{}_{}", std::process::id(), unique());
                let server = mysql_server_url();
                mysql_admin(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
                    .expect("CHATROOM_TEST_MYSQL_URL answers (scripts/test makes sure of it)");
                TestDb { url: format!("{server}/{name}"), mysql_name: Some(name) }
            }
        }
    }

    /// Runs SQL against the test database directly (to look at what was stored).
    pub fn query_strings(&self, sql: &str) -> Vec<String> {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            value: String,
        }
        let rows: Vec<Row> = match self.mysql_name {
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut conn = diesel::sqlite::SqliteConnection::establish(path).expect("open the test SQLite file");
                diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("query")
            }
            Some(_) => off_runtime(|| {
                let mut conn = MysqlConnection::establish(&self.url).expect("open the test database");
                diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn).expect("query")
            }),
        };
        rows.into_iter().map(|r| r.value).collect()
    }

    /// Runs statements against the test database directly (a trigger, a lock...).
    pub fn execute(&self, sql: &str) {
        match self.mysql_name {
            None => {
                let mut conn = diesel::sqlite::SqliteConnection::establish(self.sqlite_path()).expect("open SQLite");
                conn.batch_execute(sql).expect("execute");
            }
            Some(_) => off_runtime(|| {
                let mut conn = MysqlConnection::establish(&self.url).expect("open the test database");
                conn.batch_execute(sql).expect("execute");
            }),
        }
    }

    /// Runs statements in a transaction left open (MySQL only) until the returned
    /// guard is dropped, which rolls it back: the locks another writer would hold.
    pub fn hold_transaction(&self, sql: &str) -> HeldTransaction {
        assert!(self.mysql_name.is_some(), "hold_transaction is for MySQL");
        let (url, sql) = (self.url.clone(), sql.to_owned());
        let (started, wait_started) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            let mut conn = MysqlConnection::establish(&url).expect("open the test database");
            conn.batch_execute("BEGIN").expect("begin");
            conn.batch_execute(&sql).expect("the held statements");
            started.send(()).expect("the test waits");
            let _ = released.recv();
            conn.batch_execute("ROLLBACK").expect("rollback");
        });
        wait_started.recv().expect("the held transaction started");
        HeldTransaction { release: Some(release), worker: Some(worker) }
    }

    /// The SQLite file's path (SQLite only).
    pub fn sqlite_path(&self) -> &str {
        self.url.trim_start_matches("sqlite://")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.mysql_name {
            let _ = mysql_admin(&format!("DROP DATABASE IF EXISTS `{name}`"));
        }
    }
}

/// Runs blocking client work on a thread of its own: the MySQL driver blocks on a runtime
/// of its own, which it cannot do inside the test's async runtime.
pub fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("the worker thread"))
}

/// Runs one statement on the test MySQL server, outside any database.
pub fn mysql_admin(sql: &str) -> Result<(), String> {
    off_runtime(|| {
        let mut conn = MysqlConnection::establish(&format!("{}/", mysql_server_url())).map_err(|e| e.to_string())?;
        conn.batch_execute(sql).map_err(|e| e.to_string())
    })
}

/// A MySQL transaction held open by [`TestDb::hold_transaction`]; rolled back on drop.
pub struct HeldTransaction {
    release: Option<std::sync::mpsc::Sender<()>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Drop for HeldTransaction {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
