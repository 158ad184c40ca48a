//! The command-line front end: parses arguments, loads the scenario, runs
//! it and writes the chosen rendering; checks a scenario against the RFCs
//! without running it; compares two runs; prints the scenario schema.
//!
//! Exit status: 0 when all went well, 1 when the run itself failed or the
//! output could not be written, 2 when the input (flags, file, scenario)
//! is wrong. Diagnostics go to stderr; only the rendering goes to stdout.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::conformance;
use crate::diff::{self, Comparison, Mark};
use crate::render::{json, text};
use crate::scenario::{self, Overrides, Setting};
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
    /// Checks a scenario without running it; lists where a script departs
    /// from the RFCs (exit 0 clean, 1 departures found, 2 bad input).
    Check(CheckArgs),
    /// Runs two scenarios (or one twice, under other seeds or overrides)
    /// and draws one diagram marking what differs (exit 0 same, 1 differ).
    Diff(DiffArgs),
    /// Prints the JSON Schema of the scenario format, for editors.
    Schema,
}

/// Options of `seqsim diff`.
#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// The first scenario, A.
    a: String,
    /// The second scenario, B [default: A again].
    b: Option<String>,
    /// Changes one value of both scenarios (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Changes one value of A only (repeatable).
    #[arg(long = "set-a", value_name = "PATH=VALUE")]
    sets_a: Vec<String>,
    /// Changes one value of B only (repeatable).
    #[arg(long = "set-b", value_name = "PATH=VALUE")]
    sets_b: Vec<String>,
    /// Replaces A's seed.
    #[arg(long)]
    seed_a: Option<u64>,
    /// Replaces B's seed.
    #[arg(long)]
    seed_b: Option<u64>,
    /// Draws with Unicode box-drawing characters instead of ASCII.
    #[arg(long)]
    unicode: bool,
    /// Total width of the diagram in columns [default: the terminal's
    /// width, or 120 when not printing to a terminal].
    #[arg(long, value_parser = clap::value_parser!(u16).range(40..=1000))]
    width: Option<u16>,
}

/// Options of `seqsim check`.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The scenario file (YAML).
    scenario: String,
    /// Replaces the scenario's seed (the same as --set seed=N).
    #[arg(long)]
    seed: Option<u64>,
    /// Changes one value of the scenario, e.g. links[0].latency=50ms (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
}

/// Options of `seqsim run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario file (YAML).
    scenario: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Replaces the scenario's seed (the same as --set seed=N).
    #[arg(long)]
    seed: Option<u64>,
    /// Changes one value of the scenario, e.g. links[0].latency=50ms (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
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
        Command::Check(args) => check(&args),
        Command::Diff(args) => compare(&args),
        Command::Schema => write_stdout(&scenario::json_schema()),
    }
}

/// Runs both sides of a diff and draws the merged exchange.
fn compare(args: &DiffArgs) -> ExitCode {
    let b_file = args.b.as_deref().unwrap_or(&args.a);
    let sides = [
        (&args.a, args.seed_a, &args.sets_a),
        (&b_file.to_string(), args.seed_b, &args.sets_b),
    ];
    let mut traces = Vec::new();
    for (file, seed, own) in sides {
        let sets: Vec<String> = args.sets.iter().chain(own.iter()).cloned().collect();
        let scenario = match load(file, seed, &sets) {
            Ok(scenario) => scenario,
            Err(status) => return status,
        };
        match sim::run(&scenario) {
            Ok(outcome) => traces.push(outcome.trace),
            Err(error) => return fail(1, &format!("{file}: {error}")),
        }
    }
    let comparison = diff::compare(&traces[0], &traces[1]);
    let heading = diff_heading(args, b_file, &traces);
    let marks: Vec<char> = comparison.marks.iter().map(|mark| mark.symbol()).collect();
    let margin = text::Margin {
        marks: &marks,
        heading: &heading,
    };
    let options = text::Options {
        width: args.width.map(usize::from).unwrap_or_else(terminal_width),
        unicode: args.unicode,
    };
    let mut out = text::render_with_margin(&comparison.trace, &options, &margin);
    out.push_str(&diff_summary(&comparison));
    let status = write_stdout(&out);
    if comparison.same() {
        status
    } else {
        ExitCode::from(1)
    }
}

