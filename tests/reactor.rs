//! The reactor's public behaviour: the main loop and its timers, lifecycle, system events,
//! calls from threads, signals, the three ways to run it, and `task::react`.
//!
//! Timer tests run the reactor on a paused-time Tokio runtime: an idle runtime jumps to
//! the next timer, so they finish at once and always see the same times.
//!
//! The `task::react` section ports `ReactTests` and `ReactCoroutineFunctionTests` of
//! `twisted/test/test_task.py`; not ported: `test_arguments` (both classes), since closures
//! capture arguments.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

mod common;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, DeferredList, fail, succeed};
use tokio_twisted::failure::{Failure, MessageError, PanicError};
use tokio_twisted::reactor::{Event, ExitSignal, Phase, Reactor, ReactorHandle, ReactorNotRunning, RunError};
use tokio_twisted::task::{Exit, react, react_with};
use tokio_twisted::testing::LoggedErrors;

use common::{bounded, items, log, paused_reactor, push, reactor, secs, stop_call, stopper};

#[test]
fn handles_and_pools_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ReactorHandle>();
    send_sync::<tokio_twisted::threads::ThreadPool>();
    send_sync::<tokio_twisted::reactor::TriggerId>();
    send_sync::<RunError>();
}

// ---------------------------------------------------------------------------------------
// Timers on the real loop

/// Seed 003, code-1: `callLater(2, d.callback, 9)` and `callLater(4, reactor.stop)`.
#[test]
fn seed_call_later_fires_deferred_then_stops() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let seen = log();
    let (d, r) = Deferred::<i32>::new();
    let when = reactor.handle();
    let s = Arc::clone(&seen);
    let d = d.add_callback(move |x| {
        s.lock().unwrap().push((x, when.seconds()));
        Ok(())
    });
    reactor.call_later(secs(2.0), move || {
        r.callback(3 * 3).unwrap();
    });
    reactor.call_later(secs(4.0), stop_call(&reactor.handle()));
    reactor.run().unwrap();
    let seen = items(&seen);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, 9);
    assert!((2.0..2.01).contains(&seen[0].1), "fired at {}", seen[0].1);
    assert!((4.0..4.01).contains(&reactor.seconds()));
    assert!(d.called());
}

/// Seed 003, code-2: a timed call fires one Deferred with a value and one with a failure.
#[test]
fn seed_getter_callback_and_errback() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let out = log();
    for x in [3, 4] {
        let (d, r) = Deferred::<i32>::new();
        reactor.call_later(secs(2.0), move || {
            if x % 2 == 0 {
                r.callback(x * 3).unwrap();
            } else {
                r.errback(Failure::msg("You used an odd number!")).unwrap();
            }
        });
        let (ok, err) = (Arc::clone(&out), Arc::clone(&out));
        drop(d.add_callback(|r| Ok(format!("Result: {r}"))).add_callbacks(
            move |s| {
                ok.lock().unwrap().push(s);
                Ok(())
            },
            move |f| {
                err.lock().unwrap().push(f.error_message());
                Ok(())
            },
        ));
    }
    reactor.call_later(secs(4.0), stop_call(&reactor.handle()));
    reactor.run().unwrap();
    assert_eq!(items(&out), ["You used an odd number!", "Result: 12"]);
}

#[test]
fn due_calls_run_in_time_order_and_fifo_for_equal_times() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let order = log();
    reactor.call_later(secs(2.0), push(&order, "c"));
    reactor.call_later(secs(1.0), push(&order, "a"));
    for name in ["b1", "b2", "b3"] {
        reactor.call_later(secs(1.5), push(&order, name));
    }
    reactor.call_later(secs(3.0), stop_call(&reactor.handle()));
    reactor.run().unwrap();
    assert_eq!(items(&order), ["a", "b1", "b2", "b3", "c"]);
}

#[test]
fn calls_scheduled_by_timed_calls_wait_for_the_next_iteration() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let order = log();
    let handle = reactor.handle();
    let o = Arc::clone(&order);
    reactor.call_later(Duration::ZERO, move || {
        o.lock().unwrap().push("first");
        handle.call_later(Duration::ZERO, push(&o, "zero-delay"));
        // A thread call runs at the start of the next iteration, before its timed calls.
        handle.call_from_thread(push(&o, "next iteration")).unwrap();
    });
    reactor.call_later(Duration::ZERO, push(&order, "second"));
    reactor.call_later(secs(1.0), stop_call(&reactor.handle()));
    reactor.run().unwrap();
    assert_eq!(items(&order), ["first", "second", "next iteration", "zero-delay"]);
}

#[test]
fn a_zero_delay_loop_does_not_starve_thread_calls() {
    fn spin(handle: &ReactorHandle, spins: Arc<AtomicUsize>) {
        if spins.fetch_add(1, Ordering::SeqCst) < 1_000 {
            let h = handle.clone();
            handle.call_later(Duration::ZERO, move || spin(&h, spins));
        }
    }
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let spins = Arc::new(AtomicUsize::new(0));
    let (handle, s) = (reactor.handle(), Arc::clone(&spins));
    reactor.call_when_running(move || spin(&handle, s)).unwrap();
    let (handle, s) = (reactor.handle(), Arc::clone(&spins));
    reactor
        .call_from_thread(move || {
            let seen = s.load(Ordering::SeqCst);
            assert!(seen < 5, "thread call waited for {seen} spins");
            handle.stop()
        })
        .unwrap();
    reactor.run().unwrap();
    assert!(spins.load(Ordering::SeqCst) < 5);
}

