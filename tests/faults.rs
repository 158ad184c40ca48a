//! Faults and link settings end to end: each test runs a small scenario
//! and checks the trace against times and numbers worked out by hand from
//! the latencies, the RFC 6298 timer and the packets' sizes.

use std::path::Path;

use seqsim::scenario::{self, Overrides, Setting};
use seqsim::sim::Run;
use seqsim::trace::{LifelineEventKind, LossCause, Message, RetransmitTrigger, SendReason};

mod common;

/// One millisecond in nanoseconds.
const MS: u64 = 1_000_000;

/// A client and a server 10 ms apart; `rest` adds keys at the top level.
fn client_server(link: &str, rest: &str) -> String {
    format!(
        "title: t\nseed: 1\nparticipants:\n\
         \x20 - {{ id: c, host: c.example, address: 192.0.2.1 }}\n\
         \x20 - {{ id: s, host: s.example, address: 192.0.2.2 }}\n\
         links:\n  - {{ between: [c, s], latency: 10ms{link} }}\n{rest}"
    )
}

/// A script that opens a connection, sends one line and closes both ways.
const EXCHANGE: &str = "script:
  - open: { from: c, to: s, port: 7 }
  - send: { from: c, to: s, text: \"hello\\r\\n\" }
  - close: { from: c, to: s }
  - close: { from: s, to: c }
";

/// Returns the overrides of `--set` arguments.
fn overrides(sets: &[&str]) -> Overrides {
    let sets = sets.iter().map(|s| Setting::parse(s).expect("a setting"));
    Overrides {
        seed: None,
        sets: sets.collect(),
    }
}

/// Runs a scenario given as text, with `--set` arguments.
fn run_with(text: &str, sets: &[&str]) -> Run {
    let scenario = scenario::parse("t.yaml", text, &overrides(sets)).expect("valid");
    seqsim::sim::run(&scenario).expect("runs")
}

/// Runs a scenario given as text.
fn run(text: &str) -> Run {
    run_with(text, &[])
}

/// Returns the messages whose label starts with `start`, in order.
fn labelled<'t>(messages: &'t [Message], start: &str) -> Vec<&'t Message> {
    messages
        .iter()
        .filter(|m| m.label.starts_with(start))
        .collect()
}

#[test]
fn lost_syn_ack_resends_the_syn_after_one_second_with_the_same_number() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lost-syn-ack.yaml");
    let (run, _) = common::run_with_provenance(&path);
    let messages = &run.trace.messages;
    let syns = labelled(messages, "SYN [SYN]");
    let syn_acks = labelled(messages, "SYN_ACK");
    // MX query out (10 ms) and answer back (10 ms): the SYN leaves at 20 ms,
    // reaches the receiver 15 ms later, and the SYN_ACK leaves at 35 ms.
    assert_eq!(syns.len(), 2, "one SYN and one resend");
    assert_eq!(syns[0].sent_at.as_nanos(), 20 * MS);
    assert_eq!(syn_acks[0].sent_at.as_nanos(), 35 * MS);
    let lost = syn_acks[0]
        .lost
        .as_ref()
        .expect("the first SYN_ACK is lost");
    assert_eq!(lost.cause, LossCause::Fault);
    assert_eq!(lost.detail, "fault 1: drop the 1st SYN_ACK");
    // The initial RTO is 1 s (RFC 6298 §2.1): the SYN goes again at 1.020 s.
    assert_eq!(syns[1].sent_at.as_nanos(), 1_020 * MS);
    let (first, again) = (syns[0].tcp.as_ref().unwrap(), syns[1].tcp.as_ref().unwrap());
    assert_eq!(
        again.seq, first.seq,
        "a resent SYN keeps its sequence number"
    );
    let expected = SendReason::Retransmission {
        number: 1,
        original: syns[0].index,
        trigger: RetransmitTrigger::Timeout,
    };
    assert_eq!(syns[1].why, expected);
    // The receiver's own timer for its SYN_ACK (35 ms + 1 s) resends it;
    // it arrives 15 ms later and the sender's ACK completes the handshake.
    assert_eq!(syn_acks[1].sent_at.as_nanos(), 1_035 * MS);
    assert_eq!(syn_acks[1].received_at.unwrap().as_nanos(), 1_050 * MS);
    let receiver_isn = syn_acks[0].tcp.as_ref().unwrap().seq;
    let handshake_ack = messages
        .iter()
        .find(|m| {
            m.from == "sender" && m.label.starts_with("ACK") && m.sent_at.as_nanos() == 1_050 * MS
        })
        .expect("the sender's ACK of the resent SYN_ACK");
    assert_eq!(
        handshake_ack.tcp.as_ref().unwrap().ack,
        Some(receiver_isn.wrapping_add(1))
    );
    assert_eq!(
        handshake_ack.tcp.as_ref().unwrap().seq,
        first.seq.wrapping_add(1)
    );
    // And the mail gets through.
    assert_eq!(run.trace.deliveries.len(), 2, "c3po and r2d2 get the mail");
}

