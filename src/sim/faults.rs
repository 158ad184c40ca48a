//! Faults a scenario asks for: rules that drop, delay or duplicate chosen
//! messages, hosts that are down for a while, and partitions between
//! groups of hosts.
//!
//! Every decision is taken when a message is sent, from what the trace
//! knows of it. The rules are tried in the order written and the first
//! that matches decides; a rule counts the messages its pattern matches
//! (among those no earlier rule decided) and, when it names an
//! occurrence, acts on that one only. Retransmissions are messages like
//! any other, so "drop the first SYN_ACK" lets the resent one through.
//! The copy a `duplicate` rule makes is not shown to the rules again.
//! A `delay` holds a message back after it crossed the links, so later
//! packets may overtake it; the links keep the others in order.
//!
//! A host that is down keeps its state and its timers run on: what it
//! sends while down is lost, and so is what would reach it while down
//! (judged by the arrival time). A partition loses every message sent,
//! while it lasts, between hosts of different groups; hosts in no group
//! reach everyone.
//!
//! Not modelled: a host that restarts with its connections forgotten;
//! faults that depend on the state of a connection rather than on what
//! is on the wire.

use std::collections::BTreeSet;

use crate::time::{SimDuration, SimTime};
use crate::trace::{Layer, Loss, LossCause, Message, SmtpLine};

/// All the faults of a scenario, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// The rules, each with its number in the scenario's `faults` list.
    pub rules: Vec<Rule>,
    /// Hosts down for a while.
    pub outages: Vec<Outage>,
    /// Partitions between groups of hosts.
    pub partitions: Vec<Partition>,
}

/// A rule that picks messages and says what befalls them.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Its place in the scenario's `faults` list, from 1.
    pub number: usize,
    /// What it does to the message it picks.
    pub action: Action,
    /// Which messages it looks at.
    pub pattern: Pattern,
    /// Which of the matching messages it picks: the n-th, or every one.
    pub occurrence: Option<usize>,
    /// It looks only at messages sent in this window.
    pub window: Window,
    /// The rule in words, e.g. `drop the 1st SYN_ACK`.
    pub description: String,
}

/// What a rule does to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The message never arrives.
    Drop,
    /// The message arrives this much later than the link would bring it.
    Delay(SimDuration),
    /// The message arrives, and a copy of it is sent right after.
    Duplicate,
}

/// A time window: from `since` (included) until `until` (excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The start, or the start of the run.
    pub since: SimTime,
    /// The end, or never.
    pub until: Option<SimTime>,
}

impl Window {
    /// Tells whether an instant falls in the window.
    pub fn holds(&self, at: SimTime) -> bool {
        at >= self.since && self.until.is_none_or(|until| at < until)
    }
}

/// What a message must look like for a rule to match it; every part
/// given must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pattern {
    /// The sender's participant index.
    pub from: Option<usize>,
    /// The receiver's participant index.
    pub to: Option<usize>,
    /// The ends of a link the message's path must cross.
    pub link: Option<(usize, usize)>,
    /// The message's layer.
    pub layer: Option<Layer>,
    /// The TCP flags the segment must have.
    pub flags: Option<Flags>,
    /// An SMTP command verb or reply code the segment must carry.
    pub smtp: Option<SmtpPattern>,
    /// Text the payload or the label must contain.
    pub text: Option<String>,
}

/// A set of TCP flags to match.
///
/// SYN, FIN, RST and ACK must be exactly those listed; PSH must be
/// present when listed and is ignored otherwise. So `SYN` is the opening
/// SYN alone, `SYN_ACK` its answer, and `ACK` any segment that carries
/// only an acknowledgement and perhaps data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flags {
    /// The flag names, upper case, e.g. `["SYN", "ACK"]`.
    pub names: BTreeSet<String>,
}

impl Flags {
    /// The flags whose presence must be exactly as listed.
    const EXACT: [&'static str; 4] = ["SYN", "FIN", "RST", "ACK"];

    /// Tells whether a segment's flags fit.
    fn fit(&self, flags: &[String]) -> bool {
        let has = |name: &str| flags.iter().any(|flag| flag == name);
        let exact = Self::EXACT
            .iter()
            .all(|name| has(name) == self.names.contains(*name));
        exact && (!self.names.contains("PSH") || has("PSH"))
    }
}

/// An SMTP command verb or a reply code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpPattern {
    /// A command, by its verb, upper case.
    Command(String),
    /// A reply, by its code.
    Reply(u16),
}

