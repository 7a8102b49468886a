//! A negotiation's state kept up to date as events arrive, without folding the whole log again.
//!
//! Folding is in (lamport, id) order, so events that sort after everything folded so far are
//! appended to the state; this is the usual case (new events build on the heads, and sync sends
//! in fold order). Concurrent events often arrive a little out of that order (two members speak
//! at once): for them the state goes back to a checkpoint at most a few hundred events old and
//! the events since are appended again, in order, with the late ones among them. Anything later
//! than that is folded again from the store.

use std::collections::HashSet;

use entente_protocol::{Checkpoint, Event, EventId, FoldError, NegotiationState, fold};

/// New events waiting beyond this many are not worth keeping: fold from the store instead.
const MAX_PENDING: usize = 50_000;
/// Events kept after the checkpoint: a late event within this many of the newest costs at most
/// twice this many appends instead of a full fold.
const WINDOW: usize = 256;

pub(crate) struct Folded {
    state: Option<NegotiationState>,
    applied: HashSet<EventId>,
    top: Option<(u64, EventId)>,
    /// The state before `tail`, and the fold-order key of its last event.
    checkpoint: Option<(Checkpoint, (u64, EventId))>,
    /// The events appended since the checkpoint, in fold order.
    tail: Vec<Event>,
    pending: Vec<Event>,
    stale: bool,
}

/// How a state was brought up to date (for logs and tests).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    Unchanged,
    Appended(usize),
    /// Went back to the checkpoint and appended this many events again.
    Rewound(usize),
    Refolded(usize),
}

impl Default for Folded {
    /// Nothing folded yet: the first use folds from the store.
    fn default() -> Self {
        Self {
            state: None,
            applied: HashSet::new(),
            top: None,
            checkpoint: None,
            tail: Vec::new(),
            pending: Vec::new(),
            stale: true,
        }
    }
}

impl Folded {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The state as last brought up to date, without what arrived since; `None` while an event
    /// that can take a device away (revocation, removal, leaving, readmission) waits to be
    /// folded, so that a yes from it is still true now.
    pub(crate) fn last_folded(&self) -> Option<&NegotiationState> {
        use entente_protocol::body::kind;
        let takes_devices = |e: &Event| {
            matches!(
                e.header.kind.as_str(),
                kind::REVOKE | kind::REMOVE | kind::LEAVE | kind::ACCREDIT
            )
        };
        if self.stale || self.pending.iter().any(takes_devices) {
            return None;
        }
        self.state.as_ref()
    }

    /// Notes a newly stored event of this negotiation.
    pub(crate) fn added(&mut self, event: &Event) {
        if self.stale || self.applied.contains(&event.id) {
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending = Vec::new();
            self.stale = true;
            return;
        }
        self.pending.push(event.clone());
    }

    /// The folded state, brought up to date first; `load` reads every event from the store, in
    /// fold order, when a full fold is needed.
    pub(crate) fn current<E: From<FoldError>>(
        &mut self,
        load: impl FnOnce() -> Result<Vec<Event>, E>,
    ) -> Result<(&NegotiationState, Refresh), E> {
        let refresh = self.refresh(load)?;
        match &self.state {
            Some(s) => Ok((s, refresh)),
            None => Err(FoldError::NoCharter.into()),
        }
    }

    fn refresh<E: From<FoldError>>(
        &mut self,
        load: impl FnOnce() -> Result<Vec<Event>, E>,
    ) -> Result<Refresh, E> {
        if !self.stale
            && let Some(state) = self.state.as_mut()
        {
            if self.pending.is_empty() {
                return Ok(Refresh::Unchanged);
            }
            let mut pending = std::mem::take(&mut self.pending);
            pending.sort_by_key(Event::order_key);
            pending.dedup_by_key(|e| e.id);
            let first = pending[0].order_key();
            if self.top.is_none_or(|top| first > top) {
                for e in &pending {
                    state.append(e);
                    self.applied.insert(e.id);
                }
                self.top = pending.last().map(Event::order_key);
                let n = pending.len();
                self.tail.extend(pending);
                self.advance_checkpoint();
                return Ok(Refresh::Appended(n));
            }
            if let Some((checkpoint, at)) = &self.checkpoint
                && first > *at
            {
                state.rewind(checkpoint);
                let mut tail = std::mem::take(&mut self.tail);
                tail.extend(pending);
                tail.sort_by_key(Event::order_key);
                for e in &tail {
                    state.append(e);
                    self.applied.insert(e.id);
                }
                self.top = tail.last().map(Event::order_key);
                let n = tail.len();
                self.tail = tail;
                self.advance_checkpoint();
                return Ok(Refresh::Rewound(n));
            }
        }
        let events = load()?;
        // Fold all but the last WINDOW events, checkpoint, then append those.
        let split = events.len().saturating_sub(WINDOW).max(1).min(events.len());
        let mut state = fold(&events[..split])?;
        let checkpoint = (state.checkpoint(), events[split - 1].order_key());
        for e in &events[split..] {
            state.append(e);
        }
        self.applied = events.iter().map(|e| e.id).collect();
        self.top = events.last().map(Event::order_key);
        self.tail = events[split..].to_vec();
        self.checkpoint = Some(checkpoint);
        self.state = Some(state);
        self.pending.clear();
        self.stale = false;
        Ok(Refresh::Refolded(events.len()))
    }

