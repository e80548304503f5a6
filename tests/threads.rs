//! Threads and the reactor: the thread pool, `call_in_thread`, `defer_to_thread`,
//! `blocking_call_from_thread`. Every test waits on channels or joins threads; none sleeps.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{CancelledError, Deferred, fail, succeed};
use tokio_twisted::failure::{Failure, MessageError, PanicError};
use tokio_twisted::reactor::{Event, Phase, ReactorHandle, ReactorNotRunning};
use tokio_twisted::testing::LoggedErrors;
use tokio_twisted::threads::{
    CalledOnReactorThread, ThreadPool, ThreadPoolStopped, blocking_call_from_thread, defer_to_thread,
    defer_to_thread_pool,
};

use common::reactor;

fn stop_on_reactor(handle: &ReactorHandle) {
    let stopper = handle.clone();
    handle.call_from_thread(move || stopper.stop()).unwrap();
}

/// A gate that jobs wait on until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, cv) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
    }

    fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

// ---------------------------------------------------------------------------------------
// call_in_thread and the reactor's pool

#[test]
fn call_in_thread_runs_off_the_reactor_thread_once_running() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let (tx, rx) = mpsc::channel();
    let handle = reactor.handle();
    reactor
        .call_in_thread(move || {
            tx.send((std::thread::current().id(), handle.is_reactor_thread()))
                .unwrap();
            stop_on_reactor(&handle);
        })
        .unwrap();
    let pool = reactor.thread_pool();
    assert!(!pool.started());
    assert_eq!(pool.worker_count(), 0, "work before run waits, with no thread");
    assert!(rx.try_recv().is_err());
    reactor.run().unwrap();
    let (thread, on_reactor) = rx.recv().unwrap();
    assert_ne!(thread, std::thread::current().id());
    assert!(!on_reactor);
}

