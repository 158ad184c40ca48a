//! The command-line front end: parses arguments, loads the scenario, runs
//! it and writes the chosen rendering to stdout or to the `-o` file;
//! checks a scenario against the RFCs without running it; compares two
//! runs; prints the scenario schema.
//!
//! Exit status: 0 when all went well, 1 when the run itself failed or the
//! output could not be written, 2 when the input (flags, file, scenario)
//! is wrong. Diagnostics go to stderr; only the rendering goes to stdout.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::conformance;
use crate::diff::{self, Comparison, Mark};
use crate::output;
use crate::provenance::Provenance;
use crate::render::{json, jsonl, mermaid, msc, pcap, plantuml, summary, text};
use crate::scenario::{self, Overrides, Setting};
use crate::sim;
use crate::sweep;
use crate::trace::Trace;

/// The most hosts a text diagram (of `run` or `diff`) draws.
const MAX_TEXT_HOSTS: usize = 64;

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
    /// Runs a scenario under a range of seeds (and every combination of
    /// --set values), in parallel, and writes one row of figures per run.
    Sweep(SweepArgs),
    /// Prints the JSON Schema of the scenario format, for editors.
    Schema,
}

/// Options of `seqsim sweep`.
#[derive(Debug, clap::Args)]
struct SweepArgs {
    /// The scenario file (YAML).
    scenario: String,
    /// The seeds, both ends included, e.g. 1..1000.
    #[arg(long, value_name = "A..B", allow_hyphen_values = true)]
    seeds: String,
    /// Gives one key each of these values in turn, e.g.
    /// links[0].loss=0,0.05,0.1 (repeatable; every combination runs).
    #[arg(long = "set", value_name = "PATH=VALUE[,VALUE...]")]
    sets: Vec<String>,
    /// How many runs go at once [default: the number of processors].
    #[arg(
        long,
        value_parser = clap::value_parser!(u16).range(1..),
        allow_negative_numbers = true
    )]
    threads: Option<u16>,
    /// Runs only the i-th of n equal slices of the sweep, e.g. 3/8.
    #[arg(long, value_name = "i/n")]
    shard: Option<String>,
    /// The rows' format.
    #[arg(long, value_enum, default_value_t = RowFormat::Csv)]
    format: RowFormat,
    /// Writes to FILE (replaced atomically) instead of standard output
    /// (`-` is standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Formats of a sweep's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RowFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
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
    #[arg(long, value_parser = parse_seed, allow_negative_numbers = true)]
    seed_a: Option<u64>,
    /// Replaces B's seed.
    #[arg(long, value_parser = parse_seed, allow_negative_numbers = true)]
    seed_b: Option<u64>,
    /// Draws with Unicode box-drawing characters instead of ASCII.
    #[arg(long)]
    unicode: bool,
    /// Total width of the diagram in columns [default: the terminal's
    /// width, or 120 when not printing to a terminal].
    #[arg(
        long,
        value_parser = clap::value_parser!(u16).range(40..=1000),
        allow_negative_numbers = true
    )]
    width: Option<u16>,
}

/// Options of `seqsim check`.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The scenario file (YAML).
    scenario: String,
    /// Replaces the scenario's seed (the same as --set seed=N).
    #[arg(long, value_parser = parse_seed, allow_negative_numbers = true)]
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
    /// What to write.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Writes to FILE (replaced atomically) instead of standard output
    /// (`-` is standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replaces the scenario's seed (the same as --set seed=N).
    #[arg(long, value_parser = parse_seed, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Changes one value of the scenario, e.g. links[0].latency=50ms (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Draws with Unicode box-drawing characters instead of ASCII.
    #[arg(long)]
    unicode: bool,
    /// Total width of the text diagram in columns [default: the
    /// terminal's width, or 120 when not printing to a terminal].
    #[arg(
        long,
        value_parser = clap::value_parser!(u16).range(40..=1000),
        allow_negative_numbers = true
    )]
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
    /// The run in figures: messages by kind, octets, retransmissions,
    /// mails delivered and failed, delivery time percentiles, events.
    Summary,
}

