// Tests: tests/reactor.rs (spawn_*, shutdown_*), tests/conformance/test_core.rs
// (test_shutdown_disconnects_cleanly)

//! The reactor's seat for tasks: everything it spawned is tracked, so that "during shutdown"
//! can cancel it and wait for it; and [`TaskHandle`], what a spawn returns.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;
use tokio::task::{JoinHandle, LocalSet};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::defer::{CancelledError, Deferred};
use crate::failure::Failure;

use super::errors::ReactorNotRunning;

/// Why [`ReactorHandle::spawn_local`](crate::reactor::ReactorHandle::spawn_local) did not
/// spawn.
///
/// ```
/// use tokio_twisted::reactor::{Reactor, SpawnLocalError};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// let refused = std::thread::spawn(move || handle.spawn_local(async {}).err())
///     .join()
///     .unwrap();
/// assert_eq!(refused, Some(SpawnLocalError::NotReactorThread));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnLocalError {
    /// Called on another thread than the reactor's: a future that is not `Send` cannot be
    /// handed over. Use [`spawn`](crate::reactor::ReactorHandle::spawn) for `Send` futures.
    #[error("spawn_local called outside the reactor thread")]
    NotReactorThread,
    /// The reactor has shut down (or its owner was dropped): nothing would run the future.
    #[error(transparent)]
    NotRunning(#[from] ReactorNotRunning),
}

/// What a reactor spawned, and the token that asks it to stop.
pub(crate) struct Seat {
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Seat {
    pub(crate) fn new() -> Seat {
        Seat {
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        }
    }

    /// A token cancelled when shutdown begins (or earlier, when cancelled itself); refused
    /// once shutdown has begun.
    pub(crate) fn child_token(&self) -> Result<CancellationToken, ReactorNotRunning> {
        if self.shutdown.is_cancelled() {
            return Err(ReactorNotRunning);
        }
        Ok(self.shutdown.child_token())
    }

    /// The start of "during shutdown": every tracked task is asked to stop, and nothing new
    /// is accepted.
    pub(crate) fn close(&self) {
        self.tracker.close();
        self.shutdown.cancel();
    }

    /// Whether every tracked task has finished.
    pub(crate) fn is_empty(&self) -> bool {
        self.tracker.is_empty()
    }

    /// Completes once the seat is closed and every tracked task has finished.
    pub(crate) fn wait(&self) -> impl Future<Output = ()> + use<> {
        let tracker = self.tracker.clone();
        async move { tracker.wait().await }
    }

    /// Spawns a `Send` future on `rt`, tracked and cancellable.
    pub(crate) fn spawn<F>(
        &self,
        rt: &tokio::runtime::Handle,
        future: F,
    ) -> Result<TaskHandle<F::Output>, ReactorNotRunning>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let cancel = self.child_token()?;
        let join = rt.spawn(self.tracker.track_future(guarded(future, cancel.clone())));
        Ok(TaskHandle { join, cancel })
    }

    /// Spawns a future that need not be `Send` on the reactor's `local` set, tracked and
    /// cancellable.
    pub(crate) fn spawn_local<F>(
        &self,
        local: &LocalSet,
        future: F,
    ) -> Result<TaskHandle<F::Output>, ReactorNotRunning>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let cancel = self.child_token()?;
        let join = local.spawn_local(self.tracker.track_future(guarded(future, cancel.clone())));
        Ok(TaskHandle { join, cancel })
    }

    /// Spawns a tracked future that need not be `Send` and is not wrapped: it is not
    /// cancelled for the caller, and must watch a [`Self::child_token`] itself. A panic in it
    /// is logged.
    pub(crate) fn spawn_cooperative<F>(
        &self,
        local: &LocalSet,
        future: F,
    ) -> Result<JoinHandle<()>, ReactorNotRunning>
    where
        F: Future<Output = ()> + 'static,
    {
        if self.shutdown.is_cancelled() {
            return Err(ReactorNotRunning);
        }
        let logged = async move {
            if let Err(panic) = AssertUnwindSafe(future).catch_unwind().await {
                crate::log::failure("while running a reactor task", &Failure::from_panic(panic));
            }
        };
        Ok(local.spawn_local(self.tracker.track_future(logged)))
    }
}

