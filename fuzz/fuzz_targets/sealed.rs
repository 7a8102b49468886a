//! Sealed bodies: `SealedBody::decode`, `sealed::key_id_of` and `sealed::open`. Random bytes never
//! pass the AEAD, so two of the four modes encrypt the input with the right key and header: the
//! padding and the decrypted content are then what the fuzzer controls.
#![no_main]

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use entente_protocol::envelope::EpochKey;
use entente_protocol::event::EventHeader;
use entente_protocol::ids::{DeviceId, EventId};
use entente_protocol::sealed::{self, SEALED_DOMAIN, SEALED_KIND, SealedBody};
use libfuzzer_sys::fuzz_target;

const KEY: EpochKey = EpochKey([0x44; 32]);
const NONCE: [u8; 24] = [0x55; 24];

fn header(body: Vec<u8>) -> EventHeader {
    EventHeader {
        version: 1,
        negotiation: Some(EventId([1; 32])),
        author: DeviceId([2; 32]),
        parents: vec![EventId([3; 32])],
        lamport: 1,
        time: entente_fuzz::T0,
        channel: "plenary".into(),
        epoch: 1,
        kind: SEALED_KIND.into(),
        body,
    }
}

/// A header whose body is `plaintext` sealed with `KEY` (bound to the header as the protocol does).
fn sealed_header(plaintext: &[u8]) -> EventHeader {
    let mut h = header(Vec::new());
    let mut aad = SEALED_DOMAIN.to_vec();
    aad.extend_from_slice(&h.encode());
    let ciphertext = XChaCha20Poly1305::new((&KEY.0).into())
        .encrypt(
            &XNonce::from(NONCE),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .expect("encrypts");
    h.body = SealedBody {
        key_id: KEY.id(),
        nonce: NONCE,
        ciphertext,
    }
    .encode();
    h
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(body) = SealedBody::decode(rest) {
                assert_eq!(
                    body.encode(),
                    rest,
                    "an accepted sealed body re-encodes to other bytes"
                );
                entente_fuzz::assert_only_shortest_form("sealed body", rest, |b| {
                    SealedBody::decode(b).is_ok()
                });
            }
        }
        1 => {
            let h = header(rest.to_vec());
            let _ = sealed::key_id_of(&h);
            let _ = sealed::open(&h, &KEY);
        }
        2 => {
            // The input is the whole plaintext: length prefix, content and padding.
            let _ = sealed::open(&sealed_header(rest), &KEY);
        }
        _ => {
            // The input is the content; the length prefix and padding are right.
            let mut plaintext = (rest.len() as u32).to_be_bytes().to_vec();
            plaintext.extend_from_slice(rest);
            plaintext.resize(plaintext.len().div_ceil(256) * 256, 0);
            if let Ok(body) = sealed::open(&sealed_header(&plaintext), &KEY) {
                assert!(
                    !body.is_governance(),
                    "governance content opened from a sealed body"
                );
            }
        }
    }
});
