//! S7: latency of `GET /api/search` over a seeded history (see `seed`), query class by
//! query class, over every readable room and within one room, from one client and then
//! from a few at once. Every answer is checked against the corpus: the number of
//! messages returned and `has_more` must be what the seed counted.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::report::{ProcSampler, SearchConcurrent, SearchReport, SearchShape};
use crate::seed::QueryPlan;
use crate::setup::BenchUser;

/// The server allows a user ten searches a second (twenty at once): the load is spread
/// over the searchers, each used at most once per this interval.
const PER_USER_INTERVAL: Duration = Duration::from_millis(105);

pub struct Params {
    pub requests: usize,
    pub warmup: usize,
    pub shape_secs: u64,
    pub clients: usize,
    pub concurrent_secs: u64,
    pub limit: usize,
}

struct Shape {
    class: String,
    /// `None`: every room the searcher may read.
    room: Option<String>,
    queries: Vec<(String, u64)>,
}

/// Hands out searchers round robin, waiting when the next one searched too recently.
struct Pacer {
    users: Vec<(BenchUser, Instant)>,
    next: usize,
}

impl Pacer {
    async fn user(this: &RefCell<Pacer>) -> String {
        let (cookie, ready) = {
            let mut p = this.borrow_mut();
            let i = p.next;
            p.next = (i + 1) % p.users.len();
            let now = Instant::now();
            let ready = p.users[i].1.max(now);
            p.users[i].1 = ready + PER_USER_INTERVAL;
            (p.users[i].0.cookie.clone(), ready)
        };
        let wait = ready.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        cookie
    }
}

enum Outcome {
    Ok,
    Wrong(String),
    Failed(String),
}

/// One search, timed from the request to the last byte of the answer.
async fn one(
    http: &reqwest::Client,
    addr: SocketAddr,
    cookie: &str,
    q: &str,
    room: Option<&str>,
    limit: usize,
    expected: u64,
) -> (Duration, Outcome) {
    let mut query: Vec<(&str, String)> = vec![("q", q.to_owned()), ("limit", limit.to_string())];
    if let Some(room) = room {
        query.push(("room", room.to_owned()));
    }
    let started = Instant::now();
    let response = http.get(format!("http://{addr}/api/search")).query(&query).header("Cookie", cookie).send().await;
    let body = match response {
        Ok(r) if r.status().is_success() => r.bytes().await,
        Ok(r) => return (started.elapsed(), Outcome::Failed(format!("HTTP {}", r.status()))),
        Err(e) => return (started.elapsed(), Outcome::Failed(e.to_string())),
    };
    let elapsed = started.elapsed();
    let body = match body {
        Ok(b) => b,
        Err(e) => return (elapsed, Outcome::Failed(e.to_string())),
    };
    let outcome = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) => {
            let returned = v["messages"].as_array().map_or(0, Vec::len) as u64;
            let has_more = v["has_more"].as_bool().unwrap_or(false);
            let want = expected.min(limit as u64);
            if returned == want && has_more == (expected > limit as u64) {
                Outcome::Ok
            } else {
                Outcome::Wrong(format!(
                    "{q:?} {room:?}: {returned} messages, has_more {has_more}; the corpus has {expected}"
                ))
            }
        }
        Err(e) => Outcome::Failed(format!("not JSON: {e}")),
    };
    (elapsed, outcome)
}

/// The latencies and outcomes of one shape.
type PerShape = (Histogram<u64>, Tally);

#[derive(Default)]
struct Tally {
    requests: u64,
    errors: u64,
    wrong: u64,
    first_error: Option<String>,
}

impl Tally {
    fn count(&mut self, outcome: Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Ok => {}
            Outcome::Wrong(why) => {
                self.wrong += 1;
                self.first_error.get_or_insert(why);
            }
            Outcome::Failed(why) => {
                self.errors += 1;
                self.first_error.get_or_insert(why);
            }
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds")
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

fn shape_result(shape: &Shape, h: &Histogram<u64>, tally: &Tally, first_ms: Option<f64>) -> SearchShape {
    SearchShape {
        class: shape.class.clone(),
        scope: shape.room.as_ref().map_or_else(|| "all rooms".to_owned(), |r| format!("room={r}")),
        queries: shape.queries.iter().map(|(q, _)| q.clone()).collect(),
        matches_in_scope: shape.queries.iter().map(|(_, n)| *n).collect(),
        requests: h.len(),
        errors: tally.errors,
        wrong_results: tally.wrong,
        first_error: tally.first_error.clone(),
        first_ms,
        mean_ms: if h.is_empty() { 0.0 } else { h.mean() / 1000.0 },
        p50_ms: ms(h, 0.50),
        p95_ms: ms(h, 0.95),
        p99_ms: ms(h, 0.99),
        max_ms: if h.is_empty() { 0.0 } else { h.max() as f64 / 1000.0 },
    }
}

fn shapes_of(plan: &QueryPlan) -> Vec<Shape> {
    let mut shapes = Vec::new();
    for class in &plan.classes {
        for room in [None, Some(plan.scoped_room.clone())] {
            let queries = class
                .queries
                .iter()
                .map(|q| (q.q.clone(), if room.is_some() { q.matches_in_room } else { q.matches_readable }))
                .collect();
            shapes.push(Shape { class: class.class.clone(), room, queries });
        }
    }
    shapes
}

pub async fn run(
    addr: SocketAddr,
    server_pid: &[u32],
    users: Vec<BenchUser>,
    plan: QueryPlan,
    params: &Params,
) -> Result<SearchReport, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| e.to_string())?;
    let pacer =
        Rc::new(RefCell::new(Pacer { users: users.into_iter().map(|u| (u, Instant::now())).collect(), next: 0 }));
    let shapes = shapes_of(&plan);

