//! Hosts and links as a petgraph graph, with routing and link timing.
//!
//! A packet follows the path of lowest total latency. Each link adds its
//! latency plus a jitter drawn uniformly from `0..=jitter` out of the
//! link's own random stream. A link delivers in the order it was given
//! packets in each direction (a later packet never overtakes an earlier
//! one), so jitter spreads arrivals without reordering them.
//!
//! A link with a `loss` probability drops each crossing packet with that
//! probability, drawn from the same stream after the jitter; a link
//! without loss draws nothing for it, so adding loss elsewhere never
//! shifts its draws.
//!
//! Not modelled: bandwidth and queueing (every link is infinitely fast
//! and never full), routers as separate hops, asymmetric latency, loss
//! that depends on direction or on bursts.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use petgraph::graph::{NodeIndex, UnGraph};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;

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
    /// The one-way delay.
    pub latency: SimDuration,
    /// The most extra delay one crossing may add.
    pub jitter: SimDuration,
    /// The probability, from 0 to 1, that a crossing loses the packet.
    pub loss: f64,
}

/// A link's timing state.
#[derive(Debug)]
struct Link {
    spec: LinkSpec,
    random: ChaCha20Rng,
    last_arrival: [SimTime; 2],
}

/// The network: who is linked to whom, and how packets cross it.
#[derive(Debug)]
pub struct Topology {
    graph: UnGraph<usize, usize>,
    nodes: Vec<NodeIndex>,
    links: Vec<Link>,
    trees: BTreeMap<usize, Vec<Option<(usize, usize)>>>,
    names: Vec<String>,
}

impl Topology {
    /// Builds the graph of `host_count` hosts joined by `links`.
    ///
    /// `names` gives each host's stable name, for the links' random streams.
    pub fn new(seed: u64, names: &[String], links: &[LinkSpec]) -> Topology {
        let mut graph = UnGraph::default();
        let nodes: Vec<NodeIndex> = (0..names.len()).map(|host| graph.add_node(host)).collect();
        let links = links.iter().enumerate().map(|(index, spec)| {
            graph.add_edge(nodes[spec.a], nodes[spec.b], index);
            let name = format!("link/{}-{}", names[spec.a], names[spec.b]);
            Link {
                spec: spec.clone(),
                random: random::stream(seed, &name),
                last_arrival: [SimTime::ZERO; 2],
            }
        });
        let links = links.collect();
        Topology {
            graph,
            nodes,
            links,
            trees: BTreeMap::new(),
            names: names.to_vec(),
        }
    }

    /// Sends a packet from `from` to `to` at `now`; returns its arrival
    /// time, or why it never arrives: no path joins them, or a link lost it.
    pub fn carry(&mut self, from: usize, to: usize, now: SimTime) -> Result<SimTime, Loss> {
        let Some(path) = self.route(from, to) else {
            return Err(Loss {
                cause: LossCause::NoRoute,
                detail: format!(
                    "no path leads from {} to {}",
                    self.names[from], self.names[to]
                ),
            });
        };
        let mut at = now;
        let mut here = from;
        for link_index in path {
            let link = &mut self.links[link_index];
            let forward = link.spec.a == here;
            at = link.cross(at, usize::from(!forward));
            if link.loses_packet() {
                let (a, b) = (link.spec.a, link.spec.b);
                return Err(Loss {
                    cause: LossCause::LinkLoss,
                    detail: format!("lost on the link {} - {}", self.names[a], self.names[b]),
                });
            }
            here = if forward { link.spec.b } else { link.spec.a };
        }
        Ok(at)
    }

    /// Returns the links of the lowest-latency path. Paths come from one
    /// shortest-path tree per destination, grown once over the whole
    /// graph; the way back is the way there reversed, as links are the
    /// same both ways, so a destination's tree serves it as a source too.
    fn route(&mut self, from: usize, to: usize) -> Option<Vec<usize>> {
        if !self.trees.contains_key(&to) && self.trees.contains_key(&from) {
            let mut back = self.walk(to, from)?;
            back.reverse();
            return Some(back);
        }
        if !self.trees.contains_key(&to) {
            let tree = self.tree_toward(to);
            self.trees.insert(to, tree);
        }
        self.walk(from, to)
    }

    /// Follows the tree of `to` from `from`; returns the links crossed.
    fn walk(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let tree = &self.trees[&to];
        let mut links = Vec::new();
        let mut here = from;
        while here != to {
            let (link, next) = tree[here]?;
            links.push(link);
            here = next;
        }
        Some(links)
    }

