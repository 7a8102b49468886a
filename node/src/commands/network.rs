//! `entente up`, `entente relay`, and joining by invitation token: the commands that go online.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entente_protocol::NegotiationId;
use entente_protocol::sync::Invitation;
use serde_json::json;

use super::print_json;
use crate::cli::{JoinArgs, RelayArgs, UpArgs};
use crate::home::Home;
use crate::identity::Identity;
use crate::net::peers::{peer_in, peer_of, via_relay};
use crate::net::{self, Multiaddr, NetConfig, PeerId, RelayConfig, RelayLimits};
use crate::output::outln;
use crate::workspace::Workspace;

/// The port `entente up` listens on by default (TCP and QUIC).
pub const NODE_PORT: u16 = 7420;
/// The port `entente relay` listens on by default (TCP and QUIC).
pub const RELAY_PORT: u16 = 7421;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn parse_addrs(list: &[String], what: &str) -> Result<Vec<Multiaddr>> {
    list.iter()
        .map(|a| {
            a.parse::<Multiaddr>()
                .with_context(|| format!("{what} {a:?} is not a multiaddr"))
        })
        .collect()
}

/// Waits for Ctrl-C or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Where `entente up` serves the web UI unless told otherwise.
pub const DEFAULT_WEB: &str = "127.0.0.1:7430";

pub fn up(home: &Home, args: &UpArgs) -> Result<()> {
    let me = Identity::load(home)?;
    // Opening the workspace applies migrations before the node starts polling it.
    drop(Workspace::open(home)?);
    let listen = if args.listen.is_empty() {
        net::default_listen(NODE_PORT)
    } else {
        parse_addrs(&args.listen, "--listen")?
    };
    let relays = parse_addrs(&args.relay, "--relay")?;
    for r in &relays {
        peer_in(r).with_context(|| format!("--relay {r} must end with /p2p/<relay id>"))?;
    }
    let config = NetConfig {
        listen,
        relays,
        peers: parse_addrs(&args.peer, "--peer")?,
        mdns: !args.no_mdns,
        relay_only: args.relay_only,
        ..NetConfig::default()
    };
    let rt = runtime()?;
    let me = std::sync::Arc::new(me);
    rt.block_on(async {
        let node = net::spawn(home.clone(), me.credentials()?, config).await?;
        outln!("{} is online as {}", me.public.name, node.peer_id);
        print_addrs(&node, "Listening on").await?;
        let web = if args.no_web {
            None
        } else {
            let server = match crate::api::serve(home.clone(), me.clone(), args.web, Some(node.control())).await {
                // Another node on this machine has the default port: take any free one.
                Err(e) if args.web == DEFAULT_WEB.parse()? => {
                    tracing::warn!("{e:#}; using a free port instead");
                    let any = std::net::SocketAddr::new(args.web.ip(), 0);
                    crate::api::serve(home.clone(), me.clone(), any, Some(node.control())).await?
                }
                other => other?,
            };
            outln!("Web UI: {}", server.login_url(home)?);
            outln!("  (a one-time login address; `entente web` prints a new one)");
            Some(server)
        };
        outln!("Commands run in another terminal (`entente say`, `invite`, ...) reach the other members within a second.");
        outln!("Press Ctrl-C to stop.");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let duties = {
            let (home, stop) = (home.clone(), stop.clone());
            let me = me.clone();
            std::thread::spawn(move || crate::duties::receipts(&home, &me, &stop))
        };
        stop_signal().await;
        outln!("Stopping...");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(web) = web {
            web.stop();
        }
        match duties.join() {
            Ok(Err(e)) => tracing::warn!("the receipts duty stopped: {e:#}"),
            Err(_) => tracing::warn!("the receipts duty panicked"),
            Ok(Ok(())) => {}
        }
        node.shutdown().await
    })
}

