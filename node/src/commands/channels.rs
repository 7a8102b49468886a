//! `entente channel create|list` and `entente share-history`.

use anyhow::Result;
use entente_protocol::Body;
use entente_protocol::channels::ChannelMembers;
use serde_json::json;

use super::print_json;
use crate::cli::{ChannelCreateArgs, NegJson, ShareHistoryArgs};
use crate::home::Home;
use crate::identity::Identity;
use crate::output::outln;
use crate::workspace::Workspace;

pub fn create(home: &Home, args: &ChannelCreateArgs) -> Result<()> {
    let mut ws = Workspace::open(home)?;
    let neg = ws.resolve(&args.negotiation)?;
    let me = Identity::load(home)?;
    let event = ws.post(
        &me,
        &neg,
        Body::Channel {
            name: args.name.clone(),
            members: args.members.clone(),
        },
    )?;
    if args.json {
        return print_json(&json!({"event": event.id, "channel": args.name}));
    }
    outln!(
        "Opened channel {} for you and {} other delegation(s) (event {}).",
        args.name,
        args.members.len(),
        event.id.short()
    );
    outln!(
        "Speak in it with `entente say {} --channel {} TEXT`.",
        neg.short(),
        args.name
    );
    Ok(())
}

pub fn list(home: &Home, args: &NegJson) -> Result<()> {
    let ws = Workspace::open(home)?;
    let neg = ws.resolve(&args.negotiation)?;
    let (_, state) = ws.load(&neg)?;
    let rows: Vec<_> = state
        .channels
        .defs
        .iter()
        .map(|(name, def)| {
            let readers: Vec<_> = state
                .channel_delegations(name)
                .unwrap_or_default()
                .iter()
                .map(|d| {
                    state
                        .members
                        .get(d)
                        .map_or_else(|| d.short(), |m| m.name.clone())
                })
                .collect();
            json!({
                "channel": name,
                "kind": match def.members {
                    ChannelMembers::All => "everyone",
                    ChannelMembers::NonObservers => "members but observers",
                    ChannelMembers::Listed(_) => "restricted",
                },
                "readers": readers,
                "epoch": state.current_epoch(name).map(|(n, _)| n),
            })
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    for r in &rows {
        outln!(
            "{:<16} {:<22} epoch {:<4} {}",
            r["channel"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            r["epoch"]
                .as_u64()
                .map_or("-".to_string(), |e| e.to_string()),
            r["readers"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
    }
    Ok(())
}

pub fn share_history(home: &Home, args: &ShareHistoryArgs) -> Result<()> {
    let mut ws = Workspace::open(home)?;
    let neg = ws.resolve(&args.negotiation)?;
    let me = Identity::load(home)?;
    let events = ws.share_history(&me, &neg, &args.channel, &args.delegation)?;
    if args.json {
        return print_json(&json!({"events": events.iter().map(|e| e.id).collect::<Vec<_>>()}));
    }
    outln!(
        "Shared {} earlier key epoch(s) of {} with {}.",
        events.len(),
        args.channel,
        args.delegation.short()
    );
    Ok(())
}
