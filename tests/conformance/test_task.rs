//! Port of `twisted/test/test_task.py`: `Clock`, `LoopingCall` (with `withCount`) and
//! `deferLater`, all on `task::Clock`; the `LoopingCall` and `deferLater` tests listed in
//! `on_every_clock!` at the end run on `time::TokioTime` over paused Tokio time too. Those
//! that advance the clock from inside a call, or use times between Tokio's millisecond
//! ticks, run on the `Clock` only.
//!
//! Not ported here:
//! - `LoopTests.test_defaultClock`: there is no global reactor; a `LoopingCall` is always
//!   given its clock.
//! - `LoopTests.test_deferredDeprecation`: the deprecated `LoopingCall.deferred` attribute
//!   does not exist; the Deferred returned by `start` is the only one.
//! - `ReactTests.*` (11 tests) and `ReactCoroutineFunctionTests.*` (11 tests): ported in
//!   `tests/reactor.rs` (20 of them; both `test_arguments` do not apply: closures capture
//!   their arguments), because `task::react` runs the real reactor.
//!
//! The `ReactorLoopTests` ran on the real reactor in Twisted; here they run on a `Clock`,
//! which checks the same behaviour deterministically.

#![allow(
    clippy::doc_markdown,
    reason = "the doc lines naming the ported Twisted tests quote them verbatim, for grep"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio_twisted::defer::{CancelledError, Deferred, succeed};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{DelayedCallError, ReactorTime};
use tokio_twisted::task::{Clock, LoopingCall, LoopingCallError, defer_later};

use crate::clocks::TestClock;
use tokio_twisted::testing::{assert_no_result, failure_result_of, success_result_of};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn take<T: Clone>(l: &Log<T>) -> Vec<T> {
    l.lock().unwrap().clone()
}