/// Writes the legend: which run is A and which is B.
fn diff_heading(args: &DiffArgs, b_file: &str, traces: &[crate::trace::Trace]) -> Vec<String> {
    let describe = |file: &str, trace: &crate::trace::Trace, sets: &[String]| {
        let mut text = format!("{file} (seed {}", trace.seed);
        for setting in args.sets.iter().chain(sets) {
            text.push_str(&format!(", --set {setting}"));
        }
        text + ")"
    };
    vec![
        format!(
            "- only in A: {}",
            describe(&args.a, &traces[0], &args.sets_a)
        ),
        format!(
            "+ only in B: {}",
            describe(b_file, &traces[1], &args.sets_b)
        ),
        "~ in both, at another place in B (drawn where B has it)".to_string(),
    ]
}

/// Writes the closing line: how many messages differ.
fn diff_summary(comparison: &Comparison) -> String {
    let both = comparison.count(Mark::Both);
    if comparison.same() {
        return format!(
            "\nThe exchanges are the same: {both} messages in both, in the same order.\n"
        );
    }
    let (a, b, moved) = (
        comparison.count(Mark::OnlyA),
        comparison.count(Mark::OnlyB),
        comparison.count(Mark::Moved),
    );
    format!(
        "\nThe exchanges differ: {a} only in A, {b} only in B, {moved} moved, {both} in both.\n"
    )
}

/// Validates a scenario and lists its script's departures from the RFCs.
fn check(args: &CheckArgs) -> ExitCode {
    let scenario = match load(&args.scenario, args.seed, &args.sets) {
        Ok(scenario) => scenario,
        Err(status) => return status,
    };
    let file = &args.scenario;
    if scenario.script.is_empty() {
        let note = format!(
            "{file}: valid. It has no script: its messages come from the protocol models, which follow the RFCs by construction, so there is nothing more to check.\n"
        );
        return write_stdout(&note);
    }
    let report = conformance::check(&scenario);
    let mut out: String = report
        .departures
        .iter()
        .map(|d| format!("{}\n", d.line(file)))
        .collect();
    out.push_str(&check_summary(file, &report));
    let status = write_stdout(&out);
    if report.departures.is_empty() {
        status
    } else {
        ExitCode::from(1)
    }
}

/// Writes the last lines of `seqsim check`: counts, and what was not checked.
fn check_summary(file: &str, report: &conformance::Report) -> String {
    let mut summary = match (report.departures.len(), report.checked_steps) {
        (0, 0) => format!("{file}: valid; no step uses a protocol seqsim checks (SMTP, DNS).\n"),
        (0, 1) => format!(
            "{file}: valid; the one step read by the SMTP and DNS rules follows the RFCs.\n"
        ),
        (0, checked) => format!(
            "{file}: valid; the {checked} steps read by the SMTP and DNS rules follow the RFCs.\n"
        ),
        (1, _) => format!("{file}: 1 departure from the standards.\n"),
        (count, _) => format!("{file}: {count} departures from the standards.\n"),
    };
    if !report.unchecked_steps.is_empty() {
        let numbers: Vec<String> = report
            .unchecked_steps
            .iter()
            .map(usize::to_string)
            .collect();
        let list = numbers.join(", ");
        let steps = if numbers.len() == 1 { "step" } else { "steps" };
        summary.push_str(&format!(
            "{file}: not checked, as seqsim has no model of their protocol: {steps} {list}.\n"
        ));
    }
    summary
}

/// Loads, runs and renders one scenario.
fn run(args: &RunArgs) -> ExitCode {
    let scenario = match load(&args.scenario, args.seed, &args.sets) {
        Ok(scenario) => scenario,
        Err(status) => return status,
    };
    let outcome = match sim::run(&scenario) {
        Ok(outcome) => outcome,
        Err(error) => return fail(1, &format!("{}: {error}", args.scenario)),
    };
    if let Some(step) = outcome.stalled_step {
        let why = "its message never arrived (lost on a lossy link, or no path); seqsim does not retransmit yet";
        eprintln!(
            "seqsim: warning: {}: the script stopped at step {step}: {why}",
            args.scenario
        );
    }
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

/// Loads a scenario with its overrides; on bad input, prints why and
/// returns exit status 2.
fn load(file: &str, seed: Option<u64>, sets: &[String]) -> Result<scenario::Scenario, ExitCode> {
    let sets = sets
        .iter()
        .map(|argument| Setting::parse(argument))
        .collect::<Result<Vec<_>, _>>();
    let sets = sets.map_err(|why| fail(2, &why))?;
    let overrides = Overrides { seed, sets };
    scenario::load(file, &overrides).map_err(|error| fail(2, &error.to_string()))
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
