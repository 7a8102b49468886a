//! Delegation and device identities, device certificates, fingerprints and safety words.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::cbor::{CborError, Dec, Enc, decode_canonical};
use crate::ids::{DelegationId, DeviceId, SealingKey};

/// Domain tag prepended to certificate bytes before signing.
pub const CERTIFICATE_DOMAIN: &[u8] = b"entente/device-certificate/v1\0";
/// Domain tag of fingerprints and safety words.
pub const FINGERPRINT_DOMAIN: &[u8] = b"entente/fingerprint/v1\0";
/// Longest device label, in bytes of UTF-8.
pub const MAX_LABEL_BYTES: usize = 128;

/// Why a device certificate is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("malformed device certificate: {0}")]
    Malformed(#[from] CborError),
    #[error("the delegation key in the certificate is not a valid Ed25519 key")]
    InvalidDelegationKey,
    #[error("the device key in the certificate is not a valid Ed25519 key")]
    InvalidDeviceKey,
    #[error("the delegation's signature on the device certificate does not verify")]
    BadSignature,
}

/// A delegation's statement that a device (and its sealing key) acts for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    pub delegation: DelegationId,
    pub device: DeviceId,
    pub sealing_key: SealingKey,
    pub label: String,
    /// Milliseconds since the Unix epoch after which the certificate no longer holds; `None`: no expiry.
    pub not_after: Option<u64>,
}

impl DeviceCertificate {
    fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.array(5)
            .bytes(self.delegation.as_bytes())
            .bytes(self.device.as_bytes())
            .bytes(self.sealing_key.as_bytes())
            .str(&self.label);
        match self.not_after {
            Some(t) => e.u64(t),
            None => e.null(),
        };
        e.finish()
    }

    fn decode(d: &mut Dec<'_>) -> Result<Self, CborError> {
        d.array("certificate", 5)?;
        Ok(Self {
            delegation: DelegationId(d.bytes32("delegation")?),
            device: DeviceId(d.bytes32("device")?),
            sealing_key: SealingKey(d.bytes32("sealing_key")?),
            label: d.str("label", MAX_LABEL_BYTES)?,
            not_after: d.opt_u64("not_after")?,
        })
    }

    /// Whether the certificate holds at `time` (milliseconds since the Unix epoch).
    pub fn valid_at(&self, time: u64) -> bool {
        self.not_after.is_none_or(|t| time <= t)
    }
}

/// A device certificate with the exact bytes that its delegation signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificate {
    pub certificate: DeviceCertificate,
    bytes: Vec<u8>,
    signature: [u8; 64],
}

impl SignedCertificate {
    /// Signs `certificate` with the delegation key. The certificate's delegation must be that key.
    pub fn issue(delegation_key: &SigningKey, mut certificate: DeviceCertificate) -> Self {
        certificate.delegation = DelegationId(delegation_key.verifying_key().to_bytes());
        let bytes = certificate.encode();
        let signature = delegation_key
            .sign(&signing_input(CERTIFICATE_DOMAIN, &bytes))
            .to_bytes();
        Self {
            certificate,
            bytes,
            signature,
        }
    }

    pub(crate) fn encode_into(&self, e: &mut Enc) {
        e.array(2).bytes(&self.bytes).bytes(&self.signature);
    }

    pub(crate) fn decode(d: &mut Dec<'_>) -> Result<Self, CertificateError> {
        d.array("signed certificate", 2)?;
        let bytes = d.bytes("certificate bytes", 1024)?.to_vec();
        let signature = d.bytes64("certificate signature")?;
        let certificate =
            decode_canonical(&bytes, DeviceCertificate::decode, DeviceCertificate::encode)?;
        let key = VerifyingKey::from_bytes(certificate.delegation.as_bytes())
            .map_err(|_| CertificateError::InvalidDelegationKey)?;
        VerifyingKey::from_bytes(certificate.device.as_bytes())
            .map_err(|_| CertificateError::InvalidDeviceKey)?;
        key.verify_strict(
            &signing_input(CERTIFICATE_DOMAIN, &bytes),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| CertificateError::BadSignature)?;
        Ok(Self {
            certificate,
            bytes,
            signature,
        })
    }

    /// The standalone encoding (as kept in a node's home directory).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::new();
        self.encode_into(&mut e);
        e.finish()
    }

    /// Parses and verifies a standalone encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CertificateError> {
        let mut d = Dec::new(bytes);
        let c = Self::decode(&mut d)?;
        d.end()?;
        Ok(c)
    }
}

pub(crate) fn signing_input(domain: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(domain.len() + bytes.len());
    v.extend_from_slice(domain);
    v.extend_from_slice(bytes);
    v
}

/// The public half of an Ed25519 signing key as a delegation id.
pub fn delegation_id(key: &SigningKey) -> DelegationId {
    DelegationId(key.verifying_key().to_bytes())
}

/// The public half of an Ed25519 signing key as a device id.
pub fn device_id(key: &SigningKey) -> DeviceId {
    DeviceId(key.verifying_key().to_bytes())
}

/// What two people compare out of band to know they hold the same key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fingerprint {
    /// 16 base32 characters in groups of four, e.g. `MFRG-GZDF-MZTW-Q2LK`.
    pub short: String,
    /// Six English words (BIP-39 list) that are easy to read aloud over a phone line.
    pub words: Vec<String>,
}

/// Fingerprint and safety words of any 32-byte public key (see SPEC.md, "Fingerprints").
pub fn fingerprint(key: &[u8; 32]) -> Fingerprint {
    let digest = Sha256::new()
        .chain_update(FINGERPRINT_DOMAIN)
        .chain_update(key)
        .finalize();
    let b32 = data_encoding::BASE32_NOPAD.encode(&digest[..10]);
    let short = b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    // Six 11-bit indexes from bytes 10..19, most significant bit first.
    let mut acc: u128 = 0;
    for b in &digest[10..19] {
        acc = (acc << 8) | u128::from(*b);
    }
    let list = bip39::Language::English.word_list();
    let words = (0..6)
        .map(|i| {
            let shift = 72 - 11 * (i + 1);
            list[((acc >> shift) & 0x7ff) as usize].to_string()
        })
        .collect();
    Fingerprint { short, words }
}
