//! An event the CLI acknowledged survives the process being killed (SIGKILL) mid-stream.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use entente_tests::{Outsider, convene_pair, str_field};

/// How many acknowledgements to collect before killing the writer.
const ACKS_BEFORE_KILL: usize = 50;
/// The feeding thread gives up after this many lines (the kill should come long before).
const MAX_LINES: usize = 100_000;

fn line(i: usize) -> String {
    format!("durable message {i}")
}

/// `entente say --stdin` prints an event id only once the event is committed: after a SIGKILL
/// in the middle of a stream, every acknowledged id is in the log, with its text, in order, and
/// the store still exports a record that verifies.
#[test]
fn acknowledged_events_survive_sigkill() {
    let (_chair, bee, neg) = convene_pair("Durability");
    let before = bee.log(&neg).len();

    let mut cmd = bee.command(["say", &neg, "--stdin", "--json"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start entente say --stdin");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");

    // Keeps writing until the pipe breaks (the child died) or MAX_LINES.
    let feeder = std::thread::spawn(move || {
        let mut written = 0;
        while written < MAX_LINES {
            if writeln!(stdin, "{}", line(written)).is_err() {
                break;
            }
            written += 1;
        }
        written
    });

    let mut acked: Vec<String> = Vec::new();
    let mut killed = false;
    for ack in BufReader::new(stdout).lines() {
        let ack = ack.expect("read an acknowledgement");
        let v: serde_json::Value = serde_json::from_str(&ack)
            .unwrap_or_else(|e| panic!("acknowledgement {ack:?} is not JSON: {e}"));
        acked.push(str_field(&v, "event"));
        if acked.len() == ACKS_BEFORE_KILL && !killed {
            child.kill().expect("SIGKILL entente say");
            killed = true;
        }
        // Lines read after the kill were printed before it: they are acknowledgements too.
    }
    let status = child.wait().expect("reap entente say");
    let written = feeder.join().expect("the feeding thread does not panic");
    assert!(
        killed,
        "the stream ended after {} acknowledgements without being killed: {status}",
        acked.len()
    );
    assert_eq!(
        status.signal(),
        Some(9),
        "entente say should have died of SIGKILL, mid-stream, not exited: {status}"
    );
    assert!(
        written > acked.len(),
        "the writer should still have had lines in flight ({written} written, {} acked)",
        acked.len()
    );

    // Every acknowledged event is stored, in the order written, with the text that was sent.
    let log = bee.log(&neg);
    // Only messages: the first one may also have started a key epoch (a `keys` event), which
    // is committed in its own transaction before the message and is not acknowledged.
    let messages: Vec<&serde_json::Value> = log[before..]
        .iter()
        .filter(|e| e["kind"] == "message")
        .collect();
    let others: Vec<&serde_json::Value> = log[before..]
        .iter()
        .filter(|e| e["kind"] != "message" && e["kind"] != "keys")
        .collect();
    assert!(others.is_empty(), "unexpected events: {others:?}");
    assert!(
        messages.len() >= acked.len(),
        "{} acknowledged, only {} stored",
        acked.len(),
        messages.len()
    );
    for (i, id) in acked.iter().enumerate() {
        let entry = messages
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("acknowledged event #{i} {id} is missing after SIGKILL"));
        assert_eq!(entry["kind"], "message");
        assert_eq!(entry["body"]["text"], line(i).as_str(), "event {id}");
        assert_eq!(entry["included"], true);
    }
    // At most one more event than acknowledged: the one committed as the kill landed.
    assert!(
        messages.len() <= acked.len() + 1,
        "{} stored but only {} acknowledged",
        messages.len(),
        acked.len()
    );

    // The store is intact: it still takes events and exports a record that verifies.
    bee.say(&neg, "after the crash");
    let record = bee.export(&neg, "after-crash.bundle");
    let (code, v) = Outsider::new().verify_json(&record);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["events"].as_u64(), Some(log.len() as u64 + 1));
    assert_eq!(v["state_hash"], bee.state_hash(&neg).as_str());
}

/// `say --stdin` without --json prints bare ids, one per line, one per non-empty input line.
#[test]
fn say_stdin_prints_one_id_per_message() {
    let (_chair, bee, neg) = convene_pair("Batch");
    let mut cmd = bee.command(["say", &neg, "--stdin"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("start entente say --stdin");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b"one\n\ntwo\nthree\n")
        .expect("feed three messages and a blank line");
    let out = child
        .wait_with_output()
        .expect("entente say --stdin finishes");
    assert!(out.status.success(), "{out:?}");
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    let log = bee.log(&neg);
    let tail: Vec<(String, String)> = log[log.len() - 3..]
        .iter()
        .map(|e| (str_field(e, "id"), str_field(&e["body"], "text")))
        .collect();
    let expected: Vec<(String, String)> = ids
        .into_iter()
        .zip(["one", "two", "three"].map(String::from))
        .collect();
    assert_eq!(tail, expected);
}
