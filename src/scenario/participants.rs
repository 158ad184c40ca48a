//! The participants of a checked scenario, populations included, by
//! index, without a copy of each population's participant per copy.
//!
//! Indices count every host: a participant written without a population
//! is one index, a population of `count` copies is `count` consecutive
//! indices, in the order the file writes them. A population is kept as
//! its written participant (the template) and its count; a copy's id,
//! name, host name, address and start are worked out from its number
//! when asked (see [`super::population`] for the rules), so a million
//! copies cost no more memory than one.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::Range;

use super::Participant;
use super::population::{self, Copies};
use crate::time::SimDuration;
use crate::wire::dns::Name;

/// The participants of a scenario, a population counting once per copy.
#[derive(Clone, Debug, Default)]
pub struct Participants {
    written: Vec<Participant>,
    copies: Vec<Option<Copies>>,
    spans: Vec<Range<usize>>,
    /// Each written participant's first address and its index, sorted
    /// by address.
    by_first_address: Vec<(Ipv4Addr, usize)>,
    by_written_id: BTreeMap<String, usize>,
}

impl Participants {
    /// Keeps the participants as written, each with its population if it
    /// has one. The caller has checked that copies' ids, host names,
    /// addresses and start times are all valid and unique.
    pub fn new(written: Vec<(Participant, Option<Copies>)>) -> Participants {
        let mut participants = Participants::default();
        for (index, (participant, copies)) in written.into_iter().enumerate() {
            let start = participants.len();
            let count = copies.map_or(1, |copies| copies.count);
            participants.spans.push(start..start + count);
            participants
                .by_first_address
                .push((participant.address, index));
            participants
                .by_written_id
                .insert(participant.id.clone(), index);
            participants.written.push(participant);
            participants.copies.push(copies);
        }
        participants.by_first_address.sort_unstable();
        participants
    }

    /// Changes every written participant (and so every copy) with `change`.
    pub fn map_written(mut self, change: impl Fn(&mut Participant)) -> Participants {
        self.written.iter_mut().for_each(change);
        self
    }

    /// Returns how many hosts there are, every copy counted.
    pub fn len(&self) -> usize {
        self.spans.last().map_or(0, |span| span.end)
    }

    /// Tells whether there is no participant.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the participants as written, populations once each.
    pub fn written(&self) -> &[Participant] {
        &self.written
    }

    /// Returns the index of the participant written at `written`, which
    /// has no population (for a population: its first copy).
    pub fn first_of(&self, written: usize) -> usize {
        self.spans[written].start
    }

    /// Returns the indices of the participant written at `written`: its
    /// copies for a population, else its one index.
    pub fn span(&self, written: usize) -> Range<usize> {
        self.spans[written].clone()
    }

    /// Returns the index span of each population's copies, in order.
    pub fn populations(&self) -> Vec<Range<usize>> {
        let copied = self.spans.iter().zip(&self.copies);
        let spans = copied.filter(|(_, copies)| copies.is_some());
        spans.map(|(span, _)| span.clone()).collect()
    }

    /// Returns the written participant of `index` and its copy number
    /// (from 1), or `None` for the number when it is no population.
    pub fn origin(&self, index: usize) -> (usize, Option<usize>) {
        let written = self.spans.partition_point(|span| span.end <= index);
        let number = index - self.spans[written].start + 1;
        (written, self.copies[written].map(|_| number))
    }

    /// Returns the written participant `index` is or copies: its roles,
    /// resolver and settings, which every copy shares.
    pub fn template(&self, index: usize) -> &Participant {
        &self.written[self.origin(index).0]
    }

