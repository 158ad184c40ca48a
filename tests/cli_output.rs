//! Runs the `seqsim` binary the way users do: every format to standard
//! output and to `-o FILE`, twice to compare bytes, and with the mistakes
//! people make (an unknown format, a missing directory, a file that cannot
//! be written, a capture sent to a terminal). A failure must give a clear
//! message and the right exit status, and never clobber the old file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The bundled scenario every test here runs.
fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-send.yaml")
}

/// Runs `seqsim run <scenario> <arguments>`.
fn seqsim(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .arg("run")
        .arg(scenario())
        .args(arguments)
        .output()
        .expect("seqsim runs")
}

/// Runs a shell command line with `$SEQSIM` and `$SCENARIO` set.
fn shell(script: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("SEQSIM", env!("CARGO_BIN_EXE_seqsim"))
        .env("SCENARIO", scenario())
        .output()
        .expect("sh runs")
}

/// Returns stderr as text.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Lists a directory's entries by name, sorted.
fn names_in(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .expect("the directory lists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_format_gives_the_same_bytes_on_stdout_twice_and_as_rendered_in_process() {
    let (run, provenance) = common::run_with_provenance(&scenario());
    for format in common::FORMATS {
        let first = seqsim(&["--format", format, "--width", "120"]);
        let second = seqsim(&["--format", format, "--width", "120"]);
        assert!(
            first.status.success(),
            "--format {format}: {}",
            stderr(&first)
        );
        assert_eq!(
            first.stdout, second.stdout,
            "--format {format} differs between two runs"
        );
        assert_eq!(
            first.stdout,
            common::render(&run, &provenance, format),
            "--format {format}"
        );
    }
}

#[test]
fn output_files_hold_what_stdout_would_and_replace_the_old_file_completely() {
    let directory = common::scratch_dir();
    for format in common::FORMATS {
        let target = directory.path().join(format!("out.{format}"));
        std::fs::write(
            &target,
            "an old, longer file that must be replaced entirely\n".repeat(500),
        )
        .unwrap();
        let written = seqsim(&[
            "--format",
            format,
            "--width",
            "120",
            "-o",
            target.to_str().unwrap(),
        ]);
        assert!(
            written.status.success() && written.stdout.is_empty(),
            "{format}: {}",
            stderr(&written)
        );
        let piped = seqsim(&["--format", format, "--width", "120"]);
        assert_eq!(
            std::fs::read(&target).unwrap(),
            piped.stdout,
            "-o differs from stdout for {format}"
        );
    }
    let mut expected: Vec<String> = common::FORMATS.iter().map(|f| format!("out.{f}")).collect();
    expected.sort();
    assert_eq!(
        names_in(directory.path()),
        expected,
        "no temporary file is left behind"
    );
}

#[cfg(unix)]
#[test]
fn a_new_output_file_gets_the_permissions_the_umask_allows() {
    use std::os::unix::fs::PermissionsExt;
    let directory = common::scratch_dir();
    let target = directory.path().join("out.mmd");
    let script = format!(
        "umask 022 && \"$SEQSIM\" run \"$SCENARIO\" --format mermaid -o '{}'",
        target.display()
    );
    assert!(shell(&script).status.success());
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "0666 less the umask 022, like any new file");
}

