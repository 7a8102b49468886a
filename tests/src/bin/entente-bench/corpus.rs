//! A large, valid negotiation for the benchmarks: ten delegations (a chair and nine others, all
//! joined), one plenary key epoch, then sealed plenary messages of about 200 bytes of text by
//! rotating authors. Signing through the workspace would fold the log for each post, so the
//! bulk is sealed and signed here with the real epoch key and stored in large transactions.

use anyhow::{Context, Result, ensure};
use entente_node::store::{self, Store};
use entente_node::workspace::now_ms;
use entente_protocol::event::EventHeader;
use entente_protocol::keyring::Keyring;
use entente_protocol::{Body, Event, NegotiationId, fold, sealed};
use entente_tests::net::Member;

pub struct Corpus {
    /// members[0] is the chair; its store holds every event.
    pub members: Vec<Member>,
    pub negotiation: NegotiationId,
    /// Every event in fold order.
    pub events: Vec<Event>,
}

pub const DELEGATIONS: usize = 10;
pub const TEXT_BYTES: usize = 200;

fn text(i: usize) -> String {
    let mut t = format!("Statement {i}: the delegation welcomes the draft and proposes ");
    while t.len() < TEXT_BYTES {
        t.push_str("further consultations ");
    }
    t.truncate(TEXT_BYTES);
    t
}

/// Builds a negotiation of `total` events (the setup events included).
pub fn build(total: usize) -> Result<Corpus> {
    let mut members = vec![Member::new("Chair")?];
    for i in 1..DELEGATIONS {
        members.push(Member::new(&format!("Delegation {i}"))?);
    }
    let neg = members[0].convene("Benchmark negotiation")?;
    for m in &members[1..] {
        members[0].accredit(&neg, m)?;
    }
    for m in &members[1..] {
        let record = members[0].workspace()?.export(&neg)?.0;
        m.workspace()?.import(&record)?;
        m.join(&neg)?;
        let back = m.workspace()?.export(&neg)?.0;
        members[0].workspace()?.import(&back)?;
    }
    // The first sealed message makes the plenary key epoch, sealed to every member's device.
    members[0].say(&neg, "The session is open.")?;
    let (events, state) = members[0].workspace()?.load(&neg)?;
    let chair = &members[0].identity;
    let ring = Keyring::open(&state, &events, &chair.public.device, &chair.sealing_secret);
    let (epoch, ep) = state
        .current_epoch("plenary")
        .context("the plenary has no key epoch")?;
    let key = ring
        .get("plenary", epoch, &ep.key_id)
        .context("the chair cannot read its own epoch key")?
        .clone();

    let mut head = state.heads.clone();
    let first_lamport = events.iter().map(|e| e.header.lamport).max().unwrap_or(0) + 1;
    let bulk = total.saturating_sub(events.len());
    let start = now_ms().saturating_sub(bulk as u64);
    let mut all = events;
    let mut store = Store::open(&members[0].home.database())?;
    let mut batch = Vec::new();
    for (i, lamport) in (0..bulk).zip(first_lamport..) {
        let author = &members[i % DELEGATIONS].identity;
        let body = Body::Message { text: text(i) };
        let mut header = EventHeader::new(
            Some(neg),
            author.public.device,
            head.clone(),
            lamport,
            start + i as u64,
            &body,
        );
        header.epoch = epoch;
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
        sealed::seal_into(&mut header, &body, &key, nonce).context("cannot seal")?;
        let event = Event::sign(header, &author.device_key).context("cannot sign")?;
        head = vec![event.id];
        batch.push(event);
        if batch.len() == 4096 || i + 1 == bulk {
            let tx = store.write()?;
            for e in &batch {
                store::insert(&tx, e, now_ms())?;
            }
            tx.commit()?;
            all.append(&mut batch);
        }
    }
    all.sort_by_key(Event::order_key);
    let state = fold(&all)?;
    ensure!(
        state.counts().1 == 0,
        "the benchmark negotiation has excluded events: the generator is wrong"
    );
    Ok(Corpus {
        members,
        negotiation: neg,
        events: all,
    })
}
