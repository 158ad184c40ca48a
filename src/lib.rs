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
//! - [`render`]: the text diagram, the Mermaid, PlantUML and mscgen
//!   diagrams, the JSON and JSON Lines trace, and the pcapng capture.
//! - [`provenance`]: the version, scenario hash and seed every output
//!   but the text diagram carries.
//! - [`conformance`]: where a scripted exchange departs from the RFCs.
//! - [`diff`]: aligns two runs message by message.
//! - [`sweep`]: many runs under a range of seeds and values, one row each.
//! - [`cli`]: the command-line front end; [`output`] writes its result.

pub mod cli;
pub mod conformance;
pub mod diff;
pub mod output;
pub mod protocol;
pub mod provenance;
pub mod render;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod wire;
