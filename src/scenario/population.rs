//! Populations: one participant written once and run as many copies, each
//! a host of its own with the same roles, for runs of many sessions.
//!
//! Copy `k` (from 1) of a participant with id `sender`, host
//! `mail.sender.com` and address `10.0.0.1` is `sender-k` on host
//! `mail-k.sender.com` at the k-th address counting from `10.0.0.1`
//! (`10.0.0.1`, `10.0.0.2`, ...); a `name` gets ` k` after it. Its
//! client starts `(k - 1) × interval` after the written `start`. A link
//! naming the population joins every copy; nothing else may name it.
//!
//! The copies are ordinary participants once expanded, so every
//! protocol model and output treats them as any other host. The run
//! builds a copy's host when it starts and drops it when it is done
//! (see `sim::hosts`); the copies share their mails.
//!
//! Not modelled: copies that differ other than by number (their own
//! mails or link timings). Every copy is still a participant of the
//! scenario, with its links, for the whole run, so memory grows with
//! the number of copies even when few run at once.

use std::net::Ipv4Addr;
use std::ops::Range;

use super::raw::RawPopulation;
use super::script::{Action, Step};
use super::validate::Checker;
use super::{Participant, Remark, ScenarioError};
use crate::sim::faults::Faults;
use crate::sim::topology::LinkSpec;
use crate::time::SimDuration;
use crate::wire::dns::Name;

/// The most copies one population may have.
pub const MAX_COPIES: usize = 1_000_000;

/// A checked population: how many copies and how far apart they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copies {
    /// The number of copies, at least one.
    pub count: usize,
    /// The time between the starts of two consecutive copies.
    pub interval: SimDuration,
}

/// Where each written participant went in the expanded list.
#[derive(Clone, Debug, Default)]
pub struct Expansion {
    /// For each written participant, the indices of its copies (one for
    /// a participant without a population).
    pub spans: Vec<Range<usize>>,
    /// For each written participant, whether it has a population.
    pub copied: Vec<bool>,
}

impl Expansion {
    /// Returns the expanded index of a written participant that is not a
    /// population (its only copy).
    pub fn single(&self, written: usize) -> usize {
        self.spans[written].start
    }

    /// Returns the spans of the participants written with a population.
    pub fn populations(&self) -> Vec<Range<usize>> {
        let spans = self
            .spans
            .iter()
            .enumerate()
            .filter(|(written, _)| self.copied[*written]);
        spans.map(|(_, span)| span.clone()).collect()
    }

    /// Returns the written participant and the copy number (from 1) of an
    /// expanded index.
    pub fn origin(&self, expanded: usize) -> (usize, usize) {
        let written = self.spans.partition_point(|span| span.end <= expanded);
        (written, expanded - self.spans[written].start + 1)
    }
}

impl Checker<'_> {
    /// Checks a `population`: a count from 1 and an optional interval.
    pub(super) fn population(
        &self,
        path: &str,
        raw: &RawPopulation,
        is_client: bool,
    ) -> Result<Copies, ScenarioError> {
        if !is_client {
            return Err(self.error(
                path,
                "only a participant with an `smtp_client` can be a population",
            ));
        }
        if !(1..=MAX_COPIES).contains(&raw.count) {
            let message = format!("expected a count from 1 to {MAX_COPIES}");
            return Err(self.error(&format!("{path}.count"), message));
        }
        let interval = match &raw.interval {
            Some(text) => self.duration(&format!("{path}.interval"), text)?,
            None => SimDuration::ZERO,
        };
        Ok(Copies {
            count: raw.count,
            interval,
        })
    }

    /// Expands every population into its copies, in place of the
    /// participant that describes it.
    pub(super) fn expand(
        &self,
        written: Vec<(Participant, Option<Copies>)>,
    ) -> Result<(Vec<Participant>, Expansion), ScenarioError> {
        let total = written
            .iter()
            .map(|(_, copies)| copies.map_or(1, |c| c.count));
        let mut all = Vec::with_capacity(total.sum());
        let mut expansion = Expansion::default();
        for (index, (participant, copies)) in written.into_iter().enumerate() {
            let start = all.len();
            match copies {
                None => all.push(participant),
                Some(copies) => {
                    for number in 1..=copies.count {
                        all.push(self.copy(index, &participant, copies, number)?);
                    }
                }
            }
            expansion.spans.push(start..all.len());
            expansion.copied.push(copies.is_some());
        }
        Ok((all, expansion))
    }

    /// Builds copy `number` of the participant written at `index`.
    fn copy(
        &self,
        index: usize,
        template: &Participant,
        copies: Copies,
        number: usize,
    ) -> Result<Participant, ScenarioError> {
        let path = format!("participants[{index}]");
        let id = format!("{}-{number}", template.id);
        if self.is_written_id(&id) {
            let message = format!("copy {number} would be `{id}`, an id already in use");
            return Err(self.error(&format!("{path}.id"), message));
        }
        let host = copy_host(&template.host, number)
            .map_err(|why| self.error(&format!("{path}.host"), why))?;
        let address = copy_address(template.address, number)
            .map_err(|why| self.error(&format!("{path}.address"), why))?;
        let mut copy = template.clone();
        copy.name = if template.name == template.id {
            id.clone()
        } else {
            format!("{} {number}", template.name)
        };
        copy.id = id;
        copy.host = host;
        copy.address = address;
        if let Some(client) = &mut copy.smtp_client {
            client.start = self.copy_start(&path, client.start, copies.interval, number)?;
        }
        Ok(copy)
    }

    /// Returns when copy `number` starts: `(number - 1) × interval` later.
    fn copy_start(
        &self,
        path: &str,
        start: SimDuration,
        interval: SimDuration,
        number: usize,
    ) -> Result<SimDuration, ScenarioError> {
        let later = interval.as_nanos().checked_mul(number as u64 - 1);
        let nanos = later.and_then(|later| later.checked_add(start.as_nanos()));
        let nanos = nanos.ok_or_else(|| {
            let message = format!("copy {number} would start too late to count in nanoseconds");
            self.error(&format!("{path}.population.interval"), message)
        })?;
        Ok(SimDuration::from_nanos(nanos))
    }
}