/// Runs `future` until it completes or `cancel` is cancelled, whichever comes first. A
/// cancelled future is dropped at the `.await` it is stopped at; a panic (in the future, or
/// while dropping it) becomes a failure, or, if the task was cancelled, is logged.
async fn guarded<F: Future>(future: F, cancel: CancellationToken) -> Result<F::Output, Failure> {
    let mut future = Box::pin(AssertUnwindSafe(future).catch_unwind());
    tokio::select! {
        biased;
        () = cancel.cancelled() => {}
        out = &mut future => return out.map_err(Failure::from_panic),
    }
    // Dropping runs the future's cleanup (its locals' `Drop`), which may panic.
    if let Err(panic) = catch_unwind(AssertUnwindSafe(move || drop(future))) {
        crate::log::failure("while cancelling a reactor task", &Failure::from_panic(panic));
    }
    Err(Failure::new(CancelledError))
}

/// A task the reactor runs: what [`ReactorHandle::spawn`](crate::reactor::ReactorHandle::spawn)
/// and [`spawn_local`](crate::reactor::ReactorHandle::spawn_local) return.
///
/// Await it for the task's output as `Result<T, Failure>`: a panic in the task becomes a
/// [`Failure`] holding the panic ([`PanicError`](crate::failure::PanicError)), a cancelled
/// task gives [`CancelledError`]. Or turn it into a [`Deferred`] with
/// [`into_deferred`](Self::into_deferred). Dropping the handle detaches the task: it runs on
/// until it finishes or the reactor shuts down, which cancels every task it tracks.
///
/// # Cancel safety
///
/// Awaiting a `TaskHandle` is cancel safe: if the `.await` is dropped (a lost `select!`
/// branch, a timeout), the task goes on and its output can still be awaited through the same
/// handle. Only [`cancel`](Self::cancel) (or the reactor's shutdown) stops the task.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::reactor::Reactor;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// let answer = reactor.spawn(async { 6 * 7 }).unwrap();
/// reactor
///     .spawn(async move {
///         assert_eq!(answer.await.unwrap(), 42);
///         handle.stop()
///     })
///     .unwrap();
/// reactor.run().unwrap();
/// ```
pub struct TaskHandle<T> {
    join: JoinHandle<Result<T, Failure>>,
    cancel: CancellationToken,
}

impl<T> TaskHandle<T> {
    /// Cancels the task: the future is dropped at the `.await` it is stopped at (its
    /// locals' `Drop` runs, on the reactor thread), and the handle's output is
    /// [`CancelledError`]. Does nothing if the task has finished.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::defer::CancelledError;
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// let forever = reactor.spawn(std::future::pending::<()>()).unwrap();
    /// forever.cancel();
    /// reactor
    ///     .spawn(async move {
    ///         assert!(forever.await.unwrap_err().check::<CancelledError>());
    ///         handle.stop()
    ///     })
    ///     .unwrap();
    /// reactor.run().unwrap();
    /// ```
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the task has finished (completed, failed or been cancelled).
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let task = reactor.spawn(async {}).unwrap();
    /// assert!(!task.is_finished()); // it starts when the reactor runs
    /// # drop(task);
    /// ```
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }
}

