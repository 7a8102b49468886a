//! The text as the room sees it: drafting content (opened by a member) folded in the state's
//! order, with its own rules, into revisions, amendments, brackets, positions, statements and
//! paragraph marks; and the view of one revision in one language (SPEC.md, "Drafting").
//!
//! Every member that can open the same content computes the same drafting state: the rules use
//! only the content, the fold order and each entry's role at the time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::body::{PLENARY_CHANNEL, Role};
use crate::drafts::{
    AmendOp, Draft, MAX_OPTIONS, MarkKind, Stance, StatementKind, TextContent, Version,
};
use crate::ids::{DelegationId, EventId};
use crate::proceedings::{AdoptionStatus, Proceedings};
use crate::state::NegotiationState;
use crate::text::{Document, Part, paragraph_hash, valid_paragraph_id};

/// Why drafting content is left out of the text (recorded, never silently dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum DraftExclusion {
    #[error("only the chair or a pen-holder circulates revisions")]
    NotPenholder,
    #[error("observers do not propose or take positions")]
    Observer,
    #[error("only the chair marks paragraphs discussed or agreed, and resolves brackets")]
    NotChair,
    #[error("it names a revision or amendment that is not in the text")]
    UnknownTarget,
    #[error("it names a paragraph that the revision does not have")]
    UnknownParagraph,
    #[error(
        "a revision needs the working language first, then translations, one version per language, aligned paragraph ids, and a source for every translated paragraph"
    )]
    BadVersions,
    #[error("the revision's blobs are missing, repeated, or do not match its hash")]
    BlobMismatch,
    #[error("the amendment is not well formed for its operation")]
    BadAmendment,
    #[error(
        "the bracket is unknown or resolved already, the span is not in the paragraph, it has too many options, or the choice is not one of its options"
    )]
    BadBracket,
    #[error("a delegation confirms or withdraws only its own ad referendum agreement")]
    NotAdReferendum,
    #[error("drafting content counts only in the plenary channel")]
    NotPlenary,
    #[error("a statement needs some text")]
    EmptyStatement,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionRecord {
    pub id: EventId,
    pub label: String,
    pub supersedes: Option<EventId>,
    pub delegation: Option<DelegationId>,
    pub time: u64,
    /// Shared, because checks clone the drafting state and texts can be large.
    #[serde(skip)]
    pub versions: Arc<Vec<Version>>,
    pub languages: Vec<String>,
    pub symbol: String,
    /// Paragraph id to the paragraph hash of its working-language text.
    #[serde(skip)]
    keys: BTreeMap<String, [u8; 32]>,
}

impl RevisionRecord {
    pub fn version(&self, language: &str) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.document.language == language)
    }

    /// The first version: the working language (a revision always has it).
    pub fn source(&self) -> &Document {
        &self.versions[0].document
    }

    /// Text hash per language: what silence, adoption and signatures name.
    pub fn hashes(&self) -> crate::decisions::TextHashes {
        self.versions
            .iter()
            .map(|v| (v.document.language.clone(), v.document.hash()))
            .collect()
    }
}

/// A paragraph's identity across revisions: its id and the hash of its working-language text.
/// Marks and brackets carry from one revision to another while this stays the same.
type LineageKey = (String, [u8; 32]);

