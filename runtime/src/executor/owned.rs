//! The list of every live task of one executor, so that shutdown can reach (and drop) them all.
//!
//! An intrusive doubly-linked list threaded through the task headers: linking and unlinking never
//! allocate. Only the owner thread touches it (hence plain `Cell`s).

use std::cell::Cell;
use std::ptr::NonNull;

use crate::task::{Header, OwnedRef};

pub(crate) struct OwnedTasks {
    head: Cell<Option<NonNull<Header>>>,
    len: Cell<usize>,
}

impl OwnedTasks {
    pub(crate) fn new() -> Self {
        OwnedTasks {
            head: Cell::new(None),
            len: Cell::new(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.get()
    }

    /// Links a new task; the list keeps its reference until [`remove`](Self::remove) or
    /// [`pop`](Self::pop) gives it back.
    pub(crate) fn push(&self, task: OwnedRef) {
        let ptr = task.as_ptr();
        std::mem::forget(task);
        // SAFETY: the list owns a reference to every linked task, so each header is alive.
        let header = unsafe { ptr.as_ref() };
        header.prev.set(None);
        header.next.set(self.head.get());
        if let Some(old) = self.head.get() {
            // SAFETY: as above.
            unsafe { old.as_ref() }.prev.set(Some(ptr));
        }
        self.head.set(Some(ptr));
        self.len.set(self.len.get() + 1);
    }

    /// Unlinks `task` (a task of this list) and returns its reference. `task` is the reference
    /// `Notified::run` handed back, which *is* the list's reference: it was never forgotten twice.
    pub(crate) fn remove(&self, task: OwnedRef) -> OwnedRef {
        let ptr = task.as_ptr();
        // SAFETY: linked tasks are alive (see push).
        let header = unsafe { ptr.as_ref() };
        let (prev, next) = (header.prev.take(), header.next.take());
        match prev {
            // SAFETY: linked tasks are alive.
            Some(p) => unsafe { p.as_ref() }.next.set(next),
            None => self.head.set(next),
        }
        if let Some(n) = next {
            // SAFETY: linked tasks are alive.
            unsafe { n.as_ref() }.prev.set(prev);
        }
        self.len.set(self.len.get() - 1);
        task
    }

    /// Unlinks and returns the first task, if any (shutdown drains the list this way).
    pub(crate) fn pop(&self) -> Option<OwnedRef> {
        let ptr = self.head.get()?;
        // SAFETY: the list's reference to `ptr` is handed back exactly once, here.
        Some(self.remove(unsafe { OwnedRef::from_raw(ptr) }))
    }
}