    /// Keeps the tail short: once it holds twice the window, the checkpoint moves up to the
    /// window's start (going back and appending again, which a full fold would also do).
    fn advance_checkpoint(&mut self) {
        if self.tail.len() < 2 * WINDOW {
            return;
        }
        let (Some(state), Some((checkpoint, _))) = (self.state.as_mut(), self.checkpoint.as_ref())
        else {
            return;
        };
        let keep = self.tail.split_off(self.tail.len() - WINDOW);
        state.rewind(checkpoint);
        for e in &self.tail {
            state.append(e);
        }
        let at = self.tail.last().map(Event::order_key);
        if let Some(at) = at {
            self.checkpoint = Some((state.checkpoint(), at));
        }
        for e in &keep {
            state.append(e);
        }
        self.tail = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{charter, child};

    fn load(events: &[Event]) -> impl FnOnce() -> Result<Vec<Event>, FoldError> + '_ {
        move || {
            let mut v = events.to_vec();
            v.sort_by_key(Event::order_key);
            Ok(v)
        }
    }

    /// A state that has not folded a pending revocation does not vouch for devices.
    #[test]
    fn the_last_folded_state_is_not_offered_while_a_revocation_waits() {
        use entente_protocol::event::EventHeader;
        use entente_protocol::identity::device_id;
        let neg = charter();
        let mut f = Folded::new();
        assert!(f.last_folded().is_none(), "nothing folded yet");
        f.current(load(std::slice::from_ref(&neg))).expect("fold");
        let said = child(&neg, &[&neg], "hello");
        f.added(&said);
        assert!(f.last_folded().is_some(), "a message takes no device away");
        let body = entente_protocol::Body::Revoke {
            device: device_id(&crate::store::tests::key()),
            reason: "stolen".into(),
        };
        let header = EventHeader::new(
            Some(neg.id),
            device_id(&crate::store::tests::key()),
            vec![said.id],
            2,
            3,
            &body,
        );
        let revoke = Event::sign(header, &crate::store::tests::key()).expect("signs");
        f.added(&revoke);
        assert!(f.last_folded().is_none());
        let all = [neg.clone(), said, revoke];
        f.current(load(&all)).expect("fold");
        assert!(f.last_folded().is_some(), "folded, it is current again");
    }

    /// Rounds of concurrent events delivered newest id first (each one sorting before the one
    /// folded just before it), over many windows, then a branch from far back: the state is
    /// always the one a full fold of what was delivered gives.
    #[test]
    fn late_concurrent_events_give_the_full_fold_state() {
        let neg = charter();
        let mut store = vec![neg.clone()];
        let mut f = Folded::new();
        f.current(load(&store)).expect("fold");
        let mut heads = vec![neg.clone()];
        let mut rewound = 0;
        for round in 0..300 {
            let parents: Vec<&Event> = heads.iter().collect();
            let mut burst: Vec<Event> = (0..3)
                .map(|i| child(&neg, &parents, &format!("r{round} e{i}")))
                .collect();
            burst.sort_by_key(|e| std::cmp::Reverse(e.id));
            for e in &burst {
                store.push(e.clone());
                f.added(e);
                let (state, how) = f.current(load(&store)).expect("fold");
                if matches!(how, Refresh::Rewound(_)) {
                    rewound += 1;
                }
                assert!(
                    !matches!(how, Refresh::Refolded(_)),
                    "round {round}: {how:?}"
                );
                let full = fold(&store).expect("fold");
                assert_eq!(state.state_hash(), full.state_hash(), "round {round}");
                assert_eq!(state.heads, full.heads, "round {round}");
            }
            heads = burst;
        }
        assert!(
            rewound > 300,
            "late events were folded by going back ({rewound})"
        );
        // A branch from the charter sorts before hundreds of events: folded again from the store.
        let old = child(&neg, &[&neg], "very late");
        store.push(old.clone());
        f.added(&old);
        let (state, how) = f.current(load(&store)).expect("fold");
        assert_eq!(how, Refresh::Refolded(store.len()));
        assert_eq!(state.state_hash(), fold(&store).expect("fold").state_hash());
    }

    #[test]
    fn appending_in_fold_order_matches_a_full_fold_and_late_branches_refold() {
        let neg = charter();
        let a = child(&neg, &[&neg], "a");
        let b = child(&neg, &[&a], "b");
        // Concurrent with `a`, and sorting before `b`: it cannot be appended after `b`.
        let late = child(&neg, &[&neg], "late");
        let mut store = vec![neg.clone()];
        let mut f = Folded::new();
        assert_eq!(
            f.current(load(&store)).expect("fold").1,
            Refresh::Refolded(1)
        );
        for e in [&a, &b] {
            store.push(e.clone());
            f.added(e);
            f.added(e); // reported twice (network and arrival log): folded once
        }
        let (state, how) = f.current(load(&store)).expect("fold");
        assert_eq!(how, Refresh::Appended(2));
        let expected = fold(&store).expect("fold");
        assert_eq!(state.state_hash(), expected.state_hash());
        assert_eq!(state.heads, expected.heads);

        store.push(late.clone());
        f.added(&late);
        let (state, how) = f.current(load(&store)).expect("fold");
        assert_eq!(how, Refresh::Rewound(3));
        let expected = fold(&store).expect("fold");
        assert_eq!(state.state_hash(), expected.state_hash());
        assert_eq!(state.heads, expected.heads);
        assert_eq!(f.current(load(&store)).expect("fold").1, Refresh::Unchanged);
    }
}
