//! Checking many events at once on every core. Ed25519 verification is most of what ingesting a
//! sync batch costs, and each event's check is independent of the others'; the order-dependent
//! checks (links, membership) still run one by one afterwards.

use entente_protocol::{Event, EventError};
use rayon::prelude::*;

/// Parses and verifies each wire form, in parallel; results are in input order.
pub fn verify_all<W: AsRef<[u8]> + Sync>(wires: &[W]) -> Vec<Result<Event, EventError>> {
    wires
        .par_iter()
        .map(|w| Event::from_wire(w.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{charter, child};

    #[test]
    fn results_keep_input_order_and_a_bad_signature_fails_alone() {
        let g = charter();
        let a = child(&g, &[&g], "a");
        let mut forged = child(&g, &[&a], "b").to_wire();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let out = verify_all(&[g.to_wire(), forged, a.to_wire()]);
        assert_eq!(out[0].as_ref().map(|e| e.id).ok(), Some(g.id));
        assert!(matches!(out[1], Err(EventError::BadSignature)));
        assert_eq!(out[2].as_ref().map(|e| e.id).ok(), Some(a.id));
    }
}
