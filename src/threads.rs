// Tests: tests/threads.rs, tests/conformance/test_threads.rs

//! Threads and the reactor: `twisted.internet.threads`.
//!
//! The reactor thread must never block, so blocking work goes to a thread pool and its
//! result comes back to the reactor thread:
//!
//! - [`defer_to_thread`] runs a function on the reactor's pool and returns a [`Deferred`]
//!   that fires **on the reactor thread** with its result ([`defer_to_thread_pool`] on a
//!   pool of your own);
//! - [`blocking_call_from_thread`] goes the other way: from a pool (or any other) thread, it
//!   runs a function on the reactor thread and waits for its result, refusing with
//!   [`CalledOnReactorThread`] where it would deadlock;
//! - [`call_multiple_in_thread`] runs several functions in turn on one pool thread;
//! - [`ReactorHandle::call_from_thread`] and [`ReactorHandle::call_in_thread`] are the
//!   building blocks, and [`ThreadPool`] the pool ([`ThreadPoolStopped`] once it stopped).
//!
//! A Deferred's callbacks run on the thread that fires it, so firing one from a pool thread
//! would run reactor-side code there; go through these functions (or `call_from_thread`)
//! instead.
//!
//! ```
//! # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
//! use tokio_twisted::reactor::Reactor;
//! use tokio_twisted::threads::defer_to_thread;
//!
//! let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
//! let reactor_thread = std::thread::current().id();
//! let handle = reactor.handle();
//! let d = defer_to_thread(&reactor.handle(), || Ok((1..=10).product::<u64>())) // on a pool thread
//!     .add_callback(move |n| {
//!         assert_eq!(std::thread::current().id(), reactor_thread);
//!         assert_eq!(n, 3_628_800);
//!         handle.stop()?;
//!         Ok::<_, tokio_twisted::failure::Failure>(())
//!     });
//! reactor.run().unwrap();
//! assert!(d.called());
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::defer::{Deferred, IntoOutcome, Outcome, Resolver, maybe_deferred};
use crate::failure::Failure;
use crate::reactor::{ReactorHandle, ReactorNotRunning};

pub use crate::reactor::pool::{ThreadPool, ThreadPoolStopped};

/// [`blocking_call_from_thread`] was called on the reactor thread, where waiting for the
/// reactor would deadlock (Twisted simply hangs).
///
/// ```
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::threads::{CalledOnReactorThread, blocking_call_from_thread};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let err = blocking_call_from_thread(&reactor.handle(), || Ok(1)).unwrap_err();
/// assert!(err.check::<CalledOnReactorThread>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("blocking call from the reactor thread would deadlock")]
pub struct CalledOnReactorThread;

/// Runs `f` on the reactor's thread pool and returns a Deferred that fires with its result,
/// on the reactor thread: Twisted's `deferToThread`.
///
/// `f` returns `Ok(value)`, `Err(failure)` (or anything [`IntoOutcome`]); a panic becomes a
/// failure. The Deferred has no canceller, as in Twisted: cancelling it gives
/// `CancelledError` at once, the thread keeps running, and its late result is dropped. If
/// the pool has stopped (the reactor shut down), the Deferred fails with
/// [`ThreadPoolStopped`] at once.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::defer::gather_results;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::threads::defer_to_thread;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// let ok = defer_to_thread(&reactor.handle(), || Ok(6 * 7));
/// let recovered = defer_to_thread(&reactor.handle(), || Err::<u32, _>(Failure::msg("disk on fire")))
///     .add_errback(|f| {
///         assert_eq!(f.error_message(), "disk on fire");
///         Ok(0)
///     });
/// let d = gather_results(vec![ok, recovered]).add_both(move |r| {
///     handle.stop()?;
///     r
/// });
/// reactor.run().unwrap();
/// assert_eq!(d.result().unwrap().unwrap(), [42, 0]);
/// ```
#[doc(alias = "deferToThread")]
pub fn defer_to_thread<T, R, F>(reactor: &ReactorHandle, f: F) -> Deferred<T>
where
    T: Send + 'static,
    R: IntoOutcome<T>,
    F: FnOnce() -> R + Send + 'static,
{
    defer_to_thread_pool(reactor, &reactor.thread_pool(), f)
}

/// As [`defer_to_thread`], on a pool of your own: Twisted's `deferToThreadPool`. The
/// Deferred still fires on `reactor`'s thread.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::threads::{ThreadPool, defer_to_thread_pool};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let pool = ThreadPool::new(2);
/// pool.start();
/// let handle = reactor.handle();
/// let d = defer_to_thread_pool(&reactor.handle(), &pool, || Ok(3 + 4)).add_callback(move |n| {
///     handle.stop().map(|()| n).map_err(Into::into)
/// });
/// reactor.run().unwrap();
/// assert_eq!(d.result().unwrap().unwrap(), 7);
/// pool.stop();
/// ```
#[doc(alias = "deferToThreadPool")]
pub fn defer_to_thread_pool<T, R, F>(reactor: &ReactorHandle, pool: &ThreadPool, f: F) -> Deferred<T>
where
    T: Send + 'static,
    R: IntoOutcome<T>,
    F: FnOnce() -> R + Send + 'static,
{
    let (d, resolver) = Deferred::new();
    let on_reactor = reactor.clone();
    let fail_with = resolver.clone();
    let submitted = pool.call_in_thread(move || {
        let outcome = catch_unwind(AssertUnwindSafe(|| f().into_outcome()))
            .unwrap_or_else(|panic| Outcome::Failure(Failure::from_panic(panic)));
        // If the reactor has shut down this is dropped unrun, as Twisted's never runs.
        let _ = on_reactor.call_from_thread(move || deliver(&resolver, outcome));
    });
    if let Err(stopped) = submitted {
        let _ = fail_with.errback(stopped);
    }
    d
}

