//! A host's live TCP connections, each in a numbered slot, found by its
//! id or by its ends.
//!
//! A segment or a request names a connection once; the host turns the
//! name into a slot number with one hash lookup and reaches the
//! connection by that number for the rest of its work. Slots freed when
//! a connection closes or is parked are filled again by the next one, so
//! the slots never outnumber the connections open at once. Slot numbers
//! say nothing of order: whatever the host does in turn across
//! connections it does in [`ConnId`] order. The lookups hash with
//! rustc-hash's fast non-cryptographic hash (keys come from the
//! scenario, not from an adversary); the maps are never walked.

use std::net::Ipv4Addr;

use super::time_wait::EndsKey;
use crate::protocol::host_api::ConnId;
use crate::protocol::tcp::Connection;
use crate::time::SimTime;
use rustc_hash::FxHashMap;

/// A TCP connection, who owns it, and where its timer is filed.
#[derive(Debug)]
pub struct Socket {
    /// The connection's id, which its application knows it by.
    pub conn: ConnId,
    /// The connection.
    pub connection: Connection,
    /// The peer's address.
    pub remote: Ipv4Addr,
    /// The index of the application that owns it.
    pub app: usize,
    /// Whether the peer opened it.
    pub accepted: bool,
    /// The time the connection is filed under among the host's timers,
    /// never later than its deadline (see the `timers` module).
    pub filed: Option<SimTime>,
}

impl Socket {
    /// Returns the ends the host keys the connection by.
    pub fn key(&self) -> EndsKey {
        (
            self.connection.local_port(),
            self.remote,
            self.connection.remote_port(),
        )
    }
}

/// The live connections in their slots, and the two ways to find them.
#[derive(Debug, Default)]
pub struct Sockets {
    /// The connections; an empty slot waits in `free`. Room is made for
    /// one at first, since most hosts never hold more.
    slots: Vec<Option<Socket>>,
    /// The empty slots, the last freed on top.
    free: Vec<usize>,
    /// The slot of each connection, by id.
    by_id: FxHashMap<ConnId, usize>,
    /// The slot of a connection, by its ends.
    by_ends: FxHashMap<EndsKey, usize>,
}

impl Sockets {
    /// Puts a connection in a free slot, findable by its id and, instead
    /// of any other, by its ends; returns the slot.
    pub fn insert(&mut self, socket: Socket) -> usize {
        let (conn, key) = (socket.conn, socket.key());
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(socket);
                slot
            }
            None => {
                if self.slots.is_empty() {
                    self.slots.reserve_exact(1);
                }
                self.slots.push(Some(socket));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(conn, slot);
        self.by_ends.insert(key, slot);
        slot
    }

    /// Takes the connection out of `slot`, and forgets whichever
    /// connection its ends find.
    pub fn remove(&mut self, slot: usize) -> Option<Socket> {
        let socket = self.slots.get_mut(slot)?.take()?;
        self.by_ends.remove(&socket.key());
        self.by_id.remove(&socket.conn);
        self.free.push(slot);
        Some(socket)
    }

    /// Returns the connection in `slot`.
    pub fn get(&self, slot: usize) -> Option<&Socket> {
        self.slots.get(slot)?.as_ref()
    }

    /// Returns the connection in `slot`, to change it.
    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Socket> {
        self.slots.get_mut(slot)?.as_mut()
    }

    /// Returns the slot of the connection `conn`.
    pub fn slot_of(&self, conn: ConnId) -> Option<usize> {
        self.by_id.get(&conn).copied()
    }

    /// Returns the slot of `conn`, trying `hint` first: the slot it was
    /// in when last seen.
    pub fn find(&self, conn: ConnId, hint: usize) -> Option<usize> {
        match self.get(hint) {
            Some(socket) if socket.conn == conn => Some(hint),
            _ => self.slot_of(conn),
        }
    }

    /// Returns the slot of the connection with these ends.
    pub fn slot_at(&self, key: &EndsKey) -> Option<usize> {
        self.by_ends.get(key).copied()
    }

    /// Tells whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Tells whether a connection with these ends is live.
    pub fn contains_ends(&self, key: &EndsKey) -> bool {
        self.by_ends.contains_key(key)
    }

    /// Takes over the room of `old`'s lists and maps wherever these have
    /// none; whatever `old` still held is dropped.
    pub fn reuse_memory_of(&mut self, old: &mut Sockets) {
        super::reuse_list(&mut self.slots, &mut old.slots);
        super::reuse_list(&mut self.free, &mut old.free);
        reuse_map(&mut self.by_id, &mut old.by_id);
        reuse_map(&mut self.by_ends, &mut old.by_ends);
    }
}

/// Takes over the room of `old` if `map` has none, emptied.
fn reuse_map<K, V>(map: &mut FxHashMap<K, V>, old: &mut FxHashMap<K, V>) {
    if map.capacity() == 0 {
        old.clear();
        std::mem::swap(map, old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tcp::Config;
    use crate::wire::tcp::SeqNumber;

    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 25);

    /// Returns a connection `conn` from `port` to port 25 of the peer.
    fn socket(conn: u32, port: u16) -> Socket {
        Socket {
            conn: ConnId(conn),
            connection: Connection::connect(Config::default(), port, 25, SeqNumber(0)),
            remote: PEER,
            app: 0,
            accepted: false,
            filed: None,
        }
    }

    #[test]
    fn a_connection_is_found_by_id_and_by_ends() {
        let mut sockets = Sockets::default();
        sockets.insert(socket(1, 50000));
        let slot = sockets.insert(socket(2, 50001));
        assert_eq!(slot, 1, "the second connection takes the second slot");
        assert_eq!(sockets.slot_of(ConnId(2)), Some(1));
        assert_eq!(sockets.slot_at(&(50001, PEER, 25)), Some(1));
        assert_eq!(sockets.slot_at(&(50001, PEER, 26)), None);
    }

    #[test]
    fn a_freed_slot_is_filled_by_the_next_connection() {
        let mut sockets = Sockets::default();
        sockets.insert(socket(1, 50000));
        sockets.insert(socket(2, 50001));
        let gone = sockets.remove(0).map(|socket| socket.conn);
        assert_eq!(gone, Some(ConnId(1)));
        assert_eq!(sockets.slot_of(ConnId(1)), None);
        assert_eq!(sockets.slot_at(&(50000, PEER, 25)), None);
        assert_eq!(sockets.insert(socket(3, 50002)), 0);
        assert!(sockets.remove(0).is_some() && sockets.remove(1).is_some());
        assert!(sockets.is_empty());
    }

    #[test]
    fn a_stale_hint_falls_back_to_the_id() {
        let mut sockets = Sockets::default();
        sockets.insert(socket(1, 50000));
        sockets.insert(socket(2, 50001));
        sockets.remove(0);
        sockets.insert(socket(3, 50002));
        assert_eq!(sockets.find(ConnId(3), 0), Some(0), "the hint holds it");
        assert_eq!(sockets.find(ConnId(2), 0), Some(1), "slot 0 holds another");
        assert_eq!(sockets.find(ConnId(1), 0), None, "it is gone");
    }
}
