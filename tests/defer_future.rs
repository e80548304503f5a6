//! Deferreds and Tokio: awaiting Deferreds from Tokio tasks on current-thread and
//! multi-thread runtimes, wake-ups from other threads, the cooperative budget, and
//! `Deferred::from_future` running async code in Twisted's order (seed 001, mode 4).

mod common;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use futures::FutureExt;
use tokio_twisted::defer::{CancelledError, Deferred, DeferredList, fail, succeed};
use tokio_twisted::failure::Failure;
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

/// Lines printed by a program under test.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<String>>>);

impl Output {
    fn print(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A task on a current-thread runtime waits for a Deferred fired later by another task.
#[tokio::test]
async fn current_thread_task_awaits_a_deferred() {
    let _limit = crate::common::time_limit();
    let (d, r) = Deferred::<i32>::new();
    let d = d.add_callback(|x| Ok(x * 2));
    let waiting = tokio::spawn(d);
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    tokio::spawn(async move { r.callback(21).unwrap() })
        .await
        .unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), 42);
}

/// Tasks spawned on a multi-thread runtime are woken by resolvers fired from a plain thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_tasks_woken_from_another_thread() {
    let _limit = crate::common::time_limit();
    let mut tasks = Vec::new();
    let mut resolvers = Vec::new();
    for _ in 0..100 {
        let (d, r) = Deferred::<usize>::new();
        tasks.push(tokio::spawn(d.add_callback(|x| Ok(x * 2))));
        resolvers.push(r);
    }
    let firer = thread::spawn(move || {
        for (i, r) in resolvers.into_iter().enumerate() {
            r.callback(i).unwrap();
        }
    });
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().unwrap(), i * 2);
    }
    firer.join().unwrap();
}

/// A resolver fired from a plain thread wakes a task of a current-thread runtime.
#[test]
fn resolver_on_another_thread_wakes_a_current_thread_runtime() {
    let _limit = crate::common::time_limit();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (d, r) = Deferred::<&str>::new();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let firer = thread::spawn(move || {
        ready_rx.recv().unwrap();
        r.callback("from a thread").unwrap();
    });
    let got = rt.block_on(async move {
        let task = tokio::spawn(d);
        tokio::task::yield_now().await;
        ready_tx.send(()).unwrap();
        task.await.unwrap()
    });
    assert_eq!(got.unwrap(), "from a thread");
    firer.join().unwrap();
}

/// A task awaiting a Deferred that waits on an inner one is woken when the inner one fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaiting_a_deferred_that_waits_on_another() {
    let _limit = crate::common::time_limit();
    let (inner, ri) = Deferred::<i32>::new();
    let outer = succeed(1)
        .add_callback(move |_| inner)
        .add_callback(|x| Ok(x + 1));
    let task = tokio::spawn(outer);
    thread::spawn(move || ri.callback(41).unwrap()).join().unwrap();
    assert_eq!(task.await.unwrap().unwrap(), 42);
}

/// Awaiting takes the result out: the Deferred's state shows it was consumed.
#[tokio::test]
async fn awaiting_consumes_the_result() {
    let _limit = crate::common::time_limit();
    let (d, r) = Deferred::<String>::new();
    r.callback("value".into()).unwrap();
    assert!(format!("{r:?}").contains("current result: \"value\""));
    assert_eq!(d.await.unwrap(), "value");
    assert!(format!("{r:?}").ends_with("current result: None>"), "{r:?}");
}

/// Once an await through `&mut` has taken the result, every way of adding a step sees the
/// failure path: `add_errback` runs its errback, as `add_callbacks` and `add_both` do, and
/// `add_callback` passes the failure on.
#[test]
fn steps_after_an_await_by_reference_see_the_consumed_failure() {
    let taken = |ready: bool| {
        let mut d = if ready {
            succeed(5)
        } else {
            let (d, r) = Deferred::<i32>::new();
            r.callback(5).unwrap();
            d
        };
        assert_eq!((&mut d).now_or_never().expect("fired").unwrap(), 5);
        d
    };
    for ready in [true, false] {
        let errback = taken(ready).add_errback(|f| {
            assert!(f.error_message().contains("consumed"), "{f}");
            Ok(-1)
        });
        assert_eq!(success_result_of(errback), -1, "add_errback, ready: {ready}");
        let callbacks = taken(ready).add_callbacks(Ok, |_f| Ok(-2));
        assert_eq!(success_result_of(callbacks), -2, "add_callbacks, ready: {ready}");
        let both = taken(ready).add_both(|r: Result<i32, Failure>| Ok(if r.is_err() { -3 } else { 0 }));
        assert_eq!(success_result_of(both), -3, "add_both, ready: {ready}");
        let callback = taken(ready).add_callback(|x| Ok(x + 1));
        assert!(failure_result_of(callback).error_message().contains("consumed"));
    }
}

