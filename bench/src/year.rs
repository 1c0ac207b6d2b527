//! S8, "a year of use": against a server on the history `seed-year` wrote, through HTTP
//! and WebSocket only, as a client would: the room list of a user in 200 rooms, history
//! pages (the latest, and one deep in the past), a `join` 100 messages behind, the
//! directory search, then a join storm while `/healthz` is polled. Every answer is
//! checked against what the seeder wrote.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::report::ProcSampler;
use crate::setup::{self, BenchUser};
use crate::wire::{self, WsConn};
use crate::year_report::{Failure, Probe, YearReport};
use crate::year_seed::YearPlan;

#[derive(clap::Args)]
pub struct YearArgs {
    /// The plan `seed-year` wrote.
    #[arg(long)]
    pub plan: std::path::PathBuf,
    /// Measured requests per probe.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Unmeasured requests first, per probe.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Users in the join storm (at most the plan's storm users; 0: no storm).
    #[arg(long, default_value_t = 1000)]
    pub storm: usize,
    /// The storm's connections are opened over this many milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub storm_spread_ms: u64,
    /// `/healthz` is asked this often during the storm.
    #[arg(long, default_value_t = 10)]
    pub healthz_interval_ms: u64,
}

/// How long one answer may take before it counts as an error (the run stays bounded).
const ANSWER_DEADLINE: Duration = Duration::from_secs(10);

pub async fn run(addr: SocketAddr, pids: &[u32], args: &YearArgs) -> Result<YearReport, String> {
    let plan: YearPlan = serde_json::from_slice(
        &std::fs::read(&args.plan).map_err(|e| format!("cannot read {}: {e}", args.plan.display()))?,
    )
    .map_err(|e| format!("{} is not a plan: {e}", args.plan.display()))?;
    if plan.probe_rooms.is_empty() {
        return Err("the plan has no room with 200 messages or more to probe: seed more messages".into());
    }
    eprintln!("logging in {} measuring users…", plan.measurer_phones.len());
    let measurers = setup::log_in_all(addr, &plan.measurer_phones, &plan.password, 4).await?;
    let http = reqwest::Client::builder().timeout(ANSWER_DEADLINE).build().map_err(|e| e.to_string())?;
    let total = args.warmup.min(100) + args.requests.clamp(1, 10_000);
    let warmup = args.warmup.min(100);
    let mut sampler = ProcSampler::new(pids);
    sampler.start();
    let mut probes = Vec::new();

    let mut probe = Probe::new(&format!("`GET /api/rooms`, a user in {} rooms", plan.rooms_per_measurer));
    for i in 0..total {
        let user = &measurers[i % measurers.len()];
        let (took, outcome) = get_json(&http, addr, "/api/rooms", &[], user).await;
        let outcome = outcome.and_then(|v| check_room_list(&v, &plan));
        if i >= warmup {
            probe.record(took, outcome);
        }
    }
    probes.push(probe.row());

    let mut latest = Probe::new("history page, latest (`GET /api/rooms/{name}/messages`)");
    let mut deep = Probe::new("history page deep in the past (`?before=`)");
    for i in 0..total {
        let user = &measurers[0];
        let room = &plan.probe_rooms[i % plan.probe_rooms.len()];
        let path = format!("/api/rooms/{}/messages", room.name);
        let (took, outcome) = get_json(&http, addr, &path, &[], user).await;
        let outcome = outcome.and_then(|v| check_page(&v, 50, room.messages > 50));
        if i >= warmup {
            latest.record(took, outcome);
        }
        let before = [("before", room.deep_before.to_string())];
        let (took, outcome) = get_json(&http, addr, &path, &before, user).await;
        let outcome = outcome.and_then(|v| check_page(&v, room.older_than_deep.min(50), room.older_than_deep > 50));
        if i >= warmup {
            deep.record(took, outcome);
        }
    }
    probes.push(latest.row());
    probes.push(deep.row());

    probes.push(join_behind(addr, &measurers[0], &plan, total, warmup).await?.row());

    let mut directory = Probe::new("directory search (`GET /api/directory?q=`)");
    for i in 0..total {
        let query = &plan.directory[i % plan.directory.len()];
        let q: Vec<(&str, String)> = if query.q.is_empty() { vec![] } else { vec![("q", query.q.clone())] };
        let (took, outcome) = get_json(&http, addr, "/api/directory", &q, &measurers[i % measurers.len()]).await;
        let outcome = outcome.and_then(|v| check_directory(&v, &query.q, query.matches));
        if i >= warmup {
            directory.record(took, outcome);
        }
    }
    probes.push(directory.row());
    let probes_server = sampler.finish();

    let storm = if args.storm > 0 { Some(crate::year_storm::run(addr, pids, &plan, args).await?) } else { None };
    Ok(YearReport {
        messages: plan.messages,
        rooms: plan.rooms,
        users: plan.users,
        rooms_per_measurer: plan.rooms_per_measurer,
        seed_seconds: plan.seed_seconds,
        database_bytes: plan.database_bytes,
        probes,
        probes_server,
        storm,
    })
}

