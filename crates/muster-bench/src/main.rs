//! `muster-bench`: drives any SCIM 2.0 server (muster or another) with the workloads of issue 6,
//! and serves the fixed-answer baseline that gives this machine's HTTP limit.
//!
//!     muster-bench all --base-url http://127.0.0.1:8080/api/scim/v2 --token SECRET --json out.json
//!     muster-bench baseline --listen 127.0.0.1:0
//!     muster-bench report a.json b.json --json results.json

mod api;
mod baseline;
mod pool;
mod report;
mod work;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use report::{RunReport, Sizes};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use work::Ctx;

#[derive(Parser, Debug)]
#[command(
    name = "muster-bench",
    about = "Load tool for SCIM 2.0 servers: muster or any other, side by side"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// POST /Users with unique userNames
    Create(RunArgs),
    /// GET /Users?filter=userName eq "…" (exact and changed case) on --users seeded users
    Lookup(RunArgs),
    /// GET /Users/{id}
    Get(RunArgs),
    /// One group grown to --members by PATCH add of 100; latency at 1k/10k/50k/100k; removes
    Membership(RunArgs),
    /// GET /Groups/{id}?excludedAttributes=members and GET /Groups?filter=displayName eq … (big group)
    GroupRead(RunArgs),
    /// Page through all users, count=100, by startIndex and by cursor
    List(RunArgs),
    /// Entra-shaped initial cycle: filter then POST per user, then groups with memberships
    InitialSync(RunArgs),
    /// Every workload in order: create, lookup, get, list, membership, group-read, initial-sync
    All(RunArgs),
    /// Serve the fixed-answer baseline handler (prints "Baseline base URL: …")
    Baseline {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// Print runs (JSON files of --json) side by side and merge them into one JSON file
    Report {
        files: Vec<PathBuf>,
        #[arg(long)]
        json: Option<PathBuf>,
        /// Free-form facts to record (e.g. the rustc version), KEY=VALUE
        #[arg(long = "fact")]
        facts: Vec<String>,
    },
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// SCIM base URL (…/scim/v2)
    #[arg(long, env = "MUSTER_BENCH_BASE_URL")]
    base_url: String,
    /// Bearer token
    #[arg(long, env = "MUSTER_BENCH_TOKEN")]
    token: String,
    /// Base URL of a second, empty tenant for initial-sync [default: --base-url]
    #[arg(long)]
    sync_base_url: Option<String>,
    /// Token of the initial-sync tenant [default: --token]
    #[arg(long)]
    sync_token: Option<String>,
    /// Base URL of the fixed-answer baseline: measured with the lookup workload first
    #[arg(long)]
    baseline_url: Option<String>,
    /// Name of this target in the table and JSON
    #[arg(long, default_value = "target")]
    label: String,
    /// Server process id: its RSS (VmRSS) after each phase and its CPU time per operation
    #[arg(long)]
    server_pid: Option<u32>,
    /// Concurrent connections (workers)
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Connections for the membership PATCHes of the one big group (IdPs push a group serially)
    #[arg(long, default_value_t = 1)]
    membership_connections: usize,
    /// Threads of this tool's runtime (it shares the machine's cores with the server)
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Small sizes that finish in seconds (CI)
    #[arg(long)]
    smoke: bool,
    /// Users seeded in the main tenant [default: 100000; smoke 2000]
    #[arg(long)]
    users: Option<u64>,
    /// Members the big group grows to [default: 100000; smoke 2000]
    #[arg(long)]
    members: Option<u64>,
    /// Requests per timed read workload (also bounded by --duration) [default: 200000; smoke 2000]
    #[arg(long)]
    requests: Option<u64>,
    /// Seconds per timed read workload at most [default: 10; smoke 1]
    #[arg(long)]
    duration: Option<f64>,
    /// Groups of initial-sync [default: 500; smoke 10]
    #[arg(long)]
    groups: Option<u64>,
    /// Users of initial-sync [default: --users]
    #[arg(long)]
    sync_users: Option<u64>,
    /// Probe PATCH pairs (add 100 + remove 100) at each membership checkpoint [default: 500, so
    /// that p99 is not one of the slowest two samples; smoke 10]
    #[arg(long)]
    probe: Option<u64>,
    /// Single-member removes after the growth [default: 1000; smoke 50]
    #[arg(long)]
    removes: Option<u64>,
    /// After everything, fill the main tenant to this many users and measure lookup/get again
    #[arg(long)]
    scale_users: Option<u64>,
    /// Seconds any count-bounded workload (create, membership growth, initial-sync) may take;
    /// past it the workload stops and says so
    #[arg(long, default_value_t = 900.0)]
    time_limit: f64,
    /// Page size of the list workload
    #[arg(long, default_value_t = 100)]
    page_size: u64,
    /// Write the results as JSON here
    #[arg(long)]
    json: Option<PathBuf>,
}

