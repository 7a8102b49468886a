//! `entente draft …`, `amend`, `bracket …`, `position`, `statement`, `mark`: the text and what
//! the room says about it. Content is sealed in the plenary channel.

use anyhow::{Context, Result, bail};
use entente_protocol::text::Document;
use entente_protocol::{DelegationId, EventId};
use serde_json::json;

use super::print_json;
use crate::actions::{self, Amendment};
use crate::cli_text::{
    AmendArgs, BracketOptionArgs, BracketPlaceArgs, BracketResolveArgs, CheckArgs, CirculateArgs,
    DiffArgs, DiffFormat, MarkArgs, NegJsonArgs, PositionArgs, PositionsArgs, ShowArgs,
    StatementArgs, TextFormat,
};
use crate::home::Home;
use crate::identity::Identity;
use crate::output::outln;
use crate::room::{self, Room};
use crate::workspace::Workspace;

/// Opens the workspace, this device's identity and the room of a negotiation.
pub(crate) fn enter(home: &Home, negotiation: &str) -> Result<(Workspace, Identity, Room)> {
    let ws = Workspace::open(home)?;
    let neg = ws.resolve(negotiation)?;
    let me = Identity::load(home)?;
    let room = Room::load(&ws, &me, &neg)?;
    Ok((ws, me, room))
}

/// Prints what was posted: its id as JSON, or a sentence.
pub(crate) fn report(
    json: bool,
    id: EventId,
    extra: serde_json::Value,
    sentence: String,
) -> Result<()> {
    if json {
        let mut v = json!({"event": id});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        return print_json(&v);
    }
    outln!("{sentence} (event {})", id.short());
    Ok(())
}

fn read_document(lang: &str, path: &std::path::Path) -> Result<Document> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Document::parse(lang, &text).with_context(|| format!("{} is not a valid text", path.display()))
}

pub fn circulate(home: &Home, args: &CirculateArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let mut documents = Vec::new();
    for spec in &args.texts {
        let (lang, file) = spec
            .split_once('=')
            .with_context(|| format!("--text {spec:?}: expected LANG=FILE, e.g. en=draft.txt"))?;
        let languages = &room.state.charter.languages;
        if !languages.iter().any(|l| l == lang) {
            bail!(
                "--text {lang}: not a language of this negotiation (its languages: {})",
                languages.join(", ")
            );
        }
        documents.push(read_document(lang, std::path::Path::new(file))?);
    }
    let done = actions::circulate(
        &mut ws,
        &me,
        &room,
        &args.label,
        args.supersedes.as_deref(),
        documents,
    )?;
    if args.json {
        return print_json(&done);
    }
    outln!(
        "Circulated {} (revision {}).",
        done.label,
        done.revision.short()
    );
    for (lang, h) in &done.hashes {
        outln!("  {lang}: text hash {h}");
    }
    if done.blobs > 0 {
        outln!("  The text travelled in {} blob part(s).", done.blobs);
    }
    if !done.stale_translations.is_empty() {
        outln!(
            "  Outdated translations (their source paragraph changed): {}",
            done.stale_translations.join(", ")
        );
    }
    Ok(())
}

pub fn list(home: &Home, args: &NegJsonArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    if args.json {
        return print_json(&actions::revisions_json(&room));
    }
    if room.draft.revisions.is_empty() {
        outln!("No revision has been circulated yet.");
    }
    for r in &room.draft.revisions {
        outln!(
            "{}  {:<14} {:<24} {}  by {}",
            r.id.short(),
            r.label,
            r.symbol,
            r.languages.join(","),
            r.delegation
                .map_or_else(|| "?".into(), |d| room.name_of(&d))
        );
    }
    if room.unreadable > 0 {
        outln!(
            "({} plenary event(s) cannot be read on this device: see `entente log`)",
            room.unreadable
        );
    }
    Ok(())
}

fn write_out(out: &Option<std::path::PathBuf>, text: &str) -> Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            outln!("{}", text.trim_end());
            Ok(())
        }
    }
}

pub fn show(home: &Home, args: &ShowArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    let r = room.revision(args.rev.as_deref())?;
    let view = room
        .draft
        .view(&room.state, &room.proceedings, &r.id, args.lang.as_deref())?;
    let names = room::names(&room.state);
    let name = |d: &DelegationId| names.get(d).cloned().unwrap_or_else(|| d.short());
    let format = if args.json {
        TextFormat::Json
    } else {
        args.format
    };
    let text = match (format, args.clean) {
        (TextFormat::Text, true) => view.document().render(),
        (TextFormat::Text | TextFormat::Md, clean) => crate::views::markdown(&view, clean, &name),
        (TextFormat::Html, clean) => crate::views::html(&view, clean, &name),
        (TextFormat::Akn, _) => crate::views::akoma_ntoso(
            &view,
            &room.state.charter.title,
            &crate::render::utc(r.time)[..10],
        ),
        (TextFormat::Json, _) => serde_json::to_string_pretty(&crate::views::view_json(&view))?,
    };
    write_out(&args.out, &text)
}

