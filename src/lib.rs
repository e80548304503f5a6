//! Twisted's programming model on Tokio.
//!
//! `tokio-twisted` brings the parts of [Twisted](https://twisted.org) that make event-driven
//! code pleasant to Rust, on top of Tokio:
//!
//! - [`defer::Deferred`]: a result that arrives later, with a synchronous chain of callbacks
//!   and errbacks run exactly as Twisted runs them, and which is also a `Future` any Tokio
//!   task can await. [`Deferred::from_future`](defer::Deferred::from_future) is
//!   `ensureDeferred`: async code is `inlineCallbacks`.
//! - [`failure::Failure`]: the one type-erased error that flows down errback chains.
//! - [`testing`]: helpers for deterministic tests (`success_result_of`, captured unhandled
//!   errors).
//!
//! ```
//! use tokio_twisted::defer::{Deferred, succeed};
//! use tokio_twisted::failure::Failure;
//!
//! let (d, resolver) = Deferred::<u32>::new();
//! let d = d
//!     .add_callback(|n| Ok(n * 2))
//!     .add_callback(|n| if n > 10 { Err(Failure::msg("too large")) } else { Ok(n) })
//!     .add_errback(|f| { eprintln!("recovering from {f}"); Ok(0) });
//! resolver.callback(21).unwrap(); // callbacks run right here, synchronously
//! assert_eq!(d.result().unwrap().unwrap(), 0);
//!
//! // Any Deferred can be awaited.
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! assert_eq!(succeed(5).add_callback(|n| Ok(n + 1)).await.unwrap(), 6);
//! # });
//! ```
//!
//! See the [`porting`] module for every Twisted name and its Rust spelling.

#![forbid(unsafe_code)]

pub mod defer;
pub mod failure;
mod log;
pub mod porting;
pub mod reactor;
pub mod task;
pub mod testing;
pub mod threads;
