//! The command-line front end: parses arguments, loads the scenario, runs
//! it and writes the chosen rendering.
//!
//! Exit status: 0 when all went well, 1 when the run itself failed or the
//! output could not be written, 2 when the input (flags, file, scenario)
//! is wrong. Diagnostics go to stderr; only the rendering goes to stdout.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::render::{json, text};
use crate::scenario::{self, Overrides};
use crate::sim;

/// The width used when stdout is not a terminal and no --width is given.
pub const DEFAULT_WIDTH: usize = 120;

/// Replays network protocol scenarios and draws them as sequence diagrams.
#[derive(Debug, Parser)]
#[command(name = "seqsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a scenario and prints what happened.
    Run(RunArgs),
}

/// Options of `seqsim run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file (YAML).
    scenario: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Replaces the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Draws with Unicode box-drawing characters instead of ASCII.
    #[arg(long)]
    unicode: bool,
    /// Total width of the text diagram in columns [default: the
    /// terminal's width, or 120 when not printing to a terminal].
    #[arg(long, value_parser = clap::value_parser!(u16).range(40..=1000))]
    width: Option<u16>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The text sequence diagram.
    Text,
    /// The whole trace as JSON.
    Json,
}

/// Runs the command line and returns the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Run(args) => run(&args),
    }
}

/// Loads, runs and renders one scenario.
fn run(args: &RunArgs) -> ExitCode {
    let overrides = Overrides { seed: args.seed };
    let scenario = match scenario::load(&args.scenario, &overrides) {
        Ok(scenario) => scenario,
        Err(error) => return fail(2, &error.to_string()),
    };
    let outcome = match sim::run(&scenario) {
        Ok(outcome) => outcome,
        Err(error) => return fail(1, &format!("{}: {error}", args.scenario)),
    };
    for unmatched in &outcome.unmatched_remarks {
        eprintln!(
            "seqsim: warning: {}: remarks[{}] found no {}",
            args.scenario, unmatched.index, unmatched.wanted
        );
    }
    let rendering = match args.format {
        Format::Text => text::render(&outcome.trace, &text_options(args)),
        Format::Json => json::render(&outcome.trace),
    };
    write_stdout(&rendering)
}

/// Chooses the diagram's width and character set.
fn text_options(args: &RunArgs) -> text::Options {
    let width = args.width.map(usize::from).unwrap_or_else(terminal_width);
    text::Options {
        width,
        unicode: args.unicode,
    }
}

/// Returns the terminal's width, or the default when stdout is not one.
fn terminal_width() -> usize {
    if !std::io::stdout().is_terminal() {
        return DEFAULT_WIDTH;
    }
    terminal_size::terminal_size().map_or(DEFAULT_WIDTH, |(width, _)| usize::from(width.0).max(40))
}

/// Writes the rendering; a closed pipe (as with `| head`) is not an error.
fn write_stdout(rendering: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(rendering.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => fail(1, &format!("cannot write the output: {error}")),
    }
}

/// Prints an error and returns its exit status.
fn fail(status: u8, message: &str) -> ExitCode {
    eprintln!("seqsim: error: {message}");
    ExitCode::from(status)
}
