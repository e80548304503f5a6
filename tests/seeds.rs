//! The seed programs (`shared/seeds`, reproduced in `examples/`) as deterministic tests:
//! their printed lines, in order, and when they happen, on a paused-time reactor (an idle
//! runtime jumps to the next timer, so virtual seconds are exact) or a `task::Clock`.
//!
//! Covered elsewhere: seed 000's experiments (`tests/defer.rs`, `tests/defer_list.rs`),
//! seed 001 modes 3 to 5 on a `Clock` (`tests/task.rs`, `tests/defer_future.rs`), seed
//! 002's `HeadlineRetriever` on a `Clock` (`tests/task.rs`), seed 003 code-1 and a plain
//! code-2 (`tests/reactor.rs`). Not tested: seed 001 modes 1 and 2, which are blocking sleeps and
//! threads by design (their point is that they take 12 s and 9 s of real time).
//!
//! Tests that use threads run on a real-time reactor with no timers: the reactor waits for
//! the threads' hand-over, so nothing depends on how long the threads take.

mod common;

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, DeferredList, Resolver};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{ReactorHandle, ReactorNotRunning, RunError};
use tokio_twisted::task::{Clock, Cooperator, LoopingCall, SharedIter, defer_later};
use tokio_twisted::testing::{assert_no_result, success_result_of};
use tokio_twisted::threads::defer_to_thread;

use common::{paused_reactor, reactor, secs};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn say(log: &Log, line: impl Into<String>) {
    log.lock().unwrap().push(line.into());
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// The reactor's time is `expected` seconds (plus at most the 10 ns cooperator ticks and
/// the millisecond of Tokio's timer granularity).
#[track_caller]
fn assert_time(reactor: &ReactorHandle, expected: f64) {
    let now = reactor.seconds();
    assert!(
        (expected..expected + 0.01).contains(&now),
        "at {now} s, expected {expected} s"
    );
}

/// The reactor's time to the millisecond (Tokio's timer granularity), for log lines.
fn at(reactor: &ReactorHandle) -> String {
    format!("{:.3}", reactor.seconds())
}

fn stop_in_callback<T>(reactor: &ReactorHandle) -> impl FnOnce(T) -> Result<(), Failure> + Send + 'static {
    let reactor = reactor.clone();
    move |_| {
        reactor.stop()?;
        Ok(())
    }
}

// ------------------------------------------------------------------ seed 001, on the reactor

fn customers() -> impl Iterator<Item = String> {
    (0..15).map(|i| format!("Customer {i}"))
}

/// Mode 3's `schedule_install`.
fn schedule_install(reactor: &ReactorHandle, out: &Log, customer: String) -> Deferred<()> {
    say(out, format!("Scheduling: Installation for {customer}"));
    let (o1, o2, c2) = (out.clone(), out.clone(), customer.clone());
    defer_later(reactor, secs(3.0), move || {
        say(&o1, format!("Callback: Finished installation for {customer}"));
    })
    .add_callback(move |()| {
        say(&o2, format!("All done for {c2}"));
        Ok(())
    })
}

/// Modes 4 and 5's `inline_install`.
fn inline_install(reactor: &ReactorHandle, out: &Log, customer: String) -> Deferred<()> {
    let (reactor, out) = (reactor.clone(), out.clone());
    Deferred::from_future(async move {
        say(&out, format!("Scheduling: Installation for {customer}"));
        defer_later(&reactor, secs(3.0), || ()).await?;
        say(&out, format!("Callback: Finished installation for {customer}"));
        say(&out, format!("All done for {customer}"));
        Ok::<_, Failure>(())
    })
}

/// Runs mode 3, 4 or 5 as `examples/wordpress_tale.rs` does, on a paused reactor; returns
/// the printed lines, those printed before `run()`, and the reactor's time at the end.
fn tale(mode: u8) -> (Vec<String>, usize, f64) {
    let reactor = paused_reactor();
    let handle = reactor.handle();
    let out = log();
    say(&out, "Goodmorning from Twisted developer");
    let join = match mode {
        3 | 4 => {
            let work: Vec<_> = customers()
                .map(|c| {
                    if mode == 3 {
                        schedule_install(&handle, &out, c)
                    } else {
                        inline_install(&handle, &out, c)
                    }
                })
                .collect();
            DeferredList::new(work).build()
        }
        5 => {
            let (h, o) = (handle.clone(), out.clone());
            let work = SharedIter::new(customers().map(move |c| inline_install(&h, &o, c)));
            let coop = Cooperator::new(handle.clone());
            DeferredList::new((0..5).map(|_| coop.coiterate(work.clone()))).build()
        }
        _ => unreachable!(),
    }
    .add_callback(stop_in_callback(&handle));
    say(&out, "Bye from Twisted developer!");
    let before_run = lines(&out).len();
    reactor.run().unwrap();
    assert!(join.called());
    (lines(&out), before_run, reactor.seconds())
}

