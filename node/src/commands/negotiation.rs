//! Commands that read or add to a negotiation.

use crate::output::outln;
use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use entente_protocol::{Body, Charter, Event, NegotiationId};
use serde_json::json;

use super::print_json;
use crate::cli::{
    CreateArgs, InviteArgs, JoinArgs, LeaveArgs, LogArgs, NegJson, NoteArgs, RemoveArgs, RoleArgs,
    SayArgs,
};
use crate::home::Home;
use crate::identity::{Identity, PublicIdentity};
use crate::render::{log_entries, log_line};
use crate::workspace::Workspace;

/// Opens the workspace, loads the signing identity, resolves NEG.
fn open_for_posting(
    home: &Home,
    negotiation: &str,
) -> Result<(Workspace, Identity, NegotiationId)> {
    let ws = Workspace::open(home)?;
    let neg = ws.resolve(negotiation)?;
    let me = Identity::load(home)?;
    Ok((ws, me, neg))
}

fn report_posted(event: &Event, json: bool, text: &str) -> Result<()> {
    if json {
        return print_json(
            &json!({"event": event.id, "kind": event.header.kind, "lamport": event.header.lamport}),
        );
    }
    outln!("{text} (event {})", event.id.short());
    Ok(())
}

pub fn create(home: &Home, args: &CreateArgs) -> Result<()> {
    let mut ws = Workspace::open(home)?;
    let me = Identity::load(home)?;
    if args.title.trim().is_empty() {
        bail!("--title must not be empty");
    }
    let charter = Charter {
        title: args.title.clone(),
        mandate: args.mandate.clone(),
        languages: args.languages.clone(),
        decision_rule: args.decision_rule,
        silence_period_secs: args.silence_hours.saturating_mul(3600),
        chair_name: me.public.name.clone(),
        chair: me.certificate.clone(),
        attribute_brackets: true,
    };
    let event = ws.create(&me, charter)?;
    if args.json {
        return print_json(&json!({"negotiation": event.id}));
    }
    outln!("Created negotiation \"{}\"", args.title);
    outln!("  id  {}", event.id);
    outln!(
        "Accredit delegations with `entente invite {} --delegation ID --role delegation --name NAME`.",
        event.id.short()
    );
    Ok(())
}

