//! The negotiating room as this device sees it: the record, the state, the content it can open,
//! the drafting state and the outcomes of decisions. Also the posting of drafting content and
//! decisions, checked against the rules first so that a refusal is explained, not recorded.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use entente_protocol::decisions::{Decision, TextHashes};
use entente_protocol::drafting::{Contents, DraftState, RevisionRecord};
use entente_protocol::drafts::{Draft, MAX_BLOB_PART_BYTES, TextContent, Version, encode_versions};
use entente_protocol::keyring::Keyring;
use entente_protocol::procedure::Silence;
use entente_protocol::proceedings::Proceedings;
use entente_protocol::{Body, DelegationId, Event, EventId, NegotiationId, NegotiationState, Role};
use sha2::{Digest, Sha256};

use crate::identity::Identity;
use crate::workspace::Workspace;

/// Revisions whose encoding is larger than this travel in blobs (one event holds at most 64 KiB).
const INLINE_LIMIT: usize = 40 * 1024;

pub struct Room {
    pub negotiation: NegotiationId,
    pub events: Vec<Event>,
    pub state: NegotiationState,
    pub contents: Contents,
    pub draft: DraftState,
    pub proceedings: Proceedings,
    /// Sealed plenary events this device cannot open (a newcomer without history).
    pub unreadable: usize,
}

impl Room {
    pub fn load(ws: &Workspace, me: &Identity, negotiation: &NegotiationId) -> Result<Self> {
        let (events, state) = ws.load(negotiation)?;
        let ring = Keyring::open(&state, &events, &me.public.device, &me.sealing_secret);
        let mut contents = Contents::new();
        let mut unreadable = 0;
        for e in &events {
            if !matches!(e.body, Some(Body::Sealed(_))) {
                continue;
            }
            match ring.read(&state, e) {
                Ok(Body::Draft(d)) => {
                    contents.insert(e.id, (e.header.channel.clone(), d));
                }
                Ok(_) => {}
                Err(_) if e.header.channel == entente_protocol::body::PLENARY_CHANNEL => {
                    unreadable += 1
                }
                Err(_) => {}
            }
        }
        let draft = DraftState::fold(&state, &contents);
        let proceedings = Proceedings::of(&state);
        Ok(Self {
            negotiation: *negotiation,
            events,
            state,
            contents,
            draft,
            proceedings,
            unreadable,
        })
    }

    pub fn name_of(&self, d: &DelegationId) -> String {
        self.state
            .members
            .get(d)
            .map_or_else(|| d.short(), |m| m.name.clone())
    }

    /// A revision named by id prefix, or the latest one.
    pub fn revision(&self, text: Option<&str>) -> Result<&RevisionRecord> {
        match text {
            None => self.draft.latest().context(
                "no revision has been circulated yet (the chair circulates one with `entente draft circulate`)",
            ),
            Some(t) => {
                let t = t.trim().to_ascii_lowercase();
                let found: Vec<_> = self
                    .draft
                    .revisions
                    .iter()
                    .filter(|r| r.id.to_hex().starts_with(&t) || r.label.eq_ignore_ascii_case(&t))
                    .collect();
                match found.as_slice() {
                    [r] => Ok(r),
                    [] => bail!("no revision {t:?} here (see `entente draft list`)"),
                    _ => bail!("{t:?} names more than one revision; give more of its id"),
                }
            }
        }
    }

    /// The silence procedure named, or the latest one.
    pub fn silence(&self, text: Option<&str>) -> Result<&Silence> {
        let all = &self.state.procedure.silences;
        match text {
            None => all
                .values()
                .max_by_key(|s| s.opened_at)
                .context("no silence procedure has been opened"),
            Some(t) => {
                let t = t.trim().to_ascii_lowercase();
                let found: Vec<_> = all
                    .values()
                    .filter(|s| s.id.to_hex().starts_with(&t))
                    .collect();
                match found.as_slice() {
                    [s] => Ok(s),
                    [] => bail!("no silence procedure {t:?} here (see `entente silence status`)"),
                    _ => bail!("{t:?} names more than one silence procedure"),
                }
            }
        }
    }

    /// The event named by a prefix of its id among the drafting records and decisions.
    pub fn event(&self, text: &str) -> Result<EventId> {
        let t = text.trim().to_ascii_lowercase();
        if t.len() < 4 {
            bail!("give at least 4 hex characters of the event id");
        }
        let found: Vec<EventId> = self
            .events
            .iter()
            .map(|e| e.id)
            .filter(|id| id.to_hex().starts_with(&t))
            .collect();
        match found.as_slice() {
            [id] => Ok(*id),
            [] => bail!("no event {t:?} in this negotiation"),
            _ => bail!("{t:?} names more than one event; give more of its id"),
        }
    }

    /// Whether the rules would take a procedural decision from this device now: checked before a
    /// command writes anything that goes with it (such as the sealed reason of a break).
    pub fn check_decision(&self, me: &Identity, decision: &Decision) -> Result<()> {
        let body = Body::Decision(decision.clone());
        let mut header = entente_protocol::EventHeader::new(
            Some(self.negotiation),
            me.public.device,
            self.state.heads.clone(),
            u64::MAX,
            crate::workspace::now_ms(),
            &body,
        );
        header.channel = entente_protocol::body::GOVERNANCE_CHANNEL.to_string();
        let probe = Event::sign(header, &me.device_key).context("cannot sign a probe event")?;
        self.state.admits(&probe).map_err(|reason| {
            anyhow::anyhow!(
                "refused: the rules exclude this {}: {reason}",
                decision.kind()
            )
        })
    }

