//! Harness for tests that drive the real `entente` binary, one process per command, each node in
//! its own temporary home directory.
//!
//! - [`binary`] builds `entente` once per test process (same profile and target directory as the
//!   test itself) and returns its path; `ENTENTE_TEST_BIN` overrides it with a prebuilt binary.
//! - [`Node`] is one delegation's node: a temporary directory holding its home (`home/`, created
//!   by `entente init`) and any files it exchanges (records). Every command it runs gets
//!   `--home`, a scrubbed environment (no `ENTENTE_HOME`, no `ENTENTE_PASSPHRASE` unless the test
//!   sets one, no `RUST_LOG`), no terminal on stdin, and the scratch directory as working
//!   directory.
//! - [`Outsider`] runs commands with no home at all (an archive verifying a record, `--help`).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use tempfile::TempDir;

/// Environment variable naming a prebuilt `entente` to test instead of building one.
pub const BINARY_ENV: &str = "ENTENTE_TEST_BIN";
/// The binary's passphrase variable.
pub const PASSPHRASE_ENV: &str = "ENTENTE_PASSPHRASE";
/// The binary's home variable (always removed: nodes pass `--home`).
pub const HOME_ENV: &str = "ENTENTE_HOME";

/// The `entente` binary, built on first use.
///
/// Runs `$CARGO build -p entente-node --bin entente` into the target directory and profile of
/// the running test (`…/target/debug/deps/cli-…` → `…/target/debug/entente`). Cargo releases its
/// build lock before it runs test binaries, so this nested build does not wait on the outer one.
/// Panics with cargo's output if the build fails.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| match std::env::var_os(BINARY_ENV) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "{BINARY_ENV}={} is not a file",
                path.display()
            );
            path
        }
        None => build_binary(),
    })
}

fn build_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test process knows its own executable");
    // <target-dir>/<profile>/deps/<test>-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in <target>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .and_then(OsStr::to_str)
        .expect("the profile directory has a UTF-8 name");
    let target_dir = profile_dir
        .parent()
        .expect("the profile directory lives in a target directory");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .args(["-p", "entente-node", "--bin", "entente"]);
    // `debug` is where the dev and test profiles put their output; any other directory is named
    // after its profile (release, bench, custom ones).
    if profile != "debug" {
        cmd.args(["--profile", profile]);
    }
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?} to build entente: {e}"));
    assert!(
        output.status.success(),
        "building entente failed ({:?}):\n{}{}",
        cmd,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let path = profile_dir.join(format!("entente{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "cargo built entente, but not at {} ({:?})",
        path.display(),
        cmd
    );
    path
}

/// A description of a finished command for assertion messages.
pub fn describe(cmd: &Command, out: &Output) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "command: {:?} {:?}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    s
}

/// Runs a prepared command to completion, panicking only if it cannot be started.
fn output_of(mut cmd: Command) -> (Command, Output) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    (cmd, out)
}

/// A command's stdout, asserting that it exited 0.
fn ok_stdout(cmd: Command) -> String {
    let (cmd, out) = output_of(cmd);
    assert!(
        out.status.success(),
        "expected success\n{}",
        describe(&cmd, &out)
    );
    String::from_utf8(out.stdout).expect("entente prints UTF-8")
}

/// A command's stderr, asserting that it exited 1 (an error, not a crash or a usage error)
/// and said why.
fn err_stderr(cmd: Command) -> String {
    let (cmd, out) = output_of(cmd);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit code 1\n{}",
        describe(&cmd, &out)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "failure without a message\n{}",
        describe(&cmd, &out)
    );
    String::from_utf8(out.stderr).expect("entente prints UTF-8")
}

/// Parses a command's stdout as one JSON document.
fn parse_json(cmd: Command) -> Value {
    let debug = format!(
        "{:?} {:?}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>()
    );
    let stdout = ok_stdout(cmd);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{debug} printed invalid JSON ({e}):\n{stdout}"))
}

