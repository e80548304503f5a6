// Tests: tests/reactor.rs, tests/threads.rs, tests/conformance/test_core.rs,
// tests/conformance/test_internet.rs, tests/conformance/test_threads.rs

//! `ReactorHandle`: the `Send + Sync` face of a reactor.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::errors::{ReactorNotRunning, UnknownTriggerError};
use super::events;
use super::pool::{ThreadPool, ThreadPoolStopped};
use super::seat::{SpawnLocalError, TaskHandle};
use super::shared::{self, ExitSignal, Release, Shared};
use super::triggers::{Event, Phase, TriggerId, TriggerResult};
use crate::time::{DelayedCall, ReactorTime, Sealed, TimedFn};

/// A handle to a reactor: `Clone + Send + Sync`, usable from any thread.
///
/// It is Twisted's reactor object minus `run`: time ([`ReactorTime`]), lifecycle
/// ([`stop`](Self::stop), [`crash`](Self::crash), [`running`](Self::running),
/// [`call_when_running`](Self::call_when_running)), system event triggers, and threads
/// ([`call_from_thread`](Self::call_from_thread), [`call_in_thread`](Self::call_in_thread)),
/// and the reactor's seat for tasks ([`spawn`](Self::spawn), [`spawn_local`](Self::spawn_local)).
/// Get one from [`Reactor::handle`](crate::reactor::Reactor::handle),
/// [`BackgroundReactor::handle`](crate::reactor::BackgroundReactor::handle), or, on the
/// reactor thread, [`ReactorHandle::current`].
///
/// Everything a handle schedules runs on the reactor thread. Unlike Twisted's reactor, whose
/// only thread-safe method is `callFromThread`, every method here may be called from any
/// thread; the notes on each say where user code then runs.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use std::time::Duration;
/// use tokio_twisted::reactor::{Reactor, ReactorTime};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// std::thread::spawn(move || {
///     handle.call_later(Duration::from_millis(1), {
///         let handle = handle.clone();
///         move || { handle.stop().unwrap(); }
///     });
/// })
/// .join()
/// .unwrap();
/// reactor.run().unwrap();
/// ```
#[derive(Clone)]
#[doc(alias = "IReactorCore")]
#[doc(alias = "IReactorThreads")]
pub struct ReactorHandle {
    pub(crate) shared: Arc<Shared>,
}

impl ReactorHandle {
    /// The reactor running on this thread, else the one most recently built on it, if its
    /// [`Reactor`](crate::reactor::Reactor) still exists: how code running on the reactor
    /// thread (a callback, a trigger, a task) finds its reactor without being handed one.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
    /// reactor.run().unwrap();
    /// drop(reactor);
    /// assert!(ReactorHandle::current().is_none());
    /// assert!(std::thread::spawn(ReactorHandle::current).join().unwrap().is_none());
    /// ```
    pub fn current() -> Option<ReactorHandle> {
        shared::current().map(|shared| ReactorHandle { shared })
    }

    /// Whether the reactor is running: Twisted's `running`. True from "during startup"
    /// until "during shutdown" (or [`crash`](Self::crash)).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.running());
    /// reactor.call_when_running(|| {
    ///     let me = ReactorHandle::current().unwrap();
    ///     assert!(me.running());
    ///     me.stop()
    /// }).unwrap();
    /// reactor.run().unwrap();
    /// assert!(!reactor.running());
    /// ```
    pub fn running(&self) -> bool {
        self.shared.running()
    }

    /// Asks the reactor to stop: Twisted's `stop()`. The "shutdown" event fires at the end
    /// of the current iteration; once its triggers (and the Deferreds its *before*
    /// triggers returned) are done, [`run`](crate::reactor::Reactor::run) returns. A
    /// stopped reactor cannot run again.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] before `run()`, and on every call after the first.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle, ReactorNotRunning};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| {
    ///     let me = ReactorHandle::current().unwrap();
    ///     assert_eq!(me.stop(), Ok(()));
    ///     assert_eq!(me.stop(), Err(ReactorNotRunning));
    /// }).unwrap();
    /// reactor.run().unwrap();
    /// ```
    pub fn stop(&self) -> Result<(), ReactorNotRunning> {
        self.shared.stop()
    }

