//! Turns packets put on the network into trace messages.
//!
//! The recorder watches from outside the hosts: it sees each packet as it
//! leaves, with its arrival time, and writes the label and fields a person
//! reads. It remembers each TCP endpoint's initial sequence number so the
//! diagram can show numbers relative to it, as Wireshark does, and reads
//! the SMTP lines of each conversation so the trace names every command
//! and reply code. It pairs each resent segment or query with its first
//! transmission, keeping a connection's segments per direction so that
//! closing it forgets them at once. It forgets a connection once its ends
//! have closed it, and a DNS query once an answer to it has arrived. A DNS
//! message's size in wire format is counted without encoding it. A run
//! whose sink only counts (see [`Detail`]) builds no message: the
//! recorder reads each packet's figures ([`Recorder::count`]) and keeps
//! nothing about connections or queries.
//!
//! Not modelled: a segment recorded after both ends of its connection
//! closed shows absolute sequence numbers, not relative ones. A query
//! that no answer reaches is remembered to the end of the run.

use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::protocol::tcp;
use crate::sim::packet::{Body, Origin, Outgoing, Packet};
use crate::sim::sink::{Detail, Tally};
use crate::sim::smtp_lines::SmtpLines;
use crate::time::SimTime;
use crate::trace::{
    self, DnsFields, DnsRecord, DnsRecordData, DnsSection, Layer, Message, RetransmitTrigger,
    SendReason, TcpFields, Transport,
};
use crate::wire::dns;
use crate::wire::tcp::{Control, Segment};

/// One TCP endpoint: address and port.
pub type Endpoint = (Ipv4Addr, u16);

/// Builds trace messages, remembering initial sequence numbers.
#[derive(Debug, Default)]
pub struct Recorder {
    // The maps are looked up with a fast non-cryptographic hash, never
    // walked, so the order of their entries cannot reach a trace.
    initial_seq: FxHashMap<Direction, u32>,
    time_wait_initial_seqs: FxHashMap<Direction, (u32, u32)>,
    transmissions: FxHashMap<Direction, SentSegments>,
    queries: FxHashMap<QueryKey, Transmissions>,
    answered: BTreeSet<(SimTime, QueryKey)>,
    response_described: Option<QueryKey>,
    smtp: SmtpLines,
    recorded: usize,
    detail: Detail,
}

/// Names one sequenced segment: its sender, its receiver, and within
/// their conversation its sequence number and whether it is a SYN, a FIN
/// or data.
type SequencedKey = (Direction, (u32, SequencedKind));

/// One way of a TCP conversation, from one endpoint to the other, packed
/// into one number, cheap to hash and compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Direction(u128);

impl Direction {
    /// Packs the way from `from` to `to`.
    pub(super) fn new(from: Endpoint, to: Endpoint) -> Direction {
        let end =
            |(address, port): Endpoint| u128::from(address.to_bits()) << 16 | u128::from(port);
        Direction(end(from) << 48 | end(to))
    }
}

/// Names one DNS query: from its sender to its server, and its message id.
type QueryKey = (Direction, u16);

/// What a sequenced segment carries, as far as resending is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SequencedKind {
    Syn,
    Data,
    Fin,
}

/// The first transmission of a sequenced segment and how often it went again.
#[derive(Clone, Copy, Debug)]
struct Transmissions {
    original: usize,
    resends: u32,
}

/// The sequenced segments one end sent to the other, by sequence number
/// and kind, each with its first transmission and its resends.
///
/// Kept sorted, so a segment is found by binary search; new segments
/// mostly go at the end, as sequence numbers grow.
#[derive(Debug, Default)]
struct SentSegments(Vec<((u32, SequencedKind), Transmissions)>);

impl SentSegments {
    /// The segments a connection usually sends one way: a SYN, a dozen
    /// data segments and a FIN.
    const USUAL: usize = 16;

    /// Returns the transmissions of a segment, first noting message
    /// `index` as its first transmission if it was not sent before.
    ///
    /// A segment past every one kept, the usual case, goes at the end
    /// without a search.
    fn first_sent(&mut self, segment: (u32, SequencedKind), index: usize) -> &mut Transmissions {
        let past_all = self.0.last().is_none_or(|(last, _)| *last < segment);
        let found = if past_all {
            Err(self.0.len())
        } else {
            self.0.binary_search_by_key(&segment, |(key, _)| *key)
        };
        let slot = match found {
            Ok(slot) => slot,
            Err(slot) => self.note_first(slot, segment, index),
        };
        &mut self.0[slot].1
    }

