// Tests: tests/service.rs, tests/conformance/test_service.rs

//! `TimerService`: a function called every step while the service runs.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::defer::{Deferred, IntoOutcome, maybe_deferred, succeed};
use crate::failure::Failure;
use crate::lock::lock;
use crate::task::LoopingCall;
use crate::time::ReactorTime;

use super::service::{Service, ServiceState};

type TimedCall = Box<dyn FnMut() -> Deferred<()> + Send>;

/// Calls a function at once and then every `step` while running: Twisted's
/// `internet.TimerService`, a [`LoopingCall`] tied to a service's life, on any
/// [`ReactorTime`] (the reactor, or a [`Clock`](crate::task::Clock) in tests).
///
/// An error (or panic) in the function is logged and ends the loop; the service stays
/// "running" until stopped. [`stop_service`](Service::stop_service) stops the loop and
/// returns a Deferred that fires once a call in progress (a Deferred the function
/// returned) has finished. Starting again after a stop starts a new loop.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use std::time::Duration;
/// use tokio_twisted::service::{Service, TimerService};
/// use tokio_twisted::task::Clock;
///
/// let clock = Clock::new();
/// let ticks = Arc::new(AtomicUsize::new(0));
/// let t = ticks.clone();
/// let timer = TimerService::new(Duration::from_secs(1), clock.clone(), move || {
///     t.fetch_add(1, Ordering::SeqCst);
/// });
/// timer.start_service().unwrap();
/// assert_eq!(ticks.load(Ordering::SeqCst), 1); // at once
/// clock.pump([Duration::from_secs(1); 2]);
/// assert_eq!(ticks.load(Ordering::SeqCst), 3);
/// assert!(timer.stop_service().called());
/// assert!(!timer.running());
/// ```
#[doc(alias = "twisted.application.internet.TimerService")]
pub struct TimerService {
    state: ServiceState,
    step: Duration,
    clock: Arc<dyn ReactorTime>,
    call: Arc<Mutex<TimedCall>>,
    current: Mutex<Option<(LoopingCall, Deferred<()>)>>,
}

impl TimerService {
    /// A timer calling `f` every `step` on `clock` once started. `f` may return `()`,
    /// `Ok(_)`, `Err(failure)` or a Deferred (the next call waits for it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::service::{Service, TimerService};
    /// use tokio_twisted::task::Clock;
    /// use tokio_twisted::testing::LoggedErrors;
    ///
    /// let logged = LoggedErrors::capture();
    /// let clock = Clock::new();
    /// let timer = TimerService::new(Duration::from_secs(1), clock.clone(), || Err::<(), _>(Failure::msg("disk full")));
    /// timer.start_service().unwrap(); // the first call fails: logged, the loop ends
    /// assert_eq!(logged.flush_all()[0].error_message(), "disk full");
    /// assert!(clock.pending_calls().is_empty());
    /// assert!(timer.stop_service().called());
    /// ```
    pub fn new<F, R, U>(step: Duration, clock: impl ReactorTime, mut f: F) -> Self
    where
        F: FnMut() -> R + Send + 'static,
        R: IntoOutcome<U>,
        U: Send + 'static,
    {
        let call: TimedCall = Box::new(move || maybe_deferred(&mut f).add_callback(|_| Ok(())));
        TimerService {
            state: ServiceState::default(),
            step,
            clock: Arc::new(clock),
            call: Arc::new(Mutex::new(call)),
            current: Mutex::new(None),
        }
    }

    /// The interval between calls.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::service::TimerService;
    /// # use tokio_twisted::task::Clock;
    /// let timer = TimerService::new(Duration::from_secs(5), Clock::new(), || {});
    /// assert_eq!(timer.step(), Duration::from_secs(5));
    /// ```
    pub fn step(&self) -> Duration {
        self.step
    }
}

impl Service for TimerService {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    /// Marks the service running and starts the loop with a call right now.
    ///
    /// # Errors
    ///
    /// A [`LoopingCallError`](crate::task::LoopingCallError) if the step is not a valid
    /// interval.
    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        let call = Arc::clone(&self.call);
        let lc = LoopingCall::new(Arc::clone(&self.clock), move || (lock(&call))());
        let done = lc
            .start(self.step)?
            .add_callback(|_| Ok(()))
            .add_errback(|failure| {
                crate::log::failure("TimerService failed", &failure);
                Ok(())
            });
        *lock(&self.current) = Some((lc, done));
        Ok(())
    }

    /// Stops the loop; the Deferred fires (and `running` clears) once a call in progress
    /// has finished.
    fn stop_service(&self) -> Deferred<()> {
        let current = lock(&self.current).take();
        let state = self.state.clone();
        let Some((lc, done)) = current else {
            state.set_running(false);
            return succeed(());
        };
        if lc.running() {
            // Running was just checked; a loop that ended since has nothing to stop.
            let _ = lc.stop();
        }
        done.add_callback(move |()| {
            state.set_running(false);
            Ok(())
        })
    }
}

impl fmt::Debug for TimerService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerService")
            .field("state", &self.state)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}
