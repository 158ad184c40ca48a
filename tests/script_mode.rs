//! Script mode in the engine: steps follow one another as their messages
//! arrive, waits and named ports are honoured, datagrams answer on the
//! ports they were asked from, models answer scripted messages, and a
//! lost message stops the script where it was.

use seqsim::scenario::{self, Overrides};
use seqsim::sim::Run;
use seqsim::time::SimTime;

/// Runs a scenario of two linked hosts (10 ms apart) and the script given.
fn run(extra_participant: &str, script: &str) -> Run {
    let text = format!(
        "title: t\nseed: 5\nparticipants:\n  - {{ id: c, host: c.example, address: 192.0.2.1 }}\n  \
         - {{ id: s, host: s.example, address: 192.0.2.2{extra_participant} }}\n\
         links:\n  - {{ between: [c, s], latency: 10ms }}\nscript:\n{script}"
    );
    let scenario = scenario::parse("t.yaml", &text, &Overrides::default()).expect("valid");
    seqsim::sim::run(&scenario).expect("runs")
}

/// Returns the time in milliseconds.
fn millis(at: SimTime) -> u64 {
    at.as_nanos() / 1_000_000
}

#[test]
fn a_reply_datagram_goes_back_to_the_port_it_came_from() {
    let run = run(
        "",
        "  - send: { from: c, to: s, transport: udp, to_port: 7000, text: ping }\n\
         \x20 - send: { from: s, to: c, transport: udp, text: pong }\n",
    );
    let [ping, pong] = &run.trace.messages[..] else {
        panic!("two datagrams")
    };
    assert_eq!(
        (ping.dst_port, pong.src_port, pong.dst_port),
        (7000, 7000, ping.src_port)
    );
    assert_eq!(
        millis(pong.sent_at),
        10,
        "the reply leaves when the ping arrives"
    );
    assert_eq!(pong.payload.as_deref(), Some("pong"));
    assert_eq!(run.stalled_step, None);
}

#[test]
fn wait_delays_a_step_after_the_previous_one_arrived() {
    let run = run(
        "",
        "  - open: { from: c, to: s, port: 9000, from_port: 40000 }\n\
         \x20 - send: { from: c, to: s, text: hi, wait: 1.5s }\n",
    );
    let syn = &run.trace.messages[0];
    assert_eq!((syn.src_port, syn.dst_port), (40000, 9000));
    let data = run
        .trace
        .messages
        .iter()
        .find(|m| m.payload.is_some())
        .unwrap();
    assert_eq!(
        millis(data.sent_at),
        30 + 1500,
        "the last ACK reaches the server at 30 ms, then the wait"
    );
}

#[test]
fn a_modelled_server_answers_a_scripted_client() {
    let server = ", smtp_server: { domain: s.example, mailboxes: [bob], check_helo: false }";
    let run = run(
        server,
        "  - open: { from: c, to: s, port: 25 }\n\
         \x20 - send: { from: c, to: s, text: \"HELO c.example\\r\\n\", wait: 50ms }\n\
         \x20 - send: { from: c, to: s, text: \"VRFY bob\\r\\n\", wait: 50ms }\n",
    );
    let said: Vec<&str> = run
        .trace
        .messages
        .iter()
        .filter(|m| m.from == "s")
        .filter_map(|m| m.payload.as_deref())
        .collect();
    assert_eq!(
        said,
        [
            "220 s.example SMTP Ready\r\n",
            "250 s.example\r\n",
            "250 OK\r\n"
        ]
    );
}