#[derive(Debug, Clone, Serialize)]
pub struct AmendmentRecord {
    pub id: EventId,
    pub revision: EventId,
    pub paragraph: String,
    pub op: AmendOp,
    pub new_id: String,
    pub text: String,
    pub justification: String,
    pub delegation: DelegationId,
    pub time: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BracketRecord {
    pub id: EventId,
    pub revision: EventId,
    pub paragraph: String,
    pub span: String,
    pub options: Vec<String>,
    pub reason: String,
    /// Who placed it (views show it only if the charter says so).
    pub placed_by: DelegationId,
    pub resolved: Option<String>,
    #[serde(skip)]
    key: LineageKey,
}

#[derive(Debug, Clone, Serialize)]
pub struct PositionRecord {
    pub id: EventId,
    pub target: EventId,
    pub paragraph: String,
    pub stance: Stance,
    pub note: String,
    pub delegation: DelegationId,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementRecord {
    pub id: EventId,
    pub kind: StatementKind,
    pub target: EventId,
    pub paragraph: String,
    pub text: String,
    pub delegation: DelegationId,
    pub time: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkRecord {
    pub id: EventId,
    pub revision: EventId,
    pub paragraph: String,
    pub mark: MarkKind,
    pub delegation: DelegationId,
}

/// Where the room stands on one paragraph text, from its marks in fold order.
#[derive(Debug, Clone, Default)]
struct Agreement {
    agreed: bool,
    discussed: bool,
    pending: BTreeSet<DelegationId>,
}

/// Everything said about the text, in fold order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DraftState {
    pub revisions: Vec<RevisionRecord>,
    pub amendments: Vec<AmendmentRecord>,
    pub brackets: Vec<BracketRecord>,
    /// The latest position of each delegation on each target (and paragraph).
    pub positions: Vec<PositionRecord>,
    pub statements: Vec<StatementRecord>,
    pub marks: Vec<MarkRecord>,
    pub excluded: Vec<(EventId, DraftExclusion)>,
    // Indexes, so that hostile volumes of content cost n log n, not n squared.
    #[serde(skip)]
    revision_index: BTreeMap<EventId, usize>,
    #[serde(skip)]
    bracket_index: BTreeMap<EventId, usize>,
    #[serde(skip)]
    position_index: BTreeMap<(DelegationId, EventId, String), usize>,
    #[serde(skip)]
    agreements: BTreeMap<LineageKey, Agreement>,
    /// Blob parts folded so far (a revision may only use parts that come before it).
    #[serde(skip)]
    blobs: BTreeSet<EventId>,
}

/// Opened drafting content by event id, with the channel it travelled in: what a member's
/// keyring could read.
pub type Contents = HashMap<EventId, (String, Draft)>;

impl DraftState {
    /// Folds the opened content of included plenary events in the state's order.
    pub fn fold(state: &NegotiationState, contents: &Contents) -> Self {
        let working = state.charter.languages.first().map(String::as_str);
        let mut s = DraftState::default();
        for entry in &state.entries {
            if entry.excluded.is_some() {
                continue;
            }
            let Some((channel, draft)) = contents.get(&entry.id) else {
                continue;
            };
            let Some(delegation) = entry.delegation else {
                continue;
            };
            let verdict = if channel != PLENARY_CHANNEL {
                Err(DraftExclusion::NotPlenary)
            } else {
                s.apply(entry, delegation, draft, contents, working)
            };
            if let Err(e) = verdict {
                s.excluded.push((entry.id, e));
            }
        }
        s
    }

    /// Whether the rules would take `draft` from `delegation` (with `role`, holding the pen or
    /// not) after everything folded so far: what a node checks before it posts. Changes nothing.
    pub fn admits(
        &self,
        state: &NegotiationState,
        delegation: DelegationId,
        role: Role,
        pen: bool,
        draft: &Draft,
        contents: &Contents,
    ) -> Result<(), DraftExclusion> {
        let entry = crate::state::Entry {
            id: EventId([0; 32]),
            delegation: Some(delegation),
            excluded: None,
            shared: true,
            lamport: u64::MAX,
            time: 0,
            parents: Vec::new(),
            role: Some(role),
            pen,
        };
        let working = state.charter.languages.first().map(String::as_str);
        self.clone()
            .apply(&entry, delegation, draft, contents, working)
    }

    pub fn revision(&self, id: &EventId) -> Option<&RevisionRecord> {
        self.revision_index.get(id).map(|i| &self.revisions[*i])
    }

    /// The latest revision circulated.
    pub fn latest(&self) -> Option<&RevisionRecord> {
        self.revisions.last()
    }

    /// The lineage key of a paragraph of a revision, if both exist.
    fn key(&self, revision: &EventId, paragraph: &str) -> Result<LineageKey, DraftExclusion> {
        let r = self
            .revision(revision)
            .ok_or(DraftExclusion::UnknownTarget)?;
        r.keys
            .get(paragraph)
            .map(|h| (paragraph.to_string(), *h))
            .ok_or(DraftExclusion::UnknownParagraph)
    }

