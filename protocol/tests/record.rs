//! Record bundles: what `entente verify` checks, and that no tampering goes unnoticed.

mod common;

use common::*;
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::{RecordError, Role, fold};

fn sample() -> (Vec<entente_protocol::Event>, Vec<u8>) {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&b, b.join_body()),
            (&b, say("Nous proposons « un texte » — نص")),
        ],
    );
    let bundle = encode_record(events[0].id, &events);
    (events, bundle)
}

#[test]
fn a_good_record_verifies_and_reports_its_state() {
    let (events, bundle) = sample();
    let record = verify_record(&bundle, T0 + 10_000).expect("verifies");
    assert_eq!(record.events.len(), 4);
    assert_eq!(
        record.state.state_hash(),
        fold(&events).expect("folds").state_hash()
    );
}

#[test]
fn every_single_byte_flip_anywhere_in_a_record_fails_verification() {
    let (_, bundle) = sample();
    for i in 0..bundle.len() {
        for mask in [0x01u8, 0x20, 0x80] {
            let mut b = bundle.clone();
            b[i] ^= mask;
            assert!(
                verify_record(&b, T0 + 10_000).is_err(),
                "flipping {mask:#04x} at byte {i} of {} went unnoticed",
                bundle.len()
            );
        }
    }
}

#[test]
fn a_bad_signature_names_the_offending_event() {
    let (events, bundle) = sample();
    // The last 64 bytes of the bundle are the signature of its last event.
    let mut b = bundle.clone();
    let n = b.len();
    b[n - 10] ^= 1;
    match verify_record(&b, T0 + 10_000) {
        Err(RecordError::Event { index, source, .. }) => {
            assert_eq!(index, events.len() - 1);
            assert_eq!(source, entente_protocol::EventError::BadSignature);
        }
        other => panic!("expected a bad signature on the last event, got {other:?}"),
    }
}

#[test]
fn a_truncated_record_fails() {
    let (_, bundle) = sample();
    for cut in [0, 1, bundle.len() / 2, bundle.len() - 1] {
        assert!(
            verify_record(&bundle[..cut], T0 + 10_000).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_record_missing_an_ancestor_fails() {
    let (events, _) = sample();
    let without_accredit: Vec<_> = events
        .iter()
        .filter(|e| e.id != events[1].id)
        .cloned()
        .collect();
    let bundle = encode_record(events[0].id, &without_accredit);
    assert!(matches!(
        verify_record(&bundle, T0 + 10_000),
        Err(RecordError::Event { index: 1, .. })
    ));
}

#[test]
fn a_record_from_the_future_fails() {
    let (_, bundle) = sample();
    assert!(verify_record(&bundle, T0 - 3_600_000).is_err());
}

#[test]
fn unauthorized_events_are_reported_not_hidden() {
    let chair = Actor::new(1);
    let stranger = Actor::new(7);
    let events = chain(&chair, vec![(&stranger, say("spoofed statement"))]);
    let record =
        verify_record(&encode_record(events[0].id, &events), T0 + 10_000).expect("verifies");
    assert_eq!(record.state.counts(), (1, 1));
}
