//! Port of the `TimerServiceTests` of `twisted/application/test/test_internet.py`.
//!
//! Not ported:
//! - `test_startServiceUsesGlobalReactor`: there is no global reactor; the clock is
//!   given to `TimerService::new`.
//! - `test_pickleTimerServiceNotPickleLoop`, `test_pickleTimerServiceNotPickleLoopFinished`:
//!   services are not pickled.
//! - Outside this file's scope here: `EndpointServiceTests` and `ClientServiceTests` (the
//!   networking services come later).
//!
//! Totals for `TimerServiceTests`: 8 tests, 5 ported, 3 not applicable.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, Resolver};
use tokio_twisted::failure::Failure;
use tokio_twisted::service::{Service, TimerService};
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{LoggedErrors, assert_no_result, success_result_of};

/// A timer every 2 seconds whose function returns one pending Deferred (Twisted's
/// `self.deferred`), and that Deferred's resolver.
fn setup() -> (TimerService, Clock, Resolver<()>, Arc<Mutex<Vec<()>>>) {
    let clock = Clock::new();
    let (d, r) = Deferred::<()>::new();
    let d = Mutex::new(Some(d));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    let timer = TimerService::new(Duration::from_secs(2), clock.clone(), move || {
        log.lock().unwrap().push(());
        d.lock()
            .unwrap()
            .take()
            .unwrap_or_else(|| tokio_twisted::defer::succeed(()))
    });
    (timer, clock, r, calls)
}

/// twisted: TimerServiceTests.test_startService
/// Starting marks the service running and schedules the loop on its clock.
#[test]
fn test_start_service() {
    let (timer, clock, r, _) = setup();
    timer.start_service().unwrap();
    assert!(timer.running(), "Service is started");
    r.callback(()).unwrap();
    assert_eq!(
        clock.pending_calls().len(),
        1,
        "LoopingCall is started on the clock"
    );
    success_result_of(timer.stop_service());
}

/// twisted: TimerServiceTests.test_startServiceRunsCallImmediately
/// Starting calls the function at once.
#[test]
fn test_start_service_runs_call_immediately() {
    let (timer, _clock, r, calls) = setup();
    timer.start_service().unwrap();
    assert_eq!(calls.lock().unwrap().len(), 1);
    r.callback(()).unwrap();
    success_result_of(timer.stop_service());
}

/// twisted: TimerServiceTests.test_stopServiceWaits
/// Stopping during a call in progress fires only once that call finishes.
#[test]
fn test_stop_service_waits() {
    let (timer, _clock, r, _) = setup();
    timer.start_service().unwrap();
    let d = timer.stop_service();
    assert_no_result(&d);
    assert!(timer.running());
    r.callback(()).unwrap();
    success_result_of(d);
    assert!(!timer.running());
}

/// twisted: TimerServiceTests.test_stopServiceImmediately
/// Stopping between calls fires at once.
#[test]
fn test_stop_service_immediately() {
    let (timer, _clock, r, _) = setup();
    timer.start_service().unwrap();
    r.callback(()).unwrap();
    success_result_of(timer.stop_service());
}

/// twisted: TimerServiceTests.test_failedCallLogsError
/// A call whose Deferred fails is logged, and stopping afterwards succeeds.
#[test]
fn test_failed_call_logs_error() {
    let logged = LoggedErrors::capture();
    let (timer, _clock, r, _) = setup();
    timer.start_service().unwrap();
    r.errback(Failure::new(std::fmt::Error)).unwrap();
    assert_eq!(logged.flush::<std::fmt::Error>().len(), 1);
    success_result_of(timer.stop_service());
}
