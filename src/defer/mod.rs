// Tests: tests/defer.rs, tests/defer_future.rs, tests/defer_model.rs, tests/conformance/test_defer.rs

//! Deferreds: results that arrive later, with a chain of callbacks to process them.
//!
//! This is `twisted.internet.defer`. A [`Deferred<T>`] fires once, through its
//! [`Resolver<T>`], with a value or a [`Failure`](crate::failure::Failure); its callbacks
//! and errbacks run synchronously, in order, on the firing thread, with Twisted's rules for
//! switching paths, chaining on returned Deferreds, pausing and cancelling. It is also a
//! [`Future`], so async code awaits it, and
//! [`Deferred::from_future`] turns async code back into a Deferred (`inlineCallbacks`).
//!
//! - The Deferred: [`Deferred`] and its firing half [`Resolver`]; what a step returns
//!   ([`IntoOutcome`], [`Outcome`]); ready-made ones from [`succeed`], [`fail`] and
//!   [`maybe_deferred`]; timeouts with [`Deferred::add_timeout`]; cancel-on-drop for Tokio
//!   code with [`Deferred::cancel_on_drop`] ([`CancelOnDrop`]): by default, as in Twisted,
//!   dropping a Deferred cancels nothing.
//! - Aggregates: [`DeferredList`] (with [`FirstSuccess`]), [`gather_results`] and [`race`].
//! - Concurrency primitives: [`DeferredLock`], [`DeferredSemaphore`] (and their guards)
//!   and [`DeferredQueue`].
//! - Errors, named as in Twisted: [`AlreadyCalledError`], [`CancelledError`],
//!   [`TimeoutError`], [`FirstError`], [`FailureGroup`], [`QueueOverflow`],
//!   [`QueueUnderflow`]; and [`NotPausedError`], [`NotAcquiredError`],
//!   [`InvalidTokensError`] where Twisted asserts.
//!
//! ```
//! use tokio_twisted::defer::{Deferred, DeferredList};
//!
//! let (a, ra) = Deferred::<i32>::new();
//! let (b, rb) = Deferred::<i32>::new();
//! let both = DeferredList::new(vec![a, b]).build();
//! rb.callback(2).unwrap();
//! assert!(!both.called()); // waits for every input
//! ra.callback(1).unwrap();
//! let results: Vec<i32> = tokio_twisted::testing::success_result_of(both)
//!     .into_iter()
//!     .map(Result::unwrap)
//!     .collect();
//! assert_eq!(results, [1, 2]); // input order, not firing order
//!
//! // The failure path: an errback recovers, or the failure goes on down the chain.
//! let (d, r) = Deferred::<i32>::new();
//! let d = d.add_callback(|x| Ok(x * 2)).add_errback(|f| {
//!     f.trap::<tokio_twisted::defer::CancelledError>()?;
//!     Ok(-1)
//! });
//! d.cancel();
//! assert!(r.called());
//! assert_eq!(tokio_twisted::testing::success_result_of(d), -1);
//! ```

// How the module is layered. Each file imports (`use super::...`) only files of the
// layers below its own, so a reader can start at the bottom and never meet a name that is
// defined further up:
//
// 1. `errors`: the named errors. `steps`: the pending-step queue, generic over the step
//    type, knowing nothing of Deferreds.
// 2. `core`: the shared state, its lifecycle (fire, pause, cancel, take) and the chain
//    runner; the type-erased value and step types.
// 3. `repr` (Twisted-style Debug output) and `awaiting` (which Deferreds a poll found
//    pending), both over `core`.
// 4. `resolver`: the firing handle.
// 5. `deferred`: the `Deferred` handle: create, inspect, pause, cancel, await.
// 6. `outcome`: what a step returns (it may hold a `Deferred`).
// 7. `callbacks`: adding steps (`add_callbacks`, `add_callback`, ...), typed over `outcome`.
// 8. Built from the public API of the layers below: `fired` (succeed, fail,
//    maybe_deferred), `coroutine` (from_future), `cancel_on_drop`, `timeout`, `waiters` and the
//    primitives over it (`queue`, `sync`), and the aggregates (`list`).
mod awaiting;
mod callbacks;
mod cancel_on_drop;
mod core;
mod coroutine;
mod deferred;
mod errors;
mod fired;
mod list;
mod outcome;
mod queue;
mod repr;
mod resolver;
mod steps;
mod sync;
mod timeout;
mod waiters;

pub use cancel_on_drop::CancelOnDrop;
pub(crate) use coroutine::{clear_home_runtime, set_home_runtime};
pub use deferred::Deferred;
pub use errors::{
    AlreadyCalledError, CancelledError, FailureGroup, FirstError, NotPausedError, TimeoutError,
};
pub use fired::{fail, maybe_deferred, succeed};
pub use list::{DeferredList, FirstSuccess, gather_results, race};
pub use outcome::{IntoOutcome, Outcome};
pub use queue::{DeferredQueue, QueueOverflow, QueueUnderflow};
pub use resolver::Resolver;
pub use sync::{
    DeferredLock, DeferredLockGuard, DeferredSemaphore, DeferredSemaphoreGuard, InvalidTokensError,
    NotAcquiredError,
};
