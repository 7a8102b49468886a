//! Every command documents itself.

use entente_tests::Outsider;

const COMMANDS: &[&[&str]] = &[
    &["init"],
    &["id"],
    &["negotiation"],
    &["negotiation", "create"],
    &["negotiation", "list"],
    &["invite"],
    &["join"],
    &["members"],
    &["role"],
    &["remove"],
    &["leave"],
    &["revoke"],
    &["channel", "create"],
    &["channel", "list"],
    &["share-history"],
    &["up"],
    &["relay"],
    &["say"],
    &["note"],
    &["log"],
    &["export"],
    &["import"],
    &["verify"],
];

/// `entente <command> --help` exits 0 and prints a usage line for every command, without a home.
#[test]
fn every_command_has_help() {
    let outsider = Outsider::new();
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");
        let out = outsider.run_ok(&args);
        let usage = format!("Usage: entente {}", command.join(" "));
        assert!(
            out.contains(&usage),
            "{args:?} does not say {usage:?}:\n{out}"
        );
    }
    assert!(outsider.leftovers().is_empty(), "--help touched the home");
}

/// The top-level help lists every command, and `--version` works.
#[test]
fn top_level_help_lists_every_command() {
    let outsider = Outsider::new();
    let help = outsider.run_ok(["--help"]);
    for command in COMMANDS.iter().filter(|c| c.len() == 1) {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{} ", command[0]))),
            "{} missing from:\n{help}",
            command[0]
        );
    }
    let version = outsider.run_ok(["--version"]);
    assert!(version.starts_with("entente "), "{version}");
    // No command at all is a usage error (exit 2), not a crash.
    let out = outsider.run([] as [&str; 0]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
