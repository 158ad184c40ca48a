//! What happened in a run: one record per message, in the order sent.
//!
//! The trace is the product of the simulator. Renderers read it and
//! nothing else; the engine writes it and never reads it back. Every
//! field a person might ask about is here, so the JSON form is complete.

use std::net::Ipv4Addr;

use serde::Serialize;

use crate::time::SimTime;

/// Everything one run produced.
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    /// The scenario's title, drawn above the diagram.
    pub title: String,
    /// The seed every random draw of the run derives from.
    pub seed: u64,
    /// The hosts, in the column order the scenario gives.
    pub participants: Vec<Participant>,
    /// Every message, ordered by send time, ties in the order sent.
    pub messages: Vec<Message>,
    /// Mail stored by receiving servers, in the order stored.
    pub deliveries: Vec<Delivery>,
    /// What each sending client concluded about each recipient.
    pub outcomes: Vec<MailOutcome>,
    /// What happened on a lifeline without a message: a timer that fired,
    /// a connection given up, a host going down or coming back.
    pub events: Vec<LifelineEvent>,
}

/// One host drawn as a column.
#[derive(Clone, Debug, Serialize)]
pub struct Participant {
    /// The short id scenarios use to name it.
    pub id: String,
    /// The name drawn at the head of its column.
    pub name: String,
    /// The group header above the column, if any.
    pub group: Option<String>,
    /// Its host name.
    pub host: String,
    /// Its IPv4 address.
    pub address: Ipv4Addr,
}

/// The transport a message travelled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A TCP segment.
    Tcp,
    /// A UDP datagram.
    Udp,
}

/// The highest protocol layer a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// A DNS message over UDP.
    Dns,
    /// A TCP segment carrying no application data.
    Tcp,
    /// A TCP segment carrying SMTP text (port 25).
    Smtp,
    /// A TCP segment carrying HTTP (port 80).
    Http,
    /// Application bytes seqsim does not interpret, over TCP or UDP.
    Data,
}

impl Layer {
    /// Returns the layer of application bytes between two ports.
    pub fn of_ports(src_port: u16, dst_port: u16) -> Layer {
        match (src_port, dst_port) {
            (25, _) | (_, 25) => Layer::Smtp,
            (80, _) | (_, 80) => Layer::Http,
            _ => Layer::Data,
        }
    }
}

/// One message put on the network.
#[derive(Clone, Debug, Serialize)]
pub struct Message {
    /// Position in the trace, from zero.
    pub index: usize,
    /// When the sender put it on the link, in nanoseconds.
    pub sent_at: SimTime,
    /// The same instant as seconds, as the diagram prints it.
    pub sent_at_text: String,
    /// When it reached its target, or `None` if it never did.
    pub received_at: Option<SimTime>,
    /// Why it never reached its target, when it did not.
    pub lost: Option<Loss>,
    /// Why it was sent.
    pub why: SendReason,
    /// The sending participant's id.
    pub from: String,
    /// The receiving participant's id.
    pub to: String,
    /// The sender's address.
    pub src_address: Ipv4Addr,
    /// The sender's port.
    pub src_port: u16,
    /// The receiver's address.
    pub dst_address: Ipv4Addr,
    /// The receiver's port.
    pub dst_port: u16,
    /// TCP or UDP.
    pub transport: Transport,
    /// DNS, bare TCP, SMTP, HTTP or uninterpreted data.
    pub layer: Layer,
    /// The text on the arrow, with CR and LF written as `\r` and `\n`.
    pub label: String,
    /// TCP header fields, for TCP segments.
    pub tcp: Option<TcpFields>,
    /// DNS message fields, for DNS messages; boxed, as most messages
    /// are TCP segments and every message is moved a few times.
    pub dns: Option<Box<DnsFields>>,
    /// SMTP lines completed by this segment, for TCP data segments.
    pub smtp: Option<SmtpFields>,
    /// The application payload as text (lossy UTF-8), when there is one.
    pub payload: Option<String>,
    /// The payload octets in hex, present only when they are not valid
    /// UTF-8 (so `payload` had to replace some).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
    /// Octets of application payload.
    pub payload_len: usize,
    /// Octets of the DNS message in wire format, as the capture writes
    /// it, for DNS messages; 0 otherwise. Left out of the JSON form, which
    /// gives the DNS message field by field.
    #[serde(skip)]
    pub dns_len: usize,
    /// The scenario's remark for this step, if it has one.
    pub remark: Option<String>,
}

impl Message {
    /// Returns the payload octets exactly as sent.
    pub fn payload_bytes(&self) -> Vec<u8> {
        if let Some(hex) = &self.payload_hex {
            return decode_hex(hex);
        }
        self.payload
            .as_deref()
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
    }
}

