//! Negotiated texts: preambular (PP) and operative (OP) paragraphs with stable ids, one document
//! per language, their deterministic encoding and hash, and the plain-text convention delegates
//! write them in (SPEC.md, "Texts").

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cbor::{CborError, Dec, Enc};

pub const TEXT_DOMAIN: &[u8] = b"entente/text/v1\0";
pub const MAX_PARAGRAPHS: usize = 4096;
pub const MAX_PARAGRAPH_ID_BYTES: usize = 32;
pub const MAX_SYMBOL_BYTES: usize = 128;

/// Why a text could not be read or is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("line {line}: {what}")]
    Syntax { line: usize, what: String },
    #[error(
        "paragraph id {0:?} is not valid: it starts with PP or OP, then a number, then optionally \
         sub-paragraph parts such as .a or .1 and a suffix such as -alt (letters, digits, '.', '-')"
    )]
    BadParagraphId(String),
    #[error("paragraph id {0} appears twice")]
    DuplicateParagraph(String),
    #[error("paragraph {0} is empty")]
    EmptyParagraph(String),
    #[error("paragraph {0} contains a blank line (a paragraph is one block of text)")]
    BlankLineInParagraph(String),
    #[error("the text has no paragraphs")]
    NoParagraphs,
    #[error(
        "the symbol or title is too long, contains a line break, or starts or ends with a space"
    )]
    BadMetadata,
    #[error("{0}")]
    Cbor(#[from] CborError),
}

/// Where a paragraph stands in a resolution or decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// Preambular: "Recalling...", "Noting...".
    Preamble,
    /// Operative: "Decides...", "Requests...".
    Operative,
}

/// One paragraph: its stable id (`PP1`, `OP3`, `OP3.a`, `OP7-alt`) and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paragraph {
    pub id: String,
    pub text: String,
}

impl Paragraph {
    pub fn part(&self) -> Part {
        if self.id.starts_with("PP") {
            Part::Preamble
        } else {
            Part::Operative
        }
    }

    /// Nesting depth: `OP3` is 0, `OP3.a` is 1, `OP3.a.i` is 2.
    pub fn level(&self) -> usize {
        self.id.matches('.').count()
    }
}

/// A text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// BCP 47 tag: `en`, `fr`, `ar`.
    pub language: String,
    /// Document symbol, e.g. `A/CONF.1/L.3/Rev.1`; may be empty.
    pub symbol: String,
    pub title: String,
    pub paragraphs: Vec<Paragraph>,
}

/// Whether `id` is a paragraph id: `PP` or `OP`, digits, then letters, digits, `.` and `-`.
pub fn valid_paragraph_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("PP").or_else(|| id.strip_prefix("OP")) else {
        return false;
    };
    id.len() <= MAX_PARAGRAPH_ID_BYTES
        && rest.starts_with(|c: char| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !rest.ends_with(['.', '-'])
}

impl Document {
    pub fn paragraph(&self, id: &str) -> Option<&Paragraph> {
        self.paragraphs.iter().find(|p| p.id == id)
    }

    /// Checks the rules every circulated text keeps (SPEC.md, "Texts").
    pub fn validate(&self) -> Result<(), TextError> {
        if self.symbol.len() > MAX_SYMBOL_BYTES
            || self.title.len() > crate::body::MAX_TITLE_BYTES
            || [&self.symbol, &self.title]
                .iter()
                .any(|t| t.contains(['\n', '\r']) || t.trim() != t.as_str())
        {
            return Err(TextError::BadMetadata);
        }
        if self.paragraphs.is_empty() {
            return Err(TextError::NoParagraphs);
        }
        let mut seen = BTreeSet::new();
        for p in &self.paragraphs {
            if !valid_paragraph_id(&p.id) {
                return Err(TextError::BadParagraphId(p.id.clone()));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(TextError::DuplicateParagraph(p.id.clone()));
            }
            check_paragraph_text(&p.id, &p.text)?;
        }
        Ok(())
    }