#[test]
fn the_same_fault_can_be_set_on_the_command_line() {
    let text = client_server("", EXCHANGE);
    let run = run_with(&text, &["faults=[{drop: {flags: SYN_ACK, occurrence: 1}}]"]);
    let syn_acks = labelled(&run.trace.messages, "SYN_ACK");
    assert_eq!(
        syn_acks[0].lost.as_ref().map(|l| l.cause),
        Some(LossCause::Fault)
    );
    assert!(syn_acks[1].lost.is_none());
}

#[test]
fn a_delayed_message_arrives_that_much_later() {
    let rules = "faults:\n  - delay: { by: 300ms, text: hello }\n";
    let run = run(&client_server("", &format!("{EXCHANGE}{rules}")));
    let hello = labelled(&run.trace.messages, "hello")[0];
    let took = hello.received_at.unwrap().as_nanos() - hello.sent_at.as_nanos();
    assert_eq!(took, 310 * MS, "10 ms of link and 300 ms of delay");
}

#[test]
fn a_duplicate_names_the_message_it_copies() {
    let rules = "faults:\n  - duplicate: { text: hello }\n";
    let run = run(&client_server("", &format!("{EXCHANGE}{rules}")));
    let hellos = labelled(&run.trace.messages, "hello");
    assert_eq!(hellos.len(), 2);
    assert_eq!(
        hellos[1].why,
        SendReason::Duplicate {
            of: hellos[0].index
        }
    );
    assert_eq!(hellos[1].index, hellos[0].index + 1);
    assert_eq!(hellos[1].sent_at, hellos[0].sent_at);
    assert_eq!(hellos[1].label, "hello\\r\\n (duplicate)");
}

#[test]
fn the_first_matching_rule_decides() {
    let rules = "faults:\n  - delay: { by: 1s, flags: SYN }\n  - drop: { flags: SYN }\n";
    let run = run(&client_server("", &format!("{EXCHANGE}{rules}")));
    let syn = labelled(&run.trace.messages, "SYN [SYN]")[0];
    assert!(syn.lost.is_none(), "the delay rule came first");
    assert_eq!(syn.received_at.unwrap().as_nanos(), 1_010 * MS);
}

#[test]
fn a_host_down_loses_what_would_reach_it_and_is_marked_on_its_lifeline() {
    // The server is down for the first 500 ms: the SYN (arriving at 10 ms)
    // is lost; the resend at 1 s arrives at 1.010 s, when it is back.
    let rules = "faults:\n  - host_down: { host: s, until: 500ms }\n";
    let run = run(&client_server("", &format!("{EXCHANGE}{rules}")));
    let syns = labelled(&run.trace.messages, "SYN [SYN]");
    let lost = syns[0].lost.as_ref().expect("lost");
    assert_eq!(lost.cause, LossCause::HostDown);
    assert_eq!(lost.detail, "fault 1: the receiver is down");
    assert_eq!(syns[1].received_at.unwrap().as_nanos(), 1_010 * MS);
    let kinds: Vec<_> = run
        .trace
        .events
        .iter()
        .filter(|e| e.participant == "s")
        .collect();
    assert_eq!(kinds[0].kind, LifelineEventKind::HostDown);
    assert_eq!(kinds[0].at.as_nanos(), 0);
    assert_eq!(kinds[1].kind, LifelineEventKind::HostUp);
    assert_eq!(kinds[1].at.as_nanos(), 500 * MS);
}

