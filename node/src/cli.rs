//! Command-line interface: the commands, their flags and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use entente_protocol::{DecisionRule, DelegationId, Role};

#[derive(Parser)]
#[command(
    name = "entente",
    version,
    about = "Peer-to-peer, end-to-end encrypted negotiation of texts between delegations",
    long_about = "Entente: each delegation runs its own node and keeps a signed, verifiable record of its \
                  negotiations. Commands work offline against the local store in the home directory."
)]
pub struct Cli {
    /// Home directory holding this node's keys and database [default: the platform data directory]
    #[arg(long, global = true, env = "ENTENTE_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create this node's delegation key, device key and device certificate
    Init(InitArgs),
    /// Show this node's identity: ids, fingerprint, safety words and a QR code
    Id(JsonFlag),
    /// Create and list negotiations
    #[command(subcommand)]
    Negotiation(NegotiationCommand),
    /// Accredit a delegation in a negotiation (chair only)
    Invite(InviteArgs),
    /// Join a negotiation your delegation is accredited in: give the invitation token (fetches
    /// the negotiation over the network), or the id of a negotiation whose record you imported
    Join(JoinArgs),
    /// List a negotiation's members, roles and devices
    Members(NegJson),
    /// Change a member's role (chair only)
    Role(RoleArgs),
    /// Remove a member from a negotiation (chair only)
    Remove(RemoveArgs),
    /// Leave a negotiation
    Leave(LeaveArgs),
    /// Revoke a device (lost, stolen, retired): your own delegation's, or any as chair. The
    /// channels it read start new key epochs with the next message.
    Revoke(RevokeArgs),
    /// Say something in the plenary channel
    Say(SayArgs),
    /// Add a note to the record
    Note(NoteArgs),
    /// Open restricted channels (caucus, proximity talks) and list channels
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Give a delegation the keys of a channel's earlier epochs (chair only): history
    ShareHistory(ShareHistoryArgs),
    /// Texts: circulate revisions, show them (md, html, Akoma Ntoso), compare, positions matrix
    #[command(subcommand)]
    Draft(crate::cli_text::DraftCommand),
    /// Propose an amendment (replace, insert after, delete) to a revision's paragraph
    Amend(crate::cli_text::AmendArgs),
    /// Place, extend and resolve square brackets
    #[command(subcommand)]
    Bracket(crate::cli_text::BracketCommand),
    /// Take a position on an amendment or a paragraph: support, can-live-with, object, reserve
    Position(crate::cli_text::PositionArgs),
    /// Attach a statement to the record: explanation of position, reservation, interpretative
    Statement(crate::cli_text::StatementArgs),
    /// Mark a paragraph: discussed or agreed (chair); ad-referendum, confirmed or withdrawn (a
    /// delegation, for itself)
    Mark(crate::cli_text::MarkArgs),
    /// Let a delegation circulate revisions (chair)
    Pen(crate::cli_text::PenArgs),
    /// Silence procedure: open, break, close, status
    #[command(subcommand)]
    Silence(crate::cli_text::SilenceCommand),
    /// Object formally to adopting a revision
    Object(crate::cli_text::ObjectArgs),
    /// Declare a revision adopted (chair): by consensus, or on a closed silence procedure
    Adopt(crate::cli_text::AdoptArgs),
    /// Authenticate the adopted text: sign its hash in each language
    Sign(crate::cli_text::SignArgs),
    /// Show a negotiation's events in order, with what the rules made of each
    Log(LogArgs),
    /// Write a negotiation's complete signed record to a file, or with --adopted its public
    /// signed text
    Export(ExportArgs),
    /// Merge a record file into the local store (verified first; a bad file changes nothing)
    Import(ImportArgs),
    /// Verify a record file offline: ids, signatures, links and rules (needs no identity)
    Verify(VerifyArgs),
    /// Run this delegation's node until Ctrl-C: sync with the other members, live; serves the
    /// web UI and local API on loopback
    Up(UpArgs),
    /// Print a fresh login address of the running node's web UI (a one-time code)
    Web(JsonFlag),
    /// Run a mediator relay (circuit relay v2, rendezvous, optional mailbox) until Ctrl-C
    Relay(RelayArgs),
}

