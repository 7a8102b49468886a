//! Cold sync of the large negotiation into an empty store: from a member's node, and from a
//! relay's mailbox with the members offline. The baseline moves the same batches between two
//! bare libp2p swarms over the same transport and protocol, with no checks and no storage.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entente_node::home::Home;
use entente_node::identity::Identity;
use entente_node::store::Store;
use entente_protocol::Event;
use entente_protocol::sync::{SyncResponse, SyncStatus, select_batch};
use entente_tests::net::{Member, loopback_config, start_relay};
use futures::StreamExt;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, noise, tcp, yamux};

use crate::Opts;
use crate::corpus::Corpus;
use crate::report::{Figure, Goal, Section};

const LIMIT: Duration = Duration::from_secs(300);

/// Bytes through the loopback interface so far (both directions count once each).
fn loopback_bytes() -> u64 {
    let dev = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    dev.lines()
        .find_map(|l| l.trim_start().strip_prefix("lo:"))
        .and_then(|rest| {
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.first()?.parse::<u64>().ok()? + f.get(8)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn stored(home: &Home) -> Result<usize> {
    let store = Store::open(&home.database())?;
    let n: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    Ok(n as usize)
}

/// A new home holding `member`'s keys and an empty store: the member on a new machine.
fn fresh_device(member: &Member, name: &str) -> Result<Member> {
    let dir = tempfile::tempdir()?;
    let home = Home::resolve(Some(dir.path().join("home")))?;
    home.create()?;
    for (from, to) in [
        (member.home.identity_public(), home.identity_public()),
        (member.home.identity_secret(), home.identity_secret()),
    ] {
        std::fs::copy(&from, &to).with_context(|| format!("cannot copy {}", from.display()))?;
    }
    Member::from_home(name, dir, home)
}

/// Waits until `home`'s store holds `want` events; returns the time it took from `start`.
async fn until_stored(home: &Home, want: usize, start: Instant) -> Result<Duration> {
    loop {
        let n = stored(home)?;
        if n >= want {
            return Ok(start.elapsed());
        }
        if start.elapsed() > LIMIT {
            bail!("cold sync stalled at {n} of {want} events");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `device`'s node, waits until its store holds `n` events, stops it: the time taken and
/// the bytes that crossed loopback meanwhile.
async fn timed_sync(device: &mut Member, n: usize) -> Result<(Duration, u64)> {
    let bytes0 = loopback_bytes();
    let start = Instant::now();
    device.start().await?;
    let took = until_stored(&device.home, n, start).await?;
    let bytes = loopback_bytes().saturating_sub(bytes0);
    device.stop().await?;
    Ok((took, bytes))
}

fn copy_store(from: &Home, to: &Home) -> Result<()> {
    // A checkpoint folds the WAL into the main file, so that one file is the whole store.
    let store = Store::open(&from.database())?;
    store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    drop(store);
    std::fs::copy(from.database(), to.database()).context("cannot copy the store")?;
    Ok(())
}

pub async fn run(_opts: &Opts, corpus: &Corpus) -> Result<Vec<Section>> {
    let n = corpus.events.len();
    let wire_bytes: usize = corpus.events.iter().map(|e| e.to_wire().len()).sum();
    let neg = corpus.negotiation;
    let chair = &corpus.members[0];

    // From a peer: the chair's node serves a new device of delegation 1.
    let mut server = fresh_device(chair, "Chair (serving)")?;
    copy_store(&chair.home, &server.home)?;
    server.start().await?;
    let server_addr = server.addrs().await?[0].clone();
    let mut client = fresh_device(&corpus.members[1], "Delegation 1 (new device)")?;
    client.config.peers = vec![server_addr];
    client.config.follow = vec![neg];
    // Holding nothing yet, the device cannot tell a member from a stranger: it trusts the peer
    // it was pointed at, as an invitation's inviter is trusted.
    client.config.trusted = [server.peer_id()].into();
    let (from_peer, peer_bytes) = timed_sync(&mut client, n).await?;
    server.stop().await?;

    // From a relay's mailbox, every member offline.
    let relay_dir = tempfile::tempdir()?;
    let relay_home = Home::resolve(Some(relay_dir.path().join("home")))?;
    Identity::create(&relay_home, "Relay", "relay", false)?;
    copy_store(&chair.home, &relay_home)?;
    let (relay, relay_addr) = start_relay(&relay_home, true, loopback_config()).await?;
    let mut offline = fresh_device(&corpus.members[2], "Delegation 2 (new device)")?;
    offline.config.relays = vec![relay_addr.clone()];
    offline.config.peers = vec![relay_addr];
    offline.config.follow = vec![neg];
    offline.config.relay_only = true;
    let (from_mailbox, mailbox_bytes) = timed_sync(&mut offline, n).await?;
    relay.shutdown().await?;

    let baseline = raw_transfer(&corpus.events).await?;

    let miss = "Each batch of 1024 is verified, checked event by event against the store and \
                stored before the next is asked for (one round trip per batch), and the new \
                device also folds what arrives; pipelining requests (asking for the next batch \
                while storing this one) would close most of the gap.";
    let secs = |d: Duration| d.as_secs_f64();
    Ok(vec![Section {
        title: "Cold sync".into(),
        setup: format!(
            "A new device of a member, with an empty store, fetches the whole {n}-event \
             negotiation ({:.1} MB of events in wire form) over loopback TCP (Noise, yamux), \
             `/entente/sync/1` in batches of at most 1024 events. From a peer: the chair's node \
             serves it. From a mailbox: an `entente relay` with a mailbox serves it and every \
             member is offline; the device reaches it in relay-only mode. Bytes are everything \
             that crossed the loopback interface meanwhile. Baseline: the same batches between \
             two bare libp2p swarms over the same transport and codec, not checked or stored.",
            wire_bytes as f64 / 1e6
        ),
        figures: vec![
            Figure::new("cold sync from a peer", secs(from_peer), "s")
                .target(Goal::AtMost(20.0), miss)
                .baseline(secs(baseline))
                .note(format!(
                    "{:.1} MB over loopback, {:.0} events/s",
                    peer_bytes as f64 / 1e6,
                    n as f64 / secs(from_peer)
                )),
            Figure::new("cold sync from a relay mailbox", secs(from_mailbox), "s")
                .target(Goal::AtMost(20.0), miss)
                .baseline(secs(baseline))
                .note(format!(
                    "{:.1} MB over loopback, {:.0} events/s",
                    mailbox_bytes as f64 / 1e6,
                    n as f64 / secs(from_mailbox)
                )),
        ],
    }])
}

#[derive(libp2p::swarm::NetworkBehaviour)]
struct Raw {
    sync: request_response::Behaviour<entente_node::net::codec::SyncCodec>,
}

fn raw_swarm() -> Result<libp2p::Swarm<Raw>> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| Raw {
            sync: request_response::Behaviour::with_codec(
                entente_node::net::codec::SyncCodec,
                [(
                    entente_node::net::codec::SYNC_PROTOCOL,
                    ProtocolSupport::Full,
                )],
                request_response::Config::default().with_request_timeout(Duration::from_secs(60)),
            ),
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build())
}

/// Moves every event, batch by batch, from one bare swarm to another: the cost of the transport.
async fn raw_transfer(events: &[Event]) -> Result<Duration> {
    let wires: Vec<(entente_protocol::EventId, Vec<u8>)> =
        events.iter().map(|e| (e.id, e.to_wire())).collect();
    let mut server = raw_swarm()?;
    server.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr: Multiaddr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = server.select_next_some().await {
            break address;
        }
    };
    let server_id = *server.local_peer_id();
    let serve = tokio::spawn(async move {
        // The server keeps its place: each request gets the next batch, nothing is looked up.
        let nothing = std::collections::HashSet::new();
        let mut sent = 0usize;
        loop {
            if let SwarmEvent::Behaviour(RawEvent::Sync(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            })) = server.select_next_some().await
            {
                let (batch, more) = select_batch(
                    wires[sent..].iter().map(|(id, w)| (*id, w.as_slice())),
                    &nothing,
                );
                sent += batch.len();
                let _ = server.behaviour_mut().sync.send_response(
                    channel,
                    SyncResponse {
                        status: SyncStatus::Ok,
                        heads: Vec::new(),
                        events: batch,
                        more,
                    },
                );
            }
        }
    });
    let mut client = raw_swarm()?;
    client.dial(addr.with(libp2p::multiaddr::Protocol::P2p(server_id)))?;
    loop {
        match client.select_next_some().await {
            SwarmEvent::ConnectionEstablished { .. } => break,
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                bail!("the baseline cannot connect: {error}")
            }
            _ => {}
        }
    }
    let start = Instant::now();
    let request = |neg| entente_protocol::sync::SyncRequest {
        negotiation: neg,
        heads: Vec::new(),
        certificate: None,
    };
    let neg = events[0].negotiation();
    let mut received = 0usize;
    client
        .behaviour_mut()
        .sync
        .send_request(&server_id, request(neg));
    while received < events.len() {
        if start.elapsed() > LIMIT {
            bail!("the baseline transfer stalled at {received} events");
        }
        match client.select_next_some().await {
            SwarmEvent::Behaviour(RawEvent::Sync(request_response::Event::Message {
                message: request_response::Message::Response { response, .. },
                ..
            })) => {
                received += response.events.len();
                if response.more {
                    client
                        .behaviour_mut()
                        .sync
                        .send_request(&server_id, request(neg));
                }
            }
            SwarmEvent::Behaviour(RawEvent::Sync(request_response::Event::OutboundFailure {
                error,
                ..
            })) => bail!("baseline request failed: {error}"),
            _ => {}
        }
    }
    let took = start.elapsed();
    serve.abort();
    Ok(took)
}
