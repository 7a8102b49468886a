//! `entente pen`, `silence …`, `object`, `adopt`, `sign`: procedural decisions. They travel
//! unencrypted in the governance channel (ids and hashes only) so that monitors can verify them.

use anyhow::{Context, Result, bail};
use entente_protocol::decisions::Decision;
use entente_protocol::proceedings::{SilenceOutcome, SilenceView};
use serde_json::json;

use super::print_json;
use super::text::{enter, post_reason, report};
use crate::cli_text::{
    AdoptArgs, ObjectArgs, PenArgs, SignArgs, SilenceBreakArgs, SilenceOpenArgs, SilenceRefArgs,
    SilenceStatusArgs,
};
use crate::home::Home;
use crate::output::outln;
use crate::render::utc;
use crate::room::{self, Room};
use crate::workspace::now_ms;

pub fn pen(home: &Home, args: &PenArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let delegation = args
        .delegation
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the delegation id is 64 hex characters (see `entente members`)")?;
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::Pen {
            delegation,
            granted: !args.withdraw,
        },
    )?;
    let who = room.name_of(&delegation);
    report(
        args.json,
        event.id,
        json!({"granted": !args.withdraw}),
        if args.withdraw {
            format!("{who} no longer holds the pen")
        } else {
            format!("{who} holds the pen: it may circulate revisions")
        },
    )
}

fn deadline_of(args: &SilenceOpenArgs, room: &Room) -> Result<u64> {
    let now = now_ms();
    if let Some(d) = &args.deadline {
        let t = humantime::parse_rfc3339_weak(d).with_context(|| {
            format!("--deadline {d:?}: expected RFC 3339, e.g. 2026-12-01T12:00:00Z")
        })?;
        let ms = t
            .duration_since(std::time::UNIX_EPOCH)
            .context("--deadline is before 1970")?
            .as_millis();
        return u64::try_from(ms).context("--deadline is too far away");
    }
    let period = match &args.period {
        Some(p) => humantime::parse_duration(p)
            .with_context(|| format!("--period {p:?}: expected a length such as 72h or 30m"))?,
        None => std::time::Duration::from_secs(room.state.charter.silence_period_secs),
    };
    let ms = u64::try_from(period.as_millis()).context("--period is too long")?;
    Ok(now.saturating_add(ms))
}

pub fn silence_open(home: &Home, args: &SilenceOpenArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let r = room.revision(args.rev.as_deref())?;
    let deadline = deadline_of(args, &room)?;
    if deadline <= now_ms() {
        bail!("the deadline {} has already passed", utc(deadline));
    }
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::SilenceOpen {
            revision: r.id,
            hashes: room::hashes(r),
            deadline,
        },
    )?;
    report(
        args.json,
        event.id,
        json!({"silence": event.id, "revision": r.id, "deadline": deadline, "deadline_utc": utc(deadline)}),
        format!(
            "{} is under silence procedure until {}",
            r.label,
            utc(deadline),
        ),
    )
}

pub fn silence_break(home: &Home, args: &SilenceBreakArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let silence = room.silence(args.silence.as_deref())?.clone();
    let reference = match (&args.reason, &args.reference) {
        (Some(reason), _) => Some(post_reason(&mut ws, &me, &room, silence.revision, reason)?),
        (None, Some(r)) => Some(room.event(r)?),
        (None, None) => None,
    };
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::SilenceBreak {
            silence: silence.id,
            grounds: args.grounds,
            reference,
        },
    )?;
    let late = event.header.time > silence.deadline;
    report(
        args.json,
        event.id,
        json!({"silence": silence.id, "late": late}),
        if late {
            format!(
                "Broke silence, but after the deadline ({}): the break is recorded as late",
                utc(silence.deadline)
            )
        } else {
            format!("Broke silence {} ({})", silence.id.short(), args.grounds)
        },
    )
}

