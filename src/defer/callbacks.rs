// Tests: tests/defer.rs, tests/conformance/test_defer.rs, tests/defer_model.rs

//! Adding steps to a Deferred: `add_callbacks`, `add_callback`, `add_errback`, `add_both`
//! and `chain_deferred`, and the typed-to-erased glue they share.
//!
//! This sits above [`Outcome`] (what a step returns), which sits above the `Deferred`
//! handle: an `Outcome` may hold a Deferred, and the methods here take steps that return
//! an `Outcome`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::failure::Failure;

use super::core::{Inner, Outcome as Erased, StepOut, Value, boxed};
use super::deferred::{Deferred, Repr, consumed_failure};
use super::outcome::{IntoOutcome, Outcome};
use super::resolver::Resolver;

/// Puts a typed value into a chain slot, reusing the allocation when the type is unchanged.
fn put<U: Send + 'static>(mut slot: Value, value: U) -> Value {
    if let Some(s) = slot.downcast_mut::<Option<U>>() {
        *s = Some(value);
        slot
    } else {
        Box::new(Some(value))
    }
}

/// Runs user code, turning a panic into a Failure.
pub(super) fn guarded<U>(f: impl FnOnce() -> Outcome<U>) -> Outcome<U> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Outcome::Failure(Failure::from_panic(p)))
}

/// Runs a typed step on the value in `slot`. When the step yields a value of the same
/// type, it goes back into the same allocation; the second type check is on a concrete
/// type, so the compiler folds it away.
fn apply<T: 'static, U: Send + 'static>(mut slot: Value, f: impl FnOnce(T) -> Outcome<U>) -> StepOut {
    let cell = slot
        .downcast_mut::<Option<T>>()
        .expect("invariant: a chain value has the type its step was added with");
    let v = cell.take().expect("invariant: a chain value is taken once");
    let out = match f(v) {
        Outcome::Value(u) => u,
        Outcome::Deferred(Deferred { repr: Repr::Ready(u) }) => u.into_inner(),
        other => return lower(None, other),
    };
    let cell: &mut dyn std::any::Any = cell;
    if let Some(c) = cell.downcast_mut::<Option<U>>() {
        *c = Some(out);
        StepOut::Done(Ok(slot))
    } else {
        StepOut::Done(Ok(boxed(out)))
    }
}

/// Lowers a typed outcome into the chain's erased form.
fn lower<U: Send + 'static>(slot: Option<Value>, out: Outcome<U>) -> StepOut {
    match out {
        Outcome::Value(v) => StepOut::Done(Ok(match slot {
            Some(slot) => put(slot, v),
            None => boxed(v),
        })),
        Outcome::Failure(f) => StepOut::Done(Err(f)),
        Outcome::Deferred(d) => match d.repr {
            Repr::Ready(v) => StepOut::Done(Ok(match slot {
                Some(slot) => put(slot, v.into_inner()),
                None => boxed(v.into_inner()),
            })),
            Repr::Shared(inner, _) => StepOut::Chain(inner),
            Repr::Taken => StepOut::Done(Err(consumed_failure())),
        },
    }
}

