//! Results: the server's CPU and memory from /proc, tables, JSON and the S3 plot.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

/// Samples the server processes' CPU time and resident memory from /proc (summed).
pub struct ProcSampler {
    pids: Vec<u32>,
    started: Option<(Instant, u64)>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ServerUsage {
    /// CPU used over the window, in percent of one core.
    pub cpu_percent: Option<f64>,
    pub rss_kib: Option<u64>,
}

impl ProcSampler {
    pub fn new(pids: &[u32]) -> Self {
        ProcSampler { pids: pids.to_vec(), started: None }
    }

    /// utime + stime in clock ticks (fields 14 and 15 of /proc/pid/stat).
    fn cpu_ticks_of(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces: count fields after its closing bracket.
        let after = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    }

    fn cpu_ticks(&self) -> Option<u64> {
        if self.pids.is_empty() {
            return None;
        }
        self.pids.iter().map(|pid| Self::cpu_ticks_of(*pid)).sum()
    }

    fn rss_kib_of(pid: u32) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
    }

    pub fn rss_kib(&self) -> Option<u64> {
        if self.pids.is_empty() {
            return None;
        }
        self.pids.iter().map(|pid| Self::rss_kib_of(*pid)).sum()
    }

    pub fn start(&mut self) {
        self.started = self.cpu_ticks().map(|t| (Instant::now(), t));
    }