/// Writes octets as lower-case hex, two digits each.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Reads octets written by [`encode_hex`]; a stray odd digit is dropped.
fn decode_hex(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter_map(|c| (c as char).to_digit(16))
        .map(|d| d as u8)
        .collect();
    digits
        .chunks_exact(2)
        .map(|pair| pair[0] << 4 | pair[1])
        .collect()
}

/// The TCP header of a segment.
#[derive(Clone, Debug, Serialize)]
pub struct TcpFields {
    /// The absolute sequence number.
    pub seq: u32,
    /// The absolute acknowledgement number, when ACK is set.
    pub ack: Option<u32>,
    /// The sequence number relative to the sender's initial one.
    pub relative_seq: u32,
    /// The acknowledgement number relative to the peer's initial one.
    pub relative_ack: Option<u32>,
    /// Flag names in Wireshark's order, e.g. `["SYN", "ACK"]`.
    pub flags: Vec<String>,
    /// The advertised receive window.
    pub window: u16,
    /// The MSS option, on SYN segments.
    pub mss: Option<u16>,
    /// The RFC 9293 state of the sending connection after it sent this.
    pub sender_state: String,
}

/// The fields of a DNS message.
#[derive(Clone, Debug, Serialize)]
pub struct DnsFields {
    /// The message id that pairs a query with its response.
    pub id: u16,
    /// `query` or `response`.
    pub kind: String,
    /// The response code name, for responses (`NOERROR`, `NXDOMAIN`, ...).
    pub rcode: Option<String>,
    /// The AA bit: the answer comes from the zone's own server.
    pub authoritative: bool,
    /// The RD bit: the client asks the server to resolve recursively.
    pub recursion_desired: bool,
    /// The name asked about.
    pub question_name: String,
    /// The record type asked for.
    pub question_type: String,
    /// Answer records in zone-file form.
    pub answers: Vec<String>,
    /// Authority records in zone-file form.
    pub authority: Vec<String>,
    /// Additional records in zone-file form.
    pub additional: Vec<String>,
    /// Every record of the three sections, field by field, in wire order.
    pub records: Vec<DnsRecord>,
}

/// The section of a DNS message a record travels in (RFC 1035 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsSection {
    /// Records answering the question.
    Answer,
    /// Records naming the zone's authority.
    Authority,
    /// Records the client will probably need next.
    Additional,
}

/// One resource record of a DNS message, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// The section it travels in.
    pub section: DnsSection,
    /// The owner name, without the trailing dot.
    pub name: String,
    /// Seconds a resolver may cache it.
    pub ttl: u32,
    /// The type and the data of that type.
    #[serde(flatten)]
    pub data: DnsRecordData,
}

/// The typed data of a record; serialized with its type as `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum DnsRecordData {
    /// An IPv4 address.
    A {
        /// The address.
        address: Ipv4Addr,
    },
    /// The canonical name the owner is an alias of.
    #[serde(rename = "CNAME")]
    Cname {
        /// The canonical name.
        target: String,
    },
    /// The name an address maps back to.
    #[serde(rename = "PTR")]
    Ptr {
        /// The host name.
        target: String,
    },
    /// A mail exchanger.
    #[serde(rename = "MX")]
    Mx {
        /// Lower values are tried first.
        preference: u16,
        /// The host that accepts mail for the owner.
        exchange: String,
    },
}

/// What an SMTP segment says, line by line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SmtpFields {
    /// `client` or `server`: the side that sent the segment.
    pub role: SmtpRole,
    /// The CRLF-ended lines this segment completes, without their CRLF.
    /// A line split over segments belongs to the segment that ends it.
    pub lines: Vec<SmtpLine>,
}

/// The side of an SMTP session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpRole {
    /// The side that opened the connection and sends commands.
    Client,
    /// The side that accepted it and sends replies.
    Server,
}

/// One SMTP line, read as RFC 5321 §4.1 and §4.2 describe it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SmtpLine {
    /// A command: its verb and the rest of the line, e.g. `MAIL` and
    /// `FROM:<luke@sender.com>`.
    Command {
        /// The command verb as sent.
        verb: String,
        /// Everything after the verb and its space.
        argument: String,
    },
    /// A reply: its three-digit code and text.
    Reply {
        /// The reply code.
        code: u16,
        /// The text after the code.
        text: String,
        /// False when a hyphen after the code says more lines of the same
        /// reply follow (RFC 5321 §4.2.1).
        last_line: bool,
    },
    /// A line of the mail itself, between the 354 reply and the end of data.
    Content {
        /// The line as sent, dot-stuffing included.
        text: String,
    },
    /// The line holding a single dot that ends the mail (RFC 5321 §4.1.1.4).
    EndOfData,
    /// A line from the server that is not a reply.
    Other {
        /// The line as sent.
        text: String,
    },
}