#[derive(Args)]
pub struct UpArgs {
    /// Address to listen on (repeatable) [default: TCP and QUIC on port 7420, all interfaces]
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// A mediator relay to use, ending with /p2p/<relay id> (repeatable)
    #[arg(long, value_name = "MULTIADDR")]
    pub relay: Vec<String>,
    /// A peer to dial at start, ending with /p2p/<peer id> (repeatable)
    #[arg(long, value_name = "MULTIADDR")]
    pub peer: Vec<String>,
    /// Do not look for members on the local network with mDNS
    #[arg(long)]
    pub no_mdns: bool,
    /// Reach other members only through relays: no hole punching and no direct dials, so that
    /// other delegations never learn this node's IP address (the relay still does)
    #[arg(long)]
    pub relay_only: bool,
    /// Address of the local web UI and API (loopback unless you mean otherwise; port 0 picks a
    /// free one)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:7430")]
    pub web: std::net::SocketAddr,
    /// Do not serve the web UI and API
    #[arg(long, conflicts_with = "web")]
    pub no_web: bool,
}

#[derive(Args)]
pub struct RelayArgs {
    /// Address to listen on (repeatable) [default: TCP and QUIC on port 7421, all interfaces]
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Public address to advertise (repeatable), e.g. /ip4/203.0.113.7/tcp/7421; needed behind NAT
    /// or port forwarding [default: the listen addresses]
    #[arg(long, value_name = "MULTIADDR")]
    pub external: Vec<String>,
    /// Keep the events of the negotiations this relay serves and answer sync from them, so that
    /// members who were offline catch up when nobody else is online
    #[arg(long)]
    pub mailbox: bool,
    /// File of peer ids allowed to use the relay besides the members of the negotiations it
    /// serves (one per line, # comments)
    #[arg(long, value_name = "FILE")]
    pub allow_file: Option<PathBuf>,
    /// Longest life of one relayed connection, in seconds
    #[arg(long, default_value_t = 24 * 3600)]
    pub max_circuit_secs: u64,
    /// Most bytes one relayed connection may carry
    #[arg(long, default_value_t = 4 * 1024 * 1024 * 1024)]
    pub max_circuit_bytes: u64,
    /// Most relayed connections at once
    #[arg(long, default_value_t = 1024)]
    pub max_circuits: usize,
    /// Most reservations (peers reachable through the relay) at once
    #[arg(long, default_value_t = 1024)]
    pub max_reservations: usize,
}