#[test]
fn a_panicking_timed_call_is_logged_and_the_reactor_carries_on() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let reactor = paused_reactor();
    let order = log();
    reactor.call_later(secs(1.0), || panic!("boom"));
    reactor.call_later(secs(1.0), push(&order, "after the panic"));
    reactor.call_later(secs(2.0), push(&order, "later"));
    reactor.call_later(secs(3.0), stop_call(&reactor.handle()));
    reactor.run().unwrap();
    assert_eq!(items(&order), ["after the panic", "later"]);
    let panics = logged.flush::<PanicError>();
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].error_message(), "panicked: boom");
}

#[test]
fn cancelled_reset_and_delayed_calls() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let fired = log();
    let times = Arc::clone(&fired);
    let h = reactor.handle();
    let cancelled = reactor.call_later(secs(1.0), push(&fired, -1.0));
    let reset = reactor.call_later(secs(5.0), move || times.lock().unwrap().push(h.seconds()));
    let times = Arc::clone(&fired);
    let h = reactor.handle();
    let delayed = reactor.call_later(secs(1.0), move || times.lock().unwrap().push(h.seconds()));
    cancelled.cancel().unwrap();
    reset.reset(secs(2.0)).unwrap();
    delayed.delay(secs(2.0)).unwrap();
    assert_eq!(reactor.pending_calls().len(), 2);
    reactor.call_later(secs(4.0), stop_call(&reactor.handle()));
    reactor.run().unwrap();
    let fired = items(&fired);
    assert_eq!(fired.len(), 2);
    assert!(
        (2.0..2.01).contains(&fired[0]) && (3.0..3.01).contains(&fired[1]),
        "{fired:?}"
    );
    assert!(reactor.pending_calls().is_empty());
}

#[test]
fn pending_calls_lists_live_calls_earliest_first() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let b = reactor.call_later(secs(20.0), || {});
    let a = reactor.call_later(secs(10.0), || {});
    let gone = reactor.call_later(secs(15.0), || {});
    gone.cancel().unwrap();
    let times: Vec<_> = reactor
        .pending_calls()
        .iter()
        .map(tokio_twisted::reactor::DelayedCall::time)
        .collect();
    assert_eq!(times, [a.time(), b.time()]);
}

// ---------------------------------------------------------------------------------------
// Lifecycle

#[test]
fn stop_before_run_and_twice_is_reactor_not_running() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    assert_eq!(reactor.stop(), Err(ReactorNotRunning));
    let results = log();
    let (h, r) = (reactor.handle(), Arc::clone(&results));
    reactor
        .call_when_running(move || {
            let mut r = r.lock().unwrap();
            r.push(h.stop());
            r.push(h.stop());
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(items(&results), [Ok(()), Err(ReactorNotRunning)]);
    assert_eq!(reactor.stop(), Err(ReactorNotRunning));
}

#[test]
fn a_stopped_reactor_is_not_restartable_but_a_crashed_one_is() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    reactor
        .call_when_running(|| ReactorHandle::current().unwrap().crash())
        .unwrap();
    reactor.run().unwrap();
    assert!(!reactor.running());
    reactor.call_when_running(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    assert!(matches!(reactor.run(), Err(RunError::NotRestartable(_))));
}

#[test]
fn crash_fires_no_shutdown_event() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let events = log();
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, push(&events, "before"))
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::During, Event::Shutdown, push(&events, "during"))
        .unwrap();
    let h = reactor.handle();
    reactor
        .call_when_running(move || {
            h.call_later(Duration::ZERO, move || ReactorHandle::current().unwrap().crash());
        })
        .unwrap();
    reactor.run().unwrap();
    assert!(items(&events).is_empty());
    assert!(!reactor.running());
}

