//! The completion backend: io_uring. (Being written; for now it reports itself unsupported.)

use std::io;
use std::task::{Context, Poll};
use std::time::Duration;

use super::eventfd::Unparker;
use super::op::{Operation, Stage};
use crate::builder::Builder;

pub(crate) struct Driver {
    _private: (),
}

impl Driver {
    pub(crate) fn new(_builder: &Builder) -> io::Result<Driver> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the io_uring driver is not implemented yet",
        ))
    }

    pub(crate) fn unparker(&self) -> Unparker {
        unreachable!()
    }

    pub(crate) fn park(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        unreachable!()
    }

    pub(crate) fn poll_op<T: Operation>(
        &mut self,
        _op: &mut T,
        _stage: &mut Stage,
        _cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        unreachable!()
    }

    pub(crate) fn orphan<T: Operation>(&mut self, _key: u32, _op: Box<T>) {
        unreachable!()
    }
}