#[test]
fn the_pool_starts_with_the_reactor_and_is_joined_at_shutdown() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let pool = reactor.thread_pool();
    assert_eq!(pool.max_threads(), 10);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (p, s) = (pool.clone(), Arc::clone(&seen));
    reactor
        .call_when_running(move || s.lock().unwrap().push((p.started(), p.stopped())))
        .unwrap();
    let (p, s) = (pool.clone(), Arc::clone(&seen));
    reactor
        .add_system_event_trigger(Phase::During, Event::Shutdown, move || {
            s.lock().unwrap().push((p.started(), p.stopped()));
        })
        .unwrap();
    let handle = reactor.handle();
    reactor
        .call_when_running(move || {
            // Something for a thread to do, so there is a thread to join.
            let h = handle.clone();
            handle.call_in_thread(move || stop_on_reactor(&h)).unwrap();
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(*seen.lock().unwrap(), [(true, false), (true, false)]);
    assert!(pool.stopped());
    assert_eq!(pool.worker_count(), 0, "joined");
    assert_eq!(reactor.call_in_thread(|| {}), Err(ThreadPoolStopped));
}

#[test]
fn the_pool_finishes_queued_work_before_shutdown_completes() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    reactor.suggest_thread_pool_size(1);
    let done = Arc::new(AtomicUsize::new(0));
    let handle = reactor.handle();
    let d = Arc::clone(&done);
    reactor
        .call_when_running(move || {
            for _ in 0..20 {
                let d = Arc::clone(&d);
                handle
                    .call_in_thread(move || {
                        d.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap();
            }
            handle.stop()
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 20);
}

#[test]
fn suggest_thread_pool_size_bounds_the_threads() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    reactor.suggest_thread_pool_size(2);
    let pool = reactor.thread_pool();
    let gate = Gate::default();
    let (started_tx, started_rx) = mpsc::channel();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (handle, g, r, m) = (
        reactor.handle(),
        gate.clone(),
        Arc::clone(&running),
        Arc::clone(&most),
    );
    reactor
        .call_when_running(move || {
            for _ in 0..5 {
                let (g, r, m, tx) = (g.clone(), Arc::clone(&r), Arc::clone(&m), started_tx.clone());
                handle
                    .call_in_thread(move || {
                        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        tx.send(()).unwrap();
                        g.wait();
                        r.fetch_sub(1, Ordering::SeqCst);
                    })
                    .unwrap();
            }
        })
        .unwrap();
    let handle = reactor.handle();
    let watcher = std::thread::spawn(move || {
        started_rx.recv().unwrap();
        started_rx.recv().unwrap();
        // Two jobs hold both threads; the pool may not have made a third.
        let workers = pool.worker_count();
        gate.open();
        for _ in 0..3 {
            started_rx.recv().unwrap();
        }
        stop_on_reactor(&handle);
        workers
    });
    reactor.run().unwrap();
    assert_eq!(watcher.join().unwrap(), 2);
    assert_eq!(most.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------
// defer_to_thread

#[test]
fn defer_to_thread_fires_on_the_reactor_thread() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let reactor_thread = std::thread::current().id();
    let (tx, rx) = mpsc::channel();
    let handle = reactor.handle();
    let d = defer_to_thread(&reactor.handle(), move || {
        tx.send(std::thread::current().id()).unwrap();
        Ok(3 + 4)
    })
    .add_callback(move |n| {
        assert_eq!(std::thread::current().id(), reactor_thread);
        handle.stop().map(|()| n * 10).map_err(Failure::from)
    });
    reactor.run().unwrap();
    assert_eq!(d.result().unwrap().unwrap(), 70);
    assert_ne!(rx.recv().unwrap(), reactor_thread);
}

#[test]
fn defer_to_thread_failures_and_panics_errback() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let failed = defer_to_thread(&reactor.handle(), || Err::<i32, _>(Failure::msg("thread failed")));
    let panicked = defer_to_thread(&reactor.handle(), || -> Result<i32, Failure> {
        panic!("thread panicked")
    });
    let chained = defer_to_thread(&reactor.handle(), || {
        fail::<i32>(Failure::msg("returned a failed Deferred"))
    });
    let ok = defer_to_thread(&reactor.handle(), || succeed(5));
    let handle = reactor.handle();
    let all = tokio_twisted::defer::DeferredList::new(vec![failed, panicked, chained, ok])
        .consume_errors()
        .build()
        .add_callback(move |results| handle.stop().map(|()| results).map_err(Failure::from));
    reactor.run().unwrap();
    let results = all.result().unwrap().unwrap();
    assert_eq!(results[0].as_ref().unwrap_err().error_message(), "thread failed");
    assert!(results[1].as_ref().unwrap_err().check::<PanicError>());
    assert!(results[2].as_ref().unwrap_err().check::<MessageError>());
    assert_eq!(*results[3].as_ref().unwrap(), 5);
}

#[test]
fn cancelling_defer_to_thread_fails_at_once_and_swallows_the_late_result() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let reactor = reactor();
    reactor.suggest_thread_pool_size(1);
    let gate = Gate::default();
    let g = gate.clone();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let cancelled = defer_to_thread(&reactor.handle(), move || {
        g.wait();
        r.fetch_add(1, Ordering::SeqCst);
        Ok("late")
    });
    cancelled.cancel();
    assert!(cancelled.called(), "cancel fires it at once");
    gate.open();
    // One thread, so this job's result arrives after the cancelled one's.
    let handle = reactor.handle();
    let after = defer_to_thread(&reactor.handle(), || Ok(()))
        .add_callback(move |()| handle.stop().map_err(Failure::from));
    reactor.run().unwrap();
    assert!(after.called());
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the thread kept running");
    assert!(tokio_twisted::testing::failure_result_of(cancelled).check::<CancelledError>());
    assert!(logged.is_empty());
}

#[test]
fn defer_to_thread_after_shutdown_fails_with_thread_pool_stopped() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    reactor
        .call_when_running(|| ReactorHandle::current().unwrap().stop())
        .unwrap();
    reactor.run().unwrap();
    let d = defer_to_thread(&reactor.handle(), || Ok(1));
    assert!(tokio_twisted::testing::failure_result_of(d).check::<ThreadPoolStopped>());
}