#[test]
fn nested_run_is_already_running() {
    let _limit = crate::common::time_limit();
    // The single owner is reachable from a task on its own thread only through a leak.
    let reactor: &'static Reactor = Box::leak(Box::new(reactor()));
    let seen = log();
    let s = Arc::clone(&seen);
    reactor
        .spawn_local(async move {
            s.lock()
                .unwrap()
                .push(matches!(reactor.run(), Err(RunError::AlreadyRunning(_))));
            reactor.stop()
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(items(&seen), [true]);
}

#[tokio::test]
async fn run_inside_a_tokio_runtime_is_refused() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    assert!(matches!(reactor.run(), Err(RunError::InsideRuntime)));
    // The refusal leaves it as it was.
    assert!(!reactor.running());
    assert_eq!(reactor.stop(), Err(ReactorNotRunning));
}

#[test]
fn current_is_the_reactor_on_this_thread() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let h = reactor.handle();
    reactor
        .call_when_running(move || {
            let me = ReactorHandle::current().unwrap();
            assert!(me.is_reactor_thread());
            assert!(h.is_reactor_thread());
            me.stop()
        })
        .unwrap();
    reactor.run().unwrap();
    let other = reactor.handle();
    assert!(
        !std::thread::spawn(move || ReactorHandle::current().is_none() && other.is_reactor_thread())
            .join()
            .unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// System events

#[test]
fn startup_triggers_see_running_flip_in_during() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let seen = log();
    for (phase, name) in [
        (Phase::Before, "before"),
        (Phase::During, "during"),
        (Phase::After, "after"),
    ] {
        let (s, h) = (Arc::clone(&seen), reactor.handle());
        reactor
            .add_system_event_trigger(phase, Event::Startup, move || {
                s.lock().unwrap().push((name, h.running()));
            })
            .unwrap();
    }
    let (s, h) = (Arc::clone(&seen), reactor.handle());
    reactor
        .call_when_running(move || s.lock().unwrap().push(("call_when_running", h.running())))
        .unwrap();
    reactor.call_when_running(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    assert_eq!(
        items(&seen),
        [
            ("before", false),
            ("during", true),
            ("after", true),
            ("call_when_running", true)
        ]
    );
}

#[test]
fn shutdown_runs_three_phases_and_during_sees_not_running() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let seen = log();
    for (phase, name) in [
        (Phase::After, "after"),
        (Phase::During, "during"),
        (Phase::Before, "before"),
    ] {
        let (s, h) = (Arc::clone(&seen), reactor.handle());
        reactor
            .add_system_event_trigger(phase, Event::Shutdown, move || {
                s.lock().unwrap().push((name, h.running()));
            })
            .unwrap();
    }
    let (s, h) = (Arc::clone(&seen), reactor.handle());
    reactor
        .call_when_running(move || {
            h.stop().unwrap();
            s.lock().unwrap().push(("stop returned", h.running()));
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(
        items(&seen),
        [
            ("stop returned", true),
            ("before", true),
            ("during", false),
            ("after", false)
        ]
    );
}

#[test]
fn before_shutdown_deferreds_delay_shutdown_while_timers_run() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let seen = log();
    let (h, s) = (reactor.handle(), Arc::clone(&seen));
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, move || {
            let (d, r) = Deferred::<()>::new();
            let (when, s2) = (h.clone(), Arc::clone(&s));
            h.call_later(secs(0.5), move || {
                s2.lock().unwrap().push(("timer", when.seconds()));
            });
            h.call_later(secs(1.0), move || {
                r.callback(()).unwrap();
            });
            d
        })
        .unwrap();
    let (h, s) = (reactor.handle(), Arc::clone(&seen));
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, move || {
            // A plain trigger and a failing one do not hold shutdown up.
            s.lock().unwrap().push(("plain", h.seconds()));
        })
        .unwrap();
    let (h, s) = (reactor.handle(), Arc::clone(&seen));
    reactor
        .add_system_event_trigger(Phase::During, Event::Shutdown, move || {
            s.lock().unwrap().push(("during", h.seconds()));
        })
        .unwrap();
    reactor.call_when_running(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    let seen = items(&seen);
    let names: Vec<_> = seen.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["plain", "timer", "during"]);
    assert!(seen[0].1 < 0.01 && (0.5..0.51).contains(&seen[1].1) && (1.0..1.01).contains(&seen[2].1));
}

#[test]
fn failing_and_panicking_triggers_are_logged_and_the_rest_run() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let reactor = reactor();
    let seen = log();
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, || -> Result<(), Failure> {
            Err(Failure::msg("before failed"))
        })
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, || {
            fail::<()>(Failure::msg("deferred failed"))
        })
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, push(&seen, "before"))
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::During, Event::Shutdown, || -> Result<(), Failure> {
            panic!("during panicked")
        })
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::During, Event::Shutdown, push(&seen, "during"))
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::After, Event::Shutdown, push(&seen, "after"))
        .unwrap();
    reactor.call_when_running(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    assert_eq!(items(&seen), ["before", "during", "after"]);
    let messages: Vec<_> = logged
        .flush::<MessageError>()
        .iter()
        .map(Failure::error_message)
        .collect();
    assert_eq!(messages, ["before failed", "deferred failed"]);
    assert_eq!(logged.flush::<PanicError>().len(), 1);
}

#[test]
fn removed_triggers_do_not_run_and_cannot_be_removed_twice() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let seen = log();
    let gone = reactor
        .add_system_event_trigger(Phase::After, Event::Startup, push(&seen, "removed"))
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::After, Event::Startup, push(&seen, "kept"))
        .unwrap();
    reactor.remove_system_event_trigger(gone).unwrap();
    assert!(reactor.remove_system_event_trigger(gone).is_err());
    let ran = reactor
        .add_system_event_trigger(Phase::After, Event::Startup, || {})
        .unwrap();
    reactor.call_when_running(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    assert_eq!(items(&seen), ["kept"]);
    assert!(
        reactor.remove_system_event_trigger(ran).is_err(),
        "a trigger that ran is gone"
    );
}

#[test]
fn call_when_running_while_running_calls_at_once() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let seen = log();
    let s = Arc::clone(&seen);
    reactor
        .call_when_running(move || {
            let me = ReactorHandle::current().unwrap();
            let id = me.call_when_running(push(&s, "inner")).unwrap();
            s.lock().unwrap().push(if id.is_none() {
                "returned none"
            } else {
                "returned id"
            });
            me.stop()
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(items(&seen), ["inner", "returned none"]);
}

// ---------------------------------------------------------------------------------------
// Calls from threads

#[test]
fn calls_from_threads_run_in_order_on_the_reactor_thread_after_run() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let seen = log();
    let reactor_thread = std::thread::current().id();
    let handle = reactor.handle();
    let s = Arc::clone(&seen);
    std::thread::spawn(move || {
        for i in 0..100 {
            let s = Arc::clone(&s);
            handle
                .call_from_thread(move || {
                    assert_eq!(std::thread::current().id(), reactor_thread);
                    s.lock().unwrap().push(i);
                })
                .unwrap();
        }
        handle.call_from_thread(stopper(&handle)).unwrap();
    })
    .join()
    .unwrap();
    assert!(items(&seen).is_empty(), "calls made before run wait for it");
    reactor.run().unwrap();
    assert_eq!(items(&seen), (0..100).collect::<Vec<_>>());
}