#[derive(Args)]
pub struct JsonFlag {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct NegJson {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ChannelCommand {
    /// Open a restricted channel for listed delegations (chair or mediator); you are in it too
    Create(ChannelCreateArgs),
    /// List the channels, who reads each, and the current key epoch
    List(NegJson),
}

#[derive(Args)]
pub struct ChannelCreateArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Channel name: a-z, 0-9 and -, e.g. caucus-g77 or prox-north
    #[arg(long)]
    pub name: String,
    /// A member delegation's id (repeatable)
    #[arg(long = "member", value_name = "DELEGATION", value_parser = parse_delegation)]
    pub members: Vec<DelegationId>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ShareHistoryArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The delegation that receives the earlier keys
    #[arg(long, value_parser = parse_delegation)]
    pub delegation: DelegationId,
    /// The channel whose history is shared
    #[arg(long, default_value = "plenary")]
    pub channel: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct JoinArgs {
    /// An invitation token (ent1...) or a negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// How long to wait for the inviter, in seconds (token only)
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LogArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Only the events the author of EVENT had seen when signing it (its ancestors), and EVENT
    #[arg(long, value_name = "EVENT")]
    pub seen_by: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InitArgs {
    /// Display name of the delegation (a label, never an identity)
    #[arg(long)]
    pub name: Option<String>,
    /// Label of this device in its certificate
    #[arg(long, default_value = "primary")]
    pub device_label: String,
    /// Encrypt the keys at rest with a passphrase (from ENTENTE_PASSPHRASE, or asked for);
    /// implied when ENTENTE_PASSPHRASE is set
    #[arg(long)]
    pub encrypt: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum NegotiationCommand {
    /// Convene a new negotiation with this delegation as chair
    Create(CreateArgs),
    /// List the negotiations in the local store
    List(JsonFlag),
}

#[derive(Args)]
pub struct CreateArgs {
    /// Title, e.g. "Joint statement on the Rhine"
    #[arg(long)]
    pub title: String,
    /// The mandate: what the negotiation is to produce
    #[arg(long, default_value = "")]
    pub mandate: String,
    /// Language of the negotiation (BCP 47 tag, repeatable; the first is the working language)
    #[arg(long = "language", value_name = "TAG", default_values_t = ["en".to_string()])]
    pub languages: Vec<String>,
    /// How decisions are taken
    #[arg(long, default_value = "consensus", value_parser = parse_rule)]
    pub decision_rule: DecisionRule,
    /// Default length of a silence procedure, in hours
    #[arg(long, default_value_t = 72)]
    pub silence_hours: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InviteArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The invited delegation's id (`entente id` on their node prints it)
    #[arg(long, value_parser = parse_delegation)]
    pub delegation: DelegationId,
    /// chair, mediator, delegation or observer
    #[arg(long, default_value = "delegation", value_parser = parse_role)]
    pub role: Role,
    /// Display name of the delegation
    #[arg(long, default_value = "")]
    pub name: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RoleArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The member's delegation id
    #[arg(long, value_parser = parse_delegation)]
    pub delegation: DelegationId,
    /// chair, mediator, delegation or observer
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RemoveArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The member's delegation id
    #[arg(long, value_parser = parse_delegation)]
    pub delegation: DelegationId,
    /// Reason, kept in the record
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The device id (`entente members NEG --json` lists them)
    #[arg(long)]
    pub device: String,
    /// Reason, kept in the record
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct LeaveArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// Reason, kept in the record
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SayArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The message
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub text: Option<String>,
    /// Read messages from standard input, one per line; each event id is printed once it is durable
    #[arg(long)]
    pub stdin: bool,
    /// Channel to speak in: plenary (every member), limited (members but observers) or a
    /// restricted channel's name
    #[arg(long, default_value = "plenary")]
    pub channel: String,
    /// Distribution label instead of a channel: general (plenary), limited (no observers), or
    /// restricted (with --channel NAME)
    #[arg(long, value_enum)]
    pub distribution: Option<Distribution>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct NoteArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// The note
    pub text: String,
    /// Channel of the note (see `say --channel`)
    #[arg(long, default_value = "plenary")]
    pub channel: String,
    /// Distribution label (see `say --distribution`)
    #[arg(long, value_enum)]
    pub distribution: Option<Distribution>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Negotiation id (or a unique prefix of it)
    pub negotiation: String,
    /// File to write (replaced atomically)
    #[arg(long, short)]
    pub out: PathBuf,
    /// Write the public signed text of the adopted text instead: every delegation's signature,
    /// no confidential history; `entente verify` checks it on its own
    #[arg(long)]
    pub adopted: bool,
    /// The adoption to export (event id prefix) [default: the latest]
    #[arg(long, requires = "adopted")]
    pub adoption: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ImportArgs {
    /// Record file written by `entente export`
    pub file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Record file or public signed text written by `entente export`
    pub file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Distribution labels of UN practice, and the channel each one means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Distribution {
    General,
    Limited,
    Restricted,
}

impl Distribution {
    /// The channel content with this label goes to, given the `--channel` option.
    pub fn channel(self, channel: &str) -> Result<String, String> {
        match (self, channel) {
            (Distribution::General, "plenary") => Ok("plenary".into()),
            (Distribution::Limited, "plenary" | "limited") => Ok("limited".into()),
            (Distribution::Restricted, "plenary" | "limited") => {
                Err("--distribution restricted needs --channel NAME of a restricted channel".into())
            }
            (Distribution::Restricted, name) => Ok(name.into()),
            (label, name) => Err(format!(
                "--distribution {label:?} does not go with --channel {name}"
            )
            .to_lowercase()),
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: entente_protocol::body::BodyError| e.to_string())
}

fn parse_rule(s: &str) -> Result<DecisionRule, String> {
    s.parse()
        .map_err(|e: entente_protocol::body::BodyError| e.to_string())
}

fn parse_delegation(s: &str) -> Result<DelegationId, String> {
    s.parse().map_err(|_| {
        "expected a delegation id: 64 hex characters, as `entente id` prints it".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::Distribution;

    #[test]
    fn distribution_labels_choose_the_channel() {
        assert_eq!(
            Distribution::General.channel("plenary").as_deref(),
            Ok("plenary")
        );
        assert_eq!(
            Distribution::Limited.channel("plenary").as_deref(),
            Ok("limited")
        );
        assert_eq!(
            Distribution::Restricted.channel("caucus").as_deref(),
            Ok("caucus")
        );
        assert!(Distribution::Restricted.channel("plenary").is_err());
        assert!(Distribution::General.channel("caucus").is_err());
    }
}
