//! Port of Twisted's `twisted/test/test_defer.py`, `twisted/internet/test/test_inlinecb.py` and
//! `twisted/internet/test/test_defer_await.py` (Twisted 26.10).
//!
//! One Rust module per Twisted test class; each test is named after the Twisted test in
//! snake_case and carries a `/// twisted: Class.testName` line. Twisted's `inlineCallbacks`,
//! `ensureDeferred` and `Deferred.fromCoroutine` are all `Deferred::from_future(async { .. })`;
//! `yield d` and `await d` are `d.await`. Twisted's `reactor.callLater(0, ..)` is a
//! `task::Clock` advanced by zero.
//!
//! Where Rust moves a Deferred into the callback that returns it, Twisted's "add a callback to
//! the inner Deferred afterwards" steps cannot be written; those tests are ported with the
//! callbacks added before the move (what Twisted shows for callbacks added before chaining), and
//! the doc line says so.
//!
//! # Ported in `test_defer_primitives.rs` (another engineer)
//!
//! - `OtherPrimitivesTests` (10): testLock, test_cancelLockAfterAcquired,
//!   test_cancelLockBeforeAcquired, testSemaphore, test_semaphoreInvalidTokens,
//!   test_cancelSemaphoreAfterAcquired, test_cancelSemaphoreBeforeAcquired, testQueue,
//!   test_cancelQueueAfterSynchronousGet, test_cancelQueueAfterGet.
//! - `DeferredFilesystemLockTests` (8): test_waitUntilLockedWithNoLock,
//!   test_waitUntilLockedWithTimeoutLocked, test_waitUntilLockedWithTimeoutUnlocked,
//!   test_defaultScheduler, test_concurrentUsage, test_multipleUsages,
//!   test_cancelDeferUntilLocked, test_cancelDeferUntilLockedWithTimeout.
//! - `DeferredAddTimeoutTests` (18): test_timeoutChainable, test_successResultBeforeTimeout,
//!   test_successResultBeforeTimeoutCustom, test_failureBeforeTimeout,
//!   test_failureBeforeTimeoutCustom, test_timedOut, test_timedOutCustom,
//!   test_timedOutProvidedCancelSuccess, test_timedOutProvidedCancelFailure,
//!   test_cancelBeforeTimeout, test_cancelBeforeTimeoutCustom,
//!   test_providedCancelCalledBeforeTimeoutCustom, test_errbackAddedBeforeTimeout,
//!   test_errbackAddedBeforeTimeoutSuppressesCancellation, test_errbackAddedBeforeTimeoutCustom,
//!   test_errbackAddedBeforeTimeoutSuppressesCancellationCustom,
//!   test_callbackAddedToCancelerBeforeTimeout, test_callbackAddedToCancelerBeforeTimeoutCustom.
//! - `CoroutineContextVarsTests.test_asyncWithLock`, `.test_asyncWithSemaphore`,
//!   `.test_asyncWithLockException` (DeferredLock / DeferredSemaphore as async context managers).
//!
//! # Not applicable: `test_defer.py`
//!
//! - UtilTests.test_logErrorReturnsError, .test_logErrorLogsError, .test_logErrorLogsErrorNoRepr:
//!   the crate has no `logError` errback (an errback logs through `tracing` and returns the
//!   Failure); not provided.
//! - DeferredTests.test_callbacksAttributeDeprecated: Python-only attribute deprecation
//!   (`pending_callbacks()` is the accessor).
//! - DeferredTests.test_chainDeferredRecordsExplicitChain: whitebox `_chainedTo`; `chain_deferred`
//!   fires the other Deferred through its `Resolver` and records no link.
//! - DeferredTests.test_circularChainWarning: Python warnings; the crate fails the Deferred
//!   instead (see `test_circular_chain_exception`).
//! - DeferredTests.test_errbackWithNoArgsNoDebug, .test_errbackWithNoArgs: Python-only:
//!   `errback()` capturing the current exception and its frames' locals.
//! - DeferredTests.test_errorInCallbackDoesNotCaptureVars,
//!   .test_errorInCallbackCapturesVarsWhenDebugging: debug-mode capture of locals and globals.
//! - DeferredTests.test_fromCoroutineRequiresCoroutine, InlineCallbackTests.test_fromCoroutineRequiresCoroutine,
//!   EnsureDeferredTests.test_willNotAllowNonDeferredOrCoroutine: the type system forbids
//!   passing a non-future to `from_future`.
//! - DeferredTests.test_DEFERRED_SUBCLASSES: Python subclass registry.
//! - AlreadyCalledTests.testAlreadyCalledDebug_CC, .testAlreadyCalledDebug_CE,
//!   .testAlreadyCalledDebug_EC, .testAlreadyCalledDebug_EE, .testNoDebugging,
//!   .testSwitchDebugging: debug-mode stack capture ("C:"/"I:" stacks in the error message).
//! - LogTests.test_errorLogDebugInfo: debug-mode stack capture.
//! - EnsureDeferredTests.test_ensureDeferredGenerator: Python-only generators (`yield from`).
//! - TimeoutErrorTests.test_deprecatedTimeout: the deprecated `defer.timeout` is not provided.
//! - DeferredFutureAdapterTests.test_asFutureCancelFuture, .test_asFutureSuccessCancel: asyncio
//!   Future bridge; in Rust dropping the awaiting future is the cancellation, and dropping a
//!   Deferred handle does not cancel the Deferred.
//! - CoroutineContextVarsTests.test_withInlineCallbacks, .test_resetWithInlineCallbacks,
//!   .test_contextvarsWithAsyncAwait: Python-only: contextvars.
//!
//! # Not applicable: `test_inlinecb.py`
//!
//! - BasicTests.testReturnValueDeprecated, NonLocalExitTests.test_returnValueNonLocalWarning,
//!   .test_returnValueNonLocalDeferred: `returnValue` does not exist; an async block returns.
//! - BasicTests.test_nonGeneratorReturn, .test_nonGeneratorReturnValue: the type system forbids
//!   a non-future.
//! - BasicTests.test_internalDefGenReturnValueDoesntLeak, .test_internalStopIterationDoesntLeak:
//!   Python traceback internals.
//! - ForwardTraceBackTests.test_forwardTracebacks, .test_forwardTracebacksCoro,
//!   .test_forwardLotsOfTracebacks, .test_forwardLotsOfTracebacksCoro,
//!   .test_reraiseTracebacksFromDeferred: Python traceback frames (a Failure carries a Rust
//!   backtrace only when `RUST_BACKTRACE` asks).
//!
//! # Not applicable: `test_defer_await.py`
//!
//! - AwaitTests.test_awaitReturnsIterable: Python's `__await__` protocol.
//! - AwaitTests.test_synchronousDeferredFailureTraceback, .test_asyncDeferredFailureTraceback:
//!   Python traceback frames.

#![allow(
    clippy::doc_markdown,
    reason = "the docs quote Twisted's camelCase and snake_case test names verbatim"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio_twisted::defer::{
    AlreadyCalledError, CancelledError, Deferred, DeferredList, FailureGroup, FirstError, FirstSuccess,
    Outcome, Resolver, fail, gather_results, maybe_deferred, race, succeed,
};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

/// Twisted's `GenericError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct GenericError(&'static str);

/// Stands in for Python's `RuntimeError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct RuntimeError(&'static str);

/// Stands in for Python's `ValueError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct ValueError(&'static str);

/// Stands in for Python's `ZeroDivisionError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct ZeroDivisionError(&'static str);

/// A list the callbacks of one test append to.
struct Record<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Record<T> {
    fn clone(&self) -> Self {
        Record(Arc::clone(&self.0))
    }
}

impl<T: Clone> Record<T> {
    fn new() -> Self {
        Record(Arc::new(Mutex::new(Vec::new())))
    }

    fn push(&self, value: T) {
        self.0.lock().unwrap().push(value);
    }

