//! Port of `twisted/test/test_cooperator.py`: `Cooperator` and `CooperativeTask`, on a
//! `task::Clock` and (the tests listed in `on_every_clock!` at the end) on `time::TokioTime`
//! over paused Tokio time. Twisted's `FakeScheduler.pump()` is `clock.tick()` here
//! (`advance(TICK_DELAY)` on a `Clock`, one millisecond on Tokio's timer): a tick scheduled
//! during a tick is due one `TICK_DELAY` later, so each tick runs exactly the work that was
//! scheduled before it. Twisted's "one unit of work per tick"
//! termination predicate is `TimeSlice::Steps(1)`.
//!
//! Not ported here:
//! - `AliasTests.test_cooperate`: there is no global cooperator (a Cooperator needs a
//!   clock); the module-level `cooperate` is `Cooperator::new(clock).cooperate`.
//!
//! Differences checked in place: `whenDone` fires with `()` instead of the iterator (the
//! task owns it), and `Cooperator::stop` fails every task (Twisted's skips every other
//! one; see `test_stop_fails_every_task` in `tests/task.rs`).

#![allow(
    clippy::doc_markdown,
    reason = "the doc lines naming the ported Twisted tests quote them verbatim, for grep"
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_twisted::defer::{Deferred, DeferredList, Resolver, fail};
use tokio_twisted::failure::Failure;
use tokio_twisted::task::{
    Clock, CooperativeTask, Cooperator, NotPaused, SchedulerError, SchedulerStopped, Step, TaskStopped,
    TimeSlice,
};
use tokio_twisted::testing::{LoggedErrors, failure_result_of, success_result_of};

use tokio_twisted::time::ReactorTime;

use crate::clocks::TestClock;

#[derive(Debug, thiserror::Error)]
#[error("runtime error")]
struct RuntimeError;

#[derive(Debug, thiserror::Error)]
#[error("an exception that should go unhandled")]
struct UnhandledException;

/// Asserts a coiterate Deferred failed with SchedulerStopped (Twisted's `ebIter`).
fn assert_scheduler_stopped(d: Deferred<()>) {
    assert!(failure_result_of(d).check::<SchedulerStopped>());
}

// ---------------------------------------------------------------- CooperatorTests

/// twisted: CooperatorTests.testStoppedRejectsNewTasks
/// A stopped cooperator fails new tasks at once, also when chained into a given Deferred.
#[test]
fn test_stopped_rejects_new_tasks() {
    let c = Cooperator::new(Clock::new());
    c.stop();
    assert_scheduler_stopped(c.coiterate(std::iter::empty::<()>()));
    // Twisted's `doneDeferred` argument: chain into a Deferred of your own.
    let (mine, resolver) = Deferred::<()>::new();
    success_result_of(c.coiterate(std::iter::empty::<()>()).chain_deferred(resolver));
    assert_scheduler_stopped(mine);
}

/// twisted: CooperatorTests.testStopRunning
/// Stopping the cooperator fails a task that has not run, without running it.
fn test_stop_running<C: TestClock>(clock: &C) {
    let c = Cooperator::new(clock.time());
    let steps = Arc::new(AtomicUsize::new(0));
    let s = steps.clone();
    let d = c.coiterate((0..3).map(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
    }));
    c.stop();
    assert_scheduler_stopped(d);
    clock.tick();
    assert_eq!(steps.load(Ordering::SeqCst), 0);
}

/// twisted: CooperatorTests.testStopOutstanding
/// A task waiting on a Deferred when the cooperator stops fails with SchedulerStopped
/// once that Deferred fires, and is not stepped again.
fn test_stop_outstanding<C: TestClock>(clock: &C) {
    let c = Cooperator::new(clock.time());
    let (outstanding, outstanding_r) = Deferred::<&str>::new();
    let mut outstanding = Some(outstanding);
    let stepped_after = Arc::new(AtomicBool::new(false));
    let (cl, coop, after) = (clock.time(), c.clone(), stepped_after.clone());
    let mut first = true;
    let iter = std::iter::from_fn(move || {
        if first {
            first = false;
            let (coop, r) = (coop.clone(), outstanding_r.clone());
            cl.call_later(std::time::Duration::ZERO, move || {
                coop.stop();
                r.callback("arglebargle").unwrap();
            });
            return Some(Step::from(outstanding.take().unwrap()));
        }
        after.store(true, Ordering::SeqCst);
        None
    });
    let d = c.coiterate(iter);
    clock.tick();
    assert_scheduler_stopped(d);
    assert!(!stepped_after.load(Ordering::SeqCst));
}

