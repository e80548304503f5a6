//! Public behaviour of `DeferredLock`, `DeferredSemaphore` and `DeferredQueue`: FIFO
//! hand-over, cancellation, typed errors, re-entrancy, threads and async use.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_twisted::defer::{
    CancelledError, Deferred, DeferredLock, DeferredQueue, DeferredSemaphore, InvalidTokensError,
    NotAcquiredError, QueueOverflow, QueueUnderflow,
};
use tokio_twisted::failure::Failure;
use tokio_twisted::testing::{assert_no_result, failure_result_of, success_result_of};

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn primitives_are_send_sync_handles() {
    assert_send_sync::<DeferredLock>();
    assert_send_sync::<DeferredSemaphore>();
    assert_send_sync::<DeferredQueue<String>>();
    assert_send_sync::<tokio_twisted::defer::DeferredLockGuard>();
    // Errors convert into Failures with `?`.
    assert!(Failure::from(NotAcquiredError).check::<NotAcquiredError>());
    assert!(Failure::from(QueueOverflow(1)).check::<QueueOverflow<i32>>());
    assert!(Failure::from(QueueUnderflow).check::<QueueUnderflow>());
    assert!(Failure::from(InvalidTokensError).check::<InvalidTokensError>());
}

// ---------------------------------------------------------------- DeferredLock

#[test]
fn lock_waiters_are_served_in_order() {
    let lock = DeferredLock::new();
    let order = log();
    let _first = lock.acquire();
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let o = order.clone();
            lock.acquire().add_callback(move |_| {
                o.lock().unwrap().push(i);
                Ok(())
            })
        })
        .collect();
    assert_eq!(lock.waiting(), 4);
    for expected in 0..4 {
        lock.release().unwrap();
        assert_eq!(order.lock().unwrap().len(), expected + 1);
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    lock.release().unwrap();
    assert!(!lock.locked());
    assert_eq!(lock.release(), Err(NotAcquiredError));
    drop(waiters);
}

#[test]
fn lock_waiter_may_release_inside_release() {
    // Re-entrancy: the waiter's callback releases again while the first release runs.
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let l = lock.clone();
    let a = lock
        .acquire()
        .add_callback(move |lock| lock.release().map_err(Failure::from));
    let b = lock
        .acquire()
        .add_callback(move |_| l.release().map_err(Failure::from));
    lock.release().unwrap();
    success_result_of(a);
    success_result_of(b);
    assert!(!lock.locked());
}

#[test]
fn a_long_queue_of_synchronous_runs_does_not_deepen_the_stack() {
    // Each run releases inside the hand-over that served it; those releases are applied
    // by the outermost release() in a loop, not by recursion.
    let lock = DeferredLock::new();
    let sem = DeferredSemaphore::new(1).unwrap();
    let held = (lock.acquire(), sem.acquire());
    let done = Arc::new(AtomicUsize::new(0));
    let runs: Vec<_> = (0..100_000)
        .map(|_| {
            let (d1, d2) = (done.clone(), done.clone());
            let a = lock.run(move || {
                d1.fetch_add(1, Ordering::Relaxed);
                Ok(())
            });
            let b = sem.run(move || {
                d2.fetch_add(1, Ordering::Relaxed);
                Ok(())
            });
            (a, b)
        })
        .collect();
    lock.release().unwrap();
    sem.release().unwrap();
    assert_eq!(done.load(Ordering::Relaxed), 200_000);
    assert!(!lock.locked());
    assert_eq!(sem.tokens(), 1);
    drop((runs, held));
}

