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
//!
//! # Who owns which buffer
//!
//! The buffers are shared memory: the kernel writes into some of them while the driver reads
//! others. Each buffer id belongs to exactly one side at a time:
//! - to the **kernel** from the moment its descriptor is published (below the shared tail) until a
//!   CQE hands it back — it may write it at any moment in between;
//! - to the **driver** from that CQE until [`consume`](BufRing::consume) publishes it again.
//!
//! So the allocation is held as a raw pointer, never as a `Box<[u8]>` or a slice of the whole
//! (which would claim the kernel's buffers too), and the driver forms a reference to one buffer's
//! bytes only inside `consume`, while it owns that buffer.

use std::alloc::{self, Layout};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::Submitter;

/// The buffer group id of the driver's one ring.
pub(crate) const GROUP: u16 = 0;

pub(crate) struct BufRing {
    /// # Invariant
    /// `entries` descriptors allocated (zeroed) with `descriptors_layout`, page-aligned, shared
    /// with the kernel, which reads those between its head and the published tail.
    descriptors: NonNull<BufRingEntry>,
    descriptors_layout: Layout,
    /// # Invariant
    /// `entries * size` bytes allocated with `buffers_layout`; buffer `bid` is the `size` bytes at
    /// offset `bid * size`, owned by the kernel or the driver as the module docs say.
    buffers: NonNull<u8>,
    buffers_layout: Layout,
    entries: u16,
    size: usize,
    /// Our copy of the tail (the kernel reads the shared one).
    tail: u16,
}

impl BufRing {
    /// Allocates `entries` (a power of two) buffers of `size` (> 0) bytes and registers them.
    pub(crate) fn new(submitter: &Submitter<'_>, entries: u16, size: usize) -> io::Result<BufRing> {
        assert!(
            entries.is_power_of_two() && size > 0,
            "buffer ring size must be a power of two, buffers must not be empty"
        );
        let descriptors_layout = Layout::from_size_align(
            usize::from(entries) * std::mem::size_of::<BufRingEntry>(),
            4096,
        )
        .map_err(io::Error::other)?;
        let buffers_layout = usize::from(entries)
            .checked_mul(size)
            .and_then(|total| Layout::from_size_align(total, 64).ok())
            .ok_or_else(|| io::Error::other("provided buffers too large"))?;
        // SAFETY: both layouts have a non-zero size (entries >= 1, size >= 1).
        let (descriptors, buffers) = unsafe {
            (
                alloc::alloc_zeroed(descriptors_layout),
                alloc::alloc(buffers_layout),
            )
        };
        let (Some(descriptors), Some(buffers)) = (NonNull::new(descriptors), NonNull::new(buffers))
        else {
            // SAFETY: whichever allocation succeeded was made just above with its layout.
            unsafe {
                if !descriptors.is_null() {
                    alloc::dealloc(descriptors, descriptors_layout);
                }
                if !buffers.is_null() {
                    alloc::dealloc(buffers, buffers_layout);
                }
            }
            return Err(io::ErrorKind::OutOfMemory.into());
        };
        let mut ring = BufRing {
            descriptors: descriptors.cast(),
            descriptors_layout,
            buffers,
            buffers_layout,
            entries,
            size,
            tail: 0,
        };
        // SAFETY: the descriptor array and the buffers are heap allocations owned by `ring`, which
        // the driver keeps until the group is unregistered or the ring is closed (module docs).
        unsafe {
            submitter.register_buf_ring_with_flags(
                ring.descriptors.as_ptr() as u64,
                entries,
                GROUP,
                0,
            )?;
        }
        for bid in 0..entries {
            ring.push(bid);
        }
        ring.publish();
        Ok(ring)
    }

    /// Hands `f` the `len` bytes the kernel wrote into buffer `bid`, then gives the buffer back to
    /// the kernel. Call it once per CQE that carries `bid` (`IORING_CQE_F_BUFFER`).
    pub(crate) fn consume(&mut self, bid: u16, len: usize, f: impl FnOnce(&[u8])) {
        assert!(
            bid < self.entries,
            "the kernel named buffer {bid}, not ours"
        );
        let len = len.min(self.size);
        // The CQE that named `bid` handed the buffer to the driver: the kernel initialised these
        // bytes and does not touch the buffer again until `push` below publishes it (module docs).
        // SAFETY: `bid < entries`, so the `len <= size` bytes at `bid * size` lie inside the
        // allocation (field invariant); nothing writes them while the slice lives (above).
        let bytes = unsafe {
            std::slice::from_raw_parts(self.buffers.as_ptr().add(usize::from(bid) * self.size), len)
        };
        f(bytes);
        self.push(bid);
        self.publish();
    }

    /// Writes the descriptor of buffer `bid` (which the driver owns) past the tail.
    fn push(&mut self, bid: u16) {
        let index = usize::from(self.tail & (self.entries - 1));
        // SAFETY: `bid < entries`, so the offset stays inside the buffers allocation (field
        // invariant); only the address is taken, no reference.
        let addr = unsafe { self.buffers.as_ptr().add(usize::from(bid) * self.size) } as u64;
        // SAFETY: `index < entries`, inside the descriptor array (field invariant). The kernel
        // reads only descriptors between its head and our published tail; this one is past the
        // tail, so we alone access it until `publish`.
        let entry = unsafe { &mut *self.descriptors.as_ptr().add(index) };
        entry.set_addr(addr);
        entry.set_len(self.size as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the pushed descriptors visible to the kernel (and their buffers its own).
    fn publish(&self) {
        // SAFETY: `descriptors` is the ring's first entry, page-aligned and initialised; its
        // reserved field is the shared tail, which the kernel reads and we alone write.
        let tail = unsafe { BufRingEntry::tail(self.descriptors.as_ptr()) } as *const AtomicU16;
        // SAFETY: the tail is a naturally aligned u16 in memory we own for the ring's life.
        // Release: the descriptors written above are visible before the new tail.
        unsafe { (*tail).store(self.tail, Ordering::Release) };
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: both were allocated in `new` with these layouts; the driver drops us only when
        // the kernel no longer uses the ring (module docs).
        unsafe {
            alloc::dealloc(self.descriptors.as_ptr().cast(), self.descriptors_layout);
            alloc::dealloc(self.buffers.as_ptr(), self.buffers_layout);
        }
    }
}
