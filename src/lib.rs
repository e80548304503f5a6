//! Twisted's programming model on Tokio.
//!
//! `tokio-twisted` brings the parts of [Twisted](https://twisted.org) that make event-driven
//! code pleasant to Rust, on top of Tokio:
//!
//! - [`defer`]: [`Deferred`](defer::Deferred), a result that arrives later, with a
//!   synchronous chain of callbacks and errbacks run exactly as Twisted runs them, and which
//!   is also a `Future` any Tokio task can await.
//!   [`Deferred::from_future`](defer::Deferred::from_future) is `ensureDeferred`: async code
//!   is `inlineCallbacks`. Also `DeferredList`, `gather_results`, `race`, locks and queues.
//! - [`failure`]: [`Failure`](failure::Failure), the one type-erased error that flows down
//!   errback chains.
//! - [`time`]: time as a trait ([`time::ReactorTime`], Twisted's `IReactorTime`), the
//!   [`time::DelayedCall`] handle, and [`time::TokioTime`], a clock on the Tokio runtime you
//!   are already on; the bottom layer that the reactor, [`task`] and Deferred timeouts
//!   schedule on.
//! - [`reactor`]: the [`Reactor`](reactor::Reactor) over a current-thread Tokio runtime
//!   (`run`, `stop`, system events, `call_from_thread`, a seat for spawned tasks), run as the
//!   main loop, in the background of a Tokio app, or under [`task::react`].
//! - [`task`]: `defer_later`, `LoopingCall`, `Cooperator`, `react` and the deterministic
//!   [`Clock`](task::Clock).
//! - [`threads`]: `defer_to_thread`, `blocking_call_from_thread` and the thread pool.
//! - [`protocol`]: `Protocol`, `Factory`, `ClientFactory`, the `Transport` with producers,
//!   and TCP, UNIX and raw descriptors on the reactor.
//! - [`error`]: the network errors of `twisted.internet.error` (`ConnectionDone`,
//!   `ConnectionRefusedError`, ...).
//! - [`basic`]: `LineReceiver`, `NetstringReceiver`, `Int32StringReceiver` and friends,
//!   also as `tokio_util` codecs.
//! - [`endpoints`]: `server_from_string`/`client_from_string` and the TCP and hostname
//!   endpoints.
//! - [`service`]: `Service`, `MultiService`, `Application`, `TimerService`, the network
//!   services (`TcpServer`, `ClientService`, ...) and a `twistd -n`-style runner;
//!   [`strports`]: a listening service from a description string.
//! - [`adbapi`]: Twisted's `ConnectionPool`, blocking database calls on a pool of threads
//!   returning Deferreds (SQLite built in, PostgreSQL with the `postgres` feature).
//! - [`testing`]: helpers for deterministic tests (`success_result_of`, captured unhandled
//!   errors, `StringTransport`, `Loopback`, `MemoryReactor`).
//! - [`porting`]: every Twisted name and its Rust spelling, and how to use the crate inside
//!   a Tokio app.
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
//!
//! # Design notes
//!
//! Where this crate departs from its settled design, and why.
//!
//! - **A panicking canceller fails the Deferred with that panic** instead of propagating
//!   out of `cancel()`, because library code does not panic on user input.
//! - **One lock per `add_callback`, at the cost of the thread-safe floor.** A Deferred's
//!   chain is shared with its resolver, which may fire from another thread at any time, so
//!   each step added before firing is published under the state's mutex. Measured in
//!   instructions (callgrind, equal op counts), the `deferred_chain` benchmark (create, 10
//!   callbacks, fire, read) costs 3,860 instructions per chain against 4,095 for a chain
//!   in `Arc<Mutex<Vec<Box<dyn FnOnce + Send>>>>` locked per push, the floor for a chain
//!   that another thread may fire: 1.06 of the floor's speed. What gets it there without
//!   `unsafe`: adding a step inlines into `add_callback` (one lock round and a push); the
//!   first step is stored inline and the rest in a pooled queue; and the box that carries
//!   a value down the chain is reused per thread for the next value of its type. So the
//!   crate keeps `#![forbid(unsafe_code)]`.
//! - **`unpause` without `pause` is an error** ([`NotPausedError`](defer::NotPausedError));
//!   Twisted drives its counter negative and the Deferred never runs again.

#![forbid(unsafe_code)]

pub mod adbapi;
pub mod basic;
pub mod defer;
pub mod endpoints;
pub mod error;
pub mod failure;
mod lock;
mod log;
pub mod porting;
pub mod protocol;
pub mod reactor;
pub mod service;
pub mod strports;
pub mod task;
pub mod testing;
pub mod threads;
pub mod time;

// The README's code blocks run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
