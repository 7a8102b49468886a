//! Event bodies: what each kind of event says, and its deterministic encoding.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cbor::{CborError, Dec, Enc, decode_canonical};
use crate::identity::{CertificateError, SignedCertificate};
use crate::ids::{DelegationId, DeviceId};

pub const MAX_TITLE_BYTES: usize = 512;
pub const MAX_NAME_BYTES: usize = 128;
pub const MAX_REASON_BYTES: usize = 2048;
pub const MAX_LANGUAGES: usize = 16;
/// Delegations one channel may list (a UN conference has under 200 member states).
pub const MAX_CHANNEL_MEMBERS: usize = 512;
/// Envelopes one key event may carry (one per member device).
pub const MAX_ENVELOPES: usize = 2048;
/// Language tags (BCP 47) are short; this bounds a hostile one.
pub const MAX_LANGUAGE_TAG_BYTES: usize = 35;

/// Why an event body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Cbor(#[from] CborError),
    #[error("{0}")]
    Certificate(#[from] CertificateError),
    #[error("unknown role {0:?} (expected chair, mediator, delegation or observer)")]
    UnknownRole(String),
    #[error("unknown decision rule {0:?} (expected consensus, majority or two-thirds)")]
    UnknownDecisionRule(String),
    #[error("a charter must name at least one language")]
    NoLanguage,
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("{0}")]
    Text(#[from] crate::text::TextError),
}

/// What a member may do is decided by its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Chair,
    Mediator,
    Delegation,
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Chair => "chair",
            Role::Mediator => "mediator",
            Role::Delegation => "delegation",
            Role::Observer => "observer",
        }
    }
}

impl FromStr for Role {
    type Err = BodyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chair" => Ok(Role::Chair),
            "mediator" => Ok(Role::Mediator),
            "delegation" => Ok(Role::Delegation),
            "observer" => Ok(Role::Observer),
            _ => Err(BodyError::UnknownRole(s.into())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the negotiation takes decisions (recorded in the charter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionRule {
    Consensus,
    Majority,
    TwoThirds,
}

impl DecisionRule {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionRule::Consensus => "consensus",
            DecisionRule::Majority => "majority",
            DecisionRule::TwoThirds => "two-thirds",
        }
    }
}

impl FromStr for DecisionRule {
    type Err = BodyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "consensus" => Ok(DecisionRule::Consensus),
            "majority" => Ok(DecisionRule::Majority),
            "two-thirds" => Ok(DecisionRule::TwoThirds),
            _ => Err(BodyError::UnknownDecisionRule(s.into())),
        }
    }
}

impl fmt::Display for DecisionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The genesis event: what is negotiated, how, and who convenes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charter {
    pub title: String,
    pub mandate: String,
    /// BCP 47 tags of the negotiation's languages; the first is the working language.
    pub languages: Vec<String>,
    pub decision_rule: DecisionRule,
    /// Default length of a silence procedure, in seconds.
    pub silence_period_secs: u64,
    /// Display name of the convening delegation.
    pub chair_name: String,
    /// The convener's device certificate; its delegation becomes the first chair.
    pub chair: SignedCertificate,
    /// Whether views name the delegation that placed a bracket (the signed header always
    /// records the author; this decides what the text shows). Encoded only when false.
    pub attribute_brackets: bool,
}