#[test]
fn call_from_thread_after_shutdown_is_refused() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let refused = log();
    let (h, r) = (reactor.handle(), Arc::clone(&refused));
    reactor
        .add_system_event_trigger(Phase::After, Event::Shutdown, move || {
            r.lock().unwrap().push(h.call_from_thread(|| {}));
        })
        .unwrap();
    reactor.call_when_running(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    assert_eq!(items(&refused), [Err(ReactorNotRunning)]);
    assert_eq!(reactor.call_from_thread(|| {}), Err(ReactorNotRunning));
}

#[test]
fn thread_call_failures_are_logged() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let reactor = reactor();
    reactor
        .call_from_thread(|| -> Result<(), Failure> { Err(Failure::msg("thread call failed")) })
        .unwrap();
    reactor.call_from_thread(stopper(&reactor.handle())).unwrap();
    reactor.run().unwrap();
    assert_eq!(logged.flush::<MessageError>().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Signals. A signal reaches every reactor of the process that listens, and Tokio's handlers
// stay installed for the life of the process, so this test runs in a process of its own:
// this test binary, re-executed to run only it.

#[cfg(unix)]
#[test]
fn sigterm_and_sigint_stop_the_reactor_gracefully() {
    const CHILD: &str = "TOKIO_TWISTED_SIGNAL_TEST_CHILD";
    let _limit = crate::common::time_limit();
    if std::env::var_os(CHILD).is_none() {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "sigterm_and_sigint_stop_the_reactor_gracefully",
                "--exact",
                "--test-threads=1",
            ])
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
        return;
    }
    for (flag, expected) in [("-TERM", ExitSignal::Terminate), ("-INT", ExitSignal::Interrupt)] {
        let reactor = Reactor::builder().build().unwrap();
        let seen = log();
        reactor
            .add_system_event_trigger(Phase::Before, Event::Shutdown, push(&seen, "before shutdown"))
            .unwrap();
        reactor
            .add_system_event_trigger(Phase::After, Event::Shutdown, push(&seen, "after shutdown"))
            .unwrap();
        reactor
            .call_when_running(move || {
                // Handlers are installed in "during startup", before this runs.
                let status = std::process::Command::new("kill")
                    .args([flag, &std::process::id().to_string()])
                    .status()
                    .unwrap();
                assert!(status.success());
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(items(&seen), ["before shutdown", "after shutdown"]);
        assert_eq!(reactor.exit_signal(), Some(expected));
    }
}

// ---------------------------------------------------------------------------------------
// Running in the background of a Tokio application

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_reactor_serves_tokio_tasks() {
    let _limit = crate::common::time_limit();
    let mut background = Reactor::spawn_background().unwrap();
    let reactor = background.handle();
    assert!(!reactor.is_reactor_thread());

    // Deferreds fired by reactor timers, awaited from ordinary Tokio tasks.
    let mut tasks = Vec::new();
    let mut inputs = Vec::new();
    for i in 0..10u64 {
        let (d, r) = Deferred::<u64>::new();
        reactor.call_later(Duration::from_millis(i), move || {
            r.callback(i * 10).unwrap();
        });
        if i % 2 == 0 {
            tasks.push(tokio::spawn(d));
        } else {
            inputs.push(d);
        }
    }
    let list = DeferredList::new(inputs).gather();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().unwrap(), i as u64 * 20);
    }
    assert_eq!(tokio::spawn(list).await.unwrap().unwrap(), [10, 30, 50, 70, 90]);

    // Many threads scheduling at once: every call runs, on the reactor thread.
    let count = Arc::new(AtomicUsize::new(0));
    let (done, finished) = Deferred::<()>::new();
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let (reactor, count, finished) = (reactor.clone(), Arc::clone(&count), finished.clone());
        threads.push(std::thread::spawn(move || {
            for i in 0..250u64 {
                let (check, count, finished) = (reactor.clone(), Arc::clone(&count), finished.clone());
                let f = move || {
                    assert!(check.is_reactor_thread());
                    if count.fetch_add(1, Ordering::SeqCst) + 1 == 2_000 {
                        finished.callback(()).unwrap();
                    }
                };
                if i % 2 == 0 {
                    reactor.call_later(Duration::from_micros(t * 100 + i), f);
                } else {
                    reactor.call_from_thread(f).unwrap();
                }
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    for t in 0..4u64 {
        // 250 more per "thread", this time from Tokio tasks.
        let (reactor, count, finished) = (reactor.clone(), Arc::clone(&count), finished.clone());
        tokio::spawn(async move {
            for i in 0..250u64 {
                let (count, finished) = (Arc::clone(&count), finished.clone());
                reactor.call_later(Duration::from_micros(t + i), move || {
                    if count.fetch_add(1, Ordering::SeqCst) + 1 == 2_000 {
                        finished.callback(()).unwrap();
                    }
                });
            }
        })
        .await
        .unwrap();
    }
    done.await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2_000);

    background.stop().unwrap();
    background.join().await.unwrap();
    assert!(!reactor.running());
}

/// `join().await` is cancel safe: a join that times out loses nothing, and a later join
/// returns what `run()` returned, as often as it is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_join_is_cancel_safe_and_repeatable() {
    common::within("background_join_is_cancel_safe_and_repeatable", async {
        let mut background = Reactor::spawn_background().unwrap();
        let early = tokio::time::timeout(Duration::from_millis(20), background.join()).await;
        assert!(early.is_err(), "the reactor was never stopped");
        let handle = background.handle();
        // A task on the reactor, awaited from this runtime, stops it.
        let stopper = handle.clone();
        let task = handle
            .spawn(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                stopper.stop()
            })
            .unwrap();
        assert_eq!(task.await.unwrap(), Ok(()));
        background.join().await.unwrap();
        background.join().await.unwrap();
        assert!(!handle.running());
        assert_eq!(background.stop(), Err(ReactorNotRunning));
    })
    .await;
}