    pub fn finish(&mut self) -> ServerUsage {
        let ticks_per_sec = 100.0; // USER_HZ on Linux
        let cpu_percent = match (self.started.take(), self.cpu_ticks()) {
            (Some((at, before)), Some(now)) => {
                Some((now - before) as f64 / ticks_per_sec / at.elapsed().as_secs_f64() * 100.0)
            }
            _ => None,
        };
        ServerUsage { cpu_percent, rss_kib: self.rss_kib() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub label: String,
    pub rate_per_sender: f64,
    pub seconds: f64,
    pub sent: u64,
    pub acked: u64,
    pub delivered: u64,
    pub expected: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub errors: u64,
    pub dropped_connections: u64,
    pub deliveries_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub server: ServerUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdleResult {
    pub connections: usize,
    pub held: u64,
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    pub per_connection_kib: Option<f64>,
    pub pings: u64,
    pub longest_ping_gap_secs: f64,
    pub server: ServerUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageResult {
    pub ws_senders: usize,
    pub http_senders: usize,
    pub seconds: f64,
    pub ws_acked: u64,
    pub http_acked: u64,
    pub acked_per_sec: f64,
    pub errors: u64,
    pub server: ServerUsage,
}

/// S7: one query class in one scope.
#[derive(Debug, Clone, Serialize)]
pub struct SearchShape {
    pub class: String,
    /// "all rooms" or "room=<name>".
    pub scope: String,
    /// The queries, taken in turn.
    pub queries: Vec<String>,
    /// How many messages each matches in the scope (what the answers are checked against).
    pub matches_in_scope: Vec<u64>,
    pub requests: u64,
    pub errors: u64,
    /// Answers whose number of messages or `has_more` differ from the corpus.
    pub wrong_results: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// The first (unmeasured) request of the shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_ms: Option<f64>,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchConcurrent {
    pub clients: usize,
    pub seconds: f64,
    pub requests: u64,
    pub per_sec: f64,
    pub errors: u64,
    pub wrong_results: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub shapes: Vec<SearchShape>,
    pub server: ServerUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    /// The corpus and the queries (from `seed`).
    pub plan: crate::seed::QueryPlan,
    pub limit: usize,
    pub sequential: Vec<SearchShape>,
    pub sequential_server: ServerUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrent: Option<SearchConcurrent>,
}

impl SearchReport {
    fn table(&self, label: &str) -> String {
        let plan = &self.plan;
        let mut out = format!(
            "{label}: {} messages in {} rooms ({} private) by {} users; page size {}\n\n",
            plan.messages, plan.rooms, plan.private_rooms, plan.users, self.limit
        );
        let concurrent = self.concurrent.as_ref();
        out.push_str(
            "| query | scope | example | matches in scope | n | p50 ms | p95 ms | p99 ms | max ms | first ms |",
        );
        if let Some(c) = concurrent {
            out.push_str(&format!(" {} clients: p50 | p95 | p99 |", c.clients));
        }
        out.push_str(" wrong/errors |\n|---|---|---|---|---|---|---|---|---|---|");
        if concurrent.is_some() {
            out.push_str("---|---|---|");
        }
        out.push_str("---|\n");
        for (i, s) in self.sequential.iter().enumerate() {
            let matches = s.matches_in_scope.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                s.class,
                s.scope,
                s.queries.first().map_or("", String::as_str),
                matches,
                s.requests,
                s.p50_ms,
                s.p95_ms,
                s.p99_ms,
                s.max_ms,
                opt(s.first_ms.map(|f| format!("{f:.1}")))
            ));
            let (mut wrong, mut errors) = (s.wrong_results, s.errors);
            if let Some(c) = concurrent.and_then(|c| c.shapes.get(i)) {
                out.push_str(&format!(" {:.2} | {:.2} | {:.2} |", c.p50_ms, c.p95_ms, c.p99_ms));
                wrong += c.wrong_results;
                errors += c.errors;
            }
            out.push_str(&format!(" {wrong}/{errors} |\n"));
        }
        if let Some(c) = concurrent {
            out.push_str(&format!(
                "\n{} clients together: {} searches in {:.0} s, {:.0}/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; server CPU {}%\n",
                c.clients,
                c.requests,
                c.seconds,
                c.per_sec,
                c.p50_ms,
                c.p95_ms,
                c.p99_ms,
                c.max_ms,
                opt(c.server.cpu_percent.map(|v| format!("{v:.0}")))
            ));
        }
        out
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub label: String,
    pub scenario: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<crate::year_report::YearReport>,
    /// For saturation: the highest delivery rate of a step with no loss and p99 in bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sustained_deliveries_per_sec: Option<f64>,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

impl Report {
    pub fn steps(label: &str, scenario: &str, steps: Vec<StepResult>) -> Report {
        let sustained = steps
            .iter()
            .filter(|s| s.lost == 0 && s.dropped_connections == 0 && s.p99_ms <= 100.0)
            .map(|s| s.deliveries_per_sec)
            .fold(None, |best: Option<f64>, v| Some(best.map_or(v, |b| b.max(v))));
        Report {
            label: label.into(),
            scenario: scenario.into(),
            steps,
            idle: None,
            storage: None,
            search: None,
            year: None,
            sustained_deliveries_per_sec: if scenario == "saturate" { sustained } else { None },
        }
    }

    pub fn idle(label: &str, idle: IdleResult) -> Report {
        Report {
            label: label.into(),
            scenario: "idle".into(),
            steps: Vec::new(),
            idle: Some(idle),
            storage: None,
            search: None,
            year: None,
            sustained_deliveries_per_sec: None,
        }
    }

    pub fn storage(label: &str, storage: StorageResult) -> Report {
        Report {
            label: label.into(),
            scenario: "storage".into(),
            steps: Vec::new(),
            idle: None,
            storage: Some(storage),
            search: None,
            year: None,
            sustained_deliveries_per_sec: None,
        }
    }

    pub fn search(label: &str, search: SearchReport) -> Report {
        Report {
            label: label.into(),
            scenario: "search".into(),
            steps: Vec::new(),
            idle: None,
            storage: None,
            search: Some(search),
            year: None,
            sustained_deliveries_per_sec: None,
        }
    }

    pub fn year(label: &str, year: crate::year_report::YearReport) -> Report {
        Report { year: Some(year), ..Report::steps(label, "year", Vec::new()) }
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        if !self.steps.is_empty() {
            out.push_str("| run | msg/s/sender | deliveries/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | lost | dup | dropped | server CPU % | server RSS MiB |\n");
            out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for s in &self.steps {
                out.push_str(&format!(
                    "| {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} |\n",
                    s.label,
                    s.rate_per_sender,
                    s.deliveries_per_sec,
                    s.p50_ms,
                    s.p90_ms,
                    s.p99_ms,
                    s.p999_ms,
                    s.max_ms,
                    s.lost,
                    s.duplicates,
                    s.dropped_connections,
                    opt(s.server.cpu_percent.map(|c| format!("{c:.0}"))),
                    opt(s.server.rss_kib.map(|r| format!("{:.1}", r as f64 / 1024.0))),
                ));
            }
            if let Some(best) = self.sustained_deliveries_per_sec {
                out.push_str(&format!("\nhighest sustained: {best:.0} deliveries/s with no loss\n"));
            }
        }
        if let Some(i) = &self.idle {
            out.push_str("| run | connections | held | RSS before MiB | RSS after MiB | KiB per connection | pings | longest ping gap s |\n");
            out.push_str("|---|---|---|---|---|---|---|---|\n");
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {:.1} |\n",
                self.label,
                i.connections,
                i.held,
                opt(i.rss_before_kib.map(|r| format!("{:.1}", r as f64 / 1024.0))),
                opt(i.rss_after_kib.map(|r| format!("{:.1}", r as f64 / 1024.0))),
                opt(i.per_connection_kib.map(|k| format!("{k:.2}"))),
                i.pings,
                i.longest_ping_gap_secs
            ));
        }
        if let Some(s) = &self.storage {
            out.push_str("| run | WS senders | HTTP senders | acked over WS | acked over HTTP | acked msg/s | errors | server CPU % |\n");
            out.push_str("|---|---|---|---|---|---|---|---|\n");
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.0} | {} | {} |\n",
                self.label,
                s.ws_senders,
                s.http_senders,
                s.ws_acked,
                s.http_acked,
                s.acked_per_sec,
                s.errors,
                opt(s.server.cpu_percent.map(|c| format!("{c:.0}")))
            ));
        }
        if let Some(s) = &self.search {
            out.push_str(&s.table(&self.label));
        }
        if let Some(y) = &self.year {
            out.push_str(&y.table(&self.label));
        }
        out
    }

    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self).expect("reports serialize"))
    }
}

