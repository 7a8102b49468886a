//! `entente`: the command-line edge of a delegation's node.

use clap::Parser;
use entente_node::{cli, commands, output};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    // Daemons tell their operator what happens; one-shot commands stay quiet unless asked.
    let daemon = matches!(cli.command, cli::Command::Up(_) | cli::Command::Relay(_));
    let default_level = match (cli.verbose, daemon) {
        (0, false) => "warn",
        (0, true) | (1, _) => "warn,entente_node=info,libp2p_kad=error",
        _ => "info,entente_node=debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
