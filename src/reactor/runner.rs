// Tests: tests/reactor.rs, tests/conformance/test_core.rs, tests/conformance/test_internet.rs

//! `Reactor`: the owner of the reactor thread's Tokio runtime, and the main loop.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::runtime::{Runtime, RuntimeFlavor};
use tokio::task::LocalSet;
use tokio::time::Sleep;

use crate::failure::Failure;

use super::errors::{ReactorNotRunning, RunError};
use super::events::{self, Event};
use super::handle::{ExitSignal, ReactorHandle};
use super::seat::TaskHandle;
use super::shared::{self, RUNNING_HERE, Shared, ThreadCall};
use crate::lock::lock;

thread_local! {
    /// The reactor running on this thread, else the one most recently built here.
    static CURRENT: RefCell<Weak<Owned>> = const { RefCell::new(Weak::new()) };
}

/// The reactor: Twisted's event loop, as a thin wrapper over a current-thread Tokio runtime.
///
/// A `Reactor` owns its runtime (with a [`LocalSet`], so work that is not `Send` can be
/// spawned on it) and lives on the thread that built it; [`run`](Self::run) runs the main
/// loop on that thread until [`stop`](ReactorHandle::stop). Everything else goes through
/// its [`ReactorHandle`] (`Clone + Send + Sync`), which a `Reactor` dereferences to:
/// [`call_later`](crate::reactor::ReactorTime::call_later),
/// [`call_when_running`](ReactorHandle::call_when_running), system event triggers,
/// [`call_from_thread`](ReactorHandle::call_from_thread) and the thread pool.
///
/// A `Reactor` is not itself `Send`, so it is not a [`ReactorTime`](crate::reactor::ReactorTime)
/// value; pass [`reactor.handle()`](Self::handle) where one is expected (method calls such as
/// `reactor.call_later(..)` work directly through the handle).
///
/// There is no global reactor. [`Reactor::current`] finds the one running on the current
/// thread. Three ways to run one:
///
/// - as the program's main loop: `Reactor::new()?.run()` (SIGINT and SIGTERM stop it
///   gracefully unless [`without_signal_handlers`](ReactorBuilder::without_signal_handlers));
/// - on a background thread inside an existing Tokio application:
///   [`Reactor::spawn_background`], talking to it through the returned handle;
/// - under [`task::react`](crate::task::react), which runs until a main Deferred fires and
///   returns the process exit code.
///
/// # The main loop
///
/// Each iteration, as in Twisted's `runUntilCurrent` + `doIteration`:
///
/// 1. run the calls from threads queued before the iteration began, in order;
/// 2. run the timed calls that are due, earliest first (first in, first out for equal
///    times); calls scheduled while these run wait for the next iteration, even with a zero
///    delay; a panic is logged ("while handling timed call") and the loop carries on;
/// 3. if [`stop`](ReactorHandle::stop) was called, fire the "shutdown" event;
/// 4. wait: if work is already pending, only let Tokio poll I/O and other tasks once;
///    otherwise sleep on one Tokio timer until the earliest timed call, or until woken
///    (by a call from a thread, an earlier timed call, `stop` or `crash`).
///
/// The loop ends when the reactor crashes, which "during shutdown" does first thing.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::reactor::{Reactor, ReactorTime};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// reactor.call_later(Duration::from_millis(2), move || { handle.stop().unwrap(); });
/// reactor.run().unwrap();
/// assert!(reactor.seconds() >= 0.002);
/// ```
#[doc(alias = "twisted.internet.reactor")]
#[doc(alias = "ReactorBase")]
#[derive(Clone)]
pub struct Reactor {
    owned: Rc<Owned>,
}

struct Owned {
    handle: ReactorHandle,
    /// Shared (weakly) with the thread's registry, so that a handle used on this thread can
    /// spawn futures that are not `Send`.
    local: Rc<LocalSet>,
    /// `None` only while dropping.
    runtime: Option<Runtime>,
}

/// Options for a [`Reactor`].
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::reactor::{Reactor, ReactorTime};
///
/// // A reactor on a paused-time runtime, for deterministic tests.
/// let runtime = tokio::runtime::Builder::new_current_thread()
///     .enable_all()
///     .start_paused(true)
///     .build()
///     .unwrap();
/// let reactor = Reactor::builder().without_signal_handlers().runtime(runtime).build().unwrap();
/// let handle = reactor.handle();
/// reactor.call_later(Duration::from_secs(3600), move || { handle.stop().unwrap(); });
/// reactor.run().unwrap(); // at once: paused time jumps to the next timer
/// assert!(reactor.seconds() >= 3600.0);
/// ```
#[derive(Default)]
pub struct ReactorBuilder {
    no_signal_handlers: bool,
    runtime: Option<Runtime>,
}

