//! Runs the `seqsim` binary as a user would: the bundled scenario, and
//! the bad inputs a user can give it (missing file, broken YAML, a name
//! that refers to nobody, bad flags). Bad input must give a message that
//! names the place and exit status 2, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = "scenarios/smtp-send.yaml";

/// Runs the binary with `args` from the repository root.
fn seqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Writes `text` to a file in `dir` and returns its path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The bundled scenario with one line replaced.
fn scenario_with(old: &str, new: &str) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO)).unwrap();
    assert!(text.contains(old), "the scenario holds `{old}`");
    text.replacen(old, new, 1)
}

/// Checks a run refused its input: status 2, the words wanted, no panic.
fn assert_refused(output: &Output, wanted: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "nothing goes to stdout on bad input"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for word in wanted {
        assert!(stderr.contains(word), "`{word}` missing from: {stderr}");
    }
}

#[test]
fn run_prints_the_diagram_and_exits_zero() {
    let output = seqsim(&["run", SCENARIO]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("SMTP e-mail send\nseed 2004\n"));
    assert!(stdout.contains("VRFY aibo\\r\\n"));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn json_format_prints_the_trace_with_its_format_name() {
    let output = seqsim(&["run", SCENARIO, "--format", "json"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("{\n  \"format\": \"seqsim-trace\",\n  \"version\": 1,"));
}

#[test]
fn seed_flag_changes_the_initial_sequence_numbers() {
    let first = seqsim(&["run", SCENARIO, "--format", "json"]).stdout;
    let reseeded = seqsim(&["run", SCENARIO, "--format", "json", "--seed", "7"]).stdout;
    assert_ne!(first, reseeded);
}

#[test]
fn missing_file_is_named_and_refused() {
    let output = seqsim(&["run", "scenarios/no-such-file.yaml"]);
    assert_refused(
        &output,
        &["scenarios/no-such-file.yaml", "cannot read the file"],
    );
}

#[test]
fn yaml_syntax_error_is_located_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let broken = scenario_with("title: SMTP e-mail send", "title: SMTP: e-mail send");
    let path = write(dir.path(), "broken.yaml", &broken);
    let output = seqsim(&["run", path.to_str().unwrap()]);
    let line = broken
        .lines()
        .position(|l| l.starts_with("title:"))
        .unwrap()
        + 1;
    let place = format!("broken.yaml:{line}:12");
    assert_refused(
        &output,
        &[&place, "mapping values are not allowed in this context"],
    );
}

#[test]
fn link_to_a_participant_that_does_not_exist_names_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let broken = scenario_with("between: [sender, dns]", "between: [sender, dsn]");
    let path = write(dir.path(), "typo.yaml", &broken);
    let output = seqsim(&["run", path.to_str().unwrap()]);
    let line = broken.lines().position(|l| l.contains("dsn")).unwrap() + 1;
    let place = format!("typo.yaml:{line}:");
    assert_refused(
        &output,
        &[&place, "links[0].between[1]", "no participant has id `dsn`"],
    );
}

#[test]
fn resolver_that_does_not_exist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let broken = scenario_with("resolver: dns", "resolver: nameserver");
    let path = write(dir.path(), "resolver.yaml", &broken);
    let output = seqsim(&["run", path.to_str().unwrap()]);
    assert_refused(
        &output,
        &[
            "participants[0].resolver",
            "no participant has id `nameserver`",
        ],
    );
}

#[test]
fn unknown_key_is_refused_with_the_keys_expected() {
    let dir = tempfile::tempdir().unwrap();
    let broken = scenario_with("check_helo: true", "check_hello: true");
    let path = write(dir.path(), "key.yaml", &broken);
    let output = seqsim(&["run", path.to_str().unwrap()]);
    assert_refused(&output, &["unknown field `check_hello`", "check_helo"]);
}

