//! Builds one Ethernet frame per trace message: Ethernet II, IPv4, then
//! TCP or UDP, with lengths and checksums computed by `etherparse`.
//!
//! Hosts have no MAC address in the simulation, so each gets a locally
//! administered one made of `02:00` and its four IPv4 octets
//! (192.0.2.10 is `02:00:c0:00:02:0a`). IPv4 headers carry TTL 64, no
//! options, and an identification counted per sending address from 1;
//! TCP segments have Don't Fragment set, as stacks that discover the path
//! MTU send them (RFC 1191), and UDP datagrams do not. Frames are not
//! padded to Ethernet's 60-octet minimum, as a capture taken on the
//! sending host shows them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use etherparse::err::packet::BuildVecWriteError;
use etherparse::{IpHeaders, Ipv4Header, PacketBuilder, TcpHeader, TcpOptionElement};

use crate::trace::{Message, TcpFields, Transport};

/// The time to live of every packet.
const TTL: u8 = 64;

/// Why a frame could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The TCP options did not fit the header.
    #[error("the TCP options do not fit: {0}")]
    Options(#[from] etherparse::TcpOptionWriteError),
    /// The headers and payload could not be written.
    #[error("{0}")]
    Build(#[from] BuildVecWriteError),
}

/// Hands out IPv4 identification numbers, counting per sender.
#[derive(Debug, Default)]
pub struct IpIds {
    next: BTreeMap<Ipv4Addr, u16>,
}

impl IpIds {
    /// Returns the next identification for a packet from `source`.
    pub fn next_for(&mut self, source: Ipv4Addr) -> u16 {
        let next = self.next.entry(source).or_insert(1);
        let id = *next;
        *next = next.wrapping_add(1);
        id
    }
}

/// Returns the MAC address seqsim gives the host at `address`.
pub fn mac_of(address: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = address.octets();
    [0x02, 0x00, a, b, c, d]
}

/// Builds the Ethernet frame of one message.
pub fn build(message: &Message, payload: &[u8], ip_id: u16) -> Result<Vec<u8>, FrameError> {
    let is_tcp = message.transport == Transport::Tcp;
    let ip = Ipv4Header {
        identification: ip_id,
        dont_fragment: is_tcp,
        time_to_live: TTL,
        source: message.src_address.octets(),
        destination: message.dst_address.octets(),
        ..Default::default()
    };
    let builder =
        PacketBuilder::ethernet2(mac_of(message.src_address), mac_of(message.dst_address))
            .ip(IpHeaders::Ipv4(ip, Default::default()));
    let mut frame = Vec::with_capacity(64 + payload.len());
    match &message.tcp {
        Some(fields) if is_tcp => {
            let header = tcp_header(message, fields)?;
            builder
                .tcp_header(header)
                .write_to_vec(&mut frame, payload)?;
        }
        _ => builder
            .udp(message.src_port, message.dst_port)
            .write_to_vec(&mut frame, payload)?,
    }
    Ok(frame)
}

/// Fills a TCP header from the trace's fields (RFC 9293 §3.1).
fn tcp_header(message: &Message, fields: &TcpFields) -> Result<TcpHeader, FrameError> {
    let mut header = TcpHeader::new(
        message.src_port,
        message.dst_port,
        fields.seq,
        fields.window,
    );
    let has = |flag: &str| fields.flags.iter().any(|name| name == flag);
    header.syn = has("SYN");
    header.fin = has("FIN");
    header.rst = has("RST");
    header.psh = has("PSH");
    if let Some(ack) = fields.ack {
        header.ack = true;
        header.acknowledgment_number = ack;
    }
    if let Some(mss) = fields.mss {
        header.set_options(&[TcpOptionElement::MaximumSegmentSize(mss)])?;
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_are_locally_administered_and_carry_the_ipv4_address() {
        let mac = mac_of(Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(mac, [0x02, 0x00, 192, 0, 2, 10]);
        assert_eq!(
            mac[0] & 0b11,
            0b10,
            "the local bit set, the group bit clear"
        );
    }

    #[test]
    fn ip_ids_count_per_sender_from_one() {
        let mut ids = IpIds::default();
        let a = Ipv4Addr::new(192, 0, 2, 1);
        let b = Ipv4Addr::new(192, 0, 2, 2);
        assert_eq!(
            [ids.next_for(a), ids.next_for(a), ids.next_for(b)],
            [1, 2, 1]
        );
    }
}
