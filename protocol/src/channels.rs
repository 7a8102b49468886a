//! Channels and their epoch keys, as part of the negotiation state.
//!
//! Every member reads `plenary`; every member but observers reads `limited`; the chair or a
//! mediator opens restricted channels for listed delegations. A channel's content is sealed
//! with the key of one of its epochs; keys travel in `keys` events, one envelope per member
//! device. These rules decide who may hold and use which key; opening envelopes is the
//! reader's business (`envelope`, `sealed`).

use std::collections::{BTreeMap, BTreeSet};

use crate::body::{PLENARY_CHANNEL, Role};
use crate::event::Event;
use crate::ids::{DelegationId, DeviceId, EventId};
use crate::sealed::SealedBody;
use crate::state::{Exclusion, NegotiationState};

/// Every member but observers reads this channel.
pub const LIMITED_CHANNEL: &str = "limited";
/// Longest channel name.
pub const MAX_CHANNEL_NAME: usize = 48;

/// Who reads a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelMembers {
    All,
    NonObservers,
    Listed(BTreeSet<DelegationId>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDef {
    pub members: ChannelMembers,
    /// The `channel` event that opened it; `None` for plenary and limited.
    pub created_by: Option<EventId>,
}

/// One epoch of a channel: its key's public id, and who was sent the key. Epochs are named by
/// their key id: two members who start an epoch at the same time both succeed, and each sealed
/// event names the key it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    /// The number its author gave it (one above the latest it knew of).
    pub number: u64,
    pub key_id: [u8; 16],
    pub defined_by: EventId,
    /// Position in fold order of the event that defined it.
    pub created_at: usize,
    /// Devices that were entitled to the channel when the epoch began.
    pub entitled_at_creation: BTreeSet<DeviceId>,
    /// Devices that were sent the key, by the defining event or by shares.
    pub holders: BTreeSet<DeviceId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    pub defs: BTreeMap<String, ChannelDef>,
    pub epochs: BTreeMap<(String, [u8; 16]), Epoch>,
    /// Position in fold order of the last membership change that a channel's current epoch must
    /// not outlive (a member of it removed, left, or lost the role that let it read).
    pub changed_at: BTreeMap<String, usize>,
}

impl Default for Channels {
    fn default() -> Self {
        let mut defs = BTreeMap::new();
        for (name, members) in [
            (PLENARY_CHANNEL, ChannelMembers::All),
            (LIMITED_CHANNEL, ChannelMembers::NonObservers),
        ] {
            defs.insert(
                name.to_string(),
                ChannelDef {
                    members,
                    created_by: None,
                },
            );
        }
        Self {
            defs,
            epochs: BTreeMap::new(),
            changed_at: BTreeMap::new(),
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CHANNEL_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !["governance", PLENARY_CHANNEL, LIMITED_CHANNEL].contains(&name)
}

impl NegotiationState {
    /// The member delegations that read `channel` now.
    pub fn channel_delegations(&self, channel: &str) -> Option<BTreeSet<DelegationId>> {
        let def = self.channels.defs.get(channel)?;
        let members = self.members.values().filter(|m| m.status.is_member());
        Some(match &def.members {
            ChannelMembers::All => members.map(|m| m.delegation).collect(),
            ChannelMembers::NonObservers => members
                .filter(|m| m.role != Role::Observer)
                .map(|m| m.delegation)
                .collect(),
            ChannelMembers::Listed(list) => members
                .filter(|m| list.contains(&m.delegation))
                .map(|m| m.delegation)
                .collect(),
        })
    }

    /// The devices that may hold `channel`'s keys now.
    pub fn entitled_devices(&self, channel: &str) -> BTreeSet<DeviceId> {
        self.channel_delegations(channel)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| self.members.get(d))
            .flat_map(|m| m.devices.keys().copied())
            .collect()
    }

    /// The channel's latest epoch in fold order, if it has one.
    pub fn current_epoch(&self, channel: &str) -> Option<(u64, &Epoch)> {
        self.epochs_of(channel)
            .max_by_key(|e| e.created_at)
            .map(|e| (e.number, e))
    }

    /// Every epoch of a channel.
    pub fn epochs_of(&self, channel: &str) -> impl Iterator<Item = &Epoch> + '_ {
        self.channels
            .epochs
            .range((channel.to_string(), [0u8; 16])..=(channel.to_string(), [0xff; 16]))
            .map(|(_, e)| e)
    }

