//! A hierarchical timing wheel: the data structure behind every timer.
//!
//! Time is counted in *ticks* (the caller decides what a tick is; the runtime
//! uses one millisecond). The wheel has [`LEVELS`] levels of [`SLOTS`] slots.
//! A slot on level 0 covers one tick, a slot on level 1 covers 64 ticks, a slot
//! on level 2 covers 64 * 64 ticks, and so on: level `l` as a whole covers
//! `64^(l+1)` ticks, so six levels reach `64^6 = 2^36` ticks (about 795 days at
//! 1 ms per tick).
//!
//! Where an entry goes is decided by the highest bit in which its deadline
//! differs from the current time (`elapsed`). Reading the tick count as a
//! number in base 64, the "digit" that differs first picks the level, and the
//! deadline's digit on that level picks the slot:
//!
//! ```text
//!   elapsed  = ... 03 | 17 | 42      (base-64 digits, level 2 | 1 | 0)
//!   deadline = ... 03 | 20 | 05      -> first differing digit is on level 1,
//!                                       so the entry goes to level 1, slot 20
//! ```
//!
//! Every entry on level `l >= 1` therefore lies in a slot *after* the current
//! one on that level, and nothing lies behind the current slot anywhere. When
//! time reaches the start of a level-`l` slot, its entries are taken out and
//! placed again relative to the new time; they now differ from `elapsed` only
//! in lower digits, so they move down ("cascade") to a lower level. On level 0
//! a slot is exactly one tick, so reaching it means its entries are due.
//! Each entry cascades at most once per level, whatever the number of timers.
//!
//! Deadlines further away than the levels can address (`2^36` ticks, or past
//! the end of the current `2^36`-tick block) are kept on an *overflow list*
//! that hangs off the top level. It is looked at once each time the top level
//! wraps around, when its entries are placed again. Deadlines already in the
//! past go into the current level-0 slot, so the next [`Wheel::advance`] fires
//! them.
//!
//! Storage: all entries live in one slab (a `Vec` plus a free list threaded
//! through the vacant entries), so after the slab has grown to its peak size,
//! inserting a timer allocates nothing. Each slot is the head of an intrusive
//! doubly-linked list whose links are `u32` indices into the slab, which makes
//! removal O(1). A [`Key`] names an entry by index *and* generation; the
//! generation is bumped whenever an entry is freed, so a stale key (for a timer
//! that already fired or was cancelled) can never touch whoever reuses the
//! entry. Each level also keeps a 64-bit occupancy bitmap (bit `s` set when slot
//! `s` is non-empty), so finding the next slot that needs attention is one
//! `trailing_zeros` per level: O(levels), independent of the number of timers.

use std::mem;

/// Bits of the tick count consumed by one level.
const SLOT_BITS: u32 = 6;
/// Slots per level (`2^SLOT_BITS`; 64 so that a level's occupancy fits a `u64`).
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// Number of levels.
pub(crate) const LEVELS: usize = 6;
/// Mask selecting one level's digit after shifting.
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// log2 of the span the levels can address.
const RANGE_BITS: u32 = SLOT_BITS * LEVELS as u32;
/// Ticks the levels can address: `64^6 = 2^36`.
pub(crate) const RANGE: u64 = 1 << RANGE_BITS;

/// Index of the overflow list, after the `LEVELS * SLOTS` slot lists.
const OVERFLOW: usize = LEVELS * SLOTS;
/// Number of lists: one per slot, plus the overflow list.
const LISTS: usize = OVERFLOW + 1;
/// "No entry": the end of a list or of the free list.
const NIL: u32 = u32::MAX;

/// Names one entry of a [`Wheel`]. Cheap to copy; goes stale once the entry
/// fires or is removed, after which every operation with it does nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

/// A pending timer: its deadline, its links, and the caller's value.
struct Node<T> {
    /// Deadline in ticks (the real one, even while parked on the overflow list).
    when: u64,
    /// The list this node is linked into (`level * SLOTS + slot` or `OVERFLOW`).
    list: u16,
    prev: u32,
    next: u32,
    value: T,
}

