//! The public signed text: an adopted text with every delegation's signature and none of the
//! confidential history, checkable on its own (SPEC.md, "Public signed text").
//!
//! It holds the adopted documents (one per language) and the unencrypted governance events that
//! prove who signed what: the charter, the membership events, the adoption, the silence
//! procedure and objections it rests on, and the signatures. Nothing sealed travels in it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::body::Body;
use crate::cbor::{CborError, Dec, Enc};
use crate::decisions::{Decision, SignatureForm};
use crate::event::{Event, EventError, MAX_EVENT_BYTES};
use crate::ids::{DelegationId, EventId, NegotiationId};
use crate::state::{Exclusion, FoldError, NegotiationState, fold};
use crate::text::{Document, TextError};

pub const PUBLIC_MAGIC: &str = "entente-public-text";
pub const PUBLIC_VERSION: u64 = 1;
const MAX_PUBLIC_EVENTS: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum PublicTextError {
    #[error("not a public signed text: {0}")]
    Header(String),
    #[error("event {index} ({id}) is not valid: {source}")]
    Event {
        index: usize,
        id: String,
        source: EventError,
    },
    #[error("the {language} text is malformed: {source}")]
    Document { language: String, source: TextError },
    #[error(transparent)]
    Fold(#[from] FoldError),
    #[error("the adoption event {0} is missing or not an adoption")]
    NoAdoption(EventId),
    #[error("the adoption is excluded by the rules: {0}")]
    AdoptionExcluded(Exclusion),
    #[error("the {language} text hashes to {actual}, but the adoption names {adopted}")]
    TextMismatch {
        language: String,
        adopted: String,
        actual: String,
    },
    #[error("the adoption names a {0} text that is not included")]
    MissingLanguage(String),
    #[error("the bundle holds a {0} event, which a public signed text never carries")]
    Confidential(String),
    #[error("the events are not exactly those of this adoption, in (lamport, id) order, once each")]
    EventSelection,
    #[error("the texts are not exactly the adopted languages, sorted by language, once each")]
    DocumentSelection,
}

/// Governance kinds a public signed text may carry.
fn is_public_kind(body: &Body) -> bool {
    match body {
        Body::Charter(_)
        | Body::Accredit { .. }
        | Body::Join { .. }
        | Body::RoleChange { .. }
        | Body::Remove { .. }
        | Body::Leave { .. }
        | Body::Revoke { .. } => true,
        Body::Decision(d) => !matches!(d, Decision::Receipt { .. } | Decision::Pen { .. }),
        _ => false,
    }
}

/// Picks, from a negotiation's events, what a public signed text of `adoption` carries.
pub fn select_events<'a>(events: &'a [Event], adoption: &EventId) -> Vec<&'a Event> {
    let Some(Body::Decision(Decision::Adopt {
        revision, silence, ..
    })) = events
        .iter()
        .find(|e| e.id == *adoption)
        .and_then(|e| e.body.as_ref())
    else {
        return Vec::new();
    };
    events
        .iter()
        .filter(|e| match &e.body {
            Some(Body::Decision(d)) => match d {
                Decision::Adopt { .. } => e.id == *adoption,
                Decision::Sign { adoption: a, .. } => a == adoption,
                Decision::Object { revision: r, .. } => r == revision,
                Decision::SilenceOpen { .. } => Some(e.id) == *silence,
                Decision::SilenceBreak { silence: s, .. }
                | Decision::SilenceClose { silence: s } => Some(*s) == *silence,
                Decision::Receipt { .. } | Decision::Pen { .. } => false,
            },
            Some(b) => is_public_kind(b),
            None => false,
        })
        // Only what travelled in clear: a plaintext kind posted in a restricted channel (excluded
        // by the rules) would reveal that channel.
        .filter(|e| e.header.channel == crate::body::GOVERNANCE_CHANNEL)
        .collect()
}

