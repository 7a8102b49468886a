//! Proximity talks: the mediator meets each party in its own channel; neither party receives,
//! let alone reads, the other's channel.

use std::time::Duration;

use anyhow::{Result, bail};
use entente_protocol::Body;
use entente_tests::net::{Member, converge, eventually};

const LIMIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_party_holds_only_its_own_proximity_channel() -> Result<()> {
    let mut mediator = Member::new("Mediator")?;
    let mut north = Member::new("North")?;
    let mut south = Member::new("South")?;
    let neg = mediator.convene("Proximity talks")?;
    mediator.accredit(&neg, &north)?;
    mediator.accredit(&neg, &south)?;
    mediator.start().await?;
    north.join_through(&mediator, &neg).await?;
    south.join_through(&mediator, &neg).await?;
    converge(&[&mediator, &north, &south], &neg, LIMIT).await?;
    for (name, party) in [("prox-north", &north), ("prox-south", &south)] {
        mediator.post(
            &neg,
            Body::Channel {
                name: name.into(),
                members: vec![party.identity.public.delegation],
            },
        )?;
    }
    converge(&[&mediator, &north, &south], &neg, LIMIT).await?;

    mediator.say_in(
        &neg,
        "prox-south",
        "MARKER-south-only: our bottom line is 40%",
    )?;
    south.say_in(&neg, "prox-south", "South can live with 45%")?;
    mediator.say_in(&neg, "prox-north", "North, can you move?")?;
    mediator.say(&neg, "Plenary resumes at three")?;

    eventually(LIMIT, || async {
        let s = south.texts(&neg, "prox-south");
        let n = north.texts(&neg, "prox-north");
        if s.len() < 2 || n.is_empty() || north.texts(&neg, "plenary").is_empty() {
            bail!("south reads {s:?}, north reads {n:?}");
        }
        Ok(())
    })
    .await?;
    assert_eq!(
        mediator.texts(&neg, "prox-south").len(),
        2,
        "the mediator reads both sides"
    );

    // North holds nothing of South's channel: not one event, encrypted or not; and back.
    for (party, other) in [(&north, "prox-south"), (&south, "prox-north")] {
        let held = party.events_in(&neg, other)?;
        assert_eq!(held, 0, "{} holds {held} events of {other}", party.name);
    }
    assert!(north.texts(&neg, "prox-south").is_empty());

    for m in [&mut mediator, &mut north, &mut south] {
        m.stop().await?;
    }
    Ok(())
}
