//! Helpers shared by the tests that compare a run with the documented
//! exchange: each message written the way the document's table reads.

use seqsim::trace::{DnsFields, Message};

/// The message Luke sends in both documented scenarios, as it travels
/// after DATA and reaches each mailbox: the headers the drawing shows as
/// `<HEADERS>`, a blank line, and the body, each line ended by CRLF.
pub const LUKES_MAIL: &str = "From: Luke <luke@sender.com>\r\n\
                              To: c3po@receiver.com, r2d2@receiver.com\r\n\
                              Subject: Greetings\r\n\
                              \r\n\
                              Hello Robots,\r\n\
                              May the force be with you.\r\n\
                              Luke\r\n";

/// Writes one message as `(sender, receiver, what)`: `S`, `D`, `R` for
/// sender, DNS and receiver; a TCP control name, the payload, or a DNS
/// message written as `dns <kind> <fields>`.
pub fn describe(message: &Message) -> (String, String, String) {
    let short = |id: &str| match id {
        "sender" => "S",
        "dns" => "D",
        "receiver" => "R",
        other => panic!("unexpected participant {other}"),
    };
    let what = if let Some(dns) = &message.dns {
        describe_dns(dns)
    } else if let Some(payload) = &message.payload {
        payload.clone()
    } else {
        control_name(message)
    };
    (
        short(&message.from).to_string(),
        short(&message.to).to_string(),
        what,
    )
}

/// Writes a DNS message as `dns <kind> <question or records>`.
fn describe_dns(dns: &DnsFields) -> String {
    if dns.kind == "query" {
        return format!("dns query {} {}", dns.question_type, dns.question_name);
    }
    let mut records = dns.answers.join(", ");
    for extra in &dns.additional {
        records.push_str(&format!(" + {extra}"));
    }
    format!("dns response {records}")
}

/// Names a segment without data by its flags, as the document does.
fn control_name(message: &Message) -> String {
    let flags = &message
        .tcp
        .as_ref()
        .expect("a message without payload or DNS is TCP")
        .flags;
    let has = |flag: &str| flags.iter().any(|f| f == flag);
    match (has("SYN"), has("FIN"), has("ACK")) {
        (true, _, false) => "SYN",
        (true, _, true) => "SYN_ACK",
        (false, true, _) => "FIN",
        (false, false, true) => "ACK",
        _ => "?",
    }
    .to_string()
}
