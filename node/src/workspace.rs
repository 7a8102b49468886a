//! The local negotiation workspace: the store seen through the protocol's rules.
//! Every command that reads or writes negotiations goes through here.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use entente_protocol::envelope::{self, EnvelopeContext, EpochKey};
use entente_protocol::event::EventHeader;
use entente_protocol::keyring::Keyring;
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::sealed;
use entente_protocol::{
    Body, DelegationId, DeviceId, Event, EventId, Exclusion, NegotiationId, NegotiationState, fold,
};

use crate::folded::Folded;
use crate::home::Home;
use crate::identity::Identity;
use crate::store::{self, Store};

/// Milliseconds since the Unix epoch by this machine's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub struct Workspace {
    store: Store,
    /// Folded states kept up to date from the arrival log, so that a burst of posts and
    /// long-running users (the node's duties, the local API) do not fold the whole log at every
    /// change.
    states: HashMap<NegotiationId, Folded>,
    /// The last arrival fed to `states`.
    arrivals_seen: i64,
    /// Epoch keys this device has opened or made, so that posting does not open every key
    /// envelope of the record again. In memory only.
    epoch_keys: HashMap<EpochSlot, EpochKey>,
}

/// A channel epoch's key as one device holds it: (negotiation, device, channel, key id).
type EpochSlot = (NegotiationId, DeviceId, String, [u8; 16]);

/// What an import did.
#[derive(Debug, serde::Serialize)]
pub struct ImportReport {
    pub negotiation: NegotiationId,
    pub title: String,
    pub events: usize,
    pub new: usize,
    pub state_hash: String,
}

impl Workspace {
    pub fn open(home: &Home) -> Result<Self> {
        home.require_initialised()?;
        let path = home.database();
        let store = Store::open(&path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        let arrivals_seen = store::last_arrival(store.conn())?;
        Ok(Self {
            store,
            states: HashMap::new(),
            arrivals_seen,
            epoch_keys: HashMap::new(),
        })
    }

    /// A local setting or mark (never replicated).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(store::get_meta(self.store.conn(), key)?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        Ok(store::set_meta(self.store.conn(), key, value)?)
    }

    /// The newest arrival number: it changes whenever an event is stored.
    pub fn last_arrival(&self) -> Result<i64> {
        Ok(store::last_arrival(self.store.conn())?)
    }

    /// The current state of a negotiation, folding in only what arrived since the last call
    /// when it can (see `folded.rs`).
    pub fn state(&mut self, negotiation: &NegotiationId) -> Result<&NegotiationState> {
        current_state(
            self.store.conn(),
            &mut self.states,
            &mut self.arrivals_seen,
            negotiation,
        )
    }

