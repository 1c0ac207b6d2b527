//! S8's join storm: a thousand users, logged in beforehand, each open a WebSocket and
//! join one room within about a second, while another task asks `/healthz` every 10 ms.
//! What a load balancer sees of the node during the storm is `/healthz`'s latency.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::report::ProcSampler;
use crate::setup;
use crate::year::{send_and_await_joined, YearArgs};
use crate::year_report::{Failure, Probe, StormResult};
use crate::year_seed::YearPlan;

/// The whole storm gives up after this: every run is bounded in time.
const STORM_DEADLINE: Duration = Duration::from_secs(120);

struct StormState {
    joined: Cell<usize>,
    finished: Cell<usize>,
    errors: Cell<u64>,
    first_error: RefCell<Option<String>>,
    last_joined: Cell<Option<Instant>>,
    join: RefCell<Probe>,
    /// Set once the storm is over: the sockets close and the poller stops.
    over: Cell<bool>,
}

impl StormState {
    fn failed(&self, why: String) {
        self.errors.set(self.errors.get() + 1);
        self.first_error.borrow_mut().get_or_insert(why);
    }
}

pub async fn run(addr: SocketAddr, pids: &[u32], plan: &YearPlan, args: &YearArgs) -> Result<StormResult, String> {
    let count = args.storm.min(plan.storm_phones.len());
    if count == 0 {
        return Err("the plan has no storm users: seed with --storm-users".into());
    }
    eprintln!("logging in {count} users for the join storm…");
    let users = setup::log_in_all(addr, &plan.storm_phones[..count], &plan.password, 16).await?;
    let state = Rc::new(StormState {
        joined: Cell::new(0),
        finished: Cell::new(0),
        errors: Cell::new(0),
        first_error: RefCell::new(None),
        last_joined: Cell::new(None),
        join: RefCell::new(Probe::new("join storm: socket opened to its `joined`")),
        over: Cell::new(false),
    });
    let healthz = Rc::new(RefCell::new(Probe::new(&format!(
        "`/healthz` during the join storm (every {} ms)",
        args.healthz_interval_ms
    ))));
    let poller = tokio::task::spawn_local(poll_healthz(
        addr,
        Duration::from_millis(args.healthz_interval_ms.max(1)),
        healthz.clone(),
        state.clone(),
    ));
    // A quiet moment of polling first, so that the storm's effect stands out from none.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut sampler = ProcSampler::new(pids);
    sampler.start();
    let spread = Duration::from_millis(args.storm_spread_ms.min(60_000));
    let started = Instant::now();
    for (i, user) in users.into_iter().enumerate() {
        let at = started + spread.mul_f64(i as f64 / count as f64);
        let (state, room) = (state.clone(), plan.storm_room.clone());
        tokio::task::spawn_local(async move {
            tokio::time::sleep_until(at.into()).await;
            storm_user(addr, &user.cookie, &room, &state).await;
        });
    }
    let launch_secs = spread.as_secs_f64();
    while state.finished.get() < count && started.elapsed() < STORM_DEADLINE {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let storm_secs = state.last_joined.get().map_or(0.0, |t| (t - started).as_secs_f64());
    // A little polling after the last `joined` too, then everything closes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let server = sampler.finish();
    state.over.set(true);
    let _ = poller.await;
    let unfinished = count - state.finished.get();
    if unfinished > 0 {
        state.failed(format!("{unfinished} connections had no answer within {STORM_DEADLINE:?}"));
    }
    eprintln!(
        "join storm: {} of {count} joined, the last {storm_secs:.2} s after the first socket opened",
        state.joined.get()
    );
    let first_error = state.first_error.borrow().clone();
    let join = state.join.borrow().row();
    let healthz = healthz.borrow().row();
    Ok(StormResult {
        users: count,
        room: plan.storm_room.clone(),
        joined: state.joined.get(),
        errors: state.errors.get(),
        first_error,
        launch_secs,
        storm_secs,
        join,
        healthz,
        healthz_interval_ms: args.healthz_interval_ms,
        server,
    })
}

/// One user of the storm: opens a socket, joins, and holds it until the storm is over.
async fn storm_user(addr: SocketAddr, cookie: &str, room: &str, state: &StormState) {
    let opened = Instant::now();
    let join = format!(r#"{{"type":"join","room":"{room}"}}"#);
    let outcome = tokio::time::timeout(STORM_DEADLINE, async {
        let mut conn = crate::wire::connect(addr, cookie).await.map_err(|e| format!("cannot open a WebSocket: {e}"))?;
        let frame = send_and_await_joined(&mut conn, &join, room).await?;
        if !frame.starts_with(br#"{"type":"joined""#) {
            return Err(format!("join {room}: {}", String::from_utf8_lossy(&frame)));
        }
        Ok(conn)
    })
    .await;
    state.finished.set(state.finished.get() + 1);
    match outcome {
        Ok(Ok(conn)) => {
            state.joined.set(state.joined.get() + 1);
            state.last_joined.set(Some(Instant::now()));
            state.join.borrow_mut().record(opened.elapsed(), Ok(()));
            hold(conn, state).await;
        }
        Ok(Err(why)) => state.failed(why),
        Err(_) => state.failed(format!("no joined within {STORM_DEADLINE:?}")),
    }
}

/// Keeps reading (presence frames come while others join) and answering pings, so
/// that the server never sees a slow reader, until the storm is over.
async fn hold(mut conn: crate::wire::WsConn, state: &StormState) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while !state.over.get() {
        match tokio::time::timeout(Duration::from_millis(50), conn.stream.read_buf(&mut conn.buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {
                let mut pongs = Vec::new();
                crate::wire::drain_frames(&mut conn.buf, |opcode, payload| {
                    if opcode == crate::wire::OP_PING {
                        crate::wire::encode(crate::wire::OP_PONG, payload, &mut pongs);
                    }
                });
                if !pongs.is_empty() && conn.stream.write_all(&pongs).await.is_err() {
                    return;
                }
            }
            Err(_) => {}
        }
    }
}

/// Asks `/healthz` on one kept-alive connection, every `interval` (or right after the
/// previous answer when that took longer), until the storm is over.
async fn poll_healthz(addr: SocketAddr, interval: Duration, probe: Rc<RefCell<Probe>>, state: Rc<StormState>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("an HTTP client");
    let url = format!("http://{addr}/healthz");
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !state.over.get() {
        tick.tick().await;
        let started = Instant::now();
        let outcome = match http.get(&url).send().await {
            Ok(r) if r.status() == reqwest::StatusCode::OK => match r.bytes().await {
                Ok(_) => Ok(()),
                Err(e) => Err(Failure::Error(format!("/healthz: {e}"))),
            },
            Ok(r) => Err(Failure::Error(format!("/healthz: HTTP {}", r.status()))),
            Err(e) => Err(Failure::Error(format!("/healthz: {e}"))),
        };
        probe.borrow_mut().record(started.elapsed(), outcome);
    }
}
