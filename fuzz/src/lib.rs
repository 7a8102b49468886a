//! Shared by the fuzz targets and the seed generator (`examples/seeds.rs`): fixed actors and
//! keys, a negotiation to build on, the SPEC.md test vectors, and a reader of fuzz input.
//!
//! Everything here is deterministic: the same input always builds the same events, so that a
//! crashing input reproduces.

use std::collections::BTreeMap;

use entente_protocol::body::Charter;
use entente_protocol::decisions::{Decision, SignatureForm, TextHashes};
use entente_protocol::drafts::{Draft, TextContent, Version};
use entente_protocol::envelope::{self, EnvelopeContext, EpochKey, sealing_public};
use entente_protocol::event::EventHeader;
use entente_protocol::identity::{delegation_id, device_id};
use entente_protocol::text::{Document, Paragraph, paragraph_hash};
use entente_protocol::{
    Body, DecisionRule, DelegationId, DeviceCertificate, DeviceId, Event, EventId, NegotiationId,
    Role, SignedCertificate, SigningKey, sealed,
};

pub mod negotiation;

/// The time of the first event of every built negotiation (as in SPEC.md's vectors).
pub const T0: u64 = 1_760_000_000_000;

/// The SPEC.md test vectors (section 15), by name.
pub fn spec_vectors() -> BTreeMap<String, Vec<u8>> {
    const SPEC: &str = include_str!("../../protocol/SPEC.md");
    let section = SPEC.split("## 15. Test vectors").nth(1).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut in_block = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block
            && let Some((k, v)) = line.split_once(": ")
            && let Ok(bytes) = hex::decode(v.trim())
        {
            out.insert(k.trim().to_string(), bytes);
        }
    }
    out
}

/// Reads fuzz input as a stream of choices; past the end, every read gives zeros, so that any
/// input, even empty, drives a complete run.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// One of `n` choices (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        usize::from(self.u8()) % n.max(1)
    }

    /// A length-prefixed byte string of at most 255 bytes.
    pub fn bytes(&mut self) -> Vec<u8> {
        let n = usize::from(self.u8());
        (0..n).map(|_| self.u8()).collect()
    }

    /// A length-prefixed string (invalid UTF-8 replaced).
    pub fn string(&mut self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    pub fn array32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for b in &mut out {
            *b = self.u8();
        }
        out
    }
}

/// The sealing secret of the actor made from `seed`.
pub fn sealing_secret(seed: u8) -> [u8; 32] {
    [seed.wrapping_add(50); 32]
}

/// A delegation with one device, whose keys come from `seed`.
#[derive(Clone)]
pub struct Actor {
    pub seed: u8,
    pub delegation_key: SigningKey,
    pub device_key: SigningKey,
    pub cert: SignedCertificate,
}

impl Actor {
    pub fn new(seed: u8) -> Self {
        let delegation_key = SigningKey::from_bytes(&[seed; 32]);
        let device_key = SigningKey::from_bytes(&[seed.wrapping_add(100); 32]);
        let cert = SignedCertificate::issue(
            &delegation_key,
            DeviceCertificate {
                delegation: delegation_id(&delegation_key),
                device: device_id(&device_key),
                sealing_key: sealing_public(&sealing_secret(seed)),
                label: format!("device {seed}"),
                not_after: None,
            },
        );
        Self {
            seed,
            delegation_key,
            device_key,
            cert,
        }
    }

    pub fn delegation(&self) -> DelegationId {
        delegation_id(&self.delegation_key)
    }

    pub fn device(&self) -> DeviceId {
        device_id(&self.device_key)
    }
}

/// The lamport an event on top of `parents` must have.
pub fn lamport_on(parents: &[&Event]) -> u64 {
    parents
        .iter()
        .map(|p| p.header.lamport.saturating_add(1))
        .max()
        .unwrap_or(0)
}

/// Signs `body` by `author` on top of `parents` in the channel its kind requires.
pub fn post(
    author: &Actor,
    negotiation: NegotiationId,
    parents: &[&Event],
    body: &Body,
    time: u64,
) -> Option<Event> {
    let header = EventHeader::new(
        Some(negotiation),
        author.device(),
        parents.iter().map(|p| p.id).collect(),
        lamport_on(parents),
        time,
        body,
    );
    Event::sign(header, &author.device_key).ok()
}

