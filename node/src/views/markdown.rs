//! The text as Markdown.
//!
//! The bracketed view is for delegates: each paragraph is a line `**OP3** [bracketed] text`,
//! brackets in square brackets with their options separated by ` / ` (an option that deletes
//! reads `[delete]`), and notes under the paragraph in italics. The clean view is what a
//! ministry prints: the symbol, the title and the paragraphs as circulated.
//!
//! Text is written as delegations typed it, not escaped: this is for reading and pasting. To
//! show a text in a browser, use `html`, which escapes everything.

use std::fmt::Write as _;

use entente_protocol::DelegationId;
use entente_protocol::drafting::{ParagraphView, TextView};

use super::layout::{Piece, layout};
use super::notes::notes;

/// The text in Markdown; `clean` leaves out statuses, brackets and notes.
pub fn markdown(view: &TextView, clean: bool, names: &dyn Fn(&DelegationId) -> String) -> String {
    let mut out = String::new();
    if clean {
        if !view.symbol.is_empty() {
            let _ = writeln!(out, "{}\n", view.symbol);
        }
        if !view.title.is_empty() {
            let _ = writeln!(out, "# {}\n", view.title);
        }
    } else {
        if !view.title.is_empty() {
            let _ = writeln!(out, "# {}\n", view.title);
        }
        let _ = writeln!(out, "{}\n", super::byline(view));
    }
    for (i, p) in view.paragraphs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if clean {
            let _ = writeln!(out, "**{}** {}", p.id, p.text);
            continue;
        }
        let _ = writeln!(
            out,
            "**{}** [{}] {}",
            p.id,
            p.status.as_str(),
            bracketed_text(p)
        );
        for note in notes(p, names) {
            let _ = writeln!(out, "- *{note}*");
        }
    }
    out
}

/// The paragraph's text with its open brackets as `[option / option]`.
fn bracketed_text(p: &ParagraphView) -> String {
    let l = layout(p);
    let mut text = String::new();
    for piece in &l.pieces {
        match piece {
            Piece::Text(t) => text.push_str(t),
            Piece::Words { options, .. } => {
                text.push_str(&group(options.iter().map(String::as_str)))
            }
        }
    }
    match &l.whole {
        None => text,
        Some(w) => group(std::iter::once(text.as_str()).chain(w.alternatives.iter().copied())),
    }
}

fn group<'a>(options: impl Iterator<Item = &'a str>) -> String {
    let options: Vec<&str> = options
        .map(|o| if o.is_empty() { "[delete]" } else { o })
        .collect();
    format!("[{}]", options.join(" / "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixtures::{bracket, delegation, event, names, paragraph, resolution, view};
    use entente_protocol::drafting::ParagraphStatus;

    #[test]
    fn each_paragraph_is_a_line_with_its_id_and_status() {
        let mut v = resolution("en");
        v.paragraphs[1].status = ParagraphStatus::AgreedAdReferendum;
        v.paragraphs[1].pending_ad_referendum = vec![delegation(2)];
        let md = markdown(&v, false, &names);
        assert!(md.starts_with(
            "# Draft resolution on ocean governance\n\nA/CONF.1/L.3/Rev.1 · Rev.1 · en\n"
        ));
        assert!(md.contains("\n**PP1** [unread] Recalling its resolution 70/1,\n"));
        assert!(md.contains(
            "\n**OP1** [agreed ad referendum] Decides to convene a conference in Geneva;\n\
             - *Agreed ad referendum, pending confirmation by: Kenya*\n"
        ));
    }

    #[test]
    fn conflicting_amendments_show_both_options_and_the_reason() {
        let original = "Decides to convene a conference in Geneva;";
        let mut p = paragraph("OP1", original);
        p.status = ParagraphStatus::Bracketed;
        let mut b = bracket(
            1,
            "",
            &[original, "Decides to convene a conference in Nairobi;", ""],
            "conflicting amendments",
        );
        b.amendments = vec![event(1), event(2)];
        p.brackets = vec![b];
        let md = markdown(&view("en", "T", vec![p]), false, &names);
        assert!(
            md.contains(
                "**OP1** [bracketed] [Decides to convene a conference in Geneva; / \
             Decides to convene a conference in Nairobi; / [delete]]\n\
             - *Bracket on the whole paragraph: conflicting amendments*\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn a_bracket_on_words_shows_its_options_in_place_and_who_placed_it() {
        let mut p = paragraph("OP1", "Decides to convene a conference in Geneva;");
        let mut b = bracket(1, "in Geneva", &["in Geneva", "in Nairobi", ""], "venue");
        b.placed_by = Some(delegation(1));
        p.brackets = vec![b];
        p.status = ParagraphStatus::Bracketed;
        p.stale_translation = true;
        let md = markdown(&view("en", "T", vec![p]), false, &names);
        assert!(md.contains(
            "**OP1** [bracketed] Decides to convene a conference [in Geneva / in Nairobi / [delete]];\n\
             - *Bracket on “in Geneva”: venue (placed by France)*\n\
             - *(translation outdated)*\n"
        ), "{md}");
    }

    #[test]
    fn clean_markdown_has_no_status_tags_or_brackets() {
        let mut v = resolution("fr");
        v.paragraphs[1].status = ParagraphStatus::Bracketed;
        v.paragraphs[1].brackets = vec![bracket(1, "Genève", &["Genève", "Nairobi"], "lieu")];
        v.paragraphs[3].stale_translation = true;
        let md = markdown(&v, true, &names);
        assert_eq!(
            md,
            "A/CONF.1/L.3/Rev.1\n\n\
             # Projet de résolution sur la gouvernance des océans\n\n\
             **PP1** Rappelant sa résolution 70/1,\n\n\
             **OP1** Décide de convoquer une conférence à Genève ;\n\n\
             **OP1.a** en 2027 ;\n\n\
             **OP2** Prie le Secrétaire général de présenter un rapport élaboré avec l'État hôte ;\n\n\
             **OP2-alt** Décide de rester saisie de la question.\n"
        );
        assert!(!md.contains('['));
        assert!(!md.contains("unread") && !md.contains("bracketed") && !md.contains("outdated"));
    }
}
