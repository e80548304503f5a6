// Tests: tests/tokio_time.rs, tests/conformance/test_task.rs,
// tests/conformance/test_cooperator.rs

//! [`TokioTime`]: a [`ReactorTime`] on the Tokio runtime the caller is already on.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

use crate::failure::Failure;

use super::delayed_call::DelayedCall;
use super::queue::TimerQueue;
use super::reactor_time::{ReactorTime, TimedFn, sealed::Sealed};

/// Why a [`TokioTime`] could not be created.
///
/// ```
/// use tokio_twisted::time::{TokioTime, TokioTimeError};
///
/// // Not inside a Tokio runtime.
/// assert_eq!(TokioTime::new().unwrap_err(), TokioTimeError::NoRuntime);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TokioTimeError {
    /// Called outside a Tokio runtime.
    #[error("not inside a tokio runtime")]
    NoRuntime,
    /// The runtime was built without its time driver (`enable_time` or `enable_all`).
    #[error("the tokio runtime has timers disabled")]
    TimersDisabled,
}

/// Time on the host Tokio runtime: a [`ReactorTime`] for Twisted-style code inside any Tokio
/// application, with no reactor.
///
/// `defer_later`, `LoopingCall`, `Cooperator` and `Deferred::add_timeout` all take one, so
/// they work in a plain `#[tokio::main]` program. Its time is Tokio's: under paused time
/// (`#[tokio::test(start_paused = true)]` or `tokio::time::pause`) calls run as the paused
/// clock reaches them, so such code is testable deterministically and without sleeping.
///
/// Each clock keeps its calls in one timer heap, run by one task it spawns on the runtime,
/// woken by a single Tokio sleep for the earliest deadline. So it keeps the promises of
/// [`ReactorTime`]: calls due at the same time run in the order they were scheduled, one at
/// a time, never inside `call_later`. A call scheduled from a call with a zero delay runs
/// in the task's next round, after other ready tasks had a turn, as on the reactor. A panic
/// in a call is caught and logged; the other calls still run.
///
/// Where it differs from the reactor:
///
/// - **Resolution.** Tokio's timers tick in milliseconds: a call runs at the first tick at
///   or after its time (`seconds()` itself is exact).
/// - **Multi-thread runtime.** The clock's task, and so every call, may run on any worker
///   thread, and may move between them. Calls of one clock still run one at a time and in
///   order, but calls of different clocks (or of a clock and a reactor) may run at the same
///   time on different threads, in no particular order; and a call may start on another
///   worker before the `call_later` that scheduled it has returned. On a current-thread
///   runtime everything runs on that one thread.
/// - **Shutdown.** When the runtime shuts down, the clock's task is dropped with it: pending
///   calls are dropped without running (their [`DelayedCall`]s read as cancelled), and a
///   `call_later` made afterwards returns a call that is already cancelled.
///
/// Clones share one clock. The clock's task ends once every clone is dropped and no call
/// is pending.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::task::{LoopingCall, defer_later};
/// use tokio_twisted::time::TokioTime;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// // Inside any Tokio runtime (here, with paused time: the test runs at once).
/// let time = TokioTime::new().unwrap();
/// let ticks = LoopingCall::with_count(time.clone(), |count| println!("{count} tick(s)"));
/// let loop_done = ticks.start(Duration::from_secs(1)).unwrap();
/// let answer = defer_later(&time, Duration::from_secs(3), || Ok(42));
/// assert_eq!(answer.await.unwrap(), 42);
/// assert_eq!(time.seconds(), 3.0);
/// ticks.stop().unwrap();
/// loop_done.await.unwrap();
/// # });
/// ```
#[doc(alias = "IReactorTime")]
#[doc(alias = "TokioClock")]
#[doc(alias = "RuntimeClock")]
#[derive(Clone)]
pub struct TokioTime {
    shared: Arc<Shared>,
}

