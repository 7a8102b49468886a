//! In-process nodes for network tests: each has its own temporary home (keys and database) and
//! runs the real node code on loopback TCP. Events are written through the same workspace API
//! that the commands use, and read back from each node's store.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entente_node::home::Home;
use entente_node::identity::Identity;
use entente_node::net::{self, Multiaddr, NetConfig, NodeHandle, PeerId};
use entente_node::workspace::Workspace;
use entente_protocol::{
    Body, Charter, DecisionRule, Event, EventId, NegotiationId, NegotiationState, Role,
};
use tempfile::TempDir;

/// A delegation with a home directory, and maybe a running node.
pub struct Member {
    pub name: String,
    _dir: TempDir,
    pub home: Home,
    pub identity: Identity,
    pub node: Option<NodeHandle>,
    pub config: NetConfig,
}

/// A loopback configuration without mDNS, quick to notice new events.
pub fn loopback_config() -> NetConfig {
    NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("multiaddr")],
        mdns: false,
        probation: Duration::from_secs(3),
        poll: Duration::from_millis(50),
        maintenance: Duration::from_millis(500),
        ..NetConfig::default()
    }
}

/// Sends the nodes' logs to the test output when RUST_LOG is set (e.g. `RUST_LOG=entente_node=debug`).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
}

impl Member {
    pub fn new(name: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let home = Home::resolve(Some(dir.path().join("home")))?;
        Identity::create(&home, name, "test device", false)?;
        Self::from_home(name, dir, home)
    }

    /// A member over an existing home (for example a copy of another's keys with an empty store).
    pub fn from_home(name: &str, dir: TempDir, home: Home) -> Result<Self> {
        init_logs();
        let identity = Identity::load(&home)?;
        Ok(Self {
            name: name.to_string(),
            _dir: dir,
            home,
            identity,
            node: None,
            config: loopback_config(),
        })
    }

    pub fn workspace(&self) -> Result<Workspace> {
        Workspace::open(&self.home)
    }

    /// Convenes a negotiation with this member as chair.
    pub fn convene(&self, title: &str) -> Result<NegotiationId> {
        let charter = Charter {
            title: title.into(),
            mandate: String::new(),
            languages: vec!["en".into()],
            decision_rule: DecisionRule::Consensus,
            silence_period_secs: 3600,
            chair_name: self.name.clone(),
            chair: self.identity.certificate.clone(),
            attribute_brackets: true,
        };
        Ok(self.workspace()?.create(&self.identity, charter)?.id)
    }

    pub fn post(&self, negotiation: &NegotiationId, body: Body) -> Result<Event> {
        self.workspace()?.post(&self.identity, negotiation, body)
    }

    /// Says something in plenary (sealed with the plenary's epoch key, as the CLI does).
    pub fn say(&self, negotiation: &NegotiationId, text: &str) -> Result<Event> {
        self.say_in(negotiation, "plenary", text)
    }

    pub fn say_in(&self, negotiation: &NegotiationId, channel: &str, text: &str) -> Result<Event> {
        self.workspace()?.post_content(
            &self.identity,
            negotiation,
            channel,
            Body::Message { text: text.into() },
        )
    }

    /// How many events of a channel this member's store holds (readable or not).
    pub fn events_in(&self, negotiation: &NegotiationId, channel: &str) -> Result<usize> {
        let (events, _) = self.workspace()?.load(negotiation)?;
        Ok(events
            .iter()
            .filter(|e| e.header.channel == channel)
            .count())
    }

    /// The texts this member can read in a channel, in fold order.
    pub fn texts(&self, negotiation: &NegotiationId, channel: &str) -> Vec<String> {
        let Ok(ws) = self.workspace() else {
            return Vec::new();
        };
        let Ok((events, state)) = ws.load(negotiation) else {
            return Vec::new();
        };
        let ring = entente_protocol::keyring::Keyring::open(
            &state,
            &events,
            &self.identity.public.device,
            &self.identity.sealing_secret,
        );
        events
            .iter()
            .filter(|e| e.header.channel == channel)
            .filter_map(|e| match ring.read(&state, e) {
                Ok(Body::Message { text }) | Ok(Body::Note { text }) => Some(text),
                _ => None,
            })
            .collect()
    }

