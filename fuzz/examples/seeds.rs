//! Writes the seed corpus, `fuzz/corpus/<target>/<name>`, from SPEC.md's test vectors and from
//! negotiations built with the protocol itself. Run after a change of the formats:
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example seeds
//!
//! (Seeds are only a starting point: an outdated seed costs coverage, never correctness.)

use std::path::{Path, PathBuf};

use entente_fuzz::{
    A, Actor, B, CHAIR, Room, T0, documents, negotiation, revision_draft, signed_session,
    spec_vectors, text_hashes, versions_of,
};
use entente_protocol::decisions::{Decision, Grounds, SignatureForm};
use entente_protocol::drafts::{AmendOp, Draft, MarkKind, Stance, StatementKind, encode_versions};
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::sync::{Invitation, SyncRequest, SyncResponse, SyncStatus};
use entente_protocol::{Body, DeviceId, Event, EventId, Role, fold, public};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus().join(target);
    std::fs::create_dir_all(&dir).expect("creates the corpus directory");
    std::fs::write(dir.join(name), bytes).expect("writes a seed");
}

/// CBOR head of major type `major` with argument `n`, shortest form.
fn head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend_from_slice(&(n as u16).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 26];
            v.extend_from_slice(&(n as u32).to_be_bytes());
            v
        }
    }
}

/// `[kind, body]`: the content inside a sealed body.
fn content(kind: &str, body: &[u8]) -> Vec<u8> {
    let mut v = head(4, 2);
    v.extend(head(3, kind.len()));
    v.extend_from_slice(kind.as_bytes());
    v.extend(head(2, body.len()));
    v.extend_from_slice(body);
    v
}

/// One body of every kind the protocol knows.
fn sample_bodies(room: &Room, events: &[Event]) -> Vec<Body> {
    let a = &room.actors;
    let id = EventId([7; 32]);
    let mut bodies: Vec<Body> = events.iter().filter_map(|e| e.body.clone()).collect();
    bodies.extend([
        Body::RoleChange {
            delegation: a[A].delegation(),
            role: Role::Mediator,
        },
        Body::Remove {
            delegation: a[B].delegation(),
            reason: "absent".into(),
        },
        Body::Leave {
            reason: String::new(),
        },
        Body::Revoke {
            device: a[A].device(),
            reason: "lost".into(),
        },
        Body::Message {
            text: "Bonjour — مرحبا".into(),
        },
        Body::Note { text: "x".into() },
        Body::Channel {
            name: "caucus".into(),
            members: vec![a[A].delegation(), a[B].delegation()],
        },
        Body::Draft(revision_draft("Rev.1", Some(id))),
        Body::Draft(Draft::Revision {
            label: "Rev.2".into(),
            supersedes: None,
            content: entente_protocol::drafts::TextContent::Blobs {
                parts: vec![id, EventId([8; 32])],
                sha256: [9; 32],
            },
        }),
        Body::Draft(Draft::Blob {
            data: encode_versions(&versions_of(&documents())),
        }),
        Body::Draft(Draft::Amendment {
            revision: id,
            paragraph: "OP1".into(),
            op: AmendOp::InsertAfter,
            new_id: "OP1.b".into(),
            text: "and a secretariat;".into(),
            justification: "clarity".into(),
        }),
        Body::Draft(Draft::Bracket {
            revision: id,
            paragraph: "OP1".into(),
            span: "joint".into(),
            options: vec!["joint".into(), "standing".into()],
            reason: String::new(),
        }),
        Body::Draft(Draft::BracketOption {
            bracket: id,
            text: "mixed".into(),
        }),
        Body::Draft(Draft::BracketResolve {
            bracket: id,
            choice: "joint".into(),
        }),
        Body::Draft(Draft::Position {
            target: id,
            paragraph: "OP2".into(),
            stance: Stance::CanLiveWith,
            note: String::new(),
        }),
        Body::Draft(Draft::Statement {
            kind: StatementKind::Reservation,
            target: id,
            paragraph: String::new(),
            text: "We reserve our position.".into(),
        }),
        Body::Draft(Draft::Mark {
            revision: id,
            paragraph: "PP1".into(),
            mark: MarkKind::AdReferendum,
        }),
        Body::Decision(Decision::Pen {
            delegation: a[A].delegation(),
            granted: true,
        }),
        Body::Decision(Decision::Receipt { silence: id }),
        Body::Decision(Decision::SilenceBreak {
            silence: id,
            grounds: Grounds::Amendment,
            reference: Some(EventId([8; 32])),
        }),
        Body::Decision(Decision::Object {
            revision: id,
            reference: None,
        }),
        Body::Decision(Decision::Sign {
            adoption: id,
            language: "fr".into(),
            hash: text_hashes()["fr"],
            form: SignatureForm::Initials,
        }),
    ]);
    bodies
}

