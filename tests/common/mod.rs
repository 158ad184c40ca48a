//! Helpers the integration tests share: the scenario files to try, running
//! one with its provenance, rendering it in every format, finding the
//! external tools (which must be there in CI and may be missing locally),
//! and writing each message the way the documented exchange's table reads.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use seqsim::provenance::Provenance;
use seqsim::render::{json, jsonl, mermaid, msc, pcap, plantuml, text};
use seqsim::scenario::{self, Overrides};
use seqsim::sim::Run;
use seqsim::trace::{DnsFields, Message};

/// The bundled scenarios and the test fixtures, sorted by path.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files = yaml_files("scenarios");
    files.extend(yaml_files("tests/fixtures"));
    files
}

/// The `.yaml` files of one directory of the crate, sorted.
pub fn yaml_files(directory: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(directory);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", root.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// A scenario's file stem, e.g. `smtp-send`.
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// Loads and runs a scenario, and describes it as the CLI would.
pub fn run_with_provenance(path: &Path) -> (Run, Provenance) {
    let file = path.to_string_lossy();
    let scenario = scenario::load(&file, &Overrides::default()).expect("the scenario is valid");
    let run = seqsim::sim::run(&scenario).expect("the scenario runs to the end");
    let content = std::fs::read(path).expect("the scenario can be read");
    let provenance = Provenance::new(path, &content, run.trace.seed);
    (run, provenance)
}

/// The formats the CLI writes, by their `--format` names.
pub const FORMATS: [&str; 7] = [
    "text", "mermaid", "plantuml", "msc", "json", "jsonl", "pcap",
];

/// Renders a run in one format, as the CLI would without `-o`.
pub fn render(run: &Run, provenance: &Provenance, format: &str) -> Vec<u8> {
    let trace = &run.trace;
    match format {
        "text" => text::render(
            trace,
            &text::Options {
                width: 120,
                unicode: false,
            },
        )
        .into_bytes(),
        "mermaid" => mermaid::render(trace, provenance).into_bytes(),
        "plantuml" => plantuml::render(trace, provenance).into_bytes(),
        "msc" => msc::render(trace, provenance).into_bytes(),
        "json" => json::render(trace, provenance).into_bytes(),
        "jsonl" => jsonl::render(trace, provenance).into_bytes(),
        "pcap" => pcap::render(trace, provenance).expect("the capture builds"),
        other => panic!("unknown format {other}"),
    }
}

/// Tells whether the tests run in CI, where every tool must be present.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
}

/// Finds a program on PATH. In CI a missing program fails the test;
/// elsewhere it prints why the test is skipped and returns `None`.
pub fn require_tool(program: &str, install_hint: &str) -> Option<PathBuf> {
    match find_on_path(program) {
        Some(path) => Some(path),
        None => missing(program, install_hint),
    }
}

/// Reports a missing tool: a failure in CI, a note elsewhere.
pub fn missing<T>(what: &str, install_hint: &str) -> Option<T> {
    assert!(
        !in_ci(),
        "{what} is missing in CI ({install_hint}); .ci/run should have installed it"
    );
    eprintln!("note: {what} not found ({install_hint}); skipping this check outside CI");
    None
}

/// Returns the full path of a program on PATH.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs a command; returns its exit status, stdout and stderr (as text).
pub fn run_tool(command: &mut Command) -> (i32, Vec<u8>, String) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), output.stdout, stderr)
}

/// Drops the banner tshark and PlantUML print when run as root.
pub fn without_root_banner(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| !line.starts_with("Running as user"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A directory for one test's files, removed when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("seqsim-test-")
        .tempdir()
        .expect("a temporary directory")
}

/// The message Luke sends in both documented scenarios, as it travels
/// after DATA and reaches each mailbox: the headers the drawing shows as
/// `<HEADERS>`, a blank line, and the body, each line ended by CRLF.
pub const LUKES_MAIL: &str = "From: Luke <luke@sender.com>\r\n\
                              To: c3po@receiver.com, r2d2@receiver.com\r\n\
                              Subject: Greetings\r\n\
                              \r\n\
                              Hello Robots,\r\n\
                              May the force be with you.\r\n\
                              Luke\r\n";

/// Writes one message as `(sender, receiver, what)`: `S`, `D`, `R` for
/// sender, DNS and receiver; a TCP control name, the payload, or a DNS
/// message written as `dns <kind> <fields>`.
pub fn describe(message: &Message) -> (String, String, String) {
    let short = |id: &str| match id {
        "sender" => "S",
        "dns" => "D",
        "receiver" => "R",
        other => panic!("unexpected participant {other}"),
    };
    let what = if let Some(dns) = &message.dns {
        describe_dns(dns)
    } else if let Some(payload) = &message.payload {
        payload.clone()
    } else {
        control_name(message)
    };
    (
        short(&message.from).to_string(),
        short(&message.to).to_string(),
        what,
    )
}

/// Writes a DNS message as `dns <kind> <question or records>`.
fn describe_dns(dns: &DnsFields) -> String {
    if dns.kind == "query" {
        return format!("dns query {} {}", dns.question_type, dns.question_name);
    }
    let mut records = dns.answers.join(", ");
    for extra in &dns.additional {
        records.push_str(&format!(" + {extra}"));
    }
    format!("dns response {records}")
}

/// Names a segment without data by its flags, as the document does.
fn control_name(message: &Message) -> String {
    let flags = &message
        .tcp
        .as_ref()
        .expect("a message without payload or DNS is TCP")
        .flags;
    let has = |flag: &str| flags.iter().any(|f| f == flag);
    match (has("SYN"), has("FIN"), has("ACK")) {
        (true, _, false) => "SYN",
        (true, _, true) => "SYN_ACK",
        (false, true, _) => "FIN",
        (false, false, true) => "ACK",
        _ => "?",
    }
    .to_string()
}
