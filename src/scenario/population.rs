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
//! A population stays one written participant with a count (see
//! [`super::participants`]); a copy's id, host name, address and start
//! are worked out from its number when asked. Every protocol model and
//! output treats a copy as any other host. The run builds a copy's host
//! when it starts and drops it when it is done (see `sim::hosts`); the
//! copies share their mails.
//!
//! Not modelled: copies that differ other than by number (their own
//! mails or link timings); copies of one population talking to each
//! other (no path joins them); a population carrying other hosts'
//! packets (routes never pass through a copy).

use std::net::Ipv4Addr;

use super::addresses;
use super::participants::Participants;
use super::raw::{RawParticipant, RawPopulation};
use super::script::{Action, Step};
use super::validate::Checker;
use super::{Participant, Remark, ScenarioError};
use crate::sim::faults::Faults;
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

impl Checker<'_> {
    /// Refuses a population on a participant without an SMTP client.
    /// It runs before the participants are checked: a population cannot
    /// be named elsewhere, which would otherwise hide the real mistake.
    pub(super) fn populations_are_clients(
        &self,
        participants: &[RawParticipant],
    ) -> Result<(), ScenarioError> {
        let wrong = participants
            .iter()
            .position(|p| p.population.is_some() && p.smtp_client.is_none());
        match wrong {
            Some(index) => Err(self.error(
                &format!("participants[{index}].population"),
                "only a participant with an `smtp_client` can be a population",
            )),
            None => Ok(()),
        }
    }

    /// Checks a `population`: a count from 1 and an optional interval.
    pub(super) fn population(
        &self,
        path: &str,
        raw: &RawPopulation,
    ) -> Result<Copies, ScenarioError> {
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

    /// Checks that every copy of the population written at `index` gets
    /// an id no participant has, a valid host name, an address and a
    /// start time; names the first copy that does not.
    ///
    /// Each property of a copy depends on its number only through its
    /// digits or grows with it, so the few numbers where it can first go
    /// wrong are tried instead of every copy.
    pub(super) fn check_copies(
        &self,
        index: usize,
        template: &Participant,
        copies: Copies,
    ) -> Result<(), ScenarioError> {
        let path = format!("participants[{index}]");
        if let Some(number) = self.first_taken_copy_id(&template.id, copies.count) {
            let id = copy_id(&template.id, number);
            let message = format!("copy {number} would be `{id}`, an id already in use");
            return Err(self.error(&format!("{path}.id"), message));
        }
        for number in first_numbers_of_each_length(copies.count) {
            copy_host(&template.host, number)
                .map_err(|why| self.error(&format!("{path}.host"), why))?;
        }
        // The last addresses, 240.0.0.0 up, are all refused: copies
        // reaching past 255.255.255.255 are refused there first.
        self.copy_addresses(&path, template.address, copies.count)?;
        if let Some(client) = &template.smtp_client {
            self.copy_start(&path, client.start, copies)?;
        }
        Ok(())
    }

    /// Refuses a population whose copies, taking consecutive addresses
    /// from `first`, would reach one no host may have; names the first
    /// copy that would.
    fn copy_addresses(
        &self,
        path: &str,
        first: Ipv4Addr,
        count: usize,
    ) -> Result<(), ScenarioError> {
        let Some((address, why)) = addresses::first_unusable(first, count as u64) else {
            return Ok(());
        };
        let number = u64::from(u32::from(address) - u32::from(first)) + 1;
        let message = format!(
            "copy {number} would get {address}, which cannot be a host's address: it is {why}; \
             copies take consecutive addresses from {first}, so at most {} fit",
            number - 1
        );
        Err(self.error(&format!("{path}.population.count"), message))
    }

    /// Returns the first copy number whose id is a written participant's.
    fn first_taken_copy_id(&self, template: &str, count: usize) -> Option<usize> {
        let taken = self.written_ids().filter_map(|id| match split_copy_id(id) {
            Some((prefix, number)) if prefix == template && number <= count => Some(number),
            _ => None,
        });
        taken.min()
    }

    /// Refuses a population whose last copy would start too late to
    /// count in nanoseconds, naming the first copy that would.
    fn copy_start(
        &self,
        path: &str,
        start: SimDuration,
        copies: Copies,
    ) -> Result<(), ScenarioError> {
        let interval = copies.interval.as_nanos();
        let room = u64::MAX - start.as_nanos();
        let last_in_time = room
            .checked_div(interval)
            .map_or(u64::MAX, |steps| steps + 1);
        if (copies.count as u64) <= last_in_time {
            return Ok(());
        }
        let number = last_in_time + 1;
        let message = format!("copy {number} would start too late to count in nanoseconds");
        Err(self.error(&format!("{path}.population.interval"), message))
    }
}