#[derive(Debug, thiserror::Error)]
#[error("test exception: {0}")]
struct TestException(&'static str);

// ---------------------------------------------------------------- ClockTests

/// twisted: ClockTests.testSeconds
/// A new Clock reads zero.
#[test]
fn test_seconds() {
    let c = Clock::new();
    assert!(c.seconds().abs() < f64::EPSILON);
    assert_eq!(c.now(), Duration::ZERO);
}

/// twisted: ClockTests.testCallLater
/// `call_later` hands back an active DelayedCall due at now + delay.
#[test]
fn test_call_later() {
    let c = Clock::new();
    let call = c.call_later(secs(1), || {});
    assert_eq!(call.time(), secs(1));
    assert!(call.active());
}

/// twisted: ClockTests.testCallLaterCancelled
/// A cancelled call is no longer active.
#[test]
fn test_call_later_cancelled() {
    let c = Clock::new();
    let call = c.call_later(secs(1), || {});
    call.cancel().unwrap();
    assert!(!call.active());
}

/// twisted: ClockTests.test_callLaterOrdering
/// Each `call_later` returns a distinct call.
#[test]
fn test_call_later_ordering() {
    let c = Clock::new();
    let call1 = c.call_later(secs(10), || {});
    let call2 = c.call_later(secs(1), || {});
    call2.cancel().unwrap();
    assert!(call1.active());
    assert!(!call2.active());
}

/// twisted: ClockTests.testAdvance
/// Advancing the clock runs the calls that became due.
#[test]
fn test_advance() {
    let events = log();
    let c = Clock::new();
    let e = events.clone();
    let call = c.call_later(secs(2), move || e.lock().unwrap().push(()));
    c.advance(secs(1));
    assert!(take(&events).is_empty());
    c.advance(secs(1));
    assert_eq!(take(&events).len(), 1);
    assert!(!call.active());
}

/// twisted: ClockTests.testAdvanceCancel
/// Cancelling a call from inside itself reports AlreadyCalled.
#[test]
fn test_advance_cancel() {
    let c = Clock::new();
    let slot = Arc::new(OnceLock::new());
    let result = log();
    let (s, r) = (slot.clone(), result.clone());
    let call = c.call_later(secs(1), move || {
        let call: &tokio_twisted::reactor::DelayedCall = s.get().unwrap();
        r.lock().unwrap().push(call.cancel());
    });
    slot.set(call).unwrap();
    c.advance(secs(1));
    assert_eq!(take(&result), [Err(DelayedCallError::AlreadyCalled)]);
}

/// twisted: ClockTests.testCallLaterDelayed
/// `delay` moves a call later.
#[test]
fn test_call_later_delayed() {
    let events = log();
    let c = Clock::new();
    let e = events.clone();
    let call = c.call_later(secs(1), move || e.lock().unwrap().push((1, 2)));
    call.delay(secs(1)).unwrap();
    assert_eq!(call.time(), secs(2));
    c.advance(ms(1500));
    assert!(take(&events).is_empty());
    c.advance(secs(1));
    assert_eq!(take(&events), [(1, 2)]);
}

/// twisted: ClockTests.testCallLaterResetLater
/// `reset` to a later time postpones the call.
#[test]
fn test_call_later_reset_later() {
    let events = log();
    let c = Clock::new();
    let e = events.clone();
    let call = c.call_later(secs(2), move || e.lock().unwrap().push((1, 2)));
    c.advance(secs(1));
    call.reset(secs(3)).unwrap();
    assert_eq!(call.time(), secs(4));
    c.advance(secs(2));
    assert!(take(&events).is_empty());
    c.advance(secs(1));
    assert_eq!(take(&events), [(1, 2)]);
}

/// twisted: ClockTests.testCallLaterResetSooner
/// `reset` to an earlier time brings the call forward.
#[test]
fn test_call_later_reset_sooner() {
    let events = log();
    let c = Clock::new();
    let e = events.clone();
    let call = c.call_later(secs(4), move || e.lock().unwrap().push((1, 2)));
    call.reset(secs(3)).unwrap();
    assert_eq!(call.time(), secs(3));
    c.advance(secs(3));
    assert_eq!(take(&events), [(1, 2)]);
}

/// twisted: ClockTests.test_getDelayedCalls
/// `pending_calls` lists every scheduled call.
#[test]
fn test_get_delayed_calls() {
    let c = Clock::new();
    let first = c.call_later(secs(1), || {});
    let second = c.call_later(secs(2), || {});
    let calls = c.pending_calls();
    assert_eq!(calls.len(), 2);
    let times: Vec<Duration> = calls
        .iter()
        .map(tokio_twisted::reactor::DelayedCall::time)
        .collect();
    assert_eq!(times, [first.time(), second.time()]);
    first.cancel().unwrap();
    assert_eq!(c.pending_calls().len(), 1);
}

/// twisted: ClockTests.test_getDelayedCallsEmpty
/// A new Clock has no pending calls.
#[test]
fn test_get_delayed_calls_empty() {
    assert!(Clock::new().pending_calls().is_empty());
}

/// twisted: ClockTests.test_providesIReactorTime
/// A Clock is a ReactorTime, usable as a trait object.
#[test]
fn test_provides_i_reactor_time() {
    let c: Arc<dyn ReactorTime> = Arc::new(Clock::new());
    assert_eq!(c.now(), Duration::ZERO);
    assert!(c.call_later_boxed(secs(1), Box::new(|| {})).active());
}

fn log_time(
    clock: &Clock,
    result: &Log<(&'static str, f64)>,
    name: &'static str,
) -> impl FnOnce() + Send + 'static {
    let (c, r) = (clock.clone(), result.clone());
    move || r.lock().unwrap().push((name, c.seconds()))
}

/// twisted: ClockTests.test_callLaterKeepsCallsOrdered
/// A call scheduled after another was reset later still runs in time order.
#[test]
fn test_call_later_keeps_calls_ordered() {
    let result = log();
    let clock = Clock::new();
    let call_a = clock.call_later(secs(1), log_time(&clock, &result, "a"));
    call_a.reset(secs(3)).unwrap();
    clock.call_later(secs(2), log_time(&clock, &result, "b"));
    clock.pump([secs(1); 3]);
    assert_eq!(take(&result), [("b", 2.0), ("a", 3.0)]);
}

/// twisted: ClockTests.test_callLaterResetKeepsCallsOrdered
/// Resetting a call past another keeps time order.
#[test]
fn test_call_later_reset_keeps_calls_ordered() {
    let result = log();
    let clock = Clock::new();
    let call_a = clock.call_later(secs(1), log_time(&clock, &result, "a"));
    clock.call_later(secs(2), log_time(&clock, &result, "b"));
    call_a.reset(secs(3)).unwrap();
    clock.pump([secs(1); 3]);
    assert_eq!(take(&result), [("b", 2.0), ("a", 3.0)]);
}

/// twisted: ClockTests.test_callLaterResetInsideCallKeepsCallsOrdered
/// Resetting a call from inside another call keeps time order.
#[test]
fn test_call_later_reset_inside_call_keeps_calls_ordered() {
    let result = log();
    let clock = Clock::new();
    let call_b = clock.call_later(secs(2), log_time(&clock, &result, "b"));
    clock.call_later(secs(1), move || call_b.reset(secs(3)).unwrap());
    clock.call_later(secs(3), log_time(&clock, &result, "c"));
    clock.pump([ms(500); 10]);
    assert_eq!(take(&result), [("c", 3.0), ("b", 4.0)]);
}

/// twisted: ClockTests.test_callLaterKeepsCallsOrdered
/// Calls due at the same time run in the order they were scheduled (Twisted's `Clock`
/// keeps its calls stably sorted by time), whatever delays they were scheduled with.
#[test]
fn test_call_later_keeps_calls_ordered_at_equal_deadlines() {
    let result = log();
    let clock = Clock::new();
    clock.call_later(secs(2), log_time(&clock, &result, "a"));
    clock.advance(secs(1));
    clock.call_later(secs(1), log_time(&clock, &result, "b"));
    clock.call_later(secs(1), log_time(&clock, &result, "c"));
    clock.call_later(Duration::ZERO, log_time(&clock, &result, "now"));
    clock.advance(secs(1));
    assert_eq!(take(&result), [("now", 2.0), ("a", 2.0), ("b", 2.0), ("c", 2.0)]);
}

// ---------------------------------------------------------------- LoopTests

/// twisted: LoopTests.test_callbackTimeSkips
/// Time that passes during a call skips the grid points it covered.
#[test]
fn test_callback_time_skips() {
    let times = log();
    let clock = Clock::new();
    let call_duration = Arc::new(Mutex::new(secs(2)));
    let (c, t, d) = (clock.clone(), times.clone(), call_duration.clone());
    let call = LoopingCall::new(clock.clone(), move || {
        t.lock().unwrap().push(c.now());
        let step = *d.lock().unwrap();
        c.advance(step);
    });
    let _done = call.start(ms(500)).unwrap();
    assert_eq!(take(&times), [secs(0)]);
    assert_eq!(clock.now(), secs(2));
    // The grid point at 2 is the present, not the future: skipped.
    clock.advance(Duration::ZERO);
    assert_eq!(take(&times), [secs(0)]);
    *call_duration.lock().unwrap() = secs(1);
    clock.advance(ms(500));
    assert_eq!(take(&times), [secs(0), ms(2500)]);
    assert_eq!(clock.now(), ms(3500));
    clock.advance(Duration::ZERO);
    assert_eq!(take(&times), [secs(0), ms(2500)]);
    *call_duration.lock().unwrap() = Duration::ZERO;
    clock.advance(ms(500));
    assert_eq!(take(&times), [secs(0), ms(2500), secs(4)]);
    assert_eq!(clock.now(), secs(4));
}

/// twisted: LoopTests.test_reactorTimeSkips
/// Intervals missed while the clock jumped are skipped, not replayed.
fn test_reactor_time_skips<C: TestClock>(clock: &C) {
    let times = log();
    let (c, t) = (clock.time(), times.clone());
    let call = LoopingCall::new(clock.time(), move || t.lock().unwrap().push(c.now()));
    let _done = call.start(ms(500)).unwrap();
    assert_eq!(take(&times), [secs(0)]);
    clock.advance(secs(2));
    assert_eq!(take(&times), [secs(0), secs(2)]);
    clock.advance(secs(1));
    assert_eq!(take(&times), [secs(0), secs(2), secs(3)]);
    clock.advance(Duration::ZERO);
    assert_eq!(take(&times), [secs(0), secs(2), secs(3)]);
}

/// twisted: LoopTests.test_reactorTimeCountSkips
/// `with_count` reports the intervals that passed, skipped ones included.
fn test_reactor_time_count_skips<C: TestClock>(clock: &C) {
    let times = log();
    let (c, t) = (clock.time(), times.clone());
    let call = LoopingCall::with_count(clock.time(), move |n| t.lock().unwrap().push((c.now(), n)));
    let (interval, delay) = (ms(500), ms(10));
    let _done = call.start(interval).unwrap();
    assert_eq!(take(&times), [(secs(0), 1)]);
    clock.advance(interval + delay);
    assert_eq!(take(&times), [(secs(0), 1), (interval + delay, 1)]);
    clock.advance(interval * 3 + delay);
    let expected = [(secs(0), 1), (interval + delay, 1), (interval * 4 + delay * 2, 3)];
    assert_eq!(take(&times), expected);
    clock.advance(Duration::ZERO);
    assert_eq!(take(&times), expected);
}

/// twisted: LoopTests.test_countLengthyIntervalCounts
/// A late call counts only the grid points actually crossed.
fn test_count_lengthy_interval_counts<C: TestClock>(clock: &C) {
    let times = log();
    let (c, t) = (clock.time(), times.clone());
    let call = LoopingCall::with_count(clock.time(), move |n| t.lock().unwrap().push((c.now(), n)));
    let (interval, delay) = (ms(500), ms(10));
    let _done = call.start(interval).unwrap();
    assert_eq!(times.lock().unwrap().pop(), Some((secs(0), 1)));
    clock.advance(interval + delay);
    assert_eq!(times.lock().unwrap().pop(), Some((interval + delay, 1)));
    clock.advance(interval * 7 / 4);
    assert_eq!(times.lock().unwrap().pop(), Some((interval * 11 / 4 + delay, 1)));
    clock.advance(interval / 4);
    assert_eq!(times.lock().unwrap().pop(), Some((interval * 3 + delay, 1)));
}

/// twisted: LoopTests.test_withCountFloatingPointBoundary
/// Counts are never 0 and sum to the number of intervals, also for intervals that do not
/// divide a second evenly (here the grid is exact nanoseconds, so no epsilon is needed).
#[test]
fn test_with_count_floating_point_boundary() {
    for count in [10_u32, 3, 7] {
        let clock = Clock::new();
        let acc = log();
        let a = acc.clone();
        let call = LoopingCall::with_count(clock.clone(), move |n| a.lock().unwrap().push(n));
        let interval = secs(1) / count;
        let _done = call.start_later(interval).unwrap();
        for _ in 0..count {
            clock.advance(interval);
        }
        // Top up to the full timespan, whatever the rounding of `interval` left over.
        clock.advance(secs(1).saturating_sub(interval * count));
        assert!(clock.now() >= secs(1));
        let counts = take(&acc);
        assert_eq!(counts.iter().sum::<u64>(), u64::from(count));
        assert!(!counts.contains(&0));
    }
}

/// Stores a LoopingCall for use from inside its own function when the function also
/// needs the count (with_handle covers the other cases).
fn handle_slot() -> Arc<OnceLock<LoopingCall>> {
    Arc::new(OnceLock::new())
}

/// twisted: LoopTests.test_withCountIntervalZero
/// With a zero interval the count is always 1.
fn test_with_count_interval_zero<C: TestClock>(clock: &C) {
    let acc = log();
    let slot = handle_slot();
    let (a, s) = (acc.clone(), slot.clone());
    let lp = LoopingCall::with_count(clock.time(), move |n| {
        a.lock().unwrap().push(n);
        if a.lock().unwrap().len() > 4 {
            s.get().unwrap().stop().unwrap();
        }
    });
    slot.set(lp.clone()).unwrap();
    let deferred = lp.start_later(Duration::ZERO).unwrap();
    clock.pump([Duration::ZERO; 5]);
    success_result_of(deferred);
    assert_eq!(take(&acc), [1; 5]);
}

/// twisted: LoopTests.test_withCountIntervalZeroDelay
/// A zero-interval loop waiting on a Deferred resumes with count 1.
fn test_with_count_interval_zero_delay<C: TestClock>(clock: &C) {
    let (deferred, resolver) = Deferred::<()>::new();
    let mut deferred = Some(deferred);
    let acc = log();
    let slot = handle_slot();
    let (a, s) = (acc.clone(), slot.clone());
    let lp = LoopingCall::with_count(clock.time(), move |n| {
        let len = {
            let mut a = a.lock().unwrap();
            a.push(n);
            a.len()
        };
        if len == 2 {
            return deferred.take().unwrap();
        }
        if len > 4 {
            s.get().unwrap().stop().unwrap();
        }
        succeed(())
    });
    slot.set(lp.clone()).unwrap();
    let _done = lp.start_later(Duration::ZERO).unwrap();
    clock.pump([Duration::ZERO; 2]);
    assert_eq!(take(&acc), [1; 2]);
    clock.pump([secs(1); 2]);
    assert_eq!(take(&acc), [1; 2]);
    resolver.callback(()).unwrap();
    clock.pump([Duration::ZERO; 4]);
    assert_eq!(take(&acc), [1; 5]);
}

/// twisted: LoopTests.test_withCountIntervalZeroDelayThenNonZeroInterval
/// After a zero-interval loop waited on a Deferred and its interval changed, the count
/// covers the time since the last call.
fn test_with_count_interval_zero_delay_then_non_zero_interval<C: TestClock>(clock: &C) {
    let (deferred, resolver) = Deferred::<()>::new();
    let mut deferred = Some(deferred);
    let acc = log();
    let (steps_before_delay, extra_time_after_delay, mutated_interval, duration_of_delay) = (2, 5, 2, 9);
    // The Clock runs the second call at 1 (not 2), as Twisted's does (Twisted #5962),
    // hence the + 1.
    let expected_skip_count = (extra_time_after_delay + duration_of_delay) / mutated_interval + 1;
    let a = acc.clone();
    let lp = LoopingCall::with_count(clock.time(), move |n| {
        let len = {
            let mut a = a.lock().unwrap();
            a.push(n);
            a.len()
        };
        if len == steps_before_delay {
            return deferred.take().unwrap();
        }
        succeed(())
    });
    let _done = lp.start_later(Duration::ZERO).unwrap();
    clock.pump(vec![
        secs(1);
        steps_before_delay + extra_time_after_delay as usize
    ]);
    assert_eq!(take(&acc), [1; 2]);
    lp.set_interval(secs(mutated_interval)).unwrap();
    resolver.callback(()).unwrap();
    clock.advance(secs(duration_of_delay));
    assert_eq!(take(&acc), [1, 1, expected_skip_count]);
    clock.advance(secs(mutated_interval));
    assert_eq!(take(&acc), [1, 1, expected_skip_count, 1]);
    clock.advance(secs(2 * mutated_interval));
    assert_eq!(take(&acc), [1, 1, expected_skip_count, 1, 2]);
}

/// twisted: LoopTests.testBasicFunction
/// The function runs at once and on each interval; `stop` fires the start Deferred with
/// the loop and leaves nothing scheduled.
fn test_basic_function<C: TestClock>(clock: &C) {
    let calls = log();
    let c = calls.clone();
    let lc = LoopingCall::new(clock.time(), move || {
        c.lock().unwrap().push(("a", "b", None::<&str>, "d"));
    });
    let d = lc.start(ms(100)).unwrap();
    clock.pump([ms(50), ms(100), ms(100)]);
    let calls = take(&calls);
    assert_eq!(calls.len(), 3, "got {} iterations, not 3", calls.len());
    assert!(calls.iter().all(|c| *c == ("a", "b", None, "d")));
    lc.stop().unwrap();
    let stopped = success_result_of(d);
    assert!(!stopped.running());
    assert_eq!(stopped.interval(), Some(ms(100)));
    assert!(clock.pending_calls().is_empty());
}

/// twisted: LoopTests.testDelayedStart
/// `start_later` waits one interval before the first call.
fn test_delayed_start<C: TestClock>(clock: &C) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let lc = LoopingCall::new(clock.time(), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    let d = lc.start_later(ms(100)).unwrap();
    clock.pump([ms(50), ms(100), ms(100)]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    lc.stop().unwrap();
    success_result_of(d);
    assert!(clock.pending_calls().is_empty());
}

/// twisted: LoopTests.testBadDelay
/// An interval out of range is refused with a typed error (a negative one cannot be
/// written: `Duration` is unsigned).
fn test_bad_delay<C: TestClock>(clock: &C) {
    let lc = LoopingCall::new(clock.time(), || {});
    assert_eq!(
        lc.start(Duration::MAX).unwrap_err(),
        LoopingCallError::InvalidInterval(Duration::MAX)
    );
    assert!(!lc.running());
}

fn stopping_test<C: TestClock>(clock: &C, delay: Duration) {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let lc = LoopingCall::new(clock.time(), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let d = lc.start_later(delay).unwrap();
    lc.stop().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(clock.pending_calls().is_empty());
    success_result_of(d);
}

/// twisted: LoopTests.testStopAtOnce
/// Stopping a zero-interval loop before its first call runs nothing.
fn test_stop_at_once<C: TestClock>(clock: &C) {
    stopping_test(clock, Duration::ZERO);
}

/// twisted: LoopTests.testStoppingBeforeDelayedStart
/// Stopping before a delayed start runs nothing.
fn test_stopping_before_delayed_start<C: TestClock>(clock: &C) {
    stopping_test(clock, secs(10));
}

/// twisted: LoopTests.test_reset
/// `reset` restarts the interval from now.
fn test_reset<C: TestClock>(clock: &C) {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let lc = LoopingCall::new(clock.time(), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let _d = lc.start_later(secs(2)).unwrap();
    clock.advance(secs(1));
    lc.reset().unwrap();
    clock.advance(secs(1));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    clock.advance(secs(1));
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

fn install_reactor() {}

/// twisted: LoopTests.test_reprFunction
/// The Debug form shows the interval and the function's name.
#[test]
fn test_repr_function() {
    let lc = LoopingCall::new(Clock::new(), install_reactor);
    let repr = format!("{lc:?}");
    assert!(repr.starts_with("LoopingCall<None>("), "{repr}");
    assert!(repr.contains("install_reactor"), "{repr}");
}

struct TestableLoopingCall;

impl TestableLoopingCall {
    fn init() {}
}

/// twisted: LoopTests.test_reprMethod
/// The Debug form shows a method's full name.
#[test]
fn test_repr_method() {
    let lc = LoopingCall::new(Clock::new(), TestableLoopingCall::init);
    let _d = lc.start_later(secs(1)).unwrap();
    let repr = format!("{lc:?}");
    assert!(repr.starts_with("LoopingCall<Some(1s)>("), "{repr}");
    assert!(repr.contains("TestableLoopingCall::init"), "{repr}");
}

// ---------------------------------------------------------------- ReactorLoopTests

/// twisted: ReactorLoopTests.testFailure
/// A failing function fails the start Deferred.
fn test_failure<C: TestClock>(clock: &C) {
    let lc = LoopingCall::new(clock.time(), || Err::<(), _>(TestException("bar").into()));
    let f = failure_result_of(lc.start(ms(100)).unwrap());
    assert!(f.check::<TestException>());
    assert!(!lc.running());
}

/// twisted: ReactorLoopTests.testFailAndStop
/// A function that stops its loop and then fails still fails the start Deferred.
fn test_fail_and_stop<C: TestClock>(clock: &C) {
    let lc = LoopingCall::with_handle(clock.time(), |lc: &LoopingCall| {
        lc.stop()?;
        Err::<(), _>(Failure::new(TestException("bar")))
    });
    let f = failure_result_of(lc.start(ms(100)).unwrap());
    assert!(f.check::<TestException>());
}

/// twisted: ReactorLoopTests.testEveryIteration
/// A zero-interval loop runs once per turn until it stops itself.
fn test_every_iteration<C: TestClock>(clock: &C) {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let lc = LoopingCall::with_handle(clock.time(), move |lc: &LoopingCall| {
        if r.fetch_add(1, Ordering::SeqCst) + 1 > 5 {
            lc.stop()?;
        }
        Ok(())
    });
    let d = lc.start(Duration::ZERO).unwrap();
    clock.advance(Duration::ZERO);
    success_result_of(d);
    assert_eq!(ran.load(Ordering::SeqCst), 6);
    assert!(clock.pending_calls().is_empty());
}

/// twisted: ReactorLoopTests.testStopAtOnceLater
/// `stop` from another timed call prevents every later call.
fn test_stop_at_once_later<C: TestClock>(clock: &C) {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let lc = LoopingCall::new(clock.time(), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let d = lc.start_later(secs(1)).unwrap();
    let l = lc.clone();
    clock.call_later(Duration::ZERO, move || l.stop().unwrap());
    clock.pump([Duration::ZERO, secs(1), secs(1)]);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    success_result_of(d);
}

/// twisted: ReactorLoopTests.testWaitDeferred
/// The function is not called again before the Deferred it returned fires.
fn test_wait_deferred<C: TestClock>(clock: &C) {
    let c = clock.time();
    let calls = Arc::new(AtomicUsize::new(0));
    let n = calls.clone();
    let lc = LoopingCall::with_handle(clock.time(), move |lc: &LoopingCall| {
        n.fetch_add(1, Ordering::SeqCst);
        let (d, r) = Deferred::<()>::new();
        let lc = lc.clone();
        let d = d.add_callback(move |()| lc.stop().map_err(Failure::from));
        c.call_later(secs(1), move || r.callback(()).unwrap());
        d
    });
    let done = lc.start(ms(200)).unwrap();
    clock.pump([ms(200), ms(800)]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(clock.pending_calls().is_empty());
    success_result_of(done);
}

/// twisted: ReactorLoopTests.testFailurePropagation
/// A failure of the function's Deferred fails the start Deferred and ends the loop.
fn test_failure_propagation<C: TestClock>(clock: &C) {
    let c = clock.time();
    let lc = LoopingCall::new(clock.time(), move || {
        let (d, r) = Deferred::<()>::new();
        c.call_later(ms(300), move || r.errback(TestException("later")).unwrap());
        d
    });
    let d = lc.start(secs(1)).unwrap();
    assert_no_result(&d);
    clock.pump([ms(300)]);
    assert!(clock.pending_calls().is_empty());
    assert!(failure_result_of(d).check::<TestException>());
}

/// twisted: ReactorLoopTests.test_deferredWithCount
/// Calls skipped while waiting on a Deferred are counted in the next call.
fn test_deferred_with_count<C: TestClock>(clock: &C) {
    let (d, r) = Deferred::<()>::new();
    let mut d = Some(d);
    let counts = log();
    let c = counts.clone();
    let lc = LoopingCall::with_count(clock.time(), move |n| {
        let mut counts = c.lock().unwrap();
        counts.push(n);
        if counts.len() == 1 {
            d.take().unwrap()
        } else {
            succeed(())
        }
    });
    let _done = lc.start_later(ms(200)).unwrap();
    assert!(take(&counts).is_empty());
    clock.pump([ms(200), ms(400)]);
    assert_eq!(take(&counts).len(), 1);
    r.callback(()).unwrap();
    clock.pump([ms(200)]);
    assert_eq!(take(&counts), [1, 3]);
}

// ---------------------------------------------------------------- DeferLaterTests

/// twisted: DeferLaterTests.test_callback
/// The Deferred fires after the delay with the function's result.
fn test_callback<C: TestClock>(clock: &C) {
    let results = log();
    let r = results.clone();
    let d = defer_later(&clock.time(), secs(3), move || {
        r.lock().unwrap().push(("foo", "bar"));
        Ok("flag")
    });
    clock.advance(secs(2));
    assert!(take(&results).is_empty());
    assert_no_result(&d);
    clock.advance(secs(1));
    assert_eq!(take(&results), [("foo", "bar")]);
    assert_eq!(success_result_of(d), "flag");
}

/// twisted: DeferLaterTests.test_errback
/// A failing function fails the Deferred.
fn test_errback<C: TestClock>(clock: &C) {
    let d = defer_later(&clock.time(), secs(1), || {
        Err::<(), _>(Failure::new(TestException("x")))
    });
    clock.advance(secs(1));
    assert!(failure_result_of(d).check::<TestException>());
}

/// twisted: DeferLaterTests.test_cancel
/// Cancelling prevents the call and leaves nothing scheduled.
fn test_cancel<C: TestClock>(clock: &C) {
    let called = Arc::new(AtomicUsize::new(0));
    let c = called.clone();
    let d = defer_later(&clock.time(), secs(1), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    d.cancel();
    assert!(failure_result_of(d).check::<CancelledError>());
    assert!(clock.pending_calls().is_empty());
    clock.advance(secs(1));
    assert_eq!(called.load(Ordering::SeqCst), 0);
}

/// twisted: DeferLaterTests.test_noCallback
/// With a function that does nothing, the Deferred fires with `()`.
fn test_no_callback<C: TestClock>(clock: &C) {
    let d = defer_later(&clock.time(), secs(2), || ());
    assert_no_result(&d);
    clock.advance(secs(2));
    success_result_of(d);
}

on_every_clock!(
    test_reactor_time_skips,
    test_reactor_time_count_skips,
    test_count_lengthy_interval_counts,
    test_with_count_interval_zero,
    test_with_count_interval_zero_delay,
    test_with_count_interval_zero_delay_then_non_zero_interval,
    test_basic_function,
    test_delayed_start,
    test_bad_delay,
    test_stop_at_once,
    test_stopping_before_delayed_start,
    test_reset,
    test_failure,
    test_fail_and_stop,
    test_every_iteration,
    test_stop_at_once_later,
    test_wait_deferred,
    test_failure_propagation,
    test_deferred_with_count,
    test_callback,
    test_errback,
    test_cancel,
    test_no_callback,
);