/// `body` sealed with `key` (epoch `epoch` of `channel`) and signed.
#[allow(clippy::too_many_arguments)]
pub fn post_sealed(
    author: &Actor,
    negotiation: NegotiationId,
    parents: &[&Event],
    body: &Body,
    time: u64,
    channel: &str,
    epoch: u64,
    key: &EpochKey,
    nonce: [u8; 24],
) -> Option<Event> {
    let mut header = EventHeader::new(
        Some(negotiation),
        author.device(),
        parents.iter().map(|p| p.id).collect(),
        lamport_on(parents),
        time,
        body,
    );
    header.channel = channel.to_string();
    header.epoch = epoch;
    sealed::seal_into(&mut header, body, key, nonce).ok()?;
    Event::sign(header, &author.device_key).ok()
}

/// A keys body: `key` as epoch `epoch` of `channel`, sealed by `author` to each of `to`.
pub fn keys_body(
    author: &Actor,
    negotiation: NegotiationId,
    channel: &str,
    epoch: u64,
    key: &EpochKey,
    to: &[&Actor],
) -> Body {
    let mut envelopes: Vec<(DeviceId, Vec<u8>)> = to
        .iter()
        .filter_map(|r| {
            let ctx = EnvelopeContext {
                negotiation,
                channel,
                epoch,
                recipient: r.device(),
            };
            let sealed = envelope::seal(
                &sealing_secret(author.seed),
                &r.cert.certificate.sealing_key,
                &ctx,
                key,
                [r.seed ^ 0x77; 32],
            )
            .ok()?;
            Some((r.device(), sealed))
        })
        .collect();
    envelopes.sort();
    envelopes.dedup_by_key(|e| e.0);
    Body::Keys {
        epoch,
        key_id: key.id(),
        envelopes,
    }
}

pub const CHAIR: usize = 0;
pub const A: usize = 1;
pub const B: usize = 2;
pub const OBSERVER: usize = 3;
/// Actors 4 and 5 are never accredited by the setup.
pub const ACTORS: usize = 6;

/// The plenary key of the setup (epoch 1).
pub const PLENARY_KEY: [u8; 32] = [0x5e; 32];

/// A negotiation with a chair, delegations A and B and an observer, all joined, and a plenary
/// epoch key sealed to every device: charter to keys event, each on top of the one before.
pub struct Room {
    pub actors: Vec<Actor>,
    pub negotiation: NegotiationId,
    pub setup: Vec<Event>,
}

impl Room {
    pub fn new() -> Self {
        let actors: Vec<Actor> = (1..=ACTORS as u8).map(Actor::new).collect();
        let chair = &actors[CHAIR];
        let charter = Body::Charter(Charter {
            title: "Fuzz".into(),
            mandate: "Agree a joint statement".into(),
            languages: vec!["en".into(), "fr".into()],
            decision_rule: DecisionRule::Consensus,
            silence_period_secs: 3600,
            chair_name: "Chair".into(),
            chair: chair.cert.clone(),
            attribute_brackets: true,
        });
        let header = EventHeader::new(None, chair.device(), vec![], 0, T0, &charter);
        let genesis = Event::sign(header, &chair.device_key).expect("the charter signs");
        let negotiation = genesis.id;
        let mut setup = vec![genesis];
        let mut time = T0;
        for (who, role, name) in [
            (A, Role::Delegation, "A"),
            (B, Role::Delegation, "B"),
            (OBSERVER, Role::Observer, "O"),
        ] {
            let accredit = Body::Accredit {
                delegation: actors[who].delegation(),
                role,
                name: name.into(),
            };
            let join = Body::Join {
                certificate: actors[who].cert.clone(),
            };
            for (author, body) in [(CHAIR, accredit), (who, join)] {
                time += 1000;
                let parent = setup.last().expect("an event");
                let e = post(&actors[author], negotiation, &[parent], &body, time)
                    .expect("the setup signs");
                setup.push(e);
            }
        }
        let members: Vec<&Actor> = actors[..4].iter().collect();
        let keys = keys_body(
            chair,
            negotiation,
            "plenary",
            1,
            &EpochKey(PLENARY_KEY),
            &members,
        );
        let parent = setup.last().expect("an event");
        let mut header = EventHeader::new(
            Some(negotiation),
            chair.device(),
            vec![parent.id],
            parent.header.lamport + 1,
            time + 1000,
            &keys,
        );
        header.channel = "plenary".into();
        setup.push(Event::sign(header, &chair.device_key).expect("the keys sign"));
        Self {
            actors,
            negotiation,
            setup,
        }
    }
}

