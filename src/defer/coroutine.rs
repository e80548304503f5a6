// Tests: tests/defer_future.rs, tests/conformance/test_defer.rs (inlineCallbacks cases)

//! `Deferred::from_future`: Twisted's `ensureDeferred` / `inlineCallbacks` for async code.
//!
//! The future is driven by its own waker, not by a runtime: it is polled at once, inside
//! `from_future`, and again inside `wake()`, on whichever thread wakes it. A Deferred it
//! awaits wakes it from the Deferred's chain runner, so the async code resumes
//! synchronously inside the `callback()` that fired that Deferred, exactly as an
//! `inlineCallbacks` generator resumes inside `callback()` in Twisted.
//!
//! While the future is polled, every Deferred that answers `Pending` is noted (see
//! `awaiting.rs`), so that cancelling the outer Deferred can cancel what the future is
//! waiting on; the `CancelledError` then arrives at that `.await`.

use crate::lock::lock;
use std::cell::RefCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Wake, Waker};

use crate::failure::Failure;

use super::awaiting::noting;
use super::core::{CancelHook, Inner};
use super::deferred::Deferred;
use super::errors::CancelledError;
use super::resolver::Resolver;

thread_local! {
    /// The Tokio runtime async code polled on this thread runs in when the thread is not
    /// inside a runtime already: a reactor's, set on the thread that owns it (with the
    /// reactor's id), so that a `from_future` created before `run()` can use Tokio timers
    /// and sockets.
    static HOME_RUNTIME: RefCell<Option<(u64, tokio::runtime::Handle)>> = const { RefCell::new(None) };
}

/// Makes `rt` the runtime that futures driven on this thread outside any runtime run in
/// (the reactor that owns this thread, identified by `owner`).
pub(crate) fn set_home_runtime(owner: u64, rt: tokio::runtime::Handle) {
    HOME_RUNTIME.with(|h| *h.borrow_mut() = Some((owner, rt)));
}

/// Forgets the home runtime if it is `owner`'s (the reactor is going away).
pub(crate) fn clear_home_runtime(owner: u64) {
    let _ = HOME_RUNTIME.try_with(|h| {
        let mut h = h.borrow_mut();
        if h.as_ref().is_some_and(|(id, _)| *id == owner) {
            *h = None;
        }
    });
}

/// The home runtime, if this thread has one and is not inside a runtime already.
fn home_runtime() -> Option<tokio::runtime::Handle> {
    let home = HOME_RUNTIME
        .try_with(|h| h.borrow().as_ref().map(|(_, rt)| rt.clone()))
        .ok()
        .flatten()?;
    tokio::runtime::Handle::try_current().is_err().then_some(home)
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, Failure>> + Send>>;

/// The driver's state machine.
enum Phase<T> {
    /// Not being polled; holds the future until the next wake.
    Idle(BoxFuture<T>),
    /// Being polled right now; the future is out on the polling thread's stack.
    Polling,
    /// Woken while being polled: the poller polls again before going idle.
    Notified,
    /// Finished, failed, or cancelled; the future has been dropped.
    Done,
}

struct Driver<T> {
    phase: Mutex<Phase<T>>,
    awaiting: Mutex<Vec<Weak<Inner>>>,
    resolver: Resolver<T>,
}

impl<T: Send + 'static> Driver<T> {
    fn phase(&self) -> MutexGuard<'_, Phase<T>> {
        lock(&self.phase)
    }

    fn awaiting(&self) -> MutexGuard<'_, Vec<Weak<Inner>>> {
        lock(&self.awaiting)
    }

    /// Polls the future until it is pending with no wake-up missed, or done.
    fn drive(self: &Arc<Self>) {
        let mut fut = {
            let mut phase = self.phase();
            match std::mem::replace(&mut *phase, Phase::Polling) {
                Phase::Idle(fut) => fut,
                Phase::Polling | Phase::Notified => {
                    *phase = Phase::Notified;
                    return;
                }
                Phase::Done => {
                    *phase = Phase::Done;
                    return;
                }
            }
        };
        let waker = Waker::from(Arc::clone(self));
        let mut cx = Context::from_waker(&waker);
        let home = home_runtime();
        let _in_home_runtime = home.as_ref().map(tokio::runtime::Handle::enter);
        loop {
            let (polled, noted) = noting(|| catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))));
            let out = match polled {
                Ok(Poll::Pending) => {
                    *self.awaiting() = noted;
                    let mut phase = self.phase();
                    match &*phase {
                        Phase::Notified => {
                            *phase = Phase::Polling;
                            continue;
                        }
                        Phase::Done => return,
                        _ => {
                            *phase = Phase::Idle(fut);
                            return;
                        }
                    }
                }
                Ok(Poll::Ready(out)) => out,
                Err(payload) => Err(Failure::from_panic(payload)),
            };
            *self.phase() = Phase::Done;
            self.awaiting().clear();
            drop(fut);
            // AlreadyCalled only when a cancel already failed the Deferred.
            let _ = self.resolver.resolve(out);
            return;
        }
    }

    /// Cancels what the future awaits; with nothing to cancel, fails the Deferred with
    /// `CancelledError` and drops the future.
    fn cancel(&self) {
        let awaited: Vec<Arc<Inner>> = self.awaiting().iter().filter_map(Weak::upgrade).collect();
        if awaited.is_empty() {
            let old = std::mem::replace(&mut *self.phase(), Phase::Done);
            drop(old);
            let _ = self.resolver.errback(CancelledError);
            return;
        }
        for inner in awaited {
            inner.cancel();
        }
    }
}

