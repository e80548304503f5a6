// Tests: tests/defer_list.rs, tests/conformance/test_defer.rs

//! Aggregates: `DeferredList`, `gather_results` and `race`.

use crate::lock::lock;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use crate::failure::Failure;

use super::core::{CancelHook, Inner};
use super::deferred::Deferred;
use super::errors::{FailureGroup, FirstError};
use super::resolver::Resolver;

/// Waits for several Deferreds: Twisted's `DeferredList`, as a builder.
///
/// [`build`](Self::build) gives a Deferred of every input's result, in input order
/// (Twisted's list of `(success, result)` pairs is a `Vec<Result<T, Failure>>`). It fires
/// when the last input fires; an empty list fires at once. The flags of Twisted's
/// constructor are methods:
///
/// - [`fire_on_one_errback`](Self::fire_on_one_errback): the first failure fails the list
///   with a [`FirstError`] holding that failure and its index;
/// - [`consume_errors`](Self::consume_errors): failures stop at the list, so the inputs do
///   not report them as unhandled;
/// - [`fire_on_one_callback`](Self::fire_on_one_callback): a different result type,
///   [`FirstSuccess`].
///
/// Inputs that have already fired are processed at once. Without `consume_errors` an input
/// that fails still ends in that failure, which is reported as unhandled when the input is
/// dropped, as in Twisted. Cancelling the list's Deferred cancels every input that has not
/// fired; the list then fires as its inputs do.
///
/// ```
/// use tokio_twisted::defer::{fail, succeed, DeferredList};
/// use tokio_twisted::failure::Failure;
///
/// let d = DeferredList::new(vec![succeed(1), fail(Failure::msg("no")), succeed(3)])
///     .consume_errors()
///     .build();
/// let results = tokio_twisted::testing::success_result_of(d);
/// assert_eq!(*results[0].as_ref().unwrap(), 1);
/// assert_eq!(results[1].as_ref().unwrap_err().error_message(), "no");
/// assert_eq!(*results[2].as_ref().unwrap(), 3);
/// ```
#[must_use = "a DeferredList does nothing until built"]
pub struct DeferredList<T> {
    inputs: Vec<Deferred<T>>,
    fire_on_one_errback: bool,
    consume_errors: bool,
}

impl<T> fmt::Debug for DeferredList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredList")
            .field("inputs", &self.inputs.len())
            .field("fire_on_one_errback", &self.fire_on_one_errback)
            .field("consume_errors", &self.consume_errors)
            .finish()
    }
}

/// The result of [`DeferredList::fire_on_one_callback`].
///
/// ```
/// use tokio_twisted::defer::{fail, succeed, DeferredList, FirstSuccess};
/// use tokio_twisted::failure::Failure;
///
/// let d = DeferredList::new(vec![fail(Failure::msg("a")), succeed(2)])
///     .consume_errors()
///     .fire_on_one_callback();
/// match tokio_twisted::testing::success_result_of(d) {
///     FirstSuccess::Found { index, value } => assert_eq!((index, value), (1, 2)),
///     FirstSuccess::AllFailed(_) => unreachable!(),
/// }
/// ```
#[derive(Debug)]
pub enum FirstSuccess<T> {
    /// The first input to succeed, and its position.
    Found {
        /// The input's position in the list.
        index: usize,
        /// Its value.
        value: T,
    },
    /// No input succeeded; their failures, in input order.
    AllFailed(Vec<Failure>),
}

/// What the list's Deferred fires with.
#[derive(Clone, Copy)]
enum Mode {
    All,
    FirstSuccess,
}

/// Gives the aggregate's Deferred a canceller that cancels every unfired input.
fn cancel_inputs_on_cancel<U: Send + 'static>(d: &mut Deferred<U>, inputs: Vec<Weak<Inner>>) {
    d.inner()
        .set_canceller(CancelHook::Custom(Arc::new(move |_outer: &Arc<Inner>| {
            for input in inputs.iter().filter_map(Weak::upgrade) {
                input.cancel();
            }
        })));
}