/// The blocking join waits for the reactor thread, and reports a second `run()`'s refusal.
#[test]
fn background_blocking_join_waits_for_the_thread() {
    bounded("background_blocking_join_waits_for_the_thread", || {
        let background = Reactor::builder().without_signal_handlers().spawn().unwrap();
        let handle = background.handle();
        let stopper = handle.clone();
        handle.call_when_running(move || stopper.stop()).unwrap();
        background.blocking_join().unwrap();
        assert!(!handle.running());
        assert_eq!(handle.call_from_thread(|| {}), Err(ReactorNotRunning));
    });
}

// ---------------------------------------------------------------------------------------
// task::react
//
// Each case runs twice: with a main that returns a Deferred (Twisted's `ReactTests`) and
// with one that is an async block awaiting it (`ReactCoroutineFunctionTests`).

#[derive(Debug, Clone, Copy)]
enum Form {
    Deferred,
    Coroutine,
}

const FORMS: [Form; 2] = [Form::Deferred, Form::Coroutine];

fn react_on(form: Form, main: impl FnOnce(&Reactor) -> Deferred<()>) -> (ExitCode, Reactor) {
    let reactor = paused_reactor();
    let code = match form {
        Form::Deferred => react_with(&reactor, main),
        Form::Coroutine => react_with(&reactor, |r| {
            let d = main(r);
            async move {
                d.await?;
                Ok::<_, Failure>(())
            }
        }),
    };
    (code, reactor)
}

/// twisted: ReactTests.test_runsUntilAsyncCallback
/// twisted: ReactCoroutineFunctionTests.test_runsUntilAsyncCallback
/// The reactor stops only once main's result arrives, and success exits with 0.
#[test]
fn react_runs_until_async_callback() {
    let _limit = crate::common::time_limit();
    for form in FORMS {
        let (code, reactor) = react_on(form, |reactor| {
            let (d, r) = Deferred::<()>::new();
            reactor.call_later(secs(1.0), move || r.callback(()).unwrap());
            d
        });
        assert_eq!(code, ExitCode::SUCCESS, "{form:?}");
        assert!((1.0..1.01).contains(&reactor.seconds()), "{form:?}");
    }
}

/// twisted: ReactTests.test_runsUntilSyncCallback
/// twisted: ReactCoroutineFunctionTests.test_runsUntilSyncCallback
/// A main that succeeds at once still runs (and stops) the reactor, at once (no time
/// passes), then exits with 0.
#[test]
fn react_runs_until_sync_callback() {
    let _limit = crate::common::time_limit();
    for form in FORMS {
        let (code, reactor) = react_on(form, |_| succeed(()));
        assert_eq!(code, ExitCode::SUCCESS, "{form:?}");
        assert!(reactor.seconds() == 0.0, "no time passed: {form:?}");
        assert!(
            matches!(reactor.run(), Err(RunError::NotRestartable(_))),
            "{form:?}"
        );
    }
}

/// twisted: ReactTests.test_runsUntilAsyncErrback
/// twisted: ReactCoroutineFunctionTests.test_runsUntilAsyncErrback
/// A later failure is logged ("main function encountered error") and exits with 1.
#[test]
fn react_runs_until_async_errback() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    for form in FORMS {
        let (code, reactor) = react_on(form, |reactor| {
            let (d, r) = Deferred::<()>::new();
            reactor.call_later(secs(1.0), move || r.errback(Failure::msg("main failed")).unwrap());
            d
        });
        assert_eq!(code, ExitCode::FAILURE, "{form:?}");
        assert!((1.0..1.01).contains(&reactor.seconds()), "{form:?}");
        assert_eq!(logged.flush::<MessageError>().len(), 1, "{form:?}");
    }
}

/// twisted: ReactTests.test_runsUntilSyncErrback
/// twisted: ReactCoroutineFunctionTests.test_runsUntilSyncErrback
/// An immediate failure is logged too and exits with 1, at once (no time passes).
#[test]
fn react_runs_until_sync_errback() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    for form in FORMS {
        let (code, reactor) = react_on(form, |_| fail(Failure::msg("main failed")));
        assert_eq!(code, ExitCode::FAILURE, "{form:?}");
        assert!(reactor.seconds() == 0.0, "no time passed: {form:?}");
        assert_eq!(logged.flush::<MessageError>().len(), 1, "{form:?}");
    }
}

/// twisted: ReactTests.test_singleStopCallback
/// twisted: ReactCoroutineFunctionTests.test_singleStopCallback
/// If main stops the reactor itself before succeeding, react does not stop it again.
#[test]
fn react_single_stop_callback() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    for form in FORMS {
        let (code, _) = react_on(form, |reactor| {
            let (d, r) = Deferred::<()>::new();
            let h = reactor.handle();
            reactor
                .call_when_running(move || {
                    h.stop().unwrap();
                    r.callback(()).unwrap();
                })
                .unwrap();
            d
        });
        assert_eq!(code, ExitCode::SUCCESS, "{form:?}");
        assert!(
            logged.is_empty(),
            "{form:?}: no second stop, so no ReactorNotRunning"
        );
    }
}

