//! Port of the concurrency-primitive and timeout parts of `twisted/test/test_defer.py`:
//! `OtherPrimitivesTests` (`DeferredLock`, `DeferredSemaphore`, `DeferredQueue`),
//! `DeferredAddTimeoutTests` (`Deferred.addTimeout`), and the three `async with` tests of
//! `CoroutineContextVarsTests` that use the lock and the semaphore. The rest of
//! `test_defer.py` is ported in `test_defer.rs`.
//!
//! Not ported here:
//! - `OtherPrimitivesTests.testLock`'s `assertRaises(TypeError, lock.run)`: calling `run`
//!   without a function does not compile. (The rest of `testLock` is ported.)
//! - `TimeoutErrorTests.test_deprecatedTimeout`: the deprecated `defer.timeout` function
//!   (deprecated since Twisted 17.1) is not provided; use `add_timeout`.
//! - `DeferredFilesystemLockTests.*` (8 tests): `DeferredFilesystemLock` is a Tier 3 item,
//!   not provided.

#![allow(
    clippy::doc_markdown,
    reason = "the doc lines naming the ported Twisted tests quote them verbatim, for grep"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{
    CancelledError, Deferred, DeferredLock, DeferredQueue, DeferredSemaphore, QueueUnderflow, TimeoutError,
};
use tokio_twisted::failure::Failure;
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{assert_no_result, failure_result_of, success_result_of};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Twisted's `assertImmediateFailure`: the Deferred has already failed with an `E`; the
/// returned Deferred continues on the success path, as after Twisted's recording errback.
fn assert_immediate_failure<T: Send + 'static, E: std::error::Error + 'static>(
    d: Deferred<T>,
) -> Deferred<()> {
    let failures = Arc::new(Mutex::new(Vec::new()));
    let f = failures.clone();
    let d = d.add_callbacks(
        |_| Ok(()),
        move |failure| {
            f.lock().unwrap().push(failure);
            Ok(())
        },
    );
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].check::<E>(), "{:?}", failures[0]);
    d
}

