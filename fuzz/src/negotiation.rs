//! The `negotiation` target: validly signed (and sealed) events whose contents the input chooses,
//! on top of a fixed setup, through everything a node does with a hostile record: verify it,
//! fold it (whole and one event at a time), open its keys and sealed content, fold the drafting
//! content, and build and verify public signed texts of its adoptions.
//!
//! Signatures and encryption are what random bytes never get right, so this target makes them
//! valid and lets the fuzzer choose everything the rules look at: authors, parents, times,
//! channels, epochs, kinds, bodies and the ids they name.

use std::collections::BTreeMap;
use std::sync::Mutex;

use entente_protocol::body::Body;
use entente_protocol::decisions::{Decision, Grounds, SignatureForm, TextHashes};
use entente_protocol::drafting::{Contents, DraftState};
use entente_protocol::drafts::{AmendOp, Draft, MarkKind, Stance, StatementKind, TextContent};
use entente_protocol::envelope::EpochKey;
use entente_protocol::event::EventHeader;
use entente_protocol::keyring::Keyring;
use entente_protocol::proceedings::Proceedings;
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::text::{Document, Paragraph};
use entente_protocol::{Event, EventId, RecordSummary, Role, fold, public};
use sha2::{Digest, Sha256};

use crate::{
    ACTORS, Actor, Input, PLENARY_KEY, Room, T0, documents, keys_body, lamport_on, revision_draft,
    text_hashes, versions_of,
};

const MAX_STEPS: usize = 24;

const PARAGRAPHS: &[&str] = &["OP1", "PP1", "OP1.a", "OP2", "OP3", "OP1-alt", ""];
const LANGUAGES: &[&str] = &["en", "fr", "ar", ""];
const CHANNELS: &[&str] = &[
    "plenary",
    "governance",
    "caucus",
    "side",
    "Bad Name",
    "plenary2",
];

/// What the steps so far created, for later steps to name.
#[derive(Default)]
struct Made {
    events: Vec<Event>,
    revisions: Vec<EventId>,
    amendments: Vec<EventId>,
    brackets: Vec<(EventId, Vec<String>)>,
    silences: Vec<EventId>,
    adoptions: Vec<EventId>,
    blobs: Vec<(EventId, Vec<u8>)>,
    /// The newest key of each channel: (epoch, key).
    keys: BTreeMap<String, (u64, EpochKey)>,
    nonce: u64,
}

impl Made {
    /// An id from `list` (most recent first), or now and then any event's, or a made-up one.
    fn pick(&self, input: &mut Input<'_>, list: &[EventId]) -> EventId {
        let b = input.u8();
        if b < 200 && !list.is_empty() {
            return list[list.len() - 1 - usize::from(b) % list.len()];
        }
        if b < 250 && !self.events.is_empty() {
            return self.events[self.events.len() - 1 - usize::from(b) % self.events.len()].id;
        }
        EventId([b; 32])
    }

    fn pick_opt(&self, input: &mut Input<'_>, list: &[EventId]) -> Option<EventId> {
        if input.bool() {
            Some(self.pick(input, list))
        } else {
            None
        }
    }

    fn next_nonce(&mut self) -> [u8; 24] {
        self.nonce += 1;
        let mut n = [0u8; 24];
        n[..8].copy_from_slice(&self.nonce.to_be_bytes());
        n
    }
}

fn pick(input: &mut Input<'_>, words: &[&str]) -> String {
    let i = input.u8();
    match words.get(usize::from(i)) {
        Some(w) => (*w).to_string(),
        // Past the list: either a listed word (most of the time) or a string of the input.
        None if i < 0xf0 => words[usize::from(i) % words.len()].to_string(),
        None => input.string(),
    }
}

fn text(input: &mut Input<'_>) -> String {
    match input.u8() % 4 {
        0 => String::new(),
        1 => "Decides to establish a joint commission;".into(),
        2 => "a joint commission".into(),
        _ => input.string(),
    }
}

fn role(input: &mut Input<'_>) -> Role {
    [
        Role::Chair,
        Role::Mediator,
        Role::Delegation,
        Role::Observer,
    ][input.index(4)]
}

