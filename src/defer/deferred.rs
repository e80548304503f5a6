// Tests: tests/defer.rs, tests/conformance/test_defer.rs, tests/defer_model.rs

//! `Deferred<T>`: the handle on a chain: creating, inspecting, pausing, cancelling and
//! awaiting it. Adding steps is in `callbacks.rs`, above `Outcome`, which holds a Deferred.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use crate::failure::Failure;
use crate::lock::lock;

use super::awaiting::note_awaiting;
use super::core::{CancelHook, Inner, boxed, unbox};
use super::errors::NotPausedError;
use super::repr::fmt_inner;
use super::resolver::Resolver;

/// A result that will arrive later, with a chain of callbacks and errbacks to process it:
/// Twisted's `Deferred`, statically typed.
///
/// Create one with [`Deferred::new`], which also hands back the [`Resolver`] that fires it,
/// or with [`succeed`](super::succeed), [`fail`](super::fail), [`maybe_deferred`](super::maybe_deferred) or [`Deferred::from_future`].
///
/// Callbacks run synchronously, on the thread that fires the Deferred, in the order they
/// were added, exactly as in Twisted. Adding a step consumes the handle and returns a new
/// one typed by what the step produces, so a type error is a compile error. A step returns
/// an [`IntoOutcome`](super::IntoOutcome): `Ok(value)`, `Err(failure)` (or `?`), `()`, another `Deferred`, or an
/// [`Outcome`](super::Outcome). A Deferred returned by a step pauses the chain until it fires, and its
/// result continues down this chain.
///
/// A `Deferred<T>` is also a [`Future`] with `Output = Result<T, Failure>`: awaiting it
/// consumes its result, from any task of any runtime.
///
/// # Dropping does not cancel
///
/// As in Twisted, dropping a Deferred cancels nothing: the operation behind it goes on, and
/// the [`Resolver`] can still fire it (a failure nobody handles is then logged as
/// unhandled). So a `tokio::select!` branch that loses, or a `tokio::time::timeout` that
/// expires, leaves the operation running; a [`from_future`](Self::from_future) Deferred
/// keeps running its async code. Call [`cancel`](Self::cancel) to cancel, or await
/// [`cancel_on_drop`](Self::cancel_on_drop) to have a dropped wait cancel it.
///
/// # Cancel safety
///
/// Awaiting a Deferred through `&mut d` is cancel safe: if that wait is dropped (a lost
/// `select!` branch), the result stays in the Deferred for the next wait.
///
/// ```
/// use tokio_twisted::defer::Deferred;
/// use tokio_twisted::failure::Failure;
///
/// let (d, resolver) = Deferred::<i32>::new();
/// let d = d
///     .add_callback(|x| Ok(x + 1))
///     .add_callback(|x| if x > 3 { Err(Failure::msg("too big")) } else { Ok(x * 10) })
///     .add_errback(|f| {
///         assert_eq!(f.error_message(), "too big");
///         Ok(-1)
///     });
/// resolver.callback(3).unwrap();
/// assert_eq!(d.result().unwrap().unwrap(), -1);
/// ```
#[doc(alias = "twisted.internet.defer.Deferred")]
#[must_use = "a Deferred does nothing unless callbacks are added, it is awaited, or it is kept until it fires"]
#[doc(alias = "asFuture")]
pub struct Deferred<T> {
    pub(super) repr: Repr<T>,
}

pub(super) enum Repr<T> {
    /// Already succeeded with this value, with nothing pending: no shared state needed.
    Ready(ReadyValue<T>),
    /// Everything else.
    Shared(Arc<Inner>, PhantomData<fn() -> T>),
    /// The value was taken by awaiting.
    Taken,
}

/// The value of an already-succeeded Deferred.
///
/// It sits behind a mutex only so that `Deferred<T>` is `Sync` for every `T: Send`
/// (the crate's thread-safety rule): [`Deferred::result`] and `Debug` read it through `&self` and
/// lock; every path that consumes the Deferred takes the value out with `into_inner`,
/// which touches no atomic.
pub(super) struct ReadyValue<T>(Mutex<T>);

