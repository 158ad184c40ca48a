//! Opens the capture of every scenario (and test fixture) with Wireshark's
//! tshark and checks that Wireshark, not our own code, reads what the run
//! did: no malformed packet, no bad checksum, no TCP analysis warning but
//! the retransmissions and duplicate ACKs the trace itself names, a DNS
//! retransmission exactly where the resolver asked again; the
//! headers, DNS records and SMTP commands as the trace has them; the TCP
//! stream that `-z follow` rebuilds equal to the bytes sent; and, for the
//! documented exchange, the SMTP conversation, the MX answer with its
//! additional A record and the PTR answer with the values of the scenario.
//!
//! tshark must be installed in CI (`.ci/run` does it); elsewhere these
//! tests print a note and pass when it is missing. When the project's
//! shared checks are beside the repository (`../shared/checks`), the
//! documented exchange is also compared with the reference capture built
//! independently with scapy, and `pcap-check.sh` must pass on it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use seqsim::render::pcap::EPOCH_SECONDS;
use seqsim::trace::{DnsRecordData, Message, SendReason, SmtpLine, Trace};

/// The SMTP conversation of the documented exchange, one line each,
/// `C:` for the client and `S:` for the server, read off the seed
/// document with the changes RFC 5321 asks for (see
/// `tests/documented_exchange.rs`); the reference transcript in the
/// shared checks holds the same lines.
const DOCUMENTED_CONVERSATION: &[&str] = &[
    "S: 220 mail.receiver.com SMTP Ready",
    "C: HELO mail.sender.com",
    "S: 250 mail.receiver.com",
    "C: VRFY aibo",
    "S: 550 Unknown user: aibo",
    "C: VRFY c3po",
    "S: 250 OK",
    "C: VRFY r2d2",
    "S: 250 OK",
    "C: MAIL FROM:<luke@sender.com>",
    "S: 250 OK",
    "C: RCPT TO:<c3po@receiver.com>",
    "S: 250 OK",
    "C: RCPT TO:<r2d2@receiver.com>",
    "S: 250 OK",
    "C: DATA",
    "S: 354 Enter e-mail",
    "C: From: Luke <luke@sender.com>",
    "C: To: c3po@receiver.com, r2d2@receiver.com",
    "C: Subject: Greetings",
    "C:",
    "C: Hello Robots,",
    "C: May the force be with you.",
    "C: Luke",
    "C: .",
    "S: 250 OK Mail accepted",
    "C: QUIT",
    "S: 221 mail.receiver.com Service closing transmission channel",
];

/// The separator between occurrences of one field in tshark's output.
const AGGREGATOR: &str = "\u{1f}";

/// A capture written to a scratch directory, with the run it came from.
struct Capture {
    _directory: tempfile::TempDir,
    file: PathBuf,
    trace: Trace,
    name: String,
}

/// Writes the capture of one scenario file.
fn capture_of(path: &Path) -> Capture {
    let (run, provenance) = common::run_with_provenance(path);
    let directory = common::scratch_dir();
    let name = common::stem(path);
    let file = directory.path().join(format!("{name}.pcapng"));
    std::fs::write(&file, common::render(&run, &provenance, "pcap"))
        .expect("the capture is written");
    Capture {
        _directory: directory,
        file,
        trace: run.trace,
        name,
    }
}

/// Every scenario's capture, or nothing when tshark is missing outside CI.
fn captures() -> Option<(PathBuf, Vec<Capture>)> {
    let tshark = common::require_tool("tshark", "apt-get install tshark")?;
    Some((
        tshark,
        common::scenario_files()
            .iter()
            .map(|path| capture_of(path))
            .collect(),
    ))
}

/// Runs tshark on a capture with analysis and checksum checks on; returns
/// its stdout. tshark must succeed and say nothing on stderr.
fn tshark(tshark: &Path, capture: &Path, arguments: &[&str]) -> String {
    let mut command = Command::new(tshark);
    command.arg("-n").arg("-r").arg(capture);
    for preference in [
        "tcp.analyze_sequence_numbers:TRUE",
        "tcp.relative_sequence_numbers:TRUE",
        "tcp.desegment_tcp_streams:TRUE",
        "ip.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
    ] {
        command.args(["-o", preference]);
    }
    command.args(arguments);
    let (status, stdout, stderr) = common::run_tool(&mut command);
    let stderr = common::without_root_banner(&stderr);
    assert!(
        status == 0 && stderr.trim().is_empty(),
        "tshark {arguments:?} on {}: exit {status}: {stderr}",
        capture.display()
    );
    String::from_utf8(stdout).expect("tshark prints UTF-8")
}

