//! The libp2p behaviours a node runs, composed in one struct, and the swarm that drives them.

use std::time::Duration;

use anyhow::{Context, Result};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    Swarm, SwarmBuilder, allow_block_list, autonat, dcutr, gossipsub, identify, identity, kad,
    mdns, noise, ping, relay, rendezvous, request_response, tcp, yamux,
};
use sha2::{Digest, Sha256};

use super::codec::{SYNC_PROTOCOL, SyncCodec};

/// Identify's protocol version string: peers of other networks are told apart by it.
pub const IDENTIFY_PROTOCOL: &str = "/entente/1.0.0";
/// Kademlia on a private protocol name, so Entente's DHT never mixes with the public IPFS one.
pub const KAD_PROTOCOL: libp2p::StreamProtocol = libp2p::StreamProtocol::new("/entente/kad/1.0.0");

/// Limits of the mediator relay. The libp2p defaults (2 minutes, 128 KiB per circuit) are for
/// setting up hole punching, not for carrying a negotiation session.
#[derive(Debug, Clone)]
pub struct RelayLimits {
    pub max_reservations: usize,
    pub max_reservations_per_peer: usize,
    pub reservation_duration: Duration,
    pub max_circuits: usize,
    pub max_circuits_per_peer: usize,
    pub max_circuit_duration: Duration,
    pub max_circuit_bytes: u64,
}

impl Default for RelayLimits {
    fn default() -> Self {
        Self {
            max_reservations: 1024,
            max_reservations_per_peer: 8,
            reservation_duration: Duration::from_secs(24 * 3600),
            max_circuits: 1024,
            max_circuits_per_peer: 64,
            max_circuit_duration: Duration::from_secs(24 * 3600),
            max_circuit_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// First, so that a banned peer is refused before anything else looks at it.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub sync: request_response::Behaviour<SyncCodec>,
    /// Off in relay-only mode: the DHT would dial members' own addresses.
    pub kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    pub relay_client: relay::client::Behaviour,
    pub dcutr: Toggle<dcutr::Behaviour>,
    pub autonat: autonat::Behaviour,
    pub relay_server: Toggle<relay::Behaviour>,
    pub rendezvous_server: Toggle<rendezvous::server::Behaviour>,
}

/// What kind of node to build.
pub struct SwarmOptions {
    pub mdns: bool,
    /// Try to upgrade relayed connections to direct ones by hole punching, and use the DHT.
    pub hole_punching: bool,
    /// Serve as a mediator relay with these limits.
    pub relay: Option<RelayLimits>,
    pub idle_timeout: Duration,
}

fn gossipsub_config() -> Result<gossipsub::Config> {
    gossipsub::ConfigBuilder::default()
        // Entente events are signed by their authors; libp2p's own message signatures would be
        // redundant work on every duplicate. The message id is the hash of the bytes, so the same
        // event arriving twice is recognised as a duplicate.
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(Sha256::digest(&m.data).to_vec())
        })
        .validate_messages()
        .max_transmit_size(entente_protocol::event::MAX_EVENT_BYTES + 4096)
        .heartbeat_interval(Duration::from_millis(700))
        .build()
        .context("invalid gossipsub configuration")
}

pub fn build_swarm(key: identity::Keypair, opts: &SwarmOptions) -> Result<Swarm<Behaviour>> {
    let gossip = gossipsub_config()?;
    let swarm = SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .context("cannot set up TCP")?
        .with_quic()
        .with_dns()
        .context("cannot set up DNS")?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .context("cannot set up the relay client")?
        .with_behaviour(|key, relay_client| {
            let peer_id = key.public().to_peer_id();
            let mut kad_config = kad::Config::new(KAD_PROTOCOL);
            kad_config.set_query_timeout(Duration::from_secs(30));
            // Members are found by name (their device ids), not by walking a public DHT.
            kad_config.set_periodic_bootstrap_interval(None);
            let mut kad = kad::Behaviour::with_config(
                peer_id,
                kad::store::MemoryStore::new(peer_id),
                kad_config,
            );
            kad.set_mode(Some(kad::Mode::Server));
            let mdns = if opts.mdns {
                Some(mdns::tokio::Behaviour::new(
                    mdns::Config::default(),
                    peer_id,
                )?)
            } else {
                None
            };
            let relay_server = opts.relay.as_ref().map(|l| {
                relay::Behaviour::new(
                    peer_id,
                    relay::Config {
                        max_reservations: l.max_reservations,
                        max_reservations_per_peer: l.max_reservations_per_peer,
                        reservation_duration: l.reservation_duration,
                        max_circuits: l.max_circuits,
                        max_circuits_per_peer: l.max_circuits_per_peer,
                        max_circuit_duration: l.max_circuit_duration,
                        max_circuit_bytes: l.max_circuit_bytes,
                        ..Default::default()
                    },
                )
            });
            Ok(Behaviour {
                blocked: Default::default(),
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                        .with_agent_version(format!("entente/{}", env!("CARGO_PKG_VERSION"))),
                ),
                ping: ping::Behaviour::new(ping::Config::new()),
                gossipsub: gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Anonymous,
                    gossip,
                )?,
                sync: request_response::Behaviour::with_codec(
                    SyncCodec,
                    [(SYNC_PROTOCOL, request_response::ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(Duration::from_secs(60)),
                ),
                kad: opts.hole_punching.then_some(kad).into(),
                mdns: mdns.into(),
                relay_client,
                dcutr: opts
                    .hole_punching
                    .then(|| dcutr::Behaviour::new(peer_id))
                    .into(),
                autonat: autonat::Behaviour::new(peer_id, autonat::Config::default()),
                relay_server: relay_server.into(),
                rendezvous_server: opts
                    .relay
                    .as_ref()
                    .map(|_| {
                        rendezvous::server::Behaviour::new(rendezvous::server::Config::default())
                    })
                    .into(),
            })
        })
        .map_err(|e| anyhow::anyhow!("cannot build the network behaviours: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(opts.idle_timeout))
        .build();
    Ok(swarm)
}
