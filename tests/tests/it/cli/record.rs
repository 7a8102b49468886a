//! Record files: offline verification catches any tampering, and imports are all-or-nothing.

use std::path::PathBuf;

use entente_tests::{Node, Outsider, carry, convene_pair, flipped, spread_positions};

/// A negotiation with a few events of every membership kind, exported by its chair.
fn sample_record() -> (Node, Node, String, PathBuf) {
    let (chair, bee, neg) = convene_pair("Sample record");
    bee.say(&neg, "A message from the delegation.");
    carry(&bee, &chair, &neg, "bee.bundle");
    chair.say(&neg, "A message from the chair.");
    chair.run_ok(["note", &neg, "A note for the record."]);
    let file = chair.export(&neg, "sample.bundle");
    (chair, bee, neg, file)
}

fn stderr_names_the_culprit(stderr: &str) -> bool {
    stderr.contains("event #") || stderr.contains("bundle header")
}

/// Flipping any one byte of a record (first, last and 23 between, with varying bit patterns)
/// makes `entente verify` fail with exit code 1 and say where; the untouched file verifies.
#[test]
fn verify_rejects_a_record_with_any_flipped_byte() {
    let (_chair, _bee, _neg, file) = sample_record();
    let outsider = Outsider::new();
    let original = outsider.verify(&file);
    assert_eq!(original.status.code(), Some(0), "{original:?}");

    let bytes = std::fs::read(&file).expect("read the record");
    let positions = spread_positions(bytes.len(), 25);
    assert_eq!(positions.len(), 25);
    assert_eq!(positions.first(), Some(&0));
    assert_eq!(positions.last(), Some(&(bytes.len() - 1)));
    let tampered = outsider.file("tampered.bundle");
    for (k, &pos) in positions.iter().enumerate() {
        let mask = [0x01, 0x80, 0xff, 0x10][k % 4];
        std::fs::write(&tampered, flipped(&bytes, pos, mask)).expect("write the tampered record");
        let out = outsider.verify(&tampered);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "byte {pos} ^ {mask:#04x} of {} went unnoticed: {out:?}",
            bytes.len()
        );
        assert!(
            stderr_names_the_culprit(&stderr),
            "byte {pos} ^ {mask:#04x}: the message does not say where: {stderr:?}"
        );
        if k % 6 == 0 {
            let (code, v) = outsider.verify_json(&tampered);
            assert_eq!(code, Some(1), "{v}");
            assert_eq!(v["ok"], false, "{v}");
            assert!(
                v["error"].as_str().is_some_and(|e| !e.is_empty()),
                "byte {pos}: --json gives no error: {v}"
            );
        }
    }
}

/// A record cut short, or with bytes appended, does not verify either.
#[test]
fn verify_rejects_truncated_or_extended_records() {
    let (_chair, _bee, _neg, file) = sample_record();
    let bytes = std::fs::read(&file).expect("read the record");
    let outsider = Outsider::new();
    let cut = outsider.file("cut.bundle");
    let mut variants: Vec<(String, Vec<u8>)> = [0, 1, bytes.len() / 2, bytes.len() - 1]
        .into_iter()
        .map(|n| (format!("first {n} bytes"), bytes[..n].to_vec()))
        .collect();
    let mut longer = bytes.clone();
    longer.push(0);
    variants.push(("one byte appended".into(), longer));
    let mut twice = bytes.clone();
    twice.extend_from_slice(&bytes);
    variants.push(("the record twice".into(), twice));
    for (what, contents) in variants {
        std::fs::write(&cut, contents).expect("write the damaged record");
        let stderr = outsider.run_err(["verify", cut.to_str().expect("UTF-8 temp path")]);
        assert!(stderr_names_the_culprit(&stderr), "{what}: {stderr}");
    }
    let stderr = outsider.run_err(["verify", "no-such-file.bundle"]);
    assert!(stderr.contains("no-such-file.bundle"), "{stderr}");
}

/// `entente verify` is for outsiders: it needs no home and no identity, and creates neither.
#[test]
fn verify_needs_no_home_and_leaves_none() {
    let (chair, _bee, neg, file) = sample_record();
    let outsider = Outsider::new();
    let (code, v) = outsider.verify_json(&file);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["negotiation"], neg.as_str());
    assert_eq!(
        v["events"], 7,
        "charter, accredit, join, a key epoch, three messages"
    );
    assert_eq!(v["state_hash"], chair.state_hash(&neg).as_str());
    let text = outsider.run_ok([std::ffi::OsStr::new("verify"), file.as_os_str()]);
    assert!(text.contains(&chair.state_hash(&neg)), "{text}");
    assert_eq!(outsider.leftovers(), Vec::<String>::new());
}

/// An import that fails verification changes nothing, even when the events before the bad one
/// are valid and new; the intact file then imports everything.
#[test]
fn failed_import_changes_nothing() {
    let (chair, bee, neg, sample) = sample_record();
    bee.import(&sample);
    // Two events Bee lacks; the damage is in the last one only.
    chair.say(&neg, "First new message, intact.");
    chair.say(&neg, "Second new message, damaged.");
    let good = chair.export(&neg, "good.bundle");
    let bytes = std::fs::read(&good).expect("read the record");
    let bad = bee.file("bad.bundle");

    let stranger = Node::init("Stranger");
    let bee_log = bee.log(&neg);
    let bee_list = bee.negotiations();
    for pos in [bytes.len() - 1, bytes.len() - 40, 0] {
        std::fs::write(&bad, flipped(&bytes, pos, 0x01)).expect("write the tampered record");
        let stderr = bee.run_err([std::ffi::OsStr::new("import"), bad.as_os_str()]);
        assert!(stderr.contains("nothing was imported"), "{stderr}");
        assert_eq!(bee.log(&neg), bee_log, "byte {pos}: the log changed");
        assert_eq!(
            bee.negotiations(),
            bee_list,
            "byte {pos}: the state changed"
        );

        stranger.run_err([std::ffi::OsStr::new("import"), bad.as_os_str()]);
        assert_eq!(
            stranger.negotiations(),
            Vec::<serde_json::Value>::new(),
            "byte {pos}: a stranger's store gained a negotiation"
        );
    }

    let report = bee.import(&good);
    assert_eq!(report["new"], 2, "{report}");
    assert_eq!(bee.state_hash(&neg), chair.state_hash(&neg));
}

/// Importing a record again adds nothing and changes nothing (inserts are idempotent).
#[test]
fn importing_twice_is_idempotent() {
    let (_chair, bee, neg, file) = sample_record();
    let first = bee.import(&file);
    let log = bee.log(&neg);
    let hash = bee.state_hash(&neg);
    let again = bee.import(&file);
    assert_eq!(again["new"], 0, "{again}");
    assert_eq!(again["events"], first["events"]);
    assert_eq!(again["state_hash"], first["state_hash"]);
    assert_eq!(bee.log(&neg), log);
    assert_eq!(bee.state_hash(&neg), hash);
}