/// twisted: ReactTests.test_singleStopErrback
/// twisted: ReactCoroutineFunctionTests.test_singleStopErrback
/// The same when main fails after stopping the reactor: the failure still sets the code.
#[test]
fn react_single_stop_errback() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    for form in FORMS {
        let (code, _) = react_on(form, |reactor| {
            let (d, r) = Deferred::<()>::new();
            let h = reactor.handle();
            reactor
                .call_when_running(move || {
                    h.stop().unwrap();
                    r.errback(Failure::msg("after stop")).unwrap();
                })
                .unwrap();
            d
        });
        assert_eq!(code, ExitCode::FAILURE, "{form:?}");
        assert_eq!(logged.flush::<MessageError>().len(), 1, "{form:?}");
    }
}

/// twisted: ReactTests.test_defaultReactor
/// twisted: ReactCoroutineFunctionTests.test_defaultReactor
/// `react` builds its own reactor (there is no global one), not yet running when main is
/// called, and runs it.
#[test]
fn react_default_reactor() {
    let _limit = crate::common::time_limit();
    let code = react(|reactor| {
        assert!(!reactor.running());
        let (d, r) = Deferred::<()>::new();
        let h = reactor.handle();
        reactor
            .call_when_running(move || {
                assert!(h.running());
                r.callback(())
            })
            .unwrap();
        d
    });
    assert_eq!(code, ExitCode::SUCCESS);
    let code = react(|reactor| {
        let h = reactor.handle();
        async move {
            assert!(!h.running());
            Ok::<_, Failure>(())
        }
    });
    assert_eq!(code, ExitCode::SUCCESS);
}

/// twisted: ReactTests.test_exitWithDefinedCode
/// twisted: ReactCoroutineFunctionTests.test_exitWithDefinedCode
/// A failure holding `Exit(23)` exits with 23 and is not logged.
#[test]
fn react_exit_with_defined_code() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    for form in FORMS {
        let (code, _) = react_on(form, |_| fail(Exit(23)));
        assert_eq!(code, ExitCode::from(23), "{form:?}");
        assert!(logged.is_empty(), "{form:?}");
    }
}

/// twisted: ReactTests.test_synchronousStop
/// twisted: ReactCoroutineFunctionTests.test_synchronousStop
/// main stopping the reactor in a *before startup* trigger, then succeeding, is fine.
#[test]
fn react_synchronous_stop() {
    let _limit = crate::common::time_limit();
    for form in FORMS {
        let (code, _) = react_on(form, |reactor| {
            let (d, r) = Deferred::<()>::new();
            let h = reactor.handle();
            reactor
                .add_system_event_trigger(Phase::Before, Event::Startup, move || {
                    h.stop().unwrap();
                    r.callback(()).unwrap();
                })
                .unwrap();
            d
        });
        assert_eq!(code, ExitCode::SUCCESS, "{form:?}");
    }
}

/// twisted: ReactTests.test_asynchronousStop
/// twisted: ReactCoroutineFunctionTests.test_asynchronousStop
/// A reactor stopped by someone else before main's result arrives ends react with 0.
#[test]
fn react_asynchronous_stop() {
    let _limit = crate::common::time_limit();
    for form in FORMS {
        let (code, reactor) = react_on(form, |reactor| {
            reactor.call_later(secs(1.0), stop_call(&reactor.handle()));
            Deferred::<()>::new().0
        });
        assert_eq!(code, ExitCode::SUCCESS, "{form:?}");
        assert!((1.0..1.01).contains(&reactor.seconds()), "{form:?}");
    }
}

/// An async main awaits Deferreds and Tokio timers alike (it runs inside the reactor's
/// runtime), and `Exit(n)` from it sets the code.
#[test]
fn react_async_main_with_tokio_timers() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let code = react_with(&reactor, |reactor| {
        let h = reactor.handle();
        async move {
            let (d, r) = Deferred::<u8>::new();
            h.call_later(secs(2.0), move || r.callback(7).unwrap());
            let n = d.await?;
            tokio::time::sleep(secs(1.0)).await;
            Err::<(), _>(Failure::new(Exit(n)))
        }
    });
    assert_eq!(code, ExitCode::from(7));
    assert!((3.0..3.02).contains(&reactor.seconds()), "{}", reactor.seconds());
}

// ---------------------------------------------------------------------------------------
// The reactor's seat for tasks: spawn, spawn_local, TaskHandle, shutdown.

/// A task spawned from another thread before `run()` starts when the reactor runs, on the
/// reactor thread, and its handle yields its output.
#[test]
fn spawn_from_another_thread_before_run_starts_with_the_reactor() {
    bounded(
        "spawn_from_another_thread_before_run_starts_with_the_reactor",
        || {
            let reactor = paused_reactor();
            let handle = reactor.handle();
            let reactor_thread = std::thread::current().id();
            let task = std::thread::spawn(move || {
                handle
                    .spawn(async move {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        std::thread::current().id()
                    })
                    .unwrap()
            })
            .join()
            .unwrap();
            assert!(!task.is_finished());
            let seen = log();
            let record = Arc::clone(&seen);
            let stopper = reactor.handle();
            reactor
                .spawn(async move {
                    let ran_on = task.await.unwrap();
                    record.lock().unwrap().push(ran_on);
                    stopper.stop()
                })
                .unwrap();
            reactor.run().unwrap();
            assert_eq!(items(&seen), [reactor_thread]);
            assert!(reactor.seconds() >= 3.0);
        },
    );
}

