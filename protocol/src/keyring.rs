//! A reader's epoch keys: opened from the envelopes addressed to its device in the record.

use std::collections::BTreeMap;

use crate::body::Body;
use crate::envelope::{self, EnvelopeContext, EpochKey};
use crate::event::Event;
use crate::ids::DeviceId;
use crate::sealed::{self, SealError};
use crate::state::NegotiationState;

/// Why a sealed event cannot be read: shown to the reader, never a silent gap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error(
        "no key for channel {channel} epoch {epoch}: this device was not sent it (joined later, or not in the channel)"
    )]
    NoKey { channel: String, epoch: u64 },
    #[error("the key event for channel {channel} epoch {epoch} is excluded by the rules")]
    ExcludedKey { channel: String, epoch: u64 },
    #[error("cannot decrypt: {0}")]
    Broken(SealError),
    #[error("not a sealed event")]
    NotSealed,
}

/// Keys this device can open, by (channel, epoch, key id).
#[derive(Default)]
pub struct Keyring {
    keys: BTreeMap<(String, u64, [u8; 16]), EpochKey>,
}

impl Keyring {
    /// Opens every envelope addressed to `device` in the included key events of `events`.
    pub fn open(
        state: &NegotiationState,
        events: &[Event],
        device: &DeviceId,
        sealing_secret: &[u8; 32],
    ) -> Self {
        let included: std::collections::HashSet<_> = state
            .entries
            .iter()
            .filter(|e| e.excluded.is_none())
            .map(|e| e.id)
            .collect();
        let mut ring = Self::default();
        for e in events {
            let Some(Body::Keys {
                epoch,
                key_id,
                envelopes,
            }) = &e.body
            else {
                continue;
            };
            if !included.contains(&e.id) {
                continue;
            }
            let Some((_, message)) = envelopes.iter().find(|(d, _)| d == device) else {
                continue;
            };
            let Some(sender) = state.sealing_key_of(&e.header.author) else {
                continue;
            };
            let ctx = EnvelopeContext {
                negotiation: state.negotiation,
                channel: &e.header.channel,
                epoch: *epoch,
                recipient: *device,
            };
            if let Ok(key) = envelope::open(sealing_secret, &sender, &ctx, message)
                && key.id() == *key_id
            {
                ring.keys
                    .insert((e.header.channel.clone(), *epoch, *key_id), key);
            }
        }
        ring
    }

    pub fn get(&self, channel: &str, epoch: u64, key_id: &[u8; 16]) -> Option<&EpochKey> {
        self.keys.get(&(channel.to_string(), epoch, *key_id))
    }

    /// The content of a sealed event, or why it cannot be read.
    pub fn read(&self, state: &NegotiationState, event: &Event) -> Result<Body, Unreadable> {
        let Some(Body::Sealed(s)) = &event.body else {
            return Err(Unreadable::NotSealed);
        };
        let (channel, epoch) = (event.header.channel.clone(), event.header.epoch);
        match self.get(&channel, epoch, &s.key_id) {
            Some(key) => sealed::open(&event.header, key).map_err(Unreadable::Broken),
            None if state.epoch(&channel, &s.key_id).is_none() => {
                Err(Unreadable::ExcludedKey { channel, epoch })
            }
            None => Err(Unreadable::NoKey { channel, epoch }),
        }
    }
}