pub fn silence_close(home: &Home, args: &SilenceRefArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let silence = room.silence(args.silence.as_deref())?.clone();
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::SilenceClose {
            silence: silence.id,
        },
    )?;
    // The outcome as this node sees it now: a break still in flight may change it to contested.
    let after = Room::load(&ws, &me, &room.negotiation)?;
    let view = after
        .proceedings
        .silences
        .iter()
        .find(|v| v.silence.id == silence.id)
        .context("the silence procedure vanished")?;
    report(
        args.json,
        event.id,
        json!({"silence": silence.id, "outcome": view.outcome}),
        format!(
            "Closed silence {}: {}",
            silence.id.short(),
            outcome_words(view.outcome)
        ),
    )
}

pub fn silence_receipt(home: &Home, args: &SilenceRefArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let silence = room.silence(args.silence.as_deref())?.clone();
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::Receipt {
            silence: silence.id,
        },
    )?;
    report(
        args.json,
        event.id,
        json!({"silence": silence.id}),
        "Confirmed that this device holds the text".into(),
    )
}

fn outcome_words(o: SilenceOutcome) -> &'static str {
    match o {
        SilenceOutcome::Open => "open, silence unbroken so far",
        SilenceOutcome::Broken => "silence was broken",
        SilenceOutcome::Passed => "silence passed: the text may be adopted",
        SilenceOutcome::Contested => {
            "CONTESTED: a break and the close did not see each other, and the break claims a time before the deadline"
        }
        SilenceOutcome::Withdrawn => "closed before the deadline without a break (withdrawn)",
    }
}