    // One client, shape after shape: a few unmeasured requests first (the first one's
    // time is kept: pages not yet in the cache), then `requests` or `shape_secs`.
    let mut sampler = ProcSampler::new(server_pid);
    sampler.start();
    let mut sequential = Vec::new();
    for shape in &shapes {
        let mut h = histogram();
        let mut tally = Tally::default();
        let mut first_ms = None;
        let started = Instant::now();
        let bound = Duration::from_secs(params.shape_secs);
        for i in 0..params.warmup + params.requests {
            if started.elapsed() > bound {
                break;
            }
            let (q, expected) = &shape.queries[i % shape.queries.len()];
            let cookie = Pacer::user(&pacer).await;
            let (took, outcome) = one(&http, addr, &cookie, q, shape.room.as_deref(), params.limit, *expected).await;
            if i == 0 {
                first_ms = Some(took.as_secs_f64() * 1000.0);
            }
            if i < params.warmup {
                continue;
            }
            h.record((took.as_micros() as u64).max(1)).ok();
            tally.count(outcome);
        }
        let result = shape_result(shape, &h, &tally, first_ms);
        eprintln!(
            "{:<26} {:<18} n {:>4}  p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  errors {} wrong {}",
            result.class,
            result.scope,
            result.requests,
            result.p50_ms,
            result.p95_ms,
            result.p99_ms,
            result.max_ms,
            result.errors,
            result.wrong_results
        );
        if let Some(e) = &result.first_error {
            eprintln!("  first problem: {e}");
        }
        sequential.push(result);
    }
    let sequential_server = sampler.finish();

    // A few clients at once, each going round every shape, for `concurrent_secs`.
    let concurrent = if params.clients > 0 && params.concurrent_secs > 0 {
        let hs: Rc<RefCell<Vec<PerShape>>> =
            Rc::new(RefCell::new(shapes.iter().map(|_| (histogram(), Tally::default())).collect()));
        let shapes = Rc::new(shapes);
        let deadline = Instant::now() + Duration::from_secs(params.concurrent_secs);
        let mut sampler = ProcSampler::new(server_pid);
        sampler.start();
        let started = Instant::now();
        let tasks: Vec<_> = (0..params.clients)
            .map(|c| {
                let (http, pacer, shapes, hs) = (http.clone(), pacer.clone(), shapes.clone(), hs.clone());
                let limit = params.limit;
                tokio::task::spawn_local(async move {
                    let mut i = c;
                    while Instant::now() < deadline {
                        let shape = &shapes[i % shapes.len()];
                        let (q, expected) = &shape.queries[(i / shapes.len()) % shape.queries.len()];
                        let cookie = Pacer::user(&pacer).await;
                        let (took, outcome) =
                            one(&http, addr, &cookie, q, shape.room.as_deref(), limit, *expected).await;
                        let mut hs = hs.borrow_mut();
                        let (h, tally) = &mut hs[i % shapes.len()];
                        h.record((took.as_micros() as u64).max(1)).ok();
                        tally.count(outcome);
                        i += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.map_err(|e| e.to_string())?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let server = sampler.finish();
        let hs = hs.borrow();
        let mut all = histogram();
        let (mut errors, mut wrong) = (0, 0);
        let per_shape: Vec<SearchShape> = shapes
            .iter()
            .zip(hs.iter())
            .map(|(shape, (h, tally))| {
                all.add(h).ok();
                errors += tally.errors;
                wrong += tally.wrong;
                shape_result(shape, h, tally, None)
            })
            .collect();
        let result = SearchConcurrent {
            clients: params.clients,
            seconds,
            requests: all.len(),
            per_sec: all.len() as f64 / seconds,
            errors,
            wrong_results: wrong,
            p50_ms: ms(&all, 0.50),
            p95_ms: ms(&all, 0.95),
            p99_ms: ms(&all, 0.99),
            max_ms: ms(&all, 1.0),
            shapes: per_shape,
            server,
        };
        eprintln!(
            "{} clients: {} searches in {:.0} s ({:.0}/s), p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms, errors {} wrong {}",
            result.clients,
            result.requests,
            seconds,
            result.per_sec,
            result.p50_ms,
            result.p95_ms,
            result.p99_ms,
            errors,
            wrong
        );
        Some(result)
    } else {
        None
    };
    Ok(SearchReport { plan, limit: params.limit, sequential, sequential_server, concurrent })
}