fn hashes(input: &mut Input<'_>) -> TextHashes {
    let mut h = text_hashes();
    match input.u8() % 4 {
        0 => {
            h.remove("fr");
        }
        1 => {
            h.insert(pick(input, LANGUAGES), input.array32());
        }
        _ => {}
    }
    h
}

/// A document from the input: the standard one with some changes.
fn document(input: &mut Input<'_>) -> Vec<Document> {
    let mut docs = documents();
    for _ in 0..input.u8() % 4 {
        let d = input.index(docs.len());
        let doc = &mut docs[d];
        match input.u8() % 6 {
            0 => doc.paragraphs.truncate(input.index(5)),
            1 => {
                let p = input.index(doc.paragraphs.len());
                if let Some(p) = doc.paragraphs.get_mut(p) {
                    p.text = input.string();
                }
            }
            2 => doc.paragraphs.push(Paragraph {
                id: pick(input, PARAGRAPHS),
                text: text(input),
            }),
            3 => doc.language = pick(input, LANGUAGES),
            4 => doc.title = input.string(),
            _ => {
                docs.swap(0, 1);
            }
        }
    }
    docs
}

fn draft(input: &mut Input<'_>, made: &Made, op: u8) -> Draft {
    match op {
        0 => {
            let supersedes = made.pick_opt(input, &made.revisions);
            match input.u8() % 4 {
                0 | 1 => revision_draft("Rev.1", supersedes),
                2 => Draft::Revision {
                    label: input.string(),
                    supersedes,
                    content: TextContent::Inline(versions_of(&document(input))),
                },
                _ => {
                    // The latest blobs, in order, with the hash of what they hold together.
                    let n = 1 + input.index(3);
                    let parts: Vec<&(EventId, Vec<u8>)> =
                        made.blobs.iter().rev().take(n).rev().collect();
                    let mut all = Vec::new();
                    for (_, data) in &parts {
                        all.extend_from_slice(data);
                    }
                    let sha256 = if input.u8() == 0xff {
                        input.array32()
                    } else {
                        Sha256::digest(&all).into()
                    };
                    Draft::Revision {
                        label: "Rev.blob".into(),
                        supersedes,
                        content: TextContent::Blobs {
                            parts: parts.iter().map(|(id, _)| *id).collect(),
                            sha256,
                        },
                    }
                }
            }
        }
        1 => {
            let whole = entente_protocol::drafts::encode_versions(&versions_of(&document(input)));
            let half = whole.len() / 2;
            let data = match input.u8() % 4 {
                0 => whole,
                1 => whole[..half].to_vec(),
                2 => whole[half..].to_vec(),
                _ => input.bytes(),
            };
            Draft::Blob { data }
        }
        2 => Draft::Amendment {
            revision: made.pick(input, &made.revisions),
            paragraph: pick(input, PARAGRAPHS),
            op: [AmendOp::Replace, AmendOp::InsertAfter, AmendOp::Delete][input.index(3)],
            new_id: pick(input, &["", "OP1.b", "OP9", "OP1", "bad"]),
            text: text(input),
            justification: text(input),
        },
        3 => Draft::Bracket {
            revision: made.pick(input, &made.revisions),
            paragraph: pick(input, PARAGRAPHS),
            span: text(input),
            options: (0..input.u8() % 4).map(|_| text(input)).collect(),
            reason: text(input),
        },
        4 => Draft::BracketOption {
            bracket: pick_bracket(input, made).0,
            text: text(input),
        },
        5 => {
            let (bracket, options) = pick_bracket(input, made);
            let choice = match options.get(input.index(options.len() + 1)) {
                Some(o) => o.clone(),
                None => text(input),
            };
            Draft::BracketResolve { bracket, choice }
        }
        6 => {
            let mut targets = made.revisions.clone();
            targets.extend(&made.amendments);
            Draft::Position {
                target: made.pick(input, &targets),
                paragraph: pick(input, PARAGRAPHS),
                stance: [
                    Stance::Support,
                    Stance::CanLiveWith,
                    Stance::Object,
                    Stance::Reserve,
                ][input.index(4)],
                note: text(input),
            }
        }
        7 => {
            let mut targets = made.revisions.clone();
            targets.extend(&made.amendments);
            targets.extend(&made.adoptions);
            Draft::Statement {
                kind: [
                    StatementKind::ExplanationOfPosition,
                    StatementKind::Reservation,
                    StatementKind::Interpretative,
                    StatementKind::General,
                ][input.index(4)],
                target: made.pick(input, &targets),
                paragraph: pick(input, PARAGRAPHS),
                text: text(input),
            }
        }
        _ => Draft::Mark {
            revision: made.pick(input, &made.revisions),
            paragraph: pick(input, PARAGRAPHS),
            mark: [
                MarkKind::Discussed,
                MarkKind::Agreed,
                MarkKind::AdReferendum,
                MarkKind::Confirmed,
                MarkKind::Withdrawn,
            ][input.index(5)],
        },
    }
}

