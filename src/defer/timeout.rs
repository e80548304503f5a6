// Tests: tests/task.rs (timeouts), tests/conformance/test_defer_primitives.rs (DeferredAddTimeoutTests)

//! `Deferred::add_timeout`: cancel a Deferred that takes too long (Twisted's `addTimeout`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::failure::Failure;
use crate::time::ReactorTime;

use super::deferred::Deferred;
use super::errors::{CancelledError, TimeoutError};
use super::outcome::IntoOutcome;

impl<T: Send + 'static> Deferred<T> {
    /// Cancels this Deferred if it has not fired `timeout` from now on `clock`, turning
    /// the resulting [`CancelledError`] into a [`TimeoutError`]: Twisted's `addTimeout`.
    ///
    /// The rules are Twisted's:
    ///
    /// - The timeout covers the callbacks added **before** it, not those added after: it
    ///   appends its own two steps at the current end of the chain.
    /// - When the time is up, the Deferred is [cancelled](Self::cancel). If the result that
    ///   reaches the timeout's step is a `CancelledError` failure, it becomes
    ///   `TimeoutError`; any other failure, and any value, passes unchanged. So a canceller
    ///   that fires the Deferred with a value wins, and so does an earlier errback that
    ///   traps `CancelledError`.
    /// - If the Deferred fires first, the timer is cancelled, so a Deferred returned by a
    ///   later callback is never cancelled by it.
    /// - A manual [`cancel`](Self::cancel) before the timeout keeps the plain
    ///   `CancelledError` (it is not a timeout) and cancels the timer.
    ///
    /// The clock is borrowed: the timeout schedules one call and keeps nothing else.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::defer::{Deferred, TimeoutError};
    /// use tokio_twisted::task::Clock;
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let clock = Clock::new();
    ///
    /// // Fires in time: the value passes and the timer is gone.
    /// let (d, r) = Deferred::<&str>::new();
    /// let d = d.add_timeout(Duration::from_secs(10), &clock);
    /// r.callback("fast enough").unwrap();
    /// assert_eq!(success_result_of(d), "fast enough");
    /// assert!(clock.pending_calls().is_empty());
    ///
    /// // Too slow: cancelled, and the CancelledError becomes a TimeoutError.
    /// let (d, _r) = Deferred::<&str>::new();
    /// let d = d.add_timeout(Duration::from_secs(10), &clock);
    /// clock.advance(Duration::from_secs(15));
    /// let f = failure_result_of(d);
    /// assert_eq!(f.downcast_ref::<TimeoutError>().unwrap().timeout, Duration::from_secs(10));
    /// ```
    #[doc(alias = "addTimeout")]
    pub fn add_timeout<C>(self, timeout: Duration, clock: &C) -> Deferred<T>
    where
        C: ReactorTime + ?Sized,
    {
        self.add_timeout_with(timeout, clock, |result, timeout| {
            result.map_err(|f| {
                if f.check::<CancelledError>() {
                    Failure::new(TimeoutError::new(timeout))
                } else {
                    f
                }
            })
        })
    }

    /// [`add_timeout`](Self::add_timeout) with your own translation of the result when the
    /// timeout fires: Twisted's `addTimeout(timeout, clock, onTimeoutCancel)`.
    ///
    /// `on_timeout_cancel` runs only if the timeout fired, with the result that reached
    /// it (usually a [`CancelledError`] failure) and the timeout; what it returns becomes
    /// the result. It does not run when the Deferred fires in time or is cancelled by
    /// hand.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::defer::{CancelledError, Deferred};
    /// use tokio_twisted::task::Clock;
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let clock = Clock::new();
    /// let fallback = |_result, _timeout| Ok("cached answer");
    ///
    /// // Timed out: the hook supplies the result.
    /// let (d, _r) = Deferred::<&str>::new();
    /// let d = d.add_timeout_with(Duration::from_secs(1), &clock, fallback);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(success_result_of(d), "cached answer");
    ///
    /// // Cancelled by hand: the hook does not run; the CancelledError stays.
    /// let (d, _r) = Deferred::<&str>::new();
    /// let d = d.add_timeout_with(Duration::from_secs(1), &clock, fallback);
    /// d.cancel();
    /// assert!(failure_result_of(d).check::<CancelledError>());
    /// ```
    #[doc(alias = "onTimeoutCancel")]
    #[doc(alias = "addTimeout")]
    pub fn add_timeout_with<C, R, H>(self, timeout: Duration, clock: &C, on_timeout_cancel: H) -> Deferred<T>
    where
        C: ReactorTime + ?Sized,
        R: IntoOutcome<T>,
        H: FnOnce(Result<T, Failure>, Duration) -> R + Send + 'static,
    {
        let mut this = self;
        let timed_out = Arc::new(AtomicBool::new(false));
        // Weak: the timer must not keep a Deferred alive that nobody can observe.
        let target = Arc::downgrade(this.inner());
        let flag = Arc::clone(&timed_out);
        let call = clock.call_later_boxed(
            timeout,
            Box::new(move || {
                flag.store(true, Ordering::Release);
                if let Some(inner) = target.upgrade() {
                    inner.cancel();
                }
            }),
        );
        this.add_both(move |result: Result<T, Failure>| {
            if timed_out.load(Ordering::Acquire) {
                on_timeout_cancel(result, timeout).into_outcome()
            } else {
                result.into_outcome()
            }
        })
        .add_both(move |result: Result<T, Failure>| {
            // Already run or cancelled is fine: the timer is not pending either way.
            let _ = call.cancel();
            result
        })
    }
}
