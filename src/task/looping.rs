// Tests: tests/task.rs, tests/conformance/test_task.rs (LoopTests, ReactorLoopTests)

//! `LoopingCall`: call a function every interval, on a grid that does not drift.

use crate::lock::lock;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::defer::{Deferred, IntoOutcome, Resolver, fail, maybe_deferred};
use crate::failure::Failure;
use crate::reactor::ReactorNotRunning;
use crate::time::{DelayedCall, ReactorTime};

/// Why a [`LoopingCall`] refused to start, stop or reset (Twisted asserts or raises
/// `ValueError` instead).
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::task::{Clock, LoopingCall, LoopingCallError};
///
/// let lc = LoopingCall::new(Clock::new(), || {});
/// assert_eq!(lc.stop().unwrap_err(), LoopingCallError::NotRunning);
/// let _done = lc.start(Duration::from_secs(1)).unwrap();
/// assert_eq!(lc.start(Duration::from_secs(1)).unwrap_err(), LoopingCallError::AlreadyRunning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum LoopingCallError {
    /// `start` on a loop that is running.
    #[error("the looping call is already running")]
    AlreadyRunning,
    /// `start` on a loop that was stopped while its function (or the Deferred it
    /// returned) had not finished: the previous start's Deferred has not fired yet.
    #[error("the looping call is still finishing its last call")]
    Stopping,
    /// `stop` or `reset` on a loop that is not running.
    #[error("the looping call is not running")]
    NotRunning,
    /// An interval longer than [`LoopingCall::MAX_INTERVAL`].
    #[error("looping call interval {0:?} is out of range")]
    InvalidInterval(Duration),
    /// `start` on a clock that has stopped for good (a reactor that has shut down): no call
    /// would ever run.
    #[error(transparent)]
    ReactorNotRunning(#[from] ReactorNotRunning),
}

/// Calls a function repeatedly, every `interval` on a clock: Twisted's `task.LoopingCall`.
///
/// [`start`](Self::start) calls the function at once and then on the grid `start time +
/// k × interval`; [`start_later`](Self::start_later) waits one interval first. Each call is
/// scheduled when the previous one has finished, including the Deferred it returned, so
/// a slow call delays the next one. Intervals missed meanwhile (or while the clock jumped
/// ahead) are **skipped, never replayed**: the next call is at the next grid point still
/// in the future. [`with_count`](Self::with_count) tells the function how many grid
/// points passed since its last call. The grid is computed in whole nanoseconds, so
/// there are no floating-point boundary effects.
///
/// `start` returns a Deferred that fires with this `LoopingCall` when [`stop`](Self::stop)
/// takes effect, and fails with the function's failure (or panic) if a call fails, which
/// also ends the loop.
///
/// `LoopingCall` is a cheap `Clone` handle, `Send + Sync`: keep a clone inside the function
/// to stop or reset the loop from within. It owns its clock, as `impl ReactorTime` (pass a
/// clone of a [`Clock`](crate::task::Clock) or of the reactor's handle); the clock keeps a
/// running loop alive.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::task::{Clock, LoopingCall};
/// use tokio_twisted::testing::{failure_result_of, success_result_of};
///
/// let clock = Clock::new();
/// let times = Arc::new(Mutex::new(Vec::new()));
/// let (c, t) = (clock.clone(), times.clone());
/// let lc = LoopingCall::new(clock.clone(), move || t.lock().unwrap().push(c.seconds()));
/// let done = lc.start(Duration::from_millis(500)).unwrap(); // calls now, at 0
/// clock.advance(Duration::from_secs(2)); // one call at 2, the missed ones are skipped
/// clock.advance(Duration::from_secs(1)); // the next grid point still ahead was 2.5
/// assert_eq!(*times.lock().unwrap(), [0.0, 2.0, 3.0]);
/// lc.stop().unwrap();
/// assert!(!success_result_of(done).running());
///
/// // A failing call ends the loop and fails the start Deferred.
/// let lc = LoopingCall::new(clock.clone(), || Err::<(), _>(Failure::msg("sensor offline")));
/// let done = lc.start(Duration::from_secs(1)).unwrap();
/// assert_eq!(failure_result_of(done).error_message(), "sensor offline");
/// assert!(!lc.running());
/// ```
#[doc(alias = "twisted.internet.task.LoopingCall")]
#[derive(Clone)]
pub struct LoopingCall {
    inner: Arc<Inner>,
}