impl SmtpPattern {
    /// Tells whether one SMTP line is this command or reply.
    fn fits(&self, line: &SmtpLine) -> bool {
        match (self, line) {
            (SmtpPattern::Command(verb), SmtpLine::Command { verb: sent, .. }) => {
                sent.eq_ignore_ascii_case(verb)
            }
            (SmtpPattern::Reply(code), SmtpLine::Reply { code: sent, .. }) => code == sent,
            _ => false,
        }
    }
}

/// A host down for a while.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outage {
    /// Its place in the scenario's `faults` list, from 1.
    pub number: usize,
    /// The participant index of the host.
    pub host: usize,
    /// When it is down.
    pub window: Window,
}

/// Hosts split into groups that cannot reach each other for a while.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Its place in the scenario's `faults` list, from 1.
    pub number: usize,
    /// The groups, by participant index.
    pub groups: Vec<BTreeSet<usize>>,
    /// When it holds.
    pub window: Window,
}

impl Partition {
    /// Tells whether the partition separates two hosts at an instant.
    fn separates(&self, a: usize, b: usize, at: SimTime) -> bool {
        let group_of = |host| self.groups.iter().position(|group| group.contains(&host));
        match (group_of(a), group_of(b)) {
            (Some(one), Some(other)) => one != other && self.window.holds(at),
            _ => false,
        }
    }
}

/// What the rules decided for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No rule picked it.
    Pass,
    /// A rule dropped it.
    Drop(Loss),
    /// A rule holds it back this long.
    Delay(SimDuration),
    /// A rule asks for a copy right after it.
    Duplicate,
}

/// A message as the fault rules see it: the trace's record plus the
/// participants and the links its path crosses.
pub struct Sighting<'a> {
    /// The message as recorded, without its arrival yet.
    pub message: &'a Message,
    /// The sender's participant index.
    pub from: usize,
    /// The receiver's participant index, when some host has the address.
    pub to: Option<usize>,
    /// The ends of every link on the message's path.
    pub links: Vec<(usize, usize)>,
}

/// The rules' running counts during a run.
#[derive(Debug)]
pub struct Judge {
    faults: Faults,
    matched: Vec<usize>,
}

impl Judge {
    /// Starts a run's judging with no message seen.
    pub fn new(faults: Faults) -> Judge {
        let matched = vec![0; faults.rules.len()];
        Judge { faults, matched }
    }

    /// Returns the outages, for the lifeline marks.
    pub fn outages(&self) -> &[Outage] {
        &self.faults.outages
    }

    /// Tries the rules in order on a message sent at `now`.
    pub fn judge(&mut self, sighting: &Sighting<'_>, now: SimTime) -> Verdict {
        for (index, rule) in self.faults.rules.iter().enumerate() {
            if !rule.window.holds(now) || !rule.pattern.matches(sighting) {
                continue;
            }
            self.matched[index] += 1;
            if rule.occurrence.is_some_and(|n| n != self.matched[index]) {
                continue;
            }
            return match rule.action {
                Action::Drop => Verdict::Drop(Loss {
                    cause: LossCause::Fault,
                    detail: format!("fault {}: {}", rule.number, rule.description),
                }),
                Action::Delay(by) => Verdict::Delay(by),
                Action::Duplicate => Verdict::Duplicate,
            };
        }
        Verdict::Pass
    }

    /// Says why a message sent at `sent` is lost before it leaves: its
    /// sender is down, or a partition separates the two hosts.
    pub fn stopped_on_leaving(&self, from: usize, to: usize, sent: SimTime) -> Option<Loss> {
        if let Some(outage) = self.outage_of(from, sent) {
            return Some(host_down(outage, "the sender"));
        }
        let partition = self.faults.partitions.iter();
        let found = partition
            .into_iter()
            .find(|p| p.separates(from, to, sent))?;
        Some(Loss {
            cause: LossCause::Partition,
            detail: format!(
                "fault {}: a partition separates the two hosts",
                found.number
            ),
        })
    }

