//! Code shared by the IO-model servers, so that each server file only shows its model.
//!
//! Each server pulls this in with `#[path = "common/mod.rs"] mod common;`. No server uses
//! every helper, which is why the servers put `#[allow(dead_code)]` on that line.

pub mod args;
pub mod conn;
pub mod net;
pub mod signals;
pub mod stats;
