//! Authorization rules and event validation: forged, replayed, malformed and unauthorized events.

mod common;

use common::*;
use entente_protocol::dag::{ParentInfo, check_links, check_time};

fn plenary(lamport: u64) -> ParentInfo {
    ParentInfo {
        lamport,
        channel: "plenary".into(),
    }
}
use entente_protocol::event::{EventHeader, MAX_EVENT_BYTES};
use entente_protocol::{Body, Event, EventError, Exclusion, MemberStatus, Role, fold};

fn verdict_of(events: &[Event], id: entente_protocol::EventId) -> Option<Exclusion> {
    let state = fold(events).expect("folds");
    state
        .entries
        .iter()
        .find(|e| e.id == id)
        .expect("entry")
        .excluded
}

#[test]
fn chair_accredits_and_member_joins_and_speaks() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&b, b.join_body()),
            (&b, say("hello")),
        ],
    );
    let state = fold(&events).expect("folds");
    assert_eq!(state.counts(), (4, 0));
    let m = &state.members[&b.delegation()];
    assert_eq!((m.role, m.status), (Role::Delegation, MemberStatus::Active));
    assert!(m.devices.contains_key(&b.device()));
}

#[test]
fn observer_accrediting_someone_is_excluded() {
    let chair = Actor::new(1);
    let obs = Actor::new(2);
    let c = Actor::new(3);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&obs, Role::Observer, "O")),
            (&obs, obs.join_body()),
            (&obs, accredit(&c, Role::Chair, "C")),
        ],
    );
    let last = events.last().expect("event").id;
    assert_eq!(verdict_of(&events, last), Some(Exclusion::NotAuthorized));
    assert!(
        !fold(&events)
            .expect("folds")
            .members
            .contains_key(&c.delegation())
    );
}

#[test]
fn removed_member_posting_is_excluded() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&b, b.join_body()),
            (
                &chair,
                Body::Remove {
                    delegation: b.delegation(),
                    reason: "walked out".into(),
                },
            ),
            (&b, say("I am still here")),
        ],
    );
    let last = events.last().expect("event").id;
    assert_eq!(verdict_of(&events, last), Some(Exclusion::InactiveAuthor));
}

#[test]
fn non_member_device_is_an_unknown_author() {
    let chair = Actor::new(1);
    let stranger = Actor::new(9);
    let events = chain(&chair, vec![(&stranger, say("let me in"))]);
    let last = events.last().expect("event").id;
    assert_eq!(verdict_of(&events, last), Some(Exclusion::UnknownAuthor));
}

#[test]
fn joining_without_accreditation_is_excluded() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(&chair, vec![(&b, b.join_body())]);
    let last = events.last().expect("event").id;
    assert_eq!(verdict_of(&events, last), Some(Exclusion::NotAMember));
}

#[test]
fn joining_with_someone_elses_certificate_is_excluded() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let thief = Actor::new(3);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&thief, b.join_body()),
        ],
    );
    let last = events.last().expect("event").id;
    assert_eq!(
        verdict_of(&events, last),
        Some(Exclusion::CertificateMismatch)
    );
}

#[test]
fn expired_certificate_cannot_join_or_post() {
    let chair = Actor::new(1);
    let b = Actor::with_expiry(2, Some(T0 + 2500));
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")), // T0+1000
            (&b, b.join_body()),                           // T0+2000: valid
            (&b, say("before expiry")),                    // T0+3000: expired
        ],
    );
    let state = fold(&events).expect("folds");
    assert_eq!(state.entries[2].excluded, None);
    assert_eq!(
        state.entries[3].excluded,
        Some(Exclusion::CertificateExpired)
    );
}

#[test]
fn the_last_chair_cannot_leave_or_be_demoted() {
    let chair = Actor::new(1);
    let events = chain(
        &chair,
        vec![
            (
                &chair,
                Body::Leave {
                    reason: String::new(),
                },
            ),
            (
                &chair,
                Body::RoleChange {
                    delegation: chair.delegation(),
                    role: Role::Observer,
                },
            ),
        ],
    );
    let state = fold(&events).expect("folds");
    assert_eq!(state.entries[1].excluded, Some(Exclusion::LastChair));
    assert_eq!(state.entries[2].excluded, Some(Exclusion::LastChair));
}