    /// The epoch of a channel that a key id names.
    pub fn epoch(&self, channel: &str, key_id: &[u8; 16]) -> Option<&Epoch> {
        self.channels.epochs.get(&(channel.to_string(), *key_id))
    }

    /// Whether new content may still be sealed with this epoch: no member change since it began.
    pub fn epoch_is_fresh(&self, channel: &str, epoch: &Epoch) -> bool {
        self.channels
            .changed_at
            .get(channel)
            .is_none_or(|changed| *changed < epoch.created_at)
    }

    /// Channels the delegation reads now.
    pub fn channels_of(&self, delegation: &DelegationId) -> Vec<String> {
        let names: Vec<String> = self.channels.defs.keys().cloned().collect();
        names
            .into_iter()
            .filter(|c| {
                self.channel_delegations(c)
                    .is_some_and(|s| s.contains(delegation))
            })
            .collect()
    }

    /// Records that `delegation` stops reading every channel it read (before the change).
    pub(crate) fn channels_lose(&mut self, channels: &[String]) {
        for c in channels {
            self.channels.changed_at.insert(c.clone(), self.folded);
        }
    }

    pub(crate) fn open_channel(
        &mut self,
        event: &Event,
        author: DelegationId,
        role: Role,
        name: &str,
        members: &[DelegationId],
    ) -> Result<(), Exclusion> {
        if !matches!(role, Role::Chair | Role::Mediator) {
            return Err(Exclusion::NotAuthorized);
        }
        if !valid_name(name) {
            return Err(Exclusion::InvalidChannelName);
        }
        if self.channels.defs.contains_key(name) {
            return Err(Exclusion::ChannelExists);
        }
        if members
            .iter()
            .any(|d| !self.members.get(d).is_some_and(|m| m.status.is_member()))
        {
            return Err(Exclusion::NotAMember);
        }
        let mut listed: BTreeSet<DelegationId> = members.iter().copied().collect();
        listed.insert(author);
        self.channels.defs.insert(
            name.to_string(),
            ChannelDef {
                members: ChannelMembers::Listed(listed),
                created_by: Some(event.id),
            },
        );
        Ok(())
    }

    pub(crate) fn apply_keys(
        &mut self,
        event: &Event,
        author: DelegationId,
        role: Role,
        epoch: u64,
        key_id: [u8; 16],
        envelopes: &[(DeviceId, Vec<u8>)],
    ) -> Result<(), Exclusion> {
        let channel = event.header.channel.clone();
        let readers = self
            .channel_delegations(&channel)
            .ok_or(Exclusion::UnknownChannel)?;
        if !readers.contains(&author) {
            return Err(Exclusion::NotInChannel);
        }
        let entitled = self.entitled_devices(&channel);
        if envelopes.iter().any(|(d, _)| !entitled.contains(d)) {
            return Err(Exclusion::KeyToOutsider);
        }
        let recipients: BTreeSet<DeviceId> = envelopes.iter().map(|(d, _)| *d).collect();
        let Some(existing) = self.channels.epochs.get_mut(&(channel.clone(), key_id)) else {
            if epoch == 0 {
                return Err(Exclusion::EpochConflict);
            }
            self.channels.epochs.insert(
                (channel, key_id),
                Epoch {
                    number: epoch,
                    key_id,
                    defined_by: event.id,
                    created_at: self.folded,
                    entitled_at_creation: entitled,
                    holders: recipients,
                },
            );
            return Ok(());
        };
        if existing.number != epoch {
            return Err(Exclusion::EpochConflict);
        }
        // Sharing an epoch with a device that was not entitled when it began hands over history:
        // that is the chair's decision.
        if role != Role::Chair
            && recipients
                .iter()
                .any(|d| !existing.entitled_at_creation.contains(d))
        {
            return Err(Exclusion::HistoryNotAllowed);
        }
        existing.holders.extend(recipients);
        Ok(())
    }

    pub(crate) fn check_sealed(
        &self,
        event: &Event,
        author: DelegationId,
        sealed: &SealedBody,
    ) -> Result<(), Exclusion> {
        let channel = &event.header.channel;
        let readers = self
            .channel_delegations(channel)
            .ok_or(Exclusion::UnknownChannel)?;
        if !readers.contains(&author) {
            return Err(Exclusion::NotInChannel);
        }
        let epoch = self
            .epoch(channel, &sealed.key_id)
            .filter(|e| e.number == event.header.epoch)
            .ok_or(Exclusion::UnknownEpoch)?;
        if !self.epoch_is_fresh(channel, epoch) {
            return Err(Exclusion::StaleEpoch);
        }
        Ok(())
    }
}