pub fn diff(home: &Home, args: &DiffArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    let from = room.revision(Some(&args.from))?;
    let to = room.revision(args.to.as_deref())?;
    let lang = args.lang.as_deref().unwrap_or(&from.languages[0]);
    let doc = |r: &entente_protocol::drafting::RevisionRecord| -> Result<Document> {
        r.version(lang)
            .map(|v| v.document.clone())
            .with_context(|| format!("{} has no {lang} version", r.label))
    };
    let d = crate::views::word_diff(&doc(from)?, &doc(to)?);
    let format = if args.json {
        DiffFormat::Json
    } else {
        args.format
    };
    match format {
        DiffFormat::Text => {
            outln!("{} -> {} ({lang})", from.label, to.label);
            outln!("{}", crate::views::diff_markdown(&d).trim_end());
        }
        DiffFormat::Html => outln!("{}", crate::views::diff_html(&d, lang)),
        DiffFormat::Json => print_json(&d)?,
    }
    Ok(())
}

pub fn positions(home: &Home, args: &PositionsArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    let rows = actions::positions_json(&room, args.rev.as_deref())?;
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        outln!("No positions yet.");
    }
    for row in &rows {
        outln!(
            "{:<24} {:<24} {}",
            row["name"].as_str().unwrap_or(""),
            row["on"].as_str().unwrap_or(""),
            row["stance"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

pub fn check(args: &CheckArgs) -> Result<()> {
    let doc = read_document(&args.lang, &args.file)?;
    outln!("{}", doc.render().trim_end());
    eprintln!(
        "{} paragraph(s), text hash {}",
        doc.paragraphs.len(),
        hex::encode(doc.hash())
    );
    Ok(())
}

pub fn amend(home: &Home, args: &AmendArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let amendment = match (&args.replace, &args.insert_after, args.delete) {
        (Some(t), None, false) => Amendment::Replace(t.clone()),
        (None, Some(v), false) if v.len() == 2 => Amendment::InsertAfter {
            new_id: v[0].clone(),
            text: v[1].clone(),
        },
        (None, None, true) => Amendment::Delete,
        _ => bail!(
            "say what the amendment does: --replace TEXT, --insert-after NEW_ID TEXT or --delete"
        ),
    };
    let id = actions::amend(
        &mut ws,
        &me,
        &room,
        args.rev.as_deref(),
        &args.paragraph,
        amendment,
        &args.justification,
    )?;
    report(
        args.json,
        id,
        json!({"amendment": id}),
        format!("Proposed an amendment to {}", args.paragraph),
    )
}

pub fn bracket_place(home: &Home, args: &BracketPlaceArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let bracket = actions::NewBracket {
        rev: args.rev.as_deref(),
        paragraph: &args.paragraph,
        span: &args.span,
        options: args.options.clone(),
        reason: &args.reason,
    };
    let id = actions::bracket(&mut ws, &me, &room, bracket)?;
    report(
        args.json,
        id,
        json!({"bracket": id}),
        format!("Bracketed {}", args.paragraph),
    )
}

pub fn bracket_option(home: &Home, args: &BracketOptionArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let id = actions::bracket_option(&mut ws, &me, &room, &args.bracket, &args.text)?;
    report(args.json, id, json!({}), "Added the option".into())
}

pub fn bracket_resolve(home: &Home, args: &BracketResolveArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let id = actions::bracket_resolve(&mut ws, &me, &room, &args.bracket, &args.choice)?;
    report(args.json, id, json!({}), "Resolved the bracket".into())
}

pub fn position(home: &Home, args: &PositionArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let id = actions::position(
        &mut ws,
        &me,
        &room,
        &args.target,
        args.rev.as_deref(),
        args.stance,
        &args.note,
    )?;
    report(
        args.json,
        id,
        json!({"stance": args.stance}),
        format!(
            "Recorded your position ({}) on {}",
            args.stance, args.target
        ),
    )
}

pub fn statement(home: &Home, args: &StatementArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let id = actions::statement(
        &mut ws,
        &me,
        &room,
        args.kind,
        args.on.as_deref(),
        &args.paragraph,
        &args.text,
    )?;
    report(
        args.json,
        id,
        json!({"statement": id}),
        format!("Attached your {} to the record", args.kind),
    )
}

pub fn mark(home: &Home, args: &MarkArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let id = actions::mark(
        &mut ws,
        &me,
        &room,
        args.rev.as_deref(),
        &args.paragraph,
        args.mark,
    )?;
    report(
        args.json,
        id,
        json!({"mark": args.mark}),
        format!("Marked {} {}", args.paragraph, args.mark),
    )
}