impl Format {
    /// Tells whether the format is binary, not text.
    fn is_binary(self) -> bool {
        self == Format::Pcap
    }
}

/// Reads `-o -` as standard output, as most tools do.
fn standard_output_as_none(output: Option<PathBuf>) -> Option<PathBuf> {
    output.filter(|path| path.as_os_str() != "-")
}

/// Reads a seed flag's value; a negative number or a fraction is
/// refused with the range a seed has.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("a seed is a whole number from 0 to {}", u64::MAX))
}

/// Runs the command line and returns the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_refusal(&error),
    };
    match cli.command {
        Command::Run(mut args) => {
            args.output = standard_output_as_none(args.output);
            run(&args)
        }
        Command::Check(args) => check(&args),
        Command::Diff(args) => compare(&args),
        Command::Sweep(mut args) => {
            args.output = standard_output_as_none(args.output);
            sweep(&args)
        }
        Command::Schema => write_stdout(&scenario::json_schema()),
    }
}

/// Prints what clap found wrong with the arguments the way every other
/// error is printed, `seqsim: error: ...` and exit status 2, keeping its
/// tips and usage line; `--help` and `--version` go to stdout, status 0.
fn clap_refusal(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let text = error.render().to_string();
    let message = match text.strip_prefix("error: ") {
        Some(message) => message.to_string(),
        // Only the bare `seqsim` comes here, and clap's text is the help.
        None => format!("a command is required\n\n{text}"),
    };
    fail(2, message.trim_end())
}

