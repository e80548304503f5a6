//! The test helpers of `tokio_twisted::testing`: trial's `successResultOf`,
//! `failureResultOf`, `assertNoResult` and `flushLoggedErrors`, and the `time_limit`
//! watchdog (checked in a child process, this test binary re-executed, since it ends the
//! process).

mod common;

use std::thread;

use tokio_twisted::defer::{Deferred, fail, succeed};
use tokio_twisted::failure::{Failure, MessageError};
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

#[test]
fn success_result_of_takes_the_value() {
    assert_eq!(success_result_of(succeed(3)), 3);
    let (d, r) = Deferred::<String>::new();
    r.callback("late".into()).unwrap();
    assert_eq!(success_result_of(d.add_callback(|s| Ok(s.len()))), 4);
}

#[test]
#[should_panic(expected = "success result expected, found failure")]
fn success_result_of_a_failure_panics() {
    success_result_of(fail::<i32>(Boom));
}

#[test]
#[should_panic(expected = "has no result yet")]
fn success_result_of_an_unfired_deferred_panics() {
    let (d, _r) = Deferred::<i32>::new();
    success_result_of(d);
}

#[test]
fn failure_result_of_takes_and_handles_the_failure() {
    let logged = LoggedErrors::capture();
    let f = failure_result_of(fail::<i32>(Boom));
    assert!(f.check::<Boom>());
    assert!(logged.is_empty(), "taking the failure handled it");
}

#[test]
#[should_panic(expected = "failure result expected, found a success")]
fn failure_result_of_a_success_panics() {
    failure_result_of(succeed(1));
}

#[test]
#[should_panic(expected = "has no result yet")]
fn failure_result_of_a_paused_deferred_panics() {
    let mut d = fail::<i32>(Boom);
    d.pause();
    failure_result_of(d);
}

#[test]
fn assert_no_result_accepts_unfired_paused_and_waiting() {
    let (d, _r) = Deferred::<i32>::new();
    assert_no_result(&d);
    let mut paused = succeed(1);
    paused.pause();
    let paused = paused.add_callback(|x| Ok(x + 1));
    assert_no_result(&paused);
    let (inner, _ri) = Deferred::<i32>::new();
    let waiting = succeed(0).add_callback(move |_| inner);
    assert_no_result(&waiting);
}

#[test]
#[should_panic(expected = "expected no result")]
fn assert_no_result_of_a_fired_deferred_panics() {
    assert_no_result(&succeed(1));
}

#[test]
fn logged_errors_flush_by_type() {
    let logged = LoggedErrors::capture();
    drop(fail::<()>(Boom));
    drop(fail::<()>(Failure::msg("text")));
    assert!(!logged.is_empty());
    assert!(logged.flush::<std::fmt::Error>().is_empty());
    let booms = logged.flush::<Boom>();
    assert_eq!(booms.len(), 1);
    assert!(booms[0].check::<Boom>());
    assert_eq!(logged.flush_all().len(), 1, "the message failure is left");
    assert!(logged.is_empty());
}

#[test]
fn logged_errors_nest() {
    let outer = LoggedErrors::capture();
    drop(fail::<()>(Failure::msg("outer")));
    {
        let inner = LoggedErrors::capture();
        drop(fail::<()>(Failure::msg("inner")));
        let flushed = inner.flush::<MessageError>();
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].error_message(), "inner");
    }
    let flushed = outer.flush::<MessageError>();
    assert_eq!(flushed.len(), 1);
    assert_eq!(flushed[0].error_message(), "outer");
}

#[test]
fn logged_errors_capture_only_this_thread() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    thread::spawn(|| drop(fail::<()>(Boom))).join().unwrap();
    assert!(logged.is_empty(), "reported on the other thread, through tracing");
}

#[test]
#[should_panic(expected = "logged error(s) were not flushed")]
fn unflushed_logged_errors_fail_the_test() {
    let _logged = LoggedErrors::capture();
    drop(fail::<()>(Boom));
}

/// Set in the child process of the `time_limit` tests; names what the child does.
const TIME_LIMIT_CHILD: &str = "TOKIO_TWISTED_TIME_LIMIT_CHILD";

/// The child half of the `time_limit` tests: passes at once unless run as their child.
#[test]
fn time_limit_child() {
    let _limit = common::time_limit();
    match std::env::var(TIME_LIMIT_CHILD).as_deref() {
        Ok("hangs") => {
            let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_millis(50));
            // Hung: nothing will ever unpark this thread; the watchdog ends the process.
            loop {
                thread::park();
            }
        }
        Ok("finishes") => {
            let limit = tokio_twisted::testing::time_limit(std::time::Duration::from_millis(50));
            drop(limit);
            // Past the limit, disarmed: the watchdog has nothing to do. (Only the child
            // waits in real time, for the parent to see that nothing happens.)
            thread::sleep(std::time::Duration::from_millis(200));
            println!("finished");
        }
        _ => {}
    }
}

fn run_time_limit_child(what: &'static str) -> std::process::Output {
    common::bounded("a time_limit child process", move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["time_limit_child", "--exact", "--test-threads=1", "--nocapture"])
            .env(TIME_LIMIT_CHILD, what)
            .output()
            .unwrap()
    })
}

#[test]
fn time_limit_ends_a_hung_test_with_a_message() {
    let out = run_time_limit_child("hangs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("did not finish within 50ms and is presumed hung"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tests/testing.rs:"),
        "names where the limit was set: {stderr}"
    );
}

#[test]
fn time_limit_dropped_in_time_does_nothing() {
    let out = run_time_limit_child("finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("finished"));
    assert!(!stderr.contains("presumed hung"), "{stderr}");
}
