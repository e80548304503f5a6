// Tests: tests/reactor.rs, tests/conformance/test_core.rs, tests/conformance/test_internet.rs

//! The main loop: Twisted's `mainLoop`, `runUntilCurrent` and `doIteration` (see
//! [`Reactor`](super::Reactor) for the steps of an iteration).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::task::AtomicWaker;

use tokio::time::Sleep;

use crate::failure::Failure;

use super::events;
use super::shared::{Shared, ThreadCall};
use super::triggers::Event;

/// The main loop as the future the reactor's `LocalSet` runs until: polled only after
/// one of its own wake-ups. `LocalSet::run_until` polls its future on every wake-up of the
/// runtime, which with many connections is every message; this keeps that to one atomic
/// swap instead of a turn through the loop's waits.
pub(crate) fn main_loop_future(shared: Arc<Shared>) -> impl Future<Output = ()> {
    let woken = Arc::new(WokenFlag {
        woken: AtomicBool::new(true),
        outer: AtomicWaker::new(),
    });
    let waker = Waker::from(Arc::clone(&woken));
    let mut inner = Box::pin(main_loop(shared));
    std::future::poll_fn(move |cx| {
        woken.outer.register(cx.waker());
        if !woken.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        inner.as_mut().poll(&mut Context::from_waker(&waker))
    })
}

/// Set by the main loop's own wake-ups, which then wake the runtime.
struct WokenFlag {
    woken: AtomicBool,
    outer: AtomicWaker,
}

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.outer.wake();
    }
}

/// Fires "startup", then runs iterations until the reactor crashes (which "during
/// shutdown" does once the tracked tasks have finished).
async fn main_loop(shared: Arc<Shared>) {
    events::fire(&shared, Event::Startup);
    let mut sleep = None;
    let mut calls = Vec::new();
    while shared.started() {
        run_until_current(&shared, &mut calls);
        if !shared.started() {
            break;
        }
        wait(&shared, &mut sleep).await;
    }
}

/// Steps 1 to 3 of an iteration (see [`Reactor`]).
fn run_until_current(shared: &Arc<Shared>, calls: &mut Vec<ThreadCall>) {
    shared.take_thread_calls(calls);
    for call in calls.drain(..) {
        call(); // logs its own failures
    }
    let limit = shared.timers.next_seq();
    let now = shared.now();
    while let Some(f) = shared.timers.pop_due_before(now, limit) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
            crate::log::failure("while handling timed call", &Failure::from_panic(panic));
        }
    }
    if shared.take_stop_request() {
        events::fire(shared, Event::Shutdown);
    }
    if shared.take_drained() {
        events::finish_shutdown(shared);
    }
}

/// Step 4 of an iteration. The one Tokio timer lives in `sleep` only while a timed call is
/// pending: a stale registered timer would make a paused-time runtime jump to it.
async fn wait(shared: &Shared, sleep: &mut Option<Pin<Box<Sleep>>>) {
    // Created before looking at the state: a wake-up from here on is not lost (and one
    // from earlier left a permit that completes it at once).
    let notified = shared.wake.notified();
    let deadline = shared.timers.next_deadline();
    if shared.has_work() || deadline.is_some_and(|d| d <= shared.now()) {
        tokio::task::yield_now().await;
        return;
    }
    // While shutdown waits for the tracked tasks, their end is work too.
    let draining = shared.draining();
    match deadline {
        // A deadline beyond what an Instant can hold is never reached: wait for work.
        None => {
            *sleep = None;
            wait_for_work(shared, notified, draining).await;
        }
        Some(d) if shared.origin.checked_add(d).is_none() => {
            *sleep = None;
            wait_for_work(shared, notified, draining).await;
        }
        Some(d) => {
            let at = shared.origin + d;
            let timer = match sleep {
                Some(timer) => {
                    if timer.deadline() != at {
                        timer.as_mut().reset(at);
                    }
                    timer
                }
                None => sleep.insert(Box::pin(tokio::time::sleep_until(at))),
            };
            tokio::select! {
                biased;
                () = notified => {}
                () = timer.as_mut() => {}
                () = shared.seat.wait(), if draining => {}
            }
        }
    }
}

async fn wait_for_work(shared: &Shared, notified: tokio::sync::futures::Notified<'_>, draining: bool) {
    tokio::select! {
        biased;
        () = notified => {}
        () = shared.seat.wait(), if draining => {}
    }
}
