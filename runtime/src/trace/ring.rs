//! [`Ring`]: a bounded buffer that keeps the newest records and counts the ones it lets go.
//!
//! A lane's buffer grows as events arrive, up to its capacity, and never beyond: once full, each
//! new record overwrites the oldest one and bumps [`dropped`](Ring::dropped). A long-running
//! program thus always has its most recent window in memory (a flight recorder), and the trace
//! says how much came before it.

use std::collections::VecDeque;

/// A bounded buffer of `T`, oldest first.
#[derive(Debug)]
pub(super) struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped: u64,
}

impl<T> Ring<T> {
    /// An empty ring that will hold at most `capacity` items (at least one). Nothing is
    /// allocated until the first push.
    pub(super) fn new(capacity: usize) -> Ring<T> {
        Ring {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    /// Appends `item`; when the ring is full, the oldest item goes first and is counted.
    pub(super) fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
            self.dropped += 1;
        } else if self.items.len() == self.items.capacity() {
            // Grow by doubling, but never past the capacity.
            let wanted = (self.items.len() * 2).max(64).min(self.capacity);
            self.items.reserve_exact(wanted - self.items.len());
        }
        self.items.push_back(item);
    }

    /// The items, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// How many items were overwritten since the ring was made.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }

    #[cfg(test)]
    fn allocated(&self) -> usize {
        self.items.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn keeps_the_newest_and_counts_the_rest() {
        let mut ring = Ring::new(100);
        for i in 0..1000 {
            ring.push(i);
        }
        assert_eq!(ring.iter().count(), 100);
        assert_eq!(ring.iter().next(), Some(&900));
        assert_eq!(ring.iter().last(), Some(&999));
        assert_eq!(ring.dropped(), 900);
    }

    #[test]
    fn never_allocates_past_its_capacity() {
        let mut ring = Ring::new(1000);
        assert_eq!(ring.allocated(), 0, "nothing before the first push");
        for i in 0..100_000 {
            ring.push(i);
            assert!(ring.allocated() <= 1000);
        }
        let at_capacity = ring.allocated();
        for i in 0..100_000 {
            ring.push(i);
        }
        assert_eq!(ring.allocated(), at_capacity, "a full ring does not grow");
    }

    #[test]
    fn a_zero_capacity_still_keeps_the_last_item() {
        let mut ring = Ring::new(0);
        ring.push(1);
        ring.push(2);
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2]);
        assert_eq!(ring.dropped(), 1);
    }
}
