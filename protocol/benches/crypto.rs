//! Cost of end-to-end encryption per event, and of a re-key for 200 member devices.
//! `cargo bench -p entente-protocol --bench crypto` prints a report (not a test: nothing fails).

use std::hint::black_box;
use std::time::{Duration, Instant};

use entente_protocol::envelope::{self, EnvelopeContext, EpochKey, sealing_public};
use entente_protocol::event::EventHeader;
use entente_protocol::ids::{DeviceId, EventId};
use entente_protocol::{Body, Event, SigningKey, sealed};

fn time<T>(runs: u32, mut f: impl FnMut(u32) -> T) -> Duration {
    let start = Instant::now();
    for i in 0..runs {
        black_box(f(i));
    }
    start.elapsed() / runs
}

fn header(author: DeviceId, text: &str) -> (EventHeader, Body) {
    let body = Body::Message { text: text.into() };
    let mut h = EventHeader::new(
        Some(EventId([1; 32])),
        author,
        vec![EventId([2; 32])],
        7,
        1_760_000_000_000,
        &body,
    );
    h.epoch = 1;
    (h, body)
}

fn main() {
    let device = SigningKey::from_bytes(&[9; 32]);
    let author = DeviceId(device.verifying_key().to_bytes());
    let key = EpochKey([4; 32]);
    println!(
        "# Entente crypto benchmark ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!();
    println!("| operation | payload | time per event | events per second (one core) |");
    println!("| --- | --- | --- | --- |");
    for size in [100usize, 1000, 10_000] {
        let text = "x".repeat(size);
        let runs = 2000;
        let seal_sign = time(runs, |i| {
            let (mut h, body) = header(author, &text);
            h.time += u64::from(i);
            sealed::seal_into(&mut h, &body, &key, [i as u8; 24]).expect("seals");
            Event::sign(h, &device).expect("signs")
        });
        let (mut h, body) = header(author, &text);
        sealed::seal_into(&mut h, &body, &key, [1; 24]).expect("seals");
        let wire = Event::sign(h, &device).expect("signs").to_wire();
        let verify_open = time(runs, |_| {
            let e = Event::from_wire(&wire).expect("verifies");
            sealed::open(&e.header, &key).expect("opens")
        });
        for (op, d) in [("seal + sign", seal_sign), ("verify + open", verify_open)] {
            println!(
                "| {op} | {size} B text | {:.1} µs | {:.0} |",
                d.as_secs_f64() * 1e6,
                1.0 / d.as_secs_f64()
            );
        }
    }
    println!();
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
    let rekey = time(5, |run| {
        recipients
            .iter()
            .enumerate()
            .map(|(i, (device, public))| {
                let ctx = EnvelopeContext {
                    negotiation: EventId([1; 32]),
                    channel: "plenary",
                    epoch: u64::from(run) + 1,
                    recipient: *device,
                };
                envelope::seal(&sender, public, &ctx, &key, [(i as u8) ^ (run as u8); 32])
                    .expect("seals")
            })
            .collect::<Vec<_>>()
    });
    let ctx = EnvelopeContext {
        negotiation: EventId([1; 32]),
        channel: "plenary",
        epoch: 1,
        recipient: recipients[0].0,
    };
    let one = envelope::seal(&sender, &recipients[0].1, &ctx, &key, [7; 32]).expect("seals");
    let mut secret0 = [0u8; 32];
    secret0[31] = 1;
    let open_one = time(200, |_| {
        envelope::open(&secret0, &sealing_public(&sender), &ctx, &one).expect("opens")
    });
    println!("| operation | time |");
    println!("| --- | --- |");
    println!(
        "| re-key: seal a new epoch key to {devices} devices | {:.1} ms |",
        rekey.as_secs_f64() * 1e3
    );
    println!(
        "| open one envelope (each member, once per epoch) | {:.1} µs |",
        open_one.as_secs_f64() * 1e6
    );
    println!(
        "| size of the key event's envelopes | {} bytes |",
        one.len() * devices as usize
    );
}