    fn get(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Adds a step that records a copy of the result and passes it on unchanged.
fn watch<T: Clone + Send + 'static>(d: Deferred<T>, record: &Record<Result<T, Failure>>) -> Deferred<T> {
    let record = record.clone();
    d.add_both(move |r: Result<T, Failure>| {
        record.push(r.clone());
        r
    })
}

/// The `0x...` address in a Deferred's `Debug` output.
fn address_of(debug: &str) -> String {
    let start = debug.find("0x").expect("an address");
    debug[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

/// Divides by a zero the compiler cannot see: Python's `1 // 0`, a panic in Rust.
fn divide_by_zero(x: i32) -> i32 {
    x / std::hint::black_box(0)
}

/// Twisted's `fakeCallbackCanceller`: a canceller that fires the Deferred with a success.
fn fake_callback_canceller(r: &Resolver<&'static str>) {
    r.callback("Callback Result").unwrap();
}

mod deferred_tests {
    use super::*;

    /// twisted: DeferredTests.testCallbackWithoutArgs
    /// A callback added before firing receives the fired value and no errback runs.
    #[test]
    fn test_callback_without_args() {
        let got = Record::new();
        let errors = Record::<Failure>::new();
        let (d, r) = Deferred::<&str>::new();
        let (g, e) = (got.clone(), errors.clone());
        let d = d.add_callbacks(
            move |v| {
                g.push(v);
                Ok(v)
            },
            move |f: Failure| {
                e.push(f.clone());
                Err(f)
            },
        );
        r.callback("hello").unwrap();
        assert_eq!(got.get(), ["hello"]);
        assert!(errors.is_empty());
        assert_eq!(success_result_of(d), "hello");
    }

    /// twisted: DeferredTests.testCallbackWithArgs
    /// Extra arguments (captured by the closure) reach the callback after the result.
    #[test]
    fn test_callback_with_args() {
        let got = Record::new();
        let (d, r) = Deferred::<&str>::new();
        let g = got.clone();
        let extra = "world";
        let _d = d.add_callback(move |v| g.push((v, extra)));
        r.callback("hello").unwrap();
        assert_eq!(got.get(), [("hello", "world")]);
    }

    /// twisted: DeferredTests.testCallbackWithKwArgs
    /// Keyword arguments are captured by the closure too and reach the callback unchanged.
    #[test]
    fn test_callback_with_kw_args() {
        #[derive(Debug, Clone, PartialEq)]
        struct Kw {
            world: &'static str,
        }
        let got = Record::new();
        let (d, r) = Deferred::<&str>::new();
        let g = got.clone();
        let kw = Kw { world: "world" };
        let _d = d.add_callback(move |v| g.push((v, kw)));
        r.callback("hello").unwrap();
        assert_eq!(got.get(), [("hello", Kw { world: "world" })]);
    }

    /// twisted: DeferredTests.testTwoCallbacks
    /// Two callbacks run in order, the second seeing what the first returned.
    #[test]
    fn test_two_callbacks() {
        let got = Record::new();
        let (d, r) = Deferred::<&str>::new();
        let (g1, g2) = (got.clone(), got.clone());
        let _d = d
            .add_callback(move |v| {
                g1.push(("first", v));
                Ok(v)
            })
            .add_callback(move |v| g2.push(("second", v)));
        r.callback("hello").unwrap();
        assert_eq!(got.get(), [("first", "hello"), ("second", "hello")]);
    }

    /// twisted: DeferredTests.test_addCallbacksNoneErrback
    /// A callback-only step passes a failure through untouched to the next errback.
    #[test]
    fn test_add_callbacks_none_errback() {
        let called = Record::<()>::new();
        let errors = Record::<Failure>::new();
        let (d, r) = Deferred::<()>::new();
        let c = called.clone();
        let d = d.add_callback(move |()| c.push(()));
        let error = Failure::new(GenericError("oopsie"));
        r.errback(error.clone()).unwrap();
        let e = errors.clone();
        let _d = d.add_errback(move |f| e.push(f));
        assert!(called.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors.get()[0].ptr_eq(&error));
    }

    /// twisted: DeferredTests.test_addCallbacksNoneCallbackArgs
    /// `add_callbacks` runs its callback half on success and not its errback half.
    #[test]
    fn test_add_callbacks_none_callback_args() {
        let got = Record::new();
        let (d, r) = Deferred::<&str>::new();
        let (g1, g2) = (got.clone(), got.clone());
        let _d = d.add_callbacks(
            move |v| g1.push(("callback", v)),
            move |_f| g2.push(("errback", "")),
        );
        r.callback("hello").unwrap();
        assert_eq!(got.get(), [("callback", "hello")]);
    }

    /// twisted: DeferredTests.test_addCallbacksNoneErrbackArgs
    /// `add_callbacks` runs its errback half on failure; the errback's return switches back to
    /// the success path so a later errback does not run.
    #[test]
    fn test_add_callbacks_none_errback_args() {
        let callbacks = Record::<()>::new();
        let errors = Record::<Failure>::new();
        let (d, r) = Deferred::<()>::new();
        let (c, e1, e2) = (callbacks.clone(), errors.clone(), errors.clone());
        let d = d.add_callbacks(move |()| c.push(()), move |f| e1.push(f));
        let error = Failure::new(GenericError("oopsie"));
        r.errback(error.clone()).unwrap();
        let d = d.add_errback(move |f| e2.push(f));
        assert!(callbacks.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors.get()[0].ptr_eq(&error));
        success_result_of(d);
    }

    /// twisted: DeferredTests.testDeferredList
    /// A DeferredList reports every input in input order, successes and failures alike; the
    /// failure also continues down its input's chain (here: logged when that input goes away).
    #[test]
    fn test_deferred_list() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<&str>::new();
        let (d2, r2) = Deferred::<&str>::new();
        let (d3, r3) = Deferred::<&str>::new();
        let dl = DeferredList::new(vec![d1, d2, d3]).build();
        r1.callback("1").unwrap();
        r2.errback(GenericError("2")).unwrap();
        assert_no_result(&dl);
        r3.callback("3").unwrap();
        let results = success_result_of(dl);
        assert_eq!(results.len(), 3);
        assert_eq!(*results[0].as_ref().unwrap(), "1");
        let f = results[1].as_ref().unwrap_err();
        assert!(f.check::<GenericError>());
        assert_eq!(f.error_message(), "2");
        assert_eq!(*results[2].as_ref().unwrap(), "3");
        drop(r2);
        assert_eq!(logged.flush::<GenericError>().len(), 1);
    }

    /// twisted: DeferredTests.testEmptyDeferredList
    /// An empty list fires at once with no results; with fire_on_one_callback it never fires.
    #[test]
    fn test_empty_deferred_list() {
        let dl = DeferredList::new(Vec::<Deferred<()>>::new()).build();
        assert!(success_result_of(dl).is_empty());
        let dl = DeferredList::new(Vec::<Deferred<()>>::new()).fire_on_one_callback();
        assert_no_result(&dl);
        assert!(!dl.called());
    }

    /// twisted: DeferredTests.testDeferredListFireOnOneError
    /// With fire_on_one_errback the first failure fails the list with a FirstError holding the
    /// failure and its index.
    #[test]
    fn test_deferred_list_fire_on_one_error() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<&str>::new();
        let (d2, r2) = Deferred::<&str>::new();
        let (d3, _r3) = Deferred::<&str>::new();
        let dl = DeferredList::new(vec![d1, d2, d3]).fire_on_one_errback().build();
        r1.callback("1").unwrap();
        assert_no_result(&dl);
        r2.errback(GenericError("from def2")).unwrap();
        let f = failure_result_of(dl);
        let first = f.downcast_ref::<FirstError>().expect("a FirstError");
        assert!(first.failure.check::<GenericError>());
        assert_eq!(first.failure.error_message(), "from def2");
        assert_eq!(first.index, 1);
        drop(r2);
        assert_eq!(logged.flush::<GenericError>().len(), 1);
    }

    /// twisted: DeferredTests.testDeferredListDontConsumeErrors
    /// Without consume_errors the list records the failure and the input keeps it too: the
    /// same Failure reaches the end of the input's chain (logged when it goes away).
    #[test]
    fn test_deferred_list_dont_consume_errors() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1]).build();
        r1.errback(GenericError("Bang")).unwrap();
        let results = success_result_of(dl);
        let in_list = results[0].as_ref().unwrap_err().clone();
        assert_eq!(in_list.error_message(), "Bang");
        drop(r1);
        let trapped = logged.flush::<GenericError>();
        assert_eq!(trapped.len(), 1);
        assert!(trapped[0].ptr_eq(&in_list));
    }

    /// twisted: DeferredTests.testDeferredListConsumeErrors
    /// With consume_errors the list records the failure and the input's chain does not see it.
    #[test]
    fn test_deferred_list_consume_errors() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1]).consume_errors().build();
        r1.errback(GenericError("Bang")).unwrap();
        let results = success_result_of(dl);
        assert_eq!(results[0].as_ref().unwrap_err().error_message(), "Bang");
        drop(r1);
        assert!(logged.is_empty());
    }

    /// twisted: DeferredTests.testDeferredListFireOnOneErrorWithAlreadyFiredDeferreds
    /// An input that failed before the list was built fails a fire_on_one_errback list at once.
    #[test]
    fn test_deferred_list_fire_on_one_error_with_already_fired_deferreds() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, _r2) = Deferred::<()>::new();
        r1.errback(GenericError("Bang")).unwrap();
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_errback().build();
        let f = failure_result_of(dl);
        assert_eq!(f.downcast_ref::<FirstError>().unwrap().index, 0);
        drop(r1);
        assert_eq!(logged.flush::<GenericError>().len(), 1);
    }

    /// twisted: DeferredTests.testDeferredListWithAlreadyFiredDeferreds
    /// A list whose inputs have all fired already fires while it is built.
    #[test]
    fn test_deferred_list_with_already_fired_deferreds() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<i32>::new();
        let (d2, r2) = Deferred::<i32>::new();
        r1.errback(GenericError("Bang")).unwrap();
        r2.callback(2).unwrap();
        let dl = DeferredList::new(vec![d1, d2]).build();
        let results = success_result_of(dl);
        assert_eq!(results.len(), 2);
        assert!(results[0].is_err());
        assert_eq!(*results[1].as_ref().unwrap(), 2);
        drop(r1);
        assert_eq!(logged.flush::<GenericError>().len(), 1);
    }

    /// twisted: DeferredTests.test_cancelDeferredList
    /// Cancelling an unfired list cancels every input.
    #[test]
    fn test_cancel_deferred_list() {
        let logged = LoggedErrors::capture();
        let seen = Record::new();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![watch(d1, &seen), watch(d2, &seen)]).build();
        dl.cancel();
        assert_eq!(seen.len(), 2);
        assert!(
            seen.get()
                .iter()
                .all(|r| r.as_ref().unwrap_err().check::<CancelledError>())
        );
        let results = success_result_of(dl);
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().unwrap_err().check::<CancelledError>())
        );
        drop((r1, r2));
        assert_eq!(logged.flush::<CancelledError>().len(), 2);
    }

    /// twisted: DeferredTests.test_cancelDeferredListCallback
    /// Cancelling a plain list gives the list of what each input's cancellation produced.
    #[test]
    fn test_cancel_deferred_list_callback() {
        let logged = LoggedErrors::capture();
        let (d1, _r1) = Deferred::with_canceller(fake_callback_canceller);
        let (d2, r2) = Deferred::<&str>::new();
        let dl = DeferredList::new(vec![d1, d2]).build();
        dl.cancel();
        let results = success_result_of(dl);
        assert_eq!(*results[0].as_ref().unwrap(), "Callback Result");
        assert!(results[1].as_ref().unwrap_err().check::<CancelledError>());
        drop(r2);
        assert_eq!(logged.flush::<CancelledError>().len(), 1);
    }

    /// twisted: DeferredTests.test_cancelDeferredListWithFireOnOneCallback
    /// Cancelling a fire_on_one_callback list cancels every input.
    #[test]
    fn test_cancel_deferred_list_with_fire_on_one_callback() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_callback();
        dl.cancel();
        match success_result_of(dl) {
            FirstSuccess::AllFailed(failures) => {
                assert_eq!(failures.len(), 2);
                assert!(failures.iter().all(Failure::check::<CancelledError>));
            }
            FirstSuccess::Found { .. } => panic!("nothing succeeded"),
        }
        drop((r1, r2));
        assert_eq!(logged.flush::<CancelledError>().len(), 2);
    }

    /// twisted: DeferredTests.test_cancelDeferredListWithFireOnOneCallbackAndDeferredCallback
    /// An input whose canceller succeeds fires a fire_on_one_callback list with its value and
    /// index, and the other inputs are still cancelled.
    #[test]
    fn test_cancel_deferred_list_with_fire_on_one_callback_and_deferred_callback() {
        let logged = LoggedErrors::capture();
        let (d1, _r1) = Deferred::with_canceller(fake_callback_canceller);
        let (d2, r2) = Deferred::<&str>::new();
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_callback();
        dl.cancel();
        assert!(matches!(
            success_result_of(dl),
            FirstSuccess::Found {
                index: 0,
                value: "Callback Result"
            }
        ));
        assert!(r2.called());
        drop(r2);
        assert_eq!(logged.flush::<CancelledError>().len(), 1);
    }

    /// twisted: DeferredTests.test_cancelDeferredListWithFireOnOneErrback
    /// Cancelling a fire_on_one_errback list cancels every input and fails with a FirstError
    /// wrapping the first CancelledError.
    #[test]
    fn test_cancel_deferred_list_with_fire_on_one_errback() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_errback().build();
        dl.cancel();
        let f = failure_result_of(dl);
        let first = f.downcast_ref::<FirstError>().unwrap();
        assert!(first.failure.check::<CancelledError>());
        assert!(r1.called() && r2.called());
        drop((r1, r2));
        assert_eq!(logged.flush::<CancelledError>().len(), 2);
    }

    /// twisted: DeferredTests.test_cancelDeferredListWithFireOnOneErrbackAllDeferredsCallback
    /// If every input's canceller succeeds, a fire_on_one_errback list succeeds with them all.
    #[test]
    fn test_cancel_deferred_list_with_fire_on_one_errback_all_deferreds_callback() {
        let (d1, _r1) = Deferred::with_canceller(fake_callback_canceller);
        let (d2, _r2) = Deferred::with_canceller(fake_callback_canceller);
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_errback().build();
        dl.cancel();
        let results: Vec<&str> = success_result_of(dl).into_iter().map(Result::unwrap).collect();
        assert_eq!(results, ["Callback Result", "Callback Result"]);
    }

    /// twisted: DeferredTests.test_cancelDeferredListWithOriginalDeferreds
    /// Cancelling a list cancels its own inputs and nothing else.
    #[test]
    fn test_cancel_deferred_list_with_original_deferreds() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let mut inputs = vec![d1, d2];
        let dl = DeferredList::new(inputs.drain(..)).build();
        let (d3, _r3) = Deferred::<()>::new();
        inputs.push(d3);
        dl.cancel();
        assert!(r1.called() && r2.called());
        assert_no_result(&inputs[0]);
        drop((dl, r1, r2));
        assert_eq!(logged.flush::<CancelledError>().len(), 2);
    }

    /// twisted: DeferredTests.test_cancelDeferredListWithException
    /// A canceller that fails does not stop the other inputs from being cancelled. (Twisted logs
    /// the canceller's exception and leaves that input unfired; here the panic becomes that
    /// input's failure.)
    #[test]
    fn test_cancel_deferred_list_with_exception() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::with_canceller(|_r| panic!("test"));
        let (d2, r2) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1, d2]).build();
        dl.cancel();
        let results = success_result_of(dl);
        assert!(results[0].as_ref().unwrap_err().check::<PanicError>());
        assert!(results[1].as_ref().unwrap_err().check::<CancelledError>());
        drop((r1, r2));
        assert_eq!(logged.flush::<CancelledError>().len(), 1);
        assert_eq!(logged.flush::<PanicError>().len(), 1);
    }

    /// twisted: DeferredTests.test_cancelFiredOnOneCallbackDeferredList
    /// Once a fire_on_one_callback list has fired, cancelling it leaves the other inputs alone.
    #[test]
    fn test_cancel_fired_on_one_callback_deferred_list() {
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_callback();
        r1.callback(()).unwrap();
        dl.cancel();
        assert!(!r2.called());
        assert!(matches!(
            success_result_of(dl),
            FirstSuccess::Found { index: 0, .. }
        ));
    }

    /// twisted: DeferredTests.test_cancelFiredOnOneErrbackDeferredList
    /// Once a fire_on_one_errback list has failed, cancelling it leaves the other inputs alone.
    #[test]
    fn test_cancel_fired_on_one_errback_deferred_list() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let dl = DeferredList::new(vec![d1, d2]).fire_on_one_errback().build();
        r1.errback(GenericError("test")).unwrap();
        dl.cancel();
        assert!(!r2.called());
        assert!(failure_result_of(dl).check::<FirstError>());
        drop(r1);
        assert_eq!(logged.flush::<GenericError>().len(), 1);
    }

    /// twisted: DeferredTests.testImmediateSuccess
    /// A callback added to `succeed(x)` runs before `add_callback` returns.
    #[test]
    fn test_immediate_success() {
        let got = Record::new();
        let g = got.clone();
        let _d = succeed("success").add_callback(move |v| g.push(v));
        assert_eq!(got.get(), ["success"]);
    }

    /// twisted: DeferredTests.test_succeedMatchesManualSuccess
    /// `succeed(x)` is observably the same as creating a Deferred and firing it with x.
    #[test]
    fn test_succeed_matches_manual_success() {
        let (d, r) = Deferred::<&str>::new();
        r.callback("success").unwrap();
        let d2 = succeed("success");
        assert_eq!(d.called(), d2.called());
        assert_eq!(d.paused(), d2.paused());
        assert_eq!(d.is_waiting(), d2.is_waiting());
        assert_eq!(d.pending_callbacks(), d2.pending_callbacks());
        assert_eq!(d.result().unwrap().unwrap(), d2.result().unwrap().unwrap());
        let manual = format!("{d:?}");
        let tail = &manual[manual.find(" current result").unwrap()..];
        assert!(format!("{d2:?}").ends_with(tail), "{d2:?} vs {manual}");
        let add = |d: Deferred<&'static str>| d.add_callback(|s| Ok(s.len()));
        assert_eq!(success_result_of(add(d)), success_result_of(add(d2)));
    }

    /// twisted: DeferredTests.testImmediateFailure
    /// An errback added to `fail(e)` runs before `add_errback` returns.
    #[test]
    fn test_immediate_failure() {
        let got = Record::<Failure>::new();
        let g = got.clone();
        let _d = fail::<()>(GenericError("fail")).add_errback(move |f| g.push(f));
        assert_eq!(got.get()[0].error_message(), "fail");
    }

    /// twisted: DeferredTests.testPausedFailure
    /// An errback added to a paused failed Deferred runs only when it is unpaused.
    #[test]
    fn test_paused_failure() {
        let got = Record::<Failure>::new();
        let mut d = fail::<()>(GenericError("fail"));
        d.pause();
        let g = got.clone();
        let mut d = d.add_errback(move |f| g.push(f));
        assert!(got.is_empty());
        d.unpause().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got.get()[0].error_message(), "fail");
        success_result_of(d);
    }

    /// twisted: DeferredTests.testCallbackErrors
    /// A callback that panics, or returns a failure, sends that error to the next errback.
    #[test]
    fn test_callback_errors() {
        let got = Record::<Failure>::new();
        let g = got.clone();
        let (d, r) = Deferred::<i32>::new();
        let _d = d.add_callback(|x| Ok(divide_by_zero(x))).add_errback(move |f| {
            g.push(f);
            Ok(0)
        });
        r.callback(1).unwrap();
        assert!(got.get()[0].check::<PanicError>());
        assert!(got.get()[0].error_message().contains("divide by zero"));

        let got = Record::<Failure>::new();
        let g = got.clone();
        let (d2, r2) = Deferred::<i32>::new();
        let _d2 = d2
            .add_callback(|_| Err::<i32, _>(Failure::new(ZeroDivisionError("division by zero"))))
            .add_errback(move |f| {
                g.push(f);
                Ok(0)
            });
        r2.callback(1).unwrap();
        assert!(got.get()[0].check::<ZeroDivisionError>());
    }

    /// twisted: DeferredTests.testUnpauseBeforeCallback
    /// Pausing and unpausing an unfired Deferred runs nothing; firing it later runs the chain.
    #[test]
    fn test_unpause_before_callback() {
        let got = Record::new();
        let (mut d, r) = Deferred::<i32>::new();
        d.pause();
        let g = got.clone();
        let mut d = d.add_callback(move |x| {
            g.push(x);
            Ok(x)
        });
        d.unpause().unwrap();
        assert!(got.is_empty());
        assert_eq!(d.pending_callbacks(), 1);
        r.callback(7).unwrap();
        assert_eq!(got.get(), [7]);
    }

    /// twisted: DeferredTests.test_callbackReturnsDeferred
    /// A callback returning a Deferred holds the outer chain until that Deferred's result
    /// comes through: not when it fires while paused, only once it is unpaused, and the
    /// next callback then gets its result.
    #[test]
    fn test_callback_returns_deferred() {
        let got = Record::new();
        let (d1, r1) = Deferred::<i32>::new();
        let (mut d2, r2) = Deferred::<i32>::new();
        d2.pause();
        // The returned Deferred moves into d1's chain, so d2 (which the test keeps, to
        // unpause it) hands its result to the one returned, as if it were d2 itself.
        let (returned, r3) = Deferred::<i32>::new();
        let mut d2 = d2.chain_deferred(r3);
        let g = got.clone();
        let d1 = d1.add_callback(move |_| returned).add_callback(move |x| {
            g.push(x);
            Ok(x)
        });
        r1.callback(1).unwrap();
        assert!(got.is_empty(), "should not have been called yet");
        r2.callback(2).unwrap();
        assert!(got.is_empty(), "still should not have been called yet");
        assert!(d1.is_waiting());
        assert_no_result(&d1);
        d2.unpause().unwrap();
        assert_eq!(got.get(), [2], "the result should come from the second deferred");
        assert_eq!(success_result_of(d1), 2);
    }

    /// twisted: DeferredTests.test_callbackMaybeReturnsFailure
    /// A callback may return either a value or a failure; the failure keeps its identity.
    #[test]
    fn test_callback_maybe_returns_failure() {
        let rte = Failure::new(RuntimeError("rte"));
        let maybe_fail =
            |should_fail: bool, rte: Failure| move |x: i32| if should_fail { Err(rte) } else { Ok(x + 1) };
        let (d, r) = Deferred::<i32>::new();
        r.callback(6).unwrap();
        assert_eq!(
            success_result_of(d.add_callback(maybe_fail(false, rte.clone()))),
            7
        );
        let (d, r) = Deferred::<i32>::new();
        r.callback(6).unwrap();
        let d = d
            .add_callback(maybe_fail(true, rte.clone()))
            .add_callback(maybe_fail(true, rte.clone()));
        assert!(failure_result_of(d).ptr_eq(&rte));
    }

    /// twisted: DeferredTests.test_errbackReturnsDeferred
    /// An errback may return a Deferred, and the chain waits for it just as for a callback.
    #[test]
    fn test_errback_returns_deferred() {
        let got = Record::new();
        let (d, r) = Deferred::<&str>::new();
        let (d2, r2) = Deferred::<&str>::new();
        let g = got.clone();
        let d = d.add_errback(move |_f| d2).add_callback(move |v| {
            g.push(v);
            Ok(v)
        });
        r.errback(ValueError("")).unwrap();
        assert_no_result(&d);
        assert!(got.is_empty());
        r2.callback("result").unwrap();
        assert_eq!(got.get(), ["result"]);
    }

    /// twisted: DeferredTests.test_chainedPausedDeferredWithResult
    /// A paused Deferred that already has a result, returned from a callback, holds the outer
    /// chain. (The `unpause` half cannot be written: the paused Deferred moved into the chain.)
    #[test]
    fn test_chained_paused_deferred_with_result() {
        let got = Record::new();
        let (mut paused, rp) = Deferred::<&str>::new();
        rp.callback("expected").unwrap();
        paused.pause();
        let (chained, rc) = Deferred::<()>::new();
        let chained = chained.add_callback(move |()| paused);
        rc.callback(()).unwrap();
        let g = got.clone();
        let chained = chained.add_callback(move |v| g.push(v));
        assert!(got.is_empty());
        assert!(chained.is_waiting());
    }

    /// twisted: DeferredTests.test_pausedDeferredChained
    /// Pausing the outer Deferred does not stop the inner one it waits on from running its own
    /// callbacks when it fires.
    #[test]
    fn test_paused_deferred_chained() {
        let got = Record::new();
        let (first, rf) = Deferred::<()>::new();
        let (second, rs) = Deferred::<()>::new();
        let g = got.clone();
        let second = second.add_callback(move |()| g.push("second"));
        let mut first = first.add_callback(move |()| second);
        rf.callback(()).unwrap();
        first.pause();
        rs.callback(()).unwrap();
        assert_eq!(got.get(), ["second"]);
        let g = got.clone();
        let mut first = first.add_callback(move |()| g.push("first"));
        assert_eq!(got.get(), ["second"]);
        first.unpause().unwrap();
        assert_eq!(got.get(), ["second", "first"]);
    }

    /// twisted: DeferredTests.test_gatherResults
    /// gather_results gives the values in order, or a failure if any input fails.
    #[test]
    fn test_gather_results() {
        let logged = LoggedErrors::capture();
        assert_eq!(
            success_result_of(gather_results(vec![succeed(1), succeed(2)])),
            [1, 2]
        );
        let d = gather_results(vec![succeed(1), fail(ValueError(""))]);
        assert!(failure_result_of(d).check::<FirstError>());
        // The failed input was not consumed, so it reports its failure as unhandled.
        assert_eq!(logged.flush::<ValueError>().len(), 1);
    }

    /// twisted: DeferredTests.test_gatherResultsWithConsumeErrors
    /// With consume_errors a failed input's chain stops at the gather, which fails with a
    /// FirstError wrapping the original failure.
    #[test]
    fn test_gather_results_with_consume_errors() {
        let logged = LoggedErrors::capture();
        let dgood = succeed(1);
        let dbad = fail(RuntimeError("oh noes"));
        let d = DeferredList::new(vec![dgood, dbad]).consume_errors().gather();
        let f = failure_result_of(d);
        let first = f.downcast_ref::<FirstError>().unwrap();
        assert!(first.failure.check::<RuntimeError>());
        assert!(logged.is_empty());
    }

    /// twisted: DeferredTests.test_cancelGatherResults
    /// Cancelling a gather cancels every input; it fails with FirstError(CancelledError).
    #[test]
    fn test_cancel_gather_results() {
        let logged = LoggedErrors::capture();
        let (d1, r1) = Deferred::<()>::new();
        let (d2, r2) = Deferred::<()>::new();
        let result = gather_results(vec![d1, d2]);
        result.cancel();
        assert!(r1.called() && r2.called());
        let f = failure_result_of(result);
        assert!(
            f.downcast_ref::<FirstError>()
                .unwrap()
                .failure
                .check::<CancelledError>()
        );
        drop((r1, r2));
        assert_eq!(logged.flush::<CancelledError>().len(), 2);
    }

    /// twisted: DeferredTests.test_cancelGatherResultsWithAllDeferredsCallback
    /// If every input's canceller succeeds, the cancelled gather succeeds with their values.
    #[test]
    fn test_cancel_gather_results_with_all_deferreds_callback() {
        let (d1, _r1) = Deferred::with_canceller(fake_callback_canceller);
        let (d2, _r2) = Deferred::with_canceller(fake_callback_canceller);
        let result = gather_results(vec![d1, d2]);
        result.cancel();
        assert_eq!(success_result_of(result), ["Callback Result", "Callback Result"]);
    }

    /// twisted: DeferredTests.test_maybeDeferredSync
    /// maybe_deferred wraps a synchronous function's value in a fired Deferred.
    #[test]
    fn test_maybe_deferred_sync() {
        let token = Arc::new(());
        let t = Arc::clone(&token);
        let d = maybe_deferred(move || Ok(t));
        assert!(Arc::ptr_eq(&success_result_of(d), &token));
    }

    /// twisted: DeferredTests.test_maybeDeferredSyncWithArgs
    /// Arguments reach the function (captured by the closure).
    #[test]
    fn test_maybe_deferred_sync_with_args() {
        let plus_five = |x: i32| x + 5;
        let arg = 10;
        assert_eq!(success_result_of(maybe_deferred(move || Ok(plus_five(arg)))), 15);
    }

    /// twisted: DeferredTests.test_maybeDeferredSyncException
    /// A function that fails (returns an error or panics) gives a failed Deferred.
    #[test]
    fn test_maybe_deferred_sync_exception() {
        let d = maybe_deferred::<i32, _, _>(|| Err(ValueError("that value is unacceptable").into()));
        assert_eq!(failure_result_of(d).error_message(), "that value is unacceptable");
        let d = maybe_deferred::<i32, Result<i32, Failure>, _>(|| panic!("that value is unacceptable"));
        let f = failure_result_of(d);
        assert!(f.check::<PanicError>());
        assert!(f.error_message().contains("that value is unacceptable"));
    }

    /// twisted: DeferredTests.test_maybeDeferredSyncFailure
    /// A returned Failure is passed on as the very same Failure.
    #[test]
    fn test_maybe_deferred_sync_failure() {
        let expected = Failure::new(ValueError("10 + 5"));
        let e = expected.clone();
        let d = maybe_deferred::<i32, _, _>(move || Err(e));
        assert!(failure_result_of(d).ptr_eq(&expected));
    }

    /// twisted: DeferredTests.test_maybeDeferredAsync
    /// A returned Deferred is passed through, so it gives the original result when it fires.
    #[test]
    fn test_maybe_deferred_async() {
        let (d1, r1) = Deferred::<&str>::new();
        let d2 = maybe_deferred(move || d1);
        r1.callback("Success").unwrap();
        assert_eq!(success_result_of(d2), "Success");
    }

    /// twisted: DeferredTests.test_maybeDeferredAsyncError
    /// A returned Deferred's later failure is the result, unchanged.
    #[test]
    fn test_maybe_deferred_async_error() {
        let (d1, r1) = Deferred::<()>::new();
        let d2 = maybe_deferred(move || d1);
        let error = Failure::new(RuntimeError("x"));
        r1.errback(error.clone()).unwrap();
        assert!(failure_result_of(d2).ptr_eq(&error));
    }

    /// twisted: DeferredTests.test_maybeDeferredCoroutineSuccess
    /// A function returning async work (through `from_future`) gives that work's result.
    #[test]
    fn test_maybe_deferred_coroutine_success() {
        #[allow(clippy::unused_async, reason = "Twisted's test uses an async function")]
        async fn f() -> Result<i32, Failure> {
            Ok(7)
        }
        assert_eq!(
            success_result_of(maybe_deferred(|| Deferred::from_future(f()))),
            7
        );
    }

    /// twisted: DeferredTests.test_maybeDeferredCoroutineSuccessIndirect
    /// The async work may come from an ordinary function, and callbacks added see its value.
    #[test]
    fn test_maybe_deferred_coroutine_success_indirect() {
        #[allow(clippy::unused_async, reason = "Twisted's test uses an async function")]
        async fn f() -> Result<i32, Failure> {
            Ok(7)
        }
        fn g() -> Deferred<i32> {
            Deferred::from_future(f())
        }
        let d = maybe_deferred(g).add_callback(|x| Ok(x + 1));
        assert_eq!(success_result_of(d), 8);
    }

    /// twisted: DeferredTests.test_maybeDeferredCoroutineFailure
    /// An error raised by the async work fails the Deferred with that error.
    #[test]
    fn test_maybe_deferred_coroutine_failure() {
        #[derive(Debug, thiserror::Error)]
        #[error("some exception")]
        struct SomeException;
        #[allow(clippy::unused_async, reason = "Twisted's test uses an async function")]
        async fn f() -> Result<(), Failure> {
            Err(SomeException.into())
        }
        let d = maybe_deferred(|| Deferred::from_future(f()));
        assert!(failure_result_of(d).check::<SomeException>());
    }

    /// Builds the nested chain of `test_innerCallbacksPreserved` and
    /// `test_nestedAsynchronousChainedDeferreds`: `cb` returns a fired Deferred whose first
    /// callback returns `inner`.
    fn nested_cb(
        results: &Record<String>,
        failures: &Record<Failure>,
        inner: Deferred<String>,
    ) -> impl FnOnce(String) -> Deferred<String> + Send + 'static {
        let (results, failures) = (results.clone(), failures.clone());
        move |result: String| {
            results.push(format!("start-of-cb {result}"));
            let (r1, r2) = (results.clone(), results.clone());
            succeed("inner".to_owned())
                .add_callback(move |_| {
                    r1.push("firstCallback inner".to_owned());
                    inner
                })
                .add_callback(move |result: String| {
                    r2.push(format!("secondCallback {result}"));
                    Ok(result.repeat(2))
                })
                .add_errback(move |f| {
                    failures.push(f.clone());
                    Err(f)
                })
        }
    }

    /// twisted: DeferredTests.test_innerCallbacksPreserved
    /// When the Deferred a callback returned is itself waiting on a third one, its remaining
    /// callbacks run after the third fires and before the outer chain gets the result.
    #[test]
    fn test_inner_callbacks_preserved() {
        let results = Record::new();
        let failures = Record::new();
        let (inner, ri) = Deferred::<String>::new();
        let outer = succeed("outer".to_owned()).add_callback(nested_cb(&results, &failures, inner));
        ri.callback("orange".into()).unwrap();
        let r = results.clone();
        let _outer = outer.add_callback(move |v| r.push(v));
        assert!(failures.is_empty());
        assert_eq!(
            results.get(),
            [
                "start-of-cb outer",
                "firstCallback inner",
                "secondCallback orange",
                "orangeorange"
            ]
        );
    }

    /// The shared body of `test_continueCallbackNotFirst` and `test_callbackOrderPreserved`.
    fn gather_cb(
        results: &Record<String>,
        failures: &Record<Failure>,
        a: Deferred<&'static str>,
    ) -> impl FnOnce(&'static str) -> Deferred<()> + Send + 'static {
        let (results, failures) = (results.clone(), failures.clone());
        move |result| {
            results.push(format!("cb {result}"));
            let (d, rd) = Deferred::<()>::new();
            let (r1, r2) = (results.clone(), results.clone());
            let returner = d
                .add_callback(move |()| {
                    r1.push("firstCallback".to_owned());
                    gather_results(vec![a])
                })
                .add_callback(move |list: Vec<&str>| r2.push(format!("secondCallback {list:?}")))
                .add_errback(move |f| failures.push(f));
            rd.callback(()).unwrap();
            returner
        }
    }

    /// twisted: DeferredTests.test_continueCallbackNotFirst
    /// The step that hands a result back to a waiting Deferred need not be first in the chain.
    #[test]
    fn test_continue_callback_not_first() {
        let results = Record::new();
        let failures = Record::new();
        let (a, ra) = Deferred::<&str>::new();
        let f = failures.clone();
        let _d = succeed("outer")
            .add_callback(gather_cb(&results, &failures, a))
            .add_errback(move |e| f.push(e));
        assert_eq!(results.get(), ["cb outer", "firstCallback"]);
        ra.callback("withers").unwrap();
        assert!(failures.is_empty());
        assert_eq!(
            results.get(),
            ["cb outer", "firstCallback", "secondCallback [\"withers\"]"]
        );
    }

    /// twisted: DeferredTests.test_callbackOrderPreserved
    /// A callback added after one that returned a Deferred runs after that Deferred's own
    /// callbacks.
    #[test]
    fn test_callback_order_preserved() {
        let results = Record::new();
        let failures = Record::new();
        let (a, ra) = Deferred::<&str>::new();
        let (outer, ro) = Deferred::<&str>::new();
        let (r, f) = (results.clone(), failures.clone());
        let _outer = outer
            .add_callback(gather_cb(&results, &failures, a))
            .add_callback(move |()| r.push("final".to_owned()))
            .add_errback(move |e| f.push(e));
        ro.callback("outer").unwrap();
        assert_eq!(results.get(), ["cb outer", "firstCallback"]);
        ra.callback("withers").unwrap();
        assert!(failures.is_empty());
        assert_eq!(
            results.get(),
            [
                "cb outer",
                "firstCallback",
                "secondCallback [\"withers\"]",
                "final"
            ]
        );
    }

    /// A Deferred a callback can reach while it runs, for re-entrancy tests.
    type Slot<T> = Arc<Mutex<Option<Deferred<T>>>>;

    /// Adds `step` to the Deferred in `slot` (from inside one of its own callbacks).
    fn add_from_inside<T: Send + 'static>(
        slot: &Slot<T>,
        step: impl FnOnce(T) -> Result<T, Failure> + Send + 'static,
    ) {
        let d = slot.lock().unwrap().take().expect("the deferred is in its slot");
        let d = d.add_callback(step);
        *slot.lock().unwrap() = Some(d);
    }

    /// twisted: DeferredTests.test_reentrantRunCallbacks
    /// A callback added by a running callback of the same Deferred goes to the end of the chain.
    #[test]
    fn test_reentrant_run_callbacks() {
        let called = Record::new();
        let slot: Slot<()> = Arc::new(Mutex::new(None));
        let (d, r) = Deferred::<()>::new();
        let (c1, c2, c3, s) = (called.clone(), called.clone(), called.clone(), slot.clone());
        let d = d
            .add_callback(move |()| {
                c1.push(1);
                add_from_inside(&s, move |()| {
                    c3.push(3);
                    Ok(())
                });
                Ok(())
            })
            .add_callback(move |()| {
                c2.push(2);
                Ok(())
            });
        *slot.lock().unwrap() = Some(d);
        r.callback(()).unwrap();
        assert_eq!(called.get(), [1, 2, 3]);
    }

    /// twisted: DeferredTests.test_nonReentrantCallbacks
    /// A callback added by a running callback does not run before the running one returns.
    #[test]
    fn test_non_reentrant_callbacks() {
        let called = Record::new();
        let slot: Slot<()> = Arc::new(Mutex::new(None));
        let (d, r) = Deferred::<()>::new();
        let (c1, c2, s) = (called.clone(), called.clone(), slot.clone());
        let d = d.add_callback(move |()| {
            c1.push(1);
            add_from_inside(&s, move |()| {
                c2.push(2);
                Ok(())
            });
            assert_eq!(c1.get(), [1]);
            Ok(())
        });
        *slot.lock().unwrap() = Some(d);
        r.callback(()).unwrap();
        assert_eq!(called.get(), [1, 2]);
    }

    /// twisted: DeferredTests.test_reentrantRunCallbacksWithFailure
    /// A failing callback added from inside a callback leaves its failure as the result.
    #[test]
    fn test_reentrant_run_callbacks_with_failure() {
        let slot: Slot<()> = Arc::new(Mutex::new(None));
        let (d, r) = Deferred::<()>::new();
        let s = slot.clone();
        let d = d.add_callback(move |()| {
            add_from_inside(&s, |()| Err(GenericError("callback raised exception").into()));
            Ok(())
        });
        *slot.lock().unwrap() = Some(d);
        r.callback(()).unwrap();
        let d = slot.lock().unwrap().take().unwrap();
        let f = failure_result_of(d);
        assert!(f.check::<GenericError>());
        assert_eq!(f.error_message(), "callback raised exception");
    }

    /// A value that cannot be copied, to show results are moved along chains.
    #[derive(Debug)]
    struct Token(Arc<()>);

    /// twisted: DeferredTests.test_synchronousImplicitChain
    /// A fired Deferred returned from a callback hands its result over to the outer chain
    /// (moved, not copied).
    #[test]
    fn test_synchronous_implicit_chain() {
        let token = Arc::new(());
        for ready in [true, false] {
            let first = if ready {
                succeed(Token(Arc::clone(&token)))
            } else {
                let (d, r) = Deferred::new();
                r.callback(Token(Arc::clone(&token))).unwrap();
                d
            };
            let (second, rs) = Deferred::<()>::new();
            let second = second.add_callback(move |()| first);
            rs.callback(()).unwrap();
            let Token(got) = success_result_of(second);
            assert!(Arc::ptr_eq(&got, &token));
            drop(got);
            assert_eq!(Arc::strong_count(&token), 1, "the inner Deferred kept no copy");
        }
    }

    /// twisted: DeferredTests.test_asynchronousImplicitChain
    /// An unfired Deferred returned from a callback gives its result to the outer chain once
    /// it fires; callbacks added to it before it was returned run first, with the real value.
    #[test]
    fn test_asynchronous_implicit_chain() {
        let first_result = Record::new();
        let second_result = Record::new();
        let (first, rf) = Deferred::<&str>::new();
        let fr = first_result.clone();
        let first = first.add_callback(move |v| {
            fr.push(v);
            Ok(v)
        });
        let (second, rs) = Deferred::<()>::new();
        let second = second.add_callback(move |()| first);
        rs.callback(()).unwrap();
        let sr = second_result.clone();
        let _second = second.add_callback(move |v| sr.push(v));
        assert!(first_result.is_empty() && second_result.is_empty());
        rf.callback("result").unwrap();
        assert_eq!(first_result.get(), ["result"]);
        assert_eq!(second_result.get(), ["result"]);
    }

    /// twisted: DeferredTests.test_synchronousImplicitErrorChain
    /// A failed Deferred returned from a callback moves its failure to the outer chain and is
    /// not reported as unhandled itself.
    #[test]
    fn test_synchronous_implicit_error_chain() {
        let logged = LoggedErrors::capture();
        let first = fail::<()>(RuntimeError("First Deferred's Failure"));
        let (second, rs) = Deferred::<()>::new();
        let second = second.add_callback(move |()| first);
        rs.callback(()).unwrap();
        assert!(failure_result_of(second).check::<RuntimeError>());
        drop(rs);
        assert!(logged.is_empty());
    }

    /// twisted: DeferredTests.test_asynchronousImplicitErrorChain
    /// When the returned Deferred fails later, the outer chain gets the failure, and nothing is
    /// reported as unhandled for the inner one.
    #[test]
    fn test_asynchronous_implicit_error_chain() {
        let logged = LoggedErrors::capture();
        let second_error = Record::<Failure>::new();
        let second_result = Record::new();
        let (first, rf) = Deferred::<()>::new();
        let (second, rs) = Deferred::<()>::new();
        let second = second.add_callback(move |()| first);
        rs.callback(()).unwrap();
        let (se, sr) = (second_error.clone(), second_result.clone());
        let _second = second
            .add_errback(move |f| se.push(f))
            .add_callback(move |()| sr.push(()));
        assert!(second_result.is_empty());
        rf.errback(RuntimeError("First Deferred's Failure")).unwrap();
        assert!(second_error.get()[0].check::<RuntimeError>());
        assert_eq!(second_result.len(), 1);
        drop((rf, rs));
        assert!(logged.is_empty());
    }

    /// twisted: DeferredTests.test_doubleAsynchronousImplicitChaining
    /// Chaining is transitive: A waits on B, B waits on C; when C fires, A fires.
    #[test]
    fn test_double_asynchronous_implicit_chaining() {
        let third_result = Record::new();
        let (first, rf) = Deferred::<&str>::new();
        let (second, rs) = Deferred::<()>::new();
        let second = second.add_callback(move |()| first);
        let (third, rt) = Deferred::<()>::new();
        let tr = third_result.clone();
        let _third = third
            .add_callback(move |()| second)
            .add_callback(move |v| tr.push(v));
        rs.callback(()).unwrap();
        rt.callback(()).unwrap();
        assert!(third_result.is_empty());
        rf.callback("result").unwrap();
        assert_eq!(third_result.get(), ["result"]);
    }

    /// twisted: DeferredTests.test_nestedAsynchronousChainedDeferreds
    /// Nested Deferreds fired out of order: the outer chain continues once the innermost fires.
    #[test]
    fn test_nested_asynchronous_chained_deferreds() {
        let results = Record::new();
        let failures = Record::new();
        let (inner, ri) = Deferred::<String>::new();
        let r = results.clone();
        let outer = succeed("outer".to_owned())
            .add_callback(nested_cb(&results, &failures, inner))
            .add_callback(move |v| r.push(v));
        assert_eq!(results.get(), ["start-of-cb outer", "firstCallback inner"]);
        ri.callback("orange".into()).unwrap();
        let f = failures.clone();
        let _outer = outer.add_errback(move |e| f.push(e));
        assert!(failures.is_empty(), "got errbacks but wasn't expecting any");
        assert_eq!(
            results.get(),
            [
                "start-of-cb outer",
                "firstCallback inner",
                "secondCallback orange",
                "orangeorange"
            ]
        );
    }

    /// twisted: DeferredTests.test_nestedAsynchronousChainedDeferredsWithExtraCallbacks
    /// An inner Deferred with a result-transforming callback added before it is returned
    /// changes what the outer chain receives.
    #[test]
    fn test_nested_asynchronous_chained_deferreds_with_extra_callbacks() {
        let results = Record::<String>::new();
        let failures = Record::<Failure>::new();
        let (inner, ri) = Deferred::<String>::new();
        let (r0, f0) = (results.clone(), failures.clone());
        let cb = move |result: String| {
            r0.push(format!("start-of-cb {result}"));
            let (r1, r2) = (r0.clone(), r0.clone());
            succeed("inner".to_owned())
                .add_callback(move |result: String| {
                    r1.push(format!("firstCallback {result}"));
                    inner.add_callback(|result| Ok(vec![result]))
                })
                .add_callback(move |result: Vec<String>| {
                    r2.push(format!("secondCallback {result:?}"));
                    Ok([result.clone(), result].concat())
                })
                .add_errback(move |f| {
                    f0.push(f.clone());
                    Err(f)
                })
        };
        let r = results.clone();
        let outer = succeed("outer".to_owned())
            .add_callback(cb)
            .add_callback(move |v| r.push(format!("{v:?}")));
        assert_eq!(results.get(), ["start-of-cb outer", "firstCallback inner"]);
        ri.callback("withers".into()).unwrap();
        let f = failures.clone();
        let _outer = outer.add_errback(move |e| f.push(e));
        assert!(failures.is_empty());
        assert_eq!(
            results.get(),
            [
                "start-of-cb outer",
                "firstCallback inner",
                "secondCallback [\"withers\"]",
                "[\"withers\", \"withers\"]"
            ]
        );
    }

    /// twisted: DeferredTests.test_explicitChainClearedWhenResolved
    /// `chain_deferred`: when the first Deferred fires, the second fires with its result and
    /// waits on nothing.
    #[test]
    fn test_explicit_chain_cleared_when_resolved() {
        let (a, ra) = Deferred::<i32>::new();
        let (b, rb) = Deferred::<i32>::new();
        let b = b.chain_deferred(ra);
        assert!(!a.called());
        rb.callback(5).unwrap();
        assert!(!a.is_waiting());
        assert_eq!(success_result_of(a), 5);
        success_result_of(b);
    }

    /// twisted: DeferredTests.test_chainDeferredRecordsImplicitChain
    /// A Deferred waiting on one its callback returned says so, and names it.
    #[test]
    fn test_chain_deferred_records_implicit_chain() {
        let (a, ra) = Deferred::<()>::new();
        let (b, _rb) = Deferred::<()>::new();
        let b_address = address_of(&format!("{b:?}"));
        let a = a.add_callback(move |()| b);
        ra.callback(()).unwrap();
        assert!(a.is_waiting());
        assert!(format!("{a:?}").contains(&format!("waiting on Deferred at {b_address}")));
    }

    /// twisted: DeferredTests.test_circularChainException
    /// A callback that returns the Deferred it is attached to fails that Deferred instead of
    /// leaving it stuck (Twisted does this when its DeprecationWarning is an error). The only
    /// handle left is the resolver, so the failure shows up as unhandled when it goes away.
    #[test]
    fn test_circular_chain_exception() {
        let logged = LoggedErrors::capture();
        let slot: Slot<&str> = Arc::new(Mutex::new(None));
        let (d, r) = Deferred::<&str>::new();
        let s = slot.clone();
        let d = d.add_callback(move |_| s.lock().unwrap().take().expect("in its slot"));
        *slot.lock().unwrap() = Some(d);
        r.callback("foo").unwrap();
        assert!(slot.lock().unwrap().is_none());
        drop(r);
        let failures = logged.flush_all();
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0]
                .error_message()
                .contains("returned the deferred it was attached to"),
            "{:?}",
            failures[0]
        );
    }

    /// twisted: DeferredTests.test_repr
    /// An unfired Deferred's Debug output is `<Deferred at 0x...>`.
    #[test]
    fn test_repr() {
        let (d, r) = Deferred::<()>::new();
        let repr = format!("{d:?}");
        let address = address_of(&repr);
        assert_eq!(repr, format!("<Deferred at {address}>"));
        assert!(address.len() > 2 && u64::from_str_radix(&address[2..], 16).is_ok());
        assert_eq!(format!("{r:?}"), repr, "the resolver shows the same Deferred");
    }

    /// twisted: DeferredTests.test_reprWithResult
    /// A fired Deferred's Debug output shows its current result.
    #[test]
    fn test_repr_with_result() {
        let (d, r) = Deferred::<&str>::new();
        r.callback("orange").unwrap();
        let repr = format!("{d:?}");
        assert_eq!(
            repr,
            format!("<Deferred at {} current result: \"orange\">", address_of(&repr))
        );
    }

    /// twisted: DeferredTests.test_reprWithChaining
    /// A Deferred waiting on another shows `waiting on Deferred at 0x...`.
    #[test]
    fn test_repr_with_chaining() {
        let (a, ra) = Deferred::<()>::new();
        let (b, _rb) = Deferred::<()>::new();
        let b_address = address_of(&format!("{b:?}"));
        let a = a.add_callback(move |()| b);
        ra.callback(()).unwrap();
        let repr = format!("{a:?}");
        assert_eq!(
            repr,
            format!(
                "<Deferred at {} waiting on Deferred at {b_address}>",
                address_of(&repr)
            )
        );
    }

    /// Chains `top` through `how_many` Deferreds, each returned by the previous one's callback,
    /// to `last`, fires them all, then `last`; returns the stack position of the final callback
    /// relative to the caller.
    fn chain_deferreds(how_many: usize) -> usize {
        let base = 0_u8;
        let base_addr = std::ptr::addr_of!(base) as usize;
        let stack = Record::new();
        let (last, r_last) = Deferred::<()>::new();
        let mut resolvers = Vec::with_capacity(how_many);
        let mut next = last;
        for _ in 0..how_many {
            let (d, r) = Deferred::<()>::new();
            resolvers.push(r);
            let inner = next;
            next = d.add_callback(move |()| inner);
        }
        let (top, r_top) = Deferred::<()>::new();
        let s = stack.clone();
        let top = top.add_callback(move |()| next).add_callback(move |()| {
            let here = 0_u8;
            s.push(base_addr.abs_diff(std::ptr::addr_of!(here) as usize));
        });
        r_top.callback(()).unwrap();
        for r in &resolvers {
            r.callback(()).unwrap();
        }
        assert!(stack.is_empty(), "the final callback waits for the last Deferred");
        r_last.callback(()).unwrap();
        success_result_of(top);
        stack.get()[0]
    }

    /// twisted: DeferredTests.test_boundedStackDepth
    /// The final callback runs at the same stack depth however many Deferreds are chained, and
    /// 100,000 of them fit in a 256 KiB stack.
    #[test]
    fn test_bounded_stack_depth() {
        let _limit = crate::common::time_limit();
        let depths = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| (chain_deferreds(1), chain_deferreds(2), chain_deferreds(100_000)))
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(depths.0, depths.1);
        assert_eq!(depths.0, depths.2);
    }

    /// twisted: DeferredTests.test_resultOfDeferredResultOfDeferredOfFiredDeferredCalled
    /// With first waiting on second waiting on third, fired in the order second, first, third,
    /// second's own callbacks run once third fires and first gets the final result. (Twisted
    /// adds second's callback after chaining; here it is added before second is returned.)
    #[test]
    fn test_result_of_deferred_result_of_deferred_of_fired_deferred_called() {
        let results = Record::new();
        let (first, rf) = Deferred::<()>::new();
        let (second, rs) = Deferred::<()>::new();
        let (third, rt) = Deferred::<()>::new();
        let r = results.clone();
        let second = second
            .add_callback(move |()| third)
            .add_callback(move |()| r.push("second"));
        let first = first.add_callback(move |()| second);
        rs.callback(()).unwrap();
        rf.callback(()).unwrap();
        assert!(results.is_empty());
        rt.callback(()).unwrap();
        assert_eq!(results.get(), ["second"]);
        success_result_of(first);
    }

    /// twisted: DeferredTests.test_fromCoroutine
    /// `from_future` of an async block gives a Deferred of its typed result.
    #[test]
    fn test_from_coroutine() {
        #[allow(clippy::unused_async, reason = "Twisted's test uses an async function")]
        async fn returns_int() -> Result<i32, Failure> {
            Ok(1)
        }
        let d: Deferred<i32> = Deferred::from_future(returns_int());
        assert_eq!(success_result_of(d), 1);
    }

    /// A canceller that keeps the Deferred it cancels alive (a reference cycle) and a token
    /// whose lifetime shows when the canceller is dropped.
    fn cyclic_canceller<T: Send + 'static>() -> (Deferred<T>, Resolver<T>, Weak<()>) {
        let token = Arc::new(());
        let weak = Arc::downgrade(&token);
        let holder: Arc<Mutex<Option<Resolver<T>>>> = Arc::new(Mutex::new(None));
        let h = Arc::clone(&holder);
        let (d, r) = Deferred::<T>::with_canceller(move |_r| {
            let _keep = (&token, &h);
            unreachable!("not cancelled in these tests");
        });
        *holder.lock().unwrap() = Some(r.clone());
        (d, r, weak)
    }

    /// twisted: DeferredTests.test_canceller_circular_reference_callback
    /// Firing a Deferred drops its canceller, breaking a cycle through it.
    #[test]
    fn test_canceller_circular_reference_callback() {
        let (d, r, canceller) = cyclic_canceller::<Token>();
        let value = Arc::new(());
        r.callback(Token(Arc::clone(&value))).unwrap();
        assert!(canceller.upgrade().is_none());
        drop((d, r));
        assert_eq!(Arc::strong_count(&value), 1, "the Deferred itself was freed");
    }

    /// twisted: DeferredTests.test_canceller_circular_reference_errback
    /// Failing a Deferred drops its canceller too.
    #[test]
    fn test_canceller_circular_reference_errback() {
        let (d, r, canceller) = cyclic_canceller::<()>();
        r.errback(GenericError("The test demands failures.")).unwrap();
        failure_result_of(d);
        assert!(canceller.upgrade().is_none());
    }

    /// twisted: DeferredTests.test_canceller_circular_reference_non_final
    /// The canceller is dropped on firing even if the chain then waits on another Deferred.
    #[test]
    fn test_canceller_circular_reference_non_final() {
        let (d, r, canceller) = cyclic_canceller::<()>();
        let d = d.add_callback(|()| Deferred::<()>::new().0);
        r.callback(()).unwrap();
        drop((d, r));
        assert!(canceller.upgrade().is_none());
    }
}

