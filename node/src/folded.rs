//! A negotiation's state kept up to date as events arrive, without folding the whole log again.
//!
//! Folding is in (lamport, id) order, so events that sort after everything folded so far can be
//! appended to the state; this is the usual case (new events build on the heads, and sync sends
//! in fold order). Anything else, such as a concurrent branch arriving late, is folded again
//! from the store.

use std::collections::HashSet;

use entente_protocol::{Event, EventId, FoldError, NegotiationState, fold};

/// New events waiting beyond this many are not worth keeping: fold from the store instead.
const MAX_PENDING: usize = 50_000;

pub(crate) struct Folded {
    state: Option<NegotiationState>,
    applied: HashSet<EventId>,
    top: Option<(u64, EventId)>,
    pending: Vec<Event>,
    stale: bool,
}

/// How a state was brought up to date (for logs and tests).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    Unchanged,
    Appended(usize),
    Refolded(usize),
}

impl Default for Folded {
    /// Nothing folded yet: the first use folds from the store.
    fn default() -> Self {
        Self {
            state: None,
            applied: HashSet::new(),
            top: None,
            pending: Vec::new(),
            stale: true,
        }
    }
}

impl Folded {
    pub(crate) fn new() -> Self {
        Self::default()
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
        if !self.stale && self.state.is_some() {
            if self.pending.is_empty() {
                return Ok(Refresh::Unchanged);
            }
            let mut pending = std::mem::take(&mut self.pending);
            pending.sort_by_key(Event::order_key);
            pending.dedup_by_key(|e| e.id);
            if self.top.is_none_or(|top| pending[0].order_key() > top)
                && let Some(state) = self.state.as_mut()
            {
                for e in &pending {
                    state.append(e);
                    self.applied.insert(e.id);
                }
                self.top = pending.last().map(Event::order_key);
                return Ok(Refresh::Appended(pending.len()));
            }
        }
        let events = load()?;
        let state = fold(&events)?;
        self.applied = events.iter().map(|e| e.id).collect();
        self.top = events.last().map(Event::order_key);
        self.state = Some(state);
        self.pending.clear();
        self.stale = false;
        Ok(Refresh::Refolded(events.len()))
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
        assert_eq!(how, Refresh::Refolded(4));
        let expected = fold(&store).expect("fold");
        assert_eq!(state.state_hash(), expected.state_hash());
        assert_eq!(state.heads, expected.heads);
        assert_eq!(f.current(load(&store)).expect("fold").1, Refresh::Unchanged);
    }
}