fn pick_bracket(input: &mut Input<'_>, made: &Made) -> (EventId, Vec<String>) {
    let b = input.u8();
    match made.brackets.len() {
        0 => (EventId([b; 32]), Vec::new()),
        n => made.brackets[n - 1 - usize::from(b) % n].clone(),
    }
}

fn decision(input: &mut Input<'_>, made: &Made, room: &Room, op: u8, time: u64) -> Decision {
    match op {
        0 => Decision::Pen {
            delegation: room.actors[input.index(ACTORS)].delegation(),
            granted: input.bool(),
        },
        1 => Decision::SilenceOpen {
            revision: made.pick(input, &made.revisions),
            hashes: hashes(input),
            deadline: match input.u8() {
                0 => input.u64(),
                b => time.saturating_add(u64::from(b) * 60_000),
            },
        },
        2 => Decision::Receipt {
            silence: made.pick(input, &made.silences),
        },
        3 => Decision::SilenceBreak {
            silence: made.pick(input, &made.silences),
            grounds: [Grounds::Objection, Grounds::Amendment][input.index(2)],
            reference: made.pick_opt(input, &made.amendments),
        },
        4 => Decision::SilenceClose {
            silence: made.pick(input, &made.silences),
        },
        5 => Decision::Object {
            revision: made.pick(input, &made.revisions),
            reference: made.pick_opt(input, &made.amendments),
        },
        6 => Decision::Adopt {
            revision: made.pick(input, &made.revisions),
            hashes: hashes(input),
            silence: made.pick_opt(input, &made.silences),
        },
        _ => {
            let language = pick(input, LANGUAGES);
            let hash = match text_hashes().get(&language) {
                Some(h) if input.u8() < 0xf0 => *h,
                _ => input.array32(),
            };
            Decision::Sign {
                adoption: made.pick(input, &made.adoptions),
                language,
                hash,
                form: [
                    SignatureForm::Initials,
                    SignatureForm::AdReferendum,
                    SignatureForm::Signature,
                ][input.index(3)],
            }
        }
    }
}

fn governance(input: &mut Input<'_>, room: &Room, op: u8) -> Body {
    let who = &room.actors[input.index(ACTORS)];
    match op {
        0 => Body::Accredit {
            delegation: who.delegation(),
            role: role(input),
            name: pick(input, &["C", "D", "A", ""]),
        },
        1 => Body::Join {
            certificate: who.cert.clone(),
        },
        2 => Body::RoleChange {
            delegation: who.delegation(),
            role: role(input),
        },
        3 => Body::Remove {
            delegation: who.delegation(),
            reason: text(input),
        },
        4 => Body::Leave {
            reason: text(input),
        },
        5 => Body::Revoke {
            device: who.device(),
            reason: text(input),
        },
        _ => {
            let mask = input.u8();
            Body::Channel {
                name: pick(input, CHANNELS),
                members: room
                    .actors
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, a)| a.delegation())
                    .collect(),
            }
        }
    }
}

