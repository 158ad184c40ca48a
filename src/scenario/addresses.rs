//! Which IPv4 addresses can be a host's own, for participants and the
//! copies of a population.
//!
//! A host's address must be one a single host can send from and be
//! reached at. Refused: 0.0.0.0/8 ("this host", only a source while a
//! host learns its address) and 127.0.0.0/8 (loopback, never outside a
//! host), both RFC 1122 §3.2.1.3; 224.0.0.0/4 (multicast groups) and
//! 240.0.0.0/4 (reserved), RFC 1112 §4; 255.255.255.255 (the limited
//! broadcast, RFC 919 and RFC 1122 §3.2.1.3).
//!
//! Not refused: addresses ending in .0 or .255. A scenario has no subnet
//! masks, so nothing says they are a network's or a broadcast address.

use std::net::Ipv4Addr;

/// A block of addresses no host may have, and why.
struct Block {
    first: u32,
    last: u32,
    why: &'static str,
}

/// The blocks, in address order; they do not overlap.
const BLOCKS: [Block; 5] = [
    Block {
        first: 0x0000_0000,
        last: 0x00ff_ffff,
        why: "in 0.0.0.0/8, which means \"this host\" and may only be a source \
              address while a host learns its own (RFC 1122 §3.2.1.3)",
    },
    Block {
        first: 0x7f00_0000,
        last: 0x7fff_ffff,
        why: "a loopback address (127.0.0.0/8), which must not appear outside \
              a host (RFC 1122 §3.2.1.3)",
    },
    Block {
        first: 0xe000_0000,
        last: 0xefff_ffff,
        why: "a multicast address (224.0.0.0/4), which names a group of hosts, \
              not one (RFC 1112 §4)",
    },
    Block {
        first: 0xf000_0000,
        last: 0xffff_fffe,
        why: "in 240.0.0.0/4, reserved for future use (RFC 1112 §4)",
    },
    Block {
        first: 0xffff_ffff,
        last: 0xffff_ffff,
        why: "the limited broadcast address, which reaches every host on the \
              link and is never a host's own (RFC 919, RFC 1122 §3.2.1.3)",
    },
];

/// Returns why `address` cannot be a host's, or `None` when it can.
pub fn unusable(address: Ipv4Addr) -> Option<&'static str> {
    first_unusable(address, 1).map(|(_, why)| why)
}

/// Returns the first of the `count` addresses from `first` on that no
/// host may have, and why; addresses past 255.255.255.255 are not
/// looked at.
pub fn first_unusable(first: Ipv4Addr, count: u64) -> Option<(Ipv4Addr, &'static str)> {
    let start = u32::from(first);
    let end = u64::from(start) + count.saturating_sub(1);
    BLOCKS
        .iter()
        .find(|block| u64::from(block.first) <= end && start <= block.last)
        .map(|block| (Ipv4Addr::from(start.max(block.first)), block.why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_rfc_1122_and_rfc_1112_set_apart_are_unusable() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.255",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.0",
            "255.255.255.254",
            "255.255.255.255",
        ] {
            assert!(unusable(refused.parse().unwrap()).is_some(), "{refused}");
        }
        for usable in [
            "1.0.0.0",
            "10.0.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "192.0.2.255",
            "223.255.255.255",
        ] {
            assert_eq!(unusable(usable.parse().unwrap()), None, "{usable}");
        }
    }

    #[test]
    fn a_range_is_refused_at_its_first_unusable_address() {
        let first = Ipv4Addr::new(126, 255, 255, 250);
        // .250 to .255 are six addresses; the seventh is 127.0.0.0.
        assert_eq!(first_unusable(first, 6), None);
        assert_eq!(
            first_unusable(first, 7).map(|(address, _)| address),
            Some(Ipv4Addr::new(127, 0, 0, 0))
        );
        let last_unicast = Ipv4Addr::new(223, 255, 255, 255);
        assert_eq!(
            first_unusable(last_unicast, 1_000_000).map(|(address, _)| address),
            Some(Ipv4Addr::new(224, 0, 0, 0))
        );
    }
}
