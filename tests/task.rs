//! Public behaviour of `task`: `defer_later`, `LoopingCall`, `Cooperator` and
//! `Deferred::add_timeout`, on a deterministic `Clock`, including the seed programs'
//! scheduling shapes and a property test of `LoopingCall`'s grid.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio_twisted::defer::{CancelledError, Deferred, DeferredList, TimeoutError, succeed};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::reactor::ReactorTime;
use tokio_twisted::task::{
    Clock, Cooperator, LoopingCall, LoopingCallError, SchedulerError, SchedulerStopped, SharedIter, Step,
    TimeSlice, defer_later,
};
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn push<T>(l: &Log<T>, v: T) {
    l.lock().unwrap().push(v);
}

fn snapshot<T: Clone>(l: &Log<T>) -> Vec<T> {
    l.lock().unwrap().clone()
}

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn handles_are_send_and_sync() {
    assert_send_sync::<LoopingCall>();
    assert_send_sync::<Cooperator>();
    assert_send_sync::<tokio_twisted::task::CooperativeTask>();
    assert_send_sync::<SharedIter<std::vec::IntoIter<u8>>>();
}

// ---------------------------------------------------------------- defer_later

#[test]
fn defer_later_chains_a_returned_deferred() {
    let clock = Clock::new();
    let (inner, inner_r) = Deferred::<i32>::new();
    let d = defer_later(&clock, secs(1), move || inner).add_callback(|n| Ok(n * 2));
    clock.advance(secs(1));
    assert_no_result(&d);
    inner_r.callback(21).unwrap();
    assert_eq!(success_result_of(d), 42);
}

#[test]
fn defer_later_turns_a_panic_into_a_failure() {
    let clock = Clock::new();
    let d = defer_later(&clock, secs(1), || -> Result<(), Failure> {
        panic!("preprocessing blew up")
    });
    clock.advance(secs(1));
    let f = failure_result_of(d);
    assert_eq!(
        f.downcast_ref::<PanicError>().unwrap().message(),
        "preprocessing blew up"
    );
}

#[test]
fn defer_later_cancel_after_firing_reaches_the_returned_deferred() {
    let clock = Clock::new();
    let (inner, inner_r) = Deferred::<()>::new();
    let d = defer_later(&clock, secs(1), move || inner);
    clock.advance(secs(1));
    d.cancel();
    assert!(inner_r.called());
    assert!(failure_result_of(d).check::<CancelledError>());
}

#[test]
fn defer_later_accepts_a_trait_object_clock() {
    let clock = Clock::new();
    let time: Arc<dyn ReactorTime> = Arc::new(clock.clone());
    let d = defer_later(&*time, ms(5), || Ok("done"));
    let d2 = defer_later(&time, ms(5), || Ok("also done"));
    clock.advance(ms(5));
    assert_eq!(success_result_of(d), "done");
    assert_eq!(success_result_of(d2), "also done");
}

/// Seed 002: the `HeadlineRetriever`. A failure raised in a `deferLater` function skips the
/// callbacks and reaches the errback.
#[test]
fn seed_headline_retriever_failure_reaches_the_errback() {
    let clock = Clock::new();
    let out = log();
    let get_headline = |input: String| {
        let (o1, o2, o3, o4) = (out.clone(), out.clone(), out.clone(), out.clone());
        defer_later(&clock, Duration::ZERO, move || {
            push(&o1, "call processHeadline".to_owned());
            if input.len() > 50 {
                Err(Failure::msg(format!("The headline ``{input}'' is too long!")))
            } else {
                Ok(input)
            }
        })
        .add_callback(move |headline| {
            push(&o2, "call _toHTML".to_owned());
            Ok(format!("<h1>{headline}</h1>"))
        })
        .add_callbacks(
            move |html| {
                push(&o3, format!("printData {html}"));
                Ok(())
            },
            move |f| {
                push(&o4, format!("printError {}", f.error_message()));
                Ok(())
            },
        )
    };
    let long = get_headline("1234567890".repeat(6));
    let short = get_headline("Breaking News".to_owned());
    clock.advance(Duration::ZERO);
    success_result_of(long);
    success_result_of(short);
    assert_eq!(
        snapshot(&out),
        [
            "call processHeadline".to_owned(),
            format!(
                "printError The headline ``{}'' is too long!",
                "1234567890".repeat(6)
            ),
            "call processHeadline".to_owned(),
            "call _toHTML".to_owned(),
            "printData <h1>Breaking News</h1>".to_owned(),
        ]
    );
}

