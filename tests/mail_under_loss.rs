//! Property test: whatever the seed and the loss on each link, up to 30 %,
//! every mail of the documented exchange is accounted for. Each recipient
//! is concluded exactly once; one concluded delivered is in its mailbox
//! exactly once with the very content Luke wrote; no mailbox ever holds a
//! second copy; aibo, who has no mailbox, always fails; and the run ends.
//!
//! The content below is written out by hand from `scenarios/smtp-send.yaml`
//! (its headers, a blank line and its body, each line ended by CRLF as RFC
//! 5322 §2.1 asks), not taken from a run.

use proptest::prelude::{ProptestConfig, any};
use proptest::test_runner::RngSeed;
use seqsim::scenario::{self, Overrides, Setting};
use seqsim::trace::Trace;

mod common;

use common::LUKES_MAIL;

/// The recipients Luke names, and whether each has a mailbox.
const RECIPIENTS: [(&str, &str, bool); 3] = [
    ("aibo@receiver.com", "aibo", false),
    ("c3po@receiver.com", "c3po", true),
    ("r2d2@receiver.com", "r2d2", true),
];

/// Runs the documented exchange with a seed and a loss, in percent, per link.
fn run_with_loss(seed: u64, losses: [u32; 3]) -> Trace {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/smtp-send.yaml");
    let text = std::fs::read_to_string(file).expect("the scenario can be read");
    let sets = losses.iter().enumerate().map(|(link, percent)| {
        let loss = f64::from(*percent) / 100.0;
        Setting::parse(&format!("links[{link}].loss={loss}")).expect("a valid setting")
    });
    let overrides = Overrides {
        seed: Some(seed),
        sets: sets.collect(),
    };
    let scenario = scenario::parse(file, &text, &overrides).expect("the scenario is valid");
    seqsim::sim::run(&scenario).expect("every run ends").trace
}

/// Checks that one recipient is accounted for, exactly once.
fn check_recipient(trace: &Trace, recipient: &str, mailbox: &str, exists: bool) {
    let outcomes: Vec<_> = trace
        .outcomes
        .iter()
        .filter(|o| o.recipient == recipient)
        .collect();
    assert_eq!(
        outcomes.len(),
        1,
        "{recipient}: concluded once: {outcomes:?}"
    );
    let copies: Vec<_> = trace
        .deliveries
        .iter()
        .filter(|d| d.mailbox == mailbox)
        .collect();
    assert!(copies.len() <= 1, "{recipient}: never two copies");
    for copy in &copies {
        assert_eq!(copy.content, LUKES_MAIL, "{recipient}: the content as sent");
        assert_eq!(copy.from, "luke@sender.com");
    }
    match outcomes[0].status.as_str() {
        "delivered" => assert_eq!(copies.len(), 1, "{recipient}: delivered means stored"),
        "failed" => assert!(!outcomes[0].reason.is_empty(), "{recipient}: a reason"),
        other => panic!("{recipient}: unknown status {other}"),
    }
    if !exists {
        assert_eq!(outcomes[0].status, "failed", "{recipient} has no mailbox");
    }
}

proptest::proptest! {
    // A fixed seed: the same 1000 cases on every run and machine.
    #![proptest_config(ProptestConfig {
        cases: 1000,
        rng_seed: RngSeed::Fixed(5321),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_recipient_is_concluded_once_and_never_delivered_twice(
        seed in any::<u64>(),
        dns_loss in 0u32..=30,
        receiver_dns_loss in 0u32..=30,
        mail_loss in 0u32..=30,
    ) {
        let trace = run_with_loss(seed, [dns_loss, receiver_dns_loss, mail_loss]);
        for (recipient, mailbox, exists) in RECIPIENTS {
            check_recipient(&trace, recipient, mailbox, exists);
        }
        assert_eq!(trace.outcomes.len(), RECIPIENTS.len(), "no outcome for anyone else");
    }
}

#[test]
fn without_loss_both_robots_get_the_mail() {
    let trace = run_with_loss(2004, [0, 0, 0]);
    let delivered: Vec<&str> = trace
        .outcomes
        .iter()
        .filter(|o| o.status == "delivered")
        .map(|o| o.recipient.as_str())
        .collect();
    assert_eq!(delivered, ["c3po@receiver.com", "r2d2@receiver.com"]);
}

#[test]
fn heavy_loss_brings_both_outcomes_over_many_seeds() {
    let mut statuses = std::collections::BTreeSet::new();
    for seed in 0..60 {
        let trace = run_with_loss(seed, [30, 30, 30]);
        statuses.extend(trace.outcomes.iter().map(|o| o.status.clone()));
    }
    assert!(statuses.contains("delivered") && statuses.contains("failed"));
}

#[test]
fn a_client_left_waiting_for_the_greeting_times_out_and_tries_again() {
    // Seed 1308, 30 % loss on the mail link only: the client's handshake
    // ACK is lost; the server resends its SYN_ACK until it gives up and
    // its RST is lost too. The client, ESTABLISHED, waits for a 220 that
    // never comes: 5 minutes after its ACK (RFC 5321 §4.5.3.2.1) it ends
    // the attempt, and 30 minutes later (the retry delay) it tries again.
    let trace = run_with_loss(1308, [0, 0, 30]);
    for (recipient, mailbox, exists) in RECIPIENTS {
        check_recipient(&trace, recipient, mailbox, exists);
    }
    assert_eq!(trace.outcomes.len(), RECIPIENTS.len());
    let to_server = |m: &&seqsim::trace::Message| m.from == "sender" && m.to == "receiver";
    let handshake_ack = trace
        .messages
        .iter()
        .filter(to_server)
        .find(|m| m.tcp.as_ref().is_some_and(|t| t.flags == ["ACK"]))
        .expect("the client acknowledges the SYN_ACK");
    assert!(handshake_ack.lost.is_some(), "the handshake ACK is lost");
    let reset = trace.messages.iter().find(|m| m.label.starts_with("RST"));
    assert!(reset.expect("the server aborts").lost.is_some());
    let acked = handshake_ack.sent_at.as_nanos();
    let marks: Vec<(u64, &str)> = trace
        .events
        .iter()
        .filter(|e| e.participant == "sender" && !e.label.starts_with("RTO"))
        .map(|e| (e.at.as_nanos() - acked, e.label.as_str()))
        .collect();
    let second = 1_000_000_000;
    assert_eq!(
        marks,
        [
            (300 * second, "no greeting within 300s (time-out)"),
            (
                2_100 * second,
                "retry delay expired (1800s): mail to receiver.com, attempt 2 of 3"
            ),
        ]
    );
}
