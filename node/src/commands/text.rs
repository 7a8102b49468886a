//! `entente draft …`, `amend`, `bracket …`, `position`, `statement`, `mark`: the text and what
//! the room says about it. Content is sealed in the plenary channel.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use entente_protocol::drafts::{AmendOp, Draft};
use entente_protocol::text::Document;
use entente_protocol::{DelegationId, EventId};
use serde_json::json;

use super::print_json;
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
    let languages = &room.state.charter.languages;
    let mut docs: BTreeMap<usize, Document> = BTreeMap::new();
    for spec in &args.texts {
        let (lang, file) = spec
            .split_once('=')
            .with_context(|| format!("--text {spec:?}: expected LANG=FILE, e.g. en=draft.txt"))?;
        let pos = languages.iter().position(|l| l == lang).with_context(|| {
            format!(
                "--text {lang}: not a language of this negotiation (its languages: {})",
                languages.join(", ")
            )
        })?;
        if docs
            .insert(pos, read_document(lang, std::path::Path::new(file))?)
            .is_some()
        {
            bail!("--text {lang} is given twice");
        }
    }
    if !docs.contains_key(&0) {
        bail!(
            "the working language's text is required: --text {}=FILE",
            languages[0]
        );
    }
    let supersedes = match args.supersedes.as_deref() {
        Some("none") => None,
        Some(r) => Some(room.revision(Some(r))?),
        None => room.draft.latest(),
    };
    let versions = room::versions_for(docs.into_values().collect(), supersedes)?;
    let stale: Vec<String> = versions
        .iter()
        .skip(1)
        .flat_map(|v| {
            let src = &versions[0].document;
            v.document
                .paragraphs
                .iter()
                .zip(&v.sources)
                .filter(|(p, s)| {
                    let now = src.paragraph(&p.id).map(|q| q.text.as_str()).unwrap_or("");
                    s.is_some_and(|h| h != entente_protocol::text::paragraph_hash(now))
                })
                .map(|(p, _)| format!("{} {}", v.document.language, p.id))
                .collect::<Vec<_>>()
        })
        .collect();
    let hashes: BTreeMap<String, String> = versions
        .iter()
        .map(|v| (v.document.language.clone(), hex::encode(v.document.hash())))
        .collect();
    let (event, blobs) = room::circulate(
        &mut ws,
        &me,
        &room,
        &args.label,
        supersedes.map(|r| r.id),
        versions,
    )?;
    if args.json {
        return print_json(&json!({
            "event": event.id, "revision": event.id, "label": args.label, "hashes": hashes,
            "blobs": blobs, "stale_translations": stale,
        }));
    }
    outln!("Circulated {} (revision {}).", args.label, event.id.short());
    for (lang, h) in &hashes {
        outln!("  {lang}: text hash {h}");
    }
    if blobs > 0 {
        outln!("  The text travelled in {blobs} blob part(s).");
    }
    if !stale.is_empty() {
        outln!(
            "  Outdated translations (their source paragraph changed): {}",
            stale.join(", ")
        );
    }
    Ok(())
}