/// Latency percentiles against the delivery rate, one line per percentile (SVG).
pub fn plot_saturation(report: &Report, path: &Path, limit_ms: f64) -> Result<(), String> {
    use plotters::prelude::*;
    let steps = &report.steps;
    if steps.is_empty() {
        return Err("nothing to plot".into());
    }
    let max_rate = steps.iter().map(|s| s.deliveries_per_sec).fold(1.0, f64::max) * 1.05;
    let max_latency = steps.iter().map(|s| s.p999_ms).fold(limit_ms, f64::max) * 1.5;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{}: send→receive latency against delivery rate", report.label), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..max_rate, (0.05f64..max_latency).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("deliveries per second")
        .y_desc("latency (ms, log scale)")
        .x_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .y_label_formatter(&|v| format!("{v}"))
        .draw()
        .map_err(|e| e.to_string())?;
    type Percentile = fn(&StepResult) -> f64;
    let series: [(&str, Percentile, RGBColor); 4] = [
        ("p50", |s| s.p50_ms, RGBColor(79, 70, 229)),
        ("p90", |s| s.p90_ms, RGBColor(14, 165, 233)),
        ("p99", |s| s.p99_ms, RGBColor(234, 88, 12)),
        ("p99.9", |s| s.p999_ms, RGBColor(190, 18, 60)),
    ];
    for (name, value, color) in series {
        let points: Vec<(f64, f64)> = steps.iter().map(|s| (s.deliveries_per_sec, value(s).max(0.05))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(|e| e.to_string())?;
    }
    chart
        .draw_series(LineSeries::new(vec![(0.0, limit_ms), (max_rate, limit_ms)], BLACK.mix(0.4)))
        .map_err(|e| e.to_string())?
        .label(format!("{limit_ms} ms limit"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