/// `spawn_local` on a handle works on the reactor thread (before `run()` too) and is refused
/// elsewhere with a typed error.
#[test]
fn spawn_local_runs_on_the_reactor_thread_only() {
    bounded("spawn_local_runs_on_the_reactor_thread_only", || {
        let reactor = reactor();
        let handle = reactor.handle();
        let not_send = std::rc::Rc::new(7);
        let stopper = handle.clone();
        let task = handle
            .spawn_local(async move {
                let _ = stopper.stop();
                *not_send
            })
            .unwrap();
        let elsewhere = handle.clone();
        let refused = std::thread::spawn(move || elsewhere.spawn_local(async {}).err())
            .join()
            .unwrap();
        assert_eq!(
            refused,
            Some(tokio_twisted::reactor::SpawnLocalError::NotReactorThread)
        );
        let d = task.into_deferred();
        reactor.run().unwrap();
        assert_eq!(d.result().unwrap().unwrap(), 7);
    });
}

/// A panic in a task becomes the handle's Failure, holding the panic; the reactor carries
/// on.
#[test]
fn a_panicking_task_gives_a_failure() {
    bounded("a_panicking_task_gives_a_failure", || {
        let reactor = reactor();
        let task = reactor
            .spawn(async {
                panic!("task blew up");
            })
            .unwrap();
        let d = task.into_deferred();
        let stopper = reactor.handle();
        let d = d.add_both(move |r: Result<(), Failure>| {
            stopper.stop()?;
            Ok::<_, Failure>(r)
        });
        reactor.run().unwrap();
        let failure = d.result().unwrap().unwrap().unwrap_err();
        assert!(failure.check::<PanicError>());
        assert_eq!(failure.error_message(), "panicked: task blew up");
    });
}

/// Cancelling a task drops the future at its await (its locals' Drop runs) and its output
/// is CancelledError; cancelling the Deferred from `into_deferred` cancels the task too.
#[test]
fn cancelling_a_task_drops_it_at_its_await() {
    bounded("cancelling_a_task_drops_it_at_its_await", || {
        let reactor = paused_reactor();
        let dropped = log();
        let guard = DropLog(Arc::clone(&dropped), "handle-cancelled");
        let t1 = reactor
            .spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
            .unwrap();
        let guard = DropLog(Arc::clone(&dropped), "deferred-cancelled");
        let d2 = reactor
            .spawn(async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            })
            .unwrap()
            .into_deferred();
        let handle = reactor.handle();
        let seen = log();
        let record = Arc::clone(&seen);
        reactor
            .spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                t1.cancel();
                d2.cancel();
                let out = t1.await;
                record
                    .lock()
                    .unwrap()
                    .push(out.unwrap_err().check::<tokio_twisted::defer::CancelledError>());
                let failure = d2.await.unwrap_err();
                record
                    .lock()
                    .unwrap()
                    .push(failure.check::<tokio_twisted::defer::CancelledError>());
                // Let the cancelled task be dropped before stopping.
                tokio::task::yield_now().await;
                handle.stop()
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(items(&seen), [true, true]);
        let mut dropped = items(&dropped);
        dropped.sort_unstable();
        assert_eq!(dropped, ["deferred-cancelled", "handle-cancelled"]);
        // Nothing was left to cancel at shutdown, and the reactor did not wait an hour.
        assert!(reactor.seconds() < 3600.0);
    });
}

/// Appends its name to a log when dropped: a task's cleanup.
struct DropLog(common::Log<&'static str>, &'static str);

impl Drop for DropLog {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(self.1);
    }
}

/// Shutdown cancels every tracked task in its *during* phase, after the *before* triggers
/// and before the *after* triggers, so each task's cleanup has run when `run()` returns.
#[test]
fn shutdown_cancels_tracked_tasks_during_shutdown() {
    bounded("shutdown_cancels_tracked_tasks_during_shutdown", || {
        let reactor = paused_reactor();
        let events = log();
        for (phase, name) in [
            (Phase::Before, "before"),
            (Phase::During, "during"),
            (Phase::After, "after"),
        ] {
            reactor
                .add_system_event_trigger(phase, Event::Shutdown, push(&events, name))
                .unwrap();
        }
        let mut tasks = Vec::new();
        for name in ["send task", "local task"] {
            let guard = DropLog(Arc::clone(&events), name);
            let fut = async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            };
            if name == "send task" {
                tasks.push(reactor.spawn(fut).unwrap());
            } else {
                tasks.push(reactor.spawn_local(fut).unwrap());
            }
        }
        let stopper = reactor.handle();
        reactor.call_later(Duration::from_secs(1), move || {
            stopper.stop().unwrap();
        });
        reactor.run().unwrap();
        let order = items(&events);
        assert_eq!(order.first(), Some(&"before"));
        assert_eq!(order.last(), Some(&"after"));
        assert!(
            order.contains(&"send task") && order.contains(&"local task"),
            "{order:?}"
        );
        assert!(reactor.seconds() < 3600.0);
        for task in tasks {
            assert!(task.is_finished());
        }
        // Afterwards the seat is closed.
        assert_eq!(reactor.handle().spawn(async {}).err(), Some(ReactorNotRunning));
        assert!(reactor.spawn_local(async {}).is_err());
    });
}

/// A `Deferred::from_future` created on the reactor thread before `run()` runs inside the
/// reactor's runtime: its Tokio timer works, and fires once the reactor runs.
#[test]
fn from_future_before_run_uses_the_reactor_runtime() {
    bounded("from_future_before_run_uses_the_reactor_runtime", || {
        let reactor = paused_reactor();
        let handle = reactor.handle();
        let d = Deferred::from_future(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            handle.stop()?;
            Ok::<_, Failure>("slept")
        });
        assert!(!d.called());
        reactor.run().unwrap();
        assert_eq!(d.result().unwrap().unwrap(), "slept");
        assert!(reactor.seconds() >= 2.0);
    });
}

