//! One function per command; each returns the process's exit code.

mod channels;
mod decisions;
mod identity;
mod negotiation;
mod network;
mod record;
mod text;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{ChannelCommand, Cli, Command, NegotiationCommand};
use crate::cli_text::{BracketCommand, DraftCommand, SilenceCommand};
use crate::home::Home;

pub fn run(cli: Cli) -> Result<ExitCode> {
    // `verify` is for outsiders: it must work without any home or identity.
    if let Command::Verify(args) = &cli.command {
        return record::verify(args);
    }
    let home = Home::resolve(cli.home)?;
    match cli.command {
        Command::Init(args) => identity::init(&home, &args),
        Command::Id(args) => identity::show(&home, args.json),
        Command::Negotiation(NegotiationCommand::Create(args)) => negotiation::create(&home, &args),
        Command::Negotiation(NegotiationCommand::List(args)) => negotiation::list(&home, args.json),
        Command::Invite(args) => negotiation::invite(&home, &args),
        Command::Join(args)
            if args
                .negotiation
                .trim()
                .starts_with(entente_protocol::sync::INVITATION_PREFIX) =>
        {
            network::join_by_token(&home, &args)
        }
        Command::Join(args) => negotiation::join(&home, &args),
        Command::Members(args) => negotiation::members(&home, &args),
        Command::Role(args) => negotiation::role(&home, &args),
        Command::Remove(args) => negotiation::remove(&home, &args),
        Command::Leave(args) => negotiation::leave(&home, &args),
        Command::Revoke(args) => negotiation::revoke(&home, &args),
        Command::Say(args) => negotiation::say(&home, &args),
        Command::Note(args) => negotiation::note(&home, &args),
        Command::Log(args) => negotiation::log(&home, &args),
        Command::Draft(c) => match c {
            DraftCommand::Circulate(a) => text::circulate(&home, &a),
            DraftCommand::List(a) => text::list(&home, &a),
            DraftCommand::Show(a) => text::show(&home, &a),
            DraftCommand::Diff(a) => text::diff(&home, &a),
            DraftCommand::Positions(a) => text::positions(&home, &a),
            DraftCommand::Check(a) => text::check(&a),
        },
        Command::Amend(a) => text::amend(&home, &a),
        Command::Bracket(c) => match c {
            BracketCommand::Place(a) => text::bracket_place(&home, &a),
            BracketCommand::Option(a) => text::bracket_option(&home, &a),
            BracketCommand::Resolve(a) => text::bracket_resolve(&home, &a),
        },
        Command::Position(a) => text::position(&home, &a),
        Command::Statement(a) => text::statement(&home, &a),
        Command::Mark(a) => text::mark(&home, &a),
        Command::Pen(a) => decisions::pen(&home, &a),
        Command::Silence(c) => match c {
            SilenceCommand::Open(a) => decisions::silence_open(&home, &a),
            SilenceCommand::Break(a) => decisions::silence_break(&home, &a),
            SilenceCommand::Close(a) => decisions::silence_close(&home, &a),
            SilenceCommand::Status(a) => decisions::silence_status(&home, &a),
            SilenceCommand::Receipt(a) => decisions::silence_receipt(&home, &a),
        },
        Command::Object(a) => decisions::object(&home, &a),
        Command::Adopt(a) => decisions::adopt(&home, &a),
        Command::Sign(a) => decisions::sign(&home, &a),
        Command::Channel(ChannelCommand::Create(args)) => channels::create(&home, &args),
        Command::Channel(ChannelCommand::List(args)) => channels::list(&home, &args),
        Command::ShareHistory(args) => channels::share_history(&home, &args),
        Command::Export(args) => record::export(&home, &args),
        Command::Import(args) => record::import(&home, &args),
        Command::Up(args) => network::up(&home, &args),
        Command::Web(args) => network::web(&home, args.json),
        Command::Relay(args) => network::relay(&home, &args),
        Command::Verify(_) => Ok(()),
    }
    .map(|()| ExitCode::SUCCESS)
}

pub(crate) use network::{invitation_token, invited};

/// A delegation's id as an SVG QR code, for comparing in person (`entente:delegation=ID`).
pub(crate) fn identity_qr(delegation: &entente_protocol::DelegationId) -> Result<String> {
    let code = qrcode::QrCode::new(format!("entente:delegation={delegation}").as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot make a QR code: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(160, 160)
        .build())
}

/// Prints a value as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    crate::output::write_line(format_args!("{}", serde_json::to_string_pretty(value)?))?;
    Ok(())
}
