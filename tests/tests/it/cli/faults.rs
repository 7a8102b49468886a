//! Crashes of the real binary: a delegation's `entente up` is SIGKILLed while it receives a burst
//! from the others and its own delegate keeps writing, then restarted.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use entente_tests::daemon::wait_until;
use entente_tests::{Conference, Node, Outsider, str_field};

/// Messages each writer sends.
const BURST: usize = 150;
/// Pause between two lines fed to a writer, so that the burst lasts a few seconds.
const PACE: Duration = Duration::from_millis(15);
/// The victim's daemon is killed once it stored this many of the others' burst and its own
/// delegate had this many acknowledged.
const KILL_AFTER: usize = 25;
const LIMIT: Duration = Duration::from_secs(90);

/// An acknowledged event's id.
type Ack = String;

/// `entente say NEG --stdin --json` fed `BURST` lines; collects the acknowledged event ids.
struct Writer {
    name: String,
    acks: Arc<Mutex<Vec<Ack>>>,
    done: JoinHandle<ExitStatus>,
}

impl Writer {
    fn start(node: &Node, negotiation: &str, name: &str) -> Self {
        let mut cmd = node.command(["say", negotiation, "--stdin", "--json"]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start entente say --stdin");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let prefix = name.to_string();
        std::thread::spawn(move || {
            for i in 0..BURST {
                if writeln!(stdin, "{}", text(&prefix, i)).is_err() {
                    break;
                }
                std::thread::sleep(PACE);
            }
            // Dropping stdin ends the stream.
        });
        let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
        let sink = Arc::clone(&acks);
        let done = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.expect("read an acknowledgement");
                let v: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("acknowledgement {line:?} is not JSON: {e}"));
                sink.lock().expect("lock").push(str_field(&v, "event"));
            }
            child.wait().expect("reap entente say")
        });
        Self {
            name: name.to_string(),
            acks,
            done,
        }
    }

    fn acked(&self) -> usize {
        self.acks.lock().expect("lock").len()
    }

    /// Waits for the stream to end; returns every acknowledgement.
    fn finish(self) -> Vec<Ack> {
        let status = self.done.join().expect("the reader thread does not panic");
        assert!(status.success(), "{}'s writer failed: {status}", self.name);
        let acks = self.acks.lock().expect("lock").clone();
        assert_eq!(acks.len(), BURST, "{} acknowledged every line", self.name);
        acks
    }
}

fn text(writer: &str, i: usize) -> String {
    format!("{writer} burst {i}")
}

fn ids(node: &Node, negotiation: &str) -> BTreeSet<String> {
    node.log(negotiation)
        .iter()
        .map(|e| str_field(e, "id"))
        .collect()
}

