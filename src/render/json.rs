//! The trace as one pretty-printed JSON document.
//!
//! Every field of the trace is written: times in integer nanoseconds
//! (with the printed seconds beside them), endpoints, ports, TCP numbers,
//! flags and lengths, DNS records, SMTP lines, payload text and remarks.
//! The first keys name the format and its version so readers can check
//! them; then comes the provenance (seqsim version, scenario file and
//! hash, seed).

use serde::Serialize;

use crate::provenance::Provenance;
use crate::trace::Trace;

/// The name of this JSON format.
pub const FORMAT_NAME: &str = "seqsim-trace";

/// The version of this JSON format; raised on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// The document written: a format header, the provenance, then the
/// trace's fields.
#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    version: u32,
    provenance: &'a Provenance,
    #[serde(flatten)]
    trace: &'a Trace,
}

/// Renders the trace as JSON ending in a newline.
pub fn render(trace: &Trace, provenance: &Provenance) -> String {
    let document = Document {
        format: FORMAT_NAME,
        version: FORMAT_VERSION,
        provenance,
        trace,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("a trace always serializes");
    text.push('\n');
    text
}
