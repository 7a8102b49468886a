//! The procedural facts the rules keep: who holds the pen, which silence procedures were opened,
//! broken, received and closed, objections, adoptions and signatures. Outcomes that depend on
//! causality (a break racing a close) are derived in `proceedings`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::body::Role;
use crate::decisions::{Decision, Grounds, SignatureForm, TextHashes};
use crate::event::Event;
use crate::ids::{DelegationId, DeviceId, EventId};
use crate::state::{Exclusion, NegotiationState, require_chair};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Silence {
    pub id: EventId,
    pub revision: EventId,
    #[serde(serialize_with = "crate::procedure::hex_hashes")]
    pub hashes: TextHashes,
    pub deadline: u64,
    pub opened_at: u64,
    /// The first close in fold order.
    pub close: Option<EventId>,
    pub breaks: Vec<SilenceBreak>,
    /// Who confirmed holding the text, and when they claim they did.
    pub receipts: BTreeMap<DeviceId, Receipt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SilenceBreak {
    pub id: EventId,
    pub delegation: DelegationId,
    pub grounds: Grounds,
    pub reference: Option<EventId>,
    pub time: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub id: EventId,
    pub delegation: DelegationId,
    pub time: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Objection {
    pub id: EventId,
    pub delegation: DelegationId,
    pub reference: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adoption {
    pub id: EventId,
    pub revision: EventId,
    #[serde(serialize_with = "crate::procedure::hex_hashes")]
    pub hashes: TextHashes,
    pub silence: Option<EventId>,
    pub time: u64,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub id: EventId,
    pub delegation: DelegationId,
    pub device: DeviceId,
    pub language: String,
    #[serde(serialize_with = "hex::serde::serialize")]
    pub hash: [u8; 32],
    pub form: SignatureForm,
    pub time: u64,
}

/// Procedural facts in fold order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Procedure {
    pub penholders: BTreeSet<DelegationId>,
    pub silences: BTreeMap<EventId, Silence>,
    /// Objections to adopting a revision, by revision.
    pub objections: BTreeMap<EventId, Vec<Objection>>,
    pub adoptions: BTreeMap<EventId, Adoption>,
}

pub(crate) fn hex_hashes<S: serde::Serializer>(h: &TextHashes, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(h.len()))?;
    for (lang, hash) in h {
        m.serialize_entry(lang, &hex::encode(hash))?;
    }
    m.end()
}

impl Procedure {
    pub fn holds_pen(&self, delegation: &DelegationId) -> bool {
        self.penholders.contains(delegation)
    }

    /// The adoption of `revision`, if any.
    pub fn adoption_of(&self, revision: &EventId) -> Option<&Adoption> {
        self.adoptions.values().find(|a| a.revision == *revision)
    }
}

fn no_observer(role: Role) -> Result<(), Exclusion> {
    if role == Role::Observer {
        Err(Exclusion::NotAuthorized)
    } else {
        Ok(())
    }
}

impl NegotiationState {
    pub(crate) fn apply_decision(
        &mut self,
        event: &Event,
        author: DelegationId,
        role: Role,
        decision: &Decision,
    ) -> Result<(), Exclusion> {
        let time = event.header.time;
        match decision {
            Decision::Pen {
                delegation,
                granted,
            } => {
                require_chair(role)?;
                if !self
                    .members
                    .get(delegation)
                    .is_some_and(|m| m.status.is_member())
                {
                    return Err(Exclusion::NotAMember);
                }
                let p = &mut self.procedure.penholders;
                if *granted {
                    p.insert(*delegation);
                } else {
                    p.remove(delegation);
                }
            }
            Decision::SilenceOpen {
                revision,
                hashes,
                deadline,
            } => {
                require_chair(role)?;
                if *deadline <= time {
                    return Err(Exclusion::DeadlineNotAfterOpening);
                }
                self.procedure.silences.insert(
                    event.id,
                    Silence {
                        id: event.id,
                        revision: *revision,
                        hashes: hashes.clone(),
                        deadline: *deadline,
                        opened_at: time,
                        close: None,
                        breaks: Vec::new(),
                        receipts: BTreeMap::new(),
                    },
                );
            }
            Decision::Receipt { silence } => {
                let s = self.silence_mut(silence)?;
                if s.receipts.contains_key(&event.header.author) {
                    return Err(Exclusion::Duplicate);
                }
                s.receipts.insert(
                    event.header.author,
                    Receipt {
                        id: event.id,
                        delegation: author,
                        time,
                    },
                );
            }
            Decision::SilenceBreak {
                silence,
                grounds,
                reference,
            } => {
                no_observer(role)?;
                let s = self.silence_mut(silence)?;
                s.breaks.push(SilenceBreak {
                    id: event.id,
                    delegation: author,
                    grounds: *grounds,
                    reference: *reference,
                    time,
                });
            }
            Decision::SilenceClose { silence } => {
                require_chair(role)?;
                let s = self.silence_mut(silence)?;
                if s.close.is_some() {
                    return Err(Exclusion::AlreadyClosed);
                }
                s.close = Some(event.id);
            }
            Decision::Object {
                revision,
                reference,
            } => {
                no_observer(role)?;
                let list = self.procedure.objections.entry(*revision).or_default();
                if list.iter().any(|o| o.delegation == author) {
                    return Err(Exclusion::Duplicate);
                }
                list.push(Objection {
                    id: event.id,
                    delegation: author,
                    reference: *reference,
                });
            }
            Decision::Adopt {
                revision,
                hashes,
                silence,
            } => {
                require_chair(role)?;
                if self.procedure.adoption_of(revision).is_some() {
                    return Err(Exclusion::AlreadyAdopted);
                }
                if let Some(silence) = silence {
                    let s = self
                        .procedure
                        .silences
                        .get(silence)
                        .ok_or(Exclusion::UnknownReference)?;
                    if s.close.is_none() {
                        return Err(Exclusion::SilenceNotClosed);
                    }
                    if s.revision != *revision || s.hashes != *hashes {
                        return Err(Exclusion::HashMismatch);
                    }
                }
                self.procedure.adoptions.insert(
                    event.id,
                    Adoption {
                        id: event.id,
                        revision: *revision,
                        hashes: hashes.clone(),
                        silence: *silence,
                        time,
                        signatures: Vec::new(),
                    },
                );
            }
            Decision::Sign {
                adoption,
                language,
                hash,
                form,
            } => {
                no_observer(role)?;
                let a = self
                    .procedure
                    .adoptions
                    .get_mut(adoption)
                    .ok_or(Exclusion::UnknownReference)?;
                if a.hashes.get(language) != Some(hash) {
                    return Err(Exclusion::HashMismatch);
                }
                if a.signatures
                    .iter()
                    .any(|s| s.delegation == author && s.language == *language && s.form == *form)
                {
                    return Err(Exclusion::Duplicate);
                }
                a.signatures.push(Signature {
                    id: event.id,
                    delegation: author,
                    device: event.header.author,
                    language: language.clone(),
                    hash: *hash,
                    form: *form,
                    time,
                });
            }
        }
        Ok(())
    }

    fn silence_mut(&mut self, id: &EventId) -> Result<&mut Silence, Exclusion> {
        self.procedure
            .silences
            .get_mut(id)
            .ok_or(Exclusion::UnknownReference)
    }
}
