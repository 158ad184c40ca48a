//! Runs `seqsim` on scenario files whose names, `--set` values or titles
//! hold quotes, spaces and control characters: the provenance comments of
//! the diagram formats must stay comments, the printed regenerate command
//! must run the same thing when pasted into `sh`, and neither the summary
//! nor an error message may send a control character to the terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The bundled scenario copied under other names.
fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tcp-connection.yaml")
}

/// Copies the bundled scenario into a new scratch directory as `name`.
fn copied_as(name: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().expect("a scratch directory");
    std::fs::copy(bundled(), directory.path().join(name)).expect("the scenario is copied");
    directory
}

/// Runs `seqsim run` in `directory` with `arguments`; expects success.
fn seqsim_in(directory: &Path, arguments: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .current_dir(directory)
        .arg("run")
        .args(arguments)
        .output()
        .expect("seqsim runs");
    assert!(
        output.status.success(),
        "seqsim {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The comment lines at the head of a diagram, without their marker.
fn provenance_lines(source: &str, format: &str) -> Vec<String> {
    let (skip, marker) = match format {
        "plantuml" => (1, "' "),
        "msc" => (0, "# "),
        "mermaid" => (0, "%% "),
        other => panic!("no comments in {other}"),
    };
    let lines: Vec<&str> = source.lines().skip(skip).take(3).collect();
    for line in &lines {
        assert!(
            line.starts_with(marker),
            "{format}: not a comment: {line:?}"
        );
    }
    lines
        .iter()
        .map(|line| line[marker.len()..].to_string())
        .collect()
}

/// Runs the printed regenerate command through `sh -c` in `directory`,
/// with the `seqsim` under test first on the PATH.
fn rerun(directory: &Path, command: &str) -> Output {
    let binary = Path::new(env!("CARGO_BIN_EXE_seqsim"));
    let path = format!(
        "{}:{}",
        binary.parent().expect("a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(directory)
        .env("PATH", path)
        .output()
        .expect("sh runs")
}

/// Runs a scenario, then the command its provenance prints, and checks
/// both write the same bytes; returns the command.
fn regenerates_the_same(name: &str, sets: &[&str]) -> String {
    let directory = copied_as(name);
    let mut arguments = vec![name, "--format", "plantuml"];
    for setting in sets {
        arguments.extend(["--set", setting]);
    }
    let first = seqsim_in(directory.path(), &arguments);
    let source = String::from_utf8(first.stdout.clone()).expect("UTF-8");
    let lines = provenance_lines(&source, "plantuml");
    let (_, command) = lines[2]
        .split_once("regenerate with: ")
        .expect("a regenerate command");
    let again = rerun(directory.path(), command);
    assert!(
        again.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(again.stdout, first.stdout, "{command} wrote other bytes");
    command.to_string()
}

#[test]
fn a_file_name_with_quote_spaces_and_brackets_is_quoted_in_the_command() {
    let command = regenerates_the_same("my file's (copy).yaml", &[]);
    assert!(
        command.starts_with("seqsim run 'my file'\\''s (copy).yaml' --seed "),
        "{command}"
    );
}

#[test]
fn a_file_name_and_a_set_value_with_line_breaks_regenerate_the_same() {
    let command = regenerates_the_same(
        "evil\n@enduml\n%x\\y.yaml",
        &["remarks[0].text='a\r\n\n@enduml'", "title=x\ty\u{2028}"],
    );
    assert!(
        command.starts_with("seqsim run \"$(printf 'evil\\n@enduml\\n%%x\\\\y.yaml')\""),
        "{command}"
    );
    assert!(
        // U+2028 is E2 80 A8 in UTF-8: octal 342 200 250.
        command.ends_with(" --set \"$(printf 'title=x\\ty\\342\\200\\250')\""),
        "{command}"
    );
}

#[test]
fn a_line_break_in_the_file_name_stays_inside_the_comment_in_every_diagram() {
    let name = "evil\n@enduml\nfoo.yaml";
    let directory = copied_as(name);
    let setting = "remarks[0].text='a\n\n@enduml'";
    for format in ["plantuml", "msc", "mermaid"] {
        let output = seqsim_in(
            directory.path(),
            &[name, "--format", format, "--set", setting],
        );
        let source = String::from_utf8(output.stdout).expect("UTF-8");
        let lines = provenance_lines(&source, format);
        assert!(
            lines[1].starts_with("scenario evil\\n@enduml\\nfoo.yaml sha256 "),
            "{format}: {}",
            lines[1]
        );
        let enduml_lines = source.lines().filter(|line| *line == "@enduml").count();
        let expected = usize::from(format == "plantuml");
        assert_eq!(enduml_lines, expected, "{format}:\n{source}");
    }
}

#[test]
fn the_summary_sends_no_control_character_to_the_terminal() {
    let directory = copied_as("tab\there.yaml");
    let output = seqsim_in(
        directory.path(),
        &[
            "tab\there.yaml",
            "--format",
            "summary",
            "--set",
            "title=\"abc\\e[2J\\adef\"",
            "--set",
            "remarks[0].text='x\ty'",
        ],
    );
    let summary = String::from_utf8(output.stdout).expect("UTF-8");
    let first = summary.lines().next().expect("a title line");
    assert_eq!(first, "abc\u{FFFD}[2J\u{FFFD}def");
    assert!(
        summary.contains("scenario tab\\there.yaml (sha256 "),
        "{summary}"
    );
    assert!(
        summary.contains("--set remarks[0].text='x\\ty'\n"),
        "{summary}"
    );
    let controls: Vec<char> = summary
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(controls.is_empty(), "{controls:?} in {summary:?}");
}

#[test]
fn a_line_break_quoted_in_an_error_message_is_shown_escaped() {
    let directory = tempfile::tempdir().expect("a scratch directory");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-send.yaml");
    let text = std::fs::read_to_string(scenario).expect("the scenario is read");
    let broken = text.replace("from: luke@sender.com", r#"from: "luke\r\nx@sender.com""#);
    assert_ne!(broken, text, "the sender's address is where it was");
    std::fs::write(directory.path().join("crlf.yaml"), broken).expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .current_dir(directory.path())
        .args(["run", "crlf.yaml"])
        .output()
        .expect("seqsim runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    let first = stderr.lines().next().expect("a message");
    assert!(
        first.ends_with(
            "`luke\\r\\nx@sender.com` is not a mail address: \
             `\\r` is not allowed in the local part"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "{stderr:?}");
}

#[test]
fn a_line_break_in_a_set_argument_is_shown_escaped_in_its_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .arg("run")
        .arg(bundled())
        .args(["--set", "title='a\n---\nb'"])
        .output()
        .expect("seqsim runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(
        stderr.starts_with("seqsim: error: --set `title='a\\n---\\nb'`: the value is not YAML"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn no_provenance_line_holds_the_start_of_a_mermaid_directive() {
    let command = regenerates_the_same("a%%{b.yaml", &["title=\"%%{x}\"", "title='%%{\ty'"]);
    assert!(!command.contains("%{"), "{command}");
    assert!(
        command.starts_with("seqsim run 'a%%'\\{'b.yaml' --seed "),
        "{command}"
    );
}