/// Encodes a public signed text.
pub fn encode_public_text(
    negotiation: NegotiationId,
    adoption: EventId,
    events: &[&Event],
    documents: &[Document],
) -> Vec<u8> {
    let mut sorted: Vec<&Event> = events.to_vec();
    sorted.sort_by_key(|e| e.order_key());
    sorted.dedup_by_key(|e| e.id);
    let mut docs: Vec<&Document> = documents.iter().collect();
    docs.sort_by(|a, b| a.language.cmp(&b.language));
    let mut e = Enc::new();
    e.array(6)
        .str(PUBLIC_MAGIC)
        .u64(PUBLIC_VERSION)
        .bytes(negotiation.as_bytes())
        .bytes(adoption.as_bytes())
        .array(sorted.len());
    for ev in sorted {
        e.bytes(&ev.to_wire());
    }
    e.array(docs.len());
    for d in docs {
        d.encode_into(&mut e);
    }
    e.finish()
}

/// Whether `bytes` look like a public signed text (rather than a record).
pub fn is_public_text(bytes: &[u8]) -> bool {
    let mut d = Dec::new(bytes);
    d.array("bundle", 6).is_ok() && d.str("magic", 64).is_ok_and(|m| m == PUBLIC_MAGIC)
}

#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    pub delegation: DelegationId,
    pub name: String,
    pub form: SignatureForm,
    pub event: EventId,
    pub time: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageSummary {
    pub language: String,
    pub symbol: String,
    pub title: String,
    /// The hash every signer signed: the text's own hash, recomputed here.
    pub hash: String,
    pub signatures: Vec<Signer>,
}

/// What `entente verify` reports about a good public signed text.
#[derive(Debug, Clone, Serialize)]
pub struct PublicTextSummary {
    pub ok: bool,
    pub kind: &'static str,
    pub negotiation: NegotiationId,
    pub title: String,
    pub adoption: EventId,
    pub revision: EventId,
    pub adopted_by: Option<String>,
    pub adopted_at: u64,
    pub silence: Option<EventId>,
    pub languages: Vec<LanguageSummary>,
    /// Delegations that signed every language.
    pub signed_by_all_languages: Vec<String>,
}

/// A verified public signed text.
#[derive(Debug, Clone)]
pub struct VerifiedPublicText {
    pub summary: PublicTextSummary,
    pub documents: Vec<Document>,
    pub state: NegotiationState,
}

