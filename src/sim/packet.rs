//! A packet between two hosts: IPv4 addresses around a TCP segment, a
//! UDP datagram carrying a DNS message, or a UDP datagram of bytes.

use std::net::Ipv4Addr;

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
        /// The message.
        message: dns::Message,
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
    pub tcp_state: Option<String>,
}