/// Seed 001 mode 3: fifteen `deferLater`s of 3 s joined by a `DeferredList` take 3 s, not
/// 45 s.
#[test]
fn seed_mode_3_defer_later_in_parallel() {
    let clock = Clock::new();
    let out = log();
    push(&out, "Goodmorning from Twisted developer".to_owned());
    let work: Vec<_> = (0..15)
        .map(|i| {
            let customer = format!("Customer {i}");
            push(&out, format!("Scheduling: Installation for {customer}"));
            let (o1, o2, c2) = (out.clone(), out.clone(), customer.clone());
            defer_later(&clock, secs(3), move || {
                push(&o1, format!("Callback: Finished installation for {customer}"));
            })
            .add_callback(move |()| {
                push(&o2, format!("All done for {c2}"));
                Ok(())
            })
        })
        .collect();
    let join = DeferredList::new(work).build();
    push(&out, "Bye from Twisted developer!".to_owned());
    clock.advance(ms(2999));
    assert_no_result(&join);
    clock.advance(ms(1));
    assert_eq!(success_result_of(join).len(), 15);
    let out = snapshot(&out);
    assert_eq!(out[16], "Bye from Twisted developer!");
    assert_eq!(out[17], "Callback: Finished installation for Customer 0");
    assert_eq!(out[18], "All done for Customer 0");
    assert_eq!(out.last().unwrap(), "All done for Customer 14");
}

// ---------------------------------------------------------------- LoopingCall

#[test]
fn looping_call_stop_inside_f_fires_after_f_returns() {
    let clock = Clock::new();
    let events = log();
    let slot: Arc<Mutex<Option<Deferred<LoopingCall>>>> = Arc::new(Mutex::new(None));
    let (e, s) = (events.clone(), slot.clone());
    let lc = LoopingCall::with_handle(clock.clone(), move |lc: &LoopingCall| {
        lc.stop()?;
        // The start Deferred has not fired yet: this call is still running.
        let fired = s.lock().unwrap().as_ref().is_some_and(Deferred::called);
        push(&e, fired);
        Ok(())
    });
    let done = lc.start_later(secs(1)).unwrap();
    *slot.lock().unwrap() = Some(done);
    clock.advance(secs(1));
    assert_eq!(snapshot(&events), [false]);
    let done = slot.lock().unwrap().take().unwrap();
    assert!(!success_result_of(done).running());
}

#[test]
fn looping_call_stop_while_its_deferred_is_pending_then_it_fails() {
    let clock = Clock::new();
    let (slow, slow_r) = Deferred::<()>::new();
    let mut slow = Some(slow);
    let lc = LoopingCall::new(clock.clone(), move || slow.take().unwrap());
    let done = lc.start(secs(1)).unwrap();
    lc.stop().unwrap();
    assert!(!lc.running());
    assert_no_result(&done);
    assert_eq!(lc.start(secs(1)).unwrap_err(), LoopingCallError::Stopping);
    slow_r.errback(Failure::msg("late failure")).unwrap();
    assert_eq!(failure_result_of(done).error_message(), "late failure");
    // Finished: it can start again.
    let again = lc.start_later(secs(1)).unwrap();
    lc.stop().unwrap();
    success_result_of(again);
}

