// Tests: tests/task.rs, tests/conformance/test_task.rs (DeferLaterTests)

//! `defer_later`: run a function after a delay and get its result as a Deferred.

use crate::lock::lock;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::defer::{Deferred, IntoOutcome, fail};
use crate::failure::Failure;
use crate::reactor::ReactorNotRunning;
use crate::time::{DelayedCall, ReactorTime};

/// Calls `f` after `delay` on `clock` and fires the returned Deferred with what it
/// returns: Twisted's `task.deferLater`.
///
/// `f` may return anything a callback may return ([`IntoOutcome`]): `()`, `Ok(value)`,
/// `Err(failure)`, or a Deferred, whose result is then chained. A panic in `f` becomes a
/// failure ([`PanicError`](crate::failure::PanicError)). Twisted's `callable=None` is
/// `|| ()`.
///
/// Cancelling the Deferred before the delay has passed cancels the timer: `f` never runs,
/// the Deferred fails with [`CancelledError`](crate::defer::CancelledError), and no call is
/// left pending on the clock. Once `f` has run, cancelling reaches the Deferred `f`
/// returned, if it is still waiting on one.
///
/// On a reactor that has shut down, nothing would ever run `f`: the Deferred fails at once
/// with [`ReactorNotRunning`] (and `f` is dropped).
///
/// The clock is borrowed: `defer_later` schedules once and keeps nothing. It may be a
/// [`Clock`](crate::task::Clock), the reactor, or any `dyn ReactorTime`.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::defer::CancelledError;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::task::{Clock, defer_later};
/// use tokio_twisted::testing::{assert_no_result, failure_result_of, success_result_of};
///
/// let clock = Clock::new();
/// // Success: fires with f's value once the delay has passed.
/// let d = defer_later(&clock, Duration::from_secs(3), || Ok("done"));
/// clock.advance(Duration::from_secs(2));
/// assert_no_result(&d);
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(success_result_of(d), "done");
///
/// // Failure: what f returns (or a panic in f) goes down the errback path.
/// let d = defer_later(&clock, Duration::from_secs(1), || Err::<i32, _>(Failure::msg("headline too long")));
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(failure_result_of(d).error_message(), "headline too long");
///
/// // Cancelled: f never runs and the timer is gone.
/// let d = defer_later(&clock, Duration::from_secs(1), || -> Result<(), Failure> { unreachable!() });
/// d.cancel();
/// assert!(failure_result_of(d).check::<CancelledError>());
/// assert!(clock.pending_calls().is_empty());
/// ```
#[doc(alias = "deferLater")]
pub fn defer_later<T, R, F, C>(clock: &C, delay: Duration, f: F) -> Deferred<T>
where
    T: Send + 'static,
    R: IntoOutcome<T>,
    F: FnOnce() -> R + Send + 'static,
    C: ReactorTime + ?Sized,
{
    if clock.stopped() {
        return fail(Failure::new(ReactorNotRunning));
    }
    // The canceller needs the timer, which exists only after the resolver it fires has
    // been handed to the clock: share a slot between them.
    let timer: Arc<Mutex<Option<DelayedCall>>> = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&timer);
    let (d, resolver) = Deferred::<()>::with_canceller(move |_resolver| {
        let call = lock(&slot).take();
        if let Some(call) = call {
            // An error means the timer is running right now on another thread; the
            // Deferred then fails with CancelledError, which absorbs nothing because
            // there is a canceller, so the timer's callback returns AlreadyCalledError
            // and is ignored.
            let _ = call.cancel();
        }
    });
    let d = d.add_callback(move |()| f());
    let call = clock.call_later_boxed(
        delay,
        Box::new(move || {
            // Fails only if the Deferred was cancelled meanwhile.
            let _ = resolver.callback(());
        }),
    );
    *lock(&timer) = Some(call);
    d
}
