//! TCP segments as typed values (RFC 9293 §3.1).
//!
//! A segment carries at most one control bit of SYN, FIN and RST, so the
//! type holds one [`Control`] instead of free flags; the acknowledgement
//! number is present exactly when the ACK flag is set. Byte encoding for
//! captures lives elsewhere; this is what the state machines exchange.

use std::fmt;

use serde::Serialize;

/// A 32-bit sequence number, compared modulo 2^32 (RFC 9293 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// Returns the number `count` octets further on, wrapping at 2^32.
    pub fn plus(self, count: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(count))
    }

    /// Returns how many octets `self` lies after `earlier`, modulo 2^32.
    pub fn distance_from(self, earlier: SeqNumber) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Tells whether `self` comes strictly before `other` in sequence space.
    pub fn precedes(self, other: SeqNumber) -> bool {
        (self.0.wrapping_sub(other.0) as i32) < 0
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The one control bit a segment may carry besides ACK and PSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Control {
    /// No control bit: data or a pure acknowledgement.
    None,
    /// Synchronize sequence numbers; consumes one sequence number.
    Syn,
    /// No more data from the sender; consumes one sequence number.
    Fin,
    /// Reset the connection.
    Rst,
}

/// One TCP segment between two ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The sender's port.
    pub src_port: u16,
    /// The receiver's port.
    pub dst_port: u16,
    /// SYN, FIN, RST or none.
    pub control: Control,
    /// The sequence number of the first octet (or of the SYN or FIN).
    pub seq: SeqNumber,
    /// The next sequence number expected from the peer, when ACK is set.
    pub ack: Option<SeqNumber>,
    /// The PSH flag, set on every segment that carries data.
    pub push: bool,
    /// The receive window advertised to the peer.
    pub window: u16,
    /// The maximum segment size option, sent only on SYN segments.
    pub mss: Option<u16>,
    /// The data octets.
    pub payload: Vec<u8>,
}

impl Segment {
    /// Returns the sequence space the segment occupies: data plus SYN or FIN.
    pub fn sequence_len(&self) -> u32 {
        let control = matches!(self.control, Control::Syn | Control::Fin);
        self.payload.len() as u32 + u32::from(control)
    }

    /// Tells whether the segment only acknowledges: ACK set, nothing else.
    pub fn is_pure_ack(&self) -> bool {
        self.control == Control::None && self.ack.is_some() && self.payload.is_empty()
    }

    /// Returns the flag names in the order Wireshark lists them.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        match self.control {
            Control::Fin => names.push("FIN"),
            Control::Syn => names.push("SYN"),
            Control::Rst => names.push("RST"),
            Control::None => {}
        }
        if self.push {
            names.push("PSH");
        }
        if self.ack.is_some() {
            names.push("ACK");
        }
        names
    }

    /// Returns the short name drawn on a control segment's arrow.
    ///
    /// `SYN`, `SYN_ACK`, `FIN`, `RST`, `ACK`, or `None` for a data segment,
    /// whose arrow shows its payload instead.
    pub fn control_name(&self) -> Option<&'static str> {
        match (self.control, self.ack.is_some()) {
            (Control::Syn, false) => Some("SYN"),
            (Control::Syn, true) => Some("SYN_ACK"),
            (Control::Fin, _) => Some("FIN"),
            (Control::Rst, _) => Some("RST"),
            (Control::None, _) if self.payload.is_empty() => Some("ACK"),
            (Control::None, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_across_wrap_around() {
        let near_top = SeqNumber(u32::MAX - 1);
        let wrapped = near_top.plus(5);
        assert_eq!(wrapped, SeqNumber(3));
        assert!(near_top.precedes(wrapped));
        assert!(!wrapped.precedes(near_top));
        assert_eq!(wrapped.distance_from(near_top), 5);
    }

    #[test]
    fn syn_and_fin_occupy_one_sequence_number() {
        let mut segment = Segment {
            src_port: 1,
            dst_port: 2,
            control: Control::Syn,
            seq: SeqNumber(0),
            ack: None,
            push: false,
            window: 0,
            mss: None,
            payload: Vec::new(),
        };
        assert_eq!(segment.sequence_len(), 1);
        segment.control = Control::Fin;
        segment.payload = b"abc".to_vec();
        assert_eq!(segment.sequence_len(), 4);
    }
}
