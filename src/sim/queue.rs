//! The event queue: events ordered by (time, insertion number).
//!
//! Two events at the same instant come out in the order they were
//! scheduled, so a run never depends on how the heap breaks ties. The
//! heap holds only the ordering key and a slot number; the events wait
//! in a store of slots reused as they are freed, so each step of the
//! heap moves a few words, not a whole packet.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// A queue of events, earliest first, ties in scheduling order.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    slots: Vec<Option<E>>,
    free_slots: Vec<usize>,
    scheduled: u64,
    longest: usize,
}

/// One scheduled event's ordering key and the slot holding it.
#[derive(Debug)]
struct Entry {
    at: SimTime,
    number: u64,
    slot: usize,
}

impl<E> EventQueue<E> {
    /// Builds an empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            scheduled: 0,
            longest: 0,
        }
    }

    /// Keeps the next `count` insertion numbers for events scheduled
    /// later with [`Self::push_numbered`]; returns the first of them.
    pub fn reserve(&mut self, count: u64) -> u64 {
        let first = self.scheduled;
        self.scheduled += count;
        first
    }

    /// Schedules `event` at `at` with an insertion number kept earlier
    /// by [`Self::reserve`], so it is ordered as if scheduled then.
    pub fn push_numbered(&mut self, at: SimTime, number: u64, event: E) {
        debug_assert!(number < self.scheduled, "the number was reserved");
        self.insert(at, number, event);
    }

    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: SimTime, event: E) {
        let number = self.scheduled;
        self.scheduled += 1;
        self.insert(at, number, event);
    }

    /// Stores `event` in a free slot and puts its key on the heap.
    fn insert(&mut self, at: SimTime, number: u64, event: E) {
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                self.slots.len() - 1
            }
        };
        self.heap.push(Entry { at, number, slot });
        self.longest = self.longest.max(self.heap.len());
    }

    /// Returns the most events the queue has held at once.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = self.heap.pop()?;
        let event = self.slots[entry.slot].take();
        self.free_slots.push(entry.slot);
        Some((
            entry.at,
            event.expect("a queued key's slot holds its event"),
        ))
    }

    /// Returns how many events were ever scheduled.
    pub fn scheduled(&self) -> u64 {
        self.scheduled
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl Entry {
    /// Returns the ordering key as one number, the time above the
    /// insertion number, so that ordering two entries is one comparison
    /// without a branch on equal times.
    fn key(&self) -> u128 {
        u128::from(self.at.as_nanos()) << 64 | u128::from(self.number)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reversed, so the max-heap yields the earliest (time, number) first.
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_event_comes_first() {
        let mut queue = EventQueue::new();
        queue.push(SimTime::from_nanos(30), "late");
        queue.push(SimTime::from_nanos(10), "early");
        assert_eq!(queue.pop(), Some((SimTime::from_nanos(10), "early")));
        assert_eq!(queue.pop(), Some((SimTime::from_nanos(30), "late")));
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn ties_keep_scheduling_order() {
        let mut queue = EventQueue::new();
        let at = SimTime::from_nanos(5);
        for label in ["first", "second", "third", "fourth"] {
            queue.push(at, label);
        }
        let order: Vec<&str> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["first", "second", "third", "fourth"]);
    }

    #[test]
    fn a_reserved_number_orders_as_if_scheduled_when_reserved() {
        let mut queue = EventQueue::new();
        let at = SimTime::from_nanos(5);
        queue.push(at, "pushed before the reservation");
        let reserved = queue.reserve(2);
        queue.push(at, "pushed after the reservation");
        queue.push_numbered(at, reserved + 1, "second reserved");
        queue.push_numbered(at, reserved, "first reserved");
        let order: Vec<&str> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        let expected = [
            "pushed before the reservation",
            "first reserved",
            "second reserved",
            "pushed after the reservation",
        ];
        assert_eq!(order, expected);
    }

    #[test]
    fn longest_counts_the_most_events_waiting_at_once() {
        let mut queue = EventQueue::new();
        queue.push(SimTime::from_nanos(1), 'a');
        queue.push(SimTime::from_nanos(2), 'b');
        queue.pop();
        queue.push(SimTime::from_nanos(3), 'c');
        queue.pop();
        queue.pop();
        assert_eq!(queue.longest(), 2);
    }

    #[test]
    fn freed_slots_are_reused_without_mixing_events() {
        let mut queue = EventQueue::new();
        queue.push(SimTime::from_nanos(2), "b");
        queue.push(SimTime::from_nanos(1), "a");
        assert_eq!(queue.pop(), Some((SimTime::from_nanos(1), "a")));
        queue.push(SimTime::from_nanos(4), "d");
        queue.push(SimTime::from_nanos(3), "c");
        let order: Vec<&str> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["b", "c", "d"]);
        assert_eq!(
            queue.slots.len(),
            3,
            "the slot of a freed before d was reused"
        );
    }
}
