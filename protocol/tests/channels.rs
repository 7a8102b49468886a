//! Channels and epoch keys: who may hold which key, rotation on removal, history for newcomers,
//! and the cryptography end to end (envelopes and sealed bodies).

mod common;

use common::*;
use entente_protocol::envelope::{self, EnvelopeContext, EpochKey, sealing_public};
use entente_protocol::event::EventHeader;
use entente_protocol::sealed;
use entente_protocol::{Body, DeviceId, Event, Exclusion, NegotiationId, Role, fold};

/// Sealing secrets: the common actors carry a placeholder sealing key, so these tests use their
/// own secrets and certificates where the crypto matters.
fn sealing_secret(seed: u8) -> [u8; 32] {
    [seed.wrapping_add(50); 32]
}

fn actor(seed: u8) -> Actor {
    Actor::with_sealing(seed, sealing_public(&sealing_secret(seed)))
}

// Mirrors the fields of a keys event one for one; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn keys_event(
    author: &Actor,
    author_seed: u8,
    neg: NegotiationId,
    parent: &Event,
    channel: &str,
    epoch: u64,
    key: &EpochKey,
    to: &[&Actor],
) -> Event {
    let mut envelopes: Vec<(DeviceId, Vec<u8>)> = to
        .iter()
        .map(|r| {
            let ctx = EnvelopeContext {
                negotiation: neg,
                channel,
                epoch,
                recipient: r.device(),
            };
            let sealed = envelope::seal(
                &sealing_secret(author_seed),
                &r.cert.certificate.sealing_key,
                &ctx,
                key,
                [epoch as u8 ^ r.device().0[0]; 32],
            )
            .expect("seals");
            (r.device(), sealed)
        })
        .collect();
    envelopes.sort();
    let body = Body::Keys {
        epoch,
        key_id: key.id(),
        envelopes,
    };
    let mut header = EventHeader::new(
        Some(neg),
        author.device(),
        vec![parent.id],
        parent.header.lamport + 1,
        parent.header.time + 1,
        &body,
    );
    header.channel = channel.into();
    Event::sign(header, &author.device_key).expect("signs")
}

fn sealed_event(
    author: &Actor,
    neg: NegotiationId,
    parent: &Event,
    channel: &str,
    epoch: u64,
    key: &EpochKey,
    text: &str,
) -> Event {
    let mut header = EventHeader::new(
        Some(neg),
        author.device(),
        vec![parent.id],
        parent.header.lamport + 1,
        parent.header.time + 1,
        &Body::Message {
            text: String::new(),
        },
    );
    header.channel = channel.into();
    header.epoch = epoch;
    sealed::seal_into(
        &mut header,
        &Body::Message { text: text.into() },
        key,
        [epoch as u8; 24],
    )
    .expect("seals");
    Event::sign(header, &author.device_key).expect("signs")
}

/// A charter by `chair`, then each of `members` accredited as a delegation and joined.
fn convened(chair: &Actor, title: &str, members: &[&Actor]) -> (NegotiationId, Vec<Event>) {
    let g = charter(chair, title);
    let n = g.id;
    let mut log = vec![g];
    for who in members {
        let e = simple(
            chair,
            n,
            log.last().expect("e"),
            accredit(who, Role::Delegation, "x"),
        );
        log.push(e);
        let e = simple(who, n, log.last().expect("e"), who.join_body());
        log.push(e);
    }
    (n, log)
}

fn simple(author: &Actor, neg: NegotiationId, parent: &Event, body: Body) -> Event {
    post(author, neg, &[parent], body, parent.header.time + 1)
}