#[cfg(unix)]
#[test]
fn an_output_that_is_a_device_is_written_to_not_replaced() {
    let directory = common::scratch_dir();
    let link = directory.path().join("to-null");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let output = seqsim(&["--format", "pcap", "-o", link.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays"
    );
    assert!(
        !std::fs::metadata("/dev/null").unwrap().is_file(),
        "/dev/null stays a device"
    );
    assert_eq!(names_in(directory.path()), ["to-null"]);
}

#[test]
fn dev_stdout_reaches_a_pipe() {
    // `-o /dev/stdout` with standard output a pipe, as in `| tshark -r -`:
    // the link under /proc names `pipe:[N]`, which is opened, not followed.
    let to_stdout = seqsim(&["--format", "summary"]);
    let to_dev_stdout = seqsim(&["--format", "summary", "-o", "/dev/stdout"]);
    assert!(to_dev_stdout.status.success(), "{}", stderr(&to_dev_stdout));
    assert!(!to_stdout.stdout.is_empty());
    assert_eq!(to_dev_stdout.stdout, to_stdout.stdout);
    let through_proc = seqsim(&["--format", "pcap", "-o", "/proc/self/fd/1"]);
    assert!(through_proc.status.success(), "{}", stderr(&through_proc));
    assert_eq!(
        &through_proc.stdout[..4],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        "a pcapng file opens with a section header block (type 0x0A0D0D0A)"
    );
}

#[test]
fn an_unknown_format_is_a_bad_flag() {
    let output = seqsim(&["--format", "svg"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("invalid value 'svg'") && message.contains("mermaid"),
        "{message}"
    );
}

#[test]
fn an_output_in_a_missing_directory_is_a_bad_flag_and_creates_nothing() {
    let directory = common::scratch_dir();
    let target = directory.path().join("no-such-dir/out.pcap");
    let output = seqsim(&["--format", "pcap", "-o", target.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("does not exist"),
        "{}",
        stderr(&output)
    );
    assert!(names_in(directory.path()).is_empty());
}

#[test]
fn an_output_that_is_a_directory_or_the_scenario_itself_is_refused() {
    let directory = common::scratch_dir();
    let into_directory = seqsim(&[
        "--format",
        "jsonl",
        "-o",
        directory.path().to_str().unwrap(),
    ]);
    assert_eq!(into_directory.status.code(), Some(2));
    assert!(
        stderr(&into_directory).contains("is a directory"),
        "{}",
        stderr(&into_directory)
    );
    let before = std::fs::read(scenario()).unwrap();
    let over_scenario = seqsim(&["--format", "jsonl", "-o", scenario().to_str().unwrap()]);
    assert_eq!(over_scenario.status.code(), Some(2));
    assert!(
        stderr(&over_scenario).contains("scenario file itself"),
        "{}",
        stderr(&over_scenario)
    );
    assert_eq!(std::fs::read(scenario()).unwrap(), before);
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_that_cannot_be_written_is_a_write_failure() {
    let output = seqsim(&[
        "--format",
        "msc",
        "-o",
        "/proc/seqsim-cannot-write-here.msc",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.starts_with("seqsim: error: cannot write /proc/seqsim-cannot-write-here.msc: "),
        "{message}"
    );
    assert!(!message.contains(".partial"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}

#[cfg(unix)]
#[test]
fn a_read_only_output_is_refused_before_the_run_and_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let directory = common::scratch_dir();
    let target = directory.path().join("handout.msc");
    std::fs::write(&target, "the old chart").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444)).unwrap();
    let output = seqsim(&["--format", "msc", "-o", target.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let expected = format!("seqsim: error: -o {}: is read-only", target.display());
    assert!(
        stderr(&output).starts_with(&expected),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the old chart");
    assert_eq!(names_in(directory.path()), ["handout.msc"]);
}

#[cfg(unix)]
#[test]
fn a_write_cut_short_leaves_the_old_file_as_it_was_and_no_temporary_file() {
    let directory = common::scratch_dir();
    let target = directory.path().join("handout.pcap");
    std::fs::write(&target, b"the old capture").unwrap();
    // A 1 KiB file size limit stops the 8 KiB capture halfway; SIGXFSZ is
    // ignored so that the write fails with EFBIG instead of killing seqsim.
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec \"$SEQSIM\" run \"$SCENARIO\" --format pcap -o '{}'",
        target.display()
    );
    let output = shell(&script);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"the old capture");
    assert_eq!(names_in(directory.path()), ["handout.pcap"]);
}

#[test]
fn a_bad_scenario_leaves_the_old_output_untouched() {
    let directory = common::scratch_dir();
    let broken = directory.path().join("broken.yaml");
    std::fs::write(&broken, "title: x\nparticipants: []\nbogus: 1\n").unwrap();
    let target = directory.path().join("out.mmd");
    std::fs::write(&target, "old diagram").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args([
            "run",
            broken.to_str().unwrap(),
            "--format",
            "mermaid",
            "-o",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old diagram");
}

#[test]
fn a_capture_goes_down_a_pipe_but_not_to_a_terminal() {
    let piped = seqsim(&["--format", "pcap"]);
    assert!(piped.status.success());
    assert_eq!(
        &piped.stdout[..4],
        b"\x0a\x0d\x0d\x0a",
        "a pcapng section header block"
    );
    // `script` runs seqsim with a pseudo-terminal as its standard output.
    let Some(script) = common::require_tool("script", "apt-get install bsdutils") else {
        return;
    };
    let command = format!(
        "\"{}\" run \"{}\" --format pcap",
        env!("CARGO_BIN_EXE_seqsim"),
        scenario().display()
    );
    let output = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("refusing to write a binary capture to the terminal"),
        "{shown}"
    );
    assert!(shown.contains("-o FILE"), "{shown}");
    assert!(
        !shown.contains('\u{fffd}'),
        "no binary reached the terminal"
    );
}
