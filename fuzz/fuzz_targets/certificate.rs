//! `SignedCertificate::from_bytes` (a node's stored device certificate): typed errors only; an
//! accepted certificate re-encodes to its bytes (SPEC.md 1.1: one encoding per value).
#![no_main]

use entente_protocol::SignedCertificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = SignedCertificate::from_bytes(data) {
        assert_eq!(
            cert.to_bytes(),
            data,
            "an accepted certificate re-encodes to other bytes"
        );
        entente_fuzz::assert_only_shortest_form("certificate", data, |b| {
            SignedCertificate::from_bytes(b).is_ok()
        });
    }
});
