//! `time::TokioTime`: Twisted-style scheduling on the host Tokio runtime, with no reactor.
//! Every test runs under paused Tokio time or is bounded by `common::within`/`bounded`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bounded, items, log, push, within};
use tokio_twisted::defer::{Deferred, DeferredLock, DeferredQueue, DeferredSemaphore, TimeoutError};
use tokio_twisted::task::{Cooperator, LoopingCall, defer_later};
use tokio_twisted::testing::LoggedErrors;
use tokio_twisted::time::{DelayedCallError, ReactorTime, TokioTime, TokioTimeError};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A current-thread runtime on paused time, built inside a bounded test body.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Sets its flag when dropped: shows that a scheduled function was dropped unrun.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Outside a runtime, creating the clock is a typed error, not a panic.
#[test]
fn outside_a_runtime_is_an_error() {
    assert_eq!(TokioTime::new().unwrap_err(), TokioTimeError::NoRuntime);
    assert_eq!(
        TokioTimeError::NoRuntime.to_string(),
        "not inside a tokio runtime"
    );
}

/// A runtime without timers is refused up front instead of failing in its task.
#[test]
fn a_runtime_without_timers_is_an_error() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(
        TokioTime::on(rt.handle()).unwrap_err(),
        TokioTimeError::TimersDisabled
    );
    let inside = rt.block_on(async { TokioTime::new().map(|_| ()) });
    assert_eq!(inside, Err(TokioTimeError::TimersDisabled));
}

/// Equal deadlines run in scheduling order, after earlier ones, at the paused clock's exact
/// time; a reset moves a call behind the others due at its new time.
#[tokio::test(start_paused = true)]
async fn equal_deadlines_run_first_in_first_out() {
    within("fifo", async {
        let time = TokioTime::new().unwrap();
        let order = log();
        time.call_later(secs(2), push(&order, "b1"));
        let moved = time.call_later(secs(1), push(&order, "moved"));
        time.call_later(secs(2), push(&order, "b2"));
        time.call_later(secs(1), push(&order, "a"));
        moved.reset(secs(2)).unwrap();
        let done = defer_later(&time, secs(2), || ());
        done.await.unwrap();
        assert_eq!(items(&order), ["a", "b1", "b2", "moved"]);
        assert_eq!(time.now(), secs(2));
    })
    .await;
}

/// A call never runs inside `call_later`, even with a zero delay: it runs once the
/// scheduling code yields to the runtime.
#[tokio::test(start_paused = true)]
async fn a_call_never_runs_inside_call_later() {
    within("not inside call_later", async {
        let time = TokioTime::new().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let call = time.call_later(Duration::ZERO, move || flag.store(true, Ordering::SeqCst));
        assert!(!ran.load(Ordering::SeqCst));
        assert!(call.active());
        defer_later(&time, Duration::ZERO, || ()).await.unwrap();
        assert!(ran.load(Ordering::SeqCst));
        assert_eq!(call.cancel(), Err(DelayedCallError::AlreadyCalled));
    })
    .await;
}

/// `DelayedCall` works as on the other clocks: `cancel`, `delay`, `active`, `time`,
/// `pending_calls`.
#[tokio::test(start_paused = true)]
async fn delayed_calls_cancel_and_delay() {
    within("delayed calls", async {
        let time = TokioTime::new().unwrap();
        let order = log();
        let cancelled = time.call_later(secs(1), push(&order, "cancelled"));
        let delayed = time.call_later(secs(1), push(&order, "delayed"));
        delayed.delay(secs(2)).unwrap();
        assert_eq!(delayed.time(), secs(3));
        cancelled.cancel().unwrap();
        assert_eq!(time.pending_calls(), std::slice::from_ref(&delayed));
        tokio::time::sleep(secs(2)).await;
        assert!(items(&order).is_empty());
        assert!(delayed.active());
        tokio::time::sleep(secs(2)).await;
        assert_eq!(items(&order), ["delayed"]);
        assert!(!delayed.active());
        assert!(time.pending_calls().is_empty());
    })
    .await;
}

/// A panic in a timed call is caught and logged, and later calls still run.
#[test]
fn a_panicking_call_is_logged() {
    bounded("panicking call", || {
        let rt = paused_runtime();
        let logged = LoggedErrors::capture();
        rt.block_on(async {
            let time = TokioTime::new().unwrap();
            time.call_later(secs(1), || panic!("timed call blew up"));
            defer_later(&time, secs(1), || ()).await.unwrap();
        });
        let failures = logged.flush_all();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].is_panic());
        assert!(failures[0].error_message().contains("timed call blew up"));
    });
}

