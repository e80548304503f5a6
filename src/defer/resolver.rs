// Tests: tests/defer.rs, tests/conformance/test_defer.rs, tests/auto_traits.rs

//! [`Resolver<T>`]: the firing half of a Deferred.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::failure::Failure;

use super::core::{Inner, boxed};
use super::errors::AlreadyCalledError;
use super::repr::fmt_inner;

/// The firing half of a [`Deferred`](super::Deferred): Twisted's `d.callback` and `d.errback`.
///
/// It is `Clone + Send + Sync`, typed by the Deferred's input, so it can be handed to
/// another thread or a timer; the first fire wins and every later one returns
/// [`AlreadyCalledError`]. Callbacks run on the thread that fires.
///
/// ```
/// use tokio_twisted::defer::Deferred;
/// use tokio_twisted::failure::Failure;
///
/// let (d, r) = Deferred::<&str>::new();
/// let d = d.add_callback(|s| Ok(s.len()));
/// std::thread::spawn(move || r.callback("hello").unwrap()).join().unwrap();
/// assert_eq!(d.result().unwrap().unwrap(), 5);
///
/// // The failure path: errback, and the errback runs on the firing thread too.
/// let (d, r) = Deferred::<&str>::new();
/// let d = d.add_callback(|s| Ok(s.len())).add_errback(|f| Ok(f.error_message().len()));
/// std::thread::spawn(move || r.errback(Failure::msg("no")).unwrap()).join().unwrap();
/// assert_eq!(d.result().unwrap().unwrap(), 2);
/// ```
pub struct Resolver<T> {
    inner: Arc<Inner>,
    _t: PhantomData<fn(T)>,
}

impl<T: Send + 'static> Resolver<T> {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Resolver {
            inner,
            _t: PhantomData,
        }
    }

    /// Fires the Deferred with a value: Twisted's `d.callback(value)`.
    ///
    /// # Errors
    ///
    /// [`AlreadyCalledError`] if the Deferred has already fired. The one exception is the
    /// first fire after a `cancel()` without a canceller, which is absorbed and returns
    /// `Ok`.
    ///
    /// ```
    /// use tokio_twisted::defer::{AlreadyCalledError, Deferred};
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// assert_eq!(r.callback(1), Ok(()));
    /// assert_eq!(r.callback(2), Err(AlreadyCalledError));
    /// assert_eq!(d.result().unwrap().unwrap(), 1);
    /// ```
    pub fn callback(&self, value: T) -> Result<(), AlreadyCalledError> {
        self.inner.fire(Ok(boxed(value)))
    }

    /// Fires the Deferred with a failure: Twisted's `d.errback(failure)`.
    ///
    /// # Errors
    ///
    /// [`AlreadyCalledError`], as for [`callback`](Self::callback).
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    /// use tokio_twisted::failure::Failure;
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// let d = d.add_errback(|f| Ok(f.error_message().len() as i32));
    /// r.errback(Failure::msg("four")).unwrap();
    /// assert_eq!(d.result().unwrap().unwrap(), 4);
    /// ```
    pub fn errback(&self, failure: impl Into<Failure>) -> Result<(), AlreadyCalledError> {
        self.inner.fire(Err(failure.into()))
    }

    /// Fires with a value or a failure.
    ///
    /// # Errors
    ///
    /// [`AlreadyCalledError`], as for [`callback`](Self::callback).
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    /// use tokio_twisted::failure::Failure;
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// r.resolve(Ok(5)).unwrap();
    /// assert_eq!(d.result().unwrap().unwrap(), 5);
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// r.resolve(Err(Failure::msg("lost"))).unwrap();
    /// assert_eq!(tokio_twisted::testing::failure_result_of(d).error_message(), "lost");
    /// ```
    pub fn resolve(&self, result: Result<T, Failure>) -> Result<(), AlreadyCalledError> {
        self.inner.fire(result.map(boxed))
    }

    /// Whether the Deferred has fired.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (_d, r) = Deferred::<i32>::new();
    /// assert!(!r.called());
    /// r.callback(1).unwrap();
    /// assert!(r.called());
    /// ```
    pub fn called(&self) -> bool {
        self.inner.snapshot().called
    }

    /// How many callback/errback pairs of the Deferred are waiting to run.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// let _d = d.add_callback(|x| Ok(x));
    /// assert_eq!(r.pending_callbacks(), 1);
    /// ```
    #[doc(alias = "callbacks")]
    pub fn pending_callbacks(&self) -> usize {
        self.inner.snapshot().pending
    }

    /// Cancels the Deferred this resolver fires, as [`Deferred::cancel`](super::Deferred::cancel) does.
    ///
    /// ```
    /// use tokio_twisted::defer::Deferred;
    ///
    /// let (d, r) = Deferred::<i32>::new();
    /// r.cancel();
    /// assert!(tokio_twisted::testing::failure_result_of(d).check::<tokio_twisted::defer::CancelledError>());
    /// ```
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

impl<T> Clone for Resolver<T> {
    fn clone(&self) -> Self {
        Resolver {
            inner: Arc::clone(&self.inner),
            _t: PhantomData,
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Resolver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_inner::<T>(&self.inner, f)
    }
}
