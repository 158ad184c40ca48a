//! The trace as JSON Lines: one JSON object per line, for tools that read
//! a run line by line.
//!
//! Every line has a `type`. The first line is the `header`: the format's
//! name and version, the provenance (seqsim version, scenario file and
//! SHA-256 hash, seed) and the title. Then one `participant` line per
//! host in column order, then the events in time order: each `message`
//! (at its send time), each `event` on a lifeline (a timer that fired, a
//! host going down), each `delivery` of a mail into a mailbox and each
//! `outcome` a sending client concluded. At the same instant, messages
//! and lifeline events come first (an event just before the message it
//! set off), then deliveries, then outcomes, each in the order they
//! happened. The fields of each line are those of the JSON trace.

use serde::Serialize;

use crate::provenance::Provenance;
use crate::time::SimTime;
use crate::trace::{Delivery, LifelineEvent, MailOutcome, Message, Participant, Trace};

/// The name of this format, on the header line.
pub const FORMAT_NAME: &str = "seqsim-trace-jsonl";

/// The version of this format; raised on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// The first line: what the file is and where it came from.
#[derive(Serialize)]
struct Header<'a> {
    format: &'static str,
    version: u32,
    #[serde(flatten)]
    provenance: &'a Provenance,
    title: &'a str,
}

/// One line of the file.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line<'a> {
    Header(Header<'a>),
    Participant(&'a Participant),
    Message(&'a Message),
    Delivery(&'a Delivery),
    Outcome(&'a MailOutcome),
    Event(&'a LifelineEvent),
}

/// Renders the trace as JSON Lines, each line ending in a newline.
pub fn render(trace: &Trace, provenance: &Provenance) -> String {
    let header = Header {
        format: FORMAT_NAME,
        version: FORMAT_VERSION,
        provenance,
        title: &trace.title,
    };
    let mut lines = vec![Line::Header(header)];
    lines.extend(trace.participants.iter().map(Line::Participant));
    lines.extend(events_in_time_order(trace));
    let mut out = String::new();
    for line in &lines {
        out.push_str(&serde_json::to_string(line).expect("a trace always serializes"));
        out.push('\n');
    }
    out
}

/// Merges messages, lifeline events, deliveries and outcomes into one
/// list ordered by time.
///
/// At the same instant, messages and lifeline events come first, each
/// event just before the message it precedes; then deliveries, then
/// outcomes.
fn events_in_time_order(trace: &Trace) -> Vec<Line<'_>> {
    let messages = trace
        .messages
        .iter()
        .map(|m| ((m.sent_at, 0, 2 * m.index + 1), Line::Message(m)));
    let marks = trace
        .events
        .iter()
        .map(|e| ((e.at, 0, 2 * e.before), Line::Event(e)));
    let deliveries = trace
        .deliveries
        .iter()
        .map(|d| ((d.at, 1, 0), Line::Delivery(d)));
    let outcomes = trace
        .outcomes
        .iter()
        .map(|o| ((o.at, 2, 0), Line::Outcome(o)));
    let mut events: Vec<((SimTime, u8, usize), Line<'_>)> = messages
        .chain(marks)
        .chain(deliveries)
        .chain(outcomes)
        .collect();
    events.sort_by_key(|(order, _)| *order);
    events.into_iter().map(|(_, line)| line).collect()
}
