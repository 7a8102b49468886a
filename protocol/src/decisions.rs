//! Procedural events: who holds the pen, silence procedures, objections, adoption and
//! signatures. They travel unencrypted in the governance channel and carry only event ids and
//! text hashes, so that a monitor without keys can verify the decisions (SPEC.md, "Decisions").

use std::collections::BTreeMap;

use crate::cbor::{CborError, Dec, Enc};
use crate::drafts::word_enum;
use crate::ids::{DelegationId, EventId};

/// Text hash per language tag.
pub type TextHashes = BTreeMap<String, [u8; 32]>;

word_enum!(
    /// Why a delegation breaks silence.
    Grounds, "grounds" {
        Objection = "objection",
        Amendment = "amendment",
    }
);

word_enum!(
    /// How a delegation authenticates an adopted text.
    SignatureForm, "signature form" {
        Initials = "initials",
        AdReferendum = "ad-referendum",
        Signature = "signature",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The chair lets a delegation circulate revisions (or withdraws that).
    Pen {
        delegation: DelegationId,
        granted: bool,
    },
    /// The chair puts a revision under silence procedure until `deadline` (milliseconds since the Unix epoch, like event times).
    SilenceOpen {
        revision: EventId,
        hashes: TextHashes,
        deadline: u64,
    },
    /// A device confirms that it holds the text under silence.
    Receipt {
        silence: EventId,
    },
    /// A delegation breaks silence; `reference` may name its sealed amendment or statement.
    SilenceBreak {
        silence: EventId,
        grounds: Grounds,
        reference: Option<EventId>,
    },
    SilenceClose {
        silence: EventId,
    },
    /// A delegation formally objects to adopting a revision.
    Object {
        revision: EventId,
        reference: Option<EventId>,
    },
    /// The chair declares a revision adopted, by consensus in the room or after a silence
    /// procedure.
    Adopt {
        revision: EventId,
        hashes: TextHashes,
        silence: Option<EventId>,
    },
    /// A delegation authenticates the adopted text in one language.
    Sign {
        adoption: EventId,
        language: String,
        hash: [u8; 32],
        form: SignatureForm,
    },
}

pub mod kind {
    pub const PEN: &str = "pen";
    pub const SILENCE_OPEN: &str = "silence-open";
    pub const RECEIPT: &str = "receipt";
    pub const SILENCE_BREAK: &str = "silence-break";
    pub const SILENCE_CLOSE: &str = "silence-close";
    pub const OBJECT: &str = "object";
    pub const ADOPT: &str = "adopt";
    pub const SIGN: &str = "sign";
    pub const ALL: &[&str] = &[
        PEN,
        SILENCE_OPEN,
        RECEIPT,
        SILENCE_BREAK,
        SILENCE_CLOSE,
        OBJECT,
        ADOPT,
        SIGN,
    ];
}

fn hashes_into(e: &mut Enc, hashes: &TextHashes) {
    e.array(hashes.len());
    for (lang, h) in hashes {
        e.array(2).str(lang).bytes(h);
    }
}

fn decode_hashes(d: &mut Dec<'_>) -> Result<TextHashes, CborError> {
    let n = d.array_len("hashes", crate::body::MAX_LANGUAGES)?;
    let mut out = TextHashes::new();
    for _ in 0..n {
        d.array("hash", 2)?;
        let lang = d.str("language", crate::body::MAX_LANGUAGE_TAG_BYTES)?;
        let h = d.bytes32("hash")?;
        if out.insert(lang, h).is_some() {
            return Err(CborError {
                at: 0,
                what: "hashes: a language appears twice".into(),
            });
        }
    }
    if n == 0 {
        return Err(CborError {
            at: 0,
            what: "hashes: at least one language".into(),
        });
    }
    Ok(out)
}

fn opt_id_into(e: &mut Enc, id: &Option<EventId>) {
    match id {
        Some(id) => e.bytes(id.as_bytes()),
        None => e.null(),
    };
}

impl Decision {
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Pen { .. } => kind::PEN,
            Decision::SilenceOpen { .. } => kind::SILENCE_OPEN,
            Decision::Receipt { .. } => kind::RECEIPT,
            Decision::SilenceBreak { .. } => kind::SILENCE_BREAK,
            Decision::SilenceClose { .. } => kind::SILENCE_CLOSE,
            Decision::Object { .. } => kind::OBJECT,
            Decision::Adopt { .. } => kind::ADOPT,
            Decision::Sign { .. } => kind::SIGN,
        }
    }

    pub(crate) fn encode_into(&self, e: &mut Enc) {
        match self {
            Decision::Pen {
                delegation,
                granted,
            } => {
                e.array(2)
                    .bytes(delegation.as_bytes())
                    .u64(u64::from(*granted));
            }
            Decision::SilenceOpen {
                revision,
                hashes,
                deadline,
            } => {
                e.array(3).bytes(revision.as_bytes());
                hashes_into(e, hashes);
                e.u64(*deadline);
            }
            Decision::Receipt { silence } | Decision::SilenceClose { silence } => {
                e.array(1).bytes(silence.as_bytes());
            }
            Decision::SilenceBreak {
                silence,
                grounds,
                reference,
            } => {
                e.array(3).bytes(silence.as_bytes()).str(grounds.as_str());
                opt_id_into(e, reference);
            }
            Decision::Object {
                revision,
                reference,
            } => {
                e.array(2).bytes(revision.as_bytes());
                opt_id_into(e, reference);
            }
            Decision::Adopt {
                revision,
                hashes,
                silence,
            } => {
                e.array(3).bytes(revision.as_bytes());
                hashes_into(e, hashes);
                opt_id_into(e, silence);
            }
            Decision::Sign {
                adoption,
                language,
                hash,
                form,
            } => {
                e.array(4)
                    .bytes(adoption.as_bytes())
                    .str(language)
                    .bytes(hash)
                    .str(form.as_str());
            }
        }
    }

    pub(crate) fn decode_kind(kind: &str, d: &mut Dec<'_>) -> Result<Option<Self>, CborError> {
        let id = |d: &mut Dec<'_>, f: &str| d.bytes32(f).map(EventId);
        let opt_id = |d: &mut Dec<'_>, f: &str| d.opt_bytes32(f).map(|o| o.map(EventId));
        let decision = match kind {
            kind::PEN => {
                d.array("pen", 2)?;
                let delegation = DelegationId(d.bytes32("delegation")?);
                let granted = match d.u64("granted")? {
                    0 => false,
                    1 => true,
                    _ => {
                        return Err(CborError {
                            at: 0,
                            what: "granted: expected 0 or 1".into(),
                        });
                    }
                };
                Decision::Pen {
                    delegation,
                    granted,
                }
            }
            kind::SILENCE_OPEN => {
                d.array("silence-open", 3)?;
                Decision::SilenceOpen {
                    revision: id(d, "revision")?,
                    hashes: decode_hashes(d)?,
                    deadline: d.u64("deadline")?,
                }
            }
            kind::RECEIPT => {
                d.array("receipt", 1)?;
                Decision::Receipt {
                    silence: id(d, "silence")?,
                }
            }
            kind::SILENCE_CLOSE => {
                d.array("silence-close", 1)?;
                Decision::SilenceClose {
                    silence: id(d, "silence")?,
                }
            }
            kind::SILENCE_BREAK => {
                d.array("silence-break", 3)?;
                Decision::SilenceBreak {
                    silence: id(d, "silence")?,
                    grounds: d.str("grounds", 64)?.parse()?,
                    reference: opt_id(d, "reference")?,
                }
            }
            kind::OBJECT => {
                d.array("object", 2)?;
                Decision::Object {
                    revision: id(d, "revision")?,
                    reference: opt_id(d, "reference")?,
                }
            }
            kind::ADOPT => {
                d.array("adopt", 3)?;
                Decision::Adopt {
                    revision: id(d, "revision")?,
                    hashes: decode_hashes(d)?,
                    silence: opt_id(d, "silence")?,
                }
            }
            kind::SIGN => {
                d.array("sign", 4)?;
                Decision::Sign {
                    adoption: id(d, "adoption")?,
                    language: d.str("language", crate::body::MAX_LANGUAGE_TAG_BYTES)?,
                    hash: d.bytes32("hash")?,
                    form: d.str("form", 64)?.parse()?,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(decision))
    }
}
