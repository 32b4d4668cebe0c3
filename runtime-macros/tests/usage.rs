//! The expansions compiled and run against the real runtime: every shape of
//! function the attributes accept.

use std::io;

#[runtime::test]
async fn a_plain_test_runs() {
    let value = async { 40 + 2 }.await;
    assert_eq!(value, 42);
}

#[runtime::test(backend = "epoll")]
async fn a_test_may_return_a_result_and_use_question_marks() -> io::Result<()> {
    let parsed: u32 = "7".parse().map_err(io::Error::other)?;
    assert_eq!(parsed, 7);
    Ok(())
}

#[runtime::test]
async fn a_test_may_return_a_boxed_error() -> Result<(), Box<dyn std::error::Error>> {
    // Two different error types through `?`: the declared return type decides.
    let number: i64 = "-3".parse()?;
    let text = String::from_utf8(vec![b'o', b'k'])?;
    assert_eq!((number, text.as_str()), (-3, "ok"));
    Ok(())
}

#[runtime::test]
#[should_panic(expected = "boom")]
async fn a_panicking_test_can_be_expected_to_panic() {
    panic!("boom");
}

#[runtime::test]
#[should_panic]
async fn a_test_returning_an_error_fails() -> Result<(), String> {
    Err(String::from("expected failure"))
}

#[runtime::test]
#[ignore = "only checks that #[ignore] is kept"]
async fn an_ignored_test_is_not_run() {
    panic!("an ignored test ran");
}

/// A helper that starts its own runtime, with parameters and a return value.
#[runtime::main(backend = "epoll")]
async fn add_on_epoll(a: u32, b: u32) -> u32 {
    async move { a + b }.await
}

/// A helper that lets the runtime pick its backend and fails through `?`.
#[runtime::main]
async fn parse_on_any_backend(text: &str) -> io::Result<u32> {
    let number = text.parse().map_err(io::Error::other)?;
    Ok(number)
}

struct Counter {
    start: u32,
}

impl Counter {
    /// Methods work too: the body still sees `self`.
    #[runtime::main(backend = "auto")]
    async fn count_up(&self, by: u32) -> u32 {
        self.start + by
    }
}

#[test]
fn a_helper_runs_its_body_to_completion() {
    assert_eq!(add_on_epoll(2, 3), 5);
}

#[test]
fn a_helper_returns_the_body_error() {
    assert_eq!(parse_on_any_backend("12").unwrap(), 12);
    assert!(parse_on_any_backend("twelve").is_err());
}

#[test]
fn a_method_sees_self() {
    assert_eq!(Counter { start: 10 }.count_up(5), 15);
}

/// A helper on two workers: the body runs on worker 0, and worker 1 answers.
#[runtime::main(workers = 2)]
async fn on_two_workers() -> (usize, usize) {
    let other = runtime::Handle::current().spawn_on(1, async { runtime::worker_id() });
    (runtime::workers(), other.await.unwrap())
}

/// One worker per CPU.
#[runtime::main(workers = "auto", backend = "auto")]
async fn on_every_core() -> usize {
    runtime::workers()
}

#[test]
fn workers_are_set_by_the_attribute() {
    assert_eq!(on_two_workers(), (2, 1));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(on_every_core(), cores);
}
