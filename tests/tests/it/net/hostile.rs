//! A hostile member: a swarm under a member's own device key, with the node's exact protocols,
//! sends forged, foreign, replayed, oversized, malformed, future-dated and parent-bombing events,
//! floods, huge sync requests and endless "more" answers. The node under attack stays up with
//! bounded memory, stores nothing invalid, cuts the offender off where the attack is unambiguous,
//! and keeps converging with the honest members.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use entente_node::net::Credentials;
use entente_node::store::{self, Store};
use entente_node::workspace::now_ms;
use entente_protocol::event::{EventHeader, MAX_PARENTS};
use entente_protocol::sync::{MAX_BATCH_EVENTS, SyncRequest, SyncStatus};
use entente_protocol::{Body, Event, EventId, NegotiationId, SigningKey};
use entente_tests::hostile::{Answer, HostilePeer, rss_kib};
use entente_tests::net::{Member, converge, eventually};

const LIMIT: Duration = Duration::from_secs(20);

/// Seats `other` in the chair's negotiation through exported records (no network needed).
fn seat(chair: &Member, other: &Member, neg: &NegotiationId) -> Result<()> {
    chair.accredit(neg, other)?;
    let (record, _) = chair.workspace()?.export(neg)?;
    other.workspace()?.import(&record)?;
    other.join(neg)?;
    let (joined, _) = other.workspace()?.export(neg)?;
    chair.workspace()?.import(&joined)?;
    Ok(())
}

/// The stored heads of a negotiation and the lamport an event built on them has.
fn tip(m: &Member, neg: &NegotiationId) -> Result<(Vec<EventId>, u64)> {
    let s = Store::open(&m.home.database())?;
    let heads = store::heads(s.conn(), neg)?;
    let mut top = 0;
    for h in &heads {
        top = top.max(store::lamport_of(s.conn(), neg, h)?.context("head")?);
    }
    Ok((heads, top + 1))
}

fn message(
    key: &SigningKey,
    neg: NegotiationId,
    parents: Vec<EventId>,
    lamport: u64,
    time: u64,
    text: &str,
) -> Result<Event> {
    let author = entente_protocol::identity::device_id(key);
    let header = EventHeader::new(
        Some(neg),
        author,
        parents,
        lamport,
        time,
        &Body::Message { text: text.into() },
    );
    Ok(Event::sign(header, key)?)
}

/// `[header bytes, signature]` in CBOR, for headers no signer would accept.
fn wire_of(header: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    let mut w = vec![0x82, 0x59];
    w.extend_from_slice(
        &u16::try_from(header.len())
            .expect("short header")
            .to_be_bytes(),
    );
    w.extend_from_slice(header);
    w.extend_from_slice(&[0x58, 0x40]);
    w.extend_from_slice(signature);
    w
}

fn fake_id(tag: u8, i: usize) -> EventId {
    let mut b = [tag; 32];
    b[..8].copy_from_slice(&(i as u64).to_le_bytes());
    EventId(b)
}

struct Arena {
    chair: Member,
    bee: Member,
    mallory: Member,
    neg: NegotiationId,
    hostile: HostilePeer,
    /// Ids of every event the hostile peer sent that must not be stored.
    bad: Vec<EventId>,
    round: usize,
}

impl Arena {
    async fn new() -> Result<Self> {
        let mut chair = Member::new("Chair")?;
        let mut bee = Member::new("Bee")?;
        let mallory = Member::new("Mallory")?;
        let neg = chair.convene("Hostile talks")?;
        seat(&chair, &bee, &neg)?;
        seat(&chair, &mallory, &neg)?;
        chair.start().await?;
        bee.config.peers = vec![chair.addrs().await?[0].clone()];
        bee.start().await?;
        converge(&[&chair, &bee], &neg, LIMIT).await?;
        // Mallory's node is not running: its device key drives a hand-made swarm instead.
        let Credentials::Member { keypair, .. } = mallory.identity.credentials()? else {
            bail!("a member's credentials");
        };
        let hostile = HostilePeer::start(keypair)?;
        let arena = Self {
            chair,
            bee,
            mallory,
            neg,
            hostile,
            bad: Vec::new(),
            round: 0,
        };
        arena.reconnect().await?;
        Ok(arena)
    }

    async fn reconnect(&self) -> Result<()> {
        let addr = self.chair.addrs().await?[0].clone();
        self.hostile
            .connect(&addr, self.chair.peer_id(), &self.neg)
            .await
    }

    fn request(&self, heads: Vec<EventId>) -> SyncRequest {
        SyncRequest {
            negotiation: self.neg,
            heads,
            certificate: Some(self.mallory.identity.certificate.clone()),
        }
    }