/// Checks every signature and certificate, the rules over the carried governance events, and
/// that each text hashes to what the adoption and every signature name.
pub fn verify_public_text(bytes: &[u8]) -> Result<VerifiedPublicText, PublicTextError> {
    let header_err = |e: CborError| PublicTextError::Header(e.to_string());
    let mut d = Dec::new(bytes);
    d.array("bundle", 6).map_err(header_err)?;
    let magic = d.str("magic", 64).map_err(header_err)?;
    if magic != PUBLIC_MAGIC {
        return Err(PublicTextError::Header(format!("it starts with {magic:?}")));
    }
    let version = d.u64("version").map_err(header_err)?;
    if version != PUBLIC_VERSION {
        return Err(PublicTextError::Header(format!(
            "unsupported version {version} (this software reads {PUBLIC_VERSION})"
        )));
    }
    let negotiation = EventId(d.bytes32("negotiation").map_err(header_err)?);
    let adoption = EventId(d.bytes32("adoption").map_err(header_err)?);
    let n = d
        .array_len("events", MAX_PUBLIC_EVENTS)
        .map_err(header_err)?;
    let mut events = Vec::with_capacity(n.min(4096));
    for index in 0..n {
        let wire = d
            .bytes("event", MAX_EVENT_BYTES)
            .map_err(|e| PublicTextError::Event {
                index,
                id: "undecodable".into(),
                source: EventError::Malformed(e),
            })?;
        let event = Event::from_wire(wire).map_err(|source| PublicTextError::Event {
            index,
            id: Event::claimed_id(wire).map_or_else(|| "undecodable".into(), |id| id.to_hex()),
            source,
        })?;
        match &event.body {
            Some(b) if is_public_kind(b) => {}
            _ => return Err(PublicTextError::Confidential(event.header.kind.clone())),
        }
        events.push(event);
    }
    let m = d
        .array_len("documents", crate::body::MAX_LANGUAGES)
        .map_err(header_err)?;
    let mut documents = Vec::with_capacity(m);
    for _ in 0..m {
        documents.push(
            Document::decode(&mut d).map_err(|source| PublicTextError::Document {
                language: "?".into(),
                source,
            })?,
        );
    }
    d.end().map_err(header_err)?;
    if !events
        .windows(2)
        .all(|w| w[0].order_key() < w[1].order_key())
    {
        return Err(PublicTextError::EventSelection);
    }
    // Exactly what `select_events` would carry for this adoption: nothing else rides along.
    let expected: Vec<EventId> = select_events(&events, &adoption)
        .iter()
        .map(|e| e.id)
        .collect();
    if expected != events.iter().map(|e| e.id).collect::<Vec<_>>() {
        return Err(PublicTextError::EventSelection);
    }
    if !documents.windows(2).all(|w| w[0].language < w[1].language) {
        return Err(PublicTextError::DocumentSelection);
    }
    let state = fold(&events)?;
    if state.negotiation != negotiation {
        return Err(PublicTextError::Header(
            "the charter is not the negotiation the bundle names".into(),
        ));
    }
    let entry = state
        .entries
        .iter()
        .find(|e| e.id == adoption)
        .ok_or(PublicTextError::NoAdoption(adoption))?;
    if let Some(reason) = entry.excluded {
        return Err(PublicTextError::AdoptionExcluded(reason));
    }
    let adopted = state
        .procedure
        .adoptions
        .get(&adoption)
        .ok_or(PublicTextError::NoAdoption(adoption))?;
    let by_language: BTreeMap<&str, &Document> =
        documents.iter().map(|d| (d.language.as_str(), d)).collect();
    if by_language.keys().any(|l| !adopted.hashes.contains_key(*l)) {
        return Err(PublicTextError::DocumentSelection);
    }
    let name_of = |d: &DelegationId| {
        state
            .members
            .get(d)
            .map_or_else(|| d.short(), |m| m.name.clone())
    };
    let mut languages = Vec::new();
    for (language, hash) in &adopted.hashes {
        let doc = by_language
            .get(language.as_str())
            .ok_or_else(|| PublicTextError::MissingLanguage(language.clone()))?;
        let actual = doc.hash();
        if actual != *hash {
            return Err(PublicTextError::TextMismatch {
                language: language.clone(),
                adopted: hex::encode(hash),
                actual: hex::encode(actual),
            });
        }
        languages.push(LanguageSummary {
            language: language.clone(),
            symbol: doc.symbol.clone(),
            title: doc.title.clone(),
            hash: hex::encode(actual),
            // The rules admit a signature only over the adopted hash of its language.
            signatures: adopted
                .signatures
                .iter()
                .filter(|s| s.language == *language)
                .map(|s| Signer {
                    delegation: s.delegation,
                    name: name_of(&s.delegation),
                    form: s.form,
                    event: s.id,
                    time: s.time,
                })
                .collect(),
        });
    }
    let mut signed_by_all_languages: Vec<String> = state
        .members
        .keys()
        .filter(|d| {
            languages
                .iter()
                .all(|l| l.signatures.iter().any(|s| s.delegation == **d))
        })
        .map(name_of)
        .collect();
    signed_by_all_languages.sort();
    let summary = PublicTextSummary {
        ok: true,
        kind: "public-signed-text",
        negotiation,
        title: state.charter.title.clone(),
        adoption,
        revision: adopted.revision,
        adopted_by: entry.delegation.map(|d| name_of(&d)),
        adopted_at: adopted.time,
        silence: adopted.silence,
        languages,
        signed_by_all_languages,
    };
    Ok(VerifiedPublicText {
        summary,
        documents,
        state,
    })
}
