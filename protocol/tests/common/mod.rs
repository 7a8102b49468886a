//! Builders for protocol tests: actors with keys from fixed seeds, and events on top of others.
#![allow(dead_code)]

use entente_protocol::event::EventHeader;
use entente_protocol::identity::{delegation_id, device_id};
use entente_protocol::{
    Body, Charter, DecisionRule, DelegationId, DeviceCertificate, DeviceId, Event, NegotiationId,
    Role, SealingKey, SignedCertificate, SigningKey,
};

/// A delegation with one device.
#[derive(Clone)]
pub struct Actor {
    pub delegation_key: SigningKey,
    pub device_key: SigningKey,
    pub cert: SignedCertificate,
}

impl Actor {
    pub fn new(seed: u8) -> Self {
        Self::with_expiry(seed, None)
    }

    /// An actor whose certificate binds the given sealing key.
    pub fn with_sealing(seed: u8, sealing_key: SealingKey) -> Self {
        let mut a = Self::with_expiry(seed, None);
        a.cert = SignedCertificate::issue(
            &a.delegation_key,
            DeviceCertificate {
                delegation: delegation_id(&a.delegation_key),
                device: device_id(&a.device_key),
                sealing_key,
                label: format!("device {seed}"),
                not_after: None,
            },
        );
        a
    }

    pub fn with_expiry(seed: u8, not_after: Option<u64>) -> Self {
        let delegation_key = SigningKey::from_bytes(&[seed; 32]);
        let device_key = SigningKey::from_bytes(&[seed.wrapping_add(100); 32]);
        let cert = SignedCertificate::issue(
            &delegation_key,
            DeviceCertificate {
                delegation: delegation_id(&delegation_key),
                device: device_id(&device_key),
                sealing_key: SealingKey([seed.wrapping_add(200); 32]),
                label: format!("device {seed}"),
                not_after,
            },
        );
        Self {
            delegation_key,
            device_key,
            cert,
        }
    }

    pub fn delegation(&self) -> DelegationId {
        delegation_id(&self.delegation_key)
    }

    pub fn device(&self) -> DeviceId {
        device_id(&self.device_key)
    }

    pub fn join_body(&self) -> Body {
        Body::Join {
            certificate: self.cert.clone(),
        }
    }
}

pub const T0: u64 = 1_760_000_000_000;

pub fn charter(chair: &Actor, title: &str) -> Event {
    let body = Body::Charter(Charter {
        title: title.into(),
        mandate: "Agree a joint statement".into(),
        languages: vec!["en".into(), "fr".into(), "ar".into()],
        decision_rule: DecisionRule::Consensus,
        silence_period_secs: 72 * 3600,
        chair_name: "Chair".into(),
        chair: chair.cert.clone(),
        attribute_brackets: true,
    });
    let header = EventHeader::new(None, chair.device(), vec![], 0, T0, &body);
    Event::sign(header, &chair.device_key).expect("charter signs")
}

/// Signs `body` by `author` on top of `parents`, with the lamport the rules require.
pub fn post(
    author: &Actor,
    negotiation: NegotiationId,
    parents: &[&Event],
    body: Body,
    time: u64,
) -> Event {
    let lamport = parents
        .iter()
        .map(|p| p.header.lamport + 1)
        .max()
        .unwrap_or(0);
    let header = EventHeader::new(
        Some(negotiation),
        author.device(),
        parents.iter().map(|p| p.id).collect(),
        lamport,
        time,
        &body,
    );
    Event::sign(header, &author.device_key).expect("event signs")
}

pub fn accredit(who: &Actor, role: Role, name: &str) -> Body {
    Body::Accredit {
        delegation: who.delegation(),
        role,
        name: name.into(),
    }
}

pub fn say(text: &str) -> Body {
    Body::Message { text: text.into() }
}

/// A linear history: charter, then each (author, body) on top of the previous event.
pub fn chain(chair: &Actor, steps: Vec<(&Actor, Body)>) -> Vec<Event> {
    let genesis = charter(chair, "Chain");
    let neg = genesis.id;
    let mut out = vec![genesis];
    for (i, (author, body)) in steps.into_iter().enumerate() {
        let prev = out.last().expect("non-empty");
        let e = post(author, neg, &[prev], body, T0 + 1000 * (i as u64 + 1));
        out.push(e);
    }
    out
}