impl Default for Room {
    fn default() -> Self {
        Self::new()
    }
}

/// Two language versions of a short resolution: the working language (en) first.
pub fn documents() -> Vec<Document> {
    let paragraphs = |texts: [(&str, &str); 4]| {
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
            title: "Joint statement".into(),
            paragraphs: paragraphs([
                ("PP1", "Recalling the mandate,"),
                ("OP1", "Decides to establish a joint commission;"),
                ("OP1.a", "within a year;"),
                ("OP2", "Requests the commission\nto report annually."),
            ]),
        },
        Document {
            language: "fr".into(),
            symbol: "ENT/2025/L.1".into(),
            title: "Déclaration commune".into(),
            paragraphs: paragraphs([
                ("PP1", "Rappelant le mandat,"),
                ("OP1", "Décide de créer une commission mixte ;"),
                ("OP1.a", "dans un délai d'un an ;"),
                ("OP2", "Prie la commission\nde faire rapport chaque année."),
            ]),
        },
    ]
}

/// The language versions of `documents()`, with the sources a translation records.
pub fn versions_of(docs: &[Document]) -> Vec<Version> {
    let Some(first) = docs.first() else {
        return Vec::new();
    };
    let sources: Vec<Option<[u8; 32]>> = first
        .paragraphs
        .iter()
        .map(|p| Some(paragraph_hash(&p.text)))
        .collect();
    docs.iter()
        .enumerate()
        .map(|(i, d)| Version {
            document: d.clone(),
            sources: if i == 0 {
                vec![None; d.paragraphs.len()]
            } else {
                sources.iter().take(d.paragraphs.len()).copied().collect()
            },
        })
        .collect()
}

pub fn revision_draft(label: &str, supersedes: Option<EventId>) -> Draft {
    Draft::Revision {
        label: label.into(),
        supersedes,
        content: TextContent::Inline(versions_of(&documents())),
    }
}

pub fn text_hashes() -> TextHashes {
    documents()
        .iter()
        .map(|d| (d.language.clone(), d.hash()))
        .collect()
}

/// A whole session: a sealed revision under silence, which passes; the adoption; every member
/// signs both languages. Returns every event and the adoption's id.
pub fn signed_session(room: &Room) -> (Vec<Event>, EventId) {
    let a = &room.actors;
    let neg = room.negotiation;
    let mut events = room.setup.clone();
    let key = EpochKey(PLENARY_KEY);
    let t = T0 + 100_000;
    let rev = post_sealed(
        &a[CHAIR],
        neg,
        &[events.last().expect("setup")],
        &Body::Draft(revision_draft("Rev.1", None)),
        t,
        "plenary",
        1,
        &key,
        [1; 24],
    )
    .expect("the revision seals");
    let deadline = t + 3_600_000;
    let open = post(
        &a[CHAIR],
        neg,
        &[&rev],
        &Body::Decision(Decision::SilenceOpen {
            revision: rev.id,
            hashes: text_hashes(),
            deadline,
        }),
        t + 1000,
    )
    .expect("signs");
    let close = post(
        &a[CHAIR],
        neg,
        &[&open],
        &Body::Decision(Decision::SilenceClose { silence: open.id }),
        deadline + 1000,
    )
    .expect("signs");
    let adoption = post(
        &a[CHAIR],
        neg,
        &[&close],
        &Body::Decision(Decision::Adopt {
            revision: rev.id,
            hashes: text_hashes(),
            silence: Some(open.id),
        }),
        deadline + 2000,
    )
    .expect("signs");
    let adoption_id = adoption.id;
    events.extend([rev, open, close, adoption]);
    let hashes = text_hashes();
    let mut time = deadline + 3000;
    for who in [CHAIR, A, B] {
        for (lang, hash) in &hashes {
            time += 1000;
            let parent = events.last().expect("events").clone();
            let sign = Body::Decision(Decision::Sign {
                adoption: adoption_id,
                language: lang.clone(),
                hash: *hash,
                form: SignatureForm::Signature,
            });
            events.push(post(&a[who], neg, &[&parent], &sign, time).expect("signs"));
        }
    }
    (events, adoption_id)
}