    /// Finds a negotiation by its id or a unique prefix of it.
    pub fn resolve(&self, text: &str) -> Result<NegotiationId> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!("{text:?} is not a negotiation id (hex; see `entente negotiation list`)");
        }
        let all = store::negotiations(self.store.conn())?;
        let matches: Vec<_> = all
            .into_iter()
            .filter(|n| n.to_hex().starts_with(&text))
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => bail!(
                "no negotiation {text} here: see `entente negotiation list`, or `entente import FILE` a record first"
            ),
            _ => bail!(
                "{text} names {} negotiations; give more characters of the id",
                matches.len()
            ),
        }
    }

    /// Finds an event of a negotiation by its id or a unique prefix of it.
    pub fn resolve_event(&self, negotiation: &NegotiationId, text: &str) -> Result<EventId> {
        let text = text.trim().to_ascii_lowercase();
        let events = store::events(self.store.conn(), negotiation)?;
        let matches: Vec<_> = events
            .iter()
            .map(|e| e.id)
            .filter(|id| id.to_hex().starts_with(&text))
            .collect();
        match matches.as_slice() {
            [one] if !text.is_empty() => Ok(*one),
            [] | [_] => bail!(
                "no event {text:?} in negotiation {}: see `entente log`",
                negotiation.short()
            ),
            _ => bail!(
                "{text} names {} events; give more characters of the id",
                matches.len()
            ),
        }
    }

    /// Every event that `id`'s author had seen when signing it.
    pub fn ancestors(&self, id: &EventId) -> Result<std::collections::BTreeSet<EventId>> {
        Ok(store::ancestors(self.store.conn(), id)?
            .into_iter()
            .collect())
    }

    pub fn negotiations(&self) -> Result<Vec<NegotiationId>> {
        Ok(store::negotiations(self.store.conn())?)
    }

    /// Every event of a negotiation in fold order, and the state they fold to.
    pub fn load(&self, negotiation: &NegotiationId) -> Result<(Vec<Event>, NegotiationState)> {
        let events = store::events(self.store.conn(), negotiation)?;
        let state =
            fold(&events).with_context(|| format!("negotiation {negotiation} cannot be folded"))?;
        Ok((events, state))
    }

    /// Convenes a new negotiation: signs and stores its charter.
    pub fn create(&mut self, me: &Identity, charter: entente_protocol::Charter) -> Result<Event> {
        let body = Body::Charter(charter);
        let header = EventHeader::new(None, me.public.device, Vec::new(), 0, now_ms(), &body);
        let event = Event::sign(header, &me.device_key).context("cannot sign the charter")?;
        fold([&event]).context("the charter is not valid")?;
        let tx = self.store.write()?;
        store::insert(&tx, &event, now_ms())?;
        tx.commit()?;
        tracing::info!(negotiation = %event.id, "negotiation created");
        Ok(event)
    }

    /// Signs `body` on top of the negotiation's heads and stores it, if the rules allow it.
    /// When this returns, the event is durable.
    pub fn post(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        body: Body,
    ) -> Result<Event> {
        self.post_with(me, negotiation, &body, body.channel(), |_| Ok(()))
    }

    /// Signs `body` on top of the heads of `channel`'s view, in that channel, after `finish` had
    /// its say on the header (sealing), and stores it if the rules allow it.
    fn post_with(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        body: &Body,
        channel: &str,
        finish: impl FnOnce(&mut EventHeader) -> Result<()>,
    ) -> Result<Event> {
        let tx = self.store.write()?;
        // Under the write lock, so the state is that of exactly what is stored.
        let state = current_state(&tx, &mut self.states, &mut self.arrivals_seen, negotiation)?;
        let mut heads = store::heads_in_view(&tx, negotiation, channel)?;
        // An event names at most MAX_PARENTS parents; heads left out stay heads, and the next
        // events name them.
        heads.truncate(entente_protocol::event::MAX_PARENTS);
        let mut lamport = 0;
        for h in &heads {
            let of = store::lamport_of(&tx, negotiation, h)?
                .context("a head is missing from the store")?;
            lamport = lamport.max(of + 1);
        }
        let kind = body.kind();
        let mut header = EventHeader::new(
            Some(*negotiation),
            me.public.device,
            heads,
            lamport,
            now_ms(),
            body,
        );
        header.channel = channel.to_string();
        finish(&mut header)?;
        let event = Event::sign(header, &me.device_key)
            .with_context(|| format!("cannot sign the {kind} event"))?;
        if let Err(reason) = state.admits(&event) {
            bail!("refused: {}", explain(reason, kind));
        }
        // The folded state takes the event from the arrival log at its next use.
        store::insert(&tx, &event, now_ms())?;
        tx.commit()
            .context("cannot commit the event to the database")?;
        tracing::info!(event = %event.id, kind, "event stored");
        Ok(event)
    }

    /// Posts content to a channel, sealed with the channel's epoch key. Starts a new epoch first
    /// when there is none yet, when a member left the channel since, or when a device entitled
    /// to the channel lacks the current key (a newcomer reads from its own epoch on).
    pub fn post_content(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        channel: &str,
        content: Body,
    ) -> Result<Event> {
        let state = self.state(negotiation)?;
        let readers = state
            .channel_delegations(channel)
            .with_context(|| format!("no channel {channel:?} in this negotiation"))?;
        if !readers.contains(&me.public.delegation) {
            let active = state.members.get(&me.public.delegation).is_some_and(|m| {
                m.status == entente_protocol::MemberStatus::Active
                    && m.devices.contains_key(&me.public.device)
            });
            if !active {
                // Not a member (any more): let the rules say why, as for any other event.
                return self.post(me, negotiation, content);
            }
            bail!("your delegation does not read channel {channel:?}");
        }
        let entitled = state.entitled_devices(channel);
        let fresh = state.current_epoch(channel).and_then(|(n, ep)| {
            (state.epoch_is_fresh(channel, ep) && entitled.is_subset(&ep.holders))
                .then_some((n, ep.key_id))
        });
        let usable = match fresh {
            Some((n, key_id)) => self
                .epoch_key(me, negotiation, channel, n, key_id)?
                .map(|key| (n, key)),
            None => None,
        };
        let (epoch, key) = match usable {
            Some(k) => k,
            None => {
                let state = self.state(negotiation)?.clone();
                self.start_epoch(me, negotiation, channel, &state)?
            }
        };
        self.post_with(me, negotiation, &content, channel, |header| {
            header.epoch = epoch;
            sealed::seal_into(header, &content, &key, random()?).context("cannot seal the content")
        })
    }

    /// This device's key for a channel epoch, opened from the record the first time.
    fn epoch_key(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        channel: &str,
        epoch: u64,
        key_id: [u8; 16],
    ) -> Result<Option<EpochKey>> {
        let slot = (*negotiation, me.public.device, channel.to_string(), key_id);
        if let Some(key) = self.epoch_keys.get(&slot) {
            return Ok(Some(key.clone()));
        }
        let events = store::events(self.store.conn(), negotiation)?;
        let state = self.state(negotiation)?;
        let ring = Keyring::open(state, &events, &me.public.device, &me.sealing_secret);
        let key = ring.get(channel, epoch, &key_id).cloned();
        if let Some(key) = &key {
            self.epoch_keys.insert(slot, key.clone());
        }
        Ok(key)
    }

    /// Makes a fresh key for the channel's next epoch and seals it to every entitled device.
    fn start_epoch(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        channel: &str,
        state: &NegotiationState,
    ) -> Result<(u64, EpochKey)> {
        let key = EpochKey(random()?);
        let epoch = state.current_epoch(channel).map_or(0, |(n, _)| n) + 1;
        let devices: Vec<_> = state.entitled_devices(channel).into_iter().collect();
        // One event holds about 380 envelopes within the 64 KiB limit: a large conference's key
        // goes out as the defining event and shares of the same epoch.
        for chunk in devices.chunks(ENVELOPES_PER_EVENT) {
            let body = keys_body(
                me,
                state,
                channel,
                epoch,
                &key,
                chunk.iter().copied().collect(),
            )?;
            self.post_in_channel(me, negotiation, channel, body)?;
        }
        self.epoch_keys.insert(
            (
                *negotiation,
                me.public.device,
                channel.to_string(),
                key.id(),
            ),
            key.clone(),
        );
        tracing::info!(
            channel,
            epoch,
            devices = devices.len(),
            "started a new key epoch"
        );
        Ok((epoch, key))
    }

    /// Posts a body that travels in a channel chosen by the caller (key events).
    fn post_in_channel(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        channel: &str,
        body: Body,
    ) -> Result<Event> {
        self.post_with(me, negotiation, &body, channel, |_| Ok(()))
    }

    /// The chair shares a channel's earlier epochs with a delegation's devices (history).
    pub fn share_history(
        &mut self,
        me: &Identity,
        negotiation: &NegotiationId,
        channel: &str,
        delegation: &DelegationId,
    ) -> Result<Vec<Event>> {
        let (events, state) = self.load(negotiation)?;
        let member = state
            .members
            .get(delegation)
            .context("that delegation is not a member")?;
        let devices: std::collections::BTreeSet<_> = member.devices.keys().copied().collect();
        if devices.is_empty() {
            bail!("that delegation has no device yet: it must join first");
        }
        let ring = Keyring::open(&state, &events, &me.public.device, &me.sealing_secret);
        let mut posted = Vec::new();
        let epochs: Vec<_> = state
            .channels
            .epochs
            .iter()
            .filter(|((c, _), ep)| c == channel && !devices.is_subset(&ep.holders))
            .map(|(_, ep)| (ep.number, ep.key_id))
            .collect();
        for (epoch, key_id) in epochs {
            let Some(key) = ring.get(channel, epoch, &key_id).cloned() else {
                tracing::warn!(
                    channel,
                    epoch,
                    "cannot share an epoch this device cannot open"
                );
                continue;
            };
            let (_, state) = self.load(negotiation)?;
            let body = keys_body(me, &state, channel, epoch, &key, devices.clone())?;
            posted.push(self.post_in_channel(me, negotiation, channel, body)?);
        }
        Ok(posted)
    }

    /// This device's keys for a negotiation.
    pub fn keyring(&self, me: &Identity, negotiation: &NegotiationId) -> Result<Keyring> {
        let (events, state) = self.load(negotiation)?;
        Ok(Keyring::open(
            &state,
            &events,
            &me.public.device,
            &me.sealing_secret,
        ))
    }

    /// A self-contained record bundle of the negotiation, and how many events it holds.
    pub fn export(&self, negotiation: &NegotiationId) -> Result<(Vec<u8>, usize)> {
        let (events, _) = self.load(negotiation)?;
        Ok((encode_record(*negotiation, &events), events.len()))
    }

    /// Verifies a bundle completely, then stores what is new in one transaction:
    /// a bad bundle changes nothing.
    pub fn import(&mut self, bytes: &[u8]) -> Result<ImportReport> {
        let record = verify_record(bytes, now_ms())
            .context("the record does not verify; nothing was imported")?;
        let negotiation = record.state.negotiation;
        let tx = self.store.write()?;
        let mut new = 0;
        for event in &record.events {
            if store::insert(&tx, event, now_ms())? {
                new += 1;
            }
        }
        tx.commit().context("cannot commit the imported events")?;
        let (events, state) = self.load(&negotiation)?;
        tracing::info!(%negotiation, new, total = events.len(), "record imported");
        Ok(ImportReport {
            negotiation,
            title: state.charter.title.clone(),
            events: events.len(),
            new,
            state_hash: hex::encode(state.state_hash()),
        })
    }
}

