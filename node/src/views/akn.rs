//! The text as Akoma Ntoso 3.0 (OASIS LegalDocML) XML, for the tools of parliaments,
//! secretariats and legal databases.
//!
//! The mapping:
//!
//! - The document is a `<statement name="resolution">`: the schema describes `statement` as "an
//!   official document of a body that may or may not be normative in structure (e.g.,
//!   statements, resolutions)", which is what a draft resolution is; `doc` is for documents no
//!   other type fits.
//! - `<meta>` identifies the text in the FRBR levels with Akoma Ntoso naming-convention URIs
//!   (`/akn/xx/statement/resolution/entente/{date}/{symbol}`, `xx` being the ISO 3166 code for
//!   "no state": a negotiated text belongs to no one jurisdiction), the language as a BCP 47
//!   tag in `FRBRlanguage` and `xml:lang`, and the revision's label as `FRBRversionNumber`.
//! - `<preface>` holds the symbol (`docNumber`), the title (`docTitle`), the label (`docStage`)
//!   and the negotiation's title.
//! - Preambular paragraphs (`PP…`) are `<recital>`s in `<preamble><recitals>`; operative
//!   paragraphs (`OP…`) are `<paragraph>`s in `<mainBody>`, and their sub-paragraphs
//!   (`OP3.a`) `<subparagraph>`s beside them, in the text's order. Each Entente paragraph is
//!   exactly one element, never nested, so its text stays one `<p>` whatever is added around it.
//!   Each has `<num>` with the Entente id (`OP3.a`) and an `eId` from [`akn_eid`].
//! - Statuses are not Akoma Ntoso attributes: a paragraph's status is its `class`
//!   (`bracketed`, `agreed-ad-referendum`, …), plus `stale-translation` when the translation
//!   is outdated. Pending ad referendum agreements and proposals are left out.
//! - Akoma Ntoso has no element for negotiating brackets. An open bracket is an
//!   `<inline name="bracket" refersTo="#bracket_{event id}">` holding one
//!   `<inline name="option">` per option, the circulated words first; an option that deletes
//!   is an empty `<inline name="option" class="delete"/>`. Each bracket is a `<TLCConcept>` in
//!   `<references>` whose `showAs` is its reason. Brackets on the whole paragraph enclose the
//!   paragraph's text and refer to each bracket they merge (see `layout`).
//!
//! Every text and attribute value is escaped; characters XML 1.0 forbids become U+FFFD.

use std::fmt::Write as _;

use entente_protocol::drafting::{ParagraphView, TextView};
use entente_protocol::text::Part;

use super::escape::xml as esc;
use super::layout::{Piece, layout};

pub const AKN_NAMESPACE: &str = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0";

/// The `eId` of a paragraph: `PP1` → `pp_1`, `OP3` → `op_3`, `OP3.a` → `op_3__subpara_a`,
/// `OP3.a.i` → `op_3__subpara_a__subpara_i`, `OP7-alt` → `op_7-alt`.
///
/// The prefix is replaced, each `.` becomes `__subpara_`, and every other character is kept
/// (case too: `OP3.A` and `OP3.a` are different paragraphs). A valid id has no `_`, so every
/// `_` in an eId comes from the mapping, and the id can be read back: the mapping is
/// injective on valid ids. Whitespace, which only an invalid id could hold, becomes `-`.
pub fn akn_eid(paragraph_id: &str) -> String {
    let (mut out, rest) = if let Some(rest) = paragraph_id.strip_prefix("PP") {
        ("pp_".to_string(), rest)
    } else if let Some(rest) = paragraph_id.strip_prefix("OP") {
        ("op_".to_string(), rest)
    } else {
        ("p_".to_string(), paragraph_id)
    };
    for c in rest.chars() {
        match c {
            '.' => out.push_str("__subpara_"),
            c if c.is_whitespace() => out.push('-'),
            c => out.push(c),
        }
    }
    out
}

