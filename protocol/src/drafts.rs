//! What delegations say about a text: revisions, amendments, brackets, positions, statements and
//! paragraph marks. These are content: they travel sealed in the plenary channel, so only members
//! read them (SPEC.md, "Drafting").

use std::str::FromStr;

use crate::cbor::{CborError, Dec, Enc};
use crate::ids::EventId;
use crate::text::{Document, MAX_PARAGRAPH_ID_BYTES, TextError};

pub const MAX_LABEL_BYTES: usize = 128;
pub const MAX_OPTIONS: usize = 32;
pub const MAX_VERSIONS: usize = crate::body::MAX_LANGUAGES;
pub const MAX_BLOB_PARTS: usize = 1024;
/// A blob part is sealed like any event, so it must fit in one (with room for the header).
pub const MAX_BLOB_PART_BYTES: usize = 48 * 1024;

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::cbor::CborError;
            fn from_str(s: &str) -> Result<Self, $crate::cbor::CborError> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err($crate::cbor::CborError {
                        at: 0,
                        what: format!(
                            "unknown {} {s:?} (expected one of: {})",
                            $what,
                            [$($word),+].join(", ")
                        ),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use word_enum;

word_enum!(
    /// What an amendment does to a paragraph.
    AmendOp, "amendment operation" {
        Replace = "replace",
        InsertAfter = "insert-after",
        Delete = "delete",
    }
);

word_enum!(
    /// A delegation's stance on an amendment or a paragraph.
    Stance, "stance" {
        Support = "support",
        CanLiveWith = "can-live-with",
        Object = "object",
        Reserve = "reserve",
    }
);

word_enum!(
    /// Statements attached to the record.
    StatementKind, "statement kind" {
        ExplanationOfPosition = "explanation-of-position",
        Reservation = "reservation",
        Interpretative = "interpretative",
        General = "general",
    }
);

word_enum!(
    /// What the room says about a paragraph: `discussed` and `agreed` by the chair (agreement
    /// is provisional until the package is adopted); `ad-referendum` by a delegation that agrees
    /// pending its capital, which later `confirmed` or `withdrawn`.
    MarkKind, "paragraph mark" {
        Discussed = "discussed",
        Agreed = "agreed",
        AdReferendum = "ad-referendum",
        Confirmed = "confirmed",
        Withdrawn = "withdrawn",
    }
);

/// One language version of a revision; `sources[i]` is the paragraph hash of the working-language
/// paragraph that paragraph `i` translates (`None` in the working language itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub document: Document,
    pub sources: Vec<Option<[u8; 32]>>,
}

/// Where a revision's language versions are: in the event, or in sealed blob events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextContent {
    Inline(Vec<Version>),
    /// The versions' encoding (`encode_versions`) split across blob events, in order, with the
    /// SHA-256 of the whole.
    Blobs {
        parts: Vec<EventId>,
        sha256: [u8; 32],
    },
}

/// Content about the text, sealed in the plenary channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    /// The chair or a pen-holder circulates a revision: an immutable snapshot.
    Revision {
        /// "zero draft", "Rev.1", "chair's text".
        label: String,
        /// The revision this one follows, if any.
        supersedes: Option<EventId>,
        content: TextContent,
    },
    /// A part of a large text.
    Blob {
        data: Vec<u8>,
    },
    Amendment {
        revision: EventId,
        paragraph: String,
        op: AmendOp,
        /// The id of the inserted paragraph (insert-after only, else empty).
        new_id: String,
        /// The proposed text (empty for delete), in the working language.
        text: String,
        justification: String,
    },
    Bracket {
        revision: EventId,
        paragraph: String,
        /// The bracketed words; empty brackets the whole paragraph.
        span: String,
        options: Vec<String>,
        reason: String,
    },
    BracketOption {
        bracket: EventId,
        text: String,
    },
    /// Resolves a bracket to one of its options (by its text).
    BracketResolve {
        bracket: EventId,
        choice: String,
    },
    Position {
        /// An amendment, or a revision when `paragraph` names one of its paragraphs.
        target: EventId,
        paragraph: String,
        stance: Stance,
        note: String,
    },
    Statement {
        kind: StatementKind,
        /// A revision, an amendment or an adoption.
        target: EventId,
        paragraph: String,
        text: String,
    },
    Mark {
        revision: EventId,
        paragraph: String,
        mark: MarkKind,
    },
}

