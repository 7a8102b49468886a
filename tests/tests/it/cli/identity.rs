//! Identities: created once, kept private, optionally sealed with a passphrase.

use std::os::unix::fs::PermissionsExt;

use entente_tests::Node;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `init` on a home that has an identity refuses, whatever the flags, and the first identity
/// survives byte for byte.
#[test]
fn init_refuses_to_overwrite_an_identity() {
    let mut node = Node::init("First");
    let before = node.id();
    let key = std::fs::read(node.home().join("identity.key")).expect("read identity.key");
    let public = std::fs::read(node.home().join("identity.json")).expect("read identity.json");

    let err = node.run_err(["init", "--name", "Second"]);
    assert!(err.contains("refusing to overwrite"), "{err}");
    node.set_passphrase(Some("another passphrase"));
    let err = node.run_err(["init", "--name", "Third", "--encrypt", "--json"]);
    assert!(err.contains("refusing to overwrite"), "{err}");
    node.set_passphrase(None);

    let after = node.id();
    assert_eq!(after["delegation"], before["delegation"]);
    assert_eq!(after["device"], before["device"]);
    assert_eq!(after["name"], "First");
    assert_eq!(after["keys_encrypted"], false);
    assert_eq!(
        std::fs::read(node.home().join("identity.key")).expect("read identity.key"),
        key
    );
    assert_eq!(
        std::fs::read(node.home().join("identity.json")).expect("read identity.json"),
        public
    );
}

/// The key files are readable by their owner only (0600), in a home only the owner may enter
/// (0700); `id --json` shows what a delegation shares with others.
#[test]
fn identity_files_are_private() {
    let node = Node::new();
    let created = node.json(["init", "--name", "Private", "--device-label", "laptop"]);
    assert_eq!(mode(&node.home().join("identity.key")), 0o600);
    assert_eq!(mode(&node.home().join("identity.json")), 0o600);
    assert_eq!(mode(node.home()), 0o700);

    let id = node.id();
    assert_eq!(id["delegation"], created["delegation"]);
    for field in ["delegation", "device", "fingerprint", "peer_id"] {
        assert!(
            id[field].as_str().is_some_and(|s| !s.is_empty()),
            "no {field} in {id}"
        );
    }
    assert_eq!(id["delegation"].as_str().map(str::len), Some(64));
    assert_eq!(
        id["safety_words"].as_array().map(|w| !w.is_empty()),
        Some(true),
        "{id}"
    );
    assert_eq!(id["device_label"], "laptop");
    assert_eq!(id["keys_encrypted"], false);
    assert_ne!(
        id["delegation"], id["device"],
        "a device is not its delegation"
    );

    // The secret key appears nowhere in what `id` prints.
    let key = std::fs::read_to_string(node.home().join("identity.key")).expect("identity.key");
    let printed = node.run_ok(["id"]) + &id.to_string();
    let secret: String = key
        .split('"')
        .filter(|s| s.len() >= 64 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert!(
        !secret.is_empty(),
        "an unencrypted key file holds hex secrets"
    );
    assert!(!printed.contains(&secret[..64]), "id printed a secret");
}

/// With ENTENTE_PASSPHRASE at `init`, keys are sealed: signing needs the same passphrase; a
/// wrong one or none (and no terminal to ask on) fails with a clear message and writes nothing.
#[test]
fn encrypted_identity_needs_its_passphrase() {
    let mut node = Node::new();
    node.set_passphrase(Some("correct horse battery staple"));
    node.run_ok(["init", "--name", "Sealed"]);
    node.set_passphrase(None);
    // Public information needs no passphrase.
    let id = node.id();
    assert_eq!(id["keys_encrypted"], true, "{id}");

    node.set_passphrase(Some("wrong horse"));
    let err = node.run_err(["negotiation", "create", "--title", "Refused"]);
    assert!(err.contains("passphrase"), "{err}");
    node.set_passphrase(None);
    let err = node.run_err(["negotiation", "create", "--title", "Refused"]);
    assert!(err.contains("ENTENTE_PASSPHRASE"), "{err}");
    assert!(
        node.negotiations().is_empty(),
        "a refused command created a negotiation"
    );

    node.set_passphrase(Some("correct horse battery staple"));
    let neg = node.create_negotiation("Sealed talks");
    let said = node.say(&neg, "signed with sealed keys");

    node.set_passphrase(Some("wrong horse"));
    let err = node.run_err(["say", &neg, "must not be stored"]);
    assert!(err.contains("wrong passphrase"), "{err}");
    node.set_passphrase(None);
    let err = node.run_err(["say", &neg, "must not be stored either"]);
    assert!(err.contains("ENTENTE_PASSPHRASE"), "{err}");

    // Listing needs no passphrase (sealed content then stays unopened), and shows that nothing
    // was added by the failures: the charter, the plenary's key epoch, the message.
    let log = node.log(&neg);
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[2]["id"], said.as_str());
    assert_eq!(log[2]["sealed"], true);
}

/// `init --encrypt` with no passphrase available (no variable, no terminal) fails before it
/// writes anything, so a later `init` can still succeed.
#[test]
fn encrypt_without_a_passphrase_creates_nothing() {
    let node = Node::new();
    let err = node.run_err(["init", "--name", "Nobody", "--encrypt"]);
    assert!(err.contains("ENTENTE_PASSPHRASE"), "{err}");
    assert!(
        !node.home().join("identity.key").exists() && !node.home().join("identity.json").exists(),
        "a failed init left key files behind"
    );
    node.run_ok(["init", "--name", "Somebody"]);
    assert_eq!(node.id()["name"], "Somebody");
}