/// Hand-written inputs of the `negotiation` target (see `src/negotiation.rs` for their layout:
/// each step is op, author, parent mask, flags, time step, then the op's own choices).
fn negotiation_seeds() -> Vec<(&'static str, Vec<u8>)> {
    // A revision under silence that passes, adopted and signed, with drafting around it.
    let session = vec![
        0, 0, 0, 0, 10, 0, 0, 0, // the chair's revision (sealed, inline)
        0, 1, 0, 0, 5, 2, 0, 0, 0, 0, 1, 0, // A amends OP1
        0, 2, 0, 0, 5, 6, 0, 6, 2, 0, // B objects to the amendment
        0, 2, 0, 0, 5, 3, 0, 0, 2, 2, 1, 1, 0, // B brackets "a joint commission" in OP1
        0, 0, 0, 0, 5, 8, 0, 3, 1, // the chair marks OP2 agreed
        3, 0, 0, 0, 5, 1, 0, 2, 1, // the chair opens silence for a minute
        3, 1, 0, 0, 5, 2, 0, // A's receipt
        3, 0, 0, 0, 100, 4, 0, // the chair closes it after the deadline
        3, 0, 0, 0, 5, 6, 0, 2, 1, 0, // the chair adopts the revision
        3, 0, 0, 0, 5, 7, 0, 0, 0, 2, // every member signs the English text
        3, 1, 0, 0, 5, 7, 0, 0, 0, 2, //
        3, 2, 0, 0, 5, 7, 0, 0, 0, 1, //
        3, 1, 0, 0, 5, 7, 1, 0, 0, 2, // and A the French one
    ];
    // A restricted channel, its key, a sealed message in it; a new member; a pen-holder's
    // revision from blobs.
    let channels = vec![
        5, 0, 0, 0, 5, 6, 0, 0b0011, 2, // the chair opens "caucus" for itself and A
        6, 0, 0, 1, 5, 2, 3, 0x77, 0b0011, // and seals its first key to both
        7, 1, 0, 1, 5, 2, 3, 4, b'h', b'i', b'!', b'!', 1, // A says "hi!!" in the caucus
        5, 0, 0b100, 0, 5, 0, 4, 2, 0, // the chair accredits actor 4 as delegation "C"
        5, 4, 0, 0, 5, 1, 4, // who joins
        3, 0, 0, 0, 5, 0, 1, 1, // the chair gives A the pen
        0, 1, 0, 0, 5, 1, 0, 0, // A seals a blob with the whole text
        0, 1, 0, 0, 5, 0, 0, 3, 0, 0, // and a revision made of it
        5, 0, 0, 0, 5, 2, 1, 1, // the chair makes A a mediator
        6, 0, 0, 0, 5, 1, 0x42, 0b1111, // and rotates the plenary key
        0, 2, 0, 0, 5, 7, 0, 0, 0, 3, 4, b'w', b'e', b' ', b'r', // B's statement
        5, 2, 0, 0, 5, 4, 2, 0, // B leaves
    ];
    // Concurrent branches: two events on the same parent, then one on both.
    let branches = vec![
        0, 0, 0, 0, 10, 0, 0, 0, // revision
        0, 1, 0, 0, 5, 2, 0, 0, 0, 0, 1, 0, // A amends
        0, 2, 0b10, 0, 5, 2, 0, 0, 2, 0, 3, 3, b'n', b'e', b'w', 0, // B deletes, concurrently
        3, 0, 0b11, 0, 5, 1, 0, 2, 1, // the chair opens silence on both
        3, 2, 0b10, 0, 5, 3, 0, 0, 1, 0, // B breaks it
        3, 0, 0b01, 0, 80, 4, 0, // the chair closes it
    ];
    vec![
        ("session", session),
        ("channels", channels),
        ("branches", branches),
        ("empty", vec![]),
    ]
}

