//! Checks the run of `scenarios/smtp-send.yaml` against the documented
//! exchange in the seed document, step by step, and checks what the
//! mailboxes hold afterwards.
//!
//! The expected steps below were read off the documented diagram, with
//! the differences RFC 5321 and RFC 9293 require: angle brackets around
//! paths, a 221 reply to QUIT (the server's FIN follows it at once, so
//! the client's ACK of the 221 comes after that FIN), the end of data as
//! `<CRLF>.<CRLF>`, and a separate pure ACK for every data segment (the
//! document lets the 354 and the final 250 carry theirs).

mod common;

use common::{LUKES_MAIL, describe};
use std::path::Path;

use seqsim::provenance::Provenance;
use seqsim::scenario::{self, Overrides};
use seqsim::trace::Trace;

const SCENARIO: &str = "scenarios/smtp-send.yaml";

/// One expected arrow: sender, receiver, and what it carries.
type Step = (&'static str, &'static str, &'static str);

/// The SMTP command and reply pairs of steps 14 to 39 of the document.
const DIALOGUE: [(&str, &str); 7] = [
    ("VRFY aibo\r\n", "550 Unknown user: aibo\r\n"),
    ("VRFY c3po\r\n", "250 OK\r\n"),
    ("VRFY r2d2\r\n", "250 OK\r\n"),
    ("MAIL FROM:<luke@sender.com>\r\n", "250 OK\r\n"),
    ("RCPT TO:<c3po@receiver.com>\r\n", "250 OK\r\n"),
    ("RCPT TO:<r2d2@receiver.com>\r\n", "250 OK\r\n"),
    ("DATA\r\n", "354 Enter e-mail\r\n"),
];

/// The documented exchange in order. `S`, `D`, `R` are sender, DNS and
/// receiver; the third field is a TCP control name, an SMTP line, or a
/// DNS message written as `dns <kind> <fields>`.
fn expected_steps() -> Vec<Step> {
    let mut steps: Vec<Step> = vec![
        ("S", "D", "dns query MX receiver.com"),
        (
            "D",
            "S",
            "dns response receiver.com MX 10 mail.receiver.com + mail.receiver.com A 66.218.71.63",
        ),
        ("S", "R", "SYN"),
        ("R", "S", "SYN_ACK"),
        ("S", "R", "ACK"),
        ("R", "S", "220 mail.receiver.com SMTP Ready\r\n"),
        ("S", "R", "ACK"),
        ("S", "R", "HELO mail.sender.com\r\n"),
        ("R", "S", "ACK"),
        ("R", "D", "dns query PTR 10.2.0.192.in-addr.arpa"),
        (
            "D",
            "R",
            "dns response 10.2.0.192.in-addr.arpa PTR mail.sender.com",
        ),
        ("R", "S", "250 mail.receiver.com\r\n"),
        ("S", "R", "ACK"),
    ];
    for (command, reply) in DIALOGUE {
        steps.extend([
            ("S", "R", command),
            ("R", "S", "ACK"),
            ("R", "S", reply),
            ("S", "R", "ACK"),
        ]);
    }
    steps.extend([
        ("S", "R", LUKES_MAIL),
        ("R", "S", "ACK"),
        ("S", "R", ".\r\n"),
        ("R", "S", "ACK"),
        ("R", "S", "250 OK Mail accepted\r\n"),
        ("S", "R", "ACK"),
        ("S", "R", "QUIT\r\n"),
        ("R", "S", "ACK"),
        (
            "R",
            "S",
            "221 mail.receiver.com Service closing transmission channel\r\n",
        ),
        ("R", "S", "FIN"),
        ("S", "R", "ACK"),
        ("S", "R", "FIN"),
        ("R", "S", "ACK"),
    ]);
    steps
}

/// Runs the bundled scenario, optionally under another seed.
fn run(seed: Option<u64>) -> Trace {
    let overrides = Overrides {
        seed,
        ..Overrides::default()
    };
    let scenario = scenario::load(SCENARIO, &overrides).expect("the scenario loads");
    seqsim::sim::run(&scenario)
        .expect("the scenario runs")
        .trace
}

#[test]
fn run_follows_the_documented_exchange_step_by_step() {
    let trace = run(None);
    let actual: Vec<(String, String, String)> = trace.messages.iter().map(describe).collect();
    let expected = expected_steps();
    for (number, (want, got)) in expected.iter().zip(&actual).enumerate() {
        let want = (want.0.to_string(), want.1.to_string(), want.2.to_string());
        assert_eq!(&want, got, "step {} differs", number + 1);
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "the run has a different number of messages"
    );
}

#[test]
fn syn_goes_to_the_smtp_port_of_the_exchanger() {
    let trace = run(None);
    let syn = trace
        .messages
        .iter()
        .find(|m| m.label.starts_with("SYN "))
        .expect("a SYN was sent");
    assert_eq!(syn.dst_port, 25);
    assert_eq!(syn.dst_address.to_string(), "66.218.71.63");
}

#[test]
fn every_data_segment_is_acknowledged_by_its_own_pure_ack() {
    let trace = run(None);
    for (index, data) in trace
        .messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.payload_len > 0)
    {
        let tcp = data.tcp.as_ref().unwrap();
        let wanted_ack = tcp.seq.wrapping_add(data.payload_len as u32);
        let acked = trace.messages[index + 1..].iter().any(|reply| {
            reply.from == data.to
                && reply.payload_len == 0
                && reply
                    .tcp
                    .as_ref()
                    .is_some_and(|t| t.flags == ["ACK"] && t.ack == Some(wanted_ack))
        });
        assert!(
            acked,
            "message {index} ({}) has no pure ACK of its own",
            data.label
        );
    }
}

