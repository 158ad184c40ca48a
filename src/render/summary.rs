//! The run in figures: messages by kind, payload octets, retransmissions,
//! mails delivered and failed, delivery time percentiles and events
//! processed, for runs too long to read message by message.
//!
//! A [`Summary`] is filled one record at a time: it is the [`Sink`] of a
//! run, so it keeps figures and never the trace, or it is built from a
//! finished [`Trace`]. It keeps one delivery time per recipient delivered
//! (8 octets each) for the percentiles.
//!
//! Delivery time is measured per recipient, from the sending client's
//! start to the instant it learned the server accepted the mail, in
//! virtual time. Percentiles are nearest-rank: p90 of n times is the
//! ⌈0.9 n⌉-th smallest.

use crate::provenance::{Provenance, escaped_controls};
use crate::render::text;
use crate::sim::sink::{Detail, Sink, Tally};
use crate::time::{SimDuration, SimTime};
use crate::trace::{Delivery, Layer, LifelineEvent, MailOutcome, Message, Trace};

/// The layers in the order the summary lists them.
const LAYERS: [(Layer, &str); 5] = [
    (Layer::Dns, "dns"),
    (Layer::Tcp, "tcp"),
    (Layer::Smtp, "smtp"),
    (Layer::Http, "http"),
    (Layer::Data, "data"),
];

/// The figures of one run, gathered record by record.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    by_layer: [LayerCount; LAYERS.len()],
    lost: u64,
    retransmissions: u64,
    delivered: u64,
    failed: u64,
    delivery_times: Vec<SimDuration>,
    events: u64,
}

/// Messages and payload octets of one layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerCount {
    /// Messages of the layer.
    pub messages: u64,
    /// Application payload octets they carried.
    pub octets: u64,
}

impl Summary {
    /// Starts an empty summary.
    pub fn new() -> Summary {
        Summary::default()
    }

    /// Builds the summary of a finished trace.
    pub fn of_trace(trace: &Trace, events: u64) -> Summary {
        let mut summary = Summary::new();
        trace.messages.iter().for_each(|m| summary.add_message(m));
        trace.outcomes.iter().for_each(|o| summary.add_outcome(o));
        summary.set_events(events);
        summary
    }

    /// Counts one message put on the network.
    pub fn add_message(&mut self, message: &Message) {
        self.add_tally(Tally::of(message));
    }

    /// Counts one message put on the network, by its figures.
    pub fn add_tally(&mut self, tally: Tally) {
        let count = &mut self.by_layer[slot_of(tally.layer)];
        count.messages += 1;
        count.octets += tally.octets as u64;
        self.lost += u64::from(tally.lost);
        self.retransmissions += u64::from(tally.resent);
    }

    /// Counts what a client concluded about one recipient.
    pub fn add_outcome(&mut self, outcome: &MailOutcome) {
        if outcome.status != "delivered" {
            self.failed += 1;
            return;
        }
        self.delivered += 1;
        let time = outcome.at.since(outcome.client_started);
        self.delivery_times.push(time);
    }

    /// Records how many events the engine processed.
    pub fn set_events(&mut self, events: u64) {
        self.events = events;
    }

    /// Returns the messages and octets of one layer.
    pub fn layer(&self, layer: Layer) -> LayerCount {
        self.by_layer[slot_of(layer)]
    }

    /// Returns the number of messages of every layer together.
    pub fn messages(&self) -> u64 {
        self.by_layer.iter().map(|count| count.messages).sum()
    }

    /// Returns the payload octets of every layer together.
    pub fn octets(&self) -> u64 {
        self.by_layer.iter().map(|count| count.octets).sum()
    }

    /// Returns the messages that never arrived.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Returns the messages that were resends of earlier ones.
    pub fn retransmissions(&self) -> u64 {
        self.retransmissions
    }

    /// Returns the recipients the mail reached.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Returns the recipients the mail did not reach.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Returns the events the engine processed.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Returns the nearest-rank `percent`-th percentile of the delivery
    /// times, or `None` when nothing was delivered.
    pub fn delivery_percentile(&self, percent: u64) -> Option<SimDuration> {
        let mut times = self.delivery_times.clone();
        times.sort_unstable();
        nearest_rank(&times, percent)
    }
}

/// A summary is filled as the run goes, keeping figures, not records.
impl Sink for Summary {
    fn detail(&self) -> Detail {
        Detail::Counts
    }

    fn message(&mut self, message: &Message) {
        self.add_message(message);
    }

    fn tally(&mut self, tally: Tally) {
        self.add_tally(tally);
    }