#[test]
fn looping_call_errors_are_typed() {
    let lc = LoopingCall::new(Clock::new(), || {});
    assert_eq!(lc.stop(), Err(LoopingCallError::NotRunning));
    assert_eq!(lc.reset(), Err(LoopingCallError::NotRunning));
    assert_eq!(lc.set_interval(secs(1)), Err(LoopingCallError::NotRunning));
    let _d = lc.start(secs(1)).unwrap();
    assert_eq!(lc.start(secs(1)).unwrap_err(), LoopingCallError::AlreadyRunning);
    assert_eq!(
        lc.set_interval(Duration::MAX),
        Err(LoopingCallError::InvalidInterval(Duration::MAX))
    );
    assert!(lc.start(LoopingCall::MAX_INTERVAL).is_err());
    // The error converts into a Failure with `?`.
    let f: Failure = LoopingCallError::NotRunning.into();
    assert!(f.check::<LoopingCallError>());
}

#[test]
fn looping_call_panic_ends_the_loop_with_a_failure() {
    let clock = Clock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let lc = LoopingCall::new(clock.clone(), move || {
        assert_ne!(c.fetch_add(1, Ordering::SeqCst), 2, "third call panics");
    });
    let done = lc.start(secs(1)).unwrap();
    clock.pump([secs(1); 5]);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(failure_result_of(done).is_panic());
    assert!(!lc.running());
    assert!(clock.pending_calls().is_empty());
}

#[test]
fn looping_call_slow_deferred_delays_the_next_call_to_the_grid() {
    let clock = Clock::new();
    let times = log();
    let (c, t) = (clock.clone(), times.clone());
    let lc = LoopingCall::new(clock.clone(), move || {
        push(&t, c.now());
        // Each call takes 1.5 intervals to finish.
        defer_later(&c, ms(1500), || ())
    });
    let _done = lc.start(secs(1)).unwrap();
    clock.pump([ms(500); 12]);
    // Calls at 0, then the next grid point after each finish: 2 (0 + 1.5 -> 2), 4, 6.
    assert_eq!(snapshot(&times), [secs(0), secs(2), secs(4), secs(6)]);
}

#[test]
fn looping_call_with_handle_can_reset_itself() {
    let clock = Clock::new();
    let times = log();
    let (c, t) = (clock.clone(), times.clone());
    let lc = LoopingCall::with_handle(clock.clone(), move |lc: &LoopingCall| {
        push(&t, c.now());
        lc.reset()?;
        Ok(())
    });
    let _done = lc.start_later(secs(2)).unwrap();
    clock.pump([secs(1); 6]);
    // Reset inside f does nothing (the call is running), so the grid is kept.
    assert_eq!(snapshot(&times), [secs(2), secs(4), secs(6)]);
}

#[test]
fn looping_call_survives_dropping_every_handle_while_running() {
    let clock = Clock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let done = LoopingCall::new(clock.clone(), move || {
        c.fetch_add(1, Ordering::SeqCst);
    })
    .start(secs(1))
    .unwrap();
    clock.pump([secs(1); 3]);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_no_result(&done);
}

