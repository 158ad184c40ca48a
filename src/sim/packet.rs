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
