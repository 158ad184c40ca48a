//! Runs every scenario in `scenarios/` and compares each of its text
//! renderings with the reviewed snapshots in `snapshots/`.
//!
//! A change in behaviour shows up as a `.snap.new` file beside the old
//! one; `cargo insta review` shows the difference for a person to accept
//! or reject. Snapshot files are named `<scenario>.<format>.snap`, for the
//! formats text, json, jsonl, mermaid, plantuml and msc. The outputs
//! carry the scenario file's SHA-256 hash, so editing a scenario (even a
//! comment) changes them too.

mod common;

use seqsim::render::{json, jsonl, mermaid, msc, plantuml, text};

/// The width snapshots are drawn at, so they do not depend on a terminal.
const SNAPSHOT_WIDTH: usize = 120;

#[test]
fn every_scenario_matches_its_reviewed_snapshots() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        let (run, provenance) = common::run_with_provenance(path);
        let trace = &run.trace;
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let options = text::Options {
            width: SNAPSHOT_WIDTH,
            unicode: false,
        };
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_suffix("");
        settings.set_omit_expression(true);
        settings.bind(|| {
            insta::assert_snapshot!(format!("{stem}.text"), text::render(trace, &options));
            insta::assert_snapshot!(format!("{stem}.json"), json::render(trace, &provenance));
            insta::assert_snapshot!(format!("{stem}.jsonl"), jsonl::render(trace, &provenance));
            insta::assert_snapshot!(
                format!("{stem}.mermaid"),
                mermaid::render(trace, &provenance)
            );
            insta::assert_snapshot!(
                format!("{stem}.plantuml"),
                plantuml::render(trace, &provenance)
            );
            insta::assert_snapshot!(format!("{stem}.msc"), msc::render(trace, &provenance));
        });
    });
}

#[test]
fn every_remark_of_every_scenario_finds_its_message() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        let (run, _) = common::run_with_provenance(path);
        assert_eq!(run.unmatched_remarks, [], "{}", path.display());
    });
}
