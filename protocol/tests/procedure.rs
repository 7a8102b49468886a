//! Procedure: silence procedures, objections, adoption and signatures (governance channel), the
//! drafting content they rest on (sealed in the plenary channel), and the public signed text.
//! Outcomes that depend on causality (a break racing the close) must come out the same on every
//! node, whatever order the events arrived in.

mod common;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use common::*;
use entente_protocol::decisions::{Decision, Grounds, SignatureForm, TextHashes};
use entente_protocol::drafting::{Contents, DraftState, ParagraphStatus};
use entente_protocol::drafts::{AmendOp, Draft, MarkKind, Stance, TextContent, Version};
use entente_protocol::envelope::{self, EnvelopeContext, EpochKey, sealing_public};
use entente_protocol::event::EventHeader;
use entente_protocol::keyring::Keyring;
use entente_protocol::proceedings::{AdoptionStatus, Proceedings, SilenceOutcome, Standing};
use entente_protocol::public::{self, PublicTextError};
use entente_protocol::sealed;
use entente_protocol::state::NegotiationState;
use entente_protocol::text::{Document, Paragraph, paragraph_hash};
use entente_protocol::{
    Body, DelegationId, DeviceId, Event, EventId, Exclusion, NegotiationId, RecordSummary, Role,
    fold,
};
use proptest::prelude::*;

const CHAIR: u8 = 1;
const A: u8 = 2;
const B: u8 = 3;
const OBSERVER: u8 = 4;

/// When the chair circulates the revision.
const T_REV: u64 = T0 + 10_000;
/// When the chair opens the silence procedure, and its deadline one hour later.
const T_OPEN: u64 = T0 + 20_000;
const DEADLINE: u64 = T_OPEN + 3_600_000;

fn sealing_secret(seed: u8) -> [u8; 32] {
    [seed.wrapping_add(50); 32]
}

fn actor(seed: u8) -> Actor {
    Actor::with_sealing(seed, sealing_public(&sealing_secret(seed)))
}

/// A negotiation with a chair, delegations A and B and an observer, all joined, and a plenary
/// epoch key sealed to every device.
struct Room {
    chair: Actor,
    a: Actor,
    b: Actor,
    observer: Actor,
    neg: NegotiationId,
    key: EpochKey,
    /// Charter to keys event, each on top of the one before.
    setup: Vec<Event>,
    nonces: Cell<u64>,
}

impl Room {
    fn new(title: &str) -> Self {
        let (chair, a, b, observer) = (actor(CHAIR), actor(A), actor(B), actor(OBSERVER));
        let genesis = charter(&chair, title);
        let neg = genesis.id;
        let mut setup = vec![genesis];
        let mut time = T0;
        for (who, role, name) in [
            (&a, Role::Delegation, "A"),
            (&b, Role::Delegation, "B"),
            (&observer, Role::Observer, "O"),
        ] {
            for (author, body) in [(&chair, accredit(who, role, name)), (who, who.join_body())] {
                time += 1000;
                let e = post(author, neg, &[setup.last().expect("event")], body, time);
                setup.push(e);
            }
        }
        let key = EpochKey([0x5e; 32]);
        let keys = keys_event(
            CHAIR,
            neg,
            setup.last().expect("event"),
            &key,
            &[&chair, &a, &b, &observer],
            time + 1000,
        );
        setup.push(keys);
        Self {
            chair,
            a,
            b,
            observer,
            neg,
            key,
            setup,
            nonces: Cell::new(0),
        }
    }

    fn base(&self) -> &Event {
        self.setup.last().expect("setup")
    }

    /// `draft`, sealed with the plenary key by `author` on top of `parents`.
    fn seal(&self, author: &Actor, parents: &[&Event], draft: &Draft, time: u64) -> Event {
        let body = Body::Draft(draft.clone());
        let mut header = EventHeader::new(
            Some(self.neg),
            author.device(),
            parents.iter().map(|p| p.id).collect(),
            lamport_on(parents),
            time,
            &body,
        );
        assert_eq!(header.channel, "plenary");
        header.epoch = 1;
        let n = self.nonces.get() + 1;
        self.nonces.set(n);
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&n.to_be_bytes());
        nonce[8..].copy_from_slice(&author.device().0[..16]);
        sealed::seal_into(&mut header, &body, &self.key, nonce).expect("seals");
        Event::sign(header, &author.device_key).expect("signs")
    }

    fn decide(&self, author: &Actor, parents: &[&Event], decision: Decision, time: u64) -> Event {
        post(author, self.neg, parents, Body::Decision(decision), time)
    }

    /// The chair's revision (every language), sealed on top of the setup.
    fn revision(&self) -> (Event, Draft) {
        let draft = revision_draft("Rev.1");
        (self.seal(&self.chair, &[self.base()], &draft, T_REV), draft)
    }

    /// The setup followed by `more`.
    fn with(&self, more: &[&Event]) -> Vec<Event> {
        let mut all = self.setup.clone();
        all.extend(more.iter().map(|e| (*e).clone()));
        all
    }

    fn fold(&self, more: &[&Event]) -> NegotiationState {
        fold(&self.with(more)).expect("folds")
    }
}

fn lamport_on(parents: &[&Event]) -> u64 {
    parents
        .iter()
        .map(|p| p.header.lamport + 1)
        .max()
        .unwrap_or(0)
}

/// A plenary keys event for epoch 1 by the actor of `author_seed`, sealing `key` to each of `to`.
fn keys_event(
    author_seed: u8,
    neg: NegotiationId,
    parent: &Event,
    key: &EpochKey,
    to: &[&Actor],
    time: u64,
) -> Event {
    let author = actor(author_seed);
    let mut envelopes: Vec<(DeviceId, Vec<u8>)> = to
        .iter()
        .map(|r| {
            let ctx = EnvelopeContext {
                negotiation: neg,
                channel: "plenary",
                epoch: 1,
                recipient: r.device(),
            };
            let sealed = envelope::seal(
                &sealing_secret(author_seed),
                &r.cert.certificate.sealing_key,
                &ctx,
                key,
                [r.device().0[0] ^ 0x77; 32],
            )
            .expect("seals");
            (r.device(), sealed)
        })
        .collect();
    envelopes.sort();
    let body = Body::Keys {
        epoch: 1,
        key_id: key.id(),
        envelopes,
    };
    let mut header = EventHeader::new(
        Some(neg),
        author.device(),
        vec![parent.id],
        parent.header.lamport + 1,
        time,
        &body,
    );
    header.channel = "plenary".into();
    Event::sign(header, &author.device_key).expect("signs")
}

