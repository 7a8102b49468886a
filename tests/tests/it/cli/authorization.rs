//! Who may do what, as the CLI enforces and explains it.

use entente_tests::{Node, carry, convene_pair};

/// A delegation that is not the chair cannot accredit, change roles or remove members: each
/// command exits 1 with "refused", and nothing is added to its store.
#[test]
fn only_the_chair_may_manage_members() {
    let (chair, bee, neg) = convene_pair("Chair's prerogatives");
    let outsider = Node::init("Outsider");
    let outsider_id = outsider.delegation();
    let chair_id = chair.delegation();
    let bee_id = bee.delegation();
    let log = bee.log(&neg);

    let attempts: [Vec<&str>; 4] = [
        vec![
            "invite",
            &neg,
            "--delegation",
            &outsider_id,
            "--role",
            "delegation",
        ],
        vec!["role", &neg, "--delegation", &bee_id, "--role", "chair"],
        vec![
            "role",
            &neg,
            "--delegation",
            &chair_id,
            "--role",
            "observer",
        ],
        vec!["remove", &neg, "--delegation", &chair_id],
    ];
    for args in attempts {
        let err = bee.run_err(&args);
        assert!(err.contains("refused"), "{args:?}: {err}");
        assert!(err.contains("only a chair"), "{args:?}: {err}");
    }
    assert_eq!(bee.log(&neg), log, "a refused command stored an event");

    // The same invitation from the chair goes through.
    chair.invite(&neg, &outsider_id, "observer", "Outsider");
}

/// A delegation that was not accredited can read a record it was given, but cannot join or
/// speak in it.
#[test]
fn unaccredited_delegation_cannot_join_or_speak() {
    let (chair, _bee, neg) = convene_pair("Closed session");
    let gatecrasher = Node::init("Gatecrasher");
    carry(&chair, &gatecrasher, &neg, "leaked.bundle");
    let log = gatecrasher.log(&neg);

    let err = gatecrasher.run_err(["join", &neg]);
    assert!(err.contains("not accredited"), "{err}");
    let err = gatecrasher.run_err(["say", &neg, "let me in"]);
    assert!(err.contains("refused"), "{err}");
    let err = gatecrasher.run_err(["note", &neg, "a note"]);
    assert!(err.contains("refused"), "{err}");
    assert_eq!(gatecrasher.log(&neg), log);
}

/// Every command that needs an identity fails on an uninitialised home with a message that
/// points at `entente init`, and leaves no trace there.
#[test]
fn commands_on_an_uninitialised_home_point_to_init() {
    let node = Node::new();
    let some_id = "ab".repeat(32);
    let commands: Vec<Vec<&str>> = vec![
        vec!["id"],
        vec!["id", "--json"],
        vec!["negotiation", "create", "--title", "T"],
        vec!["negotiation", "list"],
        vec!["invite", "ab", "--delegation", &some_id],
        vec!["join", "ab"],
        vec!["members", "ab"],
        vec!["role", "ab", "--delegation", &some_id, "--role", "observer"],
        vec!["remove", "ab", "--delegation", &some_id],
        vec!["leave", "ab"],
        vec!["say", "ab", "hello"],
        vec!["note", "ab", "hello"],
        vec!["log", "ab"],
        vec!["export", "ab", "--out", "x.bundle"],
        vec!["import", "x.bundle"],
    ];
    for args in commands {
        let err = node.run_err(&args);
        assert!(err.contains("entente init"), "{args:?}: {err}");
        assert!(
            !node.home().exists(),
            "{args:?} created the home directory of an uninitialised node"
        );
    }
}

/// A negotiation is named by its id or a unique prefix; anything else is a clear error.
#[test]
fn negotiation_ids_resolve_by_unique_prefix() {
    let node = Node::init("Prefixes");
    let neg = node.create_negotiation("Prefixed");
    assert_eq!(node.log(&neg[..6]), node.log(&neg));
    assert_eq!(node.log(&neg.to_uppercase()), node.log(&neg));
    let other = if neg.starts_with('0') { "1" } else { "0" };
    let err = node.run_err(["log", other]);
    assert!(err.contains("no negotiation"), "{err}");
    let err = node.run_err(["log", "not-hex"]);
    assert!(err.contains("not a negotiation id"), "{err}");

    // Among 17 negotiations two share a first hex digit: that prefix is refused, not guessed.
    let mut seen = vec![neg];
    let shared = loop {
        let next = node.create_negotiation(&format!("Negotiation {}", seen.len()));
        let first = &next[..1];
        if seen.iter().any(|n| n.starts_with(first)) {
            break first.to_string();
        }
        assert!(
            seen.len() <= 16,
            "17 hex ids cannot all differ in their first digit"
        );
        seen.push(next);
    };
    let err = node.run_err(["log", &shared]);
    assert!(err.contains("give more characters"), "{err}");
}

