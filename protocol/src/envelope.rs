//! Epoch keys and the Noise envelopes that carry them to each member device.
//!
//! An envelope is the single message of the one-way pattern `Noise_X_25519_ChaChaPoly_SHA256`
//! from the sender's sealing key to the recipient's: the recipient learns the key and, from the
//! handshake itself, which sealing key sent it. The prologue binds the envelope to its
//! negotiation, channel, epoch and recipient, so it cannot be replayed elsewhere.

use sha2::{Digest, Sha256};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::ids::{DeviceId, NegotiationId, SealingKey};

pub const ENVELOPE_PATTERN: &str = "Noise_X_25519_ChaChaPoly_SHA256";
pub const ENVELOPE_DOMAIN: &[u8] = b"entente/envelope/v1\0";
pub const KEY_ID_DOMAIN: &[u8] = b"entente/epoch-key-id/v1\0";
/// Size of an envelope carrying a 32-byte key: ephemeral (32), encrypted static (32 + 16),
/// encrypted key (32 + 16).
pub const ENVELOPE_BYTES: usize = 128;

/// A channel's symmetric key for one epoch. Never printed, wiped when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct EpochKey(pub [u8; 32]);

impl std::fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EpochKey(id {})", hex::encode(self.id()))
    }
}

impl EpochKey {
    /// A public commitment to the key: lets anyone check that two events name the same key
    /// without learning it.
    pub fn id(&self) -> [u8; 16] {
        let d = Sha256::new()
            .chain_update(KEY_ID_DOMAIN)
            .chain_update(self.0)
            .finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope does not open with this device's sealing key")]
    CannotOpen,
    #[error("the envelope was sealed by {got}, not by the author's sealing key")]
    WrongSender { got: String },
    #[error("the envelope does not carry a 32-byte key")]
    BadPayload,
    #[error("noise: {0}")]
    Noise(String),
}

/// Where an envelope belongs; all of it goes into the Noise prologue.
#[derive(Debug, Clone, Copy)]
pub struct EnvelopeContext<'a> {
    pub negotiation: NegotiationId,
    pub channel: &'a str,
    pub epoch: u64,
    pub recipient: DeviceId,
}

fn prologue(ctx: &EnvelopeContext<'_>) -> Vec<u8> {
    let mut p = ENVELOPE_DOMAIN.to_vec();
    p.extend_from_slice(ctx.negotiation.as_bytes());
    p.extend_from_slice(&(ctx.channel.len() as u64).to_be_bytes());
    p.extend_from_slice(ctx.channel.as_bytes());
    p.extend_from_slice(&ctx.epoch.to_be_bytes());
    p.extend_from_slice(ctx.recipient.as_bytes());
    p
}

/// Entropy handed in by the caller: this crate draws no randomness of its own.
struct GivenEntropy(Vec<u8>);

impl Random for GivenEntropy {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        if dest.len() > self.0.len() {
            return Err(snow::Error::Rng);
        }
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0.zeroize();
        self.0 = rest;
        Ok(())
    }
}

impl Drop for GivenEntropy {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

struct Resolver {
    entropy: std::sync::Mutex<Option<Vec<u8>>>,
}

impl CryptoResolver for Resolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        let bytes = self.entropy.lock().ok()?.take().unwrap_or_default();
        Some(Box::new(GivenEntropy(bytes)))
    }
    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        DefaultResolver.resolve_dh(choice)
    }
    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        DefaultResolver.resolve_hash(choice)
    }
    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}

fn builder<'a>(entropy: Option<[u8; 32]>) -> Result<snow::Builder<'a>, EnvelopeError> {
    let params = ENVELOPE_PATTERN
        .parse()
        .map_err(|e: snow::Error| EnvelopeError::Noise(e.to_string()))?;
    let resolver = Resolver {
        entropy: std::sync::Mutex::new(entropy.map(|e| e.to_vec())),
    };
    Ok(snow::Builder::with_resolver(params, Box::new(resolver)))
}

