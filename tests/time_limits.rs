//! Extreme delays: a delay too large to represent means "never", not a panic.

mod common;

use std::time::Duration;

use tokio_twisted::reactor::Reactor;
use tokio_twisted::task::Clock;

/// `call_later(Duration::MAX)` schedules a call that never comes due, and `reset`/`delay`
/// saturate instead of overflowing.
#[test]
fn clock_accepts_the_largest_delay() {
    let clock = Clock::new();
    clock.advance(Duration::from_secs(1));
    let call = clock.call_later(Duration::MAX, || panic!("must never run"));
    assert_eq!(call.time(), Duration::MAX);
    call.delay(Duration::from_secs(1)).unwrap();
    call.reset(Duration::MAX).unwrap();
    clock.advance(Duration::from_secs(3600));
    assert!(call.active());
    call.cancel().unwrap();
}

/// The reactor keeps running other work while a never-due call is pending.
#[test]
fn reactor_accepts_the_largest_delay() {
    let _limit = crate::common::time_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let reactor = Reactor::builder()
        .without_signal_handlers()
        .runtime(rt)
        .build()
        .unwrap();
    let never = reactor.call_later(Duration::MAX, || panic!("must never run"));
    let handle = reactor.handle();
    // The never-due call is the earliest timer while the reactor waits for this task.
    reactor
        .spawn_local(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            handle.stop().unwrap();
        })
        .unwrap();
    reactor.run().unwrap();
    assert!(never.active());
    assert!(reactor.seconds() >= 5.0);
}

/// Advancing past the end of representable time saturates instead of panicking, and a call
/// due "never" then runs, since time has reached it.
#[test]
fn clock_advance_saturates() {
    let clock = Clock::new();
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ran.clone();
    clock.call_later(Duration::MAX, move || {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    clock.advance(Duration::from_secs(1));
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Duration::MAX);
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Duration::MAX);
}