#[test]
fn a_second_chair_may_take_over() {
    let chair = Actor::new(1);
    let co = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&co, Role::Chair, "Co-chair")),
            (&co, co.join_body()),
            (
                &chair,
                Body::Leave {
                    reason: "handing over".into(),
                },
            ),
            (&co, accredit(&Actor::new(3), Role::Delegation, "C")),
        ],
    );
    assert_eq!(fold(&events).expect("folds").counts(), (5, 0));
}

#[test]
fn accrediting_a_member_twice_is_excluded() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&chair, accredit(&b, Role::Chair, "B")),
        ],
    );
    let last = events.last().expect("event").id;
    assert_eq!(verdict_of(&events, last), Some(Exclusion::AlreadyMember));
}

#[test]
fn a_removed_delegation_can_be_readmitted_and_must_join_again() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&b, b.join_body()),
            (
                &chair,
                Body::Remove {
                    delegation: b.delegation(),
                    reason: String::new(),
                },
            ),
            (&chair, accredit(&b, Role::Observer, "B")),
            (&b, say("before rejoining")),
            (&b, b.join_body()),
            (&b, say("after rejoining")),
        ],
    );
    let state = fold(&events).expect("folds");
    let verdicts: Vec<_> = state.entries.iter().map(|e| e.excluded).collect();
    assert_eq!(verdicts[5], Some(Exclusion::UnknownAuthor));
    assert_eq!(verdicts[6], None);
    assert_eq!(verdicts[7], None);
    assert_eq!(state.members[&b.delegation()].role, Role::Observer);
}

#[test]
fn a_forged_signature_is_rejected() {
    let chair = Actor::new(1);
    let genesis = charter(&chair, "Talks");
    let mut wire = genesis.to_wire();
    let last = wire.len() - 1;
    wire[last] ^= 1;
    assert_eq!(Event::from_wire(&wire), Err(EventError::BadSignature));
}

#[test]
fn an_event_signed_by_another_key_than_its_author_is_rejected() {
    let chair = Actor::new(1);
    let impostor = Actor::new(2);
    let genesis = charter(&chair, "Talks");
    // Sign a header that names the chair's device with the impostor's key.
    let mut header = EventHeader::new(
        Some(genesis.id),
        impostor.device(),
        vec![genesis.id],
        1,
        T0,
        &say("x"),
    );
    let forged = Event::sign(header.clone(), &impostor.device_key).expect("signs");
    header.author = chair.device();
    let mut wire = forged.to_wire();
    // Splice the chair's device id over the impostor's in the signed header bytes.
    let from = impostor.device().0;
    let pos = wire
        .windows(32)
        .position(|w| w == from)
        .expect("author in wire");
    wire[pos..pos + 32].copy_from_slice(&chair.device().0);
    assert_eq!(Event::from_wire(&wire), Err(EventError::BadSignature));
}

#[test]
fn every_single_byte_flip_of_an_event_is_rejected() {
    let chair = Actor::new(1);
    let genesis = charter(&chair, "Talks");
    let wire = genesis.to_wire();
    for i in 0..wire.len() {
        for bit in [0x01u8, 0x80] {
            let mut w = wire.clone();
            w[i] ^= bit;
            assert!(
                Event::from_wire(&w).is_err(),
                "flip of bit {bit:#x} at byte {i} was accepted"
            );
        }
    }
}

#[test]
fn replaying_an_event_into_another_negotiation_is_rejected() {
    let chair = Actor::new(1);
    let a = charter(&chair, "A");
    let b = charter(&chair, "B");
    let msg = post(&chair, a.id, &[&a], say("for A"), T0 + 1);
    let err = check_links(&msg, b.id, |_| Some(plenary(0))).expect_err("wrong negotiation");
    assert!(matches!(err, EventError::WrongNegotiation { .. }));
}

#[test]
fn a_replayed_duplicate_changes_nothing() {
    let chair = Actor::new(1);
    let mut events = chain(&chair, vec![(&chair, say("once"))]);
    let before = fold(&events).expect("folds").state_hash();
    events.push(events[1].clone());
    assert_eq!(fold(&events).expect("folds").state_hash(), before);
}