/// Asks tshark for fields of the frames matching `filter`: one row per
/// frame, one entry per field, several occurrences joined by [`AGGREGATOR`].
fn fields(tshark_path: &Path, capture: &Path, filter: &str, names: &[&str]) -> Vec<Vec<String>> {
    let mut arguments = vec![
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
    ];
    let aggregator = format!("aggregator={AGGREGATOR}");
    arguments.push(&aggregator);
    if !filter.is_empty() {
        arguments.extend(["-2", "-Y", filter]);
    }
    for name in names {
        arguments.extend(["-e", name]);
    }
    let output = tshark(tshark_path, capture, &arguments);
    output
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn tshark_finds_no_malformed_packet_bad_checksum_or_tcp_warning() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    let problems = "_ws.malformed || _ws.short || frame.cap_len < frame.len \
        || (_ws.expert.severity >= 0x600000 && !tcp.analysis.retransmission \
            && !dns.retransmit_request && !tcp.connection.rst) \
        || tcp.analysis.spurious_retransmission \
        || tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment \
        || tcp.analysis.out_of_order || tcp.analysis.keep_alive \
        || tcp.analysis.zero_window || tcp.analysis.reused_ports";
    for capture in &captures {
        let rows = fields(
            &tshark_path,
            &capture.file,
            problems,
            &["frame.number", "_ws.expert.message"],
        );
        assert!(
            rows.is_empty(),
            "{}: tshark reports problems: {rows:?}",
            capture.name
        );
        let frames = fields(&tshark_path, &capture.file, "", &["frame.number"]);
        assert_eq!(
            frames.len(),
            capture.trace.messages.len(),
            "{}: one frame per message",
            capture.name
        );
    }
}

#[test]
fn tshark_calls_retransmissions_exactly_the_segments_sent_again() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    let resent = "tcp.analysis.retransmission || tcp.analysis.fast_retransmission";
    for capture in &captures {
        let flagged: Vec<usize> = fields(&tshark_path, &capture.file, resent, &["frame.number"])
            .iter()
            .map(|row| row[0].parse().expect("a frame number"))
            .collect();
        assert_eq!(
            flagged,
            frames_repeating_a_segment(&capture.trace.messages),
            "{}",
            capture.name
        );
    }
}

#[test]
fn tshark_calls_duplicate_acks_exactly_the_ones_the_trace_labels() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        let rows = fields(
            &tshark_path,
            &capture.file,
            "tcp.analysis.duplicate_ack",
            &["frame.number"],
        );
        let flagged: Vec<usize> = rows
            .iter()
            .map(|row| row[0].parse().expect("a frame number"))
            .collect();
        let labelled: Vec<usize> = capture
            .trace
            .messages
            .iter()
            .filter(|m| m.label.ends_with("(duplicate ACK)"))
            .map(|m| m.index + 1)
            .collect();
        assert_eq!(flagged, labelled, "{}", capture.name);
    }
}

/// The frame numbers (from 1) of the TCP segments that carry the same
/// sequence number, SYN/FIN and data as an earlier one in the same
/// direction of the same connection: the retransmissions.
fn frames_repeating_a_segment(messages: &[Message]) -> Vec<usize> {
    let mut seen = std::collections::BTreeSet::new();
    let mut repeats = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let Some(tcp) = &message.tcp else {
            continue;
        };
        let occupies =
            message.payload_len > 0 || tcp.flags.iter().any(|f| f == "SYN" || f == "FIN");
        if !occupies {
            continue;
        }
        let key = (
            message.src_address,
            message.src_port,
            message.dst_address,
            message.dst_port,
            tcp.seq,
        );
        if !seen.insert(key) {
            repeats.push(index + 1);
        }
    }
    repeats
}