fn documents() -> Vec<Document> {
    let paragraphs = |texts: [(&str, &str); 5]| {
        texts
            .iter()
            .map(|(id, text)| Paragraph {
                id: (*id).into(),
                text: (*text).into(),
            })
            .collect()
    };
    vec![
        Document {
            language: "en".into(),
            symbol: "ENT/2025/L.1".into(),
            title: "Joint statement on ocean governance".into(),
            paragraphs: paragraphs([
                ("PP1", "Recalling the mandate agreed by the parties,"),
                ("OP1", "Decides to establish a joint commission;"),
                ("OP2", "Requests the commission to report annually;"),
                ("OP3", "Invites the parties to contribute resources;"),
                ("OP4", "Decides to remain seized of the matter."),
            ]),
        },
        Document {
            language: "fr".into(),
            symbol: "ENT/2025/L.1".into(),
            title: "Déclaration commune sur la gouvernance des océans".into(),
            paragraphs: paragraphs([
                ("PP1", "Rappelant le mandat convenu par les parties,"),
                ("OP1", "Décide de créer une commission mixte ;"),
                ("OP2", "Prie la commission de faire rapport chaque année ;"),
                ("OP3", "Invite les parties à fournir des ressources ;"),
                ("OP4", "Décide de rester saisie de la question."),
            ]),
        },
    ]
}

fn revision_draft(label: &str) -> Draft {
    let docs = documents();
    let en = docs[0].clone();
    let sources: Vec<Option<[u8; 32]>> = en
        .paragraphs
        .iter()
        .map(|p| Some(paragraph_hash(&p.text)))
        .collect();
    let versions = docs
        .into_iter()
        .map(|document| Version {
            sources: if document.language == "en" {
                vec![None; document.paragraphs.len()]
            } else {
                sources.clone()
            },
            document,
        })
        .collect();
    Draft::Revision {
        label: label.into(),
        supersedes: None,
        content: TextContent::Inline(versions),
    }
}

fn text_hashes() -> TextHashes {
    documents()
        .iter()
        .map(|d| (d.language.clone(), d.hash()))
        .collect()
}

fn verdict(state: &NegotiationState, id: EventId) -> Option<Exclusion> {
    state
        .entries
        .iter()
        .find(|e| e.id == id)
        .expect("entry")
        .excluded
}

fn open_silence(revision: EventId) -> Decision {
    Decision::SilenceOpen {
        revision,
        hashes: text_hashes(),
        deadline: DEADLINE,
    }
}

fn break_silence(silence: EventId) -> Decision {
    Decision::SilenceBreak {
        silence,
        grounds: Grounds::Objection,
        reference: None,
    }
}

fn close(silence: EventId) -> Decision {
    Decision::SilenceClose { silence }
}

fn adopt(revision: EventId, silence: Option<EventId>) -> Decision {
    Decision::Adopt {
        revision,
        hashes: text_hashes(),
        silence,
    }
}

fn sign(adoption: EventId, language: &str, form: SignatureForm) -> Decision {
    let hash = text_hashes()[language];
    Decision::Sign {
        adoption,
        language: language.into(),
        hash,
        form,
    }
}

/// A room whose chair circulated a revision and put it under silence until `DEADLINE`.
struct Silenced {
    room: Room,
    rev: Event,
    open: Event,
}

fn silenced() -> Silenced {
    let room = Room::new("Silence");
    let (rev, _) = room.revision();
    let open = room.decide(&room.chair, &[&rev], open_silence(rev.id), T_OPEN);
    Silenced { room, rev, open }
}

impl Silenced {
    fn fold(&self, more: &[&Event]) -> NegotiationState {
        let mut all = vec![&self.rev, &self.open];
        all.extend_from_slice(more);
        let state = self.room.fold(&all);
        assert_eq!(verdict(&state, self.rev.id), None);
        assert_eq!(verdict(&state, self.open.id), None);
        state
    }

    /// The one silence procedure's outcome and its breaks' standings.
    fn outcome(&self, more: &[&Event]) -> (SilenceOutcome, Vec<(EventId, Standing)>) {
        let p = Proceedings::of(&self.fold(more));
        assert_eq!(p.silences.len(), 1);
        let v = &p.silences[0];
        assert_eq!(v.silence.id, self.open.id);
        (v.outcome, v.standings.clone())
    }
}

// --- 1. Silence procedure outcomes -------------------------------------------------------------

#[test]
fn silence_without_a_break_closed_after_the_deadline_passes_and_adoption_stands() {
    let s = silenced();
    let r = &s.room;
    assert_eq!(s.outcome(&[]), (SilenceOutcome::Open, vec![]));
    let close = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE + 1000);
    assert_eq!(s.outcome(&[&close]), (SilenceOutcome::Passed, vec![]));
    let adoption = r.decide(
        &r.chair,
        &[&close],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 2000,
    );
    let state = s.fold(&[&close, &adoption]);
    assert_eq!(verdict(&state, adoption.id), None);
    let p = Proceedings::of(&state);
    assert_eq!(p.adoptions.len(), 1);
    assert_eq!(p.adoptions[0].adoption.id, adoption.id);
    assert_eq!(p.adoptions[0].status, AdoptionStatus::Adopted);
    assert!(p.adoptions[0].reasons.is_empty());
}

#[test]
fn a_break_the_close_saw_before_the_deadline_breaks_silence_and_voids_the_adoption() {
    let s = silenced();
    let r = &s.room;
    let brk = r.decide(&r.a, &[&s.open], break_silence(s.open.id), T_OPEN + 60_000);
    let close = r.decide(&r.chair, &[&brk], close(s.open.id), DEADLINE + 1000);
    assert_eq!(
        s.outcome(&[&brk, &close]),
        (SilenceOutcome::Broken, vec![(brk.id, Standing::Counted)])
    );
    // Even unclosed, a counted break has broken the silence.
    assert_eq!(
        s.outcome(&[&brk]),
        (SilenceOutcome::Broken, vec![(brk.id, Standing::Counted)])
    );
    let adoption = r.decide(
        &r.chair,
        &[&close],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 2000,
    );
    let state = s.fold(&[&brk, &close, &adoption]);
    assert_eq!(verdict(&state, adoption.id), None, "recorded, but void");
    let p = Proceedings::of(&state);
    assert_eq!(p.adoptions[0].status, AdoptionStatus::Void);
    assert_eq!(p.silences[0].silence.breaks[0].delegation, r.a.delegation());
}