impl<T: Send + 'static> Deferred<T> {
    /// Adds a callback/errback pair: Twisted's `addCallbacks`.
    ///
    /// `callback` runs if the chain is on the success path when this pair is reached,
    /// `errback` if it is on the failure path. Either may switch paths. If the Deferred has
    /// already fired and is not paused, the step runs now, before this returns.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, succeed};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let ok = succeed(2).add_callbacks(|x| Ok(x * 2), |_f| Ok(0));
    /// assert_eq!(ok.result().unwrap().unwrap(), 4);
    /// let recovered = fail::<i32>(Failure::msg("x")).add_callbacks(|x| Ok(x * 2), |_f| Ok(0));
    /// assert_eq!(recovered.result().unwrap().unwrap(), 0);
    /// ```
    #[doc(alias = "addCallbacks")]
    pub fn add_callbacks<U, R1, R2, F, E>(self, callback: F, errback: E) -> Deferred<U>
    where
        U: Send + 'static,
        R1: IntoOutcome<U>,
        R2: IntoOutcome<U>,
        F: FnOnce(T) -> R1 + Send + 'static,
        E: FnOnce(Failure) -> R2 + Send + 'static,
    {
        self.step(move |r| match r {
            Ok(v) => guarded(|| callback(v).into_outcome()),
            Err(f) => guarded(|| errback(f).into_outcome()),
        })
    }

    /// Adds a callback, with a pass-through errback: Twisted's `addCallback`.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, succeed};
    /// use tokio_twisted::failure::Failure;
    ///
    /// assert_eq!(succeed(3).add_callback(|x| Ok(x + 1)).result().unwrap().unwrap(), 4);
    /// // On the failure path the callback is skipped.
    /// let d = fail::<i32>(Failure::msg("no")).add_callback(|x| Ok(x + 1));
    /// assert!(d.result().unwrap().is_err());
    /// # tokio_twisted::testing::failure_result_of(d);
    /// ```
    #[doc(alias = "addCallback")]
    #[inline]
    pub fn add_callback<U, R, F>(self, callback: F) -> Deferred<U>
    where
        U: Send + 'static,
        R: IntoOutcome<U>,
        F: FnOnce(T) -> R + Send + 'static,
    {
        match self.repr {
            Repr::Ready(v) => Deferred::lift_step(guarded(|| callback(v.into_inner()).into_outcome())),
            Repr::Shared(inner, _) => {
                inner.push_step(Box::new(move |r: Erased| match r {
                    Ok(slot) => apply::<T, U>(slot, |v| guarded(|| callback(v).into_outcome())),
                    Err(f) => StepOut::Done(Err(f)),
                }));
                Deferred::shared(inner)
            }
            Repr::Taken => Deferred::from_outcome(Err(consumed_failure())),
        }
    }

    /// Adds an errback, with a pass-through callback: Twisted's `addErrback`.
    ///
    /// An errback that returns `Ok` switches the chain back to the success path; one that
    /// returns `Err` (for instance through [`Failure::trap`] and `?`) passes a failure on.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, succeed, CancelledError};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let d = fail::<i32>(Failure::new(CancelledError)).add_errback(|f| {
    ///     f.trap::<CancelledError>()?;
    ///     Ok(0)
    /// });
    /// assert_eq!(d.result().unwrap().unwrap(), 0);
    /// // On the success path the errback is skipped.
    /// assert_eq!(succeed(5).add_errback(|_f| Ok(0)).result().unwrap().unwrap(), 5);
    ///
    /// // Once an await through `&mut d` has taken the result, the chain is on the failure
    /// // path (the result was already consumed), so the errback runs.
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let mut d = succeed(5);
    /// assert_eq!(rt.block_on(&mut d).unwrap(), 5);
    /// assert_eq!(d.add_errback(|_f| Ok(0)).result().unwrap().unwrap(), 0);
    /// ```
    #[doc(alias = "addErrback")]
    #[inline]
    pub fn add_errback<R, E>(self, errback: E) -> Deferred<T>
    where
        R: IntoOutcome<T>,
        E: FnOnce(Failure) -> R + Send + 'static,
    {
        match self.repr {
            Repr::Ready(v) => Deferred { repr: Repr::Ready(v) },
            Repr::Shared(inner, _) => {
                inner.push_step(Box::new(move |r: Erased| match r {
                    Ok(slot) => StepOut::Done(Ok(slot)),
                    Err(f) => lower::<T>(None, guarded(|| errback(f).into_outcome())),
                }));
                Deferred::shared(inner)
            }
            // The result was taken by an await through `&mut`: the chain is on the failure
            // path, so the errback runs, as it would in `add_callbacks` or `add_both`.
            Repr::Taken => Deferred::lift_step(guarded(|| errback(consumed_failure()).into_outcome())),
        }
    }

    /// Adds one function for both paths: Twisted's `addBoth`.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, succeed};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let describe = |r: Result<i32, Failure>| Ok(format!("{r:?}").starts_with("Ok"));
    /// assert!(succeed(1).add_both(describe).result().unwrap().unwrap());
    /// assert!(!fail::<i32>(Failure::msg("x")).add_both(describe).result().unwrap().unwrap());
    /// ```
    #[doc(alias = "addBoth")]
    pub fn add_both<U, R, F>(self, f: F) -> Deferred<U>
    where
        U: Send + 'static,
        R: IntoOutcome<U>,
        F: FnOnce(Result<T, Failure>) -> R + Send + 'static,
    {
        self.step(move |r| guarded(|| f(r).into_outcome()))
    }

    /// Adds a step that sees the whole result; the shared body of the `add_*` methods.
    #[inline]
    fn step<U, S>(self, s: S) -> Deferred<U>
    where
        U: Send + 'static,
        S: FnOnce(Result<T, Failure>) -> Outcome<U> + Send + 'static,
    {
        match self.repr {
            Repr::Ready(v) => Deferred::lift_step(s(Ok(v.into_inner()))),
            Repr::Shared(inner, _) => {
                inner.push_step(Box::new(move |r: Erased| match r {
                    Ok(slot) => apply::<T, U>(slot, |v| s(Ok(v))),
                    Err(f) => lower(None, s(Err(f))),
                }));
                Deferred::shared(inner)
            }
            Repr::Taken => Deferred::lift_step(s(Err(consumed_failure()))),
        }
    }

    /// Twisted's `chainDeferred`: when this Deferred fires, fire `other` with the same
    /// result. This Deferred's own result is consumed (it becomes `()`).
    ///
    /// ```
    /// use tokio_twisted::defer::{succeed, Deferred};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let (d2, r2) = Deferred::<i32>::new();
    /// let _done = succeed(7).chain_deferred(r2);
    /// assert_eq!(d2.result().unwrap().unwrap(), 7);
    ///
    /// // A failure is passed on as well.
    /// let (d1, r1) = Deferred::<i32>::new();
    /// let (d2, r2) = Deferred::<i32>::new();
    /// let _done = d1.chain_deferred(r2);
    /// r1.errback(Failure::msg("upstream failed")).unwrap();
    /// assert_eq!(tokio_twisted::testing::failure_result_of(d2).error_message(), "upstream failed");
    /// ```
    #[doc(alias = "chainDeferred")]
    pub fn chain_deferred(self, other: Resolver<T>) -> Deferred<()> {
        self.add_both(move |r| match other.resolve(r) {
            Ok(()) => Ok(()),
            Err(e) => Err(Failure::new(e)),
        })
    }

    /// Wraps a typed outcome produced outside any chain.
    pub(super) fn lift(out: Outcome<T>) -> Self {
        match out {
            Outcome::Value(v) => Deferred::ready(v),
            Outcome::Failure(f) => Deferred::from_outcome(Err(f)),
            Outcome::Deferred(d) => d,
        }
    }

    /// Wraps the outcome of a step run at once on an already-fired Deferred. A returned
    /// unfired Deferred leaves this one fired and waiting on it, as in Twisted.
    fn lift_step(out: Outcome<T>) -> Self {
        match out {
            Outcome::Deferred(Deferred {
                repr: Repr::Shared(inner, _),
            }) => Deferred::waiting_on(inner),
            other => Deferred::lift(other),
        }
    }

    /// A fired Deferred waiting on `inner`. Out of line: `lift_step` runs for every step
    /// added to a ready value, and this rare branch made its common path slower.
    #[cold]
    #[inline(never)]
    fn waiting_on(inner: std::sync::Arc<Inner>) -> Self {
        let outer = Inner::fired(Ok(boxed(())));
        outer.push_step(Box::new(move |_| StepOut::Chain(inner)));
        Deferred::shared(outer)
    }
}
