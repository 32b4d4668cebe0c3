//! Owned buffers: the buffer types IO methods take *by value* and give back.
//!
//! Under the completion model the kernel writes into (or reads from) a buffer *after* the call that
//! submitted the operation has returned — possibly after the future that asked for it was dropped.
//! A borrowed `&mut [u8]` cannot promise to stay alive that long; an owned buffer, held by the
//! driver until the kernel is done, can. So every read or write takes the buffer and returns it:
//!
//! ```
//! # async fn demo(stream: runtime::net::TcpStream) -> std::io::Result<()> {
//! let buf = Vec::with_capacity(4096);
//! let (result, buf) = stream.read(buf).await;
//! let n = result?;
//! assert_eq!(buf.len(), n); // a read sets the length of a Vec to what was read
//! # Ok(()) }
//! ```

use std::ops::{Bound, RangeBounds};

/// The result of an owned-buffer operation: the outcome, and the buffer back in any case.
pub type BufResult<T, B> = (std::io::Result<T>, B);

/// A buffer the kernel may read from (the source of a write).
///
/// # Safety
/// `stable_ptr` must point to at least `bytes_init` initialised bytes, and that memory must stay at
/// the same address and valid as long as the value lives, even when the value itself is moved (it
/// lives on the heap or in static memory).
pub unsafe trait IoBuf: Unpin + 'static {
    /// Pointer to the first byte.
    fn stable_ptr(&self) -> *const u8;
    /// How many bytes are initialised (what a write sends).
    fn bytes_init(&self) -> usize;
    /// How many bytes the storage holds (what a read may fill).
    fn bytes_total(&self) -> usize;

    /// A view of `range` of the buffer that still owns it; [`Slice::into_inner`] gives it back.
    /// Every range form means what it means when slicing a `[u8]`.
    ///
    /// ```
    /// use runtime::io::IoBuf;
    /// let slice = Vec::<u8>::with_capacity(8).slice(2..=5);
    /// assert_eq!((slice.begin(), slice.end(), slice.bytes_total()), (2, 6, 4));
    /// ```
    ///
    /// # Panics
    /// As slicing a `[u8]` of `bytes_total()` bytes does: when the range ends before it starts or
    /// past `bytes_total()`, or is bounded by one past `usize::MAX`.
    #[track_caller]
    fn slice(self, range: impl RangeBounds<usize>) -> Slice<Self>
    where
        Self: Sized,
    {
        let (begin, end) = bounds(range, self.bytes_total());
        Slice {
            buf: self,
            begin,
            end,
        }
    }
}

/// `range` as `begin..end` within `0..len`, checked the way slice indexing checks it (and with the
/// same messages).
#[track_caller]
fn bounds(range: impl RangeBounds<usize>, len: usize) -> (usize, usize) {
    let begin = match range.start_bound() {
        Bound::Included(&n) => n,
        Bound::Excluded(&n) => n
            .checked_add(1)
            .expect("attempted to index slice from after maximum usize"),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&n) => n
            .checked_add(1)
            .expect("attempted to index slice up to maximum usize"),
        Bound::Excluded(&n) => n,
        Bound::Unbounded => len,
    };
    assert!(
        begin <= end,
        "slice index starts at {begin} but ends at {end}"
    );
    assert!(
        end <= len,
        "range end index {end} out of range for buffer of length {len}"
    );
    (begin, end)
}

/// A buffer the kernel may write into (the destination of a read).
///
/// # Safety
/// As for [`IoBuf`]; in addition `stable_mut_ptr` must be valid for writes of `bytes_total` bytes.
pub unsafe trait IoBufMut: IoBuf {
    /// Pointer to the first byte, for writing.
    fn stable_mut_ptr(&mut self) -> *mut u8;

    /// Records that the first `pos` bytes are now initialised (a read filled them): a `Vec`'s
    /// length becomes `pos`.
    ///
    /// # Safety
    /// The first `pos` bytes must really be initialised, and `pos <= bytes_total()`.
    unsafe fn set_init(&mut self, pos: usize);
}

