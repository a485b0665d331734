//! Result rows, the stdout table, the JSON file, and `/proc` readings (RSS, CPU time).

use crate::pool::Measured;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// One measured line of the table.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Row {
    pub name: String,
    pub workload: String,
    /// Timed operations (HTTP requests, or jobs of a few requests where `note` says so).
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Operations per second.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub error_samples: Vec<String>,
    /// Server CPU time per operation (user + system of the server process), when its pid is known.
    #[serde(default)]
    pub server_cpu_ms_per_op: Option<f64>,
    /// This tool's own CPU time per operation (it shares the machine with the server).
    #[serde(default)]
    pub client_cpu_ms_per_op: Option<f64>,
    /// CPU used meanwhile by every other process (cores; a database server, or a disturbance).
    #[serde(default)]
    pub other_cpu_cores: Option<f64>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RssPoint {
    pub phase: String,
    pub vmrss_kb: u64,
}

/// The sizes a run used.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Sizes {
    pub users: u64,
    pub members: u64,
    pub requests: u64,
    pub duration_s: f64,
    pub groups: u64,
    pub sync_users: u64,
    pub probe: u64,
    pub removes: u64,
    pub scale_users: u64,
    pub page_size: u64,
    pub connections: usize,
    pub membership_connections: usize,
    pub client_threads: usize,
    /// Seconds a count-bounded workload (create, growth, sync) may take at most.
    #[serde(default)]
    pub time_limit_s: f64,
}

/// Everything one run against one server measured: what `--json` writes.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RunReport {
    pub label: String,
    pub base_url: String,
    pub sizes: Sizes,
    pub started_unix: u64,
    pub total_seconds: f64,
    pub baseline: Option<Row>,
    pub rows: Vec<Row>,
    pub rss: Vec<RssPoint>,
    /// `/proc/loadavg` when the run started and ended.
    #[serde(default)]
    pub loadavg: Vec<String>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Row {
    pub fn from_hist(
        name: &str,
        workload: &str,
        h: &Histogram<u64>,
        requests: u64,
        errors: u64,
        seconds: f64,
    ) -> Row {
        let empty = h.is_empty();
        let q = |x: f64| {
            if empty {
                0.0
            } else {
                ms(h.value_at_quantile(x))
            }
        };
        Row {
            name: name.to_string(),
            workload: workload.to_string(),
            requests,
            errors,
            seconds,
            throughput: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            max_ms: if empty { 0.0 } else { ms(h.max()) },
            ..Row::default()
        }
    }

    pub fn from_measured<T>(name: &str, workload: &str, m: &Measured<T>) -> Row {
        let mut r = Row::from_hist(
            name,
            workload,
            &m.hist,
            m.requests,
            m.errors,
            m.elapsed.as_secs_f64(),
        );
        r.error_samples = m.samples.clone();
        r
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }
}

/// `VmRSS` of a process, in kB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Busy CPU time of the whole machine (all cores), in milliseconds.
pub fn machine_cpu_ms() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let f: Vec<u64> = s
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    let busy: u64 = f
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Some(busy as f64 * 10.0)
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// User + system CPU time of a process (`"self"` for this one), in milliseconds.
pub fn cpu_ms(pid: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks as f64 * 10.0)
}

fn fmt_num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn pad(s: &str, w: usize) -> String {
    format!("{s:<w$}")
}

