// Tests: tests/reactor.rs (background_*), examples/tokio_app.rs

//! `BackgroundReactor`: a reactor running on a thread of its own, as seen from the thread
//! (often a Tokio application) that started it.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::failure::Failure;

use super::errors::{ReactorNotRunning, RunError};
use super::handle::ReactorHandle;

/// A reactor running on a background thread: what
/// [`Reactor::spawn_background`](crate::reactor::Reactor::spawn_background) and
/// [`ReactorBuilder::spawn`](crate::reactor::ReactorBuilder::spawn) return.
///
/// Talk to the reactor through [`handle`](Self::handle), [`stop`](Self::stop) it, and wait
/// for its thread to finish with [`join`](Self::join) (async, for Tokio code) or
/// [`blocking_join`](Self::blocking_join). Dropping a `BackgroundReactor` neither stops nor
/// waits for the reactor: it runs on until something stops it through a handle.
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
///     background.handle().call_later(Duration::from_millis(1), move || {
///         r.callback("fired").unwrap();
///     });
///     assert_eq!(d.await.unwrap(), "fired");
///     background.stop().unwrap();
///     background.join().await.unwrap(); // no spawn_blocking needed
/// }
/// ```
pub struct BackgroundReactor {
    handle: ReactorHandle,
    thread: Option<JoinHandle<()>>,
    done: Option<oneshot::Receiver<Result<(), RunError>>>,
    outcome: Option<Result<(), RunError>>,
}

impl BackgroundReactor {
    /// Calls `build` on a new thread, then the run function it returned (which runs the
    /// reactor it built, then drops it); returns once the reactor is built. Called by the
    /// builder, the layer above.
    pub(crate) fn start<B, R>(build: B) -> std::io::Result<BackgroundReactor>
    where
        B: FnOnce() -> std::io::Result<(ReactorHandle, R)> + Send + 'static,
        R: FnOnce() -> Result<(), RunError>,
    {
        let (built_tx, built_rx) = std::sync::mpsc::sync_channel(1);
        let (done_tx, done) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("tokio-twisted-reactor".into())
            .spawn(move || {
                let run = match build() {
                    Ok((handle, run)) => {
                        let _ = built_tx.send(Ok(handle));
                        run
                    }
                    Err(e) => {
                        let _ = built_tx.send(Err(e));
                        return;
                    }
                };
                let outcome = catch_unwind(AssertUnwindSafe(run))
                    .unwrap_or_else(|panic| Err(RunError::Panicked(Failure::from_panic(panic))));
                let _ = done_tx.send(outcome);
            })?;
        match built_rx.recv() {
            Ok(Ok(handle)) => Ok(BackgroundReactor {
                handle,
                thread: Some(thread),
                done: Some(done),
                outcome: None,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(std::io::Error::other(
                "the reactor thread ended before building the reactor",
            )),
        }
    }

    /// A handle to the reactor (`Clone + Send + Sync`).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let background = Reactor::spawn_background().unwrap();
    /// let handle = background.handle();
    /// assert!(!handle.is_reactor_thread());
    /// let stopper = handle.clone();
    /// handle.call_when_running(move || stopper.stop()).unwrap();
    /// background.blocking_join().unwrap();
    /// ```
    pub fn handle(&self) -> ReactorHandle {
        self.handle.clone()
    }

    /// Asks the reactor to stop: [`ReactorHandle::stop`].
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] if it was stopped before (or has not started running yet: stop
    /// it from a [`call_when_running`](ReactorHandle::call_when_running) function then).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let background = Reactor::spawn_background().unwrap();
    /// let stopper = background.handle();
    /// background.handle().call_when_running(move || stopper.stop()).unwrap();
    /// background.blocking_join().unwrap();
    /// ```
    pub fn stop(&self) -> Result<(), ReactorNotRunning> {
        self.handle.stop()
    }

    /// Waits, without blocking the Tokio runtime it is awaited on, until the reactor thread
    /// has finished: the reactor has stopped and been dropped. Returns what
    /// [`run`](crate::reactor::Reactor::run) returned; later calls return it again.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the `.await` is dropped (a lost `select!` branch, a timeout), nothing
    /// is lost; the reactor runs on and `join` can be awaited again.
    ///
    /// # Errors
    ///
    /// The [`RunError`] of `run()`, or [`RunError::Panicked`] if the reactor thread panicked.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// #[tokio::main]
    /// async fn main() {
    /// #     let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    ///     let mut background = Reactor::spawn_background().unwrap();
    ///     // Not stopped yet: a timed-out join loses nothing.
    ///     let early = tokio::time::timeout(Duration::from_millis(5), background.join()).await;
    ///     assert!(early.is_err());
    ///     let stopper = background.handle();
    ///     background.handle().call_when_running(move || stopper.stop()).unwrap();
    ///     background.join().await.unwrap();
    /// }
    /// ```
    pub async fn join(&mut self) -> Result<(), RunError> {
        if let Some(done) = self.done.as_mut() {
            let outcome = done.await.unwrap_or_else(|_| {
                Err(RunError::Panicked(Failure::msg(
                    "the reactor thread ended without reporting",
                )))
            });
            self.done = None;
            // The thread has sent its last message and is ending: no need to wait for it.
            self.thread = None;
            self.outcome = Some(outcome);
        }
        self.outcome.clone().unwrap_or(Ok(()))
    }

    /// Blocks the calling thread until the reactor thread has finished; the blocking
    /// counterpart of [`join`](Self::join).
    ///
    /// # Errors
    ///
    /// As for [`join`](Self::join).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let background = Reactor::spawn_background().unwrap();
    /// let stopper = background.handle();
    /// background.handle().call_when_running(move || stopper.stop()).unwrap();
    /// background.blocking_join().unwrap();
    /// ```
    pub fn blocking_join(mut self) -> Result<(), RunError> {
        if let Some(thread) = self.thread.take() {
            // The thread catches every panic of the reactor, so joining it cannot fail.
            let _ = thread.join();
        }
        if let Some(mut done) = self.done.take() {
            self.outcome = Some(done.try_recv().unwrap_or_else(|_| {
                Err(RunError::Panicked(Failure::msg(
                    "the reactor thread ended without reporting",
                )))
            }));
        }
        self.outcome.take().unwrap_or(Ok(()))
    }
}

impl fmt::Debug for BackgroundReactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundReactor")
            .field("handle", &self.handle)
            .field("joined", &self.outcome.is_some())
            .finish_non_exhaustive()
    }
}
