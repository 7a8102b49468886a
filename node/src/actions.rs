//! What a delegation can do in a negotiation, shared by the command line and the local API:
//! each action resolves its arguments against the room, posts what the rules will take, and
//! returns what happened as a value (the callers print it or send it as JSON).

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use entente_protocol::decisions::{Decision, Grounds, SignatureForm};
use entente_protocol::drafts::{AmendOp, Draft, MarkKind, Stance, StatementKind};
use entente_protocol::proceedings::{SilenceOutcome, SilenceView};
use entente_protocol::text::Document;
use entente_protocol::{DelegationId, EventId, public};
use serde::Serialize;
use serde_json::{Value, json};

use crate::identity::Identity;
use crate::render::utc;
use crate::room::{self, Room};
use crate::workspace::{Workspace, now_ms};

/// A revision just circulated.
#[derive(Debug, Serialize)]
pub struct Circulated {
    pub event: EventId,
    pub revision: EventId,
    pub label: String,
    pub hashes: BTreeMap<String, String>,
    pub blobs: usize,
    /// `"fr OP1"`: translations whose source paragraph changed since they were made.
    pub stale_translations: Vec<String>,
}

/// Circulates a revision from documents keyed by language (the working language is required).
pub fn circulate(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    label: &str,
    supersedes: Option<&str>,
    documents: Vec<Document>,
) -> Result<Circulated> {
    if label.trim().is_empty() {
        bail!("a revision needs a label, such as \"zero draft\" or \"Rev.1\"");
    }
    let languages = &room.state.charter.languages;
    let mut ordered: BTreeMap<usize, Document> = BTreeMap::new();
    for doc in documents {
        let lang = doc.language.clone();
        let pos = languages.iter().position(|l| *l == lang).with_context(|| {
            format!(
                "{lang} is not a language of this negotiation (its languages: {})",
                languages.join(", ")
            )
        })?;
        if ordered.insert(pos, doc).is_some() {
            bail!("the {lang} text is given twice");
        }
    }
    if !ordered.contains_key(&0) {
        bail!("the working language's ({}) text is required", languages[0]);
    }
    let previous = match supersedes {
        Some("none") => None,
        Some(r) => Some(room.revision(Some(r))?),
        None => room.draft.latest(),
    };
    let versions = room::versions_for(ordered.into_values().collect(), previous)?;
    let source = &versions[0].document;
    let stale_translations = versions
        .iter()
        .skip(1)
        .flat_map(|v| {
            v.document
                .paragraphs
                .iter()
                .zip(&v.sources)
                .filter(|(p, s)| {
                    let now = source.paragraph(&p.id).map_or("", |q| q.text.as_str());
                    s.is_some_and(|h| h != entente_protocol::text::paragraph_hash(now))
                })
                .map(|(p, _)| format!("{} {}", v.document.language, p.id))
                .collect::<Vec<_>>()
        })
        .collect();
    let hashes = versions
        .iter()
        .map(|v| (v.document.language.clone(), hex::encode(v.document.hash())))
        .collect();
    let (event, blobs) = room::circulate(ws, me, room, label, previous.map(|r| r.id), versions)?;
    Ok(Circulated {
        event: event.id,
        revision: event.id,
        label: label.to_string(),
        hashes,
        blobs,
        stale_translations,
    })
}

/// An amendment's operation as a request names it.
pub enum Amendment {
    Replace(String),
    InsertAfter { new_id: String, text: String },
    Delete,
}