use crate::common::{cancel_counts as counts, race_state as setup_race_state};

mod race_tests {
    use super::*;

    /// twisted: RaceTests.test_success
    /// The first success wins with its index and value, and every other input is cancelled
    /// exactly once (for 0..=3 inputs before and after the winner).
    #[test]
    fn test_success() {
        let logged = LoggedErrors::capture();
        for before in 0..=3 {
            for after in 0..=3 {
                let (state, ds, rs) = setup_race_state(before + 1 + after);
                let race_result = race(ds);
                rs[before].callback(42).unwrap();
                assert_eq!(success_result_of(race_result), (before, 42));
                let mut expected = vec![1; before];
                expected.push(0);
                expected.extend(vec![1; after]);
                assert_eq!(counts(&state), expected);
            }
        }
        assert!(logged.is_empty(), "the losers' CancelledErrors were consumed");
    }

    /// twisted: RaceTests.test_failure
    /// When every input fails, the race fails with a FailureGroup of their failures in input
    /// order, and nothing is cancelled.
    #[test]
    fn test_failure() {
        for before in 0..=3 {
            for after in 0..=3 {
                let (state, ds, rs) = setup_race_state(before + 1 + after);
                let failure = Failure::new(GenericError("The test demands failures."));
                let race_result = race(ds);
                for r in &rs {
                    r.errback(failure.clone()).unwrap();
                }
                let f = failure_result_of(race_result);
                let group = f.downcast_ref::<FailureGroup>().expect("a FailureGroup");
                assert_eq!(group.failures.len(), rs.len());
                assert!(group.failures.iter().all(|g| g.ptr_eq(&failure)));
                assert_eq!(counts(&state), vec![0; rs.len()]);
            }
        }
    }

