//! `SyncResponse::decode`: typed errors only; accepted messages re-encode to their bytes. The
//! events a response carries are decoded as a receiving node does.
#![no_main]

use entente_protocol::Event;
use entente_protocol::sync::SyncResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = SyncResponse::decode(data) {
        assert_eq!(
            response.encode(),
            data,
            "an accepted response re-encodes to other bytes"
        );
        entente_fuzz::assert_only_shortest_form("sync response", data, |b| {
            SyncResponse::decode(b).is_ok()
        });
        for wire in &response.events {
            let _ = Event::from_wire(wire);
        }
    }
});
