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

use std::collections::BTreeMap;

use petgraph::algo::astar;
use petgraph::graph::{EdgeReference, NodeIndex, UnGraph};
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
    routes: BTreeMap<(usize, usize), Option<Vec<usize>>>,
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
            routes: BTreeMap::new(),
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

    /// Returns the links of the lowest-latency path, computed once per
    /// pair: the way back is the way there reversed, as links are the
    /// same both ways.
    fn route(&mut self, from: usize, to: usize) -> Option<Vec<usize>> {
        if let Some(known) = self.routes.get(&(from, to)) {
            return known.clone();
        }
        let reversed = self.routes.get(&(to, from)).cloned().map(|path| {
            path.map(|mut links| {
                links.reverse();
                links
            })
        });
        let found = reversed.unwrap_or_else(|| self.shortest_path(from, to));
        self.routes.insert((from, to), found.clone());
        found
    }

    /// Finds the path of lowest total latency as a list of link indices.
    fn shortest_path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let cost = |edge: EdgeReference<usize>| self.links[*edge.weight()].spec.latency.as_nanos();
        let (_, nodes) = astar(
            &self.graph,
            self.nodes[from],
            |n| n == self.nodes[to],
            cost,
            |_| 0,
        )?;
        let hops = nodes
            .windows(2)
            .map(|pair| self.link_between(pair[0], pair[1]));
        Some(hops.collect())
    }

    /// Returns the lowest-latency link joining two adjacent nodes.
    fn link_between(&self, a: NodeIndex, b: NodeIndex) -> usize {
        let edges = self.graph.edges_connecting(a, b).map(|edge| *edge.weight());
        let fastest = edges.min_by_key(|&index| (self.links[index].spec.latency, index));
        fastest.expect("adjacent nodes on a path share a link")
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
