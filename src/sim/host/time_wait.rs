//! The connections a host holds in TIME-WAIT, each kept as a small fixed
//! record instead of a whole connection.
//!
//! A host that closes first keeps each connection it closed for 2 x MSL
//! (RFC 9293 §3.10.7.4): at one session a millisecond, a mail server
//! holds hundreds of thousands. TIME-WAIT only answers stray segments
//! and waits, so each such connection is parked as a [`Parked`] record:
//! its deadline, its id, owner and peer, and the ports and sequence
//! variables of [`tcp::TimeWait`], 40 bytes in all.
//!
//! Records wait in a queue in the order of their deadlines. Every wait
//! lasts the host's 2 x MSL from the moment it starts or restarts, so a
//! record parked later ends later: the next deadline is the front's, and
//! no sorted timer index is needed. An index by ends, a hash map looked
//! up for every segment the host receives, finds the record a segment is
//! for.
//!
//! Whatever reaches a parked connection (a segment, its deadline) takes
//! its record out, and the host rebuilds the connection and handles it
//! like any other; at the end of its turn, still quiet in TIME-WAIT, it
//! is parked again at the back. A record taken out leaves its slot in
//! the queue until the slot reaches the front.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use crate::protocol::host_api::ConnId;
use crate::protocol::tcp;
use crate::time::SimTime;
use rustc_hash::FxHashMap;

/// The ends of a connection as a host keys them: its own port, the
/// peer's address and the peer's port.
pub type EndsKey = (u16, Ipv4Addr, u16);

/// A connection in TIME-WAIT and who owns it, without its queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parked {
    /// When TIME-WAIT ends.
    pub until: SimTime,
    /// The connection's id, which its application knows it by.
    pub conn: ConnId,
    /// The peer's address.
    pub remote: Ipv4Addr,
    /// The index of the application that owns it.
    pub app: u16,
    /// Whether the peer opened it.
    pub accepted: bool,
    /// The ports and sequence variables.
    pub sequence: tcp::TimeWait,
}

impl Parked {
    /// Returns the ends the host keys the connection by.
    pub fn key(&self) -> EndsKey {
        (
            self.sequence.local_port,
            self.remote,
            self.sequence.remote_port,
        )
    }
}

/// The parked connections, in the order of their deadlines.
#[derive(Debug, Default)]
pub struct TimeWaitTable {
    /// The records, earliest deadline first; slots whose record was taken
    /// out stay until they reach the front.
    queue: VecDeque<Parked>,
    /// The number of the front slot; slots are numbered in the order they
    /// were filled, wrapping at 2^32.
    front_number: u32,
    /// The slot number of each parked connection, by its ends.
    index: FxHashMap<EndsKey, u32>,
}

impl TimeWaitTable {
    /// Parks a connection at the back of the queue, or gives the record
    /// back when it would end before the last one parked.
    pub fn park(&mut self, parked: Parked) -> Result<(), Parked> {
        if self
            .queue
            .back()
            .is_some_and(|last| last.until > parked.until)
        {
            return Err(parked);
        }
        let number = self.front_number.wrapping_add(self.queue.len() as u32);
        self.queue.push_back(parked);
        self.index.insert(parked.key(), number);
        Ok(())
    }

    /// Takes out the record of the connection with these ends.
    pub fn take(&mut self, key: &EndsKey) -> Option<Parked> {
        let number = self.index.remove(key)?;
        let slot = number.wrapping_sub(self.front_number) as usize;
        let parked = self.queue[slot];
        self.drop_emptied_front();
        Some(parked)
    }

    /// Takes out the record whose TIME-WAIT ends first, if it ends by `now`.
    pub fn take_due(&mut self, now: SimTime) -> Option<Parked> {
        let front = self.queue.front().filter(|front| front.until <= now)?;
        let key = front.key();
        self.take(&key)
    }

    /// Returns when the first TIME-WAIT ends.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.queue.front().map(|front| front.until)
    }

    /// Tells whether the connection with these ends is parked.
    pub fn contains(&self, key: &EndsKey) -> bool {
        self.index.contains_key(key)
    }

    /// Tells whether no connection is parked.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Takes over the room of `old`'s queue and index wherever this
    /// table has none; whatever `old` still held is dropped.
    pub fn reuse_memory_of(&mut self, old: &mut TimeWaitTable) {
        if self.queue.capacity() == 0 {
            old.queue.clear();
            std::mem::swap(&mut self.queue, &mut old.queue);
        }
        if self.index.capacity() == 0 {
            old.index.clear();
            std::mem::swap(&mut self.index, &mut old.index);
        }
    }

    /// Returns how many connections are parked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Drops the front slots whose records were taken out, so that the
    /// front always holds a parked connection.
    fn drop_emptied_front(&mut self) {
        while let Some(front) = self.queue.front() {
            if self.index.get(&front.key()) == Some(&self.front_number) {
                return;
            }
            self.queue.pop_front();
            self.front_number = self.front_number.wrapping_add(1);
        }
    }
}