    /// twisted: RaceTests.test_resultAfterCancel
    /// A loser that fires after it was cancelled goes nowhere and logs nothing.
    #[test]
    fn test_result_after_cancel() {
        for before in 0..=3 {
            for after in 0..=3 {
                let logged = LoggedErrors::capture();
                let (ds, rs): (Vec<_>, Vec<_>) =
                    (0..before + 2 + after).map(|_| Deferred::<()>::new()).unzip();
                let race_result = race(ds);
                rs[before].callback(()).unwrap();
                assert_eq!(rs[before + 1].callback(()), Ok(()), "absorbed after cancel");
                assert_eq!(success_result_of(race_result).0, before);
                drop(rs);
                assert!(logged.is_empty());
            }
        }
    }

    /// twisted: RaceTests.test_resultFromCancel
    /// A loser whose canceller fires it with a success does no harm.
    #[test]
    fn test_result_from_cancel() {
        let (winner, rw) = Deferred::<i32>::new();
        let (loser, _rl) = Deferred::<i32>::with_canceller(|r| r.callback(-1).unwrap());
        let race_result = race(vec![winner, loser]);
        rw.callback(42).unwrap();
        assert_eq!(success_result_of(race_result), (0, 42));
    }

    /// twisted: RaceTests.test_cancel
    /// Cancelling the race cancels every input; it then fails with a FailureGroup.
    #[test]
    fn test_cancel() {
        for n in 1..=3 {
            let (state, ds, _rs) = setup_race_state(n);
            let race_result = race(ds);
            race_result.cancel();
            assert_eq!(counts(&state), vec![1; n]);
            let f = failure_result_of(race_result);
            let group = f.downcast_ref::<FailureGroup>().unwrap();
            assert!(group.failures.iter().all(Failure::check::<CancelledError>));
        }
    }
}

