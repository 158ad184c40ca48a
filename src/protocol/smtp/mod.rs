//! SMTP (RFC 5321): the client that sends mail and the server that takes
//! it, both as sans-IO reactions to host notices.
//!
//! The client resolves the recipient domain's MX, tries the exchangers in
//! preference order on port 25, optionally verifies each recipient with
//! VRFY, and sends one transaction per domain (more after a 452), retrying
//! temporary failures later. The server greets, checks the HELO name
//! against a PTR look-up, answers VRFY from its mailbox list and stores
//! accepted mail, or gives the replies a scenario imposes. Each line is
//! written with one send, so each becomes one segment.
//!
//! Not modelled: EHLO extensions (PIPELINING, SIZE, 8BITMIME, STARTTLS,
//! AUTH), multi-line replies, mail to several domains at once, bounce
//! messages (a failure is only recorded in the trace).

mod client;
mod server;

pub use client::{Client, Mail, ReplyTimeouts, RetryPolicy};
pub use server::{ImposedReply, ReplyPoint, Server, ServerConfig};

/// The well-known SMTP port (assigned by IANA for SMTP).
pub const PORT: u16 = 25;
