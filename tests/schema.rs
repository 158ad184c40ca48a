//! `seqsim schema`: the JSON Schema accepts every bundled scenario and
//! refuses broken ones, so editors that use it agree with seqsim.

use std::process::Command;

use serde_json::Value;

/// Returns the schema as the command prints it.
fn schema() -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).expect("the schema is JSON")
}

/// Reads YAML text as a JSON value, as an editor's YAML support does.
fn as_json(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).expect("the test's YAML parses")
}

#[test]
fn every_bundled_scenario_follows_the_schema() {
    let validator =
        jsonschema::validator_for(&schema()).expect("the schema is a valid JSON Schema");
    let mut checked = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let document = as_json(&std::fs::read_to_string(&path).unwrap());
            let errors: Vec<String> = validator
                .iter_errors(&document)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 2);
}

#[test]
fn broken_scenarios_are_refused_by_the_schema() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let base = "title: t\nparticipants:\n  - { id: a, host: a.example, address: 192.0.2.1 }\n";
    let broken = [
        format!("{base}colour: blue\n"),
        format!("{base}links:\n  - {{ between: [a, b], latency: 10ms, lost: 1 }}\n"),
        format!("{base}links:\n  - {{ between: [a, b], latency: 10ms, loss: 1.5 }}\n"),
        format!("{base}seed: many\n"),
        "participants: []\n".to_string(),
        format!("{base}script:\n  - open: {{ from: a, to: b, port: 70000 }}\n"),
        format!(
            "{base}  - {{ id: d, host: d.example, address: 192.0.2.2, dns_server: {{ records: [ {{ type: TXT, name: x }} ] }} }}\n"
        ),
    ];
    for document in &broken {
        assert!(
            !validator.is_valid(&as_json(document)),
            "accepted:\n{document}"
        );
    }
}
