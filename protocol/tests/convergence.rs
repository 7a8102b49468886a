//! Property tests: the state is a function of the set of events, whatever order they arrive in.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use entente_protocol::dag::{ParentInfo, check_links};
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::{Body, Event, EventId, Role, fold};
use proptest::prelude::*;

const ACTORS: usize = 5;

/// One delegation's replica: the events it has seen.
#[derive(Default, Clone)]
struct Replica {
    events: BTreeMap<EventId, Event>,
}

impl Replica {
    fn heads(&self) -> Vec<&Event> {
        let named: BTreeSet<EventId> = self
            .events
            .values()
            .flat_map(|e| e.header.parents.clone())
            .collect();
        self.events
            .values()
            .filter(|e| !named.contains(&e.id))
            .collect()
    }
}

#[derive(Debug, Clone)]
struct Step {
    actor: usize,
    op: u8,
    target: usize,
    role: u8,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0..ACTORS, 0..8u8, 0..ACTORS, 0..4u8).prop_map(|(actor, op, target, role)| Step {
            actor,
            op,
            target,
            role,
        }),
        1..60,
    )
}

fn role(n: u8) -> Role {
    [
        Role::Chair,
        Role::Mediator,
        Role::Delegation,
        Role::Observer,
    ][n as usize % 4]
}

/// Runs a scenario of concurrent replicas that post (often against the rules) and sync pairwise.
fn simulate(steps: &[Step]) -> Vec<Event> {
    let actors: Vec<Actor> = (0..ACTORS as u8).map(|i| Actor::new(i + 1)).collect();
    let genesis = charter(&actors[0], "Property talks");
    let neg = genesis.id;
    let mut replicas = vec![Replica::default(); ACTORS];
    for r in &mut replicas {
        r.events.insert(genesis.id, genesis.clone());
    }
    for (i, s) in steps.iter().enumerate() {
        let a = &actors[s.actor];
        let target = &actors[s.target];
        let body = match s.op {
            0 => say(&format!("message {i}")),
            1 => accredit(target, role(s.role), &format!("D{}", s.target)),
            2 => a.join_body(),
            3 => Body::RoleChange {
                delegation: target.delegation(),
                role: role(s.role),
            },
            4 => Body::Remove {
                delegation: target.delegation(),
                reason: String::new(),
            },
            5 => Body::Leave {
                reason: String::new(),
            },
            6 => {
                let theirs = replicas[s.target].events.clone();
                replicas[s.actor].events.extend(theirs);
                continue;
            }
            _ => Body::Note {
                text: format!("note {i}"),
            },
        };
        let replica = &replicas[s.actor];
        let e = post(a, neg, &replica.heads(), body, T0 + i as u64);
        replicas[s.actor].events.insert(e.id, e);
    }
    let mut all = BTreeMap::new();
    for r in replicas {
        all.extend(r.events);
    }
    all.into_values().collect()
}

fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_delivery_order_gives_the_same_state_hash(steps in steps(), seed in 1u64..) {
        let events = simulate(&steps);
        let reference = fold(&events).expect("folds");
        let mut shuffled = events.clone();
        shuffle(&mut shuffled, seed);
        let other = fold(&shuffled).expect("folds");
        prop_assert_eq!(reference.state_hash(), other.state_hash());
        prop_assert_eq!(&reference.entries, &other.entries);
        prop_assert_eq!(&reference.heads, &other.heads);
    }

    #[test]
    fn a_node_receiving_events_in_causal_order_accepts_every_link(steps in steps(), seed in 1u64..) {
        let events = simulate(&steps);
        let neg = events.iter().find(|e| e.header.negotiation.is_none()).expect("charter").id;
        let mut pending = events.clone();
        shuffle(&mut pending, seed);
        // Deliver in the shuffled order, holding back any event whose parents have not arrived.
        let mut have: BTreeMap<EventId, ParentInfo> = BTreeMap::new();
        while !pending.is_empty() {
            let pos = pending
                .iter()
                .position(|e| e.header.parents.iter().all(|p| have.contains_key(p)))
                .expect("some event is deliverable");
            let e = pending.remove(pos);
            prop_assert_eq!(check_links(&e, neg, |p| have.get(p).cloned()), Ok(()));
            have.insert(e.id, ParentInfo { lamport: e.header.lamport, channel: e.header.channel.clone() });
        }
        prop_assert_eq!(have.len(), events.len());
    }

    #[test]
    fn a_record_round_trips_through_its_bundle(steps in steps()) {
        let events = simulate(&steps);
        let state = fold(&events).expect("folds");
        let bundle = encode_record(state.negotiation, &events);
        let verified = verify_record(&bundle, T0 + 1_000_000).expect("verifies");
        prop_assert_eq!(verified.state.state_hash(), state.state_hash());
        prop_assert_eq!(encode_record(state.negotiation, &verified.events), bundle);
    }

    #[test]
    fn folding_event_by_event_on_top_of_the_heads_equals_a_full_fold(steps in steps()) {
        let events = simulate(&steps);
        let mut sorted = events.clone();
        sorted.sort_by_key(|e| e.order_key());
        let mut state = fold(&sorted[..1]).expect("folds");
        for e in &sorted[1..] {
            state.append(e);
        }
        prop_assert_eq!(state.state_hash(), fold(&events).expect("folds").state_hash());
    }
}

#[test]
fn scenarios_exercise_both_verdicts() {
    // Guards the generator: a property over scenarios where nothing is ever excluded (or ever
    // included besides the charter) would prove little.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut included, mut excluded) = (0, 0);
    for _ in 0..64 {
        let steps = steps().new_tree(&mut runner).expect("tree").current();
        let (i, x) = fold(&simulate(&steps)).expect("folds").counts();
        included += i - 1;
        excluded += x;
    }
    let total = included + excluded;
    assert!(
        included * 10 > total && excluded * 10 > total,
        "included {included}, excluded {excluded}"
    );
}
