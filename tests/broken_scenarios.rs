//! A table of broken scenarios, each with the error seqsim must give:
//! the file, line and column, the key path, and what was expected, then
//! the offending line; exit status 2 and never a panic.
//!
//! Each case is written to a file of its own in a temporary folder and
//! given to the `seqsim` binary. `FILE` in an expected message stands for
//! that file's path.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A participant line that every case may build on.
const A: &str = "  - { id: a, host: a.example, address: 192.0.2.1 }\n";
/// A second participant.
const B: &str = "  - { id: b, host: b.example, address: 192.0.2.2 }\n";

/// Returns the start of a valid scenario with participants a and b.
fn two() -> String {
    format!("title: t\nparticipants:\n{A}{B}")
}

/// Returns a valid scenario with a and b linked, then `rest`.
fn linked(rest: &str) -> String {
    format!(
        "{}links:\n  - {{ between: [a, b], latency: 10ms }}\n{rest}",
        two()
    )
}

/// One broken scenario: a name, the file's text, the expected first line.
struct Case {
    name: &'static str,
    text: Vec<u8>,
    expected: String,
}

/// Builds a case from text.
fn case(name: &'static str, text: impl Into<String>, expected: &str) -> Case {
    Case {
        name,
        text: text.into().into_bytes(),
        expected: expected.to_string(),
    }
}