mod first_error_tests {
    use super::*;

    /// twisted: FirstErrorTests.test_repr
    /// The Debug form of a FirstError shows its index and the wrapped error.
    #[test]
    fn test_repr() {
        let f = Failure::new(ValueError("some text"));
        let error = FirstError { failure: f, index: 3 };
        let repr = format!("{error:?}");
        assert!(repr.contains("index: 3"), "{repr}");
        assert!(repr.contains("some text"), "{repr}");
    }

    /// twisted: FirstErrorTests.test_str
    /// The Display form is `FirstError[#index, failure]`.
    #[test]
    fn test_str() {
        let f = Failure::new(ValueError("some text"));
        let error = FirstError {
            failure: f.clone(),
            index: 5,
        };
        assert_eq!(error.to_string(), format!("FirstError[#5, {f}]"));
    }

    /// twisted: FirstErrorTests.test_comparison
    /// FirstErrors are equal exactly when their failure (by identity) and index are equal.
    #[test]
    fn test_comparison() {
        let first_failure = Failure::new(ZeroDivisionError("division by zero"));
        let one = FirstError {
            failure: first_failure.clone(),
            index: 13,
        };
        let another_one = FirstError {
            failure: first_failure.clone(),
            index: 13,
        };
        let another = FirstError {
            failure: Failure::new(ValueError("bar")),
            index: 9,
        };
        assert!(one == another_one);
        assert!(one != another);
        assert!(
            one != FirstError {
                failure: first_failure,
                index: 9
            }
        );
    }
}

mod already_called_tests {
    use super::*;

    fn new_deferred() -> (Deferred<&'static str>, Resolver<&'static str>) {
        let (d, r) = Deferred::<&str>::new();
        (d.add_callbacks(Ok, |_f| Ok("handled")), r)
    }

    /// twisted: AlreadyCalledTests.testAlreadyCalled_CC
    /// A second callback after a callback is refused.
    #[test]
    fn test_already_called_cc() {
        let (_d, r) = new_deferred();
        r.callback("hello").unwrap();
        assert_eq!(r.callback("twice"), Err(AlreadyCalledError));
    }

    /// twisted: AlreadyCalledTests.testAlreadyCalled_CE
    /// An errback after a callback is refused.
    #[test]
    fn test_already_called_ce() {
        let (_d, r) = new_deferred();
        r.callback("hello").unwrap();
        assert_eq!(r.errback(RuntimeError("")), Err(AlreadyCalledError));
    }

    /// twisted: AlreadyCalledTests.testAlreadyCalled_EE
    /// A second errback after an errback is refused.
    #[test]
    fn test_already_called_ee() {
        let (_d, r) = new_deferred();
        r.errback(RuntimeError("")).unwrap();
        assert_eq!(r.errback(RuntimeError("")), Err(AlreadyCalledError));
    }

    /// twisted: AlreadyCalledTests.testAlreadyCalled_EC
    /// A callback after an errback is refused.
    #[test]
    fn test_already_called_ec() {
        let (_d, r) = new_deferred();
        r.errback(RuntimeError("")).unwrap();
        assert_eq!(r.callback("twice"), Err(AlreadyCalledError));
    }
}

mod deferred_canceller_tests {
    use super::*;

    /// What the callbacks of a test saw, and how often its canceller ran.
    #[derive(Clone)]
    struct Seen {
        callbacks: Record<&'static str>,
        errbacks: Record<Failure>,
        canceller_calls: Arc<AtomicUsize>,
    }

    impl Seen {
        fn new() -> Self {
            Seen {
                callbacks: Record::new(),
                errbacks: Record::new(),
                canceller_calls: Arc::new(AtomicUsize::new(0)),
            }
        }

        /// Adds the callback/errback pair that records into this.
        fn attach(&self, d: Deferred<&'static str>) -> Deferred<()> {
            let (c, e) = (self.callbacks.clone(), self.errbacks.clone());
            d.add_callbacks(move |v| c.push(v), move |f| e.push(f))
        }

        fn cancellations(&self) -> usize {
            self.canceller_calls.load(Ordering::SeqCst)
        }

        /// A canceller that counts its calls and then does `then`.
        fn canceller(
            &self,
            then: impl FnOnce(&Resolver<&'static str>) + Send + 'static,
        ) -> impl FnOnce(&Resolver<&'static str>) + Send + 'static {
            let calls = Arc::clone(&self.canceller_calls);
            move |r| {
                calls.fetch_add(1, Ordering::SeqCst);
                then(r);
            }
        }
    }

    impl Drop for Seen {
        // Twisted's tearDown: the canceller ran at most once.
        fn drop(&mut self) {
            if !std::thread::panicking() {
                assert!(self.cancellations() <= 1);
            }
        }
    }

    /// twisted: DeferredCancellerTests.test_noCanceller
    /// Without a canceller, cancel errbacks with CancelledError and never callbacks.
    #[test]
    fn test_no_canceller() {
        let seen = Seen::new();
        let (d, _r) = Deferred::<&str>::new();
        let d = seen.attach(d);
        d.cancel();
        assert!(seen.errbacks.get()[0].check::<CancelledError>());
        assert!(seen.callbacks.is_empty());
    }

    /// twisted: DeferredCancellerTests.test_raisesAfterCancelAndCallback
    /// Without a canceller, one later callback is absorbed; any fire after that is refused.
    #[test]
    fn test_raises_after_cancel_and_callback() {
        let seen = Seen::new();
        let (d, r) = Deferred::<&str>::new();
        let d = seen.attach(d);
        d.cancel();
        assert_eq!(r.callback("absorbed"), Ok(()));
        assert_eq!(r.callback("x"), Err(AlreadyCalledError));
        assert_eq!(r.errback(GenericError("x")), Err(AlreadyCalledError));
        assert!(seen.callbacks.is_empty());
    }

    /// twisted: DeferredCancellerTests.test_raisesAfterCancelAndErrback
    /// Without a canceller, one later errback is absorbed; any fire after that is refused.
    #[test]
    fn test_raises_after_cancel_and_errback() {
        let seen = Seen::new();
        let (d, r) = Deferred::<&str>::new();
        let d = seen.attach(d);
        d.cancel();
        assert_eq!(r.errback(GenericError("absorbed")), Ok(()));
        assert_eq!(r.callback("x"), Err(AlreadyCalledError));
        assert_eq!(r.errback(GenericError("x")), Err(AlreadyCalledError));
        assert_eq!(seen.errbacks.len(), 1);
    }

    /// twisted: DeferredCancellerTests.test_noCancellerMultipleCancelsAfterCancelAndCallback
    /// After cancel and the absorbed callback, further cancels change nothing.
    #[test]
    fn test_no_canceller_multiple_cancels_after_cancel_and_callback() {
        let seen = Seen::new();
        let (d, r) = Deferred::<&str>::new();
        let d = seen.attach(d);
        d.cancel();
        let current = seen.errbacks.get()[0].clone();
        r.callback("absorbed").unwrap();
        d.cancel();
        assert_eq!(seen.errbacks.len(), 1);
        assert!(seen.errbacks.get()[0].ptr_eq(&current));
    }

    /// twisted: DeferredCancellerTests.test_noCancellerMultipleCancelsAfterCancelAndErrback
    /// After cancel and the absorbed errback, the result is still the CancelledError and
    /// further cancels change nothing.
    #[test]
    fn test_no_canceller_multiple_cancels_after_cancel_and_errback() {
        let seen = Seen::new();
        let (d, r) = Deferred::<&str>::new();
        let d = seen.attach(d);
        d.cancel();
        let current = seen.errbacks.get()[0].clone();
        assert!(current.check::<CancelledError>());
        r.errback(GenericError("absorbed")).unwrap();
        assert_eq!(seen.errbacks.len(), 1);
        d.cancel();
        assert!(seen.errbacks.get()[0].ptr_eq(&current));
    }

    /// twisted: DeferredCancellerTests.test_noCancellerMultipleCancel
    /// Cancelling twice without a canceller gives one CancelledError and no error.
    #[test]
    fn test_no_canceller_multiple_cancel() {
        let seen = Seen::new();
        let (d, _r) = Deferred::<&str>::new();
        let d = seen.attach(d);
        d.cancel();
        let current = seen.errbacks.get()[0].clone();
        d.cancel();
        assert_eq!(seen.errbacks.len(), 1);
        assert!(seen.errbacks.get()[0].ptr_eq(&current));
    }

    /// twisted: DeferredCancellerTests.test_cancellerMultipleCancel
    /// A canceller that does not fire runs once however often cancel is called, and the
    /// Deferred fails with CancelledError.
    #[test]
    fn test_canceller_multiple_cancel() {
        let seen = Seen::new();
        let (d, _r) = Deferred::with_canceller(seen.canceller(|_| {}));
        let d = seen.attach(d);
        d.cancel();
        let current = seen.errbacks.get()[0].clone();
        assert!(current.check::<CancelledError>());
        d.cancel();
        assert!(seen.errbacks.get()[0].ptr_eq(&current));
        assert_eq!(seen.cancellations(), 1);
    }

    /// twisted: DeferredCancellerTests.test_simpleCanceller
    /// The canceller runs on cancel; with a canceller no later fire is absorbed.
    #[test]
    fn test_simple_canceller() {
        let seen = Seen::new();
        let (d, r) = Deferred::with_canceller(seen.canceller(|_| {}));
        let d = seen.attach(d);
        d.cancel();
        assert_eq!(seen.cancellations(), 1);
        assert!(seen.errbacks.get()[0].check::<CancelledError>());
        assert_eq!(r.callback("x"), Err(AlreadyCalledError));
        assert_eq!(r.errback(GenericError("x")), Err(AlreadyCalledError));
    }

    /// twisted: DeferredCancellerTests.test_cancellerArg
    /// The canceller is handed the resolver of the Deferred being cancelled.
    #[test]
    fn test_canceller_arg() {
        let seen = Seen::new();
        let (d, _r) =
            Deferred::with_canceller(seen.canceller(|r| r.callback("through the argument").unwrap()));
        let d = seen.attach(d);
        d.cancel();
        assert_eq!(seen.callbacks.get(), ["through the argument"]);
    }

    /// twisted: DeferredCancellerTests.test_cancelAfterCallback
    /// Cancelling after a callback does nothing and does not call the canceller.
    #[test]
    fn test_cancel_after_callback() {
        let seen = Seen::new();
        let (d, r) = Deferred::with_canceller(seen.canceller(|r| r.errback(GenericError("")).unwrap()));
        let d = seen.attach(d);
        r.callback("biff!").unwrap();
        d.cancel();
        assert_eq!(seen.cancellations(), 0);
        assert!(seen.errbacks.is_empty());
        assert_eq!(seen.callbacks.get(), ["biff!"]);
    }

    /// twisted: DeferredCancellerTests.test_cancelAfterErrback
    /// Cancelling after an errback does nothing: no CancelledError, no canceller call.
    #[test]
    fn test_cancel_after_errback() {
        let seen = Seen::new();
        let (d, r) = Deferred::with_canceller(seen.canceller(|r| r.errback(GenericError("")).unwrap()));
        let d = seen.attach(d);
        r.errback(GenericError("first")).unwrap();
        d.cancel();
        assert_eq!(seen.cancellations(), 0);
        assert_eq!(seen.errbacks.len(), 1);
        assert!(seen.errbacks.get()[0].check::<GenericError>());
        assert!(seen.callbacks.is_empty());
    }

    /// twisted: DeferredCancellerTests.test_cancellerThatErrbacks
    /// A canceller's own errback is the result; no CancelledError is added.
    #[test]
    fn test_canceller_that_errbacks() {
        let seen = Seen::new();
        let (d, _r) = Deferred::with_canceller(seen.canceller(|r| r.errback(GenericError("")).unwrap()));
        let d = seen.attach(d);
        d.cancel();
        assert_eq!(seen.cancellations(), 1);
        assert_eq!(seen.errbacks.len(), 1);
        assert!(seen.errbacks.get()[0].check::<GenericError>());
    }

    /// twisted: DeferredCancellerTests.test_cancellerThatCallbacks
    /// A canceller's own callback is the result; no CancelledError is produced.
    #[test]
    fn test_canceller_that_callbacks() {
        let seen = Seen::new();
        let (d, _r) = Deferred::with_canceller(seen.canceller(|r| r.callback("hello!").unwrap()));
        let d = seen.attach(d);
        d.cancel();
        assert_eq!(seen.cancellations(), 1);
        assert_eq!(seen.callbacks.get(), ["hello!"]);
        assert!(seen.errbacks.is_empty());
    }

    /// twisted: DeferredCancellerTests.test_cancelNestedDeferred
    /// Cancelling a fired Deferred that waits on another cancels the other one (its canceller
    /// runs, not the outer's), and the CancelledError reaches the outer chain.
    #[test]
    fn test_cancel_nested_deferred() {
        let seen = Seen::new();
        let (b, _rb) = Deferred::<&str>::with_canceller(seen.canceller(|_| {}));
        let (a, ra) = Deferred::<&str>::with_canceller(|_| panic!("the outer canceller must not run"));
        ra.callback("a").unwrap();
        let a = a.add_callback(move |_| b);
        a.cancel();
        let _a = seen.attach(a);
        assert_eq!(seen.cancellations(), 1);
        assert!(seen.errbacks.get()[0].check::<CancelledError>());
    }
}

mod log_tests {
    use super::*;