fn finished(i: usize) -> [String; 2] {
    [
        format!("Callback: Finished installation for Customer {i}"),
        format!("All done for Customer {i}"),
    ]
}

/// Seed 001, modes 3 and 4 on the reactor: every "Scheduling" line and "Bye" print before
/// the reactor runs; the fifteen 3-second installations finish together, in order, and
/// the `DeferredList`'s callback stops the reactor at 3 s.
#[test]
fn seed_001_modes_3_and_4_take_3_seconds_on_the_reactor() {
    let _limit = crate::common::time_limit();
    let mut expected = vec!["Goodmorning from Twisted developer".to_owned()];
    expected.extend(customers().map(|c| format!("Scheduling: Installation for {c}")));
    expected.push("Bye from Twisted developer!".to_owned());
    let scheduled = expected.len();
    expected.extend((0..15).flat_map(finished));
    for mode in [3, 4] {
        let (out, before_run, elapsed) = tale(mode);
        assert_eq!(out, expected, "mode {mode}");
        assert_eq!(before_run, scheduled, "mode {mode}");
        assert!((3.0..3.01).contains(&elapsed), "mode {mode}: {elapsed} s");
    }
}

/// Seed 001, mode 5 on the reactor: "Goodmorning" and "Bye" print before anything is
/// scheduled; five cooperative workers then serve the customers in batches of five, 9 s in
/// all.
#[test]
fn seed_001_mode_5_serves_batches_of_five_in_9_seconds_on_the_reactor() {
    let _limit = crate::common::time_limit();
    let mut expected = vec![
        "Goodmorning from Twisted developer".to_owned(),
        "Bye from Twisted developer!".to_owned(),
    ];
    for batch in 0..3 {
        let batch = batch * 5..batch * 5 + 5;
        expected.extend(
            batch
                .clone()
                .map(|i| format!("Scheduling: Installation for Customer {i}")),
        );
        expected.extend(batch.flat_map(finished));
    }
    let (out, before_run, elapsed) = tale(5);
    assert_eq!(out, expected);
    assert_eq!(before_run, 2);
    assert!((9.0..9.01).contains(&elapsed), "{elapsed} s");
}

// ------------------------------------------------------------------ seed 002

/// Seed 002, the reactor's methods: `stop` before `run` fails, `callWhenRunning` runs once
/// the reactor runs, a `callLater` stops it after a second, and it cannot run again.
#[test]
fn seed_002_reactor_run_stop_call_when_running_not_restartable() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let out = log();
    assert_eq!(reactor.stop(), Err(ReactorNotRunning));
    let (h, o) = (reactor.handle(), out.clone());
    let trigger = reactor
        .call_when_running(move || say(&o, format!("hello: running = {}", h.running())))
        .unwrap();
    assert!(trigger.is_some(), "deferred until run()");
    let (h, o) = (reactor.handle(), out.clone());
    reactor.call_later(secs(1.0), move || {
        say(&o, format!("func at {} s", at(&h)));
        h.stop().unwrap();
    });
    say(&out, format!("before run: running = {}", reactor.running()));
    reactor.run().unwrap();
    say(&out, format!("after run: running = {}", reactor.running()));
    assert_eq!(
        lines(&out),
        [
            "before run: running = false",
            "hello: running = true",
            "func at 1.000 s",
            "after run: running = false"
        ]
    );
    assert!(matches!(reactor.run(), Err(RunError::NotRestartable(_))));
}