/// Runs both sides of a diff and draws the merged exchange.
fn compare(args: &DiffArgs) -> ExitCode {
    let b_file = args.b.as_deref().unwrap_or(&args.a);
    let sides = [
        (&args.a, args.seed_a, "--set-a", &args.sets_a),
        (&b_file.to_string(), args.seed_b, "--set-b", &args.sets_b),
    ];
    let mut traces = Vec::new();
    for (file, seed, flag, own) in sides {
        let both = parse_sets("--set", &args.sets);
        let sets = both.and_then(|both| Ok([both, parse_sets(flag, own)?].concat()));
        let loaded = sets.and_then(|sets| load_parsed(file, seed, sets));
        let scenario = match loaded.map(|(scenario, _)| scenario) {
            Ok(scenario) => scenario,
            Err(status) => return status,
        };
        if let Err(why) = fits_a_text_diagram(&scenario) {
            return fail(2, &format!("{file}: {why}"));
        }
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
        width: args
            .width
            .map(usize::from)
            .unwrap_or_else(|| terminal_width(true)),
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

/// Loads, runs and renders one scenario, and writes the rendering.
fn run(args: &RunArgs) -> ExitCode {
    if let Err(status) = check_destination(args) {
        return status;
    }
    let (scenario, content) = match load_with_text(&args.scenario, args.seed, &args.sets) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    if args.format == Format::Text
        && let Err(why) = fits_a_text_diagram(&scenario)
    {
        return fail(2, &format!("{}: {why}", args.scenario));
    }
    let provenance = Provenance::new(Path::new(&args.scenario), content.as_bytes(), scenario.seed)
        .with_sets(&args.sets);
    if matches!(args.format, Format::Jsonl | Format::Pcap) && !has_remarks(&scenario) {
        return stream(args, &scenario, &provenance);
    }
    let rendering = if args.format == Format::Summary {
        summarize(args, &scenario, &provenance)
    } else {
        run_whole(args, &scenario, &provenance)
    };
    let rendering = match rendering {
        Ok(rendering) => rendering,
        Err(status) => return status,
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

/// Refuses a scenario with more hosts than a text diagram draws.
///
/// The text diagram gives each host a column on every row, so its size
/// grows with hosts times messages: a population of a thousand would
/// need gigabytes to draw a diagram no one could read.
fn fits_a_text_diagram(scenario: &scenario::Scenario) -> Result<(), String> {
    let hosts = scenario.participants.len();
    if hosts <= MAX_TEXT_HOSTS {
        return Ok(());
    }
    Err(format!(
        "the text diagram draws a column for each host, at most {MAX_TEXT_HOSTS}, and this run has {hosts}; \
         use --format summary, jsonl, pcap, mermaid or plantuml, or a smaller population"
    ))
}

/// Tells whether a scenario has remarks, which need the whole run.
fn has_remarks(scenario: &scenario::Scenario) -> bool {
    !scenario.remarks.is_empty() || scenario.script.iter().any(|step| step.remark.is_some())
}

/// Why a streamed output stopped: the run failed, or writing did.
enum StreamFailure {
    /// The run or the capture failed; the message says why.
    Run(String),
    /// Writing the output failed.
    Write(std::io::Error),
}

/// Runs the scenario writing its JSON Lines or capture as they come,
/// keeping no trace.
fn stream(args: &RunArgs, scenario: &scenario::Scenario, provenance: &Provenance) -> ExitCode {
    let mut failure = None;
    let produce = |out: &mut dyn Write| {
        let streamed = match args.format {
            Format::Pcap => stream_pcap(scenario, provenance, out),
            _ => stream_jsonl(scenario, provenance, out),
        };
        match streamed {
            Ok(streamed) => {
                warn_about_ending(args, &streamed);
                Ok(())
            }
            Err(StreamFailure::Write(error)) => Err(error),
            Err(StreamFailure::Run(message)) => {
                failure = Some(message);
                Err(std::io::Error::other("the run failed"))
            }
        }
    };
    let written = match &args.output {
        Some(path) => output::write_file_with(path, produce),
        None => output::write_stdout_with(produce),
    };
    if let Some(message) = failure {
        return fail(1, &format!("{}: {message}", args.scenario));
    }
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error.exit_status(), &error.to_string()),
    }
}

/// Runs the scenario into JSON Lines; returns how the run ended.
fn stream_jsonl(
    scenario: &scenario::Scenario,
    provenance: &Provenance,
    out: &mut dyn Write,
) -> Result<sim::Streamed, StreamFailure> {
    let participants = sim::trace_participants(scenario);
    let mut lines = jsonl::Stream::new(out, &scenario.title, &participants, provenance);
    let streamed = sim::run_into(scenario, &mut lines)
        .map_err(|error| StreamFailure::Run(error.to_string()))?;
    lines.finish().map_err(StreamFailure::Write)?;
    Ok(streamed)
}

/// Runs the scenario into a capture; returns how the run ended.
fn stream_pcap(
    scenario: &scenario::Scenario,
    provenance: &Provenance,
    out: &mut dyn Write,
) -> Result<sim::Streamed, StreamFailure> {
    let capture_failed = |error: pcap::PcapError| match error {
        pcap::PcapError::File(pcap_file::PcapError::IoError(error)) => StreamFailure::Write(error),
        other => StreamFailure::Run(format!("cannot build the capture: {other}")),
    };
    let mut capture =
        pcap::Stream::new(out, &scenario.title, provenance).map_err(capture_failed)?;
    let streamed = sim::run_into(scenario, &mut capture)
        .map_err(|error| StreamFailure::Run(error.to_string()))?;
    capture.finish().map_err(capture_failed)?;
    Ok(streamed)
}

/// Runs the scenario keeping only its figures, and renders them.
fn summarize(
    args: &RunArgs,
    scenario: &scenario::Scenario,
    provenance: &Provenance,
) -> Result<Vec<u8>, ExitCode> {
    let mut figures = summary::Summary::new();
    let streamed = sim::run_into(scenario, &mut figures)
        .map_err(|error| fail(1, &format!("{}: {error}", args.scenario)))?;
    warn_about_ending(args, &streamed);
    figures.set_events(streamed.events);
    Ok(summary::render(&figures, &scenario.title, provenance).into_bytes())
}

/// Runs the scenario keeping its whole trace, and renders it.
fn run_whole(
    args: &RunArgs,
    scenario: &scenario::Scenario,
    provenance: &Provenance,
) -> Result<Vec<u8>, ExitCode> {
    let outcome =
        sim::run(scenario).map_err(|error| fail(1, &format!("{}: {error}", args.scenario)))?;
    warn_if_stalled(args, outcome.stalled_step);
    warn_if_open(args, &outcome.open_recipients);
    for unmatched in &outcome.unmatched_remarks {
        to_stderr(&format!(
            "seqsim: warning: {}: remarks[{}] found no {}",
            args.scenario, unmatched.index, unmatched.wanted
        ));
    }
    render(args, &outcome.trace, provenance).map_err(|message| fail(1, &message))
}

/// Warns about a stalled script or recipients left without an outcome.
fn warn_about_ending(args: &RunArgs, streamed: &sim::Streamed) {
    warn_if_stalled(args, streamed.stalled_step);
    warn_if_open(args, &streamed.open_recipients);
}

/// Warns when the run ended with recipients neither delivered nor failed.
fn warn_if_open(args: &RunArgs, open_recipients: &[String]) {
    for recipient in open_recipients {
        to_stderr(&format!(
            "seqsim: warning: {}: the run ended with no outcome for {recipient}",
            args.scenario
        ));
    }
}

/// Warns when a script stopped at a step whose message never arrived.
fn warn_if_stalled(args: &RunArgs, stalled_step: Option<usize>) {
    if let Some(step) = stalled_step {
        let why = "its message never arrived (TCP gave up after its last retransmission, or no path leads there)";
        to_stderr(&format!(
            "seqsim: warning: {}: the script stopped at step {step}: {why}",
            args.scenario
        ));
    }
}

/// Runs a sweep and writes its rows; exit status 1 when a run failed.
fn sweep(args: &SweepArgs) -> ExitCode {
    let plan = match plan_sweep(args) {
        Ok(plan) => plan,
        Err(status) => return status,
    };
    let (text, parameters, runs) = plan;
    let threads = args.threads.map_or_else(default_threads, usize::from);
    let progress = progress_bar(runs.len());
    let tick = || progress.inc(1);
    let mut any_failed = false;
    let produce = |out: &mut dyn Write| {
        if args.format == RowFormat::Csv {
            out.write_all(&sweep::csv_header(&parameters))?;
        }
        let emit = |rows: &[sweep::Row]| {
            any_failed |= rows.iter().any(|row| row.outcome.starts_with("error"));
            match args.format {
                RowFormat::Csv => out.write_all(&sweep::to_csv_rows(rows)),
                RowFormat::Jsonl => out.write_all(&sweep::to_jsonl(&parameters, rows)),
            }
        };
        sweep::run_in_batches(
            &args.scenario,
            &text,
            &parameters,
            &runs,
            threads,
            &tick,
            emit,
        )
    };
    let written = match &args.output {
        Some(path) => output::write_file_with(path, produce),
        None => output::write_stdout_with(produce),
    };
    progress.finish_and_clear();
    if let Err(error) = written {
        return fail(error.exit_status(), &error.to_string());
    }
    if any_failed {
        return fail(1, "some runs failed; their rows say why");
    }
    ExitCode::SUCCESS
}

/// The most runs one sweep may list.
const MAX_SWEEP_RUNS: u64 = 100_000_000;

/// The scenario text, the parameters and this shard's runs of a sweep.
type SweepPlan = (String, Vec<sweep::Parameter>, Vec<sweep::RunSpec>);

/// Reads the flags and the scenario, and lists this shard's runs; every
/// combination of values is checked before any run starts.
fn plan_sweep(args: &SweepArgs) -> Result<SweepPlan, ExitCode> {
    if let Some(path) = &args.output {
        check_output_path(path, &args.scenario)?;
    }
    let seeds = sweep::parse_seeds(&args.seeds).map_err(|why| fail(2, &why))?;
    let parameters = args
        .sets
        .iter()
        .map(|set| sweep::Parameter::parse(set))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|why| fail(2, &why))?;
    sweep::check_distinct(&parameters).map_err(|why| fail(2, &why))?;
    let shard = match &args.shard {
        Some(text) => Some(sweep::Shard::parse(text).map_err(|why| fail(2, &why))?),
        None => None,
    };
    let text = scenario::read_text(&args.scenario).map_err(|e| fail(2, &e.to_string()))?;
    scenario::positions::check_nesting(&args.scenario, &text)
        .map_err(|e| fail(2, &e.to_string()))?;
    // Every seed from 0 to u64::MAX is 2^64 seeds, one more than a u64
    // holds: that count overflows, as it should, to "too many".
    let seed_count = (seeds.end() - seeds.start()).checked_add(1);
    let total = seed_count.and_then(|seeds| {
        parameters
            .iter()
            .try_fold(seeds, |runs, p| runs.checked_mul(p.values.len() as u64))
    });
    if total.is_none_or(|total| total > MAX_SWEEP_RUNS) {
        let why =
            format!("the sweep has more than {MAX_SWEEP_RUNS} runs; split it into smaller ones");
        return Err(fail(2, &why));
    }
    let all = sweep::plan(&parameters, seeds.clone());
    let per_combination = (seeds.end() - seeds.start()) as usize + 1;
    for first_of_combination in all.iter().step_by(per_combination.max(1)) {
        sweep::check(&args.scenario, &text, &parameters, first_of_combination)
            .map_err(|e| fail(2, &e.to_string()))?;
    }
    let range = shard.map_or(0..all.len(), |shard| shard.range(all.len()));
    let runs = all[range].to_vec();
    Ok((text, parameters, runs))
}

/// Returns the number of processors, or 1 when it cannot be told.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Returns a progress bar on stderr when stderr is a terminal, else a
/// hidden one.
fn progress_bar(runs: usize) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(runs as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {eta} left")
        .expect("the progress template is valid");
    bar.set_style(style);
    bar
}

/// Checks, before the run, that the output can go where it is asked to.
fn check_destination(args: &RunArgs) -> Result<(), ExitCode> {
    match &args.output {
        Some(path) => check_output_path(path, &args.scenario),
        None if args.format.is_binary() => {
            output::check_stdout_for_binary().map_err(|e| fail(e.exit_status(), &e.to_string()))
        }
        None => Ok(()),
    }
}

/// Checks an `-o` path before the run; one ending in `/` names a
/// directory even when none exists there yet.
fn check_output_path(path: &Path, scenario: &str) -> Result<(), ExitCode> {
    let written = path.as_os_str().to_string_lossy();
    if written.ends_with('/') {
        let why = format!("-o {written}: ends in `/`, so it names a directory; give a file name");
        return Err(fail(2, &why));
    }
    output::check_path(path, Path::new(scenario))
        .map_err(|error| fail(error.exit_status(), &error.to_string()))
}

/// Renders the whole trace in the chosen format.
fn render(args: &RunArgs, trace: &Trace, provenance: &Provenance) -> Result<Vec<u8>, String> {
    let text = match args.format {
        Format::Text => {
            let options = text_options(args);
            let diagram = text::render(trace, &options);
            warn_if_wider(&diagram, options.width, args.width.is_some());
            diagram
        }
        Format::Mermaid => mermaid::render(trace, provenance),
        Format::Plantuml => plantuml::render(trace, provenance),
        Format::Msc => msc::render(trace, provenance),
        Format::Json => json::render(trace, provenance),
        Format::Jsonl => jsonl::render(trace, provenance),
        Format::Summary => {
            unreachable!("the summary is kept while running, not rendered from a trace")
        }
        Format::Pcap => {
            return pcap::render(trace, provenance)
                .map_err(|error| format!("cannot build the capture: {error}"));
        }
    };
    Ok(text.into_bytes())
}

/// Loads a scenario with its overrides; on bad input, prints why and
/// returns exit status 2.
fn load(file: &str, seed: Option<u64>, sets: &[String]) -> Result<scenario::Scenario, ExitCode> {
    load_with_text(file, seed, sets).map(|(scenario, _)| scenario)
}

/// Loads a scenario with its overrides and returns the text it was read
/// from too, read once, so the provenance hashes exactly what ran.
fn load_with_text(
    file: &str,
    seed: Option<u64>,
    sets: &[String],
) -> Result<(scenario::Scenario, String), ExitCode> {
    load_parsed(file, seed, parse_sets("--set", sets)?)
}

/// Parses `PATH=VALUE` arguments given with `flag`; a bad one is
/// reported with exit status 2.
fn parse_sets(flag: &str, arguments: &[String]) -> Result<Vec<Setting>, ExitCode> {
    let sets = arguments
        .iter()
        .map(|argument| Setting::parse_given_by(flag, argument))
        .collect::<Result<Vec<_>, _>>();
    sets.map_err(|why| fail(2, &why))
}

/// Loads a scenario with parsed overrides, as [`load_with_text`] does.
fn load_parsed(
    file: &str,
    seed: Option<u64>,
    sets: Vec<Setting>,
) -> Result<(scenario::Scenario, String), ExitCode> {
    refuse_seed_given_twice(seed, &sets)?;
    let overrides = Overrides { seed, sets };
    let refuse = |error: scenario::ScenarioError| fail(2, &error.to_string());
    let text = scenario::read_text(file).map_err(refuse)?;
    scenario::positions::check_nesting(file, &text).map_err(refuse)?;
    let scenario = scenario::parse(file, &text, &overrides).map_err(refuse)?;
    Ok((scenario, text))
}

/// Refuses a seed given both by a seed flag and by `--set seed=N`, where
/// one would win over the other without a word.
fn refuse_seed_given_twice(seed: Option<u64>, sets: &[Setting]) -> Result<(), ExitCode> {
    match (seed, sets.iter().find(|set| set.path == "seed")) {
        (Some(seed), Some(set)) => Err(fail(
            2,
            &format!(
                "the seed is given twice, as {seed} by a seed flag and by {} {}; give it once",
                set.flag, set.argument
            ),
        )),
        _ => Ok(()),
    }
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

/// Writes a report to stdout; a closed pipe (as with `| head`) is not an error.
fn write_stdout(rendering: &str) -> ExitCode {
    match output::write_stdout(rendering.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error.exit_status(), &error.to_string()),
    }
}

/// Warns when the diagram came out wider than the width asked for (or
/// the default), which happens when participant names or times alone
/// need more room.
fn warn_if_wider(diagram: &str, width: usize, asked: bool) {
    use unicode_width::UnicodeWidthStr;
    let widest = diagram
        .lines()
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(0);
    let limit = if asked {
        format!("--width {width}")
    } else {
        format!("the width of {width} columns (set it with --width)")
    };
    if widest > width {
        to_stderr(&format!(
            "seqsim: warning: the diagram needs {widest} columns, more than {limit}; it is drawn {widest} wide"
        ));
    }
}

/// Prints an error and returns its exit status.
fn fail(status: u8, message: &str) -> ExitCode {
    to_stderr(&format!("seqsim: error: {message}"));
    ExitCode::from(status)
}

/// Writes one line to stderr. A closed or full stderr is ignored: the
/// exit status still tells what happened, and a message cannot be
/// written anywhere else.
fn to_stderr(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
