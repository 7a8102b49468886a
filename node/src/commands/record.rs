//! `entente export`, `import` and `verify`: records as files.

use crate::output::outln;
use std::process::ExitCode;

use anyhow::{Context, Result};
use entente_protocol::record::{RecordSummary, verify_record};
use serde_json::json;

use super::print_json;
use crate::cli::{ExportArgs, ImportArgs, VerifyArgs};
use crate::home::{Home, write_atomic};
use crate::workspace::{Workspace, now_ms};

pub fn export(home: &Home, args: &ExportArgs) -> Result<()> {
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

pub fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
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
    Ok(())
}
