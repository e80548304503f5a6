// Tests: tests/reactor.rs

//! `react`: run a reactor until a main Deferred fires, and turn its outcome into the
//! process exit code (Twisted's `task.react`).

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::defer::Deferred;
use crate::failure::Failure;
use crate::reactor::{Event, Phase, Reactor};

/// A failure holding `Exit(code)` makes [`react`] return that exit code: Twisted's
/// `SystemExit(code)` raised by the main function.
///
/// ```
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::task::Exit;
///
/// let f = Failure::new(Exit(23));
/// assert_eq!(f.downcast_ref::<Exit>(), Some(&Exit(23)));
/// assert_eq!(f.error_message(), "exit with code 23");
/// ```
#[doc(alias = "SystemExit")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("exit with code {0}")]
pub struct Exit(pub u8);

/// Builds a reactor, calls `main` with it, runs the reactor until the Deferred (or future)
/// `main` returned completes, and returns the exit code: Twisted's `task.react`.
///
/// - Success gives [`ExitCode::SUCCESS`].
/// - A failure holding an [`Exit`]`(n)` gives exit code `n`.
/// - Any other failure is logged ("main function encountered error") and gives
///   [`ExitCode::FAILURE`] (1).
///
/// The reactor is stopped at most once: if something else stopped it first, `react` does
/// not call `stop` again. `main` is called before the reactor runs (inside its runtime, so
/// it may create Tokio timers and sockets); what it schedules runs once the reactor does.
/// SIGINT and SIGTERM stop the reactor gracefully; if that happens before `main`'s result
/// fires, the exit code is 0.
///
/// Unlike Twisted's, this does not exit the process: return its result from `main`.
///
/// ```
/// use std::process::ExitCode;
/// use std::time::Duration;
/// use tokio_twisted::defer::Deferred;
/// use tokio_twisted::task::react;
///
/// fn main() -> ExitCode {
/// #     let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
///     react(|reactor| {
///         let (d, r) = Deferred::<()>::new();
///         reactor.call_later(Duration::from_millis(1), move || { r.callback(()).unwrap(); });
///         d
///     })
/// }
/// ```
///
/// An async block works too:
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use std::process::ExitCode;
/// use tokio_twisted::defer::succeed;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::task::{Exit, react};
///
/// let code = react(|_reactor| async {
///     let n = succeed(2).await?;
///     if n % 2 == 0 { Err(Failure::new(Exit(3))) } else { Ok(()) }
/// });
/// assert_eq!(code, ExitCode::from(3));
/// ```
#[doc(alias = "twisted.internet.task.react")]
pub fn react<T, R, F>(main: F) -> ExitCode
where
    T: Send + 'static,
    R: Future<Output = Result<T, Failure>> + Send + 'static,
    F: FnOnce(&Reactor) -> R,
{
    match Reactor::new() {
        Ok(reactor) => react_with(&reactor, main),
        Err(e) => {
            crate::log::failure("while building the reactor", &Failure::new(e));
            ExitCode::FAILURE
        }
    }
}

/// As [`react`], on a reactor you built (for instance without signal handlers, or on a
/// paused-time runtime in tests). The reactor must not have run before.
///
/// ```
/// use std::process::ExitCode;
/// use tokio_twisted::defer::fail;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::task::react_with;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let code = react_with(&reactor, |_| fail::<()>(Failure::msg("no")));
/// assert_eq!(code, ExitCode::FAILURE); // and "main function encountered error" is logged
/// ```
#[doc(alias = "react")]
pub fn react_with<T, R, F>(reactor: &Reactor, main: F) -> ExitCode
where
    T: Send + 'static,
    R: Future<Output = Result<T, Failure>> + Send + 'static,
    F: FnOnce(&Reactor) -> R,
{
    let finished = {
        let _in_runtime = reactor.runtime_handle().enter();
        Deferred::from_future(main(reactor))
    };
    let code = Arc::new(AtomicU8::new(0));
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let stopping = Arc::clone(&stopping);
        // Refused only by a reactor that has shut down already, which `run()` below reports.
        let _ = reactor.add_system_event_trigger(Phase::Before, Event::Shutdown, move || {
            stopping.store(true, Ordering::SeqCst);
        });
    }
    let handle = reactor.handle();
    let record = {
        let code = Arc::clone(&code);
        move |result: Result<T, Failure>| {
            if let Err(failure) = result {
                let exit = if let Some(&Exit(n)) = failure.downcast_ref::<Exit>() {
                    n
                } else {
                    crate::log::failure("main function encountered error", &failure);
                    1
                };
                code.store(exit, Ordering::SeqCst);
            }
        }
    };
    let done = finished.add_both(move |result| {
        if stopping.load(Ordering::SeqCst) {
            record(result);
        } else {
            let stopper = handle.clone();
            // Refused only once the reactor has shut down, and then "stopping" was set first.
            let _ = handle.call_when_running(move || {
                // Someone else may have stopped it since: that is fine.
                let _ = stopper.stop();
                record(result);
            });
        }
    });
    drop(done);
    if let Err(e) = reactor.run() {
        crate::log::failure("while running the reactor", &Failure::new(e));
        return ExitCode::FAILURE;
    }
    ExitCode::from(code.load(Ordering::SeqCst))
}