    fn apply(
        &mut self,
        entry: &crate::state::Entry,
        delegation: DelegationId,
        draft: &Draft,
        contents: &Contents,
        working_language: Option<&str>,
    ) -> Result<(), DraftExclusion> {
        let role = entry.role.unwrap_or(Role::Observer);
        let chair = role == Role::Chair;
        if let Draft::Blob { .. } = draft {
            // A part of a text: it counts only through a revision that names it.
            self.blobs.insert(entry.id);
            return Ok(());
        }
        if role == Role::Observer {
            return Err(DraftExclusion::Observer);
        }
        match draft {
            Draft::Blob { .. } => {}
            Draft::Revision {
                label,
                supersedes,
                content,
            } => {
                if !entry.pen {
                    return Err(DraftExclusion::NotPenholder);
                }
                if supersedes.is_some_and(|p| self.revision(&p).is_none()) {
                    return Err(DraftExclusion::UnknownTarget);
                }
                let versions = resolve(content, contents, &self.blobs)?;
                check_versions(&versions, working_language)?;
                let keys = versions[0]
                    .document
                    .paragraphs
                    .iter()
                    .map(|p| (p.id.clone(), paragraph_hash(&p.text)))
                    .collect();
                self.revision_index.insert(entry.id, self.revisions.len());
                self.revisions.push(RevisionRecord {
                    id: entry.id,
                    label: label.clone(),
                    supersedes: *supersedes,
                    delegation: Some(delegation),
                    time: entry.time,
                    languages: versions
                        .iter()
                        .map(|v| v.document.language.clone())
                        .collect(),
                    symbol: versions[0].document.symbol.clone(),
                    versions: Arc::new(versions),
                    keys,
                });
            }
            Draft::Amendment {
                revision,
                paragraph,
                op,
                new_id,
                text,
                justification,
            } => {
                self.key(revision, paragraph)?;
                let well_formed = match op {
                    AmendOp::Delete => text.is_empty() && new_id.is_empty(),
                    AmendOp::Replace => {
                        new_id.is_empty()
                            && crate::text::check_paragraph_text(paragraph, text).is_ok()
                    }
                    AmendOp::InsertAfter => {
                        valid_paragraph_id(new_id)
                            && crate::text::check_paragraph_text(new_id, text).is_ok()
                            && self.key(revision, new_id).is_err()
                    }
                };
                if !well_formed {
                    return Err(DraftExclusion::BadAmendment);
                }
                self.amendments.push(AmendmentRecord {
                    id: entry.id,
                    revision: *revision,
                    paragraph: paragraph.clone(),
                    op: *op,
                    new_id: new_id.clone(),
                    text: text.clone(),
                    justification: justification.clone(),
                    delegation,
                    time: entry.time,
                });
            }
            Draft::Bracket {
                revision,
                paragraph,
                span,
                options,
                reason,
            } => {
                let key = self.key(revision, paragraph)?;
                let source = self
                    .revision(revision)
                    .and_then(|r| r.source().paragraph(paragraph))
                    .map(|p| p.text.clone())
                    .unwrap_or_default();
                if !span.is_empty() && !source.contains(span.as_str()) {
                    return Err(DraftExclusion::BadBracket);
                }
                let mut all = vec![if span.is_empty() {
                    source
                } else {
                    span.clone()
                }];
                for o in options {
                    if !all.contains(o) {
                        all.push(o.clone());
                    }
                }
                self.bracket_index.insert(entry.id, self.brackets.len());
                self.brackets.push(BracketRecord {
                    id: entry.id,
                    revision: *revision,
                    paragraph: paragraph.clone(),
                    span: span.clone(),
                    options: all,
                    reason: reason.clone(),
                    placed_by: delegation,
                    resolved: None,
                    key,
                });
            }
            Draft::BracketOption { bracket, text } => {
                let b = self.bracket_mut(bracket)?;
                if b.resolved.is_some() || b.options.len() > MAX_OPTIONS {
                    return Err(DraftExclusion::BadBracket);
                }
                if !b.options.contains(text) {
                    b.options.push(text.clone());
                }
            }
            Draft::BracketResolve { bracket, choice } => {
                if !chair {
                    return Err(DraftExclusion::NotChair);
                }
                let b = self.bracket_mut(bracket)?;
                if b.resolved.is_some() || !b.options.contains(choice) {
                    return Err(DraftExclusion::BadBracket);
                }
                b.resolved = Some(choice.clone());
            }
            Draft::Position {
                target,
                paragraph,
                stance,
                note,
            } => {
                if paragraph.is_empty() {
                    if !self.amendments.iter().any(|a| a.id == *target) {
                        return Err(DraftExclusion::UnknownTarget);
                    }
                } else {
                    self.key(target, paragraph)?;
                }
                let record = PositionRecord {
                    id: entry.id,
                    target: *target,
                    paragraph: paragraph.clone(),
                    stance: *stance,
                    note: note.clone(),
                    delegation,
                };
                // A later position on the same thing replaces the earlier one.
                let slot = (delegation, *target, paragraph.clone());
                match self.position_index.get(&slot) {
                    Some(i) => self.positions[*i] = record,
                    None => {
                        self.position_index.insert(slot, self.positions.len());
                        self.positions.push(record);
                    }
                }
            }
            Draft::Statement {
                kind,
                target,
                paragraph,
                text,
            } => {
                if text.trim().is_empty() {
                    return Err(DraftExclusion::EmptyStatement);
                }
                self.statements.push(StatementRecord {
                    id: entry.id,
                    kind: *kind,
                    target: *target,
                    paragraph: paragraph.clone(),
                    text: text.clone(),
                    delegation,
                    time: entry.time,
                });
            }
            Draft::Mark {
                revision,
                paragraph,
                mark,
            } => {
                let key = self.key(revision, paragraph)?;
                let agreement = self.agreements.entry(key).or_default();
                match mark {
                    MarkKind::Discussed | MarkKind::Agreed if !chair => {
                        return Err(DraftExclusion::NotChair);
                    }
                    MarkKind::Confirmed | MarkKind::Withdrawn
                        if !agreement.pending.contains(&delegation) =>
                    {
                        return Err(DraftExclusion::NotAdReferendum);
                    }
                    MarkKind::Discussed => agreement.discussed = true,
                    MarkKind::Agreed => agreement.agreed = true,
                    MarkKind::AdReferendum => {
                        agreement.agreed = true;
                        agreement.pending.insert(delegation);
                    }
                    MarkKind::Confirmed => {
                        agreement.pending.remove(&delegation);
                    }
                    MarkKind::Withdrawn => {
                        agreement.pending.remove(&delegation);
                        agreement.agreed = false;
                    }
                }
                self.marks.push(MarkRecord {
                    id: entry.id,
                    revision: *revision,
                    paragraph: paragraph.clone(),
                    mark: *mark,
                    delegation,
                });
            }
        }
        Ok(())
    }

