//! The hosts of a run, by participant index, where a host may not exist
//! yet or any more.
//!
//! A population copy's host is built when something first happens to it
//! (its client's start, or a packet that reaches it) and dropped once it
//! can do nothing more: its client is done and every connection it had
//! is CLOSED. A dropped copy that is reached again is built afresh; with
//! no connection, no question and no timer left, it answers exactly as
//! the old one would have (a segment gets a reset, a datagram is
//! ignored). Every other host is built before the run and kept.
//!
//! The last host dropped is kept aside: the next one put in takes over
//! its box and the room of its lists, so a run that builds a host per
//! session does not allocate them afresh each time. Nothing it held is
//! carried over.

use std::ops::{Index, IndexMut};

use super::host::Host;

/// The hosts of a run; a slot is empty while its host is not built.
#[derive(Debug, Default)]
pub struct Hosts {
    slots: Vec<Option<Box<Host>>>,
    /// The last host dropped, whose memory the next host put in reuses.
    retired: Option<Box<Host>>,
}

impl Hosts {
    /// Holds `count` hosts, none built yet.
    pub fn with_slots(count: usize) -> Hosts {
        let mut slots = Vec::with_capacity(count);
        slots.resize_with(count, || None);
        Hosts {
            slots,
            retired: None,
        }
    }

    /// Returns how many hosts the run has, built or not.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Tells whether the host at `index` is built.
    pub fn is_built(&self, index: usize) -> bool {
        self.slots[index].is_some()
    }

    /// Puts a freshly built host at `index`, in the box of the last
    /// host dropped when there is one.
    pub fn put(&mut self, index: usize, mut host: Host) {
        let boxed = match self.retired.take() {
            Some(mut retired) => {
                host.reuse_memory_of(&mut retired);
                *retired = host;
                retired
            }
            None => Box::new(host),
        };
        self.slots[index] = Some(boxed);
    }

    /// Drops the host at `index`, keeping its memory for the next one.
    pub fn drop_host(&mut self, index: usize) {
        if let Some(host) = self.slots[index].take() {
            self.retired = Some(host);
        }
    }

    /// Returns the host at `index`, if it is built.
    pub fn get(&self, index: usize) -> Option<&Host> {
        self.slots[index].as_deref()
    }

    /// Returns the hosts built now, in participant order; a dropped copy
    /// has nothing left to say.
    pub fn built(&self) -> impl Iterator<Item = &Host> {
        self.slots.iter().filter_map(|slot| slot.as_deref())
    }
}

impl Index<usize> for Hosts {
    type Output = Host;

    fn index(&self, index: usize) -> &Host {
        self.get(index)
            .expect("a host is built before anything happens to it")
    }
}

impl IndexMut<usize> for Hosts {
    fn index_mut(&mut self, index: usize) -> &mut Host {
        self.slots[index]
            .as_deref_mut()
            .expect("a host is built before anything happens to it")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::net::Ipv4Addr;

    use super::*;
    use crate::sim::host::Ends;
    use crate::time::SimTime;

    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 25);

    /// Returns a host with no application, at 192.0.2.1.
    fn host(id: &str) -> Host {
        Host::new(id, Ipv4Addr::new(192, 0, 2, 1), 1, None)
    }

    #[test]
    fn a_host_put_after_a_dropped_one_takes_its_box_and_nothing_it_held() {
        let mut hosts = Hosts::with_slots(2);
        hosts.put(0, host("first"));
        let endpoint = hosts[0].add_script_endpoint(BTreeSet::new());
        let port = hosts[0].open_scripted(SimTime::ZERO, endpoint, PEER, 25, Some(50000));
        let ends = Ends {
            local_port: port,
            remote: PEER,
            remote_port: 25,
        };
        assert!(hosts[0].connection_state(ends).is_some());
        let first_box: *const Host = &hosts[0];
        hosts.drop_host(0);
        assert!(!hosts.is_built(0));

        hosts.put(1, host("second"));

        assert!(std::ptr::eq(&hosts[1], first_box), "the box is reused");
        assert_eq!(hosts[1].connection_state(ends), None);
        assert!(hosts[1].is_idle(), "no connection, timer or packet left");
        assert!(hosts[1].take_outbox().is_empty(), "the SYN stayed behind");
        assert_eq!(hosts[1].next_deadline(), None);
    }
}
