//! A packet between two hosts: IPv4 addresses around a TCP segment, a
//! UDP datagram carrying a DNS message, or a UDP datagram of bytes.

use std::net::Ipv4Addr;

use crate::protocol::tcp::SendReason;
use crate::wire::{dns, tcp};

/// One IPv4 packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The sender's address.
    pub src: Ipv4Addr,
    /// The receiver's address.
    pub dst: Ipv4Addr,
    /// What it carries.
    pub body: Body,
}

impl Packet {
    /// Returns its size as an IPv4 packet, as the capture writes it: the
    /// IPv4 header, the TCP header with its MSS option or the UDP
    /// header, and the payload (a DNS message in wire format).
    pub fn ipv4_size(&self) -> usize {
        const IPV4_HEADER: usize = 20;
        const TCP_HEADER: usize = 20;
        const MSS_OPTION: usize = 4;
        const UDP_HEADER: usize = 8;
        let transport = match &self.body {
            Body::Tcp(segment) => {
                let options = segment.mss.map_or(0, |_| MSS_OPTION);
                TCP_HEADER + options + segment.payload.len()
            }
            Body::Dns { message, .. } => UDP_HEADER + message.wire_size(),
            Body::Udp { payload, .. } => UDP_HEADER + payload.len(),
        };
        IPV4_HEADER + transport
    }
}

/// The transport payload of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A TCP segment.
    Tcp(tcp::Segment),
    /// A UDP datagram carrying a DNS message.
    Dns {
        /// The sender's port.
        src_port: u16,
        /// The receiver's port.
        dst_port: u16,
        /// The message, boxed: few packets are DNS, and a small packet
        /// keeps every event in the queue small.
        message: Box<dns::Message>,
    },
    /// A UDP datagram carrying bytes seqsim does not interpret.
    Udp {
        /// The sender's port.
        src_port: u16,
        /// The receiver's port.
        dst_port: u16,
        /// The bytes.
        payload: Vec<u8>,
    },
}

/// A packet leaving a host, with what the trace should know about it.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The packet.
    pub packet: Packet,
    /// The RFC 9293 state of the sending connection, for TCP.
    pub tcp_state: Option<crate::protocol::tcp::State>,
    /// Why the host sent it, as far as the host can tell.
    pub origin: Origin,
}

/// Why a host put a packet on the network.
///
/// The host knows whether TCP sent something again; whether a fresh
/// packet answers the message that just arrived is the engine's to say,
/// since it knows which message that was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Sent for the first time: a request, data, a reply, an ACK.
    Fresh,
    /// A pure ACK that repeats the last one, because the segment that
    /// arrived brought nothing new in order.
    DuplicateAck,
    /// An unacknowledged SYN, data segment or FIN sent again.
    Resent {
        /// Whether the third duplicate ACK sent it (else the timer did).
        fast: bool,
    },
    /// The RST a connection sends when it gives up.
    Abort,
}

impl Origin {
    /// Reads the reason a TCP connection gave for a segment.
    pub fn of_segment(reason: SendReason) -> Origin {
        match reason {
            SendReason::Retransmission { .. } => Origin::Resent { fast: false },
            SendReason::FastRetransmission => Origin::Resent { fast: true },
            SendReason::DuplicateAck => Origin::DuplicateAck,
            SendReason::Abort => Origin::Abort,
            SendReason::First | SendReason::Ack | SendReason::Reset => Origin::Fresh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);

    /// Returns a packet from A to B carrying `body`.
    fn packet(body: Body) -> Packet {
        Packet {
            src: A,
            dst: B,
            body,
        }
    }

    /// Returns a segment from port 50000 to 25 with an MSS option or
    /// not: a SYN when it carries no payload.
    fn segment(mss: Option<u16>, payload: &[u8]) -> Body {
        let control = if payload.is_empty() {
            tcp::Control::Syn
        } else {
            tcp::Control::None
        };
        Body::Tcp(tcp::Segment {
            src_port: 50000,
            dst_port: 25,
            control,
            seq: tcp::SeqNumber(1),
            ack: None,
            push: false,
            window: 1000,
            mss,
            payload: payload.to_vec(),
        })
    }

    #[test]
    fn a_syn_with_mss_is_44_octets_and_data_adds_its_payload() {
        // RFC 791 header 20, RFC 9293 header 20, MSS option 4 (3.2).
        assert_eq!(packet(segment(Some(1460), b"")).ipv4_size(), 44);
        assert_eq!(packet(segment(None, b"QUIT\r\n")).ipv4_size(), 46);
    }

    #[test]
    fn a_dns_query_counts_its_wire_format_behind_the_udp_header() {
        let question = dns::Question {
            name: dns::Name::parse("receiver.com").expect("a name"),
            record_type: dns::RecordType::Mx,
        };
        let body = Body::Dns {
            src_port: 50000,
            dst_port: 53,
            message: Box::new(dns::Message::query(7, question)),
        };
        // 20 + 8 + 12 (header) + 14 (receiver.com) + 4 (type, class).
        assert_eq!(packet(body).ipv4_size(), 58);
        let bytes = Body::Udp {
            src_port: 1,
            dst_port: 2,
            payload: vec![0; 5],
        };
        assert_eq!(packet(bytes).ipv4_size(), 33);
    }
}
