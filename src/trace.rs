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
    /// DNS message fields, for DNS messages.
    pub dns: Option<DnsFields>,
    /// The application payload as text (lossy UTF-8), when there is one.
    pub payload: Option<String>,
    /// Octets of application payload.
    pub payload_len: usize,
    /// The scenario's remark for this step, if it has one.
    pub remark: Option<String>,
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
}