/// Akoma Ntoso 3.0 XML of the view. `date_utc` is `YYYY-MM-DD` or an `xsd:dateTime` in UTC
/// (the date the revision was circulated).
pub fn akoma_ntoso(view: &TextView, negotiation_title: &str, date_utc: &str) -> String {
    let lang = esc(&view.language);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<akomaNtoso xmlns=\"{AKN_NAMESPACE}\">");
    out.push_str("<statement name=\"resolution\">\n");
    out.push_str(&meta(view, negotiation_title, date_utc));

    let mut preface = Vec::new();
    if !view.symbol.is_empty() {
        preface.push(format!(
            "<p class=\"symbol\"><docNumber>{}</docNumber></p>",
            esc(&view.symbol)
        ));
    }
    if !view.title.is_empty() {
        preface.push(format!(
            "<p class=\"title\"><docTitle>{}</docTitle></p>",
            esc(&view.title)
        ));
    }
    if !view.label.is_empty() {
        preface.push(format!(
            "<p class=\"stage\"><docStage>{}</docStage></p>",
            esc(&view.label)
        ));
    }
    if !negotiation_title.is_empty() {
        preface.push(format!(
            "<p class=\"negotiation\"><inline name=\"negotiation\" refersTo=\"#negotiation\">{}</inline></p>",
            esc(negotiation_title)
        ));
    }
    if !preface.is_empty() {
        let _ = writeln!(
            out,
            "<preface xml:lang=\"{lang}\">\n{}\n</preface>",
            preface.join("\n")
        );
    }

    let (preamble, operative): (Vec<&ParagraphView>, Vec<&ParagraphView>) = view
        .paragraphs
        .iter()
        .partition(|p| p.part == Part::Preamble);
    if !preamble.is_empty() {
        let _ = writeln!(
            out,
            "<preamble xml:lang=\"{lang}\">\n<recitals eId=\"recs\">"
        );
        for p in preamble {
            let _ = writeln!(
                out,
                "<recital{}><num>{}</num><p>{}</p></recital>",
                paragraph_attrs(p),
                esc(&p.id),
                text(p)
            );
        }
        out.push_str("</recitals>\n</preamble>\n");
    }
    let _ = writeln!(out, "<mainBody xml:lang=\"{lang}\">");
    if operative.is_empty() {
        // mainBody may not be empty.
        out.push_str("<p class=\"no-operative-paragraphs\"/>\n");
    }
    for p in operative {
        let element = if p.level == 0 {
            "paragraph"
        } else {
            "subparagraph"
        };
        let _ = writeln!(
            out,
            "<{element}{}><num>{}</num><content><p>{}</p></content></{element}>",
            paragraph_attrs(p),
            esc(&p.id),
            text(p)
        );
    }
    out.push_str("</mainBody>\n</statement>\n</akomaNtoso>\n");
    out
}