impl RunArgs {
    fn sizes(&self) -> Sizes {
        let s = self.smoke;
        let pick =
            |v: Option<u64>, full: u64, smoke: u64| v.unwrap_or(if s { smoke } else { full });
        let users = pick(self.users, 100_000, 2_000);
        Sizes {
            users,
            members: pick(self.members, 100_000, 2_000),
            requests: pick(self.requests, 200_000, 2_000),
            duration_s: self.duration.unwrap_or(if s { 1.0 } else { 10.0 }),
            groups: pick(self.groups, 500, 10),
            sync_users: self.sync_users.unwrap_or(users),
            probe: pick(self.probe, 500, 10),
            removes: pick(self.removes, 1_000, 50),
            scale_users: self.scale_users.unwrap_or(0),
            page_size: self.page_size,
            connections: self.connections.max(1),
            membership_connections: self.membership_connections.max(1),
            client_threads: self.client_threads.max(1),
            time_limit_s: self.time_limit,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Which {
    Create,
    Lookup,
    Get,
    Membership,
    GroupRead,
    List,
    InitialSync,
    All,
}

async fn run(which: Which, a: RunArgs) -> anyhow::Result<()> {
    let sizes = a.sizes();
    let api = api::Api::new(&a.base_url, &a.token, sizes.connections)?;
    let sync_api = api::Api::new(
        a.sync_base_url.as_deref().unwrap_or(&a.base_url),
        a.sync_token.as_deref().unwrap_or(&a.token),
        sizes.connections,
    )?;
    let baseline_api = match &a.baseline_url {
        Some(u) => Some(api::Api::new(u, "baseline", sizes.connections)?),
        None => None,
    };
    work::probe(&api).await?;
    if a.sync_base_url.is_some() {
        work::probe(&sync_api).await?;
    }
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut ctx = Ctx::new(
        a.label.clone(),
        sizes,
        api,
        sync_api,
        baseline_api,
        a.server_pid,
    );
    let t0 = Instant::now();
    let load_start = report::loadavg();
    ctx.mark_rss("start");
    ctx.baseline().await?;
    let has = |w: Which| which == w || which == Which::All;
    if has(Which::Create) {
        ctx.ensure_users(ctx.sizes.users, "create").await?;
        ctx.mark_rss("create");
    }
    if has(Which::Lookup) {
        ctx.lookup("").await?;
        ctx.mark_rss("lookup");
    }
    if has(Which::Get) {
        ctx.get("").await?;
        ctx.mark_rss("get");
    }
    if has(Which::Lookup) || has(Which::Get) {
        // Again, right after the workloads compared with it.
        ctx.baseline().await?;
    }
    if has(Which::List) {
        ctx.list().await?;
        ctx.mark_rss("list");
    }
    if has(Which::Membership) {
        ctx.membership().await?;
        ctx.mark_rss("membership");
    }
    if has(Which::GroupRead) {
        ctx.group_read().await?;
        ctx.mark_rss("group-read");
    }
    if has(Which::InitialSync) {
        ctx.initial_sync().await?;
        ctx.mark_rss("initial-sync");
    }
    if which == Which::All {
        ctx.scale().await?;
    }
    let report = RunReport {
        label: ctx.label.clone(),
        base_url: ctx.base_url().to_string(),
        sizes: ctx.sizes.clone(),
        started_unix,
        total_seconds: t0.elapsed().as_secs_f64(),
        baseline: ctx.baseline.clone(),
        rows: ctx.rows.clone(),
        rss: ctx.rss.clone(),
        loadavg: vec![load_start, report::loadavg()],
    };
    let mut out = std::io::stdout().lock();
    write!(out, "{}", report::table(&report))?;
    if let Some(p) = &a.json {
        report::write_json(p, &report).with_context(|| format!("writing {}", p.display()))?;
    }
    let errors: u64 = report.rows.iter().map(|r| r.errors).sum();
    writeln!(out, "errors in all workloads: {errors}")?;
    Ok(())
}

fn report_cmd(files: &[PathBuf], json: Option<&PathBuf>, facts: &[String]) -> anyhow::Result<()> {
    if files.is_empty() {
        bail!("give one or more JSON files written by --json");
    }
    let mut runs = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let r: RunReport =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
        runs.push(r);
    }
    let mut out = std::io::stdout().lock();
    for r in &runs {
        writeln!(out, "{}", report::table(r))?;
    }
    writeln!(out, "== side by side")?;
    write!(out, "{}", report::side_by_side(&runs))?;
    if let Some(p) = json {
        let mut machine = report::machine();
        for f in facts {
            if let (Some((k, v)), Some(m)) = (f.split_once('='), machine.as_object_mut()) {
                m.insert(k.to_string(), serde_json::Value::String(v.to_string()));
            }
        }
        let merged = serde_json::json!({ "machine": machine, "runs": runs });
        report::write_json(p, &merged)?;
        writeln!(out, "wrote {}", p.display())?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let threads = match &cli.cmd {
        Cmd::Create(a)
        | Cmd::Lookup(a)
        | Cmd::Get(a)
        | Cmd::Membership(a)
        | Cmd::GroupRead(a)
        | Cmd::List(a)
        | Cmd::InitialSync(a)
        | Cmd::All(a) => a.client_threads.max(1),
        Cmd::Baseline { .. } | Cmd::Report { .. } => 2,
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async move {
                match cli.cmd {
                    Cmd::Create(a) => run(Which::Create, a).await,
                    Cmd::Lookup(a) => run(Which::Lookup, a).await,
                    Cmd::Get(a) => run(Which::Get, a).await,
                    Cmd::Membership(a) => run(Which::Membership, a).await,
                    Cmd::GroupRead(a) => run(Which::GroupRead, a).await,
                    Cmd::List(a) => run(Which::List, a).await,
                    Cmd::InitialSync(a) => run(Which::InitialSync, a).await,
                    Cmd::All(a) => run(Which::All, a).await,
                    Cmd::Baseline { listen } => baseline::serve(&listen).await,
                    Cmd::Report { files, json, facts } => report_cmd(&files, json.as_ref(), &facts),
                }
            })
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