/// One cell of the slab.
enum State<T> {
    /// Free; part of the free list.
    Vacant { next_free: u32 },
    /// Holds a pending timer.
    Occupied(Node<T>),
}

struct Entry<T> {
    /// Bumped each time the entry is freed, so old keys stop matching.
    generation: u32,
    state: State<T>,
}

/// The next list that needs attention and the tick at which it does.
#[derive(Clone, Copy, Debug)]
struct Expiration {
    deadline: u64,
    list: usize,
}

/// A hierarchical timing wheel holding one `T` per pending timer.
pub(crate) struct Wheel<T> {
    entries: Vec<Entry<T>>,
    /// Head of the free list threaded through vacant entries.
    free_head: u32,
    /// First node of each list (slot lists, then the overflow list).
    heads: Box<[u32]>,
    /// Per level, bit `s` is set while slot `s` of that level is non-empty.
    occupied: [u64; LEVELS],
    /// The current time in ticks: everything due at or before it has fired.
    elapsed: u64,
    /// Number of pending timers.
    len: usize,
}

impl<T> Wheel<T> {
    /// An empty wheel whose clock starts at tick 0.
    pub(crate) fn new() -> Self {
        Wheel {
            entries: Vec::new(),
            free_head: NIL,
            heads: vec![NIL; LISTS].into_boxed_slice(),
            occupied: [0; LEVELS],
            elapsed: 0,
            len: 0,
        }
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a timer due at tick `when` carrying `value`. O(1); allocates only
    /// when the slab has to grow past its previous peak.
    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key {
        let node = Node {
            when,
            list: 0,
            prev: NIL,
            next: NIL,
            value,
        };
        let index = if self.free_head != NIL {
            let index = self.free_head;
            let entry = &mut self.entries[index as usize];
            match entry.state {
                State::Vacant { next_free } => self.free_head = next_free,
                State::Occupied(_) => unreachable!("timer wheel: free list points at a live entry"),
            }
            entry.state = State::Occupied(node);
            index
        } else {
            let index = u32::try_from(self.entries.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("timer wheel: too many pending timers");
            self.entries.push(Entry {
                generation: 0,
                state: State::Occupied(node),
            });
            index
        };
        self.len += 1;
        self.place(index);
        Key {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    /// Whether `key` still names a pending timer.
    pub(crate) fn contains(&self, key: Key) -> bool {
        self.entries.get(key.index as usize).is_some_and(|entry| {
            entry.generation == key.generation && matches!(entry.state, State::Occupied(_))
        })
    }

    /// The value of the pending timer `key`, or `None` if the key is stale.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(key.index as usize) {
            Some(Entry {
                generation,
                state: State::Occupied(node),
            }) if *generation == key.generation => Some(&mut node.value),
            _ => None,
        }
    }

    /// Cancels the timer `key` and hands back its value. A stale key (the
    /// timer fired or was already removed) returns `None` and changes nothing,
    /// even if the slab entry now belongs to another timer. O(1).
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        if !self.contains(key) {
            return None;
        }
        self.unlink(key.index);
        Some(self.free(key.index))
    }

    /// The tick at which [`advance`](Self::advance) next has work to do, or
    /// `None` if no timer is pending. This is never later than the earliest
    /// deadline, but may be earlier: when the earliest timer sits on a higher
    /// level, this is the start of its slot, where it cascades down.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_list().map(|expiration| expiration.deadline)
    }