    /// A Deferred whose callback panics with a division by zero, fired and dropped.
    fn failing_deferred() {
        let (d, r) = Deferred::<i32>::new();
        let d = d.add_callback(|x| Ok(divide_by_zero(x)));
        r.callback(1).unwrap();
        drop((d, r));
    }

    fn check(logged: &LoggedErrors) {
        let failures = logged.flush::<PanicError>();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].error_message().contains("divide by zero"));
        assert!(logged.is_empty());
    }

    /// twisted: LogTests.test_errorLog
    /// A Deferred whose final result is an unhandled failure reports it once when it goes away.
    #[test]
    fn test_error_log() {
        let logged = LoggedErrors::capture();
        {
            let (d, r) = Deferred::<i32>::new();
            let d = d.add_callback(|x| Ok(divide_by_zero(x)));
            r.callback(1).unwrap();
            assert!(logged.is_empty(), "nothing is reported while a handle is alive");
            drop((d, r));
        }
        check(&logged);
    }

    /// twisted: LogTests.test_errorLogWithInnerFrameRef
    /// The same, with the Deferred created and dropped inside a function.
    #[test]
    fn test_error_log_with_inner_frame_ref() {
        let logged = LoggedErrors::capture();
        failing_deferred();
        check(&logged);
    }

    /// twisted: LogTests.test_errorLogWithInnerFrameCycle
    /// The same when the callback holds the Deferred's own resolver (a cycle until it runs).
    #[test]
    fn test_error_log_with_inner_frame_cycle() {
        let logged = LoggedErrors::capture();
        {
            let (d, r) = Deferred::<i32>::new();
            let own = r.clone();
            let d = d.add_callback(move |x| {
                let _cycle = &own;
                Ok(divide_by_zero(x))
            });
            r.callback(1).unwrap();
            drop((d, r));
        }
        check(&logged);
    }

    /// A `tracing` writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// twisted: LogTests.test_errorLogNoRepr
    /// The report is one error event whose text starts with "Unhandled error in Deferred" and
    /// names the failure.
    #[test]
    fn test_error_log_no_repr() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        tracing::subscriber::with_default(subscriber, failing_deferred);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let events: Vec<&str> = text.lines().filter(|l| l.starts_with("ERROR")).collect();
        assert_eq!(events.len(), 1, "{text}");
        let message = events[0].trim_start_matches("ERROR").trim_start();
        assert!(message.starts_with("Unhandled error in Deferred"), "{text}");
        assert!(message.contains("divide by zero"), "{text}");
    }

    /// twisted: LogTests.test_chainedErrorCleanup
    /// A failed Deferred returned from a callback is not reported when it goes away: its
    /// failure moved to the outer chain, where an errback handled it.
    #[test]
    fn test_chained_error_cleanup() {
        let logged = LoggedErrors::capture();
        let results = Record::<()>::new();
        let errors = Record::<Failure>::new();
        let (d, r) = Deferred::<()>::new();
        let d = d.add_callback(|()| fail::<()>(RuntimeError("zoop")));
        r.callback(()).unwrap();
        let (rs, es) = (results.clone(), errors.clone());
        let d = d.add_callbacks(move |()| rs.push(()), move |f| es.push(f));
        assert!(results.is_empty());
        assert_eq!(errors.len(), 1);
        drop((d, r, errors));
        assert!(logged.is_empty());
    }

    /// twisted: LogTests.test_errorClearedByChaining
    /// An errback that chains a failed Deferred to an unfired one clears the failure, so
    /// nothing is reported.
    #[test]
    fn test_error_cleared_by_chaining() {
        let logged = LoggedErrors::capture();
        let bad = fail::<()>(GenericError("oh no"));
        let (good, rg) = Deferred::<()>::new();
        let bad = bad.add_errback(move |_f| good);
        drop((bad, rg));
        assert!(logged.is_empty());
    }
}

mod deferred_list_empty_tests {
    use super::*;

    /// twisted: DeferredListEmptyTests.testDeferredListEmpty
    /// A callback on an empty DeferredList runs at once with an empty list.
    #[test]
    fn test_deferred_list_empty() {
        let ran = Record::new();
        let r = ran.clone();
        let _dl = DeferredList::new(Vec::<Deferred<i32>>::new())
            .build()
            .add_callback(move |res| r.push(res.len()));
        assert_eq!(ran.get(), [0], "callback was never run");
    }
}

mod ensure_deferred_tests {
    use super::*;

    /// twisted: EnsureDeferredTests.test_passesThroughDeferreds
    /// `from_future` of a Deferred gives its result. (Rust wraps it in a new Deferred rather
    /// than returning the same object.)
    #[test]
    fn test_passes_through_deferreds() {
        let (d1, r1) = Deferred::<i32>::new();
        let d2 = Deferred::from_future(d1);
        assert_no_result(&d2);
        r1.callback(3).unwrap();
        assert_eq!(success_result_of(d2), 3);
    }

    /// twisted: EnsureDeferredTests.test_ensureDeferredCoroutine
    /// `from_future` turns an async block awaiting a fired Deferred into a fired Deferred.
    #[test]
    fn test_ensure_deferred_coroutine() {
        async fn run() -> Result<&'static str, Failure> {
            let d = succeed("foo");
            let res = d.await?;
            Ok(res)
        }
        let d: Deferred<&str> = Deferred::from_future(run());
        assert_eq!(success_result_of(d), "foo");
    }
}

mod deferred_future_adapter_tests {
    use super::*;

    /// twisted: DeferredFutureAdapterTests.test_asFuture
    /// A Deferred is itself a future: a Tokio task awaiting it gets its value once it fires.
    #[tokio::test]
    async fn test_as_future() {
        let _limit = crate::common::time_limit();
        let (d, r) = Deferred::<i32>::new();
        let task = tokio::spawn(d);
        tokio::task::yield_now().await;
        assert!(!task.is_finished());
        r.callback(13).unwrap();
        assert_eq!(task.await.unwrap().unwrap(), 13);
    }

    /// twisted: DeferredFutureAdapterTests.test_asFutureFailure
    /// Awaiting a Deferred that fails gives the failure as an error.
    #[tokio::test]
    async fn test_as_future_failure() {
        let _limit = crate::common::time_limit();
        let logged = LoggedErrors::capture();
        let (d, r) = Deferred::<()>::new();
        let the_failure = Failure::new(ZeroDivisionError("division by zero"));
        let task = tokio::spawn(d);
        tokio::task::yield_now().await;
        r.errback(the_failure.clone()).unwrap();
        let f = task.await.unwrap().unwrap_err();
        assert!(f.ptr_eq(&the_failure));
        drop(r);
        assert!(logged.is_empty(), "an awaited failure is handled");
    }

    /// twisted: DeferredFutureAdapterTests.test_fromFuture
    /// `from_future` of any future (here a oneshot receiver) fires when the future completes.
    #[test]
    fn test_from_future() {
        let (tx, rx) = futures::channel::oneshot::channel::<i32>();
        let d = Deferred::from_future(async move { rx.await.map_err(Failure::from) });
        assert_no_result(&d);
        tx.send(7).unwrap();
        assert_eq!(success_result_of(d), 7);
    }

    /// twisted: DeferredFutureAdapterTests.test_fromFutureFutureCancelled
    /// A future that ends in its own cancellation error fails the Deferred with that error.
    #[test]
    fn test_from_future_future_cancelled() {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let d = Deferred::from_future(async move { rx.await.map_err(Failure::from) });
        drop(tx);
        assert!(failure_result_of(d).check::<futures::channel::oneshot::Canceled>());
    }

    /// twisted: DeferredFutureAdapterTests.test_fromFutureDeferredCancelled
    /// Cancelling a `from_future` Deferred that awaits no Deferred drops (cancels) the future
    /// and fails with CancelledError.
    #[test]
    fn test_from_future_deferred_cancelled() {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let d = Deferred::from_future(async move { rx.await.map_err(Failure::from) });
        d.cancel();
        assert!(tx.is_canceled(), "the future was dropped");
        assert!(failure_result_of(d).check::<CancelledError>());
    }
}

mod inline_callback_tests {
    use super::*;

    /// twisted: InlineCallbackTests.test_coroutineNoCircularReference
    /// Once the async block has finished, nothing keeps its captured values alive.
    #[test]
    fn test_coroutine_no_circular_reference() {
        let obj = Arc::new(());
        let weak = Arc::downgrade(&obj);
        let kept = Arc::new(());
        let kept_weak = Arc::downgrade(&kept);
        let func_d = Deferred::from_future(async move {
            succeed(()).await?;
            drop(kept);
            Ok::<_, Failure>(obj)
        });
        let obj = success_result_of(func_d);
        drop(obj);
        assert!(weak.upgrade().is_none());
        assert!(kept_weak.upgrade().is_none());
    }
}

// ---------------------------------------------------------------------------------------------
// twisted/internet/test/test_inlinecb.py
// ---------------------------------------------------------------------------------------------

/// Twisted's `TerminalException`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
struct TerminalException(&'static str);

/// Twisted's `getValueViaDeferred`: a Deferred fired with `value` by `callLater(0, ..)`.
fn get_value_via_deferred<T: Send + 'static>(clock: &Clock, value: T) -> Deferred<T> {
    let (d, r) = Deferred::new();
    let _call = clock.call_later(Duration::ZERO, move || {
        r.callback(value).unwrap();
    });
    d
}

/// Twisted's `getValueViaCoro`.
async fn get_value_via_coro<T: Send + 'static>(clock: Clock, value: T) -> Result<T, Failure> {
    get_value_via_deferred(&clock, value).await
}

/// Twisted's `getDivisionFailure`.
fn get_division_failure(msg: &'static str) -> Failure {
    Failure::new(ZeroDivisionError(msg))
}

/// Twisted's `getDivisionFailureCoro`.
async fn get_division_failure_coro(clock: Clock, msg: &'static str) -> Result<(), Failure> {
    get_value_via_deferred(&clock, "value").await?;
    Err(ZeroDivisionError(msg).into())
}

mod basic_tests {
    use super::*;

    /// twisted: BasicTests.testBasics
    /// Async code awaits a Deferred that succeeds and one that fails, catches the failure, and
    /// its return value is the result.
    #[test]
    fn test_basics() {
        let clock = Clock::new();
        let c = clock.clone();
        let d = Deferred::from_future(async move {
            let x = get_value_via_deferred(&c, "hi").await?;
            assert_eq!(x, "hi");
            match fail::<()>(get_division_failure("OMG")).await {
                Err(e) if e.check::<ZeroDivisionError>() => assert_eq!(e.error_message(), "OMG"),
                other => panic!("expected the division failure, got {other:?}"),
            }
            Ok::<_, Failure>("WOOSH")
        });
        assert_no_result(&d);
        clock.advance(Duration::ZERO);
        assert_eq!(success_result_of(d), "WOOSH");
    }

    /// twisted: BasicTests.testBasicsAsync
    /// Async code awaits other async functions and catches the error one returns.
    #[test]
    fn test_basics_async() {
        let clock = Clock::new();
        let c = clock.clone();
        let d = Deferred::from_future(async move {
            let x = get_value_via_coro(c.clone(), "hi").await?;
            assert_eq!(x, "hi");
            match get_division_failure_coro(c, "OMG").await {
                Err(e) if e.check::<ZeroDivisionError>() => {
                    assert_eq!(e.error_message(), "OMG");
                    Ok("WOOSH")
                }
                other => panic!("expected the division failure, got {other:?}"),
            }
        });
        clock.advance(Duration::ZERO);
        assert_eq!(success_result_of(d), "WOOSH");
    }

    /// twisted: BasicTests.testProducesException
    /// A panic after an await fails the Deferred with that panic.
    #[test]
    fn test_produces_exception() {
        let clock = Clock::new();
        let c = clock.clone();
        let d = Deferred::from_future(async move {
            let x = get_value_via_deferred(&c, 1).await?;
            Ok::<_, Failure>(divide_by_zero(x))
        });
        clock.advance(Duration::ZERO);
        let f = failure_result_of(d);
        assert!(f.check::<PanicError>());
        assert!(f.error_message().contains("divide by zero"));
    }

    /// twisted: BasicTests.testNothing
    /// Async code that awaits nothing and returns nothing gives `()`.
    #[test]
    fn test_nothing() {
        let d = Deferred::from_future(async { Ok::<(), Failure>(()) });
        success_result_of(d);
    }

    /// twisted: BasicTests.testHandledTerminalFailure
    /// Catching the failure of an awaited failed Deferred leaves the result a success.
    #[test]
    fn test_handled_terminal_failure() {
        let d = Deferred::from_future(async {
            match fail::<()>(TerminalException("Handled Terminal Failure")).await {
                Err(f) if f.check::<TerminalException>() => Ok::<(), Failure>(()),
                other => other,
            }
        });
        success_result_of(d);
    }

    /// twisted: BasicTests.testHandledTerminalAsyncFailure
    /// The same with a Deferred that fails after the async code started awaiting it.
    #[test]
    fn test_handled_terminal_async_failure() {
        let (d, r) = Deferred::<()>::new();
        let result = Deferred::from_future(async move {
            match d.await {
                Err(f) if f.check::<TerminalException>() => Ok::<(), Failure>(()),
                other => other,
            }
        });
        r.errback(TerminalException("Handled Terminal Failure")).unwrap();
        success_result_of(result);
    }

    /// twisted: BasicTests.testHandledCoroAsyncFailure
    /// The same with the failing Deferred awaited inside a nested async function.
    #[test]
    fn test_handled_coro_async_failure() {
        async fn coro(d: Deferred<()>) -> Result<(), Failure> {
            d.await
        }
        let (d, r) = Deferred::<()>::new();
        let result = Deferred::from_future(async move {
            match coro(d).await {
                Err(f) if f.check::<TerminalException>() => Ok::<(), Failure>(()),
                other => other,
            }
        });
        r.errback(TerminalException("Handled Terminal Failure")).unwrap();
        success_result_of(result);
    }

    /// twisted: BasicTests.testStackUsage
    /// Awaiting many already-fired Deferreds does not grow the stack (100,000 of them in a
    /// 256 KiB thread).
    #[test]
    fn test_stack_usage() {
        let _limit = crate::common::time_limit();
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                success_result_of(Deferred::from_future(async {
                    for _ in 0..100_000 {
                        succeed(1).await?;
                    }
                    Ok::<_, Failure>(0)
                }))
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(result, 0);
    }