/// Every kind this version knows, then one it does not.
pub fn all_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = entente_protocol::body::kind::ALL.to_vec();
    kinds.extend(entente_protocol::drafts::kind::ALL);
    kinds.extend(entente_protocol::decisions::kind::ALL);
    kinds.push("x-unknown");
    kinds
}

pub fn known_kind(kind: &str) -> bool {
    all_kinds().contains(&kind) && kind != "x-unknown"
}

/// The CBOR heads of the item at the start of `bytes` and of every item inside its arrays (not
/// inside byte or text strings), as (offset, length of the head); at most `max` of them.
pub fn cbor_heads(bytes: &[u8], max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut pending = 1usize;
    while pending > 0 && out.len() < max {
        pending -= 1;
        let Some(&initial) = bytes.get(pos) else {
            break;
        };
        let (major, info) = (initial >> 5, initial & 0x1f);
        let len = match info {
            0..=23 => 1,
            24 => 2,
            25 => 3,
            26 => 5,
            27 => 9,
            _ => break,
        };
        let Some(head) = bytes.get(pos..pos + len) else {
            break;
        };
        let arg = if len == 1 {
            u64::from(info)
        } else {
            head[1..].iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))
        };
        out.push((pos, len));
        pos += len;
        match major {
            2 | 3 => match usize::try_from(arg).ok().and_then(|n| pos.checked_add(n)) {
                Some(end) if end <= bytes.len() => pos = end,
                _ => break,
            },
            4 => pending = pending.saturating_add(usize::try_from(arg).unwrap_or(usize::MAX)),
            5 => {
                pending = pending.saturating_add(usize::try_from(arg).unwrap_or(usize::MAX / 2) * 2)
            }
            6 => pending += 1,
            _ => {}
        }
    }
    out
}

/// `bytes` with the head at `at` (`len` bytes long) written one size longer: the same value in
/// a form that is not the shortest, which every decoder must refuse (SPEC.md 1.1).
pub fn widen(bytes: &[u8], at: usize, len: usize) -> Option<Vec<u8>> {
    let head = bytes.get(at..at + len)?;
    let major = head[0] & 0xe0;
    if major == 0xe0 {
        return None; // null and other simple values have no argument
    }
    let arg = if len == 1 {
        u64::from(head[0] & 0x1f)
    } else {
        head[1..].iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))
    };
    let wider: Vec<u8> = match len {
        1 => vec![major | 24, arg as u8],
        2 => [&[major | 25][..], &(arg as u16).to_be_bytes()].concat(),
        3 => [&[major | 26][..], &(arg as u32).to_be_bytes()].concat(),
        5 => [&[major | 27][..], &arg.to_be_bytes()].concat(),
        _ => return None,
    };
    Some([&bytes[..at], &wider[..], &bytes[at + len..]].concat())
}

/// Checks, for bytes a decoder accepted, that it refuses every head of their structure written
/// in a longer form: SPEC.md 1.1 allows exactly one encoding of each value ("what is signed is
/// what is stored is what is verified"). Panics, naming the offset, if a longer form is accepted.
pub fn assert_only_shortest_form(what: &str, bytes: &[u8], accepts: impl Fn(&[u8]) -> bool) {
    for (at, len) in cbor_heads(bytes, 64) {
        if let Some(wider) = widen(bytes, at, len)
            && accepts(&wider)
        {
            panic!(
                "{what}: accepted with the CBOR head at byte {at} ({}) in a longer form ({}): \
                 a second encoding of the same value",
                hex::encode(&bytes[at..at + len]),
                hex::encode(&wider[at..at + len + (wider.len() - bytes.len())])
            );
        }
    }
}