    /// Returns the participant at `index`, built for a copy.
    pub fn get(&self, index: usize) -> Cow<'_, Participant> {
        let (written, number) = self.origin(index);
        let template = &self.written[written];
        if number.is_none() {
            return Cow::Borrowed(template);
        }
        let mut copy = template.clone();
        copy.id = self.id(index).into_owned();
        copy.name = self.name(index).into_owned();
        copy.host = self.host(index).into_owned();
        copy.address = self.address(index);
        if let Some(client) = &mut copy.smtp_client {
            client.start = self.client_start(index).unwrap_or(client.start);
        }
        Cow::Owned(copy)
    }

    /// Returns every participant in index order, copies built one by one.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, Participant>> {
        (0..self.len()).map(|index| self.get(index))
    }

    /// Returns the id of the participant at `index`: `id-k` for copy k.
    pub fn id(&self, index: usize) -> Cow<'_, str> {
        let (written, number) = self.origin(index);
        let id = &self.written[written].id;
        match number {
            None => Cow::Borrowed(id),
            Some(number) => Cow::Owned(population::copy_id(id, number)),
        }
    }

    /// Returns the name drawn at the head of the column of `index`.
    pub fn name(&self, index: usize) -> Cow<'_, str> {
        let (written, number) = self.origin(index);
        let template = &self.written[written];
        match number {
            None => Cow::Borrowed(&template.name),
            Some(number) if template.name == template.id => {
                Cow::Owned(population::copy_id(&template.id, number))
            }
            Some(number) => Cow::Owned(format!("{} {number}", template.name)),
        }
    }

    /// Returns the host name of the participant at `index`.
    pub fn host(&self, index: usize) -> Cow<'_, Name> {
        let (written, number) = self.origin(index);
        let host = &self.written[written].host;
        match number {
            None => Cow::Borrowed(host),
            Some(number) => Cow::Owned(
                population::copy_host(host, number).expect("copies' host names were checked"),
            ),
        }
    }

    /// Returns the address of the participant at `index`.
    pub fn address(&self, index: usize) -> Ipv4Addr {
        let (written, number) = self.origin(index);
        let first = self.written[written].address;
        let number = number.unwrap_or(1);
        population::copy_address(first, number).expect("copies' addresses were checked")
    }

    /// Returns when the client of the participant at `index` starts, if
    /// it has a client: a copy starts `(k - 1) × interval` after the
    /// written start.
    pub fn client_start(&self, index: usize) -> Option<SimDuration> {
        let (written, number) = self.origin(index);
        let start = self.written[written].smtp_client.as_ref()?.start;
        let (Some(number), Some(copies)) = (number, self.copies[written]) else {
            return Some(start);
        };
        let later = copies.interval.as_nanos() * (number as u64 - 1);
        Some(SimDuration::from_nanos(start.as_nanos() + later))
    }

    /// Returns the index of the participant with this address, if any.
    pub fn index_at(&self, address: Ipv4Addr) -> Option<usize> {
        let after = self
            .by_first_address
            .partition_point(|&(first, _)| first <= address);
        let (first, written) = self.by_first_address[after.checked_sub(1)?];
        let offset = u32::from(address) - u32::from(first);
        let span = &self.spans[written];
        (offset < span.len() as u32).then(|| span.start + offset as usize)
    }

    /// Returns the index of the participant with this id, if any.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        if let Some(&written) = self.by_written_id.get(id) {
            return Some(self.first_of(written)).filter(|_| self.copies[written].is_none());
        }
        let (template, number) = population::split_copy_id(id)?;
        let &written = self.by_written_id.get(template)?;
        let span = &self.spans[written];
        let copied = self.copies[written].is_some() && (1..=span.len()).contains(&number);
        copied.then(|| span.start + number - 1)
    }
}

#[cfg(test)]
impl Participants {
    /// Returns `count` plain hosts `h0`, `h1`, ... at 10.0.0.1 onward,
    /// for tests of what runs over participants.
    pub(crate) fn of_plain_hosts(count: usize) -> Participants {
        let plain = (0..count).map(|index| {
            let participant = Participant {
                id: format!("h{index}"),
                name: format!("h{index}"),
                group: None,
                host: Name::parse(&format!("h{index}.example")).expect("a valid name"),
                address: Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 1)) + index as u32),
                resolver: None,
                dns: Default::default(),
                dns_records: None,
                smtp_server: None,
                smtp_client: None,
                tcp: Default::default(),
            };
            (participant, None)
        });
        Participants::new(plain.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, Overrides};

    /// A single host, a population of three from 192.0.2.10, and a
    /// second single host.
    fn three_copies() -> Participants {
        let text = "title: t\nparticipants:\n\
             - { id: dns, host: ns.example.net, address: 192.0.2.53, dns_server: { records: [] } }\n\
             - id: s\n  name: Sender\n  host: mail.s.com\n  address: 192.0.2.10\n  resolver: dns\n\
             \x20 population: { count: 3, interval: 2s }\n\
             \x20 smtp_client:\n    start: 1s\n    mails:\n\
             \x20     - { from: a@s.com, to: [b@r.com], subject: Hi, body: \"Hi\\n\" }\n\
             - { id: r, host: mail.r.com, address: 192.0.2.25 }\n";
        let scenario = scenario::parse("t.yaml", text, &Overrides::default()).expect("valid");
        scenario.participants
    }

    #[test]
    fn copies_count_as_hosts_of_their_own() {
        let participants = three_copies();
        assert_eq!(participants.len(), 5);
        assert_eq!(participants.populations(), vec![1..4]);
        let ids: Vec<String> = participants.iter().map(|p| p.id.clone()).collect();
        assert_eq!(ids, ["dns", "s-1", "s-2", "s-3", "r"]);
        assert_eq!(participants.name(3), "Sender 3");
        assert_eq!(participants.host(2).as_str(), "mail-2.s.com");
        assert_eq!(participants.address(3), Ipv4Addr::new(192, 0, 2, 12));
        assert_eq!(participants.origin(2), (1, Some(2)));
        assert_eq!(participants.origin(4), (2, None));
    }

    #[test]
    fn a_copy_starts_its_interval_times_its_number_less_one_later() {
        // Written start 1 s, 2 s apart: copy 3 starts at 1 + 2 × 2 = 5 s.
        let participants = three_copies();
        let start = participants.client_start(3).map(SimDuration::as_nanos);
        assert_eq!(start, Some(5_000_000_000));
        assert_eq!(participants.client_start(0), None);
    }

    #[test]
    fn hosts_are_found_by_address_and_by_id() {
        let participants = three_copies();
        assert_eq!(participants.index_at(Ipv4Addr::new(192, 0, 2, 11)), Some(2));
        assert_eq!(participants.index_at(Ipv4Addr::new(192, 0, 2, 13)), None);
        assert_eq!(participants.index_at(Ipv4Addr::new(192, 0, 2, 25)), Some(4));
        assert_eq!(participants.index_at(Ipv4Addr::new(10, 0, 0, 1)), None);
        assert_eq!(participants.index_of("s-3"), Some(3));
        assert_eq!(participants.index_of("s-4"), None);
        assert_eq!(participants.index_of("s"), None);
        assert_eq!(participants.index_of("r"), Some(4));
    }
}
