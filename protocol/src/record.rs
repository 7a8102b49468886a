//! Record bundles: a negotiation's complete signed history in one file, verifiable offline.

use serde::Serialize;

use crate::body::Role;
use crate::cbor::{CborError, Dec, Enc};
use crate::dag::{ParentInfo, check_links, check_time};
use crate::event::{Event, EventError, MAX_EVENT_BYTES};
use crate::ids::{DelegationId, EventId, NegotiationId};
use crate::state::{FoldError, MemberStatus, NegotiationState, fold};

/// First item of every record bundle.
pub const RECORD_MAGIC: &str = "entente-record";
/// The bundle format this code writes and reads.
pub const RECORD_VERSION: u64 = 1;
/// A bundle holds at most this many events (a bound for hostile files, far above real sessions).
pub const MAX_RECORD_EVENTS: usize = 10_000_000;

/// What is wrong with a record, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("bundle header: {0}")]
    Header(String),
    #[error("event #{index} ({id}): {source}")]
    Event {
        index: usize,
        /// The id computed from the event's bytes, or "undecodable".
        id: String,
        source: EventError,
    },
    #[error("event #{index} ({id}): out of canonical order (lamport, then id), or repeated")]
    Order { index: usize, id: EventId },
    #[error("negotiation: {0}")]
    Fold(#[from] FoldError),
    #[error("bundle header: names negotiation {named}, but its charter is {actual}")]
    NegotiationMismatch {
        named: NegotiationId,
        actual: NegotiationId,
    },
}

/// Encodes a negotiation's events as a bundle, in canonical order.
pub fn encode_record(negotiation: NegotiationId, events: &[Event]) -> Vec<u8> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| e.order_key());
    sorted.dedup_by_key(|e| e.id);
    let mut e = Enc::new();
    e.array(4)
        .str(RECORD_MAGIC)
        .u64(RECORD_VERSION)
        .bytes(negotiation.as_bytes())
        .array(sorted.len());
    for ev in sorted {
        e.bytes(&ev.to_wire());
    }
    e.finish()
}

/// A verified record: its events and the state they fold to.
#[derive(Debug, Clone)]
pub struct VerifiedRecord {
    pub events: Vec<Event>,
    pub state: NegotiationState,
}

/// Decodes a bundle and checks every id, signature, parent link, lamport and time against `now`
/// (ms since the Unix epoch), then folds it through the authorization rules.
pub fn verify_record(bytes: &[u8], now: u64) -> Result<VerifiedRecord, RecordError> {
    let header_err = |e: CborError| RecordError::Header(e.to_string());
    let mut d = Dec::new(bytes);
    d.array("bundle", 4).map_err(header_err)?;
    let magic = d.str("magic", 64).map_err(header_err)?;
    if magic != RECORD_MAGIC {
        return Err(RecordError::Header(format!(
            "not an Entente record (starts with {magic:?})"
        )));
    }
    let version = d.u64("version").map_err(header_err)?;
    if version != RECORD_VERSION {
        return Err(RecordError::Header(format!(
            "unsupported record version {version} (this software reads {RECORD_VERSION})"
        )));
    }
    let named = EventId(d.bytes32("negotiation").map_err(header_err)?);
    let count = d
        .array_len("events", MAX_RECORD_EVENTS)
        .map_err(header_err)?;

    // A declared count is a claim: reserve no more than the input could hold (an event's wire
    // form is over 64 bytes), so a tiny file cannot make us allocate for millions.
    let mut events: Vec<Event> = Vec::with_capacity(count.min(bytes.len() / 64 + 1).min(1 << 16));
    let mut lamports: std::collections::HashMap<EventId, ParentInfo> =
        std::collections::HashMap::new();
    for index in 0..count {
        let wire = d
            .bytes("event", MAX_EVENT_BYTES)
            .map_err(|e| RecordError::Event {
                index,
                id: "undecodable".into(),
                source: EventError::Malformed(e),
            })?;
        let event = Event::from_wire(wire).map_err(|source| RecordError::Event {
            index,
            id: Event::claimed_id(wire).map_or_else(|| "undecodable".into(), |id| id.to_hex()),
            source,
        })?;
        // A charter that is not the one the header names means the header is at fault.
        if index == 0 && event.header.negotiation.is_none() && event.id != named {
            return Err(RecordError::NegotiationMismatch {
                named,
                actual: event.id,
            });
        }
        if let Some(prev) = events.last()
            && prev.order_key() >= event.order_key()
        {
            return Err(RecordError::Order {
                index,
                id: event.id,
            });
        }
        let fail = |source| RecordError::Event {
            index,
            id: event.id.to_hex(),
            source,
        };
        check_links(&event, named, |p| lamports.get(p).cloned()).map_err(fail)?;
        check_time(&event, now).map_err(fail)?;
        lamports.insert(
            event.id,
            ParentInfo {
                lamport: event.header.lamport,
                channel: event.header.channel.clone(),
            },
        );
        events.push(event);
    }
    d.end().map_err(header_err)?;
    let state = fold(&events)?;
    if state.negotiation != named {
        return Err(RecordError::NegotiationMismatch {
            named,
            actual: state.negotiation,
        });
    }
    Ok(VerifiedRecord { events, state })
}

