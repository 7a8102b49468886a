//! The local negotiation workspace: the store seen through the protocol's rules.
//! Every command that reads or writes negotiations goes through here.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use entente_protocol::event::EventHeader;
use entente_protocol::record::{encode_record, verify_record};
use entente_protocol::{Body, Event, EventId, Exclusion, NegotiationId, NegotiationState, fold};

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
    /// The state of the negotiation posted to last, with the heads it was computed at, so that
    /// a burst of posts does not fold the whole log again for each one.
    cache: Option<(Vec<EventId>, NegotiationState)>,
}

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
        Ok(Self { store, cache: None })
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
        let tx = self.store.write()?;
        let heads = store::heads(&tx, negotiation)?;
        let state = match self.cache.take() {
            Some((cached_heads, state))
                if cached_heads == heads && state.negotiation == *negotiation =>
            {
                state
            }
            _ => {
                let events = store::events(&tx, negotiation)?;
                fold(&events)
                    .with_context(|| format!("negotiation {negotiation} cannot be folded"))?
            }
        };
        let mut lamport = 0;
        for h in &heads {
            let l = store::lamport_of(&tx, negotiation, h)?
                .context("a head is missing from the store")?;
            lamport = lamport.max(l + 1);
        }
        let kind = body.kind();
        let header = EventHeader::new(
            Some(*negotiation),
            me.public.device,
            heads,
            lamport,
            now_ms(),
            &body,
        );
        let event = Event::sign(header, &me.device_key)
            .with_context(|| format!("cannot sign the {kind} event"))?;
        if let Err(reason) = state.admits(&event) {
            self.cache = Some((state.heads.clone(), state));
            bail!("refused: {}", explain(reason, kind));
        }
        store::insert(&tx, &event, now_ms())?;
        tx.commit()
            .context("cannot commit the event to the database")?;
        let mut state = state;
        state.append(&event);
        self.cache = Some((state.heads.clone(), state));
        tracing::info!(event = %event.id, kind, "event stored");
        Ok(event)
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
        self.cache = None;
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

/// Turns a rule's refusal into advice for the person at the keyboard.
fn explain(reason: Exclusion, kind: &str) -> String {
    let advice = match reason {
        Exclusion::UnknownAuthor => Some(
            "run `entente join NEG` once the chair has accredited your delegation and you have imported that record",
        ),
        Exclusion::NotAuthorized => Some("only a chair may do this"),
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