impl<T> ReadyValue<T> {
    fn new(value: T) -> Self {
        ReadyValue(Mutex::new(value))
    }

    pub(super) fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&lock(&self.0))
    }
}

pub(super) fn consumed_failure() -> Failure {
    Failure::msg("the deferred's result was already consumed")
}

impl<T: Send + 'static> Deferred<T> {
    /// A new, unfired Deferred and the [`Resolver`] that fires it.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (d, r) = Deferred::new();
    /// assert!(!d.called());
    /// r.callback(3).unwrap();
    /// assert!(d.called());
    /// assert_eq!(d.result().unwrap().unwrap(), 3);
    /// ```
    #[allow(
        clippy::new_ret_no_self,
        reason = "a Deferred is born together with its firing handle"
    )]
    pub fn new() -> (Deferred<T>, Resolver<T>) {
        let inner = Inner::new();
        (Deferred::shared(Arc::clone(&inner)), Resolver::from_inner(inner))
    }

    /// A new Deferred with a canceller: Twisted's `Deferred(canceller)`.
    ///
    /// [`cancel`](Self::cancel) on the unfired Deferred calls `canceller` once with the
    /// Deferred's resolver. If the canceller does not fire it, the Deferred fails with
    /// [`CancelledError`](super::CancelledError); if it does, its result stands and no
    /// `CancelledError` is produced.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (d, _r) = Deferred::<&str>::with_canceller(|r| r.callback("stopped politely").unwrap());
    /// d.cancel();
    /// assert_eq!(d.result().unwrap().unwrap(), "stopped politely");
    /// ```
    #[doc(alias = "canceller")]
    pub fn with_canceller<F>(canceller: F) -> (Deferred<T>, Resolver<T>)
    where
        F: FnOnce(&Resolver<T>) + Send + 'static,
    {
        let hook = CancelHook::User(Box::new(move |inner: &Arc<Inner>| {
            canceller(&Resolver::from_inner(Arc::clone(inner)));
        }));
        let inner = Inner::with_canceller(hook);
        (Deferred::shared(Arc::clone(&inner)), Resolver::from_inner(inner))
    }

    /// A Deferred that has already succeeded with `value`; no shared state is needed.
    pub(super) fn ready(value: T) -> Self {
        Deferred {
            repr: Repr::Ready(ReadyValue::new(value)),
        }
    }

    pub(crate) fn shared(inner: Arc<Inner>) -> Self {
        Deferred {
            repr: Repr::Shared(inner, PhantomData),
        }
    }

    pub(crate) fn from_outcome(out: Result<T, Failure>) -> Self {
        match out {
            Ok(v) => Deferred::ready(v),
            Err(f) => Deferred::shared(Inner::fired(Err(f))),
        }
    }

    /// The shared state, created on demand for a ready value.
    pub(crate) fn inner(&mut self) -> &Arc<Inner> {
        if let Repr::Ready(_) | Repr::Taken = self.repr {
            let old = std::mem::replace(&mut self.repr, Repr::Taken);
            let out = match old {
                Repr::Ready(v) => Ok(boxed(v.into_inner())),
                _ => Err(consumed_failure()),
            };
            self.repr = Repr::Shared(Inner::fired(out), PhantomData);
        }
        match &self.repr {
            Repr::Shared(inner, _) => inner,
            _ => unreachable!("invariant: converted to shared just above"),
        }
    }

    /// Stops callbacks from running until a matching [`unpause`](Self::unpause).
    /// Pauses nest.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (mut d, r) = Deferred::<i32>::new();
    /// d.pause();
    /// r.callback(1).unwrap();
    /// let mut d = d.add_callback(|x| Ok(x + 1));
    /// assert_eq!(d.pending_callbacks(), 1);
    /// d.unpause().unwrap();
    /// assert_eq!(d.result().unwrap().unwrap(), 2);
    /// ```
    pub fn pause(&mut self) {
        self.inner().pause();
    }

    /// Undoes one [`pause`](Self::pause); when the last pause is undone and the Deferred
    /// has fired, the pending callbacks run now.
    ///
    /// # Errors
    ///
    /// [`NotPausedError`] if the Deferred is not paused (Twisted would silently drive its
    /// counter negative and leave the Deferred stuck).
    ///
    /// ```
    /// use tokio_twisted::defer::{succeed, NotPausedError};
    ///
    /// let mut d = succeed(1);
    /// assert_eq!(d.unpause(), Err(NotPausedError));
    /// d.pause();
    /// assert_eq!(d.unpause(), Ok(()));
    /// ```
    pub fn unpause(&mut self) -> Result<(), NotPausedError> {
        match &self.repr {
            Repr::Ready(_) | Repr::Taken => Err(NotPausedError),
            Repr::Shared(inner, _) => {
                if inner.unpause() {
                    Ok(())
                } else {
                    Err(NotPausedError)
                }
            }
        }
    }

    /// Cancels the Deferred, with Twisted's rules.
    ///
    /// - Unfired, with a canceller: the canceller runs (at most once, however often
    ///   `cancel` is called). If it did not fire the Deferred, it fails with
    ///   [`CancelledError`](super::CancelledError).
    /// - Unfired, without a canceller: it fails with `CancelledError`, and exactly one
    ///   later `callback`/`errback` is silently absorbed.
    /// - Fired, but waiting on a Deferred a callback returned: that one is cancelled.
    /// - Fired and not waiting: nothing happens.
    ///
    /// ```
    /// use tokio_twisted::defer::{CancelledError, Deferred};
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// d.cancel();
    /// assert_eq!(r.callback(1), Ok(())); // absorbed
    /// assert!(r.callback(2).is_err()); // AlreadyCalledError
    /// assert!(tokio_twisted::testing::failure_result_of(d).check::<CancelledError>());
    /// ```
    pub fn cancel(&self) {
        if let Repr::Shared(inner, _) = &self.repr {
            inner.cancel();
        }
    }

    /// Whether the Deferred has fired (Twisted's `called`).
    ///
    /// ```
    /// use tokio_twisted::defer::{succeed, Deferred};
    ///
    /// assert!(succeed(1).called());
    /// assert!(!Deferred::<i32>::new().0.called());
    /// ```
    pub fn called(&self) -> bool {
        match &self.repr {
            Repr::Ready(_) | Repr::Taken => true,
            Repr::Shared(inner, _) => inner.snapshot().called,
        }
    }

    /// Whether callbacks are held back: by [`pause`](Self::pause), or because the chain is
    /// waiting on a Deferred a callback returned (Twisted's `paused`, as a flag).
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (inner, _ri) = Deferred::<i32>::new();
    /// let (d, r) = Deferred::<i32>::new();
    /// let d = d.add_callback(move |_| inner);
    /// r.callback(0).unwrap();
    /// assert!(d.paused());
    /// ```
    pub fn paused(&self) -> bool {
        match &self.repr {
            Repr::Ready(_) | Repr::Taken => false,
            Repr::Shared(inner, _) => {
                let s = inner.snapshot();
                s.paused > 0 || s.waiting
            }
        }
    }

    /// Whether the chain is waiting on a Deferred that one of its callbacks returned.
    ///
    /// ```
    /// use tokio_twisted::defer::{succeed, Deferred};
    ///
    /// let (inner, ri) = Deferred::<i32>::new();
    /// let d = succeed(0).add_callback(move |_| inner).add_callback(|x| Ok(x + 1));
    /// assert!(d.is_waiting());
    /// ri.callback(41).unwrap();
    /// assert!(!d.is_waiting());
    /// assert_eq!(d.result().unwrap().unwrap(), 42);
    /// ```
    pub fn is_waiting(&self) -> bool {
        match &self.repr {
            Repr::Shared(inner, _) => inner.snapshot().waiting,
            _ => false,
        }
    }

    /// How many callback/errback pairs are waiting to run (Twisted's `len(d.callbacks)`).
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (d, _r) = Deferred::<i32>::new();
    /// let d = d.add_callback(|x| Ok(x)).add_errback(|f| Err(f));
    /// assert_eq!(d.pending_callbacks(), 2);
    /// ```
    #[doc(alias = "callbacks")]
    pub fn pending_callbacks(&self) -> usize {
        match &self.repr {
            Repr::Shared(inner, _) => inner.snapshot().pending,
            _ => 0,
        }
    }

    /// The final result, once the chain has run to its end (Twisted's `d.result`),
    /// without consuming it. `None` while unfired, waiting, or with callbacks still pending
    /// (for instance held back by a pause), and after the result was consumed. A paused
    /// Deferred with nothing left to run shows its result, as Twisted's `d.result` does.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, Deferred};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let (d, r) = Deferred::<String>::new();
    /// assert!(d.result().is_none());
    /// r.callback("x".into()).unwrap();
    /// assert_eq!(d.result().unwrap().unwrap(), "x");
    /// let f = fail::<i32>(Failure::msg("boom"));
    /// assert_eq!(f.result().unwrap().unwrap_err().error_message(), "boom");
    /// # tokio_twisted::testing::failure_result_of(f);
    /// ```
    pub fn result(&self) -> Option<Result<T, Failure>>
    where
        T: Clone,
    {
        match &self.repr {
            Repr::Ready(v) => Some(Ok(v.with(T::clone))),
            Repr::Taken => None,
            Repr::Shared(inner, _) => {
                if inner.snapshot().pending > 0 {
                    return None;
                }
                inner.with_result(|r| match r? {
                    Ok(slot) => slot
                        .downcast_ref::<Option<T>>()
                        .and_then(Option::as_ref)
                        .map(|v| Ok(v.clone())),
                    Err(f) => Some(Err(f.clone())),
                })
            }
        }
    }

    /// Takes the final result out if the chain has run to its end, consuming it (a
    /// failure taken this way is handled and will not be logged); otherwise gives the
    /// Deferred back.
    ///
    /// # Errors
    ///
    /// Returns the Deferred itself when it has no final result yet.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, succeed, Deferred};
    /// use tokio_twisted::failure::Failure;
    ///
    /// assert_eq!(succeed(1).try_result().ok().unwrap().unwrap(), 1);
    /// // Taking a failure out handles it: nothing is logged when `failed` goes away.
    /// let failed = fail::<i32>(Failure::msg("x")).try_result().ok().unwrap();
    /// assert_eq!(failed.unwrap_err().error_message(), "x");
    /// let (d, _r) = Deferred::<i32>::new();
    /// assert!(d.try_result().is_err());
    /// ```
    pub fn try_result(self) -> Result<Result<T, Failure>, Deferred<T>> {
        match self.repr {
            Repr::Ready(v) => Ok(Ok(v.into_inner())),
            Repr::Taken => Ok(Err(consumed_failure())),
            Repr::Shared(inner, _) => match inner.take_settled(None) {
                Some(out) => Ok(out.map(unbox::<T>)),
                None => Err(Deferred::shared(inner)),
            },
        }
    }

    /// A weak reference to the shared state, if there is one (a ready value has none and
    /// needs none: it can no longer be cancelled).
    pub(crate) fn weak_inner(&self) -> Option<std::sync::Weak<Inner>> {
        match &self.repr {
            Repr::Shared(inner, _) => Some(Arc::downgrade(inner)),
            _ => None,
        }
    }
}

impl<T> Unpin for Deferred<T> {}

impl<T: Send + 'static> Future for Deferred<T> {
    type Output = Result<T, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match std::mem::replace(&mut this.repr, Repr::Taken) {
            Repr::Ready(v) => Poll::Ready(Ok(v.into_inner())),
            Repr::Taken => Poll::Ready(Err(consumed_failure())),
            Repr::Shared(inner, p) => match inner.take_settled(Some(cx.waker())) {
                Some(out) => Poll::Ready(out.map(unbox::<T>)),
                None => {
                    note_awaiting(&inner);
                    this.repr = Repr::Shared(inner, p);
                    Poll::Pending
                }
            },
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Ready(v) => v.with(|v| write!(f, "<Deferred current result: {v:?}>")),
            Repr::Taken => f.write_str("<Deferred (result taken)>"),
            Repr::Shared(inner, _) => fmt_inner::<T>(inner, f),
        }
    }
}
