//! Protocol, storage and crypto figures: one thread, no network.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use anyhow::{Context, Result};
use entente_node::store::{self, Store};
use entente_node::workspace::now_ms;
use entente_protocol::dag::{ParentInfo, check_links};
use entente_protocol::envelope::{self, EnvelopeContext, EpochKey, sealing_public};
use entente_protocol::event::EventHeader;
use entente_protocol::ids::{DeviceId, EventId};
use entente_protocol::{Body, Event, SigningKey, fold, sealed};

use crate::Opts;
use crate::corpus::Corpus;
use crate::report::{Figure, Goal, Section};

/// Runs `f` once per item and returns items per second.
fn rate<T, R>(items: &[T], mut f: impl FnMut(&T) -> R) -> f64 {
    let start = Instant::now();
    for i in items {
        black_box(f(i));
    }
    items.len() as f64 / start.elapsed().as_secs_f64()
}

/// Best of `runs` timings of `f`, in seconds (the least disturbed by the rest of the machine).
fn best_of<R>(runs: usize, mut f: impl FnMut() -> R) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn sample(corpus: &Corpus, n: usize) -> &[Event] {
    let from = corpus.events.len().saturating_sub(n);
    &corpus.events[from..]
}

pub fn protocol(opts: &Opts, corpus: &Corpus) -> Result<Vec<Section>> {
    let events = sample(corpus, opts.size(20_000, 1_000));
    let wires: Vec<Vec<u8>> = events.iter().map(Event::to_wire).collect();
    let keys: HashMap<DeviceId, &SigningKey> = corpus
        .members
        .iter()
        .map(|m| (m.identity.public.device, &m.identity.device_key))
        .collect();
    let mean = wires.iter().map(Vec::len).sum::<usize>() / wires.len().max(1);

    let encode = rate(events, |e| e.header.encode());
    let sign = rate(events, |e| {
        let key = keys[&e.header.author];
        Event::sign(e.header.clone(), key).map(|s| s.id)
    });
    let decode = rate(&wires, |w| Event::from_verified_wire(w).map(|e| e.id));
    let verify = rate(&wires, |w| Event::from_wire(w).map(|e| e.id));
    // What a sync batch gets: up to 1024 events verified at once on every core.
    let batches: Vec<&[Vec<u8>]> = wires
        .chunks(entente_protocol::sync::MAX_BATCH_EVENTS)
        .collect();
    let verify_batch = rate(&batches, |b| entente_node::verify::verify_all(b).len())
        * (wires.len() as f64 / batches.len().max(1) as f64);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Parsing without verifying is what a node does with its own store.
    let all = &corpus.events;
    let fold_secs = best_of(3, || fold(all).map(|s| s.entries.len()));

    let setup = format!(
        "One thread. {} sealed plenary messages of {} bytes of text (wire form {mean} bytes on \
         average) by {} delegations; the fold is of the whole {}-event negotiation, in memory, \
         best of 3.",
        events.len(),
        crate::corpus::TEXT_BYTES,
        crate::corpus::DELEGATIONS,
        all.len()
    );
    Ok(vec![Section {
        title: "Protocol".into(),
        setup,
        figures: vec![
            Figure::new("encode a header", encode, "events/s"),
            Figure::new("sign (encode + Ed25519)", sign, "events/s"),
            Figure::new("decode (no signature check)", decode, "events/s"),
            Figure::new("verify (decode + strict Ed25519)", verify, "events/s").target(
                Goal::AtLeast(15_000.0),
                "Strict Ed25519 verification is nearly all of it (decoding alone runs at \
                 hundreds of thousands per second), and curve25519-dalek already uses AVX2 \
                 here. Its AVX-512 IFMA backend (nightly compiler only) or a faster core would \
                 meet it; sync batches already use every core (next line). Check the load on \
                 the machine during the run: the figure is per core of wall time.",
            ),
            Figure::new(
                format!("verify in batches of 1024 on {cores} cores"),
                verify_batch,
                "events/s",
            )
            .note(
                "signatures of a sync batch are checked in parallel (rayon); Ed25519 batch \
                 verification is not used because it accepts some signatures that strict \
                 verification rejects, and every node must decide alike",
            ),
            Figure::new(
                format!("fold {} events", all.len()),
                fold_secs * 1000.0,
                "ms",
            )
            .note(format!("{:.0} events/s", all.len() as f64 / fold_secs)),
        ],
    }])
}

