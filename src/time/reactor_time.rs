// Tests: tests/task.rs, tests/time_limits.rs, tests/conformance/test_base.rs,
// tests/conformance/test_task.rs

//! The [`ReactorTime`] trait and the boxed function it schedules.

use std::sync::Arc;
use std::time::Duration;

use super::delayed_call::DelayedCall;

/// A scheduled function, boxed: what [`ReactorTime::call_later_boxed`] takes.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::task::Clock;
/// use tokio_twisted::time::{ReactorTime, TimedFn};
///
/// let clock = Clock::new();
/// let calls: Vec<TimedFn> = vec![Box::new(|| {}), Box::new(|| {})];
/// for (i, f) in calls.into_iter().enumerate() {
///     clock.call_later_boxed(Duration::from_secs(i as u64), f);
/// }
/// assert_eq!(clock.pending_calls().len(), 2);
/// ```
pub type TimedFn = Box<dyn FnOnce() + Send + 'static>;

/// Keeps [`ReactorTime`] implemented only inside this crate (see the trait's docs).
pub(crate) mod sealed {
    /// The supertrait that seals [`ReactorTime`](super::ReactorTime).
    pub trait Sealed {}
}

/// Something that tells the time and runs functions later: Twisted's `IReactorTime`.
///
/// Everything in this crate that schedules (timeouts, `defer_later`, `LoopingCall`,
/// `Cooperator`) takes one, so the same code runs on any of the three clocks:
///
/// - the reactor's [`ReactorHandle`](crate::reactor::ReactorHandle), in a program whose main
///   loop is a [`Reactor`](crate::reactor::Reactor);
/// - [`task::Clock`](crate::task::Clock), which moves only when told to, for tests;
/// - [`TokioTime`](crate::time::TokioTime), the Tokio runtime the caller is already on, for
///   Twisted-style code inside any Tokio application (and under paused Tokio time in tests).
///
/// Each of them also has `call_later`, `seconds` and `now` as inherent methods, so calling
/// them on a concrete clock needs no import of this trait; import it to write code that is
/// generic over the clock.
///
/// Every clock keeps these promises:
///
/// - [`now`](Self::now) is the time elapsed since the clock's origin (the reactor's or
///   runtime's creation, zero for a `Clock`); it never goes backwards.
///   [`seconds`](Self::seconds) is the same number as `f64` seconds, Twisted's `seconds()`.
/// - A call runs no earlier than its time; calls due at the same time run in the order they
///   were scheduled (or last reset or delayed).
/// - A call never runs inside `call_later` itself: scheduling with a zero delay runs the
///   function later, from the clock's own loop.
/// - A delay too large to represent saturates: the call is due "never" and stays pending.
/// - The returned [`DelayedCall`] cancels, resets and delays the call, and reports whether it
///   is still pending.
///
/// The trait is sealed: every [`DelayedCall`] comes from this crate's one timer queue, which
/// is what keeps the promises above, so a fourth clock belongs in the crate rather than in
/// user code. Share a clock by cloning it, by `Arc<C>` or `Arc<dyn ReactorTime>`, or by a
/// `&'static` reference; all implement the trait.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::task::Clock;
/// use tokio_twisted::time::ReactorTime;
///
/// fn schedule_hello(time: &impl ReactorTime) {
///     time.call_later(Duration::from_secs(2), || println!("hello"));
/// }
/// let clock = Clock::new();
/// schedule_hello(&clock);
/// assert_eq!(clock.pending_calls().len(), 1);
/// ```
#[doc(alias = "IReactorTime")]
pub trait ReactorTime: sealed::Sealed + Send + Sync + 'static {
    /// The current time, as a duration since this clock's origin.
    ///
    /// ```
    /// use tokio_twisted::{task::Clock, time::ReactorTime};
    /// fn now_of(time: &dyn ReactorTime) -> std::time::Duration {
    ///     time.now()
    /// }
    /// assert_eq!(now_of(&Clock::new()), std::time::Duration::ZERO);
    /// ```
    #[doc(alias = "rightNow")]
    fn now(&self) -> Duration;

    /// Schedules `f` to run `delay` from now; the object-safe form of
    /// [`call_later`](Self::call_later).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{task::Clock, time::ReactorTime};
    /// let clock = Clock::new();
    /// let call = clock.call_later_boxed(Duration::from_secs(1), Box::new(|| {}));
    /// assert!(call.active());
    /// ```
    #[doc(alias = "callLater")]
    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall;

    /// The current time in seconds: Twisted's `seconds()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{task::Clock, time::ReactorTime};
    /// fn seconds_of(time: &dyn ReactorTime) -> f64 {
    ///     time.seconds()
    /// }
    /// let clock = Clock::new();
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(seconds_of(&clock), 1.5);
    /// ```
    fn seconds(&self) -> f64 {
        self.now().as_secs_f64()
    }

    /// Schedules `f` to run `delay` from now: Twisted's `callLater`. Calls due at the same
    /// time run in the order they were scheduled.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use tokio_twisted::{task::Clock, time::ReactorTime};
    ///
    /// fn twice(time: &impl ReactorTime, log: &Arc<Mutex<Vec<&'static str>>>) {
    ///     for name in ["a", "b"] {
    ///         let log = log.clone();
    ///         time.call_later(Duration::from_secs(1), move || log.lock().unwrap().push(name));
    ///     }
    /// }
    /// let clock = Clock::new();
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// twice(&clock, &log);
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(*log.lock().unwrap(), ["a", "b"]);
    /// ```
    #[doc(alias = "callLater")]
    fn call_later<F>(&self, delay: Duration, f: F) -> DelayedCall
    where
        F: FnOnce() + Send + 'static,
        Self: Sized,
    {
        self.call_later_boxed(delay, Box::new(f))
    }

    /// Whether the clock has stopped for good, so that nothing scheduled on it will ever run:
    /// a reactor that has shut down. A stopped clock refuses calls: `call_later` drops the
    /// function and returns a [`DelayedCall`] that is not [`active`](DelayedCall::active).
    /// Code that schedules (`defer_later`, `LoopingCall`) checks this to report an error
    /// instead of waiting forever. Clocks that never stop (a `Clock`) always say `false`.
    ///
    /// ```
    /// use tokio_twisted::{task::Clock, time::ReactorTime};
    /// fn usable(time: &dyn ReactorTime) -> bool {
    ///     !time.stopped()
    /// }
    /// assert!(usable(&Clock::new()));
    /// ```
    fn stopped(&self) -> bool {
        false
    }
}

impl<T: ReactorTime + ?Sized> sealed::Sealed for Arc<T> {}

impl<T: ReactorTime + ?Sized> ReactorTime for Arc<T> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        (**self).call_later_boxed(delay, f)
    }
    fn stopped(&self) -> bool {
        (**self).stopped()
    }
}

impl<T: ReactorTime + ?Sized> sealed::Sealed for &'static T {}

impl<T: ReactorTime + ?Sized> ReactorTime for &'static T {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        (**self).call_later_boxed(delay, f)
    }
    fn stopped(&self) -> bool {
        (**self).stopped()
    }
}
