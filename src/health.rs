//! The database check behind `/healthz`, on a connection and a thread of its own: a
//! load balancer's probe must not queue behind the work it is there to watch (a
//! thousand joins reading history hold the pool and the blocking threads), yet must
//! still ask the database each time, so that a database gone a moment ago reads as
//! down at once.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tokio::sync::oneshot;

use crate::config::DatabaseUrl;

/// A query on our tables: the schema is there, not only the server.
const PING: &str = "SELECT id FROM rooms LIMIT 1";

/// Probes waiting for an answer: those that arrive during a check share the next.
type Waiters = Vec<oneshot::Sender<bool>>;

#[derive(Clone)]
pub struct HealthProbe {
    requests: mpsc::Sender<oneshot::Sender<bool>>,
}

enum ProbeConn {
    Sqlite(SqliteConnection),
    #[cfg(feature = "mysql")]
    Mysql(crate::db::MysqlConnection),
}

impl HealthProbe {
    /// Starts the probe's thread; it connects when first asked, and again after a
    /// failure.
    pub fn start(url: DatabaseUrl, timeout: Duration) -> HealthProbe {
        let (requests, incoming) = mpsc::channel::<oneshot::Sender<bool>>();
        std::thread::Builder::new()
            .name("health-probe".into())
            .spawn(move || {
                let mut conn: Option<ProbeConn> = None;
                while let Ok(first) = incoming.recv() {
                    let mut waiters: Waiters = vec![first];
                    waiters.extend(incoming.try_iter());
                    let healthy = check(&url, timeout, &mut conn);
                    for waiter in waiters {
                        let _ = waiter.send(healthy);
                    }
                }
            })
            .expect("a thread for the health probe");
        HealthProbe { requests }
    }

    /// Whether the database answered a query on our tables within `deadline`.
    pub async fn healthy(&self, deadline: Duration) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.requests.send(reply).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(deadline, answer).await, Ok(Ok(true)))
    }
}

fn check(url: &DatabaseUrl, timeout: Duration, conn: &mut Option<ProbeConn>) -> bool {
    if conn.is_none() {
        *conn = connect(url, timeout);
    }
    let answered = match conn.as_mut() {
        None => false,
        Some(ProbeConn::Sqlite(c)) => diesel::sql_query(PING).load::<Probe>(c).is_ok(),
        #[cfg(feature = "mysql")]
        Some(ProbeConn::Mysql(c)) => diesel::sql_query(PING).load::<Probe>(c).is_ok(),
    };
    if !answered {
        // A fresh connection next time: this one may be broken.
        *conn = None;
    }
    answered
}

#[derive(QueryableByName)]
struct Probe {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[allow(dead_code, reason = "read to check the answer's shape")]
    id: i64,
}

fn connect(url: &DatabaseUrl, timeout: Duration) -> Option<ProbeConn> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy()).ok()?;
            c.batch_execute(&format!("PRAGMA busy_timeout = {};", timeout.as_millis())).ok()?;
            Some(ProbeConn::Sqlite(c))
        }
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql(url) => {
            let mut c = crate::db::MysqlConnection::establish(url).ok()?;
            // A stalled server must not hold the probe for longer than the deadline.
            let seconds = timeout.as_secs().max(1);
            c.batch_execute(&format!("SET SESSION max_statement_time = {seconds};")).ok();
            Some(ProbeConn::Mysql(c))
        }
        #[cfg(not(feature = "mysql"))]
        DatabaseUrl::Mysql(_) => None,
    }
}