proptest! {
    /// For random intervals and random advances, `LoopingCall` never replays missed
    /// intervals: a plain loop and a counting loop on the same grid are each called at most
    /// once per advance, at the same instants, and the next call is always the first grid
    /// point after now; `with_count` never passes 0, and the counts add up to the number of
    /// grid points elapsed up to the last call. (The plain loop is what catches a replay: a
    /// counting loop would be given a count of 0 for a replayed interval and skip it.)
    #[test]
    fn looping_call_grid(
        interval_ns in 1_u64..3_000_000_000,
        start_offset_ns in 0_u64..5_000_000_000,
        start_now in any::<bool>(),
        advances in prop::collection::vec(0_u64..=4_000, 1..40),
    ) {
        let clock = Clock::new();
        clock.advance(Duration::from_nanos(start_offset_ns));
        let calls: Log<(Duration, u64)> = log();
        let (c, l) = (clock.clone(), calls.clone());
        let lc = LoopingCall::with_count(clock.clone(), move |n| push(&l, (c.now(), n)));
        let plain_calls: Log<Duration> = log();
        let (c, l) = (clock.clone(), plain_calls.clone());
        let plain = LoopingCall::new(clock.clone(), move || push(&l, c.now()));
        let interval = Duration::from_nanos(interval_ns);
        let start = clock.now();
        let _done = if start_now { lc.start(interval) } else { lc.start_later(interval) }.unwrap();
        let _plain_done =
            if start_now { plain.start(interval) } else { plain.start_later(interval) }.unwrap();
        let initial = u64::from(start_now);
        prop_assert_eq!(calls.lock().unwrap().len() as u64, initial);
        prop_assert_eq!(plain_calls.lock().unwrap().len() as u64, initial);
        for per_mille in advances {
            let before = calls.lock().unwrap().len();
            let plain_before = plain_calls.lock().unwrap().len();
            // Advances are fractions of the interval, so that exact grid points are hit.
            clock.advance(Duration::from_nanos(interval_ns * per_mille / 1000));
            let calls = snapshot(&calls);
            let plain_calls = snapshot(&plain_calls);
            prop_assert!(calls.len() - before <= 1, "missed intervals were replayed");
            prop_assert!(
                plain_calls.len() - plain_before <= 1,
                "missed intervals were replayed: {:?}",
                &plain_calls[plain_before..]
            );
            let call_times: Vec<Duration> = calls.iter().map(|&(t, _)| t).collect();
            prop_assert_eq!(&plain_calls, &call_times, "both loops run on the same grid");
            let now = clock.now();
            let elapsed = now.saturating_sub(start).as_nanos() / u128::from(interval_ns);
            let pending = clock.pending_calls();
            prop_assert_eq!(pending.len(), 2);
            let next = start.as_nanos() + (elapsed + 1) * u128::from(interval_ns);
            prop_assert_eq!(pending[0].time().as_nanos(), next);
            prop_assert_eq!(pending[1].time().as_nanos(), next);
            prop_assert!(calls.iter().all(|&(_, n)| n >= 1));
            if let Some(&(last, _)) = calls.last() {
                let passed = last.saturating_sub(start).as_nanos() / u128::from(interval_ns);
                let sum: u64 = calls.iter().map(|&(_, n)| n).sum();
                prop_assert_eq!(u128::from(sum), passed + u128::from(initial));
            }
        }
        lc.stop().unwrap();
        plain.stop().unwrap();
        prop_assert!(clock.pending_calls().is_empty());
    }
}

// ---------------------------------------------------------------- Cooperator

/// Seed 001 mode 5: five `coiterate`s over one shared iterator of 3-second jobs serve
/// fifteen customers five at a time, in 9 seconds (45 s of work).
#[test]
fn seed_mode_5_five_workers_share_one_iterator() {
    let clock = Clock::new();
    let out = log();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let finished: Log<(usize, Duration)> = log();
    push(&out, "Goodmorning from Twisted developer".to_owned());
    let (c, o, inf, max, fin) = (
        clock.clone(),
        out.clone(),
        in_flight.clone(),
        max_in_flight.clone(),
        finished.clone(),
    );
    let work = SharedIter::new((0..15).map(move |i| {
        push(&o, format!("Scheduling: Installation for Customer {i}"));
        let now = inf.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        let (o2, inf2, fin2, c2) = (o.clone(), inf.clone(), fin.clone(), c.clone());
        defer_later(&c, secs(3), move || {
            push(&o2, format!("Callback: Finished installation for Customer {i}"));
            push(&o2, format!("All done for Customer {i}"));
            inf2.fetch_sub(1, Ordering::SeqCst);
            push(&fin2, (i, c2.now()));
        })
    }));
    let coop = Cooperator::new(clock.clone());
    let join = DeferredList::new((0..5).map(|_| coop.coiterate(work.clone()))).build();
    push(&out, "Bye from Twisted developer!".to_owned());
    assert_eq!(snapshot(&out).len(), 2, "nothing runs before the clock moves");
    // Like the reactor: jump to each next timed call.
    while !join.called() {
        let next = clock.pending_calls()[0].time();
        clock.advance(next.saturating_sub(clock.now()));
    }
    // 9 s, plus a few scheduler ticks of 10 ns.
    assert!(
        clock.now() >= secs(9) && clock.now() < secs(9) + ms(1),
        "{:?}",
        clock.now()
    );
    assert!(success_result_of(join).iter().all(Result::is_ok));
    assert_eq!(max_in_flight.load(Ordering::SeqCst), 5);
    let finished = snapshot(&finished);
    assert_eq!(finished.len(), 15);
    for (i, at) in finished {
        // Customer i finishes in round i / 5, at 3, 6 or 9 s (plus scheduler ticks).
        let round = i / 5 + 1;
        assert_eq!(at.as_secs(), 3 * round as u64, "customer {i} at {at:?}");
    }
    assert!(clock.pending_calls().is_empty());
}