#[test]
fn c3po_and_r2d2_hold_exactly_the_sent_mail_and_aibo_got_nothing() {
    let trace = run(None);
    let mailboxes: Vec<&str> = trace
        .deliveries
        .iter()
        .map(|d| d.mailbox.as_str())
        .collect();
    assert_eq!(mailboxes, ["c3po", "r2d2"]);
    for delivery in &trace.deliveries {
        assert_eq!(delivery.participant, "receiver");
        assert_eq!(delivery.from, "luke@sender.com");
        assert_eq!(delivery.content, LUKES_MAIL);
    }
}

#[test]
fn sender_concludes_aibo_failed_and_the_robots_delivered() {
    let trace = run(None);
    let verdicts: Vec<(&str, &str)> = trace
        .outcomes
        .iter()
        .map(|o| (o.recipient.as_str(), o.status.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("aibo@receiver.com", "failed"),
            ("c3po@receiver.com", "delivered"),
            ("r2d2@receiver.com", "delivered")
        ]
    );
}

#[test]
fn two_runs_give_identical_bytes() {
    let options = seqsim::render::text::Options {
        width: 120,
        unicode: false,
    };
    let first = run(None);
    let second = run(None);
    let text = |trace: &Trace| seqsim::render::text::render(trace, &options);
    assert_eq!(text(&first), text(&second));
    let content = std::fs::read(SCENARIO).expect("the scenario can be read");
    let provenance = Provenance::new(Path::new(SCENARIO), &content, first.seed);
    let json = |trace: &Trace| seqsim::render::json::render(trace, &provenance);
    assert_eq!(json(&first), json(&second));
}

#[test]
fn another_seed_changes_sequence_numbers_but_not_the_exchange() {
    let original = run(None);
    let reseeded = run(Some(99));
    let syn_seq = |trace: &Trace| trace.messages[2].tcp.as_ref().unwrap().seq;
    assert_ne!(syn_seq(&original), syn_seq(&reseeded));
    let shape = |trace: &Trace| -> Vec<(String, String, String, u32, Option<u32>)> {
        trace
            .messages
            .iter()
            .map(|m| {
                let (from, to, what) = describe(m);
                let relative = m
                    .tcp
                    .as_ref()
                    .map_or((0, None), |t| (t.relative_seq, t.relative_ack));
                (from, to, what, relative.0, relative.1)
            })
            .collect()
    };
    assert_eq!(shape(&original), shape(&reseeded));
}