/// The kinds of event, with the body each carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Charter(Charter),
    /// The chair admits a delegation to the negotiation in a role.
    Accredit {
        delegation: DelegationId,
        role: Role,
        name: String,
    },
    /// An accredited delegation's device enters, presenting its certificate.
    Join {
        certificate: SignedCertificate,
    },
    /// The chair changes a member's role.
    RoleChange {
        delegation: DelegationId,
        role: Role,
    },
    /// The chair removes a member.
    Remove {
        delegation: DelegationId,
        reason: String,
    },
    /// A member leaves of its own accord.
    Leave {
        reason: String,
    },
    /// A device no longer acts for its delegation (lost, stolen, retired): by a device of the
    /// same delegation, or by the chair.
    Revoke {
        device: DeviceId,
        reason: String,
    },
    /// A chat message in a channel.
    Message {
        text: String,
    },
    /// A note for the record.
    Note {
        text: String,
    },
    /// The chair or a mediator opens a restricted channel (a caucus, proximity talks) for the
    /// listed delegations; its creator's delegation is always in it.
    Channel {
        name: String,
        members: Vec<DelegationId>,
    },
    /// An epoch key of the channel named in the header, sealed to member devices: a new epoch
    /// (`epoch` one above the channel's latest) or a share of an existing one to more devices.
    Keys {
        epoch: u64,
        key_id: [u8; 16],
        /// Sorted by device id, one envelope each (see `envelope`).
        envelopes: Vec<(DeviceId, Vec<u8>)>,
    },
    /// Content encrypted with the epoch key named in the header (see `sealed`).
    Sealed(crate::sealed::SealedBody),
    /// Content about the negotiated text (sealed in the plenary channel).
    Draft(crate::drafts::Draft),
    /// A procedural decision (governance channel, unencrypted).
    Decision(crate::decisions::Decision),
}

/// The governance kinds travel in this channel; content kinds in a content channel.
pub const GOVERNANCE_CHANNEL: &str = "governance";
/// The channel every member reads.
pub const PLENARY_CHANNEL: &str = "plenary";

pub mod kind {
    pub const CHARTER: &str = "charter";
    pub const ACCREDIT: &str = "accredit";
    pub const JOIN: &str = "join";
    pub const ROLE: &str = "role";
    pub const REMOVE: &str = "remove";
    pub const LEAVE: &str = "leave";
    pub const REVOKE: &str = "revoke";
    pub const MESSAGE: &str = "message";
    pub const NOTE: &str = "note";
    pub const CHANNEL: &str = "channel";
    pub const KEYS: &str = "keys";
    pub const SEALED: &str = "sealed";
    pub const ALL: &[&str] = &[
        CHARTER, ACCREDIT, JOIN, ROLE, REMOVE, LEAVE, REVOKE, MESSAGE, NOTE, CHANNEL, KEYS, SEALED,
    ];
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Charter(_) => kind::CHARTER,
            Body::Accredit { .. } => kind::ACCREDIT,
            Body::Join { .. } => kind::JOIN,
            Body::RoleChange { .. } => kind::ROLE,
            Body::Remove { .. } => kind::REMOVE,
            Body::Leave { .. } => kind::LEAVE,
            Body::Revoke { .. } => kind::REVOKE,
            Body::Message { .. } => kind::MESSAGE,
            Body::Note { .. } => kind::NOTE,
            Body::Channel { .. } => kind::CHANNEL,
            Body::Keys { .. } => kind::KEYS,
            Body::Sealed(_) => kind::SEALED,
            Body::Draft(d) => d.kind(),
            Body::Decision(d) => d.kind(),
        }
    }

    /// Governance events change who may do what; they are never encrypted.
    pub fn is_governance(&self) -> bool {
        !matches!(
            self,
            Body::Message { .. }
                | Body::Note { .. }
                | Body::Keys { .. }
                | Body::Sealed(_)
                | Body::Draft(_)
        )
    }

    /// The channel this body must travel in; `None` for keys and sealed content, which travel
    /// in the content channel they belong to.
    pub fn fixed_channel(&self) -> Option<&'static str> {
        match self {
            Body::Keys { .. } | Body::Sealed(_) => None,
            b if b.is_governance() => Some(GOVERNANCE_CHANNEL),
            _ => Some(PLENARY_CHANNEL),
        }
    }

    /// The channel a new event with this body goes to by default.
    pub fn channel(&self) -> &'static str {
        self.fixed_channel().unwrap_or(PLENARY_CHANNEL)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        match self {
            Body::Charter(c) => {
                e.array(if c.attribute_brackets { 7 } else { 8 })
                    .str(&c.title)
                    .str(&c.mandate)
                    .strs(&c.languages)
                    .str(c.decision_rule.as_str())
                    .u64(c.silence_period_secs)
                    .str(&c.chair_name);
                c.chair.encode_into(&mut e);
                if !c.attribute_brackets {
                    e.u64(0);
                }
            }
            Body::Accredit {
                delegation,
                role,
                name,
            } => {
                e.array(3)
                    .bytes(delegation.as_bytes())
                    .str(role.as_str())
                    .str(name);
            }
            Body::Join { certificate } => {
                e.array(1);
                certificate.encode_into(&mut e);
            }
            Body::RoleChange { delegation, role } => {
                e.array(2).bytes(delegation.as_bytes()).str(role.as_str());
            }
            Body::Remove { delegation, reason } => {
                e.array(2).bytes(delegation.as_bytes()).str(reason);
            }
            Body::Revoke { device, reason } => {
                e.array(2).bytes(device.as_bytes()).str(reason);
            }
            Body::Leave { reason } => {
                e.array(1).str(reason);
            }
            Body::Message { text } | Body::Note { text } => {
                e.array(1).str(text);
            }
            Body::Channel { name, members } => {
                e.array(2).str(name).array(members.len());
                for m in members {
                    e.bytes(m.as_bytes());
                }
            }
            Body::Keys {
                epoch,
                key_id,
                envelopes,
            } => {
                e.array(3).u64(*epoch).bytes(key_id).array(envelopes.len());
                for (device, message) in envelopes {
                    e.array(2).bytes(device.as_bytes()).bytes(message);
                }
            }
            Body::Sealed(sealed) => return sealed.encode(),
            Body::Draft(d) => d.encode_into(&mut e),
            Body::Decision(d) => d.encode_into(&mut e),
        }
        e.finish()
    }

    /// Decodes the body of a known kind; `Ok(None)` for a kind this version does not know.
    pub fn decode(kind: &str, bytes: &[u8]) -> Result<Option<Body>, BodyError> {
        if !kind::ALL.contains(&kind)
            && !crate::drafts::kind::ALL.contains(&kind)
            && !crate::decisions::kind::ALL.contains(&kind)
        {
            return Ok(None);
        }
        decode_canonical(bytes, |d| decode_kind(kind, d), Body::encode).map(Some)
    }
}

