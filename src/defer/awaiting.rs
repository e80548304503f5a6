// Tests: tests/defer_future.rs (cancelling a from_future Deferred), tests/conformance/test_defer.rs

//! Which Deferreds a poll found pending: how cancelling a `from_future` Deferred finds
//! what its async code is awaiting.
//!
//! `Deferred::poll` notes each Deferred that answers `Pending`; the `from_future` driver
//! collects the notes made during one poll of its future. It sits below the `Deferred`
//! handle so that the handle's `Future` impl does not reach up into the driver.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use super::core::Inner;

thread_local! {
    /// The Deferreds found pending during the poll of the innermost driver on this thread.
    static AWAITING: RefCell<Option<Vec<Weak<Inner>>>> = const { RefCell::new(None) };
}

/// Called by `Deferred::poll` when it answers `Pending`.
pub(super) fn note_awaiting(inner: &Arc<Inner>) {
    let _ = AWAITING.try_with(|a| {
        if let Some(list) = a.borrow_mut().as_mut() {
            list.push(Arc::downgrade(inner));
        }
    });
}

/// Runs `poll` and returns what it returned with the Deferreds noted meanwhile. A driver
/// polled inside another driver's poll keeps its notes apart from the outer one's.
pub(super) fn noting<R>(poll: impl FnOnce() -> R) -> (R, Vec<Weak<Inner>>) {
    let outer = AWAITING.with(|a| a.borrow_mut().replace(Vec::new()));
    let out = poll();
    let noted = AWAITING.with(|a| std::mem::replace(&mut *a.borrow_mut(), outer));
    (out, noted.unwrap_or_default())
}
