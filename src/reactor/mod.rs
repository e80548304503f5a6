// Tests: tests/clock.rs, tests/conformance/test_base.rs

//! The reactor and time: [`ReactorTime`] and [`DelayedCall`].
//!
//! ```
//! use std::time::Duration;
//! use tokio_twisted::{reactor::ReactorTime, task::Clock};
//!
//! let clock = Clock::new();
//! let call = clock.call_later(Duration::from_secs(1), || {});
//! assert!(call.active());
//! ```

pub(crate) mod time;

pub use time::{DelayedCall, DelayedCallError, ReactorTime, TimedFn};