    pub fn accredit(&self, negotiation: &NegotiationId, other: &Member) -> Result<Event> {
        self.post(
            negotiation,
            Body::Accredit {
                delegation: other.identity.public.delegation,
                role: Role::Delegation,
                name: other.name.clone(),
            },
        )
    }

    /// The chair removes `other` from the negotiation.
    pub fn remove(&self, negotiation: &NegotiationId, other: &Member) -> Result<Event> {
        self.post(
            negotiation,
            Body::Remove {
                delegation: other.identity.public.delegation,
                reason: "test".into(),
            },
        )
    }

    pub fn join(&self, negotiation: &NegotiationId) -> Result<Event> {
        self.post(
            negotiation,
            Body::Join {
                certificate: self.identity.certificate.clone(),
            },
        )
    }

    /// The negotiation as this member's store has it, if it has it.
    pub fn state(&self, negotiation: &NegotiationId) -> Option<NegotiationState> {
        let ws = self.workspace().ok()?;
        ws.load(negotiation).ok().map(|(_, s)| s)
    }

    pub fn event_ids(&self, negotiation: &NegotiationId) -> BTreeSet<EventId> {
        self.state(negotiation)
            .map(|s| s.entries.iter().map(|e| e.id).collect())
            .unwrap_or_default()
    }

    pub fn state_hash(&self, negotiation: &NegotiationId) -> Option<[u8; 32]> {
        self.state(negotiation).map(|s| s.state_hash())
    }

    pub async fn start(&mut self) -> Result<()> {
        let handle = net::spawn(
            self.home.clone(),
            self.identity.credentials()?,
            self.config.clone(),
        )
        .await?;
        self.node = Some(handle);
        Ok(())
    }

    pub async fn stop(&mut self) -> Result<()> {
        if let Some(n) = self.node.take() {
            n.shutdown().await?;
        }
        Ok(())
    }

    pub fn peer_id(&self) -> PeerId {
        net::peers::peer_of(&self.identity.public.device).expect("ed25519 device")
    }

    pub fn node(&self) -> &NodeHandle {
        self.node.as_ref().expect("node is running")
    }

    /// Waits until this member's store holds the negotiation.
    pub async fn await_negotiation(&self, negotiation: &NegotiationId) -> Result<()> {
        eventually(Duration::from_secs(40), || async {
            match self.state(negotiation) {
                Some(_) => Ok(()),
                None => bail!("{} has not received the negotiation", self.name),
            }
        })
        .await
    }

    /// Joins like an invitee: starts a node that knows only the inviter's address, fetches the
    /// negotiation from it, and posts the join (the inviter must have accredited this member).
    pub async fn join_through(
        &mut self,
        inviter: &Member,
        negotiation: &NegotiationId,
    ) -> Result<Event> {
        self.config.peers = vec![inviter.addrs().await?[0].clone()];
        self.config.follow = vec![*negotiation];
        self.config.trusted = [inviter.peer_id()].into();
        self.start().await?;
        self.await_negotiation(negotiation).await?;
        self.join(negotiation)
    }

    /// Listen addresses of the running node (waits until it has one).
    pub async fn addrs(&self) -> Result<Vec<Multiaddr>> {
        eventually(Duration::from_secs(10), || async {
            let a = self.node().listen_addrs().await?;
            if a.is_empty() {
                bail!("no listen address yet");
            }
            Ok(a)
        })
        .await
    }
}

