//! The baseline: raw libp2p gossipsub swarms with no Entente logic (no store, no checks, no
//! sync), on the node's transport (TCP + Noise + Yamux, nodelay) and gossipsub settings.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The node's gossipsub settings (node/src/net/behaviour.rs): unsigned messages identified by a
/// hash of their bytes, validated by the application, 700 ms heartbeat. The hash here is std's
/// SipHash rather than SHA-256 (no extra dependency; the difference is well under 1 us per KiB).
pub fn gossip_config() -> Result<gossipsub::Config> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .message_id_fn(|m: &gossipsub::Message| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            m.data.hash(&mut h);
            gossipsub::MessageId::from(h.finish().to_be_bytes().to_vec())
        })
        .validate_messages()
        .max_transmit_size(entente_protocol::event::MAX_EVENT_BYTES + 4096)
        .heartbeat_interval(Duration::from_millis(700))
        .build()
        .context("invalid gossipsub configuration")
}

pub fn topic() -> IdentTopic {
    IdentTopic::new("bench/baseline")
}

/// A bare gossipsub swarm listening on loopback TCP, with its listen address.
pub async fn swarm() -> Result<(Swarm<gossipsub::Behaviour>, Multiaddr)> {
    let mut behaviour =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config()?)
            .map_err(anyhow::Error::msg)?;
    behaviour
        .subscribe(&topic())
        .context("cannot subscribe to the topic")?;
    let mut swarm = SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .context("cannot set up TCP")?
        .with_behaviour(move |_| behaviour)
        .map_err(|e| anyhow::anyhow!("cannot build the behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let peer = *swarm.local_peer_id();
    Ok((swarm, addr.with(libp2p::multiaddr::Protocol::P2p(peer))))
}

/// The sequence number a benchmark message carries in its first 8 bytes.
pub fn seq_of(data: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(..8)?.try_into().ok()?))
}

/// A message of `size` bytes carrying `seq`.
pub fn message(seq: u64, size: usize) -> Vec<u8> {
    let mut m = vec![0x5a; size.max(8)];
    m[..8].copy_from_slice(&seq.to_be_bytes());
    m
}

enum Cmd {
    Publish(Vec<u8>),
    Dial(Multiaddr),
    /// Connected peers and peers known to be subscribed to the topic.
    Peers(oneshot::Sender<(usize, usize)>),
}

/// A message received: by which swarm, its sequence number, when it was handed to the application.
pub type Arrival = (usize, u64, Instant);

/// N gossipsub swarms in this process, each run by a task of its own.
pub struct Swarms {
    cmds: Vec<mpsc::UnboundedSender<Cmd>>,
    tasks: Vec<JoinHandle<()>>,
    pub addrs: Vec<Multiaddr>,
    pub peers: Vec<PeerId>,
}

impl Swarms {
    /// Starts `n` swarms; every received message is reported on `arrivals`.
    pub async fn start(n: usize, arrivals: mpsc::UnboundedSender<Arrival>) -> Result<Self> {
        let mut s = Swarms {
            cmds: Vec::new(),
            tasks: Vec::new(),
            addrs: Vec::new(),
            peers: Vec::new(),
        };
        for node in 0..n {
            let (swarm, addr) = swarm().await?;
            let (tx, rx) = mpsc::unbounded_channel();
            s.peers.push(*swarm.local_peer_id());
            s.addrs.push(addr);
            s.cmds.push(tx);
            s.tasks
                .push(tokio::spawn(drive(node, swarm, rx, arrivals.clone())));
        }
        Ok(s)
    }

