//! The timer deadlines of a host's live connections, filed in a binary
//! heap so the earliest is always at hand.
//!
//! A connection's deadline moves with almost every segment: the
//! retransmission timer restarts whenever new data is acknowledged. It
//! nearly always moves later, and an entry filed under a time earlier
//! than the deadline does no harm as long as whoever reads the heap
//! checks the entry against the connection: so a deadline that moves
//! later is left where it is filed, and only one that comes earlier (or
//! a new one) is filed anew. When an entry reaches the top of the heap
//! it is checked: an entry whose connection has gone, or was filed again
//! under another time, is dropped; one whose connection's deadline moved
//! later is filed again under it. The top then holds the true earliest
//! deadline.
//!
//! Each connection remembers the time it is filed under
//! ([`Socket::filed`]); an entry under any other time is left over from
//! an earlier filing and is dropped when it surfaces.
//!
//! Shortcoming: the heap may hold more entries than there are
//! connections. A left-over entry waits until it reaches the top, which
//! comes soon, since no entry lies later than a deadline its connection
//! had; the heap is emptied whenever the last connection goes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::sockets::{Socket, Sockets};
use crate::protocol::host_api::ConnId;
use crate::time::SimTime;

/// One filed deadline: when, and the connection with the slot it was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    at: SimTime,
    conn: ConnId,
    slot: u32,
}

/// What the entry on top of the heap turned out to be.
enum Check {
    /// It holds its connection's deadline.
    Exact,
    /// It is left over, or its connection has no deadline any more.
    Dropped,
    /// Its connection's deadline is later: it is filed again under it.
    Moved(SimTime),
}

/// The filed deadlines, earliest on top.
#[derive(Debug, Default)]
pub struct ConnectionTimers {
    heap: BinaryHeap<Reverse<Entry>>,
}

impl ConnectionTimers {
    /// Files the deadline of the connection in `slot` when it has one
    /// that comes before the time it is filed under, or none is.
    pub fn file(&mut self, sockets: &mut Sockets, slot: usize) {
        let Some(socket) = sockets.get_mut(slot) else {
            return;
        };
        let Some(deadline) = socket.connection.poll_timeout() else {
            return;
        };
        if socket.filed.is_some_and(|filed| filed <= deadline) {
            return;
        }
        socket.filed = Some(deadline);
        let entry = Entry {
            at: deadline,
            conn: socket.conn,
            slot: slot as u32,
        };
        self.heap.push(Reverse(entry));
    }

    /// Returns the earliest deadline of the live connections.
    pub fn next_deadline(&mut self, sockets: &mut Sockets) -> Option<SimTime> {
        while let Some(&Reverse(top)) = self.heap.peek() {
            match check(sockets, top) {
                Check::Exact => return Some(top.at),
                Check::Dropped => self.drop_top(sockets, top),
                Check::Moved(deadline) => self.refile_top(sockets, top, deadline),
            }
        }
        None
    }

    /// Takes out the connections whose deadline is due at `now` into
    /// `due`, as (id, slot) pairs in id order, each once; they are filed
    /// again when [`Self::file`] next sees them.
    pub fn take_due(
        &mut self,
        sockets: &mut Sockets,
        now: SimTime,
        due: &mut Vec<(ConnId, usize)>,
    ) {
        while let Some(&Reverse(top)) = self.heap.peek() {
            if top.at > now {
                break;
            }
            match check(sockets, top) {
                Check::Exact => {
                    self.drop_top(sockets, top);
                    due.push((top.conn, top.slot as usize));
                }
                Check::Dropped => self.drop_top(sockets, top),
                Check::Moved(deadline) if deadline <= now => {
                    self.drop_top(sockets, top);
                    due.push((top.conn, top.slot as usize));
                }
                Check::Moved(deadline) => self.refile_top(sockets, top, deadline),
            }
        }
        due.sort_unstable();
        due.dedup_by_key(|(conn, _)| *conn);
    }

    /// Forgets every entry; for when no connection is left.
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Takes over the room of `old`'s heap if this one has none;
    /// whatever `old` still held is dropped.
    pub fn reuse_memory_of(&mut self, old: &mut ConnectionTimers) {
        if self.heap.capacity() == 0 {
            old.heap.clear();
            std::mem::swap(&mut self.heap, &mut old.heap);
        }
    }

    /// Removes the top entry; its connection, if the entry is its
    /// filing, is no longer filed.
    fn drop_top(&mut self, sockets: &mut Sockets, top: Entry) {
        self.heap.pop();
        if let Some(socket) = filed_socket(sockets, top) {
            socket.filed = None;
        }
    }