/// Awaiting a failed Deferred gives the failure as `Err`, and nothing is reported as
/// unhandled: the awaiting code received it.
#[tokio::test]
async fn awaiting_a_failure_handles_it() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let err = fail::<i32>(Boom).await.unwrap_err();
    assert!(err.check::<Boom>());
    let (d, r) = Deferred::<i32>::new();
    let task = tokio::spawn(d);
    tokio::task::yield_now().await;
    r.errback(Boom).unwrap();
    assert!(task.await.unwrap().unwrap_err().check::<Boom>());
    drop(r);
    assert!(logged.is_empty());
}

/// Tokio's cooperative budget makes Tokio resources report `Pending` after about 128 polls
/// in one task turn; an already-fired Deferred is ready every time, so 10,000 of them are
/// awaited without yielding.
#[tokio::test]
async fn coop_budget_never_delays_a_fired_deferred() {
    let _limit = crate::common::time_limit();
    let exhausted = tokio::spawn(async {
        let mut exhausted = false;
        for i in 0..10_000 {
            // Spend budget the way ordinary Tokio resources do.
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            tx.send(()).unwrap();
            let _ = rx.now_or_never();
            exhausted |= !tokio::task::coop::has_budget_remaining();

            let (d, r) = Deferred::new();
            r.callback(i).unwrap();
            assert_eq!(d.now_or_never().expect("a fired Deferred is ready").unwrap(), i);
            assert_eq!(succeed(i).now_or_never().expect("ready").unwrap(), i);
        }
        exhausted
    })
    .await
    .unwrap();
    assert!(exhausted, "the budget really ran out inside the task");
}

