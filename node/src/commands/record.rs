//! `entente export`, `import` and `verify`: records as files.

use crate::output::outln;
use std::process::ExitCode;

use anyhow::{Context, Result};
use entente_protocol::public;
use entente_protocol::record::{RecordSummary, verify_record};
use serde_json::json;

use super::print_json;
use crate::cli::{ExportArgs, ImportArgs, VerifyArgs};
use crate::home::{Home, write_atomic};
use crate::workspace::{Workspace, now_ms};

pub fn export(home: &Home, args: &ExportArgs) -> Result<()> {
    if args.adopted {
        return export_adopted(home, args);
    }
    let ws = Workspace::open(home)?;
    let neg = ws.resolve(&args.negotiation)?;
    let (bytes, events) = ws.export(&neg)?;
    write_atomic(&args.out, &bytes)?;
    if args.json {
        return print_json(&json!({
            "negotiation": neg,
            "file": args.out.display().to_string(),
            "bytes": bytes.len(),
            "events": events,
        }));
    }
    outln!(
        "Wrote the record of {} ({} bytes) to {}",
        neg.short(),
        bytes.len(),
        args.out.display()
    );
    Ok(())
}

pub fn import(home: &Home, args: &ImportArgs) -> Result<()> {
    let mut ws = Workspace::open(home)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let report = ws.import(&bytes)?;
    if args.json {
        return print_json(&report);
    }
    outln!(
        "Imported \"{}\": {} new of {} events; state {}",
        report.title,
        report.new,
        report.events,
        &report.state_hash[..16]
    );
    Ok(())
}

/// Writes the public signed text of an adopted revision: its documents in every language and
/// the governance events that prove the adoption and the signatures, nothing sealed.
fn export_adopted(home: &Home, args: &ExportArgs) -> Result<()> {
    let (_, _, room) = super::text::enter(home, &args.negotiation)?;
    let (bytes, summary, label) = crate::actions::public_text(&room, args.adoption.as_deref())?;
    write_atomic(&args.out, &bytes)?;
    let signatures: usize = summary.languages.iter().map(|l| l.signatures.len()).sum();
    if args.json {
        return print_json(&json!({
            "negotiation": room.negotiation,
            "adoption": summary.adoption,
            "file": args.out.display().to_string(),
            "bytes": bytes.len(),
            "languages": summary.languages.iter().map(|l| &l.language).collect::<Vec<_>>(),
            "signatures": signatures,
        }));
    }
    outln!(
        "Wrote the public signed text of {} ({} language(s), {} signature(s), {} bytes) to {}",
        label,
        summary.languages.len(),
        signatures,
        bytes.len(),
        args.out.display()
    );
    outln!(
        "It carries the adopted text, the charter, the membership events (names, roles, device labels, reasons for removal) and the decisions; nothing sealed."
    );
    Ok(())
}

pub fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if public::is_public_text(&bytes) {
        return verify_public(args, &bytes);
    }
    match verify_record(&bytes, now_ms()) {
        Ok(record) => {
            let summary = RecordSummary::of(&record.state);
            if args.json {
                print_json(&summary)?;
            } else {
                print_summary(&summary)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                print_json(&json!({"ok": false, "error": e.to_string()}))?;
            }
            eprintln!("verification FAILED: {}: {e}", args.file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn verify_public(args: &VerifyArgs, bytes: &[u8]) -> Result<ExitCode> {
    match public::verify_public_text(bytes) {
        Ok(v) => {
            if args.json {
                print_json(&v.summary)?;
                return Ok(ExitCode::SUCCESS);
            }
            let s = &v.summary;
            outln!(
                "Public signed text verified: signatures, certificates, rules and text hashes check out."
            );
            outln!("  negotiation  {}", s.negotiation);
            outln!("  title        {}", s.title);
            outln!(
                "  adopted      {} by {} (adoption {})",
                crate::render::utc(s.adopted_at),
                s.adopted_by.as_deref().unwrap_or("?"),
                s.adoption.short()
            );
            if let Some(silence) = s.silence {
                outln!(
                    "  silence      {} (whether each break counted needs the full record: `entente verify record.ent`)",
                    silence.short()
                );
            }
            for l in &s.languages {
                outln!("  {} text  {}  {}", l.language, l.hash, l.symbol);
                for sig in &l.signatures {
                    outln!("      {} ({})", sig.name, sig.form);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                print_json(&json!({"ok": false, "error": e.to_string()}))?;
            }
            eprintln!("verification FAILED: {}: {e}", args.file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_summary(s: &RecordSummary) -> Result<()> {
    outln!("Record verified: every id, signature, parent link and rule checks out.");
    outln!("  negotiation  {}", s.negotiation);
    outln!("  title        {}", s.title);
    outln!(
        "  events       {} ({} included, {} excluded by the rules)",
        s.events,
        s.included,
        s.excluded
    );
    outln!(
        "  heads        {}",
        s.heads
            .iter()
            .map(|h| h.short())
            .collect::<Vec<_>>()
            .join(" ")
    );
    outln!("  state hash   {}", s.state_hash);
    outln!("  members");
    for m in &s.members {
        outln!(
            "    {:<10} {:<10} {}  [{}]",
            m.role.as_str(),
            m.status.as_str(),
            m.name,
            m.delegation.short()
        );
    }
    for v in &s.proceedings.silences {
        outln!(
            "  silence      {} on revision {}: {:?}",
            v.silence.id.short(),
            v.silence.revision.short(),
            v.outcome
        );
    }
    for a in &s.authentication {
        outln!(
            "  adoption     {} ({:?}) {} text {}",
            a.adoption.short(),
            a.status,
            a.language,
            a.hash
        );
        for (name, form) in &a.signed_by {
            outln!("      signed by {name} ({form})");
        }
    }
    Ok(())
}
