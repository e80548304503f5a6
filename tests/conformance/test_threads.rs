//! Port of `twisted/test/test_threads.py` (`ReactorThreadsTests`, `DeferredResultTests`,
//! `DeferToThreadPoolTests`, `StartupBehaviorTests`) and
//! `twisted/internet/test/test_threads.py` (`ThreadTestsBuilder`): the reactor's thread
//! pool, `call_from_thread`, `defer_to_thread` and `blocking_call_from_thread`. Threads
//! hand results back through channels and are joined; nothing sleeps.
//!
//! Not ported:
//! - `ThreadTestsBuilder.test_threadPoolCurrentThreadDeprecated`: a Python deprecation.
//! - `DeferredResultTests.test_deferredResult`'s positional and keyword arguments:
//!   closures capture arguments (the result path is ported).

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use tokio_twisted::defer::{Deferred, DeferredList, fail, succeed};
use tokio_twisted::failure::{Failure, MessageError};
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::threads::{
    ThreadPool, blocking_call_from_thread, call_multiple_in_thread, defer_to_thread, defer_to_thread_pool,
};

use crate::common::{paused_reactor, reactor};

fn stop_from_thread(handle: &ReactorHandle) {
    let stopper = handle.clone();
    handle.call_from_thread(move || stopper.stop()).unwrap();
}

/// Runs `reactor` until `d` fires, and returns `d`'s result.
fn run_until<T: Send + Clone + 'static>(reactor: &Reactor, d: Deferred<T>) -> Result<T, Failure> {
    let h = reactor.handle();
    let d = d.add_both(move |r| {
        h.stop().unwrap();
        Ok(r)
    });
    reactor.run().unwrap();
    d.result().expect("the reactor stopped once it fired").unwrap()
}

// ---------------------------------------------------------------------------------------
// ReactorThreadsTests

/// twisted: ReactorThreadsTests.test_suggestThreadPoolSize
/// The suggested size becomes the pool's maximum, up or down.
#[test]
fn test_suggest_thread_pool_size() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    r.suggest_thread_pool_size(34);
    assert_eq!(r.thread_pool().max_threads(), 34);
    r.suggest_thread_pool_size(4);
    assert_eq!(r.thread_pool().max_threads(), 4);
}

/// twisted: ReactorThreadsTests.test_callInThread
/// `call_in_thread` runs its function off the reactor thread.
#[test]
fn test_call_in_thread() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (tx, rx) = mpsc::channel();
    let h = r.handle();
    r.call_in_thread(move || {
        tx.send(h.is_reactor_thread()).unwrap();
        stop_from_thread(&h);
    })
    .unwrap();
    r.run().unwrap();
    assert!(!rx.recv().unwrap());
}

/// twisted: ReactorThreadsTests.test_callFromThread
/// `call_from_thread` works from the reactor thread and from a pool thread.
#[test]
fn test_call_from_thread() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (by_reactor, by_reactor_r) = Deferred::<()>::new();
    let (by_other, by_other_r) = Deferred::<()>::new();
    let h = r.handle();
    r.call_when_running(move || {
        let from_pool = h.clone();
        h.call_in_thread(move || {
            from_pool
                .call_from_thread(move || by_other_r.callback(()))
                .unwrap();
        })
        .unwrap();
        h.call_from_thread(move || by_reactor_r.callback(())).unwrap();
    })
    .unwrap();
    let both = DeferredList::new(vec![by_reactor, by_other])
        .fire_on_one_errback()
        .build();
    assert_eq!(run_until(&r, both.add_callback(|rs| Ok(rs.len()))).unwrap(), 2);
}

/// twisted: ReactorThreadsTests.test_wakerOverflow
/// A hundred thousand calls from one thread never fail or block the caller.
#[test]
fn test_waker_overflow() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (tx, rx) = mpsc::channel();
    let h = r.handle();
    r.call_in_thread(move || {
        let failures = (0..100_000)
            .filter(|_| h.call_from_thread(|| {}).is_err())
            .count();
        tx.send(failures).unwrap();
        stop_from_thread(&h);
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(rx.recv().unwrap(), 0);
}

fn blocking_call<T: Send + 'static>(
    reactor_func: impl FnOnce(ReactorHandle) -> Deferred<T> + Send + 'static,
) -> Result<T, Failure> {
    let r = reactor();
    let (tx, rx) = mpsc::channel();
    let h = r.handle();
    r.call_in_thread(move || {
        let inside = h.clone();
        tx.send(blocking_call_from_thread(&h, move || reactor_func(inside)))
            .unwrap();
        stop_from_thread(&h);
    })
    .unwrap();
    r.run().unwrap();
    rx.recv().unwrap()
}