    /// Says why a message arriving at `at` is lost: its target is down.
    pub fn stopped_on_arrival(&self, to: usize, at: SimTime) -> Option<Loss> {
        let outage = self.outage_of(to, at)?;
        Some(host_down(outage, "the receiver"))
    }

    /// Returns the outage during which a host is down at an instant.
    fn outage_of(&self, host: usize, at: SimTime) -> Option<&Outage> {
        let mut outages = self.faults.outages.iter();
        outages.find(|outage| outage.host == host && outage.window.holds(at))
    }
}

/// Describes a loss to a host that is down.
fn host_down(outage: &Outage, whom: &str) -> Loss {
    Loss {
        cause: LossCause::HostDown,
        detail: format!("fault {}: {whom} is down", outage.number),
    }
}

impl Pattern {
    /// Tells whether a message fits every part of the pattern.
    fn matches(&self, sighting: &Sighting<'_>) -> bool {
        let message = sighting.message;
        self.from.is_none_or(|from| from == sighting.from)
            && self.to.is_none_or(|to| Some(to) == sighting.to)
            && self.link.is_none_or(|link| crosses(&sighting.links, link))
            && self.layer.is_none_or(|layer| layer == message.layer)
            && self.flags_fit(message)
            && self.smtp_fits(message)
            && self.text_fits(message)
    }

    /// Tells whether the flags fit, when the pattern names some.
    fn flags_fit(&self, message: &Message) -> bool {
        let Some(flags) = &self.flags else {
            return true;
        };
        message
            .tcp
            .as_ref()
            .is_some_and(|tcp| flags.fit(&tcp.flags))
    }

    /// Tells whether the segment carries the SMTP command or reply.
    fn smtp_fits(&self, message: &Message) -> bool {
        let Some(pattern) = &self.smtp else {
            return true;
        };
        let lines = message.smtp.as_ref().map_or(&[][..], |smtp| &smtp.lines);
        lines.iter().any(|line| pattern.fits(line))
    }

    /// Tells whether the payload or label contains the text.
    fn text_fits(&self, message: &Message) -> bool {
        let Some(text) = &self.text else {
            return true;
        };
        let in_payload = message
            .payload
            .as_deref()
            .unwrap_or_default()
            .contains(text);
        in_payload || message.label.contains(text)
    }
}

/// Tells whether a path's links include one joining the two hosts.
fn crosses(links: &[(usize, usize)], (a, b): (usize, usize)) -> bool {
    links
        .iter()
        .any(|&(x, y)| (x, y) == (a, b) || (y, x) == (a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(names: &[&str]) -> Flags {
        Flags {
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    fn sent(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn syn_matches_the_opening_syn_but_not_its_answer() {
        assert!(flags(&["SYN"]).fit(&sent(&["SYN"])));
        assert!(!flags(&["SYN"]).fit(&sent(&["SYN", "ACK"])));
        assert!(flags(&["SYN", "ACK"]).fit(&sent(&["SYN", "ACK"])));
    }

    #[test]
    fn ack_matches_pure_acks_and_data_but_not_fin() {
        assert!(flags(&["ACK"]).fit(&sent(&["ACK"])));
        assert!(flags(&["ACK"]).fit(&sent(&["PSH", "ACK"])));
        assert!(!flags(&["ACK"]).fit(&sent(&["FIN", "ACK"])));
        assert!(!flags(&["PSH", "ACK"]).fit(&sent(&["ACK"])));
    }

    #[test]
    fn window_includes_its_start_and_excludes_its_end() {
        let window = Window {
            since: SimTime::from_nanos(100),
            until: Some(SimTime::from_nanos(500)),
        };
        assert!(!window.holds(SimTime::from_nanos(99)));
        assert!(window.holds(SimTime::from_nanos(100)));
        assert!(window.holds(SimTime::from_nanos(499)));
        assert!(!window.holds(SimTime::from_nanos(500)));
    }

    #[test]
    fn partition_separates_only_hosts_of_different_groups() {
        let partition = Partition {
            number: 1,
            groups: vec![BTreeSet::from([0, 1]), BTreeSet::from([2])],
            window: Window {
                since: SimTime::ZERO,
                until: None,
            },
        };
        assert!(partition.separates(0, 2, SimTime::ZERO));
        assert!(!partition.separates(0, 1, SimTime::ZERO));
        assert!(!partition.separates(0, 3, SimTime::ZERO));
    }
}
