//! Hosts and links as a petgraph graph, with routing and link timing.
//!
//! A packet follows the path whose links have the lowest latency, both
//! ways added. Each direction of a link has its own latency, jitter, loss,
//! bandwidth and queue (the same both ways unless the scenario says
//! otherwise). A crossing adds the direction's latency plus a jitter
//! drawn uniformly from `0..=jitter` out of the link's own random stream.
//! A link delivers in the order it was given packets in each direction (a
//! later packet never overtakes an earlier one), so jitter spreads
//! arrivals without reordering them.
//!
//! With a bandwidth, a packet first waits for the packets before it in
//! that direction to be sent, then takes its serialization time (its
//! IPv4 size in bits over the bandwidth, in whole nanoseconds rounded
//! up), then the latency. With a queue limit too, a packet that finds as
//! many packets waiting behind the one being sent is lost (`queue_full`)
//! and draws nothing.
//!
//! A direction with a `loss` probability drops each crossing packet with
//! that probability, drawn from the same stream after the jitter; a
//! direction without loss draws nothing for it, so adding loss elsewhere
//! never shifts its draws.
//!
//! The graph joins participants as written, a population being one node:
//! a link naming it stands for one link per copy, each with its own
//! state (random stream, queue), kept only while the copy's host exists
//! and only when the link draws or has a bandwidth. A copy's link that
//! neither draws nor queues keeps no state, so it does not hold back a
//! packet behind an earlier one that reached it later on a longer path.
//! Routes end at a population but never pass through it.
//!
//! Not modelled: routers as separate hops; loss that comes in bursts. A
//! packet's whole path is worked out when it is sent, so on the second
//! link of a path it takes its place in the queue at that moment, even
//! if a packet sent earlier reaches that link later.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::ops::Range;

use petgraph::graph::{NodeIndex, UnGraph};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;
use rustc_hash::FxHashMap;

use crate::scenario::Participants;
use crate::sim::random;
use crate::time::{SimDuration, SimTime};
use crate::trace::{Loss, LossCause};

/// One link as the scenario describes it, by host indices.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// One end.
    pub a: usize,
    /// The other end.
    pub b: usize,
    /// How packets cross from `a` to `b` (first) and from `b` to `a`.
    pub directions: [Direction; 2],
}

/// How packets cross a link in one direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Direction {
    /// The one-way delay.
    pub latency: SimDuration,
    /// The most extra delay one crossing may add.
    pub jitter: SimDuration,
    /// The probability, from 0 to 1, that a crossing loses the packet.
    pub loss: f64,
    /// Bits per second, or `None` for a link that sends at once.
    pub bandwidth: Option<u64>,
    /// How many packets may wait behind the one being sent, or `None`
    /// for no limit.
    pub queue: Option<usize>,
}

impl Direction {
    /// Returns a direction with this latency and nothing else.
    pub fn with_latency(latency: SimDuration) -> Direction {
        Direction {
            latency,
            jitter: SimDuration::ZERO,
            loss: 0.0,
            bandwidth: None,
            queue: None,
        }
    }