fn decode_kind(kind: &str, d: &mut Dec<'_>) -> Result<Body, BodyError> {
    let body = match kind {
        kind::CHARTER => {
            let fields = d.array_len("charter", 8)?;
            if fields < 7 {
                return Err(BodyError::Cbor(CborError {
                    at: 0,
                    what: format!("charter: expected 7 or 8 items, found {fields}"),
                }));
            }
            let title = d.str("title", MAX_TITLE_BYTES)?;
            if title.trim().is_empty() {
                return Err(BodyError::EmptyTitle);
            }
            let mandate = d.str("mandate", crate::event::MAX_EVENT_BYTES)?;
            let languages = d.strs("languages", MAX_LANGUAGES, MAX_LANGUAGE_TAG_BYTES)?;
            if languages.is_empty() {
                return Err(BodyError::NoLanguage);
            }
            let decision_rule = d.str("decision_rule", 32)?.parse()?;
            let silence_period_secs = d.u64("silence_period_secs")?;
            let chair_name = d.str("chair_name", MAX_NAME_BYTES)?;
            let chair = SignedCertificate::decode(d)?;
            // The 8th item is present only to say "false" (canonical encoding).
            let attribute_brackets = fields == 7 || d.u64("attribute_brackets")? != 0;
            Body::Charter(Charter {
                title,
                mandate,
                languages,
                decision_rule,
                silence_period_secs,
                chair_name,
                chair,
                attribute_brackets,
            })
        }
        kind::ACCREDIT => {
            d.array("accredit", 3)?;
            Body::Accredit {
                delegation: DelegationId(d.bytes32("delegation")?),
                role: d.str("role", 32)?.parse()?,
                name: d.str("name", MAX_NAME_BYTES)?,
            }
        }
        kind::JOIN => {
            d.array("join", 1)?;
            Body::Join {
                certificate: SignedCertificate::decode(d)?,
            }
        }
        kind::ROLE => {
            d.array("role", 2)?;
            Body::RoleChange {
                delegation: DelegationId(d.bytes32("delegation")?),
                role: d.str("role", 32)?.parse()?,
            }
        }
        kind::REMOVE => {
            d.array("remove", 2)?;
            Body::Remove {
                delegation: DelegationId(d.bytes32("delegation")?),
                reason: d.str("reason", MAX_REASON_BYTES)?,
            }
        }
        kind::REVOKE => {
            d.array("revoke", 2)?;
            Body::Revoke {
                device: DeviceId(d.bytes32("device")?),
                reason: d.str("reason", MAX_REASON_BYTES)?,
            }
        }
        kind::LEAVE => {
            d.array("leave", 1)?;
            Body::Leave {
                reason: d.str("reason", MAX_REASON_BYTES)?,
            }
        }
        kind::MESSAGE => {
            d.array("message", 1)?;
            Body::Message {
                text: d.str("text", crate::event::MAX_EVENT_BYTES)?,
            }
        }
        kind::NOTE => {
            d.array("note", 1)?;
            Body::Note {
                text: d.str("text", crate::event::MAX_EVENT_BYTES)?,
            }
        }
        kind::CHANNEL => {
            d.array("channel", 2)?;
            let name = d.str("name", MAX_NAME_BYTES)?;
            let n = d.array_len("members", MAX_CHANNEL_MEMBERS)?;
            let members = (0..n)
                .map(|_| d.bytes32("member").map(DelegationId))
                .collect::<Result<Vec<_>, _>>()?;
            Body::Channel { name, members }
        }
        kind::KEYS => {
            d.array("keys", 3)?;
            let epoch = d.u64("epoch")?;
            let key_id = d.bytes("key_id", 16)?;
            let key_id: [u8; 16] = key_id.try_into().map_err(|_| CborError {
                at: 0,
                what: "key_id: expected 16 bytes".into(),
            })?;
            let n = d.array_len("envelopes", MAX_ENVELOPES)?;
            let mut envelopes = Vec::with_capacity(n);
            for _ in 0..n {
                d.array("envelope", 2)?;
                let device = DeviceId(d.bytes32("device")?);
                let message = d.bytes("envelope", 256)?.to_vec();
                envelopes.push((device, message));
            }
            if !envelopes.windows(2).all(|w| w[0].0 < w[1].0) {
                return Err(BodyError::Cbor(CborError {
                    at: 0,
                    what: "envelopes must be sorted by device without repeats".into(),
                }));
            }
            Body::Keys {
                epoch,
                key_id,
                envelopes,
            }
        }
        kind::SEALED => {
            // The whole body is the sealed structure; decode it from what is left.
            let rest = d.rest();
            let sealed = crate::sealed::SealedBody::decode(rest)?;
            d.skip_rest();
            Body::Sealed(sealed)
        }
        other => {
            if let Some(draft) = crate::drafts::Draft::decode_kind(other, d)? {
                Body::Draft(draft)
            } else if let Some(decision) = crate::decisions::Decision::decode_kind(other, d)? {
                Body::Decision(decision)
            } else {
                unreachable_kind(other)?
            }
        }
    };
    Ok(body)
}

// Kept as an error rather than a panic: decode() filters kinds first, but a future edit to
// kind::ALL must not turn a hostile event into a crash.
fn unreachable_kind(kind: &str) -> Result<Body, BodyError> {
    Err(BodyError::Cbor(CborError {
        at: 0,
        what: format!("no decoder for kind {kind:?}"),
    }))
}
