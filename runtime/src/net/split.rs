//! Owned halves of a stream, so one task can read while another writes.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use super::poll_io::{poll_io, PollIo};
use super::stream_io::stream_io;
use crate::driver::SharedFd;

/// The reading half of a stream, from `into_split`.
#[derive(Debug)]
pub struct ReadHalf<S: fmt::Debug> {
    stream: Rc<S>,
    fd: SharedFd,
    /// The pending wait of `poll_read`.
    poll: PollIo,
}

/// The writing half of a stream, from `into_split`. Dropping it shuts the write direction down, so
/// the peer reads end of stream (as when the whole stream is dropped).
#[derive(Debug)]
pub struct WriteHalf<S: fmt::Debug> {
    stream: Rc<S>,
    fd: SharedFd,
    /// The pending wait of `poll_write`.
    poll: PollIo,
    /// Set by `reunite`, which gives the stream back whole instead of shutting it.
    reunited: bool,
}

/// Splits `stream`, whose descriptor is `fd`, into two halves sharing it.
pub(crate) fn split<S: fmt::Debug>(stream: S, fd: &SharedFd) -> (ReadHalf<S>, WriteHalf<S>) {
    let stream = Rc::new(stream);
    (
        ReadHalf {
            stream: stream.clone(),
            fd: fd.clone(),
            poll: PollIo::default(),
        },
        WriteHalf {
            stream,
            fd: fd.clone(),
            poll: PollIo::default(),
            reunited: false,
        },
    )
}

impl<S: fmt::Debug> ReadHalf<S> {
    fn fd(&self) -> &SharedFd {
        &self.fd
    }

    /// The stream both halves belong to (for `peer_addr` and the like).
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Puts the stream back together; gives both halves back when they do not match.
    pub fn reunite(self, mut other: WriteHalf<S>) -> Result<S, (ReadHalf<S>, WriteHalf<S>)> {
        if !Rc::ptr_eq(&self.stream, &other.stream) {
            return Err((self, other));
        }
        other.reunited = true;
        let stream = self.stream.clone();
        drop((self, other));
        Ok(Rc::try_unwrap(stream).expect("both halves were given back"))
    }
}

impl<S: fmt::Debug> WriteHalf<S> {
    fn fd(&self) -> &SharedFd {
        &self.fd
    }

    /// The stream both halves belong to.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Shuts the write direction down (sends FIN), as dropping the half does: the peer reads end
    /// of stream, while the read half can still receive what the peer sends. Later writes fail
    /// with `BrokenPipe`. It never waits; it is `async` to read like tokio's
    /// `write_half.shutdown().await`.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let (ours, theirs) = runtime::net::UnixStream::pair()?;
    /// let (read, write) = ours.into_split();
    /// write.shutdown().await?;
    /// let (res, _) = theirs.read(Vec::with_capacity(16)).await;
    /// assert_eq!(res?, 0); // end of stream
    /// let (res, _) = theirs.write_all("reply").await;
    /// res?;
    /// let (res, reply) = read.read(Vec::with_capacity(16)).await;
    /// assert_eq!(&reply[..res?], b"reply");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// What `shutdown(2)` says, e.g. `NotConnected`.
    pub async fn shutdown(&self) -> io::Result<()> {
        super::socket::shutdown(self.fd().raw(), Shutdown::Write)
    }
}

impl<S: fmt::Debug> Drop for WriteHalf<S> {
    fn drop(&mut self) {
        if !self.reunited {
            let _ = super::socket::shutdown(self.fd().raw(), Shutdown::Write);
        }
    }
}

stream_io!(read, [S: fmt::Debug] ReadHalf<S>);
stream_io!(write, [S: fmt::Debug] WriteHalf<S>);
poll_io!(read, [S: fmt::Debug] ReadHalf<S>);
poll_io!(write, [S: fmt::Debug] WriteHalf<S>);