#[test]
fn defer_to_thread_pool_uses_the_given_pool() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let pool = ThreadPool::new(1);
    pool.start();
    let (tx, rx) = mpsc::channel();
    let handle = reactor.handle();
    let d = defer_to_thread_pool(&reactor.handle(), &pool, move || {
        tx.send(std::thread::current().name().map(str::to_owned)).unwrap();
        Ok(2)
    })
    .add_callback(move |n| handle.stop().map(|()| n).map_err(Failure::from));
    reactor.run().unwrap();
    assert_eq!(d.result().unwrap().unwrap(), 2);
    assert_eq!(
        reactor.thread_pool().worker_count(),
        0,
        "the reactor's pool was not used"
    );
    assert!(rx.recv().unwrap().unwrap().starts_with("tokio-twisted-pool-"));
    pool.stop();
}

// ---------------------------------------------------------------------------------------
// blocking_call_from_thread

fn blocking_from_pool<T: Send + 'static>(
    body: impl FnOnce(ReactorHandle) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let reactor = reactor();
    let (tx, rx) = mpsc::channel();
    let handle = reactor.handle();
    reactor
        .call_in_thread(move || {
            tx.send(body(handle.clone())).unwrap();
            stop_on_reactor(&handle);
        })
        .unwrap();
    reactor.run().unwrap();
    rx.recv().unwrap()
}

#[test]
fn blocking_call_from_thread_returns_the_value() {
    let _limit = crate::common::time_limit();
    let value = blocking_from_pool(|h| {
        let reactor_side = h.clone();
        blocking_call_from_thread(&h, move || {
            assert!(reactor_side.is_reactor_thread());
            succeed("foo")
        })
    });
    assert_eq!(value.unwrap(), "foo");
}

#[test]
fn blocking_call_from_thread_waits_for_a_deferred() {
    let _limit = crate::common::time_limit();
    let value = blocking_from_pool(|h| {
        let timers = h.clone();
        blocking_call_from_thread(&h, move || {
            let (d, r) = Deferred::new();
            timers.call_later(Duration::from_millis(1), move || r.callback("egg").unwrap());
            d
        })
    });
    assert_eq!(value.unwrap(), "egg");
}

#[test]
fn blocking_call_from_thread_returns_failures() {
    let _limit = crate::common::time_limit();
    let now = blocking_from_pool(|h| blocking_call_from_thread(&h, || fail::<()>(Failure::msg("bar"))));
    assert_eq!(now.unwrap_err().error_message(), "bar");
    let later = blocking_from_pool(|h| {
        let timers = h.clone();
        blocking_call_from_thread(&h, move || {
            let (d, r) = Deferred::<()>::new();
            timers.call_later(Duration::from_millis(1), move || {
                r.errback(Failure::msg("spam")).unwrap();
            });
            d
        })
    });
    assert_eq!(later.unwrap_err().error_message(), "spam");
    let panicked =
        blocking_from_pool(|h| blocking_call_from_thread(&h, || -> Result<(), Failure> { panic!("oops") }));
    assert!(panicked.unwrap_err().check::<PanicError>());
}

#[test]
fn blocking_call_from_thread_on_the_reactor_thread_is_refused() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let err = blocking_call_from_thread(&reactor.handle(), || Ok(1)).unwrap_err();
    assert!(err.check::<CalledOnReactorThread>());
    let results = Arc::new(Mutex::new(Vec::new()));
    let (h, r) = (reactor.handle(), Arc::clone(&results));
    reactor
        .call_when_running(move || {
            let err = blocking_call_from_thread(&h, || Ok(1)).unwrap_err();
            r.lock().unwrap().push(err.check::<CalledOnReactorThread>());
            h.stop()
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(*results.lock().unwrap(), [true]);
}

#[test]
fn blocking_call_from_thread_made_before_run_waits_for_it() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let handle = reactor.handle();
    let (queued_tx, queued_rx) = mpsc::channel();
    let caller = std::thread::spawn(move || {
        let stopper = handle.clone();
        queued_tx.send(()).unwrap();
        blocking_call_from_thread(&handle, move || {
            stopper.stop()?;
            Ok::<_, Failure>(9)
        })
    });
    queued_rx.recv().unwrap();
    reactor.run().unwrap();
    assert_eq!(caller.join().unwrap().unwrap(), 9);
}

