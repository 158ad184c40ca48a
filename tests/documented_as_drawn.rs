//! Checks the literal replay `scenarios/smtp-send-as-drawn.yaml` against
//! the documented exchange (`shared/seed/EXCHANGE.md`), step by step.
//!
//! The expected list below is the document's table, numbered as there:
//! bare addresses in MAIL FROM and RCPT TO, no 221 after QUIT, the
//! sender's FIN carrying the ACK of the receiver's FIN. Two pure ACKs
//! that the document leaves out (it lets the 354 and the final 250 carry
//! them) are marked `extra`: seqsim's TCP acknowledges every data
//! segment at once with a segment of its own.

mod common;

use common::{LUKES_MAIL, describe};
use seqsim::scenario::{self, Overrides};
use seqsim::trace::Trace;

const SCENARIO: &str = "scenarios/smtp-send-as-drawn.yaml";

/// One expected arrow: the document's step number (`None` for an extra
/// pure ACK), sender, receiver and what it carries.
type Step = (Option<u32>, &'static str, &'static str, &'static str);

/// The command and reply pairs of steps 14 to 37, as drawn.
const DIALOGUE: [(&str, &str); 6] = [
    ("VRFY aibo\r\n", "550 Unknown user: aibo\r\n"),
    ("VRFY c3po\r\n", "250 OK\r\n"),
    ("VRFY r2d2\r\n", "250 OK\r\n"),
    ("MAIL FROM:luke@sender.com\r\n", "250 OK\r\n"),
    ("RCPT TO:c3po@receiver.com\r\n", "250 OK\r\n"),
    ("RCPT TO:r2d2@receiver.com\r\n", "250 OK\r\n"),
];

/// The document's fifty steps, with the two extra ACKs in their places.
fn expected_steps() -> Vec<Step> {
    let mut steps: Vec<Step> = vec![
        (Some(1), "S", "D", "dns query MX receiver.com"),
        (
            Some(2),
            "D",
            "S",
            "dns response receiver.com MX 10 mail.receiver.com + mail.receiver.com A 66.218.71.63",
        ),
        (Some(3), "S", "R", "SYN"),
        (Some(4), "R", "S", "SYN_ACK"),
        (Some(5), "S", "R", "ACK"),
        (Some(6), "R", "S", "220 mail.receiver.com SMTP Ready\r\n"),
        (Some(7), "S", "R", "ACK"),
        (Some(8), "S", "R", "HELO mail.sender.com\r\n"),
        (Some(9), "R", "S", "ACK"),
        (Some(10), "R", "D", "dns query PTR 10.2.0.192.in-addr.arpa"),
        (
            Some(11),
            "D",
            "R",
            "dns response 10.2.0.192.in-addr.arpa PTR mail.sender.com",
        ),
        (Some(12), "R", "S", "250 mail.receiver.com\r\n"),
        (Some(13), "S", "R", "ACK"),
    ];
    for (pair, (command, reply)) in DIALOGUE.into_iter().enumerate() {
        let first = 14 + 4 * pair as u32;
        steps.extend([
            (Some(first), "S", "R", command),
            (Some(first + 1), "R", "S", "ACK"),
            (Some(first + 2), "R", "S", reply),
            (Some(first + 3), "S", "R", "ACK"),
        ]);
    }
    steps.extend([
        (Some(38), "S", "R", "DATA\r\n"),
        (None, "R", "S", "ACK"),
        (Some(39), "R", "S", "354 Enter e-mail\r\n"),
        (Some(40), "S", "R", "ACK"),
        (Some(41), "S", "R", LUKES_MAIL),
        (Some(42), "R", "S", "ACK"),
        (Some(43), "S", "R", ".\r\n"),
        (None, "R", "S", "ACK"),
        (Some(44), "R", "S", "250 OK Mail accepted\r\n"),
        (Some(45), "S", "R", "ACK"),
        (Some(46), "S", "R", "QUIT\r\n"),
        (Some(47), "R", "S", "ACK"),
        (Some(48), "R", "S", "FIN"),
        (Some(49), "S", "R", "FIN"),
        (Some(50), "R", "S", "ACK"),
    ]);
    steps
}

/// Runs the scenario.
fn run() -> Trace {
    let scenario = scenario::load(SCENARIO, &Overrides::default()).expect("the scenario loads");
    seqsim::sim::run(&scenario)
        .expect("the scenario runs")
        .trace
}

#[test]
fn replay_draws_every_documented_step_in_order() {
    let trace = run();
    let actual: Vec<(String, String, String)> = trace.messages.iter().map(describe).collect();
    let expected = expected_steps();
    for (index, (want, got)) in expected.iter().zip(&actual).enumerate() {
        let wanted = (want.1.to_string(), want.2.to_string(), want.3.to_string());
        let name = want
            .0
            .map_or("an extra ACK".to_string(), |n| format!("document step {n}"));
        assert_eq!(&wanted, got, "message {} ({name}) differs", index + 1);
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "the replay has a different number of messages"
    );
    let documented = expected.iter().filter(|step| step.0.is_some()).count();
    assert_eq!(
        documented, 50,
        "every step of the document's table is expected"
    );
}

#[test]
fn senders_fin_carries_the_ack_of_the_receivers_fin_as_drawn() {
    let trace = run();
    let fin = trace
        .messages
        .iter()
        .rfind(|m| m.from == "sender" && m.label.starts_with("FIN"))
        .unwrap();
    assert_eq!(fin.tcp.as_ref().unwrap().flags, ["FIN", "ACK"]);
}

#[test]
fn nobody_answers_quit_with_221() {
    let trace = run();
    let replies = trace.messages.iter().filter_map(|m| m.payload.as_deref());
    assert!(replies.clone().all(|payload| !payload.starts_with("221")));
    assert!(
        replies
            .clone()
            .any(|payload| payload == "MAIL FROM:luke@sender.com\r\n")
    );
}

#[test]
fn every_step_remark_lands_on_its_own_message() {
    let trace = run();
    let remark_of = |label: &str| {
        let message = trace
            .messages
            .iter()
            .find(|m| m.label.starts_with(label))
            .unwrap();
        message.remark.clone().unwrap_or_default()
    };
    assert!(remark_of("MAIL FROM:").contains("without the angle brackets"));
    assert!(remark_of("SYN [SYN]").contains("port 25"));
    assert!(remark_of("DNS query PTR").contains("compare it with the HELO name"));
}
