// Tests: tests/clock.rs, tests/reactor.rs, tests/conformance/test_task.rs

//! Scheduling helpers from `twisted.internet.task`: the deterministic [`Clock`].
//!
//! ```
//! use std::time::Duration;
//! use tokio_twisted::{reactor::ReactorTime, task::Clock};
//!
//! let clock = Clock::new();
//! let call = clock.call_later(Duration::from_secs(1), || {});
//! clock.advance(Duration::from_secs(1));
//! assert!(!call.active());
//! ```

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
