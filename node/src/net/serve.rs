//! Answering sync requests at a cost proportional to the batch, not to the negotiation.
//!
//! What a peer lacks is what is not an ancestor of its heads. Computing that set from scratch
//! reads the whole negotiation, and a cold sync of N events takes N / 1024 requests: quadratic.
//! So the node keeps, per (peer, negotiation), a cursor of what the peer is known to hold: every
//! readable event up to a position in fold order, and a few events after it. A peer's store only
//! grows while it is connected, so the next request only adds to that: its new heads are walked
//! back until they meet what is known, and the batch continues from the position. A full
//! recomputation (one recursive query over all heads at once) happens on the first request, when
//! an event arrives that sorts before a cursor's position, or when a peer did not take the last
//! batch; its cost is charged to a per-peer budget so that a peer cannot make the node spin.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use entente_protocol::dag::is_shared_channel;
use entente_protocol::sync::{BATCH_BYTES, MAX_BATCH_EVENTS};
use entente_protocol::{EventId, NegotiationId};
use libp2p::PeerId;
use rusqlite::{Connection, OptionalExtension, params};

/// (lamport, id): the fold order.
pub(super) type Key = (u64, EventId);

/// Cursors kept at most (each is small: a position and the events a peer holds beyond it).
const MAX_CURSORS: usize = 4096;
/// A cursor that would remember more events past its position than this is not kept.
const MAX_KNOWN_AFTER: usize = 65_536;
/// Events past their positions all cursors together remember at most (~16 MiB): the oldest
/// cursors go first.
const MAX_KNOWN_TOTAL: usize = 262_144;
/// Events walked back from a peer's new heads before a full recomputation is cheaper.
const MAX_WALK: usize = 8192;
/// Rows a peer may make the node read in full recomputations: a burst, and a rate per second.
/// A cold sync of a 100k-event negotiation costs one recomputation of ~100k rows.
const RECOMPUTE_BURST: f64 = 4_000_000.0;
const RECOMPUTE_RATE: f64 = 400_000.0;
/// A recomputation costs at least this much, so that tiny ones cannot be asked for endlessly
/// either: 80 in a burst, then 8 a second (an honest peer needs one per negotiation when it
/// connects, and one more now and then).
const RECOMPUTE_MIN_COST: usize = 50_000;

/// What the peer is known to hold of a negotiation.
struct Cursor {
    /// The channels the peer could read when the cursor was made (`None`: all).
    readable: Option<BTreeSet<String>>,
    /// Every readable event at or before this key is held by the peer.
    pos: Option<Key>,
    /// Events after `pos` that the peer holds.
    known_after: BTreeSet<Key>,
    /// The heads of the last request, and whether its answer carried events.
    last_heads: Vec<EventId>,
    last_sent: bool,
    used: Instant,
    /// The store's last arrival number when the cursor was built: events that arrived before
    /// were in the store then, so the cursor accounts for them.
    built_after: i64,
}

impl Cursor {
    fn holds(&self, key: &Key) -> bool {
        self.pos.is_some_and(|p| *key <= p) || self.known_after.contains(key)
    }
}

/// A batch for a peer.
pub(super) struct Batch {
    pub events: Vec<Vec<u8>>,
    pub more: bool,
    /// Whether the whole "what does the peer hold" set had to be computed.
    pub recomputed: bool,
}

struct Budget {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
pub(super) struct Serving {
    cursors: HashMap<(PeerId, NegotiationId), Cursor>,
    budgets: HashMap<PeerId, Budget>,
}

fn id_of(bytes: Vec<u8>) -> rusqlite::Result<EventId> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "id".into(), rusqlite::types::Type::Blob)
    })?;
    Ok(EventId(arr))
}

fn readable_ok(readable: &Option<BTreeSet<String>>, channel: &str) -> bool {
    is_shared_channel(channel) || readable.as_ref().is_none_or(|r| r.contains(channel))
}