/// twisted: CooperatorTests.testUnexpectedError
/// An iterator that fails (or panics) on its first step fails the task with that failure.
fn test_unexpected_error<C: TestClock>(clock: &C) {
    let c = Cooperator::new(clock.time());
    let d = c.coiterate([Err::<(), _>(Failure::new(RuntimeError))]);
    let panicking = c.coiterate(std::iter::from_fn(|| -> Option<()> { panic!("runtime error") }));
    clock.tick();
    assert!(failure_result_of(d).check::<RuntimeError>());
    assert!(failure_result_of(panicking).is_panic());
}

/// twisted: CooperatorTests.testUnexpectedErrorActuallyLater
/// A yielded Deferred that fails later fails the task.
fn test_unexpected_error_actually_later<C: TestClock>(clock: &C) {
    let cl = clock.time();
    let c = Cooperator::new(clock.time());
    let d = c.coiterate(std::iter::once_with(move || {
        let (d, r) = Deferred::<()>::new();
        cl.call_later(std::time::Duration::ZERO, move || {
            r.errback(RuntimeError).unwrap();
        });
        d
    }));
    clock.tick();
    assert!(failure_result_of(d).check::<RuntimeError>());
}

/// twisted: CooperatorTests.testUnexpectedErrorNotActuallyLater
/// A yielded Deferred that has already failed fails the task.
fn test_unexpected_error_not_actually_later<C: TestClock>(clock: &C) {
    let c = Cooperator::new(clock.time());
    let d = c.coiterate(std::iter::once_with(|| fail::<()>(RuntimeError)));
    clock.tick();
    assert!(failure_result_of(d).check::<RuntimeError>());
}

/// twisted: CooperatorTests.testCooperation
/// Tasks take turns, one step each.
fn test_cooperation<C: TestClock>(clock: &C) {
    let c = Cooperator::new(clock.time());
    let out = Arc::new(Mutex::new(String::new()));
    let groups = ["abc", "123", "def", "456"];
    let tasks: Vec<_> = groups
        .iter()
        .map(|things| {
            let out = out.clone();
            c.coiterate(things.chars().map(move |ch| out.lock().unwrap().push(ch)))
        })
        .collect();
    let all = DeferredList::new(tasks).build();
    for _ in 0..100 {
        if all.called() {
            break;
        }
        clock.tick();
    }
    assert!(success_result_of(all).iter().all(Result::is_ok));
    assert_eq!(*out.lock().unwrap(), "a1d4b2e5c3f6");
}

/// twisted: CooperatorTests.testResourceExhaustion
/// The termination predicate ends a tick as soon as it says so.
fn test_resource_exhaustion<C: TestClock>(clock: &C) {
    let stopped = Arc::new(AtomicBool::new(false));
    let s = stopped.clone();
    let c = Cooperator::builder(clock.time())
        .time_slice(TimeSlice::custom(move || {
            let s = s.clone();
            move || s.load(Ordering::SeqCst)
        }))
        .build();
    let output = Arc::new(Mutex::new(Vec::new()));
    let (o, s) = (output.clone(), stopped.clone());
    let d = c.coiterate((0..100).map(move |i| {
        o.lock().unwrap().push(i);
        if i == 9 {
            s.store(true, Ordering::SeqCst);
        }
    }));
    clock.tick();
    c.stop();
    assert_scheduler_stopped(d);
    assert!(stopped.load(Ordering::SeqCst));
    assert_eq!(*output.lock().unwrap(), (0..10).collect::<Vec<_>>());
}

