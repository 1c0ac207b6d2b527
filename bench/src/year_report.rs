//! S8's results: latency per probe (with its checks), the join storm, and their table.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::report::ServerUsage;

/// The target: every probe's p95 under this.
pub const TARGET_P95_MS: f64 = 20.0;

/// Latencies and outcomes of one kind of request.
pub struct Probe {
    what: String,
    histogram: Histogram<u64>,
    errors: u64,
    wrong: u64,
    first_error: Option<String>,
}

/// An answer that came but is not what the seeded history says it should be.
pub enum Failure {
    Wrong(String),
    Error(String),
}

impl Probe {
    pub fn new(what: &str) -> Probe {
        Probe {
            what: what.to_owned(),
            histogram: Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds"),
            errors: 0,
            wrong: 0,
            first_error: None,
        }
    }

    /// Counts one request; only answers that came count in the latencies.
    pub fn record(&mut self, took: Duration, outcome: Result<(), Failure>) {
        match outcome {
            Ok(()) => {}
            Err(Failure::Wrong(why)) => {
                self.wrong += 1;
                self.first_error.get_or_insert(why);
            }
            Err(Failure::Error(why)) => {
                self.errors += 1;
                self.first_error.get_or_insert(why);
                return;
            }
        }
        let _ = self.histogram.record((took.as_micros() as u64).max(1));
    }

    pub fn row(&self) -> LatencyRow {
        let ms =
            |q: f64| if self.histogram.is_empty() { 0.0 } else { self.histogram.value_at_quantile(q) as f64 / 1000.0 };
        LatencyRow {
            what: self.what.clone(),
            n: self.histogram.len(),
            errors: self.errors,
            wrong: self.wrong,
            first_error: self.first_error.clone(),
            p50_ms: ms(0.50),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            max_ms: self.histogram.max() as f64 / 1000.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyRow {
    pub what: String,
    /// Answers timed (errors are not).
    pub n: u64,
    pub errors: u64,
    /// Answers whose status was fine but whose content was not the seeded history's.
    pub wrong: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StormResult {
    pub users: usize,
    pub room: String,
    /// Connections that got their `joined`.
    pub joined: usize,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// Over how long the connections were opened.
    pub launch_secs: f64,
    /// From the first connection opened to the last `joined`.
    pub storm_secs: f64,
    /// Each connection: from opening the socket to its `joined`.
    pub join: LatencyRow,
    /// `/healthz` polled every `healthz_interval_ms` through the storm.
    pub healthz: LatencyRow,
    pub healthz_interval_ms: u64,
    pub server: ServerUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct YearReport {
    pub messages: usize,
    pub rooms: usize,
    pub users: usize,
    pub rooms_per_measurer: usize,
    pub seed_seconds: f64,
    pub database_bytes: Option<u64>,
    pub probes: Vec<LatencyRow>,
    pub probes_server: ServerUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storm: Option<StormResult>,
}

fn row_line(r: &LatencyRow, target: bool) -> String {
    let met = if !target {
        "".to_owned()
    } else if r.p95_ms < TARGET_P95_MS && r.errors == 0 && r.wrong == 0 {
        "yes".to_owned()
    } else {
        "**no**".to_owned()
    };
    format!(
        "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} / {} | {met} |\n",
        r.what, r.n, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms, r.wrong, r.errors
    )
}

impl YearReport {
    pub fn table(&self, label: &str) -> String {
        let mut out = format!(
            "{label}: {} messages in {} rooms, {} users; the measuring users are in {} rooms each\n\n",
            self.messages, self.rooms, self.users, self.rooms_per_measurer
        );
        out.push_str(&format!(
            "| probe | n | p50 ms | p95 ms | p99 ms | max ms | wrong / errors | p95 < {TARGET_P95_MS} ms |\n"
        ));
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for r in &self.probes {
            out.push_str(&row_line(r, true));
        }
        if let Some(s) = &self.storm {
            out.push_str(&row_line(&s.join, false));
            out.push_str(&row_line(&s.healthz, true));
            out.push_str(&format!(
                "\njoin storm in `{}`: {} of {} joined ({} errors), opened over {:.2} s, all joined {:.2} s after \
                 the first; server CPU {} %\n",
                s.room,
                s.joined,
                s.users,
                s.errors,
                s.launch_secs,
                s.storm_secs,
                s.server.cpu_percent.map_or("-".into(), |c| format!("{c:.0}"))
            ));
        }
        let errors: Vec<&String> = self
            .probes
            .iter()
            .chain(self.storm.iter().flat_map(|s| [&s.join, &s.healthz]))
            .filter_map(|r| r.first_error.as_ref())
            .chain(self.storm.iter().filter_map(|s| s.first_error.as_ref()))
            .collect();
        for e in errors {
            out.push_str(&format!("\nfirst problem: {e}"));
        }
        out
    }
}
