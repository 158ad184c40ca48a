//! `seqsim check`: each conformance rule on a small script that breaks
//! it, a clean script that breaks none, and the exit statuses.

use std::process::Command;

use seqsim::conformance::{self, Departure};
use seqsim::scenario::{self, Overrides};

/// Two hosts linked, a DNS server among them, and the script given.
fn scenario_with(script: &str) -> String {
    format!(
        "title: t\nparticipants:\n  - {{ id: c, host: c.example, address: 192.0.2.1 }}\n  \
         - {{ id: s, host: s.example, address: 192.0.2.2 }}\n\
         links:\n  - {{ between: [c, s], latency: 5ms }}\nscript:\n{script}"
    )
}

/// Opens a session to port 25 with the greeting and a HELO exchange.
const GREETED: &str = "  - open: { from: c, to: s, port: 25 }\n\
                       \x20 - send: { from: s, to: c, text: \"220 s.example\\r\\n\" }\n\
                       \x20 - send: { from: c, to: s, text: \"HELO c.example\\r\\n\" }\n\
                       \x20 - send: { from: s, to: c, text: \"250 s.example\\r\\n\" }\n";

/// Checks a script and returns its departures.
fn departures(script: &str) -> Vec<Departure> {
    let text = scenario_with(script);
    let scenario =
        scenario::parse("t.yaml", &text, &Overrides::default()).expect("the scenario is valid");
    conformance::check(&scenario).departures
}

/// Returns the reference and step number of each departure.
fn rules(script: &str) -> Vec<(&'static str, usize)> {
    departures(script)
        .iter()
        .map(|d| (d.reference, d.step))
        .collect()
}

/// Writes a send step.
fn send(from: &str, to: &str, text: &str) -> String {
    format!("  - send: {{ from: {from}, to: {to}, text: \"{text}\" }}\n")
}

#[test]
fn a_conformant_session_has_no_departures() {
    let script = [
        GREETED.to_string(),
        send("c", "s", "MAIL FROM:<a@c.example>\\r\\n"),
        send("s", "c", "250 OK\\r\\n"),
        send("c", "s", "RCPT TO:<b@s.example>\\r\\n"),
        send("s", "c", "250 OK\\r\\n"),
        send("c", "s", "DATA\\r\\n"),
        send("s", "c", "354 go on\\r\\n"),
        send("c", "s", "Hi\\r\\n.\\r\\n"),
        send("s", "c", "250 OK\\r\\n"),
        send("c", "s", "QUIT\\r\\n"),
        send("s", "c", "221 bye\\r\\n"),
        "  - close: { from: s, to: c }\n  - close: { from: c, to: s }\n".to_string(),
    ]
    .concat();
    assert_eq!(departures(&script), []);
}

#[test]
fn close_after_quit_without_221_breaks_4_1_1_10() {
    let script = format!(
        "{GREETED}{}  - close: {{ from: s, to: c }}\n",
        send("c", "s", "QUIT\\r\\n")
    );
    assert_eq!(rules(&script), [("RFC 5321 §4.1.1.10", 6)]);
}

#[test]
fn bare_paths_break_4_1_1_2_and_4_1_1_3() {
    let script = format!(
        "{GREETED}{}{}{}",
        send("c", "s", "MAIL FROM:a@c.example\\r\\n"),
        send("s", "c", "250 OK\\r\\n"),
        send("c", "s", "RCPT TO:b@s.example\\r\\n")
    );
    assert_eq!(
        rules(&script),
        [
            ("RFC 5321 §4.1.1.2, §4.1.2", 5),
            ("RFC 5321 §4.1.1.3, §4.1.2", 7)
        ]
    );
    let rule = &departures(&script)[0].rule;
    assert!(rule.contains("MAIL FROM:<a@c.example>"), "{rule}");
}

#[test]
fn reply_code_not_allowed_after_the_command_breaks_4_3_2() {
    let script = format!(
        "{GREETED}{}{}",
        send("c", "s", "MAIL FROM:<a@c.example>\\r\\n"),
        send("s", "c", "354 what\\r\\n")
    );
    assert_eq!(rules(&script), [("RFC 5321 §4.3.2", 6)]);
    assert!(
        departures(&script)[0]
            .rule
            .contains("354 is not a reply to MAIL")
    );
}

#[test]
fn greeting_must_be_220_or_554() {
    let script = format!(
        "  - open: {{ from: c, to: s, port: 25 }}\n{}",
        send("s", "c", "250 hello\\r\\n")
    );
    assert_eq!(rules(&script), [("RFC 5321 §4.3.2", 2)]);
}

#[test]
fn commands_out_of_sequence_break_4_1_4() {
    let rcpt_first = format!("{GREETED}{}", send("c", "s", "RCPT TO:<b@s.example>\\r\\n"));
    assert_eq!(rules(&rcpt_first), [("RFC 5321 §4.1.4", 5)]);
    let no_helo = format!(
        "  - open: {{ from: c, to: s, port: 25 }}\n{}{}",
        send("s", "c", "220 s.example\\r\\n"),
        send("c", "s", "MAIL FROM:<a@c.example>\\r\\n")
    );
    assert_eq!(rules(&no_helo), [("RFC 5321 §4.1.4", 3)]);
}