/// Seed 002, scheduling: `callLater(3.5, f, "hello, world")` runs `f` after 3.5 s, and
/// `deferLater(reactor, 3.5, f, "hello, world")` fires its Deferred with `f`'s result
/// then.
#[test]
fn seed_002_call_later_and_defer_later_run_after_3_5_seconds() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let out = log();
    let (h, o) = (reactor.handle(), out.clone());
    reactor.call_later(secs(3.5), move || {
        say(&o, format!("callLater at {} s: hello, world", at(&h)));
    });
    let h = reactor.handle();
    let d = defer_later(&reactor.handle(), secs(3.5), move || {
        Ok(format!("deferLater at {} s: hello, world", at(&h)))
    });
    let (o, h) = (out.clone(), reactor.handle());
    let d = d.add_callback(move |result| {
        say(&o, result);
        h.stop()?;
        Ok::<_, Failure>(())
    });
    reactor.run().unwrap();
    assert!(d.called());
    assert_eq!(
        lines(&out),
        [
            "callLater at 3.500 s: hello, world",
            "deferLater at 3.500 s: hello, world"
        ]
    );
    assert_time(&reactor.handle(), 3.5);
}

/// The `LoopingCall` program of Twisted's scheduling howto (which seed 002 links to): the
/// first call runs at `start`, before the reactor runs; after three calls the fourth
/// either stops the loop (its Deferred fires, "Loop done.") or fails (the failure reaches
/// the errback), at 3 s.
#[test]
fn seed_002_looping_call_every_second_stops_or_fails_after_three_calls() {
    let _limit = crate::common::time_limit();
    for fail_in_the_end in [false, true] {
        let reactor = paused_reactor();
        let out = log();
        let (o, h) = (out.clone(), reactor.handle());
        let mut loop_counter = 0;
        let lc = LoopingCall::with_handle(reactor.handle(), move |lc: &LoopingCall| {
            if loop_counter < 3 {
                loop_counter += 1;
                say(&o, format!("A new second has passed ({} s).", at(&h)));
                return Ok(());
            }
            if fail_in_the_end {
                return Err(Failure::msg("Failure during loop execution."));
            }
            lc.stop()?;
            Ok(())
        });
        let loop_deferred = lc.start(secs(1.0)).unwrap();
        assert_eq!(lines(&out), ["A new second has passed (0.000 s)."]);
        let (o1, o2) = (out.clone(), out.clone());
        let (h1, h2) = (reactor.handle(), reactor.handle());
        let d = loop_deferred
            .add_callback(move |_lc| {
                say(&o1, format!("Loop done at {} s.", at(&h1)));
                h1.stop()?;
                Ok(())
            })
            .add_errback(move |f| {
                say(&o2, format!("{} at {} s", f.error_message(), at(&h2)));
                h2.stop()?;
                Ok(())
            });
        reactor.run().unwrap();
        assert!(d.called());
        assert!(!lc.running());
        let last = if fail_in_the_end {
            "Failure during loop execution. at 3.000 s"
        } else {
            "Loop done at 3.000 s."
        };
        assert_eq!(
            lines(&out),
            [
                "A new second has passed (0.000 s).",
                "A new second has passed (1.000 s).",
                "A new second has passed (2.000 s).",
                last
            ]
        );
    }
}

/// Seed 002, `HeadlineRetriever` on the reactor: the failure raised in the `deferLater`
/// function skips `_toHTML` and reaches `printError`; `printError` returns normally, so
/// the last callback, `reactor.stop()`, runs, in the reactor's first iteration.
#[test]
fn seed_002_headline_retriever_errback_then_stop_on_the_reactor() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let out = log();
    let (o1, o2, o3, o4) = (out.clone(), out.clone(), out.clone(), out.clone());
    let headline = "1234567890".repeat(6);
    let d = defer_later(&reactor.handle(), Duration::ZERO, move || {
        say(&o1, "call processHeadline");
        if headline.len() > 50 {
            Err(Failure::msg(format!("The headline ``{headline}'' is too long!")))
        } else {
            Ok(headline)
        }
    })
    .add_callback(move |headline| {
        say(&o2, "call _toHTML");
        Ok(format!("<h1>{headline}</h1>"))
    })
    .add_callbacks(
        move |html| {
            say(&o3, html);
            Ok(())
        },
        move |f| {
            say(&o4, format!("printError: {}", f.error_message()));
            Ok(())
        },
    )
    .add_callback(stop_in_callback(&reactor.handle()));
    assert_no_result(&d);
    reactor.run().unwrap();
    assert!(d.called());
    assert_eq!(
        lines(&out),
        [
            "call processHeadline".to_owned(),
            format!(
                "printError: The headline ``{}'' is too long!",
                "1234567890".repeat(6)
            ),
        ]
    );
    assert_time(&reactor.handle(), 0.0);
}