#[test]
fn a_partition_loses_what_crosses_it_while_it_lasts() {
    let rules = "faults:\n  - partition: { groups: [[c], [s]], until: 500ms }\n";
    let run = run(&client_server("", &format!("{EXCHANGE}{rules}")));
    let syns = labelled(&run.trace.messages, "SYN [SYN]");
    assert_eq!(
        syns[0].lost.as_ref().map(|l| l.cause),
        Some(LossCause::Partition)
    );
    assert!(
        syns[1].lost.is_none(),
        "the resend at 1 s is after the partition"
    );
}

#[test]
fn tcp_settings_bound_the_syn_resends() {
    // Every packet is lost; with two resends allowed there are three SYNs,
    // at 0, 1 s and 1 + 2 = 3 s.
    let tcp = "    tcp: { max_syn_retransmissions: 2 }\n";
    let text = format!(
        "title: t\nparticipants:\n\
         \x20 - id: c\n    host: c.example\n    address: 192.0.2.1\n{tcp}\
         \x20 - {{ id: s, host: s.example, address: 192.0.2.2 }}\n\
         links:\n  - {{ between: [c, s], latency: 10ms, loss: 1 }}\n\
         script:\n  - open: {{ from: c, to: s, port: 7 }}\n"
    );
    let run = run(&text);
    let times: Vec<u64> = labelled(&run.trace.messages, "SYN")
        .iter()
        .map(|m| m.sent_at.as_nanos() / MS)
        .collect();
    assert_eq!(times, [0, 1_000, 3_000]);
}

#[test]
fn a_slow_link_adds_each_packets_serialization_time() {
    // A SYN is 20 (IPv4) + 20 (TCP) + 4 (MSS option) = 44 octets = 352
    // bits; at 64 kbit/s that takes 5.5 ms, then 10 ms of latency.
    let run = run(&client_server(", bandwidth: 64kbit/s", EXCHANGE));
    let syn = labelled(&run.trace.messages, "SYN [SYN]")[0];
    assert_eq!(syn.received_at.unwrap().as_nanos(), 15_500_000);
    // A pure ACK is 40 octets = 320 bits: 5 ms.
    let ack = labelled(&run.trace.messages, "ACK")[0];
    let took = ack.received_at.unwrap().as_nanos() - ack.sent_at.as_nanos();
    assert_eq!(took, 15 * MS);
}

#[test]
fn one_way_settings_change_only_their_direction() {
    let link = ", one_way: [{ from: s, latency: 30ms }]";
    let run = run(&client_server(link, EXCHANGE));
    let syn = labelled(&run.trace.messages, "SYN [SYN]")[0];
    let syn_ack = labelled(&run.trace.messages, "SYN_ACK")[0];
    assert_eq!(syn.received_at.unwrap().as_nanos(), 10 * MS);
    let back = syn_ack.received_at.unwrap().as_nanos() - syn_ack.sent_at.as_nanos();
    assert_eq!(back, 30 * MS);
}

#[test]
fn simultaneous_close_crosses_the_fins_and_passes_through_closing() {
    let script = "script:
  - open: { from: c, to: s, port: 7 }
  - close: { from: c, to: s, simultaneous: true }
";
    let run = run(&client_server("", script));
    let fins = labelled(&run.trace.messages, "FIN");
    assert_eq!(fins.len(), 2);
    // SYN at 0, SYN_ACK at 10 ms, the client's ACK reaches the server at
    // 30 ms: the open step ends and both FINs leave, before either arrives.
    assert_eq!(fins[0].sent_at.as_nanos(), 30 * MS);
    assert_eq!(fins[0].from, "c");
    assert_eq!(fins[1].from, "s");
    assert_eq!(fins[0].sent_at, fins[1].sent_at);
    assert!(fins[1].sent_at < fins[0].received_at.unwrap());
    for fin in &fins {
        assert_eq!(fin.tcp.as_ref().unwrap().sender_state, "FIN-WAIT-1");
    }
    let last_acks: Vec<&Message> = run.trace.messages[fins[1].index + 1..].iter().collect();
    assert_eq!(last_acks.len(), 2, "one ACK of each FIN, nothing more");
    for ack in last_acks {
        assert_eq!(ack.tcp.as_ref().unwrap().flags, ["ACK"]);
        assert_eq!(ack.tcp.as_ref().unwrap().sender_state, "CLOSING");
    }
}