    /// twisted: BasicTests.testStackUsage2
    /// Awaiting many immediately ready non-Deferred futures does not grow the stack either.
    #[test]
    fn test_stack_usage2() {
        let _limit = crate::common::time_limit();
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                success_result_of(Deferred::from_future(async {
                    for _ in 0..100_000 {
                        std::future::ready(1).await;
                    }
                    Ok::<_, Failure>(0)
                }))
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert_eq!(result, 0);
    }

    /// twisted: BasicTests.testYieldNonDeferred
    /// Awaiting a ready value that is not a Deferred gives that value back.
    #[test]
    fn test_yield_non_deferred() {
        let d = Deferred::from_future(async {
            let x = std::future::ready(5).await;
            Ok::<_, Failure>(x)
        });
        assert_eq!(success_result_of(d), 5);
    }

    /// twisted: BasicTests.testReturnNoValue
    /// Finishing without a value gives `()`.
    #[test]
    fn test_return_no_value() {
        let d = Deferred::from_future(async {
            std::future::ready(5).await;
            Ok::<(), Failure>(())
        });
        success_result_of(d);
    }

    /// twisted: BasicTests.test_inlineCallbacksNoCircularReference
    /// After the async code finishes, neither it nor its arguments are kept alive.
    #[test]
    fn test_inline_callbacks_no_circular_reference() {
        let obj = Arc::new(());
        let weak = Arc::downgrade(&obj);
        let func = |a: Arc<()>| {
            Deferred::from_future(async move {
                std::future::ready(&a).await;
                Ok::<_, Failure>(a)
            })
        };
        let func_d = func(obj);
        let got = success_result_of(func_d);
        drop(got);
        assert!(weak.upgrade().is_none());
    }
}

mod stop_iteration_return_tests {
    use super::*;

    /// twisted: StopIterationReturnTests.test_returnWithValue
    /// The value the async block returns after an await is the Deferred's result.
    #[test]
    fn test_return_with_value() {
        let f = |d: Deferred<()>| {
            Deferred::from_future(async move {
                d.await?;
                Ok::<_, Failure>(14)
            })
        };
        let (d1, r1) = Deferred::<()>::new();
        let d2 = f(d1);
        r1.callback(()).unwrap();
        assert_eq!(success_result_of(d2), 14);
    }
}

mod stacked_inline_callbacks_tests {
    use super::*;

    /// How a test fires the Deferreds its functions wait on.
    #[derive(Clone, Copy)]
    enum Fire {
        Value(i32),
        Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("my exception")]
    struct MyException;

    /// The expectations log and the Deferreds waiting to be fired, shared by f1, f2 and f3.
    #[derive(Clone)]
    struct Env {
        expectations: Record<(&'static str, i32)>,
        pending: Record<(Resolver<i32>, Fire)>,
    }

    impl Env {
        fn new() -> Self {
            Env {
                expectations: Record::new(),
                pending: Record::new(),
            }
        }

        fn note(&self, what: &'static str, x: i32) {
            self.expectations.push((what, x));
        }

        /// A Deferred to be fired later with `fire`.
        fn deferred(&self, fire: Fire) -> Deferred<i32> {
            let (d, r) = Deferred::new();
            self.pending.push((r, fire));
            d
        }

        /// Twisted's `runCallbacksOnDeferreds`, including Deferreds added while it runs.
        fn run_callbacks_on_deferreds(&self) {
            let mut i = 0;
            while i < self.pending.len() {
                let (r, fire) = self.pending.get()[i].clone();
                match fire {
                    Fire::Value(x) => r.callback(x).unwrap(),
                    Fire::Error => r.errback(MyException).unwrap(),
                }
                i += 1;
            }
        }
    }

    /// `f1`: waits on a fresh Deferred fired with `x`, then adds 1.
    fn f1(env: &Env, x: i32) -> Deferred<i32> {
        let env = env.clone();
        Deferred::from_future(async move {
            env.note("f1 enter", x);
            let x = env.deferred(Fire::Value(x)).await? + 1;
            env.note("f1 exit", x);
            Ok(x)
        })
    }

    /// `f2` as an `inlineCallbacks` function: awaits `f1` `times` times, then adds 2.
    fn f2(env: &Env, x: i32, times: usize) -> Deferred<i32> {
        Deferred::from_future(f2_coro(env.clone(), x, times))
    }

    /// `f2` as a plain coroutine.
    async fn f2_coro(env: Env, mut x: i32, times: usize) -> Result<i32, Failure> {
        env.note("f2 enter", x);
        for _ in 0..times {
            x = f1(&env, x).await?;
        }
        x += 2;
        env.note("f2 exit", x);
        Ok(x)
    }

    /// `f3`: awaits `f2` (as a Deferred or a coroutine) `times` times, then adds 4.
    fn f3(env: &Env, x: i32, times: usize, coro: bool) -> Deferred<i32> {
        let env = env.clone();
        Deferred::from_future(async move {
            env.note("f3 enter", x);
            let mut x = x;
            for _ in 0..times {
                x = if coro {
                    f2_coro(env.clone(), x, times).await?
                } else {
                    f2(&env, x, times).await?
                };
            }
            x += 4;
            env.note("f3 exit", x);
            Ok(x)
        })
    }

    fn single_yield(coro: bool) {
        let env = Env::new();
        let res = f3(&env, 1, 1, coro);
        env.run_callbacks_on_deferreds();
        assert_eq!(success_result_of(res), 8);
        assert_eq!(
            env.expectations.get(),
            [
                ("f3 enter", 1),
                ("f2 enter", 1),
                ("f1 enter", 1),
                ("f1 exit", 2),
                ("f2 exit", 4),
                ("f3 exit", 8)
            ]
        );
    }

    /// twisted: StackedInlineCallbacksTests.test_nonCalledDeferredSingleYield
    /// Three stacked async functions blocked on one Deferred all resume, innermost first.
    #[test]
    fn test_non_called_deferred_single_yield() {
        single_yield(false);
    }

    /// twisted: StackedInlineCallbacksTests.test_nonCalledDeferredSingleYieldCoro
    /// The same with the middle function a plain coroutine.
    #[test]
    fn test_non_called_deferred_single_yield_coro() {
        single_yield(true);
    }

    fn multiple_yields(coro: bool) {
        let env = Env::new();
        let res = f3(&env, 1, 3, coro);
        env.run_callbacks_on_deferreds();
        assert_eq!(success_result_of(res), 20);
        assert_eq!(
            env.expectations.get(),
            [
                ("f3 enter", 1),
                ("f2 enter", 1),
                ("f1 enter", 1),
                ("f1 exit", 2),
                ("f1 enter", 2),
                ("f1 exit", 3),
                ("f1 enter", 3),
                ("f1 exit", 4),
                ("f2 exit", 6),
                ("f2 enter", 6),
                ("f1 enter", 6),
                ("f1 exit", 7),
                ("f1 enter", 7),
                ("f1 exit", 8),
                ("f1 enter", 8),
                ("f1 exit", 9),
                ("f2 exit", 11),
                ("f2 enter", 11),
                ("f1 enter", 11),
                ("f1 exit", 12),
                ("f1 enter", 12),
                ("f1 exit", 13),
                ("f1 enter", 13),
                ("f1 exit", 14),
                ("f2 exit", 16),
                ("f3 exit", 20)
            ]
        );
    }

    /// twisted: StackedInlineCallbacksTests.test_nonCalledDeferredMultipleYields
    /// Stacked async functions awaited several times each resume in the right order.
    #[test]
    fn test_non_called_deferred_multiple_yields() {
        multiple_yields(false);
    }

    /// twisted: StackedInlineCallbacksTests.test_nonCalledDeferredMultipleYieldsCoro
    /// The same with the middle function a plain coroutine.
    #[test]
    fn test_non_called_deferred_multiple_yields_coro() {
        multiple_yields(true);
    }

    /// A plain callback in place of f2: adds 2.
    fn f2_sync(env: &Env) -> impl FnOnce(i32) -> Result<i32, Failure> + Send + 'static {
        let env = env.clone();
        move |x| {
            env.note("f2 enter", x);
            let x = x + 2;
            env.note("f2 exit", x);
            Ok(x)
        }
    }

    /// twisted: StackedInlineCallbacksTests.test_intermediateAddCallbacksAndNoWaiting
    /// A callback added to an already-finished async function's Deferred runs before the
    /// awaiting function resumes.
    #[test]
    fn test_intermediate_add_callbacks_and_no_waiting() {
        let env = Env::new();
        let e = env.clone();
        let f1_ready = move |x: i32| {
            let env = e.clone();
            Deferred::from_future(async move {
                env.note("f1 enter", x);
                let x = std::future::ready(x).await + 1;
                env.note("f1 exit", x);
                Ok::<_, Failure>(x)
            })
        };
        let e = env.clone();
        let res = Deferred::from_future(async move {
            e.note("f3 enter", 1);
            let d = f1_ready(1).add_callback(f2_sync(&e));
            let x = d.await? + 4;
            e.note("f3 exit", x);
            Ok::<_, Failure>(x)
        });
        assert_eq!(success_result_of(res), 8);
        assert_eq!(
            env.expectations.get(),
            [
                ("f3 enter", 1),
                ("f1 enter", 1),
                ("f1 exit", 2),
                ("f2 enter", 2),
                ("f2 exit", 4),
                ("f3 exit", 8)
            ]
        );
    }

    /// twisted: StackedInlineCallbacksTests.test_intermediateAddCallbacksAndWithWaitingFirstYield
    /// The same when the inner function is blocked on an unfired Deferred.
    #[test]
    fn test_intermediate_add_callbacks_and_with_waiting_first_yield() {
        let env = Env::new();
        let e = env.clone();
        let res = Deferred::from_future(async move {
            e.note("f3 enter", 1);
            let d = f1(&e, 1).add_callback(f2_sync(&e));
            let x = d.await? + 4;
            e.note("f3 exit", x);
            Ok::<_, Failure>(x)
        });
        env.run_callbacks_on_deferreds();
        assert_eq!(success_result_of(res), 8);
        assert_eq!(
            env.expectations.get(),
            [
                ("f3 enter", 1),
                ("f1 enter", 1),
                ("f1 exit", 2),
                ("f2 enter", 2),
                ("f2 exit", 4),
                ("f3 exit", 8)
            ]
        );
    }

    /// twisted: StackedInlineCallbacksTests.test_intermediateAddCallbacksAndWithWaitingSecondYield
    /// The same after a first await that also blocked.
    #[test]
    fn test_intermediate_add_callbacks_and_with_waiting_second_yield() {
        let env = Env::new();
        let e = env.clone();
        let res = Deferred::from_future(async move {
            e.note("f3 enter", 1);
            let x = f1(&e, 1).await?;
            let d = f1(&e, x).add_callback(f2_sync(&e));
            let x = d.await? + 4;
            e.note("f3 exit", x);
            Ok::<_, Failure>(x)
        });
        env.run_callbacks_on_deferreds();
        assert_eq!(success_result_of(res), 9);
        assert_eq!(
            env.expectations.get(),
            [
                ("f3 enter", 1),
                ("f1 enter", 1),
                ("f1 exit", 2),
                ("f1 enter", 2),
                ("f1 exit", 3),
                ("f2 enter", 3),
                ("f2 exit", 5),
                ("f3 exit", 9)
            ]
        );
    }

    /// `f2` of the exception tests: awaits a Deferred that fails with MyException.
    fn f2_raising(env: &Env, x: i32) -> Deferred<i32> {
        let env = env.clone();
        Deferred::from_future(async move {
            env.note("f2 enter", x);
            let x = env.deferred(Fire::Error).await?;
            env.note("f2 exit", x);
            Ok(x)
        })
    }

    /// twisted: StackedInlineCallbacksTests.test_raisesExceptionFromDeferredWithWaitingFirstCallback
    /// A failure from a Deferred deep in the stack arrives at the outer await, where it is
    /// caught.
    #[test]
    fn test_raises_exception_from_deferred_with_waiting_first_callback() {
        let env = Env::new();
        let e = env.clone();
        let res = Deferred::from_future(async move {
            let x = 1;
            e.note("f3 enter", x);
            match f2_raising(&e, x).await {
                Err(f) if f.check::<MyException>() => {}
                other => panic!("expected MyException, got {other:?}"),
            }
            let x = x + 4;
            e.note("f3 exit", x);
            Ok::<_, Failure>(x)
        });
        env.run_callbacks_on_deferreds();
        assert_eq!(success_result_of(res), 5);
        assert_eq!(
            env.expectations.get(),
            [("f3 enter", 1), ("f2 enter", 1), ("f3 exit", 5)]
        );
    }

    /// twisted: StackedInlineCallbacksTests.test_raisesExceptionFromDeferredWithWaitingSecondCallback
    /// The same after a first await that blocked and succeeded.
    #[test]
    fn test_raises_exception_from_deferred_with_waiting_second_callback() {
        let env = Env::new();
        let e = env.clone();
        let res = Deferred::from_future(async move {
            e.note("f3 enter", 1);
            let x = f1(&e, 1).await?;
            match f2_raising(&e, x).await {
                Err(f) if f.check::<MyException>() => {}
                other => panic!("expected MyException, got {other:?}"),
            }
            let x = x + 4;
            e.note("f3 exit", x);
            Ok::<_, Failure>(x)
        });
        env.run_callbacks_on_deferreds();
        assert_eq!(success_result_of(res), 6);
        assert_eq!(
            env.expectations.get(),
            [
                ("f3 enter", 1),
                ("f1 enter", 1),
                ("f1 exit", 2),
                ("f2 enter", 2),
                ("f3 exit", 6)
            ]
        );
    }
}