#[test]
fn proximity_talks_keep_each_party_out_of_the_others_channel() {
    let (med, a, b) = (actor(1), actor(2), actor(3));
    let g = charter(&med, "Proximity talks");
    let n = g.id;
    let mut log = vec![g];
    let push = |e: Event, log: &mut Vec<Event>| log.push(e);
    for (who, role) in [(&a, Role::Delegation), (&b, Role::Delegation)] {
        let e = simple(&med, n, log.last().expect("e"), accredit(who, role, "x"));
        push(e, &mut log);
        let e = simple(who, n, log.last().expect("e"), who.join_body());
        push(e, &mut log);
    }
    for (name, party) in [("prox-a", &a), ("prox-b", &b)] {
        let e = simple(
            &med,
            n,
            log.last().expect("e"),
            Body::Channel {
                name: name.into(),
                members: vec![party.delegation()],
            },
        );
        push(e, &mut log);
    }
    let key_a = EpochKey([0xa1; 32]);
    let key_b = EpochKey([0xb1; 32]);
    let ka = keys_event(
        &med,
        1,
        n,
        log.last().expect("e"),
        "prox-a",
        1,
        &key_a,
        &[&med, &a],
    );
    push(ka.clone(), &mut log);
    let kb = keys_event(
        &med,
        1,
        n,
        log.last().expect("e"),
        "prox-b",
        1,
        &key_b,
        &[&med, &b],
    );
    push(kb.clone(), &mut log);
    // The mediator cannot slip prox-b's key to A, and A cannot speak in prox-b.
    let leak = keys_event(
        &med,
        1,
        n,
        log.last().expect("e"),
        "prox-b",
        1,
        &key_b,
        &[&a],
    );
    push(leak.clone(), &mut log);
    let intrude = sealed_event(
        &a,
        n,
        log.last().expect("e"),
        "prox-b",
        1,
        &key_b,
        "let me in",
    );
    push(intrude.clone(), &mut log);
    let talk = sealed_event(
        &med,
        n,
        log.last().expect("e"),
        "prox-b",
        1,
        &key_b,
        "MARKER to B only",
    );
    push(talk.clone(), &mut log);

    let state = fold(&log).expect("folds");
    let verdict = |id| {
        state
            .entries
            .iter()
            .find(|e| e.id == id)
            .expect("entry")
            .excluded
    };
    assert_eq!(verdict(ka.id), None);
    assert_eq!(verdict(kb.id), None);
    assert_eq!(verdict(leak.id), Some(Exclusion::KeyToOutsider));
    assert_eq!(verdict(intrude.id), Some(Exclusion::NotInChannel));
    assert_eq!(verdict(talk.id), None);
    assert!(!state.entitled_devices("prox-b").contains(&a.device()));

    // B opens its envelope and reads; A has no envelope in prox-b and cannot open B's.
    let Some(Body::Keys { envelopes, .. }) = &kb.body else {
        panic!("keys")
    };
    let ctx_b = EnvelopeContext {
        negotiation: n,
        channel: "prox-b",
        epoch: 1,
        recipient: b.device(),
    };
    let (_, env_b) = envelopes
        .iter()
        .find(|(d, _)| *d == b.device())
        .expect("envelope for B");
    let opened = envelope::open(
        &sealing_secret(3),
        &sealing_public(&sealing_secret(1)),
        &ctx_b,
        env_b,
    )
    .expect("B opens");
    assert_eq!(
        sealed::open(&talk.header, &opened),
        Ok(Body::Message {
            text: "MARKER to B only".into()
        })
    );
    assert!(envelopes.iter().all(|(d, _)| *d != a.device()));
    assert!(
        envelope::open(
            &sealing_secret(2),
            &sealing_public(&sealing_secret(1)),
            &ctx_b,
            env_b
        )
        .is_err()
    );
}

#[test]
fn removing_a_member_makes_the_old_epoch_stale_until_a_new_one() {
    let (chair, a, c) = (actor(1), actor(2), actor(3));
    let (n, mut log) = convened(&chair, "Rotation", &[&a, &c]);
    let k1 = EpochKey([1; 32]);
    log.push(keys_event(
        &chair,
        1,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        &[&chair, &a, &c],
    ));
    let before = sealed_event(&a, n, log.last().expect("e"), "plenary", 1, &k1, "before");
    log.push(before.clone());
    let remove = simple(
        &chair,
        n,
        log.last().expect("e"),
        Body::Remove {
            delegation: c.delegation(),
            reason: String::new(),
        },
    );
    log.push(remove);
    let stale = sealed_event(
        &a,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        "after, old key",
    );
    log.push(stale.clone());
    // The removed member's device may not be sent the new key; the others may.
    let k2 = EpochKey([2; 32]);
    let to_removed = keys_event(
        &chair,
        1,
        n,
        log.last().expect("e"),
        "plenary",
        2,
        &k2,
        &[&chair, &a, &c],
    );
    log.push(to_removed.clone());
    let rotate = keys_event(
        &chair,
        1,
        n,
        log.last().expect("e"),
        "plenary",
        2,
        &k2,
        &[&chair, &a],
    );
    log.push(rotate.clone());
    let fresh = sealed_event(
        &a,
        n,
        log.last().expect("e"),
        "plenary",
        2,
        &k2,
        "after, new key",
    );
    log.push(fresh.clone());

    let state = fold(&log).expect("folds");
    let verdict = |id| {
        state
            .entries
            .iter()
            .find(|e| e.id == id)
            .expect("entry")
            .excluded
    };
    assert_eq!(verdict(before.id), None);
    assert_eq!(verdict(stale.id), Some(Exclusion::StaleEpoch));
    assert_eq!(verdict(to_removed.id), Some(Exclusion::KeyToOutsider));
    assert_eq!(verdict(rotate.id), None);
    assert_eq!(verdict(fresh.id), None);
    // The removed member holds no envelope for epoch 2.
    let Some(Body::Keys { envelopes, .. }) = &rotate.body else {
        panic!("keys")
    };
    assert!(envelopes.iter().all(|(d, _)| *d != c.device()));
}