/// `ReactorHandle::current()` finds the reactor from code running on its thread, and
/// nothing on another thread.
#[test]
fn current_handle_on_the_reactor_thread() {
    bounded("current_handle_on_the_reactor_thread", || {
        let reactor = reactor();
        let id_seen = log();
        let record = Arc::clone(&id_seen);
        reactor
            .spawn(async move {
                let me = ReactorHandle::current().expect("on the reactor thread");
                record.lock().unwrap().push(me.is_reactor_thread());
                let elsewhere = std::thread::spawn(|| ReactorHandle::current().is_none())
                    .join()
                    .unwrap();
                record.lock().unwrap().push(elsewhere);
                me.stop()
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(items(&id_seen), [true, true]);
    });
}

// ---------------------------------------------------------------------------------------
// After shutdown: scheduling is refused instead of silently accepting work that never runs.

/// `call_later` after shutdown returns a call that is not active (and drops the function);
/// `try_call_later` says `ReactorNotRunning`; the clock reports it has stopped.
#[test]
fn call_later_after_shutdown_is_refused() {
    bounded("call_later_after_shutdown_is_refused", || {
        let reactor = reactor();
        reactor.call_when_running(stopper(&reactor.handle())).unwrap();
        assert!(!tokio_twisted::time::ReactorTime::stopped(&reactor.handle()));
        reactor.run().unwrap();
        let handle = reactor.handle();
        assert!(tokio_twisted::time::ReactorTime::stopped(&handle));
        let dropped = log();
        let guard = DropLog(Arc::clone(&dropped), "function dropped");
        let call = handle.call_later(Duration::ZERO, move || drop(guard));
        assert!(!call.active());
        assert_eq!(items(&dropped), ["function dropped"]);
        assert!(reactor.pending_calls().is_empty());
        assert_eq!(
            handle.try_call_later(Duration::ZERO, || {}).err(),
            Some(ReactorNotRunning)
        );
        // The trait's boxed form, as generic code calls it, refuses too.
        assert!(
            !tokio_twisted::time::ReactorTime::call_later_boxed(&handle, Duration::ZERO, Box::new(|| {}))
                .active()
        );
    });
}

/// `call_when_running` once the reactor was stopped, and triggers for startup or shutdown
/// once they can no longer fire, fail with `ReactorNotRunning`; custom events still work.
#[test]
fn triggers_after_shutdown_are_refused() {
    bounded("triggers_after_shutdown_are_refused", || {
        let reactor = reactor();
        reactor.call_when_running(stopper(&reactor.handle())).unwrap();
        reactor.run().unwrap();
        assert_eq!(reactor.call_when_running(|| {}), Err(ReactorNotRunning));
        for event in [Event::Startup, Event::Shutdown] {
            for phase in [Phase::Before, Phase::During, Phase::After] {
                let refused = reactor.add_system_event_trigger(phase, event, || {});
                assert_eq!(refused, Err(ReactorNotRunning), "{phase:?} {event:?}");
            }
        }
        let custom = log();
        reactor
            .add_system_event_trigger(Phase::During, Event::Custom("reload"), push(&custom, "reloaded"))
            .unwrap();
        reactor.fire_system_event("reload");
        assert_eq!(items(&custom), ["reloaded"]);
    });
}

/// A reactor whose owner was dropped refuses in the same way.
#[test]
fn a_dropped_reactor_refuses_work() {
    bounded("a_dropped_reactor_refuses_work", || {
        let reactor = reactor();
        let handle = reactor.handle();
        drop(reactor);
        assert!(!handle.call_later(Duration::ZERO, || {}).active());
        assert_eq!(handle.call_when_running(|| {}), Err(ReactorNotRunning));
        assert_eq!(handle.spawn(async {}).err(), Some(ReactorNotRunning));
    });
}

/// `defer_later` on a reactor that has shut down fails at once with `ReactorNotRunning`
/// instead of never firing, so awaiting it does not hang.
#[test]
fn defer_later_after_shutdown_fails() {
    bounded("defer_later_after_shutdown_fails", || {
        let reactor = reactor();
        reactor.call_when_running(stopper(&reactor.handle())).unwrap();
        reactor.run().unwrap();
        let d = tokio_twisted::task::defer_later(&reactor.handle(), Duration::from_secs(1), || {
            Ok::<_, Failure>(1)
        });
        let failure = tokio_twisted::testing::failure_result_of(d);
        assert!(failure.check::<ReactorNotRunning>());
        // Awaited from async code, it completes too.
        let d = tokio_twisted::task::defer_later(&reactor.handle(), Duration::ZERO, || ());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert!(rt.block_on(d).unwrap_err().check::<ReactorNotRunning>());
    });
}

/// `LoopingCall::start` on a reactor that has shut down is refused, and calls nothing.
#[test]
fn looping_call_start_after_shutdown_is_refused() {
    bounded("looping_call_start_after_shutdown_is_refused", || {
        let reactor = reactor();
        reactor.call_when_running(stopper(&reactor.handle())).unwrap();
        reactor.run().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let lc = tokio_twisted::task::LoopingCall::new(reactor.handle(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        let refused = lc.start(Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            refused,
            tokio_twisted::task::LoopingCallError::ReactorNotRunning(ReactorNotRunning)
        );
        assert!(lc.start_later(Duration::from_secs(1)).is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(!lc.running());
    });
}