    /// Stops the main loop at the end of the current iteration, without firing "shutdown":
    /// Twisted's `crash()`. The reactor can be run again.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use tokio_twisted::reactor::{Event, Phase, Reactor, ReactorHandle};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let shutdown = Arc::new(AtomicBool::new(false));
    /// let flag = shutdown.clone();
    /// reactor.add_system_event_trigger(Phase::Before, Event::Shutdown, move || {
    ///     flag.store(true, Ordering::SeqCst)
    /// }).unwrap();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().crash()).unwrap();
    /// reactor.run().unwrap();
    /// assert!(!reactor.running());
    /// assert!(!shutdown.load(Ordering::SeqCst)); // no shutdown event
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().crash()).unwrap();
    /// reactor.run().unwrap(); // restartable
    /// ```
    pub fn crash(&self) {
        self.shared.crash();
    }

    /// Runs `f` once the reactor runs: Twisted's `callWhenRunning`.
    ///
    /// If the reactor is running, `f` runs now (on the reactor thread; from another thread
    /// it is handed over with [`call_from_thread`](Self::call_from_thread)) and `Ok(None)`
    /// is returned. Otherwise `f` becomes an *after startup* trigger, run in registration
    /// order, and its id is returned.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has been stopped (it cannot run again) or has
    /// shut down: `f` would never run, and is dropped.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::sync::{Arc, Mutex};
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle, ReactorNotRunning};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// for word in ["first", "second"] {
    ///     let log = log.clone();
    ///     assert!(reactor.call_when_running(move || log.lock().unwrap().push(word)).unwrap().is_some());
    /// }
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
    /// reactor.run().unwrap();
    /// assert_eq!(*log.lock().unwrap(), ["first", "second"]);
    /// assert_eq!(reactor.call_when_running(|| {}), Err(ReactorNotRunning));
    /// ```
    #[doc(alias = "callWhenRunning")]
    pub fn call_when_running<F, R>(&self, f: F) -> Result<Option<TriggerId>, ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        self.shared.call_when_running(f)
    }

    /// Registers `f` to run in `phase` of `event`: Twisted's `addSystemEventTrigger`.
    ///
    /// `f` may return `()`, a `Result<(), E>`, or a [`Deferred`](crate::defer::Deferred);
    /// a *before* trigger's Deferred delays the rest of the event until it fires (see
    /// [`Event`]). A failing or panicking trigger is logged and the others still run.
    /// Triggers run on the thread that fires the event: the reactor thread for startup and
    /// shutdown.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] for an event that will never fire again: "startup" once the
    /// reactor has been stopped, "shutdown" once it has shut down. `f` is dropped. Custom
    /// events are always accepted.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::time::Duration;
    /// use tokio_twisted::defer::Deferred;
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::reactor::{Event, Phase, Reactor, ReactorHandle, ReactorTime};
    /// use tokio_twisted::testing::LoggedErrors;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// // Shutdown waits for this Deferred; timers keep running meanwhile.
    /// reactor.add_system_event_trigger(Phase::Before, Event::Shutdown, move || {
    ///     let (d, r) = Deferred::<()>::new();
    ///     handle.call_later(Duration::from_millis(1), move || { r.callback(()).unwrap(); });
    ///     d
    /// }).unwrap();
    /// // A failing trigger is logged; shutdown goes on.
    /// reactor.add_system_event_trigger(Phase::During, Event::Shutdown, || {
    ///     Err::<(), _>(Failure::msg("could not flush"))
    /// }).unwrap();
    /// let logged = LoggedErrors::capture();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
    /// reactor.run().unwrap();
    /// assert_eq!(logged.flush_all()[0].error_message(), "could not flush");
    /// ```
    #[doc(alias = "addSystemEventTrigger")]
    pub fn add_system_event_trigger<F, R>(
        &self,
        phase: Phase,
        event: Event,
        f: F,
    ) -> Result<TriggerId, ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        self.shared.add_trigger(phase, event, f)
    }

    /// Unregisters a trigger: Twisted's `removeSystemEventTrigger`.
    ///
    /// # Errors
    ///
    /// [`UnknownTriggerError`] if it was removed before or has already run.
    ///
    /// ```
    /// use tokio_twisted::reactor::{Event, Phase, Reactor};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let id = reactor.add_system_event_trigger(Phase::During, Event::Custom("x"), || {}).unwrap();
    /// reactor.remove_system_event_trigger(id).unwrap();
    /// assert!(reactor.remove_system_event_trigger(id).is_err());
    /// ```
    #[doc(alias = "removeSystemEventTrigger")]
    pub fn remove_system_event_trigger(&self, id: TriggerId) -> Result<(), UnknownTriggerError> {
        self.shared.remove_trigger(id)
    }

    /// Fires the application event [`Event::Custom(name)`](Event::Custom): Twisted's
    /// `fireSystemEvent`. Triggers run on the calling thread (call it on the reactor
    /// thread); *during* and *after* triggers wait for the Deferreds of the *before* ones
    /// and, if those fire on another thread, run on the reactor thread. Startup and
    /// shutdown are fired by the reactor itself.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tokio_twisted::reactor::{Event, Phase, Reactor};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// for phase in [Phase::After, Phase::Before, Phase::During] {
    ///     let log = log.clone();
    ///     reactor.add_system_event_trigger(phase, Event::Custom("reload"), move || {
    ///         log.lock().unwrap().push(phase)
    ///     }).unwrap();
    /// }
    /// reactor.fire_system_event("reload");
    /// assert_eq!(*log.lock().unwrap(), [Phase::Before, Phase::During, Phase::After]);
    /// ```
    #[doc(alias = "fireSystemEvent")]
    pub fn fire_system_event(&self, name: &'static str) {
        events::fire(&self.shared, Event::Custom(name));
    }

    /// Runs `f` on the reactor thread, in the reactor's next iteration: Twisted's
    /// `callFromThread`.
    ///
    /// Calls run in the order they were made; a call made while the reactor is running
    /// calls from threads runs in the next iteration. Calls made before `run()` wait for
    /// it. `f` may return `()`, a `Result<(), E>` or a Deferred; failures and panics are
    /// logged.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has shut down (from "during shutdown" on):
    /// `f` would never run, and is dropped.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::{Reactor, ReactorNotRunning};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// let reactor_thread = std::thread::current().id();
    /// std::thread::spawn(move || {
    ///     let stopper = handle.clone();
    ///     handle.call_from_thread(move || {
    ///         assert_eq!(std::thread::current().id(), reactor_thread);
    ///         stopper.stop()
    ///     })
    /// })
    /// .join()
    /// .unwrap()
    /// .unwrap();
    /// reactor.run().unwrap();
    /// // Nothing would run it any more: refused.
    /// assert_eq!(reactor.call_from_thread(|| {}), Err(ReactorNotRunning));
    /// ```
    #[doc(alias = "callFromThread")]
    pub fn call_from_thread<F, R>(&self, f: F) -> Result<(), ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        self.shared.call_from_thread(f)
    }

    /// Runs `f` on the reactor's thread pool: Twisted's `callInThread`.
    ///
    /// The pool (at most 10 threads unless
    /// [`suggest_thread_pool_size`](Self::suggest_thread_pool_size) says otherwise) is
    /// created on first use, started when the reactor runs (work submitted before waits),
    /// and stopped, after finishing its queued work, when the reactor shuts down.
    ///
    /// # Errors
    ///
    /// [`ThreadPoolStopped`] once the reactor has shut down.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// reactor
    ///     .call_in_thread(move || {
    ///         let answer = 6 * 7; // blocking work goes here
    ///         let stopper = handle.clone();
    ///         handle.call_from_thread(move || { assert_eq!(answer, 42); stopper.stop() }).unwrap();
    ///     })
    ///     .unwrap();
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "callInThread")]
    pub fn call_in_thread<F>(&self, f: F) -> Result<(), ThreadPoolStopped>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.thread_pool().call_in_thread(f)
    }

    /// The reactor's thread pool, created if needed: Twisted's `getThreadPool`.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let pool = reactor.thread_pool();
    /// assert_eq!(pool.max_threads(), 10);
    /// assert!(!pool.started()); // until the reactor runs
    /// ```
    #[doc(alias = "getThreadPool")]
    pub fn thread_pool(&self) -> ThreadPool {
        self.shared.thread_pool()
    }

    /// Sets the maximum size of the reactor's thread pool: Twisted's
    /// `suggestThreadPoolSize`.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.suggest_thread_pool_size(4);
    /// assert_eq!(reactor.thread_pool().max_threads(), 4);
    /// ```
    #[doc(alias = "suggestThreadPoolSize")]
    pub fn suggest_thread_pool_size(&self, size: usize) {
        self.shared.thread_pool().adjust_max(size);
    }

    /// The time since the reactor was built; [`ReactorTime::now`] without importing the
    /// trait.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let before = reactor.now();
    /// assert!(reactor.now() >= before);
    /// ```
    #[doc(alias = "rightNow")]
    pub fn now(&self) -> Duration {
        self.shared.now()
    }

    /// The reactor's time in seconds: Twisted's `seconds()`, [`ReactorTime::seconds`]
    /// without importing the trait.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.seconds() >= 0.0);
    /// ```
    pub fn seconds(&self) -> f64 {
        self.now().as_secs_f64()
    }

    /// Schedules `f` to run on the reactor thread `delay` from now: Twisted's `callLater`,
    /// [`ReactorTime::call_later`] without importing the trait.
    ///
    /// Once the reactor has shut down (or its owner was dropped) nothing would run `f`: the
    /// call is refused, `f` is dropped and the returned call is not
    /// [`active`](DelayedCall::active) ([`ReactorTime::stopped`] says so too).
    /// [`try_call_later`](Self::try_call_later) reports it as an error instead.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::time::Duration;
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// reactor.call_later(Duration::from_millis(1), move || handle.stop().unwrap());
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "callLater")]
    pub fn call_later<F>(&self, delay: Duration, f: F) -> DelayedCall
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared
            .call_later(delay, Box::new(f))
            .unwrap_or_else(|refused| refused)
    }

    /// As [`call_later`](Self::call_later), with an error instead of an inactive call once
    /// the reactor has shut down.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has shut down (or its
    /// [`Reactor`](crate::reactor::Reactor) was dropped): `f` would never run, and is dropped.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::time::Duration;
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle, ReactorNotRunning};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// assert!(handle.try_call_later(Duration::ZERO, || ReactorHandle::current().unwrap().stop().unwrap()).is_ok());
    /// reactor.run().unwrap();
    /// assert_eq!(handle.try_call_later(Duration::ZERO, || {}).err(), Some(ReactorNotRunning));
    /// ```
    #[doc(alias = "callLater")]
    pub fn try_call_later<F>(&self, delay: Duration, f: F) -> Result<DelayedCall, ReactorNotRunning>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared
            .call_later(delay, Box::new(f))
            .map_err(|_| ReactorNotRunning)
    }

    /// The calls still scheduled, earliest first: Twisted's `getDelayedCalls`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::reactor::{Reactor, ReactorTime};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let call = reactor.call_later(Duration::from_secs(5), || {});
    /// assert_eq!(reactor.pending_calls().len(), 1);
    /// call.cancel().unwrap();
    /// assert!(reactor.pending_calls().is_empty());
    /// ```
    #[doc(alias = "getDelayedCalls")]
    pub fn pending_calls(&self) -> Vec<DelayedCall> {
        self.shared.timers.pending()
    }

    /// The signal that stopped the reactor, if one did (Twisted's `_exitSignal`).
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(reactor.exit_signal(), None);
    /// ```
    #[doc(alias = "_exitSignal")]
    pub fn exit_signal(&self) -> Option<ExitSignal> {
        self.shared.exit_signal()
    }

    /// Whether the calling thread is the reactor's thread: Twisted's `isInIOThread`.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.is_reactor_thread());
    /// let handle = reactor.handle();
    /// assert!(!std::thread::spawn(move || handle.is_reactor_thread()).join().unwrap());
    /// ```
    #[doc(alias = "isInIOThread")]
    pub fn is_reactor_thread(&self) -> bool {
        self.shared.is_reactor_thread()
    }

    /// Runs `future` on the reactor, from any thread: the reactor's seat for `Send` tasks.
    ///
    /// The task runs on the reactor thread, inside the reactor's Tokio runtime, while the
    /// reactor runs; spawned before [`run`](crate::reactor::Reactor::run), it starts when the
    /// reactor does. The reactor tracks it: in "during shutdown" it cancels every task it
    /// still runs (each future is dropped at the `.await` it is stopped at) and waits for them
    /// to finish, with the event loop still running, before `run()` returns. The returned
    /// [`TaskHandle`] can be awaited, cancelled, or turned into a Deferred.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has shut down (from "during shutdown" on): the
    /// future would never run, and is dropped.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::time::Duration;
    /// use tokio_twisted::reactor::{Reactor, ReactorNotRunning};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// std::thread::spawn(move || {
    ///     let stopper = handle.clone();
    ///     handle.spawn(async move {
    ///         tokio::time::sleep(Duration::from_millis(1)).await;
    ///         stopper.stop()
    ///     })
    /// })
    /// .join()
    /// .unwrap()
    /// .unwrap();
    /// reactor.run().unwrap();
    /// assert_eq!(reactor.handle().spawn(async {}).err(), Some(ReactorNotRunning));
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<TaskHandle<F::Output>, ReactorNotRunning>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.seat.spawn(&self.shared.rt, future)
    }

    /// Runs a future that need not be `Send` on the reactor, from the reactor thread: as
    /// [`spawn`](Self::spawn), on the reactor's `LocalSet`.
    ///
    /// # Errors
    ///
    /// [`SpawnLocalError::NotReactorThread`] on any other thread;
    /// [`SpawnLocalError::NotRunning`] once the reactor has shut down or its
    /// [`Reactor`](crate::reactor::Reactor) has been dropped. The future is dropped.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::rc::Rc;
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| {
    ///     let me = ReactorHandle::current().unwrap();
    ///     let shared = Rc::new("not Send");
    ///     let stopper = me.clone();
    ///     me.spawn_local(async move {
    ///         assert_eq!(*shared, "not Send");
    ///         stopper.stop()
    ///     })
    ///     .map(drop)
    /// }).unwrap();
    /// reactor.run().unwrap();
    /// ```
    pub fn spawn_local<F>(&self, future: F) -> Result<TaskHandle<F::Output>, SpawnLocalError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if !self.is_reactor_thread() {
            return Err(SpawnLocalError::NotReactorThread);
        }
        let local = shared::local_set(self.shared.id()).ok_or(ReactorNotRunning)?;
        Ok(self.shared.seat.spawn_local(&local, future)?)
    }

    /// For the reactor's own long-lived tasks (connections): spawns `future` on the reactor
    /// thread's `LocalSet`, tracked, so that shutdown waits for it.
    ///
    /// Unlike [`spawn_local`](Self::spawn_local), the future is *not* cancelled for the
    /// caller: it must watch a [`shutdown_token`](Self::shutdown_token) (taken before
    /// spawning) in its own `select!`, run its cleanup when it is cancelled (a connection calls
    /// `connection_lost`), and return. "During shutdown" cancels the token first thing, then
    /// the reactor keeps running until every such task has returned. A panic in the task is
    /// logged ("while running a reactor task").
    ///
    /// # Errors
    ///
    /// [`SpawnLocalError::NotReactorThread`] off the reactor thread;
    /// [`SpawnLocalError::NotRunning`] once shutdown has begun or the owner was dropped.
    #[allow(dead_code, reason = "the hook the networking tasks are spawned with")]
    pub(crate) fn spawn_tracked_local<F>(
        &self,
        future: F,
    ) -> Result<tokio::task::JoinHandle<()>, SpawnLocalError>
    where
        F: Future<Output = ()> + 'static,
    {
        if !self.is_reactor_thread() {
            return Err(SpawnLocalError::NotReactorThread);
        }
        let local = shared::local_set(self.shared.id()).ok_or(ReactorNotRunning)?;
        Ok(self.shared.seat.spawn_cooperative(&local, future)?)
    }

    /// For the reactor's own long-lived tasks: a token (a child of the reactor's shutdown
    /// token) that is cancelled first thing in "during shutdown". A task spawned with
    /// [`spawn_tracked_local`](Self::spawn_tracked_local) selects on
    /// `token.cancelled()` to learn that it must clean up and return.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once shutdown has begun.
    #[allow(dead_code, reason = "the hook the networking tasks watch shutdown with")]
    pub(crate) fn shutdown_token(&self) -> Result<CancellationToken, ReactorNotRunning> {
        self.shared.seat.child_token()
    }

    pub(crate) fn register_blocked(&self, release: Release) -> Option<u64> {
        self.shared.register_blocked(release)
    }

    pub(crate) fn unregister_blocked(&self, ticket: u64) {
        self.shared.unregister_blocked(ticket);
    }
}

impl Sealed for ReactorHandle {}

impl ReactorTime for ReactorHandle {
    fn now(&self) -> Duration {
        self.shared.now()
    }

    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        self.shared.call_later(delay, f).unwrap_or_else(|refused| refused)
    }

    fn stopped(&self) -> bool {
        self.shared.closed()
    }
}

impl fmt::Debug for ReactorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReactorHandle")
            .field("id", &self.shared.id())
            .field("started", &self.shared.started())
            .field("running", &self.shared.running())
            .finish_non_exhaustive()
    }
}
