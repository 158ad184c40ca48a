//! Outputs written while the run goes on must be the very bytes the
//! whole-trace renderers write: JSON Lines and the capture for every
//! scenario and fixture (remarks left out, as they need the whole run),
//! and through the CLI, with and without -o.

mod common;

use seqsim::provenance::Provenance;
use seqsim::render::{jsonl, pcap};
use seqsim::scenario::{self, Overrides, Scenario};

/// Loads a scenario without its remarks.
fn without_remarks(path: &std::path::Path) -> Scenario {
    let mut scenario = scenario::load(path.to_str().unwrap(), &Overrides::default()).unwrap();
    scenario.remarks.clear();
    scenario
        .script
        .iter_mut()
        .for_each(|step| step.remark = None);
    scenario
}

#[test]
fn streamed_json_lines_equal_the_rendering_of_the_whole_trace() {
    for path in common::scenario_files() {
        let scenario = without_remarks(&path);
        let content = std::fs::read(&path).unwrap();
        let provenance = Provenance::new(&path, &content, scenario.seed);
        let whole = jsonl::render(&seqsim::sim::run(&scenario).unwrap().trace, &provenance);
        let participants = seqsim::sim::trace_participants(&scenario);
        let mut stream =
            jsonl::Stream::new(Vec::new(), &scenario.title, &participants, &provenance);
        seqsim::sim::run_into(&scenario, &mut stream).unwrap();
        let streamed = String::from_utf8(stream.finish().unwrap()).unwrap();
        assert!(
            streamed == whole,
            "{}: the streamed lines differ",
            path.display()
        );
    }
}

#[test]
fn a_streamed_capture_equals_the_capture_of_the_whole_trace() {
    for path in common::scenario_files() {
        let scenario = without_remarks(&path);
        let content = std::fs::read(&path).unwrap();
        let provenance = Provenance::new(&path, &content, scenario.seed);
        let whole = pcap::render(&seqsim::sim::run(&scenario).unwrap().trace, &provenance).unwrap();
        let mut stream = pcap::Stream::new(Vec::new(), &scenario.title, &provenance).unwrap();
        seqsim::sim::run_into(&scenario, &mut stream).unwrap();
        let streamed = stream.finish().unwrap();
        assert!(
            streamed == whole,
            "{}: the streamed capture differs",
            path.display()
        );
    }
}

#[test]
fn the_cli_streams_a_capture_that_tshark_reads_as_the_library_builds_it() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("out.pcapng");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(["run", "scenarios/smtp-population.yaml", "--format", "pcap"])
        .args(["--set", "remarks=[]", "-o", file.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-population.yaml");
    let mut scenario = without_remarks(&path);
    scenario.remarks.clear();
    let content = std::fs::read(&path).unwrap();
    let provenance =
        Provenance::new(&path, &content, scenario.seed).with_sets(&["remarks=[]".to_string()]);
    let whole = pcap::render(&seqsim::sim::run(&scenario).unwrap().trace, &provenance).unwrap();
    assert!(
        std::fs::read(&file).unwrap() == whole,
        "the CLI's capture differs"
    );
    let Some(tshark) = common::require_tool("tshark", "apt-get install tshark") else {
        return;
    };
    let (status, stdout, stderr) =
        common::run_tool(std::process::Command::new(tshark).arg("-r").arg(&file));
    assert_eq!(status, 0, "{stderr}");
    let frames = String::from_utf8_lossy(&stdout).lines().count();
    assert_eq!(frames, 3 * 38, "as counted in tests/populations.rs");
}

#[test]
fn the_cli_streams_the_same_lines_to_stdout_and_to_a_file() {
    let scenario = "scenarios/smtp-population.yaml";
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_seqsim"))
            .args(["run", scenario, "--format", "jsonl", "--set", "remarks=[]"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let to_stdout = run(&[]);
    assert!(to_stdout.status.success(), "{to_stdout:?}");
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("out.jsonl");
    let to_file = run(&["-o", file.to_str().unwrap()]);
    assert!(to_file.status.success(), "{to_file:?}");
    assert_eq!(std::fs::read(&file).unwrap(), to_stdout.stdout);
    let lines = String::from_utf8(to_stdout.stdout).unwrap();
    let messages = lines
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"message\""))
        .count();
    assert_eq!(messages, 3 * 38, "as counted in tests/populations.rs");
}
