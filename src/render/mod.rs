//! Renderers: each is a pure function of a [`Trace`](crate::trace::Trace),
//! its options and the run's [`Provenance`](crate::provenance::Provenance).
//!
//! - [`text`]: the text sequence diagram for a terminal or a board.
//! - [`mermaid`], [`plantuml`], [`msc`]: the same diagram as source for
//!   the tools of those names; [`diagram`] holds what they share.
//! - [`json`], [`jsonl`]: the whole trace for programs.
//! - [`pcap`]: the packets as Wireshark expects them.
//! - [`summary`]: the run in figures, for long runs.

pub mod diagram;
pub mod json;
pub mod jsonl;
pub mod mermaid;
pub mod msc;
pub mod pcap;
pub mod plantuml;
pub mod summary;
pub mod text;
