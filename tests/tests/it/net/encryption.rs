//! End-to-end encryption on a live network: what the relay and non-members hold, removal,
//! newcomers and history, and catching up on a long log from the relay alone.

use std::time::Duration;

use anyhow::{Result, bail};
use entente_node::net::{self, Credentials, NetConfig, RelayConfig};
use entente_protocol::Body;
use entente_tests::net::{Member, converge, eventually, loopback_config};

const LIMIT: Duration = Duration::from_secs(40);

/// Every byte of the files in a home (database, WAL, keys): what a thief of the disk would get.
fn home_bytes(home: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(home).expect("home").flatten() {
        if let Ok(b) = std::fs::read(entry.path()) {
            all.extend(b);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn wait_for_negotiation(m: &Member, neg: &entente_protocol::NegotiationId) -> Result<()> {
    eventually(LIMIT, || async {
        match m.state(neg) {
            Some(_) => Ok(()),
            None => bail!("{} has not received the negotiation", m.name),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_and_outsiders_never_see_plaintext_and_removal_and_history_work() -> Result<()> {
    // A mediator relay with a mailbox, in this process.
    let relay_dir = tempfile::tempdir()?;
    let relay_home = entente_node::home::Home::resolve(Some(relay_dir.path().join("home")))?;
    entente_node::identity::Identity::create(&relay_home, "Relay", "relay", false)?;
    let relay_id = entente_node::identity::Identity::load(&relay_home)?;

    let mut chair = Member::new("Chair")?;
    let mut bee = Member::new("Bee")?;
    let mut cee = Member::new("Cee")?;
    let neg = chair.convene("Sealed talks")?;
    chair.accredit(&neg, &bee)?;
    chair.accredit(&neg, &cee)?;
    let record = chair.workspace()?.export(&neg)?.0;
    entente_node::workspace::Workspace::open(&relay_home)?.import(&record)?;
    let relay = net::spawn(
        relay_home.clone(),
        Credentials::Relay {
            keypair: relay_id.libp2p_keypair()?,
        },
        NetConfig {
            relay: Some(RelayConfig {
                mailbox: true,
                ..RelayConfig::default()
            }),
            ..loopback_config()
        },
    )
    .await?;
    let relay_addr = eventually(LIMIT, || async {
        match relay.listen_addrs().await?.first() {
            Some(a) => Ok(a.clone()),
            None => bail!("no relay address yet"),
        }
    })
    .await?;

    for m in [&mut chair, &mut bee, &mut cee] {
        m.config.relays = vec![relay_addr.clone()];
        m.config.peers = vec![relay_addr.clone()];
        m.config.follow = vec![neg];
        m.start().await?;
    }
    for m in [&bee, &cee] {
        wait_for_negotiation(m, &neg).await?;
        m.join(&neg)?;
    }
    converge(&[&chair, &bee, &cee], &neg, LIMIT).await?;

    // A marker said in plenary is readable by members, never stored in clear by the relay.
    let marker = "MARKER-plenary-5d1e";
    chair.say(&neg, marker)?;
    converge(&[&chair, &bee, &cee], &neg, LIMIT).await?;
    for m in [&bee, &cee] {
        assert!(
            m.texts(&neg, "plenary").contains(&marker.to_string()),
            "{} reads it",
            m.name
        );
    }
    eventually(LIMIT, || async {
        let n = entente_node::workspace::Workspace::open(&relay_home)?
            .load(&neg)?
            .0
            .len();
        let c = chair.event_ids(&neg).len();
        if n < c {
            bail!("relay holds {n} of {c} events");
        }
        Ok(())
    })
    .await?;
    assert!(
        !contains(&home_bytes(relay_home.root()), marker),
        "plaintext in the relay's files"
    );

    // A caucus of the chair and Bee: Cee (a member, not in the caucus) never receives it, and the
    // relay holds it sealed.
    chair.post(
        &neg,
        Body::Channel {
            name: "caucus".into(),
            members: vec![bee.identity.public.delegation],
        },
    )?;
    let caucus_marker = "MARKER-caucus-91b7";
    chair.say_in(&neg, "caucus", caucus_marker)?;
    eventually(LIMIT, || async {
        if bee
            .texts(&neg, "caucus")
            .contains(&caucus_marker.to_string())
        {
            Ok(())
        } else {
            bail!("Bee has not read the caucus yet")
        }
    })
    .await?;
    eventually(LIMIT, || async {
        let ws = entente_node::workspace::Workspace::open(&relay_home)?;
        let held = ws.load(&neg)?.0;
        if held
            .iter()
            .any(|e| e.header.channel == "caucus" && e.header.kind == "sealed")
        {
            Ok(())
        } else {
            bail!("the relay has not stored the caucus message")
        }
    })
    .await?;
    converge(&[&chair, &bee], &neg, LIMIT).await?;
    assert!(
        !contains(&home_bytes(relay_home.root()), caucus_marker),
        "caucus plaintext at the relay"
    );
    let cee_events = cee.workspace()?.load(&neg)?.0;
    assert!(
        cee_events.iter().all(|e| e.header.channel != "caucus"),
        "Cee received caucus traffic"
    );
    assert!(!contains(&home_bytes(cee.home.root()), caucus_marker));
    assert!(cee.texts(&neg, "caucus").is_empty());

    // Cee is removed; what is said afterwards is sealed with a key Cee was never sent.
    chair.remove(&neg, &cee)?;
    let after = "MARKER-after-removal-8c2a";
    chair.say(&neg, after)?;
    converge(&[&chair, &bee], &neg, LIMIT).await?;
    assert!(bee.texts(&neg, "plenary").contains(&after.to_string()));
    // Even holding every event (as if Cee got them from a careless peer), Cee cannot read it.
    let leaked = chair.workspace()?.export(&neg)?.0;
    cee.stop().await?;
    cee.workspace()?.import(&leaked)?;
    assert!(
        !cee.texts(&neg, "plenary").contains(&after.to_string()),
        "a removed member read new content"
    );
    assert!(
        cee.texts(&neg, "plenary").contains(&marker.to_string()),
        "it still reads what it was sent"
    );
    // ... and is told why, rather than seeing a gap.
    let (events, state) = cee.workspace()?.load(&neg)?;
    let ring = entente_protocol::keyring::Keyring::open(
        &state,
        &events,
        &cee.identity.public.device,
        &cee.identity.sealing_secret,
    );
    let unreadable: Vec<_> = entente_node::render::log_entries(&events, &state, Some(&ring))
        .into_iter()
        .filter_map(|e| e.unreadable)
        .collect();
    assert!(
        unreadable.iter().any(|why| why.contains("no key")),
        "the removed member's log must say why it cannot read: {unreadable:?}"
    );

    // A delegation accredited later reads from its own epoch on, and earlier history only after
    // the chair shares it.
    let mut dee = Member::new("Dee")?;
    chair.accredit(&neg, &dee)?;
    dee.config.relays = vec![relay_addr.clone()];
    dee.config.peers = vec![relay_addr.clone()];
    dee.config.follow = vec![neg];
    dee.start().await?;
    wait_for_negotiation(&dee, &neg).await?;
    dee.join(&neg)?;
    converge(&[&chair, &bee, &dee], &neg, LIMIT).await?;
    bee.say(&neg, "welcome, Dee")?;
    converge(&[&chair, &bee, &dee], &neg, LIMIT).await?;
    let dee_reads = dee.texts(&neg, "plenary");
    assert!(
        dee_reads.contains(&"welcome, Dee".to_string()),
        "{dee_reads:?}"
    );
    assert!(
        !dee_reads.contains(&marker.to_string()),
        "a newcomer read history nobody shared"
    );
    chair.workspace()?.share_history(
        &chair.identity,
        &neg,
        "plenary",
        &dee.identity.public.delegation,
    )?;
    converge(&[&chair, &bee, &dee], &neg, LIMIT).await?;
    assert!(
        dee.texts(&neg, "plenary").contains(&marker.to_string()),
        "shared history is readable"
    );

    // A member with an empty store catches up on a long log from the relay alone and reads
    // everything it is entitled to.
    let mut ws = chair.workspace()?;
    for i in 0..150 {
        ws.post_content(
            &chair.identity,
            &neg,
            "plenary",
            Body::Note {
                text: format!("minute {i}"),
            },
        )?;
    }
    drop(ws);
    converge(&[&chair, &bee, &dee], &neg, LIMIT).await?;
    let bee_reads = bee.texts(&neg, "plenary");
    assert!(bee_reads.len() > 150);
    let everything = chair.event_ids(&neg).len();
    eventually(LIMIT, || async {
        let n = entente_node::workspace::Workspace::open(&relay_home)?
            .load(&neg)?
            .0
            .len();
        if n < everything {
            bail!("the relay holds {n} of {everything} events");
        }
        Ok(())
    })
    .await?;
    chair.stop().await?;
    dee.stop().await?;
    bee.stop().await?;
    let fresh_dir = tempfile::tempdir()?;
    let fresh_home = entente_node::home::Home::resolve(Some(fresh_dir.path().join("home")))?;
    std::fs::create_dir_all(fresh_home.root())?;
    for f in ["identity.json", "identity.key"] {
        std::fs::copy(bee.home.root().join(f), fresh_home.root().join(f))?;
    }
    let mut bee_again = Member::from_home("Bee again", fresh_dir, fresh_home)?;
    bee_again.config.relays = vec![relay_addr.clone()];
    bee_again.config.peers = vec![relay_addr.clone()];
    bee_again.config.follow = vec![neg];
    bee_again.start().await?;
    eventually(LIMIT, || async {
        let n = bee_again.texts(&neg, "plenary").len();
        if n < bee_reads.len() {
            bail!("read {n} of {} messages", bee_reads.len());
        }
        Ok(())
    })
    .await?;
    assert_eq!(bee_again.texts(&neg, "plenary"), bee_reads);
    bee_again.stop().await?;
    relay.shutdown().await?;
    Ok(())
}
