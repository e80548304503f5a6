// Tests: tests/defer_cancel_on_drop.rs

//! [`CancelOnDrop`]: the opt-in for Tokio code that wants a dropped wait to cancel the
//! Deferred, where Twisted's rule (and the default here) is that dropping cancels nothing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::failure::Failure;

use super::deferred::Deferred;
use super::errors::CancelledError;

/// A future that awaits a Deferred and [cancels](Deferred::cancel) it if it is dropped
/// before it completes. Made by [`Deferred::cancel_on_drop`].
///
/// Its output is the Deferred's result. Once it has completed, or after
/// [`into_deferred`](Self::into_deferred), dropping it does nothing.
///
/// # Cancel safety
///
/// Not cancel safe, on purpose: dropping it before it completes cancels the Deferred, so
/// its result is lost. A plain `Deferred` polled through `&mut` is the cancel-safe way to
/// wait in a `select!` loop.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::defer::Deferred;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let (d, r) = Deferred::<i32>::new();
/// let wait = d.cancel_on_drop();
/// assert!(tokio::time::timeout(Duration::from_secs(1), wait).await.is_err());
/// assert!(r.called()); // the timeout dropped the wait, which cancelled the Deferred
/// # });
/// ```
#[must_use = "futures do nothing unless awaited; dropping this one cancels the Deferred"]
pub struct CancelOnDrop<T: Send + 'static> {
    /// `None` once completed or disarmed: nothing left to cancel.
    deferred: Option<Deferred<T>>,
}

impl<T: Send + 'static> CancelOnDrop<T> {
    /// Gives the Deferred back without cancelling it (Twisted's rule again for this one);
    /// `None` if the future has already completed, taking the result.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// let wait = d.cancel_on_drop();
    /// let d = wait.into_deferred().expect("not completed");
    /// assert!(!r.called()); // not cancelled
    /// r.callback(1).unwrap();
    /// assert_eq!(tokio_twisted::testing::success_result_of(d), 1);
    /// ```
    pub fn into_deferred(mut self) -> Option<Deferred<T>> {
        self.deferred.take()
    }
}

impl<T: Send + 'static> Future for CancelOnDrop<T> {
    type Output = Result<T, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(d) = this.deferred.as_mut() else {
            return Poll::Ready(Err(Failure::msg("the deferred's result was already consumed")));
        };
        let out = Pin::new(d).poll(cx);
        if out.is_ready() {
            this.deferred = None;
        }
        out
    }
}

impl<T: Send + 'static> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        let Some(d) = self.deferred.take() else {
            return;
        };
        d.cancel();
        // Whoever dropped the wait chose not to see the result, so the CancelledError it
        // asked for is not reported as unhandled. Any other failure still is.
        match d.try_result() {
            Ok(Err(f)) if !f.check::<CancelledError>() => crate::log::unhandled_in_deferred(&f),
            // Settled and taken, or still running (a canceller or async code that has not
            // finished): the Deferred reports its own final failure when it goes.
            _ => {}
        }
    }
}

impl<T: Send + 'static> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnDrop")
            .field("armed", &self.deferred.is_some())
            .finish()
    }
}

impl<T: Send + 'static> Deferred<T> {
    /// Awaits this Deferred through a future that [cancels](Self::cancel) it when dropped
    /// before completing: cancel-on-drop for Tokio code.
    ///
    /// By default, as in Twisted, dropping a Deferred cancels nothing: a `tokio::select!`
    /// branch that loses, or a `tokio::time::timeout` that expires, drops the Deferred and
    /// the operation behind it carries on, its result going nowhere. Awaiting
    /// `d.cancel_on_drop()` instead makes losing the branch or the timeout call
    /// [`cancel`](Self::cancel): the canceller runs, and a Deferred from
    /// [`from_future`](Self::from_future) stops its async code (the `.await` it is at sees
    /// [`CancelledError`]; if it awaits no Deferred, the code is dropped there).
    ///
    /// The `CancelledError` this produces is not reported as unhandled.
    ///
    /// # Cancel safety
    ///
    /// The returned future is not cancel safe, on purpose; see [`CancelOnDrop`].
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use tokio_twisted::defer::Deferred;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let l = Arc::clone(&log);
    /// let (d, r) = Deferred::<&str>::with_canceller(move |_| l.lock().unwrap().push("cancelled"));
    /// tokio::select! {
    ///     _ = d.cancel_on_drop() => unreachable!("nobody fires it"),
    ///     () = tokio::time::sleep(Duration::from_secs(1)) => {}
    /// }
    /// assert_eq!(*log.lock().unwrap(), ["cancelled"]);
    /// assert!(r.called());
    /// # });
    /// ```
    pub fn cancel_on_drop(self) -> CancelOnDrop<T> {
        CancelOnDrop { deferred: Some(self) }
    }
}