    /// Publishes an event that must be refused, and checks that the chair cuts the sender off;
    /// then lets it back in for the next attack.
    async fn refused_and_cut_off(&mut self, what: &str, wire: Vec<u8>) -> Result<()> {
        if let Some(id) = Event::claimed_id(&wire) {
            self.bad.push(id);
        }
        self.hostile
            .publish(&self.neg, wire)
            .await
            .context(what.to_string())?;
        self.cut_off(what).await?;
        self.still_serving(what).await
    }

    async fn cut_off(&self, what: &str) -> Result<()> {
        let hostile = self.hostile.peer_id;
        eventually(LIMIT, || async {
            if self.chair.node().connected().await?.contains(&hostile) {
                bail!("the chair is still connected to the peer that sent {what}");
            }
            if self.hostile.is_connected(&self.chair.peer_id()) {
                bail!("the hostile peer has not seen its connection close yet");
            }
            Ok(())
        })
        .await?;
        self.chair.node().unblock(hostile).await?;
        self.reconnect().await
    }

    /// The chair still answers, and stays in step with the honest member.
    async fn still_serving(&mut self, after: &str) -> Result<()> {
        self.round += 1;
        self.bee.say(&self.neg, &format!("round {}", self.round))?;
        converge(&[&self.chair, &self.bee], &self.neg, LIMIT)
            .await
            .with_context(|| format!("the honest members stopped converging after {after}"))?;
        Ok(())
    }

