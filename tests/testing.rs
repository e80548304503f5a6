//! The test helpers of `tokio_twisted::testing`: trial's `successResultOf`,
//! `failureResultOf`, `assertNoResult` and `flushLoggedErrors`.

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