/// One delegation's node: a temporary home and a scratch directory for its files.
pub struct Node {
    dir: TempDir,
    home: PathBuf,
    passphrase: Option<String>,
}

impl Default for Node {
    fn default() -> Self {
        Self::new()
    }
}

impl Node {
    /// A node whose home does not exist yet (`entente init` creates it).
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("entente-test-")
            .tempdir()
            .expect("cannot create a temporary directory");
        let home = dir.path().join("home");
        Self {
            dir,
            home,
            passphrase: None,
        }
    }

    /// A node with an unencrypted identity named `name`.
    pub fn init(name: &str) -> Self {
        let node = Self::new();
        node.run_ok(["init", "--name", name]);
        node
    }

    /// The home directory (`--home`).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The scratch directory: the working directory of every command, and where files go.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the scratch directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sets or clears the `ENTENTE_PASSPHRASE` given to later commands.
    pub fn set_passphrase(&mut self, passphrase: Option<&str>) {
        self.passphrase = passphrase.map(str::to_string);
    }

    /// `entente --home HOME ARGS…`, ready to run, with a scrubbed environment and stdin closed.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(binary());
        cmd.arg("--home")
            .arg(&self.home)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove(HOME_ENV)
            .env_remove(PASSPHRASE_ENV)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if let Some(p) = &self.passphrase {
            cmd.env(PASSPHRASE_ENV, p);
        }
        cmd
    }

    /// Runs a command to completion, whatever its outcome.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        output_of(self.command(args)).1
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn run_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        ok_stdout(self.command(args))
    }

    /// Runs a command that must fail with exit code 1 and a message; returns its stderr.
    pub fn run_err<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        err_stderr(self.command(args))
    }

    /// Runs a command with `--json` appended; it must succeed and print one JSON document.
    pub fn json<I, S>(&self, args: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        cmd.arg("--json");
        parse_json(cmd)
    }

    /// `entente id --json`.
    pub fn id(&self) -> Value {
        self.json(["id"])
    }

    /// This node's delegation id.
    pub fn delegation(&self) -> String {
        str_field(&self.id(), "delegation")
    }

    /// Convenes a negotiation; returns its id.
    pub fn create_negotiation(&self, title: &str) -> String {
        str_field(
            &self.json(["negotiation", "create", "--title", title]),
            "negotiation",
        )
    }

    /// Accredits `delegation` with `role`; returns the event id.
    pub fn invite(&self, negotiation: &str, delegation: &str, role: &str, name: &str) -> String {
        let v = self.json([
            "invite",
            negotiation,
            "--delegation",
            delegation,
            "--role",
            role,
            "--name",
            name,
        ]);
        str_field(&v, "event")
    }

    /// Joins a negotiation; returns the event id.
    pub fn join(&self, negotiation: &str) -> String {
        str_field(&self.json(["join", negotiation]), "event")
    }

    /// Says `text` in the plenary; returns the event id.
    pub fn say(&self, negotiation: &str, text: &str) -> String {
        str_field(&self.json(["say", negotiation, text]), "event")
    }

    /// `entente log NEG --json`, as its entries.
    pub fn log(&self, negotiation: &str) -> Vec<Value> {
        match self.json(["log", negotiation]) {
            Value::Array(entries) => entries,
            other => panic!("log --json is not an array: {other}"),
        }
    }

    /// `entente members NEG --json`, as its rows.
    pub fn members(&self, negotiation: &str) -> Vec<Value> {
        match self.json(["members", negotiation]) {
            Value::Array(rows) => rows,
            other => panic!("members --json is not an array: {other}"),
        }
    }

    /// `entente negotiation list --json`, as its rows.
    pub fn negotiations(&self) -> Vec<Value> {
        match self.json(["negotiation", "list"]) {
            Value::Array(rows) => rows,
            other => panic!("negotiation list --json is not an array: {other}"),
        }
    }

    /// The state hash this node computes for a negotiation (`negotiation list --json`).
    pub fn state_hash(&self, negotiation: &str) -> String {
        let rows = self.negotiations();
        let row = rows
            .iter()
            .find(|r| r["negotiation"] == negotiation)
            .unwrap_or_else(|| panic!("{negotiation} is not in {rows:?}"));
        str_field(row, "state_hash")
    }

    /// Exports a negotiation to `name` in the scratch directory; returns the file's path.
    pub fn export(&self, negotiation: &str, name: &str) -> PathBuf {
        let path = self.file(name);
        self.run_ok([
            OsStr::new("export"),
            OsStr::new(negotiation),
            OsStr::new("--out"),
            path.as_os_str(),
        ]);
        assert!(path.is_file(), "export did not write {}", path.display());
        path
    }

    /// Imports a record file, which must succeed; returns the import report.
    pub fn import(&self, file: &Path) -> Value {
        self.json([OsStr::new("import"), file.as_os_str()])
    }
}

