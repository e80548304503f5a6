// Tests: tests/reactor.rs, tests/conformance/test_core.rs, tests/conformance/test_internet.rs

//! `Reactor`: the owner of the reactor thread's Tokio runtime, and the main loop.

use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;

use tokio::runtime::{Runtime, RuntimeFlavor};
use tokio::task::LocalSet;

use crate::lock::lock;

use super::background::BackgroundReactor;
use super::errors::{ReactorNotRunning, RunError};
use super::handle::ReactorHandle;
use super::main_loop::main_loop_future;
use super::seat::TaskHandle;
use super::shared::{self, RUNNING_HERE, Shared};

/// The reactor: Twisted's event loop, as a thin wrapper over a current-thread Tokio runtime.
///
/// A `Reactor` is the single owner of the reactor: it owns its runtime (with a
/// [`LocalSet`], so work that is not `Send` can be spawned on it), lives on the thread that
/// built it, is neither `Clone` nor `Send`, and dropping it ends the reactor.
/// [`run`](Self::run) runs the main loop on that thread until
/// [`stop`](ReactorHandle::stop). Everything else goes through its [`ReactorHandle`]
/// (`Clone + Send + Sync`), from [`handle`](Self::handle); the common calls
/// ([`call_later`](Self::call_later), [`call_when_running`](Self::call_when_running),
/// [`add_system_event_trigger`](Self::add_system_event_trigger), [`stop`](Self::stop),
/// [`spawn`](Self::spawn), ...) are also methods of the `Reactor` itself, forwarding to the
/// handle.
///
/// Being `!Send`, a `Reactor` is not a [`ReactorTime`](crate::reactor::ReactorTime) value;
/// pass [`reactor.handle()`](Self::handle) where one is expected.
///
/// There is no global reactor. [`ReactorHandle::current`] finds the one running on the
/// current thread. Three ways to run one:
///
/// - as the program's main loop: `Reactor::new()?.run()` (SIGINT and SIGTERM stop it
///   gracefully unless [`without_signal_handlers`](ReactorBuilder::without_signal_handlers));
/// - on a background thread inside an existing Tokio application:
///   [`Reactor::spawn_background`], talking to it through the returned
///   [`BackgroundReactor`](crate::reactor::BackgroundReactor);
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
/// The loop ends when the reactor crashes, which "during shutdown" does once the tasks the
/// reactor tracks have finished (it cancels them first thing; see
/// [`ReactorHandle::spawn`]).
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
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
pub struct Reactor {
    pub(super) handle: ReactorHandle,
    /// Shared (weakly) with the thread's registry, so that a handle used on this thread can
    /// spawn futures that are not `Send`.
    local: Rc<LocalSet>,
    /// `None` only while dropping.
    runtime: Option<Runtime>,
}

/// Options for a [`Reactor`].
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
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
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
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
        Ok(Reactor {
            handle: ReactorHandle { shared },
            local,
            runtime: Some(runtime),
        })
    }

    /// Builds the reactor on a new thread and runs it there: a [`BackgroundReactor`] to
    /// talk to it, stop it and wait for it.
    ///
    /// This blocks the calling thread only while the reactor thread builds the reactor.
    ///
    /// # Errors
    ///
    /// The I/O error from spawning the thread or building the runtime.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let background = Reactor::builder().without_signal_handlers().spawn().unwrap();
    /// let stopper = background.handle();
    /// background.handle().call_when_running(move || stopper.stop()).unwrap();
    /// background.blocking_join().unwrap();
    /// ```
    pub fn spawn(self) -> io::Result<BackgroundReactor> {
        BackgroundReactor::start(move || {
            let reactor = self.build()?;
            let handle = reactor.handle();
            Ok((handle, move || {
                let outcome = reactor.run();
                // Dropped before reporting: a join sees a finished reactor.
                drop(reactor);
                outcome
            }))
        })
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
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// #[tokio::main]
    /// async fn main() {
    /// #     let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    ///     let mut background = Reactor::spawn_background().unwrap();
    ///     let (d, r) = Deferred::<&str>::new();
    ///     let reactor = background.handle();
    ///     reactor.call_later(Duration::from_millis(1), move || { r.callback("fired").unwrap(); });
    ///     assert_eq!(d.await.unwrap(), "fired");
    ///     background.stop().unwrap();
    ///     background.join().await.unwrap();
    /// }
    /// ```
    pub fn spawn_background() -> io::Result<BackgroundReactor> {
        ReactorBuilder::default().without_signal_handlers().spawn()
    }

    /// The Tokio runtime the reactor runs on.
    pub(crate) fn runtime_handle(&self) -> &tokio::runtime::Handle {
        &self.handle.shared.rt
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
        self.handle.clone()
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
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle, RunError};
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
    /// assert!(reactor.run().is_ok());
    /// assert!(matches!(reactor.run(), Err(RunError::NotRestartable(_))));
    /// ```
    pub fn run(&self) -> Result<(), RunError> {
        let shared = &self.handle.shared;
        shared.start_running()?;
        let _current = RunningGuard::enter(shared);
        let runtime = self
            .runtime
            .as_ref()
            .expect("invariant: the runtime lives until drop");
        runtime.block_on(self.local.run_until(main_loop_future(Arc::clone(shared))));
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
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
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
        let shared = &self.handle.shared;
        shared.seat.spawn_local(&self.local, future)
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Reactor").field(&self.handle).finish()
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        // Nothing can run the reactor any more: refuse new tasks, release blocked threads,
        // stop the pool.
        self.handle.shared.seat.close();
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

/// Marks this thread as running `shared` for the duration of `run`, even if it unwinds.
struct RunningGuard {
    previous: std::sync::Weak<Shared>,
    running: u64,
}

impl RunningGuard {
    fn enter(shared: &Arc<Shared>) -> RunningGuard {
        RunningGuard {
            previous: shared::replace_current(Arc::downgrade(shared)),
            running: RUNNING_HERE.with(|r| r.replace(shared.id())),
        }
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        // Keep pointing at a reactor that still exists: the one that just ran, if the
        // previous one is gone.
        shared::restore_current(std::mem::take(&mut self.previous));
        RUNNING_HERE.with(|r| r.set(self.running));
    }
}
