//! `drafts::decode_versions` (a revision's text put back together from blob events): typed errors
//! only; accepted bytes re-encode to themselves.
#![no_main]

use entente_protocol::drafting::check_versions;
use entente_protocol::drafts::{decode_versions, encode_versions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(versions) = decode_versions(data) {
        assert_eq!(
            encode_versions(&versions),
            data,
            "accepted versions re-encode to other bytes"
        );
        let _ = check_versions(&versions, Some("en"));
        entente_fuzz::assert_only_shortest_form("versions", data, |b| decode_versions(b).is_ok());
        for v in &versions {
            let _ = v.document.hash();
            let _ = v.document.render();
        }
    }
});