#[test]
fn stop_fails_every_task() {
    // Twisted's Cooperator.stop() skips every other task; here every one fails.
    let clock = Clock::new();
    let coop = Cooperator::new(clock.clone());
    let tasks: Vec<_> = (0..5).map(|_| coop.coiterate(std::iter::repeat(()))).collect();
    coop.stop();
    for d in tasks {
        assert!(failure_result_of(d).check::<SchedulerStopped>());
    }
    // Added after stop: fails at once. After start: runs again.
    assert!(failure_result_of(coop.coiterate(vec![()])).check::<SchedulerStopped>());
    coop.start();
    let d = coop.coiterate(vec![()]);
    clock.advance(Cooperator::TICK_DELAY);
    success_result_of(d);
}

#[test]
fn paused_task_survives_stop_until_resumed() {
    let clock = Clock::new();
    let coop = Cooperator::new(clock.clone());
    let task = coop.cooperate(std::iter::repeat(()));
    let done = task.when_done();
    task.pause().unwrap();
    coop.stop();
    assert_no_result(&done);
    task.resume().unwrap();
    assert!(failure_result_of(done).check::<SchedulerStopped>());
    assert!(matches!(task.stop(), Err(SchedulerError::SchedulerStopped(_))));
}

#[test]
fn steps_time_slice_limits_work_per_tick() {
    let clock = Clock::new();
    let coop = Cooperator::builder(clock.clone())
        .time_slice(TimeSlice::Steps(3))
        .build();
    let steps = Arc::new(AtomicUsize::new(0));
    let s = steps.clone();
    let task = coop.cooperate(std::iter::repeat_with(move || {
        s.fetch_add(1, Ordering::SeqCst);
    }));
    clock.advance(Cooperator::TICK_DELAY);
    assert_eq!(steps.load(Ordering::SeqCst), 3);
    clock.advance(Cooperator::TICK_DELAY);
    assert_eq!(steps.load(Ordering::SeqCst), 6);
    task.stop().unwrap();
    assert!(clock.pending_calls().is_empty());
}

#[test]
fn clock_time_slice_measures_the_cooperators_clock() {
    let clock = Clock::new();
    let coop = Cooperator::builder(clock.clone())
        .time_slice(TimeSlice::ClockTime(ms(10)))
        .build();
    let steps = Arc::new(AtomicUsize::new(0));
    let (s, c) = (steps.clone(), clock.clone());
    let task = coop.cooperate(std::iter::repeat_with(move || {
        s.fetch_add(1, Ordering::SeqCst);
        // Each step "takes" 3 ms of clock time.
        c.advance(ms(3));
    }));
    clock.advance(Cooperator::TICK_DELAY);
    // 3, 6, 9 ms are under the 10 ms slice; the fourth step reaches 12 ms and ends it.
    assert_eq!(steps.load(Ordering::SeqCst), 4);
    task.stop().unwrap();
}