impl<T: Send + 'static> Wake for Driver<T> {
    fn wake(self: Arc<Self>) {
        self.drive();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.drive();
    }
}

impl<T: Send + 'static> Deferred<T> {
    /// Runs an async computation as a Deferred: Twisted's `ensureDeferred` and
    /// `Deferred.fromCoroutine`, and the way to write `inlineCallbacks` code.
    ///
    /// The future runs at once, inside this call, up to its first `.await` that is not
    /// ready, as an `inlineCallbacks` generator runs up to its first unfired `yield`. It is
    /// resumed on the thread that wakes it: when it awaits a Deferred, inside the
    /// `callback()` that fires that Deferred. Its output fires the returned Deferred; a
    /// panic becomes a failure.
    ///
    /// Cancelling the returned Deferred cancels the Deferred the future is awaiting; the
    /// `CancelledError` (or whatever that Deferred's canceller produced) arrives at the
    /// `.await`, where the async code may recover. If the future is not awaiting a
    /// Deferred, the returned Deferred fails with `CancelledError` and the future is
    /// dropped.
    ///
    /// Awaiting Tokio resources (sleeps, sockets) inside works when the future is polled on
    /// a thread inside a Tokio runtime, as it is on the reactor thread while the reactor
    /// runs; on the thread that owns a [`Reactor`](crate::reactor::Reactor) that is not
    /// running yet (a `from_future` created before `run()`), the future runs inside that
    /// reactor's runtime, and its timers fire once the reactor runs.
    ///
    /// ```
    /// use tokio_twisted::defer::{CancelledError, Deferred};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let (inner, r) = Deferred::<i32>::new();
    /// let d = Deferred::from_future(async move {
    ///     let x = inner.await?;
    ///     Ok::<_, Failure>(x * 2)
    /// });
    /// assert!(!d.called());
    /// r.callback(21).unwrap(); // the async block resumes right here
    /// assert_eq!(d.result().unwrap().unwrap(), 42);
    ///
    /// // A failure arrives at the `.await` as an `Err`; `?` passes it on.
    /// let (inner, r) = Deferred::<i32>::new();
    /// let d = Deferred::from_future(async move { Ok::<_, Failure>(inner.await? * 2) });
    /// r.errback(Failure::msg("no answer")).unwrap();
    /// assert_eq!(tokio_twisted::testing::failure_result_of(d).error_message(), "no answer");
    ///
    /// // Cancellation reaches the await point, where it can be handled.
    /// let (inner, _r) = Deferred::<i32>::new();
    /// let d = Deferred::from_future(async move {
    ///     match inner.await {
    ///         Err(f) if f.check::<CancelledError>() => Ok::<_, Failure>(-1),
    ///         other => other,
    ///     }
    /// });
    /// d.cancel();
    /// assert_eq!(d.result().unwrap().unwrap(), -1);
    /// ```
    #[doc(alias = "ensureDeferred")]
    #[doc(alias = "fromCoroutine")]
    #[doc(alias = "inlineCallbacks")]
    #[doc(alias = "fromFuture")]
    pub fn from_future<F>(future: F) -> Deferred<T>
    where
        F: Future<Output = Result<T, Failure>> + Send + 'static,
    {
        let (d, resolver) = Deferred::new();
        let driver = Arc::new(Driver {
            phase: Mutex::new(Phase::Idle(Box::pin(future))),
            awaiting: Mutex::new(Vec::new()),
            resolver,
        });
        let weak = Arc::downgrade(&driver);
        let mut d = d;
        d.inner()
            .set_canceller(CancelHook::Custom(Arc::new(move |_inner: &Arc<Inner>| {
                if let Some(driver) = weak.upgrade() {
                    driver.cancel();
                }
            })));
        driver.drive();
        d
    }
}