#[test]
fn capinfos_shows_the_provenance_as_the_capture_comment() {
    let Some((_, captures)) = captures() else {
        return;
    };
    let Some(capinfos) = common::require_tool("capinfos", "apt-get install tshark") else {
        return;
    };
    for capture in &captures {
        let (status, stdout, stderr) = common::run_tool(
            Command::new(&capinfos)
                .env("TZ", "UTC")
                .args(["-k", "-a", "-t", "-I"])
                .arg(&capture.file),
        );
        let report = String::from_utf8_lossy(&stdout);
        assert_eq!(status, 0, "{stderr}");
        let comment = format!(
            "Capture comment:     {} generated by seqsim {}",
            capture.trace.title,
            env!("CARGO_PKG_VERSION")
        );
        assert!(report.contains(&comment), "{}: {report}", capture.name);
        assert!(
            report.contains(&format!(
                "seed {}; regenerate with: seqsim run {}.yaml",
                capture.trace.seed, capture.name
            )),
            "{report}"
        );
        assert!(
            report.contains("Time precision = nanoseconds (9)"),
            "{report}"
        );
        assert!(
            report.contains("First packet time:   2000-01-01 00:00:00.000000000"),
            "{report}"
        );
    }
}

#[test]
fn every_dns_query_is_answered_unless_it_was_lost() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        let unanswered = fields(
            &tshark_path,
            &capture.file,
            "dns.flags.response == 0 && !dns.response_in && !dns.retransmission",
            &["frame.number"],
        );
        for row in unanswered {
            let message = frame_message(&capture.trace, &row[0]);
            assert!(
                message.received_at.is_none(),
                "{}: frame {} is a DNS query without answer",
                capture.name,
                row[0]
            );
        }
    }
}

/// How far apart Wireshark's DNS dissector still pairs a repeated query
/// with its original, by default.
const TSHARK_DNS_RETRANSMISSION_WINDOW_NS: u64 = 5_000_000_000;

#[test]
fn tshark_calls_dns_retransmissions_the_queries_the_resolver_sent_again() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        let flagged: Vec<usize> = fields(
            &tshark_path,
            &capture.file,
            "dns.flags.response == 0 && dns.retransmission",
            &["frame.number"],
        )
        .iter()
        .map(|row| row[0].parse().expect("a frame number"))
        .collect();
        assert_eq!(
            flagged,
            dns_resends_within_the_window(&capture.trace),
            "{}",
            capture.name
        );
    }
}

/// The frame numbers (from 1) of the DNS queries the trace calls resends
/// of a query sent less than Wireshark's pairing window before.
fn dns_resends_within_the_window(trace: &Trace) -> Vec<usize> {
    let messages = &trace.messages;
    let resent_soon = |m: &&Message| match m.why {
        seqsim::trace::SendReason::Retransmission { original, .. } => {
            let gap = m.sent_at.since(messages[original].sent_at).as_nanos();
            m.dns.is_some() && gap < TSHARK_DNS_RETRANSMISSION_WINDOW_NS
        }
        _ => false,
    };
    messages
        .iter()
        .filter(resent_soon)
        .map(|m| m.index + 1)
        .collect()
}

/// Returns the trace message a frame number (from 1) shows.
fn frame_message<'a>(trace: &'a Trace, frame: &str) -> &'a Message {
    let number: usize = frame.parse().expect("a frame number");
    &trace.messages[number - 1]
}

/// The tshark fields [`check_frame`] compares, in its order.
const FRAME_FIELDS: [&str; 14] = [
    "frame.time_epoch",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.options.mss_val",
    "tcp.len",
];

#[test]
fn tshark_reads_addresses_ports_times_and_tcp_headers_as_the_trace_has_them() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        let rows = fields(&tshark_path, &capture.file, "", &FRAME_FIELDS);
        for (message, row) in capture.trace.messages.iter().zip(&rows) {
            check_frame(
                &format!("{} message {}", capture.name, message.index),
                message,
                row,
            );
        }
    }
}

/// Compares one frame's [`FRAME_FIELDS`] with its trace message.
fn check_frame(context: &str, message: &Message, row: &[String]) {
    assert_eq!(row[0], epoch_time(message), "{context}: time");
    let addresses = [
        message.src_address.to_string(),
        message.dst_address.to_string(),
        "64".to_string(),
    ];
    assert_eq!(
        row[1..4],
        addresses,
        "{context}: IP source, destination, TTL"
    );
    let ports = [message.src_port.to_string(), message.dst_port.to_string()];
    let seen = if message.tcp.is_some() {
        &row[4..6]
    } else {
        &row[6..8]
    };
    assert_eq!(seen, ports, "{context}: ports");
    if let Some(tcp) = &message.tcp {
        check_tcp_header(context, tcp, message.payload_len, &row[8..]);
    }
}