impl<T: Send + 'static> DeferredList<T> {
    /// A list over `deferreds`, with Twisted's default flags.
    ///
    /// ```
    /// use tokio_twisted::defer::{succeed, DeferredList};
    ///
    /// let d = DeferredList::new([succeed('a'), succeed('b')]).build();
    /// assert_eq!(tokio_twisted::testing::success_result_of(d).len(), 2);
    /// ```
    pub fn new(deferreds: impl IntoIterator<Item = Deferred<T>>) -> Self {
        DeferredList {
            inputs: deferreds.into_iter().collect(),
            fire_on_one_errback: false,
            consume_errors: false,
        }
    }

    /// Fail the list with a [`FirstError`] as soon as one input fails
    /// (`fireOnOneErrback=True`).
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, Deferred, DeferredList, FirstError};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let (pending, _r) = Deferred::<i32>::new();
    /// let d = DeferredList::new(vec![pending, fail(Failure::msg("x"))])
    ///     .fire_on_one_errback()
    ///     .consume_errors()
    ///     .build();
    /// let f = tokio_twisted::testing::failure_result_of(d);
    /// assert_eq!(f.downcast_ref::<FirstError>().unwrap().index, 1);
    /// ```
    #[doc(alias = "fireOnOneErrback")]
    pub fn fire_on_one_errback(mut self) -> Self {
        self.fire_on_one_errback = true;
        self
    }

    /// Keep input failures inside the list, so the inputs do not report them as
    /// unhandled (`consumeErrors=True`).
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, DeferredList};
    /// use tokio_twisted::failure::Failure;
    ///
    /// let d = DeferredList::new(vec![fail::<i32>(Failure::msg("x"))]).consume_errors().build();
    /// assert!(tokio_twisted::testing::success_result_of(d)[0].is_err());
    /// ```
    #[doc(alias = "consumeErrors")]
    pub fn consume_errors(mut self) -> Self {
        self.consume_errors = true;
        self
    }

    /// The Deferred of every input's result, in input order.
    ///
    /// ```
    /// use tokio_twisted::defer::{succeed, DeferredList};
    ///
    /// let d = DeferredList::new(Vec::<tokio_twisted::defer::Deferred<i32>>::new()).build();
    /// assert!(tokio_twisted::testing::success_result_of(d).is_empty());
    /// ```
    pub fn build(self) -> Deferred<Vec<Result<T, Failure>>> {
        self.run(
            Mode::All,
            |results| results,
            |_, _| unreachable!("invariant: All mode never reports a first success"),
        )
    }

    /// Fire with the first input to succeed (`fireOnOneCallback=True`), or with every
    /// failure when none succeeds. As in Twisted, an empty list never fires in this mode.
    ///
    /// ```
    /// use tokio_twisted::defer::{Deferred, DeferredList, FirstSuccess};
    ///
    /// let (a, _ra) = Deferred::<i32>::new();
    /// let (b, rb) = Deferred::<i32>::new();
    /// let d = DeferredList::new(vec![a, b]).fire_on_one_callback();
    /// rb.callback(7).unwrap();
    /// assert!(matches!(
    ///     tokio_twisted::testing::success_result_of(d),
    ///     FirstSuccess::Found { index: 1, value: 7 }
    /// ));
    /// ```
    #[doc(alias = "fireOnOneCallback")]
    pub fn fire_on_one_callback(self) -> Deferred<FirstSuccess<T>> {
        self.run(
            Mode::FirstSuccess,
            |results| FirstSuccess::AllFailed(results.into_iter().filter_map(Result::err).collect()),
            |index, value| FirstSuccess::Found { index, value },
        )
    }

    /// `gatherResults` with this list's `consume_errors` flag: the values in input order,
    /// or a [`FirstError`] for the first input to fail.
    ///
    /// ```
    /// use tokio_twisted::defer::{fail, succeed, DeferredList, FirstError};
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let d = DeferredList::new(vec![succeed(1), succeed(2)]).consume_errors().gather();
    /// assert_eq!(success_result_of(d), [1, 2]);
    ///
    /// let d = DeferredList::new(vec![succeed(1), fail(Failure::msg("no"))]).consume_errors().gather();
    /// assert_eq!(failure_result_of(d).downcast_ref::<FirstError>().unwrap().index, 1);
    /// ```
    #[doc(alias = "gatherResults")]
    pub fn gather(self) -> Deferred<Vec<T>> {
        self.fire_on_one_errback()
            .build()
            .add_callback(|results| results.into_iter().collect::<Result<Vec<T>, Failure>>())
    }

    /// Adds one step to every input; the last input to report (or the first success or
    /// failure, per the flags) fires the aggregate. One shared allocation per list, one
    /// reference count per input.
    fn run<U, A, F>(self, mode: Mode, on_all: A, on_first: F) -> Deferred<U>
    where
        U: Send + 'static,
        A: FnOnce(Vec<Result<T, Failure>>) -> U + Send + 'static,
        F: FnOnce(usize, T) -> U + Send + 'static,
    {
        let (mut out, resolver) = Deferred::new();
        let n = self.inputs.len();
        if n == 0 {
            if matches!(mode, Mode::All) {
                let _ = resolver.callback(on_all(Vec::new()));
            }
            // Twisted's DeferredList.cancel only cancels inputs, so cancelling an empty
            // fire_on_one_callback list (which never fires) does nothing either, rather than
            // failing it with CancelledError. Test: tests/defer_list.rs, race_cancel_and_empty.
            cancel_inputs_on_cancel(&mut out, Vec::new());
            return out;
        }
        let mut results = Vec::with_capacity(n);
        results.resize_with(n, || None);
        let shared = Arc::new(ListShared {
            state: Mutex::new(ListState {
                results,
                remaining: n,
                done: false,
                on_all: Some(on_all),
                on_first: Some(on_first),
            }),
            resolver,
            fire_on_one_errback: self.fire_on_one_errback,
            fire_on_one_callback: matches!(mode, Mode::FirstSuccess),
            consume_errors: self.consume_errors,
        });
        let mut watched = Vec::with_capacity(n);
        for (index, input) in self.inputs.into_iter().enumerate() {
            if let Some(w) = input.weak_inner() {
                watched.push(w);
            }
            let shared = Arc::clone(&shared);
            let _tail = input.add_both(move |r: Result<T, Failure>| shared.report(index, r));
        }
        cancel_inputs_on_cancel(&mut out, watched);
        out
    }
}