/// Why a message was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SendReason {
    /// New data or a new request, sent for the first time.
    First,
    /// Sent back to the sender of message `to` by its receiver, at the
    /// instant it arrived: a SYN_ACK to its SYN, an ACK of a data segment,
    /// a DNS response to its query, an SMTP reply to its command, the
    /// client's next command after a reply.
    Reply {
        /// The index of the message answered.
        to: usize,
    },
    /// Sent to a third party by the receiver of message `by`, at the
    /// instant it arrived: the SYN that follows the MX answer, the PTR
    /// look-up a HELO sets off.
    Triggered {
        /// The index of the message whose arrival set it off.
        by: usize,
    },
    /// The same octets (or SYN or FIN) sent again.
    Retransmission {
        /// 1 for the first resend, 2 for the second, and so on.
        number: u32,
        /// The index of the first transmission.
        original: usize,
        /// What made the sender resend.
        trigger: RetransmitTrigger,
    },
    /// A copy a fault rule of the scenario made of an earlier message.
    Duplicate {
        /// The index of the message copied.
        of: usize,
    },
    /// The RST a TCP sender sends when it gives up after its last resend.
    Abort,
}

impl SendReason {
    /// Returns the words a label ends with when the message was sent
    /// again or aborts a connection, e.g. `(retransmission #2)`.
    pub fn resend_note(&self) -> Option<String> {
        match self {
            SendReason::Retransmission {
                trigger: RetransmitTrigger::FastRetransmit,
                ..
            } => Some("(fast retransmission)".to_string()),
            SendReason::Retransmission { number, .. } => {
                Some(format!("(retransmission #{number})"))
            }
            SendReason::Abort => Some("(abort)".to_string()),
            _ => None,
        }
    }
}

/// What made a TCP sender resend a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetransmitTrigger {
    /// The retransmission timer expired (RFC 6298 §5.4).
    Timeout,
    /// The third duplicate ACK arrived (RFC 5681 §3.2).
    FastRetransmit,
}

/// Why a message never arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Loss {
    /// The kind of cause.
    pub cause: LossCause,
    /// The cause in words, e.g. `lost on the link sender - receiver`.
    pub detail: String,
}

/// The kinds of cause a loss can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossCause {
    /// A link's random loss.
    LinkLoss,
    /// A link's queue was full.
    QueueFull,
    /// A fault rule of the scenario dropped it.
    Fault,
    /// Its target (or a host on the way) was down.
    HostDown,
    /// A partition of the scenario separates the two hosts.
    Partition,
    /// No host has the address, or no path leads to it.
    NoRoute,
}

/// Something that happened on one lifeline rather than between two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LifelineEvent {
    /// When it happened, in nanoseconds.
    pub at: SimTime,
    /// The same instant as seconds, as the diagram prints it.
    pub at_text: String,
    /// The participant's id.
    pub participant: String,
    /// The index of the first message sent after it: a diagram draws the
    /// event just above that message (equal to the number of messages
    /// when nothing was sent after it).
    pub before: usize,
    /// What kind of event it is.
    pub kind: LifelineEventKind,
    /// The text drawn on the lifeline, e.g. `RTO expired (1 s)`.
    pub label: String,
}

/// The kinds of lifeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifelineEventKind {
    /// A timer fired: a TCP retransmission timeout, a DNS query
    /// time-out, an SMTP retry delay.
    TimerExpired,
    /// A sender stopped trying and reported failure.
    GaveUp,
    /// The host went down.
    HostDown,
    /// The host came back up.
    HostUp,
}

/// A mail stored in a mailbox by a receiving server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// When the server stored it.
    pub at: SimTime,
    /// The receiving participant's id.
    pub participant: String,
    /// The mailbox (local part) it was stored in.
    pub mailbox: String,
    /// The envelope sender.
    pub from: String,
    /// The message as received, dot-stuffing undone, ending in CRLF.
    pub content: String,
}

/// What a sending client concluded about one recipient of one mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailOutcome {
    /// When the client concluded it.
    pub at: SimTime,
    /// The sending participant's id.
    pub participant: String,
    /// The recipient's address.
    pub recipient: String,
    /// `delivered` when the server accepted the mail, else `failed`.
    pub status: String,
    /// The reply or event the conclusion rests on.
    pub reason: String,
    /// When the sending client started, from which the time to deliver
    /// is measured; it is not written out.
    #[serde(skip)]
    pub client_started: SimTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_octets_survive_the_trip_through_hex() {
        let octets = [0x48, 0x69, 0xff, 0x00, 0x0d, 0x0a];
        assert_eq!(encode_hex(&octets), "4869ff000d0a");
        assert_eq!(decode_hex(&encode_hex(&octets)), octets);
    }
}