/// twisted: CooperatorTests.testCallbackReCoiterate
/// A coiterate from a completion callback schedules at most one tick.
fn test_callback_re_coiterate<C: TestClock>(clock: &C) {
    let c = Cooperator::builder(clock.time())
        .time_slice(TimeSlice::Steps(1))
        .build();
    let done = Arc::new(AtomicBool::new(false));
    let (coop, dn) = (c.clone(), done.clone());
    let _d = c.coiterate(std::iter::empty::<()>()).add_callback(move |()| {
        let dn = dn.clone();
        drop(
            coop.coiterate(std::iter::empty::<()>())
                .add_both(move |_| dn.store(true, Ordering::SeqCst)),
        );
        Ok(())
    });
    let mut work = 0;
    while !done.load(Ordering::SeqCst) {
        assert!(clock.pending_calls().len() <= 1, "{:?}", clock.pending_calls());
        clock.tick();
        work += 1;
        assert!(work <= 50, "Cooperator took too long");
    }
    assert!(clock.pending_calls().is_empty());
}

/// twisted: CooperatorTests.test_removingLastTaskStopsScheduledCall
/// Removing the last task cancels the scheduled tick; adding one schedules it again.
fn test_removing_last_task_stops_scheduled_call<C: TestClock>(clock: &C) {
    let coop = Cooperator::new(clock.time());
    let task1 = coop.cooperate([(), ()]);
    let task2 = coop.cooperate([(), ()]);
    let calls = clock.pending_calls();
    assert_eq!(calls.len(), 1);
    task1.stop().unwrap();
    assert!(calls[0].active());
    assert_eq!(clock.pending_calls().len(), 1);
    task2.stop().unwrap();
    assert!(!calls[0].active());
    assert!(clock.pending_calls().is_empty());
    let _task3 = coop.cooperate([(), ()]);
    assert_eq!(clock.pending_calls().len(), 1);
    assert!(clock.pending_calls()[0].active());
}

/// twisted: CooperatorTests.test_runningWhenStarted
/// A cooperator started on creation is running.
#[test]
fn test_running_when_started() {
    assert!(Cooperator::new(Clock::new()).running());
}

/// twisted: CooperatorTests.test_runningWhenNotStarted
/// A cooperator built not started is not running.
#[test]
fn test_running_when_not_started() {
    assert!(!Cooperator::builder(Clock::new()).not_started().build().running());
}

/// twisted: CooperatorTests.test_runningWhenRunning
/// `start` makes it running.
#[test]
fn test_running_when_running() {
    let c = Cooperator::builder(Clock::new()).not_started().build();
    c.start();
    assert!(c.running());
    c.stop();
}

/// twisted: CooperatorTests.test_runningWhenStopped
/// `stop` makes it not running.
#[test]
fn test_running_when_stopped() {
    let c = Cooperator::builder(Clock::new()).not_started().build();
    c.start();
    c.stop();
    assert!(!c.running());
}

// ---------------------------------------------------------------- RunStateTests

/// One entry of the worker's work log: a number, or the resolver of a Deferred it yielded.
enum Work {
    Num(u32),
    Deferred(Resolver<&'static str>),
}

#[derive(Default)]
struct Flags {
    defer_next: bool,
    stop_next: bool,
    die_next: bool,
}

/// Twisted's `RunStateTests.worker` generator.
struct Worker {
    i: u32,
    flags: Arc<Mutex<Flags>>,
    work: Arc<Mutex<Vec<Work>>>,
}

impl Iterator for Worker {
    type Item = Result<Step, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        self.i += 1;
        let mut flags = self.flags.lock().unwrap();
        if flags.defer_next {
            flags.defer_next = false;
            let (d, r) = Deferred::<&'static str>::new();
            self.work.lock().unwrap().push(Work::Deferred(r));
            Some(Ok(d.into()))
        } else if flags.stop_next {
            None
        } else if flags.die_next {
            Some(Err(Failure::new(UnhandledException)))
        } else {
            self.work.lock().unwrap().push(Work::Num(self.i));
            Some(Ok(Step::Continue))
        }
    }
}

/// Twisted's `RunStateTests.setUp`: one task, one unit of work per tick.
struct RunState<C: TestClock> {
    clock: C,
    cooperator: Cooperator,
    task: CooperativeTask,
    flags: Arc<Mutex<Flags>>,
    work: Arc<Mutex<Vec<Work>>>,
}

impl<C: TestClock> RunState<C> {
    fn new(clock: C) -> Self {
        let cooperator = Cooperator::builder(clock.time())
            .time_slice(TimeSlice::Steps(1))
            .build();
        let flags = Arc::new(Mutex::new(Flags::default()));
        let work = Arc::new(Mutex::new(Vec::new()));
        let task = cooperator.cooperate(Worker {
            i: 0,
            flags: flags.clone(),
            work: work.clone(),
        });
        cooperator.start();
        RunState {
            clock,
            cooperator,
            task,
            flags,
            work,
        }
    }

