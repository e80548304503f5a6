// Tests: tests/task.rs, tests/reactor.rs, tests/threads.rs, tests/conformance/test_base.rs,
// tests/conformance/test_core.rs, tests/conformance/test_internet.rs

//! The reactor and time: Twisted's `twisted.internet.reactor` on a current-thread Tokio
//! runtime.
//!
//! - [`Reactor`] owns the runtime and runs the main loop ([`Reactor::run`]); it is built
//!   by [`Reactor::new`] or a [`ReactorBuilder`], and its [`ReactorHandle`]
//!   (`Clone + Send + Sync`) schedules work on it from anywhere.
//! - [`ReactorTime`] is time as a trait (`call_later`, `seconds`), implemented by the
//!   reactor's handle and by [`task::Clock`](crate::task::Clock); [`DelayedCall`] is the
//!   handle to a scheduled call ([`DelayedCallError`], [`TimedFn`]).
//! - System event triggers ([`Phase`], [`Event`], [`TriggerId`], [`TriggerResult`]) run
//!   code at startup, shutdown, or application-defined events.
//! - Threads: [`ReactorHandle::call_from_thread`] gets onto the reactor thread,
//!   [`ReactorHandle::call_in_thread`] off it; see also [`crate::threads`].
//! - Tasks: [`ReactorHandle::spawn`] and [`ReactorHandle::spawn_local`] run async code on
//!   the reactor and return a [`TaskHandle`]; the reactor cancels and waits for them during
//!   shutdown ([`SpawnLocalError`] off the reactor thread).
//! - [`BackgroundReactor`]: a reactor on its own thread, from
//!   [`Reactor::spawn_background`], with an async `join`.
//! - Errors named after Twisted's: [`ReactorAlreadyRunning`], [`ReactorNotRunning`],
//!   [`ReactorNotRestartable`] (inside [`RunError`]) and [`UnknownTriggerError`]; the
//!   signal that stopped the reactor is an [`ExitSignal`].
//!
//! ```
//! # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
//! use std::time::Duration;
//! use tokio_twisted::defer::Deferred;
//! use tokio_twisted::reactor::{Reactor, ReactorTime};
//!
//! let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
//! let (d, r) = Deferred::<i32>::new();
//! reactor.call_later(Duration::from_millis(2), move || { r.callback(3).unwrap(); });
//! let handle = reactor.handle();
//! let d = d.add_callback(move |x| {
//!     assert_eq!(x, 3);
//!     handle.stop()?; // a ReactorNotRunning would become the chain's Failure
//!     Ok::<_, tokio_twisted::failure::Failure>(())
//! });
//! reactor.run().unwrap();
//! assert!(d.called());
//! ```

// Layers, each importing only those below it (bottom first):
// - leaves: `errors`, `pool` (the thread pool), `seat` (tracked tasks, `TaskHandle`),
//   `triggers` (the event registry, what a trigger may return);
// - `shared`: the state a reactor shares with its handles, and its lifecycle;
// - `signals` (SIGINT/SIGTERM stop it), then `events` (firing the three phases, with the
//   reactor's own startup and shutdown work);
// - `main_loop`: the iterations of `run`;
// - `handle` (`ReactorHandle`) and `in_reactor` (its `call_in_reactor`), then `background`
//   (`BackgroundReactor`, a thread running a reactor that the layer above builds);
// - the owner: `runner` (`Reactor`, `ReactorBuilder`), then `forward` (the owner's
//   forwarding methods).
mod background;
mod errors;
mod events;
mod forward;
mod handle;
mod in_reactor;
mod main_loop;
pub(crate) mod pool;
mod runner;
mod seat;
mod shared;
mod signals;
mod triggers;

pub use background::BackgroundReactor;
pub use errors::{
    ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning, RunError, UnknownTriggerError,
};
pub use handle::ReactorHandle;
pub use runner::{Reactor, ReactorBuilder};
pub use seat::{SpawnLocalError, TaskHandle};
pub use shared::ExitSignal;
pub use triggers::{Event, Phase, TriggerId, TriggerResult};
// Time lives in its own bottom layer; re-exported here, where Twisted's users look for it.
pub use crate::time::{DelayedCall, DelayedCallError, ReactorTime, TimedFn};