    fn bracket_mut(&mut self, id: &EventId) -> Result<&mut BracketRecord, DraftExclusion> {
        let i = *self
            .bracket_index
            .get(id)
            .ok_or(DraftExclusion::BadBracket)?;
        Ok(&mut self.brackets[i])
    }

    /// The room's agreement on a paragraph of a revision (carried over unchanged texts).
    fn agreement(&self, revision: &EventId, paragraph: &str) -> Agreement {
        self.key(revision, paragraph)
            .ok()
            .and_then(|k| self.agreements.get(&k).cloned())
            .unwrap_or_default()
    }
}

/// Puts a revision's versions together from its event or from blobs folded before it.
fn resolve(
    content: &TextContent,
    contents: &Contents,
    blobs: &BTreeSet<EventId>,
) -> Result<Vec<Version>, DraftExclusion> {
    match content {
        TextContent::Inline(v) => Ok(v.clone()),
        TextContent::Blobs { parts, sha256 } => {
            let distinct: BTreeSet<&EventId> = parts.iter().collect();
            if distinct.len() != parts.len() || parts.iter().any(|p| !blobs.contains(p)) {
                return Err(DraftExclusion::BlobMismatch);
            }
            let mut bytes = Vec::new();
            for p in parts {
                match contents.get(p) {
                    Some((channel, Draft::Blob { data })) if channel == PLENARY_CHANNEL => {
                        bytes.extend_from_slice(data)
                    }
                    _ => return Err(DraftExclusion::BlobMismatch),
                }
            }
            let digest: [u8; 32] = Sha256::digest(&bytes).into();
            if digest != *sha256 {
                return Err(DraftExclusion::BlobMismatch);
            }
            crate::drafts::decode_versions(&bytes).map_err(|_| DraftExclusion::BlobMismatch)
        }
    }
}

/// Language versions: the working language first, then translations in distinct languages,
/// the same paragraph ids in the same order, and a source for every translated paragraph.
pub fn check_versions(
    versions: &[Version],
    working_language: Option<&str>,
) -> Result<(), DraftExclusion> {
    let first = versions.first().ok_or(DraftExclusion::BadVersions)?;
    if working_language.is_some_and(|w| w != first.document.language) {
        return Err(DraftExclusion::BadVersions);
    }
    let ids = |d: &Document| {
        d.paragraphs
            .iter()
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    let mut langs = BTreeSet::new();
    for (i, v) in versions.iter().enumerate() {
        let sources_ok = if i == 0 {
            v.sources.iter().all(Option::is_none)
        } else {
            v.sources.iter().all(Option::is_some)
        };
        if !langs.insert(v.document.language.as_str())
            || ids(&v.document) != ids(&first.document)
            || v.sources.len() != v.document.paragraphs.len()
            || !sources_ok
        {
            return Err(DraftExclusion::BadVersions);
        }
    }
    Ok(())
}

/// Where a paragraph stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParagraphStatus {
    Unread,
    Discussed,
    Bracketed,
    AgreedAdReferendum,
    Agreed,
    /// The revision was adopted: the package binds.
    Adopted,
}

impl ParagraphStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ParagraphStatus::Unread => "unread",
            ParagraphStatus::Discussed => "discussed",
            ParagraphStatus::Bracketed => "bracketed",
            ParagraphStatus::AgreedAdReferendum => "agreed ad referendum",
            ParagraphStatus::Agreed => "agreed",
            ParagraphStatus::Adopted => "adopted",
        }
    }
}