/// Retries `check` until it succeeds or `limit` passes; then returns its last error.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(e) if start.elapsed() >= limit => {
                return Err(e).context(format!("still failing after {limit:?}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Waits until every member holds exactly the same events of the negotiation, and returns
/// their common state hash.
pub async fn converge(
    members: &[&Member],
    negotiation: &NegotiationId,
    limit: Duration,
) -> Result<[u8; 32]> {
    eventually(limit, || async {
        let hashes: Vec<_> = members.iter().map(|m| m.state_hash(negotiation)).collect();
        let first = hashes[0].context("the first member does not hold the negotiation")?;
        for (m, h) in members.iter().zip(&hashes) {
            if *h != Some(first) {
                bail!(
                    "{} has {} events and state {:?}; {} has {} events",
                    m.name,
                    m.event_ids(negotiation).len(),
                    h.map(hex_short),
                    members[0].name,
                    members[0].event_ids(negotiation).len()
                );
            }
        }
        Ok(first)
    })
    .await
}

fn hex_short(h: [u8; 32]) -> String {
    h.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Seats `others` in the chair's negotiation without any network: the chair accredits each, each
/// imports the chair's record and joins, the chair imports every join, and everyone imports the
/// chair's final record. Afterwards every member's store holds the same events (charter,
/// accreditations, joins), so nodes admit each other from their first connection.
pub fn seat_offline(chair: &Member, others: &[Member], negotiation: &NegotiationId) -> Result<()> {
    for o in others {
        chair.accredit(negotiation, o)?;
    }
    let (accredited, _) = chair.workspace()?.export(negotiation)?;
    let mut chair_ws = chair.workspace()?;
    for o in others {
        let mut ws = o.workspace()?;
        ws.import(&accredited)?;
        o.join(negotiation)?;
        let (joined, _) = ws.export(negotiation)?;
        chair_ws.import(&joined)?;
    }
    let (full, _) = chair_ws.export(negotiation)?;
    for o in others {
        o.workspace()?.import(&full)?;
    }
    Ok(())
}

/// Blocks every pair of members that are in different groups, on both sides: each group can then
/// only talk within itself.
pub async fn partition(groups: &[Vec<&Member>]) -> Result<()> {
    set_partition(groups, true).await
}

/// Undoes [`partition`].
pub async fn heal(groups: &[Vec<&Member>]) -> Result<()> {
    set_partition(groups, false).await
}

async fn set_partition(groups: &[Vec<&Member>], block: bool) -> Result<()> {
    for (i, g) in groups.iter().enumerate() {
        for (j, h) in groups.iter().enumerate() {
            if i == j {
                continue;
            }
            for a in g {
                for b in h {
                    if block {
                        a.node().block(b.peer_id()).await?;
                    } else {
                        a.node().unblock(b.peer_id()).await?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Waits until every member is connected to (has admitted) at least `at_least` members.
pub async fn await_links(members: &[&Member], at_least: usize, limit: Duration) -> Result<()> {
    for m in members {
        eventually(limit, || async {
            let n = m.node().admitted().await?.len();
            if n < at_least {
                bail!("{} is connected to {n} members, not {at_least}", m.name);
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Dials every pair of running members once (the lower index dials), so that a full mesh forms
/// without waiting for discovery through the DHT.
pub async fn connect_all(members: &[&Member]) -> Result<()> {
    let mut addrs = Vec::new();
    for m in members {
        addrs.push(m.addrs().await?[0].clone());
    }
    for (i, m) in members.iter().enumerate() {
        for (j, addr) in addrs.iter().enumerate() {
            if j > i {
                m.node()
                    .dial(
                        addr.clone()
                            .with(libp2p::multiaddr::Protocol::P2p(members[j].peer_id())),
                    )
                    .await?;
            }
        }
    }
    Ok(())
}

/// The ids of the events of shared channels (governance, plenary) that a member holds: the
/// events that every member holds once the network has converged (restricted channels reach
/// their own members only).
pub fn shared_event_ids(member: &Member, negotiation: &NegotiationId) -> BTreeSet<EventId> {
    member
        .state(negotiation)
        .map(|s| {
            s.entries
                .iter()
                .filter(|e| e.shared)
                .map(|e| e.id)
                .collect()
        })
        .unwrap_or_default()
}

/// Starts a mediator relay in this process over `home` (which must hold an identity), with a
/// mailbox if asked, on `base`'s other settings; returns it with its first listen address.
pub async fn start_relay(
    home: &Home,
    mailbox: bool,
    base: NetConfig,
) -> Result<(NodeHandle, Multiaddr)> {
    let keypair = Identity::load(home)?.libp2p_keypair()?;
    let relay = net::spawn(
        home.clone(),
        net::Credentials::Relay { keypair },
        NetConfig {
            relay: Some(net::RelayConfig {
                mailbox,
                ..net::RelayConfig::default()
            }),
            ..base
        },
    )
    .await?;
    let addr = eventually(Duration::from_secs(10), || async {
        relay
            .listen_addrs()
            .await?
            .first()
            .cloned()
            .context("the relay has no listen address yet")
    })
    .await?;
    Ok((relay, addr))
}
