//! Two delegations negotiate through exported records, with no network.

use entente_tests::{Node, Outsider, carry, convene_pair, str_field};
use serde_json::Value;

/// The parts of a log entry that every node holding the same events must agree on.
fn agreed_view(entries: &[Value]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "index": e["index"],
                "id": e["id"],
                "lamport": e["lamport"],
                "author": e["author"],
                "delegation": e["delegation"],
                "kind": e["kind"],
                "included": e["included"],
                "body": e["body"],
            })
        })
        .collect()
}

fn ids(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| str_field(e, "id")).collect()
}

fn message_texts(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| str_field(&e["body"], "text"))
        .collect()
}

/// The acceptance flow of the offline CLI: accredit, join, and talk both ways through record
/// files; both sides end with the same log, the same state hash, and records that verify.
#[test]
fn chair_and_delegation_converge_through_exported_records() {
    let chair = Node::init("Chair");
    let bee = Node::init("Bee");
    let bee_id = bee.id();
    let bee_delegation = str_field(&bee_id, "delegation");

    let neg = chair.create_negotiation("Joint statement on the Rhine");
    let accredit = chair.invite(&neg, &bee_delegation, "delegation", "Bee");

    // Before it has the record, Bee cannot join: it does not know the negotiation.
    let err = bee.run_err(["join", &neg]);
    assert!(err.contains("no negotiation"), "{err}");

    let report = carry(&chair, &bee, &neg, "1-accredited.bundle");
    assert_eq!(report["negotiation"], neg.as_str());
    assert_eq!(report["events"], 2);
    assert_eq!(report["new"], 2);

    // A unique prefix of the id is enough.
    let join = bee.join(&neg[..10]);

    let said_by_bee = "Bee proposes to strike OP3.";
    let m1 = bee.say(&neg, said_by_bee);
    let report = carry(&bee, &chair, &neg, "2-bee.bundle");
    assert_eq!(
        report["new"], 3,
        "the join, the plenary's first key epoch and the sealed message are new to the chair"
    );

    let said_by_chair = "The chair notes the proposal; OP3 is bracketed.";
    let m2 = chair.say(&neg, said_by_chair);
    let report = carry(&chair, &bee, &neg, "3-chair.bundle");
    assert_eq!(report["new"], 1, "only the chair's reply is new to Bee");

    let chair_log = chair.log(&neg);
    let bee_log = bee.log(&neg);
    let without_keys = |log: &[serde_json::Value]| -> Vec<String> {
        log.iter()
            .filter(|e| e["kind"] != "keys")
            .map(|e| e["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        without_keys(&chair_log),
        vec![neg.clone(), accredit, join, m1, m2],
        "the chair's log lists every event, in causal order (besides key epochs)"
    );
    assert_eq!(
        ids(&chair_log),
        ids(&bee_log),
        "same events in the same order"
    );
    assert_eq!(message_texts(&chair_log), vec![said_by_bee, said_by_chair]);
    assert_eq!(message_texts(&bee_log), vec![said_by_bee, said_by_chair]);
    assert_eq!(agreed_view(&chair_log), agreed_view(&bee_log));
    assert!(
        chair_log.iter().all(|e| e["included"] == true),
        "every event was authorized: {chair_log:?}"
    );

    // Both sides compute the same state, and each side's record proves it to an outsider.
    let chair_hash = chair.state_hash(&neg);
    assert_eq!(chair_hash, bee.state_hash(&neg));
    let chair_final = chair.export(&neg, "final-chair.bundle");
    let bee_final = bee.export(&neg, "final-bee.bundle");
    let outsider = Outsider::new();
    for file in [&chair_final, &bee_final] {
        let (code, v) = outsider.verify_json(file);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["negotiation"], neg.as_str());
        assert_eq!(v["events"], 6, "five events and the plenary's key epoch");
        assert_eq!(v["state_hash"], chair_hash.as_str());
    }
    assert_eq!(
        std::fs::read(&chair_final).expect("read the chair's record"),
        std::fs::read(&bee_final).expect("read Bee's record"),
        "a record is canonical: the same events give the same bytes on every node"
    );

    // Bee is an active member with its device; the chair chairs.
    let members = bee.members(&neg);
    assert_eq!(members, chair.members(&neg));
    let bee_row = members
        .iter()
        .find(|m| m["delegation"] == bee_delegation.as_str())
        .unwrap_or_else(|| panic!("Bee is not a member: {members:?}"));
    assert_eq!(bee_row["status"], "active");
    assert_eq!(bee_row["role"], "delegation");
    assert_eq!(bee_row["name"], "Bee");
    assert_eq!(bee_row["devices"][0]["device"], bee_id["device"]);
    let chair_row = members
        .iter()
        .find(|m| m["delegation"] == chair.delegation().as_str())
        .unwrap_or_else(|| panic!("the chair is not a member: {members:?}"));
    assert_eq!(chair_row["role"], "chair");
    assert_eq!(chair_row["status"], "active");

    let bee_view = &bee.negotiations()[0];
    assert_eq!(bee_view["my_role"], "delegation");
    assert_eq!(bee_view["my_status"], "active");
    assert_eq!(bee_view["members"], 2);
}

/// Messages written on both sides before either sees the other's converge: the same order and
/// state everywhere once the records are exchanged, and the next message merges both branches.
#[test]
fn concurrent_messages_converge_to_one_order() {
    let (chair, bee, neg) = convene_pair("Concurrent drafting");
    let from_chair = chair.say(&neg, "chair, offline");
    let from_bee = bee.say(&neg, "bee, offline");

    carry(&chair, &bee, &neg, "chair.bundle");
    carry(&bee, &chair, &neg, "bee.bundle");

    let chair_log = chair.log(&neg);
    let bee_log = bee.log(&neg);
    assert_eq!(agreed_view(&chair_log), agreed_view(&bee_log));
    assert_eq!(chair.state_hash(&neg), bee.state_hash(&neg));
    let both = ids(&chair_log);
    assert!(
        both.contains(&from_chair) && both.contains(&from_bee),
        "{both:?}"
    );
    let lamport_of = |id: &str| {
        chair_log
            .iter()
            .find(|e| e["id"] == id)
            .and_then(|e| e["lamport"].as_u64())
            .expect("a logged event has a lamport")
    };
    assert_eq!(
        lamport_of(&from_chair),
        lamport_of(&from_bee),
        "both were written on the same heads"
    );

    // A reply after the exchange sits on top of both branches.
    let merge = bee.say(&neg, "bee, having read the chair");
    assert_eq!(lamport_of(&from_bee) + 1, {
        let log = bee.log(&neg);
        log.iter()
            .find(|e| e["id"] == merge.as_str())
            .and_then(|e| e["lamport"].as_u64())
            .expect("the merge is logged")
    });
    let seen = bee.json(["log", &neg, "--seen-by", &merge]);
    let seen_ids: Vec<String> = seen
        .as_array()
        .expect("log --json is an array")
        .iter()
        .map(|e| str_field(e, "id"))
        .collect();
    assert!(
        seen_ids.contains(&from_chair) && seen_ids.contains(&from_bee),
        "the reply's author had seen both branches: {seen_ids:?}"
    );
}
