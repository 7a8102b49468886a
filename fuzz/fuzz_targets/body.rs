//! `Body::decode` for every kind, past the signature check that keeps random bytes away from it
//! in the other targets: the first byte picks the kind, the rest is the body. Accepted bodies
//! re-encode to their bytes.
#![no_main]

use entente_protocol::Body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let kinds = entente_fuzz::all_kinds();
    let kind = kinds[usize::from(which) % kinds.len()];
    match Body::decode(kind, bytes) {
        Ok(Some(body)) => {
            assert_eq!(
                body.encode(),
                bytes,
                "an accepted {kind} body re-encodes to other bytes"
            );
            assert_eq!(body.kind(), kind);
            let _ = body.fixed_channel();
            entente_fuzz::assert_only_shortest_form(kind, bytes, |b| {
                matches!(Body::decode(kind, b), Ok(Some(_)))
            });
        }
        Ok(None) => assert!(
            !entente_fuzz::known_kind(kind),
            "known kind {kind} read as unknown"
        ),
        Err(_) => {}
    }
});
