//! The real binary on loopback: a mediator relay and three delegations, invitation tokens, live
//! delivery, and the relay's mailbox for members who were offline.

use std::time::Duration;

use entente_tests::daemon::wait_until;
use entente_tests::{Node, str_field};

const LIMIT: Duration = Duration::from_secs(20);
const LOOPBACK: &str = "/ip4/127.0.0.1/tcp/0";

fn has_text(node: &Node, negotiation: &str, text: &str) -> bool {
    node.log(negotiation)
        .iter()
        .any(|e| e["body"]["text"].as_str() == Some(text))
}

#[test]
fn relay_and_three_delegations_invite_join_talk_and_use_the_mailbox() {
    let relay = Node::new();
    let relay_daemon = relay.spawn_daemon(&["relay", "--listen", LOOPBACK, "--mailbox"]);
    let relay_addr = relay_daemon.addr();

    let chair = Node::init("Chair");
    let negotiation = chair.create_negotiation("Loopback conference");
    // The mediator serves this negotiation: it imports the record once.
    relay.import(&chair.export(&negotiation, "charter.ent"));

    let up = |node: &Node| {
        node.spawn_daemon(&[
            "up",
            "--listen",
            LOOPBACK,
            "--relay",
            &relay_addr,
            "--no-mdns",
        ])
    };
    let chair_daemon = up(&chair);
    chair_daemon.addrs();

    let mut delegations = Vec::new();
    let mut daemons = Vec::new();
    for name in ["Bolivia", "Canada"] {
        let node = Node::init(name);
        let invitation = chair.json([
            "invite",
            &negotiation,
            "--delegation",
            &node.delegation(),
            "--role",
            "delegation",
            "--name",
            name,
        ]);
        let token = str_field(&invitation, "token");
        assert!(token.starts_with("ent1"), "{invitation}");
        let joined = node.json(["join", &token, "--timeout", "30"]);
        assert_eq!(str_field(&joined, "negotiation"), negotiation);
        daemons.push(up(&node));
        delegations.push(node);
    }
    let (bolivia, canada) = (&delegations[0], &delegations[1]);
    // `join` returns once the inviter holds the join: the chair knows both devices.
    let active = chair
        .members(&negotiation)
        .iter()
        .filter(|m| m["status"] == "active")
        .count();
    assert_eq!(active, 3, "{:?}", chair.members(&negotiation));

    // A message said on the chair's node appears in Canada's log within seconds, and back.
    chair.say(&negotiation, "The chair opens the session");
    let took = wait_until(LIMIT, "Canada sees the chair's message", || {
        has_text(canada, &negotiation, "The chair opens the session")
    });
    eprintln!("chair -> Canada: {took:?}");
    canada.say(&negotiation, "Canada takes the floor");
    wait_until(LIMIT, "the chair and Bolivia see Canada's message", || {
        has_text(&chair, &negotiation, "Canada takes the floor")
            && has_text(bolivia, &negotiation, "Canada takes the floor")
    });
    let hashes: Vec<_> = [&chair, bolivia, canada]
        .iter()
        .map(|n| n.state_hash(&negotiation))
        .collect();
    wait_until(LIMIT, "every node has the same state", || {
        [&chair, bolivia, canada, &relay]
            .iter()
            .all(|n| n.state_hash(&negotiation) == chair.state_hash(&negotiation))
    });
    assert_eq!(chair.members(&negotiation).len(), 3, "{hashes:?}");

    // Mailbox: Bolivia and Canada go offline; the chair speaks, then goes offline too; Bolivia
    // comes back and gets the chair's words from the relay alone.
    for d in daemons.drain(..) {
        d.stop();
    }
    let away = chair.say(&negotiation, "Said while the others were away");
    wait_until(
        LIMIT,
        "the relay's mailbox holds the (sealed) message",
        || {
            relay
                .log(&negotiation)
                .iter()
                .any(|e| e["id"].as_str() == Some(away.as_str()))
        },
    );
    assert!(
        !has_text(&relay, &negotiation, "Said while the others were away"),
        "the relay must not be able to read what members say"
    );
    chair_daemon.stop();
    let bolivia_again = up(bolivia);
    let took = wait_until(LIMIT, "Bolivia catches up from the mailbox", || {
        has_text(bolivia, &negotiation, "Said while the others were away")
    });
    eprintln!("mailbox -> Bolivia: {took:?}");
    bolivia_again.stop();
    relay_daemon.stop();
}