    fn pump(&self) {
        self.clock.tick();
    }

    fn numbers(&self) -> Vec<u32> {
        self.work
            .lock()
            .unwrap()
            .iter()
            .filter_map(|w| match w {
                Work::Num(n) => Some(*n),
                Work::Deferred(_) => None,
            })
            .collect()
    }

    fn work_len(&self) -> usize {
        self.work.lock().unwrap().len()
    }

    fn defer_next(&self) {
        self.flags.lock().unwrap().defer_next = true;
    }

    fn stop_next(&self) {
        self.flags.lock().unwrap().stop_next = true;
    }

    fn die_next(&self) {
        self.flags.lock().unwrap().die_next = true;
    }
}

/// twisted: RunStateTests.test_pauseResume
/// A paused task does no work until resumed, and resuming does no work by itself.
fn test_pause_resume<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    s.pump();
    assert_eq!(s.numbers(), [1]);
    s.pump();
    assert_eq!(s.numbers(), [1, 2]);
    s.task.pause().unwrap();
    s.pump();
    assert_eq!(s.numbers(), [1, 2]);
    s.task.resume().unwrap();
    assert_eq!(s.numbers(), [1, 2]);
    s.pump();
    assert_eq!(s.numbers(), [1, 2, 3]);
}

/// twisted: RunStateTests.test_resumeNotPaused
/// Resuming a task that is not paused is NotPaused.
fn test_resume_not_paused<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    assert_eq!(s.task.resume(), Err(NotPaused));
    s.task.pause().unwrap();
    s.task.resume().unwrap();
    assert_eq!(s.task.resume(), Err(NotPaused));
}

/// twisted: RunStateTests.test_pauseTwice
/// Pauses nest like a stack.
fn test_pause_twice<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    s.task.pause().unwrap();
    s.pump();
    assert!(s.numbers().is_empty());
    s.task.pause().unwrap();
    s.pump();
    assert!(s.numbers().is_empty());
    s.task.resume().unwrap();
    s.pump();
    assert!(s.numbers().is_empty());
    s.task.resume().unwrap();
    s.pump();
    assert_eq!(s.numbers(), [1]);
}

/// twisted: RunStateTests.test_pauseWhileDeferred
/// A task paused while waiting on a Deferred needs both the Deferred and a resume.
fn test_pause_while_deferred<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    s.defer_next();
    s.pump();
    assert_eq!(s.work_len(), 1);
    assert!(matches!(s.work.lock().unwrap()[0], Work::Deferred(_)));
    s.pump();
    assert_eq!(s.work_len(), 1);
    s.task.pause().unwrap();
    s.pump();
    assert_eq!(s.work_len(), 1);
    s.task.resume().unwrap();
    s.pump();
    assert_eq!(s.work_len(), 1);
    if let Work::Deferred(r) = &s.work.lock().unwrap()[0] {
        r.callback("STUFF!").unwrap();
    }
    s.pump();
    assert_eq!(s.work_len(), 2);
    assert_eq!(s.numbers(), [2]);
}

/// twisted: RunStateTests.test_whenDone
/// Each `when_done` is a new Deferred; callbacks on one do not change another's value.
fn test_when_done<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    let results = Arc::new(Mutex::new(Vec::new()));
    let (r1, r2) = (results.clone(), results.clone());
    let deferred1 = s.task.when_done().add_callback(move |()| {
        r1.lock().unwrap().push("one");
        Ok(1)
    });
    let deferred2 = s.task.when_done().add_callback(move |()| {
        r2.lock().unwrap().push("two");
        Ok(2)
    });
    s.stop_next();
    s.pump();
    assert_eq!(*results.lock().unwrap(), ["one", "two"]);
    assert_eq!(success_result_of(deferred1), 1);
    assert_eq!(success_result_of(deferred2), 2);
}

/// twisted: RunStateTests.test_whenDoneError
/// `when_done` fails with the failure of the iterator.
fn test_when_done_error<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    let deferred1 = s.task.when_done();
    s.die_next();
    s.pump();
    assert!(failure_result_of(deferred1).check::<UnhandledException>());
}