impl ReactorBuilder {
    /// Do not stop the reactor on SIGINT and SIGTERM (Twisted's
    /// `run(installSignalHandlers=False)`). Use this when something else owns the
    /// process's signals, and in tests.
    ///
    /// With handlers (the default), the reactor listens through `tokio::signal` while it
    /// runs. Tokio never uninstalls its process-wide handlers: once such a reactor has run,
    /// SIGINT and SIGTERM no longer end the process by themselves, even after it stops.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| Reactor::current().unwrap().stop());
    /// reactor.run().unwrap();
    /// assert_eq!(reactor.exit_signal(), None); // nothing listened for signals
    /// ```
    #[must_use]
    #[doc(alias = "installSignalHandlers")]
    pub fn without_signal_handlers(mut self) -> Self {
        self.no_signal_handlers = true;
        self
    }

    /// Runs the reactor on `runtime` instead of a new one. It must be a current-thread
    /// runtime with time (and I/O, for networking) enabled; a runtime built with
    /// `start_paused(true)` makes every timer deterministic in tests.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// let reactor = Reactor::builder().without_signal_handlers().runtime(runtime).build().unwrap();
    /// # drop(reactor);
    /// ```
    #[must_use]
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Builds the reactor on the current thread.
    ///
    /// # Errors
    ///
    /// The I/O error from building the Tokio runtime, or `InvalidInput` if the runtime
    /// given to [`runtime`](Self::runtime) is not a current-thread one.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().build().unwrap();
    /// assert!(!reactor.running());
    /// ```
    pub fn build(self) -> io::Result<Reactor> {
        let runtime = match self.runtime {
            Some(rt) => rt,
            None => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        };
        if runtime.handle().runtime_flavor() != RuntimeFlavor::CurrentThread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the reactor needs a current-thread tokio runtime",
            ));
        }
        let shared = Shared::new(runtime.handle().clone(), !self.no_signal_handlers);
        let local = Rc::new(LocalSet::new());
        shared::register_owner(&shared, &local);
        // Async code started on this thread before `run()` (`Deferred::from_future`) runs
        // inside this reactor's runtime.
        crate::defer::set_home_runtime(shared.id(), runtime.handle().clone());
        let owned = Rc::new(Owned {
            handle: ReactorHandle { shared },
            local,
            runtime: Some(runtime),
        });
        CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&owned));
        Ok(Reactor { owned })
    }

    /// Builds the reactor on a new thread and runs it there, returning its handle and the
    /// thread's join handle (which yields `run`'s result once the reactor stops).
    ///
    /// This blocks the calling thread only while the reactor thread builds the reactor.
    ///
    /// # Errors
    ///
    /// The I/O error from spawning the thread or building the runtime.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let (handle, thread) = Reactor::builder().without_signal_handlers().spawn().unwrap();
    /// let stopper = handle.clone();
    /// handle.call_when_running(move || stopper.stop());
    /// thread.join().unwrap().unwrap();
    /// ```
    pub fn spawn(self) -> io::Result<(ReactorHandle, JoinHandle<Result<(), RunError>>)> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("tokio-twisted-reactor".into())
            .spawn(move || {
                let reactor = match self.build() {
                    Ok(reactor) => reactor,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return Ok(());
                    }
                };
                let _ = tx.send(Ok(reactor.handle()));
                reactor.run()
            })?;
        match rx.recv() {
            Ok(Ok(handle)) => Ok((handle, thread)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other(
                "the reactor thread ended before building the reactor",
            )),
        }
    }
}

impl fmt::Debug for ReactorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReactorBuilder")
            .field("signal_handlers", &!self.no_signal_handlers)
            .field("runtime", &self.runtime.is_some())
            .finish()
    }
}

impl Reactor {
    /// A reactor on a new current-thread runtime, stopping on SIGINT and SIGTERM.
    ///
    /// # Errors
    ///
    /// The I/O error from building the Tokio runtime.
    ///
    /// ```no_run
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let reactor = Reactor::new()?;
    ///     // ... schedule work ...
    ///     reactor.run()?; // until stop(), SIGINT or SIGTERM
    ///     Ok(())
    /// }
    /// ```
    pub fn new() -> io::Result<Reactor> {
        ReactorBuilder::default().build()
    }

    /// Options for a new reactor.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.running()); // until `run`
    /// ```
    pub fn builder() -> ReactorBuilder {
        ReactorBuilder::default()
    }