#[test]
fn release_inside_a_waiters_callback_takes_effect_when_it_returns() {
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let seen = log();
    let s = seen.clone();
    let first = lock.acquire().add_callback(move |l| {
        l.release()?;
        // Applied once this callback returns, by the release() that served it.
        s.lock().unwrap().push(l.locked());
        Ok::<_, Failure>(())
    });
    let s = seen.clone();
    let second = lock.acquire().add_callback(move |l| {
        s.lock().unwrap().push(l.locked());
        l.release().map_err(Failure::from)
    });
    lock.release().unwrap();
    success_result_of(first);
    success_result_of(second);
    assert_eq!(*seen.lock().unwrap(), [true, true]);
    assert!(!lock.locked());
    // Over-releasing during a hand-over is still refused.
    let _held = lock.acquire();
    let l = lock.clone();
    let twice = lock.acquire().add_callback(move |_| {
        l.release()?;
        l.release().map_err(Failure::from)
    });
    lock.release().unwrap();
    assert!(failure_result_of(twice).check::<NotAcquiredError>());
    assert!(!lock.locked());
}

#[test]
fn lock_run_releases_on_failure_and_panic() {
    let lock = DeferredLock::new();
    let failed = lock.run(|| Err::<(), _>(Failure::msg("failed inside")));
    assert_eq!(failure_result_of(failed).error_message(), "failed inside");
    assert!(!lock.locked());
    let panicked = lock.run(|| -> Result<(), Failure> { panic!("panicked inside") });
    assert!(failure_result_of(panicked).is_panic());
    assert!(!lock.locked());
}

