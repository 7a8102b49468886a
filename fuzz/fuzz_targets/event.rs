//! `Event::from_wire`: any bytes give an event or a typed error; an accepted event re-encodes to
//! exactly its bytes, and its body to exactly the signed body bytes.
#![no_main]

use entente_protocol::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Event::claimed_id(data);
    if let Ok(event) = Event::from_wire(data) {
        assert_eq!(
            event.to_wire(),
            data,
            "an accepted event re-encodes to other bytes"
        );
        assert_eq!(event.header.encode(), event.header_bytes());
        if let Some(body) = &event.body {
            assert_eq!(
                body.encode(),
                event.header.body,
                "a body re-encodes to other bytes"
            );
            assert_eq!(body.kind(), event.header.kind);
        }
        assert_eq!(Event::claimed_id(data), Some(event.id));
        entente_fuzz::assert_only_shortest_form("event", data, |b| Event::from_wire(b).is_ok());
    }
});