#[test]
fn a_newcomer_reads_earlier_history_only_when_the_chair_shares_it() {
    let (chair, a, late) = (actor(1), actor(2), actor(3));
    let g = charter(&chair, "History");
    let n = g.id;
    let mut log = vec![g];
    let e = simple(&chair, n, &log[0], accredit(&a, Role::Delegation, "A"));
    log.push(e);
    let e = simple(&a, n, log.last().expect("e"), a.join_body());
    log.push(e);
    let k1 = EpochKey([1; 32]);
    log.push(keys_event(
        &chair,
        1,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        &[&chair, &a],
    ));
    for e in [accredit(&late, Role::Delegation, "Late"), late.join_body()] {
        let author = if matches!(e, Body::Join { .. }) {
            &late
        } else {
            &chair
        };
        let ev = simple(author, n, log.last().expect("e"), e);
        log.push(ev);
    }
    let by_member = keys_event(
        &a,
        2,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        &[&late],
    );
    log.push(by_member.clone());
    let by_chair = keys_event(
        &chair,
        1,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        &[&late],
    );
    log.push(by_chair.clone());
    // The newcomer starts its own epoch: it may, being a member of the channel.
    let k2 = EpochKey([2; 32]);
    let own = keys_event(
        &late,
        3,
        n,
        log.last().expect("e"),
        "plenary",
        2,
        &k2,
        &[&chair, &a, &late],
    );
    log.push(own.clone());
    // Renumbering a known key is refused; a concurrent new key is not.
    let wrong_key = keys_event(&a, 2, n, log.last().expect("e"), "plenary", 3, &k1, &[&a]);
    log.push(wrong_key.clone());

    let state = fold(&log).expect("folds");
    let verdict = |id| {
        state
            .entries
            .iter()
            .find(|e| e.id == id)
            .expect("entry")
            .excluded
    };
    assert_eq!(verdict(by_member.id), Some(Exclusion::HistoryNotAllowed));
    assert_eq!(verdict(by_chair.id), None);
    assert_eq!(verdict(own.id), None);
    assert_eq!(verdict(wrong_key.id), Some(Exclusion::EpochConflict));
    assert_eq!(state.current_epoch("plenary").map(|(n, _)| n), Some(2));
}

#[test]
fn an_epoch_can_be_sent_in_parts_to_the_devices_entitled_when_it_began() {
    // A large conference's key does not fit one event: it goes out as a defining event and
    // shares of the same epoch, which any reader may send to devices entitled at the start.
    let (chair, a, c) = (actor(1), actor(2), actor(3));
    let (n, mut log) = convened(&chair, "Large", &[&a, &c]);
    let k = EpochKey([3; 32]);
    let first = keys_event(
        &a,
        2,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k,
        &[&chair, &a],
    );
    log.push(first);
    let rest = keys_event(&a, 2, n, log.last().expect("e"), "plenary", 1, &k, &[&c]);
    log.push(rest.clone());
    let state = fold(&log).expect("folds");
    let entry = state
        .entries
        .iter()
        .find(|e| e.id == rest.id)
        .expect("entry");
    assert_eq!(entry.excluded, None);
    let (_, epoch) = state.current_epoch("plenary").expect("epoch");
    assert!(epoch.holders.contains(&c.device()));
}

#[test]
fn revoking_a_device_shuts_it_out_and_makes_its_epochs_stale() {
    let (chair, a, b) = (actor(1), actor(2), actor(3));
    let (n, mut log) = convened(&chair, "Revocation", &[&a, &b]);
    let k1 = EpochKey([1; 32]);
    log.push(keys_event(
        &a,
        2,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        &[&chair, &a, &b],
    ));
    // B may not revoke A's device; A's own delegation (here the device itself) and the chair may.
    let revoke = |who: &Actor, parent: &Event| {
        simple(
            who,
            n,
            parent,
            Body::Revoke {
                device: a.device(),
                reason: "stolen".into(),
            },
        )
    };
    let by_b = revoke(&b, log.last().expect("e"));
    log.push(by_b.clone());
    let by_chair = revoke(&chair, log.last().expect("e"));
    log.push(by_chair.clone());
    let stale = sealed_event(&b, n, log.last().expect("e"), "plenary", 1, &k1, "old key");
    log.push(stale.clone());
    let after = sealed_event(
        &a,
        n,
        log.last().expect("e"),
        "plenary",
        1,
        &k1,
        "from a stolen laptop",
    );
    log.push(after.clone());
    let k2 = EpochKey([2; 32]);
    let to_revoked = keys_event(
        &b,
        3,
        n,
        log.last().expect("e"),
        "plenary",
        2,
        &k2,
        &[&chair, &a, &b],
    );
    log.push(to_revoked.clone());

    let state = fold(&log).expect("folds");
    let verdict = |id| {
        state
            .entries
            .iter()
            .find(|e| e.id == id)
            .expect("entry")
            .excluded
    };
    assert_eq!(verdict(by_b.id), Some(Exclusion::NotAuthorized));
    assert_eq!(verdict(by_chair.id), None);
    assert_eq!(verdict(stale.id), Some(Exclusion::StaleEpoch));
    assert_eq!(verdict(after.id), Some(Exclusion::UnknownAuthor));
    assert_eq!(verdict(to_revoked.id), Some(Exclusion::KeyToOutsider));
    // Envelopes the revoked device sealed before stay openable: its sealing key is remembered.
    assert!(state.sealing_key_of(&a.device()).is_some());
}
