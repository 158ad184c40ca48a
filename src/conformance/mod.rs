//! Conformance: reads a script's literal messages as the protocols'
//! grammars and state machines would, and lists every departure from the
//! standards, with the rule broken and its RFC section.
//!
//! SMTP is checked on every scripted TCP connection to port 25 and DNS
//! on every scripted DNS message. TCP itself cannot depart: seqsim's own
//! TCP carries the script, and steps it could not carry (data on a
//! connection that is not open, a second close) are refused when the
//! scenario is read. Scenarios without a script need no check: the
//! models only produce exchanges that follow the RFCs.
//!
//! Not checked: protocols seqsim has no model of (their steps are
//! counted and named as unchecked), SMTP service extensions (EHLO
//! keywords, PIPELINING), DNS answers against zone data.

mod dns;
mod smtp;

use std::fmt;

use crate::scenario::script::{Action, Step};
use crate::scenario::{Position, Scenario};

/// One place where a scripted exchange departs from a standard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    /// The number of the script step, from one.
    pub step: usize,
    /// Where the step is written.
    pub position: Option<Position>,
    /// The message or event concerned, as written.
    pub subject: String,
    /// The rule broken, in plain words.
    pub rule: String,
    /// The standard and section, e.g. `RFC 5321 §4.1.1.10`.
    pub reference: &'static str,
}

/// What the check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The departures, in script order.
    pub departures: Vec<Departure>,
    /// How many steps were read by a protocol's rules.
    pub checked_steps: usize,
    /// Steps of protocols seqsim has no model of, by number.
    pub unchecked_steps: Vec<usize>,
}

/// Checks every step of the scenario's script.
pub fn check(scenario: &Scenario) -> Report {
    let mut report = Report::default();
    let ids: Vec<String> = scenario.participants.iter().map(|p| p.id.clone()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let modelled: Vec<bool> = scenario
        .participants
        .iter()
        .map(|p| p.smtp_server.is_some())
        .collect();
    report
        .departures
        .extend(smtp::check(&scenario.script, &ids, &modelled));
    report.departures.extend(dns::check(&scenario.script));
    report.departures.sort_by_key(|departure| departure.step);
    for step in &scenario.script {
        if is_checked(step) {
            report.checked_steps += 1;
        } else if carries_data(step) {
            report.unchecked_steps.push(step.number);
        }
    }
    report
}

/// Tells whether a protocol's rules read this step.
fn is_checked(step: &Step) -> bool {
    match &step.action {
        Action::Open { connection, .. }
        | Action::Send { connection, .. }
        | Action::Close { connection, .. } => connection.port == smtp::PORT,
        Action::Datagram { payload, .. } => {
            matches!(payload, crate::scenario::script::Datagram::Dns { .. })
        }
        Action::Mail => false,
    }
}

/// Tells whether a step carries application data.
fn carries_data(step: &Step) -> bool {
    matches!(step.action, Action::Send { .. } | Action::Datagram { .. })
}

impl Departure {
    /// Builds a departure at a step.
    fn at(
        step: &Step,
        subject: impl Into<String>,
        rule: impl Into<String>,
        reference: &'static str,
    ) -> Departure {
        Departure {
            step: step.number,
            position: step.position,
            subject: subject.into(),
            rule: rule.into(),
            reference,
        }
    }

    /// Writes the departure as one line, prefixed by the file and place.
    pub fn line(&self, file: &str) -> String {
        let place = match self.position {
            Some(position) => format!("{file}:{}:{}", position.line, position.column),
            None => file.to_string(),
        };
        format!("{place}: {self}")
    }
}

impl fmt::Display for Departure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}: {}: {} ({})",
            self.step, self.subject, self.rule, self.reference
        )
    }
}
