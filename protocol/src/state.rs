//! Negotiation state: a pure function of a set of events.
//!
//! Events are folded in the order (lamport, id) through the authorization rules. An event that
//! the rules do not allow stays in the record but is excluded from the state, with a reason,
//! identically on every node.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::body::{Body, Charter, Role};
use crate::cbor::Enc;
use crate::event::Event;
use crate::identity::SignedCertificate;
use crate::ids::{DelegationId, DeviceId, EventId, NegotiationId, SealingKey};

/// Domain tag of the state hash.
pub const STATE_DOMAIN: &[u8] = b"entente/state/v1\0";

/// Where a delegation stands in the negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Accredited by the chair; no device has joined yet.
    Accredited,
    /// At least one device has joined.
    Active,
    Left,
    Removed,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Accredited => "accredited",
            MemberStatus::Active => "active",
            MemberStatus::Left => "left",
            MemberStatus::Removed => "removed",
        }
    }

    /// Accredited or active: the chair's decisions apply to it.
    pub fn is_member(self) -> bool {
        matches!(self, MemberStatus::Accredited | MemberStatus::Active)
    }
}

/// A device that joined for a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub device: DeviceId,
    pub label: String,
    pub sealing_key: SealingKey,
    pub not_after: Option<u64>,
    /// The charter or join event that brought the device in.
    pub joined_by: EventId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub delegation: DelegationId,
    pub name: String,
    pub role: Role,
    pub status: MemberStatus,
    pub devices: BTreeMap<DeviceId, Device>,
}

/// Why the rules keep an event out of the state. The code is part of the state hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum Exclusion {
    #[error("the author's device is not a device of any member")]
    UnknownAuthor,
    #[error("the author's delegation has left or was removed")]
    InactiveAuthor,
    #[error("the author's device certificate had expired")]
    CertificateExpired,
    #[error("the author's role may not do this")]
    NotAuthorized,
    #[error("the event is in the wrong channel for its kind")]
    WrongChannel,
    #[error("the delegation is already a member")]
    AlreadyMember,
    #[error("the delegation is not a member")]
    NotAMember,
    #[error("the negotiation would be left without a chair")]
    LastChair,
    #[error("the joining device does not match its certificate")]
    CertificateMismatch,
    #[error("the device already acts for a delegation")]
    DeviceInUse,
    #[error("the kind of event is unknown to this version")]
    UnknownKind,
    #[error("a negotiation has exactly one charter")]
    SecondCharter,
    #[error("no such channel")]
    UnknownChannel,
    #[error("the author's delegation does not read this channel")]
    NotInChannel,
    #[error("a channel of that name exists already")]
    ChannelExists,
    #[error("a key was sealed to a device outside the channel")]
    KeyToOutsider,
    #[error("the key event gives a known key another epoch number, or epoch 0")]
    EpochConflict,
    #[error("sealed with an epoch key the channel does not have")]
    UnknownEpoch,
    #[error("sealed with an epoch key that predates a change of the channel's members")]
    StaleEpoch,
    #[error("only the chair may share a channel's earlier history with a newcomer")]
    HistoryNotAllowed,
    #[error("channel names are 1 to 48 of a-z, 0-9 and -, and not reserved")]
    InvalidChannelName,
    #[error("drafting content must be sealed in its channel")]
    Unsealed,
    #[error("it refers to a silence procedure or adoption that is not in the state")]
    UnknownReference,
    #[error("the text hash differs from the one adopted or put under silence")]
    HashMismatch,
    #[error("the silence procedure is already closed")]
    AlreadyClosed,
    #[error("the revision is already adopted")]
    AlreadyAdopted,
    #[error("the same act by the same delegation or device is already recorded")]
    Duplicate,
    #[error("a silence procedure's deadline must come after its opening")]
    DeadlineNotAfterOpening,
    #[error("the silence procedure named is not closed")]
    SilenceNotClosed,
}