    pub(crate) fn encode_into(&self, e: &mut Enc) {
        e.array(4)
            .str(&self.language)
            .str(&self.symbol)
            .str(&self.title)
            .array(self.paragraphs.len());
        for p in &self.paragraphs {
            e.array(2).str(&p.id).str(&p.text);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        self.encode_into(&mut e);
        e.finish()
    }

    pub(crate) fn decode(d: &mut Dec<'_>) -> Result<Self, TextError> {
        d.array("document", 4)?;
        let language = d.str("language", crate::body::MAX_LANGUAGE_TAG_BYTES)?;
        let symbol = d.str("symbol", MAX_SYMBOL_BYTES)?;
        let title = d.str("title", crate::body::MAX_TITLE_BYTES)?;
        let n = d.array_len("paragraphs", MAX_PARAGRAPHS)?;
        let mut paragraphs = Vec::with_capacity(n.min(256));
        for _ in 0..n {
            d.array("paragraph", 2)?;
            paragraphs.push(Paragraph {
                id: d.str("id", MAX_PARAGRAPH_ID_BYTES)?,
                text: d.str("text", usize::MAX)?,
            });
        }
        let doc = Self {
            language,
            symbol,
            title,
            paragraphs,
        };
        doc.validate()?;
        Ok(doc)
    }

    /// The hash delegations sign: SHA-256 over a domain tag and the document's encoding.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(TEXT_DOMAIN)
            .chain_update(self.encode())
            .finalize()
            .into()
    }

    /// Parses the plain-text convention (SPEC.md, "Texts"):
    ///
    /// ```text
    /// symbol: A/CONF.1/L.3
    /// title: Draft resolution on ocean governance
    ///
    /// [PP1] Recalling its resolution 70/1,
    /// [OP1] Decides to convene a conference;
    /// [OP1.a] in 2027;
    /// ```
    ///
    /// Header lines (`symbol:`, `title:`) come before the first paragraph; a paragraph starts
    /// with `[ID]` at the start of a line and runs until a blank line or the next paragraph;
    /// lines starting with `#` before the first paragraph are comments.
    pub fn parse(language: &str, source: &str) -> Result<Self, TextError> {
        let mut doc = Document {
            language: language.to_string(),
            symbol: String::new(),
            title: String::new(),
            paragraphs: Vec::new(),
        };
        let mut open = false;
        for (n, raw) in source.lines().enumerate() {
            let line_no = n + 1;
            let line = raw.trim_end();
            // A byte-order mark can only start the file.
            let line = if n == 0 {
                line.strip_prefix('\u{feff}').unwrap_or(line)
            } else {
                line
            };
            if line.trim().is_empty() {
                open = false;
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some((id, text)) = rest.split_once(']') else {
                    return Err(TextError::Syntax {
                        line: line_no,
                        what: "a paragraph marker opens with '[' but has no ']'".into(),
                    });
                };
                if !valid_paragraph_id(id) {
                    return Err(TextError::BadParagraphId(id.to_string()));
                }
                doc.paragraphs.push(Paragraph {
                    id: id.to_string(),
                    text: text.trim().to_string(),
                });
                open = true;
                continue;
            }
            if open {
                if let Some(p) = doc.paragraphs.last_mut() {
                    p.text.push('\n');
                    p.text.push_str(line.trim());
                }
                continue;
            }
            if !doc.paragraphs.is_empty() {
                return Err(TextError::Syntax {
                    line: line_no,
                    what: "text after a blank line must start a paragraph with [ID]".into(),
                });
            }
            if line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((key, value)) if key.trim() == "symbol" => {
                    doc.symbol = value.trim().to_string()
                }
                Some((key, value)) if key.trim() == "title" => doc.title = value.trim().to_string(),
                _ => {
                    return Err(TextError::Syntax {
                        line: line_no,
                        what: "expected 'symbol: …', 'title: …' or a paragraph starting with [PP1] or [OP1]"
                            .into(),
                    });
                }
            }
        }
        doc.validate()?;
        Ok(doc)
    }

    /// Writes the plain-text convention back: `parse(render(d)) == d` for every valid document.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if !self.symbol.is_empty() {
            out.push_str(&format!("symbol: {}\n", self.symbol));
        }
        if !self.title.is_empty() {
            out.push_str(&format!("title: {}\n", self.title));
        }
        for p in &self.paragraphs {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("[{}] {}\n", p.id, p.text));
        }
        out
    }
}

