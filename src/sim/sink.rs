//! Where a run's records go as they are made: each message put on the
//! network, each lifeline event, each mail stored and each outcome a
//! client concluded, handed over once and in the order they happened.
//!
//! [`TraceSink`] keeps them all to build a whole [`Trace`]; an output
//! that needs no whole trace (figures, a line per record) takes them one
//! at a time and keeps only what it needs, so its memory does not grow
//! with the length of the run. A sink that only counts says so
//! ([`Detail::Counts`]), and the messages it gets carry no text.

use crate::trace::{Delivery, LifelineEvent, MailOutcome, Message};

/// How much of each message a sink reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// Everything a trace shows: labels, flag names, payload text, SMTP
    /// lines, participant ids and time texts.
    #[default]
    Full,
    /// Only what counting needs: the index, times, layer, transport,
    /// addresses, ports, sizes (a DNS message's too), absolute sequence
    /// numbers, why it was sent and its fate. The label, flag names,
    /// connection state, payload text, DNS fields, SMTP lines,
    /// participant ids and time text are left empty, and sequence numbers
    /// relative to the initial ones are not worked out (they equal the
    /// absolute ones). Lifeline events, mails stored and outcomes carry
    /// no participant id and no time text either. The protocol models
    /// run the same either way.
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
