//! The `#[runtime::main]` and `#[runtime::test]` attributes.
//!
//! Use them through the `runtime` crate, which re-exports both; this crate only
//! rewrites source code and has no runtime of its own. The expansions refer to
//! the runtime by the absolute path `::runtime`, so the `runtime` crate must be a
//! dependency under that name.
//!
//! # `#[runtime::main]`
//!
//! Turns an `async fn` into a plain one that starts a runtime and runs the body
//! on it to completion. The return type is kept, so `main` may return
//! `io::Result<()>` as usual:
//!
//! ```
//! use std::io;
//! use std::time::Duration;
//!
//! #[runtime::main]
//! async fn main() -> io::Result<()> {
//!     runtime::time::sleep(Duration::from_millis(10)).await;
//!     let here = std::env::current_dir()?;
//!     println!("running in {}", here.display());
//!     Ok(())
//! }
//! ```
//!
//! expands to (roughly):
//!
//! ```ignore
//! fn main() -> io::Result<()> {
//!     let body = async move { /* the body above */ };
//!     let runtime = match ::runtime::Runtime::builder().build() {
//!         Ok(runtime) => runtime,
//!         Err(error) => {
//!             eprintln!("error: cannot start the runtime: {error}");
//!             std::process::exit(1)
//!         }
//!     };
//!     runtime.block_on(body)
//! }
//! ```
//!
//! So when the runtime cannot start — `backend = "io_uring"` on a kernel that
//! refuses io_uring, for instance — the program prints the reason in plain words
//! and exits with status 1, as a `main` returning `Err` does, rather than
//! panicking with the error's `Debug` form.
//!
//! `backend = "..."` picks the IO backend instead of leaving the choice to the
//! runtime: `"epoll"`, `"io_uring"` or `"auto"` (what no argument means too):
//!
//! ```
//! #[runtime::main(backend = "epoll")]
//! async fn main() {
//!     // Always runs on the epoll reactor.
//! }
//! ```
//!
//! The attribute also works on functions other than `main`; each call then starts
//! a runtime of its own and blocks until the body is done (a runtime that cannot
//! start is then a panic with the same message: ending the process is for `main`
//! to decide). Such helpers keep their
//! parameters and may be methods (`main` itself may take no parameters), but none
//! may be generic:
//!
//! ```
//! #[runtime::main(backend = "epoll")]
//! pub async fn total_len(paths: &[&str]) -> std::io::Result<u64> {
//!     let mut total = 0;
//!     for path in paths {
//!         total += std::fs::metadata(path)?.len();
//!     }
//!     Ok(total)
//! }
//!
//! fn main() {
//!     // A plain call: the helper starts a runtime, runs the body, and returns.
//!     let total = total_len(&["/"]).expect("`/` exists");
//!     println!("{total} bytes");
//! }
//! ```
//!
//! # `#[runtime::test]`
//!
//! Marks an `async fn` without parameters as a test. Without arguments the body
//! runs once on each backend compiled into the runtime; the io_uring run is
//! skipped, with a printed reason, where the kernel refuses io_uring. With
//! `backend = "..."` it runs once, on that backend only.
//!
//! ```
//! use std::time::Duration;
//!
//! #[runtime::test]
//! async fn sleeping_returns() {
//!     runtime::time::sleep(Duration::from_millis(1)).await;
//! }
//!
//! #[runtime::test(backend = "epoll")]
//! async fn parses() -> Result<(), std::num::ParseIntError> {
//!     // `?` works: an `Err` fails the test and shows the error's `Debug` output.
//!     let answer: u32 = "42".parse()?;
//!     assert_eq!(answer, 42);
//!     Ok(())
//! }
//!
//! #[runtime::test]
//! #[should_panic(expected = "boom")]
//! async fn panics_are_reported() {
//!     panic!("boom");
//! }
//! # fn main() {}
//! ```
//!
//! A test may return `()` or `Result<(), E>` for any `E: Debug`. Other attributes
//! (`#[ignore]`, `#[should_panic]`, `#[cfg(...)]`, docs) are kept. Do not add
//! `#[test]` yourself: the attribute already does.
//!
//! # Errors
//!
//! Misuse is reported at the offending token, with the accepted alternatives:
//! a function without `async`, an unknown argument, an unknown backend, a `main`
//! or a test with parameters, a generic function. All of them are reported at
//! once, and the function is still emitted (as if the mistakes were fixed, for
//! `main` and helpers), so no unrelated errors follow from its absence.

mod args;
mod check;
mod expand;

use proc_macro::TokenStream;

/// Turns `async fn` into a plain function that runs its body to completion on a
/// new runtime. The return type, attributes and visibility are kept.
///
/// Accepts `backend = "auto" | "epoll" | "io_uring"`; without it the runtime
/// chooses. Works on helpers and methods as well as on `main`. See the
/// [crate docs](crate) for the details and the expansion.
///
/// ```
/// #[runtime::main(backend = "epoll")]
/// async fn main() -> std::io::Result<()> {
///     runtime::time::sleep(std::time::Duration::from_millis(10)).await;
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::main(args.into(), item.into()).into()
}

/// Makes an `async fn` a test, run once on every backend compiled into the
/// runtime (io_uring is skipped where the kernel refuses it), or only on the one
/// given by `backend = "auto" | "epoll" | "io_uring"`.
///
/// The test may return `()` or `Result<(), E>` with `E: Debug`; other attributes
/// such as `#[ignore]` and `#[should_panic]` are kept. See the
/// [crate docs](crate) for more.
///
/// ```
/// #[runtime::test]
/// async fn parses() -> Result<(), std::num::ParseIntError> {
///     assert_eq!("42".parse::<u32>()?, 42);
///     Ok(())
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::test(args.into(), item.into()).into()
}