/// A paragraph's text must survive the plain-text convention unchanged.
pub fn check_paragraph_text(id: &str, text: &str) -> Result<(), TextError> {
    if text.trim().is_empty() {
        return Err(TextError::EmptyParagraph(id.to_string()));
    }
    if text != text.trim() || text.lines().any(|l| l != l.trim()) {
        return Err(TextError::Syntax {
            line: 0,
            what: format!("paragraph {id} has leading or trailing spaces"),
        });
    }
    if text.lines().any(|l| l.is_empty()) || text.contains('\r') {
        return Err(TextError::BlankLineInParagraph(id.to_string()));
    }
    if text.lines().skip(1).any(|l| l.starts_with('[')) {
        return Err(TextError::Syntax {
            line: 0,
            what: format!(
                "a line of paragraph {id} starts with '[' and would read as a new paragraph"
            ),
        });
    }
    Ok(())
}

/// Hash of one paragraph's text: what a translation records as its source.
pub fn paragraph_hash(text: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"entente/paragraph/v1\0")
        .chain_update(text.as_bytes())
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "symbol: A/CONF.1/L.3\ntitle: Ocean governance\n\n[PP1] Recalling its resolution 70/1,\n\n[OP1] Decides to convene\na conference;\n[OP1.a] in 2027;\n";

    #[test]
    fn the_plain_text_convention_round_trips() {
        let d = Document::parse("en", SAMPLE).unwrap();
        assert_eq!(d.symbol, "A/CONF.1/L.3");
        assert_eq!(d.paragraphs.len(), 3);
        assert_eq!(d.paragraphs[1].text, "Decides to convene\na conference;");
        assert_eq!(d.paragraphs[2].level(), 1);
        assert_eq!(d.paragraphs[0].part(), Part::Preamble);
        assert_eq!(Document::parse("en", &d.render()).unwrap(), d);
    }

    #[test]
    fn arabic_and_french_paragraphs_keep_their_bytes() {
        let src = "title: حوكمة المحيطات\n\n[PP1] إذ تشير إلى قرارها ٧٠/١،\n[OP1] Décide de convoquer une conférence à Genève ;\n";
        let d = Document::parse("ar", src).unwrap();
        assert_eq!(d.title, "حوكمة المحيطات");
        assert_eq!(Document::parse("ar", &d.render()).unwrap(), d);
        let bytes = d.encode();
        let mut dec = Dec::new(&bytes);
        assert_eq!(Document::decode(&mut dec).unwrap(), d);
    }

    #[test]
    fn malformed_texts_are_rejected_with_the_reason() {
        assert!(matches!(
            Document::parse("en", "[XP1] nope"),
            Err(TextError::BadParagraphId(_))
        ));
        assert!(matches!(
            Document::parse("en", "[OP1] a\n[OP1] b"),
            Err(TextError::DuplicateParagraph(_))
        ));
        assert!(matches!(
            Document::parse("en", "[OP1] a\n\nstray"),
            Err(TextError::Syntax { line: 3, .. })
        ));
        assert!(matches!(
            Document::parse("en", "title: x"),
            Err(TextError::NoParagraphs)
        ));
        assert!(matches!(
            Document::parse("en", "[OP1]"),
            Err(TextError::EmptyParagraph(_))
        ));
    }

    #[test]
    fn the_hash_depends_on_every_word_and_the_language() {
        let d = Document::parse("en", SAMPLE).unwrap();
        let mut other = d.clone();
        other.paragraphs[2].text = "in 2028;".into();
        assert_ne!(d.hash(), other.hash());
        let mut fr = d.clone();
        fr.language = "fr".into();
        assert_ne!(d.hash(), fr.hash());
    }
}