    /// Notes message `index` as the first transmission of a segment,
    /// at `slot` in the order; returns the slot.
    fn note_first(&mut self, slot: usize, segment: (u32, SequencedKind), index: usize) -> usize {
        if self.0.capacity() == 0 {
            self.0.reserve_exact(Self::USUAL);
        }
        let first = Transmissions {
            original: index,
            resends: 0,
        };
        self.0.insert(slot, (segment, first));
        slot
    }
}

/// Who sent a packet to whom, by participant id, and when; the receiver's
/// id is empty when no participant has the packet's address.
#[derive(Clone, Debug)]
pub struct Passage<'a> {
    /// The sender's id.
    pub from: &'a str,
    /// The receiver's id.
    pub to: &'a str,
    /// When it left.
    pub sent_at: SimTime,
    /// The message whose arrival the sender was handling when it sent
    /// this one, if any: its index, and whether this one goes back to
    /// that message's sender.
    pub reacting_to: Option<(usize, bool)>,
}

impl Recorder {
    /// Starts a recorder for a sink that reads messages to the given
    /// detail: in full, or only counted through [`Self::count`].
    pub fn new(detail: Detail) -> Recorder {
        Recorder {
            detail,
            ..Recorder::default()
        }
    }

    /// Returns how much of each message the recorder fills.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// Starts the next message of the trace: who sent a packet to whom
    /// and when, and why; [`Self::describe`] fills in the rest.
    ///
    /// It is returned as it is built, so that it lands in the caller's
    /// place without a copy of its 400 octets.
    pub fn start(&self, passage: Passage<'_>, packet: &Packet) -> Message {
        Message {
            index: self.recorded,
            sent_at: passage.sent_at,
            sent_at_text: passage.sent_at.to_string(),
            received_at: None,
            lost: None,
            why: match passage.reacting_to {
                Some((to, true)) => SendReason::Reply { to },
                Some((by, _)) => SendReason::Triggered { by },
                None => SendReason::First,
            },
            from: passage.from.to_string(),
            to: passage.to.to_string(),
            src_address: packet.src,
            src_port: 0,
            dst_address: packet.dst,
            dst_port: 0,
            transport: Transport::Udp,
            layer: Layer::Dns,
            label: String::new(),
            tcp: None,
            dns: None,
            smtp: None,
            payload: None,
            payload_hex: None,
            payload_len: 0,
            dns_len: 0,
            remark: None,
        }
    }

    /// Describes the packet leaving a host in a message [`Self::start`]
    /// began; its arrival is the caller's to fill in before [`Self::keep`].
    pub fn describe(&mut self, message: &mut Message, outgoing: &Outgoing) {
        match &outgoing.packet.body {
            Body::Tcp(segment) => {
                self.fill_tcp(message, segment, outgoing.tcp_state);
                self.explain_segment(message, segment, outgoing.origin);
            }
            Body::Dns {
                src_port,
                dst_port,
                message: dns,
            } => {
                fill_dns(message, (*src_port, *dst_port), dns);
                self.explain_query(message, dns, outgoing.origin);
            }
            Body::Udp {
                src_port,
                dst_port,
                payload,
            } => fill_udp(message, (*src_port, *dst_port), payload),
        }
    }

    /// Counts the packet leaving a host as the next message without
    /// describing it: its layer, payload octets and whether it was sent
    /// again, as [`Tally::of`] reads them from a message described in
    /// full. Whether it is lost is the caller's to fill in.
    ///
    /// A resent segment counts as a resend when it takes sequence space,
    /// a resent DNS query when it is no response, as [`Self::describe`]
    /// has it; which first send it repeats is not looked up, so nothing
    /// is remembered for it.
    pub fn count(&mut self, outgoing: &Outgoing) -> Tally {
        self.recorded += 1;
        let resent = matches!(outgoing.origin, Origin::Resent { .. });
        let (layer, octets, resent) = match &outgoing.packet.body {
            Body::Tcp(segment) => {
                let sequenced = sequenced_kind(segment).is_some();
                (
                    segment_layer(segment),
                    segment.payload.len(),
                    resent && sequenced,
                )
            }
            Body::Dns { message, .. } => {
                let query = message.response.is_none();
                (Layer::Dns, message.wire_size(), resent && query)
            }
            Body::Udp { payload, .. } => (Layer::Data, payload.len(), false),
        };
        Tally {
            layer,
            octets,
            resent,
            lost: false,
        }
    }