/// Every broken scenario and the error it must give.
fn cases() -> Vec<Case> {
    vec![
        case(
            "yaml-syntax",
            format!("title: t\nparticipants:\n  - {{ id: a, host: a.example\n{B}"),
            "FILE:4:5: did not find expected ',' or '}', while parsing a flow mapping at 3:5",
        ),
        case(
            "tab-indentation",
            "title: t\nparticipants:\n\t- { id: a }\n",
            "FILE:3:1: found character that cannot start any token, while scanning for the next token (a tab: YAML indents with spaces only)",
        ),
        case(
            "empty-file",
            "",
            "FILE: the scenario is empty (expected at least `title` and `participants`)",
        ),
        case(
            "only-comments",
            "# nothing here\n\n",
            "FILE: the scenario is empty (expected at least `title` and `participants`)",
        ),
        case(
            "not-a-mapping",
            "- just\n- a list\n",
            "FILE:1:1: invalid type: sequence, expected a mapping of keys",
        ),
        case(
            "unknown-top-key",
            format!("{}colour: blue\n", two()),
            "FILE:5:1: at `colour`: unknown field `colour`, expected one of `title`, `seed`, `participants`, `links`, `script`, `remarks`, `faults`",
        ),
        case(
            "unknown-participant-key",
            "title: t\nparticipants:\n  - { id: a, hots: a.example, address: 192.0.2.1 }\n",
            "FILE:3:14: at `participants[0].hots`: unknown field `hots`, expected one of `id`, `name`, `group`, `host`, `address`, `resolver`, `dns_timeout`, `dns_retries`, `dns_server`, `smtp_server`, `smtp_client`, `tcp`, `population`",
        ),
        case(
            "null-title",
            format!("title: ~\nparticipants:\n{A}"),
            "FILE:1:8: at `title`: expected a string, found null (`~`, `null` or no value); quote it to mean that text, e.g. '~'",
        ),
        case(
            "title-without-value",
            format!("title:\nparticipants:\n{A}"),
            "FILE:1:1: at `title`: expected a string, found null (`~`, `null` or no value); quote it to mean that text, e.g. '~'",
        ),
        case(
            "blank-title",
            format!("title: ' '\nparticipants:\n{A}"),
            "FILE:1:8: at `title`: expected a title: text drawn above the diagram, e.g. `SMTP e-mail send`",
        ),
        case(
            "null-host",
            "title: t\nparticipants:\n  - { id: a, host: ~, address: 192.0.2.1 }\n",
            "FILE:3:20: at `participants[0].host`: expected a string, found null (`~`, `null` or no value); quote it to mean that text, e.g. '~'",
        ),
        case(
            "null-id",
            "title: t\nparticipants:\n  - id: null\n    host: a.example\n    address: 192.0.2.1\n",
            "FILE:3:9: at `participants[0].id`: expected a string, found null (`~`, `null` or no value); quote it to mean that text, e.g. '~'",
        ),
        case(
            "null-mailbox",
            "title: t\nparticipants:\n  - id: b\n    host: b.example\n    address: 192.0.2.2\n    smtp_server: { domain: b.example, mailboxes: [c3po, ~] }\n",
            "FILE:6:57: at `participants[0].smtp_server.mailboxes[1]`: expected a string, found null (`~`, `null` or no value); quote it to mean that text, e.g. '~'",
        ),
        case(
            "missing-host",
            "title: t\nparticipants:\n  - { id: a, address: 192.0.2.1 }\n",
            "FILE:3:5: at `participants[0]`: missing field `host`",
        ),
        case(
            "seed-wrong-type",
            format!("{}seed: many\n", two()),
            "FILE:5:7: at `seed`: invalid type: string \"many\", expected a whole number from 0 to 18446744073709551615",
        ),
        case(
            "no-participants",
            "title: t\nparticipants: []\n",
            "FILE:2:1: at `participants`: expected at least one participant",
        ),
        case(
            "duplicate-id",
            format!(
                "title: t\nparticipants:\n{A}  - {{ id: a, host: c.example, address: 192.0.2.3 }}\n"
            ),
            "FILE:4:11: at `participants[1].id`: id `a` is already used by participants[0]",
        ),
        case(
            "bad-id",
            "title: t\nparticipants:\n  - { id: a b, host: a.example, address: 192.0.2.1 }\n",
            "FILE:3:11: at `participants[0].id`: ` ` is not allowed in an id (letters, digits, `-` and `_`)",
        ),
        case(
            "bad-address",
            "title: t\nparticipants:\n  - { id: a, host: a.example, address: 192.0.2.300 }\n",
            "FILE:3:40: at `participants[0].address`: `192.0.2.300` is not an IPv4 address like 192.0.2.10",
        ),
        case(
            "duplicate-address",
            format!(
                "title: t\nparticipants:\n{A}  - {{ id: c, host: c.example, address: 192.0.2.1 }}\n"
            ),
            "FILE:4:40: at `participants[1].address`: address 192.0.2.1 is already used by participants[0]",
        ),
        case(
            "host-two-dots",
            "title: t\nparticipants:\n  - { id: a, host: mail..example, address: 192.0.2.1 }\n",
            "FILE:3:20: at `participants[0].host`: `mail..example` is not a domain name: it has an empty label (two dots in a row?)",
        ),
        case(
            "host-underscore",
            "title: t\nparticipants:\n  - { id: a, host: mail_1.example, address: 192.0.2.1 }\n",
            "FILE:3:20: at `participants[0].host`: `mail_1.example` is not a domain name: `_` is not allowed (letters, digits and `-` only)",
        ),
        case(
            "link-unknown-participant",
            format!(
                "{}links:\n  - {{ between: [a, c], latency: 10ms }}\n",
                two()
            ),
            "FILE:6:20: at `links[0].between[1]`: no participant has id `c` (known: a, b)",
        ),
        case(
            "link-to-itself",
            format!(
                "{}links:\n  - {{ between: [a, a], latency: 10ms }}\n",
                two()
            ),
            "FILE:6:7: at `links[0].between`: a link joins two different participants",
        ),
        case(
            "duration-without-unit",
            format!("{}links:\n  - {{ between: [a, b], latency: 10 }}\n", two()),
            "FILE:6:33: at `links[0].latency`: `10` has no unit (use ns, us, ms, s, min or h)",
        ),
        case(
            "duration-negative",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: -5ms }}\n",
                two()
            ),
            "FILE:6:33: at `links[0].latency`: `-5ms` is negative; a duration is 0 or more, like 20ms",
        ),
        case(
            "duration-unknown-unit",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 5days }}\n",
                two()
            ),
            "FILE:6:33: at `links[0].latency`: `days` is not a unit of time (use ns, us, ms, s, min or h)",
        ),
        case(
            "duration-word",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: fast }}\n",
                two()
            ),
            "FILE:6:33: at `links[0].latency`: `fast` is not a duration like 20ms, 1.5s or 250us",
        ),
        case(
            "duration-below-nanosecond",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 10ms, jitter: 0.5ns }}\n",
                two()
            ),
            "FILE:6:47: at `links[0].jitter`: `0.5ns` is finer than one nanosecond, the finest time seqsim keeps",
        ),
        case(
            "loss-above-one",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 10ms, loss: 1.5 }}\n",
                two()
            ),
            "FILE:6:45: at `links[0].loss`: expected a probability from 0 to 1, like 0.05; got 1.5",
        ),
        case(
            "loss-negative",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 10ms, loss: -0.1 }}\n",
                two()
            ),
            "FILE:6:45: at `links[0].loss`: expected a probability from 0 to 1, like 0.05; got -0.1",
        ),
        case(
            "dns-unknown-record-type",
            dns_server("{ type: TXT, name: a.example, text: hi }"),
            "FILE:9:19: at `participants[1].dns_server.records[0].type`: unknown variant `TXT`, expected one of `A`, `MX`, `PTR`, `CNAME`",
        ),
        case(
            "dns-bad-exchange",
            dns_server("{ type: MX, name: a.example, preference: 10, exchange: mx..a.example }"),
            "FILE:9:66: at `participants[1].dns_server.records[0].exchange`: `mx..a.example` is not a domain name: it has an empty label (two dots in a row?)",
        ),
        case(
            "dns-bad-a-address",
            dns_server("{ type: A, name: a.example, address: 10.0.0 }"),
            "FILE:9:48: at `participants[1].dns_server.records[0].address`: `10.0.0` is not an IPv4 address like 192.0.2.10",
        ),
        case(
            "dns-mx-without-preference",
            dns_server("{ type: MX, name: a.example, exchange: mx.a.example }"),
            "FILE:9:11: at `participants[1].dns_server.records[0]`: missing field `preference`",
        ),
        case(
            "dns-second-record-negative-ttl",
            dns_server(
                "{ type: A, name: a.example, address: 192.0.2.1 }\n        \
                 - { type: A, name: b.example, address: 192.0.2.2, ttl: -1 }",
            ),
            "FILE:10:64: at `participants[1].dns_server.records[1].ttl`: invalid type: integer `-1`, expected a whole number from 0 to 4294967295",
        ),
        case(
            "dns-timeout-zero",
            resolver_with("dns_timeout: 0"),
            "FILE:7:18: at `participants[1].dns_timeout`: expected a time-out longer than 0, like `2s`",
        ),
        case(
            "dns-retries-too-many",
            resolver_with("dns_retries: 50"),
            "FILE:7:18: at `participants[1].dns_retries`: expected 0 to 10 retries; got 50",
        ),
        case(
            "dns-timeout-without-resolver",
            format!(
                "title: t\nparticipants:\n{A}  - {{ id: b, host: b.example, address: 192.0.2.2, dns_timeout: 2s }}\n"
            ),
            "FILE:4:64: at `participants[1].dns_timeout`: this setting needs a `resolver` on the same participant",
        ),
        case(
            "retry-after-zero",
            client_with("retry_after: 0s"),
            "FILE:9:20: at `participants[1].smtp_client.retry_after`: expected a delay longer than 0, like `10min`",
        ),
        case(
            "reply-timeout-zero",
            client_with("timeouts: { greeting: 0s }"),
            "FILE:9:29: at `participants[1].smtp_client.timeouts.greeting`: expected a duration above zero",
        ),
        case(
            "reply-timeout-unknown-kind",
            client_with("timeouts: { helo: 1min }"),
            "FILE:9:19: at `participants[1].smtp_client.timeouts.helo`: unknown field `helo`, expected one of `greeting`, `command`, `data`, `end_of_data`",
        ),
        case(
            "max-attempts-zero",
            client_with("max_attempts: 0"),
            "FILE:9:21: at `participants[1].smtp_client.max_attempts`: expected 1 to 100 attempts; got 0",
        ),
        case(
            "reply-unknown-point",
            server_with("replies: [{ at: QUIT, code: 421 }]"),
            "FILE:8:23: at `participants[0].smtp_server.replies[0].at`: `QUIT` is not a point of a session (expected one of: greeting, HELO, VRFY, MAIL, RCPT, DATA, end_of_data)",
        ),
        case(
            "reply-greeting-code",
            server_with("replies: [{ at: greeting, code: 450 }]"),
            "FILE:8:39: at `participants[0].smtp_server.replies[0].code`: expected 421 or 554 for the greeting; got 450",
        ),
        case(
            "reply-success-code",
            server_with("replies: [{ at: RCPT, code: 250 }]"),
            "FILE:8:35: at `participants[0].smtp_server.replies[0].code`: expected a failure code from 400 to 599; got 250",
        ),
        case(
            "reply-twice-at-one-point",
            server_with("replies: [{ at: RCPT, code: 451 }, { at: RCPT, code: 550 }]"),
            "FILE:8:48: at `participants[0].smtp_server.replies[1].at`: a reply at `RCPT` is already given",
        ),
        case(
            "reply-zero-sessions",
            server_with("replies: [{ at: MAIL, code: 451, sessions: 0 }]"),
            "FILE:8:50: at `participants[0].smtp_server.replies[0].sessions`: expected a count of sessions from 1; leave it out for every session",
        ),
        case(
            "max-recipients-zero",
            server_with("max_recipients: 0"),
            "FILE:8:23: at `participants[0].smtp_server.max_recipients`: expected at least 1 (RFC 5321 §4.5.3.1.8 asks for room for 100)",
        ),
        case(
            "resolver-without-dns-server",
            format!(
                "title: t\nparticipants:\n{A}  - {{ id: b, host: b.example, address: 192.0.2.2, resolver: a }}\n"
            ),
            "FILE:4:61: at `participants[1].resolver`: participant `a` has no `dns_server` to answer queries",
        ),
        case(
            "client-without-resolver",
            "title: t\nparticipants:\n  - { id: a, host: a.example, address: 192.0.2.1, smtp_client: { mails: [] } }\n",
            "FILE:3:51: at `participants[0].smtp_client`: a participant that sends mail needs a `resolver` to look up MX records",
        ),
        case(
            "mail-address-without-at",
            mail("luke", "c3po@b.example"),
            "FILE:10:17: at `participants[1].smtp_client.mails[0].from`: `luke` is not a mail address (no `@`)",
        ),
        case(
            "mail-recipient-bad-domain",
            mail("luke@a.example", "c3po@b..example"),
            "FILE:11:16: at `participants[1].smtp_client.mails[0].to[0]`: `c3po@b..example` is not a mail address: `b..example` is not a domain name: it has an empty label (two dots in a row?)",
        ),
        case(
            "remark-unknown-participant",
            format!(
                "{}remarks:\n  - {{ from: z, message: SYN, text: hi }}\n",
                two()
            ),
            "FILE:6:13: at `remarks[0].from`: no participant has id `z` (known: a, b)",
        ),
        case(
            "remark-occurrence-zero",
            format!(
                "{}remarks:\n  - {{ from: a, message: SYN, occurrence: 0, text: hi }}\n",
                two()
            ),
            "FILE:6:42: at `remarks[0].occurrence`: expected a count from 1, or `last`",
        ),
        case(
            "script-to-unknown-participant",
            linked("script:\n  - send: { from: a, to: nobody, text: hi }\n"),
            "FILE:8:26: at `script[0].send.to`: no participant has id `nobody` (known: a, b)",
        ),
        case(
            "script-send-without-connection",
            linked("script:\n  - send: { from: a, to: b, text: hi }\n"),
            "FILE:8:5: at `script[0].send`: no TCP connection between `a` and `b` is open at this step (open one with an `open` step first)",
        ),
        case(
            "script-two-actions",
            linked(
                "script:\n  - open: { from: a, to: b, port: 80 }\n    close: { from: a, to: b }\n",
            ),
            "FILE:8:5: at `script[0]`: a step has exactly one of `open`, `send`, `close` or `mail`",
        ),
        case(
            "script-text-and-bytes",
            linked(
                "script:\n  - open: { from: a, to: b, port: 80 }\n  - send: { from: a, to: b, text: hi, bytes: 6869 }\n",
            ),
            "FILE:9:5: at `script[1].send`: a `send` step has exactly one of `text`, `bytes` or `dns`",
        ),
        case(
            "script-bad-hex",
            linked(
                "script:\n  - open: { from: a, to: b, port: 80 }\n  - send: { from: a, to: b, bytes: 0d0g }\n",
            ),
            "FILE:9:36: at `script[1].send.bytes`: `g` is not a hexadecimal digit; expected bytes like 0d or 4F",
        ),
        case(
            "script-send-after-close",
            linked(
                "script:\n  - open: { from: a, to: b, port: 80 }\n  - close: { from: a, to: b }\n  - send: { from: a, to: b, text: hi }\n",
            ),
            "FILE:10:5: at `script[2].send`: `a` closed its side of this connection at step 2; it cannot send on it any more",
        ),
        case(
            "script-open-twice",
            linked(
                "script:\n  - open: { from: a, to: b, port: 80 }\n  - open: { from: a, to: b, port: 80 }\n",
            ),
            "FILE:9:5: at `script[1].open`: this connection is already open (opened by step 1)",
        ),
        case(
            "script-to-itself",
            linked("script:\n  - open: { from: a, to: a, port: 80 }\n"),
            "FILE:8:26: at `script[0].open.to`: a message goes to another participant, not to its sender",
        ),
        case(
            "script-dns-unknown-type",
            linked(
                "script:\n  - send: { from: a, to: b, dns: { question: { name: x.example, type: AAAA } } }\n",
            ),
            "FILE:8:71: at `script[0].send.dns.question.type`: `AAAA` is not a record type seqsim knows (A, MX, PTR or CNAME)",
        ),
        case(
            "script-dns-bad-rcode",
            linked(
                "script:\n  - send: { from: a, to: b, to_port: 53, dns: { question: { name: x.example, type: A }, response: GOOD } }\n",
            ),
            "FILE:8:99: at `script[0].send.dns.response`: `GOOD` is not a response code (NOERROR, FORMERR, SERVFAIL, NXDOMAIN or REFUSED)",
        ),
        case(
            "script-wait-negative",
            linked("script:\n  - open: { from: a, to: b, port: 80, wait: -1s }\n"),
            "FILE:8:45: at `script[0].open.wait`: `-1s` is negative; a duration is 0 or more, like 20ms",
        ),
        case(
            "script-mail-without-client",
            linked("script:\n  - mail: { from: a }\n"),
            "FILE:8:19: at `script[0].mail.from`: participant `a` has no `smtp_client` to send mail",
        ),
        case(
            "script-mail-and-start",
            format!(
                "{}script:\n  - mail: {{ from: b }}\n",
                mail("luke@a.example", "c3po@b.example")
                    .replace("smtp_client:\n", "smtp_client:\n      start: 1s\n")
            ),
            "FILE:9:14: at `participants[1].smtp_client.start`: script step 1 starts this client; leave out `start`",
        ),
        case(
            "link-bad-bandwidth",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 10ms, bandwidth: fast }}\n",
                two()
            ),
            "FILE:6:50: at `links[0].bandwidth`: `fast` is not a bandwidth (expected a number and bit/s, kbit/s, Mbit/s or Gbit/s, like 10Mbit/s)",
        ),
        case(
            "link-queue-without-bandwidth",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 10ms, queue: 3 }}\n",
                two()
            ),
            "FILE:6:46: at `links[0].queue`: a queue needs a `bandwidth` (a link that sends at once never queues)",
        ),
        case(
            "link-one-way-twice",
            format!(
                "{}links:\n  - {{ between: [a, b], latency: 10ms, one_way: [{{ from: a }}, {{ from: a }}] }}\n",
                two()
            ),
            "FILE:6:70: at `links[0].one_way[1].from`: the direction from `a` is set twice",
        ),
        case(
            "fault-of-two-kinds",
            linked("faults:\n  - { drop: {}, duplicate: {} }\n"),
            "FILE:8:7: at `faults[0]`: expected exactly one of `drop`, `delay`, `duplicate`, `host_down` or `partition`",
        ),
        case(
            "fault-flag-twice",
            linked("faults:\n  - drop: { flags: SYN_SYN }\n"),
            "FILE:8:20: at `faults[0].drop.flags`: `SYN` is named twice in `SYN_SYN`",
        ),
        case(
            "fault-bad-flags",
            linked("faults:\n  - drop: { flags: SYNACK }\n"),
            "FILE:8:20: at `faults[0].drop.flags`: `SYNACK` is not a TCP flag (expected SYN, ACK, FIN, RST or PSH, joined like SYN_ACK)",
        ),
        case(
            "fault-unknown-key",
            linked("faults:\n  - drop: { flag: SYN }\n"),
            "FILE:8:13: at `faults[0].drop.flag`: unknown field `flag`, expected one of `by`, `from`, `to`, `link`, `layer`, `flags`, `smtp`, `text`, `occurrence`, `since`, `until`",
        ),
        case(
            "fault-delay-without-by",
            linked("faults:\n  - delay: { flags: SYN }\n"),
            "FILE:8:5: at `faults[0].delay`: a delay needs `by`, e.g. `by: 300ms`",
        ),
        case(
            "fault-unknown-participant",
            linked("faults:\n  - drop: { from: c }\n"),
            "FILE:8:19: at `faults[0].drop.from`: no participant has id `c` (known: a, b)",
        ),
        case(
            "fault-bad-reply-code",
            linked("faults:\n  - drop: { smtp: 999 }\n"),
            "FILE:8:19: at `faults[0].drop.smtp`: 999 is not an SMTP reply code (expected 200 to 599)",
        ),
        case(
            "fault-occurrence-zero",
            linked("faults:\n  - drop: { occurrence: 0 }\n"),
            "FILE:8:25: at `faults[0].drop.occurrence`: expected a count from 1 (leave it out for every message)",
        ),
        case(
            "host-down-until-before-since",
            linked("faults:\n  - host_down: { host: b, since: 2s, until: 1s }\n"),
            "FILE:8:45: at `faults[0].host_down.until`: `until` must come after `since`",
        ),
        case(
            "partition-of-one-group",
            linked("faults:\n  - partition: { groups: [[a, b]] }\n"),
            "FILE:8:18: at `faults[0].partition.groups`: a partition needs at least two groups, e.g. [[a, b], [c]]",
        ),
        case(
            "tcp-too-many-resends",
            format!(
                "title: t\nparticipants:\n  - {{ id: a, host: a.example, address: 192.0.2.1, tcp: {{ max_retransmissions: 101 }} }}\n{B}"
            ),
            "FILE:3:79: at `participants[0].tcp.max_retransmissions`: expected 0 to 100 resends; got 101",
        ),
        case(
            "tcp-syn-resends-without-end",
            format!(
                "title: t\nparticipants:\n  - {{ id: a, host: a.example, address: 192.0.2.1, tcp: {{ max_syn_retransmissions: 4294967295 }} }}\n{B}"
            ),
            "FILE:3:83: at `participants[0].tcp.max_syn_retransmissions`: expected 0 to 100 resends; got 4294967295",
        ),
        case(
            "tcp-zero-min-rto",
            format!(
                "title: t\nparticipants:\n  - {{ id: a, host: a.example, address: 192.0.2.1, tcp: {{ min_rto: 0s }} }}\n{B}"
            ),
            "FILE:3:67: at `participants[0].tcp.min_rto`: expected a duration above zero",
        ),
        case(
            "tcp-min-rto-above-the-default-max",
            format!(
                "title: t\nparticipants:\n  - {{ id: a, host: a.example, address: 192.0.2.1, tcp: {{ min_rto: 90s }} }}\n{B}"
            ),
            "FILE:3:67: at `participants[0].tcp.min_rto`: min_rto 90s is above max_rto 60s; the default max_rto is 60s; give a larger one too",
        ),
        case(
            "tcp-max-rto-below-min",
            format!(
                "title: t\nparticipants:\n  - {{ id: a, host: a.example, address: 192.0.2.1, tcp: {{ min_rto: 2s, max_rto: 500ms }} }}\n{B}"
            ),
            "FILE:3:80: at `participants[0].tcp.max_rto`: min_rto 2s is above max_rto 500ms; give a max_rto of at least 2s",
        ),
        Case {
            name: "not-utf8",
            text: b"title: caf\xe9\nparticipants: []\n".to_vec(),
            expected: "FILE:1:11: the file is not UTF-8 text (save it as UTF-8)".to_string(),
        },
        case(
            "population-count-zero",
            population("{ count: 0 }", ""),
            "FILE:7:26: at `participants[1].population.count`: expected a count from 1 to 1000000",
        ),
        case(
            "population-count-negative",
            population("{ count: -1 }", ""),
            "FILE:7:26: at `participants[1].population.count`: invalid type: integer `-1`, expected a whole number from 1 to 1000000",
        ),
        case(
            "population-count-fraction",
            population("{ count: 1.5 }", ""),
            "FILE:7:26: at `participants[1].population.count`: invalid type: floating point `1.5`, expected a whole number from 1 to 1000000",
        ),
        case(
            "dns-retries-negative",
            "title: t\nparticipants:\n  - { id: a, host: a.example, address: 192.0.2.1, dns_retries: -2 }\n",
            "FILE:3:64: at `participants[0].dns_retries`: invalid type: integer `-2`, expected a whole number from 0 to 10",
        ),
        case(
            "population-unknown-key",
            population("{ count: 2, rate: 5 }", ""),
            "FILE:7:29: at `participants[1].population.rate`: unknown field `rate`, expected `count` or `interval`",
        ),
        case(
            "population-bad-interval",
            population("{ count: 2, interval: often }", ""),
            "FILE:7:39: at `participants[1].population.interval`: `often` is not a duration like 20ms, 1.5s or 250us",
        ),
        case(
            "population-without-client",
            "title: t\nparticipants:\n  - { id: a, host: a.example, address: 192.0.2.1, population: { count: 2 } }\n",
            "FILE:3:51: at `participants[0].population`: only a participant with an `smtp_client` can be a population",
        ),
        case(
            "population-on-the-dns-server-a-client-names",
            "title: t\nparticipants:\n  - { id: a, host: a.example, address: 192.0.2.1, resolver: d, smtp_client: { mails: [] } }\n  - { id: d, host: d.example, address: 192.0.2.53, dns_server: { records: [] }, population: { count: 2 } }\n",
            "FILE:4:81: at `participants[1].population`: only a participant with an `smtp_client` can be a population",
        ),
        case(
            "population-linked-to-itself",
            population(
                "{ count: 2 }",
                "links:\n  - { between: [b, b], latency: 1ms }\n",
            ),
            "FILE:16:7: at `links[0].between`: a link joins two different participants",
        ),
        case(
            "population-copy-named-by-a-remark",
            population(
                "{ count: 2 }",
                "remarks:\n  - { from: b-1, message: SYN, text: x }\n",
            ),
            "FILE:16:13: at `remarks[0].from`: `b-1` is a copy of the population `b`; copies cannot be named, only `links` may name the population",
        ),
        case(
            "link-given-twice",
            format!(
                "title: t\nparticipants:\n  - {{ id: a, host: a.example, address: 192.0.2.1 }}\n{B}links:\n  - {{ between: [a, b], latency: 1ms }}\n  - {{ between: [b, a], latency: 2ms }}\n"
            ),
            "FILE:7:7: at `links[1].between`: links[0] already joins these two; give one link, with `one_way` for settings that differ by direction",
        ),
        case(
            "population-reaching-multicast",
            population("{ count: 3 }", "").replace("192.0.2.2", "223.255.255.254"),
            "FILE:7:26: at `participants[1].population.count`: copy 3 would get 224.0.0.0, which cannot be a host's address: it is a multicast address (224.0.0.0/4), which names a group of hosts, not one (RFC 1112 §4); copies take consecutive addresses from 223.255.255.254, so at most 2 fit",
        ),
        case(
            "population-copy-takes-an-address",
            population(
                "{ count: 3 }",
                "  - { id: c, host: c.example, address: 192.0.2.4 }\n",
            ),
            "FILE:15:40: at `participants[2].address`: address 192.0.2.4 is already used by copy 3 of participants[1]",
        ),
        case(
            "population-copy-takes-an-id",
            population(
                "{ count: 2 }",
                "  - { id: b-2, host: c.example, address: 192.0.2.9 }\n",
            ),
            "FILE:4:9: at `participants[1].id`: copy 2 would be `b-2`, an id already in use",
        ),
        case(
            "population-host-too-long",
            population("{ count: 10 }", "")
                .replace("b.example", &format!("{}.example", "h".repeat(62))),
            "FILE:5:11: at `participants[1].host`: copy 1's host name: `hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh-1.example` is not a domain name: label `hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh-1` is longer than 63 characters",
        ),
        case(
            "population-named-by-a-remark",
            population(
                "{ count: 2 }",
                "remarks:\n  - { from: b, message: SYN, text: x }\n",
            ),
            "FILE:16:13: at `remarks[0].from`: `b` is a population (many hosts); only `links` may name it, name one host here",
        ),
        case(
            "population-as-a-resolver-target-is-not-a-server",
            population(
                "{ count: 2 }",
                "  - { id: c, host: c.example, address: 192.0.2.9, resolver: b }\n",
            ),
            "FILE:15:61: at `participants[2].resolver`: `b` is a population (many hosts); only `links` may name it, name one host here",
        ),
        case(
            "link-between-two-populations",
            format!(
                "{}  - {{ id: c, host: c.example, address: 192.0.3.1, resolver: d, population: {{ count: 2 }}, smtp_client: {{ mails: [] }} }}\nlinks:\n  - {{ between: [b, c], latency: 1ms }}\n",
                population("{ count: 2 }", "")
            ),
            "FILE:17:7: at `links[0].between`: a link cannot join two populations; link each to a host they share",
        ),
    ]
}

