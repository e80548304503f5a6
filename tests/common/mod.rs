//! Helpers shared by the test binaries: reactors without signal handlers (on real or
//! paused Tokio time) and a small log for the order in which callbacks run.
//!
//! Each test crate declares `mod common;` (the conformance binary with a `#[path]`), and
//! each uses only some of these.

#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::reactor::{Reactor, ReactorHandle, ReactorNotRunning};

/// A reactor on its own real-time runtime, leaving the process's signals alone.
pub(crate) fn reactor() -> Reactor {
    Reactor::builder().without_signal_handlers().build().unwrap()
}

/// A reactor on a paused-time runtime: an idle runtime jumps to the next timer, so timer
/// tests finish at once and always see the same times.
pub(crate) fn paused_reactor() -> Reactor {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    Reactor::builder()
        .without_signal_handlers()
        .runtime(runtime)
        .build()
        .unwrap()
}

pub(crate) type Log<T> = Arc<Mutex<Vec<T>>>;

pub(crate) fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

/// A callback that appends `item` to `log`.
pub(crate) fn push<T: Send + 'static>(log: &Log<T>, item: T) -> impl FnOnce() + Send + use<T> {
    let log = Arc::clone(log);
    move || log.lock().unwrap().push(item)
}

/// What `log` holds so far.
pub(crate) fn items<T: Clone>(log: &Log<T>) -> Vec<T> {
    log.lock().unwrap().clone()
}

/// A trigger that stops the reactor.
pub(crate) fn stopper(
    reactor: &ReactorHandle,
) -> impl FnOnce() -> Result<(), ReactorNotRunning> + Send + use<> {
    let handle = reactor.clone();
    move || handle.stop()
}

/// A timed call that stops the reactor (timed calls return `()`).
pub(crate) fn stop_call(reactor: &ReactorHandle) -> impl FnOnce() + Send + use<> {
    let handle = reactor.clone();
    move || handle.stop().unwrap()
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Inputs for the `race` tests (Twisted's `_setupRaceState`): Deferreds whose cancellers
/// count how often they were called and do not fire them, their counters and resolvers.
pub(crate) type RaceState = (
    Vec<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    Vec<tokio_twisted::defer::Deferred<i32>>,
    Vec<tokio_twisted::defer::Resolver<i32>>,
);

pub(crate) fn race_state(n: usize) -> RaceState {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut counts = Vec::new();
    let mut ds = Vec::new();
    let mut rs = Vec::new();
    for _ in 0..n {
        let count = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&count);
        let (d, r) = tokio_twisted::defer::Deferred::with_canceller(move |_r| {
            c.fetch_add(1, Ordering::SeqCst);
        });
        counts.push(count);
        ds.push(d);
        rs.push(r);
    }
    (counts, ds, rs)
}

/// How often each input's canceller ran.
pub(crate) fn cancel_counts(counts: &[std::sync::Arc<std::sync::atomic::AtomicUsize>]) -> Vec<usize> {
    counts
        .iter()
        .map(|c| c.load(std::sync::atomic::Ordering::SeqCst))
        .collect()
}
