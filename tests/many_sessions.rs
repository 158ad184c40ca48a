//! One client sending many mails in a row: every session must get a port
//! whose previous connection has left TIME-WAIT, so every mail arrives.

use seqsim::scenario::{self, Overrides};

/// The bundled scenario with its one mail repeated `count` times.
fn scenario_with_mails(count: usize) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/smtp-send.yaml"
    ))
    .unwrap();
    let start = text.find("      mails:\n").unwrap() + "      mails:\n".len();
    let end = text.find("  - id: dns").unwrap();
    let mail = &text[start..end];
    let without_remarks = &text[..text.find("remarks:").unwrap()];
    format!(
        "{}{}{}",
        &without_remarks[..start],
        mail.repeat(count),
        &without_remarks[end..]
    )
}

#[test]
fn three_hundred_mails_in_a_row_are_all_delivered() {
    let text = scenario_with_mails(300);
    let scenario = scenario::parse("many.yaml", &text, &Overrides::default()).unwrap();
    let trace = seqsim::sim::run(&scenario).unwrap().trace;
    assert_eq!(
        trace.deliveries.len(),
        600,
        "c3po and r2d2 get each of the 300 mails"
    );
    let ports: std::collections::BTreeSet<u16> = trace
        .messages
        .iter()
        .filter(|m| m.dst_port == 25)
        .map(|m| m.src_port)
        .collect();
    assert_eq!(ports.len(), 300, "each session has a port of its own");
    assert!(
        !trace.messages.iter().any(|m| m.label.starts_with("RST")),
        "no connection was refused"
    );
}