/// Returns a scenario whose second participant is a DNS server with one
/// record, written on line 9 from column 11.
fn dns_server(record: &str) -> String {
    format!(
        "title: t\nparticipants:\n{A}  - id: d\n    host: d.example\n    address: 192.0.2.53\n    \
         dns_server:\n      records:\n        - {record}\n"
    )
}

/// Returns a scenario where b has a resolver and `line` (line 7).
fn resolver_with(line: &str) -> String {
    format!(
        "title: t\nparticipants:\n  - {{ id: d, host: d.example, address: 192.0.2.53, dns_server: {{ records: [] }} }}\n  \
         - id: b\n    host: b.example\n    address: 192.0.2.2\n    {line}\n    resolver: d\n"
    )
}

/// Returns a scenario where b sends mail and its client has `line` (line 9).
fn client_with(line: &str) -> String {
    format!(
        "title: t\nparticipants:\n  - {{ id: d, host: d.example, address: 192.0.2.53, dns_server: {{ records: [] }} }}\n  \
         - id: b\n    host: b.example\n    address: 192.0.2.2\n    resolver: d\n    smtp_client:\n      \
         {line}\n      mails: []\n"
    )
}

/// Returns a scenario where a is a mail server with `line` (line 8).
fn server_with(line: &str) -> String {
    format!(
        "title: t\nparticipants:\n  - id: a\n    host: a.example\n    address: 192.0.2.1\n    \
         smtp_server:\n      domain: a.example\n      {line}\n"
    )
}