#[test]
fn malformed_address_and_duration_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad_address = scenario_with("address: 66.218.71.63\n", "address: 66.218.71.633\n");
    let path = write(dir.path(), "address.yaml", &bad_address);
    assert_refused(
        &seqsim(&["run", path.to_str().unwrap()]),
        &["participants[2].address", "not an IPv4 address"],
    );
    let bad_latency = scenario_with("latency: 15ms", "latency: -15ms");
    let path = write(dir.path(), "latency.yaml", &bad_latency);
    assert_refused(
        &seqsim(&["run", path.to_str().unwrap()]),
        &["links[2].latency", "is negative"],
    );
}

#[test]
fn empty_and_non_utf8_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.yaml", "  \n");
    assert_refused(
        &seqsim(&["run", empty.to_str().unwrap()]),
        &["the scenario is empty"],
    );
    let latin1 = dir.path().join("latin1.yaml");
    std::fs::write(&latin1, b"title: caf\xe9\n").unwrap();
    assert_refused(
        &seqsim(&["run", latin1.to_str().unwrap()]),
        &["latin1.yaml:1:11", "not UTF-8"],
    );
}

#[test]
fn bad_flags_are_refused_by_the_argument_parser() {
    assert_refused(&seqsim(&["run", SCENARIO, "--width", "10"]), &["--width"]);
    assert_refused(
        &seqsim(&["run", SCENARIO, "--format", "svg"]),
        &["--format"],
    );
    assert_refused(
        &seqsim(&["run", SCENARIO, "--seed", "minus-one"]),
        &["--seed"],
    );
    assert_refused(&seqsim(&["fly"]), &["fly"]);
}

#[test]
fn a_directory_is_not_a_scenario() {
    assert_refused(&seqsim(&["run", "scenarios"]), &["is a directory"]);
}

#[test]
fn an_endless_device_is_refused_without_reading_it_all() {
    // /dev/zero has no size in its metadata and never ends; only the
    // first 4 MiB + 1 bytes may be read before the file is refused.
    assert_refused(
        &seqsim(&["run", "/dev/zero"]),
        &[
            "/dev/zero",
            "more than 4194304 bytes; scenarios may have at most 4194304",
        ],
    );
}