    /// Moves the clock forward to tick `now`, calling `fire` with the value of
    /// every timer whose deadline is `<= now`, in deadline order. Timers due on
    /// the same tick come in no particular order, and a timer inserted with a
    /// deadline already behind the clock counts as due at the clock's tick.
    /// Returns how many fired.
    ///
    /// Each fired entry is removed from the wheel before `fire` sees it, so the
    /// wheel is consistent at every call. A `now` behind the clock is ignored.
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(T)) -> usize {
        let mut fired = 0;
        while let Some(expiration) = self.next_list() {
            if expiration.deadline > now {
                break;
            }
            // Jumping straight to the next list that needs attention is what
            // keeps a long idle stretch cheap: empty slots are never visited.
            self.elapsed = expiration.deadline;
            if expiration.list == OVERFLOW {
                self.replace_overflow();
            } else {
                fired += self.process_slot(expiration.list, &mut fire);
            }
        }
        // Nothing is due in (elapsed, now], so the clock may jump to `now`
        // without skipping any slot.
        self.elapsed = self.elapsed.max(now);
        fired
    }

    /// Finds the list with the earliest processing tick. O(levels).
    fn next_list(&self) -> Option<Expiration> {
        for level in 0..LEVELS {
            let shift = level as u32 * SLOT_BITS;
            let current = (self.elapsed >> shift) & SLOT_MASK;
            // Slots at or after the current one. On level >= 1 the current
            // slot is always empty (see the module docs); on level 0 it holds
            // the timers due right now.
            let ahead = self.occupied[level] & (u64::MAX << current);
            debug_assert_eq!(ahead, self.occupied[level], "timer behind the clock");
            if ahead != 0 {
                let slot = u64::from(ahead.trailing_zeros());
                // Start of the block of 64 slots this level is going through.
                let level_start = self.elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
                return Some(Expiration {
                    deadline: level_start + (slot << shift),
                    list: level * SLOTS + slot as usize,
                });
            }
            // Lower levels always expire before higher ones: a level-l entry
            // lies in a later level-(l-1) block than any level-(l-1) entry.
        }
        if self.heads[OVERFLOW] != NIL {
            // The overflow list is revisited when the top level wraps around.
            return Some(Expiration {
                deadline: (self.elapsed | (RANGE - 1)).saturating_add(1),
                list: OVERFLOW,
            });
        }
        None
    }

    /// Empties one slot list, firing what is due and cascading the rest.
    fn process_slot(&mut self, list: usize, fire: &mut impl FnMut(T)) -> usize {
        let mut fired = 0;
        // Take one node at a time so the wheel stays consistent even if
        // `fire` panics halfway.
        loop {
            let index = self.heads[list];
            if index == NIL {
                return fired;
            }
            self.unlink(index);
            if self.node(index).when <= self.elapsed {
                let value = self.free(index);
                fired += 1;
                fire(value);
            } else {
                // At the start of a level-l slot, its entries differ from the
                // clock only in lower digits: they land on a lower level.
                self.place(index);
                debug_assert_ne!(usize::from(self.node(index).list), list);
            }
        }
    }

    /// Places every overflow entry again, now that the top level has wrapped.
    /// Those still out of range go back on the overflow list; nothing fires
    /// here (an entry due exactly now lands in the current level-0 slot).
    fn replace_overflow(&mut self) {
        let mut index = mem::replace(&mut self.heads[OVERFLOW], NIL);
        while index != NIL {
            let next = self.node(index).next;
            self.place(index);
            index = next;
        }
    }

    /// Which list a deadline belongs to, relative to the current clock.
    fn list_for(&self, when: u64) -> usize {
        // A deadline in the past is treated as due now.
        let when = when.max(self.elapsed);
        // `| SLOT_MASK` makes equal times land on level 0.
        let differing = (self.elapsed ^ when) | SLOT_MASK;
        let highest_bit = 63 - differing.leading_zeros();
        let level = (highest_bit / SLOT_BITS) as usize;
        if level >= LEVELS {
            return OVERFLOW;
        }
        let slot = ((when >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize;
        level * SLOTS + slot
    }

    /// Links the (unlinked) node `index` into the list its deadline selects.
    fn place(&mut self, index: u32) {
        let list = self.list_for(self.node(index).when);
        let old_head = self.heads[list];
        let node = self.node_mut(index);
        node.list = list as u16;
        node.prev = NIL;
        node.next = old_head;
        if old_head != NIL {
            self.node_mut(old_head).prev = index;
        }
        self.heads[list] = index;
        if list != OVERFLOW {
            self.occupied[list / SLOTS] |= 1 << (list % SLOTS);
        }
    }

    /// Takes node `index` out of its list, clearing the slot's occupancy bit
    /// if the list becomes empty.
    fn unlink(&mut self, index: u32) {
        let (list, prev, next) = {
            let node = self.node(index);
            (usize::from(node.list), node.prev, node.next)
        };
        if prev == NIL {
            self.heads[list] = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next != NIL {
            self.node_mut(next).prev = prev;
        }
        if self.heads[list] == NIL && list != OVERFLOW {
            self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
        }
    }

    /// Returns the (unlinked) entry `index` to the free list, bumping its
    /// generation so that every existing key for it goes stale.
    fn free(&mut self, index: u32) -> T {
        let entry = &mut self.entries[index as usize];
        let state = mem::replace(
            &mut entry.state,
            State::Vacant {
                next_free: self.free_head,
            },
        );
        entry.generation = entry.generation.wrapping_add(1);
        self.free_head = index;
        self.len -= 1;
        match state {
            State::Occupied(node) => node.value,
            State::Vacant { .. } => unreachable!("timer wheel: freed a vacant entry"),
        }
    }

    fn node(&self, index: u32) -> &Node<T> {
        match &self.entries[index as usize].state {
            State::Occupied(node) => node,
            State::Vacant { .. } => unreachable!("timer wheel: list links a vacant entry"),
        }
    }

    fn node_mut(&mut self, index: u32) -> &mut Node<T> {
        match &mut self.entries[index as usize].state {
            State::Occupied(node) => node,
            State::Vacant { .. } => unreachable!("timer wheel: list links a vacant entry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A tiny xorshift64* generator: deterministic, no dependencies.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }

        /// A distance spread over every level and beyond the range.
        fn distance(&mut self) -> u64 {
            let bits = self.below(42) as u32;
            self.below(1u64 << bits)
        }
    }

    /// Advances and returns the fired values in firing order.
    fn advance_collect<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<T> {
        let mut fired = Vec::new();
        let count = wheel.advance(now, |value| fired.push(value));
        assert_eq!(count, fired.len());
        fired
    }

    #[test]
    fn fires_in_deadline_order_and_never_early() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut wheel = Wheel::new();
        let mut deadlines = Vec::new();
        for _ in 0..5_000 {
            let when = rng.below(300_000);
            deadlines.push(when);
            wheel.insert(when, when);
        }
        deadlines.sort_unstable();

        let mut now = 0;
        let mut all_fired = Vec::new();
        while wheel.len() > 0 {
            now += 1 + rng.below(2_000);
            let fired = advance_collect(&mut wheel, now);
            for &when in &fired {
                assert!(when <= now, "fired {when} early at {now}");
            }
            all_fired.extend(fired);
            // Everything due by now has fired.
            assert!(deadlines[all_fired.len()..].iter().all(|&d| d > now));
        }
        assert_eq!(all_fired, deadlines);
    }

    #[test]
    #[cfg_attr(miri, ignore = "262 144 single-tick advances take minutes under Miri")]
    fn fires_each_tick_exactly() {
        let mut wheel = Wheel::new();
        for when in [1, 2, 63, 64, 65, 4095, 4096, 4097, 262_144] {
            wheel.insert(when, when);
        }
        for tick in 1..=262_144 {
            let fired = advance_collect(&mut wheel, tick);
            match fired.as_slice() {
                [] => {}
                [when] => assert_eq!(*when, tick),
                other => panic!("more than one fired at {tick}: {other:?}"),
            }
        }
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn stale_key_cannot_cancel_a_reused_entry() {
        let mut wheel = Wheel::new();
        let old = wheel.insert(10, "old");
        assert_eq!(wheel.remove(old), Some("old"));
        let new = wheel.insert(20, "new");
        assert_eq!(new.index, old.index, "the entry should be reused");
        assert_eq!(wheel.remove(old), None);
        assert!(!wheel.contains(old));
        assert!(wheel.get_mut(old).is_none());
        assert!(wheel.contains(new));
        assert_eq!(wheel.len(), 1);
        assert_eq!(advance_collect(&mut wheel, 20), vec!["new"]);
    }

    #[test]
    fn stale_key_after_firing() {
        let mut wheel = Wheel::new();
        let fired_key = wheel.insert(5, 1);
        assert_eq!(advance_collect(&mut wheel, 5), vec![1]);
        assert!(!wheel.contains(fired_key));
        let reused = wheel.insert(7, 2);
        assert_eq!(reused.index, fired_key.index);
        assert_eq!(wheel.remove(fired_key), None);
        assert_eq!(advance_collect(&mut wheel, 7), vec![2]);
    }

    #[test]
    fn past_deadlines_fire_on_next_advance() {
        let mut wheel = Wheel::new();
        wheel.advance(1_000, |_: u32| {});
        wheel.insert(3, 3);
        wheel.insert(1_000, 1_000);
        assert_eq!(wheel.next_expiration(), Some(1_000));
        let mut fired = advance_collect(&mut wheel, 1_000);
        fired.sort_unstable();
        assert_eq!(fired, vec![3, 1_000]);
        // A clock going backwards is ignored.
        wheel.insert(900, 900);
        assert!(advance_collect(&mut wheel, 500).is_empty());
        assert_eq!(advance_collect(&mut wheel, 1_000), vec![900]);
    }

    #[test]
    fn next_expiration_on_every_level() {
        let mut wheel: Wheel<()> = Wheel::new();
        assert_eq!(wheel.next_expiration(), None);
        // (deadline, where the wheel must look first) with the clock at 0:
        // on level l the answer is the start of the deadline's slot.
        let cases = [
            (5, 5),
            (100, 64),
            (5_000, 4_096),
            (300_000, 262_144),
            (20_000_000, 16_777_216),
            (1_500_000_000, 1_073_741_824),
            (RANGE + 7, RANGE),
        ];
        for (when, expected) in cases {
            let key = wheel.insert(when, ());
            assert_eq!(wheel.next_expiration(), Some(expected), "deadline {when}");
            wheel.remove(key);
        }
        // With several pending, the earliest wins.
        for (when, _) in cases.iter().rev() {
            wheel.insert(*when, ());
        }
        assert_eq!(wheel.next_expiration(), Some(5));
    }

    #[test]
    fn next_expiration_follows_the_clock() {
        let mut wheel: Wheel<()> = Wheel::new();
        wheel.advance(1_000, |_| {});
        wheel.insert(1_000 + 200, ());
        // 1200 = 18*64 + 48; the clock is in level-1 slot 15.
        assert_eq!(wheel.next_expiration(), Some(1_152));
        wheel.advance(1_152, |_| {});
        assert_eq!(wheel.next_expiration(), Some(1_200));
        assert_eq!(wheel.advance(1_199, |_| {}), 0);
        assert_eq!(wheel.advance(1_200, |_| {}), 1);
        assert_eq!(wheel.next_expiration(), None);
    }

    #[test]
    fn deadlines_beyond_the_range() {
        let mut wheel = Wheel::new();
        let far = 3 * RANGE + 12_345;
        wheel.insert(far, "far");
        wheel.insert(u64::MAX / 2, "very far");
        assert_eq!(wheel.next_expiration(), Some(RANGE));
        assert!(advance_collect(&mut wheel, far - 1).is_empty());
        assert!(wheel.next_expiration().unwrap() <= far);
        assert_eq!(advance_collect(&mut wheel, far), vec!["far"]);
        assert_eq!(wheel.len(), 1);
    }

    #[test]
    #[cfg_attr(miri, ignore = "40 000 random steps take minutes under Miri")]
    fn randomized_against_a_btreemap() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut wheel = Wheel::new();
        // (deadline, id) -> key; ids make equal deadlines distinct.
        let mut reference: BTreeMap<(u64, u64), Key> = BTreeMap::new();
        // Values are (deadline, id, due): `due` is when the timer counts as
        // due for ordering, which for a deadline in the past is the clock.
        let mut now = 0u64;
        for id in 0..40_000u64 {
            match rng.below(10) {
                // Insert, sometimes in the past.
                0..=4 => {
                    let when = if rng.below(20) == 0 {
                        now.saturating_sub(rng.below(100))
                    } else {
                        now + rng.distance()
                    };
                    let key = wheel.insert(when, (when, id, when.max(now)));
                    reference.insert((when, id), key);
                }
                // Cancel a pending timer (a random one from the map's middle).
                5..=6 => {
                    if let Some(&(when, old_id)) = reference.keys().nth(rng.below(8) as usize) {
                        let key = reference.remove(&(when, old_id)).unwrap();
                        let (removed_when, removed_id, _) = wheel.remove(key).unwrap();
                        assert_eq!((removed_when, removed_id), (when, old_id));
                        assert_eq!(wheel.remove(key), None);
                    }
                }
                // Advance, by a little or by a lot.
                _ => {
                    now += if rng.below(4) == 0 {
                        rng.distance()
                    } else {
                        rng.below(100)
                    };
                    let fired = advance_collect(&mut wheel, now);
                    let mut expected = Vec::new();
                    while let Some(entry) = reference.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        expected.push(*entry.key());
                        entry.remove();
                    }
                    for pair in fired.windows(2) {
                        assert!(pair[0].2 <= pair[1].2, "out of order: {pair:?}");
                    }
                    let mut fired: Vec<(u64, u64)> =
                        fired.iter().map(|&(when, id, _)| (when, id)).collect();
                    fired.sort_unstable();
                    assert_eq!(fired, expected, "at {now}");
                }
            }
            assert_eq!(wheel.len(), reference.len());
            match reference.keys().next() {
                None => assert_eq!(wheel.next_expiration(), None),
                Some(&(earliest, _)) => {
                    let next = wheel.next_expiration().expect("timers pending");
                    assert!(next <= earliest.max(now), "{next} after {earliest}");
                    assert!(next >= now, "{next} before the clock {now}");
                }
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "a million timers take hours under Miri")]
    fn a_million_inserted_then_cancelled() {
        let mut rng = Rng(42);
        let mut wheel = Wheel::new();
        let keys: Vec<Key> = (0..1_000_000u64)
            .map(|i| wheel.insert(rng.distance(), i))
            .collect();
        assert_eq!(wheel.len(), 1_000_000);
        for (i, key) in keys.iter().enumerate().rev() {
            assert_eq!(wheel.remove(*key), Some(i as u64));
        }
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_expiration(), None);
        // The slab is reused, not grown.
        let capacity = wheel.entries.len();
        for i in 0..1_000_000u64 {
            wheel.insert(i, i);
        }
        assert_eq!(wheel.entries.len(), capacity);
    }

    #[test]
    #[cfg_attr(miri, ignore = "a million timers take hours under Miri")]
    fn a_million_fired() {
        let mut rng = Rng(7);
        let mut wheel = Wheel::new();
        for _ in 0..1_000_000u64 {
            let when = rng.below(1 << 30);
            wheel.insert(when, when);
        }
        let mut last = 0;
        let mut fired = 0;
        let mut now = 0;
        while wheel.len() > 0 {
            now += 1 << 24;
            fired += wheel.advance(now, |when| {
                assert!(when >= last && when <= now);
                last = when;
            });
        }
        assert_eq!(fired, 1_000_000);
    }
}
