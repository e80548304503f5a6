// Tests: tests/reactor.rs, tests/conformance/test_core.rs, tests/conformance/test_internet.rs

//! The reactor's errors, named after Twisted's exceptions.

use std::fmt;

/// [`Reactor::run`](crate::reactor::Reactor::run) was called while the reactor is already
/// running: Twisted's `ReactorAlreadyRunning`.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::reactor::{Reactor, RunError};
///
/// // The single owner, reachable from a task on its own thread (a leak makes it 'static).
/// let reactor: &'static Reactor =
///     Box::leak(Box::new(Reactor::builder().without_signal_handlers().build().unwrap()));
/// let nested = reactor.spawn_local(async move {
///     assert!(matches!(reactor.run(), Err(RunError::AlreadyRunning(_))));
///     reactor.stop()
/// });
/// assert!(nested.is_ok());
/// reactor.run().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("reactor already running")]
pub struct ReactorAlreadyRunning;

/// The reactor is not running: Twisted's `ReactorNotRunning`.
///
/// Returned by [`stop`](crate::reactor::ReactorHandle::stop) before `run()` or after a
/// first `stop()`, and by the thread APIs once the reactor has shut down.
///
/// ```
/// use tokio_twisted::reactor::{Reactor, ReactorNotRunning};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// assert_eq!(reactor.stop(), Err(ReactorNotRunning));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("reactor is not running")]
pub struct ReactorNotRunning;

/// The reactor was stopped before and cannot run again: Twisted's `ReactorNotRestartable`.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::reactor::{Reactor, ReactorHandle, RunError};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
/// reactor.run().unwrap();
/// assert!(matches!(reactor.run(), Err(RunError::NotRestartable(_))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("reactor cannot be restarted")]
pub struct ReactorNotRestartable;

/// Why [`Reactor::run`](crate::reactor::Reactor::run) did not run the reactor.
///
/// ```
/// use tokio_twisted::reactor::{Reactor, ReactorNotRestartable, RunError};
///
/// let err = RunError::NotRestartable(ReactorNotRestartable);
/// assert_eq!(err.to_string(), "reactor cannot be restarted");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RunError {
    /// It is running already (a nested `run()`).
    AlreadyRunning(ReactorAlreadyRunning),
    /// It was stopped before; reactors are not restartable.
    NotRestartable(ReactorNotRestartable),
    /// `run()` was called on a thread that is already inside a Tokio runtime, where the
    /// reactor's own runtime cannot block. Use
    /// [`Reactor::spawn_background`](crate::reactor::Reactor::spawn_background) there.
    InsideRuntime,
    /// The reactor's thread panicked (reported by
    /// [`BackgroundReactor::join`](crate::reactor::BackgroundReactor::join) only).
    Panicked(crate::failure::Failure),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::AlreadyRunning(e) => e.fmt(f),
            RunError::NotRestartable(e) => e.fmt(f),
            RunError::InsideRuntime => {
                f.write_str("cannot run the reactor on a thread that is inside a tokio runtime")
            }
            RunError::Panicked(failure) => {
                write!(f, "the reactor thread panicked: {}", failure.error_message())
            }
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::AlreadyRunning(e) => Some(e),
            RunError::NotRestartable(e) => Some(e),
            RunError::InsideRuntime | RunError::Panicked(_) => None,
        }
    }
}

/// [`remove_system_event_trigger`](crate::reactor::ReactorHandle::remove_system_event_trigger)
/// was given a trigger that is not registered: it was removed before, or it has already
/// run. Twisted raises `ValueError` (and only warns for a *before* trigger that already
/// ran during the current firing).
///
/// ```
/// use tokio_twisted::reactor::{Event, Phase, Reactor, UnknownTriggerError};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let id = reactor.add_system_event_trigger(Phase::Before, Event::Shutdown, || {}).unwrap();
/// assert_eq!(reactor.remove_system_event_trigger(id), Ok(()));
/// assert_eq!(reactor.remove_system_event_trigger(id), Err(UnknownTriggerError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("no such system event trigger")]
pub struct UnknownTriggerError;