/// One option of a bracket as a view shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BracketView {
    pub id: EventId,
    /// The bracketed words (empty: the whole paragraph).
    pub span: String,
    pub options: Vec<String>,
    pub reason: String,
    /// `None` when the charter keeps who placed brackets out of the views.
    pub placed_by: Option<DelegationId>,
    /// Amendments in conflict become brackets too; this names them.
    pub amendments: Vec<EventId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParagraphView {
    pub id: String,
    pub part: Part,
    pub level: usize,
    /// The text in the language of the view.
    pub text: String,
    pub status: ParagraphStatus,
    /// Delegations whose ad referendum agreement awaits their capital.
    pub pending_ad_referendum: Vec<DelegationId>,
    pub brackets: Vec<BracketView>,
    /// A single amendment pending against this paragraph (two or more show as a bracket).
    pub proposals: Vec<EventId>,
    /// The translation's source paragraph changed since it was translated.
    pub stale_translation: bool,
}

/// One revision in one language, with the room's marks on it.
#[derive(Debug, Clone, Serialize)]
pub struct TextView {
    pub revision: EventId,
    pub label: String,
    pub language: String,
    pub symbol: String,
    pub title: String,
    #[serde(serialize_with = "hex::serde::serialize")]
    pub hash: [u8; 32],
    pub adopted: Option<AdoptionStatus>,
    pub paragraphs: Vec<ParagraphView>,
}

impl TextView {
    /// The text as it would read with every bracket's first option and no proposals: what the
    /// chair circulated.
    pub fn document(&self) -> Document {
        Document {
            language: self.language.clone(),
            symbol: self.symbol.clone(),
            title: self.title.clone(),
            paragraphs: self
                .paragraphs
                .iter()
                .map(|p| crate::text::Paragraph {
                    id: p.id.clone(),
                    text: p.text.clone(),
                })
                .collect(),
        }
    }
}

/// Why a view cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("no revision {0} in this negotiation (or it cannot be read here)")]
    NoRevision(String),
    #[error("revision {revision} has no {language} version (it has: {available})")]
    NoLanguage {
        revision: String,
        language: String,
        available: String,
    },
}

