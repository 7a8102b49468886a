//! The text as a standalone HTML5 page: one `<p id="OP3" data-status="bracketed" dir="ltr">` per
//! paragraph, brackets as `<span class="bracket">` holding `<span class="option">`s, statuses
//! colour-coded by an inline style sheet. No scripts and no external resources, so the file
//! can be mailed, archived or opened offline. Every piece of text is escaped.

use std::fmt::Write as _;

use entente_protocol::DelegationId;
use entente_protocol::drafting::{ParagraphView, TextView};

use super::escape::html as esc;
use super::layout::{Piece, layout};
use super::notes::notes;

/// Colours by status (`data-status`); logical properties so the bar sits on the reading side in
/// right-to-left texts too. Shared with the diff page.
pub(super) const STYLE: &str = "\
body{font-family:system-ui,sans-serif;line-height:1.55;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
header .symbol{text-align:end;font-size:.9em;color:#555}
header .byline{color:#555;font-size:.9em}
main p{margin:.9em 0 .3em;padding-inline-start:.6rem;border-inline-start:.3rem solid transparent}
main p.level-1{margin-inline-start:1.5rem}
main p.level-2,main p.level-3{margin-inline-start:3rem}
.pid{font-weight:bold}
.status{font-size:.75em;padding:.05em .4em;border-radius:.3em;background:#eee;color:#333}
p[data-status=discussed]{border-color:#9aa5ad}
p[data-status=bracketed]{border-color:#c0392b;background:#fdf0ef}
p[data-status=bracketed] .status{background:#c0392b;color:#fff}
p[data-status=agreed-ad-referendum]{border-color:#d68910;background:#fef7ea}
p[data-status=agreed-ad-referendum] .status{background:#d68910;color:#fff}
p[data-status=agreed]{border-color:#1e8449;background:#edf8f1}
p[data-status=agreed] .status{background:#1e8449;color:#fff}
p[data-status=adopted]{border-color:#0e4f2b;background:#e1f2e8}
p[data-status=adopted] .status{background:#0e4f2b;color:#fff}
.bracket{color:#922b21;font-weight:600}
.option{font-weight:normal;color:#1b1b1b}
.option.delete{font-style:italic;color:#922b21}
ul.notes{margin:0 0 .8em;padding-inline-start:2.2rem;font-style:italic;font-size:.9em;color:#444}
p[data-change=added]{border-color:#1e8449}
p[data-change=removed]{border-color:#c0392b;color:#666}
p[data-change=changed]{border-color:#d68910}
ins{background:#d5f5e3;text-decoration:none}
del{background:#fadbd8}
";

/// A complete HTML5 document; `clean` leaves out statuses, brackets and notes.
pub fn html(view: &TextView, clean: bool, names: &dyn Fn(&DelegationId) -> String) -> String {
    let dir = super::lang::dir(&view.language);
    let title = [&view.title, &view.symbol, &view.label]
        .into_iter()
        .find(|s| !s.is_empty())
        .map_or("", |s| s.as_str());
    let mut out = page_start(&view.language, title);
    out.push_str("<header>\n");
    // The bracketed view names the symbol in its byline.
    if clean && !view.symbol.is_empty() {
        let _ = writeln!(out, "<p class=\"symbol\">{}</p>", esc(&view.symbol));
    }
    if !view.title.is_empty() {
        let _ = writeln!(out, "<h1>{}</h1>", esc(&view.title));
    }
    if !clean {
        let _ = writeln!(out, "<p class=\"byline\">{}</p>", esc(&super::byline(view)));
    }
    out.push_str("</header>\n<main>\n");
    for p in &view.paragraphs {
        let id = esc(&p.id);
        if clean {
            let _ = writeln!(
                out,
                "<p id=\"{id}\" dir=\"{dir}\" class=\"level-{}\"><span class=\"pid\">{id}</span> {}</p>",
                p.level,
                esc(&p.text)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "<p id=\"{id}\" data-status=\"{}\" dir=\"{dir}\" class=\"level-{}\"><span class=\"pid\">{id}</span> \
             <span class=\"status\">{}</span> {}</p>",
            super::status_slug(p.status),
            p.level,
            esc(p.status.as_str()),
            bracketed_text(p)
        );
        let notes = notes(p, names);
        if !notes.is_empty() {
            out.push_str("<ul class=\"notes\">\n");
            for n in notes {
                let _ = writeln!(out, "<li>{}</li>", esc(&n));
            }
            out.push_str("</ul>\n");
        }
    }
    out.push_str("</main>\n");
    page_end(out)
}

/// The opening of a page up to `<body>`, shared with the diff page.
pub(super) fn page_start(lang: &str, title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\" dir=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(lang),
        super::lang::dir(lang),
        esc(title)
    )
}

pub(super) fn page_end(mut out: String) -> String {
    out.push_str("</body>\n</html>\n");
    out
}

/// The paragraph's text, escaped, with its open brackets as spans.
fn bracketed_text(p: &ParagraphView) -> String {
    let l = layout(p);
    let mut text = String::new();
    for piece in &l.pieces {
        match piece {
            Piece::Text(t) => text.push_str(&esc(t)),
            Piece::Words { bracket, options } => {
                let escaped: Vec<String> = options.iter().map(|o| esc(o)).collect();
                text.push_str(&group(&bracket.to_hex(), &escaped));
            }
        }
    }
    match &l.whole {
        None => text,
        Some(w) => {
            let ids: Vec<String> = w.brackets.iter().map(|b| b.to_hex()).collect();
            let options: Vec<String> = std::iter::once(text)
                .chain(w.alternatives.iter().map(|o| esc(o)))
                .collect();
            group(&ids.join(" "), &options)
        }
    }
}

/// A bracket of already escaped options; the first is the circulated text, in the paragraph's
/// direction, the others may be in the working language, so their direction is the browser's
/// guess.
fn group(ids: &str, options: &[String]) -> String {
    let mut out = format!("<span class=\"bracket\" data-brackets=\"{ids}\">[");
    for (i, o) in options.iter().enumerate() {
        if i > 0 {
            out.push_str(" / ");
        }
        let dir = if i > 0 { " dir=\"auto\"" } else { "" };
        if o.is_empty() {
            let _ = write!(out, "<span class=\"option delete\"{dir}>delete</span>");
        } else {
            let _ = write!(out, "<span class=\"option\"{dir}>{o}</span>");
        }
    }
    out.push_str("]</span>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixtures::{bracket, delegation, names, paragraph, resolution, view};
    use entente_protocol::drafting::ParagraphStatus;

    #[test]
    fn the_page_is_standalone_html5_with_one_p_per_paragraph() {
        let mut v = resolution("en");
        v.paragraphs[1].status = ParagraphStatus::AgreedAdReferendum;
        let page = html(&v, false, &names);
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">"));
        assert!(page.ends_with("</html>\n"));
        assert!(page.contains("<style>") && !page.contains("<link") && !page.contains("<script"));
        assert!(
            page.contains("<p id=\"PP1\" data-status=\"unread\" dir=\"ltr\" class=\"level-0\">")
        );
        assert!(page.contains("<p id=\"OP1\" data-status=\"agreed-ad-referendum\" dir=\"ltr\""));
        assert!(
            page.contains("<p id=\"OP1.a\" data-status=\"unread\" dir=\"ltr\" class=\"level-1\">")
        );
        assert_eq!(page.matches("<p id=").count(), v.paragraphs.len());
    }

    #[test]
    fn arabic_views_get_dir_rtl() {
        let page = html(&resolution("ar"), false, &names);
        assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(page.contains("<p id=\"OP1\" data-status=\"unread\" dir=\"rtl\""));
        assert!(!page.contains("dir=\"ltr\""));
        let clean = html(&resolution("ar"), true, &names);
        assert!(clean.contains("<p id=\"OP2\" dir=\"rtl\""));
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let hostile = r#"<img src=x onerror="alert(1)"> & co"#;
        let mut p = paragraph("OP1", hostile);
        let mut b = bracket(1, "& co", &["& co", "</span><script>"], hostile);
        b.placed_by = Some(delegation(3));
        p.brackets = vec![b];
        p.status = ParagraphStatus::Bracketed;
        let mut v = view("en\"><script>", hostile, vec![p]);
        v.symbol = hostile.into();
        for clean in [false, true] {
            let page = html(&v, clean, &|_| "<b>Evil</b>".to_string());
            assert!(!page.contains("<img") && !page.contains("<script") && !page.contains("<b>"));
            assert!(page.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co"));
        }
    }

    #[test]
    fn brackets_are_spans_with_their_options() {
        let mut p = paragraph("OP1", "Decides to convene a conference in Geneva;");
        p.brackets = vec![
            bracket(1, "in Geneva", &["in Geneva", "in Nairobi"], "venue"),
            bracket(
                2,
                "",
                &["Decides to convene a conference in Geneva;", ""],
                "delete?",
            ),
        ];
        p.status = ParagraphStatus::Bracketed;
        let page = html(&view("en", "T", vec![p]), false, &names);
        assert_eq!(page.matches("<span class=\"bracket\"").count(), 2);
        assert!(page.contains(
            "<span class=\"option\">in Geneva</span> / <span class=\"option\" dir=\"auto\">in Nairobi</span>]</span>"
        ));
        assert!(
            page.contains("<span class=\"option delete\" dir=\"auto\">delete</span>]</span></p>")
        );
        assert!(page.contains("<li>Bracket on “in Geneva”: venue</li>"));
    }

    #[test]
    fn clean_html_has_no_statuses_or_brackets() {
        let mut v = resolution("fr");
        v.paragraphs[1].status = ParagraphStatus::Bracketed;
        v.paragraphs[1].brackets = vec![bracket(1, "Genève", &["Genève", "Nairobi"], "lieu")];
        let page = html(&v, true, &names);
        assert!(!page.contains("data-status=\"") && !page.contains("class=\"bracket\""));
        assert!(!page.contains("Nairobi") && !page.contains("class=\"notes\""));
        assert!(page.contains("Décide de convoquer une conférence à Genève ;</p>"));
    }
}