/// Runs commands with no home at all: `HOME` and the XDG directories point into an empty
/// temporary directory, and neither `--home` nor `ENTENTE_HOME` is given.
pub struct Outsider {
    dir: TempDir,
}

impl Default for Outsider {
    fn default() -> Self {
        Self::new()
    }
}

impl Outsider {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("entente-outsider-")
                .tempdir()
                .expect("cannot create a temporary directory"),
        }
    }

    /// `entente ARGS…` with no home.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let d = self.dir.path();
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .current_dir(d)
            .env("HOME", d)
            .env("XDG_DATA_HOME", d.join(".local/share"))
            .env("XDG_CONFIG_HOME", d.join(".config"))
            .env_remove(HOME_ENV)
            .env_remove(PASSPHRASE_ENV)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        output_of(self.command(args)).1
    }

    pub fn run_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        ok_stdout(self.command(args))
    }

    pub fn run_err<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        err_stderr(self.command(args))
    }

    /// `entente verify FILE` (text output), whatever its outcome.
    pub fn verify(&self, file: &Path) -> Output {
        self.run([OsStr::new("verify"), file.as_os_str()])
    }

    /// `entente verify FILE --json`: the exit code and the printed JSON.
    pub fn verify_json(&self, file: &Path) -> (Option<i32>, Value) {
        let (cmd, out) =
            output_of(self.command([OsStr::new("verify"), file.as_os_str(), OsStr::new("--json")]));
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "verify --json printed invalid JSON ({e})\n{}",
                describe(&cmd, &out)
            )
        });
        (out.status.code(), v)
    }

    /// Names of whatever the commands left in the outsider's (fake) home directory.
    pub fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .expect("the outsider's directory exists")
            .map(|e| {
                e.expect("readable directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// A path in the outsider's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A chair and one delegation in a fresh negotiation: the chair convenes it and accredits the
/// delegation, which imports the record and joins; the chair has imported the join back.
/// Returns (chair, delegation, negotiation id).
pub fn convene_pair(title: &str) -> (Node, Node, String) {
    let chair = Node::init("Chair");
    let delegation = Node::init("Delegation");
    let neg = chair.create_negotiation(title);
    chair.invite(&neg, &delegation.delegation(), "delegation", "Delegation");
    carry(&chair, &delegation, &neg, "accredited.bundle");
    delegation.join(&neg);
    carry(&delegation, &chair, &neg, "joined.bundle");
    (chair, delegation, neg)
}

/// Carries a negotiation's record from one node to another, as a delegation without a network
/// would (export, hand over the file, import). Returns the import report.
pub fn carry(from: &Node, to: &Node, negotiation: &str, name: &str) -> Value {
    let file = from.export(negotiation, name);
    to.import(&file)
}

/// A string field of a JSON object, panicking with the object if it is missing.
pub fn str_field(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {v}"))
        .to_string()
}

/// `bytes` with the byte at `pos` XORed with `mask` (non-zero).
pub fn flipped(bytes: &[u8], pos: usize, mask: u8) -> Vec<u8> {
    assert_ne!(mask, 0, "a zero mask changes nothing");
    let mut out = bytes.to_vec();
    out[pos] ^= mask;
    out
}

/// `count` positions spread evenly over `0..len`, always including the first and the last.
pub fn spread_positions(len: usize, count: usize) -> Vec<usize> {
    assert!(
        len > 0 && count >= 2,
        "need a non-empty file and two positions"
    );
    let mut v: Vec<usize> = (0..count).map(|k| k * (len - 1) / (count - 1)).collect();
    v.dedup();
    v
}
pub mod browser;
pub mod daemon;
pub mod hostile;
pub mod net;

/// Convenes a negotiation in English, French and Arabic (English is the working language);
/// returns the chair's node and the negotiation id.
pub fn convene_trilingual(title: &str) -> (Node, String) {
    let chair = Node::init("Chair");
    let neg = str_field(
        &chair.json([
            "negotiation",
            "create",
            "--title",
            title,
            "--language",
            "en",
            "--language",
            "fr",
            "--language",
            "ar",
        ]),
        "negotiation",
    );
    (chair, neg)
}

/// Circulates a revision from texts in the plain-text convention, one per language, written to
/// files of `node`'s scratch directory; returns `draft circulate --json`.
pub fn circulate(node: &Node, negotiation: &str, label: &str, texts: &[(&str, &str)]) -> Value {
    let mut args: Vec<String> = ["draft", "circulate", negotiation, "--label", label]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (lang, text) in texts {
        let path = node.file(&format!("{label}.{lang}.txt"));
        std::fs::write(&path, text).expect("cannot write a text file");
        args.push("--text".into());
        args.push(format!("{lang}={}", path.display()));
    }
    node.json(&args)
}

/// A negotiation on the real network: a mediator relay with a mailbox, the chair, and
/// delegations invited by token, each node running `entente up` through the relay.
pub struct Conference {
    pub relay: Node,
    pub relay_daemon: daemon::Daemon,
    pub relay_addr: String,
    pub chair: Node,
    pub chair_daemon: daemon::Daemon,
    pub negotiation: String,
    pub delegations: Vec<Node>,
    pub daemons: Vec<daemon::Daemon>,
}

impl Conference {
    /// Convenes `title` (English, French, Arabic) and brings in `names` as delegations.
    pub fn convene(title: &str, names: &[&str]) -> Self {
        let relay = Node::new();
        let relay_daemon =
            relay.spawn_daemon(&["relay", "--listen", "/ip4/127.0.0.1/tcp/0", "--mailbox"]);
        let relay_addr = relay_daemon.addr();
        let (chair, negotiation) = convene_trilingual(title);
        // The mediator serves this negotiation: it imports the record once.
        relay.import(&chair.export(&negotiation, "charter.ent"));
        let chair_daemon = Self::up_with(&chair, &relay_addr);
        let mut c = Self {
            relay,
            relay_daemon,
            relay_addr,
            chair,
            chair_daemon,
            negotiation,
            delegations: Vec::new(),
            daemons: Vec::new(),
        };
        for name in names {
            c.admit(name);
        }
        c
    }

    fn up_with(node: &Node, relay: &str) -> daemon::Daemon {
        node.spawn_daemon(&[
            "up",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--relay",
            relay,
            "--no-mdns",
        ])
    }

    /// Runs `entente up` for `node` through this conference's relay.
    pub fn up(&self, node: &Node) -> daemon::Daemon {
        Self::up_with(node, &self.relay_addr)
    }

    /// Invites a new delegation by token, joins it over the network and starts its node.
    pub fn admit(&mut self, name: &str) {
        let node = Node::init(name);
        let invitation = self.chair.json([
            "invite",
            &self.negotiation,
            "--delegation",
            &node.delegation(),
            "--name",
            name,
        ]);
        node.json(["join", &str_field(&invitation, "token"), "--timeout", "30"]);
        self.daemons.push(self.up(&node));
        self.delegations.push(node);
    }

    /// Stops every daemon.
    pub fn stop(self) {
        for d in self.daemons {
            d.stop();
        }
        self.chair_daemon.stop();
        self.relay_daemon.stop();
    }
}
