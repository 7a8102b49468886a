//! Gossiped events that arrived before their parents, held back instead of dropped.
//!
//! Gossip overtakes itself: on a busy mesh an event often arrives a few milliseconds before its
//! parent. Reporting such an event as "ignore" at once would stop this node from ever forwarding
//! it (gossipsub then treats every later copy as a duplicate), so the peers behind this node
//! would wait for a sync round. Instead its validation is deferred: the event waits here until
//! its parents are stored, then it is stored and forwarded; or, after [`ORPHAN_WAIT`], it is
//! dropped and left to sync. Bounded in count and bytes, and per peer, so that a flood cannot
//! grow it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use entente_protocol::{Event, EventId};
use libp2p::PeerId;
use libp2p::gossipsub::MessageId;

/// How long an event may wait for its parents. Gossipsub keeps a message for forwarding for
/// `history_length` heartbeats (5 × 700 ms), and expiry is checked at the node's maintenance
/// (every 2 s by default): within that, a late parent still gets the event forwarded.
pub(super) const ORPHAN_WAIT: Duration = Duration::from_secs(1);
/// At most this many events wait at once…
const MAX_HELD: usize = 512;
/// …of at most this many bytes together…
const MAX_HELD_BYTES: usize = 8 << 20;
/// …and at most this many from one peer.
const MAX_HELD_PER_PEER: usize = 128;
/// An event that lacks more parents than this did not just overtake them: sync fetches it.
pub(super) const MAX_MISSING: usize = 8;

/// About what a held event costs in memory (its header and signature).
pub(super) fn footprint(event: &Event) -> usize {
    event.header_bytes().len() + 64
}

/// A gossiped event whose validation result is not reported yet.
pub(super) struct Held {
    pub event: Event,
    pub message: MessageId,
    pub source: PeerId,
    since: Instant,
    missing: HashSet<EventId>,
    bytes: usize,
}

#[derive(Default)]
pub(super) struct Orphans {
    held: HashMap<EventId, Held>,
    /// Held events by a parent they wait for.
    waiting_on: HashMap<EventId, Vec<EventId>>,
    per_peer: HashMap<PeerId, usize>,
    bytes: usize,
    /// Events whose parents are all stored now, to be ingested.
    ready: Vec<Held>,
}

impl Orphans {
    /// Holds `event` until `missing` (its parents not stored yet) are. False when it cannot be
    /// held (already held, nothing missing, or full): report the message at once then.
    pub(super) fn hold(
        &mut self,
        event: Event,
        missing: HashSet<EventId>,
        message: MessageId,
        source: PeerId,
        now: Instant,
    ) -> bool {
        let bytes = footprint(&event);
        if missing.is_empty()
            || missing.len() > MAX_MISSING
            || self.held.contains_key(&event.id)
            || !self.has_room(&source, bytes)
        {
            return false;
        }
        for p in &missing {
            self.waiting_on.entry(*p).or_default().push(event.id);
        }
        *self.per_peer.entry(source).or_default() += 1;
        self.bytes += bytes;
        self.held.insert(
            event.id,
            Held {
                event,
                message,
                source,
                since: now,
                missing,
                bytes,
            },
        );
        true
    }

    /// Whether an event of `bytes` from `source` could be held now (checked before the caller
    /// looks up which parents are missing).
    pub(super) fn has_room(&self, source: &PeerId, bytes: usize) -> bool {
        self.held.len() < MAX_HELD
            && self.bytes + bytes <= MAX_HELD_BYTES
            && self.per_peer.get(source).copied().unwrap_or(0) < MAX_HELD_PER_PEER
    }

    /// Notes that `id` is stored: the events that waited only for it become ready.
    pub(super) fn stored(&mut self, id: &EventId) {
        let Some(children) = self.waiting_on.remove(id) else {
            return;
        };
        for child in children {
            let complete = self.held.get_mut(&child).is_some_and(|h| {
                h.missing.remove(id);
                h.missing.is_empty()
            });
            if complete && let Some(h) = self.take(&child) {
                self.ready.push(h);
            }
        }
    }

    /// The next event whose parents are all stored.
    pub(super) fn next_ready(&mut self) -> Option<Held> {
        self.ready.pop()
    }