    fn my_standing(&self, me: &Identity) -> Result<(Role, bool)> {
        let m = self
            .state
            .members
            .get(&me.public.delegation)
            .filter(|m| m.status.is_member())
            .context("your delegation is not a member of this negotiation")?;
        let pen = m.role == Role::Chair || self.state.procedure.holds_pen(&me.public.delegation);
        Ok((m.role, pen))
    }
}

/// Checks drafting content against the rules as they stand, then seals and posts it in the
/// plenary channel.
pub fn post_draft(ws: &mut Workspace, me: &Identity, room: &Room, draft: Draft) -> Result<Event> {
    let (role, pen) = room.my_standing(me)?;
    room.draft
        .admits(
            &room.state,
            me.public.delegation,
            role,
            pen,
            &draft,
            &room.contents,
        )
        .map_err(|e| anyhow::anyhow!("refused: {e}"))?;
    ws.post_content(
        me,
        &room.negotiation,
        entente_protocol::body::PLENARY_CHANNEL,
        Body::Draft(draft),
    )
}

/// Posts a procedural decision (unencrypted, governance channel); the rules check it.
pub fn post_decision(
    ws: &mut Workspace,
    me: &Identity,
    negotiation: &NegotiationId,
    decision: Decision,
) -> Result<Event> {
    ws.post(me, negotiation, Body::Decision(decision))
}

/// Circulates a revision: inline when it fits in one event, else in blob parts first.
pub fn circulate(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    label: &str,
    supersedes: Option<EventId>,
    versions: Vec<Version>,
) -> Result<(Event, usize)> {
    let encoded = encode_versions(&versions);
    let inline = Draft::Revision {
        label: label.to_string(),
        supersedes,
        content: TextContent::Inline(versions),
    };
    if encoded.len() <= INLINE_LIMIT {
        return Ok((post_draft(ws, me, room, inline)?, 0));
    }
    // Every rule but the blobs' own is checked on the inline form before any part is written.
    let (role, pen) = room.my_standing(me)?;
    room.draft
        .admits(
            &room.state,
            me.public.delegation,
            role,
            pen,
            &inline,
            &room.contents,
        )
        .map_err(|e| anyhow::anyhow!("refused: {e}"))?;
    if encoded.len() > MAX_BLOB_PART_BYTES * entente_protocol::drafts::MAX_BLOB_PARTS {
        bail!(
            "the text is {} bytes; a revision holds at most {} bytes",
            encoded.len(),
            MAX_BLOB_PART_BYTES * entente_protocol::drafts::MAX_BLOB_PARTS
        );
    }
    let mut parts = Vec::new();
    for chunk in encoded.chunks(MAX_BLOB_PART_BYTES) {
        let blob = ws.post_content(
            me,
            &room.negotiation,
            entente_protocol::body::PLENARY_CHANNEL,
            Body::Draft(Draft::Blob {
                data: chunk.to_vec(),
            }),
        )?;
        parts.push(blob.id);
    }
    let n = parts.len();
    let draft = Draft::Revision {
        label: label.to_string(),
        supersedes,
        content: TextContent::Blobs {
            parts,
            sha256: Sha256::digest(&encoded).into(),
        },
    };
    let event = ws.post_content(
        me,
        &room.negotiation,
        entente_protocol::body::PLENARY_CHANNEL,
        Body::Draft(draft),
    )?;
    Ok((event, n))
}

/// The language versions of a new revision from documents (working language first): each
/// translated paragraph records the source it translates. A translation left unchanged while
/// its source paragraph changed keeps its old source, so it shows as outdated.
pub fn versions_for(
    documents: Vec<entente_protocol::text::Document>,
    previous: Option<&RevisionRecord>,
) -> Result<Vec<Version>> {
    use entente_protocol::text::paragraph_hash;
    let Some(source) = documents.first().cloned() else {
        bail!("a revision needs at least the working-language text");
    };
    let mut versions = Vec::new();
    for (i, doc) in documents.into_iter().enumerate() {
        if i > 0 {
            let ids = |d: &entente_protocol::text::Document| {
                d.paragraphs
                    .iter()
                    .map(|p| p.id.clone())
                    .collect::<Vec<_>>()
            };
            if ids(&doc) != ids(&source) {
                bail!(
                    "the {} text must have the same paragraph ids, in the same order, as the {} text",
                    doc.language,
                    source.language
                );
            }
        }
        let sources = doc
            .paragraphs
            .iter()
            .map(|p| {
                if i == 0 {
                    return None;
                }
                let src = source
                    .paragraph(&p.id)
                    .map(|s| s.text.as_str())
                    .unwrap_or("");
                let kept = previous.and_then(|prev| {
                    let old = prev.version(&doc.language)?;
                    let idx = old.document.paragraphs.iter().position(|q| q.id == p.id)?;
                    (old.document.paragraphs[idx].text == p.text)
                        .then_some(old.sources[idx])
                        .flatten()
                });
                Some(kept.unwrap_or_else(|| paragraph_hash(src)))
            })
            .collect();
        versions.push(Version {
            document: doc,
            sources,
        });
    }
    Ok(versions)
}

/// Text hashes of a revision, by language.
pub fn hashes(r: &RevisionRecord) -> TextHashes {
    r.hashes()
}

/// Names of delegations by id, for views.
pub fn names(state: &NegotiationState) -> BTreeMap<DelegationId, String> {
    state
        .members
        .values()
        .map(|m| (m.delegation, m.name.clone()))
        .collect()
}
