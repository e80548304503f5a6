//! Port of `twisted/internet/test/test_core.py` (`SystemEventTestsBuilder`): run, stop and
//! crash, and the startup and shutdown events.
//!
//! `test_shutdownDisconnectsCleanly` is ported with the reactor's tracked tasks in place of
//! file descriptors: shutdown cancels each task, whose cleanup (its `Drop`) stands for
//! `connectionLost`.
//!
//! Not ported:
//! - `test_iterate`: the reactor has no `iterate()`; Tokio drives the loop.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::Arc;
use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::PanicError;
use tokio_twisted::reactor::{Event, ExitSignal, Phase, Reactor, ReactorNotRunning, RunError};
use tokio_twisted::testing::LoggedErrors;

use crate::common::{bounded, items, log, push, reactor, stopper};

/// Runs `body` in a child process running only the test `name` (this binary, re-executed):
/// a signal reaches every reactor listening for it, and Tokio's handlers stay installed
/// for the life of the process, so signal tests keep to themselves. Shared with
/// `test_base.rs`.
pub(crate) fn in_own_process(name: &str, body: impl FnOnce()) {
    const CHILD: &str = "TOKIO_TWISTED_SIGNAL_TEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&child.stdout);
    // "1 passed" also guards against a filter that matches no test.
    assert!(
        child.status.success() && out.contains("1 passed"),
        "the test failed in its own process: {out}{}",
        String::from_utf8_lossy(&child.stderr)
    );
}

/// Sends `signal` (a `kill` flag such as `-TERM`) to this process.
#[cfg(unix)]
pub(crate) fn kill_self(signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// twisted: SystemEventTestsBuilder.test_stopWhenNotStarted
/// Stopping a reactor that never ran fails with `ReactorNotRunning`.
#[test]
fn test_stop_when_not_started() {
    let _limit = crate::common::time_limit();
    assert_eq!(reactor().stop(), Err(ReactorNotRunning));
}

/// twisted: SystemEventTestsBuilder.test_stopWhenAlreadyStopped
/// Stopping a reactor that has stopped fails with `ReactorNotRunning`.
#[test]
fn test_stop_when_already_stopped() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    r.call_when_running(stopper(&r.handle())).unwrap();
    r.run().unwrap();
    assert_eq!(r.stop(), Err(ReactorNotRunning));
}

/// twisted: SystemEventTestsBuilder.test_callWhenRunningOrder
/// `call_when_running` functions run in the order they were registered.
#[test]
fn test_call_when_running_order() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.call_when_running(push(&log, "first")).unwrap();
    r.call_when_running(push(&log, "second")).unwrap();
    r.call_when_running(stopper(&r.handle())).unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), ["first", "second"]);
}

/// twisted: SystemEventTestsBuilder.test_runningForStartupEvents
/// `running` is false in *before startup* triggers and true in *during* and *after* ones.
#[test]
fn test_running_for_startup_events() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    for (phase, name) in [
        (Phase::Before, "before"),
        (Phase::During, "during"),
        (Phase::After, "after"),
    ] {
        let (l, h) = (Arc::clone(&log), r.handle());
        r.add_system_event_trigger(phase, Event::Startup, move || {
            l.lock().unwrap().push((name, h.running()));
        })
        .unwrap();
    }
    r.call_when_running(stopper(&r.handle())).unwrap();
    assert!(items(&log).is_empty());
    r.run().unwrap();
    assert_eq!(
        items(&log),
        [("before", false), ("during", true), ("after", true)]
    );
}

/// twisted: SystemEventTestsBuilder.test_signalHandlersInstalledDuringStartup
/// Signal handlers are in place once startup's *before* phase is over: a SIGTERM sent
/// from an *after startup* trigger stops the reactor gracefully instead of killing the
/// process.
#[cfg(unix)]
#[test]
fn test_signal_handlers_installed_during_startup() {
    let _limit = crate::common::time_limit();
    in_own_process("test_core::test_signal_handlers_installed_during_startup", || {
        let r = Reactor::builder().build().unwrap();
        let log = log();
        r.add_system_event_trigger(Phase::Before, Event::Startup, push(&log, "before startup"))
            .unwrap();
        r.add_system_event_trigger(Phase::After, Event::Startup, || kill_self("-TERM"))
            .unwrap();
        r.add_system_event_trigger(Phase::Before, Event::Shutdown, push(&log, "before shutdown"))
            .unwrap();
        r.run().unwrap();
        assert_eq!(items(&log), ["before startup", "before shutdown"]);
        assert_eq!(r.exit_signal(), Some(ExitSignal::Terminate));
    });
}

/// twisted: SystemEventTestsBuilder.test_stopShutDownEvents
/// `stop` fires all three shutdown phases before `run` returns.
#[test]
fn test_stop_shut_down_events() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, Event::Shutdown, push(&log, "before"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, Event::Shutdown, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, Event::Shutdown, push(&log, "after"))
        .unwrap();
    r.call_when_running(stopper(&r.handle())).unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), ["before", "during", "after"]);
}

/// twisted: SystemEventTestsBuilder.test_shutdownFiresTriggersAsynchronously
/// *Before shutdown* triggers do not run inside `stop`.
#[test]
fn test_shutdown_fires_triggers_asynchronously() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, Event::Shutdown, push(&log, "before shutdown"))
        .unwrap();
    let (h, l) = (r.handle(), Arc::clone(&log));
    r.call_when_running(move || {
        h.stop().unwrap();
        l.lock().unwrap().push("stopped");
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), ["stopped", "before shutdown"]);
}

