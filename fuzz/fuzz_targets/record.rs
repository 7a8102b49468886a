//! `verify_record`: a record bundle verifies or gives a typed error; an accepted bundle
//! re-encodes to exactly its bytes.
#![no_main]

use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::{RecordSummary, public};
use libfuzzer_sys::fuzz_target;

/// Late enough for every event of the seeds, as a verifier's clock would be.
const NOW: u64 = entente_fuzz::T0 + 30 * 24 * 3600 * 1000;

fuzz_target!(|data: &[u8]| {
    let _ = public::is_public_text(data);
    if let Ok(record) = verify_record(data, NOW) {
        assert_eq!(
            encode_record(record.state.negotiation, &record.events),
            data,
            "an accepted record re-encodes to other bytes"
        );
        let _ = RecordSummary::of(&record.state);
        let _ = record.state.state_hash();
        entente_fuzz::assert_only_shortest_form("record", data, |b| verify_record(b, NOW).is_ok());
    }
});
