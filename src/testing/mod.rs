// Tests: tests/testing.rs

//! Helpers for deterministic tests, after `twisted.trial` and `twisted.internet.testing`.
//!
//! - [`success_result_of`], [`failure_result_of`] and [`assert_no_result`]: trial's
//!   `successResultOf`, `failureResultOf` and `assertNoResult`.
//! - [`LoggedErrors`]: captures the failures the library would log (unhandled errors in
//!   Deferreds, failing timed calls), like trial's `flushLoggedErrors`.
//! - [`time_limit`]: a watchdog that fails a test which runs past its limit instead of
//!   letting it hang, like trial's per-test `timeout`.
//!
//! ```
//! use tokio_twisted::defer::{fail, succeed};
//! use tokio_twisted::failure::Failure;
//! use tokio_twisted::testing::{failure_result_of, success_result_of};
//!
//! assert_eq!(success_result_of(succeed(3)), 3);
//! assert_eq!(failure_result_of(fail::<i32>(Failure::msg("x"))).error_message(), "x");
//!
//! let (pending, _resolver) = tokio_twisted::defer::Deferred::<i32>::new();
//! tokio_twisted::testing::assert_no_result(&pending);
//! ```

mod logged;
mod loopback;
mod memory_reactor;
mod string_transport;
mod time_limit;

pub use logged::LoggedErrors;
pub use loopback::Loopback;
pub use memory_reactor::{MemoryReactor, TcpClient, TcpServer, UnixClient, UnixServer};
pub use string_transport::StringTransport;
pub use time_limit::{TimeLimit, time_limit};

use crate::defer::Deferred;
use crate::failure::Failure;

/// The value of a Deferred that has already succeeded: trial's `successResultOf`.
///
/// # Panics
///
/// Panics (failing the test) if the Deferred has no result yet or has failed.
///
/// ```
/// # use tokio_twisted::{defer::succeed, testing::success_result_of};
/// assert_eq!(success_result_of(succeed("ok")), "ok");
/// ```
#[doc(alias = "successResultOf")]
#[track_caller]
pub fn success_result_of<T: Send + 'static>(d: Deferred<T>) -> T {
    match final_result(d, "success") {
        Ok(v) => v,
        Err(f) => panic!("success result expected, found failure: {f:?}"),
    }
}

/// The failure of a Deferred that has already failed: trial's `failureResultOf`. Taking
/// it marks it handled.
///
/// # Panics
///
/// Panics (failing the test) if the Deferred has no result yet or has succeeded.
///
/// ```
/// # use tokio_twisted::{defer::fail, failure::Failure, testing::failure_result_of};
/// assert!(failure_result_of(fail::<()>(Failure::msg("x"))).check::<tokio_twisted::failure::MessageError>());
/// ```
#[doc(alias = "failureResultOf")]
#[track_caller]
pub fn failure_result_of<T: Send + 'static>(d: Deferred<T>) -> Failure {
    match final_result(d, "failure") {
        Err(f) => f,
        Ok(_) => panic!("failure result expected, found a success"),
    }
}

/// The result of a Deferred that has one already; panics, naming the `expected` kind of
/// result, if it has none yet.
#[track_caller]
fn final_result<T: Send + 'static>(d: Deferred<T>, expected: &str) -> Result<T, Failure> {
    let Ok(result) = d.try_result() else {
        panic!("{expected} result expected, but the deferred has no result yet");
    };
    result
}

/// Asserts that a Deferred has no final result yet: trial's `assertNoResult`.
///
/// # Panics
///
/// Panics (failing the test) if the Deferred's chain has run to a result.
///
/// ```
/// # use tokio_twisted::{defer::Deferred, testing::assert_no_result};
/// let (d, _r) = Deferred::<i32>::new();
/// assert_no_result(&d);
/// ```
#[doc(alias = "assertNoResult")]
#[track_caller]
pub fn assert_no_result<T: Send + 'static>(d: &Deferred<T>) {
    let has_result = d.called() && !d.paused() && d.pending_callbacks() == 0;
    assert!(!has_result, "expected no result, but the deferred has one");
}
