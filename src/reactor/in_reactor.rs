// Tests: tests/tokio_net.rs, examples/tokio_net.rs

//! `ReactorHandle::call_in_reactor`: run a function on the reactor thread from any thread
//! and get its result as a `Send` Deferred, the awaitable sibling of
//! `blocking_call_from_thread`.

use std::sync::{Arc, Mutex};

use super::errors::ReactorNotRunning;
use super::handle::ReactorHandle;
use crate::defer::{Deferred, IntoOutcome, maybe_deferred};
use crate::failure::Failure;
use crate::lock::lock;

/// Where a call stands, as its canceller sees it.
enum Stage {
    /// Not run yet; `ticket` releases the caller if the reactor shuts down first.
    Queued { ticket: Option<u64> },
    /// Cancelled before it ran: the reactor thread skips the function.
    Cancelled,
    /// Ran, and returned a Deferred that has not fired yet: cancelling cancels it.
    Waiting(Deferred<()>),
    /// Ran, and its result is known.
    Done,
}

impl ReactorHandle {
    /// Runs `f` on the reactor thread and returns its result as a Deferred that any thread
    /// may await: [`blocking_call_from_thread`](crate::threads::blocking_call_from_thread)
    /// without blocking, for Tokio code that drives a reactor on another thread.
    ///
    /// This is how a Tokio task reaches what lives on the reactor thread: factories and
    /// protocols need not be `Send`, so `f` (which is `Send`) builds them there, and listens
    /// or connects with them. `f` gets the handle of the reactor it runs on; it may return a
    /// `Result<T, Failure>`, a [`Deferred<T>`] (an endpoint's `listen` or `connect`), or any
    /// other [`IntoOutcome`], and runs as [`maybe_deferred`] runs it: a panic becomes the
    /// Deferred's failure. On the reactor thread, `f` runs at once; from any other thread, in
    /// the reactor's next iteration, in order with
    /// [`call_from_thread`](Self::call_from_thread) calls (before `run()`, once it runs).
    ///
    /// The Deferred is `Send` when `T` is. Cancelling it (for example through
    /// [`cancel_on_drop`](Deferred::cancel_on_drop) when a Tokio `select!` or `timeout` drops
    /// the wait) before `f` has run means `f` never runs; once `f` has returned a Deferred,
    /// it cancels that Deferred (an endpoint's connection attempt then fails with
    /// [`ConnectingCancelledError`](crate::error::ConnectingCancelledError)).
    ///
    /// # Errors
    ///
    /// The Deferred fails with what `f` failed with, or with [`ReactorNotRunning`] if the
    /// reactor has shut down, or shuts down before the result is known.
    ///
    /// ```
    /// use tokio_twisted::endpoints::{StreamServerEndpoint, Tcp4ServerEndpoint};
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// #[tokio::main]
    /// async fn main() -> Result<(), Failure> {
    /// #   let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    ///     let mut background = Reactor::spawn_background()?;
    ///     let reactor = background.handle();
    ///     // The factory is built on the reactor thread; the port comes back here.
    ///     let endpoint = Tcp4ServerEndpoint::new(&reactor, 0).with_interface("127.0.0.1");
    ///     let port = reactor.call_in_reactor(move |_| endpoint.listen(for_protocol(|| Quiet))).await?;
    ///     assert_ne!(port.port(), 0);
    ///     // A plain value: `Ok` with the failure type named.
    ///     let on_reactor = reactor.call_in_reactor(|r| Ok::<_, Failure>(r.is_reactor_thread())).await?;
    ///     assert!(on_reactor);
    ///     port.stop_listening().await?;
    ///     background.stop()?;
    ///     background.join().await?;
    ///     Ok(())
    /// }
    /// ```
    #[doc(alias = "blockingCallFromThread")]
    pub fn call_in_reactor<T, R, F>(&self, f: F) -> Deferred<T>
    where
        T: Send + 'static,
        R: IntoOutcome<T>,
        F: FnOnce(&ReactorHandle) -> R + Send + 'static,
    {
        let stage = Arc::new(Mutex::new(Stage::Queued { ticket: None }));
        let on_cancel = Arc::clone(&stage);
        let canceller_handle = self.clone();
        let (d, resolver) = Deferred::with_canceller(move |_| {
            let previous = std::mem::replace(&mut *lock(&on_cancel), Stage::Cancelled);
            match previous {
                Stage::Queued { ticket } => {
                    if let Some(ticket) = ticket {
                        canceller_handle.unregister_blocked(ticket);
                    }
                }
                // Fires the outer Deferred through the chain below, with the inner one's
                // cancellation failure.
                Stage::Waiting(inner) => inner.cancel(),
                Stage::Cancelled | Stage::Done => {}
            }
        });
        let release = resolver.clone();
        let Some(ticket) = self.register_blocked(Box::new(move || {
            let _ = release.errback(Failure::new(ReactorNotRunning));
        })) else {
            let _ = resolver.errback(Failure::new(ReactorNotRunning));
            return d;
        };
        if let Stage::Queued { ticket: slot } = &mut *lock(&stage) {
            *slot = Some(ticket);
        }
        let refused = resolver.clone();
        let handle = self.clone();
        let run = {
            let stage = Arc::clone(&stage);
            move || {
                if matches!(*lock(&stage), Stage::Cancelled) {
                    return;
                }
                let done_stage = Arc::clone(&stage);
                let done_handle = handle.clone();
                let chained = maybe_deferred(|| f(&handle)).add_both(move |result| {
                    let _ = resolver.resolve(result);
                    *lock(&done_stage) = Stage::Done;
                    done_handle.unregister_blocked(ticket);
                    Ok(())
                });
                let mut stage = lock(&stage);
                match *stage {
                    Stage::Done => {}
                    // Cancelled from another thread while `f` ran: pass it on.
                    Stage::Cancelled => {
                        drop(stage);
                        chained.cancel();
                    }
                    Stage::Queued { .. } | Stage::Waiting(_) => *stage = Stage::Waiting(chained),
                }
            }
        };
        if self.is_reactor_thread() {
            run();
        } else if let Err(e) = self.call_from_thread(run) {
            self.unregister_blocked(ticket);
            *lock(&stage) = Stage::Done;
            // Already fired if the canceller ran meanwhile.
            let _ = refused.errback(Failure::new(e));
        }
        d
    }
}
