//! `verify_public_text`: a public signed text verifies or gives a typed error, and what it
//! accepts holds together: every text hashes to what the adoption names.
#![no_main]

use entente_protocol::public;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = public::is_public_text(data);
    if let Ok(verified) = public::verify_public_text(data) {
        for (doc, summary) in verified.documents.iter().zip(&verified.summary.languages) {
            assert_eq!(hex::encode(doc.hash()), summary.hash);
        }
        let _ = verified.state.state_hash();
        entente_fuzz::assert_only_shortest_form("public text", data, |b| {
            public::verify_public_text(b).is_ok()
        });
    }
});