#[test]
fn a_break_racing_the_close_before_the_deadline_makes_silence_and_adoption_contested() {
    let s = silenced();
    let r = &s.room;
    // A breaks on top of the opening; the chair closes without having seen it.
    let brk = r.decide(&r.a, &[&s.open], break_silence(s.open.id), DEADLINE - 1);
    let close = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE + 1000);
    assert_eq!(
        s.outcome(&[&brk, &close]),
        (
            SilenceOutcome::Contested,
            vec![(brk.id, Standing::Contested)]
        )
    );
    let adoption = r.decide(
        &r.chair,
        &[&close],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 2000,
    );
    let signed = r.decide(
        &r.b,
        &[&adoption],
        sign(adoption.id, "en", SignatureForm::Signature),
        DEADLINE + 3000,
    );
    let state = s.fold(&[&brk, &close, &adoption, &signed]);
    assert_eq!(verdict(&state, adoption.id), None);
    let p = Proceedings::of(&state);
    assert_eq!(p.adoptions[0].status, AdoptionStatus::Contested);
    assert_eq!(
        p.adoptions[0].reasons,
        vec!["the silence procedure it rests on is contested".to_string()]
    );

    // The verifier's summary says so too, for the adoption and for each language signed.
    let summary = RecordSummary::of(&state);
    assert_eq!(summary.proceedings.silences.len(), 1);
    assert_eq!(
        summary.proceedings.silences[0].outcome,
        SilenceOutcome::Contested
    );
    assert_eq!(summary.proceedings.adoptions.len(), 1);
    assert_eq!(
        summary.proceedings.adoptions[0].status,
        AdoptionStatus::Contested
    );
    let langs: Vec<(&str, AdoptionStatus)> = summary
        .authentication
        .iter()
        .map(|a| (a.language.as_str(), a.status))
        .collect();
    assert_eq!(
        langs,
        vec![
            ("en", AdoptionStatus::Contested),
            ("fr", AdoptionStatus::Contested)
        ]
    );
    let en = &summary.authentication[0];
    assert_eq!(en.adoption, adoption.id);
    assert_eq!(en.hash, hex::encode(text_hashes()["en"]));
    assert_eq!(
        en.signed_by,
        vec![("B".to_string(), SignatureForm::Signature)]
    );
}

#[test]
fn a_break_made_after_seeing_the_close_is_late_and_silence_passes() {
    let s = silenced();
    let r = &s.room;
    let close = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE + 1000);
    // Its claimed time is before the deadline, but it names the close as an ancestor.
    let brk = r.decide(&r.b, &[&close], break_silence(s.open.id), T_OPEN + 5000);
    assert_eq!(
        s.outcome(&[&close, &brk]),
        (SilenceOutcome::Passed, vec![(brk.id, Standing::Late)])
    );
}

#[test]
fn a_concurrent_break_claiming_a_time_after_the_deadline_is_late() {
    let s = silenced();
    let r = &s.room;
    let brk = r.decide(&r.a, &[&s.open], break_silence(s.open.id), DEADLINE + 1);
    let close = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE + 1000);
    assert_eq!(
        s.outcome(&[&brk, &close]),
        (SilenceOutcome::Passed, vec![(brk.id, Standing::Late)])
    );
    // Unclosed, a break after the deadline does not break it either.
    assert_eq!(
        s.outcome(&[&brk]),
        (SilenceOutcome::Open, vec![(brk.id, Standing::Late)])
    );
}

#[test]
fn closing_before_the_deadline_without_a_break_withdraws_the_text() {
    let s = silenced();
    let r = &s.room;
    let close = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE - 1000);
    assert_eq!(s.outcome(&[&close]), (SilenceOutcome::Withdrawn, vec![]));
    let adoption = r.decide(
        &r.chair,
        &[&close],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE - 500,
    );
    let p = Proceedings::of(&s.fold(&[&close, &adoption]));
    assert_eq!(p.adoptions[0].status, AdoptionStatus::Void);
}

#[test]
fn the_deadline_itself_still_counts_for_breaks_and_closes() {
    // A break claiming exactly the deadline is in time; a close exactly at it is not early.
    let s = silenced();
    let r = &s.room;
    let brk = r.decide(&r.a, &[&s.open], break_silence(s.open.id), DEADLINE);
    let at_deadline = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE);
    assert_eq!(
        s.outcome(&[&brk, &at_deadline]),
        (
            SilenceOutcome::Contested,
            vec![(brk.id, Standing::Contested)]
        )
    );
    assert_eq!(s.outcome(&[&at_deadline]), (SilenceOutcome::Passed, vec![]));
    let a_moment_early = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE - 1);
    assert_eq!(
        s.outcome(&[&a_moment_early]),
        (SilenceOutcome::Withdrawn, vec![])
    );
}

#[test]
fn only_the_chair_opens_and_closes_silence_and_observers_do_not_break_it() {
    let s = silenced();
    let r = &s.room;
    let by_a = r.decide(&r.a, &[&s.open], open_silence(s.rev.id), T_OPEN + 1000);
    let obs_break = r.decide(
        &r.observer,
        &[&s.open],
        break_silence(s.open.id),
        T_OPEN + 2000,
    );
    let a_close = r.decide(&r.a, &[&s.open], close(s.open.id), DEADLINE + 1000);
    let early = r.decide(
        &r.chair,
        &[&s.open],
        Decision::SilenceOpen {
            revision: s.rev.id,
            hashes: text_hashes(),
            deadline: T_OPEN + 500,
        },
        T_OPEN + 500,
    );
    let unknown = r.decide(&r.b, &[&s.open], break_silence(s.rev.id), T_OPEN + 3000);
    let state = s.fold(&[&by_a, &obs_break, &a_close, &early, &unknown]);
    assert_eq!(verdict(&state, by_a.id), Some(Exclusion::NotAuthorized));
    assert_eq!(
        verdict(&state, obs_break.id),
        Some(Exclusion::NotAuthorized)
    );
    assert_eq!(verdict(&state, a_close.id), Some(Exclusion::NotAuthorized));
    assert_eq!(
        verdict(&state, early.id),
        Some(Exclusion::DeadlineNotAfterOpening)
    );
    assert_eq!(
        verdict(&state, unknown.id),
        Some(Exclusion::UnknownReference)
    );
    // None of them touched the procedure.
    assert_eq!(state.procedure.silences.len(), 1);
    let silence = &state.procedure.silences[&s.open.id];
    assert!(silence.breaks.is_empty());
    assert_eq!(silence.close, None);
}

