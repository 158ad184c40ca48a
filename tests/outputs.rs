//! Checks what every output promises, for every scenario and fixture:
//! two runs give identical bytes in every format; every output but the
//! text diagram names the seqsim version, the scenario file, its SHA-256
//! hash (compared with coreutils' `sha256sum`) and the seed; and the JSON
//! Lines file has its header first, one valid JSON object per line, every
//! message, delivery and outcome, in time order.

mod common;

use std::process::Command;

use serde_json::Value;

#[test]
fn two_runs_of_every_scenario_give_identical_bytes_in_every_format() {
    for path in common::scenario_files() {
        let (first_run, first_provenance) = common::run_with_provenance(&path);
        let (second_run, second_provenance) = common::run_with_provenance(&path);
        for format in common::FORMATS {
            let first = common::render(&first_run, &first_provenance, format);
            let second = common::render(&second_run, &second_provenance, format);
            assert!(
                first == second,
                "{}: --format {format} differs between two runs",
                path.display()
            );
        }
    }
}

/// Returns the SHA-256 of a file as `sha256sum` computes it, if it is installed.
fn sha256sum(path: &std::path::Path) -> Option<String> {
    let program = common::require_tool("sha256sum", "apt-get install coreutils")?;
    let (status, stdout, stderr) = common::run_tool(Command::new(program).arg(path));
    assert_eq!(status, 0, "{stderr}");
    let line = String::from_utf8(stdout).expect("sha256sum prints text");
    Some(line.split_whitespace().next().expect("a hash").to_string())
}

#[test]
fn every_output_but_the_text_diagram_names_version_scenario_hash_and_seed() {
    for path in common::scenario_files() {
        let (run, provenance) = common::run_with_provenance(&path);
        if let Some(hash) = sha256sum(&path) {
            assert_eq!(provenance.scenario_sha256, hash, "{}", path.display());
        }
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = [
            format!("seqsim {}", env!("CARGO_PKG_VERSION")),
            format!("scenario {file_name} sha256 {}", provenance.scenario_sha256),
            format!("seed {}", run.trace.seed),
        ];
        for format in ["mermaid", "plantuml", "msc", "pcap"] {
            let text =
                String::from_utf8_lossy(&common::render(&run, &provenance, format)).into_owned();
            let missing: Vec<&String> = expected
                .iter()
                .filter(|line| !text.contains(line.as_str()))
                .collect();
            assert!(
                missing.is_empty(),
                "{}: --format {format} lacks {missing:?}",
                path.display()
            );
        }
        for format in ["json", "jsonl"] {
            let fields = provenance_fields(&common::render(&run, &provenance, format), format);
            let wanted = [
                env!("CARGO_PKG_VERSION"),
                &file_name,
                &provenance.scenario_sha256,
                &run.trace.seed.to_string(),
            ];
            assert_eq!(
                fields,
                wanted.map(str::to_string),
                "{}: --format {format}",
                path.display()
            );
        }
    }
}

/// Reads the provenance of a JSON document or of a JSON Lines header as
/// version, file name, hash and seed.
fn provenance_fields(output: &[u8], format: &str) -> [String; 4] {
    let text = std::str::from_utf8(output).expect("JSON is UTF-8");
    let document: Value = match format {
        "json" => serde_json::from_str(text).expect("one JSON document"),
        _ => serde_json::from_str(text.lines().next().expect("a first line")).expect("a JSON line"),
    };
    let fields = if format == "json" {
        &document["provenance"]
    } else {
        &document
    };
    let text_of = |key: &str| match &fields[key] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    ["seqsim_version", "scenario_file", "scenario_sha256", "seed"].map(text_of)
}

#[test]
fn json_lines_start_with_the_header_then_participants_then_events_in_time_order() {
    for path in common::scenario_files() {
        let (run, provenance) = common::run_with_provenance(&path);
        let text = String::from_utf8(common::render(&run, &provenance, "jsonl")).unwrap();
        assert!(text.ends_with('\n'), "the last line ends too");
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect();
        let header = &lines[0];
        let naming = (
            header["type"].as_str(),
            header["format"].as_str(),
            header["version"].as_u64(),
        );
        assert_eq!(
            naming,
            (Some("header"), Some("seqsim-trace-jsonl"), Some(1))
        );
        assert_eq!(header["title"], run.trace.title.as_str());
        let kinds: Vec<&str> = lines
            .iter()
            .map(|line| line["type"].as_str().expect("a type"))
            .collect();
        let trace = &run.trace;
        let counts = [
            1,
            trace.participants.len(),
            trace.messages.len(),
            trace.deliveries.len(),
            trace.outcomes.len(),
        ];
        let kind_order = ["header", "participant", "message", "delivery", "outcome"];
        assert_eq!(
            kind_order.map(|kind| kinds.iter().filter(|k| **k == kind).count()),
            counts
        );
        check_event_order(&path, &lines[1 + trace.participants.len()..]);
    }
}

/// Checks that the event lines come in time order, messages by index.
fn check_event_order(path: &std::path::Path, events: &[Value]) {
    assert!(
        events.iter().all(|line| line["type"] != "participant"),
        "participants come before the events"
    );
    let times: Vec<u64> = events
        .iter()
        .map(|e| e["sent_at"].as_u64().or(e["at"].as_u64()).expect("a time"))
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] <= pair[1]),
        "{}: events out of time order",
        path.display()
    );
    let indexes: Vec<u64> = events.iter().filter_map(|e| e["index"].as_u64()).collect();
    assert!(
        indexes.windows(2).all(|pair| pair[0] < pair[1]),
        "messages keep their order"
    );
}

#[test]
fn a_message_line_holds_every_field_of_the_trace() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-send.yaml");
    let (run, provenance) = common::run_with_provenance(&path);
    let text = String::from_utf8(common::render(&run, &provenance, "jsonl")).unwrap();
    let mail_from = text
        .lines()
        .find(|line| line.contains("\"MAIL FROM:<luke@sender.com>\\r\\n\""))
        .expect("the MAIL FROM line");
    let message: Value = serde_json::from_str(mail_from).unwrap();
    for key in [
        "index",
        "sent_at",
        "sent_at_text",
        "received_at",
        "from",
        "to",
        "src_address",
        "src_port",
        "dst_address",
        "dst_port",
        "transport",
        "layer",
        "label",
        "tcp",
        "dns",
        "smtp",
        "payload",
        "payload_len",
        "remark",
    ] {
        assert!(message.get(key).is_some(), "the message line lacks {key}");
    }
    assert_eq!(
        message["smtp"]["lines"][0],
        serde_json::json!({"kind": "command", "verb": "MAIL", "argument": "FROM:<luke@sender.com>"})
    );
    assert_eq!(
        message["payload_len"], 29,
        "MAIL FROM:<luke@sender.com> and CRLF: 27 + 2 octets"
    );
    assert_eq!(message["tcp"]["flags"], serde_json::json!(["PSH", "ACK"]));
}
