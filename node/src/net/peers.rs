//! Conversions between Entente device ids and libp2p peer ids, and multiaddr helpers.

use entente_protocol::DeviceId;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, identity};

/// The PeerId of a device: its Ed25519 key as a libp2p identity.
pub fn peer_of(device: &DeviceId) -> Option<PeerId> {
    let key = identity::ed25519::PublicKey::try_from_bytes(device.as_bytes()).ok()?;
    Some(identity::PublicKey::from(key).to_peer_id())
}

/// The device id inside an Ed25519 PeerId (identity multihash of the protobuf-encoded key).
pub fn device_of(peer: &PeerId) -> Option<DeviceId> {
    let mh = peer.as_ref();
    if mh.code() != 0 {
        return None;
    }
    let key = identity::PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    Some(DeviceId(key.try_into_ed25519().ok()?.to_bytes()))
}

/// The peer named by a trailing `/p2p/...` of an address.
pub fn peer_in(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().last().and_then(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

/// `addr` with `/p2p/peer` at its end (unless it is there already).
pub fn with_peer(addr: &Multiaddr, peer: PeerId) -> Multiaddr {
    if peer_in(addr) == Some(peer) {
        addr.clone()
    } else {
        addr.clone().with(Protocol::P2p(peer))
    }
}

/// The address of `peer` through a relay: `<relay>/p2p-circuit/p2p/<peer>`.
pub fn via_relay(relay: &Multiaddr, peer: PeerId) -> Multiaddr {
    relay
        .clone()
        .with(Protocol::P2pCircuit)
        .with(Protocol::P2p(peer))
}

/// Whether an address goes through a relay.
pub fn is_relayed(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_and_peer_ids_convert_both_ways() {
        let key = identity::Keypair::generate_ed25519();
        let peer = key.public().to_peer_id();
        let device = device_of(&peer).expect("ed25519 peer id");
        assert_eq!(peer_of(&device), Some(peer));
    }
}
