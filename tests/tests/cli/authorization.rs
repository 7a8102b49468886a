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
        assert!(err.contains("only the chair"), "{args:?}: {err}");
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
