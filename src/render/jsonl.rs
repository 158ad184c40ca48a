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
//!
//! [`render`] writes a whole trace; [`Stream`] writes the same lines while
//! the run goes on, as the [`Sink`] of the run, holding back only the
//! deliveries and outcomes of the current instant. It attaches no remarks,
//! which are matched against a whole run.

use std::io::Write;

use serde::Serialize;

use crate::provenance::Provenance;
use crate::sim::sink::Sink;
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

/// Writes JSON Lines as a run hands over its records.
pub struct Stream<W: Write> {
    out: W,
    deliveries: Vec<Delivery>,
    outcomes: Vec<MailOutcome>,
    error: Option<std::io::Error>,
}

impl<W: Write> Stream<W> {
    /// Starts the file: the header line and one line per participant.
    pub fn new(
        out: W,
        title: &str,
        participants: &[Participant],
        provenance: &Provenance,
    ) -> Stream<W> {
        let mut stream = Stream {
            out,
            deliveries: Vec::new(),
            outcomes: Vec::new(),
            error: None,
        };
        stream.write(&Line::Header(Header {
            format: FORMAT_NAME,
            version: FORMAT_VERSION,
            provenance,
            title,
        }));
        participants
            .iter()
            .for_each(|p| stream.write(&Line::Participant(p)));
        stream
    }

    /// Writes what is held back and returns the writer, or the first
    /// error writing met.
    pub fn finish(mut self) -> Result<W, std::io::Error> {
        self.release_before(None);
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.out),
        }
    }

    /// Writes the deliveries and outcomes held back from instants before
    /// `now` (all of them when `now` is `None`), in time order, the
    /// deliveries of an instant before its outcomes.
    fn release_before(&mut self, now: Option<SimTime>) {
        let due = |at: SimTime| now.is_none_or(|now| at < now);
        let deliveries_due = self.deliveries.partition_point(|d| due(d.at));
        let outcomes_due = self.outcomes.partition_point(|o| due(o.at));
        if deliveries_due == 0 && outcomes_due == 0 {
            return;
        }
        let deliveries: Vec<Delivery> = self.deliveries.drain(..deliveries_due).collect();
        let outcomes: Vec<MailOutcome> = self.outcomes.drain(..outcomes_due).collect();
        let mut lines: Vec<((SimTime, u8), Line<'_>)> = deliveries
            .iter()
            .map(|d| ((d.at, 1), Line::Delivery(d)))
            .chain(outcomes.iter().map(|o| ((o.at, 2), Line::Outcome(o))))
            .collect();
        lines.sort_by_key(|(order, _)| *order);
        for (_, line) in &lines {
            self.write(line);
        }
    }

    /// Writes one line, unless writing already failed.
    fn write(&mut self, line: &Line<'_>) {
        if self.error.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(error) = written {
            self.error = Some(error);
        }
    }
}

impl<W: Write> Sink for Stream<W> {
    fn message(&mut self, message: &Message) {
        self.release_before(Some(message.sent_at));
        self.write(&Line::Message(message));
    }

    fn lifeline_event(&mut self, event: LifelineEvent) {
        self.release_before(Some(event.at));
        self.write(&Line::Event(&event));
    }

    fn delivery(&mut self, delivery: Delivery) {
        self.deliveries.push(delivery);
    }

    fn outcome(&mut self, outcome: MailOutcome) {
        self.outcomes.push(outcome);
    }
}