/// What one `DeferredList` shares between the steps on its inputs.
struct ListShared<T, U, A, F> {
    state: Mutex<ListState<T, A, F>>,
    resolver: Resolver<U>,
    fire_on_one_errback: bool,
    fire_on_one_callback: bool,
    consume_errors: bool,
}

struct ListState<T, A, F> {
    results: Vec<Option<Result<T, Failure>>>,
    remaining: usize,
    done: bool,
    on_all: Option<A>,
    on_first: Option<F>,
}

impl<T, U, A, F> ListShared<T, U, A, F>
where
    T: Send + 'static,
    U: Send + 'static,
    A: FnOnce(Vec<Result<T, Failure>>) -> U,
    F: FnOnce(usize, T) -> U,
{
    /// Input `index` fired with `r`. Returns what the input's own chain continues with:
    /// its failure, unless errors are consumed here.
    fn report(&self, index: usize, r: Result<T, Failure>) -> Result<(), Failure> {
        let passed_on = match &r {
            Err(f) if !self.consume_errors => Err(f.clone()),
            _ => Ok(()),
        };
        let mut st = lock(&self.state);
        if st.done {
            return passed_on;
        }
        match r {
            Ok(value) if self.fire_on_one_callback => {
                st.done = true;
                let on_first = st.on_first.take();
                drop(st);
                if let Some(f) = on_first {
                    let _ = self.resolver.callback(f(index, value));
                }
                return passed_on;
            }
            Err(failure) if self.fire_on_one_errback => {
                st.done = true;
                drop(st);
                let _ = self.resolver.errback(FirstError { failure, index });
                return passed_on;
            }
            r => st.results[index] = Some(r),
        }
        st.remaining -= 1;
        if st.remaining > 0 {
            return passed_on;
        }
        st.done = true;
        let results = std::mem::take(&mut st.results)
            .into_iter()
            .map(|r| r.expect("invariant: every input reported before the last"))
            .collect();
        let on_all = st.on_all.take();
        drop(st);
        if let Some(f) = on_all {
            let _ = self.resolver.callback(f(results));
        }
        passed_on
    }
}

/// Twisted's `gatherResults`: every input's value in input order, or a [`FirstError`]
/// for the first input to fail. Use [`DeferredList::gather`] for `consumeErrors`.
///
/// ```
/// use tokio_twisted::defer::{gather_results, Deferred, FirstError};
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::testing::{failure_result_of, success_result_of};
///
/// let (a, ra) = Deferred::new();
/// let (b, rb) = Deferred::new();
/// let d = gather_results(vec![a, b]);
/// rb.callback("b").unwrap();
/// ra.callback("a").unwrap();
/// assert_eq!(success_result_of(d), ["a", "b"]);
///
/// // The first input to fail, in time, fails the whole.
/// let (a, _ra) = Deferred::<&str>::new();
/// let (b, rb) = Deferred::<&str>::new();
/// let d = gather_results(vec![a, b]);
/// rb.errback(Failure::msg("b broke")).unwrap();
/// let f = failure_result_of(d);
/// let first = f.downcast_ref::<FirstError>().unwrap();
/// assert_eq!((first.index, first.failure.error_message()), (1, "b broke".to_owned()));
/// ```
#[doc(alias = "gatherResults")]
pub fn gather_results<T: Send + 'static>(
    deferreds: impl IntoIterator<Item = Deferred<T>>,
) -> Deferred<Vec<T>> {
    DeferredList::new(deferreds).gather()
}

