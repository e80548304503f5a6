// Tests: tests/task.rs, tests/time_limits.rs, tests/conformance/test_base.rs,
// tests/conformance/test_task.rs

//! Time: Twisted's `IReactorTime` and `IDelayedCall`, the bottom layer of the crate.
//!
//! - [`ReactorTime`] tells the time (`seconds`, `now`) and runs functions later
//!   (`call_later`); everything that schedules (`defer_later`, `LoopingCall`, `Cooperator`,
//!   `Deferred::add_timeout`) takes one. Three clocks implement it: the reactor's
//!   handle, [`task::Clock`](crate::task::Clock) for deterministic tests, and
//!   [`TokioTime`], the Tokio runtime the caller is already on (so Twisted-style code runs
//!   in any Tokio application with no reactor, and under paused Tokio time in tests). Each also has `call_later`, `seconds` and `now` as inherent methods, so a
//!   concrete clock needs no trait import.
//! - [`DelayedCall`] is the handle to a scheduled call (`cancel`, `reset`, `delay`,
//!   `active`, `time`); [`DelayedCallError`] says why it refused; [`TimedFn`] is the boxed
//!   function a clock runs; [`TokioTimeError`] says why a [`TokioTime`] could not be made.
//!
//! This module depends on nothing in the crate but [`failure`](crate::failure) (and
//! Tokio): the
//! reactor, the tasks and the Deferred timeouts are all built on it.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use tokio_twisted::task::Clock;
//!
//! let clock = Clock::new();
//! let log = Arc::new(Mutex::new(Vec::new()));
//! for word in ["first", "second"] {
//!     let log = log.clone();
//!     clock.call_later(Duration::from_secs(1), move || log.lock().unwrap().push(word));
//! }
//! let late = clock.call_later(Duration::from_secs(5), || unreachable!());
//! clock.advance(Duration::from_secs(1));
//! assert_eq!(*log.lock().unwrap(), ["first", "second"]); // same time: scheduling order
//! late.cancel().unwrap();
//! assert_eq!(clock.seconds(), 1.0);
//! ```

mod delayed_call;
mod queue;
mod reactor_time;
mod tokio_time;

pub use delayed_call::{DelayedCall, DelayedCallError};
pub(crate) use queue::TimerQueue;
pub(crate) use reactor_time::sealed::Sealed;
pub use reactor_time::{ReactorTime, TimedFn};
pub use tokio_time::{TokioTime, TokioTimeError};