/// The table of one run, with the throughput as a fraction of the baseline when there is one.
pub fn table(r: &RunReport) -> String {
    let mut out = String::new();
    let base = r
        .baseline
        .as_ref()
        .map(|b| b.throughput)
        .filter(|t| *t > 0.0);
    let _ = writeln!(out, "== {} ({})", r.label, r.base_url);
    if let Some(b) = &r.baseline {
        let _ = writeln!(
            out,
            "baseline (fixed ListResponse, lookup workload): {} req/s, p50 {} ms, p99 {} ms, {} errors{}",
            fmt_num(b.throughput),
            fmt_num(b.p50_ms),
            fmt_num(b.p99_ms),
            b.errors,
            if b.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", b.note)
            }
        );
    }
    let w = r
        .rows
        .iter()
        .map(|x| x.name.len())
        .max()
        .unwrap_or(10)
        .max(10);
    let _ = writeln!(
        out,
        "{} | {:>8} | {:>6} | {:>9} | {:>8} | {:>8} | {:>8} | {:>7} | {:>8} | {:>6}",
        pad("workload", w),
        "ops",
        "errors",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "of base",
        "srv cpu",
        "other"
    );
    let _ = writeln!(out, "{}", "-".repeat(w + 103));
    for x in &r.rows {
        let comparable = matches!(
            x.workload.as_str(),
            "create" | "lookup" | "get" | "group-read"
        );
        let ratio = base
            .filter(|_| comparable)
            .map(|b| format!("{:.1}%", 100.0 * x.throughput / b))
            .unwrap_or_default();
        let cpu = x
            .server_cpu_ms_per_op
            .map(|c| format!("{c:.3}"))
            .unwrap_or_default();
        let other = x
            .other_cpu_cores
            .map(|c| format!("{c:.2}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} | {:>8} | {:>6} | {:>9} | {:>8} | {:>8} | {:>8} | {:>7} | {:>8} | {:>6}",
            pad(&x.name, w),
            x.requests,
            x.errors,
            fmt_num(x.throughput),
            fmt_num(x.p50_ms),
            fmt_num(x.p99_ms),
            fmt_num(x.max_ms),
            ratio,
            cpu,
            other
        );
    }
    for x in &r.rows {
        if !x.note.is_empty() {
            let _ = writeln!(out, "  {}: {}", x.name, x.note);
        }
    }
    for x in &r.rows {
        for s in &x.error_samples {
            let _ = writeln!(out, "  error in {}: {}", x.name, s);
        }
    }
    if !r.rss.is_empty() {
        let rss: Vec<String> = r
            .rss
            .iter()
            .map(|p| format!("{} {:.0} MB", p.phase, p.vmrss_kb as f64 / 1024.0))
            .collect();
        let _ = writeln!(out, "server RSS after each phase: {}", rss.join(", "));
    }
    let _ = writeln!(
        out,
        "total {:.1} s; load average at start and end: {}",
        r.total_seconds,
        r.loadavg.join(" / ")
    );
    let _ = writeln!(
        out,
        "(ops/s of a list row = 1 / mean page latency, one request at a time; srv cpu = server CPU ms per op; \
         other = cores used by other processes meanwhile)"
    );
    out
}

/// Several runs side by side: throughput and p99 per workload.
pub fn side_by_side(runs: &[RunReport]) -> String {
    let mut names: Vec<String> = Vec::new();
    for r in runs {
        for x in &r.rows {
            if !names.contains(&x.name) {
                names.push(x.name.clone());
            }
        }
    }
    let w = names.iter().map(String::len).max().unwrap_or(10).max(10);
    let mut out = String::new();
    let mut head = pad("workload", w);
    for r in runs {
        let _ = write!(head, " | {:>24}", format!("{} ops/s, p99 ms, err", r.label));
    }
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "{}", "-".repeat(head.len()));
    let mut line = pad("baseline lookup", w);
    for r in runs {
        let cell = r
            .baseline
            .as_ref()
            .map(|b| {
                format!(
                    "{} {} {}",
                    fmt_num(b.throughput),
                    fmt_num(b.p99_ms),
                    b.errors
                )
            })
            .unwrap_or_else(|| "-".to_string());
        let _ = write!(line, " | {cell:>24}");
    }
    let _ = writeln!(out, "{line}");
    for n in &names {
        let mut line = pad(n, w);
        for r in runs {
            let cell = r
                .rows
                .iter()
                .find(|x| &x.name == n)
                .map(|x| {
                    format!(
                        "{} {} {}",
                        fmt_num(x.throughput),
                        fmt_num(x.p99_ms),
                        x.errors
                    )
                })
                .unwrap_or_else(|| "-".to_string());
            let _ = write!(line, " | {cell:>24}");
        }
        let _ = writeln!(out, "{line}");
    }
    let mut line = pad("peak server RSS MB", w);
    for r in runs {
        let peak = r.rss.iter().map(|p| p.vmrss_kb).max();
        let cell = peak
            .map(|k| format!("{:.0}", k as f64 / 1024.0))
            .unwrap_or_else(|| "-".to_string());
        let _ = write!(line, " | {cell:>24}");
    }
    let _ = writeln!(out, "{line}");
    out
}

/// Facts about this machine, from `/proc`.
pub fn machine() -> serde_json::Value {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mem_kb: u64 = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    serde_json::json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory_mib": mem_kb / 1024,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
    })
}

pub fn write_json(path: &Path, v: &impl Serialize) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(v)?)?;
    Ok(())
}
