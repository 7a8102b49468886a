//! Connection gating: outsiders are let go, members who send forged events are cut off, and the
//! others keep converging.

use std::time::Duration;

use anyhow::{Result, bail};
use entente_protocol::Body;
use entente_protocol::event::EventHeader;
use entente_tests::net::{Member, converge, eventually};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_are_disconnected_and_forgers_are_cut_off() -> Result<()> {
    let mut chair = Member::new("Chair")?;
    let mut bee = Member::new("Bee")?;
    let mut cee = Member::new("Cee")?;
    let mut outsider = Member::new("Outsider")?;
    let neg = chair.convene("Gated talks")?;
    chair.accredit(&neg, &bee)?;
    chair.accredit(&neg, &cee)?;
    chair.start().await?;
    bee.join_through(&chair, &neg).await?;
    cee.join_through(&chair, &neg).await?;
    // The outsider behaves like an invitee too, but nobody accredited it.
    outsider.config.peers = vec![chair.addrs().await?[0].clone()];
    outsider.config.follow = vec![neg];
    outsider.config.trusted = [chair.peer_id()].into();
    outsider.start().await?;
    converge(&[&chair, &bee, &cee], &neg, LIMIT).await?;

    // The outsider's connection is closed once its probation ends, and it learned nothing.
    let outsider_id = outsider.peer_id();
    eventually(LIMIT, || async {
        if chair.node().connected().await?.contains(&outsider_id) {
            bail!("the chair is still connected to the outsider");
        }
        Ok(())
    })
    .await?;
    assert!(!chair.node().admitted().await?.contains(&outsider_id));
    assert!(
        outsider.state(&neg).is_none(),
        "the outsider received the negotiation"
    );

    // Bee publishes a forged event: a message whose signature does not verify.
    eventually(LIMIT, || async {
        if chair.node().admitted().await?.contains(&bee.peer_id()) {
            Ok(())
        } else {
            bail!("bee not connected to the chair yet")
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await; // let the gossip mesh form
    let state = bee.state(&neg).expect("bee holds the negotiation");
    let lamport = state.entries.len() as u64; // above every lamport in this linear-ish history
    let header = EventHeader::new(
        Some(neg),
        bee.identity.public.device,
        state.heads.clone(),
        lamport,
        entente_node::workspace::now_ms(),
        &Body::Message {
            text: "forged".into(),
        },
    );
    let event = entente_protocol::Event::sign(header, &bee.identity.device_key)?;
    let mut wire = event.to_wire();
    let last = wire.len() - 1;
    wire[last] ^= 0x01;
    bee.node().publish_raw(neg, wire).await?;

    let bee_id = bee.peer_id();
    eventually(LIMIT, || async {
        if chair.node().connected().await?.contains(&bee_id) {
            bail!("the chair is still connected to the forger");
        }
        Ok(())
    })
    .await?;
    for m in [&chair, &cee] {
        assert!(
            !m.event_ids(&neg).contains(&event.id),
            "{} stored the forged event",
            m.name
        );
    }

    // The honest members keep converging.
    chair.say(&neg, "we carry on")?;
    cee.say(&neg, "indeed")?;
    converge(&[&chair, &cee], &neg, LIMIT).await?;

    for m in [&mut chair, &mut bee, &mut cee, &mut outsider] {
        m.stop().await?;
    }
    Ok(())
}
