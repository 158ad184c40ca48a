//! The command-line front end: parses arguments, loads the scenario, runs
//! it and writes the chosen rendering to stdout or to the `-o` file.
//!
//! Exit status: 0 when all went well, 1 when the run itself failed or the
//! output could not be written, 2 when the input (flags, file, scenario)
//! is wrong. Diagnostics go to stderr; only the rendering goes to stdout.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::output::{self, OutputError};
use crate::provenance::Provenance;
use crate::render::{json, jsonl, mermaid, msc, pcap, plantuml, text};
use crate::scenario::{self, Overrides};
use crate::sim;
use crate::trace::Trace;

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
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Writes to FILE (replaced atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
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
    /// A Mermaid sequence diagram.
    Mermaid,
    /// A PlantUML sequence diagram.
    Plantuml,
    /// An mscgen message sequence chart.
    Msc,
    /// The whole trace as one JSON document.
    Json,
    /// The trace as JSON Lines: a header line, then one event per line.
    Jsonl,
    /// A packet capture (pcapng) for Wireshark.
    Pcap,
}

impl Format {
    /// Tells whether the format is binary, not text.
    fn is_binary(self) -> bool {
        self == Format::Pcap
    }
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

/// Loads, runs and renders one scenario, and writes the rendering.
fn run(args: &RunArgs) -> ExitCode {
    if let Err(error) = check_destination(args) {
        return fail(error.exit_status(), &error.to_string());
    }
    let overrides = Overrides { seed: args.seed };
    let scenario = match scenario::load(&args.scenario, &overrides) {
        Ok(scenario) => scenario,
        Err(error) => return fail(2, &error.to_string()),
    };
    let content = match std::fs::read(&args.scenario) {
        Ok(content) => content,
        Err(error) => {
            return fail(
                2,
                &format!("{}: cannot read the file: {error}", args.scenario),
            );
        }
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
    let provenance = Provenance::new(Path::new(&args.scenario), &content, outcome.trace.seed);
    let rendering = match render(args, &outcome.trace, &provenance) {
        Ok(rendering) => rendering,
        Err(message) => return fail(1, &message),
    };
    let written = match &args.output {
        Some(path) => output::write_file(path, &rendering),
        None => output::write_stdout(&rendering),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error.exit_status(), &error.to_string()),
    }
}

/// Checks, before the run, that the output can go where it is asked to.
fn check_destination(args: &RunArgs) -> Result<(), OutputError> {
    match &args.output {
        Some(path) => output::check_path(path, Path::new(&args.scenario)),
        None if args.format.is_binary() => output::check_stdout_for_binary(),
        None => Ok(()),
    }
}

/// Renders the trace in the chosen format.
fn render(args: &RunArgs, trace: &Trace, provenance: &Provenance) -> Result<Vec<u8>, String> {
    let text = match args.format {
        Format::Text => text::render(trace, &text_options(args)),
        Format::Mermaid => mermaid::render(trace, provenance),
        Format::Plantuml => plantuml::render(trace, provenance),
        Format::Msc => msc::render(trace, provenance),
        Format::Json => json::render(trace, provenance),
        Format::Jsonl => jsonl::render(trace, provenance),
        Format::Pcap => {
            return pcap::render(trace, provenance)
                .map_err(|error| format!("cannot build the capture: {error}"));
        }
    };
    Ok(text.into_bytes())
}

/// Chooses the diagram's width and character set.
///
/// The terminal's width counts only when the diagram goes to it.
fn text_options(args: &RunArgs) -> text::Options {
    let to_terminal = args.output.is_none();
    let width = args
        .width
        .map(usize::from)
        .unwrap_or_else(|| terminal_width(to_terminal));
    text::Options {
        width,
        unicode: args.unicode,
    }
}

/// Returns the terminal's width, or the default when the output does not
/// go to a terminal.
fn terminal_width(to_stdout: bool) -> usize {
    if !to_stdout || !std::io::stdout().is_terminal() {
        return DEFAULT_WIDTH;
    }
    terminal_size::terminal_size().map_or(DEFAULT_WIDTH, |(width, _)| usize::from(width.0).max(40))
}

/// Prints an error and returns its exit status.
fn fail(status: u8, message: &str) -> ExitCode {
    eprintln!("seqsim: error: {message}");
    ExitCode::from(status)
}