/// The stored wire form of an event.
pub(super) fn stored_wire(conn: &Connection, id: &EventId) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT wire FROM events WHERE id = ?1")?
        .query_row([id.as_bytes()], |r| r.get(0))
        .optional()
}

/// The wire form, negotiation and channel of a stored event.
pub(super) fn stored_event(
    conn: &Connection,
    id: &EventId,
) -> rusqlite::Result<Option<(Vec<u8>, NegotiationId, String)>> {
    conn.prepare_cached("SELECT wire, negotiation, channel FROM events WHERE id = ?1")?
        .query_row([id.as_bytes()], |r| {
            Ok((
                r.get(0)?,
                id_of(r.get(1)?)?,
                r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })
        .optional()
}

/// The fold key of a stored event of `negotiation`.
fn key_of(
    conn: &Connection,
    negotiation: &NegotiationId,
    id: &EventId,
) -> rusqlite::Result<Option<Key>> {
    conn.prepare_cached("SELECT lamport FROM events WHERE id = ?1 AND negotiation = ?2")?
        .query_row(params![id.as_bytes(), negotiation.as_bytes()], |r| {
            r.get::<_, i64>(0)
        })
        .optional()
        .map(|l| l.map(|l| (l as u64, *id)))
}

/// Every stored event of `negotiation` that is one of `heads` or an ancestor of one: one
/// recursive query seeded with all the heads.
fn closure(
    conn: &Connection,
    negotiation: &NegotiationId,
    heads: &[EventId],
) -> rusqlite::Result<Vec<Key>> {
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let seed = vec!["(?)"; heads.len()].join(",");
    let sql = format!(
        "WITH RECURSIVE seed(id) AS (VALUES {seed}),
         up(id) AS (
             SELECT id FROM seed
             UNION
             SELECT p.parent FROM parents p JOIN up ON p.child = up.id
         )
         SELECT e.lamport, e.id FROM up JOIN events e ON e.id = up.id
         WHERE e.negotiation = ?"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut args: Vec<&dyn rusqlite::ToSql> = heads.iter().map(|h| h.as_bytes() as _).collect();
    let neg = negotiation.as_bytes();
    args.push(&neg);
    let rows = stmt.query_map(args.as_slice(), |r| {
        Ok((r.get::<_, i64>(0)? as u64, id_of(r.get(1)?)?))
    })?;
    rows.collect()
}

struct Scanned {
    events: Vec<Vec<u8>>,
    more: bool,
    /// The last key looked at: every readable event up to it was sent or skipped as held.
    last: Option<Key>,
    rows: usize,
}

/// Readable events after `after` in fold order that `held` does not rule out, up to a batch.
fn scan(
    conn: &Connection,
    negotiation: &NegotiationId,
    after: Option<Key>,
    readable: &Option<BTreeSet<String>>,
    held: impl Fn(&Key) -> bool,
) -> rusqlite::Result<Scanned> {
    let (lamport, id) = match after {
        Some((l, id)) => (l as i64, id.as_bytes().to_vec()),
        None => (-1, Vec::new()),
    };
    // Ids and channels first; the bytes of only the events sent.
    let mut stmt = conn.prepare_cached(
        "SELECT lamport, id, channel FROM events
         WHERE negotiation = ?1 AND (lamport, id) > (?2, ?3)
         ORDER BY lamport, id",
    )?;
    let mut rows = stmt.query(params![negotiation.as_bytes(), lamport, id])?;
    let mut out = Scanned {
        events: Vec::new(),
        more: false,
        last: None,
        rows: 0,
    };
    let mut bytes = 0;
    while let Some(row) = rows.next()? {
        out.rows += 1;
        let key: Key = (row.get::<_, i64>(0)? as u64, id_of(row.get(1)?)?);
        let channel: Option<String> = row.get(2)?;
        if !held(&key) && readable_ok(readable, channel.as_deref().unwrap_or_default()) {
            if out.events.len() == MAX_BATCH_EVENTS || bytes >= BATCH_BYTES {
                out.more = true;
                break;
            }
            let Some(wire) = stored_wire(conn, &key.1)? else {
                continue;
            };
            bytes += wire.len();
            out.events.push(wire);
        }
        out.last = Some(key);
    }
    Ok(out)
}

impl Serving {
    /// The next batch of `negotiation` for `peer`, whose heads are `heads` and who may read the
    /// restricted channels `readable` (`None`: all). `None` when the peer has used up its budget
    /// of full recomputations.
    pub(super) fn batch(
        &mut self,
        conn: &Connection,
        peer: PeerId,
        negotiation: NegotiationId,
        heads: &[EventId],
        readable: Option<BTreeSet<String>>,
    ) -> rusqlite::Result<Option<Batch>> {
        let slot = (peer, negotiation);
        let mut cursor = match self.cursors.remove(&slot) {
            Some(c)
                if c.readable == readable
                    && !Self::refused_last(conn, &negotiation, &c, heads)? =>
            {
                Self::advance(conn, &negotiation, c, heads)?
            }
            _ => None,
        };
        let recomputed = cursor.is_none();
        if cursor.is_none() {
            if !self.afford(peer) {
                return Ok(None);
            }
            let built_after: i64 =
                conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM arrivals", [], |r| {
                    r.get(0)
                })?;
            let known = closure(conn, &negotiation, heads)?;
            let cost = known.len().max(RECOMPUTE_MIN_COST);
            cursor = Some(Cursor {
                readable,
                pos: None,
                known_after: known.into_iter().collect(),
                last_heads: Vec::new(),
                last_sent: false,
                used: Instant::now(),
                built_after,
            });
            self.charge(peer, cost);
        }
        let Some(mut cursor) = cursor else {
            return Ok(None);
        };
        let scanned = scan(conn, &negotiation, cursor.pos, &cursor.readable, |k| {
            cursor.known_after.contains(k)
        })?;
        if recomputed {
            self.charge(peer, scanned.rows);
        }
        if let Some(last) = scanned.last {
            cursor.pos = Some(last);
            // What is at or before the position needs no remembering.
            let mut after = cursor.known_after.split_off(&last);
            after.remove(&last);
            cursor.known_after = after;
        }
        cursor.last_heads = heads.to_vec();
        cursor.last_sent = !scanned.events.is_empty();
        cursor.used = Instant::now();
        if cursor.known_after.len() <= MAX_KNOWN_AFTER {
            let mut known: usize = self.cursors.values().map(|c| c.known_after.len()).sum();
            while self.cursors.len() >= MAX_CURSORS
                || known + cursor.known_after.len() > MAX_KNOWN_TOTAL
            {
                let Some(oldest) = self
                    .cursors
                    .iter()
                    .min_by_key(|(_, c)| c.used)
                    .map(|(k, _)| *k)
                else {
                    break;
                };
                if let Some(c) = self.cursors.remove(&oldest) {
                    known -= c.known_after.len();
                }
            }
            self.cursors.insert(slot, cursor);
        }
        Ok(Some(Batch {
            events: scanned.events,
            more: scanned.more,
            recomputed,
        }))
    }

    /// Whether the peer did not store the last batch: its heads did not change although it was
    /// sent events. A peer with heads we lack may simply have held them all already (it is
    /// ahead of us, and pulling from us while we pull from it); then it has them either way.
    fn refused_last(
        conn: &Connection,
        negotiation: &NegotiationId,
        cursor: &Cursor,
        heads: &[EventId],
    ) -> rusqlite::Result<bool> {
        if !cursor.last_sent || cursor.last_heads != heads {
            return Ok(false);
        }
        for h in heads {
            if key_of(conn, negotiation, h)?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Adds to a cursor what the peer's new heads show it holds: each head not yet known is
    /// walked back until what is known. `None` when that is not cheaper than recomputing.
    fn advance(
        conn: &Connection,
        negotiation: &NegotiationId,
        mut cursor: Cursor,
        heads: &[EventId],
    ) -> rusqlite::Result<Option<Cursor>> {
        let mut parents = conn.prepare_cached(
            "SELECT e.lamport, e.id FROM parents p JOIN events e ON e.id = p.parent
             WHERE p.child = ?1",
        )?;
        let mut stack = Vec::new();
        for h in heads {
            // A head we do not hold tells nothing we can use (as in a full recomputation).
            if let Some(key) = key_of(conn, negotiation, h)?
                && !cursor.holds(&key)
            {
                stack.push(key);
            }
        }
        let mut walked = HashSet::new();
        while let Some(key) = stack.pop() {
            if cursor.holds(&key) || !walked.insert(key.1) {
                continue;
            }
            if walked.len() > MAX_WALK {
                return Ok(None);
            }
            cursor.known_after.insert(key);
            let rows = parents.query_map([key.1.as_bytes()], |r| {
                Ok((r.get::<_, i64>(0)? as u64, id_of(r.get(1)?)?))
            })?;
            for p in rows {
                let p = p?;
                if !cursor.holds(&p) {
                    stack.push(p);
                }
            }
        }
        Ok(Some(cursor))
    }

    fn afford(&mut self, peer: PeerId) -> bool {
        let now = Instant::now();
        let b = self.budgets.entry(peer).or_insert(Budget {
            tokens: RECOMPUTE_BURST,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * RECOMPUTE_RATE)
            .min(RECOMPUTE_BURST);
        b.at = now;
        b.tokens > 0.0
    }

    fn charge(&mut self, peer: PeerId, rows: usize) {
        if let Some(b) = self.budgets.get_mut(&peer) {
            b.tokens -= rows as f64;
        }
    }

    /// An event was stored (`arrival`: its arrival number, `None` if it was stored just now):
    /// cursors built before it that are past its place in fold order no longer describe what
    /// their peers lack, so they are dropped.
    pub(super) fn stored(&mut self, negotiation: &NegotiationId, key: Key, arrival: Option<i64>) {
        self.cursors.retain(|(_, n), c| {
            n != negotiation
                || c.pos.is_none_or(|p| key > p)
                || arrival.is_some_and(|a| a <= c.built_after)
        });
    }

    /// The peer went away (or was cut off).
    /// Its budget is kept: reconnecting must not refill it (only members get one).
    pub(super) fn forget(&mut self, peer: &PeerId) {
        self.cursors.retain(|(p, _), _| p != peer);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use entente_protocol::Event;
    use entente_protocol::sync::select_batch;

    use super::*;
    use crate::store::tests::{charter, child};
    use crate::store::{self, Store};

    /// A DAG of `n` events after the charter, each on one to three of the twenty before it,
    /// and a branch of `side` events off an early event that nothing else builds on.
    fn dag(n: usize, side: usize) -> (Event, Vec<Event>, Vec<Event>) {
        let root = charter();
        let mut all = vec![root.clone()];
        let mut seed = 12345u64;
        let mut next = |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % m
        };
        for i in 0..n {
            let k = 1 + next(3);
            let lo = all.len().saturating_sub(20);
            let mut parents: Vec<&Event> =
                (0..k).map(|_| &all[lo + next(all.len() - lo)]).collect();
            parents.sort_by_key(|e| e.id);
            parents.dedup_by_key(|e| e.id);
            let e = child(&root, &parents, &format!("e{i}"));
            all.push(e);
        }
        let mut branch: Vec<Event> = Vec::new();
        for i in 0..side {
            let parent = branch.last().unwrap_or(&all[3]).clone();
            branch.push(child(&root, &[&parent], &format!("side{i}")));
        }
        (root, all, branch)
    }

    fn heads_of(held: &HashSet<EventId>, events: &[Event]) -> Vec<EventId> {
        let cited: HashSet<EventId> = events
            .iter()
            .filter(|e| held.contains(&e.id))
            .flat_map(|e| e.header.parents.clone())
            .collect();
        let mut h: Vec<EventId> = held
            .iter()
            .filter(|id| !cited.contains(id))
            .copied()
            .collect();
        h.sort();
        h
    }

    /// What `select_batch` sends a peer that holds `held`, from the server's `stored`.
    fn reference(stored: &[Event], held: &HashSet<EventId>) -> (Vec<Vec<u8>>, bool) {
        let mut order: Vec<&Event> = stored.iter().collect();
        order.sort_by_key(|e| e.order_key());
        let wires: Vec<(EventId, Vec<u8>)> = order.iter().map(|e| (e.id, e.to_wire())).collect();
        select_batch(wires.iter().map(|(id, w)| (*id, w.as_slice())), held)
    }

    #[test]
    fn batches_from_cursors_are_those_select_batch_picks() {
        let (root, all, branch) = dag(3500, 40);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut st = Store::open(&dir.path().join("t.db")).expect("opens");
        let tx = st.write().expect("tx");
        for e in &all {
            store::insert(&tx, e, 0).expect("insert");
        }
        tx.commit().expect("commit");
        let mut stored = all.clone();
        let peer = PeerId::random();
        let mut serving = Serving::default();
        // Cold, from a peer holding a few events, and one that holds half of them.
        for start in [0, 10, 1300] {
            serving.forget(&peer);
            let mut held: HashSet<EventId> = all[..start].iter().map(|e| e.id).collect();
            let mut rounds = 0;
            let mut recomputed = 0;
            loop {
                rounds += 1;
                assert!(rounds < 20, "sync does not end");
                if rounds == 3 && start == 0 {
                    // A late branch that sorts before what was sent: cursors must notice.
                    let tx = st.write().expect("tx");
                    for e in &branch {
                        store::insert(&tx, e, 0).expect("insert");
                        serving.stored(&root.id, e.order_key(), None);
                    }
                    tx.commit().expect("commit");
                    stored.extend(branch.iter().cloned());
                }
                if rounds == 4 && start == 0 {
                    // The peer got some events elsewhere.
                    held.extend(stored.iter().rev().take(50).flat_map(|e| {
                        let mut up = vec![e.id];
                        up.extend(store::ancestors(st.conn(), &e.id).expect("ancestors"));
                        up
                    }));
                }
                let heads = heads_of(&held, &stored);
                let want = reference(&stored, &held);
                let got = serving
                    .batch(st.conn(), peer, root.id, &heads, None)
                    .expect("serves")
                    .expect("within budget");
                recomputed += usize::from(got.recomputed);
                assert_eq!(
                    (got.events.len(), got.more),
                    (want.0.len(), want.1),
                    "round {rounds} from {start}"
                );
                assert!(
                    got.events == want.0,
                    "round {rounds} from {start}: other events"
                );
                for w in &got.events {
                    held.insert(Event::from_wire(w).expect("event").id);
                }
                if !got.more {
                    break;
                }
            }
            assert!(
                recomputed <= 2,
                "{recomputed} full recomputations in {rounds} rounds"
            );
            assert_eq!(held.len(), stored.len());
        }
        // A peer that asks again for what it was sent makes the node recompute, within a budget.
        serving.forget(&peer);
        let mut refused = 0;
        for _ in 0..200 {
            match serving
                .batch(st.conn(), peer, root.id, &[], None)
                .expect("serves")
            {
                Some(b) => assert!(!b.events.is_empty()),
                None => refused += 1,
            }
        }
        assert!(refused > 0, "endless recomputations were served");
        // Events a command wrote before a cursor was built do not invalidate it; later ones do.
        let other = PeerId::random();
        let heads = heads_of(&HashSet::new(), &stored);
        serving
            .batch(st.conn(), other, root.id, &heads, None)
            .expect("serves")
            .expect("within budget");
        let early = all[5].order_key();
        serving.stored(&root.id, early, Some(1));
        assert!(serving.cursors.contains_key(&(other, root.id)));
        serving.stored(&root.id, early, Some(i64::MAX));
        assert!(!serving.cursors.contains_key(&(other, root.id)));
        assert!(serving.cursors.len() <= MAX_CURSORS);
    }
}