fn fire_later<T: Send + 'static>(h: &ReactorHandle, result: Result<T, Failure>) -> Deferred<T> {
    let (d, resolver) = Deferred::new();
    h.call_later(Duration::from_millis(1), move || {
        resolver.resolve(result).unwrap();
    });
    d
}

/// twisted: ReactorThreadsTests.test_blockingCallFromThread
/// A blocking call returns the value of the fired Deferred the function returned.
#[test]
fn test_blocking_call_from_thread() {
    let _limit = crate::common::time_limit();
    assert_eq!(blocking_call(|_| succeed("foo")).unwrap(), "foo");
}

/// twisted: ReactorThreadsTests.test_asyncBlockingCallFromThread
/// A blocking call waits for a Deferred that fires later.
#[test]
fn test_async_blocking_call_from_thread() {
    let _limit = crate::common::time_limit();
    assert_eq!(blocking_call(|h| fire_later(&h, Ok("egg"))).unwrap(), "egg");
}

/// twisted: ReactorThreadsTests.test_errorBlockingCallFromThread
/// A blocking call returns the failure of a failed Deferred.
#[test]
fn test_error_blocking_call_from_thread() {
    let _limit = crate::common::time_limit();
    let err = blocking_call(|_| fail::<()>(Failure::msg("bar"))).unwrap_err();
    assert!(err.check::<MessageError>());
    assert_eq!(err.error_message(), "bar");
}

/// twisted: ReactorThreadsTests.test_asyncErrorBlockingCallFromThread
/// A blocking call returns the failure of a Deferred that fails later.
#[test]
fn test_async_error_blocking_call_from_thread() {
    let _limit = crate::common::time_limit();
    let err = blocking_call(|h| fire_later::<()>(&h, Err(Failure::msg("spam")))).unwrap_err();
    assert_eq!(err.error_message(), "spam");
}

// ---------------------------------------------------------------------------------------
// DeferredResultTests

/// twisted: DeferredResultTests.test_callMultiple
/// `call_multiple_in_thread` runs the functions in order, in one thread.
#[test]
fn test_call_multiple() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    r.suggest_thread_pool_size(8);
    let seen = Arc::new(Mutex::new(Vec::<(usize, ThreadId)>::new()));
    let mut calls: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    for i in 0..10 {
        let seen = Arc::clone(&seen);
        calls.push(Box::new(move || {
            seen.lock().unwrap().push((i, std::thread::current().id()));
        }));
    }
    let h = r.handle();
    calls.push(Box::new(move || stop_from_thread(&h)));
    call_multiple_in_thread(&r.handle(), calls).unwrap();
    r.run().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert!(seen.iter().all(|(_, t)| *t == seen[0].1));
}

/// twisted: DeferredResultTests.test_deferredResult
/// `defer_to_thread` fires with the function's result.
#[test]
fn test_deferred_result() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (x, y) = (3, 4);
    let d = defer_to_thread(&r.handle(), move || Ok(x + y));
    assert_eq!(run_until(&r, d).unwrap(), 7);
}

/// twisted: DeferredResultTests.test_deferredFailure
/// `defer_to_thread` fails with the function's error.
#[test]
fn test_deferred_failure() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let d = defer_to_thread(&r.handle(), || Err::<(), _>(Failure::new(std::fmt::Error)));
    assert!(run_until(&r, d).unwrap_err().check::<std::fmt::Error>());
}