impl DraftState {
    /// The view of `revision` in `language` (the working language if `None`).
    pub fn view(
        &self,
        state: &NegotiationState,
        proceedings: &Proceedings,
        revision: &EventId,
        language: Option<&str>,
    ) -> Result<TextView, ViewError> {
        let r = self
            .revision(revision)
            .ok_or_else(|| ViewError::NoRevision(revision.short()))?;
        let language = language.unwrap_or(&r.source().language);
        let version = r.version(language).ok_or_else(|| ViewError::NoLanguage {
            revision: r.label.clone(),
            language: language.to_string(),
            available: r.languages.join(", "),
        })?;
        // An adoption counts for this text only if it names this text's hashes.
        let hashes = r.hashes();
        let adopted = proceedings
            .adoptions
            .iter()
            .find(|a| a.adoption.revision == *revision && a.adoption.hashes == hashes)
            .map(|a| a.status);
        let source = r.source();
        // Group once, so that a view costs n log n in the amount of content.
        let mut open_brackets: BTreeMap<&LineageKey, Vec<&BracketRecord>> = BTreeMap::new();
        for b in self.brackets.iter().filter(|b| b.resolved.is_none()) {
            open_brackets.entry(&b.key).or_default().push(b);
        }
        let mut amendments_on: BTreeMap<&str, Vec<&AmendmentRecord>> = BTreeMap::new();
        for a in self.amendments.iter().filter(|a| a.revision == *revision) {
            amendments_on
                .entry(a.paragraph.as_str())
                .or_default()
                .push(a);
        }
        let with_positions: BTreeSet<&str> = self
            .positions
            .iter()
            .filter(|x| x.target == *revision)
            .map(|x| x.paragraph.as_str())
            .collect();
        let mut paragraphs = Vec::new();
        for (i, p) in version.document.paragraphs.iter().enumerate() {
            let src_text = source
                .paragraph(&p.id)
                .map(|s| s.text.as_str())
                .unwrap_or("");
            let stale_translation = version
                .sources
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|h| h != paragraph_hash(src_text));
            let key = self.key(revision, &p.id).ok();
            let mut brackets: Vec<BracketView> = key
                .as_ref()
                .and_then(|k| open_brackets.get(k))
                .into_iter()
                .flatten()
                .map(|b| BracketView {
                    id: b.id,
                    span: b.span.clone(),
                    options: b.options.clone(),
                    reason: b.reason.clone(),
                    placed_by: state.charter.attribute_brackets.then_some(b.placed_by),
                    amendments: Vec::new(),
                })
                .collect();
            let on_this = amendments_on.get(p.id.as_str()).map_or(&[][..], |v| &v[..]);
            let amendments: Vec<&AmendmentRecord> = on_this
                .iter()
                .copied()
                .filter(|a| a.op != AmendOp::InsertAfter)
                .collect();
            let mut proposals: Vec<EventId> = on_this
                .iter()
                .filter(|a| a.op == AmendOp::InsertAfter)
                .map(|a| a.id)
                .collect();
            if amendments.len() >= 2 {
                // Conflicting proposals are never merged: the original and each proposal
                // become the options of one bracket.
                let mut options = vec![src_text.to_string()];
                for a in &amendments {
                    let o = if a.op == AmendOp::Delete {
                        String::new()
                    } else {
                        a.text.clone()
                    };
                    if !options.contains(&o) {
                        options.push(o);
                    }
                }
                brackets.push(BracketView {
                    id: amendments[0].id,
                    span: String::new(),
                    options,
                    reason: "conflicting amendments".into(),
                    placed_by: None,
                    amendments: amendments.iter().map(|a| a.id).collect(),
                });
            } else {
                proposals.extend(amendments.iter().map(|a| a.id));
            }
            let agreement = self.agreement(revision, &p.id);
            let touched = agreement.discussed
                || with_positions.contains(p.id.as_str())
                || !proposals.is_empty();
            let status = if adopted == Some(AdoptionStatus::Adopted) {
                ParagraphStatus::Adopted
            } else if !brackets.is_empty() {
                ParagraphStatus::Bracketed
            } else if agreement.agreed && !agreement.pending.is_empty() {
                ParagraphStatus::AgreedAdReferendum
            } else if agreement.agreed {
                ParagraphStatus::Agreed
            } else if touched {
                ParagraphStatus::Discussed
            } else {
                ParagraphStatus::Unread
            };
            paragraphs.push(ParagraphView {
                id: p.id.clone(),
                part: p.part(),
                level: p.level(),
                text: p.text.clone(),
                status,
                pending_ad_referendum: agreement.pending.into_iter().collect(),
                brackets,
                proposals,
                stale_translation,
            });
        }
        Ok(TextView {
            revision: *revision,
            label: r.label.clone(),
            language: language.to_string(),
            symbol: version.document.symbol.clone(),
            title: version.document.title.clone(),
            hash: version.document.hash(),
            adopted,
            paragraphs,
        })
    }

    /// Positions on a revision's paragraphs and its amendments: (delegation, target, paragraph)
    /// to stance, for the positions matrix.
    pub fn positions_on(
        &self,
        revision: &EventId,
    ) -> BTreeMap<(DelegationId, EventId, String), Stance> {
        let amendments: BTreeSet<EventId> = self
            .amendments
            .iter()
            .filter(|a| a.revision == *revision)
            .map(|a| a.id)
            .collect();
        self.positions
            .iter()
            .filter(|p| p.target == *revision || amendments.contains(&p.target))
            .map(|p| ((p.delegation, p.target, p.paragraph.clone()), p.stance))
            .collect()
    }
}