fn main() {
    let vectors = spec_vectors();
    let v = |name: &str| vectors.get(name).cloned().expect("a SPEC.md vector");
    let room = Room::new();
    let (session, adoption) = signed_session(&room);
    let now = session.iter().map(|e| e.header.time).max().unwrap_or(T0);

    // Events: SPEC.md's, the setup's, and the session's (sealed, decisions).
    for name in ["charter", "accredit", "join", "message"] {
        put(
            "event",
            &format!("spec-{name}"),
            &v(&format!("{name}.wire")),
        );
    }
    for (i, e) in session.iter().enumerate() {
        put(
            "event",
            &format!("session-{i:02}-{}", e.header.kind),
            &e.to_wire(),
        );
    }

    // Records and public texts.
    put("record", "spec-record", &v("record.bundle"));
    put(
        "record",
        "setup",
        &encode_record(room.negotiation, &room.setup),
    );
    let session_record = encode_record(room.negotiation, &session);
    assert!(verify_record(&session_record, now).is_ok());
    put("record", "session", &session_record);
    let selected = public::select_events(&session, &adoption);
    let text = public::encode_public_text(room.negotiation, adoption, &selected, &documents());
    public::verify_public_text(&text).expect("the seed public text verifies");
    put("public_text", "session", &text);
    put("public_text", "spec-record", &v("record.bundle"));

    // Sync messages and invitations.
    let chair = Actor::new(1);
    for (name, certificate) in [("member", Some(chair.cert.clone())), ("relay", None)] {
        let request = SyncRequest {
            negotiation: room.negotiation,
            heads: fold(&session).expect("folds").heads,
            certificate,
        };
        put("sync_request", name, &request.encode());
    }
    let response = SyncResponse {
        status: SyncStatus::Ok,
        heads: vec![EventId([4; 32])],
        events: vec![v("accredit.wire"), v("message.wire")],
        more: true,
    };
    put("sync_response", "events", &response.encode());
    put(
        "sync_response",
        "refusal",
        &SyncResponse::refusal(SyncStatus::NotAuthorized).encode(),
    );
    let invitation = Invitation {
        negotiation: room.negotiation,
        inviter: DeviceId([8; 32]),
        addrs: vec![
            "/ip4/127.0.0.1/tcp/4001".into(),
            "/ip6/::1/udp/4001/quic-v1".into(),
        ],
        relays: vec!["/dns4/relay.example/tcp/4001/p2p/12D3KooWRelay".into()],
    };
    put("invitation", "token", invitation.to_token().as_bytes());
    put(
        "invitation",
        "bare",
        Invitation {
            addrs: vec![],
            relays: vec![],
            ..invitation
        }
        .to_token()
        .as_bytes(),
    );
    put("certificate", "spec-chair", &v("chair.certificate"));

    // Bodies of every kind, behind the byte that picks the kind.
    let kinds = entente_fuzz::all_kinds();
    let mut seen = std::collections::BTreeSet::new();
    for body in sample_bodies(&room, &session) {
        let bytes = body.encode();
        let index = kinds
            .iter()
            .position(|k| *k == body.kind())
            .expect("a known kind");
        let mut seed = vec![index as u8];
        seed.extend_from_slice(&bytes);
        let n = seen
            .iter()
            .filter(|k: &&String| k.starts_with(body.kind()))
            .count();
        let name = format!("{}-{n}", body.kind());
        seen.insert(name.clone());
        put("body", &name, &seed);
    }
    let sign = kinds.iter().position(|k| *k == "sign").expect("sign") as u8;
    put(
        "body",
        "spec-sign",
        &[&[sign][..], &v("sign.body")].concat(),
    );

    // Sealed bodies: raw (mode 0), in a header (1), and contents to seal (3).
    let sealed_event = session
        .iter()
        .find(|e| e.header.kind == "sealed")
        .expect("a sealed event");
    put(
        "sealed",
        "raw",
        &[&[0u8][..], &sealed_event.header.body].concat(),
    );
    put(
        "sealed",
        "in-header",
        &[&[1u8][..], &sealed_event.header.body].concat(),
    );
    for (name, body) in [
        (
            "message",
            Body::Message {
                text: "hello".into(),
            },
        ),
        ("revision", Body::Draft(revision_draft("Rev.1", None))),
        (
            "leave",
            Body::Leave {
                reason: String::new(),
            },
        ),
    ] {
        let c = content(body.kind(), &body.encode());
        put(
            "sealed",
            &format!("content-{name}"),
            &[&[3u8][..], &c].concat(),
        );
    }

    // Envelopes: a raw vector (mode 0), and payloads sealed by the expected sender (mode 1)
    // or by another one (mode 2).
    put(
        "envelope",
        "spec",
        &[&[0u8][..], &v("envelope.message")].concat(),
    );
    put("envelope", "key", &[&[1u8][..], &[0x44; 32]].concat());
    put("envelope", "short", &[&[1u8][..], &[0x44; 31]].concat());
    put(
        "envelope",
        "other-sender",
        &[&[2u8][..], &[0x44; 32]].concat(),
    );

    // Texts: encoded versions, and the plain-text convention.
    put(
        "versions",
        "documents",
        &encode_versions(&versions_of(&documents())),
    );
    for d in documents() {
        put(
            "text",
            &format!("document-{}", d.language),
            d.render().as_bytes(),
        );
    }
    put(
        "text",
        "spec",
        "symbol: A/CONF.1/L.3\ntitle: Déclaration sur le Rhin\n\n[PP1] Rappelant la Convention,\n\n[OP1] Décide de réduire les rejets ;\nsans délai ;\n\n[OP1.a] dans le cours principal.\n"
            .as_bytes(),
    );
    put(
        "text",
        "comment",
        b"# a comment\nsymbol: X\n[OP1] a\ncontinued\n\n[OP2-alt] b\n",
    );

    // Negotiations: check that each seed builds what it says, so that the fuzzer starts deep.
    for (name, seed) in negotiation_seeds() {
        let events = negotiation::events(&seed, &room);
        let now = events.iter().map(|e| e.header.time).max().unwrap_or(T0);
        let bundle = encode_record(room.negotiation, &events);
        let record = verify_record(&bundle, now).expect("a seed negotiation verifies");
        let excluded: Vec<String> = record
            .state
            .entries
            .iter()
            .filter_map(|e| e.excluded.map(|x| format!("{x:?}")))
            .collect();
        println!(
            "negotiation/{name}: {} events after the setup, excluded: {excluded:?}",
            events.len() - room.setup.len()
        );
        put("negotiation", name, &seed);
    }
    let _ = (CHAIR, A, B);
    println!("seeds written to {}", corpus().display());
}