/// The function, given the count of grid points (always 1 unless counting) and a handle
/// to its loop.
type LoopFn = Box<dyn FnMut(u64, &LoopingCall) -> Deferred<()> + Send>;

struct Inner {
    clock: Arc<dyn ReactorTime>,
    /// Taken out while it runs, so no lock is held across user code.
    f: Mutex<Option<LoopFn>>,
    fn_name: &'static str,
    /// Created by `with_count`: compute counts and skip calls whose count is 0.
    counting: bool,
    state: Mutex<State>,
}

struct State {
    /// Entered by `start`; left by `stop` or by a failing call.
    running: bool,
    interval: Option<Duration>,
    /// The origin of the grid: the clock's time at `start` (or at the last `reset`).
    start_time: Duration,
    /// Whether `start` called the function at once (the first count then covers the
    /// grid point at `start_time`).
    run_at_start: bool,
    /// When counting: when the function was last called.
    last_time: Option<Duration>,
    /// The scheduled next call; `None` while the function (or its Deferred) runs.
    call: Option<DelayedCall>,
    /// Identifies the latest scheduled call, so a stale timer that could no longer be
    /// cancelled (it was already running on another thread) does nothing.
    schedule_seq: u64,
    /// Fires the Deferred `start` returned; taken when the loop ends.
    done: Option<Resolver<LoopingCall>>,
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

fn duration_from_nanos(n: u128) -> Duration {
    Duration::new((n / NANOS_PER_SEC) as u64, (n % NANOS_PER_SEC) as u32)
}

fn as_i128_nanos(d: Duration) -> i128 {
    // `Duration::MAX` is below 2^94 nanoseconds, far inside i128.
    i128::try_from(d.as_nanos()).unwrap_or(i128::MAX)
}

impl LoopingCall {
    /// The longest interval accepted: `u64::MAX` nanoseconds (about 584 years), so that
    /// every deadline of the grid stays representable.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let lc = LoopingCall::new(Clock::new(), || {});
    /// assert!(lc.start_later(LoopingCall::MAX_INTERVAL + Duration::from_nanos(1)).is_err());
    /// assert!(lc.start_later(LoopingCall::MAX_INTERVAL).is_ok());
    /// ```
    pub const MAX_INTERVAL: Duration = Duration::from_nanos(u64::MAX);

    /// A loop that calls `f` on `clock` (not yet started): Twisted's `LoopingCall(f)`.
    ///
    /// `f` may return anything a callback may return: `()`, `Ok(_)`, `Err(failure)`, or a
    /// Deferred, which delays the next call until it fires. Its value is ignored.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let c = calls.clone();
    /// let lc = LoopingCall::new(clock.clone(), move || {
    ///     c.fetch_add(1, Ordering::SeqCst);
    /// });
    /// let _done = lc.start(Duration::from_secs(1)).unwrap();
    /// clock.pump([Duration::from_secs(1); 3]);
    /// assert_eq!(calls.load(Ordering::SeqCst), 4);
    /// ```
    pub fn new<F, R, U>(clock: impl ReactorTime, mut f: F) -> Self
    where
        F: FnMut() -> R + Send + 'static,
        R: IntoOutcome<U>,
        U: Send + 'static,
    {
        Self::build(clock, std::any::type_name::<F>(), false, move |_count, _lc| f())
    }

