//! The time limits that every test running a reactor or another thread is held to
//! (`common::time_limit`, `common::bounded`, `common::within`): a hung test fails in time
//! with a message, a failing body fails as itself, and a passing body passes its value
//! through.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;

use common::{bounded, bounded_for, time_limit, within};

/// Set in the child process that `a_hung_test_ends_the_binary_with_a_message` starts.
const HANG_CHILD: &str = "TOKIO_TWISTED_TEST_HANG_CHILD";

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// A body that never finishes fails the test after the limit, naming what hung.
#[test]
fn a_hung_body_fails_with_a_message() {
    let (release, wait) = mpsc::channel::<()>();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        bounded_for(Duration::from_millis(50), "waits forever", move || {
            // Blocks until the sender is dropped below, standing in for a lost wake-up.
            let _ = wait.recv();
        });
    }));
    let message = panic_message(&*outcome.expect_err("the limit must fail the test"));
    assert!(message.contains("waits forever"), "{message}");
    assert!(message.contains("did not finish within 50ms"), "{message}");
    // Lets the abandoned body end, so the test leaves no thread behind.
    drop(release);
}

/// A failed assertion inside the body fails the test with its own message.
#[test]
fn a_panicking_body_fails_as_itself() {
    let outcome = catch_unwind(|| bounded("asserts", || assert_eq!(1 + 1, 3, "arithmetic")));
    let message = panic_message(&*outcome.expect_err("the body's panic must propagate"));
    assert!(message.contains("arithmetic"), "{message}");
}

/// A body that finishes in time returns its value.
#[test]
fn a_finished_body_returns_its_value() {
    assert_eq!(bounded("adds", || 40 + 2), 42);
}

/// The async variant fails a future that never finishes, and passes a finished one through.
#[tokio::test(start_paused = true)]
async fn within_bounds_a_future() {
    assert_eq!(within("ready", async { 7 }).await, 7);
    let never = tokio::spawn(within("never ready", std::future::pending::<()>()));
    let message = panic_message(&*never.await.expect_err("must time out").into_panic());
    assert!(message.contains("never ready"), "{message}");
}

/// The child half of `a_hung_test_ends_the_binary_with_a_message`: passes at once unless
/// run as that child, where it holds a time limit and hangs.
#[test]
fn hangs_in_the_child() {
    if std::env::var_os(HANG_CHILD).is_none() {
        return;
    }
    let _limit = time_limit();
    let (_keep, wait) = mpsc::channel::<()>();
    let _ = wait.recv();
}

/// A test that hangs under `time_limit` ends its test binary soon after the limit, with
/// exit code 101 and a message on stderr naming the test.
#[test]
fn a_hung_test_ends_the_binary_with_a_message() {
    let _limit = time_limit();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hangs_in_the_child", "--test-threads=1"])
        .env(HANG_CHILD, "1")
        .env("TEST_TIME_LIMIT_SECS", "0.2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("hangs_in_the_child (tests/bounded.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains("did not finish within 200ms"), "{stderr}");
}