#[test]
fn yielded_deferred_value_is_dropped_and_failure_fails_the_task() {
    let clock = Clock::new();
    let coop = Cooperator::new(clock.clone());
    let (a, a_r) = Deferred::<String>::new();
    let (b, b_r) = Deferred::<u8>::new();
    let steps: Vec<Step> = vec![a.into(), Step::Continue, b.into()];
    let d = coop.coiterate(steps);
    clock.advance(Cooperator::TICK_DELAY);
    a_r.callback("ignored".to_owned()).unwrap();
    clock.advance(Cooperator::TICK_DELAY);
    assert_no_result(&d);
    b_r.errback(Failure::msg("download failed")).unwrap();
    assert_eq!(failure_result_of(d).error_message(), "download failed");
    assert!(clock.pending_calls().is_empty());
}

#[test]
fn results_and_already_fired_deferreds_as_steps() {
    let clock = Clock::new();
    let coop = Cooperator::new(clock.clone());
    let seen = log();
    let s = seen.clone();
    let d = coop.coiterate((0..4).map(move |i| {
        push(&s, i);
        if i == 1 {
            Ok(Step::from(succeed(i)))
        } else {
            Ok(Step::Continue)
        }
    }));
    for _ in 0..5 {
        clock.advance(Cooperator::TICK_DELAY);
    }
    success_result_of(d);
    assert_eq!(snapshot(&seen), [0, 1, 2, 3]);
}

#[test]
fn stopping_a_task_from_inside_its_own_step() {
    let clock = Clock::new();
    let coop = Cooperator::new(clock.clone());
    let slot = Arc::new(Mutex::new(None::<tokio_twisted::task::CooperativeTask>));
    let s = slot.clone();
    let steps = Arc::new(AtomicUsize::new(0));
    let n = steps.clone();
    let task = coop.cooperate(std::iter::repeat_with(move || {
        n.fetch_add(1, Ordering::SeqCst);
        s.lock().unwrap().take().unwrap().stop().unwrap();
        succeed(()) // returned to a task that has already ended
    }));
    *slot.lock().unwrap() = Some(task.clone());
    let done = task.when_done();
    clock.advance(Cooperator::TICK_DELAY);
    assert_eq!(steps.load(Ordering::SeqCst), 1);
    assert!(failure_result_of(done).check::<tokio_twisted::task::TaskStopped>());
    assert!(clock.pending_calls().is_empty());
}

#[test]
fn failure_after_a_task_ended_is_logged() {
    let logged = LoggedErrors::capture();
    let clock = Clock::new();
    let coop = Cooperator::new(clock.clone());
    let (d, r) = Deferred::<()>::new();
    let task = coop.cooperate(std::iter::once(d));
    clock.advance(Cooperator::TICK_DELAY);
    let done = task.when_done();
    task.stop().unwrap();
    r.errback(Failure::msg("too late")).unwrap();
    assert_eq!(logged.flush_all().len(), 1);
    assert!(failure_result_of(done).check::<tokio_twisted::task::TaskStopped>());
}

// ---------------------------------------------------------------- add_timeout

#[test]
fn add_timeout_covers_only_callbacks_added_before_it() {
    let clock = Clock::new();
    let (d, _r) = Deferred::<u32>::new();
    let d = d.add_timeout(secs(1), &clock).add_errback(|f| {
        // Added after the timeout: sees the translated error.
        assert!(f.check::<TimeoutError>());
        Ok(0)
    });
    clock.advance(secs(1));
    assert_eq!(success_result_of(d), 0);
}

#[test]
fn add_timeout_on_a_fired_deferred_leaves_nothing_pending() {
    let clock = Clock::new();
    let d = succeed(5).add_timeout(secs(1), &clock);
    assert!(clock.pending_calls().is_empty());
    assert_eq!(success_result_of(d), 5);
}

#[test]
fn add_timeout_in_async_code() {
    let clock = Clock::new();
    let (slow, _r) = Deferred::<&str>::new();
    let c = clock.clone();
    let d = Deferred::from_future(async move {
        match slow.add_timeout(secs(30), &c).await {
            Err(f) if f.check::<TimeoutError>() => Ok("gave up"),
            other => other,
        }
    });
    clock.advance(secs(29));
    assert_no_result(&d);
    clock.advance(secs(1));
    assert_eq!(success_result_of(d), "gave up");
}
