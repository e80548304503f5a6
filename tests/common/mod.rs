//! Helpers shared by the test binaries: time limits, reactors without signal handlers (on
//! real or paused Tokio time) and a small log for the order in which callbacks run.
//!
//! Every test that runs a reactor, waits on another thread or touches a socket runs under a
//! time limit, so a regression (a lost wake-up, a stop that never comes) fails in seconds
//! with a message instead of stalling the suite. The usual way is one line at the top of
//! the test, which works the same in `#[test]` and `#[tokio::test]` (paused time or not):
//!
//! ```text
//! #[test]
//! fn stops_from_a_thread() {
//!     let _limit = common::time_limit();
//!     let reactor = common::reactor();
//!     // ...
//! }
//! ```
//!
//! When the limit passes, [`time_limit`] reports the test on stderr and ends the whole test
//! binary (a hung thread cannot be made to fail from outside). [`bounded`] instead runs a
//! body on a thread of its own and fails just that test; [`within`] bounds a future in Tokio
//! time.
//!
//! Each test crate declares `mod common;` (the conformance binary with a `#[path]`), and
//! each uses only some of these.

#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

pub(crate) mod db;

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::sync::mpsc::{self, RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::reactor::{Reactor, ReactorHandle, ReactorNotRunning};

/// The time limit of one test: long enough for a loaded CI machine (the suite's real-time
/// timers are at most a couple of seconds), short enough that a hang is reported within
/// half a minute. `TEST_TIME_LIMIT_SECS` (seconds, fractions allowed) overrides it, for
/// slow runners such as valgrind.
pub(crate) fn limit() -> Duration {
    std::env::var("TEST_TIME_LIMIT_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(20))
}

/// Holds a test to [`limit()`] while it lives; see [`time_limit`].
#[derive(Debug)]
#[must_use = "the limit lasts as long as this guard: bind it with `let _limit = ...`"]
pub(crate) struct TimeLimit {
    // Dropping the sender tells the watchdog the test finished (or failed) in time.
    _finished: mpsc::Sender<()>,
}

/// Starts a watchdog for the calling test: if the returned guard is still alive after
/// [`limit()`], the watchdog writes the test's name and place to stderr and ends the test
/// binary with exit code 101, so `cargo test` fails in seconds instead of hanging.
///
/// The test is named after the current thread, which the test harness names after the
/// test. The report goes straight to stderr because the harness's output capture would
/// swallow it when the process exits.
#[track_caller]
pub(crate) fn time_limit() -> TimeLimit {
    let place = Location::caller();
    let test = std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_owned();
    let limit = limit();
    let (finished, wait) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(format!("time limit of {test}"))
        .spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n{test} ({place}) did not finish within {limit:?} and is presumed \
                     hung (a lost wake-up, or a stop that never came): ending the test binary"
                );
                std::process::exit(101);
            }
        })
        .expect("spawn the watchdog thread");
    TimeLimit { _finished: finished }
}

/// Runs `body` on a thread of its own and waits for it at most [`limit()`]: a test body
/// that hangs fails with a message naming `what` instead of stalling the suite. A panic in
/// `body` (a failed assertion) is passed on unchanged; the value it returns is returned.
///
/// Build everything the body needs (the reactor, its runtime, `LoggedErrors` captures)
/// inside it: they belong to the body's thread. A hung body's thread is left behind, and
/// the test binary ends it when it exits.
#[track_caller]
pub(crate) fn bounded<R: Send + 'static>(what: &str, body: impl FnOnce() -> R + Send + 'static) -> R {
    bounded_for(limit(), what, body)
}

/// [`bounded`] with an explicit limit, for tests that check the helper itself or need
/// longer than the default.
#[track_caller]
pub(crate) fn bounded_for<R: Send + 'static>(
    limit: Duration,
    what: &str,
    body: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = sync_channel(1);
    let worker = std::thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            // The receiver may be gone (the test already failed on the limit); nothing to do.
            let _ = tx.send(catch_unwind(AssertUnwindSafe(body)));
        })
        .expect("spawn the test body's thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => {
            worker.join().expect("the body's thread ends after sending");
            value
        }
        Ok(Err(panic)) => resume_unwind(panic),
        Err(RecvTimeoutError::Timeout) => panic!(
            "{what}: did not finish within {limit:?} and is presumed hung \
             (a lost wake-up, or a stop that never came)"
        ),
        Err(RecvTimeoutError::Disconnected) => {
            unreachable!("the body's thread sends before it ends")
        }
    }
}

/// Awaits `future` for at most [`limit()`] of Tokio time, failing the test with a message
/// naming `what` if it does not finish: the async counterpart of [`bounded`], for
/// `#[tokio::test]` bodies on real time.
///
/// Under paused time (`start_paused`), an idle runtime jumps straight to the limit, so a
/// future that waits on another OS thread would fail at once: wrap such a test with
/// [`bounded`] and build its runtime inside instead.
pub(crate) fn within<F: std::future::Future>(
    what: &str,
    future: F,
) -> impl std::future::Future<Output = F::Output> + use<F> {
    let what = what.to_owned();
    let limit = limit();
    async move {
        match tokio::time::timeout(limit, future).await {
            Ok(value) => value,
            Err(tokio::time::error::Elapsed { .. }) => {
                panic!("{what}: did not finish within {limit:?} and is presumed hung")
            }
        }
    }
}

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

/// A directory of its own for one test (under the system's temporary directory, named
/// after the process and a counter), removed with everything in it when dropped.
pub(crate) struct TempDir(std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tt-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The path of `name` inside the directory.
    pub(crate) fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `body` with a `tracing` subscriber on this thread that keeps every event at info
/// level and above, and returns what it wrote (one line per event, without times).
pub(crate) fn logged_at_info(body: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let written = Arc::clone(&sink.0);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .without_time()
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, body);
    let bytes = written.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}
