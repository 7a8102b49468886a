//! Encrypted event bodies: a content event's kind and body, padded and sealed with its channel's
//! epoch key, the rest of the header bound as associated data.
//!
//! A sealed event has kind `sealed`; its body is `[key_id: bstr16, nonce: bstr24, ciphertext]`.
//! The plaintext is `[kind: tstr, body: bstr]`, prefixed by its length (4 bytes, big endian) and
//! padded with zeros to the next size bucket, so that relays learn only a coarse size.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::body::Body;
use crate::cbor::{CborError, Dec, Enc, decode_canonical};
use crate::envelope::EpochKey;
use crate::event::{EventHeader, MAX_EVENT_BYTES};

pub const SEALED_KIND: &str = "sealed";
pub const SEALED_DOMAIN: &[u8] = b"entente/sealed/v1\0";
/// Padded plaintext sizes; larger plaintexts are rounded up to a multiple of the last one.
pub const PAD_BUCKETS: [usize; 5] = [256, 1024, 4096, 16384, 61440];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("malformed sealed body: {0}")]
    Malformed(#[from] CborError),
    #[error("the event is not sealed (kind {0:?})")]
    NotSealed(String),
    #[error("sealed with key {got}, not with the key given ({expected})")]
    WrongKey { expected: String, got: String },
    #[error("the sealed body does not decrypt (tampered, or the wrong key)")]
    Decrypt,
    #[error("the decrypted content is malformed: {0}")]
    Content(String),
    #[error("the content is too large to seal")]
    TooLarge,
}

/// The visible part of a sealed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBody {
    pub key_id: [u8; 16],
    pub nonce: [u8; 24],
    pub ciphertext: Vec<u8>,
}

impl SealedBody {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.array(3)
            .bytes(&self.key_id)
            .bytes(&self.nonce)
            .bytes(&self.ciphertext);
        e.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        decode_canonical(
            bytes,
            |d: &mut Dec<'_>| -> Result<Self, CborError> {
                d.array("sealed", 3)?;
                let key_id = d.bytes("key_id", 16)?;
                let key_id: [u8; 16] = key_id.try_into().map_err(|_| CborError {
                    at: 0,
                    what: "key_id: expected 16 bytes".into(),
                })?;
                let nonce = d.bytes("nonce", 24)?;
                let nonce: [u8; 24] = nonce.try_into().map_err(|_| CborError {
                    at: 0,
                    what: "nonce: expected 24 bytes".into(),
                })?;
                Ok(Self {
                    key_id,
                    nonce,
                    ciphertext: d.bytes("ciphertext", MAX_EVENT_BYTES)?.to_vec(),
                })
            },
            Self::encode,
        )
    }
}

/// What the AEAD authenticates besides the plaintext: the header with an empty body.
fn associated_data(header: &EventHeader) -> Vec<u8> {
    let mut h = header.clone();
    h.body = Vec::new();
    let mut ad = SEALED_DOMAIN.to_vec();
    ad.extend_from_slice(&h.encode());
    ad
}

fn padded_len(n: usize) -> usize {
    match PAD_BUCKETS.iter().find(|b| **b >= n) {
        Some(b) => *b,
        None => {
            let last = PAD_BUCKETS[PAD_BUCKETS.len() - 1];
            n.div_ceil(last) * last
        }
    }
}

fn pad(inner: &[u8]) -> Result<Vec<u8>, SealError> {
    let len = u32::try_from(inner.len()).map_err(|_| SealError::TooLarge)?;
    let mut p = Vec::with_capacity(padded_len(inner.len() + 4));
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(inner);
    p.resize(padded_len(inner.len() + 4), 0);
    Ok(p)
}

fn unpad(padded: &[u8]) -> Result<&[u8], SealError> {
    let (len, rest) = padded
        .split_first_chunk::<4>()
        .ok_or_else(|| SealError::Content("shorter than its length prefix".into()))?;
    let len = u32::from_be_bytes(*len) as usize;
    let (inner, padding) = rest
        .split_at_checked(len)
        .ok_or_else(|| SealError::Content("length prefix beyond the plaintext".into()))?;
    if padding.iter().any(|b| *b != 0) {
        return Err(SealError::Content("non-zero padding".into()));
    }
    Ok(inner)
}

/// Seals `content` into `header` (whose kind becomes `sealed`): sets `header.body`.
/// `nonce` must be 24 fresh random bytes.
pub fn seal_into(
    header: &mut EventHeader,
    content: &Body,
    key: &EpochKey,
    nonce: [u8; 24],
) -> Result<(), SealError> {
    header.kind = SEALED_KIND.to_string();
    header.body = Vec::new();
    let mut inner = Enc::new();
    inner.array(2).str(content.kind()).bytes(&content.encode());
    let plaintext = pad(&inner.finish())?;
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &plaintext,
                aad: &associated_data(header),
            },
        )
        .map_err(|_| SealError::TooLarge)?;
    header.body = SealedBody {
        key_id: key.id(),
        nonce,
        ciphertext,
    }
    .encode();
    Ok(())
}

