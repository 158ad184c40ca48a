//! The timers a host's applications set, such as an SMTP client's wait
//! for a reply, in the order they fire.
//!
//! An application holds one or two timers at a time and sets and cancels
//! one for almost every command it sends, so the timers sit in a short
//! list sorted by (deadline, id) whose memory is kept from one timer to
//! the next: setting or cancelling one allocates nothing. Timers due at
//! the same instant fire in the order of their ids, the order they were
//! set.
//!
//! Shortcoming: setting and cancelling cost time in proportion to the
//! timers held; an application holding thousands would want a heap.

use crate::protocol::host_api::TimerId;
use crate::time::SimTime;

/// One armed timer: when it fires, its id and the application it wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Armed {
    at: SimTime,
    timer: TimerId,
    app: usize,
}

/// The armed timers, earliest first.
#[derive(Debug, Default)]
pub struct AppTimers {
    armed: Vec<Armed>,
}

impl AppTimers {
    /// Arms `timer` of application `app` to fire at `at`.
    pub fn set(&mut self, at: SimTime, timer: TimerId, app: usize) {
        let place = self
            .armed
            .partition_point(|armed| (armed.at, armed.timer) < (at, timer));
        self.armed.insert(place, Armed { at, timer, app });
    }

    /// Disarms `timer`, if it is armed.
    pub fn cancel(&mut self, timer: TimerId) {
        self.armed.retain(|armed| armed.timer != timer);
    }

    /// Takes out the earliest timer if it fires by `now`, as the timer
    /// and the application it wakes.
    pub fn take_due(&mut self, now: SimTime) -> Option<(TimerId, usize)> {
        let first = self.armed.first().filter(|first| first.at <= now)?;
        let due = (first.timer, first.app);
        self.armed.remove(0);
        Some(due)
    }

    /// Returns when the earliest timer fires.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.armed.first().map(|first| first.at)
    }

    /// Tells whether no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    /// Takes over the room of `old`'s list if this one has none;
    /// whatever `old` still held is dropped.
    pub fn reuse_memory_of(&mut self, old: &mut AppTimers) {
        super::reuse_list(&mut self.armed, &mut old.armed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the instant `millis` milliseconds into the run.
    fn ms(millis: u64) -> SimTime {
        SimTime::from_nanos(millis * 1_000_000)
    }

    #[test]
    fn timers_fire_earliest_first_and_by_id_at_the_same_instant() {
        let mut timers = AppTimers::default();
        timers.set(ms(30), TimerId(1), 0);
        timers.set(ms(10), TimerId(3), 1);
        timers.set(ms(10), TimerId(2), 2);
        assert_eq!(timers.next_deadline(), Some(ms(10)));
        assert_eq!(timers.take_due(ms(9)), None);
        assert_eq!(timers.take_due(ms(10)), Some((TimerId(2), 2)));
        assert_eq!(timers.take_due(ms(10)), Some((TimerId(3), 1)));
        assert_eq!(timers.take_due(ms(10)), None);
        assert_eq!(timers.take_due(ms(40)), Some((TimerId(1), 0)));
        assert!(timers.is_empty());
    }

    #[test]
    fn a_cancelled_timer_never_fires() {
        let mut timers = AppTimers::default();
        timers.set(ms(10), TimerId(1), 0);
        timers.set(ms(20), TimerId(2), 0);
        timers.cancel(TimerId(1));
        timers.cancel(TimerId(7));
        assert_eq!(timers.next_deadline(), Some(ms(20)));
        assert_eq!(timers.take_due(ms(20)), Some((TimerId(2), 0)));
        assert_eq!(timers.take_due(ms(20)), None);
    }
}