#[test]
fn the_issue_example_delays_one_rcpt_by_300_ms() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-send.yaml");
    let text = std::fs::read_to_string(&path).expect("the scenario");
    let rule = "faults=[{delay: {by: 300ms, text: 'RCPT TO:<r2d2@receiver.com>'}}]";
    let run = run_with(&text, &[rule]);
    let rcpts = labelled(&run.trace.messages, "RCPT TO:<r2d2@receiver.com>");
    assert_eq!(rcpts.len(), 1);
    let took = rcpts[0].received_at.unwrap().as_nanos() - rcpts[0].sent_at.as_nanos();
    assert_eq!(took, 315 * MS, "15 ms of link and 300 ms of delay");
    let other = labelled(&run.trace.messages, "RCPT TO:<c3po@receiver.com>")[0];
    let took = other.received_at.unwrap().as_nanos() - other.sent_at.as_nanos();
    assert_eq!(took, 15 * MS, "the other recipient is not delayed");
}

#[test]
fn a_link_rule_drops_only_what_crosses_that_link() {
    // a - b - c in a row: a's packets to c cross b - c, its packets to b do not.
    let text = "title: t
participants:
  - { id: a, host: a.example, address: 192.0.2.1 }
  - { id: b, host: b.example, address: 192.0.2.2 }
  - { id: c, host: c.example, address: 192.0.2.3 }
links:
  - { between: [a, b], latency: 10ms }
  - { between: [b, c], latency: 10ms }
script:
  - send: { from: a, to: b, transport: udp, text: to-b, to_port: 9, from_port: 9 }
  - send: { from: a, to: c, transport: udp, text: to-c, to_port: 9, from_port: 9 }
faults:
  - drop: { link: [c, b] }
";
    let run = run(text);
    let messages = &run.trace.messages;
    assert!(labelled(messages, "to-b")[0].lost.is_none());
    let lost = labelled(messages, "to-c")[0].lost.as_ref().expect("lost");
    assert_eq!(lost.detail, "fault 1: drop every message on the link c - b");
}

#[test]
fn mail_goes_to_the_second_exchanger_when_the_first_is_down() {
    // scenarios/second-mx-down.yaml: the MX answer reaches the sender at
    // 20 ms and its SYN to mx1 leaves at once. mx1 is down, so the SYN is
    // resent after the RTO of 1 s and again after 2 s (at 1.020 and
    // 3.020 s); with two resends allowed, the timer's next expiry, 4 s
    // later at 7.020 s, ends the attempt, and the SYN to mx2 leaves then.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/second-mx-down.yaml");
    let (run, _) = common::run_with_provenance(&path);
    let syns: Vec<(u64, &str, bool)> = labelled(&run.trace.messages, "SYN [SYN]")
        .iter()
        .map(|m| (m.sent_at.as_nanos(), m.to.as_str(), m.lost.is_some()))
        .collect();
    assert_eq!(
        syns,
        [
            (20 * MS, "mx1", true),
            (1_020 * MS, "mx1", true),
            (3_020 * MS, "mx1", true),
            (7_020 * MS, "mx2", false),
        ]
    );
    let lost = run.trace.messages.iter().filter_map(|m| m.lost.as_ref());
    assert!(
        lost.into_iter()
            .all(|loss| loss.cause == LossCause::HostDown)
    );
    let delivered: Vec<(&str, &str)> = run
        .trace
        .deliveries
        .iter()
        .map(|d| (d.participant.as_str(), d.mailbox.as_str()))
        .collect();
    assert_eq!(delivered, [("mx2", "r2d2")]);
}