/// Twisted's `self.counter` with its `_incr` callback.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn incr<T>(&self) -> impl FnOnce(T) -> Result<(), Failure> + Send + 'static {
        let c = self.0.clone();
        move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn reset(&self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ValueError(&'static str);

// ---------------------------------------------------------------- OtherPrimitivesTests

/// twisted: OtherPrimitivesTests.testLock
/// Acquire fires at once or in turn, release hands the lock over synchronously, `run`
/// holds the lock until the function's Deferred fires, and a waiting acquire can be
/// cancelled.
#[test]
fn test_lock() {
    let counter = Counter::default();
    let c = || counter.get();
    let lock = DeferredLock::new();
    let _a = lock.acquire().add_callback(counter.incr());
    assert!(lock.locked());
    assert_eq!(c(), 1);
    let _b = lock.acquire().add_callback(counter.incr());
    assert!(lock.locked());
    assert_eq!(c(), 1);
    lock.release().unwrap();
    assert!(lock.locked());
    assert_eq!(c(), 2);
    lock.release().unwrap();
    assert!(!lock.locked());
    assert_eq!(c(), 2);

    let result = Arc::new(Mutex::new(None));
    let (control, control_r) = Deferred::<&str>::new();
    let r = result.clone();
    let result_deferred = lock.run(move || {
        *r.lock().unwrap() = Some("first unique");
        control
    });
    assert!(lock.locked());
    assert_eq!(*result.lock().unwrap(), Some("first unique"));
    let r = result.clone();
    let _rd = result_deferred.add_callback(move |v| {
        *r.lock().unwrap() = Some(v);
        Ok(())
    });
    let _c = lock.acquire().add_callback(counter.incr());
    assert!(lock.locked());
    assert_eq!(c(), 2);
    control_r.callback("second unique").unwrap();
    assert_eq!(*result.lock().unwrap(), Some("second unique"));
    assert!(lock.locked());
    assert_eq!(c(), 3);

    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let d = lock.acquire().add_both(move |r| {
        *s.lock().unwrap() = Some(r.map(|_| ()));
        Ok(())
    });
    d.cancel();
    let seen = seen.lock().unwrap().take().unwrap();
    assert!(seen.unwrap_err().check::<CancelledError>());
    lock.release().unwrap();
    assert!(!lock.locked());
}

/// twisted: OtherPrimitivesTests.test_cancelLockAfterAcquired
/// Cancelling an acquire that already has the lock does nothing.
#[test]
fn test_cancel_lock_after_acquired() {
    let lock = DeferredLock::new();
    let d = lock
        .acquire()
        .add_errback(|f| -> Result<DeferredLock, Failure> { panic!("unexpected errback: {f}") });
    d.cancel();
    assert!(success_result_of(d).locked());
}

/// twisted: OtherPrimitivesTests.test_cancelLockBeforeAcquired
/// Cancelling a waiting acquire fails it with CancelledError at once.
#[test]
fn test_cancel_lock_before_acquired() {
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let d = lock.acquire();
    d.cancel();
    success_result_of(assert_immediate_failure::<_, CancelledError>(d));
    assert_eq!(lock.waiting(), 0);
}

/// twisted: OtherPrimitivesTests.testSemaphore
/// `run` holds a token until the function's Deferred fires; acquires beyond the limit
/// wait, a waiting one can be cancelled, and releases hand tokens over in order.
#[test]
fn test_semaphore() {
    const N: usize = 13;
    let sem = DeferredSemaphore::new(N).unwrap();
    let (control, control_r) = Deferred::<()>::new();
    let helper_arg = Arc::new(Mutex::new(None));
    let results = Arc::new(Mutex::new(Vec::new()));
    let h = helper_arg.clone();
    let result_deferred = sem.run(move || {
        *h.lock().unwrap() = Some("unique object");
        control
    });
    let counter = Counter::default();
    let r = results.clone();
    let _rd = result_deferred
        .add_callback(move |v| {
            r.lock().unwrap().push(v);
            Ok(())
        })
        .add_callback(counter.incr());
    assert!(results.lock().unwrap().is_empty());
    assert_eq!(*helper_arg.lock().unwrap(), Some("unique object"));
    control_r.callback(()).unwrap();
    assert_eq!(results.lock().unwrap().pop(), Some(()));
    assert_eq!(counter.get(), 1);

    counter.reset();
    for i in 1..=N {
        drop(sem.acquire().add_callback(counter.incr()));
        assert_eq!(counter.get(), i);
    }
    let success = Arc::new(Mutex::new(Vec::new()));
    let (s1, s2) = (success.clone(), success.clone());
    let d = sem.acquire().add_callbacks(
        move |_| {
            s1.lock().unwrap().push(false);
            Ok(())
        },
        move |_| {
            s2.lock().unwrap().push(true);
            Ok(())
        },
    );
    d.cancel();
    assert_eq!(*success.lock().unwrap(), [true]);
    drop(sem.acquire().add_callback(counter.incr()));
    assert_eq!(counter.get(), N);
    sem.release().unwrap();
    assert_eq!(counter.get(), N + 1);
    for _ in 1..=N {
        sem.release().unwrap();
        assert_eq!(counter.get(), N + 1);
    }
    assert_eq!(sem.tokens(), N);
    assert!(sem.release().is_err());
}

/// twisted: OtherPrimitivesTests.test_semaphoreInvalidTokens
/// A semaphore with fewer than one token is refused.
#[test]
fn test_semaphore_invalid_tokens() {
    assert!(DeferredSemaphore::new(0).is_err());
    // Negative token counts cannot be written: the count is a usize.
}

/// twisted: OtherPrimitivesTests.test_cancelSemaphoreAfterAcquired
/// Cancelling an acquire that already has a token does nothing.
#[test]
fn test_cancel_semaphore_after_acquired() {
    let sem = DeferredSemaphore::new(1).unwrap();
    let d = sem
        .acquire()
        .add_errback(|f| -> Result<DeferredSemaphore, Failure> { panic!("unexpected errback: {f}") });
    d.cancel();
    assert_eq!(success_result_of(d).tokens(), 0);
}

/// twisted: OtherPrimitivesTests.test_cancelSemaphoreBeforeAcquired
/// Cancelling a waiting acquire fails it with CancelledError at once.
#[test]
fn test_cancel_semaphore_before_acquired() {
    let sem = DeferredSemaphore::new(1).unwrap();
    let _held = sem.acquire();
    let d = sem.acquire();
    d.cancel();
    success_result_of(assert_immediate_failure::<_, CancelledError>(d));
}

/// twisted: OtherPrimitivesTests.testQueue
/// Puts serve waiting gets in order, then buffer; size and backlog limits raise
/// QueueOverflow and QueueUnderflow at once.
#[test]
fn test_queue() {
    const N: i32 = 2;
    const M: i32 = 2;
    let queue = DeferredQueue::new()
        .with_size(N as usize)
        .with_backlog(M as usize);
    let gotten = Arc::new(Mutex::new(Vec::new()));
    let append = |g: &Arc<Mutex<Vec<i32>>>| {
        let g = g.clone();
        move |v| {
            g.lock().unwrap().push(v);
            Ok(())
        }
    };
    for _ in 0..M {
        drop(queue.get().unwrap().add_callback(append(&gotten)));
    }
    assert_eq!(queue.get().unwrap_err(), QueueUnderflow);
    for i in 0..M {
        queue.put(i).unwrap();
        assert_eq!(*gotten.lock().unwrap(), (0..=i).collect::<Vec<_>>());
    }
    for i in 0..N {
        queue.put(N + i).unwrap();
        assert_eq!(*gotten.lock().unwrap(), (0..M).collect::<Vec<_>>());
    }
    assert!(queue.put(0).is_err());

    gotten.lock().unwrap().clear();
    for i in 0..N {
        drop(queue.get().unwrap().add_callback(append(&gotten)));
        assert_eq!(*gotten.lock().unwrap(), (N..=N + i).collect::<Vec<_>>());
    }

    let queue = DeferredQueue::new();
    gotten.lock().unwrap().clear();
    for _ in 0..N {
        drop(queue.get().unwrap().add_callback(append(&gotten)));
    }
    for i in 0..N {
        queue.put(i).unwrap();
    }
    assert_eq!(*gotten.lock().unwrap(), (0..N).collect::<Vec<_>>());

    let queue = DeferredQueue::new().with_size(0);
    assert!(queue.put(()).is_err());
    let queue = DeferredQueue::<()>::new().with_backlog(0);
    assert_eq!(queue.get().unwrap_err(), QueueUnderflow);
}

/// twisted: OtherPrimitivesTests.test_cancelQueueAfterSynchronousGet
/// Cancelling a get that already has its item does nothing.
#[test]
fn test_cancel_queue_after_synchronous_get() {
    let queue = DeferredQueue::<()>::new();
    let d = queue
        .get()
        .unwrap()
        .add_errback(|f| -> Result<(), Failure> { panic!("unexpected errback: {f}") });
    queue.put(()).unwrap();
    d.cancel();
    success_result_of(d);
}

/// twisted: OtherPrimitivesTests.test_cancelQueueAfterGet
/// A cancelled get fails with CancelledError and is not served by a later put.
#[test]
fn test_cancel_queue_after_get() {
    let queue = DeferredQueue::<()>::new();
    let d = queue.get().unwrap();
    d.cancel();
    let q = queue.clone();
    let d = assert_immediate_failure::<_, CancelledError>(d).add_callback(move |()| {
        // Were the cancelled get still queued, this put would go to it.
        q.put(()).unwrap();
        q.get().unwrap()
    });
    let done = Arc::new(AtomicUsize::new(0));
    let n = done.clone();
    let _d = d.add_callback(move |()| {
        n.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

// ------------------------------------------------ CoroutineContextVarsTests (async with)

/// twisted: CoroutineContextVarsTests.test_asyncWithLock
/// The lock's guard is `async with lock`: held in the block, handed on at its end.
#[test]
fn test_async_with_lock() {
    let lock = DeferredLock::new();
    let l = lock.clone();
    let d = Deferred::from_future(async move {
        let d;
        {
            let _guard = l.acquire_guard().await?;
            assert!(l.locked());
            let l2 = l.clone();
            d = l
                .acquire()
                .add_callback(move |_| l2.release().map_err(Failure::from));
            assert!(l.locked());
            assert!(!d.called());
        }
        assert!(d.called());
        d.await?;
        assert!(!l.locked());
        Ok::<_, Failure>(())
    });
    success_result_of(d);
    assert!(!lock.locked());
}

/// twisted: CoroutineContextVarsTests.test_asyncWithSemaphore
/// The semaphore's guards nest, and releasing hands tokens to waiters.
#[test]
fn test_async_with_semaphore() {
    let sem = DeferredSemaphore::new(3).unwrap();
    let s = sem.clone();
    let d = Deferred::from_future(async move {
        {
            let _outer = s.acquire_guard().await?;
            assert_eq!(s.tokens(), 2);
            let (d1, d2);
            {
                let _inner = s.acquire_guard().await?;
                assert_eq!(s.tokens(), 1);
                d1 = s.acquire();
                d2 = s.acquire();
                assert_eq!(s.tokens(), 0);
                assert!(d1.called());
                assert!(!d2.called());
            }
            assert_eq!(s.tokens(), 0);
            assert!(d2.called());
            let (s1, s2) = (s.clone(), s.clone());
            d1.add_callback(move |_| s1.release().map_err(Failure::from))
                .await?;
            d2.add_callback(move |_| s2.release().map_err(Failure::from))
                .await?;
            assert_eq!(s.tokens(), 2);
        }
        assert_eq!(s.tokens(), 3);
        Ok::<_, Failure>(())
    });
    success_result_of(d);
}

/// twisted: CoroutineContextVarsTests.test_asyncWithLockException
/// A failure inside the guarded block propagates, and the lock is released.
#[test]
fn test_async_with_lock_exception() {
    let lock = DeferredLock::new();
    let l = lock.clone();
    let d = Deferred::from_future(async move {
        let _guard = l.acquire_guard().await?;
        assert!(l.locked());
        Err::<(), _>(Failure::msg("some specific exception"))
    });
    assert_eq!(failure_result_of(d).error_message(), "some specific exception");
    assert!(!lock.locked());
}

// ---------------------------------------------------------------- DeferredAddTimeoutTests

/// Twisted's `_overrideFunc`, with the shape of an `on_timeout_cancel` hook.
#[allow(
    clippy::unnecessary_wraps,
    reason = "it has the shape of the hook it stands for"
)]
fn override_func<T>(_result: Result<T, Failure>, _timeout: Duration) -> Result<&'static str, Failure> {
    Ok("OVERRIDDEN")
}

/// twisted: DeferredAddTimeoutTests.test_timeoutChainable
/// `add_timeout` returns the Deferred, so the chain goes on.
#[test]
fn test_timeout_chainable() {
    let (d, r) = Deferred::<()>::new();
    let d = d
        .add_timeout(secs(5), &Clock::new())
        .add_callback(|()| Ok("done"));
    r.callback(()).unwrap();
    assert_eq!(success_result_of(d), "done");
}

/// Shared body of the "fires before the timeout" tests: the timer is cancelled, so a
/// Deferred returned by a later callback is never cancelled.
fn success_before_timeout(custom: bool) {
    let clock = Clock::new();
    let (d, r) = Deferred::<&str>::new();
    let d = if custom {
        d.add_timeout_with(secs(10), &clock, |_, _| Ok("OVERRIDDEN"))
    } else {
        d.add_timeout(secs(10), &clock)
    };
    let (inner, inner_r) = Deferred::<&str>::new();
    let called = Arc::new(Mutex::new(None));
    let c = called.clone();
    let d = d.add_callback(move |v| {
        *c.lock().unwrap() = Some(v);
        inner
    });
    r.callback("results").unwrap();
    assert_eq!(*called.lock().unwrap(), Some("results"));
    clock.advance(secs(15));
    assert!(!inner_r.called(), "the inner Deferred was cancelled");
    assert_no_result(&d);
    assert!(clock.pending_calls().is_empty());
}

/// twisted: DeferredAddTimeoutTests.test_successResultBeforeTimeout
/// A success before the timeout passes and cancels the timer.
#[test]
fn test_success_result_before_timeout() {
    success_before_timeout(false);
}

/// twisted: DeferredAddTimeoutTests.test_successResultBeforeTimeoutCustom
/// The same with a custom `on_timeout_cancel`.
#[test]
fn test_success_result_before_timeout_custom() {
    success_before_timeout(true);
}

fn failure_before_timeout(custom: bool) {
    let clock = Clock::new();
    let (d, r) = Deferred::<&str>::new();
    let d = if custom {
        d.add_timeout_with(secs(10), &clock, override_func)
    } else {
        d.add_timeout(secs(10), &clock)
    };
    let (inner, inner_r) = Deferred::<&str>::new();
    let errbacked = Arc::new(Mutex::new(None));
    let e = errbacked.clone();
    let d = d.add_errback(move |f| {
        *e.lock().unwrap() = Some(f);
        inner
    });
    r.errback(ValueError("fail")).unwrap();
    let f = errbacked.lock().unwrap().take().unwrap();
    assert_eq!(f.downcast_ref::<ValueError>().unwrap().0, "fail");
    clock.advance(secs(15));
    assert!(!inner_r.called(), "the inner Deferred was cancelled");
    assert_no_result(&d);
}

/// twisted: DeferredAddTimeoutTests.test_failureBeforeTimeout
/// A failure before the timeout passes unchanged and cancels the timer.
#[test]
fn test_failure_before_timeout() {
    failure_before_timeout(false);
}

/// twisted: DeferredAddTimeoutTests.test_failureBeforeTimeoutCustom
/// The same with a custom `on_timeout_cancel`.
#[test]
fn test_failure_before_timeout_custom() {
    failure_before_timeout(true);
}

/// twisted: DeferredAddTimeoutTests.test_timedOut
/// Timing out fails with TimeoutError.
#[test]
fn test_timed_out() {
    let clock = Clock::new();
    let (d, _r) = Deferred::<()>::new();
    let d = d.add_timeout(secs(10), &clock);
    assert_no_result(&d);
    clock.advance(secs(15));
    let f = failure_result_of(d);
    assert_eq!(
        f.downcast_ref::<TimeoutError>(),
        Some(&TimeoutError::new(secs(10)))
    );
}

/// twisted: DeferredAddTimeoutTests.test_timedOutCustom
/// A custom `on_timeout_cancel` may turn the timeout into a value.
#[test]
fn test_timed_out_custom() {
    let clock = Clock::new();
    let (d, _r) = Deferred::<&str>::new();
    let d = d.add_timeout_with(secs(10), &clock, override_func);
    assert_no_result(&d);
    clock.advance(secs(15));
    assert_eq!(success_result_of(d), "OVERRIDDEN");
}

/// twisted: DeferredAddTimeoutTests.test_timedOutProvidedCancelSuccess
/// A canceller that fires a value wins over the timeout.
#[test]
fn test_timed_out_provided_cancel_success() {
    let clock = Clock::new();
    let (d, _r) = Deferred::<&str>::with_canceller(|c| c.callback("I was cancelled!").unwrap());
    let d = d.add_timeout(secs(10), &clock);
    assert_no_result(&d);
    clock.advance(secs(15));
    assert_eq!(success_result_of(d), "I was cancelled!");
}

/// twisted: DeferredAddTimeoutTests.test_timedOutProvidedCancelFailure
/// A canceller's own failure passes untranslated.
#[test]
fn test_timed_out_provided_cancel_failure() {
    let clock = Clock::new();
    let (d, _r) = Deferred::<()>::with_canceller(|c| c.errback(ValueError("what!")).unwrap());
    let d = d.add_timeout(secs(10), &clock);
    assert_no_result(&d);
    clock.advance(secs(15));
    let f = failure_result_of(d);
    assert_eq!(f.downcast_ref::<ValueError>().unwrap().0, "what!");
}

fn cancel_before_timeout(custom: bool) {
    let clock = Clock::new();
    let (d, _r) = Deferred::<&str>::new();
    let d = if custom {
        d.add_timeout_with(secs(10), &clock, override_func)
    } else {
        d.add_timeout(secs(10), &clock)
    };
    let (inner, inner_r) = Deferred::<&str>::new();
    let cancelled = Arc::new(Mutex::new(None));
    let c = cancelled.clone();
    let d = d.add_errback(move |f| {
        *c.lock().unwrap() = Some(f);
        inner
    });
    d.cancel();
    let f = cancelled.lock().unwrap().take().unwrap();
    assert!(f.check::<CancelledError>(), "{f:?}");
    assert!(clock.pending_calls().is_empty());
    clock.advance(secs(15));
    assert!(!inner_r.called(), "the inner Deferred was cancelled again");
    assert_no_result(&d);
}

/// twisted: DeferredAddTimeoutTests.test_cancelBeforeTimeout
/// A manual cancel keeps the plain CancelledError and cancels the timer.
#[test]
fn test_cancel_before_timeout() {
    cancel_before_timeout(false);
}

/// twisted: DeferredAddTimeoutTests.test_cancelBeforeTimeoutCustom
/// The same with a custom `on_timeout_cancel`, which does not run.
#[test]
fn test_cancel_before_timeout_custom() {
    cancel_before_timeout(true);
}

/// twisted: DeferredAddTimeoutTests.test_providedCancelCalledBeforeTimeoutCustom
/// A custom `on_timeout_cancel` also handles a canceller's own failure.
#[test]
fn test_provided_cancel_called_before_timeout_custom() {
    let clock = Clock::new();
    let (d, _r) = Deferred::<&str>::with_canceller(|c| c.errback(ValueError("what!")).unwrap());
    let d = d.add_timeout_with(secs(10), &clock, override_func);
    assert_no_result(&d);
    clock.advance(secs(15));
    assert_eq!(success_result_of(d), "OVERRIDDEN");
}

/// An errback added before the timeout, recording what it sees; `suppress` makes it
/// trap CancelledError, as Twisted's `f.trap(CancelledError)` returning None.
fn errback_added_before(
    d: Deferred<&'static str>,
    seen: &Arc<Mutex<Option<Failure>>>,
    suppress: bool,
) -> Deferred<&'static str> {
    let s = seen.clone();
    d.add_errback(move |f| {
        *s.lock().unwrap() = Some(f.clone());
        if suppress {
            f.trap::<CancelledError>()?;
            Ok("")
        } else {
            Err(f)
        }
    })
}

fn assert_saw_cancelled(seen: &Arc<Mutex<Option<Failure>>>) {
    let f = seen.lock().unwrap().take().expect("the errback did not run");
    assert!(f.check::<CancelledError>(), "{f:?}");
}

/// twisted: DeferredAddTimeoutTests.test_errbackAddedBeforeTimeout
/// An earlier errback sees CancelledError; passed on, it becomes TimeoutError.
#[test]
fn test_errback_added_before_timeout() {
    let clock = Clock::new();
    let seen = Arc::new(Mutex::new(None));
    let (d, _r) = Deferred::<&str>::new();
    let d = errback_added_before(d, &seen, false).add_timeout(secs(10), &clock);
    clock.advance(secs(15));
    assert_saw_cancelled(&seen);
    assert!(failure_result_of(d).check::<TimeoutError>());
}

/// twisted: DeferredAddTimeoutTests.test_errbackAddedBeforeTimeoutSuppressesCancellation
/// An earlier errback that traps CancelledError makes the Deferred succeed.
#[test]
fn test_errback_added_before_timeout_suppresses_cancellation() {
    let clock = Clock::new();
    let seen = Arc::new(Mutex::new(None));
    let (d, _r) = Deferred::<&str>::new();
    let d = errback_added_before(d, &seen, true).add_timeout(secs(10), &clock);
    clock.advance(secs(15));
    assert_saw_cancelled(&seen);
    assert_eq!(success_result_of(d), "");
}

/// twisted: DeferredAddTimeoutTests.test_errbackAddedBeforeTimeoutCustom
/// With a custom `on_timeout_cancel`, it decides the result after the earlier errback.
#[test]
fn test_errback_added_before_timeout_custom() {
    let clock = Clock::new();
    let seen = Arc::new(Mutex::new(None));
    let (d, _r) = Deferred::<&str>::new();
    let d = errback_added_before(d, &seen, false).add_timeout_with(secs(10), &clock, override_func);
    clock.advance(secs(15));
    assert_saw_cancelled(&seen);
    assert_eq!(success_result_of(d), "OVERRIDDEN");
}

/// twisted: DeferredAddTimeoutTests.test_errbackAddedBeforeTimeoutSuppressesCancellationCustom
/// A custom `on_timeout_cancel` runs even when an earlier errback recovered.
#[test]
fn test_errback_added_before_timeout_suppresses_cancellation_custom() {
    let clock = Clock::new();
    let seen = Arc::new(Mutex::new(None));
    let (d, _r) = Deferred::<&str>::new();
    let d = errback_added_before(d, &seen, true).add_timeout_with(secs(10), &clock, override_func);
    clock.advance(secs(15));
    assert_saw_cancelled(&seen);
    assert_eq!(success_result_of(d), "OVERRIDDEN");
}

fn callback_added_to_canceller_before(
    custom: bool,
) -> (Deferred<&'static str>, Arc<Mutex<Option<&'static str>>>, Clock) {
    let clock = Clock::new();
    let (d, _r) = Deferred::<&str>::with_canceller(|c| c.callback("success").unwrap());
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let d = d.add_callback(move |v| {
        *s.lock().unwrap() = Some(v);
        Ok(v)
    });
    let d = if custom {
        d.add_timeout_with(secs(10), &clock, override_func)
    } else {
        d.add_timeout(secs(10), &clock)
    };
    clock.advance(secs(15));
    (d, seen, clock)
}

/// twisted: DeferredAddTimeoutTests.test_callbackAddedToCancelerBeforeTimeout
/// A canceller that fires a value runs the earlier callbacks and the Deferred succeeds.
#[test]
fn test_callback_added_to_canceler_before_timeout() {
    let (d, seen, _clock) = callback_added_to_canceller_before(false);
    assert_eq!(*seen.lock().unwrap(), Some("success"));
    assert_eq!(success_result_of(d), "success");
}

/// twisted: DeferredAddTimeoutTests.test_callbackAddedToCancelerBeforeTimeoutCustom
/// The same with a custom `on_timeout_cancel`, which still runs.
#[test]
fn test_callback_added_to_canceler_before_timeout_custom() {
    let (d, seen, _clock) = callback_added_to_canceller_before(true);
    assert_eq!(*seen.lock().unwrap(), Some("success"));
    assert_eq!(success_result_of(d), "OVERRIDDEN");
}