/// Writes a message's send time as tshark prints `frame.time_epoch`.
fn epoch_time(message: &Message) -> String {
    let nanos = message.sent_at.as_nanos();
    format!(
        "{}.{:09}",
        EPOCH_SECONDS + nanos / 1_000_000_000,
        nanos % 1_000_000_000
    )
}

/// Compares tshark's TCP fields (from `tcp.seq_raw` on) with the trace's.
fn check_tcp_header(
    context: &str,
    tcp: &seqsim::trace::TcpFields,
    payload_len: usize,
    row: &[String],
) {
    assert_eq!(row[0], tcp.seq.to_string(), "{context}: seq");
    let flags = u16::from_str_radix(row[2].trim_start_matches("0x"), 16).expect("tcp.flags is hex");
    let expected_flags = [
        ("FIN", 0x01),
        ("SYN", 0x02),
        ("RST", 0x04),
        ("PSH", 0x08),
        ("ACK", 0x10),
    ]
    .iter()
    .filter(|(name, _)| tcp.flags.iter().any(|flag| flag == name))
    .fold(0, |bits, (_, bit)| bits | bit);
    assert_eq!(
        flags, expected_flags,
        "{context}: flags (RFC 9293 §3.1 bit order)"
    );
    if let Some(ack) = tcp.ack {
        assert_eq!(row[1], ack.to_string(), "{context}: ack");
    }
    assert_eq!(row[3], tcp.window.to_string(), "{context}: window");
    assert_eq!(
        row[4],
        tcp.mss.map(|mss| mss.to_string()).unwrap_or_default(),
        "{context}: MSS option"
    );
    assert_eq!(row[5], payload_len.to_string(), "{context}: payload length");
}

#[test]
fn remarks_and_losses_are_packet_comments() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        let rows = fields(&tshark_path, &capture.file, "", &["frame.comment"]);
        for (message, row) in capture.trace.messages.iter().zip(&rows) {
            let comments: Vec<&str> = row[0].split(AGGREGATOR).filter(|c| !c.is_empty()).collect();
            let mut expected: Vec<String> = message.remark.iter().cloned().collect();
            if message.received_at.is_none() {
                expected.push(format!(
                    "lost: this packet never reached {}",
                    message.dst_address
                ));
            }
            assert_eq!(
                comments, expected,
                "{} message {}",
                capture.name, message.index
            );
        }
    }
}

/// The tshark fields [`check_dns_header`] and [`check_dns_records`] compare.
const DNS_FIELDS: [&str; 17] = [
    "frame.number",
    "dns.id",
    "dns.flags.response",
    "dns.flags.authoritative",
    "dns.flags.recdesired",
    "dns.flags.rcode",
    "dns.qry.name",
    "dns.count.answers",
    "dns.count.auth_rr",
    "dns.count.add_rr",
    "dns.resp.name",
    "dns.resp.ttl",
    "dns.mx.preference",
    "dns.mx.mail_exchange",
    "dns.a",
    "dns.ptr.domain_name",
    "dns.cname",
];

#[test]
fn tshark_decodes_every_dns_message_as_the_trace_has_it() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        for row in fields(&tshark_path, &capture.file, "dns", &DNS_FIELDS) {
            let message = frame_message(&capture.trace, &row[0]);
            let dns = message
                .dns
                .as_ref()
                .expect("a DNS frame shows a DNS message");
            let context = format!("{} message {}", capture.name, message.index);
            check_dns_header(&context, dns, &row[1..10]);
            check_dns_records(&context, dns, &row[10..]);
        }
    }
}