    /// Events that waited longer than [`ORPHAN_WAIT`], in fold order (a parent before its
    /// child, so that both can be stored if the parent's parents have come meanwhile).
    pub(super) fn expired(&mut self, now: Instant) -> Vec<Held> {
        let old: Vec<EventId> = self
            .held
            .iter()
            .filter(|(_, h)| now.duration_since(h.since) >= ORPHAN_WAIT)
            .map(|(id, _)| *id)
            .collect();
        let mut out: Vec<Held> = old.iter().filter_map(|id| self.take(id)).collect();
        out.sort_by_key(|h| h.event.order_key());
        out
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.held.is_empty() && self.ready.is_empty()
    }

    fn take(&mut self, id: &EventId) -> Option<Held> {
        let h = self.held.remove(id)?;
        for p in &h.missing {
            if let Some(list) = self.waiting_on.get_mut(p) {
                list.retain(|c| c != id);
                if list.is_empty() {
                    self.waiting_on.remove(p);
                }
            }
        }
        if let Some(n) = self.per_peer.get_mut(&h.source) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&h.source);
            }
        }
        self.bytes -= h.bytes;
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{charter, child};

    fn message(n: u8) -> MessageId {
        MessageId::from(vec![n])
    }

    /// A chain a ← b ← c delivered c, b, a: each becomes ready once its parent is stored, and
    /// nothing is left behind.
    #[test]
    fn events_wait_for_their_parents_and_are_released_in_turn() {
        let a = charter();
        let b = child(&a, &[&a], "b");
        let c = child(&a, &[&b], "c");
        let peer = PeerId::random();
        let now = Instant::now();
        let mut o = Orphans::default();
        assert!(o.hold(c.clone(), HashSet::from([b.id]), message(3), peer, now));
        assert!(o.hold(b.clone(), HashSet::from([a.id]), message(2), peer, now));
        assert!(
            !o.hold(c.clone(), HashSet::from([b.id]), message(3), peer, now),
            "held once"
        );
        o.stored(&c.id); // nothing waits for c
        assert!(o.next_ready().is_none());
        o.stored(&a.id);
        let ready = o.next_ready().expect("b is ready");
        assert_eq!(ready.event.id, b.id);
        assert_eq!(ready.message, message(2));
        assert!(o.next_ready().is_none(), "c still waits for b");
        o.stored(&b.id);
        assert_eq!(o.next_ready().map(|h| h.event.id), Some(c.id));
        assert!(o.is_empty());
        assert_eq!(o.bytes, 0);
        assert!(o.per_peer.is_empty() && o.waiting_on.is_empty());
    }

    /// An event waiting for two parents is ready only after both.
    #[test]
    fn every_missing_parent_must_arrive() {
        let a = charter();
        let b = child(&a, &[&a], "b");
        let c = child(&a, &[&a], "c");
        let d = child(&a, &[&b, &c], "d");
        let mut o = Orphans::default();
        let now = Instant::now();
        assert!(o.hold(
            d,
            HashSet::from([b.id, c.id]),
            message(1),
            PeerId::random(),
            now
        ));
        o.stored(&b.id);
        assert!(o.next_ready().is_none());
        o.stored(&c.id);
        assert!(o.next_ready().is_some());
    }

    /// One peer cannot fill the holding area, and what waits too long is handed back.
    #[test]
    fn holding_is_bounded_per_peer_and_in_time() {
        let a = charter();
        let flooder = PeerId::random();
        let honest = PeerId::random();
        let now = Instant::now();
        let mut o = Orphans::default();
        let mut held = 0;
        for i in 0..(MAX_HELD_PER_PEER + 10) {
            let parent = child(&a, &[&a], &format!("parent {i}"));
            let missing = HashSet::from([parent.id]);
            let e = child(&a, &[&parent], &format!("orphan {i}"));
            if o.hold(e, missing, message(i as u8), flooder, now) {
                held += 1;
            }
        }
        assert_eq!(held, MAX_HELD_PER_PEER);
        let e = child(&a, &[&a], "honest");
        assert!(
            o.hold(e, HashSet::from([a.id]), message(0), honest, now),
            "another peer's event is still held"
        );
        let many: HashSet<EventId> = (0..=MAX_MISSING)
            .map(|i| child(&a, &[&a], &format!("absent {i}")).id)
            .collect();
        assert!(
            !o.hold(
                child(&a, &[&a], "far behind"),
                many,
                message(1),
                honest,
                now
            ),
            "an event lacking many parents is left to sync"
        );
        assert!(o.expired(now).is_empty());
        let expired = o.expired(now + ORPHAN_WAIT);
        assert_eq!(expired.len(), MAX_HELD_PER_PEER + 1);
        assert!(o.is_empty());
        assert_eq!(o.bytes, 0);
    }
}