    fn lifeline_event(&mut self, _event: LifelineEvent) {}

    fn delivery(&mut self, _delivery: Delivery) {}

    fn outcome(&mut self, outcome: MailOutcome) {
        self.add_outcome(&outcome);
    }
}

/// Returns where a layer stands in [`LAYERS`].
fn slot_of(layer: Layer) -> usize {
    match layer {
        Layer::Dns => 0,
        Layer::Tcp => 1,
        Layer::Smtp => 2,
        Layer::Http => 3,
        Layer::Data => 4,
    }
}

/// Returns the ⌈percent/100 · n⌉-th smallest of sorted `times` (the
/// first for percent 0).
fn nearest_rank(times: &[SimDuration], percent: u64) -> Option<SimDuration> {
    let n = times.len() as u64;
    let rank = (percent * n).div_ceil(100).max(1);
    times.get(usize::try_from(rank - 1).ok()?).copied()
}

/// Renders the summary as lines of text. The title's control characters
/// are shown as U+FFFD, as in the text diagram, and the file name's and
/// `--set` values' as escapes, as in the provenance comments, so none
/// reaches a terminal raw.
pub fn render(summary: &Summary, title: &str, provenance: &Provenance) -> String {
    let title = text::printable_title(title);
    let mut out = format!("{title}\n");
    out.push_str(&format!(
        "scenario {} (sha256 {}), seed {}\n",
        escaped_controls(&provenance.scenario_file),
        provenance.scenario_sha256,
        provenance.seed
    ));
    for setting in &provenance.sets {
        out.push_str(&format!("--set {}\n", escaped_controls(setting)));
    }
    out.push_str(&format!("events processed  {}\n", summary.events));
    out.push_str(&message_lines(summary));
    out.push_str(&mail_lines(summary));
    out
}

/// Writes the message counts, by layer, with their payload octets.
fn message_lines(summary: &Summary) -> String {
    let mut out = format!(
        "messages          {} ({} payload octets), {} lost, {} retransmissions\n",
        summary.messages(),
        summary.octets(),
        summary.lost,
        summary.retransmissions
    );
    for ((_, name), count) in LAYERS.iter().zip(&summary.by_layer) {
        if count.messages > 0 {
            out.push_str(&format!(
                "  {name:<16}{} ({} payload octets)\n",
                count.messages, count.octets
            ));
        }
    }
    out
}

/// Writes the mail outcomes and the delivery time percentiles.
fn mail_lines(summary: &Summary) -> String {
    let mut out = format!(
        "recipients        {} delivered, {} failed\n",
        summary.delivered, summary.failed
    );
    let figures: Vec<String> = [("p50", 50), ("p90", 90), ("p99", 99), ("max", 100)]
        .iter()
        .filter_map(|(name, percent)| {
            let time = summary.delivery_percentile(*percent)?;
            Some(format!("{name} {}", SimTime::ZERO + time))
        })
        .collect();
    if !figures.is_empty() {
        out.push_str(&format!("delivery time     {} s\n", figures.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(list: &[u64]) -> Vec<SimDuration> {
        list.iter().map(|&m| SimDuration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_takes_the_ceiling_of_the_rank() {
        let times = millis(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert_eq!(nearest_rank(&times, 50), Some(SimDuration::from_millis(50)));
        assert_eq!(nearest_rank(&times, 90), Some(SimDuration::from_millis(90)));
        assert_eq!(
            nearest_rank(&times, 99),
            Some(SimDuration::from_millis(100))
        );
        assert_eq!(
            nearest_rank(&times, 100),
            Some(SimDuration::from_millis(100))
        );
        assert_eq!(nearest_rank(&times, 0), Some(SimDuration::from_millis(10)));
    }

    #[test]
    fn nearest_rank_of_three_times() {
        let times = millis(&[1, 2, 3]);
        assert_eq!(nearest_rank(&times, 50), Some(SimDuration::from_millis(2)));
        assert_eq!(nearest_rank(&times, 34), Some(SimDuration::from_millis(2)));
        assert_eq!(nearest_rank(&times, 33), Some(SimDuration::from_millis(1)));
    }

    #[test]
    fn every_layer_has_its_own_slot() {
        for (slot, (layer, _)) in LAYERS.iter().enumerate() {
            assert_eq!(slot_of(*layer), slot, "{layer:?}");
        }
    }

    #[test]
    fn no_delivery_has_no_percentile() {
        assert_eq!(nearest_rank(&[], 50), None);
    }
}
