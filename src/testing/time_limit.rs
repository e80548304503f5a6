// Tests: tests/testing.rs

//! A watchdog for tests that run a reactor, a thread or a socket: trial's per-test
//! `timeout`.

use std::io::Write as _;
use std::panic::Location;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// Holds the calling test to a time limit while it lives; see [`time_limit`]. Dropping
/// it (the test finished, or failed and unwound) disarms the watchdog.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::testing::time_limit;
///
/// let limit = time_limit(Duration::from_secs(20));
/// // ... the test ...
/// drop(limit); // done in time
/// ```
#[derive(Debug)]
#[must_use = "the limit lasts as long as this guard: bind it with `let _limit = ...`"]
pub struct TimeLimit {
    // Dropping the sender tells the watchdog that the test ended in time.
    _finished: mpsc::Sender<()>,
}

/// Starts a watchdog for the calling test, as trial fails a test that runs past its
/// `timeout`: if the returned guard is still alive after `limit`, the watchdog writes
/// where the limit was set to standard error and ends the process with exit code 101 (a
/// failed test's code). A test whose reactor never stops (a lost wake-up, a stop that never
/// comes) then fails within `limit` instead of hanging the test run; a hung thread cannot
/// be made to fail any other way.
///
/// Use it at the top of a test, or of a documentation example, that runs a reactor:
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::testing::time_limit;
///
/// let _limit = time_limit(Duration::from_secs(20));
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// std::thread::spawn(move || {
///     // Stopping from another thread relies on the reactor waking up for it.
///     let stopper = handle.clone();
///     handle.call_from_thread(move || stopper.stop()).unwrap();
/// });
/// reactor.run().unwrap();
/// ```
///
/// If the watchdog thread cannot be started, the test runs without a limit (and the
/// failure to start it is logged).
#[doc(alias = "timeout")]
#[track_caller]
pub fn time_limit(limit: Duration) -> TimeLimit {
    let place = Location::caller();
    let test = std::thread::current()
        .name()
        .unwrap_or("an unnamed thread")
        .to_owned();
    let (finished, wait) = mpsc::channel::<()>();
    let watchdog = std::thread::Builder::new()
        .name("time limit".to_owned())
        .spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                // Straight to stderr: a test harness's output capture would swallow a
                // message kept for a test that never ends, and the process ends next.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n{test} ({place}) did not finish within {limit:?} and is presumed hung: \
                     ending the process"
                );
                std::process::exit(101);
            }
        });
    if let Err(e) = watchdog {
        crate::log::failure(
            "while starting a time limit's watchdog",
            &crate::failure::Failure::new(e),
        );
    }
    TimeLimit { _finished: finished }
}