    /// A loop whose function receives the number of grid points that passed since its
    /// last call: Twisted's `LoopingCall.withCount`.
    ///
    /// The count is normally 1; it is larger when calls were skipped (the clock jumped, or
    /// a call or its Deferred took longer than an interval). It is never 0 (a call that
    /// would get 0 is skipped), it is always 1 with a zero interval, and the counts add up
    /// to the number of grid points since the start.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let counts = Arc::new(Mutex::new(Vec::new()));
    /// let c = counts.clone();
    /// let lc = LoopingCall::with_count(clock.clone(), move |n| c.lock().unwrap().push(n));
    /// let _done = lc.start(Duration::from_millis(500)).unwrap();
    /// clock.advance(Duration::from_millis(510));
    /// clock.advance(Duration::from_millis(1510)); // three grid points passed
    /// assert_eq!(*counts.lock().unwrap(), [1, 1, 3]);
    /// ```
    #[doc(alias = "withCount")]
    pub fn with_count<F, R, U>(clock: impl ReactorTime, mut f: F) -> Self
    where
        F: FnMut(u64) -> R + Send + 'static,
        R: IntoOutcome<U>,
        U: Send + 'static,
    {
        Self::build(clock, std::any::type_name::<F>(), true, move |count, _lc| {
            f(count)
        })
    }

    /// A loop whose function receives a handle to the loop itself, so it can
    /// [`stop`](Self::stop), [`reset`](Self::reset) or retune it from inside, as Twisted
    /// code calls `lc.stop()` from the looping function. (Capturing a clone of the handle
    /// in the function instead would make a reference cycle.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    /// use tokio_twisted::testing::success_result_of;
    ///
    /// let clock = Clock::new();
    /// let mut left = 3;
    /// let lc = LoopingCall::with_handle(clock.clone(), move |lc: &LoopingCall| {
    ///     left -= 1;
    ///     if left == 0 {
    ///         lc.stop()?; // takes effect when this call returns
    ///     }
    ///     Ok(())
    /// });
    /// let done = lc.start(Duration::from_secs(1)).unwrap();
    /// clock.pump([Duration::from_secs(1); 2]);
    /// assert!(!success_result_of(done).running());
    /// assert!(clock.pending_calls().is_empty());
    /// ```
    pub fn with_handle<F, R, U>(clock: impl ReactorTime, mut f: F) -> Self
    where
        F: FnMut(&LoopingCall) -> R + Send + 'static,
        R: IntoOutcome<U>,
        U: Send + 'static,
    {
        Self::build(clock, std::any::type_name::<F>(), false, move |_count, lc| f(lc))
    }