    /// Returns the time a packet of `octets` takes to be sent.
    pub fn serialization(&self, octets: usize) -> SimDuration {
        let Some(bits_per_second) = self.bandwidth else {
            return SimDuration::ZERO;
        };
        let bit_nanos = octets as u128 * 8 * 1_000_000_000;
        let nanos = bit_nanos.div_ceil(u128::from(bits_per_second));
        SimDuration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// A link's settings, and its timing state unless it joins a population.
#[derive(Debug)]
struct Link {
    spec: LinkSpec,
    /// The population end of a link that joins one: each of its copies
    /// has a link of its own, whose state is kept apart.
    copied_end: Option<usize>,
    /// Whether crossing it draws random numbers or queues packets
    /// (see [`LinkSpec::keeps_state`]).
    keeps_state: bool,
    state: LinkState,
}

/// What a link remembers between crossings: its random stream and what
/// each direction still has to send.
#[derive(Debug, Default)]
struct LinkState {
    random: Option<Box<ChaCha20Rng>>,
    sending: [Sending; 2],
}

/// The state of one direction of a link: what it still has to send.
#[derive(Debug, Default)]
struct Sending {
    last_arrival: SimTime,
    busy_until: SimTime,
    unsent: VecDeque<SimTime>,
}

/// The network: who is linked to whom, and how packets cross it.
///
/// The graph joins participants as written, a population being one node
/// for all its copies; a packet's ends are hosts, each a copy or not.
#[derive(Debug)]
pub struct Topology {
    graph: UnGraph<usize, usize>,
    nodes: Vec<NodeIndex>,
    links: Vec<Link>,
    copy_links: BTreeMap<(usize, usize), LinkState>,
    copied: Vec<bool>,
    /// The links of every path worked out, one path after another.
    path_links: Vec<usize>,
    /// Where in `path_links` the path between two written participants
    /// lies, or none when no path joins them, worked out the first time
    /// a packet goes that way; only looked up, never walked.
    site_paths: FxHashMap<(usize, usize), Option<Range<usize>>>,
    weighs_packets: bool,
    trees: Vec<Option<Tree>>,
    participants: Participants,
    seed: u64,
}

/// The lowest-latency ways toward one written participant: for each
/// written participant, the link to take and the one it leads to.
type Tree = Vec<Option<(usize, usize)>>;

/// The two ends of a packet's way, each as its written participant and,
/// for a population's copy, the copy's host.
type Ends = ((usize, Option<usize>), (usize, Option<usize>));

/// One link crossed by a packet: its index, and the copy whose own link
/// it is when it joins a population.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hop {
    link: usize,
    copy: Option<usize>,
}

impl Topology {
    /// Builds the graph of the participants joined by `links`, which
    /// name them as written; the seed and the hosts' ids name the links'
    /// random streams.
    pub fn new(seed: u64, participants: &Participants, links: &[LinkSpec]) -> Topology {
        let mut graph = UnGraph::default();
        let written = participants.written().len();
        let nodes: Vec<NodeIndex> = (0..written).map(|site| graph.add_node(site)).collect();
        let copied: Vec<bool> = (0..written)
            .map(|site| participants.origin(participants.first_of(site)).1.is_some())
            .collect();
        let links: Vec<Link> = links
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                graph.add_edge(nodes[spec.a], nodes[spec.b], index);
                let copied_end = [spec.a, spec.b].into_iter().find(|&end| copied[end]);
                Link {
                    spec: spec.clone(),
                    copied_end,
                    keeps_state: spec.keeps_state(),
                    state: LinkState::default(),
                }
            })
            .collect();
        let weighs_packets = links.iter().any(|link| {
            let directions = &link.spec.directions;
            directions.iter().any(|d| d.bandwidth.is_some())
        });
        let mut topology = Topology {
            graph,
            nodes,
            links,
            copy_links: BTreeMap::new(),
            copied,
            path_links: Vec::new(),
            site_paths: FxHashMap::default(),
            weighs_packets,
            trees: (0..written).map(|_| None).collect(),
            participants: participants.clone(),
            seed,
        };
        topology.give_streams();
        topology
    }

    /// Gives each link between single hosts that draws its random stream.
    fn give_streams(&mut self) {
        for index in 0..self.links.len() {
            let link = &self.links[index];
            if link.copied_end.is_none() && link.spec.draws() {
                let (a, b) = (link.spec.a, link.spec.b);
                let ends = (self.participants.first_of(a), self.participants.first_of(b));
                let stream = self.stream_of(ends);
                self.links[index].state.random = Some(stream);
            }
        }
    }

    /// Returns the random stream of the link joining hosts `ends`.
    fn stream_of(&self, (a, b): (usize, usize)) -> Box<ChaCha20Rng> {
        let name = format!(
            "link/{}-{}",
            self.participants.id(a),
            self.participants.id(b)
        );
        Box::new(random::stream(self.seed, &name))
    }

    /// Tells whether a packet's size can matter: some link has a
    /// bandwidth. Without one, sizes need not be worked out.
    pub fn weighs_packets(&self) -> bool {
        self.weighs_packets
    }

    /// Forgets the state of the links of a population's copy, once the
    /// copy is gone; a copy built again starts its links afresh.
    pub fn forget_copy(&mut self, host: usize) {
        let links = 0..self.links.len();
        for link in links.filter(|&link| self.links[link].copied_end.is_some()) {
            self.copy_links.remove(&(link, host));
        }
    }

    /// Returns the ends of every link on the path from `from` to `to`,
    /// as hosts.
    pub fn path_ends(&mut self, from: usize, to: usize) -> Vec<(usize, usize)> {
        let ends = (self.site_of(from), self.site_of(to));
        let Some(path) = self.path(ends, from == to) else {
            return Vec::new();
        };
        let hops = path.map(|position| self.hop(self.path_links[position], ends));
        hops.map(|hop| self.hop_ends(hop)).collect()
    }

    /// Returns the hosts a hop joins: the copy for a population's end.
    fn hop_ends(&self, hop: Hop) -> (usize, usize) {
        let spec = &self.links[hop.link].spec;
        let host = |site: usize| match hop.copy {
            Some(copy) if Some(site) == self.links[hop.link].copied_end => copy,
            _ => self.participants.first_of(site),
        };
        (host(spec.a), host(spec.b))
    }

    /// Sends a packet of `octets` from `from` to `to` at `now`; returns
    /// its arrival time, or why it never arrives: no path joins them, a
    /// link's queue was full, or a link lost it.
    pub fn carry(
        &mut self,
        from: usize,
        to: usize,
        now: SimTime,
        octets: usize,
    ) -> Result<SimTime, Loss> {
        let ends = (self.site_of(from), self.site_of(to));
        let Some(path) = self.path(ends, from == to) else {
            return Err(Loss {
                cause: LossCause::NoRoute,
                detail: format!(
                    "no path leads from {} to {}",
                    self.participants.id(from),
                    self.participants.id(to)
                ),
            });
        };
        let mut at = now;
        let mut here = ends.0.0;
        for position in path {
            let hop = self.hop(self.path_links[position], ends);
            let spec = &self.links[hop.link].spec;
            let direction = usize::from(spec.a != here);
            here = if direction == 0 { spec.b } else { spec.a };
            let crossing = self.cross(hop, direction, at, octets);
            at = crossing.map_err(|cause| self.loss_on(cause, self.hop_ends(hop)))?;
        }
        Ok(at)
    }

    /// Crosses one hop in `direction` starting at `at`; returns the
    /// arrival at its far end, or why the packet was lost there.
    fn cross(
        &mut self,
        hop: Hop,
        direction: usize,
        at: SimTime,
        octets: usize,
    ) -> Result<SimTime, LossCause> {
        if let Some(copy) = hop.copy {
            if !self.links[hop.link].keeps_state {
                let spec = &self.links[hop.link].spec.directions[direction];
                return Ok(at + spec.latency);
            }
            self.make_copy_state(hop, copy);
        }
        let link = &mut self.links[hop.link];
        let spec = &link.spec.directions[direction];
        let state = match hop.copy {
            None => &mut link.state,
            Some(copy) => self
                .copy_links
                .get_mut(&(hop.link, copy))
                .expect("the copy's link state was made"),
        };
        let arrival = state
            .cross(at, spec, direction, octets)
            .ok_or(LossCause::QueueFull)?;
        if state.loses_packet(spec) {
            return Err(LossCause::LinkLoss);
        }
        Ok(arrival)
    }

    /// Describes a loss on the link joining hosts `a` and `b`.
    fn loss_on(&self, cause: LossCause, (a, b): (usize, usize)) -> Loss {
        let link = format!("{} - {}", self.participants.id(a), self.participants.id(b));
        let detail = match cause {
            LossCause::QueueFull => format!("the queue of the link {link} was full"),
            _ => format!("lost on the link {link}"),
        };
        Loss { cause, detail }
    }

    /// Makes the state of a population's link for one copy when the copy
    /// first crosses it, with its own random stream if it draws.
    fn make_copy_state(&mut self, hop: Hop, copy: usize) {
        if !self.copy_links.contains_key(&(hop.link, copy)) {
            let draws = self.links[hop.link].spec.draws();
            let random = draws.then(|| self.stream_of(self.hop_ends(hop)));
            let state = LinkState {
                random,
                ..LinkState::default()
            };
            self.copy_links.insert((hop.link, copy), state);
        }
    }

    /// Returns where in `path_links` the lowest-latency path between
    /// two hosts lies, each given as its written participant and, for a
    /// copy, itself; none when no path joins them. `same_host` tells
    /// whether they are one host: two copies of one population are not
    /// joined.
    fn path(
        &mut self,
        ((from_site, _), (to_site, _)): Ends,
        same_host: bool,
    ) -> Option<Range<usize>> {
        if from_site == to_site && !same_host {
            return None;
        }
        let key = (from_site, to_site);
        if let Some(known) = self.site_paths.get(&key) {
            return known.clone();
        }
        let mut links = Vec::new();
        let found = self.route_sites(from_site, to_site, &mut links);
        let start = self.path_links.len();
        self.path_links.extend(links);
        let path = found.then_some(start..self.path_links.len());
        self.site_paths.insert(key, path.clone());
        path
    }

    /// Returns the hop crossing `link` on the way between two hosts,
    /// each given as its written participant and, for a copy, itself:
    /// the copy whose own link it is when it joins a population.
    fn hop(&self, link: usize, ((from_site, from_copy), (_, to_copy)): Ends) -> Hop {
        let copy = match self.links[link].copied_end {
            Some(site) if site == from_site => from_copy,
            Some(_) => to_copy,
            None => None,
        };
        Hop { link, copy }
    }

    /// Returns the written participant of a host, and the host itself
    /// when it is a population's copy.
    fn site_of(&self, host: usize) -> (usize, Option<usize>) {
        let (site, number) = self.participants.origin(host);
        (site, number.map(|_| host))
    }

    /// Returns the links of the lowest-latency path between two written
    /// participants. Paths come from one shortest-path tree per
    /// destination, grown once over the whole graph; the way back is the
    /// way there reversed, as links are the same both ways, so a
    /// destination's tree serves it as a source too.
    ///
    /// The links go in `links`; returns false when no path joins them.
    fn route_sites(&mut self, from: usize, to: usize, links: &mut Vec<usize>) -> bool {
        links.clear();
        if self.trees[to].is_none() && self.trees[from].is_some() {
            let found = self.walk(to, from, links);
            links.reverse();
            return found;
        }
        if self.trees[to].is_none() {
            self.trees[to] = Some(self.tree_toward(to));
        }
        self.walk(from, to, links)
    }

    /// Follows the tree of `to` from `from`, putting the links crossed in
    /// `links`; returns false when the tree does not reach `from`.
    fn walk(&self, from: usize, to: usize, links: &mut Vec<usize>) -> bool {
        let Some(tree) = &self.trees[to] else {
            unreachable!("the tree toward {to} was grown before the walk");
        };
        let mut here = from;
        while here != to {
            let Some((link, next)) = tree[here] else {
                links.clear();
                return false;
            };
            links.push(link);
            here = next;
        }
        true
    }

    /// Grows the tree of lowest-latency paths toward `to` (Dijkstra): for
    /// each written participant, the link to take and the one it leads
    /// to. Of paths of equal latency, the one whose next link was listed
    /// first wins. A population ends paths but never carries them on:
    /// its copies are separate hosts.
    fn tree_toward(&self, to: usize) -> Tree {
        let mut best: Vec<Option<(u64, usize, usize)>> = vec![None; self.nodes.len()];
        let mut done = vec![false; self.nodes.len()];
        let mut frontier = BinaryHeap::from([Reverse((0u64, to))]);
        while let Some(Reverse((distance, site))) = frontier.pop() {
            if std::mem::replace(&mut done[site], true) || self.is_transit_barred(site, to) {
                continue;
            }
            for edge in self.graph.edges(self.nodes[site]) {
                let link = *edge.weight();
                let spec = &self.links[link].spec;
                let neighbour = if spec.a == site { spec.b } else { spec.a };
                let through = (distance + spec.routing_cost(), link, site);
                let open = neighbour != to && !done[neighbour];
                if open && best[neighbour].is_none_or(|known| through < known) {
                    best[neighbour] = Some(through);
                    frontier.push(Reverse((through.0, neighbour)));
                }
            }
        }
        best.into_iter()
            .map(|step| step.map(|(_, link, next)| (link, next)))
            .collect()
    }

    /// Tells whether paths toward `to` may not go on through `site`: it
    /// is a population other than the destination.
    fn is_transit_barred(&self, site: usize, to: usize) -> bool {
        site != to && self.copied[site]
    }
}