/// twisted: DeferredResultTests.test_deferredFailureAfterSuccess
/// A failing `defer_to_thread` chained after a successful one fails.
#[test]
fn test_deferred_failure_after_success() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let h = r.handle();
    let d = defer_to_thread(&r.handle(), || Ok(()))
        .add_callback(move |()| defer_to_thread(&h, || Err::<i32, _>(Failure::msg("division by zero"))));
    assert_eq!(run_until(&r, d).unwrap_err().error_message(), "division by zero");
}

// ---------------------------------------------------------------------------------------
// DeferToThreadPoolTests

/// twisted: DeferToThreadPoolTests.test_deferredResult
/// `defer_to_thread_pool` fires with the function's result.
#[test]
fn test_defer_to_thread_pool_deferred_result() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let pool = ThreadPool::new(8);
    pool.start();
    let d = defer_to_thread_pool(&r.handle(), &pool, || Ok(3 + 4));
    assert_eq!(run_until(&r, d).unwrap(), 7);
    pool.stop();
}

/// twisted: DeferToThreadPoolTests.test_deferredFailure
/// `defer_to_thread_pool` fails with the function's error.
#[test]
fn test_defer_to_thread_pool_deferred_failure() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let pool = ThreadPool::new(8);
    pool.start();
    let d = defer_to_thread_pool(&r.handle(), &pool, || Err::<(), _>(Failure::new(std::fmt::Error)));
    assert!(run_until(&r, d).unwrap_err().check::<std::fmt::Error>());
    pool.stop();
}

// ---------------------------------------------------------------------------------------
// StartupBehaviorTests

/// twisted: StartupBehaviorTests.testCallBeforeStartupUnexecuted
/// Work given to the pool of a reactor that never runs never runs, and dropping the
/// reactor leaves no thread behind.
#[test]
fn test_call_before_startup_unexecuted() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (tx, rx) = mpsc::channel::<&str>();
    r.call_in_thread(move || tx.send("threaded call").unwrap())
        .unwrap();
    let pool = r.thread_pool();
    assert_eq!(pool.worker_count(), 0);
    drop(r);
    assert!(pool.stopped());
    assert!(rx.recv().is_err(), "the call was dropped unrun");
    assert_eq!(pool.worker_count(), 0);
}

// ---------------------------------------------------------------------------------------
// ThreadTestsBuilder (twisted/internet/test/test_threads.py)

/// twisted: ThreadTestsBuilder.test_getThreadPool
/// The pool starts when the reactor runs and is stopped (joined) before `run` returns.
#[test]
fn test_get_thread_pool() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let pool = r.thread_pool();
    assert!(!pool.started(), "not before run");
    let state = Arc::new(Mutex::new(None));
    let (p, s, h) = (pool.clone(), Arc::clone(&state), r.handle());
    r.call_when_running(move || {
        *s.lock().unwrap() = Some((p.started(), p.stopped()));
        h.stop()
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(*state.lock().unwrap(), Some((true, false)));
    assert!(pool.stopped());
}

/// twisted: ThreadTestsBuilder.test_suggestThreadPoolSize
/// The suggested size is the pool's maximum.
#[test]
fn test_thread_tests_builder_suggest_thread_pool_size() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    r.suggest_thread_pool_size(17);
    assert_eq!(r.thread_pool().max_threads(), 17);
}

/// twisted: ThreadTestsBuilder.test_delayedCallFromThread
/// A `call_from_thread` made from a timed call runs in the next iteration, though nothing
/// else is scheduled: the reactor stops through it well before a 60 s fail-safe.
#[test]
fn test_delayed_call_from_thread() {
    let _limit = crate::common::time_limit();
    // Paused time: were the loop not woken, it would idle straight to the fail-safe, so the
    // check below is exact instead of Twisted's "less than 30 of 60 seconds" heuristic.
    let r = paused_reactor();
    let h = r.handle();
    let ran = Arc::new(Mutex::new(None));
    let ran_at = Arc::clone(&ran);
    r.call_later(Duration::ZERO, move || {
        let inner = h.clone();
        h.call_from_thread(move || {
            *ran_at.lock().unwrap() = Some(inner.seconds());
            inner.stop()
        })
        .unwrap();
    });
    let timed_out = Arc::new(Mutex::new(false));
    let (t, h) = (Arc::clone(&timed_out), r.handle());
    let fail_safe = r.call_later(Duration::from_secs(60), move || {
        *t.lock().unwrap() = true;
        h.stop().unwrap();
    });
    let before = r.seconds();
    r.run().unwrap();
    let after = r.seconds();
    assert!(
        !*timed_out.lock().unwrap(),
        "the thread call waited for the 60 s fail-safe"
    );
    assert!(fail_safe.active());
    assert!(after - before < 30.0, "{before} .. {after}");
    assert_eq!(*ran.lock().unwrap(), Some(before), "ran in the first iterations");
}

