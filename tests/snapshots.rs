//! Runs every scenario in `scenarios/` and compares its text diagram and
//! JSON trace with the reviewed snapshots in `snapshots/`.
//!
//! A change in behaviour shows up as a `.snap.new` file beside the old
//! one; `cargo insta review` shows the difference for a person to accept
//! or reject. Snapshot files are named `<scenario>.text.snap` and
//! `<scenario>.json.snap`.

use std::path::Path;

use seqsim::render::{json, text};
use seqsim::scenario::{self, Overrides};

/// The width snapshots are drawn at, so they do not depend on a terminal.
const SNAPSHOT_WIDTH: usize = 120;

#[test]
fn every_scenario_matches_its_reviewed_snapshots() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        let run = run_scenario(path);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let options = text::Options {
            width: SNAPSHOT_WIDTH,
            unicode: false,
        };
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_suffix("");
        settings.bind(|| {
            insta::assert_snapshot!(format!("{stem}.text"), text::render(&run.trace, &options));
            insta::assert_snapshot!(format!("{stem}.json"), json::render(&run.trace));
        });
    });
}

#[test]
fn every_remark_of_every_scenario_finds_its_message() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        let run = run_scenario(path);
        assert_eq!(run.unmatched_remarks, [], "{}", path.display());
    });
}

/// Loads and runs one scenario file.
fn run_scenario(path: &Path) -> seqsim::sim::Run {
    let file = path.to_string_lossy();
    let scenario =
        scenario::load(&file, &Overrides::default()).expect("bundled scenarios are valid");
    seqsim::sim::run(&scenario).expect("bundled scenarios run to the end")
}