async fn print_addrs(node: &net::NodeHandle, title: &str) -> Result<()> {
    // Listen addresses appear once the sockets are bound.
    let start = Instant::now();
    let mut addrs = Vec::new();
    while addrs.is_empty() && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        addrs = node.listen_addrs().await?;
    }
    outln!("{title}:");
    for a in addrs {
        outln!("  {a}");
    }
    Ok(())
}

fn read_allow_file(path: &std::path::Path) -> Result<HashSet<PeerId>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let peer = line
            .parse::<PeerId>()
            .with_context(|| format!("{}:{}: {line:?} is not a peer id", path.display(), i + 1))?;
        out.insert(peer);
    }
    Ok(out)
}

pub fn relay(home: &Home, args: &RelayArgs) -> Result<()> {
    if !home.identity_public().exists() {
        let encrypt = std::env::var_os(crate::keystore::PASSPHRASE_ENV).is_some();
        Identity::create(home, "Mediator relay", "relay", encrypt)?;
        outln!("Created the relay's identity in {}", home.root().display());
    }
    let me = Identity::load(home)?;
    drop(Workspace::open(home)?);
    let listen = if args.listen.is_empty() {
        net::default_listen(RELAY_PORT)
    } else {
        parse_addrs(&args.listen, "--listen")?
    };
    let allow = match &args.allow_file {
        Some(p) => read_allow_file(p)?,
        None => HashSet::new(),
    };
    let served = Workspace::open(home)?.negotiations()?.len();
    let config = NetConfig {
        listen,
        mdns: false,
        relay: Some(RelayConfig {
            limits: RelayLimits {
                max_circuit_duration: Duration::from_secs(args.max_circuit_secs),
                max_circuit_bytes: args.max_circuit_bytes,
                max_circuits: args.max_circuits,
                max_reservations: args.max_reservations,
                ..RelayLimits::default()
            },
            external: parse_addrs(&args.external, "--external")?,
            allow,
            mailbox: args.mailbox,
        }),
        ..NetConfig::default()
    };
    let rt = runtime()?;
    rt.block_on(async {
        let node = net::spawn(home.clone(), net::Credentials::Relay { keypair: me.libp2p_keypair()? }, config).await?;
        outln!("Mediator relay online as {}", node.peer_id);
        print_addrs(&node, "Members add one of these to `entente up --relay`").await?;
        outln!(
            "Serving {served} negotiation(s){}; import a negotiation's record into this home (`entente --home {} import FILE`) to serve its members.",
            if args.mailbox { " with a mailbox" } else { "" },
            home.root().display()
        );
        outln!("Press Ctrl-C to stop.");
        stop_signal().await;
        outln!("Stopping...");
        node.shutdown().await
    })
}