    /// Counts a described message as kept, with its arrival or loss filled in.
    pub fn keep(&mut self, message: &Message) {
        debug_assert_eq!(message.index, self.recorded, "messages are kept in order");
        self.recorded += 1;
        let response = self.response_described.take();
        if let (Some(query), Some(at)) = (response, message.received_at) {
            self.answered.insert((at, query));
        }
    }

    /// Forgets the first sends of the queries whose answer arrived before
    /// `now`: the resolver that asked took the answer then and sends
    /// them no more.
    fn forget_answered_before(&mut self, now: SimTime) {
        while let Some(&(at, query)) = self.answered.first() {
            if at >= now {
                return;
            }
            self.answered.pop_first();
            self.queries.remove(&query);
        }
    }

    /// Forgets what it kept about the connection between `local` and
    /// `remote` once `local` closed it, given the state the peer still
    /// has it in.
    ///
    /// With the peer in TIME-WAIT neither side sends data, a SYN or a FIN
    /// again, so only the initial sequence numbers are kept, for the
    /// peer's last ACKs, both in one entry (a server may hold hundreds of
    /// thousands in TIME-WAIT); with the peer closed too, nothing is kept. A
    /// segment recorded after both ends closed (a late duplicate, or a
    /// reset answering one) shows its sequence numbers as they are, not
    /// relative to the forgotten initial ones.
    pub fn forget_connection(
        &mut self,
        local: Endpoint,
        remote: Endpoint,
        peer: Option<tcp::State>,
    ) {
        match peer {
            None => {
                self.forget_resends(local, remote);
                for (from, to) in [(local, remote), (remote, local)] {
                    let direction = Direction::new(from, to);
                    self.initial_seq.remove(&direction);
                    self.time_wait_initial_seqs.remove(&direction);
                }
            }
            Some(tcp::State::TimeWait) => {
                self.forget_resends(local, remote);
                self.pair_initial_seqs(local, remote);
            }
            Some(_) => {}
        }
    }

    /// Keeps the initial sequence numbers of both ends of a connection
    /// as one entry, once both are known.
    fn pair_initial_seqs(&mut self, local: Endpoint, remote: Endpoint) {
        let (outward, inward) = (Direction::new(local, remote), Direction::new(remote, local));
        let own = self.initial_seq.get(&outward);
        let peer = self.initial_seq.get(&inward);
        let (Some(&own), Some(&peer)) = (own, peer) else {
            return;
        };
        self.initial_seq.remove(&outward);
        self.initial_seq.remove(&inward);
        self.time_wait_initial_seqs.insert(outward, (own, peer));
    }

    /// Returns the initial sequence number `from` used toward `to`, if
    /// its SYN was seen.
    fn initial_seq_of(&self, from: Endpoint, to: Endpoint) -> Option<u32> {
        let outward = Direction::new(from, to);
        if let Some(&isn) = self.initial_seq.get(&outward) {
            return Some(isn);
        }
        let paired = &self.time_wait_initial_seqs;
        let as_first = paired.get(&outward).map(|&(isn, _)| isn);
        let inward = Direction::new(to, from);
        as_first.or_else(|| paired.get(&inward).map(|&(_, isn)| isn))
    }

    /// Forgets the first sends of a connection's segments, both ways, and
    /// its SMTP lines.
    fn forget_resends(&mut self, local: Endpoint, remote: Endpoint) {
        self.transmissions.remove(&Direction::new(local, remote));
        self.transmissions.remove(&Direction::new(remote, local));
        self.smtp.forget(local, remote);
    }

    /// Returns the transmissions of a sequenced segment, first noting
    /// message `index` as its first transmission if it was not sent before.
    fn first_sent(&mut self, key: SequencedKey, index: usize) -> &mut Transmissions {
        let (direction, segment) = key;
        let sent = self.transmissions.entry(direction).or_default();
        sent.first_sent(segment, index)
    }

    /// Tells whether it still keeps anything about a TCP connection.
    #[cfg(test)]
    pub fn holds_connections(&self) -> bool {
        !self.initial_seq.is_empty()
            || !self.time_wait_initial_seqs.is_empty()
            || !self.transmissions.is_empty()
            || !self.smtp.is_empty()
    }

    /// Returns the index the next message recorded will get.
    pub fn next_index(&self) -> usize {
        self.recorded
    }