/// Builds the events the input describes, on top of the setup.
fn build(input: &mut Input<'_>, room: &Room) -> Made {
    let mut made = Made {
        events: room.setup.clone(),
        ..Made::default()
    };
    made.keys
        .insert("plenary".into(), (1, EpochKey(PLENARY_KEY)));
    let mut time = made.events.last().map_or(T0, |e| e.header.time);
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let author = &room.actors[input.index(ACTORS)];
        // Parents: a choice among the eight most recent events; the most recent if none.
        let mask = input.u8();
        let n = made.events.len();
        let mut parents: Vec<&Event> = (0..8.min(n))
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| &made.events[n - 1 - i])
            .collect();
        if parents.is_empty() {
            parents.push(&made.events[n - 1]);
        }
        let flags = input.u8();
        time = match input.u8() {
            0xff => input.u64(),
            b => time.saturating_add(u64::from(b) * 1000),
        };
        let mut lamport = lamport_on(&parents);
        if flags & 0x80 != 0 {
            lamport = lamport.wrapping_add(u64::from(input.u8())).wrapping_sub(8);
        }
        let parent_ids: Vec<EventId> = parents.iter().map(|p| p.id).collect();
        let channel_override = (flags & 0x01 != 0).then(|| pick(input, CHANNELS));

        // What to post: (body, seal it?).
        let (body, seal) = match op % 8 {
            0..=2 => {
                let which = input_op(input, 9);
                let d = draft(input, &made, which);
                (Body::Draft(d), flags & 0x02 == 0)
            }
            3 | 4 => {
                let which = input_op(input, 8);
                let d = decision(input, &made, room, which, time);
                (Body::Decision(d), false)
            }
            5 => {
                let which = input_op(input, 7);
                (governance(input, room, which), false)
            }
            6 => {
                // A new epoch key of a channel, to some of the actors.
                let channel = channel_override.clone().unwrap_or_else(|| "plenary".into());
                let epoch = match input.u8() {
                    0 => 0,
                    b => made.keys.get(&channel).map_or(1, |(e, _)| *e) + u64::from(b % 3),
                };
                let key = EpochKey([input.u8(); 32]);
                let mask = input.u8() | 1;
                let to: Vec<&Actor> = room
                    .actors
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, a)| a)
                    .collect();
                let mut body = keys_body(author, room.negotiation, &channel, epoch, &key, &to);
                if flags & 0x04 != 0
                    && let Body::Keys { envelopes, .. } = &mut body
                    && let Some(e) = envelopes.first_mut()
                {
                    e.1 = input.bytes();
                }
                made.keys.insert(channel, (epoch, key));
                (body, false)
            }
            _ => {
                let t = text(input);
                let body = if input.bool() {
                    Body::Message { text: t }
                } else {
                    Body::Note { text: t }
                };
                (body, flags & 0x02 == 0)
            }
        };
        let mut header = EventHeader::new(
            Some(room.negotiation),
            author.device(),
            parent_ids,
            lamport,
            time,
            &body,
        );
        if let Some(c) = &channel_override {
            header.channel = c.clone();
        }
        if matches!(body, Body::Keys { .. }) {
            header.channel = channel_override.unwrap_or_else(|| "plenary".into());
        }
        if seal {
            let (epoch, key) = made
                .keys
                .get(&header.channel)
                .cloned()
                .unwrap_or((1, EpochKey(PLENARY_KEY)));
            header.epoch = if flags & 0x08 != 0 {
                u64::from(input.u8())
            } else {
                epoch
            };
            let nonce = made.next_nonce();
            if entente_protocol::sealed::seal_into(&mut header, &body, &key, nonce).is_err() {
                continue;
            }
        } else if flags & 0x08 != 0 {
            header.epoch = u64::from(input.u8());
        }
        let Some(event) = sign(header, author) else {
            continue;
        };
        let id = event.id;
        match &body {
            Body::Draft(Draft::Revision { .. }) => made.revisions.push(id),
            Body::Draft(Draft::Amendment { .. }) => made.amendments.push(id),
            Body::Draft(Draft::Bracket { options, .. }) => {
                made.brackets.push((id, options.clone()))
            }
            Body::Draft(Draft::Blob { data }) => made.blobs.push((id, data.clone())),
            Body::Decision(Decision::SilenceOpen { .. }) => made.silences.push(id),
            Body::Decision(Decision::Adopt { .. }) => made.adoptions.push(id),
            _ => {}
        }
        made.events.push(event);
    }
    made
}

