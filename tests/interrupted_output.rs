//! Stops `seqsim run -o FILE` with SIGINT, SIGTERM and SIGHUP while it is
//! writing a large output: the temporary `.partial` file must be gone,
//! the old file untouched, and the exit status 128 plus the signal's
//! number, as a shell reports a process the signal stopped.

#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How long the run may take to start writing its temporary file.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Starts a run of 200,000 sending hosts that streams JSON Lines to
/// `target`: long enough to be stopped while it writes.
fn start_large_run(target: &Path) -> Child {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-population.yaml");
    Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .arg("run")
        .arg(scenario)
        .args(["--format", "jsonl"])
        .args(["--set", "participants[0].population.count=200000"])
        .args(["--set", "participants[0].address=10.0.0.1"])
        .args(["--set", "remarks=[]"])
        .arg("-o")
        .arg(target)
        .spawn()
        .expect("seqsim starts")
}

/// Returns the temporary files in `directory`.
fn partial_files(directory: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".partial"))
        .collect()
}

/// Waits until a temporary file in `directory` holds some output.
fn wait_for_writing(directory: &Path) {
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        let written = partial_files(directory)
            .iter()
            .any(|path| std::fs::metadata(path).is_ok_and(|m| m.len() > 0));
        if written {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no temporary file was written to within {START_TIMEOUT:?}");
}

/// Sends the signal named `name` (as `kill -s` names it) to `child`.
fn send(name: &str, child: &Child) {
    let sent = Command::new("kill")
        .args(["-s", name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -s {name} failed");
}

/// Stops a large run with the signal `name` and checks what it leaves.
fn stop_while_writing(name: &str, expected_status: i32) {
    let directory = common::scratch_dir();
    let target = directory.path().join("hosts.jsonl");
    std::fs::write(&target, "the old output\n").unwrap();
    let mut child = start_large_run(&target);
    wait_for_writing(directory.path());
    send(name, &child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(expected_status), "SIG{name}: {status}");
    assert_eq!(partial_files(directory.path()), Vec::<PathBuf>::new());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "the old output\n"
    );
}

#[test]
fn sigint_removes_the_temporary_file_and_exits_with_130() {
    stop_while_writing("INT", 128 + 2);
}

#[test]
fn sigterm_removes_the_temporary_file_and_exits_with_143() {
    stop_while_writing("TERM", 128 + 15);
}

#[test]
fn sighup_removes_the_temporary_file_and_exits_with_129() {
    stop_while_writing("HUP", 128 + 1);
}