pub mod kind {
    pub const REVISION: &str = "revision";
    pub const BLOB: &str = "blob";
    pub const AMENDMENT: &str = "amendment";
    pub const BRACKET: &str = "bracket";
    pub const BRACKET_OPTION: &str = "bracket-option";
    pub const BRACKET_RESOLVE: &str = "bracket-resolve";
    pub const POSITION: &str = "position";
    pub const STATEMENT: &str = "statement";
    pub const MARK: &str = "mark";
    pub const ALL: &[&str] = &[
        REVISION,
        BLOB,
        AMENDMENT,
        BRACKET,
        BRACKET_OPTION,
        BRACKET_RESOLVE,
        POSITION,
        STATEMENT,
        MARK,
    ];
}

const MAX_TEXT: usize = crate::event::MAX_EVENT_BYTES;
const MAX_REASON: usize = crate::body::MAX_REASON_BYTES;

fn event_id(d: &mut Dec<'_>, field: &str) -> Result<EventId, CborError> {
    d.bytes32(field).map(EventId)
}

fn opt_event_id(d: &mut Dec<'_>, field: &str) -> Result<Option<EventId>, CborError> {
    Ok(d.opt_bytes32(field)?.map(EventId))
}

fn paragraph_id(d: &mut Dec<'_>, field: &str) -> Result<String, CborError> {
    d.str(field, MAX_PARAGRAPH_ID_BYTES)
}

fn word<T: FromStr<Err = CborError>>(d: &mut Dec<'_>, field: &str) -> Result<T, CborError> {
    d.str(field, 64)?.parse()
}

/// Encodes language versions (inline in a revision, or as the bytes blobs carry).
pub fn encode_versions(versions: &[Version]) -> Vec<u8> {
    let mut e = Enc::new();
    versions_into(&mut e, versions);
    e.finish()
}

fn versions_into(e: &mut Enc, versions: &[Version]) {
    e.array(versions.len());
    for v in versions {
        e.array(2);
        v.document.encode_into(e);
        e.array(v.sources.len());
        for s in &v.sources {
            match s {
                Some(h) => e.bytes(h),
                None => e.null(),
            };
        }
    }
}

fn decode_versions_from(d: &mut Dec<'_>) -> Result<Vec<Version>, TextError> {
    let n = d.array_len("versions", MAX_VERSIONS)?;
    let mut versions = Vec::with_capacity(n);
    for _ in 0..n {
        d.array("version", 2)?;
        let document = Document::decode(d)?;
        let m = d.array_len("sources", crate::text::MAX_PARAGRAPHS)?;
        if m != document.paragraphs.len() {
            return Err(CborError {
                at: 0,
                what: "a version needs one source entry per paragraph".into(),
            }
            .into());
        }
        let sources = (0..m)
            .map(|_| d.opt_bytes32("source"))
            .collect::<Result<Vec<_>, _>>()?;
        versions.push(Version { document, sources });
    }
    Ok(versions)
}

/// Decodes what `encode_versions` wrote (from blobs put back together).
pub fn decode_versions(bytes: &[u8]) -> Result<Vec<Version>, TextError> {
    crate::cbor::decode_canonical(bytes, decode_versions_from, |v| encode_versions(v))
}

