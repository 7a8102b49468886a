//! Signed events: the header, its deterministic encoding, its id and its signature.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::body::{Body, BodyError, kind};
use crate::cbor::{CborError, Dec, Enc, decode_canonical};
use crate::identity::signing_input;
use crate::ids::{DeviceId, EventId, NegotiationId};

/// The only header version this code reads and writes.
pub const PROTOCOL_VERSION: u64 = 1;
/// Largest encoded event (header, signature and framing) accepted anywhere.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
/// An event names at most this many parents; more is a "parent bomb".
pub const MAX_PARENTS: usize = 64;
/// Longest kind or channel name.
pub const MAX_NAME_BYTES: usize = 64;
/// How far ahead of the verifier's clock an event's time may be.
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;
/// Domain tag prepended to header bytes before signing.
pub const EVENT_DOMAIN: &[u8] = b"entente/event/v1\0";

/// Why an event is rejected. Every variant names a fault of the bytes, never of the receiver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is {size} bytes, the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("malformed event: {0}")]
    Malformed(#[from] CborError),
    #[error("malformed {kind} body: {source}")]
    MalformedBody { kind: String, source: BodyError },
    #[error("unsupported event version {0} (this software reads version {PROTOCOL_VERSION})")]
    UnsupportedVersion(u64),
    #[error("the author key is not a valid Ed25519 public key")]
    InvalidAuthorKey,
    #[error("bad signature")]
    BadSignature,
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    #[error("parent {parent} is missing")]
    ParentMissing { parent: EventId },
    #[error("lamport is {got}, but its parents require {expected}")]
    LamportInconsistent { expected: u64, got: u64 },
    #[error("event time {time} ms is more than {MAX_CLOCK_SKEW_MS} ms after now ({now} ms)")]
    TimeInFuture { time: u64, now: u64 },
    #[error("event belongs to negotiation {got}, expected {expected}")]
    WrongNegotiation {
        expected: NegotiationId,
        got: String,
    },
}

/// Everything an author signs about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHeader {
    pub version: u64,
    /// `None` only for a charter, whose own id names the negotiation.
    pub negotiation: Option<NegotiationId>,
    pub author: DeviceId,
    /// Sorted ascending, without repeats.
    pub parents: Vec<EventId>,
    pub lamport: u64,
    /// Milliseconds since the Unix epoch, by the author's clock.
    pub time: u64,
    pub channel: String,
    pub epoch: u64,
    pub kind: String,
    pub body: Vec<u8>,
}

impl EventHeader {
    /// A version-1 header for `body`, in the channel its kind requires, at epoch 0.
    pub fn new(
        negotiation: Option<NegotiationId>,
        author: DeviceId,
        mut parents: Vec<EventId>,
        lamport: u64,
        time: u64,
        body: &Body,
    ) -> Self {
        parents.sort();
        parents.dedup();
        Self {
            version: PROTOCOL_VERSION,
            negotiation,
            author,
            parents,
            lamport,
            time,
            channel: body.channel().to_string(),
            epoch: 0,
            kind: body.kind().to_string(),
            body: body.encode(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.array(10).u64(self.version);
        match &self.negotiation {
            Some(n) => e.bytes(n.as_bytes()),
            None => e.null(),
        };
        e.bytes(self.author.as_bytes()).array(self.parents.len());
        for p in &self.parents {
            e.bytes(p.as_bytes());
        }
        e.u64(self.lamport)
            .u64(self.time)
            .str(&self.channel)
            .u64(self.epoch)
            .str(&self.kind)
            .bytes(&self.body);
        e.finish()
    }

    fn decode(d: &mut Dec<'_>) -> Result<Self, CborError> {
        d.array("header", 10)?;
        let version = d.u64("version")?;
        let negotiation = d.opt_bytes32("negotiation")?.map(EventId);
        let author = DeviceId(d.bytes32("author")?);
        let n = d.array_len("parents", MAX_PARENTS)?;
        let parents = (0..n)
            .map(|_| d.bytes32("parent").map(EventId))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            version,
            negotiation,
            author,
            parents,
            lamport: d.u64("lamport")?,
            time: d.u64("time")?,
            channel: d.str("channel", MAX_NAME_BYTES)?,
            epoch: d.u64("epoch")?,
            kind: d.str("kind", MAX_NAME_BYTES)?,
            body: d.bytes("body", MAX_EVENT_BYTES)?.to_vec(),
        })
    }

    /// Rules that hold for any header on its own, before its parents are known.
    fn check_shape(&self) -> Result<(), EventError> {
        if self.version != PROTOCOL_VERSION {
            return Err(EventError::UnsupportedVersion(self.version));
        }
        if !self.parents.windows(2).all(|w| w[0] < w[1]) {
            return Err(EventError::InvalidHeader(
                "parents must be sorted ascending without repeats".into(),
            ));
        }
        let is_charter = self.kind == kind::CHARTER;
        if is_charter != self.negotiation.is_none() {
            return Err(EventError::InvalidHeader(
                "a charter, and only a charter, has no negotiation".into(),
            ));
        }
        if is_charter && (!self.parents.is_empty() || self.lamport != 0) {
            return Err(EventError::InvalidHeader(
                "a charter has no parents and lamport 0".into(),
            ));
        }
        if !is_charter && self.parents.is_empty() {
            return Err(EventError::InvalidHeader(
                "every event but the charter has at least one parent".into(),
            ));
        }
        Ok(())
    }
}