/// A member as a summary shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberSummary {
    pub delegation: DelegationId,
    pub name: String,
    pub role: Role,
    pub status: MemberStatus,
    pub devices: usize,
}

/// What `entente verify` reports about a good record.
#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    pub ok: bool,
    pub negotiation: NegotiationId,
    pub title: String,
    pub events: usize,
    pub included: usize,
    pub excluded: usize,
    pub members: Vec<MemberSummary>,
    pub heads: Vec<EventId>,
    pub state_hash: String,
    /// Silence procedures and adoptions with their outcomes.
    pub proceedings: crate::proceedings::Proceedings,
    /// Per adoption and language: the adopted hash and who signed it.
    pub authentication: Vec<Authentication>,
}

/// Who authenticated one adopted text in one language.
#[derive(Debug, Clone, Serialize)]
pub struct Authentication {
    pub adoption: EventId,
    pub revision: EventId,
    pub status: crate::proceedings::AdoptionStatus,
    pub language: String,
    pub hash: String,
    /// (delegation name, form) for each signature; the rules admit only signatures over `hash`.
    pub signed_by: Vec<(String, crate::decisions::SignatureForm)>,
}

impl RecordSummary {
    pub fn of(state: &NegotiationState) -> Self {
        let (included, excluded) = state.counts();
        let proceedings = crate::proceedings::Proceedings::of(state);
        let name_of = |d: &crate::ids::DelegationId| {
            state
                .members
                .get(d)
                .map_or_else(|| d.short(), |m| m.name.clone())
        };
        let authentication = proceedings
            .adoptions
            .iter()
            .flat_map(|a| {
                a.adoption
                    .hashes
                    .iter()
                    .map(move |(language, hash)| Authentication {
                        adoption: a.adoption.id,
                        revision: a.adoption.revision,
                        status: a.status,
                        language: language.clone(),
                        hash: hex::encode(hash),
                        signed_by: a
                            .adoption
                            .signatures
                            .iter()
                            .filter(|s| s.language == *language && s.hash == *hash)
                            .map(|s| (name_of(&s.delegation), s.form))
                            .collect(),
                    })
            })
            .collect();
        Self {
            ok: true,
            negotiation: state.negotiation,
            title: state.charter.title.clone(),
            events: state.entries.len(),
            included,
            excluded,
            members: state
                .members
                .values()
                .map(|m| MemberSummary {
                    delegation: m.delegation,
                    name: m.name.clone(),
                    role: m.role,
                    status: m.status,
                    devices: m.devices.len(),
                })
                .collect(),
            heads: state.heads.clone(),
            state_hash: hex::encode(state.state_hash()),
            proceedings,
            authentication,
        }
    }
}