mod cancellation_tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("untranslated")]
    struct UntranslatedError;

    #[derive(Debug, thiserror::Error)]
    #[error("translated")]
    struct TranslatedError;

    #[derive(Debug, thiserror::Error)]
    #[error("don't fail: {0}")]
    struct DontFail(i32);

    /// Twisted's `CancellationTestsStackedType`.
    #[derive(Clone, Copy)]
    enum Stacked {
        /// `G` awaits `C` directly.
        No,
        /// `G` awaits a nested `from_future` Deferred that awaits `C`.
        InlineCb,
        /// `G` awaits a nested plain async function that awaits `C`.
        Coro,
    }

    /// Twisted's `sampleInlineCB`: the async function `G` whose Deferred `D` is cancelled,
    /// awaiting `C = child()`, optionally after first awaiting `first`.
    fn sample_inline_cb<F>(stacked: Stacked, child: F, first: Option<Deferred<i32>>) -> Deferred<i32>
    where
        F: FnOnce() -> Deferred<i32> + Send + 'static,
    {
        async fn stacked_coro(child: Deferred<i32>) -> Result<i32, Failure> {
            child.await
        }
        Deferred::from_future(async move {
            let x = match stacked {
                Stacked::No => child().await,
                Stacked::InlineCb | Stacked::Coro => {
                    if let Some(first) = first {
                        first.await?;
                    }
                    if let Stacked::InlineCb = stacked {
                        let c = child();
                        Deferred::from_future(c).await
                    } else {
                        stacked_coro(child()).await
                    }
                }
            };
            match x {
                Ok(x) => Ok(x + 1),
                Err(f) if f.check::<UntranslatedError>() => Err(TranslatedError.into()),
                Err(f) => match f.downcast_ref::<DontFail>() {
                    Some(df) => Ok(df.0 - 2 + 1),
                    None => Err(f),
                },
            }
        })
    }

    /// The `firstDeferred` of the "OnSecondDeferred" variants, and its resolver.
    fn first_deferred(on_second: bool) -> (Option<Deferred<i32>>, Option<Resolver<i32>>) {
        if on_second {
            let (d, r) = Deferred::new();
            (Some(d), Some(r))
        } else {
            (None, None)
        }
    }

    /// When `D` is cancelled, `C` is cancelled at once too.
    fn do_cascade_cancelling_on_cancel(stacked: Stacked, on_second: bool) {
        let child_result = Record::new();
        let cr = child_result.clone();
        let get_child = move || {
            let (d, _r) = Deferred::<i32>::new();
            d.add_errback(move |f| {
                cr.push(f.check::<CancelledError>());
                Err(f)
            })
        };
        let (first, rf) = first_deferred(on_second);
        let d = sample_inline_cb(stacked, get_child, first).add_errback(|_f| Ok(0));
        if let Some(rf) = rf {
            rf.callback(1).unwrap();
        }
        d.cancel();
        assert_eq!(child_result.get(), [true], "no cascade cancelling occurs");
        success_result_of(d);
    }

    /// twisted: CancellationTests.test_CascadeCancellingOnCancelNotStacked
    /// Cancelling `D` cancels the Deferred `G` awaits.
    #[test]
    fn test_cascade_cancelling_on_cancel_not_stacked() {
        do_cascade_cancelling_on_cancel(Stacked::No, false);
    }

    /// twisted: CancellationTests.test_CascadeCancellingOnCancelStackedInlineCb
    /// The cancellation reaches through a nested `from_future`.
    #[test]
    fn test_cascade_cancelling_on_cancel_stacked_inline_cb() {
        do_cascade_cancelling_on_cancel(Stacked::InlineCb, false);
    }

    /// twisted: CancellationTests.test_CascadeCancellingOnCancelStackedInlineCbOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_cascade_cancelling_on_cancel_stacked_inline_cb_on_second_deferred() {
        do_cascade_cancelling_on_cancel(Stacked::InlineCb, true);
    }

    /// twisted: CancellationTests.test_CascadeCancellingOnCancelStackedCoro
    /// The cancellation reaches through a nested async function.
    #[test]
    fn test_cascade_cancelling_on_cancel_stacked_coro() {
        do_cascade_cancelling_on_cancel(Stacked::Coro, false);
    }

    /// twisted: CancellationTests.test_CascadeCancellingOnCancelStackedCoroOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_cascade_cancelling_on_cancel_stacked_coro_on_second_deferred() {
        do_cascade_cancelling_on_cancel(Stacked::Coro, true);
    }

    /// When `D` is cancelled, `C`'s CancelledError comes out of `D`.
    fn do_errback_cancelled_error_on_cancel(stacked: Stacked, on_second: bool) {
        let outstanding = Record::new();
        let o = outstanding.clone();
        let get_deferred = move || {
            let (d, r) = Deferred::<i32>::new();
            o.push(r);
            d
        };
        let (first, rf) = first_deferred(on_second);
        let d = sample_inline_cb(stacked, get_deferred, first);
        if let Some(rf) = rf {
            rf.callback(1).unwrap();
        }
        d.cancel();
        assert!(failure_result_of(d).check::<CancelledError>());
        assert_eq!(outstanding.len(), 1);
    }

    /// twisted: CancellationTests.test_ErrbackCancelledErrorOnCancel
    /// `D` fails with CancelledError.
    #[test]
    fn test_errback_cancelled_error_on_cancel() {
        do_errback_cancelled_error_on_cancel(Stacked::No, false);
    }

    /// twisted: CancellationTests.test_ErrbackCancelledErrorOnCancelStackedInlineCb
    /// The same through a nested `from_future`.
    #[test]
    fn test_errback_cancelled_error_on_cancel_stacked_inline_cb() {
        do_errback_cancelled_error_on_cancel(Stacked::InlineCb, false);
    }

    /// twisted: CancellationTests.test_ErrbackCancelledErrorOnCancelStackedInlineCbOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_errback_cancelled_error_on_cancel_stacked_inline_cb_on_second_deferred() {
        do_errback_cancelled_error_on_cancel(Stacked::InlineCb, true);
    }

    /// twisted: CancellationTests.test_ErrbackCancelledErrorOnCancelStackedCoro
    /// The same through a nested async function.
    #[test]
    fn test_errback_cancelled_error_on_cancel_stacked_coro() {
        do_errback_cancelled_error_on_cancel(Stacked::Coro, false);
    }

    /// twisted: CancellationTests.test_ErrbackCancelledErrorOnCancelStackedCoroOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_errback_cancelled_error_on_cancel_stacked_coro_on_second_deferred() {
        do_errback_cancelled_error_on_cancel(Stacked::Coro, true);
    }

    /// When `D` is cancelled and `C`'s canceller fails it with some error, `G` can translate
    /// that error into another at its await.
    fn do_error_to_error_translation(stacked: Stacked, on_second: bool) {
        let (a, _ra) = Deferred::<i32>::with_canceller(|r| r.errback(UntranslatedError).unwrap());
        let (first, rf) = first_deferred(on_second);
        let d = sample_inline_cb(stacked, move || a, first);
        if let Some(rf) = rf {
            rf.callback(1).unwrap();
        }
        d.cancel();
        assert!(failure_result_of(d).check::<TranslatedError>());
    }

    /// twisted: CancellationTests.test_ErrorToErrorTranslation
    /// `G` turns the canceller's error into its own.
    #[test]
    fn test_error_to_error_translation() {
        do_error_to_error_translation(Stacked::No, false);
    }

    /// twisted: CancellationTests.test_ErrorToErrorTranslationStackedInlineCb
    /// The same through a nested `from_future`.
    #[test]
    fn test_error_to_error_translation_stacked_inline_cb() {
        do_error_to_error_translation(Stacked::InlineCb, false);
    }

    /// twisted: CancellationTests.test_ErrorToErrorTranslationStackedInlineCbOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_error_to_error_translation_stacked_inline_cb_on_second_deferred() {
        do_error_to_error_translation(Stacked::InlineCb, true);
    }

    /// twisted: CancellationTests.test_ErrorToErrorTranslationStackedCoro
    /// The same through a nested async function.
    #[test]
    fn test_error_to_error_translation_stacked_coro() {
        do_error_to_error_translation(Stacked::Coro, false);
    }

    /// twisted: CancellationTests.test_ErrorToErrorTranslationStackedCoroOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_error_to_error_translation_stacked_coro_on_second_deferred() {
        do_error_to_error_translation(Stacked::Coro, true);
    }

    /// When `D` is cancelled, `G` can turn `C`'s error into a value at its await.
    fn do_error_to_success_translation(stacked: Stacked, on_second: bool) {
        let (a, _ra) = Deferred::<i32>::with_canceller(|r| r.errback(DontFail(4321)).unwrap());
        let (first, rf) = first_deferred(on_second);
        let results = Record::new();
        let r = results.clone();
        let d = sample_inline_cb(stacked, move || a, first).add_callback(move |x| {
            r.push(x);
            Ok(x)
        });
        if let Some(rf) = rf {
            rf.callback(1).unwrap();
        }
        d.cancel();
        assert_eq!(results.get(), [4320]);
    }

    /// twisted: CancellationTests.test_ErrorToSuccessTranslation
    /// `G` recovers from the canceller's error with a value.
    #[test]
    fn test_error_to_success_translation() {
        do_error_to_success_translation(Stacked::No, false);
    }

    /// twisted: CancellationTests.test_ErrorToSuccessTranslationStackedInlineCb
    /// The same through a nested `from_future`.
    #[test]
    fn test_error_to_success_translation_stacked_inline_cb() {
        do_error_to_success_translation(Stacked::InlineCb, false);
    }

    /// twisted: CancellationTests.test_ErrorToSuccessTranslationStackedInlineCbOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_error_to_success_translation_stacked_inline_cb_on_second_deferred() {
        do_error_to_success_translation(Stacked::InlineCb, true);
    }

    /// twisted: CancellationTests.test_ErrorToSuccessTranslationStackedCoro
    /// The same through a nested async function.
    #[test]
    fn test_error_to_success_translation_stacked_coro() {
        do_error_to_success_translation(Stacked::Coro, false);
    }

    /// twisted: CancellationTests.test_ErrorToSuccessTranslationStackedCoroOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_error_to_success_translation_stacked_coro_on_second_deferred() {
        do_error_to_success_translation(Stacked::Coro, true);
    }

    /// When `D` is cancelled, it fires only when `C` reaches the point where `G` awaits it:
    /// here `C`'s errback turns the CancelledError into a wait on yet another Deferred.
    fn do_asynchronous_cancellation(stacked: Stacked, on_second: bool) {
        let (more, r_more) = Deferred::<i32>::new();
        let defer_me = move || {
            let (d, _r) = Deferred::<i32>::new();
            d.add_errback(move |f| match f.trap::<CancelledError>() {
                Ok(_) => Outcome::Deferred(more),
                Err(f) => Outcome::Failure(f),
            })
        };
        let (first, rf) = first_deferred(on_second);
        let d = sample_inline_cb(stacked, defer_me, first);
        if let Some(rf) = rf {
            rf.callback(1).unwrap();
        }
        d.cancel();
        assert_no_result(&d);
        r_more.callback(6543).unwrap();
        assert_eq!(success_result_of(d), 6544);
    }

    /// twisted: CancellationTests.test_AsynchronousCancellation
    /// `D` waits for `C`'s own chain to finish after the cancellation.
    #[test]
    fn test_asynchronous_cancellation() {
        do_asynchronous_cancellation(Stacked::No, false);
    }

    /// twisted: CancellationTests.test_AsynchronousCancellationStackedInlineCb
    /// The same through a nested `from_future`.
    #[test]
    fn test_asynchronous_cancellation_stacked_inline_cb() {
        do_asynchronous_cancellation(Stacked::InlineCb, false);
    }

    /// twisted: CancellationTests.test_AsynchronousCancellationStackedInlineCbOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_asynchronous_cancellation_stacked_inline_cb_on_second_deferred() {
        do_asynchronous_cancellation(Stacked::InlineCb, true);
    }

    /// twisted: CancellationTests.test_AsynchronousCancellationStackedCoro
    /// The same through a nested async function.
    #[test]
    fn test_asynchronous_cancellation_stacked_coro() {
        do_asynchronous_cancellation(Stacked::Coro, false);
    }

    /// twisted: CancellationTests.test_AsynchronousCancellationStackedCoroOnSecondDeferred
    /// The same at the second await.
    #[test]
    fn test_asynchronous_cancellation_stacked_coro_on_second_deferred() {
        do_asynchronous_cancellation(Stacked::Coro, true);
    }

    /// twisted: CancellationTests.test_inlineCallbacksCancelCaptured
    /// If the async code catches the CancelledError of its first await, `D` stays unfired;
    /// cancelling again cancels what it awaits next, and that CancelledError fails `D`.
    #[test]
    fn test_inline_callbacks_cancel_captured() {
        let canceller1 = Record::new();
        let canceller2 = Record::new();
        let (c1, c2) = (canceller1.clone(), canceller2.clone());
        let (d1, r1) = Deferred::<()>::with_canceller(move |_r| c1.push("d1"));
        let (d2, r2) = Deferred::<()>::with_canceller(move |_r| c2.push("d2"));
        let func_d = Deferred::from_future(async move {
            let _ = d1.await;
            d2.await
        });
        assert!(!r1.called() && !r2.called());
        assert_no_result(&func_d);
        assert!(canceller1.is_empty() && canceller2.is_empty());

        func_d.cancel();
        assert_eq!(canceller1.get(), ["d1"]);
        assert!(canceller2.is_empty());
        assert_no_result(&func_d);

        func_d.cancel();
        assert!(failure_result_of(func_d).check::<CancelledError>());
        assert_eq!(canceller2.get(), ["d2"]);
    }
}

// ---------------------------------------------------------------------------------------------
// twisted/internet/test/test_defer_await.py
// ---------------------------------------------------------------------------------------------

mod await_tests {
    use super::*;

    /// twisted: AwaitTests.test_deferredFromCoroutine
    /// `from_future` runs async code that awaits Deferreds and other async functions.
    #[test]
    fn test_deferred_from_coroutine() {
        async fn run() -> Result<&'static str, Failure> {
            succeed("bar").await?;
            run2().await
        }
        async fn run2() -> Result<&'static str, Failure> {
            succeed("foo").await
        }
        let r = run();
        let d = Deferred::from_future(r);
        assert_eq!(success_result_of(d), "foo");
    }

    /// twisted: AwaitTests.test_basic
    /// Async code can await a Deferred.
    #[test]
    fn test_basic() {
        let d = Deferred::from_future(async { succeed("foo").await });
        assert_eq!(success_result_of(d), "foo");
    }

    /// twisted: AwaitTests.test_basicEnsureDeferred
    /// The same through Twisted's other spelling (`ensureDeferred` is also `from_future`).
    #[test]
    fn test_basic_ensure_deferred() {
        async fn run() -> Result<&'static str, Failure> {
            let res = succeed("foo").await?;
            Ok(res)
        }
        assert_eq!(success_result_of(Deferred::from_future(run())), "foo");
    }

    /// twisted: AwaitTests.test_exception
    /// An error returned after an await fails the Deferred with that error.
    #[test]
    fn test_exception() {
        let d = Deferred::from_future(async {
            succeed("foo").await?;
            Err::<(), _>(Failure::new(ValueError("Oh no!")))
        });
        let f = failure_result_of(d);
        assert!(f.check::<ValueError>());
        assert_eq!(f.error_message(), "Oh no!");
    }

    /// twisted: AwaitTests.test_twoDeep
    /// Awaiting an unfired Deferred suspends the async code until it fires, at every level.
    #[test]
    fn test_two_deep() {
        async fn runone(clock: Clock, sections: Record<i32>) -> Result<&'static str, Failure> {
            sections.push(2);
            let (d, r) = Deferred::<i32>::new();
            let _call = clock.call_later(Duration::from_secs(1), move || r.callback(2).unwrap());
            d.await?;
            sections.push(3);
            Ok("Yay!")
        }
        let clock = Clock::new();
        let sections = Record::new();
        let (c, s) = (clock.clone(), sections.clone());
        let d = Deferred::from_future(async move {
            s.push(1);
            let result = runone(c.clone(), s.clone()).await?;
            s.push(4);
            let (d, r) = Deferred::<i32>::new();
            let _call = c.call_later(Duration::from_secs(1), move || r.callback(1).unwrap());
            d.await?;
            s.push(5);
            Ok(result)
        });
        clock.advance(Duration::from_millis(900));
        assert_eq!(sections.get(), [1, 2]);
        clock.advance(Duration::from_millis(100));
        assert_eq!(sections.get(), [1, 2, 3, 4]);
        clock.advance(Duration::from_millis(900));
        assert_eq!(sections.get(), [1, 2, 3, 4]);
        clock.advance(Duration::from_millis(100));
        assert_eq!(sections.get(), [1, 2, 3, 4, 5]);
        assert_eq!(success_result_of(d), "Yay!");
    }

    /// twisted: AwaitTests.test_reraise
    /// Awaiting an already failed Deferred gives its error, which the code can handle.
    #[test]
    fn test_reraise() {
        let d = Deferred::from_future(async {
            match fail::<()>(ValueError("Boom")).await {
                Err(f) if f.check::<ValueError>() => {
                    assert_eq!(f.error_message(), "Boom");
                    Ok::<_, Failure>(1)
                }
                _ => Ok(0),
            }
        });
        assert_eq!(success_result_of(d), 1);
    }

    /// twisted: AwaitTests.test_chained
    /// Awaiting a Deferred that is waiting on another gives the final result once it arrives.
    #[test]
    fn test_chained() {
        let clock = Clock::new();
        let c = clock.clone();
        let d = Deferred::from_future(async move {
            let (d, r) = Deferred::<()>::new();
            let (d2, r2) = Deferred::<&str>::new();
            let d = d.add_callback(move |()| d2);
            r.callback(()).unwrap();
            let _call = c.call_later(Duration::ZERO, move || r2.callback("bye").unwrap());
            d.await
        });
        clock.advance(Duration::from_millis(100));
        assert_eq!(success_result_of(d), "bye");
    }
}