/// Brings the folded states up to date with the arrival log and returns `negotiation`'s.
/// A free function so that a caller can hold a write transaction on the store meanwhile.
fn current_state<'a>(
    conn: &rusqlite::Connection,
    states: &'a mut HashMap<NegotiationId, Folded>,
    arrivals_seen: &mut i64,
    negotiation: &NegotiationId,
) -> Result<&'a NegotiationState> {
    loop {
        let arrivals = store::arrivals_since(conn, *arrivals_seen, 4096)?;
        let Some((last, _)) = arrivals.last() else {
            break;
        };
        *arrivals_seen = *last;
        for (_, e) in &arrivals {
            if let Some(f) = states.get_mut(&e.negotiation()) {
                f.added(e);
            }
        }
    }
    let folded = states.entry(*negotiation).or_default();
    let (state, _) = folded
        .current(|| store::events(conn, negotiation).map_err(anyhow::Error::from))
        .with_context(|| format!("negotiation {negotiation} cannot be folded"))?;
    Ok(state)
}

/// Envelopes per key event: 300 of about 170 bytes stay well under the 64 KiB event limit.
const ENVELOPES_PER_EVENT: usize = 300;

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(b)
}

/// A keys event body: `key` for `epoch` of `channel`, sealed to each of `devices`.
fn keys_body(
    me: &Identity,
    state: &NegotiationState,
    channel: &str,
    epoch: u64,
    key: &EpochKey,
    devices: std::collections::BTreeSet<entente_protocol::DeviceId>,
) -> Result<Body> {
    let mut envelopes = Vec::new();
    for device in devices {
        let sealing = state
            .sealing_key_of(&device)
            .context("a member device has no sealing key")?;
        let ctx = EnvelopeContext {
            negotiation: state.negotiation,
            channel,
            epoch,
            recipient: device,
        };
        let sealed = envelope::seal(&me.sealing_secret, &sealing, &ctx, key, random()?)
            .map_err(|e| anyhow::anyhow!("cannot seal the key: {e}"))?;
        envelopes.push((device, sealed));
    }
    Ok(Body::Keys {
        epoch,
        key_id: key.id(),
        envelopes,
    })
}

/// Turns a rule's refusal into advice for the person at the keyboard.
fn explain(reason: Exclusion, kind: &str) -> String {
    let advice = match reason {
        Exclusion::UnknownAuthor => Some(
            "run `entente join NEG` once the chair has accredited your delegation and you have imported that record",
        ),
        Exclusion::NotAuthorized if matches!(kind, "silence-break" | "object" | "sign") => {
            Some("observers do not take part in decisions")
        }
        Exclusion::NotAuthorized => Some("only a chair may do this"),
        Exclusion::HashMismatch => {
            Some("the text hashes must be those of the revision adopted or under silence")
        }
        Exclusion::SilenceNotClosed => Some("close the silence procedure first"),
        Exclusion::AlreadyMember => Some("use `entente role` to change a member's role"),
        Exclusion::NotAMember => Some(
            "the chair must `entente invite` that delegation, and you must import the record that says so",
        ),
        Exclusion::LastChair => Some("appoint another chair first"),
        _ => None,
    };
    match advice {
        Some(a) => format!("the rules exclude this {kind} event: {reason} ({a})"),
        None => format!("the rules exclude this {kind} event: {reason}"),
    }
}
