//! Where a run's records go as they are made: each message put on the
//! network, each lifeline event, each mail stored and each outcome a
//! client concluded, handed over once and in the order they happened.
//!
//! [`TraceSink`] keeps them all to build a whole [`Trace`]; an output
//! that needs no whole trace (figures, a line per record) takes them one
//! at a time and keeps only what it needs, so its memory does not grow
//! with the length of the run. A sink that only counts says so
//! ([`Detail::Counts`]), and gets each message as a [`Tally`] of the
//! figures a summary reads, never built as a message.

use crate::trace::{Delivery, Layer, LifelineEvent, MailOutcome, Message, SendReason};

/// How much of each message a sink reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// Everything a trace shows: labels, flag names, payload text, SMTP
    /// lines, participant ids and time texts.
    #[default]
    Full,
    /// Only what counting needs: each message is handed over as a
    /// [`Tally`] (its layer, payload octets, whether it was sent again
    /// and whether it was lost), and no message is built. Lifeline
    /// events, mails stored and outcomes carry no participant id and no
    /// time text. The protocol models run the same either way.
    ///
    /// When fault rules match messages by their text, messages are built
    /// in full all the same, and a counting sink reads them through
    /// [`Sink::message`].
    Counts,
}

/// Takes a run's records one by one.
pub trait Sink {
    /// Says how much of each message it reads; all of it unless it says
    /// otherwise.
    fn detail(&self) -> Detail {
        Detail::Full
    }
    /// Reads a message just put on the network (its index counts from 0).
    fn message(&mut self, message: &Message);
    /// Reads the figures of a message just put on the network, in place
    /// of the message, when the sink asked for [`Detail::Counts`]; a sink
    /// that reads messages gets none and need not read them.
    fn tally(&mut self, _tally: Tally) {}
    /// Takes a message just put on the network to own, when messages are
    /// filled in full: a sink that keeps them keeps it without a copy;
    /// any other reads it as [`Self::message`] does.
    fn take_message(&mut self, message: Message) {
        self.message(&message);
    }
    /// Takes something that happened on a lifeline, before the message
    /// numbered `event.before` was sent.
    fn lifeline_event(&mut self, event: LifelineEvent);
    /// Takes a mail a server stored.
    fn delivery(&mut self, delivery: Delivery);
    /// Takes what a client concluded about one recipient.
    fn outcome(&mut self, outcome: MailOutcome);
}

/// What counting reads of one message put on the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Its layer.
    pub layer: Layer,
    /// The octets it carries above TCP or UDP, as a summary counts them:
    /// the DNS message in wire format for DNS, else the application
    /// payload.
    pub octets: usize,
    /// Whether it was a resend of an earlier message.
    pub resent: bool,
    /// Whether it never arrived.
    pub lost: bool,
}

impl Tally {
    /// Reads the figures of a message built in full.
    pub fn of(message: &Message) -> Tally {
        Tally {
            layer: message.layer,
            octets: match message.layer {
                Layer::Dns => message.dns_len,
                _ => message.payload_len,
            },
            resent: matches!(message.why, SendReason::Retransmission { .. }),
            lost: message.lost.is_some(),
        }
    }
}

/// Keeps every record, to build the whole trace at the end.
#[derive(Debug, Default)]
pub struct TraceSink {
    /// The messages, in the order sent.
    pub messages: Vec<Message>,
    /// The lifeline events, in the order they happened.
    pub events: Vec<LifelineEvent>,
    /// The mails stored.
    pub deliveries: Vec<Delivery>,
    /// The clients' conclusions.
    pub outcomes: Vec<MailOutcome>,
}

impl Sink for TraceSink {
    fn message(&mut self, message: &Message) {
        self.messages.push(message.clone());
    }

    fn take_message(&mut self, message: Message) {
        self.messages.push(message);
    }

    fn lifeline_event(&mut self, event: LifelineEvent) {
        self.events.push(event);
    }

    fn delivery(&mut self, delivery: Delivery) {
        self.deliveries.push(delivery);
    }

    fn outcome(&mut self, outcome: MailOutcome) {
        self.outcomes.push(outcome);
    }
}