/// twisted: ThreadTestsBuilder.test_callFromThread
/// A `call_from_thread` made on a pool thread runs on the reactor thread.
#[test]
fn test_thread_tests_builder_call_from_thread() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let result = Arc::new(Mutex::new(None));
    let (h, res) = (r.handle(), Arc::clone(&result));
    r.call_later(Duration::ZERO, move || {
        let inner = h.clone();
        h.call_in_thread(move || {
            let stopper = inner.clone();
            inner
                .call_from_thread(move || {
                    *res.lock().unwrap() = Some(std::thread::current().id());
                    stopper.stop()
                })
                .unwrap();
        })
        .unwrap();
    });
    r.run().unwrap();
    assert_eq!(*result.lock().unwrap(), Some(std::thread::current().id()));
}

/// twisted: ThreadTestsBuilder.test_stopThreadPool
/// A pool made before the reactor ran is stopped, with no thread left, after it stops.
#[test]
fn test_stop_thread_pool() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let pool = r.thread_pool();
    let h = r.handle();
    r.call_when_running(move || {
        let inner = h.clone();
        h.call_in_thread(move || stop_from_thread(&inner)).unwrap();
    })
    .unwrap();
    r.run().unwrap();
    assert!(pool.stopped());
    assert_eq!(pool.worker_count(), 0);
}

/// twisted: ThreadTestsBuilder.test_stopThreadPoolWhenStartedAfterReactorRan
/// A pool first made while the reactor runs is stopped, with no thread left, too.
#[test]
fn test_stop_thread_pool_when_started_after_reactor_ran() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let pools = Arc::new(Mutex::new(Vec::new()));
    let (h, p) = (r.handle(), Arc::clone(&pools));
    r.call_when_running(move || {
        let pool = h.thread_pool();
        assert!(pool.started(), "made while running, so started at once");
        p.lock().unwrap().push(pool);
        let inner = h.clone();
        h.call_in_thread(move || stop_from_thread(&inner)).unwrap();
    })
    .unwrap();
    r.run().unwrap();
    let pool = pools.lock().unwrap().pop().unwrap();
    assert!(pool.stopped());
    assert_eq!(pool.worker_count(), 0);
}

/// twisted: ThreadTestsBuilder.test_cleanUpThreadPoolEvenBeforeReactorIsRun
/// The pool of a reactor that never ran is stopped when the reactor goes away.
#[test]
fn test_clean_up_thread_pool_even_before_reactor_is_run() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let pool = r.thread_pool();
    drop(r);
    assert!(pool.stopped());
    assert_eq!(
        pool.call_in_thread(|| {}),
        Err(tokio_twisted::threads::ThreadPoolStopped)
    );
}

/// twisted: ThreadTestsBuilder.test_isInIOThread
/// Code on the reactor thread knows it is there.
#[test]
fn test_is_in_io_thread() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let results = Arc::new(Mutex::new(Vec::new()));
    let (h, res) = (r.handle(), Arc::clone(&results));
    r.call_when_running(move || {
        res.lock().unwrap().push(h.is_reactor_thread());
        h.stop()
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(*results.lock().unwrap(), [true]);
}

/// twisted: ThreadTestsBuilder.test_isNotInIOThread
/// Code on a pool thread knows it is not on the reactor thread.
#[test]
fn test_is_not_in_io_thread() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let results = Arc::new(Mutex::new(Vec::new()));
    let (h, res) = (r.handle(), Arc::clone(&results));
    r.call_in_thread(move || {
        res.lock().unwrap().push(h.is_reactor_thread());
        stop_from_thread(&h);
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(*results.lock().unwrap(), [false]);
}
