//! How the trace explains what a run did: why each message was sent (a
//! reply, set off by another, a resend of which first transmission), and
//! the timers that fired, drawn on their lifelines in every format.

use seqsim::provenance::Provenance;
use seqsim::render::{jsonl, mermaid, msc, plantuml, text};
use seqsim::scenario::{self, Overrides};
use seqsim::sim::Run;
use seqsim::trace::{LifelineEventKind, Message, RetransmitTrigger, SendReason};

mod common;

/// A client whose every packet to the server is lost: it opens a
/// connection, so its SYN is resent until TCP gives up.
const UNREACHABLE_SERVER: &str = "\
title: t
seed: 5
participants:
  - { id: c, host: c.example, address: 192.0.2.1 }
  - { id: s, host: s.example, address: 192.0.2.2 }
links:
  - { between: [c, s], latency: 10ms, loss: 1 }
script:
  - open: { from: c, to: s, port: 80 }
";

/// Runs a scenario given as text.
fn run(text: &str) -> Run {
    let scenario = scenario::parse("t.yaml", text, &Overrides::default()).expect("valid");
    seqsim::sim::run(&scenario).expect("runs")
}

/// Returns whole seconds.
fn seconds(nanos: u64) -> u64 {
    nanos / 1_000_000_000
}

/// Returns the first message whose label starts with `start`.
fn labelled<'t>(messages: &'t [Message], start: &str) -> &'t Message {
    messages
        .iter()
        .find(|m| m.label.starts_with(start))
        .unwrap_or_else(|| panic!("no message labelled {start}"))
}

#[test]
fn every_resent_syn_names_its_first_transmission_and_counts_from_one() {
    let run = run(UNREACHABLE_SERVER);
    let messages = &run.trace.messages;
    assert_eq!(messages[0].why, SendReason::First);
    for (number, resend) in messages.iter().enumerate().skip(1) {
        let expected = SendReason::Retransmission {
            number: number as u32,
            original: 0,
            trigger: RetransmitTrigger::Timeout,
        };
        assert_eq!(resend.why, expected, "message {number}");
        let note = format!("(retransmission #{number})");
        assert!(resend.label.ends_with(&note), "{}", resend.label);
    }
}

#[test]
fn each_expired_timer_is_a_lifeline_event_just_before_its_resend() {
    let run = run(UNREACHABLE_SERVER);
    let events = &run.trace.events;
    // RFC 6298: an initial RTO of 1 s (§2.1), doubled at each expiry
    // (§5.5) up to the 60 s maximum (§2.5); the default of 7 SYN resends
    // expires the timer 8 times, the last time giving up.
    let expiries: Vec<(u64, &str)> = events
        .iter()
        .map(|e| (seconds(e.at.as_nanos()), e.label.as_str()))
        .collect();
    assert_eq!(
        expiries,
        [
            (1, "RTO expired (1s)"),
            (3, "RTO expired (2s)"),
            (7, "RTO expired (4s)"),
            (15, "RTO expired (8s)"),
            (31, "RTO expired (16s)"),
            (63, "RTO expired (32s)"),
            (123, "RTO expired (60s)"),
            (183, "RTO expired (60s) after 7 resends: giving up"),
        ]
    );
    for (number, event) in events.iter().enumerate() {
        assert_eq!(event.participant, "c");
        assert_eq!(
            event.before,
            number + 1,
            "drawn above resend {}",
            number + 1
        );
    }
    let kinds: Vec<LifelineEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds[..7], [LifelineEventKind::TimerExpired; 7]);
    assert_eq!(kinds[7], LifelineEventKind::GaveUp);
}

#[test]
fn replies_and_the_messages_they_set_off_name_what_arrived() {
    let path = common::scenario_files()
        .into_iter()
        .find(|p| p.ends_with("scenarios/smtp-send.yaml"))
        .expect("the bundled scenario");
    let (run, _) = common::run_with_provenance(&path);
    let messages = &run.trace.messages;
    let index = |label: &str| labelled(messages, label).index;
    let why = |label: &str| labelled(messages, label).why.clone();
    assert_eq!(why("DNS query MX"), SendReason::First);
    let mx_answer = index("DNS answer: receiver.com MX");
    assert_eq!(
        why("DNS answer: receiver.com MX"),
        SendReason::Reply {
            to: index("DNS query MX")
        }
    );
    assert_eq!(why("SYN "), SendReason::Triggered { by: mx_answer });
    assert_eq!(why("SYN_ACK"), SendReason::Reply { to: index("SYN ") });
    let helo = index("HELO");
    assert_eq!(why("DNS query PTR"), SendReason::Triggered { by: helo });
    assert_eq!(
        why("QUIT"),
        SendReason::Reply {
            to: index("250 OK Mail")
        }
    );
    assert_eq!(why("221"), SendReason::Reply { to: index("QUIT") });
    assert!(
        run.trace.events.is_empty(),
        "nothing expired in a clean run"
    );
}

/// Returns the column a character starts at, counting display columns.
fn column_of(line: &str, byte: usize) -> usize {
    line[..byte].chars().count()
}

#[test]
fn the_text_diagram_marks_an_expiry_on_the_lifeline_above_the_resend() {
    let run = run(UNREACHABLE_SERVER);
    let options = text::Options {
        width: 100,
        unicode: false,
    };
    let diagram = text::render(&run.trace, &options);
    let lines: Vec<&str> = diagram.lines().collect();
    let names = lines
        .iter()
        .position(|line| line.trim_start().starts_with("c "))
        .expect("the names row");
    let lifeline = column_of(lines[names], lines[names].find('c').unwrap());
    let mark = lines
        .iter()
        .position(|line| line.contains("RTO expired (1s)"))
        .expect("the first expiry");
    let row = lines[mark];
    assert!(row.trim_start().starts_with("1.000000"), "{row}");
    assert_eq!(row.chars().nth(lifeline), Some('*'), "{row}");
    assert!(lines[mark + 1].contains("(retransmission #1)"));
}

#[test]
fn every_dialect_draws_the_expiries_in_order_with_the_resends() {
    let run = run(UNREACHABLE_SERVER);
    let provenance = Provenance::new(std::path::Path::new("t.yaml"), b"", run.trace.seed);
    let outputs = [
        (
            "mermaid",
            mermaid::render(&run.trace, &provenance),
            "Note over c: t=1.000000 RTO expired (1s)",
        ),
        (
            "plantuml",
            plantuml::render(&run.trace, &provenance),
            "hnote over c : <color:gray>1.000000</color> RTO expired (1s)",
        ),
        (
            "msc",
            msc::render(&run.trace, &provenance),
            "c abox c [label=\"RTO expired (1s)\", id=\"1.000000\"]",
        ),
        (
            "jsonl",
            jsonl::render(&run.trace, &provenance),
            "\"label\":\"RTO expired (1s)\"",
        ),
    ];
    for (format, output, mark) in outputs {
        let lines: Vec<&str> = output.lines().collect();
        let at = lines
            .iter()
            .position(|line| line.contains(mark))
            .unwrap_or_else(|| panic!("{format} has no mark {mark}:\n{output}"));
        assert!(
            lines[at + 1].contains("(retransmission"),
            "{format}: the resend follows its expiry, not {}",
            lines[at + 1]
        );
        let marks = lines.iter().filter(|l| l.contains("RTO expired")).count();
        assert_eq!(marks, 8, "{format}");
    }
}