// ------------------------------------------------------------------ seed 003

/// Python's `ValueError`, as `examples/deferred_reactor_basics.rs` names it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ValueError(&'static str);

/// Seed 003's `Getter`, holding the resolver of the Deferred it handed out.
struct Getter {
    d: Mutex<Option<Resolver<i32>>>,
    out: Log,
}

impl Getter {
    fn got_results(&self, x: i32) {
        let Some(d) = self.d.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            say(&self.out, "Nowhere to put results");
            return;
        };
        if x % 2 == 0 {
            d.callback(x * 3).unwrap();
        } else {
            d.errback(ValueError("You used an odd number!")).unwrap();
        }
    }

    fn get_dummy_data(self: &Arc<Self>, clock: &Clock, x: i32) -> Deferred<String> {
        let (d, resolver) = Deferred::new();
        *self.d.lock().unwrap() = Some(resolver);
        let me = Arc::clone(self);
        clock.call_later(secs(2.0), move || me.got_results(x));
        d.add_callback(|r| Ok(format!("Result: {r}")))
    }
}

/// Seed 003, code-2: for an odd number the Getter errbacks with a `ValueError` that skips
/// `_toHTML` and `cbPrintData` and reaches `ebPrintError`; for an even one, "Result: 12".
/// Both fire at 2 s, and a Getter whose Deferred has fired has nowhere to put results.
#[test]
fn seed_003_code_2_odd_errbacks_with_value_error_even_prints_result_12() {
    let _limit = crate::common::time_limit();
    let clock = Clock::new();
    let out = log();
    let chain = |getter: &Arc<Getter>, x| {
        let (o1, o2) = (out.clone(), out.clone());
        getter
            .get_dummy_data(&clock, x)
            .add_callback(move |result| {
                say(&o1, result);
                Ok(())
            })
            .add_errback(move |f| {
                let e = f.trap::<ValueError>()?;
                say(&o2, format!("ValueError: {e}"));
                Ok(())
            })
    };
    let getter = |out: &Log| {
        Arc::new(Getter {
            d: Mutex::new(None),
            out: out.clone(),
        })
    };
    let (odd_getter, even_getter) = (getter(&out), getter(&out));
    let odd = chain(&odd_getter, 3);
    let even = chain(&even_getter, 4);
    clock.advance(Duration::from_millis(1999));
    assert_no_result(&odd);
    assert_no_result(&even);
    clock.advance(Duration::from_millis(1));
    success_result_of(odd);
    success_result_of(even);
    assert_eq!(lines(&out), ["ValueError: You used an odd number!", "Result: 12"]);
    even_getter.got_results(4);
    assert_eq!(lines(&out).last().unwrap(), "Nowhere to put results");
}

/// Seed 003, code-3, the safe way: the pool thread hands its result to the reactor thread
/// with `call_from_thread`, so the Deferred's callbacks run on the reactor thread (in the
/// seed they run on the pool thread).
#[test]
fn seed_003_code_3_thread_result_reaches_callbacks_on_the_reactor_thread() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let reactor_thread = thread::current().id();
    let seen: Arc<Mutex<Vec<(String, ThreadId)>>> = Arc::default();
    let (d, resolver) = Deferred::<String>::new();
    let (s, stopper) = (Arc::clone(&seen), reactor.handle());
    let d = d.add_callback(move |v| {
        s.lock()
            .unwrap()
            .push((format!("result = {v}"), thread::current().id()));
        stopper.stop()?;
        Ok::<_, Failure>(())
    });
    let (s, handle) = (Arc::clone(&seen), reactor.handle());
    reactor
        .call_in_thread(move || {
            s.lock().unwrap().push(("url".to_owned(), thread::current().id()));
            handle
                .call_from_thread(move || resolver.callback("callback data".to_owned()))
                .unwrap();
        })
        .unwrap();
    reactor.run().unwrap();
    assert!(d.called());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "url");
    assert_ne!(seen[0].1, reactor_thread, "the load runs on a pool thread");
    assert_eq!(seen[1], ("result = callback data".to_owned(), reactor_thread));
}

