// Tests: tests/defer.rs, tests/conformance/test_defer.rs

//! Deferreds that have already fired: `succeed`, `fail` and `maybe_deferred`.

use crate::failure::Failure;

use super::callbacks::guarded;
use super::deferred::Deferred;
use super::outcome::IntoOutcome;

/// An already-fired Deferred: Twisted's `defer.succeed`.
///
/// ```
/// use tokio_twisted::defer::succeed;
///
/// let d = succeed("done").add_callback(|s| Ok(s.len()));
/// assert_eq!(d.result().unwrap().unwrap(), 4);
/// ```
pub fn succeed<T: Send + 'static>(value: T) -> Deferred<T> {
    Deferred::ready(value)
}

/// An already-failed Deferred: Twisted's `defer.fail`.
///
/// ```
/// use tokio_twisted::defer::fail;
/// use tokio_twisted::failure::Failure;
///
/// let d = fail::<i32>(Failure::msg("nope")).add_errback(|f| Ok(f.error_message().len() as i32));
/// assert_eq!(d.result().unwrap().unwrap(), 4);
/// ```
pub fn fail<T: Send + 'static>(failure: impl Into<Failure>) -> Deferred<T> {
    Deferred::from_outcome(Err(failure.into()))
}

/// Calls `f` now and wraps what it returns in a Deferred: Twisted's `maybeDeferred`.
///
/// `f` may return `Ok(value)`, `Err(failure)`, `()`, a Deferred (returned as it is) or an
/// [`Outcome`](super::Outcome); a panic becomes a failed Deferred.
///
/// ```
/// use tokio_twisted::defer::{maybe_deferred, succeed};
/// use tokio_twisted::failure::Failure;
///
/// assert_eq!(maybe_deferred(|| Ok(1)).result().unwrap().unwrap(), 1);
/// assert_eq!(maybe_deferred(|| succeed(2)).result().unwrap().unwrap(), 2);
/// let failed = maybe_deferred::<i32, _, _>(|| Err(Failure::msg("bad")));
/// assert!(failed.result().unwrap().is_err());
/// # tokio_twisted::testing::failure_result_of(failed);
/// ```
#[doc(alias = "maybeDeferred")]
pub fn maybe_deferred<T, R, F>(f: F) -> Deferred<T>
where
    T: Send + 'static,
    R: IntoOutcome<T>,
    F: FnOnce() -> R,
{
    Deferred::lift(guarded(|| f().into_outcome()))
}
