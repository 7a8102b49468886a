//! The node's event loop: swarm events, store polling, dialling, sync and gossip.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use entente_protocol::dag::{ParentInfo, check_links, check_time, is_shared_channel};
use entente_protocol::sync::{SyncRequest, SyncResponse, SyncStatus};
use entente_protocol::{
    Body, DeviceId, Event, EventError, EventId, NegotiationId, NegotiationState, SignedCertificate,
};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, TopicHash};
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad, mdns, relay};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::behaviour::{Behaviour, BehaviourEvent, SwarmOptions, build_swarm};
use super::orphans::{Held, MAX_MISSING, Orphans, footprint};
use super::peers::{device_of, is_relayed, peer_in, peer_of, via_relay, with_peer};
use super::serve::{Serving, stored_event};
use super::{Control, Credentials, NetConfig};
use crate::folded::{Folded, Refresh};
use crate::home::Home;
use crate::store::{self, Store};
use crate::workspace::now_ms;

/// Where an event came from: gossip is live push from anyone connected, so it must come from a
/// known member; sync copies a member's record, exclusions included.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    Gossip,
    Sync,
}

enum Ingest {
    Stored(NegotiationId),
    Duplicate,
    MissingParents(NegotiationId),
    NotOurs,
    Invalid(String),
}

pub(super) struct Node {
    swarm: Swarm<Behaviour>,
    store: Store,
    home: Home,
    config: NetConfig,
    me: PeerId,
    my_device: Option<DeviceId>,
    certificate: Option<SignedCertificate>,
    relays: HashMap<PeerId, Multiaddr>,
    negotiations: BTreeMap<NegotiationId, Folded>,
    wanted: HashSet<NegotiationId>,
    topics: HashMap<TopicHash, NegotiationId>,
    connected: HashMap<PeerId, HashSet<Multiaddr>>,
    admitted: HashSet<PeerId>,
    probation: HashMap<PeerId, Instant>,
    blocked: HashSet<PeerId>,
    pending: HashMap<OutboundRequestId, (PeerId, NegotiationId)>,
    syncing: HashSet<(PeerId, NegotiationId)>,
    /// Sync again with these once the current round ends (they announced heads we lack).
    resync: HashSet<(PeerId, NegotiationId)>,
    backoff: HashMap<PeerId, (Instant, Duration)>,
    listen_addrs: Vec<Multiaddr>,
    relay_listening: HashSet<PeerId>,
    last_arrival: i64,
    confirms: Vec<(NegotiationId, EventId, PeerId, oneshot::Sender<()>)>,
    last_anti_entropy: Instant,
    /// Where the next anti-entropy round starts in the (sorted) admitted peers.
    anti_entropy_turn: usize,
    /// Ids of events stored from the network, for whoever watches (benchmarks, tests).
    stored: broadcast::Sender<EventId>,
    /// What each peer is known to hold, so that sync requests are answered without
    /// recomputing it.
    serving: Serving,
    /// Per peer: gossip that cost a signature check and brought nothing (see [`GOSSIP_BURST`]).
    gossip_budget: HashMap<PeerId, (f64, Instant)>,
    /// Parents a peer owes us: it gossiped a shared event citing them, so it holds them, and the
    /// sync round that follows must bring them.
    owed: HashMap<(PeerId, NegotiationId), Owed>,
    /// Gossiped events waiting for their parents before they are validated and forwarded.
    orphans: Orphans,
}

struct Owed {
    parents: Vec<EventId>,
    /// The request whose round must bring them (the first one sent after the event came).
    round: Option<OutboundRequestId>,
}

const BACKOFF_START: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
const ANTI_ENTROPY: Duration = Duration::from_secs(10);
/// Peers an anti-entropy round syncs with. Gossip delivers nearly everything and the round is
/// for what it dropped: a round with every peer (30 on a 50-member mesh) cost seconds of CPU
/// across the nodes and held gossip up for as long.
const ANTI_ENTROPY_PEERS: usize = 3;
const FIRST_DIAL_DEFERRAL: Duration = Duration::from_secs(5);
/// Own events older than this when the node first sees them are left to sync, not gossiped.
const GOSSIP_FRESH_MS: u64 = 60_000;
/// At most this many of the device's own events are gossiped per store poll (the newest).
const MAX_GOSSIP_PER_POLL: usize = 16;
/// Fewer gossip mesh peers than this (or than the peers admitted) and a node publishing an event
/// also asks its peers to sync.
const MIN_GOSSIP_MESH: usize = 3;
/// Gossiped events whose parents we lack cost a signature check and a sync round, and an honest
/// peer sends them only when gossip overtakes itself. A peer may send this many in a burst,
/// refilled at [`GOSSIP_RATE`] a second, before it is cut off as a flooder. An honest burst of
/// 1000 events, every one of them out of order, stays within it.
const GOSSIP_BURST: f64 = 2000.0;
const GOSSIP_RATE: f64 = 200.0;

/// A random point in the past anti-entropy period, so that nodes started together (a restart of
/// a venue's machines, a test, a benchmark) do not run their rounds at the same moment.
fn anti_entropy_start() -> Instant {
    let mut b = [0u8; 8];
    let offset = match getrandom::fill(&mut b) {
        Ok(()) => Duration::from_millis(u64::from_le_bytes(b) % ANTI_ENTROPY.as_millis() as u64),
        Err(_) => Duration::ZERO,
    };
    let now = Instant::now();
    now.checked_sub(offset).unwrap_or(now)
}

/// The order in which a node prefers to link to members: a hash of both ids.
fn link_rank(me: &[u8], peer: &PeerId) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"entente/link-rank/v1")
        .chain_update(me)
        .chain_update(peer.to_bytes())
        .finalize()
        .to_vec()
}

/// Shared events (governance and plenary) go to the negotiation's topic; each restricted
/// channel has a topic of its own, to which only its readers (and relays) subscribe.
fn topic_for(negotiation: &NegotiationId, channel: &str) -> IdentTopic {
    if is_shared_channel(channel) {
        IdentTopic::new(format!("entente/negotiation/{negotiation}"))
    } else {
        IdentTopic::new(format!("entente/negotiation/{negotiation}/{channel}"))
    }
}