/// An invitation token for `negotiation`, with the addresses the running node last reported in
/// `node.json`; the flag says whether it carries any address at all.
pub fn invitation_token(
    home: &Home,
    me: &Identity,
    negotiation: NegotiationId,
) -> Option<(String, bool)> {
    let info: serde_json::Value = std::fs::read(home.root().join("node.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    let list = |k: &str| -> Vec<String> {
        info[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let peer = peer_of(&me.public.device)?;
    let addrs: Vec<String> = list("listen")
        .into_iter()
        .filter(|a| !a.contains("/p2p-circuit"))
        .filter_map(|a| a.parse::<Multiaddr>().ok())
        .map(|a| net::peers::with_peer(&a, peer).to_string())
        .take(8)
        .collect();
    let relays: Vec<String> = list("relays").into_iter().take(8).collect();
    let reachable = !addrs.is_empty() || !relays.is_empty();
    let inv = Invitation {
        negotiation,
        inviter: me.public.device,
        addrs,
        relays,
    };
    Some((inv.to_token(), reachable))
}

async fn wait_for<F, Fut>(limit: Duration, what: &str, mut ready: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let start = Instant::now();
    while !ready().await? {
        if start.elapsed() > limit {
            bail!("timed out after {}s {what}", limit.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// `entente join TOKEN`: fetch the negotiation from the inviter, post the join, and wait until
/// the inviter has it.
/// What an invitation token says to dial and trust.
pub(crate) fn invited(token: &str) -> Result<net::Invited> {
    let inv = Invitation::from_token(token).context("cannot read the invitation token")?;
    let inviter = peer_of(&inv.inviter).context("the invitation names an invalid inviter key")?;
    let mut dial = parse_addrs(&inv.addrs, "invitation address")?;
    let relays = parse_addrs(&inv.relays, "invitation relay")?;
    for r in &relays {
        dial.push(via_relay(r, inviter));
    }
    if dial.is_empty() {
        bail!(
            "the invitation carries no address of the inviter: ask for a token made while their node runs"
        );
    }
    Ok(net::Invited {
        negotiation: inv.negotiation,
        inviter,
        dial,
        relays,
    })
}

pub fn join_by_token(home: &Home, args: &JoinArgs) -> Result<()> {
    let invited = invited(&args.negotiation)?;
    let me = Identity::load(home)?;
    drop(Workspace::open(home)?);
    let neg = invited.negotiation;
    let inviter = invited.inviter;
    let relays = invited.relays.clone();
    let peers = invited.dial.clone();
    let mut trusted: HashSet<PeerId> = [inviter].into();
    for r in &relays {
        trusted.extend(peer_in(r));
    }
    let config = NetConfig {
        listen: vec!["/ip4/0.0.0.0/tcp/0".parse().context("listen address")?],
        relays,
        peers,
        trusted,
        follow: vec![neg],
        ..NetConfig::default()
    };
    let limit = Duration::from_secs(args.timeout);
    let rt = runtime()?;
    let join = rt.block_on(async {
        let node = net::spawn(home.clone(), me.credentials()?, config).await?;
        if !args.json {
            outln!("Fetching negotiation {} from the inviter...", neg.short());
        }
        let accredited =
            || async { crate::actions::accredited(&Workspace::open(home)?, &me, &neg) };
        let fetched = wait_for(
            limit,
            "fetching the negotiation (is the inviter's node running and reachable?)",
            accredited,
        )
        .await;
        if let Err(e) = fetched {
            let _ = node.shutdown().await;
            return Err(e);
        }
        let mut ws = Workspace::open(home)?;
        let (title, event) = crate::actions::join_once(&mut ws, &me, &neg)?;
        if let Some(e) = &event {
            let confirmed = tokio::time::timeout(limit, node.confirm(neg, e.id, inviter)).await;
            if confirmed.is_err() {
                tracing::warn!(
                    "the inviter has not confirmed the join yet; it will get it at the next sync"
                );
            }
        }
        node.shutdown().await?;
        Ok::<_, anyhow::Error>((title, event))
    })?;
    let (title, event) = join;
    if args.json {
        return print_json(
            &json!({"negotiation": neg, "title": title, "event": event.as_ref().map(|e| e.id)}),
        );
    }
    match event {
        Some(e) => outln!("Joined \"{title}\" (event {})", e.id.short()),
        None => {
            outln!("This device had already joined \"{title}\"; the negotiation is up to date.")
        }
    }
    Ok(())
}

/// `entente web`: a fresh one-time login address for the running node's web UI.
pub fn web(home: &Home, json: bool) -> Result<()> {
    home.require_initialised()?;
    let path = crate::api::address_file(home);
    let info: serde_json::Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .with_context(|| {
            format!(
                "no web UI address in {}: is `entente up` running here?",
                path.display()
            )
        })?;
    let base = info["url"]
        .as_str()
        .context("the web UI address file is malformed")?;
    let url = format!("{base}#login={}", crate::api::issue_login(home)?);
    if json {
        return super::print_json(&serde_json::json!({"url": url}));
    }
    outln!("{url}");
    Ok(())
}
