//! [`Slab`]: a vector of slots with a free list, addressed by generation-tagged keys.
//!
//! The drivers hand the kernel a `u64` with each registration (epoll's `data`, io_uring's
//! `user_data`) and get it back with each event. A key is the slot index plus the slot's
//! generation, bumped on every removal, so an event that arrives for a slot that was freed and
//! reused is recognised as stale and ignored. Inserting reuses freed slots: no allocation once the
//! slab has grown to its working size.

#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

fn split(key: u64) -> (usize, u32) {
    ((key & 0xffff_ffff) as usize, (key >> 32) as u32)
}

fn join(index: usize, generation: u32) -> u64 {
    (u64::from(generation) << 32) | index as u64
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Number of occupied slots.
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, value: T) -> u64 {
        let index = match self.free.pop() {
            Some(i) => i as usize,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.value = Some(value);
        self.len += 1;
        join(index, slot.generation)
    }

    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut T> {
        let (index, generation) = split(key);
        match self.slots.get_mut(index) {
            Some(slot) if slot.generation == generation => slot.value.as_mut(),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, key: u64) -> Option<T> {
        let (index, generation) = split(key);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index as u32);
        self.len -= 1;
        Some(value)
    }

    /// Every occupied slot, with its key.
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let value = slot.value.as_ref()?;
            Some((join(index, slot.generation), value))
        })
    }

    /// Removes every value (used when a driver shuts down).
    #[cfg_attr(not(feature = "io-uring"), allow(dead_code))]
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.free.clear();
        self.len = 0;
        self.slots.drain(..).filter_map(|s| s.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_key_misses_reused_slot() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "slot reused");
        assert_eq!(slab.get_mut(a), None);
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get_mut(b), Some(&mut "b"));
        assert_eq!(slab.len(), 1);
        assert_eq!(slab.iter().collect::<Vec<_>>(), [(b, &"b")]);
    }
}
