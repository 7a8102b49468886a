//! How events and members look to a person (text) and to a script (JSON).

use std::collections::HashMap;

use entente_protocol::decisions::Decision;
use entente_protocol::drafts::{Draft, TextContent};
use entente_protocol::keyring::Keyring;
use entente_protocol::{Body, Event, EventId, NegotiationState};
use serde::Serialize;
use serde_json::{Value, json};

/// An event's body as JSON.
pub fn body_json(body: Option<&Body>) -> Value {
    match body {
        None => Value::Null,
        Some(Body::Charter(c)) => json!({
            "title": c.title,
            "mandate": c.mandate,
            "languages": c.languages,
            "decision_rule": c.decision_rule,
            "silence_period_secs": c.silence_period_secs,
            "chair_name": c.chair_name,
            "chair_delegation": c.chair.certificate.delegation,
            "chair_device": c.chair.certificate.device,
        }),
        Some(Body::Accredit {
            delegation,
            role,
            name,
        }) => {
            json!({"delegation": delegation, "role": role, "name": name})
        }
        Some(Body::Join { certificate }) => json!({
            "delegation": certificate.certificate.delegation,
            "device": certificate.certificate.device,
            "label": certificate.certificate.label,
        }),
        Some(Body::RoleChange { delegation, role }) => {
            json!({"delegation": delegation, "role": role})
        }
        Some(Body::Remove { delegation, reason }) => {
            json!({"delegation": delegation, "reason": reason})
        }
        Some(Body::Leave { reason }) => json!({"reason": reason}),
        Some(Body::Revoke { device, reason }) => json!({"device": device, "reason": reason}),
        Some(Body::Message { text }) | Some(Body::Note { text }) => json!({"text": text}),
        Some(Body::Channel { name, members }) => json!({"name": name, "members": members}),
        Some(Body::Keys {
            epoch,
            key_id,
            envelopes,
        }) => json!({
            "epoch": epoch,
            "key_id": hex::encode(key_id),
            "recipients": envelopes.iter().map(|(d, _)| d).collect::<Vec<_>>(),
        }),
        // What a sealed body says is for its channel's members: shown once they can open it.
        Some(Body::Sealed(s)) => {
            json!({"key_id": hex::encode(s.key_id), "sealed_bytes": s.ciphertext.len()})
        }
        Some(Body::Draft(d)) => draft_json(d),
        Some(Body::Decision(d)) => decision_json(d),
    }
}

