// Tests: tests/task.rs, tests/conformance/test_task.rs

//! `Clock`: a deterministic [`ReactorTime`] for tests (Twisted's `task.Clock`).

use crate::lock::lock;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::time::{DelayedCall, ReactorTime, Sealed, TimedFn, TimerQueue};

/// A clock that moves only when told to: Twisted's `task.Clock`.
///
/// Time starts at zero. [`advance`](Self::advance) moves it forward and runs every call
/// that has become due, earliest first and, for equal times, in the order they were
/// scheduled. Calls scheduled while `advance` runs that are already due run in the same
/// `advance` (so `call_later(ZERO)` from inside a call runs too), as in Twisted's `Clock`;
/// the real reactor runs such calls on its next iteration instead. A panic in a call
/// propagates out of `advance`, as an exception propagates out of Twisted's.
///
/// Clones share one clock.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use tokio_twisted::task::Clock;
///
/// let clock = Clock::new();
/// let fired = Arc::new(Mutex::new(false));
/// let f = fired.clone();
/// clock.call_later(Duration::from_secs(10), move || *f.lock().unwrap() = true);
/// clock.advance(Duration::from_secs(9));
/// assert!(!*fired.lock().unwrap());
/// clock.advance(Duration::from_secs(1));
/// assert!(*fired.lock().unwrap());
/// ```
#[doc(alias = "twisted.internet.task.Clock")]
#[derive(Clone)]
pub struct Clock {
    now: Arc<Mutex<Duration>>,
    queue: Arc<TimerQueue>,
}

impl Clock {
    /// A clock at time zero with nothing scheduled.
    ///
    /// ```
    /// use tokio_twisted::task::Clock;
    /// assert_eq!(Clock::new().seconds(), 0.0);
    /// ```
    pub fn new() -> Self {
        let now = Arc::new(Mutex::new(Duration::ZERO));
        let read = Arc::clone(&now);
        let queue = TimerQueue::new(move || *lock(&read), || {});
        Clock { now, queue }
    }

    /// Moves time forward by `amount` and runs every call that is due: Twisted's
    /// `advance`. Time saturates at `Duration::MAX` instead of overflowing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::Clock;
    ///
    /// let clock = Clock::new();
    /// let call = clock.call_later(Duration::from_secs(1), || {});
    /// clock.advance(Duration::from_secs(1));
    /// assert!(!call.active());
    /// assert_eq!(clock.now(), Duration::from_secs(1));
    /// ```
    pub fn advance(&self, amount: Duration) {
        let now = {
            let mut now = lock(&self.now);
            // Time stops at the end of representable time rather than overflowing, as
            // `call_later` saturates a delay.
            *now = now.saturating_add(amount);
            *now
        };
        while let Some(f) = self.queue.pop_due(now) {
            f();
        }
    }

    /// The current time, as a duration since the clock's creation (zero until advanced);
    /// [`ReactorTime::now`] without importing the trait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::Clock;
    ///
    /// let clock = Clock::new();
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(clock.now(), Duration::from_secs(2));
    /// ```
    #[doc(alias = "rightNow")]
    pub fn now(&self) -> Duration {
        self.queue.now()
    }

    /// The current time in seconds: Twisted's `seconds()`, [`ReactorTime::seconds`] without
    /// importing the trait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::Clock;
    ///
    /// let clock = Clock::new();
    /// clock.advance(Duration::from_millis(250));
    /// assert_eq!(clock.seconds(), 0.25);
    /// ```
    pub fn seconds(&self) -> f64 {
        self.now().as_secs_f64()
    }

    /// Schedules `f` to run `delay` from now: Twisted's `callLater`,
    /// [`ReactorTime::call_later`] without importing the trait. It runs when an
    /// [`advance`](Self::advance) reaches its time, after the calls due earlier or
    /// scheduled before it for the same time.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tokio_twisted::task::Clock;
    ///
    /// let clock = Clock::new();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let flag = ran.clone();
    /// let call = clock.call_later(Duration::from_secs(3), move || flag.store(true, Ordering::SeqCst));
    /// assert_eq!(call.time(), Duration::from_secs(3));
    /// clock.advance(Duration::from_secs(3));
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    #[doc(alias = "callLater")]
    pub fn call_later<F>(&self, delay: Duration, f: F) -> DelayedCall
    where
        F: FnOnce() + Send + 'static,
    {
        self.queue.schedule(delay, Box::new(f))
    }

    /// Advances by each amount in turn: Twisted's `pump`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::Clock;
    ///
    /// let clock = Clock::new();
    /// clock.pump([Duration::from_secs(1); 3]);
    /// assert_eq!(clock.now(), Duration::from_secs(3));
    /// ```
    pub fn pump(&self, timings: impl IntoIterator<Item = Duration>) {
        for t in timings {
            self.advance(t);
        }
    }

    /// The calls still scheduled, earliest first: Twisted's `getDelayedCalls`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::Clock;
    ///
    /// let clock = Clock::new();
    /// clock.call_later(Duration::from_secs(2), || {});
    /// clock.call_later(Duration::from_secs(1), || {});
    /// let times: Vec<_> = clock.pending_calls().iter().map(|c| c.time()).collect();
    /// assert_eq!(times, [Duration::from_secs(1), Duration::from_secs(2)]);
    /// ```
    #[doc(alias = "getDelayedCalls")]
    pub fn pending_calls(&self) -> Vec<DelayedCall> {
        self.queue.pending()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Sealed for Clock {}

impl ReactorTime for Clock {
    fn now(&self) -> Duration {
        self.queue.now()
    }

    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        self.queue.schedule(delay, f)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("now", &self.queue.now())
            .field("pending", &self.queue.pending().len())
            .finish()
    }
}
