//! The scenario file as written: serde types that mirror the YAML keys.
//!
//! Every struct refuses unknown keys, so a misspelt key is an error and
//! not a silently ignored line. Values stay as text here (addresses,
//! names, durations); [`super::validate`] turns them into checked types.
//! The doc comments double as the descriptions of `seqsim schema`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::text::{text, text_groups, text_pair, texts};

/// A seqsim scenario: who takes part, how they are linked, and either the
/// models' configuration, a script of literal messages, or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "seqsim scenario")]
pub struct RawScenario {
    /// Drawn above the diagram.
    #[serde(deserialize_with = "text")]
    pub title: String,
    /// The seed every random draw derives from (ports, sequence numbers, DNS ids, jitter, loss).
    #[serde(default)]
    pub seed: u64,
    /// The hosts, one column each, left to right.
    pub participants: Vec<RawParticipant>,
    /// Links between participants; packets take the path of lowest total latency.
    #[serde(default)]
    pub links: Vec<RawLink>,
    /// Application messages to send literally, in order, each after the previous one arrived.
    #[serde(default)]
    pub script: Vec<RawStep>,
    /// Remarks drawn beside the messages they describe.
    #[serde(default)]
    pub remarks: Vec<RawRemark>,
    /// Faults: rules that drop, delay or duplicate messages (the first that matches decides), hosts down, partitions.
    #[serde(default)]
    pub faults: Vec<RawFault>,
}

/// One host and the roles it plays.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Participant")]
pub struct RawParticipant {
    /// The name other keys use: letters, digits, `-` and `_`.
    #[serde(deserialize_with = "text")]
    pub id: String,
    /// Drawn at the head of the column (default: the id).
    pub name: Option<String>,
    /// A header drawn above this column and its neighbours of the same group.
    pub group: Option<String>,
    /// The host name, e.g. `mail.sender.com`.
    #[serde(deserialize_with = "text")]
    pub host: String,
    /// The IPv4 address, e.g. `192.0.2.10`.
    #[serde(deserialize_with = "text")]
    pub address: String,
    /// The id of the participant that answers this host's DNS queries.
    pub resolver: Option<String>,
    /// How long the resolver waits for an answer before asking again, e.g. `2s` (default 5s).
    pub dns_timeout: Option<String>,
    /// How many times the resolver asks again before the look-up fails, 0 to 10 (default 2).
    pub dns_retries: Option<u32>,
    /// Makes the host a DNS server answering from its records on UDP port 53.
    pub dns_server: Option<RawDnsServer>,
    /// Makes the host a mail server on TCP port 25.
    pub smtp_server: Option<RawSmtpServer>,
    /// Makes the host send mail.
    pub smtp_client: Option<RawSmtpClient>,
    /// Settings of the host's TCP connections.
    pub tcp: Option<RawTcp>,
    /// Runs this participant (an `smtp_client`) as many numbered copies.
    pub population: Option<RawPopulation>,
}

/// Settings of a host's TCP connections.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Tcp")]
pub struct RawTcp {
    /// How often a data segment or FIN is sent again on timeout before the connection aborts with RST, 0 to 100 (default 6).
    #[schemars(range(max = 100))]
    pub max_retransmissions: Option<u32>,
    /// How often a SYN or SYN_ACK is sent again on timeout before the connection gives up, 0 to 100 (default 7).
    #[schemars(range(max = 100))]
    pub max_syn_retransmissions: Option<u32>,
    /// The lowest retransmission timeout, e.g. `200ms` (default 1s).
    pub min_rto: Option<String>,
    /// The highest retransmission timeout (default 60s).
    pub max_rto: Option<String>,
    /// The maximum segment size announced in the SYN (default 1460).
    pub mss: Option<u16>,
}