/// Returns copy `number`'s id: the written id, `-` and the number.
pub fn copy_id(id: &str, number: usize) -> String {
    format!("{id}-{number}")
}

/// Splits an id that could be a copy's into the written id and the copy
/// number: `sender-12` gives `sender` and 12. The number is written in
/// plain decimal from 1, as copy ids are.
pub fn split_copy_id(id: &str) -> Option<(&str, usize)> {
    let (prefix, digits) = id.rsplit_once('-')?;
    let plain = !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    let number = digits.parse().ok().filter(|_| plain)?;
    Some((prefix, number))
}

/// Returns 1, 10, 100, ... up to `count`: the first copy number of each
/// length in digits, where a longer host name could first be refused.
fn first_numbers_of_each_length(count: usize) -> impl Iterator<Item = usize> {
    std::iter::successors(Some(1usize), |n| n.checked_mul(10)).take_while(move |&n| n <= count)
}

/// Returns copy `number`'s host name: `-number` after the first label.
pub(super) fn copy_host(host: &Name, number: usize) -> Result<Name, String> {
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
pub(super) fn copy_address(address: Ipv4Addr, number: usize) -> Result<Ipv4Addr, String> {
    let offset = u32::try_from(number - 1).ok();
    let value = offset.and_then(|offset| u32::from(address).checked_add(offset));
    value.map(Ipv4Addr::from).ok_or_else(|| {
        format!("copy {number} would need an address past 255.255.255.255; start lower")
    })
}

/// Moves a script step's participant indices to the list of hosts.
pub fn move_step(mut step: Step, participants: &Participants) -> Step {
    step.from = participants.first_of(step.from);
    step.to = participants.first_of(step.to);
    match &mut step.action {
        Action::Open { connection, .. }
        | Action::Send { connection, .. }
        | Action::Close { connection, .. } => {
            connection.client = participants.first_of(connection.client);
            connection.server = participants.first_of(connection.server);
        }
        Action::Mail | Action::Datagram { .. } => {}
    }
    step
}

/// Moves a remark's participant indices to the list of hosts.
pub fn move_remark(mut remark: Remark, participants: &Participants) -> Remark {
    remark.from = participants.first_of(remark.from);
    remark.to = remark.to.map(|to| participants.first_of(to));
    remark
}

/// Moves the participant indices of fault rules, outages and partitions
/// to the list of hosts; they name single hosts only.
pub fn move_faults(mut faults: Faults, participants: &Participants) -> Faults {
    let single = |written: usize| participants.first_of(written);
    for rule in &mut faults.rules {
        let pattern = &mut rule.pattern;
        pattern.from = pattern.from.map(single);
        pattern.to = pattern.to.map(single);
        pattern.link = pattern.link.map(|(a, b)| (single(a), single(b)));
    }
    for outage in &mut faults.outages {
        outage.host = single(outage.host);
    }
    for partition in &mut faults.partitions {
        for group in &mut partition.groups {
            *group = group.iter().map(|&host| single(host)).collect();
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
    fn copy_ids_split_into_the_written_id_and_a_plain_number() {
        assert_eq!(split_copy_id("sender-12"), Some(("sender", 12)));
        assert_eq!(split_copy_id("a-1-2"), Some(("a-1", 2)));
        assert_eq!(split_copy_id("sender-02"), None);
        assert_eq!(split_copy_id("sender-0"), None);
        assert_eq!(split_copy_id("sender-"), None);
        assert_eq!(split_copy_id("sender"), None);
        assert_eq!(split_copy_id("s-+3"), None);
    }

    #[test]
    fn host_names_are_tried_at_each_new_length() {
        let tried: Vec<usize> = first_numbers_of_each_length(1_000_000).collect();
        assert_eq!(tried, [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]);
        assert_eq!(first_numbers_of_each_length(9).collect::<Vec<_>>(), [1]);
    }
}