    /// Files the top entry's connection again, under its later deadline.
    fn refile_top(&mut self, sockets: &mut Sockets, top: Entry, deadline: SimTime) {
        self.heap.pop();
        if let Some(socket) = filed_socket(sockets, top) {
            socket.filed = Some(deadline);
        }
        self.heap.push(Reverse(Entry {
            at: deadline,
            ..top
        }));
    }
}

/// Checks an entry against its connection.
fn check(sockets: &mut Sockets, entry: Entry) -> Check {
    let Some(socket) = filed_socket(sockets, entry) else {
        return Check::Dropped;
    };
    match socket.connection.poll_timeout() {
        Some(deadline) if deadline == entry.at => Check::Exact,
        Some(deadline) => Check::Moved(deadline),
        None => Check::Dropped,
    }
}

/// Returns the connection an entry was filed for, if it is still in
/// the entry's slot and still filed under the entry's time.
fn filed_socket(sockets: &mut Sockets, entry: Entry) -> Option<&mut Socket> {
    let socket = sockets.get_mut(entry.slot as usize)?;
    (socket.conn == entry.conn && socket.filed == Some(entry.at)).then_some(socket)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::protocol::tcp::{Config, Connection};
    use crate::wire::tcp::SeqNumber;

    /// Returns the instant `millis` milliseconds into the run.
    fn ms(millis: u64) -> SimTime {
        SimTime::from_nanos(millis * 1_000_000)
    }

    /// Puts a connection `conn` in `sockets` that sent its SYN at
    /// `sent`, so its retransmission timer runs out 1 s later (the
    /// initial RTO of RFC 6298 §2.1); files it and returns its slot.
    fn opened(
        timers: &mut ConnectionTimers,
        sockets: &mut Sockets,
        conn: u32,
        sent: SimTime,
    ) -> usize {
        let port = 50000 + conn as u16;
        let mut connection = Connection::connect(Config::default(), port, 25, SeqNumber(0));
        connection.poll_transmit(sent).expect("a SYN");
        let slot = sockets.insert(Socket {
            conn: ConnId(conn),
            connection,
            remote: Ipv4Addr::new(192, 0, 2, 25),
            app: 0,
            accepted: false,
            filed: None,
        });
        timers.file(sockets, slot);
        slot
    }

    #[test]
    fn the_earliest_deadline_is_on_top() {
        let (mut timers, mut sockets) = (ConnectionTimers::default(), Sockets::default());
        opened(&mut timers, &mut sockets, 1, ms(100));
        opened(&mut timers, &mut sockets, 2, ms(0));
        assert_eq!(timers.next_deadline(&mut sockets), Some(ms(1000)));
    }

    #[test]
    fn a_deadline_moved_later_is_found_where_it_moved() {
        let (mut timers, mut sockets) = (ConnectionTimers::default(), Sockets::default());
        let first = opened(&mut timers, &mut sockets, 1, ms(0));
        let second = opened(&mut timers, &mut sockets, 2, ms(100));
        let socket = sockets.get_mut(first).expect("the first connection");
        socket.connection.handle_timeout(ms(1000));
        assert_eq!(
            timers.next_deadline(&mut sockets),
            Some(ms(1100)),
            "the first resent its SYN and waits 2 s now (RFC 6298 §5.5)"
        );
        sockets.remove(second);
        assert_eq!(timers.next_deadline(&mut sockets), Some(ms(3000)));
        sockets.remove(first);
        assert_eq!(timers.next_deadline(&mut sockets), None);
    }

    #[test]
    fn due_connections_come_once_each_in_id_order() {
        let (mut timers, mut sockets) = (ConnectionTimers::default(), Sockets::default());
        let later = opened(&mut timers, &mut sockets, 3, ms(500));
        let second = opened(&mut timers, &mut sockets, 2, ms(0));
        let first = opened(&mut timers, &mut sockets, 1, ms(0));
        timers.file(&mut sockets, first);
        let mut due = Vec::new();
        timers.take_due(&mut sockets, ms(999), &mut due);
        assert!(due.is_empty());
        timers.take_due(&mut sockets, ms(1000), &mut due);
        assert_eq!(due, [(ConnId(1), first), (ConnId(2), second)]);
        assert_eq!(timers.next_deadline(&mut sockets), Some(ms(1500)));
        assert_eq!(sockets.get(later).map(|s| s.filed), Some(Some(ms(1500))));
    }
}
