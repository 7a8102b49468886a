//! The delegate's local workspace: a JSON API over HTTP and the web UI, served by `entente up`
//! on loopback. Every `/api` request but login needs the bearer token (see `auth`); live updates
//! arrive as server-sent events; `/api/openapi.json` describes it all.

mod auth;
mod error;
mod handlers;
mod live;
mod routes;
mod texts;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::{broadcast, oneshot};

pub use auth::{issue_login, load_or_create_token, token_path};
pub use live::LiveEvent;
pub use routes::openapi;

use crate::home::Home;
use crate::identity::Identity;

/// Shared by every request.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

struct Inner {
    home: Home,
    me: Arc<Identity>,
    token: String,
    live: broadcast::Sender<LiveEvent>,
    /// The running node, for what needs the network (joining by invitation).
    node: Option<crate::net::NodeControl>,
}

impl Api {
    fn token(&self) -> &str {
        &self.inner.token
    }
}

/// A running API server.
pub struct ApiServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    stop_live: Arc<std::sync::atomic::AtomicBool>,
}

impl ApiServer {
    /// The address a person opens: the UI, with a fresh one-time login code.
    pub fn login_url(&self, home: &Home) -> Result<String> {
        Ok(format!(
            "http://{}/#login={}",
            self.addr,
            auth::issue_login(home)?
        ))
    }

    pub fn stop(mut self) {
        self.stop_live
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Where the API of a running node listens: written by `entente up` for `entente web`.
pub fn address_file(home: &Home) -> std::path::PathBuf {
    home.root().join("api.json")
}

/// Serves the API and the UI on `listen` until stopped.
pub async fn serve(
    home: Home,
    me: Arc<Identity>,
    listen: SocketAddr,
    node: Option<crate::net::NodeControl>,
) -> Result<ApiServer> {
    let token = load_or_create_token(&home)?;
    let (live, _) = broadcast::channel(1024);
    let stop_live = Arc::new(std::sync::atomic::AtomicBool::new(false));
    live::watch_store(home.clone(), live.clone(), stop_live.clone())?;
    let api = Api {
        inner: Arc::new(Inner {
            home: home.clone(),
            me,
            token,
            live,
            node,
        }),
    };
    let app = routes::router(api);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for the web UI on {listen}"))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "the local API listens beyond loopback: anyone who can reach it still needs the token");
    }
    crate::home::write_atomic(
        &address_file(&home),
        serde_json::to_string(&serde_json::json!({"url": format!("http://{addr}/")}))?.as_bytes(),
    )?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!("the local API stopped: {e}");
        }
    });
    tracing::info!(%addr, "local API and web UI listening");
    Ok(ApiServer {
        addr,
        stop: Some(stop),
        stop_live,
    })
}
