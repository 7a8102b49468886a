//! Five delegations on loopback: live propagation, catching up after being cut off, and healing a
//! partition with concurrent events on both sides.

use std::time::Duration;

use anyhow::{Result, bail};
use entente_protocol::Body;
use entente_tests::net::{Member, converge, eventually};

const LIMIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_members_converge_catch_up_and_heal_a_partition() -> Result<()> {
    let mut chair = Member::new("Chair")?;
    let mut others = Vec::new();
    for name in ["Brazil", "Chile", "Denmark", "Egypt"] {
        others.push(Member::new(name)?);
    }
    let neg = chair.convene("Five delegations")?;
    for o in &others {
        chair.accredit(&neg, o)?;
    }
    chair.start().await?;
    // The others hold nothing yet: like an invitation, they know the chair's address and fetch
    // the negotiation from it, then join.
    for o in &mut others {
        o.join_through(&chair, &neg).await?;
    }
    {
        let all: Vec<&Member> = std::iter::once(&chair).chain(others.iter()).collect();
        converge(&all, &neg, LIMIT).await?;

        // Every node's events reach all the others.
        for m in &all {
            m.say(&neg, &format!("statement by {}", m.name))?;
        }
        converge(&all, &neg, LIMIT).await?;
        let state = chair.state(&neg).expect("state");
        assert_eq!(
            state
                .members
                .values()
                .filter(|m| m.devices.len() == 1)
                .count(),
            5
        );
        assert_eq!(state.counts().1, 0, "every event is included");
        for m in &all {
            assert_eq!(
                m.texts(&neg, "plenary").len(),
                5,
                "{} reads every statement",
                m.name
            );
        }
    }

    // Egypt is cut off while the chair posts 100 events, then comes back and catches up.
    let egypt = others.last_mut().expect("egypt");
    egypt.stop().await?;
    let mut ws = chair.workspace()?;
    for i in 0..100 {
        ws.post_content(
            &chair.identity,
            &neg,
            "plenary",
            Body::Message {
                text: format!("while Egypt was away {i}"),
            },
        )?;
    }
    drop(ws);
    others.last_mut().expect("egypt").start().await?;
    {
        let all: Vec<&Member> = std::iter::once(&chair).chain(others.iter()).collect();
        converge(&all, &neg, LIMIT).await?;
        assert_eq!(
            others[3].texts(&neg, "plenary").len(),
            5 + 100,
            "Egypt reads what it missed"
        );
    }

    // Members find each other's addresses through the DHT: wait for the full mesh, so that each
    // side of the partition is connected within itself.
    for m in std::iter::once(&chair).chain(others.iter()) {
        eventually(LIMIT, || async {
            let n = m.node().admitted().await?.len();
            if n < 4 {
                bail!("{} is connected to {n} members", m.name);
            }
            Ok(())
        })
        .await?;
    }

    // Partition {Chair, Brazil} | {Chile, Denmark, Egypt}; both sides write concurrently.
    let (west, east) = others.split_at(1);
    let west: Vec<&Member> = std::iter::once(&chair).chain(west.iter()).collect();
    let east: Vec<&Member> = east.iter().collect();
    for w in &west {
        for e in &east {
            w.node().block(e.peer_id()).await?;
            e.node().block(w.peer_id()).await?;
        }
    }
    for w in &west {
        w.say(&neg, &format!("west: {}", w.name))?;
    }
    for e in &east {
        e.say(&neg, &format!("east: {}", e.name))?;
    }
    let west_hash = converge(&west, &neg, LIMIT).await?;
    let east_hash = converge(&east, &neg, LIMIT).await?;
    assert_ne!(
        west_hash, east_hash,
        "the two sides cannot have seen each other's events"
    );

    for w in &west {
        for e in &east {
            w.node().unblock(e.peer_id()).await?;
            e.node().unblock(w.peer_id()).await?;
        }
    }
    let all: Vec<&Member> = west.iter().chain(east.iter()).copied().collect();
    let healed = converge(&all, &neg, LIMIT).await?;
    assert_ne!(healed, west_hash);
    let state = chair.state(&neg).expect("state");
    assert_eq!(
        state.counts().1,
        0,
        "concurrent key epochs on both sides are all valid"
    );
    for m in &all {
        assert_eq!(
            m.texts(&neg, "plenary").len(),
            5 + 100 + 5,
            "{} reads both sides",
            m.name
        );
    }
    // Five concurrent statements on two sides: nobody has built on them yet.
    assert!(
        (2..=5).contains(&state.heads.len()),
        "heads: {:?}",
        state.heads
    );

    for m in std::iter::once(&mut chair).chain(others.iter_mut()) {
        m.stop().await?;
    }
    Ok(())
}

/// More concurrent heads than an event may name as parents (64): the next write names 64 of them
/// and succeeds, and the one after that takes in the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_over_more_heads_than_an_event_may_cite() -> Result<()> {
    use entente_protocol::event::{EventHeader, MAX_PARENTS};
    let chair = Member::new("Chair")?;
    let neg = chair.convene("Many heads")?;
    let charter = chair.state(&neg).expect("state").heads[0];
    let mut store = entente_node::store::Store::open(&chair.home.database())?;
    let tx = store.write()?;
    for i in 0..MAX_PARENTS + 6 {
        let body = Body::Note {
            text: format!("concurrent {i}"),
        };
        let header = EventHeader::new(
            Some(neg),
            chair.identity.public.device,
            vec![charter],
            1,
            entente_node::workspace::now_ms(),
            &body,
        );
        let e = entente_protocol::Event::sign(header, &chair.identity.device_key)?;
        entente_node::store::insert(&tx, &e, 0)?;
    }
    tx.commit()?;
    drop(store);
    let first = chair.post(&neg, Body::Note { text: "one".into() })?;
    assert_eq!(first.header.parents.len(), MAX_PARENTS);
    let second = chair.post(&neg, Body::Note { text: "two".into() })?;
    let state = chair.state(&neg).expect("state");
    assert_eq!(state.counts().1, 0, "every event is included");
    assert!(second.header.parents.contains(&first.id));
    assert_eq!(
        state.heads,
        vec![second.id],
        "the second write took in every head"
    );
    Ok(())
}