impl Draft {
    pub fn kind(&self) -> &'static str {
        match self {
            Draft::Revision { .. } => kind::REVISION,
            Draft::Blob { .. } => kind::BLOB,
            Draft::Amendment { .. } => kind::AMENDMENT,
            Draft::Bracket { .. } => kind::BRACKET,
            Draft::BracketOption { .. } => kind::BRACKET_OPTION,
            Draft::BracketResolve { .. } => kind::BRACKET_RESOLVE,
            Draft::Position { .. } => kind::POSITION,
            Draft::Statement { .. } => kind::STATEMENT,
            Draft::Mark { .. } => kind::MARK,
        }
    }

    pub(crate) fn encode_into(&self, e: &mut Enc) {
        match self {
            Draft::Revision {
                label,
                supersedes,
                content,
            } => {
                e.array(3).str(label);
                match supersedes {
                    Some(id) => e.bytes(id.as_bytes()),
                    None => e.null(),
                };
                match content {
                    TextContent::Inline(versions) => {
                        e.array(2).u64(0);
                        versions_into(e, versions);
                    }
                    TextContent::Blobs { parts, sha256 } => {
                        e.array(3).u64(1).array(parts.len());
                        for p in parts {
                            e.bytes(p.as_bytes());
                        }
                        e.bytes(sha256);
                    }
                }
            }
            Draft::Blob { data } => {
                e.array(1).bytes(data);
            }
            Draft::Amendment {
                revision,
                paragraph,
                op,
                new_id,
                text,
                justification,
            } => {
                e.array(6)
                    .bytes(revision.as_bytes())
                    .str(paragraph)
                    .str(op.as_str())
                    .str(new_id)
                    .str(text)
                    .str(justification);
            }
            Draft::Bracket {
                revision,
                paragraph,
                span,
                options,
                reason,
            } => {
                e.array(5)
                    .bytes(revision.as_bytes())
                    .str(paragraph)
                    .str(span)
                    .strs(options)
                    .str(reason);
            }
            Draft::BracketOption { bracket, text } => {
                e.array(2).bytes(bracket.as_bytes()).str(text);
            }
            Draft::BracketResolve { bracket, choice } => {
                e.array(2).bytes(bracket.as_bytes()).str(choice);
            }
            Draft::Position {
                target,
                paragraph,
                stance,
                note,
            } => {
                e.array(4)
                    .bytes(target.as_bytes())
                    .str(paragraph)
                    .str(stance.as_str())
                    .str(note);
            }
            Draft::Statement {
                kind,
                target,
                paragraph,
                text,
            } => {
                e.array(4)
                    .str(kind.as_str())
                    .bytes(target.as_bytes())
                    .str(paragraph)
                    .str(text);
            }
            Draft::Mark {
                revision,
                paragraph,
                mark,
            } => {
                e.array(3)
                    .bytes(revision.as_bytes())
                    .str(paragraph)
                    .str(mark.as_str());
            }
        }
    }

    pub(crate) fn decode_kind(kind: &str, d: &mut Dec<'_>) -> Result<Option<Self>, TextError> {
        let draft = match kind {
            kind::REVISION => {
                d.array("revision", 3)?;
                let label = d.str("label", MAX_LABEL_BYTES)?;
                let supersedes = opt_event_id(d, "supersedes")?;
                let n = d.array_len("content", 3)?;
                let content = match (n, d.u64("content form")?) {
                    (2, 0) => TextContent::Inline(decode_versions_from(d)?),
                    (3, 1) => {
                        let m = d.array_len("parts", MAX_BLOB_PARTS)?;
                        let parts = (0..m)
                            .map(|_| event_id(d, "part"))
                            .collect::<Result<Vec<_>, _>>()?;
                        TextContent::Blobs {
                            parts,
                            sha256: d.bytes32("sha256")?,
                        }
                    }
                    _ => {
                        return Err(CborError {
                            at: 0,
                            what: "content: expected [0, versions] or [1, parts, sha256]".into(),
                        }
                        .into());
                    }
                };
                Draft::Revision {
                    label,
                    supersedes,
                    content,
                }
            }
            kind::BLOB => {
                d.array("blob", 1)?;
                Draft::Blob {
                    data: d.bytes("data", MAX_BLOB_PART_BYTES)?.to_vec(),
                }
            }
            kind::AMENDMENT => {
                d.array("amendment", 6)?;
                Draft::Amendment {
                    revision: event_id(d, "revision")?,
                    paragraph: paragraph_id(d, "paragraph")?,
                    op: word(d, "op")?,
                    new_id: paragraph_id(d, "new_id")?,
                    text: d.str("text", MAX_TEXT)?,
                    justification: d.str("justification", MAX_TEXT)?,
                }
            }
            kind::BRACKET => {
                d.array("bracket", 5)?;
                Draft::Bracket {
                    revision: event_id(d, "revision")?,
                    paragraph: paragraph_id(d, "paragraph")?,
                    span: d.str("span", MAX_TEXT)?,
                    options: d.strs("options", MAX_OPTIONS, MAX_TEXT)?,
                    reason: d.str("reason", MAX_REASON)?,
                }
            }
            kind::BRACKET_OPTION => {
                d.array("bracket-option", 2)?;
                Draft::BracketOption {
                    bracket: event_id(d, "bracket")?,
                    text: d.str("text", MAX_TEXT)?,
                }
            }
            kind::BRACKET_RESOLVE => {
                d.array("bracket-resolve", 2)?;
                Draft::BracketResolve {
                    bracket: event_id(d, "bracket")?,
                    choice: d.str("choice", MAX_TEXT)?,
                }
            }
            kind::POSITION => {
                d.array("position", 4)?;
                Draft::Position {
                    target: event_id(d, "target")?,
                    paragraph: paragraph_id(d, "paragraph")?,
                    stance: word(d, "stance")?,
                    note: d.str("note", MAX_TEXT)?,
                }
            }
            kind::STATEMENT => {
                d.array("statement", 4)?;
                Draft::Statement {
                    kind: word(d, "kind")?,
                    target: event_id(d, "target")?,
                    paragraph: paragraph_id(d, "paragraph")?,
                    text: d.str("text", MAX_TEXT)?,
                }
            }
            kind::MARK => {
                d.array("mark", 3)?;
                Draft::Mark {
                    revision: event_id(d, "revision")?,
                    paragraph: paragraph_id(d, "paragraph")?,
                    mark: word(d, "mark")?,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(draft))
    }
}