#[test]
fn a_second_close_is_excluded_and_the_first_in_fold_order_counts() {
    let s = silenced();
    let r = &s.room;
    let first = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE + 1000);
    let second = r.decide(&r.chair, &[&first], close(s.open.id), DEADLINE + 2000);
    let state = s.fold(&[&first, &second]);
    assert_eq!(verdict(&state, first.id), None);
    assert_eq!(verdict(&state, second.id), Some(Exclusion::AlreadyClosed));
    assert_eq!(state.procedure.silences[&s.open.id].close, Some(first.id));
}

#[test]
fn adoption_needs_a_closed_silence_with_the_same_text() {
    let s = silenced();
    let r = &s.room;
    let premature = r.decide(
        &r.chair,
        &[&s.open],
        adopt(s.rev.id, Some(s.open.id)),
        T_OPEN + 1000,
    );
    let state = s.fold(&[&premature]);
    assert_eq!(
        verdict(&state, premature.id),
        Some(Exclusion::SilenceNotClosed)
    );
    assert!(state.procedure.adoptions.is_empty());

    let close = r.decide(&r.chair, &[&premature], close(s.open.id), DEADLINE + 1000);
    let mut other = text_hashes();
    other.insert("en".into(), [0xee; 32]);
    let other_text = r.decide(
        &r.chair,
        &[&close],
        Decision::Adopt {
            revision: s.rev.id,
            hashes: other,
            silence: Some(s.open.id),
        },
        DEADLINE + 2000,
    );
    let by_a = r.decide(
        &r.a,
        &[&other_text],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 3000,
    );
    let good = r.decide(
        &r.chair,
        &[&by_a],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 4000,
    );
    let again = r.decide(
        &r.chair,
        &[&good],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 5000,
    );
    let state = s.fold(&[&premature, &close, &other_text, &by_a, &good, &again]);
    assert_eq!(
        verdict(&state, other_text.id),
        Some(Exclusion::HashMismatch)
    );
    assert_eq!(verdict(&state, by_a.id), Some(Exclusion::NotAuthorized));
    assert_eq!(verdict(&state, good.id), None);
    assert_eq!(verdict(&state, again.id), Some(Exclusion::AlreadyAdopted));
    assert_eq!(
        state
            .procedure
            .adoptions
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![good.id]
    );
}

#[test]
fn signatures_must_name_the_adopted_hash_once_per_delegation_language_and_form() {
    let s = silenced();
    let r = &s.room;
    let close = r.decide(&r.chair, &[&s.open], close(s.open.id), DEADLINE + 1000);
    let adoption = r.decide(
        &r.chair,
        &[&close],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 2000,
    );
    let initials = r.decide(
        &r.a,
        &[&adoption],
        sign(adoption.id, "en", SignatureForm::Initials),
        DEADLINE + 3000,
    );
    let wrong_hash = r.decide(
        &r.a,
        &[&initials],
        Decision::Sign {
            adoption: adoption.id,
            language: "fr".into(),
            hash: text_hashes()["en"],
            form: SignatureForm::Signature,
        },
        DEADLINE + 4000,
    );
    let unknown_language = r.decide(
        &r.a,
        &[&wrong_hash],
        Decision::Sign {
            adoption: adoption.id,
            language: "ar".into(),
            hash: text_hashes()["en"],
            form: SignatureForm::Signature,
        },
        DEADLINE + 5000,
    );
    let duplicate = r.decide(
        &r.a,
        &[&unknown_language],
        sign(adoption.id, "en", SignatureForm::Initials),
        DEADLINE + 6000,
    );
    // A later, fuller form by the same delegation is another act.
    let full = r.decide(
        &r.a,
        &[&duplicate],
        sign(adoption.id, "en", SignatureForm::Signature),
        DEADLINE + 7000,
    );
    let observer = r.decide(
        &r.observer,
        &[&full],
        sign(adoption.id, "en", SignatureForm::Signature),
        DEADLINE + 8000,
    );
    let no_adoption = r.decide(
        &r.b,
        &[&full],
        sign(s.rev.id, "en", SignatureForm::Signature),
        DEADLINE + 9000,
    );
    let state = s.fold(&[
        &close,
        &adoption,
        &initials,
        &wrong_hash,
        &unknown_language,
        &duplicate,
        &full,
        &observer,
        &no_adoption,
    ]);
    assert_eq!(verdict(&state, initials.id), None);
    assert_eq!(
        verdict(&state, wrong_hash.id),
        Some(Exclusion::HashMismatch)
    );
    assert_eq!(
        verdict(&state, unknown_language.id),
        Some(Exclusion::HashMismatch)
    );
    assert_eq!(verdict(&state, duplicate.id), Some(Exclusion::Duplicate));
    assert_eq!(verdict(&state, full.id), None);
    assert_eq!(verdict(&state, observer.id), Some(Exclusion::NotAuthorized));
    assert_eq!(
        verdict(&state, no_adoption.id),
        Some(Exclusion::UnknownReference)
    );
    let signatures: Vec<(EventId, SignatureForm)> = state.procedure.adoptions[&adoption.id]
        .signatures
        .iter()
        .map(|s| (s.id, s.form))
        .collect();
    assert_eq!(
        signatures,
        vec![
            (initials.id, SignatureForm::Initials),
            (full.id, SignatureForm::Signature)
        ]
    );
}

// --- 2. Consensus adoption and objections ------------------------------------------------------

/// Folds a consensus adoption of the revision and A's objection to it, as `arrange` (given the room
/// and the revision) links them; returns the state and the ids of the objection and adoption.
fn consensus(
    arrange: impl Fn(&Room, &Event) -> (Event, Event),
) -> (NegotiationState, EventId, EventId) {
    let room = Room::new("Consensus");
    let (rev, _) = room.revision();
    let (objection, adoption) = arrange(&room, &rev);
    let state = room.fold(&[&rev, &objection, &adoption]);
    assert_eq!(verdict(&state, objection.id), None);
    assert_eq!(verdict(&state, adoption.id), None);
    (state, objection.id, adoption.id)
}

fn object(revision: EventId) -> Decision {
    Decision::Object {
        revision,
        reference: None,
    }
}

