//! Checks `--format summary` against figures worked out by hand from the
//! documented exchange (seed/EXCHANGE.md) and the scenario's links.
//!
//! smtp-send.yaml: 4 DNS messages (MX query and answer, PTR query and
//! answer); 22 SMTP data segments (11 commands and body parts from the
//! client: HELO, three VRFY, MAIL, two RCPT, DATA, the headers and body,
//! the final dot, QUIT; 11 replies from the server: 220, 250 to HELO,
//! 550, two 250 to VRFY, 250 to MAIL, two 250 to RCPT, 354, 250 to the
//! dot, 221); 28 bare TCP segments (3 for the handshake, an ACK for each
//! of the 22 data segments, the server's FIN, the client's FIN-ACK and
//! the last ACK). 54 in all.

use std::process::Command;

/// Runs seqsim with arguments and returns its stdout; it must succeed.
fn summary_of(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(["run", "--format", "summary"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("seqsim runs");
    assert!(output.status.success(), "{:?}", output);
    String::from_utf8(output.stdout).expect("the summary is text")
}

/// Returns the line that starts with `label`, without the label.
fn figure<'a>(summary: &'a str, label: &str) -> &'a str {
    let line = summary.lines().find(|line| line.starts_with(label));
    line.unwrap_or_else(|| panic!("no line `{label}` in\n{summary}"))[label.len()..].trim()
}

#[test]
fn messages_are_counted_by_kind() {
    let summary = summary_of(&["scenarios/smtp-send.yaml"]);
    assert_eq!(
        figure(&summary, "messages"),
        "54 (729 payload octets), 0 lost, 0 retransmissions"
    );
    assert_eq!(figure(&summary, "  dns"), "4 (208 payload octets)");
    assert_eq!(figure(&summary, "  tcp"), "28 (0 payload octets)");
    assert_eq!(figure(&summary, "  smtp"), "22 (521 payload octets)");
}

// Payload octets, each line with its CRLF. DNS (RFC 1035 §4.1, names
// compressed as the capture test of the encoder shows): MX query 12 + 18;
// MX answer 12 + 18 + 21 + 16; PTR query 12 + 29; PTR answer 12 + 29 +
// 29: 208. SMTP from the client: HELO mail.sender.com 22, three VRFY 11
// each, MAIL FROM:<luke@sender.com> 29, two RCPT TO 29 each, DATA 6, the
// headers and body 30 + 42 + 20 + 2 + 15 + 28 + 6 = 143, the dot 3, QUIT
// 6: 300. From the server: 220 34, 250 to HELO 23, 550 24, five 250 OK 8
// each, 354 18, 250 OK Mail accepted 22, 221 60: 221. SMTP 521.

#[test]
fn one_mail_to_two_mailboxes_and_one_unknown_user() {
    let summary = summary_of(&["scenarios/smtp-send.yaml"]);
    assert_eq!(figure(&summary, "recipients"), "2 delivered, 1 failed");
}

// Delivery time: each command waits for the reply before it, 15 ms each
// way between sender and receiver, 10 ms to and from DNS. MX look-up
// 0-20 ms; SYN 20, SYN-ACK 35, ACK 50 reaching the server at 65 ms; 220
// back at 80; HELO reaches the server at 95, its PTR look-up returns at
// 115, 250 back at 130; three VRFY round trips to 220; MAIL to 250; two
// RCPT to 310; DATA to 340; the body arrives at 355 and its ACK returns
// at 370, only then is the dot sent (Nagle, RFC 896: a small segment
// waits while data is unacknowledged); it arrives at 385 and the 250
// reaches the client at 400 ms, for both recipients.

#[test]
fn delivery_time_percentiles_are_in_virtual_time() {
    let summary = summary_of(&["scenarios/smtp-send.yaml"]);
    assert_eq!(
        figure(&summary, "delivery time"),
        "p50 0.400000, p90 0.400000, p99 0.400000, max 0.400000 s"
    );
}

#[test]
fn a_slower_link_shows_in_the_delivery_time() {
    // Of the 400 ms, 40 are the two DNS look-ups (MX, PTR) and 360 are 24
    // crossings of the 15 ms link on the critical path: SYN, SYN-ACK,
    // ACK, 220, HELO, 250, three VRFY and their replies, MAIL and its
    // reply, two RCPT and their replies, DATA, 354, the body, its ACK,
    // the dot and its 250. At 19 ms (still shorter than the 20 ms way
    // through DNS): 40 + 24 × 19 = 496 ms.
    let summary = summary_of(&["scenarios/smtp-send.yaml", "--set", "links[2].latency=19ms"]);
    assert_eq!(
        figure(&summary, "delivery time"),
        "p50 0.496000, p90 0.496000, p99 0.496000, max 0.496000 s"
    );
}

#[test]
fn every_arrival_and_the_start_are_events() {
    let summary = summary_of(&["scenarios/smtp-send.yaml"]);
    let events: u64 = figure(&summary, "events processed").parse().unwrap();
    assert!(events >= 55, "54 arrivals and one start, got {events}");
}

#[test]
fn the_summary_names_its_provenance() {
    let summary = summary_of(&["scenarios/smtp-send.yaml", "--seed", "7"]);
    assert!(summary.starts_with("SMTP e-mail send\nscenario smtp-send.yaml (sha256 "));
    assert!(summary.lines().nth(1).unwrap().ends_with("seed 7"));
}

#[test]
fn figures_kept_while_running_equal_those_of_the_whole_trace() {
    use seqsim::render::summary::Summary;
    use seqsim::scenario::{self, Overrides};
    use seqsim::trace::Layer;
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        let scenario = scenario::load(path.to_str().unwrap(), &Overrides::default()).unwrap();
        let mut streamed = Summary::new();
        let events = seqsim::sim::run_into(&scenario, &mut streamed)
            .unwrap()
            .events;
        let run = seqsim::sim::run(&scenario).unwrap();
        let whole = Summary::of_trace(&run.trace, run.events);
        assert_eq!(events, run.events, "{}", path.display());
        for layer in [
            Layer::Dns,
            Layer::Tcp,
            Layer::Smtp,
            Layer::Http,
            Layer::Data,
        ] {
            assert_eq!(
                streamed.layer(layer),
                whole.layer(layer),
                "{}",
                path.display()
            );
        }
        assert_eq!(streamed.delivered(), whole.delivered());
        assert_eq!(streamed.failed(), whole.failed());
        assert_eq!(
            streamed.delivery_percentile(50),
            whole.delivery_percentile(50)
        );
        assert_eq!(
            streamed.delivery_percentile(100),
            whole.delivery_percentile(100)
        );
    }
}
