//! What a view says under a paragraph, in words: its brackets' reasons, who placed them, whose
//! ad referendum agreement is pending, proposals, and an outdated translation.

use entente_protocol::DelegationId;
use entente_protocol::drafting::ParagraphView;

/// The notes on `p`, one sentence each, in a stable order.
pub fn notes(p: &ParagraphView, names: &dyn Fn(&DelegationId) -> String) -> Vec<String> {
    let mut out = Vec::new();
    for b in &p.brackets {
        let on = if b.span.is_empty() {
            "the whole paragraph".to_string()
        } else {
            format!("“{}”", b.span)
        };
        let reason = if b.reason.trim().is_empty() {
            "no reason given"
        } else {
            b.reason.as_str()
        };
        let mut note = format!("Bracket on {on}: {reason}");
        if let Some(d) = &b.placed_by {
            note.push_str(&format!(" (placed by {})", names(d)));
        }
        out.push(note);
    }
    if !p.pending_ad_referendum.is_empty() {
        let who: Vec<String> = p.pending_ad_referendum.iter().map(names).collect();
        out.push(format!(
            "Agreed ad referendum, pending confirmation by: {}",
            who.join(", ")
        ));
    }
    match p.proposals.len() {
        0 => {}
        1 => out.push("1 amendment proposed".into()),
        n => out.push(format!("{n} amendments proposed")),
    }
    if p.stale_translation {
        out.push("(translation outdated)".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixtures::{bracket, delegation, names, paragraph};

    #[test]
    fn notes_name_the_delegation_only_when_the_view_names_it() {
        let mut p = paragraph("OP3", "Decides to convene a conference;");
        let mut placed = bracket(1, "convene", &["convene", "hold"], "timing");
        placed.placed_by = Some(delegation(1));
        p.brackets = vec![
            placed,
            bracket(2, "", &["Decides to convene a conference;", ""], ""),
        ];
        p.pending_ad_referendum = vec![delegation(2)];
        p.stale_translation = true;
        assert_eq!(
            notes(&p, &names),
            [
                "Bracket on “convene”: timing (placed by France)",
                "Bracket on the whole paragraph: no reason given",
                "Agreed ad referendum, pending confirmation by: Kenya",
                "(translation outdated)",
            ]
        );
    }
}