impl Exclusion {
    /// The stable number that stands for the reason in the state hash (SPEC.md, "State hash").
    pub fn code(self) -> u64 {
        match self {
            Exclusion::UnknownAuthor => 1,
            Exclusion::InactiveAuthor => 2,
            Exclusion::CertificateExpired => 3,
            Exclusion::NotAuthorized => 4,
            Exclusion::WrongChannel => 5,
            Exclusion::AlreadyMember => 6,
            Exclusion::NotAMember => 7,
            Exclusion::LastChair => 8,
            Exclusion::CertificateMismatch => 9,
            Exclusion::DeviceInUse => 10,
            Exclusion::UnknownKind => 11,
            Exclusion::SecondCharter => 12,
            Exclusion::UnknownChannel => 13,
            Exclusion::NotInChannel => 14,
            Exclusion::ChannelExists => 15,
            Exclusion::KeyToOutsider => 16,
            Exclusion::EpochConflict => 17,
            Exclusion::UnknownEpoch => 18,
            Exclusion::StaleEpoch => 19,
            Exclusion::HistoryNotAllowed => 20,
            Exclusion::InvalidChannelName => 21,
            Exclusion::Unsealed => 22,
            Exclusion::UnknownReference => 23,
            Exclusion::HashMismatch => 24,
            Exclusion::AlreadyClosed => 25,
            Exclusion::AlreadyAdopted => 26,
            Exclusion::Duplicate => 27,
            Exclusion::DeadlineNotAfterOpening => 28,
            Exclusion::SilenceNotClosed => 29,
        }
    }
}

/// The outcome of folding one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: EventId,
    /// The delegation the author's device acted for, when known.
    pub delegation: Option<DelegationId>,
    /// `None`: included in the state.
    pub excluded: Option<Exclusion>,
    /// In a shared channel (governance or plenary): every member holds it.
    pub shared: bool,
    pub lamport: u64,
    /// The time the author claims (milliseconds since the Unix epoch).
    pub time: u64,
    pub parents: Vec<EventId>,
    /// The author's role when the event was folded.
    pub role: Option<Role>,
    /// Whether the author's delegation held the pen (may circulate revisions) then.
    pub pen: bool,
}

/// Why a set of events does not make a negotiation at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("no charter: the negotiation's genesis event is missing")]
    NoCharter,
    #[error("event {0} belongs to another negotiation")]
    ForeignEvent(EventId),
    #[error("the charter is invalid: {0}")]
    InvalidCharter(String),
}

/// The negotiation as every node that holds the same events sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiationState {
    pub negotiation: NegotiationId,
    pub charter: Charter,
    pub members: BTreeMap<DelegationId, Member>,
    /// Every event in fold order with its verdict.
    pub entries: Vec<Entry>,
    /// Events that no other event names as a parent, ascending.
    pub heads: Vec<EventId>,
    pub channels: crate::channels::Channels,
    /// Pen-holders, silence procedures, objections, adoptions and signatures.
    pub procedure: crate::procedure::Procedure,
    devices: BTreeMap<DeviceId, DelegationId>,
    /// Every device that ever joined, revoked ones too: the envelopes they sealed stay openable.
    sealing_keys: BTreeMap<DeviceId, SealingKey>,
    /// Events folded so far (including excluded ones): a position in fold order.
    pub(crate) folded: usize,
}

/// A state without its entries, and how many entries it had: see [`NegotiationState::checkpoint`].
#[derive(Debug, Clone)]
pub struct Checkpoint {
    state: NegotiationState,
    entries: usize,
}