    /// The constructors' common part: `f` gets the count of grid points since its last
    /// call and the loop itself; its result is waited for and its value dropped. `fn_name`
    /// names the user's function for `Debug`; `counting` is set by `with_count`.
    fn build<F, R, U>(clock: impl ReactorTime, fn_name: &'static str, counting: bool, mut f: F) -> Self
    where
        F: FnMut(u64, &LoopingCall) -> R + Send + 'static,
        R: IntoOutcome<U>,
        U: Send + 'static,
    {
        let f: LoopFn = Box::new(move |count, lc| maybe_deferred(|| f(count, lc)).add_callback(|_| Ok(())));
        LoopingCall {
            inner: Arc::new(Inner {
                clock: Arc::new(clock),
                f: Mutex::new(Some(f)),
                fn_name,
                counting,
                state: Mutex::new(State {
                    running: false,
                    interval: None,
                    start_time: Duration::ZERO,
                    run_at_start: false,
                    last_time: None,
                    call: None,
                    schedule_seq: 0,
                    done: None,
                }),
            }),
        }
    }

    /// Starts the loop, calling the function now (before this returns) and then every
    /// `interval`: Twisted's `start(interval)`. A zero interval calls again as soon as
    /// possible (`call_later(0)`).
    ///
    /// The Deferred fires with this `LoopingCall` once [`stop`](Self::stop) takes effect,
    /// or fails with the failure of a call. It may already have failed when `start`
    /// returns, if the first call failed.
    ///
    /// # Errors
    ///
    /// [`LoopingCallError::AlreadyRunning`], [`LoopingCallError::Stopping`] (stopped, but
    /// the last call has not finished yet), [`LoopingCallError::InvalidInterval`], or
    /// [`LoopingCallError::ReactorNotRunning`] on a reactor that has shut down (nothing is
    /// called).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall, LoopingCallError};
    /// use tokio_twisted::testing::success_result_of;
    ///
    /// let clock = Clock::new();
    /// let lc = LoopingCall::new(clock.clone(), || {});
    /// assert!(matches!(lc.start(Duration::MAX), Err(LoopingCallError::InvalidInterval(_))));
    /// let done = lc.start(Duration::from_secs(1)).unwrap();
    /// assert!(lc.running());
    /// lc.stop().unwrap(); // a call was scheduled: the Deferred fires right away
    /// success_result_of(done);
    /// ```
    pub fn start(&self, interval: Duration) -> Result<Deferred<LoopingCall>, LoopingCallError> {
        self.start_with(interval, true)
    }

    /// Starts the loop with its first call one `interval` from now: Twisted's
    /// `start(interval, now=False)`.
    ///
    /// # Errors
    ///
    /// As for [`start`](Self::start).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let c = calls.clone();
    /// let lc = LoopingCall::new(clock.clone(), move || { c.fetch_add(1, Ordering::SeqCst); });
    /// let _done = lc.start_later(Duration::from_secs(1)).unwrap();
    /// assert_eq!(calls.load(Ordering::SeqCst), 0);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// ```
    pub fn start_later(&self, interval: Duration) -> Result<Deferred<LoopingCall>, LoopingCallError> {
        self.start_with(interval, false)
    }

    fn start_with(&self, interval: Duration, now: bool) -> Result<Deferred<LoopingCall>, LoopingCallError> {
        if interval > Self::MAX_INTERVAL {
            return Err(LoopingCallError::InvalidInterval(interval));
        }
        if self.inner.clock.stopped() {
            return Err(LoopingCallError::ReactorNotRunning(ReactorNotRunning));
        }
        let mut st = lock(&self.inner.state);
        if st.running {
            return Err(LoopingCallError::AlreadyRunning);
        }
        if st.done.is_some() {
            return Err(LoopingCallError::Stopping);
        }
        let (d, resolver) = Deferred::new();
        let start_time = self.inner.clock.now();
        st.running = true;
        st.done = Some(resolver);
        st.start_time = start_time;
        st.interval = Some(interval);
        st.run_at_start = now;
        st.last_time = None;
        if now {
            drop(st);
            self.inner.call();
        } else {
            self.inner.schedule_from(&mut st, start_time);
        }
        Ok(d)
    }

    /// Stops the loop: Twisted's `stop()`.
    ///
    /// If the next call is scheduled, it is cancelled and the start Deferred fires now,
    /// before this returns. If the function is running (`stop` called from inside it, or
    /// from another thread) or the Deferred it returned has not fired, the start Deferred
    /// fires when that finishes, or fails if it fails. The pending Deferred is not
    /// cancelled.
    ///
    /// # Errors
    ///
    /// [`LoopingCallError::NotRunning`] if the loop is not running.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::defer::Deferred;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    /// use tokio_twisted::testing::assert_no_result;
    ///
    /// let clock = Clock::new();
    /// let (slow, finish) = Deferred::<()>::new();
    /// let mut slow = Some(slow);
    /// let lc = LoopingCall::new(clock.clone(), move || slow.take().unwrap());
    /// let done = lc.start(Duration::from_secs(1)).unwrap();
    /// lc.stop().unwrap(); // the first call's Deferred is still pending
    /// assert_no_result(&done);
    /// finish.callback(()).unwrap();
    /// assert!(done.called());
    /// assert!(lc.stop().is_err()); // not running any more
    /// ```
    pub fn stop(&self) -> Result<(), LoopingCallError> {
        let mut st = lock(&self.inner.state);
        if !st.running {
            return Err(LoopingCallError::NotRunning);
        }
        st.running = false;
        let Some(call) = st.call.take() else {
            // The function or its Deferred is running; `after_call` fires `done`.
            return Ok(());
        };
        let done = st.done.take();
        drop(st);
        // Already run means it is running on another thread right now; its stale
        // sequence number makes it do nothing.
        let _ = call.cancel();
        if let Some(done) = done {
            let _ = done.callback(self.clone());
        }
        Ok(())
    }

    /// Skips the next call and restarts the grid from now: Twisted's `reset()`. Does
    /// nothing while the function (or its Deferred) is running.
    ///
    /// # Errors
    ///
    /// [`LoopingCallError::NotRunning`] if the loop is not running.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let c = calls.clone();
    /// let lc = LoopingCall::new(clock.clone(), move || { c.fetch_add(1, Ordering::SeqCst); });
    /// let _done = lc.start_later(Duration::from_secs(2)).unwrap();
    /// clock.advance(Duration::from_secs(1));
    /// lc.reset().unwrap(); // the next call is now at 3, not 2
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(calls.load(Ordering::SeqCst), 0);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// ```
    pub fn reset(&self) -> Result<(), LoopingCallError> {
        let mut st = lock(&self.inner.state);
        if !st.running {
            return Err(LoopingCallError::NotRunning);
        }
        if let Some(call) = st.call.take() {
            let _ = call.cancel();
            let now = self.inner.clock.now();
            st.start_time = now;
            self.inner.schedule_from(&mut st, now);
        }
        Ok(())
    }

    /// Whether the loop is running: from `start` until `stop` or a failing call (Twisted's
    /// `running`). It is already `false` when the start Deferred fires.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let lc = LoopingCall::new(Clock::new(), || {});
    /// assert!(!lc.running());
    /// let _done = lc.start(Duration::from_secs(1)).unwrap();
    /// assert!(lc.running());
    /// ```
    pub fn running(&self) -> bool {
        lock(&self.inner.state).running
    }

    /// The interval of the current or last run, `None` before the first `start`
    /// (Twisted's `interval`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let lc = LoopingCall::new(Clock::new(), || {});
    /// assert_eq!(lc.interval(), None);
    /// let _done = lc.start(Duration::from_secs(5)).unwrap();
    /// assert_eq!(lc.interval(), Some(Duration::from_secs(5)));
    /// ```
    pub fn interval(&self) -> Option<Duration> {
        lock(&self.inner.state).interval
    }

    /// Changes the interval of a started loop (Twisted's assignment to `interval`). It
    /// applies from the next scheduling, on the same grid origin; a call already
    /// scheduled keeps its time.
    ///
    /// # Errors
    ///
    /// [`LoopingCallError::InvalidInterval`] beyond [`MAX_INTERVAL`](Self::MAX_INTERVAL);
    /// [`LoopingCallError::NotRunning`] if the loop was never started.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, LoopingCall};
    ///
    /// let clock = Clock::new();
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let c = calls.clone();
    /// let lc = LoopingCall::new(clock.clone(), move || { c.fetch_add(1, Ordering::SeqCst); });
    /// let _done = lc.start(Duration::from_secs(1)).unwrap(); // call 1 at 0; next at 1
    /// lc.set_interval(Duration::from_secs(10)).unwrap();
    /// clock.advance(Duration::from_secs(1)); // call 2 at 1; next at 10
    /// clock.advance(Duration::from_secs(8));
    /// assert_eq!(calls.load(Ordering::SeqCst), 2);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(calls.load(Ordering::SeqCst), 3);
    /// ```
    #[doc(alias = "interval")]
    pub fn set_interval(&self, interval: Duration) -> Result<(), LoopingCallError> {
        if interval > Self::MAX_INTERVAL {
            return Err(LoopingCallError::InvalidInterval(interval));
        }
        let mut st = lock(&self.inner.state);
        if st.interval.is_none() {
            return Err(LoopingCallError::NotRunning);
        }
        st.interval = Some(interval);
        Ok(())
    }
}

impl Inner {
    /// One call of the function (Twisted's `__call__`), then what follows from its result.
    fn call(self: &Arc<Self>) {
        let count = if self.counting {
            let Some(n) = self.count() else {
                // No grid point passed since the last call: skip it.
                self.after_call(Ok(()));
                return;
            };
            n
        } else {
            1
        };
        let taken = lock(&self.f).take();
        let d = match taken {
            Some(mut f) => {
                let d = f(
                    count,
                    &LoopingCall {
                        inner: Arc::clone(self),
                    },
                );
                *lock(&self.f) = Some(f);
                d
            }
            None => fail(Failure::msg("LoopingCall function called re-entrantly")),
        };
        let this = Arc::clone(self);
        drop(d.add_both(move |result| this.after_call(result)));
    }