/// Fires `resolver` with `outcome`, on the reactor thread. A refused fire means the
/// Deferred was cancelled: the late result is dropped.
fn deliver<T: Send + 'static>(resolver: &Resolver<T>, outcome: Outcome<T>) {
    match outcome {
        Outcome::Value(v) => {
            let _ = resolver.callback(v);
        }
        Outcome::Failure(f) => {
            let _ = resolver.errback(f);
        }
        Outcome::Deferred(d) => {
            let resolver = resolver.clone();
            drop(d.add_both(move |r| {
                let _ = resolver.resolve(r);
            }));
        }
    }
}

/// Runs `f` on the reactor thread and blocks until its result is known: Twisted's
/// `blockingCallFromThread`. Call it from a thread that is not the reactor's.
///
/// `f` runs as [`maybe_deferred`] would run it; if it returns a Deferred, this waits for
/// that Deferred to fire. Called before the reactor runs, it waits until it does.
///
/// # Errors
///
/// - The failure `f` produced (or its Deferred fired with).
/// - [`CalledOnReactorThread`] on the reactor thread, instead of deadlocking.
/// - [`ReactorNotRunning`] if the reactor has shut down, or shuts down (or is dropped)
///   before the result is known, instead of hanging (Twisted #10124).
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use std::time::Duration;
/// use tokio_twisted::defer::Deferred;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::reactor::{Reactor, ReactorTime};
/// use tokio_twisted::threads::blocking_call_from_thread;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// reactor.call_in_thread(move || {
///     let timers = handle.clone();
///     // Runs on the reactor thread; the pool thread waits for the Deferred.
///     let value = blocking_call_from_thread(&handle, move || {
///         let (d, r) = Deferred::<&str>::new();
///         timers.call_later(Duration::from_millis(1), move || { r.callback("egg").unwrap(); });
///         d
///     });
///     assert_eq!(value.unwrap(), "egg");
///     // A failure comes back as the error.
///     let failed = blocking_call_from_thread(&handle, || Err::<(), _>(Failure::msg("no spam")));
///     assert_eq!(failed.unwrap_err().error_message(), "no spam");
///     handle.stop().unwrap();
/// }).unwrap();
/// reactor.run().unwrap();
/// ```
#[doc(alias = "blockingCallFromThread")]
pub fn blocking_call_from_thread<T, R, F>(reactor: &ReactorHandle, f: F) -> Result<T, Failure>
where
    T: Send + 'static,
    R: IntoOutcome<T>,
    F: FnOnce() -> R + Send + 'static,
{
    if reactor.is_reactor_thread() {
        return Err(Failure::new(CalledOnReactorThread));
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<T, Failure>>(1);
    let release = tx.clone();
    let Some(ticket) = reactor.register_blocked(Box::new(move || {
        let _ = release.try_send(Err(Failure::new(ReactorNotRunning)));
    })) else {
        return Err(Failure::new(ReactorNotRunning));
    };
    let sent = reactor.call_from_thread(move || {
        maybe_deferred(f).add_both(move |r| {
            // The first of the result and the release wins; the waiter may be gone.
            let _ = tx.try_send(r);
        })
    });
    let result = match sent {
        Ok(()) => rx.recv().unwrap_or_else(|_| Err(Failure::new(ReactorNotRunning))),
        Err(e) => Err(Failure::new(e)),
    };
    reactor.unregister_blocked(ticket);
    result
}

/// Runs the functions one after the other on one pool thread: Twisted's
/// `callMultipleInThread`. A panic stops the rest and is logged.
///
/// # Errors
///
/// [`ThreadPoolStopped`] once the reactor has shut down.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use std::sync::{Arc, Mutex};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::threads::call_multiple_in_thread;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let mut calls: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
/// for i in 0..3 {
///     let log = log.clone();
///     calls.push(Box::new(move || log.lock().unwrap().push(i)));
/// }
/// let handle = reactor.handle();
/// calls.push(Box::new(move || {
///     let stopper = handle.clone();
///     handle.call_from_thread(move || stopper.stop()).unwrap();
/// }));
/// call_multiple_in_thread(&reactor.handle(), calls).unwrap();
/// reactor.run().unwrap();
/// assert_eq!(*log.lock().unwrap(), [0, 1, 2]);
/// ```
#[doc(alias = "callMultipleInThread")]
pub fn call_multiple_in_thread(
    reactor: &ReactorHandle,
    calls: impl IntoIterator<Item = Box<dyn FnOnce() + Send>>,
) -> Result<(), ThreadPoolStopped> {
    let calls: Vec<_> = calls.into_iter().collect();
    reactor.call_in_thread(move || {
        for call in calls {
            call();
        }
    })
}