/// What the clones of one clock share. Dropping it (the last clone) tells the driver, which
/// then ends once no call is pending.
struct Shared {
    queue: Arc<TimerQueue>,
    wake: Arc<Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl TokioTime {
    /// A clock on the Tokio runtime the calling code runs in ([`Handle::try_current`]).
    ///
    /// # Errors
    ///
    /// [`TokioTimeError::NoRuntime`] outside a Tokio runtime;
    /// [`TokioTimeError::TimersDisabled`] if the runtime was built without timers.
    ///
    /// ```
    /// use tokio_twisted::time::TokioTime;
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let time = TokioTime::new().unwrap();
    ///     assert!(time.seconds() < 1.0);
    /// }
    /// ```
    pub fn new() -> Result<TokioTime, TokioTimeError> {
        let rt = Handle::try_current().map_err(|_| TokioTimeError::NoRuntime)?;
        TokioTime::on(&rt)
    }

    /// A clock on the runtime `rt`, from any thread (inside the runtime or not).
    ///
    /// # Errors
    ///
    /// [`TokioTimeError::TimersDisabled`] if the runtime was built without timers. (Tokio
    /// reports that only by panicking, which is caught here; the panic hook still prints
    /// Tokio's message.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::defer_later;
    /// use tokio_twisted::time::{TokioTime, TokioTimeError};
    ///
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// let time = TokioTime::on(rt.handle()).unwrap();
    /// let d = defer_later(&time, Duration::from_millis(1), || Ok("later"));
    /// assert_eq!(rt.block_on(d).unwrap(), "later");
    ///
    /// let no_timers = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(TokioTime::on(no_timers.handle()).unwrap_err(), TokioTimeError::TimersDisabled);
    /// ```
    pub fn on(rt: &Handle) -> Result<TokioTime, TokioTimeError> {
        let origin = {
            let _in_runtime = rt.enter();
            // Creating a sleep is the only way to learn whether the runtime has timers
            // (Tokio panics if not). Not polled, so never registered with the timer.
            let probe = catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO)));
            if probe.is_err() {
                return Err(TokioTimeError::TimersDisabled);
            }
            Instant::now()
        };
        let wake = Arc::new(Notify::new());
        let waker = Arc::clone(&wake);
        let clock_rt = rt.clone();
        let queue = TimerQueue::new(
            move || {
                // Read inside the runtime, so paused time is honoured from any thread.
                let _in_runtime = clock_rt.enter();
                Instant::now().saturating_duration_since(origin)
            },
            move || waker.notify_one(),
        );
        let shared = Arc::new(Shared {
            queue: Arc::clone(&queue),
            wake: Arc::clone(&wake),
        });
        let driver = Driver {
            queue,
            wake,
            clock: Arc::downgrade(&shared),
            origin,
        };
        // The task is detached: it ends by itself, or with the runtime.
        drop(rt.spawn(driver.run()));
        Ok(TokioTime { shared })
    }

    /// The time since this clock was created; [`ReactorTime::now`] without importing the
    /// trait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::time::TokioTime;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let time = TokioTime::new().unwrap();
    /// tokio::time::sleep(Duration::from_secs(2)).await;
    /// assert_eq!(time.now(), Duration::from_secs(2)); // paused time: exact
    /// # });
    /// ```
    #[doc(alias = "rightNow")]
    pub fn now(&self) -> Duration {
        self.shared.queue.now()
    }

    /// The time since this clock was created, in seconds: Twisted's `seconds()`,
    /// [`ReactorTime::seconds`] without importing the trait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::time::TokioTime;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let time = TokioTime::new().unwrap();
    /// tokio::time::sleep(Duration::from_millis(1500)).await;
    /// assert_eq!(time.seconds(), 1.5);
    /// # });
    /// ```
    pub fn seconds(&self) -> f64 {
        self.now().as_secs_f64()
    }

    /// Schedules `f` to run `delay` from now, on the clock's task: Twisted's `callLater`,
    /// [`ReactorTime::call_later`] without importing the trait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::defer::Deferred;
    /// use tokio_twisted::time::TokioTime;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let time = TokioTime::new().unwrap();
    /// let (d, r) = Deferred::<Vec<&str>>::new();
    /// let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// for word in ["first", "second"] {
    ///     let log = log.clone();
    ///     time.call_later(Duration::from_secs(1), move || log.lock().unwrap().push(word));
    /// }
    /// time.call_later(Duration::from_secs(1), move || {
    ///     r.callback(log.lock().unwrap().clone()).unwrap();
    /// });
    /// assert_eq!(d.await.unwrap(), ["first", "second"]); // equal times: scheduling order
    /// # });
    /// ```
    #[doc(alias = "callLater")]
    pub fn call_later<F>(&self, delay: Duration, f: F) -> DelayedCall
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.queue.schedule(delay, Box::new(f))
    }

    /// The calls still scheduled, earliest first: Twisted's `getDelayedCalls`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::time::TokioTime;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let time = TokioTime::new().unwrap();
    /// let call = time.call_later(Duration::from_secs(60), || {});
    /// assert_eq!(time.pending_calls(), [call.clone()]);
    /// call.cancel().unwrap();
    /// assert!(time.pending_calls().is_empty());
    /// # });
    /// ```
    #[doc(alias = "getDelayedCalls")]
    pub fn pending_calls(&self) -> Vec<DelayedCall> {
        self.shared.queue.pending()
    }
}

