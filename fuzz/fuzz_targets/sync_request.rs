//! `SyncRequest::decode`: typed errors only; accepted messages re-encode to their bytes.
#![no_main]

use entente_protocol::sync::SyncRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = SyncRequest::decode(data) {
        assert_eq!(
            request.encode(),
            data,
            "an accepted request re-encodes to other bytes"
        );
        entente_fuzz::assert_only_shortest_form("sync request", data, |b| {
            SyncRequest::decode(b).is_ok()
        });
    }
});