pub fn storage(opts: &Opts, corpus: &Corpus) -> Result<Vec<Section>> {
    let neg = corpus.negotiation;
    let wires: Vec<Vec<u8>> = corpus.events.iter().map(Event::to_wire).collect();
    let dir = tempfile::tempdir()?;

    // Ingest as a node does a sync batch: verify (on every core), check the links in order,
    // store 1024 per transaction.
    let mut fresh = Store::open(&dir.path().join("ingest.db"))?;
    let start = Instant::now();
    let mut writing = std::time::Duration::ZERO;
    for chunk in wires.chunks(entente_protocol::sync::MAX_BATCH_EVENTS) {
        let mut batch: HashMap<EventId, ParentInfo> = HashMap::new();
        let mut checked = Vec::with_capacity(chunk.len());
        for e in entente_node::verify::verify_all(chunk) {
            let e = e.context("a corpus event does not verify")?;
            let conn = fresh.conn();
            check_links(&e, neg, |p| {
                batch
                    .get(p)
                    .cloned()
                    .or_else(|| store::parent_info(conn, &neg, p).ok().flatten())
            })
            .context("a corpus event's links do not check")?;
            batch.insert(
                e.id,
                ParentInfo {
                    lamport: e.header.lamport,
                    channel: e.header.channel.clone(),
                },
            );
            checked.push(e);
        }
        let written = Instant::now();
        let tx = fresh.write()?;
        for e in &checked {
            store::insert(&tx, e, now_ms())?;
        }
        tx.commit()?;
        writing += written.elapsed();
    }
    let ingest = wires.len() as f64 / start.elapsed().as_secs_f64();
    let write_rate = wires.len() as f64 / writing.as_secs_f64();

    // Loading and folding what was stored, as a node or command does when it starts.
    let load = best_of(opts.size(3, 1), || -> Result<usize> {
        let events = store::events(fresh.conn(), &neg)?;
        Ok(fold(&events)?.entries.len())
    });
    let db_bytes = std::fs::metadata(dir.path().join("ingest.db"))
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.path().join("ingest.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);

    let n = wires.len();
    Ok(vec![Section {
        title: "Storage".into(),
        setup: format!(
            "SQLite (WAL, synchronous=FULL) on this machine's disk. Ingest: {n} events as sync \
             delivers them, 1024 per transaction, their signatures verified on every core, then \
             each one's links checked against the store in order. Load and fold: every event read back in fold order (signatures are not \
             checked again: they were on the way in) and folded, best of {}.",
            opts.size(3, 1)
        ),
        figures: vec![
            Figure::new("ingest (verify + check + store)", ingest, "events/s").target(
                Goal::AtLeast(10_000.0),
                "Each event is verified one by one and each transaction waits for a disk flush; \
                 batch verification and fewer index writes would speed it up.",
            ),
            Figure::new("of which storing (insert + commit)", write_rate, "events/s"),
            Figure::new(format!("load and fold {n} events"), load * 1000.0, "ms").target(
                Goal::AtMost(2000.0),
                "Decoding every event and folding dominate; a snapshot of the folded state \
                 saved with the store would make start-up independent of history length.",
            ),
            Figure::new("store size", db_bytes as f64 / n as f64, "bytes/event"),
        ],
    }])
}

pub fn crypto(opts: &Opts) -> Result<Vec<Section>> {
    let device = SigningKey::from_bytes(&[9; 32]);
    let author = DeviceId(device.verifying_key().to_bytes());
    let key = EpochKey([4; 32]);
    let runs = opts.size(2000, 100);
    let header = |text: &str, t: u64| {
        let body = Body::Message { text: text.into() };
        let mut h = EventHeader::new(
            Some(EventId([1; 32])),
            author,
            vec![EventId([2; 32])],
            7,
            1_760_000_000_000 + t,
            &body,
        );
        h.epoch = 1;
        (h, body)
    };
    let mut figures = Vec::new();
    for size in [100usize, 1000, 10_000] {
        let text = "x".repeat(size);
        let nth: Vec<u64> = (0..runs as u64).collect();
        let seal_sign = rate(&nth, |i| {
            let (mut h, body) = header(&text, *i);
            let mut nonce = [0u8; 24];
            nonce[..8].copy_from_slice(&i.to_le_bytes());
            sealed::seal_into(&mut h, &body, &key, nonce).expect("seals");
            Event::sign(h, &device).map(|e| e.id)
        });
        let (mut h, body) = header(&text, 0);
        sealed::seal_into(&mut h, &body, &key, [1; 24]).context("cannot seal")?;
        let wire = Event::sign(h, &device)?.to_wire();
        let verify_open = rate(&nth, |_| {
            let e = Event::from_wire(&wire).expect("verifies");
            sealed::open(&e.header, &key).map(|b| b.kind().len())
        });
        figures.push(Figure::new(
            format!("seal + sign, {size} B text"),
            seal_sign,
            "events/s",
        ));
        figures.push(Figure::new(
            format!("verify + open, {size} B text"),
            verify_open,
            "events/s",
        ));
    }
    // A re-key seals the channel's new epoch key to every entitled device.
    let devices = 200u32;
    let sender = [0x11u8; 32];
    let recipients: Vec<_> = (0..devices)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..4].copy_from_slice(&i.to_be_bytes());
            s[31] = 1;
            (DeviceId(s), sealing_public(&s))
        })
        .collect();
    let mut round = 0u64;
    let rekey = best_of(opts.size(5, 1), || {
        round += 1;
        recipients
            .iter()
            .enumerate()
            .map(|(i, (device, public))| {
                let ctx = EnvelopeContext {
                    negotiation: EventId([1; 32]),
                    channel: "plenary",
                    epoch: round,
                    recipient: *device,
                };
                let mut eph = [0u8; 32];
                eph[..8].copy_from_slice(&(i as u64).to_le_bytes());
                eph[8..16].copy_from_slice(&round.to_le_bytes());
                envelope::seal(&sender, public, &ctx, &key, eph).map(|v| v.len())
            })
            .collect::<Vec<_>>()
    });
    figures.push(Figure::new(
        format!("re-key: seal an epoch key to {devices} devices"),
        rekey * 1000.0,
        "ms",
    ));
    Ok(vec![Section {
        title: "Crypto".into(),
        setup: format!(
            "One thread. XChaCha20-Poly1305 sealing of an event's content under the channel's \
             epoch key, then Ed25519; {runs} events per size. A re-key seals the new epoch key to \
             each device with X25519 + ChaCha20-Poly1305 (best of {}).",
            opts.size(5, 1)
        ),
        figures,
    }])
}