// ------------------------------------------------------------------ seed 004

/// Seed 004, the ten jobs: all ten start before the reactor runs; at 3 s each job's
/// `on_done` is followed by its "plus 1" callback, then the `DeferredList` fires with
/// 1..=10; the reactor still runs right after `stop()` inside that callback, and no longer
/// once `run()` returns.
#[test]
fn seed_004_ten_jobs_finish_together_after_3_seconds() {
    let _limit = crate::common::time_limit();
    let reactor = paused_reactor();
    let out = log();
    let jobs: Vec<Deferred<i32>> = (0..10)
        .map(|job_id| {
            let (o1, o2) = (out.clone(), out.clone());
            say(&out, format!("begin time-wasted jon{job_id}"));
            defer_later(&reactor.handle(), secs(3.0), move || {
                say(&o1, format!("time-wasted job{job_id}done!"));
                Ok(job_id)
            })
            .add_callback(move |result| {
                say(&o2, "result plus 1!");
                Ok(result + 1)
            })
        })
        .collect();
    let (o, h) = (out.clone(), reactor.handle());
    let all = DeferredList::new(jobs).build().add_callback(move |results| {
        let values: Vec<i32> = results.into_iter().collect::<Result<_, _>>()?;
        say(&o, format!("{values:?} at {} s", at(&h)));
        say(&o, "all jobs are done!");
        h.stop()?;
        say(&o, format!("running after stop: {}", h.running()));
        Ok::<_, Failure>(())
    });
    say(&out, "all jobs have started!");
    assert_eq!(lines(&out).len(), 11, "nothing runs before run()");
    reactor.run().unwrap();
    say(&out, format!("www: running = {}", reactor.running()));
    assert!(all.called());

    let mut expected: Vec<String> = (0..10).map(|i| format!("begin time-wasted jon{i}")).collect();
    expected.push("all jobs have started!".to_owned());
    for i in 0..10 {
        expected.push(format!("time-wasted job{i}done!"));
        expected.push("result plus 1!".to_owned());
    }
    expected.push("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10] at 3.000 s".to_owned());
    expected.push("all jobs are done!".to_owned());
    expected.push("running after stop: true".to_owned());
    expected.push("www: running = false".to_owned());
    assert_eq!(lines(&out), expected);
}

/// Seed 004, `inlineCallbacks` with `callInThread` and `returnValue`: the coroutine prints
/// "start execute r1!" before the reactor runs, resumes on the reactor thread with each
/// thread's result (one handed back with `call_from_thread`, one with `defer_to_thread`),
/// and its return value reaches the callback: "result= 3".
#[test]
fn seed_004_inline_callbacks_wait_for_threads_and_return_the_sum() {
    let _limit = crate::common::time_limit();
    let reactor = reactor();
    let reactor_thread = thread::current().id();
    let out = log();
    let (h, o) = (reactor.handle(), out.clone());
    let d = Deferred::from_future(async move {
        let (d1, resolver) = Deferred::new();
        say(&o, "start execute r1!");
        let on_reactor = h.clone();
        h.call_in_thread(move || {
            let _ = on_reactor.call_from_thread(move || resolver.callback(1));
        })?;
        let r1: i32 = d1.await?;
        assert_eq!(thread::current().id(), reactor_thread);
        say(&o, format!("r1 = {r1}"));
        say(&o, "start execute r2!");
        let r2 = defer_to_thread(&h, || Ok(2)).await?;
        assert_eq!(thread::current().id(), reactor_thread);
        say(&o, format!("r2 = {r2}"));
        Ok::<_, Failure>(r1 + r2)
    });
    let (o, h) = (out.clone(), reactor.handle());
    let d = d.add_callback(move |v| {
        say(&o, format!("result= {v}"));
        h.stop()?;
        Ok::<_, Failure>(())
    });
    assert_eq!(lines(&out), ["start execute r1!"]);
    reactor.run().unwrap();
    assert!(d.called());
    assert_eq!(
        lines(&out),
        [
            "start execute r1!",
            "r1 = 1",
            "start execute r2!",
            "r2 = 2",
            "result= 3"
        ]
    );
}