#[test]
fn a_lost_message_stops_the_script_at_its_step() {
    let text = "title: t\nseed: 5\nparticipants:\n  - { id: c, host: c.example, address: 192.0.2.1 }\n  \
                - { id: s, host: s.example, address: 192.0.2.2 }\n\
                links:\n  - { between: [c, s], latency: 10ms, loss: 1 }\n\
                script:\n  - open: { from: c, to: s, port: 80 }\n  - send: { from: c, to: s, text: hi }\n";
    let scenario = scenario::parse("t.yaml", text, &Overrides::default()).unwrap();
    let run = seqsim::sim::run(&scenario).unwrap();
    assert_eq!(run.stalled_step, Some(1));
    // RFC 6298: the first resend after the initial RTO of 1 s, then the
    // timer doubles each time (§5.5) up to the 60 s maximum (§2.5); the
    // SYN is tried 1 + 7 times before the client gives up.
    let sent: Vec<u64> = run
        .trace
        .messages
        .iter()
        .map(|m| m.sent_at.as_nanos() / 1_000_000_000)
        .collect();
    assert_eq!(sent, [0, 1, 3, 7, 15, 31, 63, 123]);
    for message in &run.trace.messages {
        assert_eq!(message.received_at, None, "every SYN is drawn as lost");
        let tcp = message.tcp.as_ref().unwrap();
        assert_eq!(tcp.flags, ["SYN"]);
        assert_eq!(tcp.seq, run.trace.messages[0].tcp.as_ref().unwrap().seq);
    }
}

#[test]
fn closing_first_and_answering_a_fin_at_once_take_three_segments() {
    let run = run(
        "",
        "  - open: { from: c, to: s, port: 80 }\n\
         \x20 - close: { from: c, to: s, remark: bye }\n\
         \x20 - close: { from: s, to: c }\n",
    );
    let flags: Vec<String> = run.trace.messages[3..]
        .iter()
        .map(|m| m.tcp.as_ref().unwrap().flags.join("+"))
        .collect();
    assert_eq!(flags, ["FIN+ACK", "FIN+ACK", "ACK"]);
    assert_eq!(run.trace.messages[3].remark.as_deref(), Some("bye"));
}

/// Three hosts: a DNS server, a mail server for s.example, and a sender.
const MAIL_WORLD: &str = "title: t\nseed: 5\nparticipants:\n  \
    - { id: d, host: d.example, address: 192.0.2.53, dns_server: { records: [ \
        { type: MX, name: s.example, preference: 10, exchange: s.example }, \
        { type: A, name: s.example, address: 192.0.2.2 } ] } }\n  \
    - { id: s, host: s.example, address: 192.0.2.2, resolver: d, \
        smtp_server: { domain: s.example, mailboxes: [bob], check_helo: false } }\n  \
    - id: c\n    host: c.example\n    address: 192.0.2.1\n    resolver: d\n    \
      smtp_client: { mails: [ { from: amy@c.example, to: [bob@s.example], body: Hi } ] }\n\
    links:\n  - { between: [c, d], latency: 5ms }\n  - { between: [c, s], latency: 10ms }\n";

#[test]
fn a_model_step_runs_between_literal_steps() {
    let script = "script:\n  - send: { from: c, to: s, transport: udp, to_port: 514, text: before }\n  \
                  - mail: { from: c, remark: The model sends the mail. }\n  \
                  - send: { from: c, to: s, transport: udp, to_port: 514, text: after }\n";
    let scenario = scenario::parse(
        "t.yaml",
        &format!("{MAIL_WORLD}{script}"),
        &Overrides::default(),
    )
    .unwrap();
    let run = seqsim::sim::run(&scenario).unwrap();
    let messages = &run.trace.messages;
    assert_eq!(messages[0].payload.as_deref(), Some("before"));
    assert_eq!(
        messages[1].label, "DNS query MX s.example",
        "the model starts once `before` arrived"
    );
    assert_eq!(
        messages[1].remark.as_deref(),
        Some("The model sends the mail.")
    );
    let last = messages.last().unwrap();
    assert_eq!(last.payload.as_deref(), Some("after"));
    let client_done = messages
        .iter()
        .rev()
        .find(|m| m.from == "s" && m.to == "c")
        .unwrap();
    assert!(
        last.sent_at >= client_done.received_at.unwrap(),
        "`after` waits until the client closed"
    );
    assert_eq!(run.trace.deliveries.len(), 1, "bob got the mail");
    assert_eq!(run.stalled_step, None);
}
