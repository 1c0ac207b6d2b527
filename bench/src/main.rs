//! `chatroom-bench`: the load generator. It registers its users through the server's
//! pages, opens real WebSocket connections, joins rooms, sends at a fixed rate with
//! `client_id`s and measures every delivery: send→receive latency, deliveries per
//! second, losses and duplicates, and the server's CPU and memory (from /proc).
//!
//! Every run is bounded in connections and time and talks to loopback only.

mod corpus;
mod report;
mod search;
mod seed;
mod seed_sql;
mod setup;
mod wire;
mod year;
mod year_report;
mod year_seed;
mod year_storm;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use report::{ProcSampler, StepResult};
use wire::{WsConn, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};

#[derive(Parser)]
#[command(about = "Load generator for chatroom (loopback only)")]
struct Cli {
    /// The server to load (must be a loopback address).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// More nodes of the same cluster: connections are spread over `addr` and these
    /// (round robin), as a load balancer would.
    #[arg(long, value_delimiter = ',')]
    also: Vec<SocketAddr>,
    /// The server's pid (several, comma-separated, for a cluster), to sample CPU and
    /// memory from /proc.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A name for this run in the report (e.g. "S1 sqlite").
    #[arg(long, default_value = "run")]
    label: String,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Clients in rooms, some sending at a fixed rate: latency and throughput (S1, S2).
    Fanout(FanoutArgs),
    /// Raise the send rate step by step until loss or p99 over the limit (S3).
    Saturate(SaturateArgs),
    /// Many idle connections joined to rooms: memory per connection, heartbeats (S4).
    Idle(IdleArgs),
    /// Many concurrent senders over WebSocket and HTTP: acknowledged messages/s (S5).
    Storage(StorageArgs),
    /// Writes S7's history straight into a database (the server stopped): users, rooms,
    /// messages and their search index. Talks to the database, not to a server.
    Seed(SeedArgs),
    /// Search latency over a seeded history, query class by class (S7).
    Search(SearchArgs),
    /// Writes S8's "year of use" straight into a database (the server stopped): users
    /// who can log in, rooms, memberships with read markers, messages and their index.
    SeedYear(year_seed::SeedYearArgs),
    /// S8 over a `seed-year` history: room list, history pages, `join` with `since`,
    /// directory search, and a join storm while `/healthz` is polled.
    Year(year::YearArgs),
}

#[derive(Args)]
struct SeedArgs {
    /// sqlite://<file> or mysql://<user>@127.0.0.1/<database> (loopback only).
    #[arg(long)]
    database_url: String,
    /// Messages to write (at most 10,000,000).
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// The last rooms are private (the searchers are not members: search leaves them out).
    #[arg(long, default_value_t = 10)]
    private_rooms: usize,
    /// Authors of the messages.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Leave the index to the server's start-up backfill instead of writing it.
    #[arg(long)]
    no_index: bool,
    /// Where to write the queries and their match counts, for `search --plan`.
    #[arg(long)]
    plan: PathBuf,
}