/// twisted: RunStateTests.test_whenDoneStop
/// `when_done` fails with TaskStopped when the task is stopped.
fn test_when_done_stop<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    let deferred1 = s.task.when_done();
    s.task.stop().unwrap();
    assert!(failure_result_of(deferred1).check::<TaskStopped>());
}

/// twisted: RunStateTests.test_whenDoneAlreadyDone
/// `when_done` on a finished task has already fired.
fn test_when_done_already_done<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    s.stop_next();
    s.pump();
    success_result_of(s.task.when_done());
}

/// twisted: RunStateTests.test_stopStops
/// A stopped task does no more work, and later stop/pause are TaskStopped.
fn test_stop_stops<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    let _done = s.task.when_done();
    s.task.stop().unwrap();
    s.pump();
    assert_eq!(s.work_len(), 0);
    assert!(matches!(s.task.stop(), Err(SchedulerError::TaskStopped(_))));
    assert!(matches!(s.task.pause(), Err(SchedulerError::TaskStopped(_))));
    s.pump();
    assert_eq!(s.work_len(), 0);
}

/// twisted: RunStateTests.test_pauseStopResume
/// Resuming a paused, stopped task is allowed and does nothing.
fn test_pause_stop_resume<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    s.task.pause().unwrap();
    s.task.stop().unwrap();
    s.task.resume().unwrap();
    s.pump();
    assert_eq!(s.work_len(), 0);
}

/// twisted: RunStateTests.test_stopDeferred
/// A task stopped while waiting on a Deferred is not resumed when it fires, and the
/// Deferred ends without an unhandled error.
fn test_stop_deferred<C: TestClock>(clock: &C) {
    let logged = LoggedErrors::capture();
    let s = RunState::new(clock.clone());
    s.defer_next();
    s.pump();
    let Some(Work::Deferred(d)) = s.work.lock().unwrap().pop() else {
        panic!("the worker should have yielded a Deferred");
    };
    s.pump();
    s.task.stop().unwrap();
    s.pump();
    d.callback("7").unwrap();
    s.pump();
    assert_eq!(s.work_len(), 0);
    assert!(logged.is_empty());
}

/// twisted: RunStateTests.test_stopExhausted
/// Stopping an exhausted task is TaskDone.
fn test_stop_exhausted<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    s.stop_next();
    s.pump();
    assert!(matches!(s.task.stop(), Err(SchedulerError::TaskDone(_))));
}

/// twisted: RunStateTests.test_stopErrored
/// Stopping a failed task is TaskFailed.
fn test_stop_errored<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    let _failed = s.task.when_done().add_errback(|_| Ok(()));
    s.die_next();
    s.pump();
    assert!(matches!(s.task.stop(), Err(SchedulerError::TaskFailed(_))));
}

/// twisted: RunStateTests.test_stopCooperatorReentrancy
/// A `when_done` callback may stop the cooperator: the finished task is already gone.
fn test_stop_cooperator_reentrancy<C: TestClock>(clock: &C) {
    let s = RunState::new(clock.clone());
    let phases = Arc::new(Mutex::new(Vec::new()));
    let (p, coop) = (phases.clone(), s.cooperator.clone());
    let d = s.task.when_done().add_callback(move |()| {
        p.lock().unwrap().push("called");
        coop.stop();
        p.lock().unwrap().push("done");
        Ok(())
    });
    s.stop_next();
    s.pump();
    assert_eq!(*phases.lock().unwrap(), ["called", "done"]);
    success_result_of(d);
    assert!(s.clock.pending_calls().is_empty());
}

on_every_clock!(
    test_stop_running,
    test_stop_outstanding,
    test_unexpected_error,
    test_unexpected_error_actually_later,
    test_unexpected_error_not_actually_later,
    test_cooperation,
    test_resource_exhaustion,
    test_callback_re_coiterate,
    test_removing_last_task_stops_scheduled_call,
    test_pause_resume,
    test_resume_not_paused,
    test_pause_twice,
    test_pause_while_deferred,
    test_when_done,
    test_when_done_error,
    test_when_done_stop,
    test_when_done_already_done,
    test_stop_stops,
    test_pause_stop_resume,
    test_stop_deferred,
    test_stop_exhausted,
    test_stop_errored,
    test_stop_cooperator_reentrancy,
);