fn silence_json(room: &Room, v: &SilenceView) -> serde_json::Value {
    let label = room
        .draft
        .revision(&v.silence.revision)
        .map(|r| r.label.clone());
    let received: Vec<String> = {
        let mut names: Vec<String> = v
            .silence
            .receipts
            .values()
            .map(|r| room.name_of(&r.delegation))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let waiting: Vec<String> = room
        .state
        .members
        .values()
        .filter(|m| m.status.is_member())
        .filter(|m| {
            !v.silence
                .receipts
                .values()
                .any(|r| r.delegation == m.delegation)
        })
        .map(|m| m.name.clone())
        .collect();
    let breaks: Vec<_> = v
        .silence
        .breaks
        .iter()
        .zip(&v.standings)
        .map(|(b, (_, st))| {
            json!({"event": b.id, "delegation": b.delegation, "name": room.name_of(&b.delegation),
                   "grounds": b.grounds, "reference": b.reference, "time_utc": utc(b.time),
                   "standing": st})
        })
        .collect();
    json!({
        "silence": v.silence.id, "revision": v.silence.revision, "label": label,
        "deadline": v.silence.deadline, "deadline_utc": utc(v.silence.deadline),
        "remaining_ms": v.silence.deadline.saturating_sub(now_ms()),
        "closed": v.silence.close.is_some(), "outcome": v.outcome,
        "received_by": received, "not_received_by": waiting, "breaks": breaks,
    })
}

pub fn silence_status(home: &Home, args: &SilenceStatusArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    let rows: Vec<_> = room
        .proceedings
        .silences
        .iter()
        .map(|v| silence_json(&room, v))
        .collect();
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        outln!("No silence procedure has been opened.");
    }
    for (v, row) in room.proceedings.silences.iter().zip(&rows) {
        outln!(
            "silence {} on {}: deadline {}; {}",
            v.silence.id.short(),
            row["label"].as_str().unwrap_or("?"),
            utc(v.silence.deadline),
            outcome_words(v.outcome)
        );
        let list = |k: &str| {
            row[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        outln!("  received by: {}", list("received_by"));
        outln!("  not yet received by: {}", list("not_received_by"));
        for b in row["breaks"].as_array().into_iter().flatten() {
            outln!(
                "  broken by {} ({}) at {}: {}",
                b["name"].as_str().unwrap_or("?"),
                b["grounds"].as_str().unwrap_or("?"),
                b["time_utc"].as_str().unwrap_or("?"),
                b["standing"].as_str().unwrap_or("?")
            );
        }
    }
    Ok(())
}

pub fn object(home: &Home, args: &ObjectArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let r = room.revision(args.rev.as_deref())?.clone();
    let reference = match &args.reason {
        Some(reason) => Some(post_reason(&mut ws, &me, &room, r.id, reason)?),
        None => None,
    };
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::Object {
            revision: r.id,
            reference,
        },
    )?;
    report(
        args.json,
        event.id,
        json!({"revision": r.id}),
        format!("Objected to adopting {}", r.label),
    )
}

pub fn adopt(home: &Home, args: &AdoptArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let r = room.revision(args.rev.as_deref())?;
    let silence = match (&args.silence, args.consensus) {
        (Some(s), _) => Some(room.silence(Some(s))?.id),
        (None, true) => None,
        (None, false) => room
            .proceedings
            .silences
            .iter()
            .filter(|v| v.silence.revision == r.id && v.silence.close.is_some())
            .max_by_key(|v| v.silence.opened_at)
            .map(|v| v.silence.id),
    };
    if let Some(s) = silence
        && let Some(v) = room.proceedings.silences.iter().find(|v| v.silence.id == s)
        && v.outcome != SilenceOutcome::Passed
    {
        bail!(
            "silence {} did not pass ({}); adopt by consensus with --consensus, or circulate a new revision",
            s.short(),
            outcome_words(v.outcome)
        );
    }
    let event = room::post_decision(
        &mut ws,
        &me,
        &room.negotiation,
        Decision::Adopt {
            revision: r.id,
            hashes: room::hashes(r),
            silence,
        },
    )?;
    report(
        args.json,
        event.id,
        json!({"adoption": event.id, "revision": r.id, "silence": silence}),
        format!(
            "{} is adopted ({}); delegations may now sign it with `entente sign`",
            r.label,
            if silence.is_some() {
                "silence procedure"
            } else {
                "consensus"
            }
        ),
    )
}

pub fn sign(home: &Home, args: &SignArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let adoptions = &room.state.procedure.adoptions;
    let adoption = match &args.adoption {
        Some(a) => {
            let id = room.event(a)?;
            adoptions
                .get(&id)
                .context("that event is not an adoption")?
        }
        None => adoptions
            .values()
            .max_by_key(|a| a.time)
            .context("nothing has been adopted yet")?,
    }
    .clone();
    let languages: Vec<String> = if args.languages.is_empty() {
        adoption.hashes.keys().cloned().collect()
    } else {
        args.languages.clone()
    };
    // Sign only what this device holds and hashes to the adopted hash: never a hash on trust.
    let r = room
        .draft
        .revision(&adoption.revision)
        .context("this device cannot read the adopted revision, so it will not sign its hash")?;
    let mut signed = Vec::new();
    for lang in &languages {
        let adopted = adoption
            .hashes
            .get(lang)
            .with_context(|| format!("the adopted text has no {lang} version"))?;
        let held = r
            .version(lang)
            .map(|v| v.document.hash())
            .with_context(|| format!("the revision has no {lang} version"))?;
        if held != *adopted {
            bail!("the {lang} text this device holds does not hash to the adopted hash");
        }
        let event = room::post_decision(
            &mut ws,
            &me,
            &room.negotiation,
            Decision::Sign {
                adoption: adoption.id,
                language: lang.clone(),
                hash: *adopted,
                form: args.form,
            },
        )?;
        signed.push(json!({"event": event.id, "language": lang, "hash": hex::encode(adopted)}));
    }
    if args.json {
        return print_json(
            &json!({"adoption": adoption.id, "form": args.form, "signatures": signed}),
        );
    }
    for s in &signed {
        outln!(
            "Signed ({}) the {} text, hash {}",
            args.form,
            s["language"].as_str().unwrap_or(""),
            s["hash"].as_str().unwrap_or("")
        );
    }
    Ok(())
}