fn meta(view: &TextView, negotiation_title: &str, date_utc: &str) -> String {
    let date = esc(date_utc);
    let day = date_utc.split('T').next().unwrap_or(date_utc);
    let number = if view.symbol.is_empty() {
        view.revision.short()
    } else {
        uri_segment(&view.symbol)
    };
    let work = format!(
        "/akn/xx/statement/resolution/entente/{}/{number}",
        uri_segment(day)
    );
    let expression = format!(
        "{work}/{}@{}",
        uri_segment(&uri_language(&view.language)),
        view.revision.short()
    );
    let author = "<FRBRauthor href=\"#entente\"/>";
    let mut out = String::from("<meta>\n<identification source=\"#entente\">\n");
    let _ = writeln!(
        out,
        "<FRBRWork>\n<FRBRthis value=\"{w}/!main\"/>\n<FRBRuri value=\"{w}\"/>\n\
         <FRBRdate date=\"{date}\" name=\"circulation\"/>\n{author}\n<FRBRcountry value=\"xx\"/>",
        w = esc(&work)
    );
    if !view.symbol.is_empty() {
        let _ = writeln!(out, "<FRBRnumber value=\"{}\"/>", esc(&view.symbol));
    }
    if !negotiation_title.is_empty() {
        let _ = writeln!(out, "<FRBRname value=\"{}\"/>", esc(negotiation_title));
    }
    out.push_str("</FRBRWork>\n");
    let _ = writeln!(
        out,
        "<FRBRExpression>\n<FRBRthis value=\"{e}/!main\"/>\n<FRBRuri value=\"{e}\"/>\n\
         <FRBRdate date=\"{date}\" name=\"circulation\"/>\n{author}",
        e = esc(&expression)
    );
    if !view.label.is_empty() {
        let _ = writeln!(out, "<FRBRversionNumber value=\"{}\"/>", esc(&view.label));
    }
    let _ = writeln!(
        out,
        "<FRBRlanguage language=\"{}\"/>\n</FRBRExpression>",
        esc(&view.language)
    );
    let _ = writeln!(
        out,
        "<FRBRManifestation>\n<FRBRthis value=\"{e}/!main.xml\"/>\n<FRBRuri value=\"{e}.akn\"/>\n\
         <FRBRdate date=\"{date}\" name=\"generation\"/>\n{author}\n\
         <FRBRformat value=\"application/akn+xml\"/>\n</FRBRManifestation>",
        e = esc(&expression)
    );
    out.push_str("</identification>\n<references source=\"#entente\">\n");
    out.push_str(
        "<TLCOrganization eId=\"entente\" href=\"/ontology/organization/entente\" showAs=\"Entente\"/>\n",
    );
    if !negotiation_title.is_empty() {
        let _ = writeln!(
            out,
            "<TLCEvent eId=\"negotiation\" href=\"/ontology/event/entente/negotiation\" showAs=\"{}\"/>",
            esc(negotiation_title)
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for b in view.paragraphs.iter().flat_map(|p| &p.brackets) {
        if !seen.insert(b.id) {
            continue;
        }
        let reason = if b.reason.trim().is_empty() {
            "bracket"
        } else {
            b.reason.as_str()
        };
        let _ = writeln!(
            out,
            "<TLCConcept eId=\"bracket_{id}\" href=\"/ontology/concept/entente/bracket/{id}\" showAs=\"{}\"/>",
            esc(reason),
            id = b.id.to_hex()
        );
    }
    out.push_str("</references>\n</meta>\n");
    out
}

fn paragraph_attrs(p: &ParagraphView) -> String {
    let mut class = super::status_slug(p.status);
    if p.stale_translation {
        class.push_str(" stale-translation");
    }
    format!(
        " eId=\"{}\" class=\"{}\"",
        esc(&akn_eid(&p.id)),
        esc(&class)
    )
}

/// The paragraph's text, escaped, with its open brackets as inlines.
fn text(p: &ParagraphView) -> String {
    let l = layout(p);
    let mut out = String::new();
    for piece in &l.pieces {
        match piece {
            Piece::Text(t) => out.push_str(&esc(t)),
            Piece::Words { bracket, options } => {
                let escaped: Vec<String> = options.iter().map(|o| esc(o)).collect();
                out.push_str(&bracket_inline(&[*bracket], &escaped));
            }
        }
    }
    match &l.whole {
        None => out,
        Some(w) => {
            let options: Vec<String> = std::iter::once(out)
                .chain(w.alternatives.iter().map(|o| esc(o)))
                .collect();
            bracket_inline(&w.brackets, &options)
        }
    }
}

/// A bracket of already escaped options.
fn bracket_inline(ids: &[entente_protocol::EventId], options: &[String]) -> String {
    let refs: Vec<String> = ids
        .iter()
        .map(|id| format!("#bracket_{}", id.to_hex()))
        .collect();
    let mut out = format!("<inline name=\"bracket\" refersTo=\"{}\">", refs.join(" "));
    for o in options {
        if o.is_empty() {
            out.push_str("<inline name=\"option\" class=\"delete\"/>");
        } else {
            let _ = write!(out, "<inline name=\"option\">{o}</inline>");
        }
    }
    out.push_str("</inline>");
    out
}

/// The language as the naming convention writes it in URIs: ISO 639-2 for the six UN
/// languages, the BCP 47 tag in lower case for any other.
fn uri_language(tag: &str) -> String {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or(tag)
        .to_ascii_lowercase();
    let three = match primary.as_str() {
        "ar" => "ara",
        "en" => "eng",
        "es" => "spa",
        "fr" => "fra",
        "ru" => "rus",
        "zh" => "zho",
        _ => return tag.to_ascii_lowercase(),
    };
    three.to_string()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn uri_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::fixtures::{bracket, event, paragraph, resolution, view};
    use entente_protocol::drafting::ParagraphStatus;
    use roxmltree::{Document, NS_XML_URI, Node};

    fn elements_with_eid<'a>(doc: &'a Document<'a>, eid: &str) -> Vec<Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| n.attribute("eId") == Some(eid))
            .collect()
    }

    fn options<'a, 'i>(bracket: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
        bracket
            .children()
            .filter(|n| n.attribute("name") == Some("option"))
            .collect()
    }

    #[test]
    fn the_root_is_akoma_ntoso_in_the_akn_3_0_namespace() {
        let xml = akoma_ntoso(&resolution("en"), "Ocean governance", "2026-05-04");
        let doc = Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "akomaNtoso");
        assert_eq!(root.tag_name().namespace(), Some(AKN_NAMESPACE));
        let statement = root.first_element_child().unwrap();
        assert_eq!(statement.tag_name().name(), "statement");
        assert_eq!(statement.attribute("name"), Some("resolution"));
        assert!(
            doc.descendants()
                .all(|n| !n.is_element() || n.tag_name().namespace() == Some(AKN_NAMESPACE))
        );
    }

    #[test]
    fn every_paragraph_is_one_element_with_its_eid_in_english_french_and_arabic() {
        for lang in ["en", "fr", "ar"] {
            let v = resolution(lang);
            let xml = akoma_ntoso(&v, "Ocean governance", "2026-05-04T10:00:00Z");
            let doc = Document::parse(&xml).unwrap_or_else(|e| panic!("{lang}: {e}\n{xml}"));
            for p in &v.paragraphs {
                let found = elements_with_eid(&doc, &akn_eid(&p.id));
                assert_eq!(found.len(), 1, "{lang} {}", p.id);
                let e = found[0];
                let expected = match (p.part, p.level) {
                    (Part::Preamble, _) => "recital",
                    (Part::Operative, 0) => "paragraph",
                    (Part::Operative, _) => "subparagraph",
                };
                assert_eq!(e.tag_name().name(), expected);
                let num = e.first_element_child().unwrap();
                assert_eq!(
                    (num.tag_name().name(), num.text()),
                    ("num", Some(p.id.as_str()))
                );
                let body: String = e
                    .descendants()
                    .filter(|n| n.has_tag_name("p"))
                    .flat_map(|n| n.text())
                    .collect();
                assert_eq!(body, p.text);
            }
            let main = doc
                .descendants()
                .find(|n| n.has_tag_name("mainBody"))
                .unwrap();
            assert_eq!(main.attribute((NS_XML_URI, "lang")), Some(lang));
            let language = doc
                .descendants()
                .find(|n| n.has_tag_name("FRBRlanguage"))
                .unwrap();
            assert_eq!(language.attribute("language"), Some(lang));
            let title = doc
                .descendants()
                .find(|n| n.has_tag_name("docTitle"))
                .unwrap();
            assert_eq!(title.text(), Some(v.title.as_str()));
            let number = doc
                .descendants()
                .find(|n| n.has_tag_name("docNumber"))
                .unwrap();
            assert_eq!(number.text(), Some("A/CONF.1/L.3/Rev.1"));
        }
    }

    #[test]
    fn the_meta_block_identifies_the_text_and_its_source() {
        let xml = akoma_ntoso(&resolution("fr"), "Ocean governance", "2026-05-04");
        let doc = Document::parse(&xml).unwrap();
        let id = doc
            .descendants()
            .find(|n| n.has_tag_name("identification"))
            .unwrap();
        assert_eq!(id.attribute("source"), Some("#entente"));
        let levels: Vec<&str> = id
            .children()
            .filter(Node::is_element)
            .map(|n| n.tag_name().name())
            .collect();
        assert_eq!(levels, ["FRBRWork", "FRBRExpression", "FRBRManifestation"]);
        let expression_uri = doc
            .descendants()
            .filter(|n| n.has_tag_name("FRBRuri"))
            .nth(1)
            .and_then(|n| n.attribute("value"))
            .unwrap();
        assert_eq!(
            expression_uri,
            format!(
                "/akn/xx/statement/resolution/entente/2026-05-04/A%2FCONF.1%2FL.3%2FRev.1/fra@{}",
                event(9).short()
            )
        );
        let org = doc
            .descendants()
            .find(|n| n.has_tag_name("TLCOrganization"))
            .unwrap();
        assert_eq!(org.attribute("eId"), Some("entente"));
        assert_eq!(
            org.attribute("href"),
            Some("/ontology/organization/entente")
        );
        assert_eq!(org.attribute("showAs"), Some("Entente"));
    }

    #[test]
    fn the_eid_mapping_is_the_documented_one_and_can_be_read_back() {
        assert_eq!(akn_eid("PP1"), "pp_1");
        assert_eq!(akn_eid("OP3"), "op_3");
        assert_eq!(akn_eid("OP3.a"), "op_3__subpara_a");
        assert_eq!(akn_eid("OP3.a.i"), "op_3__subpara_a__subpara_i");
        assert_eq!(akn_eid("OP7-alt"), "op_7-alt");
        let back = |eid: &str| {
            let (prefix, rest) = eid.split_at(3);
            format!(
                "{}{}",
                prefix[..2].to_uppercase(),
                rest.replace("__subpara_", ".")
            )
        };
        let ids = [
            "PP1",
            "OP1",
            "PP10",
            "OP1.a",
            "OP1.A",
            "OP1a",
            "OP1-a",
            "OP1.a.i",
            "OP1..a",
            "OP1.1",
            "OP11",
            "OP1.a-alt",
            "OP1-alt.a",
            "PP1.a",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for id in ids {
            assert!(entente_protocol::text::valid_paragraph_id(id), "{id}");
            let eid = akn_eid(id);
            assert_eq!(back(&eid), id);
            assert!(!eid.contains(char::is_whitespace));
            assert!(seen.insert(eid), "{id}");
        }
    }

    #[test]
    fn hostile_text_is_escaped_in_xml() {
        let hostile = "<evil attr=\"x\"> & 'q' ]]> \u{1}";
        let mut p = paragraph("OP1", hostile);
        p.brackets = vec![bracket(1, "&", &["&", "<and>"], hostile)];
        p.status = ParagraphStatus::Bracketed;
        let mut v = view(hostile, hostile, vec![paragraph("PP1", hostile), p]);
        v.symbol = hostile.into();
        v.label = hostile.into();
        let xml = akoma_ntoso(&v, hostile, "2026-05-04");
        let doc = Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(doc.descendants().all(|n| !n.has_tag_name("evil")));
        let cleaned = hostile.replace('\u{1}', "\u{fffd}");
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("docTitle"))
            .unwrap();
        assert_eq!(title.text(), Some(cleaned.as_str()));
        let pp = elements_with_eid(&doc, "pp_1")[0];
        assert_eq!(
            pp.descendants()
                .find(|n| n.has_tag_name("p"))
                .unwrap()
                .text(),
            Some(cleaned.as_str())
        );
        let concept = doc
            .descendants()
            .find(|n| n.has_tag_name("TLCConcept"))
            .unwrap();
        assert_eq!(concept.attribute("showAs"), Some(cleaned.as_str()));
    }

    #[test]
    fn brackets_are_inlines_whose_options_and_reasons_can_be_found() {
        let original = "Decides to convene a conference in Geneva;";
        let mut p = paragraph("OP1", original);
        p.status = ParagraphStatus::Bracketed;
        let mut conflict = bracket(
            2,
            "",
            &[original, "Decides to meet in Nairobi;", ""],
            "conflicting amendments",
        );
        conflict.amendments = vec![event(2), event(3)];
        p.brackets = vec![
            bracket(1, "in Geneva", &["in Geneva", "in Nairobi"], "venue"),
            conflict,
        ];
        let xml = akoma_ntoso(&view("en", "T", vec![p]), "N", "2026-05-04");
        let doc = Document::parse(&xml).unwrap();
        let brackets: Vec<Node> = doc
            .descendants()
            .filter(|n| n.has_tag_name("inline") && n.attribute("name") == Some("bracket"))
            .collect();
        assert_eq!(brackets.len(), 2);
        for b in &brackets {
            let target = b.attribute("refersTo").unwrap().trim_start_matches('#');
            let concept = elements_with_eid(&doc, target);
            assert_eq!(concept.len(), 1);
            assert_eq!(concept[0].tag_name().name(), "TLCConcept");
        }
        // The whole-paragraph bracket encloses the text, with the bracket on words inside its
        // first option.
        let whole = options(brackets[0]);
        assert_eq!(whole.len(), 3);
        assert_eq!(
            whole[0].first_child().unwrap().text(),
            Some("Decides to convene a conference ")
        );
        assert_eq!(
            whole[0]
                .descendants()
                .filter(|n| n.attribute("name") == Some("bracket"))
                .count(),
            1
        );
        assert_eq!(whole[1].text(), Some("Decides to meet in Nairobi;"));
        assert_eq!(whole[2].attribute("class"), Some("delete"));
        let words: Vec<_> = options(brackets[1]).iter().map(|n| n.text()).collect();
        assert_eq!(words, [Some("in Geneva"), Some("in Nairobi")]);
        let e = elements_with_eid(&doc, "op_1")[0];
        assert_eq!(e.attribute("class"), Some("bracketed"));
    }
}