/// A Deferred dropped by `select!` (a timeout won) can still be fired later without harm.
#[tokio::test(start_paused = true)]
async fn dropped_awaiting_future_does_not_cancel() {
    let _limit = crate::common::time_limit();
    let (d, r) =
        Deferred::<i32>::with_canceller(|_r| panic!("dropping an awaited Deferred does not cancel it"));
    let ran = Output::default();
    let o = ran.clone();
    let d = d.add_callback(move |x| {
        o.print(format!("callback {x}"));
        Ok(x)
    });
    tokio::select! {
        _ = d => panic!("never fired"),
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
    assert_eq!(r.callback(3), Ok(()));
    assert_eq!(ran.lines(), ["callback 3"]);
}

/// `from_future` inside a runtime can await Tokio resources; it resumes on the runtime.
#[tokio::test(start_paused = true)]
async fn from_future_awaits_tokio_timers() {
    let _limit = crate::common::time_limit();
    let start = tokio::time::Instant::now();
    let d = Deferred::from_future(async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok::<_, Failure>(5)
    });
    assert_no_result(&d);
    assert_eq!(d.await.unwrap(), 5);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

/// `from_future` runs its async code at once, up to the first await that is not ready,
/// before `from_future` returns.
#[test]
fn from_future_runs_synchronously_to_the_first_pending_await() {
    let out = Output::default();
    let (gate, r) = Deferred::<()>::new();
    let o = out.clone();
    let d = Deferred::from_future(async move {
        o.print("before");
        succeed(()).await?;
        o.print("after a fired Deferred");
        gate.await?;
        o.print("after the gate");
        Ok::<_, Failure>(())
    });
    out.print("from_future returned");
    r.callback(()).unwrap();
    out.print("callback returned");
    assert_eq!(
        out.lines(),
        [
            "before",
            "after a fired Deferred",
            "from_future returned",
            "after the gate",
            "callback returned"
        ]
    );
    success_result_of(d);
}

/// A panic before the first await, or after a resume, fails the Deferred.
#[test]
fn from_future_panics_become_failures() {
    let d = Deferred::<()>::from_future(async { panic!("early") });
    assert!(failure_result_of(d).is_panic());
    let (gate, r) = Deferred::<()>::new();
    let d = Deferred::<()>::from_future(async move {
        gate.await?;
        panic!("late")
    });
    r.callback(()).unwrap();
    let f = failure_result_of(d);
    assert_eq!(
        f.downcast_ref::<tokio_twisted::failure::PanicError>()
            .unwrap()
            .message(),
        "late"
    );
}

/// Cancelling a `from_future` Deferred cancels what it awaits, three levels down, and the
/// code there may recover.
#[test]
fn from_future_cancellation_cascades_and_can_recover() {
    let (innermost, _r) = Deferred::<i32>::new();
    let level1 = Deferred::from_future(async move {
        match innermost.await {
            Err(f) if f.check::<CancelledError>() => Ok(-1),
            other => other,
        }
    });
    let level2 = Deferred::from_future(async move { Ok::<_, Failure>(level1.await? * 10) });
    let level3 = Deferred::from_future(async move { Ok::<_, Failure>(level2.await? + 1) });
    assert_no_result(&level3);
    level3.cancel();
    assert_eq!(success_result_of(level3), -9);
}

/// Twisted's `deferLater` on a clock, for the seed program below.
fn defer_later(clock: &Clock, delay: Duration) -> Deferred<()> {
    let (d, r) = Deferred::new();
    let _call = clock.call_later(delay, move || r.callback(()).unwrap());
    d
}

/// Seed 001, mode 4: fifteen `inlineCallbacks` installations run concurrently. Every
/// "Scheduling" line prints before "Bye" (the async code runs up to its first wait at once),
/// and all finish together after 3 seconds, in customer order.
#[test]
fn seed_001_mode_4_inline_callbacks_print_order() {
    let clock = Clock::new();
    let out = Output::default();
    let inline_install = |customer: String| {
        let (clock, out) = (clock.clone(), out.clone());
        Deferred::from_future(async move {
            out.print(format!("Scheduling: Installation for {customer}"));
            defer_later(&clock, Duration::from_secs(3)).await?;
            out.print(format!("Callback: Finished installation for {customer}"));
            out.print(format!("All done for {customer}"));
            Ok::<_, Failure>(())
        })
    };
    out.print("Goodmorning from Twisted developer");
    let work: Vec<_> = (0..15).map(|i| inline_install(format!("Customer {i}"))).collect();
    let (c, o) = (clock.clone(), out.clone());
    let join = DeferredList::new(work)
        .build()
        .add_callback(move |_| o.print(format!("stop at {}s", c.seconds())));
    out.print("Bye from Twisted developer!");

    let mut expected = vec!["Goodmorning from Twisted developer".to_owned()];
    expected.extend((0..15).map(|i| format!("Scheduling: Installation for Customer {i}")));
    expected.push("Bye from Twisted developer!".to_owned());
    assert_eq!(out.lines(), expected);

    clock.advance(Duration::from_millis(2999));
    assert_eq!(out.lines().len(), expected.len(), "nothing finishes before 3 s");
    clock.advance(Duration::from_millis(1));
    for i in 0..15 {
        expected.push(format!("Callback: Finished installation for Customer {i}"));
        expected.push(format!("All done for Customer {i}"));
    }
    expected.push("stop at 3s".to_owned());
    assert_eq!(out.lines(), expected);
    success_result_of(join);
}

/// Cancelling a `from_future` Deferred that awaits a Deferred nobody else can fire (its
/// resolver is gone) still delivers the `CancelledError` at the await.
#[test]
fn from_future_cancel_reaches_a_deferred_without_resolver() {
    let d = Deferred::from_future(async {
        match Deferred::<i32>::new().0.await {
            Err(f) if f.check::<CancelledError>() => Ok::<_, Failure>("cancelled at the await"),
            other => other.map(|_| "fired"),
        }
    });
    assert_no_result(&d);
    d.cancel();
    assert_eq!(success_result_of(d), "cancelled at the await");
}
