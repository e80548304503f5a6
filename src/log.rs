// Tests: tests/defer.rs (unhandled errors), tests/testing.rs

//! The one route by which the library reports errors nobody handled: `tracing`, or the
//! capture installed by [`crate::testing::LoggedErrors`] on the current thread.

use std::cell::RefCell;

use crate::failure::Failure;

thread_local! {
    /// Failures captured instead of logged, innermost capture last.
    static CAPTURE: RefCell<Vec<Vec<Failure>>> = const { RefCell::new(Vec::new()) };
}

/// Reports a Failure that reached the end of a dropped Deferred unhandled.
pub(crate) fn unhandled_in_deferred(failure: &Failure) {
    if !capture(failure) {
        tracing::error!(failure = ?failure, "Unhandled error in Deferred: {failure}");
    }
}

/// Reports a Failure caught by the library while running user code outside any Deferred
/// (a timed call, a system event trigger, a thread call).
pub(crate) fn failure(context: &str, failure: &Failure) {
    if !capture(failure) {
        tracing::error!(failure = ?failure, "{context}: {failure}");
    }
}

fn capture(failure: &Failure) -> bool {
    CAPTURE
        .try_with(|c| {
            let mut c = c.borrow_mut();
            match c.last_mut() {
                Some(list) => {
                    list.push(failure.clone());
                    true
                }
                None => false,
            }
        })
        .unwrap_or(false)
}

pub(crate) fn push_capture() {
    CAPTURE.with(|c| c.borrow_mut().push(Vec::new()));
}

pub(crate) fn pop_capture() -> Vec<Failure> {
    CAPTURE
        .try_with(|c| c.borrow_mut().pop().unwrap_or_default())
        .unwrap_or_default()
}

pub(crate) fn with_captured<R>(f: impl FnOnce(&mut Vec<Failure>) -> R) -> Option<R> {
    CAPTURE
        .try_with(|c| c.borrow_mut().last_mut().map(f))
        .ok()
        .flatten()
}
