//! Long-running `entente up` / `entente relay` processes for multi-process tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Node;

/// A daemon child process. Killed when dropped; its stderr (the logs) is kept in a file of the
/// node's scratch directory and printed by [`Daemon::logs`].
pub struct Daemon {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    pub log_file: PathBuf,
}

impl Node {
    /// Starts `entente --home HOME ARGS…` in the background (`up` or `relay`).
    pub fn spawn_daemon(&self, args: &[&str]) -> Daemon {
        let log_file = self.file(&format!("{}-{}.log", args[0], std::process::id()));
        let log = std::fs::File::create(&log_file).expect("cannot create the daemon's log file");
        // Many nodes run at once in tests: each web UI on a free port.
        let mut args = args.to_vec();
        if args[0] == "up" && !args.iter().any(|a| *a == "--web" || *a == "--no-web") {
            args.extend(["--web", "127.0.0.1:0"]);
        }
        let mut cmd = self.command(&args);
        cmd.env("RUST_LOG", "warn,entente_node=debug,libp2p_kad=error")
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = cmd.spawn().expect("cannot start the daemon");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stdout.take().expect("piped stdout");
        let sink = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        Daemon {
            child,
            stdout,
            log_file,
        }
    }
}

impl Daemon {
    /// The one-time login address of the web UI that `entente up` printed, waiting for it.
    pub fn web_url(&self) -> String {
        let start = Instant::now();
        loop {
            let url = self
                .stdout
                .lock()
                .expect("lock")
                .iter()
                .find_map(|l| l.strip_prefix("Web UI: ").map(str::to_string));
            if let Some(url) = url {
                return url;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the daemon printed no web UI address; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The multiaddrs the daemon printed (lines that start with "  /"), waiting for them.
    pub fn addrs(&self) -> Vec<String> {
        let start = Instant::now();
        loop {
            let addrs: Vec<String> = self
                .stdout
                .lock()
                .expect("lock")
                .iter()
                .filter_map(|l| l.strip_prefix("  /").map(|a| format!("/{a}")))
                .collect();
            if !addrs.is_empty() {
                return addrs;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the daemon printed no address within 20 s; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first printed address that is not relayed.
    pub fn addr(&self) -> String {
        self.addrs()
            .into_iter()
            .find(|a| !a.contains("p2p-circuit"))
            .expect("a direct address")
    }

    /// The daemon's stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// Stops the daemon with SIGTERM (a clean shutdown), killing it if it lingers.
    pub fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it returns true or `limit` passes; returns the time taken.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

impl Daemon {
    /// Kills the daemon with SIGKILL (no clean shutdown: a crash, a power cut) and returns how
    /// it ended. Its log file is kept.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().expect("SIGKILL the daemon");
        self.child.wait().expect("reap the killed daemon")
    }
}