impl Node {
    pub(super) fn start(home: Home, credentials: Credentials, config: NetConfig) -> Result<Self> {
        let (keypair, certificate) = match credentials {
            Credentials::Member {
                keypair,
                certificate,
            } => (keypair, Some(*certificate)),
            Credentials::Relay { keypair } => (keypair, None),
        };
        let me = keypair.public().to_peer_id();
        let store = Store::open(&home.database()).context("cannot open the database")?;
        // What the node stores comes from the network and can be synced again; a commit per
        // gossiped event waiting for the disk would cap a busy node at the disk's flush rate.
        store.relax_durability()?;
        let opts = SwarmOptions {
            mdns: config.mdns && !config.relay_only,
            hole_punching: !config.relay_only,
            relay: config.relay.as_ref().map(|r| r.limits.clone()),
            idle_timeout: Duration::from_secs(3600),
        };
        let mut swarm = build_swarm(keypair, &opts)?;
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .with_context(|| format!("cannot listen on {addr}"))?;
        }
        if let Some(r) = &config.relay {
            for addr in &r.external {
                swarm.add_external_address(addr.clone());
            }
        }
        let mut relays = HashMap::new();
        for addr in &config.relays {
            let peer = peer_in(addr)
                .with_context(|| format!("relay address {addr} must end with /p2p/<relay id>"))?;
            relays.insert(peer, addr.clone());
        }
        let last_arrival = store::get_meta(store.conn(), "published_arrival")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut node = Self {
            swarm,
            store,
            home,
            me,
            my_device: device_of(&me),
            certificate,
            relays,
            negotiations: BTreeMap::new(),
            wanted: config.follow.iter().copied().collect(),
            topics: HashMap::new(),
            connected: HashMap::new(),
            admitted: HashSet::new(),
            probation: HashMap::new(),
            blocked: HashSet::new(),
            pending: HashMap::new(),
            syncing: HashSet::new(),
            resync: HashSet::new(),
            backoff: HashMap::new(),
            listen_addrs: Vec::new(),
            relay_listening: HashSet::new(),
            last_arrival,
            confirms: Vec::new(),
            last_anti_entropy: anti_entropy_start(),
            anti_entropy_turn: 0,
            stored: broadcast::channel(4096).0,
            serving: Serving::default(),
            gossip_budget: HashMap::new(),
            owed: HashMap::new(),
            orphans: Orphans::default(),
            config,
        };
        for neg in store::negotiations(node.store.conn())? {
            node.track(neg);
        }
        for addr in node.config.peers.clone() {
            if let Err(e) = node.swarm.dial(addr.clone()) {
                tracing::warn!(%addr, "cannot dial: {e}");
            }
        }
        tracing::info!(peer = %me, negotiations = node.negotiations.len(), "node started");
        Ok(node)
    }

    pub(super) fn peer_id(&self) -> PeerId {
        self.me
    }

    pub(super) fn stored_sender(&self) -> broadcast::Sender<EventId> {
        self.stored.clone()
    }

    pub(super) async fn run(mut self, mut control: mpsc::Receiver<Control>) -> Result<()> {
        let mut poll = tokio::time::interval(self.config.poll);
        let mut maintenance = tokio::time::interval(self.config.maintenance);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = control.recv() => match command {
                    Some(Control::Shutdown) | None => break,
                    Some(c) => self.on_control(c),
                },
                _ = poll.tick() => {
                    if let Err(e) = self.poll_store() {
                        tracing::warn!("cannot read new events from the store: {e:#}");
                    }
                }
                _ = maintenance.tick() => self.maintain(),
            }
        }
        tracing::info!("node stopped");
        Ok(())
    }

    // ----- negotiations and their state -------------------------------------------------------

    fn track(&mut self, negotiation: NegotiationId) {
        if self.negotiations.contains_key(&negotiation) {
            return;
        }
        let topic = topic_for(&negotiation, entente_protocol::body::PLENARY_CHANNEL);
        if let Err(e) = self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
            tracing::warn!(%negotiation, "cannot subscribe to the negotiation's topic: {e}");
        }
        self.topics.insert(topic.hash(), negotiation);
        self.negotiations.insert(negotiation, Folded::new());
        self.wanted.remove(&negotiation);
        tracing::info!(%negotiation, "following negotiation");
    }

    /// Negotiations held, and those being fetched by invitation.
    fn followed(&self) -> Vec<NegotiationId> {
        self.negotiations
            .keys()
            .chain(self.wanted.iter())
            .copied()
            .collect()
    }

    /// Subscribes to the topics of the restricted channels this node reads (a relay: all of them).
    fn refresh_subscriptions(&mut self) {
        let me = self.certificate.as_ref().map(|c| c.certificate.delegation);
        let is_relay = self.config.relay.is_some();
        let negs: Vec<_> = self.negotiations.keys().copied().collect();
        for neg in negs {
            let Some(state) = self.state(&neg) else {
                continue;
            };
            let channels: Vec<String> = match (is_relay, me) {
                (true, _) => state.channels.defs.keys().cloned().collect(),
                (false, Some(d)) => state.channels_of(&d),
                (false, None) => Vec::new(),
            };
            for channel in channels.iter().filter(|c| !is_shared_channel(c)) {
                let topic = topic_for(&neg, channel);
                if self.topics.contains_key(&topic.hash()) {
                    continue;
                }
                match self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
                    Ok(_) => {
                        tracing::info!(negotiation = %neg, channel, "following channel");
                        self.topics.insert(topic.hash(), neg);
                    }
                    Err(e) => {
                        tracing::warn!(channel, "cannot subscribe to the channel's topic: {e}")
                    }
                }
            }
        }
    }

    /// The channels a peer may receive events of (`None`: all, for our own relays).
    fn readable_by(&mut self, peer: &PeerId, request: &SyncRequest) -> Option<BTreeSet<String>> {
        if self.relays.contains_key(peer) {
            return None;
        }
        // Not cloned: a state holds an entry per event, and this runs for every request.
        let Some(state) = self.state(&request.negotiation) else {
            return Some(BTreeSet::new());
        };
        let delegation = device_of(peer)
            .and_then(|d| state.delegation_of(&d))
            .or_else(|| {
                request
                    .certificate
                    .as_ref()
                    .map(|c| c.certificate.delegation)
            });
        Some(
            delegation
                .map(|d| state.channels_of(&d).into_iter().collect())
                .unwrap_or_default(),
        )
    }

    /// The current state of a negotiation, with the events that arrived since folded in.
    fn state(&mut self, negotiation: &NegotiationId) -> Option<&NegotiationState> {
        let folded = self.negotiations.get_mut(negotiation)?;
        let conn = self.store.conn();
        match folded.current(|| store::events(conn, negotiation).map_err(anyhow::Error::from)) {
            Ok((state, refresh)) => {
                if let Refresh::Refolded(n) = refresh {
                    tracing::debug!(%negotiation, events = n, "folded the negotiation");
                }
                Some(state)
            }
            Err(e) => {
                tracing::error!(%negotiation, "cannot fold the negotiation: {e:#}");
                None
            }
        }
    }

    fn all_states(&mut self) -> Vec<NegotiationState> {
        let ids: Vec<_> = self.negotiations.keys().copied().collect();
        ids.iter().filter_map(|n| self.state(n).cloned()).collect()
    }

    /// Whether a peer may stay connected: a relay we use or serve, an invitation's inviter, or
    /// a device of a member of one of our negotiations.
    fn is_known_peer(&mut self, peer: &PeerId) -> bool {
        if self.relays.contains_key(peer) || self.config.trusted.contains(peer) {
            return true;
        }
        if self
            .config
            .relay
            .as_ref()
            .is_some_and(|r| r.allow.contains(peer))
        {
            return true;
        }
        let Some(device) = device_of(peer) else {
            return false;
        };
        let ids: Vec<_> = self.negotiations.keys().copied().collect();
        ids.iter().any(|n| {
            self.state(n)
                .is_some_and(|s| s.member_devices().any(|d| d == device))
        })
    }

    fn admit(&mut self, peer: PeerId) {
        self.probation.remove(&peer);
        if self.admitted.insert(peer) {
            tracing::info!(%peer, "peer admitted");
            for n in self.followed() {
                self.request_sync(peer, n);
            }
        }
    }

    fn punish(&mut self, peer: PeerId, why: &str) {
        // What it sent before the connection closed is still being delivered.
        if self.blocked.contains(&peer) {
            return;
        }
        tracing::warn!(%peer, "disconnecting a peer that sent invalid data: {why}");
        self.admitted.remove(&peer);
        self.blocked.insert(peer);
        self.swarm.behaviour_mut().blocked.block_peer(peer);
        self.serving.forget(&peer);
        self.owed.retain(|(p, _), _| *p != peer);
    }

    // ----- store polling: events written by commands ------------------------------------------

    fn poll_store(&mut self) -> Result<()> {
        let arrivals = store::arrivals_since(self.store.conn(), self.last_arrival, 1000)?;
        if arrivals.is_empty() {
            return Ok(());
        }
        let mut touched = HashSet::new();
        // Only the newest of this device's events in one poll are gossiped: a backlog (written
        // offline, or a store restored on a new device) goes by sync, since gossiped its events
        // would reach peers long before their parents do.
        let own: Vec<usize> = arrivals
            .iter()
            .enumerate()
            .filter(|(_, (_, e))| Some(e.header.author) == self.my_device)
            .map(|(i, _)| i)
            .collect();
        let gossip_from = own
            .len()
            .checked_sub(MAX_GOSSIP_PER_POLL)
            .and_then(|k| own.get(k).copied())
            .unwrap_or(0);
        for (i, (seq, event)) in arrivals.iter().enumerate() {
            self.last_arrival = *seq;
            let neg = event.negotiation();
            self.track(neg);
            // Written by a command, maybe before a cursor was built that already accounts for it.
            self.serving.stored(&neg, event.order_key(), Some(*seq));
            if let Some(n) = self.negotiations.get_mut(&neg) {
                n.added(event);
            }
            // Written by another process: held gossip may have waited for it.
            self.orphans.stored(&event.id);
            if Some(event.header.author) == self.my_device {
                let fresh = i >= gossip_from
                    && now_ms().saturating_sub(event.header.time) <= GOSSIP_FRESH_MS;
                if fresh {
                    self.publish(neg, event);
                }
                if !fresh || self.thin_mesh(&neg, &event.header.channel) {
                    touched.insert(neg);
                }
            }
        }
        store::set_meta(
            self.store.conn(),
            "published_arrival",
            &self.last_arrival.to_string(),
        )?;
        // Where the gossip mesh is not formed yet, asking our peers to sync makes them see our
        // new heads and pull them. With a mesh, gossip delivers and anti-entropy covers the rest:
        // a sync round with every peer for every event would cost more than the event.
        let peers: Vec<_> = self.admitted.iter().copied().collect();
        for neg in touched {
            for p in &peers {
                self.request_sync(*p, neg);
            }
        }
        self.release_orphans();
        Ok(())
    }

    /// Whether an event on this channel might not reach the others by gossip alone.
    fn thin_mesh(&self, negotiation: &NegotiationId, channel: &str) -> bool {
        let topic = topic_for(negotiation, channel).hash();
        let mesh = self.swarm.behaviour().gossipsub.mesh_peers(&topic).count();
        mesh < MIN_GOSSIP_MESH.min(self.admitted.len())
    }

    fn publish(&mut self, negotiation: NegotiationId, event: &Event) {
        if !self.negotiations.contains_key(&negotiation) {
            return;
        }
        let topic = topic_for(&negotiation, &event.header.channel);
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, event.to_wire())
        {
            Ok(_) => tracing::debug!(event = %event.id, "published"),
            Err(e) => {
                tracing::debug!(event = %event.id, "not published by gossip ({e}); sync will carry it")
            }
        }
    }

    // ----- ingest -----------------------------------------------------------------------------

    /// Checks one synced event against the store and the events accepted before it in the same
    /// batch (`batch`: their lamports). Its signature was checked already (`verified`, the result
    /// of parsing `wire`): a batch's are checked together on every core. Returns the event, or
    /// what to do instead of storing it.
    fn check_verified(
        &mut self,
        wire: &[u8],
        verified: Result<Event, EventError>,
        path: Path,
        batch: &HashMap<EventId, ParentInfo>,
    ) -> Result<Event, Ingest> {
        if let Some(id) = Event::claimed_id(wire)
            && (batch.contains_key(&id) || self.stored_copy(&id, wire).is_some())
        {
            return Err(Ingest::Duplicate);
        }
        let event = verified.map_err(|e| Ingest::Invalid(e.to_string()))?;
        self.check_event(event, path, batch)
    }

    /// The negotiation and channel of a stored event whose wire form is exactly `wire`: a copy
    /// of it needs no signature check (a bytewise different one is checked in full).
    fn stored_copy(&self, id: &EventId, wire: &[u8]) -> Option<(NegotiationId, String)> {
        match stored_event(self.store.conn(), id) {
            Ok(Some((w, negotiation, channel))) if w == wire => Some((negotiation, channel)),
            Ok(_) => None,
            Err(e) => {
                tracing::error!("store error: {e}");
                None
            }
        }
    }

    fn check_event(
        &mut self,
        event: Event,
        path: Path,
        batch: &HashMap<EventId, ParentInfo>,
    ) -> Result<Event, Ingest> {
        let neg = event.negotiation();
        if !self.negotiations.contains_key(&neg) && !self.wanted.contains(&neg) {
            return Err(Ingest::NotOurs);
        }
        if batch.contains_key(&event.id) {
            return Err(Ingest::Duplicate);
        }
        match store::contains(self.store.conn(), &event.id) {
            Ok(false) => {}
            Ok(true) => return Err(Ingest::Duplicate),
            Err(e) => {
                tracing::error!("store error: {e}");
                return Err(Ingest::Duplicate);
            }
        }
        check_time(&event, now_ms()).map_err(|e| Ingest::Invalid(e.to_string()))?;
        let conn = self.store.conn();
        let parent = |p: &EventId| {
            batch
                .get(p)
                .cloned()
                .or_else(|| store::parent_info(conn, &neg, p).ok().flatten())
        };
        match check_links(&event, neg, parent) {
            Ok(()) => {}
            Err(EventError::ParentMissing { .. }) => return Err(Ingest::MissingParents(neg)),
            Err(e) => return Err(Ingest::Invalid(e.to_string())),
        }
        if path == Path::Gossip && !self.author_is_known(&event) {
            return Err(Ingest::Invalid(format!(
                "event {} is by a device that is not a member",
                event.id.short()
            )));
        }
        Ok(event)
    }

    /// Stores checked events in one transaction (one disk flush for a whole sync batch).
    fn store_events(&mut self, events: &[Event]) -> Result<()> {
        let tx = self.store.write()?;
        for e in events {
            store::insert(&tx, e, now_ms())?;
        }
        tx.commit()?;
        for e in events {
            let neg = e.negotiation();
            self.track(neg);
            self.serving.stored(&neg, e.order_key(), None);
            if let Some(n) = self.negotiations.get_mut(&neg) {
                n.added(e);
            }
            let _ = self.stored.send(e.id);
            self.orphans.stored(&e.id);
            tracing::debug!(event = %e.id, kind = %e.header.kind, "stored event from the network");
        }
        Ok(())
    }

    fn ingest(&mut self, event: Event, path: Path) -> Ingest {
        match self.check_event(event, path, &HashMap::new()) {
            Ok(event) => match self.store_events(std::slice::from_ref(&event)) {
                Ok(()) => Ingest::Stored(event.negotiation()),
                Err(e) => {
                    tracing::error!("cannot store an event: {e:#}");
                    Ingest::Duplicate
                }
            },
            Err(outcome) => outcome,
        }
    }

    /// Live traffic must come from a device that is or was a member, or be a join by a device of
    /// an accredited delegation: anything else is noise from outside and is not forwarded.
    fn author_is_known(&mut self, event: &Event) -> bool {
        let neg = event.negotiation();
        // Most gossip is by devices the state already knew when it was last brought up to date:
        // that answer needs no fold of what arrived since (a fold per gossiped event would).
        if self
            .negotiations
            .get(&neg)
            .and_then(Folded::last_folded)
            .is_some_and(|s| s.delegation_of(&event.header.author).is_some())
        {
            return true;
        }
        let Some(state) = self.state(&neg) else {
            return false;
        };
        if state.delegation_of(&event.header.author).is_some() {
            return true;
        }
        match &event.body {
            Some(Body::Join { certificate }) => state
                .members
                .get(&certificate.certificate.delegation)
                .is_some_and(|m| m.status.is_member()),
            _ => false,
        }
    }

    // ----- gossip -----------------------------------------------------------------------------

    fn on_gossip(&mut self, source: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
        // An event travels on its own channel's topic: on any other it would reach peers who
        // must not receive it.
        let wrong_topic =
            |neg: &NegotiationId, channel: &str| topic_for(neg, channel).hash() != message.topic;
        let expected = self.topics.get(&message.topic).copied();
        // A copy of an event we hold is recognised without checking its signature again
        // (gossip and sync race, so honest peers send these too); the event is decoded once.
        let stored =
            Event::claimed_id(&message.data).and_then(|eid| self.stored_copy(&eid, &message.data));
        let mut cited = Vec::new();
        let mut orphan = None;
        let outcome = match stored {
            Some((neg, channel)) if wrong_topic(&neg, &channel) => {
                Ingest::Invalid("event published on the wrong topic".into())
            }
            Some(_) => Ingest::Duplicate,
            None => match Event::from_wire(&message.data) {
                Err(e) => Ingest::Invalid(e.to_string()),
                Ok(e) if wrong_topic(&e.negotiation(), &e.header.channel) => {
                    Ingest::Invalid("event published on the wrong topic".into())
                }
                Ok(e) => {
                    // Shared events build only on shared ones, which every member may be sent.
                    if is_shared_channel(&e.header.channel) {
                        cited = e.header.parents.clone();
                    }
                    let outcome = self.ingest(e.clone(), Path::Gossip);
                    if matches!(outcome, Ingest::MissingParents(_)) {
                        orphan = Some(e);
                    }
                    outcome
                }
            },
        };
        let acceptance = match outcome {
            Ingest::Stored(neg) | Ingest::MissingParents(neg) if Some(neg) != expected => {
                self.punish(source, "event published on another negotiation's topic");
                MessageAcceptance::Reject
            }
            Ingest::Stored(_) | Ingest::Duplicate => MessageAcceptance::Accept,
            Ingest::MissingParents(_) | Ingest::NotOurs if !self.gossip_charge(source) => {
                self.punish(
                    source,
                    "flood of gossiped events whose parents it does not hold",
                );
                MessageAcceptance::Reject
            }
            Ingest::MissingParents(neg) => {
                if !cited.is_empty() && !self.relays.contains_key(&source) {
                    self.owed.entry((source, neg)).or_insert(Owed {
                        parents: cited,
                        round: None,
                    });
                }
                // The sync round asks for everything we lack at once: however many such events
                // arrive, at most one request per peer and negotiation is in flight.
                self.request_sync(source, neg);
                // The parents are probably a few milliseconds behind: wait for them, then
                // store and forward it (its validation result is reported then).
                if let Some(event) = orphan
                    && self.hold_orphan(event, id.clone(), source)
                {
                    return;
                }
                MessageAcceptance::Ignore
            }
            Ingest::NotOurs => MessageAcceptance::Ignore,
            Ingest::Invalid(why) => {
                self.punish(source, &why);
                MessageAcceptance::Reject
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, acceptance);
    }

    /// Holds a gossiped event until its missing parents are stored; false if it cannot be held.
    fn hold_orphan(&mut self, event: Event, message: gossipsub::MessageId, source: PeerId) -> bool {
        // Only from admitted peers, and by authors already known: junk with random authors must
        // not take the room honest events need.
        let known = self
            .negotiations
            .get(&event.negotiation())
            .and_then(Folded::last_folded)
            .is_some_and(|s| s.delegation_of(&event.header.author).is_some());
        if !known
            || !self.admitted.contains(&source)
            || !self.orphans.has_room(&source, footprint(&event))
        {
            return false;
        }
        let conn = self.store.conn();
        let mut missing = HashSet::new();
        for p in &event.header.parents {
            if !store::contains(conn, p).unwrap_or(true) {
                missing.insert(*p);
                if missing.len() > MAX_MISSING {
                    return false;
                }
            }
        }
        self.orphans
            .hold(event, missing, message, source, Instant::now())
    }

    /// Stores and forwards the held events whose parents have arrived.
    fn release_orphans(&mut self) {
        while let Some(held) = self.orphans.next_ready() {
            self.settle_orphan(held);
        }
    }

    /// Reports a held event's validation result: forwarded if it is stored now.
    fn settle_orphan(&mut self, held: Held) {
        let Held {
            event,
            message,
            source,
            ..
        } = held;
        let acceptance = match self.ingest(event, Path::Gossip) {
            Ingest::Stored(_) | Ingest::Duplicate => MessageAcceptance::Accept,
            Ingest::Invalid(why) => {
                self.punish(source, &why);
                MessageAcceptance::Reject
            }
            // Left to sync.
            Ingest::MissingParents(_) | Ingest::NotOurs => MessageAcceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message, &source, acceptance);
    }

    /// Charges a peer for a gossiped event that cost a signature check and brought nothing;
    /// false once it has sent too many (relays we use are never cut off for this).
    fn gossip_charge(&mut self, peer: PeerId) -> bool {
        if self.relays.contains_key(&peer) {
            return true;
        }
        let now = Instant::now();
        let (tokens, at) = self
            .gossip_budget
            .entry(peer)
            .or_insert((GOSSIP_BURST, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * GOSSIP_RATE).min(GOSSIP_BURST) - 1.0;
        *at = now;
        *tokens >= 0.0
    }

    // ----- sync -------------------------------------------------------------------------------

    fn request_sync(&mut self, peer: PeerId, negotiation: NegotiationId) {
        if self.blocked.contains(&peer) || !self.connected.contains_key(&peer) {
            return;
        }
        if !self.syncing.insert((peer, negotiation)) {
            self.resync.insert((peer, negotiation));
            return;
        }
        let heads = store::heads(self.store.conn(), &negotiation).unwrap_or_default();
        let request = SyncRequest {
            negotiation,
            heads,
            certificate: self.certificate.clone(),
        };
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
        self.pending.insert(id, (peer, negotiation));
        if let Some(o) = self.owed.get_mut(&(peer, negotiation))
            && o.round.is_none()
        {
            o.round = Some(id);
        }
    }

    fn sync_finished(&mut self, peer: PeerId, negotiation: NegotiationId) {
        self.syncing.remove(&(peer, negotiation));
        if self.resync.remove(&(peer, negotiation)) {
            self.request_sync(peer, negotiation);
        }
    }

    /// Decides whether to answer a sync request, admitting the peer if it proves membership.
    fn may_serve(&mut self, peer: &PeerId, request: &SyncRequest) -> SyncStatus {
        if !self.negotiations.contains_key(&request.negotiation) {
            return SyncStatus::UnknownNegotiation;
        }
        let authorized = self.relays.contains_key(peer) || self.config.trusted.contains(peer) || {
            let device = device_of(peer);
            let certificate = request.certificate.clone();
            let now = now_ms();
            match (device, self.state(&request.negotiation)) {
                (Some(d), Some(s)) => s.may_sync(&d, certificate.as_ref(), now),
                _ => false,
            }
        };
        if !authorized {
            return SyncStatus::NotAuthorized;
        }
        self.admit(*peer);
        match &self.config.relay {
            // A relay without a mailbox carries traffic but keeps nothing for others.
            Some(r) if !r.mailbox => SyncStatus::UnknownNegotiation,
            _ => SyncStatus::Ok,
        }
    }

    fn on_sync_request(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        let status = self.may_serve(&peer, &request);
        let response = if status == SyncStatus::Ok {
            match self.batch_for(&peer, &request) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("cannot answer a sync request: {e:#}");
                    SyncResponse::refusal(SyncStatus::UnknownNegotiation)
                }
            }
        } else {
            if status == SyncStatus::NotAuthorized {
                tracing::warn!(%peer, negotiation = %request.negotiation, "refused to sync with a peer that is not a member");
            }
            SyncResponse::refusal(status)
        };
        if self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response)
            .is_err()
        {
            tracing::debug!(%peer, "sync response not sent: the peer went away");
        }
        // The asker holds events we lack: pull them.
        if status == SyncStatus::Ok {
            let conn = self.store.conn();
            let lacking = request
                .heads
                .iter()
                .any(|h| !store::contains(conn, h).unwrap_or(true));
            if lacking {
                self.request_sync(peer, request.negotiation);
            }
        }
    }

    /// The events the asker lacks, in fold order, as `select_batch` would choose them (see
    /// `serve`: about the cost of the batch, not of the negotiation). Restricted channels go
    /// only to their readers; their events never appear among the ancestors of a shared event,
    /// so what is sent is still complete for the receiver.
    fn batch_for(&mut self, peer: &PeerId, request: &SyncRequest) -> Result<SyncResponse> {
        let started = Instant::now();
        let readable = self.readable_by(peer, request);
        let conn = self.store.conn();
        let Some(batch) =
            self.serving
                .batch(conn, *peer, request.negotiation, &request.heads, readable)?
        else {
            // The asker keeps asking for what it was already sent; it can ask again later.
            tracing::debug!(%peer, negotiation = %request.negotiation, "sync request refused: too many full recomputations");
            return Ok(SyncResponse::refusal(SyncStatus::UnknownNegotiation));
        };
        tracing::debug!(%peer, events = batch.events.len(), more = batch.more, recomputed = batch.recomputed, took_us = started.elapsed().as_micros() as u64, "serving sync");
        Ok(SyncResponse {
            status: SyncStatus::Ok,
            heads: store::heads(conn, &request.negotiation)?,
            events: batch.events,
            more: batch.more,
        })
    }

    fn on_sync_response(&mut self, id: OutboundRequestId, response: SyncResponse) {
        let Some((peer, negotiation)) = self.pending.remove(&id) else {
            return;
        };
        match response.status {
            SyncStatus::Ok => {}
            SyncStatus::NotAuthorized => {
                if self.wanted.contains(&negotiation) {
                    // Joining: the accreditation may not have reached this peer yet; retried.
                    tracing::debug!(%peer, %negotiation, "peer does not serve us this negotiation yet");
                } else {
                    tracing::warn!(%peer, %negotiation, "peer refused to sync with us (are we still accredited?)");
                }
                self.owed.remove(&(peer, negotiation));
                return self.sync_finished(peer, negotiation);
            }
            SyncStatus::UnknownNegotiation => {
                self.owed.remove(&(peer, negotiation));
                return self.sync_finished(peer, negotiation);
            }
        }
        let mut accepted = Vec::new();
        let mut lamports = HashMap::new();
        let mut offender = None;
        let mut duplicates = 0;
        let verified = crate::verify::verify_all(&response.events);
        for (wire, verified) in response.events.iter().zip(verified) {
            match self.check_verified(wire, verified, Path::Sync, &lamports) {
                Ok(event) => {
                    lamports.insert(
                        event.id,
                        ParentInfo {
                            lamport: event.header.lamport,
                            channel: event.header.channel.clone(),
                        },
                    );
                    accepted.push(event);
                }
                Err(Ingest::Duplicate) => duplicates += 1,
                Err(Ingest::NotOurs | Ingest::Stored(_)) => {}
                Err(Ingest::MissingParents(_)) => {
                    tracing::warn!(%peer, "sync batch out of order; asking again");
                    break;
                }
                Err(Ingest::Invalid(why)) => {
                    offender = Some(why);
                    break;
                }
            }
        }
        let stored = accepted.len();
        if let Err(e) = self.store_events(&accepted) {
            tracing::error!("cannot store synced events: {e:#}");
            return self.sync_finished(peer, negotiation);
        }
        if let Some(why) = offender {
            self.punish(peer, &why);
            return self.sync_finished(peer, negotiation);
        }
        if stored > 0 {
            tracing::info!(%peer, %negotiation, stored, "synced events");
        }
        self.resolve_confirms(peer, negotiation, &response.heads);
        let conn = self.store.conn();
        let lacking = response
            .heads
            .iter()
            .any(|h| !store::contains(conn, h).unwrap_or(true));
        self.syncing.remove(&(peer, negotiation));
        let asked_again = self.resync.remove(&(peer, negotiation));
        // "More" with nothing usable would have us ask forever: an honest server's batches
        // are never empty when it says more.
        let progressed = stored > 0 || duplicates > 0;
        let continues = response.more && progressed;
        if let Some(o) = self.owed.get_mut(&(peer, negotiation))
            && o.round == Some(id)
        {
            if continues {
                o.round = None; // the next request of this round is held to it
            } else if let Some(o) = self.owed.remove(&(peer, negotiation)) {
                let conn = self.store.conn();
                if o.parents
                    .iter()
                    .any(|p| !store::contains(conn, p).unwrap_or(true))
                {
                    return self.punish(peer, "gossiped an event whose parents it does not send");
                }
            }
        }
        if continues || (lacking && stored > 0) || asked_again {
            self.request_sync(peer, negotiation);
        }
    }

    /// Tells the waiters whose event one of these heads is, or descends from.
    fn resolve_confirms(&mut self, peer: PeerId, negotiation: NegotiationId, heads: &[EventId]) {
        if self.confirms.is_empty() {
            return;
        }
        let conn = self.store.conn();
        let mut seen: HashSet<EventId> = heads.iter().copied().collect();
        for h in heads {
            if store::contains(conn, h).unwrap_or(false) {
                seen.extend(store::ancestors(conn, h).unwrap_or_default());
            }
        }
        let (done, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.confirms)
            .into_iter()
            .partition(|(n, e, p, _)| *p == peer && *n == negotiation && seen.contains(e));
        self.confirms = keep;
        for (_, _, _, tx) in done {
            let _ = tx.send(());
        }
    }

    // ----- connections and dialling -----------------------------------------------------------

    fn maintain(&mut self) {
        let now = Instant::now();
        for held in self.orphans.expired(now) {
            self.settle_orphan(held);
        }
        self.release_orphans();
        let expired: Vec<_> = self
            .probation
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            self.probation.remove(&peer);
            if !self.admitted.contains(&peer) && self.swarm.is_connected(&peer) {
                tracing::info!(%peer, "closing the connection of a peer that is not a member");
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
        self.listen_via_relays();
        self.refresh_subscriptions();
        self.dial_missing_members(now);
        // Someone waits to know that a peer holds an event: ask that peer again.
        let waiting: Vec<_> = self.confirms.iter().map(|(n, _, p, _)| (*p, *n)).collect();
        for (p, n) in waiting {
            self.request_sync(p, n);
        }
        // Negotiations we are joining are asked for at every round until they arrive.
        let wanted: Vec<_> = self.wanted.iter().copied().collect();
        let peers: Vec<_> = self.admitted.iter().copied().collect();
        for n in &wanted {
            for p in &peers {
                self.request_sync(*p, *n);
            }
        }
        if now.duration_since(self.last_anti_entropy) >= ANTI_ENTROPY {
            self.last_anti_entropy = now;
            // In this node's own order (sorted alike, every node would pick the same three).
            let me = self.me.to_bytes();
            let mut peers: Vec<_> = self.admitted.iter().copied().collect();
            peers.sort_by_cached_key(|p| link_rank(&me, p));
            let negs = self.followed();
            // A few peers per round, in turn: every peer comes round within len/3 rounds.
            let take = ANTI_ENTROPY_PEERS.min(peers.len());
            for k in 0..take {
                let p = peers[(self.anti_entropy_turn + k) % peers.len()];
                for n in &negs {
                    self.request_sync(p, *n);
                }
            }
            self.anti_entropy_turn = self.anti_entropy_turn.wrapping_add(take);
        }
    }

    /// Once connected to a relay, reserve a slot on it so that others can reach us through it.
    fn listen_via_relays(&mut self) {
        if self.config.relay.is_some() {
            return;
        }
        let ready: Vec<_> = self
            .relays
            .iter()
            .filter(|(p, _)| self.connected.contains_key(p) && !self.relay_listening.contains(p))
            .map(|(p, a)| (*p, a.clone()))
            .collect();
        for (peer, addr) in ready {
            let circuit = addr.with(libp2p::multiaddr::Protocol::P2pCircuit);
            match self.swarm.listen_on(circuit.clone()) {
                Ok(_) => {
                    self.relay_listening.insert(peer);
                }
                Err(e) => tracing::warn!(%circuit, "cannot listen through the relay: {e}"),
            }
        }
    }

    /// Members (not relays) this node is connected to and has admitted.
    fn linked_members(&self) -> usize {
        self.admitted
            .iter()
            .filter(|p| self.connected.contains_key(p) && !self.relays.contains_key(p))
            .count()
    }

    fn dial_missing_members(&mut self, now: Instant) {
        let mut targets: HashSet<PeerId> = HashSet::new();
        for state in self.all_states() {
            targets.extend(state.member_devices().filter_map(|d| peer_of(&d)));
        }
        targets.remove(&self.me);
        // Enough members connected: gossip and sync reach the rest through them. Which members
        // a node prefers is a stable pseudo-random choice, so that the links form a random graph.
        let linked = self.linked_members();
        let mut targets: Vec<PeerId> = if linked >= self.config.member_links {
            Vec::new()
        } else {
            let me = self.me.to_bytes();
            let mut ranked: Vec<(Vec<u8>, PeerId)> = targets
                .into_iter()
                .filter(|p| !self.connected.contains_key(p) && !self.blocked.contains(p))
                .map(|p| (link_rank(&me, &p), p))
                .collect();
            ranked.sort();
            ranked
                .into_iter()
                .take(self.config.member_links - linked)
                .map(|(_, p)| p)
                .collect()
        };
        targets.extend(self.relays.keys().copied());
        for peer in targets {
            if self.connected.contains_key(&peer) || self.blocked.contains(&peer) {
                continue;
            }
            // When two members dial each other at once over a relay, two circuits form and hole
            // punching fails on both: the member with the higher id lets the other dial first.
            if !self.backoff.contains_key(&peer)
                && self.me > peer
                && !self.relays.contains_key(&peer)
            {
                self.backoff
                    .insert(peer, (now + FIRST_DIAL_DEFERRAL, BACKOFF_START));
                continue;
            }
            let (next, delay) = self
                .backoff
                .get(&peer)
                .copied()
                .unwrap_or((now, BACKOFF_START));
            if next > now {
                continue;
            }
            self.backoff
                .insert(peer, (now + delay, (delay * 2).min(BACKOFF_MAX)));
            let mut addrs: Vec<Multiaddr> =
                if self.config.relay_only && !self.relays.contains_key(&peer) {
                    Vec::new()
                } else {
                    store::peer_addrs(self.store.conn(), &peer.to_string())
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|a| a.parse().ok())
                        .collect()
                };
            if let Some(a) = self.relays.get(&peer) {
                addrs.push(a.clone());
            } else {
                addrs.extend(self.relays.values().map(|r| via_relay(r, peer)));
            }
            if addrs.is_empty() && !self.config.relay_only {
                // Ask the DHT (our connected peers) where the member is.
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    kad.get_closest_peers(peer);
                }
                continue;
            }
            // A pending dial elsewhere (the DHT's, say) must not hold up this one.
            let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                .condition(libp2p::swarm::dial_opts::PeerCondition::Disconnected)
                .addresses(addrs)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, "dial failed: {e}");
            }
        }
    }

    fn remember(&mut self, peer: &PeerId, addr: &Multiaddr) {
        if is_relayed(addr) {
            return;
        }
        let addr = with_peer(addr, *peer);
        if let Err(e) = store::remember_addr(
            self.store.conn(),
            &peer.to_string(),
            &addr.to_string(),
            now_ms(),
        ) {
            tracing::debug!("cannot remember an address: {e}");
        }
    }

    fn write_node_file(&self) {
        let info = serde_json::json!({
            "peer_id": self.me.to_string(),
            "listen": self.listen_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "relays": self.relays.values().map(|a| a.to_string()).collect::<Vec<_>>(),
            "updated": now_ms(),
        });
        let path = self.home.root().join("node.json");
        if let Err(e) = serde_json::to_vec_pretty(&info)
            .map_err(anyhow::Error::from)
            .and_then(|b| crate::home::write_atomic(&path, &b))
        {
            tracing::warn!("cannot write {}: {e:#}", path.display());
        }
    }

    // ----- events -----------------------------------------------------------------------------

    fn on_control(&mut self, command: Control) {
        match command {
            Control::ListenAddrs(tx) => {
                let _ = tx.send(
                    self.listen_addrs
                        .iter()
                        .map(|a| with_peer(a, self.me))
                        .collect(),
                );
            }
            Control::Admitted(tx) => {
                let mut v: Vec<_> = self
                    .admitted
                    .iter()
                    .filter(|p| self.connected.contains_key(p))
                    .copied()
                    .collect();
                v.sort();
                let _ = tx.send(v);
            }
            Control::DirectConnections(tx) => {
                let v = self
                    .connected
                    .iter()
                    .filter(|(_, addrs)| addrs.iter().any(|a| !is_relayed(a)))
                    .map(|(p, _)| *p)
                    .collect();
                let _ = tx.send(v);
            }
            Control::Connected(tx) => {
                let _ = tx.send(self.connected.keys().copied().collect());
            }
            Control::PublishRaw(negotiation, bytes) => {
                if self.negotiations.contains_key(&negotiation) {
                    let topic = topic_for(&negotiation, entente_protocol::body::PLENARY_CHANNEL);
                    if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
                        tracing::warn!("raw publish failed: {e}");
                    }
                }
            }
            Control::Follow(invited) => {
                tracing::info!(negotiation = %invited.negotiation, inviter = %invited.inviter, "fetching an invited negotiation");
                self.wanted.insert(invited.negotiation);
                self.config.trusted.insert(invited.inviter);
                for r in &invited.relays {
                    if let Some(peer) = peer_in(r) {
                        self.config.trusted.insert(peer);
                        self.relays.entry(peer).or_insert_with(|| r.clone());
                    }
                }
                for addr in invited.relays.iter().chain(&invited.dial) {
                    if let Err(e) = self.swarm.dial(addr.clone()) {
                        tracing::debug!(%addr, "cannot dial: {e}");
                    }
                }
            }
            Control::Dial(addr) => {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    tracing::warn!(%addr, "cannot dial: {e}");
                }
            }
            Control::Block(peer) => {
                self.blocked.insert(peer);
                self.swarm.behaviour_mut().blocked.block_peer(peer);
            }
            Control::Unblock(peer) => {
                self.blocked.remove(&peer);
                self.backoff.remove(&peer);
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
            Control::Confirm(negotiation, event, peer, tx) => {
                self.confirms.push((negotiation, event, peer, tx));
                let peers: Vec<_> = self.admitted.iter().copied().collect();
                for p in peers {
                    self.request_sync(p, negotiation);
                }
            }
            Control::PollStore => {
                if let Err(e) = self.poll_store() {
                    tracing::warn!("cannot read new events from the store: {e:#}");
                }
            }
            Control::Shutdown => {}
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                if let Some(r) = &self.config.relay
                    && r.external.is_empty()
                    && !is_relayed(&address)
                {
                    self.swarm.add_external_address(address.clone());
                }
                let first = self.listen_addrs.is_empty();
                self.listen_addrs.push(address);
                self.write_node_file();
                // Dial relays once a listening socket exists, so the dial reuses its port (which
                // hole punching relies on).
                if first {
                    let relays: Vec<_> = self.relays.values().cloned().collect();
                    for addr in relays {
                        if let Err(e) = self.swarm.dial(addr.clone()) {
                            tracing::warn!(%addr, "cannot dial relay: {e}");
                        }
                    }
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                self.connected
                    .entry(peer_id)
                    .or_default()
                    .insert(addr.clone());
                if endpoint.is_dialer() {
                    self.remember(&peer_id, &addr);
                }
                self.backoff.remove(&peer_id);
                if self.is_known_peer(&peer_id) {
                    self.admit(peer_id);
                } else if !self.admitted.contains(&peer_id) {
                    tracing::debug!(peer = %peer_id, "unknown peer on probation");
                    self.probation
                        .entry(peer_id)
                        .or_insert(Instant::now() + self.config.probation);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                if let Some(addrs) = self.connected.get_mut(&peer_id) {
                    addrs.remove(endpoint.get_remote_address());
                }
                if num_established == 0 {
                    self.connected.remove(&peer_id);
                    self.admitted.remove(&peer_id);
                    self.probation.remove(&peer_id);
                    self.relay_listening.remove(&peer_id);
                    self.syncing.retain(|(p, _)| *p != peer_id);
                    self.serving.forget(&peer_id);
                    self.gossip_budget.remove(&peer_id);
                    self.owed.retain(|(p, _), _| *p != peer_id);
                }
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
        self.confirms.retain(|(_, _, _, tx)| !tx.is_closed());
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                self.on_gossip(propagation_source, message_id, message);
                self.release_orphans();
            }
            BehaviourEvent::Sync(request_response::Event::Message { peer, message, .. }) => {
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => self.on_sync_request(peer, request, channel),
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => {
                        self.on_sync_response(request_id, response);
                        self.release_orphans();
                    }
                }
            }
            BehaviourEvent::Sync(request_response::Event::OutboundFailure {
                request_id,
                error,
                ..
            }) => {
                if let Some((peer, negotiation)) = self.pending.remove(&request_id) {
                    tracing::debug!(%peer, "sync request failed: {error}");
                    self.owed.remove(&(peer, negotiation));
                    self.sync_finished(peer, negotiation);
                }
            }
            // In relay-only mode, peers' own addresses are not kept: nothing would dial them.
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })
                if self.admitted.contains(&peer_id) && !self.config.relay_only =>
            {
                for addr in &info.listen_addrs {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&peer_id, addr.clone());
                    }
                    self.remember(&peer_id, addr);
                }
            }
            BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::GetClosestPeers(Ok(found)),
                ..
            }) if !self.config.relay_only => {
                for info in found.peers {
                    let peer = info.peer_id;
                    if peer == self.me
                        || self.connected.contains_key(&peer)
                        || !self.is_known_peer(&peer)
                    {
                        continue;
                    }
                    for addr in &info.addrs {
                        self.remember(&peer, addr);
                    }
                    // The addresses are kept for later; a dial now would exceed the link budget.
                    if self.linked_members() >= self.config.member_links {
                        continue;
                    }
                    let opts = libp2p::swarm::dial_opts::DialOpts::peer_id(peer)
                        .addresses(info.addrs)
                        .build();
                    let _ = self.swarm.dial(opts);
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if peer != self.me
                        && !self.connected.contains_key(&peer)
                        && self.is_known_peer(&peer)
                    {
                        tracing::info!(%peer, %addr, "found a member on the local network");
                        let _ = self.swarm.dial(with_peer(&addr, peer));
                    }
                }
            }
            BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                ..
            }) => {
                tracing::info!(relay = %relay_peer_id, "reachable through the relay");
            }
            BehaviourEvent::Dcutr(e) => match e.result {
                Ok(_) => {
                    tracing::info!(peer = %e.remote_peer_id, "direct connection established by hole punching")
                }
                Err(err) => {
                    tracing::info!(peer = %e.remote_peer_id, "hole punching failed, staying on the relay: {err}")
                }
            },
            BehaviourEvent::Autonat(libp2p::autonat::Event::StatusChanged { new, .. }) => {
                tracing::info!(status = ?new, "NAT status");
            }
            BehaviourEvent::RelayServer(e) => tracing::debug!(event = ?e, "relay"),
            // libp2p-ping reports a connection whose pings fail twice in a row (a timeout, then a
            // stream that cannot be negotiated) but no longer closes it: a peer that vanished
            // without a FIN or RST (a relay's power cut, a dead link) would stay "connected" until
            // TCP gives up (~15 min), and it would not be redialled.
            BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                connection,
                result: Err(failure),
            }) if !matches!(failure, libp2p::ping::Failure::Unsupported) => {
                tracing::info!(%peer, "pings fail ({failure}): closing the connection");
                self.swarm.close_connection(connection);
            }
            _ => {}
        }
    }
}
