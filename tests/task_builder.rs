//! `task::Builder`: a named task runs like any other, and its name is in the `JoinError` of its
//! panic or abort.

use std::time::Duration;

use runtime::task::{yield_now, Builder};
use runtime::time::timeout;

/// Every test body must end well within this.
const LIMIT: Duration = Duration::from_secs(30);

#[runtime::test]
async fn a_named_task_returns_its_output() {
    let name = format!("worker-{}", 7);
    let handle = Builder::new().name(&name).spawn(async { 6 * 7 }).unwrap();
    drop(name); // the task keeps a copy
    assert_eq!(handle.await.unwrap(), 42);
}

#[runtime::test]
async fn a_panic_in_a_named_task_names_it() {
    let handle = Builder::new()
        .name("parser")
        .spawn(async { panic!("bad input") })
        .unwrap();
    let err = timeout(LIMIT, handle).await.unwrap().unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.task_name(), Some("parser"));
    assert_eq!(err.to_string(), "task 'parser' panicked: bad input");
    assert_eq!(
        format!("{err:?}"),
        "JoinError(task 'parser' panicked: bad input)"
    );
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"bad input"));
}

#[runtime::test]
async fn a_formatted_panic_message_is_kept() {
    let handle = Builder::new()
        .name("shard 3")
        .spawn(async {
            let shard = 3;
            if shard == 3 {
                panic!("shard {shard} is corrupt");
            }
        })
        .unwrap();
    let err = handle.await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "task 'shard 3' panicked: shard 3 is corrupt"
    );
}

#[runtime::test]
async fn an_unnamed_task_panics_as_before() {
    let err = runtime::spawn(async { panic!("boom") }).await.unwrap_err();
    assert_eq!(err.task_name(), None);
    assert_eq!(err.to_string(), "task panicked: boom");
    let err = Builder::new()
        .spawn(async { panic!("boom") })
        .unwrap()
        .await
        .unwrap_err();
    assert_eq!(
        err.task_name(),
        None,
        "a builder without a name names nothing"
    );
    assert_eq!(err.to_string(), "task panicked: boom");
}

#[runtime::test]
async fn an_aborted_named_task_names_it() {
    let handle = Builder::new()
        .name("sleeper")
        .spawn(std::future::pending::<()>())
        .unwrap();
    yield_now().await;
    handle.abort();
    let err = timeout(LIMIT, handle).await.unwrap().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(err.task_name(), Some("sleeper"));
    assert_eq!(err.to_string(), "task 'sleeper' was cancelled");
}

#[runtime::test]
async fn named_tasks_join_in_a_set() {
    let mut set = runtime::task::JoinSet::new();
    let handle = Builder::new()
        .name("in a set")
        .spawn(async { panic!("oops") })
        .unwrap();
    set.spawn(async move { handle.await.unwrap_err().to_string() });
    let message = set.join_next().await.unwrap().unwrap();
    assert_eq!(message, "task 'in a set' panicked: oops");
}