    /// The grid points since the last call (Twisted's `withCount` counter), in whole
    /// nanoseconds; `None` when none passed.
    fn count(&self) -> Option<u64> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        let interval = st.interval.unwrap_or_default();
        if interval.is_zero() {
            st.last_time = Some(now);
            return Some(1);
        }
        let (start, step) = (as_i128_nanos(st.start_time), as_i128_nanos(interval));
        let last = match st.last_time {
            Some(t) => as_i128_nanos(t),
            // The first call of `start` counts the grid point at the start itself.
            None if st.run_at_start => start - step,
            None => start,
        };
        let count = (as_i128_nanos(now) - start).div_euclid(step) - (last - start).div_euclid(step);
        if count <= 0 {
            return None;
        }
        st.last_time = Some(now);
        Some(u64::try_from(count).unwrap_or(u64::MAX))
    }

    /// The function's result is known: schedule the next call, or end the loop.
    fn after_call(self: &Arc<Self>, result: Result<(), Failure>) {
        let mut st = lock(&self.state);
        let done = match result {
            Ok(()) if st.running => {
                let now = self.clock.now();
                self.schedule_from(&mut st, now);
                return;
            }
            Ok(()) => st.done.take().map(|d| {
                (
                    d,
                    Ok(LoopingCall {
                        inner: Arc::clone(self),
                    }),
                )
            }),
            Err(f) => {
                st.running = false;
                st.done.take().map(|d| (d, Err(f)))
            }
        };
        drop(st);
        if let Some((resolver, outcome)) = done {
            let _ = resolver.resolve(outcome);
        }
    }

    /// Schedules the next call at the first grid point after `when` (a full interval
    /// ahead when `when` is on the grid).
    fn schedule_from(self: &Arc<Self>, st: &mut State, when: Duration) {
        let interval = st.interval.unwrap_or_default();
        let delay = if interval.is_zero() {
            Duration::ZERO
        } else {
            let running_for = when.saturating_sub(st.start_time).as_nanos();
            let step = interval.as_nanos();
            duration_from_nanos(step - running_for % step)
        };
        st.schedule_seq += 1;
        let seq = st.schedule_seq;
        let this = Arc::clone(self);
        // Scheduled with the state locked, so that a timer firing at once on another
        // thread finds `call` already recorded.
        let call = self
            .clock
            .call_later_boxed(delay, Box::new(move || this.timer_fired(seq)));
        st.call = Some(call);
    }

    fn timer_fired(self: &Arc<Self>, seq: u64) {
        let mut st = lock(&self.state);
        if !st.running || st.schedule_seq != seq {
            return;
        }
        st.call = None;
        drop(st);
        self.call();
    }
}

impl fmt::Debug for LoopingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner.state);
        write!(f, "LoopingCall<{:?}>({})", st.interval, self.inner.fn_name)
    }
}
