//! The network: a libp2p node that keeps the local store in sync with the other members'.
//!
//! Commands write events to the store; a running node notices them (it polls the store's
//! arrival log), publishes its own on the negotiation's gossipsub topic and asks its peers to sync.
//! Events from peers are checked by the protocol's rules and stored before they are forwarded.
//! See README.md ("Running a node") for ports, relays and invitations.

pub mod behaviour;
pub mod codec;
mod node;
mod orphans;
pub mod peers;
mod serve;

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result};
use entente_protocol::{EventId, NegotiationId, SignedCertificate};
use libp2p::identity;
use tokio::sync::{mpsc, oneshot};

pub use behaviour::RelayLimits;
pub use libp2p::{Multiaddr, PeerId};

use crate::home::Home;

/// Who this node is on the network.
pub enum Credentials {
    /// A delegation's device: presents its certificate when it asks to sync.
    Member {
        keypair: identity::Keypair,
        certificate: Box<SignedCertificate>,
    },
    /// A mediator's relay: not a member of anything.
    Relay { keypair: identity::Keypair },
}

/// The mediator relay's settings.
#[derive(Debug, Clone, Default)]
pub struct RelayConfig {
    pub limits: RelayLimits,
    /// Addresses to advertise; without any, the listen addresses are advertised (fine on a LAN
    /// or loopback, wrong behind NAT).
    pub external: Vec<Multiaddr>,
    /// Peers served besides the members of the negotiations in the relay's store.
    pub allow: HashSet<PeerId>,
    /// Answer sync requests from the store, so that offline members can catch up from the relay.
    pub mailbox: bool,
}

#[derive(Debug, Clone)]
pub struct NetConfig {
    pub listen: Vec<Multiaddr>,
    /// Relays to use, each with its `/p2p/` id.
    pub relays: Vec<Multiaddr>,
    /// Peers to dial at start (an invitation's addresses).
    pub peers: Vec<Multiaddr>,
    /// Peers to let in although they are not (yet) known members (an invitation's inviter).
    pub trusted: HashSet<PeerId>,
    /// Negotiations to fetch although the store does not hold them yet (joining by invitation).
    pub follow: Vec<NegotiationId>,
    pub mdns: bool,
    /// Reach members only through relays (no hole punching, no direct dials).
    pub relay_only: bool,
    pub relay: Option<RelayConfig>,
    /// How long an unknown peer may stay connected without proving membership.
    pub probation: Duration,
    /// How often the store is polled for events written by commands.
    pub poll: Duration,
    /// How often missing members are dialled and peers asked to sync.
    pub maintenance: Duration,
    /// How many members to keep connections to: beyond that, gossip and sync reach the others
    /// through the ones connected (a conference of 200 need not be a full mesh).
    pub member_links: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(0),
            relays: Vec::new(),
            peers: Vec::new(),
            trusted: HashSet::new(),
            follow: Vec::new(),
            mdns: true,
            relay_only: false,
            relay: None,
            probation: Duration::from_secs(10),
            poll: Duration::from_millis(200),
            maintenance: Duration::from_secs(2),
            member_links: DEFAULT_MEMBER_LINKS,
        }
    }
}

/// Enough links for gossipsub's mesh (6 to 12 peers) with spares for churn.
pub const DEFAULT_MEMBER_LINKS: usize = 24;

/// TCP and QUIC on every interface, on `port` (0: any free port).
pub fn default_listen(port: u16) -> Vec<Multiaddr> {
    [
        format!("/ip4/0.0.0.0/tcp/{port}"),
        format!("/ip4/0.0.0.0/udp/{port}/quic-v1"),
    ]
    .iter()
    .filter_map(|a| a.parse().ok())
    .collect()
}

/// What a running node can be asked.
pub(crate) enum Control {
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    Admitted(oneshot::Sender<Vec<PeerId>>),
    Dial(Multiaddr),
    Block(PeerId),
    Unblock(PeerId),
    /// Resolve once the given peer's heads include the event (it has the event).
    Confirm(NegotiationId, EventId, PeerId, oneshot::Sender<()>),
    DirectConnections(oneshot::Sender<Vec<PeerId>>),
    Connected(oneshot::Sender<Vec<PeerId>>),
    /// Publish bytes as they are on a negotiation's topic (hostile-peer tests).
    PublishRaw(NegotiationId, Vec<u8>),
    /// Fetch a negotiation from an inviter: trust it (and its relays), dial it, ask for it.
    Follow(Invited),
    /// Read the store's new events now rather than at the next poll.
    PollStore,
    Shutdown,
}

