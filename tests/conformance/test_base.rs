//! Port of `twisted/internet/test/test_base.py`: `DelayedCall` identity and formatting, and
//! which signal stopped the reactor.
//!
//! Not ported:
//! - `ThreadedResolverTests.test_success`, `test_failure`, `test_timeout`,
//!   `test_resolverGivenStr`: the reactor has no pluggable name resolver (endpoints resolve
//!   through Tokio).
//! - `DelayedCallMixin.test_lt`, `test_le`, `test_gt`, `test_ge`: Rust's `PartialOrd` must
//!   agree with `PartialEq`, which is identity (as in Twisted), so calls are not ordered;
//!   compare `call.time()` instead.
//! - `DelayedCallMixin.test_repr`: Python's `str`/`repr` distinction; `Debug` is the one
//!   format (checked by `test_str` below).
//! - `DelayedCallNoDebugTests.test_switchToDebug`, `DelayedCallDebugTests.test_str`,
//!   `test_switchFromDebug`: Twisted's debug mode recording creation stacks has no
//!   counterpart (set `RUST_BACKTRACE` for failures' backtraces). A call's text is always
//!   the one without a creation stack, which `test_str` checks (and so ports
//!   `DelayedCallNoDebugTests.test_str` too).
//! - `ReactorBaseSignalTests.test_captureSIGBREAK`: Windows-only signal.
//!
//! Counts: 20 tests in Twisted's module (the mixin's 8 counted once); 7 ported here, 13 not
//! applicable (above).

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::time::Duration;

use tokio_twisted::reactor::{ExitSignal, Reactor, ReactorHandle};
use tokio_twisted::task::Clock;

fn calls_at_zero_and_one() -> (
    Clock,
    tokio_twisted::reactor::DelayedCall,
    tokio_twisted::reactor::DelayedCall,
) {
    let clock = Clock::new();
    let zero = clock.call_later(Duration::ZERO, || {});
    let one = clock.call_later(Duration::from_secs(1), || {});
    (clock, zero, one)
}

/// twisted: DelayedCallMixin.test_str
/// twisted: DelayedCallNoDebugTests.test_str
/// A call's text shows when it is due and its state.
#[test]
fn test_str() {
    let clock = Clock::new();
    clock.advance(Duration::from_secs_f64(1.5));
    let call = clock.call_later(Duration::from_secs_f64(10.5), || {});
    let text = format!("{call:?}");
    assert!(text.contains("12s"), "{text}");
    assert!(text.contains("Pending"), "{text}");
}

/// twisted: DelayedCallMixin.test_eq
/// A call equals itself (and its clones) only.
#[test]
fn test_eq() {
    let (_clock, zero, one) = calls_at_zero_and_one();
    assert!(zero != one);
    assert!(zero == zero.clone());
    assert!(one == one);
}

/// twisted: DelayedCallMixin.test_ne
/// A call differs from every other call, even one due at the same time.
#[test]
fn test_ne() {
    let (clock, zero, one) = calls_at_zero_and_one();
    let twin = clock.call_later(Duration::ZERO, || {});
    assert!(zero != one);
    assert!(zero != twin);
    assert_eq!(zero.time(), twin.time());
    assert!(!(one != one.clone()));
}

/// twisted: ReactorBaseSignalTests.test_exitSignalDefaultsToNone
/// A reactor no signal stopped reports none.
#[test]
fn test_exit_signal_defaults_to_none() {
    let _limit = crate::common::time_limit();
    let r = Reactor::builder().without_signal_handlers().build().unwrap();
    assert_eq!(r.exit_signal(), None);
    r.call_when_running(|| ReactorHandle::current().unwrap().stop())
        .unwrap();
    r.run().unwrap();
    assert_eq!(r.exit_signal(), None);
}

/// Runs a reactor with signal handlers, sends it `signal` once it runs, and checks what it
/// recorded (in a process of its own, see `in_own_process`).
#[cfg(unix)]
fn assert_stopped_by(test: &str, signal: &'static str, expected: ExitSignal) {
    crate::test_core::in_own_process(test, || {
        let r = Reactor::builder().build().unwrap();
        r.call_when_running(move || crate::test_core::kill_self(signal))
            .unwrap();
        r.run().unwrap();
        assert_eq!(r.exit_signal(), Some(expected));
    });
}

/// twisted: ReactorBaseSignalTests.test_captureSIGINT
/// SIGINT stops the reactor, which records it.
#[cfg(unix)]
#[test]
fn test_capture_sigint() {
    let _limit = crate::common::time_limit();
    assert_stopped_by("test_base::test_capture_sigint", "-INT", ExitSignal::Interrupt);
}

/// twisted: ReactorBaseSignalTests.test_captureSIGTERM
/// SIGTERM stops the reactor, which records it.
#[cfg(unix)]
#[test]
fn test_capture_sigterm() {
    let _limit = crate::common::time_limit();
    assert_stopped_by("test_base::test_capture_sigterm", "-TERM", ExitSignal::Terminate);
}