/// Seals `key` to `recipient` from the sender's sealing secret. `entropy` must be 32 fresh random
/// bytes (the ephemeral key); reusing it across envelopes breaks their secrecy.
pub fn seal(
    sender_secret: &[u8; 32],
    recipient: &SealingKey,
    ctx: &EnvelopeContext<'_>,
    key: &EpochKey,
    entropy: [u8; 32],
) -> Result<Vec<u8>, EnvelopeError> {
    let prologue = prologue(ctx);
    let noise = |e: snow::Error| EnvelopeError::Noise(e.to_string());
    let mut hs = builder(Some(entropy))?
        .local_private_key(sender_secret)
        .map_err(noise)?
        .remote_public_key(recipient.as_bytes())
        .map_err(noise)?
        .prologue(&prologue)
        .map_err(noise)?
        .build_initiator()
        .map_err(noise)?;
    let mut out = vec![0u8; ENVELOPE_BYTES + 64];
    let n = hs.write_message(&key.0, &mut out).map_err(noise)?;
    out.truncate(n);
    Ok(out)
}

/// Opens an envelope with the recipient's sealing secret and checks that `expected_sender` sealed it.
pub fn open(
    recipient_secret: &[u8; 32],
    expected_sender: &SealingKey,
    ctx: &EnvelopeContext<'_>,
    envelope: &[u8],
) -> Result<EpochKey, EnvelopeError> {
    let prologue = prologue(ctx);
    let noise = |e: snow::Error| EnvelopeError::Noise(e.to_string());
    let mut hs = builder(None)?
        .local_private_key(recipient_secret)
        .map_err(noise)?
        .prologue(&prologue)
        .map_err(noise)?
        .build_responder()
        .map_err(noise)?;
    let mut payload = [0u8; 64];
    let n = hs
        .read_message(envelope, &mut payload)
        .map_err(|_| EnvelopeError::CannotOpen)?;
    let sender = hs.get_remote_static().ok_or(EnvelopeError::CannotOpen)?;
    if sender != expected_sender.as_bytes() {
        payload.zeroize();
        return Err(EnvelopeError::WrongSender {
            got: hex::encode(sender),
        });
    }
    if n != 32 {
        payload.zeroize();
        return Err(EnvelopeError::BadPayload);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&payload[..32]);
    payload.zeroize();
    Ok(EpochKey(key))
}

/// The X25519 public key of a sealing secret.
pub fn sealing_public(secret: &[u8; 32]) -> SealingKey {
    SealingKey(x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret)).to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EventId;

    fn ctx(recipient: DeviceId) -> EnvelopeContext<'static> {
        EnvelopeContext {
            negotiation: EventId([1; 32]),
            channel: "plenary",
            epoch: 3,
            recipient,
        }
    }

    #[test]
    fn an_envelope_opens_only_for_its_recipient_and_names_its_sender() {
        let (alice, bob, eve) = ([11u8; 32], [22u8; 32], [33u8; 32]);
        let key = EpochKey([7; 32]);
        let to_bob = ctx(DeviceId([2; 32]));
        let env = seal(&alice, &sealing_public(&bob), &to_bob, &key, [5; 32]).expect("seals");
        assert_eq!(env.len(), ENVELOPE_BYTES);
        assert_eq!(
            open(&bob, &sealing_public(&alice), &to_bob, &env),
            Ok(key.clone())
        );
        assert_eq!(
            open(&eve, &sealing_public(&alice), &to_bob, &env),
            Err(EnvelopeError::CannotOpen)
        );
        assert!(matches!(
            open(&bob, &sealing_public(&eve), &to_bob, &env),
            Err(EnvelopeError::WrongSender { .. })
        ));
        // Bound to its context: another epoch or recipient does not open it.
        let mut elsewhere = to_bob;
        elsewhere.epoch = 4;
        assert_eq!(
            open(&bob, &sealing_public(&alice), &elsewhere, &env),
            Err(EnvelopeError::CannotOpen)
        );
        let mut tampered = env.clone();
        tampered[60] ^= 1;
        assert!(open(&bob, &sealing_public(&alice), &to_bob, &tampered).is_err());
    }

    #[test]
    fn the_key_id_commits_to_the_key_and_debug_hides_it() {
        let k = EpochKey([9; 32]);
        assert_ne!(k.id(), EpochKey([8; 32]).id());
        assert!(!format!("{k:?}").contains("0909"));
    }
}