/// Many copies of one sending participant, numbered from 1: copy k has
/// id `<id>-k`, host `<first label>-k.<rest>`, the k-th address from
/// `address`, and starts `(k - 1) × interval` after `start`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Population")]
pub struct RawPopulation {
    /// The number of copies, from 1 to 1000000.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub count: usize,
    /// The time between the starts of two consecutive copies, e.g. `1ms` (default 0).
    pub interval: Option<String>,
}

/// The records a DNS server answers from.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DnsServer")]
pub struct RawDnsServer {
    /// Every record the server holds.
    pub records: Vec<RawRecord>,
}

/// One resource record, its fields named after its type.
///
/// The variant names are the record types as scenarios write them.
// It is read key by key in `super::record`; the `serde` attributes here
// describe it to `seqsim schema` only.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, JsonSchema)]
#[serde(tag = "type", deny_unknown_fields)]
#[schemars(rename = "Record")]
pub enum RawRecord {
    /// An IPv4 address record.
    A {
        /// The owner name.
        #[serde(deserialize_with = "text")]
        name: String,
        /// The IPv4 address.
        #[serde(deserialize_with = "text")]
        address: String,
        /// Seconds the record may be cached (default 3600).
        ttl: Option<u32>,
    },
    /// A mail exchanger record.
    MX {
        /// The owner name: the mail domain.
        #[serde(deserialize_with = "text")]
        name: String,
        /// Lower values are tried first.
        preference: u16,
        /// The host that takes mail for the domain.
        #[serde(deserialize_with = "text")]
        exchange: String,
        /// Seconds the record may be cached (default 3600).
        ttl: Option<u32>,
    },
    /// A pointer record, for reverse look-ups.
    PTR {
        /// The owner name, e.g. `10.2.0.192.in-addr.arpa`.
        #[serde(deserialize_with = "text")]
        name: String,
        /// The host name the address maps back to.
        #[serde(deserialize_with = "text")]
        target: String,
        /// Seconds the record may be cached (default 3600).
        ttl: Option<u32>,
    },
    /// A canonical name record: the owner is an alias of the target.
    CNAME {
        /// The alias.
        #[serde(deserialize_with = "text")]
        name: String,
        /// The canonical name.
        #[serde(deserialize_with = "text")]
        target: String,
        /// Seconds the record may be cached (default 3600).
        ttl: Option<u32>,
    },
}

/// A receiving mail server.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SmtpServer")]
pub struct RawSmtpServer {
    /// The mail domain it takes mail for.
    #[serde(deserialize_with = "text")]
    pub domain: String,
    /// The local parts that have a mailbox.
    #[serde(default, deserialize_with = "texts")]
    pub mailboxes: Vec<String>,
    /// Whether to check the HELO name with a PTR look-up (default true).
    #[serde(default = "yes")]
    pub check_helo: bool,
    /// The text after `220` in the greeting (default: `<host> SMTP Ready`).
    pub greeting: Option<String>,
    /// Replies given instead of the usual ones, e.g. `{ at: RCPT, code: 451, sessions: 1 }`.
    #[serde(default)]
    pub replies: Vec<RawReply>,
    /// The most recipients one transaction may name; the next RCPT gets 452 (default: no limit).
    pub max_recipients: Option<usize>,
}

/// A reply a mail server gives at one point of a session instead of its usual one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SmtpReply")]
pub struct RawReply {
    /// Where: `greeting`, `HELO`, `VRFY`, `MAIL`, `RCPT`, `DATA` or `end_of_data`.
    #[serde(deserialize_with = "text")]
    pub at: String,
    /// The reply code: 421 or 554 for the greeting, 252 or 400 to 599 for VRFY, 400 to 599 elsewhere.
    pub code: u16,
    /// The text after the code (default: the server's own wording for that code).
    pub text: Option<String>,
    /// Only in the first this many sessions, so that a later attempt succeeds (default: every session).
    pub sessions: Option<u32>,
}

