//! Waiting on a plain thread: the `blocking_send` and `blocking_recv` methods run the async
//! method's future here, sleeping in `thread::park` until its waker unparks the thread.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes a thread sleeping in [`block_on`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, which sleeps while it is pending.
///
/// # Panics
/// On a thread running a runtime: sleeping there would stop every task of that runtime,
/// including, perhaps, the one that would wake us.
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    // `try_with_timers` answers only when a runtime is entered on this thread.
    assert!(
        crate::context::try_with_timers(|_| ()).is_none(),
        "`blocking_send` and `blocking_recv` would stop this thread's runtime: use `send(..).await` \
         or `recv().await` inside a runtime, the blocking methods on other threads"
    );
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // An unpark that came before this call makes it return at once: none is lost. It may
        // also return for no reason; the loop then polls once more.
        thread::park();
    }
}