    /// Starts a reactor on a background thread, without signal handlers (the host
    /// application owns the signals), for use from inside an existing Tokio application.
    /// Use [`ReactorBuilder::spawn`] for other options.
    ///
    /// # Errors
    ///
    /// The I/O error from spawning the thread or building the runtime.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::defer::Deferred;
    /// use tokio_twisted::reactor::{Reactor, ReactorTime};
    ///
    /// #[tokio::main]
    /// async fn main() {
    ///     let (reactor, thread) = Reactor::spawn_background().unwrap();
    ///     let (d, r) = Deferred::<&str>::new();
    ///     reactor.call_later(Duration::from_millis(1), move || { r.callback("fired").unwrap(); });
    ///     assert_eq!(tokio::spawn(d).await.unwrap().unwrap(), "fired");
    ///     reactor.stop().unwrap();
    ///     tokio::task::spawn_blocking(move || thread.join()).await.unwrap().unwrap().unwrap();
    /// }
    /// ```
    pub fn spawn_background() -> io::Result<(ReactorHandle, JoinHandle<Result<(), RunError>>)> {
        ReactorBuilder::default().without_signal_handlers().spawn()
    }

    /// The reactor running on this thread, or else the one most recently built on it, if
    /// it still exists. Long-lived tasks should keep a [`ReactorHandle`] rather than a
    /// `Reactor`: a task spawned on a reactor that owns its reactor keeps both alive.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(Reactor::current().is_some());
    /// drop(reactor);
    /// assert!(Reactor::current().is_none());
    /// ```
    pub fn current() -> Option<Reactor> {
        CURRENT
            .with(|c| c.borrow().upgrade())
            .map(|owned| Reactor { owned })
    }

    /// The Tokio runtime the reactor runs on.
    pub(crate) fn runtime_handle(&self) -> &tokio::runtime::Handle {
        &self.owned.handle.shared.rt
    }

    /// A `Send + Sync` handle to this reactor.
    ///
    /// ```
    /// use tokio_twisted::reactor::{Reactor, ReactorTime};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// std::thread::spawn(move || handle.seconds()).join().unwrap();
    /// ```
    pub fn handle(&self) -> ReactorHandle {
        self.owned.handle.clone()
    }

    /// Runs the reactor until it is stopped: Twisted's `run()`.
    ///
    /// Fires "startup", runs the main loop (see [`Reactor`]), and returns once "shutdown"
    /// has fired all its triggers, or once the reactor [crashes](ReactorHandle::crash).
    ///
    /// # Errors
    ///
    /// [`RunError::AlreadyRunning`] if it is running (a nested call),
    /// [`RunError::NotRestartable`] if it was stopped before, [`RunError::InsideRuntime`] if
    /// this thread is already inside a Tokio runtime.
    ///
    /// ```
    /// use tokio_twisted::reactor::{Reactor, RunError};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| Reactor::current().unwrap().stop());
    /// assert!(reactor.run().is_ok());
    /// assert!(matches!(reactor.run(), Err(RunError::NotRestartable(_))));
    /// ```
    pub fn run(&self) -> Result<(), RunError> {
        let shared = &self.owned.handle.shared;
        shared.start_running()?;
        let _current = RunningGuard::enter(&self.owned);
        let runtime = self
            .owned
            .runtime
            .as_ref()
            .expect("invariant: the runtime lives until drop");
        runtime.block_on(self.owned.local.run_until(main_loop(Arc::clone(shared))));
        if let Some(signals) = lock(&shared.signals).take() {
            signals.abort();
        }
        Ok(())
    }

    /// Spawns a future that need not be `Send` onto the reactor thread (a
    /// [`tokio::task::spawn_local`] that also works before `run()`): as
    /// [`ReactorHandle::spawn_local`], which the owner, being on the reactor thread, can
    /// always call. The reactor tracks the task and cancels it at shutdown.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`](crate::reactor::ReactorNotRunning) once the reactor has shut
    /// down.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let not_send = Rc::new(5);
    /// let handle = reactor.handle();
    /// let task = reactor.spawn_local(async move {
    ///     assert_eq!(*not_send, 5);
    ///     handle.stop().unwrap();
    /// });
    /// assert!(task.is_ok());
    /// reactor.run().unwrap();
    /// ```
    pub fn spawn_local<F>(&self, future: F) -> Result<TaskHandle<F::Output>, ReactorNotRunning>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let shared = &self.owned.handle.shared;
        shared.seat.spawn_local(&self.owned.local, future)
    }
}

impl Deref for Reactor {
    type Target = ReactorHandle;

    fn deref(&self) -> &ReactorHandle {
        &self.owned.handle
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Reactor").field(&self.owned.handle).finish()
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // Nothing can run the reactor any more: release blocked threads, stop the pool.
        self.handle.shared.close_threads_detached();
        // Local tasks go first, while the runtime their resources belong to still exists.
        drop(std::mem::take(&mut self.local));
        crate::defer::clear_home_runtime(self.handle.shared.id());
        if let Some(runtime) = self.runtime.take() {
            // Unlike dropping it, this is allowed inside an async context.
            runtime.shutdown_background();
        }
    }
}

