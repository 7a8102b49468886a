//! Messages of the sync protocol (`/entente/sync/1`) and invitation tokens.
//!
//! A peer asks for a negotiation from its heads; the other answers with a batch of the events it
//! holds that are not ancestors of those heads, in fold order, so that the asker can check and
//! store them one by one. Repeating until `more` is false brings the asker up to date.

use crate::cbor::{CborError, Dec, Enc, decode_canonical};
use crate::event::MAX_EVENT_BYTES;
use crate::identity::{CertificateError, SignedCertificate};
use crate::ids::{DeviceId, EventId, NegotiationId};

/// Heads a request may carry.
pub const MAX_SYNC_HEADS: usize = 1024;
/// Events one response may carry.
pub const MAX_BATCH_EVENTS: usize = 1024;
/// Bytes of events one response carries at most (the last event may cross it once).
pub const BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Largest encoded sync message.
pub const MAX_SYNC_MESSAGE_BYTES: usize = BATCH_BYTES + MAX_EVENT_BYTES + 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("malformed sync message: {0}")]
    Malformed(#[from] CborError),
    #[error("sync message carries a bad certificate: {0}")]
    Certificate(#[from] CertificateError),
    #[error("sync message of {0} bytes is too large")]
    TooLarge(usize),
    #[error("unknown sync status {0}")]
    UnknownStatus(u64),
}

/// "Send me what I lack of this negotiation."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    pub negotiation: NegotiationId,
    /// The asker's heads (sorted, at most [`MAX_SYNC_HEADS`]).
    pub heads: Vec<EventId>,
    /// The asker's device certificate; members present it, relays do not.
    pub certificate: Option<SignedCertificate>,
}

/// Whether the responder serves the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    Ok,
    /// The responder does not hold this negotiation.
    UnknownNegotiation,
    /// The asker is neither a member nor a peer the responder serves.
    NotAuthorized,
}

impl SyncStatus {
    fn code(self) -> u64 {
        match self {
            SyncStatus::Ok => 0,
            SyncStatus::UnknownNegotiation => 1,
            SyncStatus::NotAuthorized => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResponse {
    pub status: SyncStatus,
    /// The responder's heads, so the asker can tell whether the responder lacks anything.
    pub heads: Vec<EventId>,
    /// Wire forms of events, in fold order.
    pub events: Vec<Vec<u8>>,
    /// More events follow: ask again from the new heads.
    pub more: bool,
}

impl SyncResponse {
    pub fn refusal(status: SyncStatus) -> Self {
        Self {
            status,
            heads: Vec::new(),
            events: Vec::new(),
            more: false,
        }
    }
}

fn encode_ids(e: &mut Enc, ids: &[EventId]) {
    e.array(ids.len());
    for id in ids {
        e.bytes(id.as_bytes());
    }
}

fn decode_ids(d: &mut Dec<'_>, field: &str, max: usize) -> Result<Vec<EventId>, CborError> {
    let n = d.array_len(field, max)?;
    (0..n).map(|_| d.bytes32(field).map(EventId)).collect()
}

impl SyncRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.array(3).bytes(self.negotiation.as_bytes());
        encode_ids(&mut e, &self.heads);
        match &self.certificate {
            Some(c) => c.encode_into(&mut e),
            None => {
                e.null();
            }
        }
        e.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        if bytes.len() > MAX_SYNC_MESSAGE_BYTES {
            return Err(SyncError::TooLarge(bytes.len()));
        }
        decode_canonical(
            bytes,
            |d| -> Result<Self, SyncError> {
                d.array("sync request", 3)?;
                let negotiation = EventId(d.bytes32("negotiation")?);
                let heads = decode_ids(d, "heads", MAX_SYNC_HEADS)?;
                let certificate = if d.is_null("certificate")? {
                    None
                } else {
                    Some(SignedCertificate::decode(d)?)
                };
                Ok(Self {
                    negotiation,
                    heads,
                    certificate,
                })
            },
            Self::encode,
        )
    }
}

impl SyncResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.array(4).u64(self.status.code());
        encode_ids(&mut e, &self.heads);
        e.array(self.events.len());
        for ev in &self.events {
            e.bytes(ev);
        }
        e.u64(u64::from(self.more));
        e.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        if bytes.len() > MAX_SYNC_MESSAGE_BYTES {
            return Err(SyncError::TooLarge(bytes.len()));
        }
        decode_canonical(
            bytes,
            |d| -> Result<Self, SyncError> {
                d.array("sync response", 4)?;
                let status = match d.u64("status")? {
                    0 => SyncStatus::Ok,
                    1 => SyncStatus::UnknownNegotiation,
                    2 => SyncStatus::NotAuthorized,
                    other => return Err(SyncError::UnknownStatus(other)),
                };
                let heads = decode_ids(d, "heads", MAX_SYNC_HEADS)?;
                let n = d.array_len("events", MAX_BATCH_EVENTS)?;
                let events = (0..n)
                    .map(|_| d.bytes("event", MAX_EVENT_BYTES).map(<[u8]>::to_vec))
                    .collect::<Result<Vec<_>, _>>()?;
                let more = match d.u64("more")? {
                    0 => false,
                    1 => true,
                    _ => {
                        return Err(SyncError::Malformed(CborError {
                            at: 0,
                            what: "more must be 0 or 1".into(),
                        }));
                    }
                };
                Ok(Self {
                    status,
                    heads,
                    events,
                    more,
                })
            },
            Self::encode,
        )
    }
}