/// Returns a scenario where b sends one mail from `from` (line 10) to `to` (line 11).
fn mail(from: &str, to: &str) -> String {
    format!(
        "title: t\nparticipants:\n  - {{ id: d, host: d.example, address: 192.0.2.53, dns_server: {{ records: [] }} }}\n  \
         - id: b\n    host: b.example\n    address: 192.0.2.2\n    resolver: d\n    smtp_client:\n      \
         mails:\n        - from: {from}\n          to: [{to}]\n"
    )
}

/// Returns `mail` with b made a population (`population: {copies}` on
/// line 7), then `rest` after the participants (from line 15).
fn population(copies: &str, rest: &str) -> String {
    let text = mail("luke@b.example", "c3po@d.example");
    let text = text.replace(
        "    resolver: d\n",
        &format!("    population: {copies}\n    resolver: d\n"),
    );
    let (head, _) = text.split_at(text.find("          to:").unwrap());
    format!(
        "{head}          to: [c3po@d.example]\n          subject: hi\n          body: hi\n{rest}"
    )
}

/// Makes a fresh folder for this test run's files.
fn scratch() -> PathBuf {
    let folder = std::env::temp_dir().join(format!("seqsim-broken-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// Runs `seqsim run FILE`; returns the status and stderr.
fn run(path: &Path) -> (Option<i32>, String) {
    seqsim(&["run", path.to_str().expect("a UTF-8 path")])
}

/// Runs `seqsim` with `args`; returns the status and stderr.
fn seqsim(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqsim"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_broken_scenario_gets_its_located_message_and_exit_2() {
    let folder = scratch();
    let cases = cases();
    assert!(cases.len() >= 30, "the table keeps at least 30 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let path = folder.join(format!("{}.yaml", case.name));
        std::fs::write(&path, &case.text).unwrap();
        let (status, stderr) = run(&path);
        if std::env::var_os("SHOW_BROKEN").is_some() {
            eprintln!("== {}\n{stderr}", case.name);
        }
        let expected = format!(
            "seqsim: error: {}",
            case.expected.replace("FILE", &path.to_string_lossy())
        );
        let first = stderr.lines().next().unwrap_or("");
        if status != Some(2) || first != expected || stderr.contains("panicked") {
            failures.push(format!(
                "{}: status {status:?}\n  want: {expected}\n  got:  {first}",
                case.name
            ));
        }
        let located = case
            .expected
            .strip_prefix("FILE:")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if located && !shows_source_line(&stderr, &case.text) {
            failures.push(format!(
                "{}: the offending line is not shown:\n{stderr}",
                case.name
            ));
        }
    }
    std::fs::remove_dir_all(&folder).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Tells whether stderr quotes the line its first line points at.
fn shows_source_line(stderr: &str, text: &[u8]) -> bool {
    let first = stderr.lines().next().unwrap_or("");
    let place: Vec<&str> = first
        .rsplit(".yaml:")
        .next()
        .unwrap_or("")
        .splitn(3, ':')
        .collect();
    let Some(line) = place.first().and_then(|n| n.parse::<usize>().ok()) else {
        return false;
    };
    let source = String::from_utf8_lossy(text);
    let quoted = source
        .lines()
        .nth(line - 1)
        .unwrap_or("")
        .replace('\t', "    ");
    stderr
        .lines()
        .any(|row| row == format!("{line} | {quoted}").trim_end())
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let folder = scratch().join("huge");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("huge.yaml");
    let filler = format!("# {}\n", "x".repeat(1021));
    std::fs::write(&path, filler.repeat(4 * 1024 + 1)).unwrap();
    let (status, stderr) = run(&path);
    std::fs::remove_dir_all(&folder).ok();
    assert_eq!(status, Some(2));
    let expected = format!(
        "seqsim: error: {}: the file has 4195328 bytes; scenarios may have at most 4194304",
        path.display()
    );
    assert_eq!(stderr.lines().next(), Some(expected.as_str()));
}

#[test]
fn missing_file_directory_and_bad_flags_exit_2() {
    let (status, stderr) = run(Path::new("no/such/file.yaml"));
    assert_eq!(status, Some(2));
    assert!(
        stderr.starts_with("seqsim: error: no/such/file.yaml: cannot read the file:"),
        "{stderr}"
    );
    let (status, stderr) = run(Path::new("scenarios"));
    assert_eq!(
        (status, stderr.trim_end()),
        (
            Some(2),
            "seqsim: error: scenarios: is a directory, not a scenario file"
        )
    );
    let (status, stderr) = seqsim(&["run", "scenarios/smtp-send.yaml", "--width", "5"]);
    assert_eq!(status, Some(2), "{stderr}");
}

#[test]
fn a_bad_override_names_the_set_argument() {
    let (status, stderr) = seqsim(&[
        "check",
        "scenarios/smtp-send.yaml",
        "--set",
        "links[5].latency=1ms",
        "--set",
        "links[0].latency=soon",
    ]);
    assert_eq!(status, Some(2));
    assert_eq!(
        stderr.trim_end(),
        "seqsim: error: --set links[5].latency=1ms: `links` has 3 items, links[0] to links[2]; there is no [5]"
    );
    let (status, stderr) = seqsim(&[
        "check",
        "scenarios/smtp-send.yaml",
        "--set",
        "links[0].latency=soon",
    ]);
    assert_eq!(status, Some(2));
    assert_eq!(
        stderr.trim_end(),
        "seqsim: error: --set links[0].latency=soon: at `links[0].latency`: `soon` is not a duration like 20ms, 1.5s or 250us"
    );
}

#[test]
fn a_null_or_empty_text_given_with_set_is_refused() {
    let null = "expected a string, found null (`~`, `null` or no value); quote it to mean that text, e.g. '~'";
    for (argument, expected) in [
        ("title=", format!("at `title`: {null}")),
        ("title=~", format!("at `title`: {null}")),
        (
            "title=''",
            "at `title`: expected a title: text drawn above the diagram, e.g. `SMTP e-mail send`"
                .to_string(),
        ),
        (
            "participants[0].host=~",
            format!("at `participants[0].host`: {null}"),
        ),
        (
            "participants[0].id=~",
            format!("at `participants[0].id`: {null}"),
        ),
    ] {
        let (status, stderr) = seqsim(&["run", "scenarios/smtp-send.yaml", "--set", argument]);
        assert_eq!(status, Some(2), "{argument}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("seqsim: error: --set {argument}: {expected}")
        );
    }
}

#[test]
fn a_range_and_an_empty_path_are_said_in_plain_words() {
    let (status, stderr) = seqsim(&[
        "check",
        "scenarios/smtp-population.yaml",
        "--set",
        "participants[0].population.count=1.5",
    ]);
    assert_eq!(status, Some(2));
    assert_eq!(
        stderr.trim_end(),
        "seqsim: error: --set participants[0].population.count=1.5: at `participants[0].population.count`: invalid type: floating point `1.5`, expected a whole number from 1 to 1000000"
    );
    let (status, stderr) = seqsim(&["check", "scenarios/smtp-send.yaml", "--set", "=1"]);
    assert_eq!(status, Some(2));
    assert_eq!(
        stderr.trim_end(),
        "seqsim: error: --set `=1`: the path is empty (expected e.g. links[0].latency=50ms)"
    );
}

#[test]
fn a_quoted_tilde_is_text() {
    let (status, stderr) = seqsim(&["check", "scenarios/smtp-send.yaml", "--set", "title='~'"]);
    assert_eq!(status, Some(0), "{stderr}");
}

#[test]
fn a_bad_fault_given_with_set_names_the_set_argument() {
    let argument = "faults=[{drop: {flags: SYNACK}}]";
    let (status, stderr) = seqsim(&["check", "scenarios/smtp-send.yaml", "--set", argument]);
    assert_eq!(status, Some(2));
    assert_eq!(
        stderr.trim_end(),
        format!(
            "seqsim: error: --set {argument}: at `faults[0].drop.flags`: `SYNACK` is not a TCP flag (expected SYN, ACK, FIN, RST or PSH, joined like SYN_ACK)"
        )
    );
}