struct RaceState {
    failures: Vec<Option<Failure>>,
    remaining: usize,
    done: bool,
    /// One entry per input, by index; `None` for an input that had already fired.
    inputs: Vec<Option<Weak<Inner>>>,
}

/// Twisted's `race`: fires with `(index, value)` of the first input to succeed, after
/// cancelling every other input once (so the race's callbacks find the losers cancelled). If every input fails, fails with a [`FailureGroup`] of their
/// failures in input order. Every input's result is consumed (nothing is logged as
/// unhandled), and cancelling the race cancels every input. As in Twisted, racing an empty
/// list never fires.
///
/// ```
/// use tokio_twisted::defer::{race, Deferred, FailureGroup};
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::testing::{failure_result_of, success_result_of};
///
/// let (slow, r_slow) = Deferred::<&str>::new();
/// let (fast, r_fast) = Deferred::<&str>::new();
/// let d = race(vec![slow, fast]);
/// r_fast.callback("fast").unwrap();
/// assert_eq!(success_result_of(d), (1, "fast"));
/// assert!(r_slow.called()); // the loser was cancelled
///
/// // Only when every input fails does the race fail.
/// let (a, ra) = Deferred::<&str>::new();
/// let (b, rb) = Deferred::<&str>::new();
/// let d = race(vec![a, b]);
/// rb.errback(Failure::msg("b down")).unwrap();
/// ra.errback(Failure::msg("a down")).unwrap();
/// let f = failure_result_of(d);
/// let messages: Vec<_> = f.downcast_ref::<FailureGroup>().unwrap().failures.iter().map(|f| f.error_message()).collect();
/// assert_eq!(messages, ["a down", "b down"]); // input order
/// ```
pub fn race<T: Send + 'static>(deferreds: impl IntoIterator<Item = Deferred<T>>) -> Deferred<(usize, T)> {
    let inputs: Vec<Deferred<T>> = deferreds.into_iter().collect();
    let n = inputs.len();
    let (mut out, resolver) = Deferred::new();
    if n == 0 {
        return out;
    }
    let state = Arc::new(Mutex::new(RaceState {
        failures: (0..n).map(|_| None).collect(),
        remaining: n,
        done: false,
        inputs: Vec::with_capacity(n),
    }));
    // Every input is known before any callback runs, so an input that has already
    // succeeded cancels all the others, not only those added before it.
    lock(&state).inputs = inputs.iter().map(Deferred::weak_inner).collect();
    let mut tails = Vec::with_capacity(n);
    for (index, input) in inputs.into_iter().enumerate() {
        let state = Arc::clone(&state);
        let resolver = resolver.clone();
        tails.push(input.add_both(move |r: Result<T, Failure>| {
            let mut st = lock(&state);
            if st.done {
                return;
            }
            match r {
                Ok(value) => {
                    st.done = true;
                    let losers: Vec<Arc<Inner>> = st
                        .inputs
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != index)
                        .filter_map(|(_, w)| w.as_ref().and_then(Weak::upgrade))
                        .collect();
                    drop(st);
                    // Losers first, as Twisted does: a callback on the race's result must
                    // find them cancelled already (their timers gone, their sockets closed).
                    // Test: tests/defer_list.rs, race_cancels_the_losers_before_it_fires.
                    for loser in losers {
                        loser.cancel();
                    }
                    let _ = resolver.callback((index, value));
                }
                Err(f) => {
                    st.failures[index] = Some(f);
                    st.remaining -= 1;
                    if st.remaining == 0 {
                        st.done = true;
                        let failures = st
                            .failures
                            .drain(..)
                            .map(|f| f.expect("invariant: every input failed"))
                            .collect();
                        drop(st);
                        let _ = resolver.errback(FailureGroup { failures });
                    }
                }
            }
        }));
    }
    let watched = lock(&state).inputs.iter().flatten().cloned().collect();
    cancel_inputs_on_cancel(&mut out, watched);
    drop(tails);
    out
}