pub fn list(home: &Home, args: &NegJsonArgs) -> Result<()> {
    let (_, _, room) = enter(home, &args.negotiation)?;
    let rows: Vec<_> = room
        .draft
        .revisions
        .iter()
        .map(|r| {
            let adoption = room
                .proceedings
                .adoptions
                .iter()
                .find(|a| a.adoption.revision == r.id);
            json!({
                "revision": r.id, "label": r.label, "symbol": r.symbol, "languages": r.languages,
                "supersedes": r.supersedes, "by": r.delegation.map(|d| room.name_of(&d)),
                "time": r.time, "time_utc": crate::render::utc(r.time),
                "hashes": r.hashes().iter().map(|(l, h)| (l.clone(), hex::encode(h))).collect::<BTreeMap<_, _>>(),
                "adoption": adoption.map(|a| json!({"event": a.adoption.id, "status": a.status})),
            })
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
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
    let r = room.revision(args.rev.as_deref())?;
    let matrix = room.draft.positions_on(&r.id);
    let rows: Vec<_> = matrix
        .iter()
        .map(|((d, target, para), stance)| {
            let on = if para.is_empty() {
                format!("amendment {}", target.short())
            } else {
                para.clone()
            };
            json!({"delegation": d, "name": room.name_of(d), "target": target, "paragraph": para,
                   "on": on, "stance": stance})
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        outln!("No positions on {} yet.", r.label);
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
    let r = room.revision(args.rev.as_deref())?;
    let (op, new_id, text) = match (&args.replace, &args.insert_after, args.delete) {
        (Some(t), None, false) => (AmendOp::Replace, String::new(), t.trim().to_string()),
        (None, Some(v), false) if v.len() == 2 => {
            (AmendOp::InsertAfter, v[0].clone(), v[1].trim().to_string())
        }
        (None, None, true) => (AmendOp::Delete, String::new(), String::new()),
        _ => bail!(
            "say what the amendment does: --replace TEXT, --insert-after NEW_ID TEXT or --delete"
        ),
    };
    let draft = Draft::Amendment {
        revision: r.id,
        paragraph: args.paragraph.clone(),
        op,
        new_id,
        text,
        justification: args.justification.clone(),
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(
        args.json,
        event.id,
        json!({"amendment": event.id, "revision": r.id}),
        format!("Proposed to {op} {} of {}", args.paragraph, r.label),
    )
}

pub fn bracket_place(home: &Home, args: &BracketPlaceArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let r = room.revision(args.rev.as_deref())?;
    let draft = Draft::Bracket {
        revision: r.id,
        paragraph: args.paragraph.clone(),
        span: args.span.clone(),
        options: args.options.clone(),
        reason: args.reason.clone(),
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(
        args.json,
        event.id,
        json!({"bracket": event.id}),
        format!("Bracketed {} of {}", args.paragraph, r.label),
    )
}

pub fn bracket_option(home: &Home, args: &BracketOptionArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let bracket = room.event(&args.bracket)?;
    let draft = Draft::BracketOption {
        bracket,
        text: args.text.clone(),
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(args.json, event.id, json!({}), "Added the option".into())
}

pub fn bracket_resolve(home: &Home, args: &BracketResolveArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let bracket = room.event(&args.bracket)?;
    let draft = Draft::BracketResolve {
        bracket,
        choice: args.choice.clone(),
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(
        args.json,
        event.id,
        json!({}),
        "Resolved the bracket".into(),
    )
}

pub fn position(home: &Home, args: &PositionArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let (target, paragraph) = if entente_protocol::text::valid_paragraph_id(&args.target) {
        (room.revision(args.rev.as_deref())?.id, args.target.clone())
    } else {
        (room.event(&args.target)?, String::new())
    };
    let draft = Draft::Position {
        target,
        paragraph,
        stance: args.stance,
        note: args.note.clone(),
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(
        args.json,
        event.id,
        json!({"stance": args.stance}),
        format!(
            "Recorded your position ({}) on {}",
            args.stance, args.target
        ),
    )
}

pub fn statement(home: &Home, args: &StatementArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let target = match &args.on {
        Some(t) => room.event(t)?,
        None => room.revision(None)?.id,
    };
    let draft = Draft::Statement {
        kind: args.kind,
        target,
        paragraph: args.paragraph.clone(),
        text: args.text.clone(),
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(
        args.json,
        event.id,
        json!({"statement": event.id}),
        format!("Attached your {} to the record", args.kind),
    )
}

pub fn mark(home: &Home, args: &MarkArgs) -> Result<()> {
    let (mut ws, me, room) = enter(home, &args.negotiation)?;
    let r = room.revision(args.rev.as_deref())?;
    let draft = Draft::Mark {
        revision: r.id,
        paragraph: args.paragraph.clone(),
        mark: args.mark,
    };
    let event = room::post_draft(&mut ws, &me, &room, draft)?;
    report(
        args.json,
        event.id,
        json!({"mark": args.mark}),
        format!("Marked {} of {} {}", args.paragraph, r.label, args.mark),
    )
}

/// Posts a statement and returns its id: the sealed reason a break or objection refers to.
pub(crate) fn post_reason(
    ws: &mut Workspace,
    me: &Identity,
    room: &Room,
    target: EventId,
    text: &str,
) -> Result<EventId> {
    let draft = Draft::Statement {
        kind: entente_protocol::drafts::StatementKind::ExplanationOfPosition,
        target,
        paragraph: String::new(),
        text: text.to_string(),
    };
    Ok(room::post_draft(ws, me, room, draft)?.id)
}