#[derive(Args)]
struct SearchArgs {
    /// The plan `seed` wrote.
    #[arg(long)]
    plan: PathBuf,
    /// Searchers to register (each may search ten times a second).
    #[arg(long, default_value_t = 50)]
    users: usize,
    /// Measured requests per query class and scope, one client.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Unmeasured requests first, per class and scope.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// At most this many seconds per class and scope (at most 120).
    #[arg(long, default_value_t = 15)]
    shape_secs: u64,
    /// Then this many clients at once over every class and scope (0: none).
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// For this many seconds (at most 300).
    #[arg(long, default_value_t = 30)]
    concurrent_secs: u64,
    /// Page size asked for.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Args, Clone)]
struct Shape {
    /// WebSocket connections, spread evenly over the rooms.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Rooms the clients are spread over.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Connections (spread over the rooms) that also send.
    #[arg(long, default_value_t = 10)]
    senders: usize,
    /// Distinct users behind the connections (registration costs a bcrypt hash each).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 100)]
    size: usize,
}

#[derive(Args)]
struct FanoutArgs {
    #[command(flatten)]
    shape: Shape,
    /// Messages per second per sender.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Seconds of sending (at most 600).
    #[arg(long, default_value_t = 30)]
    duration: u64,
}

#[derive(Args)]
struct SaturateArgs {
    #[command(flatten)]
    shape: Shape,
    /// Messages per second per sender at the first step.
    #[arg(long, default_value_t = 20.0)]
    start_rate: f64,
    /// Each step multiplies the rate by this.
    #[arg(long, default_value_t = 1.4)]
    factor: f64,
    /// Seconds per step.
    #[arg(long, default_value_t = 8)]
    step_secs: u64,
    /// Most steps (the run is bounded even if nothing breaks).
    #[arg(long, default_value_t = 14)]
    max_steps: usize,
    /// A step fails above this p99 send→receive latency, in milliseconds.
    #[arg(long, default_value_t = 100.0)]
    p99_limit_ms: f64,
    /// Draw latency percentiles against the delivery rate into this SVG.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Args)]
struct IdleArgs {
    /// Connections to open and hold (at most 30000).
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Seconds to hold them all open while watching the heartbeats.
    #[arg(long, default_value_t = 30)]
    hold: u64,
}

#[derive(Args)]
struct StorageArgs {
    /// WebSocket connections sending as fast as their window allows.
    #[arg(long, default_value_t = 64)]
    ws_senders: usize,
    /// HTTP clients posting back to back.
    #[arg(long, default_value_t = 16)]
    http_senders: usize,
    /// Unacknowledged sends each WebSocket sender keeps in flight.
    #[arg(long, default_value_t = 32)]
    window: usize,
    #[arg(long, default_value_t = 16)]
    rooms: usize,
    #[arg(long, default_value_t = 64)]
    users: usize,
    #[arg(long, default_value_t = 30)]
    duration: u64,
}

/// Counters shared by every connection task of the run (one thread: no atomics).
struct Shared {
    epoch: Instant,
    run_id: u64,
    latency: RefCell<Histogram<u64>>,
    deliveries: Cell<u64>,
    duplicates: Cell<u64>,
    acked: Cell<u64>,
    sent: Cell<u64>,
    errors: Cell<u64>,
    disconnected: Cell<u64>,
    joined: Cell<usize>,
    /// Messages per second per sender; 0 pauses sending.
    rate: Cell<f64>,
    stopping: Cell<bool>,
    /// Acknowledged messages per room, to know how many deliveries to expect.
    acked_per_room: RefCell<Vec<u64>>,
    pings: RefCell<PingWatch>,
}

#[derive(Default)]
struct PingWatch {
    received: u64,
    longest_gap: Duration,
}

impl Shared {
    fn new(rooms: usize) -> Rc<Shared> {
        Rc::new(Shared {
            epoch: Instant::now(),
            run_id: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            latency: RefCell::new(Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")),
            deliveries: Cell::new(0),
            duplicates: Cell::new(0),
            acked: Cell::new(0),
            sent: Cell::new(0),
            errors: Cell::new(0),
            disconnected: Cell::new(0),
            joined: Cell::new(0),
            rate: Cell::new(0.0),
            stopping: Cell::new(false),
            acked_per_room: RefCell::new(vec![0; rooms]),
            pings: RefCell::new(PingWatch::default()),
        })
    }

    fn micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

fn bump(cell: &Cell<u64>, by: u64) {
    cell.set(cell.get() + by);
}

/// What one connection does besides receiving.
#[derive(Clone)]
enum Role {
    Receiver,
    /// Sends at the shared rate.
    Paced {
        sender: usize,
    },
    /// Keeps `window` sends in flight, as fast as acknowledgements come back.
    Windowed {
        sender: usize,
        window: usize,
    },
}

struct Plan {
    room_index: usize,
    room: String,
    role: Role,
    size: usize,
    /// Where in each send period this sender sends (0..1): senders spread evenly over
    /// the period, as independent people would, instead of all at the same instant.
    phase: f64,
}

async fn run_connection(mut conn: WsConn, plan: Plan, shared: Rc<Shared>) {
    let join = format!(r#"{{"type":"join","room":"{}"}}"#, plan.room);
    let mut out = Vec::with_capacity(4096);
    wire::encode(OP_TEXT, join.as_bytes(), &mut out);
    if conn.stream.write_all(&out).await.is_err() {
        bump(&shared.disconnected, 1);
        return;
    }
    let padding = "x".repeat(plan.size.saturating_sub(24));
    // client_ids are unique per run, so that a rerun on the same database stores anew.
    let run = shared.run_id;
    let own_marker = match plan.role {
        Role::Paced { sender } | Role::Windowed { sender, .. } => format!(r#""client_id":"s{run}-{sender}-"#),
        Role::Receiver => String::new(),
    };
    let mut joined = false;
    let mut last_id = 0i64;
    let mut seq = 0u64;
    let mut in_flight = 0usize;
    let mut paced_since: Option<(Instant, f64, u64)> = None;
    let mut last_ping: Option<Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        out.clear();
        tokio::select! {
            read = conn.stream.read_buf(&mut conn.buf) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let now_micros = shared.micros();
                let mut closed = false;
                wire::drain_frames(&mut conn.buf, |opcode, payload| match opcode {
                    OP_TEXT if payload.starts_with(br#"{"type":"message""#) => {
                        let id = wire::number_after(payload, br#""id":"#).unwrap_or(0);
                        if id <= last_id {
                            bump(&shared.duplicates, 1);
                            return;
                        }
                        last_id = id;
                        bump(&shared.deliveries, 1);
                        if let Some(sent_at) = wire::number_after(payload, br#""text":"t"#) {
                            let latency = now_micros.saturating_sub(sent_at as u64).max(1);
                            let _ = shared.latency.borrow_mut().record(latency);
                        }
                        if !own_marker.is_empty() && memchr::memmem::find(payload, own_marker.as_bytes()).is_some() {
                            bump(&shared.acked, 1);
                            shared.acked_per_room.borrow_mut()[plan.room_index] += 1;
                            in_flight = in_flight.saturating_sub(1);
                        }
                    }
                    OP_TEXT if !joined && payload.starts_with(br#"{"type":"joined""#) => {
                        joined = true;
                        shared.joined.set(shared.joined.get() + 1);
                    }
                    OP_TEXT if payload.starts_with(br#"{"type":"error""#) => {
                        if shared.errors.get() < 5 {
                            eprintln!("error frame: {}", String::from_utf8_lossy(payload));
                        }
                        bump(&shared.errors, 1);
                        in_flight = in_flight.saturating_sub(1);
                    }
                    OP_PING => {
                        let now = Instant::now();
                        let mut pings = shared.pings.borrow_mut();
                        pings.received += 1;
                        if let Some(previous) = last_ping {
                            pings.longest_gap = pings.longest_gap.max(now - previous);
                        }
                        last_ping = Some(now);
                        wire::encode(OP_PONG, payload, &mut out);
                    }
                    OP_CLOSE => closed = true,
                    _ => {}
                });
                if closed {
                    break;
                }
            }
            _ = tick.tick(), if !matches!(plan.role, Role::Receiver) && joined => {
                let rate = shared.rate.get();
                let due = match plan.role {
                    Role::Paced { .. } if rate > 0.0 => {
                        // Messages owed at this rate since it was set, minus those sent.
                        let (since, at_rate, sent_before) = match paced_since {
                            Some(p) if p.1 == rate => p,
                            _ => {
                                let p = (Instant::now(), rate, seq);
                                paced_since = Some(p);
                                p
                            }
                        };
                        let owed = (since.elapsed().as_secs_f64() * at_rate + plan.phase) as u64 + sent_before;
                        owed.saturating_sub(seq)
                    }
                    Role::Windowed { window, .. } if rate > 0.0 => window.saturating_sub(in_flight) as u64,
                    _ => 0,
                };
                let sender = match plan.role { Role::Paced { sender } | Role::Windowed { sender, .. } => sender, Role::Receiver => 0 };
                for _ in 0..due.min(1000) {
                    let text = format!(
                        r#"{{"type":"send","room":"{}","text":"t{} {}","client_id":"s{}-{}-{}"}}"#,
                        plan.room, shared.micros(), padding, run, sender, seq
                    );
                    wire::encode(OP_TEXT, text.as_bytes(), &mut out);
                    seq += 1;
                    in_flight += 1;
                }
                bump(&shared.sent, due.min(1000));
            }
        }
        if !out.is_empty() && conn.stream.write_all(&out).await.is_err() {
            break;
        }
    }
    if !shared.stopping.get() {
        bump(&shared.disconnected, 1);
    }
}

/// Opens `count` connections for the plans, a few hundred at a time, and spawns them.
async fn open_all(
    addrs: &[SocketAddr],
    users: &[setup::BenchUser],
    plans: Vec<Plan>,
    shared: &Rc<Shared>,
) -> Result<(), String> {
    let total = plans.len();
    let mut plans = plans.into_iter().enumerate();
    loop {
        let chunk: Vec<(usize, Plan)> = plans.by_ref().take(256).collect();
        if chunk.is_empty() {
            break;
        }
        let connections = futures_util::future::join_all(
            chunk.iter().map(|(i, _)| wire::connect(addrs[i % addrs.len()], &users[i % users.len()].cookie)),
        )
        .await;
        for ((_, plan), conn) in chunk.into_iter().zip(connections) {
            let conn = conn.map_err(|e| format!("cannot open a WebSocket: {e}"))?;
            tokio::task::spawn_local(run_connection(conn, plan, shared.clone()));
        }
    }
    // Wait until every connection has its `joined`.
    let started = Instant::now();
    while shared.joined.get() < total {
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!("only {} of {total} connections joined", shared.joined.get()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn plans_for(shape: &Shape, rooms: &[String], windowed: Option<usize>) -> Vec<Plan> {
    (0..shape.clients)
        .map(|i| {
            let room_index = i % rooms.len();
            // Senders are spread over the rooms too: the first `senders` connections.
            let role = if i < shape.senders {
                match windowed {
                    Some(window) => Role::Windowed { sender: i, window },
                    None => Role::Paced { sender: i },
                }
            } else {
                Role::Receiver
            };
            let phase = if i < shape.senders { i as f64 / shape.senders as f64 } else { 0.0 };
            Plan { room_index, room: rooms[room_index].clone(), role, size: shape.size, phase }
        })
        .collect()
}

impl Cli {
    fn nodes(&self) -> Vec<SocketAddr> {
        std::iter::once(self.addr).chain(self.also.iter().copied()).collect()
    }
}

fn check_loopback(addr: SocketAddr) -> Result<(), String> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!("{addr} is not a loopback address: this tool only loads local servers"))
    }
}

/// One measured stretch at a fixed rate: counters before/after, drained at the end.
async fn measure_step(
    shared: &Rc<Shared>,
    rate: f64,
    seconds: u64,
    label: &str,
    sampler: &mut ProcSampler,
    recipients: &[u64],
) -> StepResult {
    shared.latency.borrow_mut().reset();
    let before = Snapshot::take(shared);
    sampler.start();
    shared.rate.set(rate);
    let started = Instant::now();
    let mut last = before.clone();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = Snapshot::take(shared);
        let p99 = shared.latency.borrow().value_at_quantile(0.99) as f64 / 1000.0;
        eprintln!(
            "[{label} {:>3}s] sent {:>7}/s  delivered {:>9}/s  p99 {:>8.2} ms  errors {}  dropped {}",
            started.elapsed().as_secs(),
            now.sent - last.sent,
            now.deliveries - last.deliveries,
            p99,
            now.errors,
            now.disconnected
        );
        last = now;
    }
    shared.rate.set(0.0);
    let send_window = started.elapsed();
    // Let everything in flight arrive before counting losses.
    let mut previous = u64::MAX;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let delivered = shared.deliveries.get();
        if delivered == previous {
            break;
        }
        previous = delivered;
    }
    let server = sampler.finish();
    let after = Snapshot::take(shared);
    let acked_per_room: Vec<u64> =
        shared.acked_per_room.borrow().iter().zip(&before.acked_per_room).map(|(a, b)| a - b).collect();
    let expected: u64 = acked_per_room.iter().zip(recipients).map(|(acked, n)| acked * n).sum();
    let delivered = after.deliveries - before.deliveries;
    let histogram = shared.latency.borrow();
    StepResult {
        label: label.to_owned(),
        rate_per_sender: rate,
        seconds: send_window.as_secs_f64(),
        sent: after.sent - before.sent,
        acked: after.acked - before.acked,
        delivered,
        expected,
        lost: expected.saturating_sub(delivered),
        duplicates: after.duplicates - before.duplicates,
        errors: after.errors - before.errors,
        dropped_connections: after.disconnected - before.disconnected,
        deliveries_per_sec: delivered as f64 / send_window.as_secs_f64(),
        p50_ms: histogram.value_at_quantile(0.50) as f64 / 1000.0,
        p90_ms: histogram.value_at_quantile(0.90) as f64 / 1000.0,
        p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
        p999_ms: histogram.value_at_quantile(0.999) as f64 / 1000.0,
        max_ms: histogram.max() as f64 / 1000.0,
        server,
    }
}

#[derive(Clone)]
struct Snapshot {
    sent: u64,
    acked: u64,
    deliveries: u64,
    duplicates: u64,
    errors: u64,
    disconnected: u64,
    acked_per_room: Vec<u64>,
}

impl Snapshot {
    fn take(shared: &Shared) -> Snapshot {
        Snapshot {
            sent: shared.sent.get(),
            acked: shared.acked.get(),
            deliveries: shared.deliveries.get(),
            duplicates: shared.duplicates.get(),
            errors: shared.errors.get(),
            disconnected: shared.disconnected.get(),
            acked_per_room: shared.acked_per_room.borrow().clone(),
        }
    }
}

fn recipients_per_room(clients: usize, rooms: usize) -> Vec<u64> {
    (0..rooms).map(|r| ((clients + rooms - 1 - r) / rooms) as u64).collect()
}

async fn prepare(
    addr: SocketAddr,
    users: usize,
    rooms: usize,
    tag: &str,
) -> Result<(Vec<setup::BenchUser>, Vec<String>), String> {
    eprintln!("registering {users} users and {rooms} rooms…");
    let users = setup::register_users(addr, users.max(1), tag).await?;
    let rooms = setup::create_rooms(addr, &users[0], rooms.max(1), &format!("bench-{tag}")).await?;
    Ok((users, rooms))
}

async fn fanout(cli: &Cli, args: &FanoutArgs) -> Result<report::Report, String> {
    let shape = &args.shape;
    let (users, rooms) = prepare(cli.addr, shape.users.min(shape.clients), shape.rooms, "f").await?;
    let shared = Shared::new(rooms.len());
    open_all(&cli.nodes(), &users, plans_for(shape, &rooms, None), &shared).await?;
    let mut sampler = ProcSampler::new(&cli.server_pid);
    let step = measure_step(
        &shared,
        args.rate,
        args.duration.min(600),
        &cli.label,
        &mut sampler,
        &recipients_per_room(shape.clients, rooms.len()),
    )
    .await;
    shared.stopping.set(true);
    Ok(report::Report::steps(&cli.label, "fanout", vec![step]))
}

async fn saturate(cli: &Cli, args: &SaturateArgs) -> Result<report::Report, String> {
    let shape = &args.shape;
    let (users, rooms) = prepare(cli.addr, shape.users.min(shape.clients), shape.rooms, "s").await?;
    let shared = Shared::new(rooms.len());
    open_all(&cli.nodes(), &users, plans_for(shape, &rooms, None), &shared).await?;
    let recipients = recipients_per_room(shape.clients, rooms.len());
    let mut steps = Vec::new();
    let mut rate = args.start_rate;
    for step in 0..args.max_steps {
        let mut sampler = ProcSampler::new(&cli.server_pid);
        let label = format!("{} step {}", cli.label, step + 1);
        let result = measure_step(&shared, rate, args.step_secs, &label, &mut sampler, &recipients).await;
        let failed = result.lost > 0 || result.dropped_connections > 0 || result.p99_ms > args.p99_limit_ms;
        eprintln!(
            "step {}: {:.0} msg/s/sender → {:.0} deliveries/s, p99 {:.2} ms, lost {}{}",
            step + 1,
            rate,
            result.deliveries_per_sec,
            result.p99_ms,
            result.lost,
            if failed { "  (limit reached)" } else { "" }
        );
        steps.push(result);
        if failed || shared.disconnected.get() > 0 {
            break;
        }
        rate *= args.factor;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    shared.stopping.set(true);
    let report = report::Report::steps(&cli.label, "saturate", steps);
    if let Some(path) = &args.plot {
        report::plot_saturation(&report, path, args.p99_limit_ms)?;
        eprintln!("plot written to {}", path.display());
    }
    Ok(report)
}

async fn idle(cli: &Cli, args: &IdleArgs) -> Result<report::Report, String> {
    let connections = args.connections.min(30_000);
    let (users, rooms) = prepare(cli.addr, args.users.min(connections), args.rooms, "i").await?;
    let mut sampler = ProcSampler::new(&cli.server_pid);
    let rss_before = sampler.rss_kib();
    let shape = Shape { clients: connections, rooms: rooms.len(), senders: 0, users: users.len(), size: 0 };
    let shared = Shared::new(rooms.len());
    let opened = Instant::now();
    open_all(&cli.nodes(), &users, plans_for(&shape, &rooms, None), &shared).await?;
    eprintln!("{connections} connections joined in {:.1} s", opened.elapsed().as_secs_f64());
    sampler.start();
    let hold = Duration::from_secs(args.hold.min(600));
    let started = Instant::now();
    while started.elapsed() < hold {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let pings = shared.pings.borrow();
        eprintln!(
            "[{:>3}s] open {}  pings {}  longest gap between pings {:.1} s  server rss {} KiB",
            started.elapsed().as_secs(),
            connections as u64 - shared.disconnected.get(),
            pings.received,
            pings.longest_gap.as_secs_f64(),
            sampler.rss_kib().unwrap_or(0)
        );
    }
    let server = sampler.finish();
    let rss_after = sampler.rss_kib();
    shared.stopping.set(true);
    let pings = shared.pings.borrow();
    Ok(report::Report::idle(
        &cli.label,
        report::IdleResult {
            connections,
            held: connections as u64 - shared.disconnected.get(),
            rss_before_kib: rss_before,
            rss_after_kib: rss_after,
            per_connection_kib: match (rss_before, rss_after) {
                (Some(b), Some(a)) => Some((a.saturating_sub(b)) as f64 / connections as f64),
                _ => None,
            },
            pings: pings.received,
            longest_ping_gap_secs: pings.longest_gap.as_secs_f64(),
            server,
        },
    ))
}

async fn storage(cli: &Cli, args: &StorageArgs) -> Result<report::Report, String> {
    let (users, rooms) = prepare(cli.addr, args.users, args.rooms, "w").await?;
    let shape =
        Shape { clients: args.ws_senders, rooms: rooms.len(), senders: args.ws_senders, users: users.len(), size: 100 };
    let shared = Shared::new(rooms.len());
    open_all(&cli.nodes(), &users, plans_for(&shape, &rooms, Some(args.window)), &shared).await?;
    // HTTP senders post back to back on keep-alive connections.
    let http_acked = Rc::new(Cell::new(0u64));
    let http_go = Rc::new(Cell::new(false));
    for i in 0..args.http_senders {
        let (acked, go, shared) = (http_acked.clone(), http_go.clone(), shared.clone());
        let user = users[i % users.len()].clone();
        let url = format!("http://{}/api/rooms/{}/messages", cli.addr, rooms[i % rooms.len()]);
        tokio::task::spawn_local(async move {
            let http = reqwest::Client::new();
            let mut seq = 0u64;
            while !shared.stopping.get() {
                if !go.get() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let client_id = format!("h{}-{i}-{seq}", shared.run_id);
                let body = serde_json::json!({"text": format!("t{} http", shared.micros()), "client_id": client_id});
                seq += 1;
                match http.post(&url).header("Cookie", &user.cookie).json(&body).send().await {
                    Ok(r) if r.status().is_success() => bump(&acked, 1),
                    _ => bump(&shared.errors, 1),
                }
            }
        });
    }
    let mut sampler = ProcSampler::new(&cli.server_pid);
    sampler.start();
    let ws_before = shared.acked.get();
    http_go.set(true);
    shared.rate.set(1.0);
    let started = Instant::now();
    let duration = Duration::from_secs(args.duration.min(600));
    let (mut last_ws, mut last_http) = (ws_before, 0);
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (ws, http) = (shared.acked.get(), http_acked.get());
        eprintln!(
            "[{} {:>3}s] acknowledged {:>6}/s over WebSocket, {:>5}/s over HTTP  errors {}",
            cli.label,
            started.elapsed().as_secs(),
            ws - last_ws,
            http - last_http,
            shared.errors.get()
        );
        (last_ws, last_http) = (ws, http);
    }
    shared.rate.set(0.0);
    http_go.set(false);
    let seconds = started.elapsed().as_secs_f64();
    let server = sampler.finish();
    let ws_acked = shared.acked.get() - ws_before;
    let http = http_acked.get();
    shared.stopping.set(true);
    Ok(report::Report::storage(
        &cli.label,
        report::StorageResult {
            ws_senders: args.ws_senders,
            http_senders: args.http_senders,
            seconds,
            ws_acked,
            http_acked: http,
            acked_per_sec: (ws_acked + http) as f64 / seconds,
            errors: shared.errors.get(),
            server,
        },
    ))
}

/// Only a database on this machine: sqlite, or MySQL at 127.0.0.1 / localhost.
fn check_database_url(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite://") {
        return Ok(());
    }
    let rest = url.strip_prefix("mysql://").ok_or("the database URL must be sqlite:// or mysql://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(())
    } else {
        Err(format!("{host} is not a loopback address: this tool only seeds local databases"))
    }
}

fn seed_year_command(args: &year_seed::SeedYearArgs) -> Result<(), String> {
    check_database_url(&args.database_url)?;
    if args.messages == 0 || args.messages > 10_000_000 || args.rooms == 0 || args.users > 10_000_000 {
        return Err("--messages must be 1 to 10,000,000, --rooms at least 1, --users at most 10,000,000".into());
    }
    let plan = year_seed::seed(args)?;
    eprintln!("{} rooms to probe, the storm joins {}", plan.probe_rooms.len(), plan.storm_room);
    std::fs::write(&args.plan, serde_json::to_string_pretty(&plan).expect("plans serialize"))
        .map_err(|e| format!("cannot write {}: {e}", args.plan.display()))
}

fn seed_command(args: &SeedArgs) -> Result<(), String> {
    check_database_url(&args.database_url)?;
    if args.messages == 0 || args.messages > 10_000_000 || args.rooms == 0 || args.users == 0 {
        return Err("--messages must be 1 to 10,000,000, --rooms and --users at least 1".into());
    }
    let plan = seed::seed(&seed::SeedArgs {
        database_url: &args.database_url,
        messages: args.messages,
        rooms: args.rooms,
        private_rooms: args.private_rooms.min(args.rooms - 1),
        users: args.users,
        seed: args.seed,
        index: !args.no_index,
    })?;
    for class in &plan.classes {
        let queries: Vec<String> = class
            .queries
            .iter()
            .map(|q| format!("{:?} ({} / {} / {})", q.q, q.matches, q.matches_readable, q.matches_in_room))
            .collect();
        eprintln!("{}: {}", class.class, queries.join(", "));
    }
    std::fs::write(&args.plan, serde_json::to_string_pretty(&plan).expect("plans serialize"))
        .map_err(|e| format!("cannot write {}: {e}", args.plan.display()))
}

async fn search_command(cli: &Cli, args: &SearchArgs) -> Result<report::Report, String> {
    let plan: seed::QueryPlan = serde_json::from_slice(
        &std::fs::read(&args.plan).map_err(|e| format!("cannot read {}: {e}", args.plan.display()))?,
    )
    .map_err(|e| format!("{} is not a plan: {e}", args.plan.display()))?;
    eprintln!("registering {} searchers…", args.users);
    let users = setup::register_users(cli.addr, args.users.clamp(1, 500), "q").await?;
    let params = search::Params {
        requests: args.requests.min(10_000),
        warmup: args.warmup.min(100),
        shape_secs: args.shape_secs.min(120),
        clients: args.clients.min(64),
        concurrent_secs: args.concurrent_secs.min(300),
        limit: args.limit.max(1),
    };
    let report = search::run(cli.addr, &cli.server_pid, users, plan, &params).await?;
    Ok(report::Report::search(&cli.label, report))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(e) = cli.nodes().into_iter().try_for_each(check_loopback) {
        eprintln!("chatroom-bench: {e}");
        return std::process::ExitCode::FAILURE;
    }
    // Seeding talks to the database alone, blocking (before any runtime exists).
    let seeding = match &cli.scenario {
        Scenario::Seed(args) => Some(seed_command(args)),
        Scenario::SeedYear(args) => Some(seed_year_command(args)),
        _ => None,
    };
    if let Some(outcome) = seeding {
        return match outcome {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chatroom-bench: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let outcome = local.block_on(&runtime, async {
        match &cli.scenario {
            Scenario::Fanout(args) => fanout(&cli, args).await,
            Scenario::Saturate(args) => saturate(&cli, args).await,
            Scenario::Idle(args) => idle(&cli, args).await,
            Scenario::Storage(args) => storage(&cli, args).await,
            Scenario::Search(args) => search_command(&cli, args).await,
            Scenario::Year(args) => {
                year::run(cli.addr, &cli.server_pid, args).await.map(|r| report::Report::year(&cli.label, r))
            }
            Scenario::Seed(_) | Scenario::SeedYear(_) => unreachable!("seeding ran before the runtime"),
        }
    });
    match outcome {
        Ok(report) => {
            println!("{}", report.table());
            if let Some(path) = &cli.json {
                if let Err(e) = report.write_json(path) {
                    eprintln!("chatroom-bench: cannot write {}: {e}", path.display());
                    return std::process::ExitCode::FAILURE;
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chatroom-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