/// A decoded, signature-checked event. Holds the exact bytes it was signed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub header: EventHeader,
    /// `None` when the kind is unknown to this version; such events are kept and excluded.
    pub body: Option<Body>,
    pub id: EventId,
    header_bytes: Vec<u8>,
    signature: [u8; 64],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verify {
    Signature,
    Skip,
}

impl Event {
    /// Signs a header with the author's device key. The header's author must be that key.
    pub fn sign(header: EventHeader, device_key: &SigningKey) -> Result<Self, EventError> {
        if header.author.as_bytes() != device_key.verifying_key().as_bytes() {
            return Err(EventError::InvalidHeader(
                "the author is not the signing device".into(),
            ));
        }
        let header_bytes = header.encode();
        let signature = device_key
            .sign(&signing_input(EVENT_DOMAIN, &header_bytes))
            .to_bytes();
        let size = wire_encoding(&header_bytes, &signature).len();
        if size > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge {
                size,
                max: MAX_EVENT_BYTES,
            });
        }
        // Parse what was signed, so that an event we author passes exactly the checks a peer makes.
        Self::from_parts(header_bytes, signature)
    }

    /// Parses and checks an event as it travels: `[header bytes, signature]`.
    pub fn from_wire(wire: &[u8]) -> Result<Self, EventError> {
        Self::decode_wire(wire, Verify::Signature)
    }

    /// Parses an event that this node verified before it stored it, without checking the
    /// signature again: everything else (canonical form, shape, body) is still checked. Loading a
    /// 100k-event negotiation would otherwise spend seconds re-verifying its own store.
    pub fn from_verified_wire(wire: &[u8]) -> Result<Self, EventError> {
        Self::decode_wire(wire, Verify::Skip)
    }

    fn decode_wire(wire: &[u8], verify: Verify) -> Result<Self, EventError> {
        if wire.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge {
                size: wire.len(),
                max: MAX_EVENT_BYTES,
            });
        }
        let (header_bytes, signature) = decode_canonical(
            wire,
            |d| -> Result<_, CborError> {
                d.array("event", 2)?;
                let h = d.bytes("header", MAX_EVENT_BYTES)?.to_vec();
                let s = d.bytes64("signature")?;
                Ok((h, s))
            },
            |(h, s)| wire_encoding(h, s),
        )?;
        Self::from_parts_checked(header_bytes, signature, verify)
    }

    /// The id an undecodable or unverifiable wire form would have, if its outer framing holds:
    /// lets an error name the event at fault.
    pub fn claimed_id(wire: &[u8]) -> Option<EventId> {
        let mut d = Dec::new(wire);
        d.array("event", 2).ok()?;
        let header = d.bytes("header", MAX_EVENT_BYTES).ok()?;
        Some(EventId(Sha256::digest(header).into()))
    }

    fn from_parts(header_bytes: Vec<u8>, signature: [u8; 64]) -> Result<Self, EventError> {
        Self::from_parts_checked(header_bytes, signature, Verify::Signature)
    }

    fn from_parts_checked(
        header_bytes: Vec<u8>,
        signature: [u8; 64],
        verify: Verify,
    ) -> Result<Self, EventError> {
        let header: EventHeader =
            decode_canonical(&header_bytes, EventHeader::decode, EventHeader::encode)?;
        header.check_shape()?;
        if verify == Verify::Signature {
            let key = VerifyingKey::from_bytes(header.author.as_bytes())
                .map_err(|_| EventError::InvalidAuthorKey)?;
            key.verify_strict(
                &signing_input(EVENT_DOMAIN, &header_bytes),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| EventError::BadSignature)?;
        }
        let body = Body::decode(&header.kind, &header.body).map_err(|source| {
            EventError::MalformedBody {
                kind: header.kind.clone(),
                source,
            }
        })?;
        let id = EventId(Sha256::digest(&header_bytes).into());
        Ok(Self {
            header,
            body,
            id,
            header_bytes,
            signature,
        })
    }

    pub fn to_wire(&self) -> Vec<u8> {
        wire_encoding(&self.header_bytes, &self.signature)
    }

    pub fn header_bytes(&self) -> &[u8] {
        &self.header_bytes
    }

    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The negotiation this event belongs to (a charter's is its own id).
    pub fn negotiation(&self) -> NegotiationId {
        self.header.negotiation.unwrap_or(self.id)
    }

    /// The order every node folds events in: lamport, then id.
    pub fn order_key(&self) -> (u64, EventId) {
        (self.header.lamport, self.id)
    }
}

fn wire_encoding(header_bytes: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    let mut e = Enc::new();
    e.array(2).bytes(header_bytes).bytes(signature);
    e.finish()
}
