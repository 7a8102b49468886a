//! Posting from a long-lived workspace (as `say --stdin`, the node and benchmarks do): its
//! incrementally folded state and its cached epoch keys must stay exactly what the store says,
//! while other writers change the store underneath it.

use anyhow::Result;
use entente_protocol::Body;
use entente_tests::net::{Member, seat_offline};

fn message(text: &str) -> Body {
    Body::Message { text: text.into() }
}

#[test]
fn a_long_lived_workspace_builds_on_other_writers_and_rekeys_after_a_removal() -> Result<()> {
    let chair = Member::new("Chair")?;
    let others = vec![Member::new("Bee")?, Member::new("Cee")?];
    let neg = chair.convene("Posting")?;
    seat_offline(&chair, &others, &neg)?;
    let (bee, cee) = (&others[0], &others[1]);

    let mut long = chair.workspace()?;
    let one = long.post_content(&chair.identity, &neg, "plenary", message("one"))?;
    // Another writer on the same store (a second command, or the node storing what arrived).
    let meanwhile = chair.say(&neg, "from another writer")?;
    let two = long.post_content(&chair.identity, &neg, "plenary", message("two"))?;
    assert_eq!(
        two.header.parents,
        vec![meanwhile.id],
        "the post builds on what the other writer stored"
    );
    assert_eq!(
        two.header.epoch, one.header.epoch,
        "nothing changed in the channel: the cached key is used again"
    );
    assert_eq!(
        long.state(&neg)?.state_hash(),
        chair.state_hash(&neg).expect("stored"),
        "the incremental state is the full fold's"
    );

    // The chair removes Cee through another writer: the long-lived workspace must not keep
    // sealing with a key Cee holds.
    chair.remove(&neg, cee)?;
    let three = long.post_content(&chair.identity, &neg, "plenary", message("three"))?;
    assert!(
        three.header.epoch > two.header.epoch,
        "a removal starts a new epoch (epoch {} after {})",
        three.header.epoch,
        two.header.epoch
    );
    // A refusal leaves the workspace usable and its state exact.
    let refused = long.post(
        &chair.identity,
        &neg,
        Body::Remove {
            delegation: cee.identity.public.delegation,
            reason: "again".into(),
        },
    );
    assert!(refused.is_err(), "removing a removed member is refused");
    let four = long.post_content(&chair.identity, &neg, "plenary", message("four"))?;
    assert_eq!(four.header.epoch, three.header.epoch);
    assert_eq!(
        long.state(&neg)?.state_hash(),
        chair.state_hash(&neg).expect("stored")
    );

    let (record, _) = chair.workspace()?.export(&neg)?;
    for m in &others {
        m.workspace()?.import(&record)?;
    }
    assert_eq!(
        bee.texts(&neg, "plenary"),
        ["one", "from another writer", "two", "three", "four"]
    );
    assert_eq!(
        cee.texts(&neg, "plenary"),
        ["one", "from another writer", "two"],
        "a removed member reads nothing sealed after its removal"
    );
    Ok(())
}
