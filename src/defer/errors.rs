// Tests: tests/defer.rs, tests/conformance/test_defer.rs

//! The named errors of `twisted.internet.defer`.

use std::fmt;
use std::time::Duration;

use crate::failure::Failure;

/// A Deferred was fired twice (Twisted's `AlreadyCalledError`).
///
/// ```
/// use tokio_twisted::defer::{AlreadyCalledError, Deferred};
///
/// let (_d, r) = Deferred::<i32>::new();
/// r.callback(3).unwrap();
/// assert_eq!(r.callback(6), Err(AlreadyCalledError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("deferred has already been called")]
pub struct AlreadyCalledError;

/// A Deferred was cancelled (Twisted's `CancelledError`).
///
/// ```
/// use tokio_twisted::defer::{CancelledError, Deferred};
///
/// let (d, _r) = Deferred::<i32>::new();
/// d.cancel();
/// let f = tokio_twisted::testing::failure_result_of(d);
/// assert!(f.check::<CancelledError>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("deferred was cancelled")]
pub struct CancelledError;

/// `unpause` was called on a Deferred that was not paused.
///
/// ```
/// use tokio_twisted::defer::{Deferred, NotPausedError};
///
/// let (mut d, _r) = Deferred::<i32>::new();
/// assert_eq!(d.unpause(), Err(NotPausedError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("unpause called on a deferred that is not paused")]
pub struct NotPausedError;

/// A Deferred did not fire in time (`defer.TimeoutError`, from `add_timeout`).
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::defer::TimeoutError;
///
/// let e = TimeoutError::new(Duration::from_secs(2));
/// assert_eq!(e.to_string(), "deferred timed out after 2s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("deferred timed out after {timeout:?}")]
pub struct TimeoutError {
    /// The timeout that expired.
    pub timeout: Duration,
}

impl TimeoutError {
    /// A timeout error for `timeout`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::defer::TimeoutError;
    /// assert_eq!(TimeoutError::new(Duration::from_secs(1)).timeout, Duration::from_secs(1));
    /// ```
    pub fn new(timeout: Duration) -> Self {
        TimeoutError { timeout }
    }
}

/// The first failure among a `DeferredList`'s inputs with `fire_on_one_errback`, or among
/// `gather_results`' inputs (Twisted's `FirstError`).
///
/// ```
/// use tokio_twisted::defer::{fail, gather_results, succeed, FirstError};
/// use tokio_twisted::failure::Failure;
///
/// let d = gather_results(vec![succeed(1), fail(Failure::msg("no")), succeed(3)]);
/// let f = tokio_twisted::testing::failure_result_of(d);
/// let first = f.downcast_ref::<FirstError>().unwrap();
/// assert_eq!(first.index, 1);
/// assert_eq!(first.failure.error_message(), "no");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("FirstError[#{index}, {failure}]")]
pub struct FirstError {
    /// The failure of the input that failed first.
    pub failure: Failure,
    /// That input's position in the list.
    pub index: usize,
}

impl PartialEq for FirstError {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.failure.ptr_eq(&other.failure)
    }
}

/// Every input of a `race` failed (Twisted's `FailureGroup`); the failures are in input
/// order.
///
/// ```
/// use tokio_twisted::defer::{fail, race, FailureGroup};
/// use tokio_twisted::failure::Failure;
///
/// let d = race(vec![fail::<i32>(Failure::msg("a")), fail(Failure::msg("b"))]);
/// let f = tokio_twisted::testing::failure_result_of(d);
/// let group = f.downcast_ref::<FailureGroup>().unwrap();
/// assert_eq!(group.failures.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct FailureGroup {
    /// The inputs' failures, in input order.
    pub failures: Vec<Failure>,
}

impl fmt::Display for FailureGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {} deferreds failed", self.failures.len())?;
        for (i, failure) in self.failures.iter().enumerate() {
            write!(f, "; #{i}: {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FailureGroup {}