#[test]
fn a_quoted_reply_code_matches_as_the_bare_one_does() {
    // `smtp: "550"` in quotes is the reply code 550, not a verb: the
    // first 550 (the answer to VRFY aibo) is dropped either way.
    let lost_labels = |fault: &str| -> Vec<String> {
        let run = run_bundled("smtp-send.yaml", &[fault]).expect("runs");
        let lost = run.trace.messages.iter().filter(|m| m.lost.is_some());
        lost.map(|m| m.label.clone()).collect()
    };
    let quoted = lost_labels("faults=[{drop: {smtp: \"550\", occurrence: 1}}]");
    let bare = lost_labels("faults=[{drop: {smtp: 550, occurrence: 1}}]");
    assert_eq!(quoted, ["550 Unknown user: aibo\\r\\n"]);
    assert_eq!(quoted, bare);
}

/// Runs a bundled scenario with `--set` arguments.
fn run_bundled(name: &str, sets: &[&str]) -> Result<Run, seqsim::sim::RunError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the scenario can be read");
    let scenario = scenario::parse(name, &text, &overrides(sets)).expect("valid");
    seqsim::sim::run(&scenario)
}

#[test]
fn a_partition_during_the_session_ends_in_a_helo_time_out_and_a_later_retry() {
    // The bundled send with sender and receiver cut apart from 0.1 s to
    // 200 s: the 250 to HELO cannot reach the client, whose HELO is all
    // acknowledged. It waits 5 minutes (RFC 5321 gives none for HELO;
    // it is awaited like MAIL, §4.5.3.2.2), ends the attempt, and after
    // the 30-minute retry delay the partition is long over: aibo is
    // refused (no mailbox), c3po and r2d2 get the mail, each once.
    let partition =
        "faults=[{partition: {groups: [[sender],[receiver]], since: 0.1s, until: 200s}}]";
    let run = run_bundled("smtp-send.yaml", &[partition]).expect("the run ends");
    let helo = labelled(&run.trace.messages, "HELO")[0].sent_at.as_nanos();
    let marks: Vec<(u64, &str)> = run
        .trace
        .events
        .iter()
        .filter(|e| e.participant == "sender" && e.kind == LifelineEventKind::TimerExpired)
        .filter(|e| !e.label.starts_with("RTO"))
        .map(|e| (e.at.as_nanos() - helo, e.label.as_str()))
        .collect();
    assert_eq!(
        marks,
        [
            (300_000 * MS, "no reply to HELO within 300s (time-out)"),
            (
                2_100_000 * MS,
                "retry delay expired (1800s): mail to receiver.com, attempt 2 of 3"
            ),
        ]
    );
    let outcomes: Vec<(&str, &str)> = run
        .trace
        .outcomes
        .iter()
        .map(|o| (o.recipient.as_str(), o.status.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("aibo@receiver.com", "failed"),
            ("c3po@receiver.com", "delivered"),
            ("r2d2@receiver.com", "delivered"),
        ]
    );
    assert_eq!(run.trace.deliveries.len(), 2, "one copy each");
    assert!(run.open_recipients.is_empty());
}

#[test]
fn virtual_time_running_out_is_a_run_error() {
    // Both exchangers down, a SYN resent 100 times 1 000 000 s apart,
    // 100 attempts 1 000 000 s apart: each attempt lasts about
    // 2 × 101 × 10^6 s, so 100 of them need about 2.03 × 10^10 s, past
    // the 2^64 ns ≈ 1.84 × 10^10 s virtual time can hold.
    let sets = [
        "participants[0].tcp={min_rto: 1000000s, max_rto: 1000000s, max_syn_retransmissions: 100}",
        "participants[0].smtp_client.retry_after=1000000s",
        "participants[0].smtp_client.max_attempts=100",
        "faults=[{host_down: {host: mx1}}, {host_down: {host: mx2}}]",
    ];
    let error = run_bundled("second-mx-down.yaml", &sets).expect_err("time runs out");
    assert!(matches!(error, seqsim::sim::RunError::TimeOverflow));
    assert!(error.to_string().contains("virtual time ran out"));
    // 80 attempts need about 1.62 × 10^10 s, which fits.
    let fewer = [&sets[..], &["participants[0].smtp_client.max_attempts=80"]].concat();
    let run = run_bundled("second-mx-down.yaml", &fewer).expect("80 attempts fit");
    let last = run.trace.outcomes.last().expect("r2d2 is concluded");
    assert_eq!(last.status, "failed");
    assert!(last.at.as_nanos() > 16_000_000_000 * 1_000_000_000);
}
