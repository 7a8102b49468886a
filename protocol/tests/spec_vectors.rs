//! The test vectors written in SPEC.md, recomputed from their seeds and checked byte for byte.
//! Run with ENTENTE_PRINT_VECTORS=1 to print the current values (when the format changes on purpose).

mod common;

use std::collections::BTreeMap;

use common::*;
use entente_protocol::envelope::{self, EnvelopeContext, EpochKey, sealing_public};
use entente_protocol::event::EventHeader;
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::sealed;
use entente_protocol::{Body, Event, Role, fingerprint, fold};

const SPEC: &str = include_str!("../SPEC.md");

/// The text of the `text.*` vectors, in the plain-text convention of SPEC.md section 11.
const TEXT_SAMPLE: &str = "symbol: A/CONF.1/L.3\ntitle: Déclaration sur le Rhin\n\n[PP1] Rappelant la Convention,\n\n[OP1] Décide de réduire les rejets ;\nsans délai ;\n\n[OP1.a] dans le cours principal.\n";

/// `name: value` lines of the fenced blocks after the "Test vectors" heading.
fn spec_vectors() -> BTreeMap<String, String> {
    let section = SPEC
        .split("## 15. Test vectors")
        .nth(1)
        .expect("SPEC.md has a Test vectors section");
    let mut out = BTreeMap::new();
    let mut in_block = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block && let Some((k, v)) = line.split_once(": ") {
            out.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

fn computed_vectors() -> BTreeMap<String, String> {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: String| {
        v.insert(k.to_string(), val);
    };
    put("chair.delegation_seed", hex::encode([1u8; 32]));
    put("chair.device_seed", hex::encode([101u8; 32]));
    put("chair.delegation", chair.delegation().to_hex());
    put("chair.device", chair.device().to_hex());
    put("chair.sealing_key", hex::encode([201u8; 32]));
    put("chair.certificate", hex::encode(chair.cert.to_bytes()));
    let fp = fingerprint(chair.delegation().as_bytes());
    put("chair.fingerprint", fp.short);
    put("chair.safety_words", fp.words.join(" "));
    put("b.delegation_seed", hex::encode([2u8; 32]));
    put("b.device_seed", hex::encode([102u8; 32]));
    put("b.delegation", b.delegation().to_hex());

    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&b, b.join_body()),
            (&b, say("Bonjour — مرحبا")),
        ],
    );
    let names = ["charter", "accredit", "join", "message"];
    for (name, e) in names.iter().zip(&events) {
        put(&format!("{name}.header"), hex::encode(e.header_bytes()));
        put(&format!("{name}.signature"), hex::encode(e.signature()));
        put(&format!("{name}.wire"), hex::encode(e.to_wire()));
        put(&format!("{name}.id"), e.id.to_hex());
    }
    // Envelope and sealed content (SPEC.md sections 9 and 10).
    let key = EpochKey([0x44; 32]);
    let ctx = EnvelopeContext {
        negotiation: events[0].id,
        channel: "plenary",
        epoch: 1,
        recipient: b.device(),
    };
    let sealed_to_b = envelope::seal(
        &[0x11; 32],
        &sealing_public(&[0x22; 32]),
        &ctx,
        &key,
        [0x33; 32],
    )
    .expect("seals");
    assert_eq!(
        envelope::open(
            &[0x22; 32],
            &sealing_public(&[0x11; 32]),
            &ctx,
            &sealed_to_b
        ),
        Ok(key.clone())
    );
    put(
        "envelope.sender_public",
        sealing_public(&[0x11; 32]).to_hex(),
    );
    put(
        "envelope.recipient_public",
        sealing_public(&[0x22; 32]).to_hex(),
    );
    put("envelope.key_id", hex::encode(key.id()));
    put("envelope.message", hex::encode(&sealed_to_b));
    let content = Body::Message {
        text: "Bonjour — مرحبا".into(),
    };
    let mut header = EventHeader::new(
        Some(events[0].id),
        b.device(),
        vec![events[2].id],
        3,
        T0 + 3000,
        &content,
    );
    header.epoch = 1;
    sealed::seal_into(&mut header, &content, &key, [0x55; 24]).expect("seals");
    let sealed_event = Event::sign(header, &b.device_key).expect("signs");
    assert_eq!(sealed::open(&sealed_event.header, &key), Ok(content));
    put("sealed.header", hex::encode(sealed_event.header_bytes()));
    put("sealed.id", sealed_event.id.to_hex());

    // Texts (section 11) and a signature's body (section 13).
    let doc =
        entente_protocol::text::Document::parse("fr", TEXT_SAMPLE).expect("the sample parses");
    assert_eq!(
        doc.render(),
        TEXT_SAMPLE,
        "the sample is in the canonical form"
    );
    put("text.document", hex::encode(doc.encode()));
    put("text.hash", hex::encode(doc.hash()));
    put(
        "text.paragraph_hash",
        hex::encode(entente_protocol::text::paragraph_hash(
            &doc.paragraphs[1].text,
        )),
    );
    let sign = Body::Decision(entente_protocol::decisions::Decision::Sign {
        adoption: events[3].id,
        language: "fr".into(),
        hash: doc.hash(),
        form: entente_protocol::decisions::SignatureForm::AdReferendum,
    });
    put("sign.body", hex::encode(sign.encode()));

    let state = fold(&events).expect("folds");
    put(
        "record.bundle",
        hex::encode(encode_record(events[0].id, &events)),
    );
    put("record.state_hash", hex::encode(state.state_hash()));
    v
}

#[test]
fn spec_md_test_vectors_match_this_implementation() {
    let computed = computed_vectors();
    if std::env::var_os("ENTENTE_PRINT_VECTORS").is_some() {
        for (k, val) in &computed {
            println!("{k}: {val}");
        }
    }
    let written = spec_vectors();
    for (k, val) in &computed {
        assert_eq!(
            written.get(k),
            Some(val),
            "SPEC.md vector {k} differs from the implementation"
        );
    }
    for k in written.keys() {
        assert!(
            computed.contains_key(k),
            "SPEC.md has a vector {k} that no test checks"
        );
    }
}

#[test]
fn spec_md_wire_vectors_decode_to_their_ids() {
    let written = spec_vectors();
    for name in ["charter", "accredit", "join", "message"] {
        let wire = hex::decode(&written[&format!("{name}.wire")]).expect("hex");
        let event = Event::from_wire(&wire).expect("SPEC.md wire vector decodes");
        assert_eq!(event.id.to_hex(), written[&format!("{name}.id")]);
    }
    let bundle = hex::decode(&written["record.bundle"]).expect("hex");
    let record = verify_record(&bundle, T0 + 60_000).expect("SPEC.md bundle verifies");
    assert_eq!(
        hex::encode(record.state.state_hash()),
        written["record.state_hash"]
    );
}