/// Appends its name to a log when dropped, or panics if it has no log: a task's cleanup.
struct Cleanup(Option<crate::common::Log<&'static str>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        match &self.0 {
            Some(log) => log.lock().unwrap().push("lost"),
            None => panic!("simulated connectionLost error"),
        }
    }
}

/// twisted: SystemEventTestsBuilder.test_shutdownDisconnectsCleanly
/// A task whose cleanup panics at shutdown is logged and does not keep the next task from
/// being cleaned up; both are done before `run()` returns.
#[test]
fn test_shutdown_disconnects_cleanly() {
    bounded("test_shutdown_disconnects_cleanly", || {
        let logged = LoggedErrors::capture();
        let reactor = reactor();
        let lost = log();
        for cleanup in [Cleanup(None), Cleanup(Some(Arc::clone(&lost)))] {
            drop(reactor.spawn(async move {
                let _cleanup = cleanup;
                std::future::pending::<()>().await;
            }));
        }
        reactor.call_when_running(stopper(&reactor.handle())).unwrap();
        reactor.run().unwrap();
        assert_eq!(logged.flush::<PanicError>().len(), 1);
        assert_eq!(items(&lost), ["lost"]);
    });
}

thread_local! {
    /// The owner of the reactor under test, reachable from its own callbacks (which are
    /// `Send` and cannot capture it) to call `run()` from inside the reactor.
    static OWNER: std::cell::Cell<Option<&'static Reactor>> = const { std::cell::Cell::new(None) };
}

/// A reactor that lives for the rest of the test thread, registered as [`owner()`].
fn leaked_owner() -> &'static Reactor {
    let r: &'static Reactor = Box::leak(Box::new(reactor()));
    OWNER.with(|o| o.set(Some(r)));
    r
}

fn owner() -> &'static Reactor {
    OWNER
        .with(std::cell::Cell::get)
        .expect("leaked_owner() was called on this thread")
}

/// twisted: SystemEventTestsBuilder.test_multipleRun
/// `run` on a running reactor fails with `ReactorAlreadyRunning`.
#[test]
fn test_multiple_run() {
    let _limit = crate::common::time_limit();
    let r = leaked_owner();
    let log = log();
    let l = Arc::clone(&log);
    r.call_when_running(move || {
        assert!(matches!(owner().run(), Err(RunError::AlreadyRunning(_))));
        l.lock().unwrap().push("tested");
    })
    .unwrap();
    r.call_when_running(stopper(&r.handle())).unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), ["tested"]);
}

/// twisted: SystemEventTestsBuilder.test_runWithAsynchronousBeforeStartupTrigger
/// With a *before startup* trigger waiting on a Deferred, the reactor runs its timers
/// and `run` returns only after `stop`.
#[test]
fn test_run_with_asynchronous_before_startup_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (h, l) = (r.handle(), Arc::clone(&log));
    r.add_system_event_trigger(Phase::Before, Event::Startup, move || {
        l.lock().unwrap().push("trigger");
        let (d, resolver) = Deferred::<()>::new();
        let (l2, h2) = (Arc::clone(&l), h.clone());
        let d = d.add_callback(move |()| {
            l2.lock().unwrap().push("callback");
            h2.stop().map_err(Into::into)
        });
        h.call_later(Duration::ZERO, move || resolver.callback(()).unwrap());
        d
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), ["trigger", "callback"]);
}

/// twisted: SystemEventTestsBuilder.test_crash
/// `crash` stops the reactor without firing shutdown triggers.
#[test]
fn test_crash() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, Event::Shutdown, push(&log, "before shutdown"))
        .unwrap();
    let h = r.handle();
    r.call_when_running(move || {
        let crasher = h.clone();
        h.call_later(Duration::ZERO, move || crasher.crash());
    })
    .unwrap();
    r.run().unwrap();
    assert!(!r.running());
    assert!(items(&log).is_empty(), "shutdown triggers ran");
}

/// twisted: SystemEventTestsBuilder.test_runAfterCrash
/// A crashed reactor runs again, and is running when its startup completes.
#[test]
fn test_run_after_crash() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (h, l) = (r.handle(), Arc::clone(&log));
    r.call_when_running(move || {
        l.lock().unwrap().push(("crash", false));
        h.crash();
    })
    .unwrap();
    r.run().unwrap();
    let (h, l) = (r.handle(), Arc::clone(&log));
    r.call_when_running(move || {
        l.lock().unwrap().push(("stop", h.running()));
        h.stop()
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), [("crash", false), ("stop", true)]);
}

/// twisted: SystemEventTestsBuilder.test_runAfterStop
/// `run` after a stop fails with `ReactorNotRestartable`, even from a shutdown trigger.
#[test]
fn test_run_after_stop() {
    let _limit = crate::common::time_limit();
    let r = leaked_owner();
    let log = log();
    r.call_when_running(stopper(&r.handle())).unwrap();
    let l = Arc::clone(&log);
    r.add_system_event_trigger(Phase::After, Event::Shutdown, move || {
        assert!(matches!(owner().run(), Err(RunError::NotRestartable(_))));
        l.lock().unwrap().push("tested");
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(items(&log), ["tested"]);
}