impl Sealed for TokioTime {}

impl ReactorTime for TokioTime {
    fn now(&self) -> Duration {
        self.shared.queue.now()
    }

    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        self.shared.queue.schedule(delay, f)
    }
}

impl fmt::Debug for TokioTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioTime")
            .field("now", &self.now())
            .field("pending", &self.pending_calls().len())
            .finish()
    }
}

/// The task that runs one clock's calls. Dropping it (the task ends, or the runtime shuts
/// down, even before its first poll) closes the queue: nothing would run its calls.
struct Driver {
    queue: Arc<TimerQueue>,
    wake: Arc<Notify>,
    /// Gone once every clone of the clock is dropped.
    clock: Weak<Shared>,
    origin: Instant,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl Driver {
    async fn run(self) {
        // The one Tokio timer, kept only while a call is pending: a stale registered timer
        // would make paused time jump to it.
        let mut sleep: Option<Pin<Box<Sleep>>> = None;
        loop {
            // Created before reading the queue: a wake-up from here on is not lost.
            let notified = self.wake.notified();
            self.run_due();
            let deadline = self.queue.next_deadline();
            match deadline {
                None if self.clock.strong_count() == 0 => return,
                // Calls scheduled for now by the calls just run: another round, after the
                // other ready tasks had a turn.
                Some(d) if d <= self.queue.now() => tokio::task::yield_now().await,
                // A deadline beyond what an Instant holds is never reached: wait for a change.
                None => {
                    sleep = None;
                    notified.await;
                }
                Some(d) => match self.origin.checked_add(d) {
                    None => {
                        sleep = None;
                        notified.await;
                    }
                    Some(at) => {
                        let timer = match &mut sleep {
                            Some(timer) => {
                                if timer.deadline() != at {
                                    timer.as_mut().reset(at);
                                }
                                timer
                            }
                            None => sleep.insert(Box::pin(tokio::time::sleep_until(at))),
                        };
                        tokio::select! {
                            biased;
                            () = notified => {}
                            () = timer.as_mut() => {}
                        }
                    }
                },
            }
        }
    }

    /// Runs the calls due now, in order; calls they schedule wait for the next round.
    fn run_due(&self) {
        let limit = self.queue.next_seq();
        let now = self.queue.now();
        while let Some(f) = self.queue.pop_due_before(now, limit) {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
                crate::log::failure("while handling timed call", &Failure::from_panic(panic));
            }
        }
    }
}