#[test]
fn a_scenario_piped_in_is_read_once_and_hashed_as_read() {
    use std::io::Write;
    use std::process::Stdio;
    let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(["run", "/dev/stdin", "--format", "mermaid"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    // SHA-256 of the bundled scenario, as sha256sum computes it.
    let expected = sha256sum(&Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO));
    assert!(stdout.contains(&format!("sha256 {expected}")), "{stdout}");
}

#[test]
fn the_regenerate_command_repeats_the_set_arguments() {
    let output = seqsim(&[
        "run",
        SCENARIO,
        "--format",
        "plantuml",
        "--set",
        "links[0].latency=50ms",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(
            "regenerate with: seqsim run smtp-send.yaml --seed 2004 --format plantuml --set 'links[0].latency=50ms'"
        ),
        "{stdout}"
    );
}

/// Computes a file's SHA-256 with the coreutils `sha256sum`.
fn sha256sum(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_width_too_small_for_the_columns_is_warned_about() {
    let output = seqsim(&["run", SCENARIO, "--width", "40"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 40, "three columns of names cannot fit in 40");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "seqsim: warning: the diagram needs {widest} columns, more than --width 40; it is drawn {widest} wide\n"
        )
    );
    let roomy = seqsim(&["run", SCENARIO, "--width", "120"]);
    assert!(roomy.stderr.is_empty(), "no warning when the diagram fits");
}

#[test]
fn the_default_width_warns_too_when_the_columns_need_more() {
    // Ten copies, a DNS server and a receiver: twelve columns of names
    // such as `Sender 10` cannot fit in the 120 columns used when the
    // output is not a terminal.
    let output = seqsim(&[
        "run",
        "scenarios/smtp-population.yaml",
        "--set",
        "participants[0].population.count=10",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > 120);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "seqsim: warning: the diagram needs {widest} columns, more than the width of 120 columns (set it with --width); it is drawn {widest} wide\n"
        )
    );
}

#[test]
fn a_text_diagram_of_more_than_64_hosts_is_refused_before_the_run() {
    // 63 copies, the DNS server and the receiver: 65 hosts, one too many.
    let sets = [
        "--set",
        "participants[0].population.count=63",
        "--set",
        "participants[0].address=10.0.0.1",
    ];
    let text = seqsim(&[&["run", "scenarios/smtp-population.yaml"][..], &sets].concat());
    assert_eq!(text.status.code(), Some(2));
    assert!(text.stdout.is_empty());
    let stderr = String::from_utf8(text.stderr).unwrap();
    assert!(
        stderr.contains("at most 64, and this run has 65"),
        "{stderr}"
    );
    let diff = seqsim(&[&["diff", "scenarios/smtp-population.yaml"][..], &sets].concat());
    assert_eq!(diff.status.code(), Some(2));
    let summary = [
        &[
            "run",
            "scenarios/smtp-population.yaml",
            "--format",
            "summary",
        ][..],
        &sets,
    ];
    assert_eq!(seqsim(&summary.concat()).status.code(), Some(0));
}

#[test]
fn a_zero_latency_set_on_the_command_line_is_a_duration_as_in_a_file() {
    // `--set links[0].latency=0` reads `0` as a duration, as `latency: 0`
    // does in the file: the MX query then reaches DNS the instant it
    // leaves, and the answer reaches the sender at once too.
    let output = seqsim(&[
        "run",
        SCENARIO,
        "--set",
        "links[0].latency=0",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let trace: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let first_two: Vec<(u64, u64)> = trace["messages"].as_array().unwrap()[..2]
        .iter()
        .map(|m| {
            (
                m["sent_at"].as_u64().unwrap(),
                m["received_at"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(first_two, [(0, 0), (0, 0)]);
}

#[test]
fn a_file_starting_with_a_byte_order_mark_runs_as_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_with("title: SMTP e-mail send", "title: SMTP e-mail send");
    let marked = write(dir.path(), "marked.yaml", &format!("\u{feff}{text}"));
    let plain = write(dir.path(), "plain.yaml", &text);
    let run = |path: &Path| seqsim(&["run", path.to_str().unwrap(), "--format", "text"]);
    let (marked, plain) = (run(&marked), run(&plain));
    assert_eq!(marked.status.code(), Some(0), "{marked:?}");
    assert_eq!(marked.stdout, plain.stdout);
}

#[test]
fn output_to_a_dash_is_standard_output() {
    let output = seqsim(&["run", SCENARIO, "--format", "mermaid", "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stdout.starts_with(b"%% generated by seqsim"));
    assert!(!Path::new(env!("CARGO_MANIFEST_DIR")).join("-").exists());
}

#[test]
fn a_run_whose_virtual_time_runs_out_exits_one_with_the_reason() {
    // As in tests/faults.rs: 100 attempts of 101 SYNs to each of two
    // exchangers, 10^6 s apart, need more time than 2^64 ns.
    let output = seqsim(&[
        "run",
        "scenarios/second-mx-down.yaml",
        "--set",
        "participants[0].tcp={min_rto: 1000000s, max_rto: 1000000s, max_syn_retransmissions: 100}",
        "--set",
        "participants[0].smtp_client={retry_after: 1000000s, max_attempts: 100, mails: [{from: luke@sender.com, to: [r2d2@receiver.com], subject: s, body: b}]}",
        "--set",
        "faults=[{host_down: {host: mx1}}, {host_down: {host: mx2}}]",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("virtual time ran out"), "{stderr}");
}

#[test]
fn a_client_waiting_for_a_greeting_that_never_comes_ends_without_warning() {
    // The reported case: seed 1308 with 30 % loss on the mail link left
    // the client waiting forever; the greeting time-out ends the attempt
    // and the retry delivers, so every recipient has an outcome.
    let output = seqsim(&[
        "run",
        SCENARIO,
        "--seed",
        "1308",
        "--set",
        "links[2].loss=0.3",
        "--format",
        "summary",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("recipients        2 delivered, 1 failed"),
        "{stdout}"
    );
}