/// Compares tshark's header fields (from `dns.id` to the section counts).
fn check_dns_header(context: &str, dns: &seqsim::trace::DnsFields, row: &[String]) {
    assert_eq!(row[0], format!("0x{:04x}", dns.id), "{context}: id");
    assert_eq!(row[1] == "1", dns.kind == "response", "{context}: QR");
    assert_eq!(row[3] == "1", dns.recursion_desired, "{context}: RD");
    if dns.kind == "response" {
        assert_eq!(row[2] == "1", dns.authoritative, "{context}: AA");
        assert_eq!(
            row[4],
            rcode_number(dns.rcode.as_deref()),
            "{context}: RCODE"
        );
    }
    assert_eq!(row[5], dns.question_name, "{context}: question");
    let counts =
        [dns.answers.len(), dns.authority.len(), dns.additional.len()].map(|n| n.to_string());
    assert_eq!(row[6..9], counts, "{context}: section counts");
}

/// Returns the number of a response code name (RFC 1035 §4.1.1).
fn rcode_number(name: Option<&str>) -> &'static str {
    match name {
        Some("NOERROR") => "0",
        Some("FORMERR") => "1",
        Some("SERVFAIL") => "2",
        Some("NXDOMAIN") => "3",
        Some("REFUSED") => "5",
        other => panic!("unexpected response code {other:?}"),
    }
}

/// Compares tshark's record fields (from `dns.resp.name` on) with the trace's records.
fn check_dns_records(context: &str, dns: &seqsim::trace::DnsFields, row: &[String]) {
    let list = |text: &str| -> Vec<String> {
        text.split(AGGREGATOR)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    };
    let names: Vec<String> = dns.records.iter().map(|r| r.name.clone()).collect();
    let ttls: Vec<String> = dns.records.iter().map(|r| r.ttl.to_string()).collect();
    assert_eq!(list(&row[0]), names, "{context}: owner names");
    assert_eq!(list(&row[1]), ttls, "{context}: TTLs");
    let (mut preferences, mut exchanges, mut addresses, mut pointers, mut aliases) =
        (vec![], vec![], vec![], vec![], vec![]);
    for record in &dns.records {
        match &record.data {
            DnsRecordData::Mx {
                preference,
                exchange,
            } => {
                preferences.push(preference.to_string());
                let root = exchange == ".";
                exchanges.push(if root {
                    "<Root>".into()
                } else {
                    exchange.clone()
                });
            }
            DnsRecordData::A { address } => addresses.push(address.to_string()),
            DnsRecordData::Ptr { target } => pointers.push(target.clone()),
            DnsRecordData::Cname { target } => aliases.push(target.clone()),
        }
    }
    assert_eq!(list(&row[2]), preferences, "{context}: MX preferences");
    assert_eq!(list(&row[3]), exchanges, "{context}: MX exchanges");
    assert_eq!(list(&row[4]), addresses, "{context}: A addresses");
    assert_eq!(list(&row[5]), pointers, "{context}: PTR names");
    assert_eq!(list(&row[6]), aliases, "{context}: CNAME targets");
}

#[test]
fn wireshark_reads_the_smtp_commands_and_reply_codes_the_trace_names() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    let names = [
        "frame.number",
        "smtp.req.command",
        "smtp.req.parameter",
        "smtp.response.code",
        "smtp.rsp.parameter",
    ];
    for capture in &captures {
        let rows = fields(
            &tshark_path,
            &capture.file,
            "smtp.req || smtp.response",
            &names,
        );
        for row in &rows {
            let message = frame_message(&capture.trace, &row[0]);
            check_smtp_line(
                &format!("{} message {}", capture.name, message.index),
                message,
                &row[1..],
            );
        }
        let single_commands_and_replies = capture
            .trace
            .messages
            .iter()
            .filter_map(|m| m.smtp.as_ref())
            .filter(|smtp| {
                matches!(
                    smtp.lines[..],
                    [SmtpLine::Command { .. }] | [SmtpLine::Reply { .. }]
                )
            });
        assert_eq!(
            rows.len(),
            single_commands_and_replies.count(),
            "{}: commands and replies",
            capture.name
        );
    }
}

/// Compares Wireshark's SMTP fields (command, parameter, reply code,
/// reply text) with the one line the trace says the segment carries.
fn check_smtp_line(context: &str, message: &Message, row: &[String]) {
    let lines = &message
        .smtp
        .as_ref()
        .expect("an SMTP frame has SMTP lines")
        .lines;
    match &lines[..] {
        [SmtpLine::Command { verb, argument }] => {
            assert_eq!((&row[0], &row[1]), (verb, argument), "{context}")
        }
        [SmtpLine::Reply { code, text, .. }] => {
            assert_eq!((&row[2], &row[3]), (&code.to_string(), text), "{context}")
        }
        other => {
            panic!("{context}: Wireshark sees a command or reply where the trace has {other:?}")
        }
    }
}