impl LinkSpec {
    /// Tells whether crossing the link draws random numbers: it loses
    /// packets or has jitter in a direction. Other links get no random
    /// stream, which keeps a population's many links small.
    fn draws(&self) -> bool {
        let draws = |d: &Direction| d.loss > 0.0 || d.jitter > SimDuration::ZERO;
        self.directions.iter().any(draws)
    }

    /// Tells whether the link remembers anything between crossings: it
    /// draws random numbers or queues packets behind a bandwidth.
    fn keeps_state(&self) -> bool {
        self.draws() || self.directions.iter().any(|d| d.bandwidth.is_some())
    }

    /// Returns the weight routing gives the link: its latency both ways.
    fn routing_cost(&self) -> u64 {
        let [there, back] = &self.directions;
        there.latency.as_nanos() + back.latency.as_nanos()
    }
}

impl LinkState {
    /// Crosses the link in `direction` (set as `spec`) starting at `at`;
    /// returns the arrival, or `None` when the direction's queue is full.
    fn cross(
        &mut self,
        at: SimTime,
        spec: &Direction,
        direction: usize,
        octets: usize,
    ) -> Option<SimTime> {
        let sent = self.sending[direction].send(at, spec, octets)?;
        let arrival = sent + spec.latency + self.draw_jitter(spec);
        let sending = &mut self.sending[direction];
        let arrival = arrival.max(sending.last_arrival);
        sending.last_arrival = arrival;
        Some(arrival)
    }

