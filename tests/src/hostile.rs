//! A hostile peer: a swarm with the node's exact protocols (`build_swarm`) under a member's
//! device key, driven by hand to send what an honest node never would: crafted gossip on a
//! negotiation's topic, raw sync requests, and bad answers to the sync requests it receives.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use entente_node::net::behaviour::{BehaviourEvent, SwarmOptions, build_swarm};
use entente_protocol::NegotiationId;
use entente_protocol::sync::{SyncRequest, SyncResponse, SyncStatus};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, TopicHash};
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, identity};
use tokio::sync::{mpsc, oneshot};

use crate::net::eventually;

/// How the hostile peer answers the sync requests nodes send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// "Nothing here."
    Empty,
    /// "More to come", with nothing in it, every time.
    MoreForever,
    /// "You are not authorized."
    Refuse,
}

/// The negotiation's shared topic, as nodes name it.
pub fn topic(negotiation: &NegotiationId) -> IdentTopic {
    IdentTopic::new(format!("entente/negotiation/{negotiation}"))
}

#[derive(Default)]
struct Seen {
    connected: HashSet<PeerId>,
    subscribed: HashSet<(PeerId, TopicHash)>,
    sync_requests: usize,
}

enum Command {
    Dial(Multiaddr),
    Publish(IdentTopic, Vec<u8>, oneshot::Sender<Result<()>>),
    Sync(
        PeerId,
        Box<SyncRequest>,
        oneshot::Sender<Result<SyncResponse>>,
    ),
    Answer(Answer),
}

/// A swarm driven by a task of its own; dropping this stops it.
pub struct HostilePeer {
    pub peer_id: PeerId,
    tx: mpsc::UnboundedSender<Command>,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostilePeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostilePeer {
    pub fn start(key: identity::Keypair) -> Result<Self> {
        let opts = SwarmOptions {
            mdns: false,
            hole_punching: false,
            relay: None,
            idle_timeout: Duration::from_secs(60),
        };
        let mut swarm = build_swarm(key, &opts)?;
        let peer_id = *swarm.local_peer_id();
        let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            let mut answer = Answer::Empty;
            let mut pending: std::collections::HashMap<
                OutboundRequestId,
                oneshot::Sender<Result<SyncResponse>>,
            > = Default::default();
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        None => break,
                        Some(Command::Dial(a)) => {
                            let _ = swarm.dial(a);
                        }
                        Some(Command::Publish(t, bytes, reply)) => {
                            let r = swarm.behaviour_mut().gossipsub.publish(t, bytes);
                            let _ = reply.send(r.map(|_| ()).map_err(|e| anyhow!("{e}")));
                        }
                        Some(Command::Sync(peer, req, reply)) => {
                            let id = swarm.behaviour_mut().sync.send_request(&peer, *req);
                            pending.insert(id, reply);
                        }
                        Some(Command::Answer(a)) => answer = a,
                    },
                    event = swarm.select_next_some() => {
                        let Ok(mut s) = shared.lock() else { break };
                        match event {
                            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                                s.connected.insert(peer_id);
                            }
                            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                                s.connected.remove(&peer_id);
                                s.subscribed.retain(|(p, _)| *p != peer_id);
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                                gossipsub::Event::Subscribed { peer_id, topic },
                            )) => {
                                s.subscribed.insert((peer_id, topic));
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                                gossipsub::Event::Message { propagation_source, message_id, .. },
                            )) => {
                                drop(s);
                                swarm.behaviour_mut().gossipsub.report_message_validation_result(
                                    &message_id,
                                    &propagation_source,
                                    MessageAcceptance::Ignore,
                                );
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                                request_response::Event::Message { message, .. },
                            )) => match message {
                                request_response::Message::Request { channel, .. } => {
                                    s.sync_requests += 1;
                                    drop(s);
                                    let response = match answer {
                                        Answer::Refuse => {
                                            SyncResponse::refusal(SyncStatus::NotAuthorized)
                                        }
                                        _ => SyncResponse {
                                            status: SyncStatus::Ok,
                                            heads: Vec::new(),
                                            events: Vec::new(),
                                            more: answer == Answer::MoreForever,
                                        },
                                    };
                                    let _ = swarm.behaviour_mut().sync.send_response(channel, response);
                                }
                                request_response::Message::Response { request_id, response } => {
                                    if let Some(r) = pending.remove(&request_id) {
                                        let _ = r.send(Ok(response));
                                    }
                                }
                            },
                            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                                request_response::Event::OutboundFailure { request_id, error, .. },
                            )) => {
                                if let Some(r) = pending.remove(&request_id) {
                                    let _ = r.send(Err(anyhow!("sync request failed: {error}")));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        });
        Ok(Self {
            peer_id,
            tx,
            seen,
            task,
        })
    }

    fn send(&self, c: Command) -> Result<()> {
        self.tx
            .send(c)
            .map_err(|_| anyhow!("the hostile peer stopped"))
    }

    fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        match self.seen.lock() {
            Ok(s) => f(&s),
            Err(p) => f(&p.into_inner()),
        }
    }

    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.seen(|s| s.connected.contains(peer))
    }

    /// Sync requests received from nodes so far.
    pub fn sync_requests(&self) -> usize {
        self.seen(|s| s.sync_requests)
    }

    pub fn answer(&self, a: Answer) -> Result<()> {
        self.send(Command::Answer(a))
    }

    /// Dials `addr` and waits until `peer` is connected and subscribed to the negotiation's topic
    /// (so that what is published reaches it).
    pub async fn connect(
        &self,
        addr: &Multiaddr,
        peer: PeerId,
        negotiation: &NegotiationId,
    ) -> Result<()> {
        let hash = topic(negotiation).hash();
        eventually(Duration::from_secs(20), || async {
            if self.seen(|s| s.subscribed.contains(&(peer, hash.clone()))) {
                return Ok(());
            }
            if !self.is_connected(&peer) {
                self.send(Command::Dial(addr.clone()))?;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            bail!("not yet connected to {peer} and subscribed")
        })
        .await
    }

    /// Publishes bytes on the negotiation's topic as they are, retrying while gossipsub's
    /// queues are full.
    pub async fn publish(&self, negotiation: &NegotiationId, bytes: Vec<u8>) -> Result<()> {
        for _ in 0..200 {
            let (tx, rx) = oneshot::channel();
            self.send(Command::Publish(topic(negotiation), bytes.clone(), tx))?;
            match rx.await.context("the hostile peer stopped")? {
                Ok(()) => return Ok(()),
                Err(e) if e.to_string().contains("full") => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => return Err(e),
            }
        }
        bail!("gossipsub's queues stayed full")
    }

    /// Sends a sync request and waits for the answer.
    pub async fn sync(&self, peer: PeerId, request: SyncRequest) -> Result<SyncResponse> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Sync(peer, Box::new(request), tx))?;
        rx.await.context("the hostile peer stopped")?
    }
}

/// This process's resident memory in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
