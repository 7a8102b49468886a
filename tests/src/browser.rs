//! A real headless Chromium, driven over WebDriver (ChromeDriver) with `fantoccini`: one browser
//! session per delegate, each on its own node's web UI.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Where screenshots go: `target/test-artifacts/` of the workspace (CI keeps it).
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("cannot create the artifacts directory");
    dir
}

/// A ChromeDriver process, killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    /// Starts `chromedriver` on a free port; fails with advice when it is not installed.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}): the browser tests need Debian's chromium and \
                     chromium-driver (`apt-get install chromium chromium-driver`; .ci/run installs them)"
                )
            });
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser {
    pub client: Client,
    pub name: String,
}

impl Browser {
    /// A new headless Chromium session (its own profile) with `lang` as the browser language.
    pub async fn open(driver: &Driver, name: &str, lang: &str) -> Self {
        let profile = tempfile::tempdir().expect("a profile directory").keep();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--lang={lang}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {"intl.accept_languages": lang},
            }
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!("a JSON object literal"),
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session in Chromium");
        Self {
            client,
            name: name.to_string(),
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    /// Waits (up to 20 s) for an element matching the CSS selector.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{}: no element {css:?} within 20 s: {e}", self.name))
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: cannot click {css}: {e}", self.name));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        e.clear().await.ok();
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("{}: cannot type into {css}: {e}", self.name));
    }

    pub async fn select(&self, css: &str, value: &str) {
        // Options may arrive after the select itself (they are fetched).
        self.wait_for(&format!("{css} option[value='{value}']"))
            .await;
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{}: cannot select {value} in {css}: {e}", self.name));
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("the script runs")
    }

    /// Polls a JavaScript condition (up to `limit`) until it is true.
    pub async fn until(&self, what: &str, limit: Duration, script: &str) {
        let start = Instant::now();
        loop {
            if self.js(script).await == Value::Bool(true) {
                return;
            }
            if start.elapsed() > limit {
                self.screenshot(&format!("FAILED-{}", what.replace(' ', "-")))
                    .await;
                panic!("{}: {what} did not happen within {limit:?}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Saves a PNG of the page under the artifacts directory; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = artifacts_dir().join(format!("{}-{name}.png", self.name));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