/// Folds a negotiation's events (in any order; duplicates are ignored) into its state.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<NegotiationState, FoldError> {
    let mut by_id: BTreeMap<(u64, EventId), &Event> = BTreeMap::new();
    for e in events {
        by_id.insert(e.order_key(), e);
    }
    let charter_event = by_id
        .values()
        .find(|e| matches!(e.body, Some(Body::Charter(_))) && e.header.negotiation.is_none())
        .copied()
        .ok_or(FoldError::NoCharter)?;
    let mut state = NegotiationState::genesis(charter_event)?;
    let mut named_as_parent = BTreeSet::new();
    for event in by_id.values() {
        if event.negotiation() != state.negotiation {
            return Err(FoldError::ForeignEvent(event.id));
        }
        named_as_parent.extend(event.header.parents.iter().copied());
        if event.id != charter_event.id {
            let entry = state.apply(event);
            state.entries.push(entry);
        }
    }
    state.heads = by_id
        .values()
        .map(|e| e.id)
        .filter(|id| !named_as_parent.contains(id))
        .collect();
    state.heads.sort();
    Ok(state)
}

impl NegotiationState {
    fn genesis(event: &Event) -> Result<Self, FoldError> {
        let Some(Body::Charter(charter)) = &event.body else {
            return Err(FoldError::NoCharter);
        };
        let cert = &charter.chair.certificate;
        if cert.device != event.header.author {
            return Err(FoldError::InvalidCharter(
                "the charter's author is not the device its certificate names".into(),
            ));
        }
        if !cert.valid_at(event.header.time) {
            return Err(FoldError::InvalidCharter(
                "the convener's device certificate had expired".into(),
            ));
        }
        let mut state = Self {
            negotiation: event.id,
            charter: charter.clone(),
            members: BTreeMap::new(),
            entries: vec![Entry {
                id: event.id,
                delegation: Some(cert.delegation),
                excluded: None,
                shared: true,
                lamport: event.header.lamport,
                time: event.header.time,
                parents: event.header.parents.clone(),
                role: Some(Role::Chair),
                pen: true,
            }],
            heads: Vec::new(),
            channels: Default::default(),
            procedure: Default::default(),
            devices: BTreeMap::new(),
            sealing_keys: BTreeMap::new(),
            folded: 1,
        };
        state.members.insert(
            cert.delegation,
            Member {
                delegation: cert.delegation,
                name: charter.chair_name.clone(),
                role: Role::Chair,
                status: MemberStatus::Active,
                devices: BTreeMap::new(),
            },
        );
        state.add_device(cert.delegation, &charter.chair, event.id);
        Ok(state)
    }

    fn add_device(&mut self, delegation: DelegationId, cert: &SignedCertificate, by: EventId) {
        let c = &cert.certificate;
        self.devices.insert(c.device, delegation);
        self.sealing_keys.insert(c.device, c.sealing_key);
        if let Some(m) = self.members.get_mut(&delegation) {
            m.status = MemberStatus::Active;
            m.devices.insert(
                c.device,
                Device {
                    device: c.device,
                    label: c.label.clone(),
                    sealing_key: c.sealing_key,
                    not_after: c.not_after,
                    joined_by: by,
                },
            );
        }
    }

    fn apply(&mut self, event: &Event) -> Entry {
        let mut entry = Entry {
            id: event.id,
            delegation: self.devices.get(&event.header.author).copied(),
            excluded: None,
            shared: crate::dag::is_shared_channel(&event.header.channel),
            lamport: event.header.lamport,
            time: event.header.time,
            parents: event.header.parents.clone(),
            role: None,
            pen: false,
        };
        if let Some(d) = entry.delegation {
            entry.role = self.members.get(&d).map(|m| m.role);
            entry.pen = entry.role == Some(Role::Chair) || self.procedure.holds_pen(&d);
        }
        match self.authorize_and_apply(event) {
            Ok(Some(delegation)) => entry.delegation = Some(delegation),
            Ok(None) => {}
            Err(reason) => entry.excluded = Some(reason),
        }
        self.folded += 1;
        entry
    }