/// SIGKILL of a node's daemon in the middle of a burst loses nothing that any CLI acknowledged:
/// after a restart the node catches up on what the others wrote while it was down, the others get
/// what its delegate wrote meanwhile, every node (the relay's mailbox too) holds every acknowledged
/// event and computes the same state hash, and the crashed node's store exports a record that
/// verifies.
#[test]
fn sigkilled_node_loses_no_acknowledged_event_and_resyncs() {
    let t0 = Instant::now();
    let mut conf = Conference::convene("Faults", &["Bolivia", "Canada", "Denmark"]);
    eprintln!("conference convened in {:?}", t0.elapsed());
    let neg = conf.negotiation.clone();

    // The chair, Canada and Bolivia's own delegate write at once; Bolivia's daemon receives the
    // others' bursts live.
    let chair_w = Writer::start(&conf.chair, &neg, "chair");
    let canada_w = Writer::start(&conf.delegations[1], &neg, "canada");
    let bolivia_w = Writer::start(&conf.delegations[0], &neg, "bolivia");
    let others_acked = |c: &Writer, d: &Writer| c.acked() + d.acked();

    let bolivia = &conf.delegations[0];
    wait_until(LIMIT, "Bolivia's daemon stores part of the burst", || {
        let log = bolivia.log(&neg);
        let received = log
            .iter()
            .filter(|e| {
                e["body"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("chair burst") || t.starts_with("canada burst"))
            })
            .count();
        received >= KILL_AFTER && bolivia_w.acked() >= KILL_AFTER
    });
    eprintln!("burst under way at {:?}", t0.elapsed());
    let received_before_kill = ids(bolivia, &neg);
    let sent_before_kill = others_acked(&chair_w, &canada_w);
    assert!(
        sent_before_kill < 2 * BURST,
        "the others' bursts must still be running when the daemon is killed"
    );

    let daemon = conf.daemons.remove(0);
    let first_logs = daemon.logs();
    let killed_at = Instant::now();
    let status = daemon.kill();
    assert_eq!(
        status.signal(),
        Some(9),
        "the daemon died of SIGKILL: {status}"
    );

    // The bursts go on while Bolivia's node is down (its delegate's CLI too: it needs no daemon).
    let chair_acks = chair_w.finish();
    let canada_acks = canada_w.finish();
    let bolivia_acks = bolivia_w.finish();
    eprintln!("bursts done at {:?}", t0.elapsed());
    // What Bolivia's daemon had stored from the network before the kill is still there.
    let held_while_down = ids(bolivia, &neg);
    assert!(
        received_before_kill.is_subset(&held_while_down),
        "events stored before the SIGKILL were lost"
    );
    // What the others wrote after the kill is not in Bolivia's store: the restart must fetch it.
    let missed: Vec<&String> = chair_acks
        .iter()
        .chain(&canada_acks)
        .filter(|id| !held_while_down.contains(*id))
        .collect();
    assert!(
        !missed.is_empty(),
        "Bolivia missed nothing while down: the kill came after the others' bursts"
    );
    eprintln!(
        "Bolivia missed {} of the others' {} events while down",
        missed.len(),
        2 * BURST
    );

    let restarted = conf.up(&conf.delegations[0]);
    conf.daemons.insert(0, restarted);

    let acked: BTreeSet<String> = chair_acks
        .iter()
        .chain(&canada_acks)
        .chain(&bolivia_acks)
        .cloned()
        .collect();
    let everyone: Vec<&Node> = std::iter::once(&conf.chair)
        .chain(conf.delegations.iter())
        .chain(std::iter::once(&conf.relay))
        .collect();
    let names = ["chair", "Bolivia", "Canada", "Denmark", "relay"];
    let took = wait_until(
        LIMIT,
        "every node (and the relay) holds every acknowledged event with one state hash",
        || {
            let mut hashes = BTreeSet::new();
            for n in &everyone {
                if !acked.is_subset(&ids(n, &neg)) {
                    return false;
                }
                hashes.insert(n.state_hash(&neg));
            }
            hashes.len() == 1
        },
    );
    eprintln!(
        "all {} acknowledged events everywhere {took:?} after the restart ({:?} after the kill)",
        acked.len(),
        killed_at.elapsed()
    );

    // Each node holds the same events, and reads the texts as they were acknowledged.
    let reference = ids(&conf.chair, &neg);
    for (n, name) in everyone.iter().zip(names) {
        assert_eq!(
            ids(n, &neg),
            reference,
            "{name} holds the same events as the chair"
        );
    }
    let bolivia = &conf.delegations[0];
    let log = bolivia.log(&neg);
    for (writer, acks) in [
        ("chair", &chair_acks),
        ("canada", &canada_acks),
        ("bolivia", &bolivia_acks),
    ] {
        for (i, id) in acks.iter().enumerate() {
            let entry = log
                .iter()
                .find(|e| e["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{writer}'s acknowledged event #{i} {id} is missing"));
            assert_eq!(entry["body"]["text"], text(writer, i).as_str(), "{id}");
            assert_eq!(entry["included"], true, "{id}");
        }
    }

    // The restarted node fetched what it missed by sync, and its store is intact: it exports a
    // record that verifies, with the state hash every node computes.
    let logs = conf.daemons[0].logs();
    assert!(
        logs.contains("synced events"),
        "the restarted node did not sync; its logs:\n{logs}\n--- before the kill ---\n{first_logs}"
    );
    bolivia.say(&neg, "Bolivia is back");
    let record = bolivia.export(&neg, "after-crash.ent");
    let (code, v) = Outsider::new().verify_json(&record);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["events"].as_u64(), Some(log.len() as u64 + 1), "{v}");
    assert_eq!(v["state_hash"], bolivia.state_hash(&neg).as_str());

    conf.stop();
}
