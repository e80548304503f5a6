// Tests: tests/task.rs, tests/reactor.rs, tests/conformance/test_task.rs

//! Scheduling helpers: Twisted's `twisted.internet.task`.
//!
//! Everything here schedules on a [`ReactorTime`](crate::time::ReactorTime): the
//! reactor's handle in production, a [`Clock`] in tests, so every time-based behaviour can
//! be tested without sleeping.
//!
//! - [`defer_later`]: call a function after a delay and get its result as a
//!   [`Deferred`](crate::defer::Deferred) (`deferLater`).
//! - [`LoopingCall`]: call a function every interval, on a grid that does not drift;
//!   [`LoopingCallError`] says why it refused to start, stop or reset.
//! - [`Cooperator`] ([`CooperatorBuilder`], [`CooperativeTask`], [`Step`], [`TimeSlice`],
//!   [`SharedIter`]): run many iterators a step at a time, round-robin, sharing the event
//!   loop (`coiterate`, `cooperate`), with Twisted's [`SchedulerError`] family.
//! - [`react`] and [`react_with`]: run a reactor until a main Deferred fires and turn its
//!   outcome into the process exit code; a failure holding [`Exit`] picks the code.
//! - [`Clock`]: a deterministic clock that moves only when told to (`task.Clock`).
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tokio_twisted::failure::Failure;
//! use tokio_twisted::task::{Clock, Cooperator, LoopingCall, defer_later};
//! use tokio_twisted::testing::{failure_result_of, success_result_of};
//!
//! let clock = Clock::new();
//!
//! // deferLater: the result arrives once the clock has moved.
//! let answer = defer_later(&clock, Duration::from_secs(2), || Ok(42));
//! let refused = defer_later(&clock, Duration::from_secs(2), || Err::<i32, _>(Failure::msg("busy")));
//!
//! // LoopingCall: a tick every second, at 0, 1 and 2.
//! let ticks = Arc::new(AtomicUsize::new(0));
//! let t = ticks.clone();
//! let lc = LoopingCall::new(clock.clone(), move || { t.fetch_add(1, Ordering::SeqCst); });
//! let stopped = lc.start(Duration::from_secs(1)).unwrap();
//!
//! // Cooperator: an iterator run a step at a time.
//! let coop = Cooperator::new(clock.clone());
//! let work = coop.coiterate((0..3).map(|_| ()));
//!
//! clock.pump([Duration::from_secs(1); 2]);
//! assert_eq!(success_result_of(answer), 42);
//! assert_eq!(failure_result_of(refused).error_message(), "busy");
//! assert_eq!(ticks.load(Ordering::SeqCst), 3);
//! success_result_of(work);
//! lc.stop().unwrap();
//! assert!(!success_result_of(stopped).running());
//! ```
//!
//! [`react`] runs a real reactor; see its documentation for a program's `main`.

mod clock;
mod cooperator;
mod defer_later;
mod looping;
mod react;
mod scheduler_error;
mod step;

pub use clock::Clock;
pub use cooperator::{CooperativeTask, Cooperator, CooperatorBuilder};
pub use defer_later::defer_later;
pub use looping::{LoopingCall, LoopingCallError};
pub use react::{Exit, react, react_with};
pub use scheduler_error::{NotPaused, SchedulerError, SchedulerStopped, TaskDone, TaskFailed, TaskStopped};
pub use step::{SharedIter, Step, TimeSlice};