pub fn list(home: &Home, json: bool) -> Result<()> {
    let ws = Workspace::open(home)?;
    let me = PublicIdentity::load(home)?;
    let mut rows = Vec::new();
    for neg in ws.negotiations()? {
        let (events, state) = ws.load(&neg)?;
        let mine = state.members.get(&me.delegation);
        rows.push(json!({
            "negotiation": neg,
            "title": state.charter.title,
            "events": events.len(),
            "members": state.members.values().filter(|m| m.status.is_member()).count(),
            "my_role": mine.map(|m| m.role),
            "my_status": mine.map(|m| m.status),
            "state_hash": hex::encode(state.state_hash()),
        }));
    }
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        outln!(
            "No negotiations yet: `entente negotiation create --title T`, or `entente import FILE`."
        );
    }
    for r in &rows {
        outln!(
            "{}  {}  ({} events, {} members, you: {} {})",
            r["negotiation"].as_str().unwrap_or(""),
            r["title"].as_str().unwrap_or(""),
            r["events"],
            r["members"],
            r["my_role"].as_str().unwrap_or("not a member"),
            r["my_status"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}

pub fn invite(home: &Home, args: &InviteArgs) -> Result<()> {
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let name = if args.name.trim().is_empty() {
        format!("Delegation {}", args.delegation.short())
    } else {
        args.name.clone()
    };
    let event = ws.post(
        &me,
        &neg,
        Body::Accredit {
            delegation: args.delegation,
            role: args.role,
            name: name.clone(),
        },
    )?;
    let token = super::network::invitation_token(home, &me, neg);
    if args.json {
        return print_json(&json!({
            "event": event.id,
            "negotiation": neg,
            "delegation": args.delegation,
            "role": args.role,
            "token": token.as_ref().filter(|(_, reachable)| *reachable).map(|(t, _)| t),
        }));
    }
    outln!(
        "Accredited {name} as {} (event {}).",
        args.role,
        event.id.short()
    );
    match &token {
        Some((t, true)) => {
            outln!(
                "Invitation token: the invitee runs `entente join TOKEN` while your node (`entente up`) runs:"
            );
            outln!("{t}");
        }
        _ => outln!(
            "No invitation token: your node has not run yet, so there is no address to put in one. \
             Start `entente up` and invite again, or send the record (`entente export {} --out FILE`) \
             for the invitee to `entente import` and `entente join {}`.",
            neg.short(),
            neg.short()
        ),
    }
    Ok(())
}

pub fn join(home: &Home, args: &JoinArgs) -> Result<()> {
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let (_, state) = ws.load(&neg)?;
    match state.members.get(&me.public.delegation) {
        None => bail!(
            "your delegation ({}) is not accredited in this negotiation: ask the chair to run \
             `entente invite {} --delegation {}` and send you the new record",
            me.public.name,
            neg.short(),
            me.public.delegation
        ),
        Some(m) if !m.status.is_member() => bail!(
            "your delegation has {} this negotiation: the chair must accredit it again (`entente invite`) \
             before you can rejoin",
            if m.status == entente_protocol::MemberStatus::Left {
                "left"
            } else {
                "been removed from"
            }
        ),
        Some(m) if m.devices.contains_key(&me.public.device) => {
            bail!("this device has already joined \"{}\"", state.charter.title)
        }
        Some(_) => {}
    }
    let event = ws.post(
        &me,
        &neg,
        Body::Join {
            certificate: me.certificate.clone(),
        },
    )?;
    report_posted(
        &event,
        args.json,
        &format!("Joined \"{}\"", state.charter.title),
    )
}

pub fn members(home: &Home, args: &NegJson) -> Result<()> {
    let ws = Workspace::open(home)?;
    let neg = ws.resolve(&args.negotiation)?;
    let (_, state) = ws.load(&neg)?;
    if args.json {
        let rows: Vec<_> = state
            .members
            .values()
            .map(|m| {
                json!({
                    "delegation": m.delegation,
                    "name": m.name,
                    "role": m.role,
                    "status": m.status,
                    "fingerprint": entente_protocol::fingerprint(m.delegation.as_bytes()).short,
                    "devices": m.devices.values().map(|d| json!({
                        "device": d.device,
                        "label": d.label,
                        "sealing_key": d.sealing_key,
                        "joined_by": d.joined_by,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return print_json(&rows);
    }
    outln!("Members of \"{}\"", state.charter.title);
    for m in state.members.values() {
        let fp = entente_protocol::fingerprint(m.delegation.as_bytes()).short;
        outln!(
            "  {:<10} {:<10} {}  {}  [{}]  {} device(s)",
            m.role.as_str(),
            m.status.as_str(),
            fp,
            m.name,
            m.delegation.short(),
            m.devices.len()
        );
    }
    Ok(())
}

pub fn role(home: &Home, args: &RoleArgs) -> Result<()> {
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let event = ws.post(
        &me,
        &neg,
        Body::RoleChange {
            delegation: args.delegation,
            role: args.role,
        },
    )?;
    report_posted(
        &event,
        args.json,
        &format!("{} is now {}", args.delegation.short(), args.role),
    )
}

pub fn remove(home: &Home, args: &RemoveArgs) -> Result<()> {
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let event = ws.post(
        &me,
        &neg,
        Body::Remove {
            delegation: args.delegation,
            reason: args.reason.clone(),
        },
    )?;
    report_posted(
        &event,
        args.json,
        &format!("Removed {}", args.delegation.short()),
    )
}

pub fn revoke(home: &Home, args: &crate::cli::RevokeArgs) -> Result<()> {
    let device: entente_protocol::DeviceId = args
        .device
        .parse()
        .map_err(|_| anyhow::anyhow!("--device expects a device id: 64 hex characters"))?;
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let event = ws.post(
        &me,
        &neg,
        Body::Revoke {
            device,
            reason: args.reason.clone(),
        },
    )?;
    report_posted(
        &event,
        args.json,
        &format!("Revoked device {}", device.short()),
    )
}

pub fn leave(home: &Home, args: &LeaveArgs) -> Result<()> {
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let event = ws.post(
        &me,
        &neg,
        Body::Leave {
            reason: args.reason.clone(),
        },
    )?;
    report_posted(&event, args.json, "Left the negotiation")
}

/// The channel named by `--channel` and `--distribution`.
fn target_channel(channel: &str, distribution: Option<crate::cli::Distribution>) -> Result<String> {
    match distribution {
        None => Ok(channel.to_string()),
        Some(d) => d.channel(channel).map_err(anyhow::Error::msg),
    }
}

pub fn say(home: &Home, args: &SayArgs) -> Result<()> {
    let channel = target_channel(&args.channel, args.distribution)?;
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    if !args.stdin {
        let text = args.text.clone().context("nothing to say")?;
        let event = ws.post_content(&me, &neg, &channel, Body::Message { text })?;
        return report_posted(&event, args.json, "Said");
    }
    // One event per line; each id is printed only after its transaction committed, so whoever
    // reads our output knows exactly which messages are durable.
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let text = line.context("cannot read standard input")?;
        if text.trim().is_empty() {
            continue;
        }
        let event = ws.post_content(&me, &neg, &channel, Body::Message { text })?;
        let mut out = stdout.lock();
        if args.json {
            writeln!(out, "{}", json!({"event": event.id}))?;
        } else {
            writeln!(out, "{}", event.id)?;
        }
        out.flush()?;
    }
    Ok(())
}

pub fn note(home: &Home, args: &NoteArgs) -> Result<()> {
    let channel = target_channel(&args.channel, args.distribution)?;
    let (mut ws, me, neg) = open_for_posting(home, &args.negotiation)?;
    let event = ws.post_content(
        &me,
        &neg,
        &channel,
        Body::Note {
            text: args.text.clone(),
        },
    )?;
    report_posted(&event, args.json, "Noted")
}

pub fn log(home: &Home, args: &LogArgs) -> Result<()> {
    let ws = Workspace::open(home)?;
    let neg = ws.resolve(&args.negotiation)?;
    let (events, state) = ws.load(&neg)?;
    // Reading sealed content needs this device's sealing key (and so the passphrase).
    let keys = match Identity::load(home) {
        Ok(me) => Some(entente_protocol::keyring::Keyring::open(
            &state,
            &events,
            &me.public.device,
            &me.sealing_secret,
        )),
        Err(e) => {
            tracing::warn!("showing sealed content unopened: {e:#}");
            None
        }
    };
    let mut entries = log_entries(&events, &state, keys.as_ref());
    if let Some(event) = &args.seen_by {
        let target = ws.resolve_event(&neg, event)?;
        let seen = ws.ancestors(&target)?;
        entries.retain(|e| e.id == target || seen.contains(&e.id));
    }
    if args.json {
        return print_json(&entries);
    }
    outln!(
        "\"{}\"  {} events, state {}",
        state.charter.title,
        entries.len(),
        &hex::encode(state.state_hash())[..16]
    );
    for e in &entries {
        outln!("{}", log_line(e));
    }
    Ok(())
}