/// Returns copy `number`'s host name: `-number` after the first label.
fn copy_host(host: &Name, number: usize) -> Result<Name, String> {
    let text = host.as_str();
    let (first, rest) = text.split_once('.').map_or((text, ""), |(f, r)| (f, r));
    let name = if rest.is_empty() {
        format!("{first}-{number}")
    } else {
        format!("{first}-{number}.{rest}")
    };
    Name::parse(&name).map_err(|why| format!("copy {number}'s host name: {why}"))
}

/// Returns copy `number`'s address: the written one plus `number - 1`.
fn copy_address(address: Ipv4Addr, number: usize) -> Result<Ipv4Addr, String> {
    let offset = u32::try_from(number - 1).ok();
    let value = offset.and_then(|offset| u32::from(address).checked_add(offset));
    value.map(Ipv4Addr::from).ok_or_else(|| {
        format!("copy {number} would need an address past 255.255.255.255; start lower")
    })
}

/// Moves the participant indices of links to the expanded list: a link
/// naming a population becomes one link per copy.
pub fn expand_links(links: Vec<LinkSpec>, expansion: &Expansion) -> Vec<LinkSpec> {
    let mut expanded = Vec::new();
    for link in links {
        for a in expansion.spans[link.a].clone() {
            for b in expansion.spans[link.b].clone() {
                expanded.push(LinkSpec {
                    a,
                    b,
                    ..link.clone()
                });
            }
        }
    }
    expanded
}

/// Moves a script step's participant indices to the expanded list.
pub fn move_step(mut step: Step, expansion: &Expansion) -> Step {
    step.from = expansion.single(step.from);
    step.to = expansion.single(step.to);
    match &mut step.action {
        Action::Open { connection, .. }
        | Action::Send { connection, .. }
        | Action::Close { connection, .. } => {
            connection.client = expansion.single(connection.client);
            connection.server = expansion.single(connection.server);
        }
        Action::Mail | Action::Datagram { .. } => {}
    }
    step
}

/// Moves a remark's participant indices to the expanded list.
pub fn move_remark(mut remark: Remark, expansion: &Expansion) -> Remark {
    remark.from = expansion.single(remark.from);
    remark.to = remark.to.map(|to| expansion.single(to));
    remark
}

/// Moves the participant indices of fault rules, outages and partitions
/// to the expanded list; they name single hosts only.
pub fn move_faults(mut faults: Faults, expansion: &Expansion) -> Faults {
    for rule in &mut faults.rules {
        let pattern = &mut rule.pattern;
        pattern.from = pattern.from.map(|from| expansion.single(from));
        pattern.to = pattern.to.map(|to| expansion.single(to));
        pattern.link = pattern
            .link
            .map(|(a, b)| (expansion.single(a), expansion.single(b)));
    }
    for outage in &mut faults.outages {
        outage.host = expansion.single(outage.host);
    }
    for partition in &mut faults.partitions {
        for group in &mut partition.groups {
            *group = group.iter().map(|&host| expansion.single(host)).collect();
        }
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_host_numbers_its_first_label() {
        let host = Name::parse("mail.sender.com").unwrap();
        assert_eq!(copy_host(&host, 17).unwrap().as_str(), "mail-17.sender.com");
        let single = Name::parse("localhost").unwrap();
        assert_eq!(copy_host(&single, 2).unwrap().as_str(), "localhost-2");
    }

    #[test]
    fn copy_addresses_count_up_across_octets() {
        let first = Ipv4Addr::new(10, 0, 0, 250);
        assert_eq!(copy_address(first, 1).unwrap(), first);
        assert_eq!(copy_address(first, 7).unwrap(), Ipv4Addr::new(10, 0, 1, 0));
        assert!(copy_address(Ipv4Addr::new(255, 255, 255, 255), 2).is_err());
    }

    #[test]
    fn an_expanded_index_names_its_origin() {
        let expansion = Expansion {
            spans: vec![0..1, 1..4, 4..5],
            copied: vec![false, true, false],
        };
        assert_eq!(expansion.populations(), vec![1..4]);
        assert_eq!(expansion.origin(0), (0, 1));
        assert_eq!(expansion.origin(3), (1, 3));
        assert_eq!(expansion.origin(4), (2, 1));
        assert_eq!(expansion.single(2), 4);
    }
}