/// `Event::sign`, remembered: inputs that share a prefix build the same first events, and
/// signing them again would take most of the run. (Verification is never skipped.)
fn sign(header: EventHeader, author: &Actor) -> Option<Event> {
    type Signed = BTreeMap<(u8, Vec<u8>), Option<Event>>;
    static SIGNED: Mutex<Signed> = Mutex::new(BTreeMap::new());
    let key = (author.seed, header.encode());
    let mut signed = SIGNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = signed.get(&key) {
        return e.clone();
    }
    if signed.len() >= 20_000 {
        signed.clear();
    }
    let event = Event::sign(header, &author.device_key).ok();
    signed.insert(key, event.clone());
    event
}

fn input_op(input: &mut Input<'_>, n: u8) -> u8 {
    input.u8() % n
}

/// The events an input builds (the setup's, then its own).
pub fn events(data: &[u8], room: &Room) -> Vec<Event> {
    build(&mut Input::new(data), room).events
}

/// One run of the target.
pub fn run(data: &[u8], room: &Room) {
    let mut input = Input::new(data);
    let made = build(&mut input, room);
    let now = made
        .events
        .iter()
        .map(|e| e.header.time)
        .max()
        .unwrap_or(T0)
        .min(u64::MAX - 1);
    let bundle = encode_record(room.negotiation, &made.events);
    let Ok(record) = verify_record(&bundle, now) else {
        return;
    };
    let state = &record.state;
    // Accepted bundles are canonical: encoding the verified events gives the same bytes.
    assert_eq!(
        encode_record(room.negotiation, &record.events),
        bundle,
        "a verified record re-encodes to other bytes"
    );
    let _ = RecordSummary::of(state);
    let hash = state.state_hash();

    // One event at a time in fold order gives the same state as the whole set (state.rs, append).
    let mut sorted: Vec<&Event> = record.events.iter().collect();
    sorted.sort_by_key(|e| e.order_key());
    if let Ok(mut incremental) = fold(sorted[..1].iter().copied()) {
        for e in &sorted[1..] {
            let _ = incremental.admits(e);
            incremental.append(e);
        }
        assert_eq!(
            incremental.state_hash(),
            hash,
            "appending one event at a time differs from folding the whole set"
        );
    }

    // What one member's node reads (the input's next byte picks which: opening envelopes and
    // verifying public texts costs too much to do it for every member on every run).
    let reader = &room.actors[input.index(4)];
    let ring = Keyring::open(
        state,
        &record.events,
        &reader.device(),
        &crate::sealing_secret(reader.seed),
    );
    let mut contents = Contents::new();
    for e in &record.events {
        if let Ok(Body::Draft(d)) = ring.read(state, e) {
            contents.insert(e.id, (e.header.channel.clone(), d));
        }
    }
    let drafts = DraftState::fold(state, &contents);
    let proceedings = Proceedings::of(state);
    for r in &drafts.revisions {
        let _ = drafts.positions_on(&r.id);
        for language in [None, Some("en"), Some("fr"), Some("ar")] {
            let _ = drafts.view(state, &proceedings, &r.id, language);
        }
        let _ = drafts.admits(
            state,
            reader.delegation(),
            Role::Delegation,
            false,
            &Draft::Mark {
                revision: r.id,
                paragraph: "OP1".into(),
                mark: MarkKind::Agreed,
            },
            &contents,
        );
    }
    // The public signed text of each adoption, with the texts this reader holds.
    for a in &proceedings.adoptions {
        let docs: Vec<Document> = drafts
            .revision(&a.adoption.revision)
            .map(|r| r.versions.iter().map(|v| v.document.clone()).collect())
            .unwrap_or_default();
        let selected = public::select_events(&record.events, &a.adoption.id);
        let bytes = public::encode_public_text(room.negotiation, a.adoption.id, &selected, &docs);
        let _ = public::verify_public_text(&bytes);
    }
}
