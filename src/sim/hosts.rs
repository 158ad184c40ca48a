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

use std::ops::{Index, IndexMut};

use super::host::Host;

/// The hosts of a run; a slot is empty while its host is not built.
#[derive(Debug, Default)]
pub struct Hosts {
    slots: Vec<Option<Box<Host>>>,
}

impl Hosts {
    /// Holds `count` hosts, none built yet.
    pub fn with_slots(count: usize) -> Hosts {
        let mut slots = Vec::with_capacity(count);
        slots.resize_with(count, || None);
        Hosts { slots }
    }

    /// Returns how many hosts the run has, built or not.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Tells whether the host at `index` is built.
    pub fn is_built(&self, index: usize) -> bool {
        self.slots[index].is_some()
    }

    /// Puts a freshly built host at `index`.
    pub fn put(&mut self, index: usize, host: Host) {
        self.slots[index] = Some(Box::new(host));
    }

    /// Drops the host at `index`.
    pub fn drop_host(&mut self, index: usize) {
        self.slots[index] = None;
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
