//! `entente pen`, `silence …`, `object`, `adopt`, `sign`: procedural decisions. They travel
//! unencrypted in the governance channel (ids and hashes only) so that monitors can verify them.

use anyhow::{Context, Result};
use serde_json::json;

use super::print_json;
use super::text::{enter, report};
use crate::actions::{self, Deadline, outcome_words};
use crate::cli_text::{
    AdoptArgs, ObjectArgs, PenArgs, SignArgs, SilenceBreakArgs, SilenceOpenArgs, SilenceRefArgs,
    SilenceStatusArgs,
};
use crate::home::Home;
use crate::output::outln;
use crate::render::utc;

pub fn pen(home: &Home, args: &PenArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let (id, delegation) = actions::pen(&mut ws, &me, &room, &args.delegation, !args.withdraw)?;
    let who = room.name_of(&delegation);
    report(
        args.json,
        id,
        json!({"granted": !args.withdraw}),
        if args.withdraw {
            format!("{who} no longer holds the pen")
        } else {
            format!("{who} holds the pen: it may circulate revisions")
        },
    )
}

fn deadline_of(args: &SilenceOpenArgs) -> Result<Deadline> {
    if let Some(d) = &args.deadline {
        let t = humantime::parse_rfc3339_weak(d).with_context(|| {
            format!("--deadline {d:?}: expected RFC 3339, e.g. 2026-12-01T12:00:00Z")
        })?;
        let ms = t
            .duration_since(std::time::UNIX_EPOCH)
            .context("--deadline is before 1970")?
            .as_millis();
        return Ok(Deadline::At(
            u64::try_from(ms).context("--deadline is too far away")?,
        ));
    }
    match &args.period {
        Some(p) => Ok(Deadline::In(humantime::parse_duration(p).with_context(
            || format!("--period {p:?}: expected a length such as 72h or 30m"),
        )?)),
        None => Ok(Deadline::CharterPeriod),
    }
}

pub fn silence_open(home: &Home, args: &SilenceOpenArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let opened =
        actions::silence_open(&mut ws, &me, &room, args.rev.as_deref(), deadline_of(args)?)?;
    if args.json {
        return print_json(&opened);
    }
    outln!(
        "{} is under silence procedure until {} (silence {})",
        opened.label,
        opened.deadline_utc,
        opened.silence.short()
    );
    Ok(())
}

pub fn silence_break(home: &Home, args: &SilenceBreakArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let broken = actions::silence_break(
        &mut ws,
        &me,
        &room,
        args.silence.as_deref(),
        args.grounds,
        args.reason.as_deref(),
        args.reference.as_deref(),
    )?;
    if args.json {
        return print_json(&broken);
    }
    if broken.late {
        outln!(
            "Broke silence, but after the deadline ({}) or the close: the break is recorded as late (event {})",
            broken.deadline_utc,
            broken.event.short()
        );
    } else {
        outln!(
            "Broke silence {} ({}) (event {})",
            broken.silence.short(),
            args.grounds,
            broken.event.short()
        );
    }
    Ok(())
}

pub fn silence_close(home: &Home, args: &SilenceRefArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let (id, silence, outcome) =
        actions::silence_close(&mut ws, &me, &room, args.silence.as_deref())?;
    report(
        args.json,
        id,
        json!({"silence": silence, "outcome": outcome}),
        format!(
            "Closed silence {}: {}",
            silence.short(),
            outcome_words(outcome)
        ),
    )
}

pub fn silence_receipt(home: &Home, args: &SilenceRefArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let (id, silence) = actions::receipt(&mut ws, &me, &room, args.silence.as_deref())?;
    report(
        args.json,
        id,
        json!({"silence": silence}),
        "Confirmed that this device holds the text".into(),
    )
}

pub fn silence_status(home: &Home, args: &SilenceStatusArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    let rows: Vec<_> = room
        .proceedings
        .silences
        .iter()
        .map(|v| actions::silence_json(&room, v))
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
    let (id, revision) = actions::object(
        &mut ws,
        &me,
        &room,
        args.rev.as_deref(),
        args.reason.as_deref(),
    )?;
    report(
        args.json,
        id,
        json!({"revision": revision}),
        "Objected to adopting the revision".into(),
    )
}

pub fn adopt(home: &Home, args: &AdoptArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let (id, revision, silence) = actions::adopt(
        &mut ws,
        &me,
        &room,
        args.rev.as_deref(),
        args.silence.as_deref(),
        args.consensus,
    )?;
    report(
        args.json,
        id,
        json!({"adoption": id, "revision": revision, "silence": silence}),
        format!(
            "Adopted ({}); delegations may now sign it with `entente sign`",
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
    let (adoption, signed) = actions::sign(
        &mut ws,
        &me,
        &room,
        args.adoption.as_deref(),
        &args.languages,
        args.form,
    )?;
    if args.json {
        return print_json(&json!({"adoption": adoption, "form": args.form, "signatures": signed}));
    }
    for s in &signed {
        outln!(
            "Signed ({}) the {} text, hash {}",
            args.form,
            s.language,
            s.hash
        );
    }
    Ok(())
}