    /// Grows the tree of lowest-latency paths toward `to` (Dijkstra): for
    /// each host, the link to take and the host it leads to. Of paths of
    /// equal latency, the one whose next link was listed first wins.
    fn tree_toward(&self, to: usize) -> Vec<Option<(usize, usize)>> {
        let mut best: Vec<Option<(u64, usize, usize)>> = vec![None; self.nodes.len()];
        let mut done = vec![false; self.nodes.len()];
        let mut frontier = BinaryHeap::from([Reverse((0u64, to))]);
        while let Some(Reverse((distance, host))) = frontier.pop() {
            if std::mem::replace(&mut done[host], true) {
                continue;
            }
            for edge in self.graph.edges(self.nodes[host]) {
                let link = *edge.weight();
                let spec = &self.links[link].spec;
                let neighbour = if spec.a == host { spec.b } else { spec.a };
                let through = (distance + spec.latency.as_nanos(), link, host);
                if neighbour != to && best[neighbour].is_none_or(|known| through < known) {
                    best[neighbour] = Some(through);
                    frontier.push(Reverse((through.0, neighbour)));
                }
            }
        }
        best.into_iter()
            .map(|step| step.map(|(_, link, next)| (link, next)))
            .collect()
    }
}

impl Link {
    /// Crosses the link in one direction starting at `at`; returns the arrival.
    fn cross(&mut self, at: SimTime, direction: usize) -> SimTime {
        let arrival = at + self.spec.latency + self.draw_jitter();
        let arrival = arrival.max(self.last_arrival[direction]);
        self.last_arrival[direction] = arrival;
        arrival
    }

    /// Draws whether this crossing loses the packet; draws nothing without loss.
    fn loses_packet(&mut self) -> bool {
        if self.spec.loss <= 0.0 {
            return false;
        }
        let uniform = (self.random.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        uniform < self.spec.loss
    }

    /// Draws this crossing's extra delay, uniform in `0..=jitter`.
    fn draw_jitter(&mut self) -> SimDuration {
        let most = self.spec.jitter.as_nanos();
        if most == 0 {
            return SimDuration::ZERO;
        }
        SimDuration::from_nanos(self.random.next_u64() % (most + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("h{i}")).collect()
    }

    fn link(a: usize, b: usize, millis: u64) -> LinkSpec {
        LinkSpec {
            a,
            b,
            latency: SimDuration::from_millis(millis),
            jitter: SimDuration::ZERO,
            loss: 0.0,
        }
    }

    #[test]
    fn loss_of_one_drops_every_packet_and_loss_of_zero_none() {
        let mut lossy = link(0, 1, 10);
        lossy.loss = 1.0;
        let mut topology = Topology::new(5, &names(2), &[lossy]);
        assert_eq!(
            topology.carry(0, 1, SimTime::ZERO).map_err(|l| l.cause),
            Err(LossCause::LinkLoss)
        );
        let mut topology = Topology::new(5, &names(2), &[link(0, 1, 10)]);
        assert!(topology.carry(0, 1, SimTime::ZERO).is_ok());
    }

    #[test]
    fn half_loss_drops_about_half_and_repeats_with_the_seed() {
        let mut lossy = link(0, 1, 10);
        lossy.loss = 0.5;
        let count = |seed| {
            let mut topology = Topology::new(seed, &names(2), std::slice::from_ref(&lossy));
            (0..1000u64)
                .filter(|i| topology.carry(0, 1, SimTime::from_nanos(i * 1000)).is_err())
                .count()
        };
        assert_eq!(count(9), count(9));
        assert!((400..600).contains(&count(9)), "lost {} of 1000", count(9));
    }

    #[test]
    fn packet_takes_the_path_of_lowest_total_latency() {
        let links = [link(0, 1, 10), link(1, 2, 10), link(0, 2, 30)];
        let mut topology = Topology::new(1, &names(3), &links);
        let arrival = topology.carry(0, 2, SimTime::ZERO);
        assert_eq!(arrival, Ok(SimTime::from_nanos(20_000_000)));
    }

    #[test]
    fn of_equal_paths_the_one_whose_first_link_is_listed_first_wins() {
        // 0 - 1 - 2 and 0 - 2 both take 20 ms; link 0 (0 - 1) comes first.
        let links = [link(0, 1, 10), link(1, 2, 10), link(0, 2, 20)];
        let mut topology = Topology::new(1, &names(3), &links);
        assert_eq!(topology.route(0, 2), Some(vec![0, 1]));
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
        assert_eq!(topology.route(0, 3), Some(vec![0, 1, 3]));
        assert_eq!(topology.route(3, 0), Some(vec![3, 1, 0]));
        assert_eq!(topology.trees.len(), 1, "one tree serves both ways");
    }

    #[test]
    fn unlinked_hosts_have_no_route() {
        let mut topology = Topology::new(1, &names(3), &[link(0, 1, 10)]);
        assert_eq!(
            topology.carry(0, 2, SimTime::ZERO).map_err(|l| l.cause),
            Err(LossCause::NoRoute)
        );
    }

    #[test]
    fn jitter_stays_within_bounds_and_never_reorders() {
        let mut spec = link(0, 1, 10);
        spec.jitter = SimDuration::from_millis(5);
        let mut topology = Topology::new(3, &names(2), &[spec]);
        let mut previous = SimTime::ZERO;
        for step in 0..200u64 {
            let sent = SimTime::from_nanos(step * 100_000);
            let arrival = topology.carry(0, 1, sent).unwrap();
            assert!(
                arrival >= previous,
                "a later packet overtook an earlier one"
            );
            let delay = arrival.since(sent).as_nanos();
            assert!(delay >= 10_000_000, "arrived before the latency elapsed");
            previous = arrival;
        }
    }
}