    /// Draws whether this crossing loses the packet; draws nothing without loss.
    fn loses_packet(&mut self, spec: &Direction) -> bool {
        if spec.loss <= 0.0 {
            return false;
        }
        let uniform = (self.stream().next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        uniform < spec.loss
    }

    /// Draws this crossing's extra delay, uniform in `0..=jitter`.
    fn draw_jitter(&mut self, spec: &Direction) -> SimDuration {
        let most = spec.jitter.as_nanos();
        if most == 0 {
            return SimDuration::ZERO;
        }
        SimDuration::from_nanos(self.stream().next_u64() % (most + 1))
    }

    /// Returns the link's random stream, which it has when it draws.
    fn stream(&mut self) -> &mut ChaCha20Rng {
        self.random
            .as_mut()
            .expect("a link with loss or jitter has its random stream")
    }
}

impl Sending {
    /// Puts a packet reaching the link at `at` in line; returns when its
    /// last bit leaves, or `None` when too many packets wait already. A
    /// packet that finds the link idle is sent at once, whatever the
    /// queue's size.
    fn send(&mut self, at: SimTime, spec: &Direction, octets: usize) -> Option<SimTime> {
        if spec.bandwidth.is_none() {
            return Some(at);
        }
        while self.unsent.front().is_some_and(|&done| done <= at) {
            self.unsent.pop_front();
        }
        let busy = !self.unsent.is_empty();
        let waiting = self.unsent.len().saturating_sub(1);
        if busy && spec.queue.is_some_and(|limit| waiting >= limit) {
            return None;
        }
        let done = at.max(self.busy_until) + spec.serialization(octets);
        self.busy_until = done;
        self.unsent.push_back(done);
        Some(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Participants {
        Participants::of_plain_hosts(count)
    }

    /// Returns the links routing takes from `from` to `to`, if any.
    fn sites_crossed(topology: &mut Topology, from: usize, to: usize) -> Option<Vec<usize>> {
        let mut links = Vec::new();
        topology.route_sites(from, to, &mut links).then_some(links)
    }

    fn link(a: usize, b: usize, millis: u64) -> LinkSpec {
        let direction = Direction::with_latency(SimDuration::from_millis(millis));
        LinkSpec {
            a,
            b,
            directions: [direction.clone(), direction],
        }
    }

    #[test]
    fn loss_of_one_drops_every_packet_and_loss_of_zero_none() {
        let mut lossy = link(0, 1, 10);
        lossy.directions[0].loss = 1.0;
        let mut topology = Topology::new(5, &names(2), &[lossy]);
        assert_eq!(
            topology.carry(0, 1, SimTime::ZERO, 40).map_err(|l| l.cause),
            Err(LossCause::LinkLoss)
        );
        let mut topology = Topology::new(5, &names(2), &[link(0, 1, 10)]);
        assert!(topology.carry(0, 1, SimTime::ZERO, 40).is_ok());
    }

    #[test]
    fn half_loss_drops_about_half_and_repeats_with_the_seed() {
        let mut lossy = link(0, 1, 10);
        lossy.directions[0].loss = 0.5;
        let count = |seed| {
            let mut topology = Topology::new(seed, &names(2), std::slice::from_ref(&lossy));
            (0..1000u64)
                .filter(|i| {
                    topology
                        .carry(0, 1, SimTime::from_nanos(i * 1000), 40)
                        .is_err()
                })
                .count()
        };
        assert_eq!(count(9), count(9));
        assert!((400..600).contains(&count(9)), "lost {} of 1000", count(9));
    }

    #[test]
    fn packet_takes_the_path_of_lowest_total_latency() {
        let links = [link(0, 1, 10), link(1, 2, 10), link(0, 2, 30)];
        let mut topology = Topology::new(1, &names(3), &links);
        let arrival = topology.carry(0, 2, SimTime::ZERO, 40);
        assert_eq!(arrival, Ok(SimTime::from_nanos(20_000_000)));
    }

    #[test]
    fn of_equal_paths_the_one_whose_first_link_is_listed_first_wins() {
        // 0 - 1 - 2 and 0 - 2 both take 20 ms; link 0 (0 - 1) comes first.
        let links = [link(0, 1, 10), link(1, 2, 10), link(0, 2, 20)];
        let mut topology = Topology::new(1, &names(3), &links);
        assert_eq!(sites_crossed(&mut topology, 0, 2), Some(vec![0, 1]));
    }

    #[test]
    fn the_way_back_is_the_way_there_reversed() {
        let links = [
            link(0, 1, 10),
            link(1, 2, 10),
            link(0, 2, 30),
            link(2, 3, 5),
        ];
        let mut topology = Topology::new(1, &names(4), &links);
        assert_eq!(sites_crossed(&mut topology, 0, 3), Some(vec![0, 1, 3]));
        assert_eq!(sites_crossed(&mut topology, 3, 0), Some(vec![3, 1, 0]));
        let grown = topology.trees.iter().flatten().count();
        assert_eq!(grown, 1, "one tree serves both ways");
    }

    #[test]
    fn unlinked_hosts_have_no_route() {
        let mut topology = Topology::new(1, &names(3), &[link(0, 1, 10)]);
        assert_eq!(
            topology.carry(0, 2, SimTime::ZERO, 40).map_err(|l| l.cause),
            Err(LossCause::NoRoute)
        );
    }

    #[test]
    fn jitter_stays_within_bounds_and_never_reorders() {
        let mut spec = link(0, 1, 10);
        spec.directions[0].jitter = SimDuration::from_millis(5);
        let mut topology = Topology::new(3, &names(2), &[spec]);
        let mut previous = SimTime::ZERO;
        for step in 0..200u64 {
            let sent = SimTime::from_nanos(step * 100_000);
            let arrival = topology.carry(0, 1, sent, 40).unwrap();
            assert!(
                arrival >= previous,
                "a later packet overtook an earlier one"
            );
            let delay = arrival.since(sent).as_nanos();
            assert!(delay >= 10_000_000, "arrived before the latency elapsed");
            previous = arrival;
        }
    }

    fn slow(bits_per_second: u64, queue: Option<usize>) -> LinkSpec {
        let mut spec = link(0, 1, 10);
        spec.directions[0].bandwidth = Some(bits_per_second);
        spec.directions[0].queue = queue;
        spec
    }

    #[test]
    fn serialization_is_size_over_bandwidth_rounded_up() {
        // 1500 octets = 12000 bits; at 10 Mbit/s that is 1.2 ms.
        let ten_megabits = slow(10_000_000, None).directions[0].clone();
        assert_eq!(ten_megabits.serialization(1500).as_nanos(), 1_200_000);
        // 8 bits at 3 bit/s: 8/3 s = 2.666... s, rounded up to the nanosecond.
        let three_bits = slow(3, None).directions[0].clone();
        assert_eq!(three_bits.serialization(1).as_nanos(), 2_666_666_667);
    }

    #[test]
    fn packets_sent_together_wait_their_turn() {
        // 40 octets at 64 kbit/s: 320 bits take 5 ms, then 10 ms latency.
        let mut topology = Topology::new(1, &names(2), &[slow(64_000, None)]);
        let first = topology.carry(0, 1, SimTime::ZERO, 40).unwrap();
        let second = topology.carry(0, 1, SimTime::ZERO, 40).unwrap();
        assert_eq!(first, SimTime::from_nanos(15_000_000));
        assert_eq!(second, SimTime::from_nanos(20_000_000));
    }

    #[test]
    fn the_other_direction_keeps_its_own_settings() {
        let mut topology = Topology::new(1, &names(2), &[slow(64_000, None)]);
        let back = topology.carry(1, 0, SimTime::ZERO, 40).unwrap();
        assert_eq!(back, SimTime::from_nanos(10_000_000));
    }

    #[test]
    fn a_packet_finding_the_queue_full_is_lost() {
        // One being sent, one waiting: the third finds the queue of 1 full.
        let mut topology = Topology::new(1, &names(2), &[slow(64_000, Some(1))]);
        assert!(topology.carry(0, 1, SimTime::ZERO, 40).is_ok());
        assert!(topology.carry(0, 1, SimTime::ZERO, 40).is_ok());
        let third = topology.carry(0, 1, SimTime::ZERO, 40);
        assert_eq!(third.map_err(|l| l.cause), Err(LossCause::QueueFull));
        // Once the first has left (5 ms), there is room again.
        let later = topology.carry(0, 1, SimTime::from_nanos(5_000_000), 40);
        assert_eq!(later, Ok(SimTime::from_nanos(25_000_000)));
    }

    #[test]
    fn with_no_queue_only_a_packet_finding_the_link_idle_goes() {
        // 40 octets at 64 kbit/s take 5 ms: the first goes at once, the
        // second finds it still being sent and no room to wait.
        let mut topology = Topology::new(1, &names(2), &[slow(64_000, Some(0))]);
        let first = topology.carry(0, 1, SimTime::ZERO, 40);
        assert_eq!(first, Ok(SimTime::from_nanos(15_000_000)));
        let second = topology.carry(0, 1, SimTime::from_nanos(1_000_000), 40);
        assert_eq!(second.map_err(|l| l.cause), Err(LossCause::QueueFull));
        let idle_again = topology.carry(0, 1, SimTime::from_nanos(5_000_000), 40);
        assert_eq!(idle_again, Ok(SimTime::from_nanos(20_000_000)));
    }

    #[test]
    fn zero_latency_links_route_without_going_round_in_circles() {
        // h0 - h1 takes no time; the way from h0 to h2 is h0, h1, h2
        // (0 + 10 ms), not the direct 20 ms link, and the way back from h1
        // to h0 is the zero link itself.
        let links = [link(0, 1, 0), link(1, 2, 10), link(0, 2, 20)];
        let mut topology = Topology::new(1, &names(3), &links);
        let there = topology.carry(0, 2, SimTime::ZERO, 40);
        assert_eq!(there, Ok(SimTime::from_nanos(10_000_000)));
        let across = topology.carry(1, 0, SimTime::ZERO, 40);
        assert_eq!(across, Ok(SimTime::ZERO));
    }

    /// Host 0 single, hosts 1 to 3 copies of one population, host 4
    /// single: written participants 0, 1 (the population) and 2.
    fn with_population() -> Participants {
        let plain = Participants::of_plain_hosts(3);
        let written = plain
            .written()
            .iter()
            .cloned()
            .enumerate()
            .map(|(site, p)| {
                let copies = (site == 1).then_some(crate::scenario::population::Copies {
                    count: 3,
                    interval: SimDuration::ZERO,
                });
                (p, copies)
            });
        let mut written: Vec<_> = written.collect();
        written[2].0.address = std::net::Ipv4Addr::new(10, 0, 1, 1);
        Participants::new(written)
    }

    #[test]
    fn each_copy_crosses_a_link_of_its_own() {
        // Written links 0 - 1 (the population) at 64 kbit/s, 10 ms: 40
        // octets take 5 ms to send. Copies 1 and 2 sending at once do not
        // queue behind each other; the same copy twice does.
        let mut topology = Topology::new(1, &with_population(), &[slow(64_000, None)]);
        let copy_one = topology.carry(0, 1, SimTime::ZERO, 40);
        let copy_two = topology.carry(0, 2, SimTime::ZERO, 40);
        let copy_one_again = topology.carry(0, 1, SimTime::ZERO, 40);
        assert_eq!(copy_one, Ok(SimTime::from_nanos(15_000_000)));
        assert_eq!(copy_two, Ok(SimTime::from_nanos(15_000_000)));
        assert_eq!(copy_one_again, Ok(SimTime::from_nanos(20_000_000)));
        assert_eq!(topology.path_ends(2, 0), vec![(0, 2)]);
        topology.forget_copy(1);
        let after_forgetting = topology.carry(0, 1, SimTime::ZERO, 40);
        assert_eq!(after_forgetting, Ok(SimTime::from_nanos(15_000_000)));
    }

    #[test]
    fn routes_end_at_copies_but_never_pass_through_them() {
        // 0 - population - 2 is the only way from 0 to 2: no route, and
        // no route from one copy to another either.
        let links = [link(0, 1, 10), link(1, 2, 10)];
        let mut topology = Topology::new(1, &with_population(), &links);
        let through = topology.carry(0, 4, SimTime::ZERO, 40);
        assert_eq!(through.map_err(|l| l.cause), Err(LossCause::NoRoute));
        let between_copies = topology.carry(1, 3, SimTime::ZERO, 40);
        assert_eq!(between_copies.map_err(|l| l.cause), Err(LossCause::NoRoute));
        assert_eq!(
            topology.carry(3, 4, SimTime::ZERO, 40),
            Ok(SimTime::from_nanos(10_000_000))
        );
    }
}
