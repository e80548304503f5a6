//! Firing a Deferred that has no callbacks: the result settles at once, an awaiting task
//! is woken, and an outer Deferred waiting on it still receives the result.
//!
//! Guards the fast path in `Inner::fire` (src/defer/core.rs) that skips the chain runner
//! when there is nothing to run.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use tokio_twisted::defer::{Deferred, succeed};
use tokio_twisted::failure::Failure;
use tokio_twisted::testing::{failure_result_of, success_result_of};

#[test]
fn fire_without_callbacks_settles_at_once() {
    let (d, r) = Deferred::<i32>::new();
    r.callback(5).unwrap();
    assert!(d.called());
    assert_eq!(d.pending_callbacks(), 0);
    assert_eq!(d.result().unwrap().unwrap(), 5);
    // Steps added afterwards run immediately on the settled result.
    let d = d.add_callback(|x| Ok::<_, Failure>(x + 1));
    assert_eq!(success_result_of(d), 6);
}

#[test]
fn errback_without_errbacks_settles_at_once() {
    let (d, r) = Deferred::<i32>::new();
    r.errback(Failure::msg("no")).unwrap();
    assert_eq!(failure_result_of(d).error_message(), "no");
}

#[test]
fn fire_without_callbacks_wakes_the_awaiting_task() {
    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);

    let (mut d, r) = Deferred::<i32>::new();
    assert!(Pin::new(&mut d).poll(&mut cx).is_pending());
    assert!(!flag.0.load(Ordering::SeqCst));
    r.callback(7).unwrap();
    assert!(
        flag.0.load(Ordering::SeqCst),
        "firing must wake the awaiting task"
    );
    match Pin::new(&mut d).poll(&mut cx) {
        Poll::Ready(Ok(v)) => assert_eq!(v, 7),
        other => panic!("expected Ready(Ok(7)), got {other:?}"),
    }
}

#[test]
fn fire_without_callbacks_hands_result_to_waiting_outer() {
    let (inner, ri) = Deferred::<i32>::new();
    let outer = succeed(1)
        .add_callback(move |_| inner)
        .add_callback(|x| Ok::<_, Failure>(x * 2));
    assert!(outer.is_waiting());
    ri.callback(21).unwrap();
    assert!(!outer.is_waiting());
    assert_eq!(success_result_of(outer), 42);
    assert!(format!("{ri:?}").contains("current result: None"));
}
