//! Rules that tie an event to its negotiation and its parents.

use crate::event::{Event, EventError, MAX_CLOCK_SKEW_MS};
use crate::ids::{EventId, NegotiationId};

/// Checks that `event` belongs to `negotiation`, that every parent is known (by `parent_lamport`,
/// which returns a known parent's lamport) and that its lamport is one more than its parents' highest.
pub fn check_links(
    event: &Event,
    negotiation: NegotiationId,
    parent_lamport: impl Fn(&EventId) -> Option<u64>,
) -> Result<(), EventError> {
    if event.negotiation() != negotiation {
        return Err(EventError::WrongNegotiation {
            expected: negotiation,
            got: event.negotiation().to_hex(),
        });
    }
    let mut highest: Option<u64> = None;
    for parent in &event.header.parents {
        let lamport =
            parent_lamport(parent).ok_or(EventError::ParentMissing { parent: *parent })?;
        highest = Some(highest.map_or(lamport, |h| h.max(lamport)));
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
