// Tests: tests/defer.rs, tests/conformance/test_defer.rs

//! What a callback or errback may return: [`Outcome`] and [`IntoOutcome`].

use std::fmt;

use crate::failure::Failure;

use super::deferred::Deferred;

/// What a step (callback or errback) produces: a value, a failure, or a Deferred to wait
/// on. Return it when different branches of one step produce different kinds.
///
/// ```
/// use tokio_twisted::defer::{succeed, Outcome};
/// use tokio_twisted::failure::Failure;
///
/// let lookup = |key: i32| {
///     succeed(key).add_callback(|k| match k {
///         0 => Outcome::Value(0), // answered at once
///         k if k < 0 => Outcome::Failure(Failure::msg("negative key")),
///         k => Outcome::Deferred(succeed(k * 2)), // the chain waits for this one
///     })
/// };
/// assert_eq!(lookup(0).result().unwrap().unwrap(), 0);
/// assert_eq!(lookup(2).result().unwrap().unwrap(), 4);
/// let failed = lookup(-1);
/// assert_eq!(failed.result().unwrap().unwrap_err().error_message(), "negative key");
/// # tokio_twisted::testing::failure_result_of(failed);
/// ```
pub enum Outcome<U> {
    /// Continue down the callback path with this value.
    Value(U),
    /// Switch to the errback path.
    Failure(Failure),
    /// Pause the chain until this Deferred fires, then continue with its result.
    Deferred(Deferred<U>),
}

/// Anything a callback or errback may return: `Result<U, Failure>`, `()`, a
/// [`Deferred<U>`], or an [`Outcome<U>`].
///
/// ```
/// use tokio_twisted::defer::{fail, succeed, IntoOutcome};
/// use tokio_twisted::failure::Failure;
///
/// fn step(x: i32) -> impl IntoOutcome<i32> { succeed(x + 1) }
/// assert_eq!(succeed(1).add_callback(step).result().unwrap().unwrap(), 2);
/// // A failed Deferred returned by a step switches the chain to the errback path.
/// fn broken(_x: i32) -> impl IntoOutcome<i32> { fail(Failure::msg("broken")) }
/// let d = succeed(1).add_callback(broken).add_errback(|f| Ok(f.error_message().len() as i32));
/// assert_eq!(d.result().unwrap().unwrap(), 6);
/// ```
pub trait IntoOutcome<U> {
    /// Converts into an [`Outcome`].
    ///
    /// ```
    /// use tokio_twisted::defer::{IntoOutcome, Outcome};
    /// use tokio_twisted::failure::Failure;
    ///
    /// assert!(matches!(Ok::<_, Failure>(3).into_outcome(), Outcome::Value(3)));
    /// assert!(matches!(Err::<i32, _>(Failure::msg("x")).into_outcome(), Outcome::Failure(_)));
    /// assert!(matches!(IntoOutcome::<()>::into_outcome(()), Outcome::Value(())));
    /// ```
    fn into_outcome(self) -> Outcome<U>;
}

impl<U: fmt::Debug + 'static> fmt::Debug for Outcome<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Outcome::Failure(e) => f.debug_tuple("Failure").field(e).finish(),
            Outcome::Deferred(_) => f.write_str("Deferred(..)"),
        }
    }
}

impl<U> IntoOutcome<U> for Outcome<U> {
    fn into_outcome(self) -> Outcome<U> {
        self
    }
}

impl<U> IntoOutcome<U> for Result<U, Failure> {
    fn into_outcome(self) -> Outcome<U> {
        match self {
            Ok(v) => Outcome::Value(v),
            Err(f) => Outcome::Failure(f),
        }
    }
}

impl<U> IntoOutcome<U> for Deferred<U> {
    fn into_outcome(self) -> Outcome<U> {
        Outcome::Deferred(self)
    }
}

impl IntoOutcome<()> for () {
    fn into_outcome(self) -> Outcome<()> {
        Outcome::Value(())
    }
}
