//! Cancellation, the Twisted way and the Tokio way: dropping a Deferred (a lost
//! `tokio::select!` branch, an expired `tokio::time::timeout`) cancels nothing, as in
//! Twisted; `Deferred::cancel_on_drop` opts in to cancelling. Every test runs on paused
//! Tokio time under a time limit.

mod common;
use common::within;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{sleep, timeout};
use tokio_twisted::defer::{CancelledError, Deferred, Resolver};
use tokio_twisted::failure::Failure;
use tokio_twisted::testing::{LoggedErrors, success_result_of};

/// An unfired Deferred whose canceller counts its runs.
fn counted() -> (Deferred<i32>, Resolver<i32>, Arc<Mutex<u32>>) {
    let cancels = Arc::new(Mutex::new(0));
    let c = Arc::clone(&cancels);
    let (d, r) = Deferred::with_canceller(move |_| *c.lock().unwrap() += 1);
    (d, r, cancels)
}

/// Sets a flag when dropped: shows that async code was stopped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Twisted's rule: a Deferred dropped by a lost `select!` branch or an expired `timeout` is
/// not cancelled, and its Resolver can still fire it.
#[tokio::test(start_paused = true)]
async fn dropping_a_deferred_does_not_cancel_it() {
    within("dropping_a_deferred_does_not_cancel_it", async {
        let (d, r, cancels) = counted();
        tokio::select! {
            _ = d => unreachable!("nobody fires it"),
            () = sleep(Duration::from_secs(1)) => {}
        }
        assert_eq!(*cancels.lock().unwrap(), 0);
        assert!(!r.called());
        r.callback(1).unwrap();

        let (d, r, cancels) = counted();
        assert!(timeout(Duration::from_secs(1), d).await.is_err());
        assert_eq!(*cancels.lock().unwrap(), 0);
        assert!(!r.called());
        r.callback(2).unwrap();
    })
    .await;
}

/// A lost `select!` branch awaiting `cancel_on_drop()` cancels the Deferred once, and the
/// `CancelledError` it asked for is not reported as unhandled.
#[tokio::test(start_paused = true)]
async fn cancel_on_drop_cancels_a_lost_select_branch() {
    within("cancel_on_drop_cancels_a_lost_select_branch", async {
        let logged = LoggedErrors::capture();
        let (d, r, cancels) = counted();
        tokio::select! {
            _ = d.cancel_on_drop() => unreachable!("nobody fires it"),
            () = sleep(Duration::from_secs(1)) => {}
        }
        assert_eq!(*cancels.lock().unwrap(), 1);
        assert!(r.called(), "cancelled: failed with CancelledError");
        assert!(r.callback(1).is_err(), "already failed with CancelledError");
        drop(r);
        assert!(
            logged.is_empty(),
            "the CancelledError was asked for, not unhandled"
        );
    })
    .await;
}

/// An expired `tokio::time::timeout` around `cancel_on_drop()` cancels the Deferred.
#[tokio::test(start_paused = true)]
async fn cancel_on_drop_cancels_when_a_timeout_expires() {
    within("cancel_on_drop_cancels_when_a_timeout_expires", async {
        let (d, r, cancels) = counted();
        let started = tokio::time::Instant::now();
        assert!(timeout(Duration::from_secs(5), d.cancel_on_drop()).await.is_err());
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(*cancels.lock().unwrap(), 1);
        assert!(r.called());
    })
    .await;
}

/// A wait that completed, or that was turned back into the Deferred, cancels nothing when
/// dropped.
#[tokio::test(start_paused = true)]
async fn cancel_on_drop_after_completion_or_disarmed_cancels_nothing() {
    within(
        "cancel_on_drop_after_completion_or_disarmed_cancels_nothing",
        async {
            let (d, r, cancels) = counted();
            let mut wait = d.cancel_on_drop();
            tokio::select! {
                v = &mut wait => assert_eq!(v.unwrap(), 7),
                () = async { r.callback(7).unwrap(); sleep(Duration::from_secs(60)).await } => unreachable!(),
            }
            drop(wait);
            assert_eq!(*cancels.lock().unwrap(), 0);

            let (d, r, cancels) = counted();
            let d = d.cancel_on_drop().into_deferred().expect("not completed");
            assert_eq!(*cancels.lock().unwrap(), 0);
            r.callback(3).unwrap();
            assert_eq!(success_result_of(d), 3);
        },
    )
    .await;
}

/// Cancelling a `from_future` Deferred through `cancel_on_drop` stops its async code: the
/// Deferred it awaits is cancelled, so its `.await` sees `CancelledError`.
#[tokio::test(start_paused = true)]
async fn cancel_on_drop_reaches_the_await_of_async_code() {
    within("cancel_on_drop_reaches_the_await_of_async_code", async {
        let (inner, _ri, inner_cancels) = counted();
        let saw = Arc::new(Mutex::new(None));
        let s = Arc::clone(&saw);
        let d = Deferred::from_future(async move {
            let r = inner.await;
            *s.lock().unwrap() = Some(r.as_ref().map_err(Failure::check::<CancelledError>).copied());
            r
        });
        tokio::select! {
            _ = d.cancel_on_drop() => unreachable!("the awaited Deferred never fires"),
            () = sleep(Duration::from_secs(1)) => {}
        }
        assert_eq!(*inner_cancels.lock().unwrap(), 1);
        assert_eq!(*saw.lock().unwrap(), Some(Err(true)));
    })
    .await;
}

/// Async code waiting on a Tokio timer rather than a Deferred is dropped at that `.await`
/// when the wait times out; without `cancel_on_drop` it keeps running.
#[tokio::test(start_paused = true)]
async fn cancel_on_drop_drops_async_code_that_awaits_no_deferred() {
    within("cancel_on_drop_drops_async_code_that_awaits_no_deferred", async {
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(Arc::clone(&stopped));
        let d = Deferred::from_future(async move {
            let _flag = flag;
            sleep(Duration::from_secs(10)).await;
            Ok::<_, Failure>(1)
        });
        assert!(timeout(Duration::from_secs(1), d.cancel_on_drop()).await.is_err());
        assert!(stopped.load(Ordering::SeqCst), "the async code was dropped");

        // The default: dropped by the timeout, the async code runs to its end.
        let finished = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&finished);
        let d = Deferred::from_future(async move {
            sleep(Duration::from_secs(10)).await;
            f.store(true, Ordering::SeqCst);
            Ok::<_, Failure>(1)
        });
        assert!(timeout(Duration::from_secs(1), d).await.is_err());
        sleep(Duration::from_secs(10)).await;
        assert!(finished.load(Ordering::SeqCst), "dropping did not stop it");
    })
    .await;
}
