//! Rules that tie an event to its negotiation and its parents.

use crate::body::{GOVERNANCE_CHANNEL, PLENARY_CHANNEL};
use crate::event::{Event, EventError, MAX_CLOCK_SKEW_MS};
use crate::ids::{EventId, NegotiationId};

/// What a link check needs to know of a parent it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentInfo {
    pub lamport: u64,
    pub channel: String,
}

/// Channels every member receives: governance and plenary events form the shared DAG.
pub fn is_shared_channel(channel: &str) -> bool {
    channel == GOVERNANCE_CHANNEL || channel == PLENARY_CHANNEL
}

/// An event may build on shared events and on events of its own channel, nothing else: so the
/// members of a restricted channel hold every ancestor of its events, and nobody outside it
/// ever needs one of them.
pub fn may_build_on(child_channel: &str, parent_channel: &str) -> bool {
    is_shared_channel(parent_channel) || parent_channel == child_channel
}

/// Checks that `event` belongs to `negotiation`, that every parent is known (`parent` returns what
/// the caller holds of it) and may be built on from the event's channel, and that its lamport is
/// one more than its parents' highest.
pub fn check_links(
    event: &Event,
    negotiation: NegotiationId,
    parent: impl Fn(&EventId) -> Option<ParentInfo>,
) -> Result<(), EventError> {
    if event.negotiation() != negotiation {
        return Err(EventError::WrongNegotiation {
            expected: negotiation,
            got: event.negotiation().to_hex(),
        });
    }
    let mut highest: Option<u64> = None;
    for id in &event.header.parents {
        let info = parent(id).ok_or(EventError::ParentMissing { parent: *id })?;
        if !may_build_on(&event.header.channel, &info.channel) {
            return Err(EventError::InvalidHeader(format!(
                "an event in channel {:?} cannot build on {} of channel {:?}",
                event.header.channel,
                id.short(),
                info.channel
            )));
        }
        highest = Some(highest.map_or(info.lamport, |h| h.max(info.lamport)));
    }
    // A charter has no parents (checked with the header's shape) and lamport 0.
    let expected = highest.map_or(Some(0), |h| h.checked_add(1));
    match expected {
        Some(expected) if expected == event.header.lamport => Ok(()),
        Some(expected) => Err(EventError::LamportInconsistent {
            expected,
            got: event.header.lamport,
        }),
        None => Err(EventError::InvalidHeader("lamport overflows".into())),
    }
}

/// Checks that the author's clock is not implausibly ahead of ours (`now`, ms since the Unix epoch).
pub fn check_time(event: &Event, now: u64) -> Result<(), EventError> {
    if event.header.time > now.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(EventError::TimeInFuture {
            time: event.header.time,
            now,
        });
    }
    Ok(())
}