    /// Applies the event if the rules allow it; returns the delegation it acted for.
    fn authorize_and_apply(&mut self, event: &Event) -> Result<Option<DelegationId>, Exclusion> {
        let Some(body) = &event.body else {
            return Err(Exclusion::UnknownKind);
        };
        if body
            .fixed_channel()
            .is_some_and(|c| c != event.header.channel)
        {
            return Err(Exclusion::WrongChannel);
        }
        match body {
            Body::Join { certificate } => return self.join(event, certificate).map(Some),
            Body::Charter(_) => return Err(Exclusion::SecondCharter),
            _ => {}
        }
        let (author, role) = self.acting_member(event)?;
        match body {
            Body::Accredit {
                delegation,
                role: new_role,
                name,
            } => {
                require_chair(role)?;
                self.accredit(*delegation, *new_role, name)?;
            }
            Body::RoleChange {
                delegation,
                role: new_role,
            } => {
                require_chair(role)?;
                let before = self.channels_of(delegation);
                self.change_role(*delegation, *new_role)?;
                let after = self.channels_of(delegation);
                let lost: Vec<String> = before.into_iter().filter(|c| !after.contains(c)).collect();
                self.channels_lose(&lost);
            }
            Body::Remove { delegation, .. } => {
                require_chair(role)?;
                let lost = self.channels_of(delegation);
                self.end_membership(*delegation, MemberStatus::Removed)?;
                self.channels_lose(&lost);
            }
            Body::Leave { .. } => {
                let lost = self.channels_of(&author);
                self.end_membership(author, MemberStatus::Left)?;
                self.channels_lose(&lost);
            }
            Body::Revoke { device, .. } => self.revoke(author, role, device)?,
            Body::Channel { name, members } => {
                self.open_channel(event, author, role, name, members)?
            }
            Body::Keys {
                epoch,
                key_id,
                envelopes,
            } => self.apply_keys(event, author, role, *epoch, *key_id, envelopes)?,
            Body::Sealed(sealed) => self.check_sealed(event, author, sealed)?,
            Body::Decision(decision) => self.apply_decision(event, author, role, decision)?,
            Body::Draft(_) => return Err(Exclusion::Unsealed),
            Body::Message { .. } | Body::Note { .. } | Body::Charter(_) | Body::Join { .. } => {}
        }
        Ok(Some(author))
    }

    /// The delegation and role of the event's author, if it may act at all.
    fn acting_member(&self, event: &Event) -> Result<(DelegationId, Role), Exclusion> {
        let delegation = *self
            .devices
            .get(&event.header.author)
            .ok_or(Exclusion::UnknownAuthor)?;
        let member = self
            .members
            .get(&delegation)
            .ok_or(Exclusion::UnknownAuthor)?;
        if member.status != MemberStatus::Active {
            return Err(Exclusion::InactiveAuthor);
        }
        let device = member
            .devices
            .get(&event.header.author)
            .ok_or(Exclusion::UnknownAuthor)?;
        if device.not_after.is_some_and(|t| event.header.time > t) {
            return Err(Exclusion::CertificateExpired);
        }
        Ok((delegation, member.role))
    }

    fn join(
        &mut self,
        event: &Event,
        certificate: &SignedCertificate,
    ) -> Result<DelegationId, Exclusion> {
        let cert = &certificate.certificate;
        if cert.device != event.header.author {
            return Err(Exclusion::CertificateMismatch);
        }
        if !cert.valid_at(event.header.time) {
            return Err(Exclusion::CertificateExpired);
        }
        let member = self
            .members
            .get(&cert.delegation)
            .ok_or(Exclusion::NotAMember)?;
        if !member.status.is_member() {
            return Err(Exclusion::NotAMember);
        }
        match self.devices.get(&cert.device) {
            Some(d) if *d == cert.delegation => return Err(Exclusion::AlreadyMember),
            Some(_) => return Err(Exclusion::DeviceInUse),
            None => {}
        }
        self.add_device(cert.delegation, certificate, event.id);
        Ok(cert.delegation)
    }