    /// Sets why a segment was sent when TCP resent it or gave up, and says
    /// so at the end of its label.
    fn explain_segment(&mut self, message: &mut Message, segment: &Segment, origin: Origin) {
        let key = sequenced_key(message, segment);
        match origin {
            Origin::Resent { fast } => {
                let Some(key) = key else { return };
                let sent = self.first_sent(key, message.index);
                sent.resends += 1;
                let trigger = if fast {
                    RetransmitTrigger::FastRetransmit
                } else {
                    RetransmitTrigger::Timeout
                };
                message.why = SendReason::Retransmission {
                    number: sent.resends,
                    original: sent.original,
                    trigger,
                };
                self.append_resend_note(message);
            }
            Origin::Abort => {
                message.why = SendReason::Abort;
                self.append_resend_note(message);
            }
            Origin::DuplicateAck => {
                message.label.push_str(" (duplicate ACK)");
            }
            Origin::Fresh => {
                if let Some(key) = key {
                    self.first_sent(key, message.index);
                }
            }
        }
    }

    /// Ends a label with the words saying the message was sent again or
    /// aborts its connection.
    fn append_resend_note(&self, message: &mut Message) {
        if let Some(note) = message.why.resend_note() {
            message.label.push(' ');
            message.label.push_str(&note);
        }
    }

    /// Pairs a DNS query sent again after a time-out with its first send,
    /// and says so at the end of its label; notes which query a response
    /// answers, so that the query is forgotten once the answer is in.
    fn explain_query(&mut self, message: &mut Message, dns: &dns::Message, origin: Origin) {
        self.forget_answered_before(message.sent_at);
        let local = (message.src_address, message.src_port);
        let remote = (message.dst_address, message.dst_port);
        if dns.response.is_some() {
            self.response_described = Some((Direction::new(remote, local), dns.id));
            return;
        }
        let index = message.index;
        let sent = self
            .queries
            .entry((Direction::new(local, remote), dns.id))
            .or_insert(Transmissions {
                original: index,
                resends: 0,
            });
        if !matches!(origin, Origin::Resent { .. }) {
            return;
        }
        sent.resends += 1;
        message.why = SendReason::Retransmission {
            number: sent.resends,
            original: sent.original,
            trigger: RetransmitTrigger::Timeout,
        };
        self.append_resend_note(message);
    }

    /// Fills the TCP fields, label and payload of a message.
    fn fill_tcp(&mut self, message: &mut Message, segment: &Segment, state: Option<tcp::State>) {
        let local = (message.src_address, segment.src_port);
        let remote = (message.dst_address, segment.dst_port);
        if segment.control == Control::Syn {
            self.initial_seq
                .insert(Direction::new(local, remote), segment.seq.0);
            if segment.ack.is_none() {
                self.smtp.note_opener(local, remote);
            }
        }
        let own_isn = self.initial_seq_of(local, remote).unwrap_or(segment.seq.0);
        let peer_isn = self.initial_seq_of(remote, local);
        let mut fields = tcp_fields(segment, own_isn, peer_isn);
        message.src_port = segment.src_port;
        message.dst_port = segment.dst_port;
        message.transport = Transport::Tcp;
        message.layer = segment_layer(segment);
        message.payload_len = segment.payload.len();
        self.fill_tcp_text(message, segment, &mut fields, state);
        message.tcp = Some(fields);
    }

    /// Fills what a person reads of a segment: flag names, the sender's
    /// state, the label, the payload text and the SMTP lines.
    fn fill_tcp_text(
        &mut self,
        message: &mut Message,
        segment: &Segment,
        fields: &mut TcpFields,
        state: Option<tcp::State>,
    ) {
        let names = segment.flag_names();
        fields.flags = names.iter().map(|name| name.to_string()).collect();
        fields.sender_state = state.map(|state| state.to_string()).unwrap_or_default();
        message.label = tcp_label(segment, fields);
        if !segment.payload.is_empty() {
            fill_payload(message, &segment.payload);
        }
        if message.layer == Layer::Smtp {
            let (local, remote) = (
                (message.src_address, segment.src_port),
                (message.dst_address, segment.dst_port),
            );
            message.smtp = Some(self.smtp.read(local, remote, &segment.payload));
        }
    }
}

/// Returns the key of a segment that takes sequence space, for matching
/// a resend with its first transmission; pure ACKs and RSTs have none.
fn sequenced_key(message: &Message, segment: &Segment) -> Option<SequencedKey> {
    let kind = sequenced_kind(segment)?;
    let local = (message.src_address, segment.src_port);
    let remote = (message.dst_address, segment.dst_port);
    Some((Direction::new(local, remote), (segment.seq.0, kind)))
}

