// Tests: tests/defer.rs (unhandled errors), tests/testing.rs, tests/unhandled_stderr.rs

//! The one route by which the library reports errors nobody handled: the capture installed
//! by [`crate::testing::LoggedErrors`] on the current thread if there is one, else
//! `tracing` if a subscriber listens, else standard error.
//!
//! Standard error is the one place where the library writes output itself, and only when
//! no `tracing` subscriber is installed: a failure nobody handled must not vanish because
//! the program never set up logging (Twisted prints "Unhandled error in Deferred" to
//! stderr when logging was never started). Once a subscriber is installed, reports go
//! only through `tracing`, where the application decides what is shown. The text goes
//! through `eprint!`, so that the test harness captures it with the rest of a test's output
//! (shown only for a test that fails); as `eprint!` panics when stderr is broken, the write
//! runs under `catch_unwind`: reporting a failure must never itself panic.

use std::cell::RefCell;

use crate::failure::Failure;

thread_local! {
    /// Failures captured instead of logged, innermost capture last.
    static CAPTURE: RefCell<Vec<Vec<Failure>>> = const { RefCell::new(Vec::new()) };
}

/// Reports a Failure that reached the end of a dropped Deferred unhandled.
pub(crate) fn unhandled_in_deferred(failure: &Failure) {
    if capture(failure) {
        return;
    }
    if subscribed() {
        tracing::error!(failure = ?failure, "Unhandled error in Deferred: {failure}");
    } else {
        to_stderr("Unhandled error in Deferred", failure);
    }
}

/// Reports a Failure caught by the library while running user code outside any Deferred
/// (a timed call, a system event trigger, a thread call).
pub(crate) fn failure(context: &str, failure: &Failure) {
    if capture(failure) {
        return;
    }
    if subscribed() {
        tracing::error!(failure = ?failure, "{context}: {failure}");
    } else {
        to_stderr(context, failure);
    }
}

/// Whether a `tracing` subscriber (global, or scoped to this thread) would see an event.
fn subscribed() -> bool {
    tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>())
}

/// Writes `context:` and the failure's traceback (its message, every `caused by:` below it,
/// and the backtrace when `RUST_BACKTRACE` asked for one) to standard error, in one write.
fn to_stderr(context: &str, failure: &Failure) {
    let text = format!("{context}:\n{failure:?}\n");
    // One `eprint!` call, so the report is not interleaved with another thread's output.
    let _ = std::panic::catch_unwind(|| eprint!("{text}"));
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