    fn accredit(
        &mut self,
        delegation: DelegationId,
        role: Role,
        name: &str,
    ) -> Result<(), Exclusion> {
        if let Some(m) = self.members.get_mut(&delegation) {
            if m.status.is_member() {
                return Err(Exclusion::AlreadyMember);
            }
            // Readmission after leaving or removal: devices must join again.
            for d in m.devices.keys() {
                self.devices.remove(d);
            }
            m.devices.clear();
        }
        self.members.insert(
            delegation,
            Member {
                delegation,
                name: name.to_string(),
                role,
                status: MemberStatus::Accredited,
                devices: BTreeMap::new(),
            },
        );
        Ok(())
    }

    fn change_role(&mut self, delegation: DelegationId, role: Role) -> Result<(), Exclusion> {
        let current = self.member_role(delegation)?;
        if current == Role::Chair && role != Role::Chair {
            self.require_another_chair()?;
        }
        if let Some(m) = self.members.get_mut(&delegation) {
            m.role = role;
        }
        Ok(())
    }

    fn end_membership(
        &mut self,
        delegation: DelegationId,
        status: MemberStatus,
    ) -> Result<(), Exclusion> {
        if self.member_role(delegation)? == Role::Chair {
            self.require_another_chair()?;
        }
        if let Some(m) = self.members.get_mut(&delegation) {
            m.status = status;
        }
        Ok(())
    }

    /// Takes a device out of its delegation: its later events are by an unknown author, and every
    /// channel its delegation reads needs a new epoch.
    fn revoke(
        &mut self,
        author: DelegationId,
        role: Role,
        device: &DeviceId,
    ) -> Result<(), Exclusion> {
        let owner = *self.devices.get(device).ok_or(Exclusion::NotAMember)?;
        if owner != author && role != Role::Chair {
            return Err(Exclusion::NotAuthorized);
        }
        let lost = self.channels_of(&owner);
        self.devices.remove(device);
        if let Some(m) = self.members.get_mut(&owner) {
            m.devices.remove(device);
        }
        self.channels_lose(&lost);
        Ok(())
    }

    fn member_role(&self, delegation: DelegationId) -> Result<Role, Exclusion> {
        match self.members.get(&delegation) {
            Some(m) if m.status.is_member() => Ok(m.role),
            _ => Err(Exclusion::NotAMember),
        }
    }

    /// A negotiation always keeps at least one chair who is a member.
    fn require_another_chair(&self) -> Result<(), Exclusion> {
        let chairs = self
            .members
            .values()
            .filter(|m| m.role == Role::Chair && m.status.is_member())
            .count();
        if chairs < 2 {
            return Err(Exclusion::LastChair);
        }
        Ok(())
    }

    /// Whether the rules would include `event` if it came after every event folded so far
    /// (as one authored on top of the current heads does). Changes nothing.
    pub fn admits(&self, event: &Event) -> Result<(), Exclusion> {
        let mut probe = Self {
            negotiation: self.negotiation,
            charter: self.charter.clone(),
            members: self.members.clone(),
            entries: Vec::new(),
            heads: Vec::new(),
            channels: self.channels.clone(),
            procedure: self.procedure.clone(),
            devices: self.devices.clone(),
            sealing_keys: self.sealing_keys.clone(),
            folded: self.folded,
        };
        match probe.apply(event).excluded {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Folds one more event that comes after every event folded so far in fold order, such as
    /// one just authored on top of the heads. Gives the same state as folding the whole set again.
    pub fn append(&mut self, event: &Event) -> &Entry {
        let entry = self.apply(event);
        self.heads.retain(|h| !event.header.parents.contains(h));
        self.heads.push(event.id);
        self.heads.sort();
        self.entries.push(entry);
        &self.entries[self.entries.len() - 1]
    }

    /// A position in fold order to come back to with [`NegotiationState::rewind`]: everything
    /// but the entries, which only ever grow (the rules never read them back).
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            state: Self {
                negotiation: self.negotiation,
                charter: self.charter.clone(),
                members: self.members.clone(),
                entries: Vec::new(),
                heads: self.heads.clone(),
                channels: self.channels.clone(),
                procedure: self.procedure.clone(),
                devices: self.devices.clone(),
                sealing_keys: self.sealing_keys.clone(),
                folded: self.folded,
            },
            entries: self.entries.len(),
        }
    }