/// The responder's side of sync: from the events it holds in fold order, those the asker lacks
/// (not in `known`: the asker's heads and their ancestors), up to [`MAX_BATCH_EVENTS`] events and
/// about [`BATCH_BYTES`] bytes. Returns the batch and whether more remain.
pub fn select_batch<'a>(
    events_in_order: impl IntoIterator<Item = (EventId, &'a [u8])>,
    known: &std::collections::HashSet<EventId>,
) -> (Vec<Vec<u8>>, bool) {
    let mut batch = Vec::new();
    let mut bytes = 0;
    for (id, wire) in events_in_order {
        if known.contains(&id) {
            continue;
        }
        if batch.len() == MAX_BATCH_EVENTS || bytes >= BATCH_BYTES {
            return (batch, true);
        }
        bytes += wire.len();
        batch.push(wire.to_vec());
    }
    (batch, false)
}

/// What a chair hands an invited delegation so that its node can find the negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub negotiation: NegotiationId,
    /// The inviting device (its libp2p PeerId is derived from this key).
    pub inviter: DeviceId,
    /// Multiaddrs at which the inviter listens.
    pub addrs: Vec<String>,
    /// Multiaddrs of relays (with their `/p2p/` id) through which the inviter can be reached.
    pub relays: Vec<String>,
}

/// Tokens start with this, so that people and programs can tell them from ids.
pub const INVITATION_PREFIX: &str = "ent1";
const MAX_TOKEN_ADDRS: usize = 16;
const MAX_ADDR_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    #[error("not an Entente invitation (tokens start with {INVITATION_PREFIX})")]
    Prefix,
    #[error("the invitation is not valid base58 (was it cut off when copied?)")]
    Base58,
    #[error("malformed invitation: {0}")]
    Malformed(#[from] CborError),
    #[error("the invitation is longer than any real one ({0} characters)")]
    TooLong(usize),
}

/// The longest token a real invitation makes (16 addresses and 16 relays) is under 12 000
/// characters; base58 decoding costs time quadratic in the length, so longer input is refused
/// before it.
pub const MAX_TOKEN_CHARS: usize = 16_000;

impl Invitation {
    fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.array(5)
            .u64(1)
            .bytes(self.negotiation.as_bytes())
            .bytes(self.inviter.as_bytes())
            .strs(&self.addrs)
            .strs(&self.relays);
        e.finish()
    }

    /// The copy-pasteable token: the prefix and base58 of the encoding.
    pub fn to_token(&self) -> String {
        format!(
            "{INVITATION_PREFIX}{}",
            bs58::encode(self.encode()).into_string()
        )
    }

    pub fn from_token(token: &str) -> Result<Self, InvitationError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(InvitationError::TooLong(token.len()));
        }
        let body = token
            .trim()
            .strip_prefix(INVITATION_PREFIX)
            .ok_or(InvitationError::Prefix)?;
        let bytes = bs58::decode(body)
            .into_vec()
            .map_err(|_| InvitationError::Base58)?;
        let inv = decode_canonical(
            &bytes,
            |d| -> Result<Self, CborError> {
                d.array("invitation", 5)?;
                let version = d.u64("version")?;
                if version != 1 {
                    return Err(CborError {
                        at: 0,
                        what: format!("unsupported invitation version {version}"),
                    });
                }
                Ok(Self {
                    negotiation: EventId(d.bytes32("negotiation")?),
                    inviter: DeviceId(d.bytes32("inviter")?),
                    addrs: d.strs("addrs", MAX_TOKEN_ADDRS, MAX_ADDR_BYTES)?,
                    relays: d.strs("relays", MAX_TOKEN_ADDRS, MAX_ADDR_BYTES)?,
                })
            },
            Self::encode,
        )?;
        Ok(inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_messages_round_trip() {
        let req = SyncRequest {
            negotiation: EventId([1; 32]),
            heads: vec![EventId([2; 32]), EventId([3; 32])],
            certificate: None,
        };
        assert_eq!(SyncRequest::decode(&req.encode()), Ok(req));
        let resp = SyncResponse {
            status: SyncStatus::Ok,
            heads: vec![EventId([4; 32])],
            events: vec![vec![0x82, 0x40, 0x40]],
            more: true,
        };
        assert_eq!(SyncResponse::decode(&resp.encode()), Ok(resp));
    }

    #[test]
    fn malformed_sync_messages_are_errors_not_panics() {
        for bytes in [
            &b""[..],
            &[0x83],
            &[0xff; 40],
            &[0x84, 0x05, 0x80, 0x80, 0x00],
        ] {
            assert!(SyncRequest::decode(bytes).is_err());
            assert!(SyncResponse::decode(bytes).is_err());
        }
    }

    #[test]
    fn invitations_round_trip_and_reject_garbage() {
        let inv = Invitation {
            negotiation: EventId([9; 32]),
            inviter: DeviceId([8; 32]),
            addrs: vec!["/ip4/127.0.0.1/tcp/4001".into()],
            relays: vec![],
        };
        let token = inv.to_token();
        assert!(token.starts_with("ent1"));
        assert_eq!(Invitation::from_token(&token), Ok(inv));
        assert_eq!(Invitation::from_token("xyz"), Err(InvitationError::Prefix));
        assert_eq!(
            Invitation::from_token("ent10OIl"),
            Err(InvitationError::Base58)
        );
        assert!(Invitation::from_token(&token[..token.len() - 3]).is_err());
    }
}