/// One GET, timed from the request to the last byte of the answer, then parsed.
async fn get_json(
    http: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    query: &[(&str, String)],
    user: &BenchUser,
) -> (Duration, Result<Value, Failure>) {
    let started = Instant::now();
    let response = http.get(format!("http://{addr}{path}")).query(query).header("Cookie", &user.cookie).send().await;
    let body = match response {
        Ok(r) if r.status() == reqwest::StatusCode::OK => r.bytes().await,
        Ok(r) => return (started.elapsed(), Err(Failure::Error(format!("{path}: HTTP {}", r.status())))),
        Err(e) => return (started.elapsed(), Err(Failure::Error(format!("{path}: {e}")))),
    };
    let took = started.elapsed();
    let parsed = body
        .map_err(|e| Failure::Error(format!("{path}: {e}")))
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| Failure::Error(format!("{path}: not JSON: {e}"))));
    (took, parsed)
}

fn wrong(why: String) -> Result<(), Failure> {
    Err(Failure::Wrong(why))
}

/// Every public room, the user's own with a role, and unread counts where the seeder
/// left the read markers behind (some of them capped).
fn check_room_list(v: &Value, plan: &YearPlan) -> Result<(), Failure> {
    let Some(rooms) = v["rooms"].as_array() else { return wrong("no rooms array".into()) };
    let member_of = rooms.iter().filter(|r| !r["role"].is_null()).count();
    let unread = rooms.iter().filter(|r| r["unread"].as_i64().unwrap_or(0) > 0).count();
    if rooms.len() != plan.public_rooms || member_of != plan.rooms_per_measurer || unread == 0 {
        return wrong(format!(
            "room list: {} rooms, {member_of} with a role, {unread} unread; the seed has {} and {}",
            rooms.len(),
            plan.public_rooms,
            plan.rooms_per_measurer
        ));
    }
    Ok(())
}

fn check_page(v: &Value, want: usize, has_more: bool) -> Result<(), Failure> {
    let got = v["messages"].as_array().map_or(0, Vec::len);
    let more = v["has_more"].as_bool();
    if got != want || more != Some(has_more) {
        return wrong(format!("history: {got} messages, has_more {more:?}; the seed has {want}, {has_more}"));
    }
    Ok(())
}

fn check_directory(v: &Value, q: &str, matches: usize) -> Result<(), Failure> {
    let got = v["rooms"].as_array().map_or(0, Vec::len);
    let next = !v["next"].is_null();
    if got != matches.min(50) || next != (matches > 50) {
        return wrong(format!("directory {q:?}: {got} rooms, next {next}; the seed has {matches}"));
    }
    Ok(())
}

