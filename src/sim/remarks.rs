//! Attaches the scenario's remarks to the messages they describe.
//!
//! A remark names the sender (and optionally the receiver) and the start
//! of the message's label; it goes to the n-th message that matches,
//! counting from one (or the last). Remarks are matched after the run, so the same
//! remark list works whichever way the models produced the exchange.

use serde::Serialize;

use crate::scenario::{Occurrence, Scenario};
use crate::trace::Trace;

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
        let from = &scenario.participants[remark.from].id;
        let to = remark.to.map(|to| scenario.participants[to].id.as_str());
        let matching = trace.messages.iter_mut().filter(|message| {
            &message.from == from
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