/// The key id a sealed header was sealed with (readable without the key).
pub fn key_id_of(header: &EventHeader) -> Result<[u8; 16], SealError> {
    if header.kind != SEALED_KIND {
        return Err(SealError::NotSealed(header.kind.clone()));
    }
    Ok(SealedBody::decode(&header.body)?.key_id)
}

/// Decrypts a sealed header's content with `key`.
pub fn open(header: &EventHeader, key: &EpochKey) -> Result<Body, SealError> {
    if header.kind != SEALED_KIND {
        return Err(SealError::NotSealed(header.kind.clone()));
    }
    let sealed = SealedBody::decode(&header.body)?;
    if sealed.key_id != key.id() {
        return Err(SealError::WrongKey {
            expected: hex::encode(key.id()),
            got: hex::encode(sealed.key_id),
        });
    }
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let plaintext = cipher
        .decrypt(
            &XNonce::from(sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: &associated_data(header),
            },
        )
        .map_err(|_| SealError::Decrypt)?;
    let inner = unpad(&plaintext)?;
    let (kind, body) = decode_canonical(
        inner,
        |d: &mut Dec<'_>| -> Result<(String, Vec<u8>), CborError> {
            d.array("content", 2)?;
            Ok((
                d.str("kind", 64)?,
                d.bytes("body", MAX_EVENT_BYTES)?.to_vec(),
            ))
        },
        |(k, b)| {
            let mut e = Enc::new();
            e.array(2).str(k).bytes(b);
            e.finish()
        },
    )
    .map_err(|e| SealError::Content(e.to_string()))?;
    match Body::decode(&kind, &body) {
        Ok(Some(b)) if !b.is_governance() => Ok(b),
        Ok(Some(_)) => Err(SealError::Content(format!(
            "governance kind {kind:?} cannot be sealed"
        ))),
        Ok(None) => Err(SealError::Content(format!("unknown kind {kind:?}"))),
        Err(e) => Err(SealError::Content(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DeviceId, EventId};

    fn header() -> EventHeader {
        let mut h = EventHeader::new(
            Some(EventId([1; 32])),
            DeviceId([2; 32]),
            vec![EventId([3; 32])],
            1,
            1_760_000_000_000,
            &Body::Message {
                text: String::new(),
            },
        );
        h.epoch = 1;
        h
    }

    #[test]
    fn sealed_content_opens_with_its_key_only_and_hides_its_size() {
        let key = EpochKey([4; 32]);
        let secret = Body::Message {
            text: "MARKER-7f3a: our red line is paragraph 4".into(),
        };
        let mut h = header();
        seal_into(&mut h, &secret, &key, [9; 24]).expect("seals");
        assert_eq!(h.kind, SEALED_KIND);
        assert!(
            !h.body.windows(11).any(|w| w == b"MARKER-7f3a"),
            "plaintext visible"
        );
        assert_eq!(open(&h, &key), Ok(secret));
        assert_eq!(key_id_of(&h), Ok(key.id()));
        assert!(matches!(
            open(&h, &EpochKey([5; 32])),
            Err(SealError::WrongKey { .. })
        ));

        let mut short = header();
        seal_into(
            &mut short,
            &Body::Message { text: "a".into() },
            &key,
            [9; 24],
        )
        .expect("seals");
        let mut longer = header();
        seal_into(
            &mut longer,
            &Body::Message {
                text: "a".repeat(200),
            },
            &key,
            [9; 24],
        )
        .expect("seals");
        assert_eq!(
            short.body.len(),
            longer.body.len(),
            "both fit the first size bucket"
        );
    }

    #[test]
    fn the_header_is_bound_to_the_ciphertext() {
        let key = EpochKey([4; 32]);
        let mut h = header();
        seal_into(&mut h, &Body::Note { text: "x".into() }, &key, [1; 24]).expect("seals");
        for change in 0..3 {
            let mut t = h.clone();
            match change {
                0 => t.epoch = 2,
                1 => t.channel = "caucus".into(),
                _ => t.time += 1,
            }
            assert_eq!(open(&t, &key), Err(SealError::Decrypt), "change {change}");
        }
    }

    #[test]
    fn governance_cannot_hide_inside_a_sealed_body() {
        let key = EpochKey([4; 32]);
        let mut h = header();
        let leave = Body::Leave {
            reason: String::new(),
        };
        seal_into(&mut h, &leave, &key, [1; 24]).expect("seals");
        assert!(matches!(open(&h, &key), Err(SealError::Content(_))));
    }

    #[test]
    fn padding_is_checked() {
        assert_eq!(unpad(&pad(b"abc").expect("pads")), Ok(&b"abc"[..]));
        let mut p = pad(b"abc").expect("pads");
        p[100] = 1;
        assert!(unpad(&p).is_err());
        assert!(unpad(&[0, 0, 0, 9, 1]).is_err());
        assert_eq!(padded_len(70_000), 2 * 61440);
    }
}
