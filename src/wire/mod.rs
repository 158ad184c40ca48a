//! What travels on the network, as typed values: TCP segments, DNS
//! messages, SMTP commands and replies.

pub mod dns;
pub mod smtp;
pub mod tcp;
