//! Resident memory of a real `entente up` process, idle and while it receives a stream of
//! events, against a bare gossipsub node process (this binary re-executed in a hidden mode).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entente_protocol::Body;
use entente_tests::net::eventually;
use futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::swarm::SwarmEvent;
use tokio::sync::mpsc;

use crate::Opts;
use crate::baseline::{self, Swarms};
use crate::network::{Conference, bench_config};
use crate::report::{Figure, Goal, Section};

/// Set in the environment of a re-executed benchmark: run a bare gossipsub node that dials
/// this address, and nothing else.
const CHILD_ENV: &str = "ENTENTE_BENCH_GOSSIP_NODE";
const PAYLOAD: usize = 1000;
/// Events per second of the busy phase.
const RATE: u64 = 50;

/// VmRSS of a process, in MB (10^6 bytes).
fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("process {pid} is gone"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/PID/status")?;
    Ok(kb * 1024.0 / 1e6)
}

/// The largest RSS seen over `span`, sampled every 100 ms.
async fn peak_rss(pid: u32, span: Duration) -> Result<f64> {
    let end = Instant::now() + span;
    let mut peak: f64 = 0.0;
    loop {
        peak = peak.max(rss_mb(pid)?);
        if Instant::now() >= end {
            return Ok(peak);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills a child process when dropped, whatever happened meanwhile.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `entente` binary: `--entente`/ENTENTE_BIN, else the one next to this benchmark.
fn entente_binary(opts: &Opts) -> Option<PathBuf> {
    opts.entente.clone().or_else(|| {
        let exe = std::env::current_exe().ok()?;
        let b = exe.parent()?.join("entente");
        b.is_file().then_some(b)
    })
}

/// The hidden mode: a bare gossipsub swarm that dials the parent's and accepts every message.
async fn child(peer: &str) -> Result<()> {
    let (mut swarm, _) = baseline::swarm().await?;
    swarm.dial(peer.parse::<libp2p::Multiaddr>()?)?;
    loop {
        if let SwarmEvent::Behaviour(gossipsub::Event::Message {
            propagation_source,
            message_id,
            ..
        }) = swarm.select_next_some().await
        {
            let _ = swarm.behaviour_mut().report_message_validation_result(
                &message_id,
                &propagation_source,
                MessageAcceptance::Accept,
            );
        }
    }
}

pub async fn run(opts: &Opts) -> Result<Vec<Section>> {
    if let Ok(peer) = std::env::var(CHILD_ENV) {
        if let Err(e) = child(&peer).await {
            eprintln!("gossip node: {e:#}");
        }
        std::process::exit(1);
    }
    let settle = Duration::from_secs(if opts.quick { 2 } else { 5 });
    let busy = Duration::from_secs(if opts.quick { 2 } else { 10 });
    let events = RATE * busy.as_secs();

    let mut figures = Vec::new();
    let mut setup = format!(
        "Resident set size (VmRSS from /proc/PID/status, MB = 10^6 bytes). Idle: the peak of \
         samples every 100 ms over {} s once the node is linked to its one peer and settled. Busy: \
         the peak while the peer sends {RATE} plenary messages of {PAYLOAD} plaintext bytes per \
         second for {} s ({events} events).",
        settle.as_secs(),
        busy.as_secs()
    );
    match entente_binary(opts) {
        Some(bin) => {
            let (idle, peak, received, wire) = entente_rss(&bin, settle, busy, events).await?;
            let (b_idle, b_peak) = gossip_rss(settle, busy, events, wire).await?;
            eprintln!(
                "   memory: entente {idle:.1}/{peak:.1} MB, gossipsub {b_idle:.1}/{b_peak:.1} MB"
            );
            figures.push(
                Figure::new("entente up, idle", idle, "MB")
                    .target(
                        Goal::AtMost(50.0),
                        "The node runs 12 libp2p behaviours (Kademlia, AutoNAT, relay client, \
                         DCUtR, identify, ...), the SQLite page cache and the folded negotiation \
                         state, and the web UI is off here. Fixes: cap SQLite's cache_size, \
                         leave out behaviours a node does not use (AutoNAT and Kademlia when \
                         relay-only), and drop folded state of idle negotiations.",
                    )
                    .baseline(b_idle),
            );
            figures.push(
                Figure::new("entente up, receiving events", peak, "MB")
                    .baseline(b_peak)
                    .note(format!(
                        "{received} of {events} events were in its store afterwards"
                    )),
            );
            setup.push_str(&format!(
                " Entente: `{} up --listen /ip4/127.0.0.1/tcp/0 --no-mdns --no-web --peer <the \
                 other member>` with a home holding a two-member negotiation (it has joined); the \
                 other member is an in-process node of the benchmark that writes the events. \
                 Baseline: this benchmark re-executed as a bare gossipsub node process (TCP, \
                 Noise, Yamux, the node's gossipsub settings; one tokio runtime like `entente \
                 up`), subscribed to one topic, linked to an in-process gossipsub swarm that \
                 publishes the same number of messages of the Entente events' wire size.",
                bin.display()
            ));
        }
        None => setup.push_str(
            " Not measured: no `entente` binary next to this benchmark and none given with \
             --entente or ENTENTE_BIN.",
        ),
    }
    Ok(vec![Section {
        title: "Memory per node".into(),
        setup,
        figures,
    }])
}

/// Returns (idle RSS, busy peak RSS, events received by the process, their wire size).
async fn entente_rss(
    bin: &PathBuf,
    settle: Duration,
    busy: Duration,
    events: u64,
) -> Result<(f64, f64, usize, usize)> {
    let mut conf = Conference::build(2, &bench_config())?;
    conf.members[0].start().await?;
    let addr = conf.members[0].addrs().await?[0].clone();
    let home = conf.members[1].home.root().to_path_buf();
    let peer = conf.members[1].peer_id();
    let log = tempfile::NamedTempFile::new()?;
    let proc = Reaped(
        Command::new(bin)
            .arg("--home")
            .arg(&home)
            .args([
                "up",
                "--listen",
                "/ip4/127.0.0.1/tcp/0",
                "--no-mdns",
                "--no-web",
            ])
            .arg("--peer")
            .arg(addr.to_string())
            .env_remove("ENTENTE_HOME")
            .env_remove("ENTENTE_PASSPHRASE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen()?)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?,
    );
    let pid = proc.0.id();
    let chair = &conf.members[0];
    eventually(Duration::from_secs(30), || async {
        if !chair.node().admitted().await?.contains(&peer) {
            bail!(
                "the entente process has not linked to its peer; its log:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        Ok(())
    })
    .await?;
    let idle = peak_rss(pid, settle).await?;
    let before = conf.members[1].events_in(&conf.negotiation, "plenary")?;
    let mut ws = chair.workspace()?;
    let sampler = tokio::spawn(async move { peak_rss(pid, busy + Duration::from_secs(1)).await });
    let start = tokio::time::Instant::now();
    let mut wire = 0;
    for i in 0..events {
        tokio::time::sleep_until(start + Duration::from_millis(i * 1000 / RATE)).await;
        let mut text = format!("{i:08} ");
        while text.len() < PAYLOAD {
            text.push_str("memory benchmark ");
        }
        text.truncate(PAYLOAD);
        let event = tokio::task::block_in_place(|| {
            ws.post_content(
                &chair.identity,
                &conf.negotiation,
                "plenary",
                Body::Message { text },
            )
        })?;
        wire = event.to_wire().len();
        chair.node().control().poll_store().await?;
    }
    let peak = sampler.await.context("the sampler panicked")??;
    drop(proc);
    conf.members[0].stop().await?;
    let received = conf.members[1].events_in(&conf.negotiation, "plenary")?;
    Ok((idle, peak, received.saturating_sub(before), wire))
}

/// Returns (idle RSS, busy peak RSS) of a bare gossipsub node process.
async fn gossip_rss(
    settle: Duration,
    busy: Duration,
    events: u64,
    wire: usize,
) -> Result<(f64, f64)> {
    let (tx, _rx) = mpsc::unbounded_channel();
    let swarms = Swarms::start(1, tx).await?;
    let exe = std::env::current_exe()?;
    let proc = Reaped(
        Command::new(exe)
            .args(["--only", "memory"])
            .env(CHILD_ENV, swarms.addrs[0].to_string())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot re-execute the benchmark as a gossipsub node")?,
    );
    let pid = proc.0.id();
    swarms.wait_peers(0, 1, Duration::from_secs(30)).await?;
    tokio::time::sleep(Duration::from_millis(3 * 700)).await;
    let idle = peak_rss(pid, settle).await?;
    let sampler = tokio::spawn(async move { peak_rss(pid, busy + Duration::from_secs(1)).await });
    let start = tokio::time::Instant::now();
    for i in 0..events {
        tokio::time::sleep_until(start + Duration::from_millis(i * 1000 / RATE)).await;
        swarms.publish(0, baseline::message(i, wire))?;
    }
    let peak = sampler.await.context("the sampler panicked")??;
    drop(proc);
    swarms.shutdown().await;
    Ok((idle, peak))
}