#[test]
fn lock_run_waits_its_turn_and_can_be_cancelled_while_waiting() {
    let lock = DeferredLock::new();
    let _held = lock.acquire();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let d = lock.run(move || {
        r.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    assert_no_result(&d);
    d.cancel();
    assert!(failure_result_of(d).check::<CancelledError>());
    lock.release().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(!lock.locked());
}

#[test]
fn dropped_guard_request_releases_when_granted() {
    let lock = DeferredLock::new();
    let held = success_result_of(lock.acquire_guard());
    let request = lock.acquire_guard();
    drop(request); // nobody will ever see this guard
    let next = lock.acquire();
    drop(held); // hands to the dropped request, whose guard releases to `next`
    assert!(next.called());
    assert!(lock.locked());
}

#[test]
fn lock_across_threads() {
    let _limit = crate::common::time_limit();
    let lock = DeferredLock::new();
    let inside = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (lock, inside, total) = (lock.clone(), inside.clone(), total.clone());
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let (inside, total) = (inside.clone(), total.clone());
                    let d = lock.run(move || {
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
                        total.fetch_add(1, Ordering::SeqCst);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    });
                    // Keep the Deferred until its chain has run (possibly on another
                    // thread's release).
                    drop(d);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(total.load(Ordering::SeqCst), 800);
    assert!(!lock.locked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_guard_from_tokio_tasks() {
    let _limit = crate::common::time_limit();
    let lock = DeferredLock::new();
    let inside = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (lock, inside) = (lock.clone(), inside.clone());
        handles.push(tokio::spawn(async move {
            let _guard = lock.acquire_guard().await?;
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
            tokio::task::yield_now().await;
            inside.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, Failure>(())
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert!(!lock.locked());
}

#[tokio::test]
async fn twisted_async_with_spelled_with_acquire_and_release() {
    let _limit = crate::common::time_limit();
    // `async with lock:` without a guard: acquire().await, then release().
    let lock = DeferredLock::new();
    let held = lock.acquire().await.unwrap();
    assert!(held.locked());
    held.release().unwrap();
    assert!(!lock.locked());
}

// ---------------------------------------------------------------- DeferredSemaphore

#[test]
fn semaphore_caps_concurrency_and_serves_in_order() {
    let sem = DeferredSemaphore::new(2).unwrap();
    let started = log();
    let mut finish = Vec::new();
    let mut results = Vec::new();
    for i in 0..5 {
        let (job, done) = Deferred::<usize>::new();
        finish.push(done);
        let s = started.clone();
        results.push(sem.run(move || {
            s.lock().unwrap().push(i);
            job
        }));
    }
    assert_eq!(*started.lock().unwrap(), [0, 1]);
    assert_eq!(sem.waiting(), 3);
    finish[1].callback(10).unwrap();
    assert_eq!(*started.lock().unwrap(), [0, 1, 2]);
    finish[0].callback(0).unwrap();
    assert_eq!(*started.lock().unwrap(), [0, 1, 2, 3]);
    for r in &finish[2..] {
        r.callback(1).unwrap();
    }
    assert_eq!(*started.lock().unwrap(), [0, 1, 2, 3, 4]);
    let values: Vec<usize> = results.into_iter().map(success_result_of).collect();
    assert_eq!(values, [0, 10, 1, 1, 1]);
    assert_eq!(sem.tokens(), sem.limit());
}

#[test]
fn semaphore_cancelled_waiter_is_skipped() {
    let sem = DeferredSemaphore::new(1).unwrap();
    let _held = sem.acquire();
    let cancelled = sem.acquire();
    let next = sem.acquire();
    cancelled.cancel();
    assert!(failure_result_of(cancelled).check::<CancelledError>());
    sem.release().unwrap();
    assert!(next.called());
    assert_eq!(sem.tokens(), 0);
    sem.release().unwrap();
    assert_eq!(sem.tokens(), 1);
    assert_eq!(sem.release(), Err(NotAcquiredError));
}

// ---------------------------------------------------------------- DeferredQueue

#[test]
fn queue_delivers_in_order_to_waiting_gets() {
    let queue = DeferredQueue::new();
    let gets: Vec<_> = (0..3).map(|_| queue.get().unwrap()).collect();
    assert_eq!(queue.waiting(), 3);
    for word in ["a", "b", "c", "d"] {
        queue.put(word).unwrap();
    }
    let got: Vec<&str> = gets.into_iter().map(success_result_of).collect();
    assert_eq!(got, ["a", "b", "c"]);
    assert_eq!(queue.len(), 1);
    assert_eq!(success_result_of(queue.get().unwrap()), "d");
    assert!(queue.is_empty());
}

#[test]
fn queue_overflow_returns_the_item_and_underflow_is_typed() {
    let queue = DeferredQueue::new().with_size(1).with_backlog(1);
    queue.put(String::from("kept")).unwrap();
    let overflow = queue.put(String::from("rejected")).unwrap_err();
    assert_eq!(overflow.into_inner(), "rejected");
    assert_eq!(success_result_of(queue.get().unwrap()), "kept");
    let _waiting = queue.get().unwrap();
    assert_eq!(queue.get().unwrap_err(), QueueUnderflow);
}

#[test]
fn queue_put_inside_a_get_callback() {
    // Re-entrancy: a consumer that feeds the queue from its callback.
    let queue = DeferredQueue::new();
    let seen = log();
    let (q, s) = (queue.clone(), seen.clone());
    let _first = queue.get().unwrap().add_callback(move |n: u32| {
        s.lock().unwrap().push(n);
        q.put(n + 1).map_err(|_| Failure::msg("full"))?;
        let s = s.clone();
        Ok(q.get().map_err(Failure::from)?.add_callback(move |m| {
            s.lock().unwrap().push(m);
            Ok(())
        }))
    });
    queue.put(1).unwrap();
    assert_eq!(*seen.lock().unwrap(), [1, 2]);
    assert!(queue.is_empty());
}

#[tokio::test]
async fn queue_get_awaited_from_a_task() {
    let _limit = crate::common::time_limit();
    let queue = DeferredQueue::new();
    let q = queue.clone();
    let consumer = tokio::spawn(async move {
        let mut total = 0;
        for _ in 0..3 {
            total += q.get().unwrap().await.unwrap();
        }
        total
    });
    tokio::task::yield_now().await;
    for n in [1, 2, 3] {
        // The consumer may not be waiting yet: the item is then buffered.
        queue.put(n).unwrap();
    }
    assert_eq!(consumer.await.unwrap(), 6);
}