/// A sending mail client and its mails.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SmtpClient")]
pub struct RawSmtpClient {
    /// When the client starts, e.g. `0s` or `1.5s` (default 0).
    pub start: Option<String>,
    /// The mails, sent one after another.
    pub mails: Vec<RawMail>,
    /// The wait before trying again after a temporary failure (4xx, no exchanger reached), e.g. `10min` (default 30min).
    pub retry_after: Option<String>,
    /// How many attempts each recipient gets in all, the first included, 1 to 100 (default 3).
    pub max_attempts: Option<u32>,
    /// How long the client waits for each reply before it ends the attempt (RFC 5321 §4.5.3.2), e.g. `{ greeting: 30s }`.
    pub timeouts: Option<RawReplyTimeouts>,
}

/// How long a sending client waits for replies; each is a duration above zero.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ReplyTimeouts")]
pub struct RawReplyTimeouts {
    /// The wait for the 220 greeting (default 5min).
    pub greeting: Option<String>,
    /// The wait for the replies to HELO, VRFY, MAIL, RCPT and QUIT, and for the server's close after QUIT (default 5min).
    pub command: Option<String>,
    /// The wait for the 354 reply to DATA (default 2min).
    pub data: Option<String>,
    /// The wait for the reply to the end of data (default 10min).
    pub end_of_data: Option<String>,
}

/// One mail.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Mail")]
pub struct RawMail {
    /// The envelope sender, e.g. `luke@sender.com`.
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// The envelope recipients.
    #[serde(deserialize_with = "texts")]
    pub to: Vec<String>,
    /// Whether to ask VRFY for each recipient first.
    #[serde(default)]
    pub verify_first: bool,
    /// The Subject header, when `headers` is not given.
    pub subject: Option<String>,
    /// The header fields, in order (default: From, To and Subject).
    pub headers: Option<IndexMap<String, String>>,
    /// The body; each line break becomes CRLF.
    #[serde(default)]
    pub body: String,
}

/// A link between two participants.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Link")]
pub struct RawLink {
    /// The ids of the two participants it joins.
    #[serde(deserialize_with = "text_pair")]
    pub between: [String; 2],
    /// The one-way delay, e.g. `10ms`, `1.5s` or `250us`.
    #[serde(deserialize_with = "text")]
    pub latency: String,
    /// The most extra delay one crossing may add, drawn uniformly (default 0).
    pub jitter: Option<String>,
    /// The probability, from 0 to 1, that a packet crossing the link is lost (default 0).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss: Option<f64>,
    /// How fast packets are put on the link, e.g. `10Mbit/s` or `64kbit/s` (default: at once).
    pub bandwidth: Option<String>,
    /// How many packets may wait behind the one being sent, in each direction (default: no limit; needs `bandwidth`).
    pub queue: Option<usize>,
    /// Settings for one direction that differ from the link's, by the participant packets leave.
    #[serde(default)]
    pub one_way: Vec<RawOneWay>,
}

/// Settings of one direction of a link; keys left out keep the link's values.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "OneWay")]
pub struct RawOneWay {
    /// The id of the end packets leave in this direction.
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// The one-way delay in this direction.
    pub latency: Option<String>,
    /// The most extra delay one crossing may add in this direction.
    pub jitter: Option<String>,
    /// The loss probability in this direction.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss: Option<f64>,
    /// The bandwidth in this direction.
    pub bandwidth: Option<String>,
    /// The queue limit in this direction.
    pub queue: Option<usize>,
}

/// One fault: exactly one of `drop`, `delay`, `duplicate` (rules), `host_down` or `partition`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fault")]
pub struct RawFault {
    /// Loses the matching message.
    pub drop: Option<RawMatch>,
    /// Makes the matching message arrive later by `by`.
    pub delay: Option<RawMatch>,
    /// Sends a copy of the matching message right after it.
    pub duplicate: Option<RawMatch>,
    /// Takes a host down for a while.
    pub host_down: Option<RawOutage>,
    /// Splits hosts into groups that cannot reach each other for a while.
    pub partition: Option<RawPartition>,
}