    /// Goes back to a checkpoint taken earlier from this state, forgetting what was appended
    /// since: appending the same events again gives the same state, and appending a late event
    /// with them, in fold order, gives the state a full fold would.
    pub fn rewind(&mut self, to: &Checkpoint) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.truncate(to.entries);
        *self = to.state.clone();
        self.entries = entries;
    }

    /// Whether a peer whose libp2p identity is `device` may receive this negotiation: a device of a
    /// member, or a device presenting a certificate, valid at `now`, from an accredited delegation.
    pub fn may_sync(
        &self,
        device: &DeviceId,
        certificate: Option<&SignedCertificate>,
        now: u64,
    ) -> bool {
        let is_member =
            |d: &DelegationId| self.members.get(d).is_some_and(|m| m.status.is_member());
        if let Some(delegation) = self.devices.get(device)
            && is_member(delegation)
        {
            return true;
        }
        certificate.is_some_and(|c| {
            let c = &c.certificate;
            c.device == *device && c.valid_at(now) && is_member(&c.delegation)
        })
    }

    /// Device ids of every member (accredited or active), the peers a node lets in.
    pub fn member_devices(&self) -> impl Iterator<Item = DeviceId> + '_ {
        self.members
            .values()
            .filter(|m| m.status.is_member())
            .flat_map(|m| m.devices.keys().copied())
    }

    /// Included and excluded event counts.
    pub fn counts(&self) -> (usize, usize) {
        let excluded = self.entries.iter().filter(|e| e.excluded.is_some()).count();
        (self.entries.len() - excluded, excluded)
    }

    /// The sealing key a device's certificate binds, if the device ever joined.
    pub fn sealing_key_of(&self, device: &DeviceId) -> Option<SealingKey> {
        self.sealing_keys.get(device).copied()
    }

    /// The delegation that a device acts for, if it ever joined.
    pub fn delegation_of(&self, device: &DeviceId) -> Option<DelegationId> {
        self.devices.get(device).copied()
    }

    /// SHA-256 over the canonical encoding of the state (SPEC.md, "State hash").
    pub fn state_hash(&self) -> [u8; 32] {
        let mut e = Enc::new();
        e.array(3).bytes(self.negotiation.as_bytes());
        e.array(self.members.len());
        for m in self.members.values() {
            e.array(5)
                .bytes(m.delegation.as_bytes())
                .str(&m.name)
                .str(m.role.as_str())
                .str(m.status.as_str())
                .array(m.devices.len());
            for d in m.devices.keys() {
                e.bytes(d.as_bytes());
            }
        }
        // Only shared events: members who read different restricted channels hold different
        // sets of events, yet must be able to compare states in one line.
        let shared: Vec<&Entry> = self.entries.iter().filter(|e| e.shared).collect();
        e.array(shared.len());
        for entry in shared {
            e.array(2)
                .bytes(entry.id.as_bytes())
                .u64(entry.excluded.map_or(0, Exclusion::code));
        }
        Sha256::new()
            .chain_update(STATE_DOMAIN)
            .chain_update(e.finish())
            .finalize()
            .into()
    }
}

pub(crate) fn require_chair(role: Role) -> Result<(), Exclusion> {
    if role == Role::Chair {
        Ok(())
    } else {
        Err(Exclusion::NotAuthorized)
    }
}