impl<T: Send + 'static> TaskHandle<T> {
    /// The task's outcome as a [`Deferred`]; cancelling the Deferred cancels the task.
    ///
    /// The Deferred fires on the reactor thread when the task finishes. As with every
    /// Deferred, dropping it does not cancel anything: the task runs on.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::defer::CancelledError;
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::testing::failure_result_of;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// let d = reactor.spawn(async { "done" }).unwrap().into_deferred();
    /// let d = d.add_callback(move |word| {
    ///     assert_eq!(word, "done");
    ///     handle.stop()?;
    ///     Ok::<_, tokio_twisted::failure::Failure>(())
    /// });
    /// reactor.run().unwrap();
    /// assert!(d.called());
    ///
    /// // Cancelling the Deferred cancels the task.
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let d = reactor.spawn(std::future::pending::<()>()).unwrap().into_deferred();
    /// d.cancel();
    /// assert!(failure_result_of(d).check::<CancelledError>());
    /// ```
    #[doc(alias = "ensureDeferred")]
    pub fn into_deferred(self) -> Deferred<T> {
        let TaskHandle { join, cancel } = self;
        let cancel_on_drop = cancel.drop_guard();
        // The driver drops this future when the Deferred is cancelled (and it is not
        // awaiting a Deferred): the guard then cancels the task.
        Deferred::from_future(async move {
            let out = joined(join.await);
            drop(cancel_on_drop.disarm());
            out
        })
    }
}

fn joined<T>(out: Result<Result<T, Failure>, tokio::task::JoinError>) -> Result<T, Failure> {
    match out {
        Ok(out) => out,
        Err(e) if e.is_panic() => Err(Failure::from_panic(e.into_panic())),
        // The runtime dropped the task (its reactor was dropped) before it finished.
        Err(_) => Err(Failure::new(CancelledError)),
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.join).poll(cx).map(joined)
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("finished", &self.join.is_finished())
            .field("cancelled", &self.cancel.is_cancelled())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! The crate-private hooks for the reactor's own tasks (connections), which only the
    //! crate can call.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::reactor::{Event, Phase, Reactor};
    use crate::testing::LoggedErrors;

    fn paused_reactor() -> Reactor {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        Reactor::builder()
            .without_signal_handlers()
            .runtime(runtime)
            .build()
            .expect("a reactor")
    }

    /// Runs `f` on its own thread; fails if it takes longer than 20 s.
    fn within(f: impl FnOnce() + Send + 'static) {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            f();
            let _ = tx.send(());
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("a reactor hangs"),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = thread.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }

    /// A cooperative task sees the shutdown token cancelled in "during shutdown", runs an
    /// asynchronous cleanup (the event loop still runs timers), and the *after* triggers
    /// run only once it has returned. A panicking one is logged and does not stop the
    /// others (Twisted's `test_shutdownDisconnectsCleanly`).
    #[test]
    fn cooperative_tasks_clean_up_before_shutdown_ends() {
        within(|| {
            let logged = LoggedErrors::capture();
            let reactor = paused_reactor();
            let handle = reactor.handle();
            let log = Arc::new(Mutex::new(Vec::new()));
            for (name, panics) in [("problematic", true), ("ok", false)] {
                let token = handle.shutdown_token().expect("not shut down");
                let log = Arc::clone(&log);
                handle
                    .spawn_tracked_local(async move {
                        token.cancelled().await;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        assert!(!panics, "simulated connection_lost error");
                        log.lock().expect("log").push(name);
                    })
                    .expect("spawned");
            }
            let after = Arc::clone(&log);
            reactor
                .add_system_event_trigger(Phase::After, Event::Shutdown, move || {
                    after.lock().expect("log").push("after");
                })
                .unwrap();
            let stopper = reactor.handle();
            reactor.call_when_running(move || stopper.stop()).unwrap();
            reactor.run().expect("ran");
            assert_eq!(*log.lock().expect("log"), ["ok", "after"]);
            assert!(reactor.handle().seconds() >= 2.0);
            let failures = logged.flush_all();
            assert_eq!(failures.len(), 1, "{failures:?}");
            assert!(
                failures[0]
                    .error_message()
                    .contains("simulated connection_lost error")
            );
            // Refused once shut down.
            assert!(handle.shutdown_token().is_err());
            assert!(handle.spawn_tracked_local(async {}).is_err());
        });
    }
}
