//! Word diffs for people: Markdown-like text with `git diff --word-diff` markers, and a
//! standalone HTML page with `<ins>` and `<del>`.

use std::fmt::Write as _;

use super::diff::{Change, DocumentDiff, ParagraphDiff, WordChange};
use super::escape::html as esc;

/// The diff as text: each paragraph on its own line, `**OP3** [changed] …`, inserted words as
/// `{+words+}` and deleted ones as `[-words-]`, the markers of `git diff --word-diff`, which
/// read the same in a terminal, in an e-mail and in rendered Markdown. Unchanged paragraphs
/// carry no tag.
pub fn diff_markdown(d: &DocumentDiff) -> String {
    let mut out = String::from("Inserted words: {+like this+}; deleted words: [-like this-].\n");
    for p in &d.paragraphs {
        out.push('\n');
        let _ = write!(out, "**{}**", p.id);
        if let Some(tag) = tag(p) {
            let _ = write!(out, " [{tag}]");
        }
        out.push(' ');
        for (change, words) in &p.words {
            match change {
                WordChange::Equal => out.push_str(words),
                WordChange::Insert => {
                    let _ = write!(out, "{{+{words}+}}");
                }
                WordChange::Delete => {
                    let _ = write!(out, "[-{words}-]");
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The diff as a standalone HTML5 page in `lang` (which sets `lang` and `dir`): one
/// `<p id="OP3" data-change="changed">` per paragraph, words in `<ins>` and `<del>`.
pub fn diff_html(d: &DocumentDiff, lang: &str) -> String {
    let dir = super::lang::dir(lang);
    let mut out = super::html::page_start(lang, "Changes");
    out.push_str("<main>\n");
    for p in &d.paragraphs {
        let id = esc(&p.id);
        let _ = write!(
            out,
            "<p id=\"{id}\" data-change=\"{}\" dir=\"{dir}\" class=\"level-{}\"><span class=\"pid\">{id}</span> ",
            tag(p).unwrap_or("unchanged"),
            p.id.matches('.').count()
        );
        if let Some(tag) = tag(p) {
            let _ = write!(out, "<span class=\"status\">{tag}</span> ");
        }
        for (change, words) in &p.words {
            match change {
                WordChange::Equal => out.push_str(&esc(words)),
                WordChange::Insert => {
                    let _ = write!(out, "<ins>{}</ins>", esc(words));
                }
                WordChange::Delete => {
                    let _ = write!(out, "<del>{}</del>", esc(words));
                }
            }
        }
        out.push_str("</p>\n");
    }
    out.push_str("</main>\n");
    super::html::page_end(out)
}

fn tag(p: &ParagraphDiff) -> Option<&'static str> {
    match p.change {
        Change::Added => Some("added"),
        Change::Removed => Some("removed"),
        Change::Changed => Some("changed"),
        Change::Unchanged => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::word_diff;
    use entente_protocol::text::Document;

    fn revisions(lang: &str, old: &str, new: &str) -> DocumentDiff {
        word_diff(
            &Document::parse(lang, old).unwrap(),
            &Document::parse(lang, new).unwrap(),
        )
    }

    #[test]
    fn markdown_diff_uses_word_diff_markers() {
        let d = revisions(
            "fr",
            "[PP1] Rappelant,\n[OP1] Prie de présenter un rapport élaborée ;\n[OP2] Invite ;",
            "[PP1] Rappelant,\n[OP1] Prie de présenter un rapport adoptée ;\n[OP3] Engage ;",
        );
        assert_eq!(
            diff_markdown(&d),
            "Inserted words: {+like this+}; deleted words: [-like this-].\n\n\
             **PP1** Rappelant,\n\n\
             **OP1** [changed] Prie de présenter un rapport [-élaborée-]{+adoptée+} ;\n\n\
             **OP2** [removed] [-Invite ;-]\n\n\
             **OP3** [added] {+Engage ;+}\n"
        );
    }

    #[test]
    fn html_diff_marks_words_with_ins_and_del_and_escapes_them() {
        let d = revisions("en", "[OP1] Decides <a> & b;", "[OP1] Decides <c> & b;");
        let page = diff_html(&d, "en");
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">"));
        assert!(
            page.contains("<p id=\"OP1\" data-change=\"changed\" dir=\"ltr\" class=\"level-0\">")
        );
        assert!(
            page.contains("&lt;<del>a</del><ins>c</ins>&gt; &amp; b;</p>"),
            "{page}"
        );
        assert!(!page.contains("<a>") && !page.contains("<c>"));
    }

    #[test]
    fn an_arabic_html_diff_runs_right_to_left() {
        let d = revisions(
            "ar",
            "[OP1] تقرر عقد مؤتمر في جنيف؛",
            "[OP1] تقرر عقد مؤتمر في نيروبي؛",
        );
        let page = diff_html(&d, "ar");
        assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(page.contains("dir=\"rtl\" class=\"level-0\"><span class=\"pid\">OP1</span>"));
        assert!(page.contains("<del>جنيف</del><ins>نيروبي</ins>؛</p>"));
    }
}
