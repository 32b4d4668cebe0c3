//! [`BufRing`]: a ring of provided buffers (`IORING_REGISTER_PBUF_RING`, 5.19+).
//!
//! Instead of naming a buffer in each receive, the program gives the kernel a pool of buffers up
//! front; a receive that selects from the pool (`IOSQE_BUFFER_SELECT`) takes one only when data
//! arrives, and the CQE says which (`IORING_CQE_F_BUFFER`, id in the upper 16 bits of the flags).
//! That lets one multishot receive serve a socket for its whole life. After the driver copies the
//! data out, it gives the buffer back by writing it at the ring's tail.
//!
//! Memory: a page-aligned array of `entries` 16-byte descriptors (shared with the kernel; the tail
//! lives in the first descriptor's reserved field) and one allocation of `entries * size` bytes.
//! Both must outlive the kernel's use: the driver drops the `BufRing` only after every request
//! that may select from it has ended (or leaks it).

use std::alloc::{self, Layout};
use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::Submitter;

/// The buffer group id of the driver's one ring.
pub(crate) const GROUP: u16 = 0;

pub(crate) struct BufRing {
    descriptors: *mut BufRingEntry,
    layout: Layout,
    buffers: Box<[u8]>,
    entries: u16,
    size: usize,
    /// Our copy of the tail (the kernel reads the shared one).
    tail: u16,
}

impl BufRing {
    /// Allocates `entries` (a power of two) buffers of `size` bytes and registers them.
    pub(crate) fn new(submitter: &Submitter<'_>, entries: u16, size: usize) -> io::Result<BufRing> {
        assert!(
            entries.is_power_of_two(),
            "buffer ring size must be a power of two"
        );
        let layout = Layout::from_size_align(
            usize::from(entries) * std::mem::size_of::<BufRingEntry>(),
            4096,
        )
        .map_err(io::Error::other)?;
        // SAFETY: the layout has a non-zero size (entries >= 1).
        let descriptors = unsafe { alloc::alloc_zeroed(layout) } as *mut BufRingEntry;
        if descriptors.is_null() {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        let mut ring = BufRing {
            descriptors,
            layout,
            buffers: vec![0u8; usize::from(entries) * size].into_boxed_slice(),
            entries,
            size,
            tail: 0,
        };
        // SAFETY: the descriptor array and the buffers are heap allocations owned by `ring`, which
        // the driver keeps until the group is unregistered or the ring is closed (module docs).
        unsafe {
            submitter.register_buf_ring_with_flags(descriptors as u64, entries, GROUP, 0)?;
        }
        for bid in 0..entries {
            ring.push(bid);
        }
        ring.publish();
        Ok(ring)
    }

    /// The bytes the kernel wrote into buffer `bid`.
    pub(crate) fn data(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * self.size;
        &self.buffers[start..start + len.min(self.size)]
    }

    /// Gives buffer `bid` back to the kernel (after its data was copied out).
    pub(crate) fn recycle(&mut self, bid: u16) {
        self.push(bid);
        self.publish();
    }

    fn push(&mut self, bid: u16) {
        let index = usize::from(self.tail & (self.entries - 1));
        // The pointer is into the boxed slice, which never moves.
        let addr = self.buffers[usize::from(bid) * self.size..].as_ptr() as u64;
        // SAFETY: `index < entries`, inside the descriptor array we allocated. The kernel reads
        // only descriptors between its head and our published tail; this one is past the tail.
        let entry = unsafe { &mut *self.descriptors.add(index) };
        entry.set_addr(addr);
        entry.set_len(self.size as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the pushed descriptors visible to the kernel.
    fn publish(&self) {
        // SAFETY: `descriptors` is the ring's first entry, page-aligned and initialised; its
        // reserved field is the shared tail, which the kernel reads and we alone write.
        let tail = unsafe { BufRingEntry::tail(self.descriptors) } as *const AtomicU16;
        // SAFETY: the tail is a naturally aligned u16 in memory we own for the ring's life.
        // Release: the descriptors written above are visible before the new tail.
        unsafe { (*tail).store(self.tail, Ordering::Release) };
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the driver drops us only when the kernel no
        // longer uses the ring (module docs).
        unsafe { alloc::dealloc(self.descriptors as *mut u8, self.layout) };
    }
}