/// The state of each entry of a log, by event id.
fn verdicts(log: &[serde_json::Value]) -> Vec<(String, bool)> {
    log.iter()
        .map(|e| {
            (
                entente_tests::str_field(e, "id"),
                e["included"].as_bool().expect("included is a boolean"),
            )
        })
        .collect()
}

/// A removal and a message written concurrently by the removed delegation are judged the same
/// way on both nodes; after it, the removed delegation is refused until accredited again.
#[test]
fn removal_is_judged_alike_everywhere_and_enforced() {
    let (chair, bee, neg) = convene_pair("Removal");
    let bee_id = bee.delegation();
    // The last chair may neither leave nor step down.
    let err = chair.run_err(["leave", &neg]);
    assert!(err.contains("without a chair"), "{err}");
    let err = chair.run_err([
        "role",
        &neg,
        "--delegation",
        &chair.delegation(),
        "--role",
        "delegation",
    ]);
    assert!(err.contains("without a chair"), "{err}");

    let removal = entente_tests::str_field(
        &chair.json(["remove", &neg, "--delegation", &bee_id, "--reason", "test"]),
        "event",
    );
    let concurrent = bee.say(&neg, "said before hearing of the removal");
    carry(&chair, &bee, &neg, "removal.bundle");
    carry(&bee, &chair, &neg, "concurrent.bundle");

    let chair_log = chair.log(&neg);
    assert_eq!(verdicts(&chair_log), verdicts(&bee.log(&neg)));
    assert_eq!(chair.state_hash(&neg), bee.state_hash(&neg));
    let removal_included = verdicts(&chair_log)
        .into_iter()
        .find(|(id, _)| *id == removal)
        .map(|(_, included)| included);
    assert_eq!(removal_included, Some(true));
    assert!(
        verdicts(&chair_log).iter().any(|(id, _)| *id == concurrent),
        "the concurrent message is kept in the record, included or not"
    );
    let row = bee
        .members(&neg)
        .into_iter()
        .find(|m| m["delegation"] == bee_id.as_str())
        .expect("a removed delegation is still listed");
    assert_eq!(row["status"], "removed");

    let err = bee.run_err(["say", &neg, "after the removal"]);
    assert!(err.contains("refused") && err.contains("removed"), "{err}");

    // Accredited again, the delegation joins and speaks again.
    chair.invite(&neg, &bee_id, "observer", "Bee");
    carry(&chair, &bee, &neg, "readmitted.bundle");
    bee.join(&neg);
    bee.say(&neg, "back as an observer");
    carry(&bee, &chair, &neg, "back.bundle");
    assert_eq!(chair.state_hash(&neg), bee.state_hash(&neg));
    let row = chair
        .members(&neg)
        .into_iter()
        .find(|m| m["delegation"] == bee_id.as_str())
        .expect("the readmitted delegation is listed");
    assert_eq!(row["status"], "active");
    assert_eq!(row["role"], "observer");
}

/// A delegation that leaves is listed as having left, and can no longer speak.
#[test]
fn a_delegation_that_left_cannot_speak() {
    let (chair, bee, neg) = convene_pair("Leaving");
    bee.run_ok(["leave", &neg, "--reason", "instructions from capital"]);
    let err = bee.run_err(["say", &neg, "one more thing"]);
    assert!(err.contains("refused"), "{err}");
    carry(&bee, &chair, &neg, "left.bundle");
    let row = chair
        .members(&neg)
        .into_iter()
        .find(|m| m["delegation"] == bee.delegation().as_str())
        .expect("a delegation that left is still listed");
    assert_eq!(row["status"], "left");
    let last = chair.log(&neg).pop().expect("the log is not empty");
    assert_eq!(last["kind"], "leave");
    assert_eq!(last["body"]["reason"], "instructions from capital");
}