// SAFETY: a Vec's storage is on the heap (or dangling with capacity 0) and does not move with the
// Vec; `len` bytes are initialised and `capacity` are allocated.
unsafe impl IoBuf for Vec<u8> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: the whole capacity is allocated and writable.
unsafe impl IoBufMut for Vec<u8> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    /// # Safety
    /// As for [`IoBufMut::set_init`].
    unsafe fn set_init(&mut self, pos: usize) {
        // SAFETY: the caller promises `pos` bytes are initialised and within capacity.
        unsafe { self.set_len(pos) };
    }
}

// SAFETY: a boxed slice lives on the heap, fully initialised.
unsafe impl IoBuf for Box<[u8]> {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: every byte is allocated, initialised and writable.
unsafe impl IoBufMut for Box<[u8]> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    /// # Safety
    /// As for [`IoBufMut::set_init`] (nothing to record: every byte is always initialised).
    unsafe fn set_init(&mut self, _pos: usize) {}
}

// SAFETY: static memory never moves and is initialised.
unsafe impl IoBuf for &'static [u8] {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: static memory never moves and is initialised.
unsafe impl IoBuf for &'static str {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: a String's storage is a heap Vec<u8>. (Not IoBufMut: a read could break UTF-8.)
unsafe impl IoBuf for String {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len()
    }
    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

/// A range of an owned buffer, itself an owned buffer (made by [`IoBuf::slice`]).
#[derive(Debug)]
pub struct Slice<T> {
    buf: T,
    begin: usize,
    end: usize,
}

impl<T> Slice<T> {
    /// The whole buffer back.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// Where the slice starts in the buffer.
    pub fn begin(&self) -> usize {
        self.begin
    }

    /// Where the slice ends in the buffer.
    pub fn end(&self) -> usize {
        self.end
    }

    /// The underlying buffer.
    pub fn get_ref(&self) -> &T {
        &self.buf
    }
}

// SAFETY: a sub-range of a stable buffer is stable; `bytes_init` is clamped to what the inner
// buffer has initialised.
unsafe impl<T: IoBuf> IoBuf for Slice<T> {
    fn stable_ptr(&self) -> *const u8 {
        // SAFETY: begin <= bytes_total, so the pointer stays within (or one past) the allocation.
        unsafe { self.buf.stable_ptr().add(self.begin) }
    }
    fn bytes_init(&self) -> usize {
        self.buf.bytes_init().clamp(self.begin, self.end) - self.begin
    }
    fn bytes_total(&self) -> usize {
        self.end - self.begin
    }
}

// SAFETY: as for IoBuf; writes stay within begin..end of a writable buffer.
unsafe impl<T: IoBufMut> IoBufMut for Slice<T> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        // SAFETY: as in stable_ptr.
        unsafe { self.buf.stable_mut_ptr().add(self.begin) }
    }
    unsafe fn set_init(&mut self, pos: usize) {
        // Only extend the inner buffer's initialised prefix when it reaches `begin`: otherwise the
        // bytes between would be counted without having been written. A slice never shrinks it.
        let init = self.buf.bytes_init();
        if self.begin <= init && self.begin + pos > init {
            // SAFETY: 0..begin was initialised already (begin <= init) and the caller promises
            // begin..begin + pos now is.
            unsafe { self.buf.set_init(self.begin + pos) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_read_sets_len() {
        let mut v: Vec<u8> = Vec::with_capacity(8);
        // SAFETY: test writes 3 bytes then declares them initialised.
        unsafe {
            v.stable_mut_ptr().copy_from(b"abc".as_ptr(), 3);
            v.set_init(3);
        }
        assert_eq!(v, b"abc");
    }

    #[test]
    fn slice_bounds() {
        let s = vec![1u8, 2, 3, 4].slice(1..3);
        assert_eq!(s.bytes_init(), 2);
        assert_eq!(s.bytes_total(), 2);
        let s = b"hello".as_slice().slice(2..);
        assert_eq!(s.bytes_init(), 3);
    }
}
