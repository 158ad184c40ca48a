//! Attaches the scenario's remarks to the messages they describe.
//!
//! A remark names the sender (and optionally the receiver) and the start
//! of the message's label; it goes to the n-th message that matches,
//! counting from one (or the last). Remarks are matched after the run, so the same
//! remark list works whichever way the models produced the exchange.
//!
//! A script step's own `remark` goes to the step's message: its SYN, its
//! FIN, its datagram, the first segment of its data, or the first message
//! a model step's model sends. Steps happen in
//! order, so each is looked for after the message of the step before.

use serde::Serialize;

use crate::scenario::script::{Action, Step};
use crate::scenario::{Occurrence, Scenario};
use crate::trace::{Message, Trace, Transport};

/// A remark that found no message to go with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmatchedRemark {
    /// Its position in the scenario's `remarks` list, from zero.
    pub index: usize,
    /// What it looked for, in words.
    pub wanted: String,
}

/// Attaches every remark it can; returns those that matched nothing.
pub fn attach(trace: &mut Trace, scenario: &Scenario) -> Vec<UnmatchedRemark> {
    let mut unmatched = Vec::new();
    for (index, remark) in scenario.remarks.iter().enumerate() {
        let from = scenario.participants.id(remark.from);
        let to = remark.to.map(|to| scenario.participants.id(to));
        let to = to.as_deref();
        let matching = trace.messages.iter_mut().filter(|message| {
            message.from == from
                && to.is_none_or(|to| message.to == to)
                && message.label.starts_with(&remark.message)
        });
        let chosen = match remark.occurrence {
            Occurrence::Nth(n) => matching.into_iter().nth(n - 1),
            Occurrence::Last => matching.into_iter().last(),
        };
        match chosen {
            Some(message) => append_remark(&mut message.remark, &remark.text),
            None => unmatched.push(UnmatchedRemark {
                index,
                wanted: format!(
                    "{} sent by {from} starting `{}`",
                    remark.occurrence, remark.message
                ),
            }),
        }
    }
    unmatched
}

/// Attaches each script step's own remark to the step's message.
pub fn attach_to_steps(trace: &mut Trace, scenario: &Scenario) {
    let ids = &scenario.participants;
    let mut start = 0;
    for step in &scenario.script {
        let (from, to) = (ids.id(step.from), ids.id(step.to));
        let model = matches!(step.action, Action::Mail);
        let found = trace.messages[start..].iter().position(|message| {
            message.from == from && (model || message.to == to) && carries(step, message)
        });
        let Some(offset) = found else { return };
        start += offset;
        if let Some(text) = &step.remark {
            append_remark(&mut trace.messages[start].remark, text);
        }
        start += 1;
    }
}

/// Tells whether a message is the one a step sends.
fn carries(step: &Step, message: &Message) -> bool {
    let flags = message
        .tcp
        .as_ref()
        .map(|tcp| tcp.flags.as_slice())
        .unwrap_or_default();
    let has = |flag: &str| flags.iter().any(|f| f == flag);
    match &step.action {
        Action::Open { .. } => has("SYN") && !has("ACK"),
        Action::Close { .. } => has("FIN"),
        Action::Send { data, .. } => message
            .payload
            .as_ref()
            .is_some_and(|payload| String::from_utf8_lossy(data).starts_with(payload.as_str())),
        Action::Datagram { .. } => message.transport == Transport::Udp,
        Action::Mail => true,
    }
}

/// Adds a remark, after any the message already has.
fn append_remark(slot: &mut Option<String>, text: &str) {
    match slot {
        Some(existing) => {
            existing.push(' ');
            existing.push_str(text);
        }
        None => *slot = Some(text.to_string()),
    }
}