/// When the runtime shuts down, pending calls are dropped unrun and read as cancelled; a
/// later `call_later` returns a cancelled call.
#[test]
fn runtime_shutdown_drops_pending_calls() {
    bounded("shutdown", || {
        let rt = paused_runtime();
        let time = TokioTime::on(rt.handle()).unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(dropped.clone());
        let call = time.call_later(secs(10), move || {
            let _guard = guard;
            panic!("must not run after shutdown");
        });
        rt.block_on(async { tokio::time::sleep(secs(1)).await });
        assert!(call.active());
        drop(rt);
        assert!(dropped.load(Ordering::SeqCst));
        assert!(!call.active());
        assert_eq!(call.cancel(), Err(DelayedCallError::AlreadyCancelled));
        let late = time.call_later(secs(1), || panic!("must not run"));
        assert!(!late.active());
        assert!(time.pending_calls().is_empty());
    });
}

/// The clock's task ends once every clone is dropped and nothing is pending, but a call
/// still pending keeps it running.
#[test]
fn the_task_ends_with_the_last_clone() {
    bounded("task lifetime", || {
        let rt = paused_runtime();
        let ran = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let metrics = tokio::runtime::Handle::current().metrics();
            let time = TokioTime::new().unwrap();
            let flag = ran.clone();
            time.call_later(secs(5), move || flag.store(true, Ordering::SeqCst));
            drop(time);
            tokio::task::yield_now().await;
            assert_eq!(metrics.num_alive_tasks(), 1);
            tokio::time::sleep(secs(5)).await;
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            assert!(ran.load(Ordering::SeqCst));
            assert_eq!(metrics.num_alive_tasks(), 0);
        });
    });
}

/// Everything that schedules works on the host runtime with no reactor: a timeout, a
/// `LoopingCall`, a `Cooperator`, and a `DeferredLock`, `DeferredSemaphore` and
/// `DeferredQueue` fed by timed calls.
#[tokio::test(start_paused = true)]
async fn twisted_style_code_runs_on_the_host_runtime() {
    within("twisted-style code", async {
        let time = TokioTime::new().unwrap();

        let (slow, _r) = Deferred::<()>::new();
        let f = slow.add_timeout(secs(5), &time).await.unwrap_err();
        assert!(f.check::<TimeoutError>());
        assert_eq!(time.now(), secs(5));

        let ticks = Arc::new(Mutex::new(Vec::new()));
        let (t, clock) = (ticks.clone(), time.clone());
        let lc = LoopingCall::new(time.clone(), move || t.lock().unwrap().push(clock.seconds()));
        let done = lc.start(secs(1)).unwrap();
        let stopper = lc.clone();
        time.call_later(Duration::from_millis(2500), move || stopper.stop().unwrap());
        done.await.unwrap();
        assert_eq!(*ticks.lock().unwrap(), [5.0, 6.0, 7.0]);

        let coop = Cooperator::new(time.clone());
        let steps = Arc::new(AtomicUsize::new(0));
        let s = steps.clone();
        coop.coiterate((0..100).map(move |_| {
            s.fetch_add(1, Ordering::SeqCst);
        }))
        .await
        .unwrap();
        assert_eq!(steps.load(Ordering::SeqCst), 100);

        let lock = DeferredLock::new();
        let held = lock.acquire().await.unwrap();
        let waiter = lock.acquire();
        time.call_later(secs(1), move || held.release().unwrap());
        waiter.await.unwrap().release().unwrap();

        let sem = DeferredSemaphore::new(1).unwrap();
        let clock = time.clone();
        let answer = sem.run(move || defer_later(&clock, secs(1), || Ok(7)));
        assert_eq!(answer.await.unwrap(), 7);

        let queue = DeferredQueue::<&str>::new();
        let q = queue.clone();
        time.call_later(secs(1), move || q.put("item").unwrap());
        assert_eq!(queue.get().unwrap().await.unwrap(), "item");
    })
    .await;
}

/// On a multi-thread runtime, calls of one clock still run one at a time and in order,
/// from any thread that schedules them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clock_keeps_order_on_a_multi_thread_runtime() {
    within("multi-thread order", async {
        let time = TokioTime::new().unwrap();
        let order = log();
        let at = Duration::from_millis(20);
        for i in 0..50 {
            time.call_later(at, push(&order, i));
        }
        let scheduler = time.clone();
        let done = tokio::task::spawn_blocking(move || defer_later(&scheduler, at, || ()))
            .await
            .unwrap();
        done.await.unwrap();
        assert_eq!(items(&order), (0..50).collect::<Vec<_>>());
    })
    .await;
}

/// The clock reads Tokio's time inside its runtime, so a thread outside the runtime sees
/// the paused clock too.
#[test]
fn now_from_another_thread_reads_the_paused_clock() {
    bounded("now from a thread", || {
        let rt = paused_runtime();
        let time = TokioTime::on(rt.handle()).unwrap();
        rt.block_on(async { tokio::time::sleep(secs(3600)).await });
        let seen = std::thread::spawn(move || ReactorTime::now(&time))
            .join()
            .unwrap();
        assert_eq!(seen, secs(3600));
    });
}