/// `join` with `since` 100 messages behind, on one socket, room after room (with a
/// `leave` between): from sending the join to having the whole `joined` frame, which
/// carries the missed messages.
async fn join_behind(
    addr: SocketAddr,
    user: &BenchUser,
    plan: &YearPlan,
    total: usize,
    warmup: usize,
) -> Result<Probe, String> {
    let mut probe = Probe::new("`join` with `since` 100 behind, to its `joined`");
    let mut conn = wire::connect(addr, &user.cookie).await.map_err(|e| format!("cannot open a WebSocket: {e}"))?;
    for i in 0..total {
        let room = &plan.probe_rooms[i % plan.probe_rooms.len()];
        let join = format!(r#"{{"type":"join","room":"{}","since":{}}}"#, room.name, room.since_100_behind);
        let started = Instant::now();
        let answer = tokio::time::timeout(ANSWER_DEADLINE, send_and_await_joined(&mut conn, &join, &room.name)).await;
        let took = started.elapsed();
        let outcome = match answer {
            Err(_) => Err(Failure::Error(format!("no joined for {} within {ANSWER_DEADLINE:?}", room.name))),
            Ok(Err(e)) => return Err(format!("the WebSocket failed: {e}")),
            Ok(Ok(frame)) => check_joined(&frame, &room.name),
        };
        if i >= warmup {
            probe.record(took, outcome);
        }
        let leave = format!(r#"{{"type":"leave","room":"{}"}}"#, room.name);
        let mut out = Vec::new();
        wire::encode(wire::OP_TEXT, leave.as_bytes(), &mut out);
        send(&mut conn, &out).await?;
    }
    Ok(probe)
}

async fn send(conn: &mut WsConn, bytes: &[u8]) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    conn.stream.write_all(bytes).await.map_err(|e| e.to_string())
}

/// Sends a text frame, then reads until the `joined` (or an `error`) about `room`,
/// answering pings meanwhile. Returns that frame.
pub async fn send_and_await_joined(conn: &mut WsConn, text: &str, room: &str) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    wire::encode(wire::OP_TEXT, text.as_bytes(), &mut out);
    send(conn, &out).await?;
    let room_field = format!(r#""room":{}"#, serde_json::to_string(room).expect("strings serialize"));
    loop {
        let mut found = None;
        let mut pongs = Vec::new();
        let mut closed = false;
        wire::drain_frames(&mut conn.buf, |opcode, payload| match opcode {
            wire::OP_TEXT
                if found.is_none()
                    && (payload.starts_with(br#"{"type":"joined""#) || payload.starts_with(br#"{"type":"error""#))
                    && memchr::memmem::find(payload, room_field.as_bytes()).is_some() =>
            {
                found = Some(payload.to_vec());
            }
            wire::OP_PING => wire::encode(wire::OP_PONG, payload, &mut pongs),
            wire::OP_CLOSE => closed = true,
            _ => {}
        });
        if !pongs.is_empty() {
            send(conn, &pongs).await?;
        }
        if let Some(frame) = found {
            return Ok(frame);
        }
        if closed {
            return Err("the server closed the socket".into());
        }
        if conn.stream.read_buf(&mut conn.buf).await.map_err(|e| e.to_string())? == 0 {
            return Err("the server closed the socket".into());
        }
    }
}

fn check_joined(frame: &[u8], room: &str) -> Result<(), Failure> {
    let v: Value = serde_json::from_slice(frame).map_err(|e| Failure::Error(format!("joined is not JSON: {e}")))?;
    if v["type"] != "joined" {
        return Err(Failure::Error(format!("join {room}: {}", String::from_utf8_lossy(frame))));
    }
    let messages = v["messages"].as_array().map_or(0, Vec::len);
    let updates = v["updates"].as_array().map_or(usize::MAX, Vec::len);
    if messages != 100 || updates != 0 || v["limited"].as_bool() == Some(true) {
        return wrong(format!("join {room}: {messages} messages, {updates} updates; 100 were missed"));
    }
    Ok(())
}