fn hashes_json(h: &entente_protocol::decisions::TextHashes) -> Value {
    h.iter()
        .map(|(l, h)| (l.clone(), Value::String(hex::encode(h))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn draft_json(d: &Draft) -> Value {
    match d {
        Draft::Revision {
            label,
            supersedes,
            content,
        } => {
            let (languages, paragraphs) = match content {
                TextContent::Inline(v) => (
                    v.iter().map(|v| v.document.language.clone()).collect(),
                    v.first().map_or(0, |v| v.document.paragraphs.len()),
                ),
                TextContent::Blobs { .. } => (Vec::new(), 0),
            };
            json!({"label": label, "supersedes": supersedes, "languages": languages,
                   "paragraphs": paragraphs, "in_blobs": matches!(content, TextContent::Blobs { .. })})
        }
        Draft::Blob { data } => json!({"bytes": data.len()}),
        Draft::Amendment {
            revision,
            paragraph,
            op,
            new_id,
            text,
            justification,
        } => json!({"revision": revision, "paragraph": paragraph, "op": op, "new_id": new_id,
                    "text": text, "justification": justification}),
        Draft::Bracket {
            revision,
            paragraph,
            span,
            options,
            reason,
        } => json!({"revision": revision, "paragraph": paragraph, "span": span,
                    "options": options, "reason": reason}),
        Draft::BracketOption { bracket, text } => json!({"bracket": bracket, "text": text}),
        Draft::BracketResolve { bracket, choice } => json!({"bracket": bracket, "choice": choice}),
        Draft::Position {
            target,
            paragraph,
            stance,
            note,
        } => json!({"target": target, "paragraph": paragraph, "stance": stance, "note": note}),
        Draft::Statement {
            kind,
            target,
            paragraph,
            text,
        } => json!({"kind": kind, "target": target, "paragraph": paragraph, "text": text}),
        Draft::Mark {
            revision,
            paragraph,
            mark,
        } => json!({"revision": revision, "paragraph": paragraph, "mark": mark}),
    }
}

fn decision_json(d: &Decision) -> Value {
    match d {
        Decision::Pen {
            delegation,
            granted,
        } => json!({"delegation": delegation, "granted": granted}),
        Decision::SilenceOpen {
            revision,
            hashes,
            deadline,
        } => json!({"revision": revision, "hashes": hashes_json(hashes), "deadline": deadline,
                    "deadline_utc": crate::render::utc(*deadline)}),
        Decision::Receipt { silence } | Decision::SilenceClose { silence } => {
            json!({"silence": silence})
        }
        Decision::SilenceBreak {
            silence,
            grounds,
            reference,
        } => json!({"silence": silence, "grounds": grounds, "reference": reference}),
        Decision::Object {
            revision,
            reference,
        } => json!({"revision": revision, "reference": reference}),
        Decision::Adopt {
            revision,
            hashes,
            silence,
        } => json!({"revision": revision, "hashes": hashes_json(hashes), "silence": silence}),
        Decision::Sign {
            adoption,
            language,
            hash,
            form,
        } => json!({"adoption": adoption, "language": language, "hash": hex::encode(hash),
                    "form": form}),
    }
}

/// One line of `entente log`.
#[derive(Serialize)]
pub struct LogEntry {
    pub index: usize,
    pub id: EventId,
    pub lamport: u64,
    pub time: u64,
    pub time_utc: String,
    pub author: String,
    pub delegation: Option<String>,
    pub name: Option<String>,
    /// The kind of the content (for sealed content, once opened).
    pub kind: String,
    pub channel: String,
    pub epoch: u64,
    /// Whether the content travelled encrypted.
    pub sealed: bool,
    /// Why sealed content cannot be read here (never a silent gap).
    pub unreadable: Option<String>,
    pub included: bool,
    pub excluded: Option<entente_protocol::Exclusion>,
    pub reason: Option<String>,
    pub body: Value,
}

/// Log entries of every event; sealed content is opened with `keys` when this device holds the
/// key, and otherwise says why it cannot be read.
pub fn log_entries(
    events: &[Event],
    state: &NegotiationState,
    keys: Option<&Keyring>,
) -> Vec<LogEntry> {
    let by_id: HashMap<EventId, &Event> = events.iter().map(|e| (e.id, e)).collect();
    state
        .entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| {
            let e = by_id.get(&entry.id)?;
            let name = entry
                .delegation
                .and_then(|d| state.members.get(&d))
                .map(|m| m.name.clone());
            let (kind, body, unreadable) = match (&e.body, keys) {
                (Some(Body::Sealed(_)), Some(ring)) => match ring.read(state, e) {
                    Ok(inner) => (inner.kind().to_string(), body_json(Some(&inner)), None),
                    Err(why) => (
                        e.header.kind.clone(),
                        body_json(e.body.as_ref()),
                        Some(why.to_string()),
                    ),
                },
                (Some(Body::Sealed(_)), None) => (
                    e.header.kind.clone(),
                    body_json(e.body.as_ref()),
                    Some("this device's keys were not loaded".to_string()),
                ),
                _ => (e.header.kind.clone(), body_json(e.body.as_ref()), None),
            };
            Some(LogEntry {
                index,
                id: e.id,
                lamport: e.header.lamport,
                time: e.header.time,
                time_utc: utc(e.header.time),
                author: e.header.author.to_hex(),
                delegation: entry.delegation.map(|d| d.to_hex()),
                name,
                kind,
                channel: e.header.channel.clone(),
                epoch: e.header.epoch,
                sealed: matches!(e.body, Some(Body::Sealed(_))),
                unreadable,
                included: entry.excluded.is_none(),
                excluded: entry.excluded,
                reason: entry.excluded.map(|r| r.to_string()),
                body,
            })
        })
        .collect()
}

/// A line of text for a log entry.
pub fn log_line(e: &LogEntry) -> String {
    let who = match (&e.name, &e.delegation) {
        (Some(n), Some(d)) if !n.is_empty() => format!("{n} ({})", &d[..8]),
        (_, Some(d)) => d[..16].to_string(),
        _ => format!("device {}", &e.author[..16]),
    };
    let what = summary(e);
    let what = match &e.unreadable {
        Some(why) => format!("[cannot read: {why}]"),
        None => what,
    };
    let flag = match &e.reason {
        Some(r) => format!("  [EXCLUDED: {r}]"),
        None => String::new(),
    };
    format!(
        "{:>4}  {}  {:<10} {}: {}{}",
        e.index, e.time_utc, e.kind, who, what, flag
    )
}

fn summary(e: &LogEntry) -> String {
    let b = &e.body;
    let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let short = |k: &str| s(k).chars().take(16).collect::<String>();
    match e.kind.as_str() {
        "charter" => format!("convenes \"{}\"", s("title")),
        "accredit" => format!(
            "accredits {} ({}) as {}",
            s("name"),
            short("delegation"),
            s("role")
        ),
        "join" => format!("joins with device \"{}\"", s("label")),
        "role" => format!("makes {} {}", short("delegation"), s("role")),
        "remove" => format!("removes {} {}", short("delegation"), s("reason")),
        "leave" => format!("leaves {}", s("reason")),
        "revoke" => format!("revokes device {} {}", short("device"), s("reason")),
        "message" | "note" => s("text"),
        "channel" => format!("opens channel {}", s("name")),
        "keys" => format!("distributes a key of channel {}", e.channel),
        "sealed" => format!("[sealed content in {}]", e.channel),
        "revision" => format!(
            "circulates {} ({} paragraphs; {})",
            s("label"),
            b.get("paragraphs").and_then(Value::as_u64).unwrap_or(0),
            b.get("languages")
                .and_then(Value::as_array)
                .map(|l| l
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        "blob" => "a part of a large text".into(),
        "amendment" => format!("proposes to {} {}: {}", s("op"), s("paragraph"), s("text")),
        "bracket" => format!("brackets {} ({})", s("paragraph"), s("reason")),
        "bracket-option" => format!("adds an option: {}", s("text")),
        "bracket-resolve" => format!("resolves a bracket: {}", s("choice")),
        "position" => format!("{} on {} {}", s("stance"), short("target"), s("paragraph")),
        "statement" => format!("{}: {}", s("kind"), s("text")),
        "mark" => format!("marks {} {}", s("paragraph"), s("mark")),
        "pen" => format!("pen to {} ({})", short("delegation"), b["granted"]),
        "silence-open" => format!(
            "opens a silence procedure on {} until {}",
            short("revision"),
            s("deadline_utc")
        ),
        "receipt" => format!("has the text under silence {}", short("silence")),
        "silence-break" => format!("BREAKS SILENCE {} ({})", short("silence"), s("grounds")),
        "silence-close" => format!("closes silence procedure {}", short("silence")),
        "object" => format!("objects to adopting {}", short("revision")),
        "adopt" => format!("declares {} adopted", short("revision")),
        "sign" => format!(
            "{} the {} text ({})",
            s("form"),
            s("language"),
            short("hash")
        ),
        other => format!("(unknown kind {other})"),
    }
}

/// `2026-11-23T15:42:07Z` for milliseconds since the Unix epoch.
/// Times a hostile event may claim beyond year 9999 are shown as raw milliseconds.
pub fn utc(ms: u64) -> String {
    use std::fmt::Write;
    let t = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(ms));
    let mut out = String::new();
    match t.map(|t| write!(out, "{}", humantime::format_rfc3339_seconds(t))) {
        Some(Ok(())) => out,
        _ => format!("{ms} ms after 1970"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_time_past_year_9999_is_shown_not_a_crash() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert!(super::utc(u64::MAX).contains("ms after 1970"));
    }
}
