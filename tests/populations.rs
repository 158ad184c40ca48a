//! Populations: one participant written once, run as many hosts through
//! the same protocol models.
//!
//! scenarios/smtp-population.yaml has three copies of a sender, 100 ms
//! apart. Each session, worked out from the links (10 ms to DNS, 15 ms to
//! the receiver) as in tests/summary.rs: the MX look-up takes 20 ms, so
//! copy k's SYN leaves at 20 + 100 (k - 1) ms; HELO, its PTR check, MAIL,
//! RCPT, DATA, the body, its ACK, the dot and the 250 bring the accepted
//! reply to the client 280 ms after its start. Each session is 38
//! messages: 4 DNS, the handshake's 3, 14 data segments (HELO, MAIL,
//! RCPT, DATA, body, dot, QUIT; 220, four 250, 354, 221) and their 14
//! ACKs, and 3 to close.

use std::net::Ipv4Addr;

use seqsim::scenario::{self, Overrides};
use seqsim::trace::Trace;

/// Runs the bundled population scenario, with `sets` applied.
fn run(sets: &[&str]) -> Trace {
    let sets = sets
        .iter()
        .map(|s| scenario::Setting::parse(s).unwrap())
        .collect();
    let overrides = Overrides { seed: None, sets };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/smtp-population.yaml"
    );
    let scenario = scenario::load(path, &overrides).unwrap();
    seqsim::sim::run(&scenario).unwrap().trace
}

#[test]
fn each_copy_is_a_host_of_its_own() {
    let trace = run(&[]);
    let copies: Vec<(&str, &str, &str, Ipv4Addr)> = trace
        .participants
        .iter()
        .take(3)
        .map(|p| (p.id.as_str(), p.name.as_str(), p.host.as_str(), p.address))
        .collect();
    assert_eq!(
        copies,
        [
            (
                "sender-1",
                "Sender 1",
                "mail-1.sender.com",
                Ipv4Addr::new(192, 0, 2, 10)
            ),
            (
                "sender-2",
                "Sender 2",
                "mail-2.sender.com",
                Ipv4Addr::new(192, 0, 2, 11)
            ),
            (
                "sender-3",
                "Sender 3",
                "mail-3.sender.com",
                Ipv4Addr::new(192, 0, 2, 12)
            ),
        ]
    );
    assert_eq!(trace.participants[3].id, "dns");
}

#[test]
fn copies_start_one_interval_apart() {
    let trace = run(&[]);
    let syn_times: Vec<(String, u64)> = trace
        .messages
        .iter()
        .filter(|m| m.label.starts_with("SYN ["))
        .map(|m| (m.from.clone(), m.sent_at.as_nanos() / 1_000_000))
        .collect();
    let expected = [("sender-1", 20), ("sender-2", 120), ("sender-3", 220)];
    let expected: Vec<(String, u64)> = expected.iter().map(|(s, t)| (s.to_string(), *t)).collect();
    assert_eq!(syn_times, expected);
}

#[test]
fn every_copy_delivers_its_mail_through_the_models() {
    let trace = run(&[]);
    let outcomes: Vec<(&str, &str, u64)> = trace
        .outcomes
        .iter()
        .map(|o| {
            (
                o.participant.as_str(),
                o.status.as_str(),
                o.at.as_nanos() / 1_000_000,
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("sender-1", "delivered", 280),
            ("sender-2", "delivered", 380),
            ("sender-3", "delivered", 480),
        ]
    );
    assert_eq!(trace.messages.len(), 3 * 38);
    let helos: Vec<&str> = trace
        .messages
        .iter()
        .filter(|m| m.label.starts_with("HELO"))
        .map(|m| m.label.as_str())
        .collect();
    assert_eq!(
        helos,
        [
            "HELO mail-1.sender.com\\r\\n",
            "HELO mail-2.sender.com\\r\\n",
            "HELO mail-3.sender.com\\r\\n"
        ]
    );
    assert!(
        !trace
            .messages
            .iter()
            .any(|m| m.label.contains("could not confirm")),
        "each PTR record names its copy's host"
    );
}

#[test]
fn sessions_overlap_when_the_interval_is_shorter_than_a_session() {
    let trace = run(&[]);
    let first_of_second = trace.messages.iter().position(|m| m.from == "sender-2");
    let last_of_first = trace.messages.iter().rposition(|m| m.from == "sender-1");
    assert!(first_of_second.unwrap() < last_of_first.unwrap());
}

#[test]
fn a_thousand_copies_all_deliver() {
    let trace = run(&[
        "participants[0].population.count=1000",
        "participants[0].population.interval=1ms",
        "participants[0].address=10.0.0.1",
    ]);
    // Set 100 ms apart, copies already overlapped; 1 ms apart, hundreds
    // of sessions are open at once on the one receiver.
    let delivered = trace.outcomes.iter().filter(|o| o.status == "delivered");
    assert_eq!(delivered.count(), 1000);
    // The 1000th copy is 999 addresses past 10.0.0.1: 1 + 999 = 1000 =
    // 3 × 256 + 232, so 10.0.3.232.
    assert_eq!(
        trace.participants[999].address,
        Ipv4Addr::new(10, 0, 3, 232)
    );
}

#[test]
fn a_fault_naming_a_host_after_the_population_picks_that_host() {
    // The receiver is written third, after the population; with three
    // copies before it, it is the fifth host of the run. The rule must
    // still pick its first SYN_ACK, the one to sender-1, and no other.
    let trace = run(&["faults=[{drop: {from: receiver, flags: SYN_ACK, occurrence: 1}}]"]);
    let lost: Vec<(&str, &str, &str)> = trace
        .messages
        .iter()
        .filter(|m| m.lost.is_some())
        .map(|m| (m.from.as_str(), m.to.as_str(), m.label.as_str()))
        .collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!((lost[0].0, lost[0].1), ("receiver", "sender-1"));
    assert!(lost[0].2.starts_with("SYN_ACK"), "{lost:?}");
}

#[test]
fn a_million_copies_are_kept_as_one_participant_and_a_count() {
    // The largest population allowed, from 10.0.0.1: copy 1,000,000 is
    // at 10.0.0.1 plus 999,999 (0x0F423F), that is 0x0A000001 + 0x0F423F
    // = 0x0A0F4240 = 10.15.66.64, and starts 999,999 × 100 ms later.
    let sets = [
        "participants[0].population.count=1000000",
        "participants[0].address=10.0.0.1",
    ];
    let sets = sets.map(|s| scenario::Setting::parse(s).unwrap()).to_vec();
    let overrides = Overrides { seed: None, sets };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/smtp-population.yaml"
    );
    let scenario = scenario::load(path, &overrides).unwrap();
    let participants = &scenario.participants;
    assert_eq!(participants.len(), 1_000_002);
    assert_eq!(participants.written().len(), 3);
    let last = participants.get(999_999);
    assert_eq!(last.id, "sender-1000000");
    assert_eq!(last.host.as_str(), "mail-1000000.sender.com");
    assert_eq!(last.address, Ipv4Addr::new(10, 15, 66, 64));
    let start = last.smtp_client.as_ref().unwrap().start.as_nanos();
    assert_eq!(start, 99_999_900_000_000);
    assert_eq!(
        participants.index_at(Ipv4Addr::new(10, 15, 66, 64)),
        Some(999_999)
    );
    assert_eq!(participants.index_of("receiver"), Some(1_000_001));
}