#[test]
fn blocking_call_from_thread_is_released_when_the_reactor_shuts_down() {
    let _limit = crate::common::time_limit();
    let result = blocking_from_pool(|h| {
        let stopper = h.clone();
        // The function stops the reactor and returns a Deferred nobody will fire: Twisted
        // would hang here (#10124).
        blocking_call_from_thread(&h, move || {
            stopper.stop().unwrap();
            Deferred::<()>::new().0
        })
    });
    assert!(result.unwrap_err().check::<ReactorNotRunning>());
}

#[test]
fn blocking_call_from_thread_after_shutdown_is_refused() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    reactor
        .call_when_running(|| ReactorHandle::current().unwrap().stop())
        .unwrap();
    reactor.run().unwrap();
    let handle = reactor.handle();
    let err = std::thread::spawn(move || blocking_call_from_thread(&handle, || Ok(1)))
        .join()
        .unwrap()
        .unwrap_err();
    assert!(err.check::<ReactorNotRunning>());
}

#[test]
fn dropping_an_unrun_reactor_releases_blocked_threads() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let handle = reactor.handle();
    let (queued_tx, queued_rx) = mpsc::channel();
    let caller = std::thread::spawn(move || {
        queued_tx.send(()).unwrap();
        blocking_call_from_thread(&handle, || Ok(1))
    });
    queued_rx.recv().unwrap();
    // The caller may or may not have registered yet; either way it must not hang.
    drop(reactor);
    assert!(caller.join().unwrap().unwrap_err().check::<ReactorNotRunning>());
}

// ---------------------------------------------------------------------------------------
// ThreadPool on its own

#[test]
fn thread_pool_queues_until_started_and_drains_on_stop() {
    let _limit = crate::common::time_limit();
    let pool = ThreadPool::new(3);
    let done = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let d = Arc::clone(&done);
        pool.call_in_thread(move || {
            d.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    }
    assert_eq!(pool.worker_count(), 0);
    assert_eq!(done.load(Ordering::SeqCst), 0);
    pool.start();
    assert_eq!(
        pool.worker_count(),
        3,
        "one thread per queued job, up to the maximum"
    );
    pool.stop();
    assert_eq!(done.load(Ordering::SeqCst), 10);
    assert_eq!(pool.worker_count(), 0);
    assert_eq!(pool.call_in_thread(|| {}), Err(ThreadPoolStopped));
}

#[test]
fn thread_pool_grows_when_the_maximum_rises() {
    let _limit = crate::common::time_limit();
    let pool = ThreadPool::new(1);
    pool.start();
    let gate = Gate::default();
    for _ in 0..3 {
        let g = gate.clone();
        pool.call_in_thread(move || g.wait()).unwrap();
    }
    assert_eq!(pool.worker_count(), 1);
    pool.adjust_max(3);
    assert_eq!(pool.worker_count(), 3);
    gate.open();
    pool.stop();
}

#[test]
fn a_panicking_job_does_not_kill_the_pool() {
    let _limit = crate::common::time_limit();
    let pool = ThreadPool::new(1);
    pool.start();
    pool.call_in_thread(|| panic!("job panicked")).unwrap();
    let (tx, rx) = mpsc::channel();
    pool.call_in_thread(move || tx.send(()).unwrap()).unwrap();
    rx.recv().unwrap();
    assert_eq!(pool.worker_count(), 1);
    pool.stop();
}

#[test]
fn a_pool_that_never_started_drops_its_work_on_stop() {
    let _limit = crate::common::time_limit();
    let pool = ThreadPool::new(2);
    let (tx, rx) = mpsc::channel::<()>();
    pool.call_in_thread(move || tx.send(()).unwrap()).unwrap();
    pool.stop();
    assert!(rx.recv().is_err(), "the job (and its sender) was dropped unrun");
}
