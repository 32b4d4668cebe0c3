//! The hand-written `RawWakerVTable` of a task. The waker's data pointer is the task's header; each
//! `Waker` owns one reference to the task.
//!
//! A waker may be cloned, woken and dropped on any thread (`Waker` is `Send + Sync`): these functions
//! touch only the atomic state and hand the task to its owner executor, which decides whether the
//! wake is local (straight onto the run queue) or remote (the cross-thread queue plus an unpark).

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::Header;
use super::state::WakeAction;
use super::Notified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the task that does not own a reference: valid only while the caller keeps the task
/// alive (the executor holds a queue-entry reference for the duration of a poll).
///
/// # Safety
/// `ptr` must point to a live task header and stay live as long as the returned value is used.
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable's functions uphold the RawWaker contract for a header pointer; the
    // ManuallyDrop keeps this non-owning waker from releasing a reference it never took, and
    // `clone` takes a fresh reference for any copy that escapes.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) })
}

fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: every RawWaker built with VTABLE carries a pointer to a live header, kept alive by the
    // reference the waker owns (or, for `borrowed`, by the executor).
    unsafe { &*(data as *const Header) }
}

fn as_ptr(data: *const ()) -> NonNull<Header> {
    // SAFETY: the data pointer came from a NonNull<Header>.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

/// # Safety
/// `data` is the header pointer of a waker built with `VTABLE` (the `RawWaker` contract).
unsafe fn clone(data: *const ()) -> RawWaker {
    header(data).state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// As for [`clone`]; the waker is consumed (its reference moves or is released).
unsafe fn wake(data: *const ()) {
    match header(data).state.wake_by_val() {
        // The waker's own reference moves into the queue entry.
        // SAFETY: the transition set SCHEDULED, so creating this one entry upholds the state
        // invariant, and the reference it owns is the waker's.
        WakeAction::Schedule => unsafe { Notified::from_raw(as_ptr(data)) }.schedule(),
        // SAFETY: the waker owned one reference, released here exactly once.
        WakeAction::Nothing => unsafe { super::drop_ref(as_ptr(data)) },
    }
}

/// # Safety
/// As for [`clone`].
unsafe fn wake_by_ref(data: *const ()) {
    if header(data).state.wake_by_ref() == WakeAction::Schedule {
        // SAFETY: the transition set SCHEDULED and took a new reference for this entry.
        unsafe { Notified::from_raw(as_ptr(data)) }.schedule();
    }
}

/// # Safety
/// As for [`clone`]; the waker is consumed.
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owned one reference, released here exactly once.
    unsafe { super::drop_ref(as_ptr(data)) }
}
