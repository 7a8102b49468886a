//! `entente-bench`: measures Entente and writes `bench/report.md` and `bench/report.json`.
//! Run it through `scripts/bench.sh` (a release build); `--quick` is a smoke run with small
//! sizes that the test suite uses to keep the benchmark working.

mod baseline;
mod coldsync;
mod corpus;
mod memory;
mod micro;
mod network;
mod relay;
mod report;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::json;

use report::{Report, Section};

#[derive(Parser, Debug, Clone)]
#[command(about = "Measure Entente against its targets and a raw-gossipsub baseline")]
pub struct Opts {
    /// Where to write report.md and report.json.
    #[arg(long, default_value = "bench")]
    pub out: PathBuf,
    /// Small sizes, for a smoke test (the figures are not meaningful).
    #[arg(long)]
    pub quick: bool,
    /// Run only these sections (protocol, storage, crypto, network, sync, relay, memory).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// The `entente` binary, for measurements of a real node process (memory).
    #[arg(long, env = "ENTENTE_BIN")]
    pub entente: Option<PathBuf>,
}

impl Opts {
    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }

    /// `full` normally, `quick` in a smoke run.
    pub fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

fn main() -> Result<()> {
    let opts = Opts::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let started = entente_node::render::utc(entente_node::workspace::now_ms());
    let mut sections: Vec<Section> = Vec::new();
    let t0 = Instant::now();
    let mut run = |name: &str, f: &mut dyn FnMut() -> Result<Vec<Section>>| -> Result<()> {
        if !opts.wants(name) {
            return Ok(());
        }
        eprintln!("== {name}");
        let t = Instant::now();
        let got = f().with_context(|| format!("the {name} benchmark failed"))?;
        eprintln!("   {name} took {:.1} s", t.elapsed().as_secs_f64());
        sections.extend(got);
        Ok(())
    };
    // One large negotiation serves the protocol, storage and sync figures.
    let corpus = if ["protocol", "storage", "sync"]
        .iter()
        .any(|s| opts.wants(s))
    {
        let n = opts.size(100_000, 2_000);
        eprintln!("== building a {n}-event negotiation");
        let t = Instant::now();
        let c = corpus::build(n)?;
        eprintln!("   built in {:.1} s", t.elapsed().as_secs_f64());
        Some(c)
    } else {
        None
    };
    let need = || corpus.as_ref().context("no corpus");
    run("protocol", &mut || micro::protocol(&opts, need()?))?;
    run("storage", &mut || micro::storage(&opts, need()?))?;
    run("crypto", &mut || micro::crypto(&opts))?;
    run("sync", &mut || {
        runtime.block_on(coldsync::run(&opts, need()?))
    })?;
    run("network", &mut || runtime.block_on(network::run(&opts)))?;
    run("relay", &mut || runtime.block_on(relay::run(&opts)))?;
    run("memory", &mut || runtime.block_on(memory::run(&opts)))?;
    let report = Report {
        machine: machine(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        started,
        sections,
    };
    report.write(&opts.out)?;
    let (met, missed) = report.tally();
    println!(
        "wrote {}/report.md and report.json in {:.0} s: {met} targets met, {missed} missed",
        opts.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the figures were measured on.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let output = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory": mem,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default(),
        "rustc": output("rustc", &["--version"]),
        "build": if cfg!(debug_assertions) { "debug (figures not meaningful)" } else { "release" },
        "commit": output("git", &["rev-parse", "--short", "HEAD"]),
    })
}
