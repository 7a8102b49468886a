//! Word-level differences between two revisions of a text in one language.
//!
//! Paragraphs are matched by their stable ids, never by position or by similarity: `OP3` in
//! one revision is `OP3` in the next. Within a paragraph the words are compared with the
//! `similar` crate on Unicode word boundaries (UAX #29), so a word keeps its diacritics
//! (`élaboré` and `elabore` differ), its apostrophe (`l'État` is one word), and its combining
//! marks (an Arabic word with a vowel mark added is one changed word, not a split one).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use entente_protocol::text::{Document, Paragraph};
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// A diff gives up looking for the smallest difference after this long and returns a correct,
/// coarser one: a pasted treaty must not hang the node.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// What happened to a paragraph between two revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Added,
    Removed,
    Changed,
    Unchanged,
}

/// What happened to a run of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WordChange {
    Equal,
    Insert,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ParagraphDiff {
    pub id: String,
    pub change: Change,
    /// Runs of words (with the spaces and punctuation between them) that are equal, inserted
    /// or deleted; joining the equal and deleted runs gives the old text, the equal and
    /// inserted runs the new one.
    pub words: Vec<(WordChange, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DocumentDiff {
    pub paragraphs: Vec<ParagraphDiff>,
}

/// The paragraphs of `new` in its order, each compared with the paragraph of the same id in
/// `old`; a paragraph that `new` no longer has comes right after the paragraph that preceded
/// it in `old` (or first, if it was first).
pub fn word_diff(old: &Document, new: &Document) -> DocumentDiff {
    let in_new: HashSet<&str> = new.paragraphs.iter().map(|p| p.id.as_str()).collect();
    let old_by_id: HashMap<&str, &Paragraph> =
        old.paragraphs.iter().map(|p| (p.id.as_str(), p)).collect();

    // Removed paragraphs under the nearest preceding paragraph that is still there; a run of
    // removed paragraphs stays together, in its old order.
    let mut removed_after: HashMap<Option<&str>, Vec<&Paragraph>> = HashMap::new();
    let mut anchor = None;
    for p in &old.paragraphs {
        if in_new.contains(p.id.as_str()) {
            anchor = Some(p.id.as_str());
        } else {
            removed_after.entry(anchor).or_default().push(p);
        }
    }

    let removed = |anchor: Option<&str>| {
        removed_after
            .get(&anchor)
            .into_iter()
            .flatten()
            .map(|p| ParagraphDiff {
                id: p.id.clone(),
                change: Change::Removed,
                words: vec![(WordChange::Delete, p.text.clone())],
            })
            .collect::<Vec<_>>()
    };
    let mut paragraphs = removed(None);
    for p in &new.paragraphs {
        paragraphs.push(match old_by_id.get(p.id.as_str()) {
            None => ParagraphDiff {
                id: p.id.clone(),
                change: Change::Added,
                words: vec![(WordChange::Insert, p.text.clone())],
            },
            Some(o) if o.text == p.text => ParagraphDiff {
                id: p.id.clone(),
                change: Change::Unchanged,
                words: vec![(WordChange::Equal, p.text.clone())],
            },
            Some(o) => ParagraphDiff {
                id: p.id.clone(),
                change: Change::Changed,
                words: words(&o.text, &p.text),
            },
        });
        paragraphs.extend(removed(Some(p.id.as_str())));
    }
    DocumentDiff { paragraphs }
}

/// Word runs from `old` to `new`, consecutive tokens with the same change merged.
fn words(old: &str, new: &str) -> Vec<(WordChange, String)> {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_unicode_words(old, new);
    let mut runs: Vec<(WordChange, String)> = Vec::new();
    for change in diff.iter_all_changes() {
        let tag = match change.tag() {
            ChangeTag::Equal => WordChange::Equal,
            ChangeTag::Insert => WordChange::Insert,
            ChangeTag::Delete => WordChange::Delete,
        };
        match runs.last_mut() {
            Some((last, text)) if *last == tag => text.push_str(change.value()),
            _ => runs.push((tag, change.value().to_string())),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(language: &str, paragraphs: &[(&str, &str)]) -> Document {
        Document {
            language: language.into(),
            symbol: String::new(),
            title: String::new(),
            paragraphs: paragraphs
                .iter()
                .map(|(id, text)| Paragraph {
                    id: (*id).into(),
                    text: (*text).into(),
                })
                .collect(),
        }
    }

    /// The runs that are not equal.
    fn changes(d: &ParagraphDiff) -> Vec<(WordChange, &str)> {
        d.words
            .iter()
            .filter(|(c, _)| *c != WordChange::Equal)
            .map(|(c, w)| (*c, w.as_str()))
            .collect()
    }

    /// Old and new text put back together from the runs.
    fn sides(d: &ParagraphDiff) -> (String, String) {
        let side = |skip: WordChange| {
            d.words
                .iter()
                .filter(|(c, _)| *c != skip)
                .map(|(_, w)| w.as_str())
                .collect()
        };
        (side(WordChange::Insert), side(WordChange::Delete))
    }

    #[test]
    fn a_french_paragraph_where_one_word_changed_reports_exactly_that_word() {
        let old = "Prie le Secrétaire général de présenter à l'Assemblée un rapport élaborée avec l'État hôte ;";
        let new = "Prie le Secrétaire général de présenter à l'Assemblée un rapport adoptée avec l'État hôte ;";
        let d = word_diff(&doc("fr", &[("OP2", old)]), &doc("fr", &[("OP2", new)]));
        assert_eq!(d.paragraphs.len(), 1);
        assert_eq!(d.paragraphs[0].change, Change::Changed);
        assert_eq!(
            changes(&d.paragraphs[0]),
            [
                (WordChange::Delete, "élaborée"),
                (WordChange::Insert, "adoptée")
            ]
        );
        assert_eq!(sides(&d.paragraphs[0]), (old.to_string(), new.to_string()));
    }

    #[test]
    fn french_diacritics_and_elisions_are_part_of_the_word() {
        let d = word_diff(
            &doc("fr", &[("OP1", "un texte élaboré par l'État")]),
            &doc("fr", &[("OP1", "un texte elabore par l'Etat")]),
        );
        assert_eq!(
            changes(&d.paragraphs[0]),
            [
                (WordChange::Delete, "élaboré"),
                (WordChange::Insert, "elabore"),
                (WordChange::Delete, "l'État"),
                (WordChange::Insert, "l'Etat"),
            ]
        );
        // With the typographic apostrophe and decomposed accents too.
        let d = word_diff(
            &doc("fr", &[("OP1", "par l’E\u{301}tat hôte")]),
            &doc("fr", &[("OP1", "par l’E\u{301}tat partie")]),
        );
        assert_eq!(
            changes(&d.paragraphs[0]),
            [(WordChange::Delete, "hôte"), (WordChange::Insert, "partie")]
        );
    }

    #[test]
    fn an_arabic_paragraph_where_one_word_changed_reports_exactly_that_word() {
        let old = "تطلب إلى الأمين العام أن يقدم تقريرا يُعَدّ بالتعاون مع الدولة المضيفة؛";
        let new = "تطلب إلى الأمين العام أن يقدم تقريرا يُعَدّ بالتشاور مع الدولة المضيفة؛";
        let d = word_diff(&doc("ar", &[("OP2", old)]), &doc("ar", &[("OP2", new)]));
        assert_eq!(
            changes(&d.paragraphs[0]),
            [
                (WordChange::Delete, "بالتعاون"),
                (WordChange::Insert, "بالتشاور")
            ]
        );
        assert_eq!(sides(&d.paragraphs[0]), (old.to_string(), new.to_string()));
    }

    #[test]
    fn an_arabic_word_that_only_gained_a_vowel_mark_is_one_changed_word() {
        let d = word_diff(
            &doc("ar", &[("PP1", "إذ تشير إلى قرارها ٧٠/١،")]),
            &doc("ar", &[("PP1", "إذ تشير إلى قرارَها ٧٠/١،")]),
        );
        assert_eq!(
            changes(&d.paragraphs[0]),
            [
                (WordChange::Delete, "قرارها"),
                (WordChange::Insert, "قرارَها")
            ]
        );
    }

    #[test]
    fn paragraphs_follow_the_new_order_and_removed_ones_stay_where_they_were() {
        let old = doc(
            "en",
            &[
                ("PP0", "Gone first,"),
                ("PP1", "Recalling,"),
                ("OP1", "Decides;"),
                ("OP2", "Requests;"),
                ("OP3", "Invites;"),
                ("OP4", "Urges;"),
            ],
        );
        let new = doc(
            "en",
            &[
                ("PP1", "Recalling,"),
                ("OP1", "Decides firmly;"),
                ("OP1.a", "in 2027;"),
                ("OP4", "Urges;"),
            ],
        );
        let d = word_diff(&old, &new);
        let got: Vec<(&str, Change)> = d
            .paragraphs
            .iter()
            .map(|p| (p.id.as_str(), p.change))
            .collect();
        assert_eq!(
            got,
            [
                ("PP0", Change::Removed),
                ("PP1", Change::Unchanged),
                ("OP1", Change::Changed),
                ("OP2", Change::Removed),
                ("OP3", Change::Removed),
                ("OP1.a", Change::Added),
                ("OP4", Change::Unchanged),
            ]
        );
        assert_eq!(
            d.paragraphs[3].words,
            [(WordChange::Delete, "Requests;".to_string())]
        );
        assert_eq!(changes(&d.paragraphs[2]), [(WordChange::Insert, " firmly")]);
    }

    #[test]
    fn the_diff_serialises_in_kebab_case() {
        let d = word_diff(&doc("en", &[("OP1", "a b")]), &doc("en", &[("OP1", "a c")]));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["paragraphs"][0]["change"], "changed");
        assert_eq!(
            v["paragraphs"][0]["words"][1],
            serde_json::json!(["delete", "b"])
        );
        assert_eq!(
            v["paragraphs"][0]["words"][2],
            serde_json::json!(["insert", "c"])
        );
    }
}