/// One direction's chunk of a followed TCP stream.
#[derive(Debug, PartialEq, Eq)]
struct Chunk {
    from_server: bool,
    bytes: Vec<u8>,
}

/// Reads `-z follow,tcp,raw,N`: chunks of hex, indented when the second
/// node (the server here) sent them.
fn follow_raw(tshark_path: &Path, capture: &Path, stream: usize) -> Vec<Chunk> {
    let output = tshark(
        tshark_path,
        capture,
        &["-q", "-z", &format!("follow,tcp,raw,{stream}")],
    );
    let body = output
        .lines()
        .skip_while(|line| !line.starts_with("Node 1:"))
        .skip(1);
    body.take_while(|line| !line.starts_with("====="))
        .filter(|line| !line.trim().is_empty())
        .map(|line| Chunk {
            from_server: line.starts_with('\t'),
            bytes: decode_hex(line.trim()),
        })
        .collect()
}

/// Reads hex digits into octets.
fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn the_followed_tcp_stream_is_exactly_the_bytes_sent() {
    let Some((tshark_path, captures)) = captures() else {
        return;
    };
    for capture in &captures {
        let Some(opening) = first_opening_syn(&capture.trace.messages) else {
            continue;
        };
        let expected: Vec<Chunk> = capture
            .trace
            .messages
            .iter()
            .filter(|m| m.payload_len > 0 && same_connection(m, opening))
            .filter(|m| !sends_again(m))
            .map(|m| Chunk {
                from_server: m.src_port == opening.dst_port,
                bytes: m.payload_bytes(),
            })
            .collect();
        assert_eq!(
            follow_raw(&tshark_path, &capture.file, 0),
            expected,
            "{}",
            capture.name
        );
    }
}

/// Tells whether a message repeats octets sent before (a retransmission
/// or a fault's copy), which a followed stream holds only once.
fn sends_again(message: &Message) -> bool {
    matches!(
        message.why,
        SendReason::Retransmission { .. } | SendReason::Duplicate { .. }
    )
}

/// The SYN that opens the first TCP connection: tshark's stream 0.
fn first_opening_syn(messages: &[Message]) -> Option<&Message> {
    messages
        .iter()
        .find(|m| m.tcp.as_ref().is_some_and(|tcp| tcp.flags == ["SYN"]))
}

/// Tells whether a message is a TCP segment of the connection `opening` opened.
fn same_connection(message: &Message, opening: &Message) -> bool {
    let ends = |m: &Message| {
        let mut ends = [(m.src_address, m.src_port), (m.dst_address, m.dst_port)];
        ends.sort();
        ends
    };
    message.tcp.is_some() && ends(message) == ends(opening)
}

/// Reads `-z follow,tcp,ascii,N` into the lines each side sent, as
/// `C: line` and `S: line`, split at CRLF.
fn conversation(tshark_path: &Path, capture: &Path) -> Vec<String> {
    let output = tshark(tshark_path, capture, &["-q", "-z", "follow,tcp,ascii,0"]);
    let mut rest = output.split_once("Node 1:").expect("a followed stream").1;
    rest = rest.split_once('\n').expect("the node line ends").1;
    let (mut client, mut server) = (String::new(), String::new());
    let mut lines = Vec::new();
    while let Some((length_line, after)) = rest.split_once('\n') {
        let Ok(length) = length_line.trim().parse::<usize>() else {
            break;
        };
        let (text, after_chunk) = after.split_at(length);
        let side = if length_line.starts_with('\t') {
            &mut server
        } else {
            &mut client
        };
        side.push_str(text);
        let prefix = if length_line.starts_with('\t') {
            "S:"
        } else {
            "C:"
        };
        while let Some((line, remainder)) = side.split_once("\r\n") {
            lines.push(if line.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix} {line}")
            });
            *side = remainder.to_string();
        }
        rest = after_chunk.strip_prefix('\n').unwrap_or(after_chunk);
    }
    assert!(
        client.is_empty() && server.is_empty(),
        "a line without CRLF: {client:?} {server:?}"
    );
    lines
}

