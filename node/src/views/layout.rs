//! How a paragraph reads with its open brackets: the one place that decides where each bracket
//! goes, so that Markdown, HTML and Akoma Ntoso show the same thing.
//!
//! - A bracket on words (`span` not empty) replaces the first occurrence of those words that no
//!   earlier bracket took with the bracket's options (the first is the words themselves). In a
//!   translation the words, which are in the working language, may not occur: the bracket is
//!   then shown after the text.
//! - Brackets on the whole paragraph (`span` empty, as conflicting amendments are) are merged
//!   into one: the paragraph as circulated in the view's language, with its bracketed words,
//!   then every other option of those brackets once, in order. Their first option is the
//!   circulated text in the working language, which the view's own text stands for.
//!
//! An empty option proposes deleting the words or the paragraph.

use entente_protocol::EventId;
use entente_protocol::drafting::{BracketView, ParagraphView};

/// A run of the circulated text, or a bracket on words in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Words {
        bracket: EventId,
        /// The options, the bracketed words first.
        options: &'a [String],
    },
}

/// Options that replace the whole paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whole<'a> {
    pub brackets: Vec<EventId>,
    /// The options other than the circulated text, each once; empty means "delete".
    pub alternatives: Vec<&'a str>,
}

/// A paragraph's text laid out with its open brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout<'a> {
    /// The circulated text, with brackets on words in place.
    pub pieces: Vec<Piece<'a>>,
    pub whole: Option<Whole<'a>>,
}

/// Lays out `p`'s text with its open brackets.
pub fn layout(p: &ParagraphView) -> Layout<'_> {
    let mut pieces = vec![Piece::Text(p.text.as_str())];
    let mut whole: Option<Whole<'_>> = None;
    for b in &p.brackets {
        if b.span.is_empty() {
            let w = whole.get_or_insert_with(|| Whole {
                brackets: Vec::new(),
                alternatives: Vec::new(),
            });
            w.brackets.push(b.id);
            for o in b.options.iter().skip(1) {
                if !w.alternatives.contains(&o.as_str()) {
                    w.alternatives.push(o);
                }
            }
        } else {
            place_words(&mut pieces, b);
        }
    }
    Layout { pieces, whole }
}

/// Puts a bracket on words at the first free occurrence of its span, or after the text.
fn place_words<'a>(pieces: &mut Vec<Piece<'a>>, b: &'a BracketView) {
    let options: &'a [String] = if b.options.is_empty() {
        std::slice::from_ref(&b.span)
    } else {
        &b.options
    };
    let bracket = Piece::Words {
        bracket: b.id,
        options,
    };
    for i in 0..pieces.len() {
        let Piece::Text(text) = pieces[i] else {
            continue;
        };
        let Some(at) = text.find(b.span.as_str()) else {
            continue;
        };
        let (before, rest) = text.split_at(at);
        let after = &rest[b.span.len()..];
        let mut replacement = Vec::with_capacity(3);
        if !before.is_empty() {
            replacement.push(Piece::Text(before));
        }
        replacement.push(bracket);
        if !after.is_empty() {
            replacement.push(Piece::Text(after));
        }
        pieces.splice(i..=i, replacement);
        return;
    }
    pieces.push(Piece::Text(" "));
    pieces.push(bracket);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixtures::{bracket, event, paragraph};
    use entente_protocol::drafting::ParagraphStatus;

    #[test]
    fn a_bracket_on_words_replaces_them_where_they_stand() {
        let mut p = paragraph("OP3", "Decides to convene a conference in 2027;");
        p.brackets = vec![bracket(1, "convene", &["convene", "hold"], "timing")];
        p.status = ParagraphStatus::Bracketed;
        let l = layout(&p);
        assert!(l.whole.is_none());
        assert_eq!(l.pieces.len(), 3);
        assert_eq!(l.pieces[0], Piece::Text("Decides to "));
        assert!(
            matches!(l.pieces[1], Piece::Words { options, .. } if options == ["convene", "hold"])
        );
        assert_eq!(l.pieces[2], Piece::Text(" a conference in 2027;"));
    }

    #[test]
    fn words_missing_from_a_translation_are_bracketed_after_the_text() {
        let mut p = paragraph("OP3", "Décide de convoquer une conférence ;");
        p.brackets = vec![bracket(1, "convene", &["convene", "hold"], "")];
        let l = layout(&p);
        assert_eq!(
            l.pieces[0],
            Piece::Text("Décide de convoquer une conférence ;")
        );
        assert!(matches!(l.pieces[2], Piece::Words { .. }));
    }

    #[test]
    fn whole_paragraph_brackets_merge_their_options_once() {
        let mut p = paragraph("OP3", "Decides to convene a conference;");
        p.brackets = vec![
            bracket(
                1,
                "",
                &["Decides to convene a conference;", "Decides to meet;", ""],
                "a",
            ),
            bracket(2, "", &["Decides to convene a conference;", ""], "b"),
        ];
        let l = layout(&p);
        let w = l.whole.as_ref().unwrap();
        assert_eq!(w.alternatives, ["Decides to meet;", ""]);
        assert_eq!(w.brackets, [event(1), event(2)]);
    }
}