/// Returns what a segment that takes sequence space carries; pure ACKs
/// and RSTs take none.
fn sequenced_kind(segment: &Segment) -> Option<SequencedKind> {
    match segment.control {
        Control::Syn => Some(SequencedKind::Syn),
        Control::Fin => Some(SequencedKind::Fin),
        Control::None if !segment.payload.is_empty() => Some(SequencedKind::Data),
        Control::None | Control::Rst => None,
    }
}

/// Returns the layer of a segment: bare TCP without payload, else the
/// layer its ports name.
fn segment_layer(segment: &Segment) -> Layer {
    if segment.payload.is_empty() {
        Layer::Tcp
    } else {
        Layer::of_ports(segment.src_port, segment.dst_port)
    }
}

/// Keeps the payload as text, and in hex too when it is not valid UTF-8.
fn fill_payload(message: &mut Message, payload: &[u8]) {
    message.payload = Some(String::from_utf8_lossy(payload).into_owned());
    if std::str::from_utf8(payload).is_err() {
        message.payload_hex = Some(trace::encode_hex(payload));
    }
}

/// Collects the header numbers of a segment, relative ones too; the
/// flag names and the sender's state are filled in with the text.
///
/// A relative acknowledgement needs the peer's SYN to have been seen;
/// before it, the absolute value stands in.
fn tcp_fields(segment: &Segment, own_isn: u32, peer_isn: Option<u32>) -> TcpFields {
    let ack = segment.ack.map(|ack| ack.0);
    TcpFields {
        seq: segment.seq.0,
        ack,
        relative_seq: segment.seq.0.wrapping_sub(own_isn),
        relative_ack: ack.map(|ack| ack.wrapping_sub(peer_isn.unwrap_or(0))),
        flags: Vec::new(),
        window: segment.window,
        mss: segment.mss,
        sender_state: String::new(),
    }
}

/// Writes the arrow text of a segment.
///
/// Control segments read `SYN_ACK [SYN, ACK] 25 -> 49152 seq=0 ack=1`;
/// data segments show their payload with CR and LF written out.
fn tcp_label(segment: &Segment, fields: &TcpFields) -> String {
    let Some(name) = segment.control_name() else {
        return escape_payload(&segment.payload);
    };
    let mut label = format!("{name} [{}]", fields.flags.join(", "));
    if segment.control == Control::Syn {
        label.push_str(&format!(" {} -> {}", segment.src_port, segment.dst_port));
    }
    label.push_str(&format!(" seq={}", fields.relative_seq));
    if let Some(ack) = fields.relative_ack {
        label.push_str(&format!(" ack={ack}"));
    }
    label
}