pub fn amend(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    rev: Option<&str>,
    paragraph: &str,
    amendment: Amendment,
    justification: &str,
) -> Result<EventId> {
    let r = room.revision(rev)?;
    let (op, new_id, text) = match amendment {
        Amendment::Replace(t) => (AmendOp::Replace, String::new(), t.trim().to_string()),
        Amendment::InsertAfter { new_id, text } => {
            (AmendOp::InsertAfter, new_id, text.trim().to_string())
        }
        Amendment::Delete => (AmendOp::Delete, String::new(), String::new()),
    };
    let draft = Draft::Amendment {
        revision: r.id,
        paragraph: paragraph.to_string(),
        op,
        new_id,
        text,
        justification: justification.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

/// A bracket to place on a paragraph (or on words of it) of a revision.
pub struct NewBracket<'a> {
    pub rev: Option<&'a str>,
    pub paragraph: &'a str,
    /// The bracketed words; empty for the whole paragraph.
    pub span: &'a str,
    pub options: Vec<String>,
    pub reason: &'a str,
}

pub fn bracket(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    b: NewBracket<'_>,
) -> Result<EventId> {
    let r = room.revision(b.rev)?;
    let draft = Draft::Bracket {
        revision: r.id,
        paragraph: b.paragraph.to_string(),
        span: b.span.to_string(),
        options: b.options,
        reason: b.reason.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

pub fn bracket_option(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    bracket: &str,
    text: &str,
) -> Result<EventId> {
    let draft = Draft::BracketOption {
        bracket: room.event(bracket)?,
        text: text.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

pub fn bracket_resolve(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    bracket: &str,
    choice: &str,
) -> Result<EventId> {
    let draft = Draft::BracketResolve {
        bracket: room.event(bracket)?,
        choice: choice.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

/// A position on an amendment (its id) or on a paragraph of a revision (`OP3`).
pub fn position(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    target: &str,
    rev: Option<&str>,
    stance: Stance,
    note: &str,
) -> Result<EventId> {
    let (target, paragraph) = if entente_protocol::text::valid_paragraph_id(target) {
        (room.revision(rev)?.id, target.to_string())
    } else {
        (room.event(target)?, String::new())
    };
    let draft = Draft::Position {
        target,
        paragraph,
        stance,
        note: note.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

pub fn statement(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    kind: StatementKind,
    on: Option<&str>,
    paragraph: &str,
    text: &str,
) -> Result<EventId> {
    let target = match on {
        Some(t) => room.event(t)?,
        None => room.revision(None)?.id,
    };
    let draft = Draft::Statement {
        kind,
        target,
        paragraph: paragraph.to_string(),
        text: text.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

pub fn mark(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    rev: Option<&str>,
    paragraph: &str,
    mark: MarkKind,
) -> Result<EventId> {
    let r = room.revision(rev)?;
    let draft = Draft::Mark {
        revision: r.id,
        paragraph: paragraph.to_string(),
        mark,
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

pub fn pen(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    delegation: &str,
    granted: bool,
) -> Result<(EventId, DelegationId)> {
    let delegation: DelegationId = delegation
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the delegation id is 64 hex characters (see `entente members`)")?;
    let event = room::post_decision(
        ws,
        me,
        &room.negotiation,
        Decision::Pen {
            delegation,
            granted,
        },
    )?;
    Ok((event.id, delegation))
}

/// A silence procedure just opened.
#[derive(Debug, Serialize)]
pub struct Opened {
    pub event: EventId,
    pub silence: EventId,
    pub revision: EventId,
    pub label: String,
    pub deadline: u64,
    pub deadline_utc: String,
}

/// When a silence procedure ends: an exact time, a length from now, or the charter's period.
pub enum Deadline {
    At(u64),
    In(std::time::Duration),
    CharterPeriod,
}

pub fn silence_open(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    rev: Option<&str>,
    deadline: Deadline,
) -> Result<Opened> {
    let r = room.revision(rev)?;
    let now = now_ms();
    let ms =
        |d: std::time::Duration| u64::try_from(d.as_millis()).context("the period is too long");
    let deadline = match deadline {
        Deadline::At(t) => t,
        Deadline::In(d) => now.saturating_add(ms(d)?),
        Deadline::CharterPeriod => now.saturating_add(ms(std::time::Duration::from_secs(
            room.state.charter.silence_period_secs,
        ))?),
    };
    if deadline <= now {
        bail!("the deadline {} has already passed", utc(deadline));
    }
    const TEN_YEARS_MS: u64 = 10 * 366 * 24 * 3600 * 1000;
    if deadline > now.saturating_add(TEN_YEARS_MS) {
        bail!(
            "the deadline {} is more than ten years away; give a date or a period such as 72h",
            utc(deadline)
        );
    }
    let event = room::post_decision(
        ws,
        me,
        &room.negotiation,
        Decision::SilenceOpen {
            revision: r.id,
            hashes: r.hashes(),
            deadline,
        },
    )?;
    Ok(Opened {
        event: event.id,
        silence: event.id,
        revision: r.id,
        label: r.label.clone(),
        deadline,
        deadline_utc: utc(deadline),
    })
}

/// A break of silence just posted.
#[derive(Debug, Serialize)]
pub struct Broken {
    pub event: EventId,
    pub silence: EventId,
    pub reference: Option<EventId>,
    /// Posted after the deadline by this machine's clock: it will stand as late.
    pub late: bool,
    pub deadline_utc: String,
}

pub fn silence_break(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    silence: Option<&str>,
    grounds: Grounds,
    reason: Option<&str>,
    reference: Option<&str>,
) -> Result<Broken> {
    let silence = room.silence(silence)?.clone();
    // Check the break itself before anything is written, so that a refusal leaves no reason
    // statement behind.
    room.check_decision(
        me,
        &Decision::SilenceBreak {
            silence: silence.id,
            grounds,
            reference: None,
        },
    )?;
    let reference = match (reason, reference) {
        (Some(reason), _) => Some(post_reason(ws, me, room, silence.revision, reason)?),
        (None, Some(r)) => Some(room.event(r)?),
        (None, None) => None,
    };
    let event = room::post_decision(
        ws,
        me,
        &room.negotiation,
        Decision::SilenceBreak {
            silence: silence.id,
            grounds,
            reference,
        },
    )?;
    Ok(Broken {
        event: event.id,
        silence: silence.id,
        reference,
        // Past the deadline, or after the close this device holds: it will count as late.
        late: event.header.time > silence.deadline || silence.close.is_some(),
        deadline_utc: utc(silence.deadline),
    })
}

/// Closes a silence procedure; returns the close and the outcome as this node sees it now (a
/// break still in flight may yet make it contested).
pub fn silence_close(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    silence: Option<&str>,
) -> Result<(EventId, EventId, SilenceOutcome)> {
    let silence = room.silence(silence)?.id;
    let event = room::post_decision(
        ws,
        me,
        &room.negotiation,
        Decision::SilenceClose { silence },
    )?;
    let after = Room::load(ws, me, &room.negotiation)?;
    let outcome = after
        .proceedings
        .silences
        .iter()
        .find(|v| v.silence.id == silence)
        .map(|v| v.outcome)
        .context("the silence procedure vanished")?;
    Ok((event.id, silence, outcome))
}

pub fn receipt(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    silence: Option<&str>,
) -> Result<(EventId, EventId)> {
    let silence = room.silence(silence)?.id;
    let event = room::post_decision(ws, me, &room.negotiation, Decision::Receipt { silence })?;
    Ok((event.id, silence))
}

pub fn object(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    rev: Option<&str>,
    reason: Option<&str>,
) -> Result<(EventId, EventId)> {
    let r = room.revision(rev)?.id;
    room.check_decision(
        me,
        &Decision::Object {
            revision: r,
            reference: None,
        },
    )?;
    let reference = match reason {
        Some(reason) => Some(post_reason(ws, me, room, r, reason)?),
        None => None,
    };
    let event = room::post_decision(
        ws,
        me,
        &room.negotiation,
        Decision::Object {
            revision: r,
            reference,
        },
    )?;
    Ok((event.id, r))
}

/// Declares a revision adopted: on the given silence, else on the latest closed silence on it
/// (unless `consensus`), else by consensus in the room.
pub fn adopt(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    rev: Option<&str>,
    silence: Option<&str>,
    consensus: bool,
) -> Result<(EventId, EventId, Option<EventId>)> {
    let r = room.revision(rev)?;
    let latest_silence = room
        .proceedings
        .silences
        .iter()
        .filter(|v| v.silence.revision == r.id)
        .max_by_key(|v| v.silence.opened_at);
    let silence = match (silence, consensus) {
        (Some(s), _) => Some(room.silence(Some(s))?.id),
        (None, true) => None,
        (None, false) => match latest_silence {
            Some(v) if v.silence.close.is_none() => bail!(
                "the silence procedure on {} is still open (deadline {}): close it first, or adopt by consensus in the room with --consensus",
                r.label,
                utc(v.silence.deadline)
            ),
            Some(v) => Some(v.silence.id),
            None => None,
        },
    };
    if silence.is_none() {
        // By consensus: an objection already lodged would make the adoption void.
        let objecting: Vec<String> = room
            .state
            .procedure
            .objections
            .get(&r.id)
            .into_iter()
            .flatten()
            .map(|o| room.name_of(&o.delegation))
            .collect();
        if !objecting.is_empty() {
            bail!(
                "{} objected to adopting {}: there is no consensus, and an adoption now would be void",
                objecting.join(", "),
                r.label
            );
        }
    }
    if let Some(s) = silence
        && let Some(v) = room.proceedings.silences.iter().find(|v| v.silence.id == s)
        && v.outcome != SilenceOutcome::Passed
    {
        bail!(
            "silence {} did not pass ({}); adopt by consensus instead, or circulate a new revision",
            s.short(),
            outcome_words(v.outcome)
        );
    }
    let event = room::post_decision(
        ws,
        me,
        &room.negotiation,
        Decision::Adopt {
            revision: r.id,
            hashes: r.hashes(),
            silence,
        },
    )?;
    Ok((event.id, r.id, silence))
}

/// One signature just posted.
#[derive(Debug, Serialize)]
pub struct Signed {
    pub event: EventId,
    pub language: String,
    pub hash: String,
}

fn adoption<'a>(
    room: &'a Room,
    adoption: Option<&str>,
) -> Result<&'a entente_protocol::procedure::Adoption> {
    let adoptions = &room.state.procedure.adoptions;
    match adoption {
        Some(a) => adoptions
            .get(&room.event(a)?)
            .context("that event is not an adoption"),
        None => {
            // The latest adoption that stands; a void or contested one only when named.
            let standing = room
                .proceedings
                .adoptions
                .iter()
                .filter(|v| v.status == entente_protocol::proceedings::AdoptionStatus::Adopted)
                .max_by_key(|v| v.adoption.time);
            match standing {
                Some(v) => adoptions
                    .get(&v.adoption.id)
                    .context("the adoption vanished"),
                None if adoptions.is_empty() => bail!("nothing has been adopted yet"),
                None => bail!(
                    "no adoption stands (each is void or contested; see `entente verify` on the record); name one with --adoption"
                ),
            }
        }
    }
}

/// Signs the adopted text in each language (every adopted language if none is named), but only
/// what this device holds and hashes to the adopted hash: never a hash on trust.
pub fn sign(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    adoption_id: Option<&str>,
    languages: &[String],
    form: SignatureForm,
) -> Result<(EventId, Vec<Signed>)> {
    let adoption = adoption(room, adoption_id)?.clone();
    let languages: Vec<String> = if languages.is_empty() {
        adoption.hashes.keys().cloned().collect()
    } else {
        languages.to_vec()
    };
    let r = room
        .draft
        .revision(&adoption.revision)
        .context("this device cannot read the adopted revision, so it will not sign its hash")?;
    let mut checked = Vec::new();
    for lang in &languages {
        let adopted = adoption
            .hashes
            .get(lang)
            .with_context(|| format!("the adopted text has no {lang} version"))?;
        let held = r
            .version(lang)
            .map(|v| v.document.hash())
            .with_context(|| format!("the revision has no {lang} version"))?;
        if held != *adopted {
            bail!("the {lang} text this device holds does not hash to the adopted hash");
        }
        checked.push((lang.clone(), *adopted));
    }
    let mut signed = Vec::new();
    for (language, hash) in checked {
        let event = room::post_decision(
            ws,
            me,
            &room.negotiation,
            Decision::Sign {
                adoption: adoption.id,
                language: language.clone(),
                hash,
                form,
            },
        )?;
        signed.push(Signed {
            event: event.id,
            language,
            hash: hex::encode(hash),
        });
    }
    Ok((adoption.id, signed))
}

/// The public signed text of an adoption, checked with the verifier others will use.
pub fn public_text(
    room: &Room,
    adoption_id: Option<&str>,
) -> Result<(Vec<u8>, public::PublicTextSummary, String)> {
    let adoption = adoption(room, adoption_id)?;
    let revision = room
        .draft
        .revision(&adoption.revision)
        .context("this device cannot read the adopted revision")?;
    let documents: Vec<_> = revision
        .versions
        .iter()
        .map(|v| v.document.clone())
        .filter(|d| adoption.hashes.get(&d.language) == Some(&d.hash()))
        .collect();
    let events = public::select_events(&room.events, &adoption.id);
    let bytes = public::encode_public_text(room.negotiation, adoption.id, &events, &documents);
    let verified = public::verify_public_text(&bytes)
        .context("the public signed text does not verify; nothing was written")?;
    Ok((bytes, verified.summary, revision.label.clone()))
}

/// Posts a statement and returns its id: the sealed reason a break or objection refers to.
fn post_reason(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    target: EventId,
    text: &str,
) -> Result<EventId> {
    let draft = Draft::Statement {
        kind: StatementKind::ExplanationOfPosition,
        target,
        paragraph: String::new(),
        text: text.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}

pub fn outcome_words(o: SilenceOutcome) -> &'static str {
    match o {
        SilenceOutcome::Open => "open, silence unbroken so far",
        SilenceOutcome::Broken => "silence was broken",
        SilenceOutcome::Passed => "silence passed: the text may be adopted",
        SilenceOutcome::Contested => {
            "CONTESTED: a break and the close did not see each other, and the break claims a time before the deadline"
        }
        SilenceOutcome::Withdrawn => "closed before the deadline without a break (withdrawn)",
    }
}

/// A silence procedure as `silence status --json` and the API show it.
pub fn silence_json(room: &Room, v: &SilenceView) -> Value {
    let label = room
        .draft
        .revision(&v.silence.revision)
        .map(|r| r.label.clone());
    let mut received: Vec<String> = v
        .silence
        .receipts
        .values()
        .map(|r| room.name_of(&r.delegation))
        .collect();
    received.sort();
    received.dedup();
    let waiting: Vec<String> = room
        .state
        .members
        .values()
        .filter(|m| m.status.is_member())
        .filter(|m| {
            !v.silence
                .receipts
                .values()
                .any(|r| r.delegation == m.delegation)
        })
        .map(|m| m.name.clone())
        .collect();
    let breaks: Vec<_> = v
        .silence
        .breaks
        .iter()
        .zip(&v.standings)
        .map(|(b, (_, st))| {
            json!({"event": b.id, "delegation": b.delegation, "name": room.name_of(&b.delegation),
                   "grounds": b.grounds, "reference": b.reference, "time_utc": utc(b.time),
                   "standing": st})
        })
        .collect();
    json!({
        "silence": v.silence.id, "revision": v.silence.revision, "label": label,
        "deadline": v.silence.deadline, "deadline_utc": utc(v.silence.deadline),
        "remaining_ms": v.silence.deadline.saturating_sub(now_ms()),
        "closed": v.silence.close.is_some(), "outcome": v.outcome,
        "outcome_words": outcome_words(v.outcome),
        "received_by": received, "not_received_by": waiting, "breaks": breaks,
    })
}

/// The revisions as `draft list --json` and the API show them.
pub fn revisions_json(room: &Room) -> Vec<Value> {
    room.draft
        .revisions
        .iter()
        .map(|r| {
            let adoption = room
                .proceedings
                .adoptions
                .iter()
                .find(|a| a.adoption.revision == r.id);
            json!({
                "revision": r.id, "label": r.label, "symbol": r.symbol, "languages": r.languages,
                "supersedes": r.supersedes, "by": r.delegation.map(|d| room.name_of(&d)),
                "time": r.time, "time_utc": utc(r.time),
                "hashes": r.hashes().iter().map(|(l, h)| (l.clone(), hex::encode(h))).collect::<BTreeMap<_, _>>(),
                "adoption": adoption.map(|a| json!({"event": a.adoption.id, "status": a.status,
                    "signatures": a.adoption.signatures.iter().map(|s| json!({
                        "name": room.name_of(&s.delegation), "language": s.language, "form": s.form,
                    })).collect::<Vec<_>>()})),
            })
        })
        .collect()
}

/// The positions matrix of a revision: one row per (delegation, target, paragraph).
pub fn positions_json(room: &Room, rev: Option<&str>) -> Result<Vec<Value>> {
    let r = room.revision(rev)?;
    Ok(room
        .draft
        .positions_on(&r.id)
        .iter()
        .map(|((d, target, para), stance)| {
            let on = if para.is_empty() {
                format!("amendment {}", target.short())
            } else {
                para.clone()
            };
            json!({"delegation": d, "name": room.name_of(d), "target": target, "paragraph": para,
                   "on": on, "stance": stance})
        })
        .collect())
}

/// Whether this delegation is accredited (or active) in a negotiation this store holds.
pub fn accredited(ws: &Workspace, me: &Identity, negotiation: &EventId) -> Result<bool> {
    if !ws.negotiations()?.contains(negotiation) {
        return Ok(false);
    }
    let (_, state) = ws.load(negotiation)?;
    Ok(state
        .members
        .get(&me.public.delegation)
        .is_some_and(|m| m.status.is_member()))
}

/// Posts this device's join unless it already joined; returns the title and the join event.
pub fn join_once(
    ws: &mut Workspace,
    me: &Identity,
    negotiation: &EventId,
) -> Result<(String, Option<entente_protocol::Event>)> {
    let (_, state) = ws.load(negotiation)?;
    let already = state
        .members
        .get(&me.public.delegation)
        .is_some_and(|m| m.devices.contains_key(&me.public.device));
    let event = if already {
        None
    } else {
        Some(ws.post(
            me,
            negotiation,
            entente_protocol::Body::Join {
                certificate: me.certificate.clone(),
            },
        )?)
    };
    Ok((state.charter.title.clone(), event))
}