/// Marks this thread as running `owned` for the duration of `run`, even if it unwinds.
struct RunningGuard {
    owner: Weak<Owned>,
    shared: std::sync::Weak<Shared>,
    running: u64,
}

impl RunningGuard {
    fn enter(this: &Rc<Owned>) -> RunningGuard {
        let owner = CURRENT.with(|c| c.replace(Rc::downgrade(this)));
        let shared = shared::replace_current(Arc::downgrade(&this.handle.shared));
        let running = RUNNING_HERE.with(|r| r.replace(this.handle.shared.id()));
        RunningGuard {
            owner,
            shared,
            running,
        }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.owner);
        // Keep pointing at a reactor that still exists: the one that just ran, if the
        // previous one is gone.
        if previous.strong_count() > 0 {
            CURRENT.with(|c| *c.borrow_mut() = previous);
            shared::replace_current(std::mem::take(&mut self.shared));
        }
        RUNNING_HERE.with(|r| r.set(self.running));
    }
}

async fn main_loop(shared: Arc<Shared>) {
    events::fire(&shared, Event::Startup);
    let mut sleep = None;
    let mut calls = Vec::new();
    while shared.started() {
        run_until_current(&shared, &mut calls);
        if !shared.started() {
            break;
        }
        wait(&shared, &mut sleep).await;
    }
}

/// Steps 1 to 3 of an iteration (see [`Reactor`]).
fn run_until_current(shared: &Arc<Shared>, calls: &mut Vec<ThreadCall>) {
    shared.take_thread_calls(calls);
    for call in calls.drain(..) {
        call(); // logs its own failures
    }
    let limit = shared.timers.next_seq();
    let now = shared.now();
    while let Some(f) = shared.timers.pop_due_before(now, limit) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
            crate::log::failure("while handling timed call", &Failure::from_panic(panic));
        }
    }
    if shared.take_stop_request() {
        events::fire(shared, Event::Shutdown);
    }
    if shared.take_drained() {
        events::finish_shutdown(shared);
    }
}

/// Step 4 of an iteration. The one Tokio timer lives in `sleep` only while a timed call is
/// pending: a stale registered timer would make a paused-time runtime jump to it.
async fn wait(shared: &Shared, sleep: &mut Option<Pin<Box<Sleep>>>) {
    // Created before looking at the state: a wake-up from here on is not lost (and one
    // from earlier left a permit that completes it at once).
    let notified = shared.wake.notified();
    let deadline = shared.timers.next_deadline();
    if shared.has_work() || deadline.is_some_and(|d| d <= shared.now()) {
        tokio::task::yield_now().await;
        return;
    }
    // While shutdown waits for the tracked tasks, their end is work too.
    let draining = shared.draining();
    match deadline {
        // A deadline beyond what an Instant can hold is never reached: wait for work.
        None => {
            *sleep = None;
            wait_for_work(shared, notified, draining).await;
        }
        Some(d) if shared.origin.checked_add(d).is_none() => {
            *sleep = None;
            wait_for_work(shared, notified, draining).await;
        }
        Some(d) => {
            let at = shared.origin + d;
            let timer = match sleep {
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
                () = shared.seat.wait(), if draining => {}
            }
        }
    }
}

async fn wait_for_work(shared: &Shared, notified: tokio::sync::futures::Notified<'_>, draining: bool) {
    tokio::select! {
        biased;
        () = notified => {}
        () = shared.seat.wait(), if draining => {}
    }
}

/// Makes SIGINT and SIGTERM stop the reactor, for as long as it runs. Called in "during
/// startup" when the reactor was built with signal handlers.
pub(crate) fn install_signal_handlers(shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    let _in_runtime = shared.rt.enter();
    #[cfg(unix)]
    let task = {
        use tokio::signal::unix::{SignalKind, signal};
        // Created here, not in the task, so the handlers are in place when startup ends.
        let (mut int, mut term) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(int), Ok(term)) => (int, term),
            (Err(e), _) | (_, Err(e)) => {
                crate::log::failure("while installing signal handlers", &Failure::new(e));
                return;
            }
        };
        shared.rt.spawn(async move {
            loop {
                let signal = tokio::select! {
                    Some(()) = int.recv() => ExitSignal::Interrupt,
                    Some(()) = term.recv() => ExitSignal::Terminate,
                    else => return,
                };
                match weak.upgrade() {
                    Some(shared) => shared.received_signal(signal),
                    None => return,
                }
            }
        })
    };
    #[cfg(not(unix))]
    let task = shared.rt.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            match weak.upgrade() {
                Some(shared) => shared.received_signal(ExitSignal::Interrupt),
                None => return,
            }
        }
    });
    if let Some(old) = lock(&shared.signals).replace(task) {
        old.abort();
    }
}