/// Writes payload bytes as text, CR and LF as `\r` and `\n`, other control
/// bytes as `\xNN`.
pub fn escape_payload(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    let mut escaped = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            '\r' => escaped.push_str("\\r"),
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => escaped.push_str(&format!("\\x{:02X}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Fills the UDP ports, size, payload and label of a datagram of plain
/// bytes.
fn fill_udp(message: &mut Message, ports: (u16, u16), payload: &[u8]) {
    (message.src_port, message.dst_port) = ports;
    message.layer = Layer::Data;
    message.payload_len = payload.len();
    message.label = escape_payload(payload);
    message.payload = Some(String::from_utf8_lossy(payload).into_owned());
}

/// Fills the UDP ports, size, fields and label of a DNS message.
fn fill_dns(message: &mut Message, ports: (u16, u16), dns: &dns::Message) {
    (message.src_port, message.dst_port) = ports;
    message.dns_len = dns.wire_size();
    message.label = dns.summary();
    message.dns = Some(Box::new(dns_fields(dns)));
}

/// Copies the fields of a DNS message into the trace's form.
fn dns_fields(dns: &dns::Message) -> DnsFields {
    let zone_lines = |records: &[dns::Record]| records.iter().map(|r| r.to_string()).collect();
    DnsFields {
        id: dns.id,
        kind: if dns.response.is_some() {
            "response"
        } else {
            "query"
        }
        .to_string(),
        rcode: dns.response.map(|code| code.to_string()),
        authoritative: dns.authoritative,
        recursion_desired: dns.recursion_desired,
        question_name: dns.question.name.to_string(),
        question_type: dns.question.record_type.to_string(),
        answers: zone_lines(&dns.answers),
        authority: zone_lines(&dns.authority),
        additional: zone_lines(&dns.additional),
        records: dns_records(dns),
    }
}

/// Lists the records of all three sections, field by field, in wire order.
fn dns_records(dns: &dns::Message) -> Vec<DnsRecord> {
    let sections = [
        (DnsSection::Answer, &dns.answers),
        (DnsSection::Authority, &dns.authority),
        (DnsSection::Additional, &dns.additional),
    ];
    let mut records = Vec::new();
    for (section, list) in sections {
        records.extend(list.iter().map(|record| DnsRecord {
            section,
            name: record.name.to_string(),
            ttl: record.ttl,
            data: record_data(&record.data),
        }));
    }
    records
}

/// Copies a record's typed data into the trace's form.
fn record_data(data: &dns::RecordData) -> DnsRecordData {
    match data {
        dns::RecordData::A(address) => DnsRecordData::A { address: *address },
        dns::RecordData::Cname(target) => DnsRecordData::Cname {
            target: target.to_string(),
        },
        dns::RecordData::Ptr(target) => DnsRecordData::Ptr {
            target: target.to_string(),
        },
        dns::RecordData::Mx {
            preference,
            exchange,
        } => DnsRecordData::Mx {
            preference: *preference,
            exchange: exchange.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Recorder {
        /// Starts and describes the message of a packet leaving a host.
        fn started_and_described(&mut self, passage: Passage<'_>, outgoing: &Outgoing) -> Message {
            let mut message = self.start(passage, &outgoing.packet);
            self.describe(&mut message, outgoing);
            message
        }
    }

    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
    const CLIENT_PORT: u16 = 50000;

    /// Returns a DNS query from the client (or its response from the
    /// server) with id 7, as it leaves its host.
    fn dns(response: bool, origin: Origin) -> Outgoing {
        let question = dns::Question {
            name: dns::Name::parse("receiver.com").expect("a name"),
            record_type: dns::RecordType::Mx,
        };
        let mut message = dns::Message::query(7, question);
        let (src, dst, src_port, dst_port) = if response {
            message.response = Some(dns::ResponseCode::NoError);
            (SERVER, CLIENT, 53, CLIENT_PORT)
        } else {
            (CLIENT, SERVER, CLIENT_PORT, 53)
        };
        let body = Body::Dns {
            src_port,
            dst_port,
            message: Box::new(message),
        };
        let packet = crate::sim::packet::Packet { src, dst, body };
        Outgoing {
            packet,
            tcp_state: None,
            origin,
        }
    }

    /// Describes and keeps a packet sent at `sent_at` that arrives at
    /// `arrives`; returns why the trace says it was sent.
    fn record(
        recorder: &mut Recorder,
        sent_at: SimTime,
        arrives: SimTime,
        outgoing: &Outgoing,
    ) -> SendReason {
        let passage = Passage {
            from: "a",
            to: "b",
            sent_at,
            reacting_to: None,
        };
        let mut message = recorder.started_and_described(passage, outgoing);
        message.received_at = Some(arrives);
        recorder.keep(&message);
        message.why
    }

    #[test]
    fn answered_query_is_forgotten_once_its_answer_has_arrived() {
        let mut recorder = Recorder::new(Detail::Full);
        let s = SimTime::from_nanos;
        let resent = Origin::Resent { fast: false };
        record(&mut recorder, s(0), s(10), &dns(false, Origin::Fresh));
        record(&mut recorder, s(10), s(30), &dns(true, Origin::Fresh));

        let why = record(&mut recorder, s(30), s(40), &dns(false, resent));
        assert_eq!(
            why,
            SendReason::Retransmission {
                number: 1,
                original: 0,
                trigger: RetransmitTrigger::Timeout,
            },
            "a resend as the answer arrives still pairs with the first send"
        );
        assert_eq!(recorder.queries.len(), 1);

        record(&mut recorder, s(31), s(41), &dns(true, Origin::Fresh));
        assert!(recorder.queries.is_empty());
        assert_eq!(recorder.answered.len(), 1, "the second answer, until 41");
    }

    #[test]
    fn lost_answer_keeps_the_query() {
        let mut recorder = Recorder::new(Detail::Full);
        let s = SimTime::from_nanos;
        record(&mut recorder, s(0), s(10), &dns(false, Origin::Fresh));
        let passage = Passage {
            from: "b",
            to: "a",
            sent_at: s(10),
            reacting_to: None,
        };
        let answer = recorder.started_and_described(passage, &dns(true, Origin::Fresh));
        recorder.keep(&answer);

        record(&mut recorder, s(99), s(109), &dns(true, Origin::Fresh));
        assert_eq!(recorder.queries.len(), 1);
    }

    /// Returns a segment between the client's port 50000 and port 25.
    fn segment(from_client: bool, control: Control, seq: u32, ack: Option<u32>) -> Outgoing {
        let (src, dst, src_port, dst_port) = if from_client {
            (CLIENT, SERVER, CLIENT_PORT, 25)
        } else {
            (SERVER, CLIENT, 25, CLIENT_PORT)
        };
        let segment = Segment {
            src_port,
            dst_port,
            control,
            seq: crate::wire::tcp::SeqNumber(seq),
            ack: ack.map(crate::wire::tcp::SeqNumber),
            push: false,
            window: 1000,
            mss: None,
            payload: Vec::new(),
        };
        let body = Body::Tcp(segment);
        let packet = crate::sim::packet::Packet { src, dst, body };
        Outgoing {
            packet,
            tcp_state: None,
            origin: Origin::Fresh,
        }
    }

    /// Returns the relative (seq, ack) the trace shows for a segment.
    fn relative(recorder: &mut Recorder, outgoing: &Outgoing) -> (u32, Option<u32>) {
        let passage = Passage {
            from: "a",
            to: "b",
            sent_at: SimTime::ZERO,
            reacting_to: None,
        };
        let message = recorder.started_and_described(passage, outgoing);
        recorder.keep(&message);
        let fields = message.tcp.expect("TCP fields");
        (fields.relative_seq, fields.relative_ack)
    }

    #[test]
    fn last_ack_from_time_wait_stays_relative_until_both_ends_closed() {
        let mut recorder = Recorder::new(Detail::Full);
        let client = (CLIENT, CLIENT_PORT);
        let server = (SERVER, 25);
        relative(&mut recorder, &segment(true, Control::Syn, 1000, None));
        relative(
            &mut recorder,
            &segment(false, Control::Syn, 5000, Some(1001)),
        );

        recorder.forget_connection(client, server, Some(tcp::State::TimeWait));
        assert!(recorder.initial_seq.is_empty());
        let last_ack = segment(false, Control::None, 5002, Some(1002));
        assert_eq!(relative(&mut recorder, &last_ack), (2, Some(2)));
        let late = segment(true, Control::Fin, 1001, Some(5002));
        assert_eq!(relative(&mut recorder, &late), (1, Some(2)));

        recorder.forget_connection(server, client, None);
        assert!(!recorder.holds_connections());
        let forgotten = (0, Some(1002));
        assert_eq!(
            relative(&mut recorder, &last_ack),
            forgotten,
            "seq from itself"
        );
    }

    /// Returns the length of a DNS message as the capture's encoder
    /// writes it.
    fn encoded_len(fields: &DnsFields) -> usize {
        let encoded = crate::render::pcap::dns::encode(fields);
        encoded.expect("a recorded DNS message encodes").len()
    }

    #[test]
    fn dns_sizes_of_the_bundled_scenarios_equal_the_encoded_lengths() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut checked = 0;
        for entry in std::fs::read_dir(folder).expect("the scenarios folder") {
            let path = entry.expect("a folder entry").path();
            if path.extension().is_none_or(|ext| ext != "yaml") {
                continue;
            }
            let path = path.to_str().expect("a UTF-8 path");
            let overrides = crate::scenario::Overrides::default();
            let scenario = crate::scenario::load(path, &overrides).expect("a valid scenario");
            let run = crate::sim::run(&scenario).expect("the run ends");
            for message in &run.trace.messages {
                let Some(fields) = &message.dns else { continue };
                assert_eq!(
                    message.dns_len,
                    encoded_len(fields),
                    "{path} #{}",
                    message.index
                );
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} DNS messages");
    }

    /// Returns an answer to `owner A` with `count` A records for owners
    /// `h0.owner`, `h1.owner`, and so on.
    fn many_owners(owner: &str, count: usize) -> dns::Message {
        let question = dns::Question {
            name: dns::Name::parse(owner).expect("a name"),
            record_type: dns::RecordType::A,
        };
        let mut message = dns::Message::query(9, question);
        message.response = Some(dns::ResponseCode::NoError);
        message.answers = (0..count)
            .map(|number| dns::Record {
                name: dns::Name::parse(&format!("h{number}.{owner}")).expect("a name"),
                ttl: 60,
                data: dns::RecordData::A(Ipv4Addr::new(192, 0, 2, 1)),
            })
            .collect();
        message
    }

    #[test]
    fn dns_sizes_past_the_encoders_limits_equal_the_encoded_lengths() {
        let long_owner = format!("{}.example.com", "x".repeat(60));
        let cases = [
            many_owners("example.com", 10),
            many_owners("example.com", 70),
            many_owners("example.com", 130),
            many_owners(&long_owner, 200),
        ];
        for message in cases {
            let count = message.answers.len();
            let fields = dns_fields(&message);
            assert_eq!(message.wire_size(), encoded_len(&fields), "{count} answers");
        }
    }

    #[test]
    fn a_resent_segment_pairs_with_its_first_send_in_any_order() {
        let mut sent = SentSegments::default();
        let data = |seq| (seq, SequencedKind::Data);
        let originals: Vec<usize> = [(300, 0), (100, 1), (300, 2), (200, 3), (100, 4)]
            .into_iter()
            .map(|(seq, index)| sent.first_sent(data(seq), index).original)
            .collect();
        assert_eq!(originals, [0, 1, 0, 3, 1]);
        let order: Vec<u32> = sent.0.iter().map(|((seq, _), _)| *seq).collect();
        assert_eq!(order, [100, 200, 300], "kept sorted for the binary search");
        let fin = sent.first_sent((300, SequencedKind::Fin), 5);
        assert_eq!(
            fin.original, 5,
            "a FIN at a data segment's number is its own"
        );
    }

    /// Returns a segment as [`segment`] does, carrying `payload` and
    /// sent for `origin`.
    fn sent_for(mut outgoing: Outgoing, payload: &[u8], origin: Origin) -> Outgoing {
        if let Body::Tcp(segment) = &mut outgoing.packet.body {
            segment.payload = payload.to_vec();
        }
        outgoing.origin = origin;
        outgoing
    }

    /// Returns the figures of a message of `layer` carrying `octets`
    /// above TCP or UDP, that arrived.
    fn tally(layer: Layer, octets: usize, resent: bool) -> Tally {
        Tally {
            layer,
            octets,
            resent,
            lost: false,
        }
    }

    #[test]
    fn counting_a_packet_gives_the_figures_of_its_full_description() {
        let helo = b"HELO mail.sender.com\r\n";
        let (fresh, resent) = (Origin::Fresh, Origin::Resent { fast: false });
        let syn = segment(true, Control::Syn, 1000, None);
        let syn_ack = segment(false, Control::Syn, 5000, Some(1001));
        let ack = segment(true, Control::None, 1001, Some(5001));
        let data = sent_for(segment(true, Control::None, 1001, Some(5001)), helo, fresh);
        let cases = [
            (syn.clone(), tally(Layer::Tcp, 0, false)),
            (syn_ack, tally(Layer::Tcp, 0, false)),
            (ack.clone(), tally(Layer::Tcp, 0, false)),
            (data.clone(), tally(Layer::Smtp, 22, false)),
            (sent_for(data, helo, resent), tally(Layer::Smtp, 22, true)),
            (sent_for(syn, b"", resent), tally(Layer::Tcp, 0, true)),
            (
                sent_for(ack.clone(), b"", resent),
                tally(Layer::Tcp, 0, false),
            ),
            (
                sent_for(ack, b"", Origin::DuplicateAck),
                tally(Layer::Tcp, 0, false),
            ),
            (
                segment(true, Control::Rst, 1023, None),
                tally(Layer::Tcp, 0, false),
            ),
            // RFC 1035 4.1: a 12-octet header, receiver.com in 14 octets,
            // type and class in 4.
            (dns(false, fresh), tally(Layer::Dns, 30, false)),
            (dns(false, resent), tally(Layer::Dns, 30, true)),
            (dns(true, resent), tally(Layer::Dns, 30, false)),
        ];
        let mut full = Recorder::new(Detail::Full);
        let mut counting = Recorder::new(Detail::Counts);
        for (number, (outgoing, expected)) in cases.iter().enumerate() {
            let passage = Passage {
                from: "a",
                to: "b",
                sent_at: SimTime::ZERO,
                reacting_to: None,
            };
            let described = full.started_and_described(passage, outgoing);
            full.keep(&described);
            assert_eq!(Tally::of(&described), *expected, "case {number} described");
            assert_eq!(counting.count(outgoing), *expected, "case {number} counted");
        }
        assert_eq!(counting.next_index(), cases.len());
        let kept = counting.holds_connections() || !counting.queries.is_empty();
        assert!(!kept, "counting keeps nothing");
    }

    #[test]
    fn crlf_is_written_as_backslash_r_backslash_n() {
        assert_eq!(escape_payload(b"QUIT\r\n"), "QUIT\\r\\n");
        assert_eq!(escape_payload(b"a\x07b"), "a\\x07b");
    }
}