    /// Dials along `edges` (i dials j) and waits until every swarm is connected to its planned
    /// neighbours and has seen their subscriptions, then lets a few heartbeats build the mesh.
    pub async fn connect(&self, edges: &[(usize, usize)], limit: Duration) -> Result<()> {
        let mut degree = vec![0usize; self.cmds.len()];
        for &(i, j) in edges {
            degree[i] += 1;
            degree[j] += 1;
            self.send(i, Cmd::Dial(self.addrs[j].clone()))?;
        }
        let start = Instant::now();
        loop {
            let mut ready = true;
            for (i, want) in degree.iter().enumerate() {
                let (connected, subscribed) = self.peer_counts(i).await?;
                if connected < *want || subscribed < *want {
                    ready = false;
                    break;
                }
            }
            if ready {
                break;
            }
            if start.elapsed() > limit {
                bail!("the baseline swarms did not connect within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(3 * 700)).await;
        Ok(())
    }

    /// Waits until swarm `node` is connected to `want` peers subscribed to the topic.
    pub async fn wait_peers(&self, node: usize, want: usize, limit: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let (connected, subscribed) = self.peer_counts(node).await?;
            if connected >= want && subscribed >= want {
                return Ok(());
            }
            if start.elapsed() > limit {
                bail!("swarm {node} has {connected} peers ({subscribed} subscribed), not {want}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn peer_counts(&self, node: usize) -> Result<(usize, usize)> {
        let (tx, rx) = oneshot::channel();
        self.send(node, Cmd::Peers(tx))?;
        rx.await.context("a baseline swarm stopped")
    }

    fn send(&self, node: usize, cmd: Cmd) -> Result<()> {
        self.cmds[node]
            .send(cmd)
            .ok()
            .context("a baseline swarm stopped")
    }

    pub fn publish(&self, node: usize, data: Vec<u8>) -> Result<()> {
        self.send(node, Cmd::Publish(data))
    }

    pub async fn shutdown(self) {
        drop(self.cmds);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn drive(
    node: usize,
    mut swarm: Swarm<gossipsub::Behaviour>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    arrivals: mpsc::UnboundedSender<Arrival>,
) {
    let topic = topic();
    loop {
        tokio::select! {
            event = swarm.select_next_some() => {
                if let SwarmEvent::Behaviour(gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                }) = event
                {
                    let at = Instant::now();
                    // Accepting at once forwards the message as the node would after storing it.
                    let _ = swarm.behaviour_mut().report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Accept,
                    );
                    if let Some(seq) = seq_of(&message.data) {
                        let _ = arrivals.send((node, seq, at));
                    }
                }
            }
            cmd = cmds.recv() => match cmd {
                Some(Cmd::Publish(data)) => {
                    if let Err(e) = swarm.behaviour_mut().publish(topic.clone(), data) {
                        eprintln!("baseline publish failed: {e}");
                    }
                }
                Some(Cmd::Dial(addr)) => {
                    if let Err(e) = swarm.dial(addr) {
                        eprintln!("baseline dial failed: {e}");
                    }
                }
                Some(Cmd::Peers(tx)) => {
                    let connected = swarm.connected_peers().count();
                    let hash = topic.hash();
                    let subscribed = swarm
                        .behaviour()
                        .all_peers()
                        .filter(|(_, topics)| topics.contains(&&hash))
                        .count();
                    let _ = tx.send((connected, subscribed));
                }
                None => break,
            }
        }
    }
}

/// A small deterministic generator (splitmix64): the benchmark has no `rand` dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Links like the node's: each node in turn dials random others until it has `k` links
/// (links dialled to it count), so every node ends with at least min(k, n-1).
pub fn topology(n: usize, k: usize, seed: u64) -> Vec<(usize, usize)> {
    let k = k.min(n.saturating_sub(1));
    let mut rng = Rng::new(seed);
    let mut links: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    let mut edges = Vec::new();
    for i in 0..n {
        while links[i].len() < k {
            let j = rng.below(n);
            if j == i || links[i].contains(&j) {
                continue;
            }
            links[i].insert(j);
            links[j].insert(i);
            edges.push((i, j));
        }
    }
    edges
}

/// The mean number of links per node of a topology.
pub fn mean_degree(n: usize, edges: &[(usize, usize)]) -> f64 {
    if n == 0 {
        return 0.0;
    }
    2.0 * edges.len() as f64 / n as f64
}