/// Where an invitation says to fetch a negotiation from.
#[derive(Debug, Clone)]
pub struct Invited {
    pub negotiation: NegotiationId,
    pub inviter: PeerId,
    /// Addresses to dial: the inviter's own, and through each relay.
    pub dial: Vec<Multiaddr>,
    /// The inviter's relays (each ending with /p2p/<relay id>).
    pub relays: Vec<Multiaddr>,
}

/// A cheap, clonable way to ask a running node things (for the local API).
#[derive(Clone)]
pub struct NodeControl {
    tx: mpsc::Sender<Control>,
}

impl NodeControl {
    /// Starts fetching a negotiation named in an invitation.
    pub async fn follow(&self, invited: Invited) -> Result<()> {
        self.tx
            .send(Control::Follow(invited))
            .await
            .context("the node has stopped")
    }

    /// Tells the node that events were just written to the store, so that it publishes them
    /// without waiting for its next poll.
    pub async fn poll_store(&self) -> Result<()> {
        self.tx
            .send(Control::PollStore)
            .await
            .context("the node has stopped")
    }
}

/// A node running in the background of this process.
pub struct NodeHandle {
    pub peer_id: PeerId,
    tx: mpsc::Sender<Control>,
    stored: tokio::sync::broadcast::Sender<EventId>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl NodeHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .context("the node has stopped")?;
        rx.await.context("the node has stopped")
    }

    /// Ids of the events this node stores from the network, as it stores them (a receiver that
    /// falls more than 4096 behind loses the oldest).
    pub fn stored_events(&self) -> tokio::sync::broadcast::Receiver<EventId> {
        self.stored.subscribe()
    }

    pub fn control(&self) -> NodeControl {
        NodeControl {
            tx: self.tx.clone(),
        }
    }

    /// The addresses the node listens on (each with `/p2p/<id>`).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>> {
        self.ask(Control::ListenAddrs).await
    }

    /// Peers connected and admitted as members or relays.
    pub async fn admitted(&self) -> Result<Vec<PeerId>> {
        self.ask(Control::Admitted).await
    }

    /// Peers with a direct (not relayed) connection.
    pub async fn direct_connections(&self) -> Result<Vec<PeerId>> {
        self.ask(Control::DirectConnections).await
    }

    /// Every peer with an open connection, admitted or not.
    pub async fn connected(&self) -> Result<Vec<PeerId>> {
        self.ask(Control::Connected).await
    }

    /// Publishes arbitrary bytes on a negotiation's gossip topic, bypassing every check: lets a
    /// test play a hostile member.
    pub async fn publish_raw(&self, negotiation: NegotiationId, bytes: Vec<u8>) -> Result<()> {
        self.tx
            .send(Control::PublishRaw(negotiation, bytes))
            .await
            .context("the node has stopped")
    }

    pub async fn dial(&self, addr: Multiaddr) -> Result<()> {
        self.tx
            .send(Control::Dial(addr))
            .await
            .context("the node has stopped")
    }

    /// Cut this peer off (until [`NodeHandle::unblock`]): used to test partitions.
    pub async fn block(&self, peer: PeerId) -> Result<()> {
        self.tx
            .send(Control::Block(peer))
            .await
            .context("the node has stopped")
    }

    pub async fn unblock(&self, peer: PeerId) -> Result<()> {
        self.tx
            .send(Control::Unblock(peer))
            .await
            .context("the node has stopped")
    }

    /// Waits until `peer` holds `event`.
    pub async fn confirm(
        &self,
        negotiation: NegotiationId,
        event: EventId,
        peer: PeerId,
    ) -> Result<()> {
        self.ask(|tx| Control::Confirm(negotiation, event, peer, tx))
            .await
    }

    /// Stops the node and waits for it to finish.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.tx.send(Control::Shutdown).await;
        self.task.await.context("the node task panicked")?
    }
}

/// Starts a node on the current tokio runtime.
pub async fn spawn(home: Home, credentials: Credentials, config: NetConfig) -> Result<NodeHandle> {
    let (tx, rx) = mpsc::channel(64);
    let node = node::Node::start(home, credentials, config)?;
    let peer_id = node.peer_id();
    let stored = node.stored_sender();
    let span = tracing::info_span!("node", peer = %short_peer(&peer_id));
    let task = tokio::spawn(tracing::Instrument::instrument(node.run(rx), span));
    Ok(NodeHandle {
        peer_id,
        tx,
        stored,
        task,
    })
}

/// The last characters of a PeerId: enough to tell nodes apart in logs.
pub fn short_peer(peer: &PeerId) -> String {
    let s = peer.to_string();
    s[s.len().saturating_sub(8)..].to_string()
}