#[test]
fn an_objection_the_adoption_saw_voids_it() {
    let (state, objection, adoption) = consensus(|r, rev| {
        let o = r.decide(&r.a, &[rev], object(rev.id), T_REV + 1000);
        let a = r.decide(&r.chair, &[&o], adopt(rev.id, None), T_REV + 2000);
        (o, a)
    });
    let p = Proceedings::of(&state);
    let view = &p.adoptions[0];
    assert_eq!(view.adoption.id, adoption);
    assert_eq!(view.status, AdoptionStatus::Void);
    assert_eq!(view.objections.len(), 1);
    assert_eq!(view.objections[0].0.id, objection);
    assert_eq!(view.objections[0].1, Standing::Counted);
    assert_eq!(view.reasons.len(), 1);
    assert!(view.reasons[0].starts_with("adopted over an objection"));
}

#[test]
fn an_objection_concurrent_with_the_adoption_contests_it() {
    let (state, objection, _) = consensus(|r, rev| {
        let o = r.decide(&r.a, &[rev], object(rev.id), T_REV + 1000);
        let a = r.decide(&r.chair, &[rev], adopt(rev.id, None), T_REV + 2000);
        (o, a)
    });
    let p = Proceedings::of(&state);
    assert_eq!(p.adoptions[0].status, AdoptionStatus::Contested);
    assert_eq!(p.adoptions[0].objections[0].0.id, objection);
    assert_eq!(p.adoptions[0].objections[0].1, Standing::Contested);
    assert_eq!(
        RecordSummary::of(&state).proceedings.adoptions[0].status,
        AdoptionStatus::Contested
    );
}

#[test]
fn an_objection_after_the_adoption_changes_nothing() {
    let (state, objection, _) = consensus(|r, rev| {
        let a = r.decide(&r.chair, &[rev], adopt(rev.id, None), T_REV + 1000);
        let o = r.decide(&r.a, &[&a], object(rev.id), T_REV + 2000);
        (o, a)
    });
    let p = Proceedings::of(&state);
    assert_eq!(p.adoptions[0].status, AdoptionStatus::Adopted);
    assert!(p.adoptions[0].reasons.is_empty());
    assert_eq!(p.adoptions[0].objections[0].0.id, objection);
    assert_eq!(p.adoptions[0].objections[0].1, Standing::Late);
}

#[test]
fn observers_do_not_object_and_a_delegation_objects_once() {
    let room = Room::new("Objections");
    let (rev, _) = room.revision();
    let by_observer = room.decide(&room.observer, &[&rev], object(rev.id), T_REV + 1000);
    let first = room.decide(&room.a, &[&by_observer], object(rev.id), T_REV + 2000);
    let again = room.decide(&room.a, &[&first], object(rev.id), T_REV + 3000);
    let state = room.fold(&[&rev, &by_observer, &first, &again]);
    assert_eq!(
        verdict(&state, by_observer.id),
        Some(Exclusion::NotAuthorized)
    );
    assert_eq!(verdict(&state, first.id), None);
    assert_eq!(verdict(&state, again.id), Some(Exclusion::Duplicate));
    let ids: Vec<EventId> = state.procedure.objections[&rev.id]
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, vec![first.id]);
}

// --- 3. Convergence of drafting and outcomes over delivery orders ------------------------------

/// How the break of silence stands to the chair's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Race {
    /// The close names the break as an ancestor.
    Seen,
    /// Neither saw the other; the break claims a time before the deadline.
    Concurrent,
    /// The break was made on top of the close.
    AfterClose,
}

struct Session {
    room: Room,
    events: Vec<Event>,
    /// The plaintext of every sealed event, as sealed.
    sealed: Contents,
    rev: EventId,
    amend_a: EventId,
    amend_b: EventId,
    open: EventId,
    brk: EventId,
    adoption: EventId,
}

/// A drafting session with concurrent branches: A and B amend OP1 at the same time, positions
/// and marks follow, and a break of silence stands to the close as `race` says.
fn session(race: Race) -> Session {
    let room = Room::new("Drafting");
    let r = &room;
    let mut sealed = Contents::new();
    let mut seal = |author: &Actor, parents: &[&Event], draft: Draft, time: u64| {
        let e = r.seal(author, parents, &draft, time);
        sealed.insert(e.id, ("plenary".to_string(), draft));
        e
    };
    let rev = seal(&r.chair, &[r.base()], revision_draft("Rev.1"), T_REV);
    let amend = |text: &str| Draft::Amendment {
        revision: rev.id,
        paragraph: "OP1".into(),
        op: AmendOp::Replace,
        new_id: String::new(),
        text: text.into(),
        justification: String::new(),
    };
    let amend_a = seal(
        &r.a,
        &[&rev],
        amend("Decides to establish a standing joint commission;"),
        T_REV + 1000,
    );
    let amend_b = seal(
        &r.b,
        &[&rev],
        amend("Decides to consider establishing a joint commission;"),
        T_REV + 1500,
    );
    let on_pp1 = seal(
        &r.a,
        &[&rev],
        Draft::Position {
            target: rev.id,
            paragraph: "PP1".into(),
            stance: Stance::Support,
            note: String::new(),
        },
        T_REV + 2000,
    );
    let position = |target: EventId, stance: Stance| Draft::Position {
        target,
        paragraph: String::new(),
        stance,
        note: "instructions from capital".into(),
    };
    let b_on_a = seal(
        &r.b,
        &[&amend_a, &amend_b],
        position(amend_a.id, Stance::Object),
        T_REV + 3000,
    );
    let a_on_b = seal(
        &r.a,
        &[&amend_a, &amend_b],
        position(amend_b.id, Stance::Reserve),
        T_REV + 3500,
    );
    let mark = |paragraph: &str, mark: MarkKind| Draft::Mark {
        revision: rev.id,
        paragraph: paragraph.into(),
        mark,
    };
    let agreed = seal(
        &r.chair,
        &[&amend_a, &amend_b, &on_pp1],
        mark("OP2", MarkKind::Agreed),
        T_REV + 4000,
    );
    let ad_ref = seal(
        &r.b,
        &[&agreed],
        mark("OP3", MarkKind::AdReferendum),
        T_REV + 5000,
    );
    let open = r.decide(&r.chair, &[&rev], open_silence(rev.id), T_OPEN);
    let grounds = Decision::SilenceBreak {
        silence: open.id,
        grounds: Grounds::Amendment,
        reference: Some(amend_b.id),
    };
    let (brk, close) = match race {
        Race::Seen => {
            let brk = r.decide(&r.b, &[&open], grounds, T_OPEN + 60_000);
            let close = r.decide(&r.chair, &[&brk], close(open.id), DEADLINE + 1000);
            (brk, close)
        }
        Race::Concurrent => {
            let brk = r.decide(&r.b, &[&open, &amend_b], grounds, T_OPEN + 60_000);
            let close = r.decide(&r.chair, &[&open], close(open.id), DEADLINE + 1000);
            (brk, close)
        }
        Race::AfterClose => {
            let close = r.decide(&r.chair, &[&open], close(open.id), DEADLINE + 1000);
            let brk = r.decide(&r.b, &[&close], grounds, DEADLINE + 1500);
            (brk, close)
        }
    };
    let adoption = r.decide(
        &r.chair,
        &[&close, &ad_ref, &b_on_a, &a_on_b],
        adopt(rev.id, Some(open.id)),
        DEADLINE + 2000,
    );
    let events = room.with(&[
        &rev, &amend_a, &amend_b, &on_pp1, &b_on_a, &a_on_b, &agreed, &ad_ref, &open, &brk, &close,
        &adoption,
    ]);
    Session {
        rev: rev.id,
        amend_a: amend_a.id,
        amend_b: amend_b.id,
        open: open.id,
        brk: brk.id,
        adoption: adoption.id,
        events,
        sealed,
        room,
    }
}

