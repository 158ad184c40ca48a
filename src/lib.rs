//! seqsim: a deterministic discrete-event network simulator that replays
//! protocol scenarios and draws them as sequence diagrams.
//!
//! Where to start reading:
//!
//! - [`scenario`]: the YAML format, loading and validation.
//! - [`sim`]: the engine (virtual clock, event queue, topology, random
//!   streams) and the hosts it runs.
//! - [`protocol`]: sans-IO state machines for TCP, DNS and SMTP.
//! - [`wire`]: segments and messages as typed values.
//! - [`trace`]: what a run produced; the only input of the renderers.
//! - [`render`]: the text diagram and the JSON trace.
//! - [`conformance`]: where a scripted exchange departs from the RFCs.
//! - [`diff`]: aligns two runs message by message.
//! - [`cli`]: the command-line front end.

pub mod cli;
pub mod conformance;
pub mod diff;
pub mod protocol;
pub mod render;
pub mod scenario;
pub mod sim;
pub mod time;
pub mod trace;
pub mod wire;
