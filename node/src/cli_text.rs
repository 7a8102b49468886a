//! Command-line arguments of the negotiation procedure: texts, amendments, brackets, positions,
//! statements, marks, silence procedures, adoption and signatures.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use entente_protocol::decisions::{Grounds, SignatureForm};
use entente_protocol::drafts::{MarkKind, Stance, StatementKind};

/// Output formats of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// Readable text with statuses and brackets (clean: the plain-text convention `draft
    /// circulate` reads, so a text round-trips)
    Text,
    Md,
    Html,
    /// Akoma Ntoso 3.0 XML
    Akn,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Html,
    Json,
}

#[derive(Subcommand)]
pub enum DraftCommand {
    /// Circulate a revision (chair or pen-holder): a zero draft, Rev.1, a chair's text
    Circulate(CirculateArgs),
    /// List the revisions circulated so far
    List(NegJsonArgs),
    /// Show a revision with its brackets, options and paragraph statuses (or clean)
    Show(ShowArgs),
    /// Word-level comparison of two revisions
    Diff(DiffArgs),
    /// The positions matrix: each delegation's stance on paragraphs and amendments
    Positions(PositionsArgs),
    /// Check a text file against the plain-text convention and print it normalised
    Check(CheckArgs),
}

#[derive(Args)]
pub struct NegJsonArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CirculateArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Label of the revision: "zero draft", "Rev.1", "chair's text"
    #[arg(long)]
    pub label: String,
    /// A language version, LANG=FILE (repeatable); the working language (the charter's first)
    /// is required. Files follow the plain-text convention (see `entente draft check --help`).
    #[arg(long = "text", value_name = "LANG=FILE", required = true)]
    pub texts: Vec<String>,
    /// The revision this one follows [default: the latest]; "none" for a fresh start
    #[arg(long, value_name = "REVISION")]
    pub supersedes: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Revision (id prefix or label) [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// Language [default: the working language]
    #[arg(long)]
    pub lang: Option<String>,
    /// The clean text: no statuses, brackets or proposals
    #[arg(long)]
    pub clean: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextFormat,
    /// The same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write to this file instead of standard output
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct DiffArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The earlier revision (id prefix or label)
    pub from: String,
    /// The later revision [default: the latest]
    pub to: Option<String>,
    /// Language [default: the working language]
    #[arg(long)]
    pub lang: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// The same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

#[derive(Args)]
pub struct PositionsArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Revision [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Text file in the plain-text convention:
    /// optional `symbol: A/CONF.1/L.3` and `title: ...` lines, then paragraphs, each starting
    /// with its id in brackets at the start of a line ([PP1], [OP1], [OP1.a], [OP7-alt]) and
    /// running until a blank line or the next paragraph
    pub file: PathBuf,
    /// Language of the text
    #[arg(long, default_value = "en")]
    pub lang: String,
}

#[derive(Args)]
pub struct AmendArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Paragraph id (OP3, PP2, ...)
    pub paragraph: String,
    /// Revision amended [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// Replace the paragraph with this text
    #[arg(long, group = "op", value_name = "TEXT")]
    pub replace: Option<String>,
    /// Insert a new paragraph after it: NEW_ID and its text
    #[arg(long, group = "op", num_args = 2, value_names = ["NEW_ID", "TEXT"])]
    pub insert_after: Option<Vec<String>>,
    /// Delete the paragraph
    #[arg(long, group = "op")]
    pub delete: bool,
    /// Why
    #[arg(long, default_value = "")]
    pub justification: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum BracketCommand {
    /// Place a bracket on a paragraph or a span of it, with options and a reason
    Place(BracketPlaceArgs),
    /// Add an option to an open bracket
    Option(BracketOptionArgs),
    /// Resolve a bracket to one of its options (chair)
    Resolve(BracketResolveArgs),
}

#[derive(Args)]
pub struct BracketPlaceArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Paragraph id
    pub paragraph: String,
    /// Revision [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// The words to bracket [default: the whole paragraph]
    #[arg(long, default_value = "")]
    pub span: String,
    /// An alternative wording (repeatable); the bracketed text is always the first option
    #[arg(long = "option")]
    pub options: Vec<String>,
    /// Why, e.g. "awaiting instructions"
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BracketOptionArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Bracket (event id prefix)
    pub bracket: String,
    /// The alternative wording
    pub text: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BracketResolveArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Bracket (event id prefix)
    pub bracket: String,
    /// The option kept (its exact text)
    pub choice: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PositionArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// An amendment (event id prefix), or a paragraph id (OP3) of the revision
    pub target: String,
    /// support, can-live-with, object or reserve
    #[arg(value_parser = parse_word::<Stance>)]
    pub stance: Stance,
    /// Revision, when the target is a paragraph [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// A note on the position
    #[arg(long, default_value = "")]
    pub note: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct StatementArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The statement
    pub text: String,
    /// explanation-of-position, reservation, interpretative or general
    #[arg(long, value_parser = parse_word::<StatementKind>, default_value = "general")]
    pub kind: StatementKind,
    /// What it is about: a revision, amendment or adoption (event id prefix) [default: the
    /// latest revision]
    #[arg(long)]
    pub on: Option<String>,
    /// A paragraph of it
    #[arg(long, default_value = "")]
    pub paragraph: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct MarkArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Paragraph id
    pub paragraph: String,
    /// discussed, agreed (chair); ad-referendum, confirmed, withdrawn (a delegation, for itself)
    #[arg(value_parser = parse_word::<MarkKind>)]
    pub mark: MarkKind,
    /// Revision [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PenArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Delegation id of the pen-holder
    pub delegation: String,
    /// Take the pen back instead
    #[arg(long)]
    pub withdraw: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum SilenceCommand {
    /// Put a revision under silence procedure until an exact deadline (chair)
    Open(SilenceOpenArgs),
    /// Break silence with an objection or an amendment
    Break(SilenceBreakArgs),
    /// Close the silence procedure (chair); the outcome follows from the record
    Close(SilenceRefArgs),
    /// Deadline, receipts, breaks and outcome of silence procedures
    Status(SilenceStatusArgs),
    /// Confirm that this device holds the text (a running node does it by itself)
    Receipt(SilenceRefArgs),
}

#[derive(Args)]
pub struct SilenceOpenArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Revision [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// Exact deadline, RFC 3339 in UTC (2026-12-01T12:00:00Z)
    #[arg(long, conflicts_with = "period")]
    pub deadline: Option<String>,
    /// Length from now, e.g. 72h or 30m [default: the charter's silence period]
    #[arg(long)]
    pub period: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SilenceBreakArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Silence procedure (event id prefix) [default: the latest]
    #[arg(long)]
    pub silence: Option<String>,
    #[arg(long, value_parser = parse_word::<Grounds>, default_value = "objection")]
    pub grounds: Grounds,
    /// Why: recorded as a sealed statement that the break refers to
    #[arg(long)]
    pub reason: Option<String>,
    /// Refer to an existing amendment or statement (event id prefix) instead
    #[arg(long, conflicts_with = "reason")]
    pub reference: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SilenceRefArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Silence procedure (event id prefix) [default: the latest]
    #[arg(long)]
    pub silence: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SilenceStatusArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ObjectArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Revision [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// Why: recorded as a sealed statement that the objection refers to
    #[arg(long)]
    pub reason: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct AdoptArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Revision [default: the latest]
    #[arg(long)]
    pub rev: Option<String>,
    /// The closed silence procedure the adoption rests on [default: the latest closed one on
    /// this revision, if any; otherwise adoption by consensus in the room]
    #[arg(long)]
    pub silence: Option<String>,
    /// Adopt by consensus in the room even if a silence procedure exists
    #[arg(long, conflicts_with = "silence")]
    pub consensus: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SignArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Adoption (event id prefix) [default: the latest]
    #[arg(long)]
    pub adoption: Option<String>,
    /// Language to sign (repeatable) [default: every adopted language]
    #[arg(long = "lang")]
    pub languages: Vec<String>,
    /// initials, ad-referendum or signature
    #[arg(long, value_parser = parse_word::<SignatureForm>, default_value = "signature")]
    pub form: SignatureForm,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

fn parse_word<T: std::str::FromStr<Err = entente_protocol::CborError>>(
    s: &str,
) -> Result<T, String> {
    s.parse::<T>().map_err(|e| e.what)
}