/// The capture of the documented exchange.
fn documented_capture() -> Option<(PathBuf, Capture)> {
    let tshark = common::require_tool("tshark", "apt-get install tshark")?;
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smtp-send.yaml");
    Some((tshark, capture_of(&scenario)))
}

#[test]
fn following_the_documented_tcp_stream_gives_the_smtp_conversation() {
    let Some((tshark_path, capture)) = documented_capture() else {
        return;
    };
    assert_eq!(
        conversation(&tshark_path, &capture.file),
        DOCUMENTED_CONVERSATION
    );
}

#[test]
fn tshark_shows_the_mx_answer_with_its_a_record_and_the_ptr_answer() {
    let Some((tshark_path, capture)) = documented_capture() else {
        return;
    };
    let names = [
        "dns.qry.name",
        "dns.qry.type",
        "dns.mx.preference",
        "dns.mx.mail_exchange",
        "dns.a",
        "dns.ptr.domain_name",
        "dns.count.add_rr",
    ];
    let rows = fields(
        &tshark_path,
        &capture.file,
        "dns.flags.response == 1",
        &names,
    );
    // From the scenario's records: MX 10 mail.receiver.com, whose A record
    // (66.218.71.63) goes in the additional section (RFC 1035 §3.3.9), and
    // the PTR record of 192.0.2.10 (RFC 1035 §3.5). Types: MX 15, PTR 12.
    assert_eq!(
        rows,
        [
            [
                "receiver.com",
                "15",
                "10",
                "mail.receiver.com",
                "66.218.71.63",
                "",
                "1"
            ],
            [
                "10.2.0.192.in-addr.arpa",
                "12",
                "",
                "",
                "",
                "mail.sender.com",
                "0"
            ],
        ]
    );
}

/// The shared checks beside the repository, if they are there.
fn shared_checks() -> Option<PathBuf> {
    let checks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/checks");
    if checks.join("pcap-check.sh").is_file() {
        return Some(checks);
    }
    eprintln!(
        "note: ../shared/checks is not beside the repository; skipping the comparison with the reference capture"
    );
    None
}

#[test]
fn pcap_check_passes_on_the_documented_exchange() {
    let Some((_, capture)) = documented_capture() else {
        return;
    };
    let Some(checks) = shared_checks() else {
        return;
    };
    let mut command = Command::new("bash");
    command.arg(checks.join("pcap-check.sh"));
    command.args([
        "--expect",
        "frames=54,syn=1,synack=1,fin=2,rst=0,pureack=24,data=22,dns=4,smtp=20",
    ]);
    command
        .arg("--transcript")
        .arg(checks.join("reference/smtp-send.transcript"))
        .arg(&capture.file);
    let (status, stdout, stderr) = common::run_tool(&mut command);
    let stdout = String::from_utf8_lossy(&stdout);
    assert_eq!(status, 0, "pcap-check failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("pcap-check: PASS"), "{stdout}");
}

#[test]
fn the_documented_exchange_reads_like_the_scapy_reference_capture() {
    let Some((tshark_path, capture)) = documented_capture() else {
        return;
    };
    let Some(checks) = shared_checks() else {
        return;
    };
    let reference = checks.join("reference/smtp-send.pcap");
    assert_eq!(
        conversation(&tshark_path, &capture.file),
        conversation(&tshark_path, &reference)
    );
    let dns_names = [
        "dns.flags.response",
        "dns.qry.name",
        "dns.qry.type",
        "dns.resp.name",
        "dns.resp.ttl",
        "dns.mx.preference",
        "dns.mx.mail_exchange",
        "dns.a",
        "dns.ptr.domain_name",
    ];
    let ours = fields(&tshark_path, &capture.file, "dns", &dns_names);
    assert_eq!(ours, fields(&tshark_path, &reference, "dns", &dns_names));
    let tcp_shape = [
        "tcp.flags.syn",
        "tcp.flags.fin",
        "tcp.flags.reset",
        "tcp.len",
        "tcp.options.mss_val",
    ];
    let mut ours = fields(&tshark_path, &capture.file, "tcp", &tcp_shape);
    let mut theirs = fields(&tshark_path, &reference, "tcp", &tcp_shape);
    ours.sort();
    theirs.sort();
    assert_eq!(
        ours, theirs,
        "the same segments (flags, lengths, MSS), in any order"
    );
}
