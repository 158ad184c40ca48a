//! Protocol state machines, sans-IO: each takes the current virtual time
//! and an input, and hands back what to send and when to wake it. None of
//! them reads a clock or touches a socket.

pub mod dns;
pub mod host_api;
pub mod smtp;
pub mod tcp;