#[test]
fn command_before_the_previous_reply_breaks_4_3_1() {
    let script = format!(
        "{GREETED}{}{}",
        send("c", "s", "NOOP\\r\\n"),
        send("c", "s", "NOOP\\r\\n")
    );
    assert_eq!(rules(&script), [("RFC 5321 §4.3.1", 6)]);
}

#[test]
fn lone_line_feed_and_missing_crlf_break_2_3_8() {
    let script = format!(
        "{GREETED}{}  - close: {{ from: c, to: s }}\n",
        send("c", "s", "NOOP\\nQUIT")
    );
    let found = rules(&script);
    assert!(found.contains(&("RFC 5321 §2.3.8", 6)), "{found:?}");
}

#[test]
fn overlong_command_line_breaks_4_5_3_1_4() {
    let long = format!("NOOP {}\\r\\n", "x".repeat(600));
    let script = format!("{GREETED}{}", send("c", "s", &long));
    assert_eq!(rules(&script), [("RFC 5321 §4.5.3.1.4", 5)]);
}

#[test]
fn dns_response_must_answer_a_query_with_its_id_and_question() {
    let query =
        "  - send: { from: c, to: s, dns: { id: 7, question: { name: a.example, type: A } } }\n";
    let wrong_id = "  - send: { from: s, to: c, dns: { id: 8, question: { name: a.example, type: A }, response: NOERROR } }\n";
    assert_eq!(
        rules(&format!("{query}{wrong_id}")),
        [("RFC 1035 §4.1.1", 2)]
    );
    let wrong_question = "  - send: { from: s, to: c, dns: { question: { name: b.example, type: A }, response: NOERROR } }\n";
    assert_eq!(
        rules(&format!("{query}{wrong_question}")),
        [("RFC 1035 §7.3", 2)]
    );
    let unasked = "  - send: { from: s, to: c, to_port: 4000, dns: { question: { name: a.example, type: A }, response: NXDOMAIN } }\n";
    assert_eq!(rules(unasked), [("RFC 1035 §7.3", 1)]);
}

#[test]
fn dns_query_to_another_port_breaks_4_2_1() {
    let query = "  - send: { from: c, to: s, to_port: 5353, dns: { question: { name: a.example, type: A } } }\n";
    assert_eq!(rules(query), [("RFC 1035 §4.2.1", 1)]);
}

/// Runs the binary on a bundled scenario; returns the status and stdout.
fn seqsim_check(file: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(["check", file])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn as_drawn_scenario_lists_its_departures_and_exits_1() {
    let (status, out) = seqsim_check("scenarios/smtp-send-as-drawn.yaml");
    assert_eq!(status, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[0].contains("step 15: `MAIL FROM:luke@sender.com`")
            && lines[0].contains("(RFC 5321 §4.1.1.2, §4.1.2)")
    );
    assert!(
        lines[1].contains("step 17: `RCPT TO:c3po@receiver.com`") && lines[1].contains("§4.1.1.3")
    );
    assert!(lines[2].contains("step 19: `RCPT TO:r2d2@receiver.com`"));
    assert!(
        lines[3].contains("step 27: FIN from receiver")
            && lines[3].ends_with("(RFC 5321 §4.1.1.10)")
    );
    assert!(
        lines[0].starts_with("scenarios/smtp-send-as-drawn.yaml:95:5: "),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[4],
        "scenarios/smtp-send-as-drawn.yaml: 4 departures from the standards."
    );
}

#[test]
fn model_scenario_is_valid_and_exits_0() {
    let (status, out) = seqsim_check("scenarios/smtp-send.yaml");
    assert_eq!(status, 0, "{out}");
    assert!(out.starts_with("scenarios/smtp-send.yaml: valid."));
}

#[test]
fn against_a_modelled_server_only_the_clients_own_lines_are_judged() {
    let text = "title: t\nparticipants:\n  - { id: c, host: c.example, address: 192.0.2.1 }\n  \
                - { id: s, host: s.example, address: 192.0.2.2, smtp_server: { domain: s.example } }\n\
                links:\n  - { between: [c, s], latency: 5ms }\nscript:\n  \
                - open: { from: c, to: s, port: 25 }\n  \
                - send: { from: c, to: s, text: \"HELO c.example\\r\\n\", wait: 50ms }\n  \
                - send: { from: c, to: s, text: \"MAIL FROM:amy@c.example\\r\\n\", wait: 50ms }\n";
    let scenario = scenario::parse("t.yaml", text, &Overrides::default()).unwrap();
    let found: Vec<(&str, usize)> = conformance::check(&scenario)
        .departures
        .iter()
        .map(|d| (d.reference, d.step))
        .collect();
    assert_eq!(
        found,
        [("RFC 5321 §4.1.1.2, §4.1.2", 3)],
        "the model's replies are not in the script"
    );
}