/// Which messages a rule acts on; every key given must hold.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Match")]
pub struct RawMatch {
    /// `delay` only: how much later the message arrives, e.g. `300ms`.
    pub by: Option<String>,
    /// The id of the sender.
    pub from: Option<String>,
    /// The id of the receiver.
    pub to: Option<String>,
    /// The ids of the two ends of a link the message crosses.
    pub link: Option<[String; 2]>,
    /// `dns`, `tcp` (segments without data), `smtp`, `http` or `data`.
    pub layer: Option<String>,
    /// TCP flags as the diagram names segments: `SYN`, `SYN_ACK`, `ACK`, `FIN_ACK`, `RST`, `PSH_ACK`.
    pub flags: Option<String>,
    /// An SMTP command verb (`RCPT`) or reply code (`550`) the segment carries.
    pub smtp: Option<RawSmtpMatch>,
    /// Text the payload or the label contains.
    pub text: Option<String>,
    /// Which matching message: a count from 1 (default: every one).
    pub occurrence: Option<usize>,
    /// Only messages sent at or after this time, e.g. `100ms`.
    pub since: Option<String>,
    /// Only messages sent before this time.
    pub until: Option<String>,
}

/// An SMTP command verb or reply code.
// Read in `super::scalar`; `untagged` describes it to `seqsim schema`.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "SmtpMatch")]
pub enum RawSmtpMatch {
    /// A reply code, e.g. `550`.
    Code(u16),
    /// A command verb, e.g. `RCPT`.
    Verb(String),
}

/// A host down for a while.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Outage")]
pub struct RawOutage {
    /// The id of the host.
    #[serde(deserialize_with = "text")]
    pub host: String,
    /// When it goes down (default: at the start).
    pub since: Option<String>,
    /// When it comes back (default: never).
    pub until: Option<String>,
}

/// Groups of hosts that cannot reach each other for a while.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Partition")]
pub struct RawPartition {
    /// Two or more groups of participant ids; hosts in no group reach everyone.
    #[serde(deserialize_with = "text_groups")]
    pub groups: Vec<Vec<String>>,
    /// When it starts (default: at the start).
    pub since: Option<String>,
    /// When it ends (default: never).
    pub until: Option<String>,
}

/// One step of a script: exactly one of `open`, `send`, `close` or `mail`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Step")]
pub struct RawStep {
    /// Opens a TCP connection with the three-way handshake.
    pub open: Option<RawOpen>,
    /// Sends application data on a TCP connection, or one UDP datagram.
    pub send: Option<RawSend>,
    /// Closes the sender's side of a TCP connection with a FIN.
    pub close: Option<RawClose>,
    /// Lets a participant's SMTP client model send its mails (a model step).
    pub mail: Option<RawMailStep>,
}

/// A model step: the participant's `smtp_client` sends its mails now; the
/// step ends when the client has finished them all.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "MailStep")]
pub struct RawMailStep {
    /// The id of a participant with an `smtp_client` (and no `start` of its own).
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// Time to wait before this step, after the previous one ended (default 0).
    pub wait: Option<String>,
    /// A remark drawn beside the first message the model sends.
    pub remark: Option<String>,
}

/// Opening a TCP connection; the step ends when the server side is established.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Open")]
pub struct RawOpen {
    /// The id of the participant that connects (the client).
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// The id of the participant it connects to (the server).
    #[serde(deserialize_with = "text")]
    pub to: String,
    /// The server's port.
    pub port: u16,
    /// The client's port (default: a random ephemeral port).
    pub from_port: Option<u16>,
    /// Time to wait before this step, after the previous one ended (default 0).
    pub wait: Option<String>,
    /// A remark drawn beside the SYN.
    pub remark: Option<String>,
}