    fn stored_bad(&self) -> Result<Vec<EventId>> {
        let s = Store::open(&self.chair.home.database())?;
        let mut found = Vec::new();
        for id in &self.bad {
            if store::contains(s.conn(), id)? {
                found.push(*id);
            }
        }
        Ok(found)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_member_is_cut_off_and_the_node_stays_up() -> Result<()> {
    let started = Instant::now();
    let mut a = Arena::new().await?;
    let rss_before = rss_kib();
    let key = a.mallory.identity.device_key.clone();
    let neg = a.neg;

    // Forged signature.
    let (heads, lamport) = tip(&a.chair, &neg)?;
    let forged = message(&key, neg, heads.clone(), lamport, now_ms(), "forged")?;
    let mut wire = forged.to_wire();
    let last = wire.len() - 1;
    wire[last] ^= 1;
    a.refused_and_cut_off("a forged signature", wire).await?;

    // A well-formed event by someone who is not a member.
    let outsider = SigningKey::from_bytes(&[42; 32]);
    let (heads, lamport) = tip(&a.chair, &neg)?;
    let foreign = message(&outsider, neg, heads, lamport, now_ms(), "let me in")?;
    a.refused_and_cut_off("an event by a non-member", foreign.to_wire())
        .await?;

    // Oversized and malformed bytes.
    let mut big = vec![0x82, 0x5a, 0, 1, 0x01, 0xd0];
    big.resize(66_000, 0x41);
    a.refused_and_cut_off("an oversized event", big).await?;
    a.refused_and_cut_off("malformed bytes", b"\x82\x43abc\x40 not an event".to_vec())
        .await?;

    // A parent bomb: an event citing thousands of parents is refused by its shape, before any
    // parent is looked up.
    let (_, lamport) = tip(&a.chair, &neg)?;
    let header = EventHeader::new(
        Some(neg),
        a.mallory.identity.public.device,
        (0..1500).map(|i| fake_id(7, i)).collect(),
        lamport,
        now_ms(),
        &Body::Message {
            text: "bomb".into(),
        },
    );
    let bomb = wire_of(&header.encode(), &[0; 64]);
    a.refused_and_cut_off("an event citing 1500 parents", bomb)
        .await?;

    // Far-future time.
    let (heads, lamport) = tip(&a.chair, &neg)?;
    let future = message(&key, neg, heads, lamport, now_ms() + 86_400_000, "tomorrow")?;
    a.refused_and_cut_off("an event dated tomorrow", future.to_wire())
        .await?;

    // Replays of what the chair holds are cheap duplicates: not an offence, nothing stored.
    let before = a.chair.event_ids(&neg).len();
    let stored = {
        let s = Store::open(&a.chair.home.database())?;
        store::events(s.conn(), &neg)?
    };
    for e in &stored {
        a.hostile.publish(&neg, e.to_wire()).await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(
        a.chair
            .node()
            .connected()
            .await?
            .contains(&a.hostile.peer_id),
        "replays of stored events got the peer cut off"
    );
    ensure!(a.chair.event_ids(&neg).len() == before);
    a.still_serving("replays").await?;

    // Parent bombs within the limits: signed events citing MAX_PARENTS parents nobody has.
    // The sender gossiped them, so it must hold their parents; the sync round that follows
    // does not bring them, and that gets it cut off.
    let (_, lamport) = tip(&a.chair, &neg)?;
    let orphan = |i: usize| -> Result<Event> {
        let parents = (0..MAX_PARENTS)
            .map(|j| fake_id(9, i * MAX_PARENTS + j))
            .collect();
        message(&key, neg, parents, lamport + 1, now_ms(), "orphan")
    };
    let mut sent = 0;
    for i in 0..50 {
        let e = orphan(i)?;
        a.bad.push(e.id);
        if a.hostile.publish(&neg, e.to_wire()).await.is_err() {
            break; // the chair closed the connection
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(
        sent < 50,
        "50 orphan events did not get their sender cut off"
    );
    a.cut_off("events whose parents it does not send").await?;
    a.still_serving("orphan events").await?;

    // The same flood from a peer that refuses to sync (so it owes nothing provably): each
    // event costs a signature check, none is stored, sync rounds stay one at a time, and the
    // sender is cut off once past its budget.
    a.hostile.answer(Answer::Refuse)?;
    let asked_before = a.hostile.sync_requests();
    let mut flood = 0;
    for i in 100..3100 {
        let e = orphan(i)?;
        a.bad.push(e.id);
        if a.hostile.publish(&neg, e.to_wire()).await.is_err() {
            break;
        }
        flood += 1;
        if flood % 100 == 0 {
            // Gossipsub drops what overflows a connection's queue: let it drain.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    a.cut_off("a flood of events with unknown parents").await?;
    let asked = a.hostile.sync_requests() - asked_before;
    ensure!(
        asked * 10 <= flood,
        "{flood} orphan events made the chair send {asked} sync requests"
    );
    a.hostile.answer(Answer::Empty)?;
    a.still_serving("the flood").await?;

    // Sync requests for the whole negotiation are answered, in batches; a peer that keeps
    // asking for what it was sent is throttled, and the node keeps serving the others.
    let all = a
        .hostile
        .sync(a.chair.peer_id(), a.request(Vec::new()))
        .await?;
    ensure!(all.status == SyncStatus::Ok && !all.events.is_empty());
    ensure!(all.events.len() <= MAX_BATCH_EVENTS);
    let mut refused = 0;
    for chunk in 0..12 {
        let asks = (0..50).map(|_| a.hostile.sync(a.chair.peer_id(), a.request(Vec::new())));
        for r in futures::future::join_all(asks).await {
            match r {
                Ok(r) if r.status == SyncStatus::Ok => {}
                Ok(_) => refused += 1,
                Err(e) => bail!("sync request {chunk} failed: {e:#}"),
            }
        }
    }
    ensure!(
        refused > 0,
        "600 identical full-range sync requests were all served in full"
    );
    // The budget refills within a second; requests that need no recomputation cost little.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let unknown: Vec<EventId> = (0..1024).map(|i| fake_id(11, i)).collect();
    let r = a
        .hostile
        .sync(a.chair.peer_id(), a.request(unknown))
        .await?;
    ensure!(
        r.status == SyncStatus::Ok,
        "1024 unknown heads: {:?}",
        r.status
    );
    a.still_serving("repeated full-range sync requests").await?;

    // A peer that answers every sync request with "more" and nothing in it does not keep the
    // node asking.
    a.hostile.answer(Answer::MoreForever)?;
    let asked_before = a.hostile.sync_requests();
    // Heads the chair lacks make it ask the hostile peer.
    let r = a
        .hostile
        .sync(a.chair.peer_id(), a.request(vec![fake_id(13, 0)]))
        .await?;
    ensure!(r.status == SyncStatus::Ok);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let asked = a.hostile.sync_requests() - asked_before;
    ensure!(
        (1..=5).contains(&asked),
        "endless 'more' answers made the chair ask {asked} times in 2 s"
    );
    a.still_serving("endless 'more' answers").await?;

    let stored_bad = a.stored_bad()?;
    ensure!(
        stored_bad.is_empty(),
        "the chair stored {} hostile events",
        stored_bad.len()
    );
    let grown = rss_kib().saturating_sub(rss_before);
    ensure!(
        grown < 128 * 1024,
        "the process grew by {} MiB under attack",
        grown / 1024
    );
    eprintln!(
        "hostile: flood of {flood} orphans, {refused} sync requests refused, RSS +{} MiB, {:?}",
        grown / 1024,
        started.elapsed()
    );
    a.chair.stop().await?;
    a.bee.stop().await?;
    Ok(())
}