#[test]
fn missing_parents_and_wrong_lamports_are_rejected() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let e = post(&chair, g.id, &[&g], say("x"), T0 + 1);
    assert!(matches!(
        check_links(&e, g.id, |_| None),
        Err(EventError::ParentMissing { .. })
    ));
    assert!(matches!(
        check_links(&e, g.id, |_| Some(plenary(5))),
        Err(EventError::LamportInconsistent {
            expected: 6,
            got: 1
        })
    ));
    assert_eq!(check_links(&e, g.id, |_| Some(plenary(0))), Ok(()));
    // A shared event cannot build on a restricted channel's event.
    let in_caucus = |_: &entente_protocol::EventId| {
        Some(ParentInfo {
            lamport: 0,
            channel: "caucus".into(),
        })
    };
    assert!(matches!(
        check_links(&e, g.id, in_caucus),
        Err(EventError::InvalidHeader(_))
    ));
}

#[test]
fn events_from_the_far_future_are_rejected() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let e = post(&chair, g.id, &[&g], say("x"), T0 + 3_600_000);
    assert!(matches!(
        check_time(&e, T0),
        Err(EventError::TimeInFuture { .. })
    ));
    assert_eq!(check_time(&e, T0 + 3_600_000 - 60_000), Ok(()));
}

#[test]
fn oversized_events_are_rejected() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let body = say(&"x".repeat(MAX_EVENT_BYTES));
    let header = EventHeader::new(Some(g.id), chair.device(), vec![g.id], 1, T0, &body);
    assert!(matches!(
        Event::sign(header, &chair.device_key),
        Err(EventError::TooLarge { .. })
    ));
    let big = vec![0u8; MAX_EVENT_BYTES + 1];
    assert!(matches!(
        Event::from_wire(&big),
        Err(EventError::TooLarge { .. })
    ));
}

#[test]
fn non_canonical_encodings_are_rejected() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let wire = g.to_wire();
    // Re-encode the outer array header (0x82) as a one-byte-length array (0x98 0x02).
    let mut padded = vec![0x98, 0x02];
    padded.extend_from_slice(&wire[1..]);
    assert!(matches!(
        Event::from_wire(&padded),
        Err(EventError::Malformed(_))
    ));
    // Trailing bytes after the event.
    let mut trailing = wire.clone();
    trailing.push(0);
    assert!(matches!(
        Event::from_wire(&trailing),
        Err(EventError::Malformed(_))
    ));
}

#[test]
fn unsorted_parents_are_rejected() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let a = post(&chair, g.id, &[&g], say("a"), T0 + 1);
    let b = post(&chair, g.id, &[&g], say("b"), T0 + 2);
    let mut header = EventHeader::new(
        Some(g.id),
        chair.device(),
        vec![a.id, b.id],
        2,
        T0 + 3,
        &say("merge"),
    );
    header.parents.reverse();
    assert!(matches!(
        Event::sign(header, &chair.device_key),
        Err(EventError::InvalidHeader(_))
    ));
}

#[test]
fn unknown_kinds_are_kept_but_excluded() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let mut header = EventHeader::new(Some(g.id), chair.device(), vec![g.id], 1, T0 + 1, &say("x"));
    header.kind = "from-the-future".into();
    let e = Event::sign(header, &chair.device_key).expect("unknown kinds still sign");
    assert!(e.body.is_none());
    assert_eq!(
        verdict_of(&[g, e.clone()], e.id),
        Some(Exclusion::UnknownKind)
    );
}

#[test]
fn an_event_in_the_wrong_channel_is_excluded() {
    let chair = Actor::new(1);
    let g = charter(&chair, "Talks");
    let mut header = EventHeader::new(Some(g.id), chair.device(), vec![g.id], 1, T0 + 1, &say("x"));
    header.channel = "governance".into();
    let e = Event::sign(header, &chair.device_key).expect("signs");
    assert_eq!(
        verdict_of(&[g, e.clone()], e.id),
        Some(Exclusion::WrongChannel)
    );
}

#[test]
fn admits_and_append_agree_with_a_full_fold() {
    let chair = Actor::new(1);
    let b = Actor::new(2);
    let events = chain(
        &chair,
        vec![
            (&chair, accredit(&b, Role::Delegation, "B")),
            (&b, b.join_body()),
            (&b, accredit(&chair, Role::Observer, "x")),
            (&b, say("hi")),
        ],
    );
    let mut state = fold(&events[..1]).expect("folds");
    for e in &events[1..] {
        let predicted = state.admits(e).err();
        let entry = state.append(e).clone();
        assert_eq!(entry.excluded, predicted);
    }
    let full = fold(&events).expect("folds");
    assert_eq!(state.state_hash(), full.state_hash());
    assert_eq!(state.heads, full.heads);
}
