//! Entente's protocol: identities, signed events, the negotiation DAG and the rules that fold
//! it into state. Pure functions over bytes and values: no I/O, no async, no clock, no randomness
//! (keys and times are passed in), so every node decides identically. `SPEC.md` is the normative
//! description; this crate is one implementation of it.

pub mod body;
mod cbor;
pub mod channels;
pub mod dag;
pub mod decisions;
pub mod drafting;
pub mod drafts;
pub mod envelope;
pub mod event;
pub mod identity;
pub mod ids;
pub mod keyring;
pub mod procedure;
pub mod proceedings;
pub mod public;
pub mod record;
pub mod sealed;
pub mod state;
pub mod sync;
pub mod text;

pub use body::{Body, Charter, DecisionRule, Role};
pub use cbor::CborError;
pub use event::{Event, EventError, EventHeader};
pub use identity::{DeviceCertificate, Fingerprint, SignedCertificate, fingerprint};
pub use ids::{DelegationId, DeviceId, EventId, NegotiationId, SealingKey};
pub use record::{RecordError, RecordSummary, VerifiedRecord, encode_record, verify_record};
pub use state::{Checkpoint, Exclusion, FoldError, Member, MemberStatus, NegotiationState, fold};

/// Re-exported so that callers build keys with the same version of the crate.
pub use ed25519_dalek::SigningKey;
