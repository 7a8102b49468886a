//! Throughput between two members that reach each other only through a mediator relay.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use entente_node::home::Home;
use entente_node::identity::Identity;
use entente_node::workspace::Workspace;
use entente_protocol::Body;
use entente_tests::net::{eventually, start_relay};
use tokio::sync::broadcast;

use crate::Opts;
use crate::network::{Conference, bench_config};
use crate::report::{Figure, Section, fmt_num};

/// Events in flight at once (written by A, not yet stored by B).
const WINDOW: usize = 32;

struct Run {
    events: usize,
    bytes: usize,
    secs: f64,
}

/// A publishes plenary messages of `payload` bytes for `run` with at most `WINDOW` not yet at B.
async fn stream(conf: &Conference, payload: usize, run: Duration, drain: Duration) -> Result<Run> {
    let a = &conf.members[0];
    let b = &conf.members[1];
    let mut stored = b.node().stored_events();
    let mut ws = a.workspace()?;
    let filler = "relay throughput ".repeat(payload / 17 + 1);
    let mut sent = std::collections::HashSet::new();
    let mut in_flight = 0usize;
    let mut arrived = 0usize;
    let mut bytes = 0usize;
    let mut last = None;
    let start = Instant::now();
    let mut seq = 0usize;
    loop {
        let publishing = start.elapsed() < run;
        if publishing && in_flight < WINDOW {
            let mut text = format!("{seq:08} {filler}");
            text.truncate(payload);
            seq += 1;
            let body = Body::Message { text };
            let event = tokio::task::block_in_place(|| {
                ws.post_content(&a.identity, &conf.negotiation, "plenary", body)
            })?;
            a.node().control().poll_store().await?;
            bytes += event.to_wire().len();
            sent.insert(event.id);
            in_flight += 1;
            continue;
        }
        if !publishing && in_flight == 0 {
            break;
        }
        let wait = if publishing {
            Duration::from_secs(5)
        } else {
            drain
        };
        match tokio::time::timeout(wait, stored.recv()).await {
            Ok(Ok(id)) => {
                if sent.contains(&id) {
                    in_flight -= 1;
                    arrived += 1;
                    last = Some(Instant::now());
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                bail!("lost {n} notifications of B's store")
            }
            Ok(Err(broadcast::error::RecvError::Closed)) => bail!("B's node stopped"),
            Err(_) => break,
        }
    }
    let secs = last.map_or(0.0, |t| t.duration_since(start).as_secs_f64());
    if arrived < sent.len() {
        bail!(
            "only {arrived} of {} events reached B through the relay",
            sent.len()
        );
    }
    Ok(Run {
        events: arrived,
        bytes: bytes * arrived / sent.len().max(1),
        secs,
    })
}

pub async fn run(opts: &Opts) -> Result<Vec<Section>> {
    let duration = Duration::from_secs(if opts.quick { 2 } else { 8 });
    let drain = Duration::from_secs(if opts.quick { 10 } else { 20 });

    let mut conf = Conference::build(2, &bench_config())?;
    // The mediator's relay, holding the negotiation as `entente relay --mailbox` would.
    let relay_dir = tempfile::tempdir()?;
    let relay_home = Home::resolve(Some(relay_dir.path().join("home")))?;
    Identity::create(&relay_home, "Relay", "relay", false)?;
    let record = conf.members[0].workspace()?.export(&conf.negotiation)?.0;
    Workspace::open(&relay_home)?.import(&record)?;
    let (relay, relay_addr) = start_relay(&relay_home, true, bench_config()).await?;
    for m in &mut conf.members {
        m.config.relay_only = true;
        m.config.relays = vec![relay_addr.clone()];
        m.config.peers = vec![relay_addr.clone()];
    }
    for m in &mut conf.members {
        m.start().await?;
    }
    let (a, b) = (&conf.members[0], &conf.members[1]);
    let b_peer = b.peer_id();
    // Wait for the circuit A–B, then a few gossipsub heartbeats.
    eventually(Duration::from_secs(40), || async {
        if !a.node().admitted().await?.contains(&b_peer) {
            bail!("A has no link to B yet");
        }
        Ok(())
    })
    .await?;
    // The side that accepted the circuit sees the peer at a bare /p2p/ address, which the node
    // counts as direct: only both sides saying so would mean a real direct connection.
    let a_peer = a.peer_id();
    if a.node().direct_connections().await?.contains(&b_peer)
        && b.node().direct_connections().await?.contains(&a_peer)
    {
        bail!("A and B are directly connected although both are relay-only");
    }
    tokio::time::sleep(Duration::from_millis(3 * 700)).await;

    let mut figures = Vec::new();
    let mut lines = Vec::new();
    for payload in [1000usize, 16_000] {
        let r = stream(&conf, payload, duration, drain).await?;
        let rate = r.events as f64 / r.secs.max(1e-9);
        let kbs = r.bytes as f64 / 1000.0 / r.secs.max(1e-9);
        eprintln!("   relay {payload} B: {rate:.0} events/s, {kbs:.0} KB/s");
        lines.push(format!("{} events of {payload} bytes", r.events));
        figures.push(Figure::new(
            format!("events/s through the relay, {payload}-byte messages"),
            rate,
            "events/s",
        ));
        figures.push(Figure::new(
            format!("wire KB/s through the relay, {payload}-byte messages"),
            kbs,
            "KB/s",
        ));
    }
    for m in &mut conf.members {
        m.stop().await?;
    }
    relay.shutdown().await?;
    Ok(vec![Section {
        title: "Relay circuit throughput".into(),
        setup: format!(
            "Two in-process members, both `relay_only` (no direct dials, no hole punching), and \
             an in-process mediator relay (circuit relay v2, mailbox on, default limits) holding \
             the negotiation, all on loopback TCP in one process (2 cores). A writes plenary \
             messages (`post_content` then `poll_store`) for {} s each run, with at most {WINDOW} \
             not yet stored by B; the rate is events stored by B over the time from the first \
             write to the last arrival ({}). Everything crosses the relay: over the A–B circuit \
             and through the relay's own gossip (it follows the negotiation). KB are 1000 bytes \
             of signed, sealed events on the wire ({} B of plaintext per message).",
            duration.as_secs(),
            lines.join(", "),
            [1000, 16_000].map(|b| fmt_num(b as f64)).join(" and "),
        ),
        figures,
    }])
}