/// What a reader opens with its own keyring: every sealed event, none unreadable.
fn opened(state: &NegotiationState, events: &[Event], seed: u8) -> Contents {
    let device = actor(seed).device();
    let ring = Keyring::open(state, events, &device, &sealing_secret(seed));
    events
        .iter()
        .filter(|e| matches!(e.body, Some(Body::Sealed(_))))
        .map(|e| match ring.read(state, e) {
            Ok(Body::Draft(d)) => (e.id, (e.header.channel.clone(), d)),
            other => panic!("event {} does not open as a draft: {other:?}", e.id),
        })
        .collect()
}

type Outcomes = (
    Vec<(EventId, SilenceOutcome, Vec<(EventId, Standing)>)>,
    Vec<(EventId, AdoptionStatus, Vec<String>)>,
);

fn outcomes(state: &NegotiationState) -> Outcomes {
    let p = Proceedings::of(state);
    (
        p.silences
            .iter()
            .map(|s| (s.silence.id, s.outcome, s.standings.clone()))
            .collect(),
        p.adoptions
            .iter()
            .map(|a| (a.adoption.id, a.status, a.reasons.clone()))
            .collect(),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ParagraphSummary {
    id: String,
    text: String,
    status: ParagraphStatus,
    /// (id, options, reason, amendments) of each bracket.
    brackets: Vec<(EventId, Vec<String>, String, Vec<EventId>)>,
    proposals: Vec<EventId>,
    pending: Vec<DelegationId>,
}

/// The drafting state as a reader sees it: exclusions, positions, and the view of the revision
/// in each language.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Drafting {
    excluded: Vec<String>,
    positions: BTreeMap<(DelegationId, EventId, String), Stance>,
    views: Vec<(String, Option<AdoptionStatus>, Vec<ParagraphSummary>)>,
}

fn drafting(state: &NegotiationState, contents: &Contents, rev: EventId) -> Drafting {
    let drafts = DraftState::fold(state, contents);
    let proceedings = Proceedings::of(state);
    let views = ["en", "fr"]
        .into_iter()
        .map(|lang| {
            let v = drafts
                .view(state, &proceedings, &rev, Some(lang))
                .expect("view");
            assert!(v.paragraphs.iter().all(|p| !p.stale_translation));
            let paragraphs = v
                .paragraphs
                .iter()
                .map(|p| ParagraphSummary {
                    id: p.id.clone(),
                    text: p.text.clone(),
                    status: p.status,
                    brackets: p
                        .brackets
                        .iter()
                        .map(|b| {
                            (
                                b.id,
                                b.options.clone(),
                                b.reason.clone(),
                                b.amendments.clone(),
                            )
                        })
                        .collect(),
                    proposals: p.proposals.clone(),
                    pending: p.pending_ad_referendum.clone(),
                })
                .collect();
            (v.language, v.adopted, paragraphs)
        })
        .collect();
    Drafting {
        excluded: drafts
            .excluded
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect(),
        positions: drafts.positions_on(&rev),
        views,
    }
}

fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

fn race() -> impl Strategy<Value = Race> {
    prop_oneof![
        Just(Race::Seen),
        Just(Race::Concurrent),
        Just(Race::AfterClose)
    ]
}

/// What the session must give, whatever the order: checked once per race, outside the property.
fn check_session_expectations(s: &Session, race: Race) {
    let state = fold(&s.events).expect("folds");
    let (included, excluded) = state.counts();
    assert_eq!(excluded, 0, "every event of the session is allowed");
    assert_eq!(included, s.events.len());
    let (silences, adoptions) = outcomes(&state);
    let (outcome, standing, status) = match race {
        Race::Seen => (
            SilenceOutcome::Broken,
            Standing::Counted,
            AdoptionStatus::Void,
        ),
        Race::Concurrent => (
            SilenceOutcome::Contested,
            Standing::Contested,
            AdoptionStatus::Contested,
        ),
        Race::AfterClose => (
            SilenceOutcome::Passed,
            Standing::Late,
            AdoptionStatus::Adopted,
        ),
    };
    assert_eq!(silences, vec![(s.open, outcome, vec![(s.brk, standing)])]);
    assert_eq!(adoptions.len(), 1);
    assert_eq!((adoptions[0].0, adoptions[0].1), (s.adoption, status));

    let contents = opened(&state, &s.events, A);
    assert_eq!(
        contents, s.sealed,
        "the keyring opens exactly what was sealed"
    );
    let d = drafting(&state, &contents, s.rev);
    assert!(d.excluded.is_empty(), "{:?}", d.excluded);
    let r = &s.room;
    let expected_positions: BTreeMap<(DelegationId, EventId, String), Stance> = [
        (
            (r.a.delegation(), s.rev, "PP1".to_string()),
            Stance::Support,
        ),
        ((r.b.delegation(), s.amend_a, String::new()), Stance::Object),
        (
            (r.a.delegation(), s.amend_b, String::new()),
            Stance::Reserve,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(d.positions, expected_positions);

    let docs = documents();
    for (i, (lang, adopted, paragraphs)) in d.views.iter().enumerate() {
        assert_eq!(lang, &docs[i].language);
        assert_eq!(*adopted, Some(status));
        let texts: Vec<&str> = paragraphs.iter().map(|p| p.text.as_str()).collect();
        let original: Vec<&str> = docs[i].paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, original, "amendments are never merged into the text");
        let statuses: Vec<ParagraphStatus> = paragraphs.iter().map(|p| p.status).collect();
        let expected = if status == AdoptionStatus::Adopted {
            vec![ParagraphStatus::Adopted; 5]
        } else {
            vec![
                ParagraphStatus::Discussed,
                ParagraphStatus::Bracketed,
                ParagraphStatus::Agreed,
                ParagraphStatus::AgreedAdReferendum,
                ParagraphStatus::Unread,
            ]
        };
        assert_eq!(statuses, expected, "{lang}");
        // OP1: the two amendments become one bracket, with the original and both proposals.
        let op1 = &paragraphs[1];
        assert_eq!(op1.id, "OP1");
        assert!(op1.proposals.is_empty());
        assert_eq!(op1.brackets.len(), 1);
        let (_, options, reason, amendments) = &op1.brackets[0];
        assert_eq!(reason, "conflicting amendments");
        let ids: BTreeSet<EventId> = amendments.iter().copied().collect();
        assert_eq!(ids, [s.amend_a, s.amend_b].into_iter().collect());
        assert_eq!(amendments.len(), 2);
        // The original first, then each proposal in fold order ((lamport, id): both amendments
        // build on the revision, so by id).
        let mut proposed = [
            (
                s.amend_a,
                "Decides to establish a standing joint commission;",
            ),
            (
                s.amend_b,
                "Decides to consider establishing a joint commission;",
            ),
        ];
        proposed.sort();
        assert_eq!(
            options,
            &vec![
                "Decides to establish a joint commission;".to_string(),
                proposed[0].1.to_string(),
                proposed[1].1.to_string(),
            ]
        );
        assert_eq!(amendments, &vec![proposed[0].0, proposed[1].0]);
        assert_eq!(paragraphs[3].pending, vec![r.b.delegation()]);
    }
}

#[test]
fn each_race_gives_its_outcome_and_the_drafting_view_expected() {
    for race in [Race::Seen, Race::Concurrent, Race::AfterClose] {
        check_session_expectations(&session(race), race);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_delivery_order_gives_the_same_state_outcomes_and_drafting_view(
        race in race(),
        seed in 1u64..,
        reader in prop::sample::select(vec![CHAIR, A, B, OBSERVER]),
    ) {
        let s = session(race);
        let reference = fold(&s.events).expect("folds");
        let reference_outcomes = outcomes(&reference);
        let reference_drafting = drafting(&reference, &opened(&reference, &s.events, A), s.rev);

        let mut shuffled = s.events.clone();
        shuffle(&mut shuffled, seed);
        let state = fold(&shuffled).expect("folds");
        prop_assert_eq!(state.state_hash(), reference.state_hash());
        prop_assert_eq!(&state.entries, &reference.entries);
        prop_assert_eq!(&state.heads, &reference.heads);
        let got = outcomes(&state);
        prop_assert_eq!(&got, &reference_outcomes);
        if race == Race::Concurrent {
            prop_assert_eq!(got.0[0].1, SilenceOutcome::Contested);
            prop_assert_eq!(got.1[0].1, AdoptionStatus::Contested);
        }
        // Any member, reading with its own keys the events in the order they came.
        let contents = opened(&state, &shuffled, reader);
        prop_assert_eq!(&contents, &s.sealed);
        let d = drafting(&state, &contents, s.rev);
        prop_assert_eq!(&d, &reference_drafting);
        let op1 = &d.views[0].2[1];
        prop_assert_eq!(op1.brackets.len(), 1);
        prop_assert_eq!(op1.brackets[0].2.as_str(), "conflicting amendments");
        prop_assert!(op1.brackets[0].3.contains(&s.amend_a));
        prop_assert!(op1.brackets[0].3.contains(&s.amend_b));
    }
}

// --- 4. Drafting content must be sealed --------------------------------------------------------

#[test]
fn drafting_content_posted_in_plaintext_is_excluded_as_unsealed() {
    let room = Room::new("Unsealed");
    let draft = revision_draft("Rev.1");
    let plain = post(
        &room.chair,
        room.neg,
        &[room.base()],
        Body::Draft(draft.clone()),
        T_REV,
    );
    assert_eq!(plain.header.channel, "plenary");
    assert_eq!(plain.header.kind, "revision");
    let amendment = Draft::Amendment {
        revision: plain.id,
        paragraph: "OP1".into(),
        op: AmendOp::Delete,
        new_id: String::new(),
        text: String::new(),
        justification: String::new(),
    };
    let plain_amendment = post(
        &room.a,
        room.neg,
        &[&plain],
        Body::Draft(amendment.clone()),
        T_REV + 1000,
    );
    let sealed_rev = room.seal(&room.chair, &[&plain_amendment], &draft, T_REV + 2000);
    let state = room.fold(&[&plain, &plain_amendment, &sealed_rev]);
    assert_eq!(verdict(&state, plain.id), Some(Exclusion::Unsealed));
    assert_eq!(
        verdict(&state, plain_amendment.id),
        Some(Exclusion::Unsealed)
    );
    assert_eq!(verdict(&state, sealed_rev.id), None);
    assert_eq!(Exclusion::Unsealed.code(), 22);

    // Even a reader handed the plaintext does not let it into the text.
    let mut contents = opened(&state, &room.with(&[&sealed_rev]), B);
    contents.insert(plain.id, ("plenary".into(), draft));
    contents.insert(plain_amendment.id, ("plenary".into(), amendment));
    let drafts = DraftState::fold(&state, &contents);
    let revisions: Vec<EventId> = drafts.revisions.iter().map(|r| r.id).collect();
    assert_eq!(revisions, vec![sealed_rev.id]);
    assert!(drafts.amendments.is_empty());
    assert!(drafts.excluded.is_empty());
}

// --- 5. The public signed text -----------------------------------------------------------------

/// A silence procedure that passes, an adoption, and signatures by the chair, A and B; with a
/// receipt, a pen grant and plenary content that the public text must leave out.
fn signed_session() -> (Silenced, Vec<Event>, EventId) {
    let s = silenced();
    let r = &s.room;
    let receipt = r.decide(
        &r.a,
        &[&s.open],
        Decision::Receipt { silence: s.open.id },
        T_OPEN + 1000,
    );
    let pen = r.decide(
        &r.chair,
        &[&receipt],
        Decision::Pen {
            delegation: r.a.delegation(),
            granted: true,
        },
        T_OPEN + 2000,
    );
    let chat = post(
        &r.b,
        r.neg,
        &[&pen],
        say("we can live with it"),
        T_OPEN + 3000,
    );
    let close = r.decide(&r.chair, &[&chat], close(s.open.id), DEADLINE + 1000);
    let adoption = r.decide(
        &r.chair,
        &[&close],
        adopt(s.rev.id, Some(s.open.id)),
        DEADLINE + 2000,
    );
    let mut more = vec![receipt, pen, chat, close, adoption.clone()];
    for (i, (who, lang, form)) in [
        (&r.chair, "en", SignatureForm::Signature),
        (&r.a, "en", SignatureForm::Signature),
        (&r.a, "fr", SignatureForm::Signature),
        (&r.b, "en", SignatureForm::AdReferendum),
        (&r.b, "fr", SignatureForm::AdReferendum),
    ]
    .into_iter()
    .enumerate()
    {
        let parent = more.last().expect("event").clone();
        more.push(r.decide(
            who,
            &[&parent],
            sign(adoption.id, lang, form),
            DEADLINE + 3000 + 1000 * i as u64,
        ));
    }
    let refs: Vec<&Event> = more.iter().collect();
    let mut events = s.room.with(&[&s.rev, &s.open]);
    events.extend(refs.iter().map(|e| (*e).clone()));
    let state = fold(&events).expect("folds");
    assert_eq!(state.counts().1, 0, "every event is allowed");
    assert_eq!(
        outcomes(&state).1[0].1,
        AdoptionStatus::Adopted,
        "the adoption stands"
    );
    (s, events, adoption.id)
}

/// (name, form) of each signer of one language.
type Signers<'a> = Vec<(&'a str, SignatureForm)>;

#[test]
fn a_public_signed_text_names_every_signer_per_language_over_the_same_hash() {
    let (s, events, adoption) = signed_session();
    let selected = public::select_events(&events, &adoption);
    // Governance only: no sealed revision, no keys, no chat, no receipt, no pen.
    for e in &selected {
        assert_eq!(e.header.channel, "governance", "{}", e.header.kind);
        assert!(!["receipt", "pen"].contains(&e.header.kind.as_str()));
    }
    let kinds: Vec<&str> = selected.iter().map(|e| e.header.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "sign").count(),
        5,
        "{kinds:?}"
    );
    for k in ["charter", "silence-open", "silence-close", "adopt"] {
        assert_eq!(kinds.iter().filter(|x| **x == k).count(), 1, "{k}");
    }
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &documents());
    assert!(public::is_public_text(&bytes));
    let verified = public::verify_public_text(&bytes).expect("verifies");
    let summary = &verified.summary;
    assert!(summary.ok);
    assert_eq!(summary.adoption, adoption);
    assert_eq!(summary.revision, s.rev.id);
    assert_eq!(summary.silence, Some(s.open.id));
    assert_eq!(summary.adopted_by.as_deref(), Some("Chair"));
    assert_eq!(summary.signed_by_all_languages, vec!["A", "B"]);
    let hashes = text_hashes();
    let by_language: Vec<(&str, &str, Signers<'_>)> = summary
        .languages
        .iter()
        .map(|l| {
            (
                l.language.as_str(),
                l.hash.as_str(),
                l.signatures
                    .iter()
                    .map(|s| (s.name.as_str(), s.form))
                    .collect(),
            )
        })
        .collect();
    let en = hex::encode(hashes["en"]);
    let fr = hex::encode(hashes["fr"]);
    assert_eq!(
        by_language,
        vec![
            (
                "en",
                en.as_str(),
                vec![
                    ("Chair", SignatureForm::Signature),
                    ("A", SignatureForm::Signature),
                    ("B", SignatureForm::AdReferendum),
                ]
            ),
            (
                "fr",
                fr.as_str(),
                vec![
                    ("A", SignatureForm::Signature),
                    ("B", SignatureForm::AdReferendum)
                ]
            ),
        ]
    );
    // Each signer's signature names the hash of the text shipped in the bundle.
    for (doc, lang) in verified.documents.iter().zip(&summary.languages) {
        assert_eq!(hex::encode(doc.hash()), lang.hash);
        let adopted = &verified.state.procedure.adoptions[&adoption];
        for sig in adopted
            .signatures
            .iter()
            .filter(|x| x.language == doc.language)
        {
            assert_eq!(sig.hash, doc.hash());
        }
    }
}

#[test]
fn a_public_text_with_a_changed_word_fails_with_text_mismatch() {
    let (s, events, adoption) = signed_session();
    let selected = public::select_events(&events, &adoption);
    let mut docs = documents();
    docs[0].paragraphs[2].text = "Requests the commission to report biennially;".into();
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &docs);
    match public::verify_public_text(&bytes) {
        Err(PublicTextError::TextMismatch {
            language,
            adopted,
            actual,
        }) => {
            assert_eq!(language, "en");
            assert_eq!(adopted, hex::encode(text_hashes()["en"]));
            assert_eq!(actual, hex::encode(docs[0].hash()));
        }
        other => panic!("expected a text mismatch, got {other:?}"),
    }
    // A language missing altogether is named as such.
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &documents()[..1]);
    assert!(matches!(
        public::verify_public_text(&bytes),
        Err(PublicTextError::MissingLanguage(l)) if l == "fr"
    ));
    // A forged English text riding along beside the real one, or a text nobody adopted, is
    // refused rather than shown.
    let mut twice = documents();
    twice.insert(0, docs[0].clone());
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &twice);
    assert!(matches!(
        public::verify_public_text(&bytes),
        Err(PublicTextError::DocumentSelection)
    ));
    let mut extra = documents();
    let mut de = extra[0].clone();
    de.language = "de".into();
    extra.push(de);
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &extra);
    assert!(matches!(
        public::verify_public_text(&bytes),
        Err(PublicTextError::DocumentSelection)
    ));
}

#[test]
fn a_public_text_carrying_a_sealed_event_is_refused_as_confidential() {
    let (s, events, adoption) = signed_session();
    let mut selected = public::select_events(&events, &adoption);
    selected.push(&s.rev);
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &documents());
    assert!(matches!(
        public::verify_public_text(&bytes),
        Err(PublicTextError::Confidential(kind)) if kind == "sealed"
    ));
    // So is a receipt, which names who held the text when.
    let mut selected = public::select_events(&events, &adoption);
    let receipt = events
        .iter()
        .find(|e| e.header.kind == "receipt")
        .expect("receipt");
    selected.push(receipt);
    let bytes = public::encode_public_text(s.room.neg, adoption, &selected, &documents());
    assert!(matches!(
        public::verify_public_text(&bytes),
        Err(PublicTextError::Confidential(kind)) if kind == "receipt"
    ));
}
