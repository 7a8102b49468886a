//! `envelope::open` (an epoch key sealed to this device with Noise X). Random bytes never pass
//! the handshake, so besides raw input two modes wrap the input as the payload of a genuine
//! Noise message, from the expected sender or from another one.
#![no_main]

use entente_protocol::envelope::{
    self, ENVELOPE_DOMAIN, ENVELOPE_PATTERN, EnvelopeContext, EnvelopeError, sealing_public,
};
use entente_protocol::ids::{DeviceId, EventId};
use libfuzzer_sys::fuzz_target;
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};

const SENDER: [u8; 32] = [0x11; 32];
const RECIPIENT: [u8; 32] = [0x22; 32];

fn ctx() -> EnvelopeContext<'static> {
    EnvelopeContext {
        negotiation: EventId([1; 32]),
        channel: "plenary",
        epoch: 1,
        recipient: DeviceId([2; 32]),
    }
}

/// The prologue `envelope` binds an envelope to (SPEC.md section 9).
fn prologue(ctx: &EnvelopeContext<'_>) -> Vec<u8> {
    let mut p = ENVELOPE_DOMAIN.to_vec();
    p.extend_from_slice(ctx.negotiation.as_bytes());
    p.extend_from_slice(&(ctx.channel.len() as u64).to_be_bytes());
    p.extend_from_slice(ctx.channel.as_bytes());
    p.extend_from_slice(&ctx.epoch.to_be_bytes());
    p.extend_from_slice(ctx.recipient.as_bytes());
    p
}

struct Fixed;

impl Random for Fixed {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        dest.fill(0x33);
        Ok(())
    }
}

struct Resolver;

impl CryptoResolver for Resolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(Fixed))
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

/// A Noise X message from `sender` to the recipient carrying `payload`.
fn noise_message(sender: &[u8; 32], payload: &[u8]) -> Option<Vec<u8>> {
    let params = ENVELOPE_PATTERN.parse().ok()?;
    let mut hs = snow::Builder::with_resolver(params, Box::new(Resolver))
        .local_private_key(sender)
        .ok()?
        .remote_public_key(sealing_public(&RECIPIENT).as_bytes())
        .ok()?
        .prologue(&prologue(&ctx()))
        .ok()?
        .build_initiator()
        .ok()?;
    let mut out = vec![0u8; payload.len() + 256];
    let n = hs.write_message(payload, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let expected = sealing_public(&SENDER);
    let (message, sender) = match mode % 3 {
        0 => (rest.to_vec(), None),
        1 => match noise_message(&SENDER, rest) {
            Some(m) => (m, Some(SENDER)),
            None => return,
        },
        _ => {
            let other = [mode | 1; 32];
            match noise_message(&other, rest) {
                Some(m) => (m, Some(other)),
                None => return,
            }
        }
    };
    let opened = envelope::open(&RECIPIENT, &expected, &ctx(), &message);
    match (sender, &opened) {
        (Some(s), Ok(key)) => {
            assert_eq!(s, SENDER, "an envelope from another sender opened");
            assert_eq!(&key.0[..], rest, "the opened key is not the payload");
        }
        (Some(s), Err(EnvelopeError::WrongSender { .. })) => {
            assert_ne!(
                sealing_public(&s),
                expected,
                "the expected sender was refused"
            );
        }
        _ => {}
    }
});
