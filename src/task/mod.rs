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
mod react;

pub use clock::Clock;
pub use react::{Exit, react, react_with};