/// Sending data; the step ends when all of it has arrived.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Send")]
pub struct RawSend {
    /// The id of the sender.
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// The id of the receiver.
    #[serde(deserialize_with = "text")]
    pub to: String,
    /// `tcp` (default, on the connection open between the two) or `udp`.
    pub transport: Option<RawTransport>,
    /// The data as text; write CR and LF as `\r` and `\n` in a double-quoted string.
    pub text: Option<String>,
    /// The data as hexadecimal bytes, e.g. `48 69 0d 0a`.
    pub bytes: Option<String>,
    /// A DNS message, sent over UDP.
    pub dns: Option<RawDnsMessage>,
    /// UDP: the sender's port (default: a random ephemeral port for a query, or the port the last datagram from the receiver went to).
    pub from_port: Option<u16>,
    /// UDP: the receiver's port (default: 53 for a DNS query, or the port the last datagram from the receiver came from).
    pub to_port: Option<u16>,
    /// TCP: the server's port, to pick one of several open connections.
    pub port: Option<u16>,
    /// Time to wait before this step, after the previous one ended (default 0).
    pub wait: Option<String>,
    /// A remark drawn beside the message.
    pub remark: Option<String>,
}

/// Closing one side of a TCP connection; the step ends when the FIN has arrived.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Close")]
pub struct RawClose {
    /// The id of the side that closes.
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// The id of the other side.
    #[serde(deserialize_with = "text")]
    pub to: String,
    /// The server's port, to pick one of several open connections.
    pub port: Option<u16>,
    /// Both sides close at the same instant, their FINs crossing: `from` first, then `to` (default false).
    #[serde(default)]
    pub simultaneous: bool,
    /// Time to wait before this step, after the previous one ended (default 0).
    pub wait: Option<String>,
    /// A remark drawn beside the FIN.
    pub remark: Option<String>,
}

/// The transport of a scripted message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Transport")]
pub enum RawTransport {
    /// On the TCP connection open between sender and receiver.
    Tcp,
    /// As one UDP datagram.
    Udp,
}

/// A DNS message written field by field: a query, or a response when `response` is given.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DnsMessage")]
pub struct RawDnsMessage {
    /// The message id (default: random for a query; a response takes its query's).
    pub id: Option<u16>,
    /// The one question.
    pub question: RawQuestion,
    /// The response code (`NOERROR`, `FORMERR`, `SERVFAIL`, `NXDOMAIN`, `REFUSED`); makes the message a response.
    pub response: Option<String>,
    /// The AA bit (default: true in a response).
    pub authoritative: Option<bool>,
    /// The answer records.
    #[serde(default)]
    pub answers: Vec<RawRecord>,
    /// The authority records.
    #[serde(default)]
    pub authority: Vec<RawRecord>,
    /// The additional records.
    #[serde(default)]
    pub additional: Vec<RawRecord>,
}

/// A DNS question.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Question")]
pub struct RawQuestion {
    /// The name asked about.
    #[serde(deserialize_with = "text")]
    pub name: String,
    /// The record type asked for: `A`, `MX`, `PTR` or `CNAME`.
    #[serde(rename = "type", deserialize_with = "text")]
    pub record_type: String,
}

/// A remark to draw beside one message.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Remark")]
pub struct RawRemark {
    /// The id of the message's sender.
    #[serde(deserialize_with = "text")]
    pub from: String,
    /// The id of the message's receiver (default: any).
    pub to: Option<String>,
    /// The start of the message's label, e.g. `VRFY` or `SYN_ACK`.
    #[serde(deserialize_with = "text")]
    pub message: String,
    /// Which of the matching messages: a count from 1 (default 1), or `last`.
    pub occurrence: Option<RawOccurrence>,
    /// The remark's text.
    #[serde(deserialize_with = "text")]
    pub text: String,
}

/// Which matching message a remark goes with: a count from one, or `last`.
// Read in `super::scalar`; `untagged` describes it to `seqsim schema`.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Occurrence")]
pub enum RawOccurrence {
    /// The n-th matching message, from 1.
    Nth(usize),
    /// `last`: the last matching message.
    Word(String),
}

/// Serde's default for flags that are on unless turned off.
fn yes() -> bool {
    true
}
