// Tests: tests/task.rs, tests/conformance/test_cooperator.rs

//! `Cooperator`: run many iterators a step at a time, sharing the event loop fairly.

use crate::lock::lock;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::defer::{Deferred, Resolver, fail, succeed};
use crate::failure::Failure;
use crate::time::{DelayedCall, ReactorTime};

use super::scheduler_error::{
    NotPaused, SchedulerError, SchedulerStopped, TaskDone, TaskFailed, TaskStopped,
};
use super::step::{Step, TimeSlice};

/// Runs iterators a step at a time, round-robin, in ticks scheduled on a clock: Twisted's
/// `task.Cooperator`.
///
/// Each tick calls `next()` on one task after another, in turn, until its
/// [`TimeSlice`] is used up, then schedules the next tick [`TICK_DELAY`](Self::TICK_DELAY)
/// later, so other events get their turn. A task whose iterator yields a Deferred (see
/// [`Step`]) sits out until it fires. A task ends when its iterator does, fails when a
/// step fails or panics, and can be paused, resumed and stopped through its
/// [`CooperativeTask`]. When the last task goes, the pending tick is cancelled, so a test
/// clock has nothing left over.
///
/// Twisted's module-level `coiterate`/`cooperate` use a global cooperator; here a
/// cooperator needs a clock, so create one with [`Cooperator::new`] and share it (it is a
/// cheap `Clone` handle, `Send + Sync`). It owns its clock, as `impl ReactorTime`.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tokio_twisted::task::{Clock, Cooperator, TimeSlice};
///
/// let clock = Clock::new();
/// let coop = Cooperator::builder(clock.clone()).time_slice(TimeSlice::Steps(100)).build();
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let (l1, l2) = (log.clone(), log.clone());
/// let a = coop.coiterate("abc".chars().map(move |c| l1.lock().unwrap().push(c)));
/// let b = coop.coiterate("123".chars().map(move |c| l2.lock().unwrap().push(c)));
/// clock.advance(Cooperator::TICK_DELAY);
/// assert_eq!(log.lock().unwrap().iter().collect::<String>(), "a1b2c3");
/// assert!(a.called() && b.called());
/// assert!(clock.pending_calls().is_empty());
/// ```
#[doc(alias = "twisted.internet.task.Cooperator")]
#[derive(Clone)]
pub struct Cooperator {
    inner: Arc<CoopInner>,
}

struct CoopInner {
    clock: Arc<dyn ReactorTime>,
    slice: TimeSlice,
    state: Mutex<CoopState>,
}

struct CoopState {
    /// The tasks that get steps: neither paused nor finished. Paused tasks rejoin at the
    /// end when resumed.
    tasks: Vec<Arc<TaskInner>>,
    /// The round-robin position: the index of the next task to step.
    cursor: usize,
    /// The next tick, while one is scheduled.
    delayed: Option<DelayedCall>,
    /// Entered by `stop()`; left by `start()`.
    stopped: bool,
    /// Entered at creation (unless built `not_started`) or by `start()`; never left.
    started: bool,
    /// Set when a tick was wanted before `start()`.
    must_schedule_on_start: bool,
}

/// A builder for a [`Cooperator`] with Twisted's optional arguments.
///
/// ```
/// use tokio_twisted::task::{Clock, Cooperator, TimeSlice};
///
/// let coop = Cooperator::builder(Clock::new()).time_slice(TimeSlice::Steps(1)).not_started().build();
/// assert!(!coop.running());
/// coop.start();
/// assert!(coop.running());
/// ```
pub struct CooperatorBuilder {
    clock: Arc<dyn ReactorTime>,
    slice: TimeSlice,
    started: bool,
}

impl CooperatorBuilder {
    /// How much work a tick does (default: [`TimeSlice::default`], 10 ms of wall time).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, TimeSlice};
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::builder(clock.clone()).time_slice(TimeSlice::Steps(2)).build();
    /// let d = coop.coiterate(vec![(); 3]);
    /// clock.advance(Cooperator::TICK_DELAY); // two steps
    /// assert!(!d.called());
    /// clock.advance(Cooperator::TICK_DELAY); // the third, and the end
    /// assert!(d.called());
    /// ```
    #[must_use]
    #[doc(alias = "terminationPredicateFactory")]
    pub fn time_slice(mut self, slice: TimeSlice) -> Self {
        self.slice = slice;
        self
    }

    /// Queue tasks without running them until [`Cooperator::start`] (Twisted's
    /// `started=False`).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::builder(clock.clone()).not_started().build();
    /// let d = coop.coiterate(std::iter::empty::<()>());
    /// assert!(clock.pending_calls().is_empty());
    /// coop.start();
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(d.called());
    /// ```
    #[must_use]
    #[doc(alias = "started")]
    pub fn not_started(mut self) -> Self {
        self.started = false;
        self
    }

    /// The cooperator.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    /// assert!(Cooperator::builder(Clock::new()).build().running());
    /// ```
    pub fn build(self) -> Cooperator {
        Cooperator {
            inner: Arc::new(CoopInner {
                clock: self.clock,
                slice: self.slice,
                state: Mutex::new(CoopState {
                    tasks: Vec::new(),
                    cursor: 0,
                    delayed: None,
                    stopped: false,
                    started: self.started,
                    must_schedule_on_start: false,
                }),
            }),
        }
    }
}

impl fmt::Debug for CooperatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CooperatorBuilder")
            .field("slice", &self.slice)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl Cooperator {
    /// The delay between ticks: 10 ns, Twisted's `callLater(1e-8)`, i.e. "on the next
    /// turn of the event loop". A [`Clock`](crate::task::Clock) runs one tick per
    /// `advance(TICK_DELAY)`.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let _task = Cooperator::new(clock.clone()).cooperate(std::iter::repeat(()));
    /// assert_eq!(clock.pending_calls()[0].time(), Cooperator::TICK_DELAY);
    /// ```
    pub const TICK_DELAY: Duration = Duration::from_nanos(10);

    /// A started cooperator on `clock` with the default [`TimeSlice`].
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let d = Cooperator::new(clock.clone()).coiterate(vec![(), ()]);
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(d.called());
    /// ```
    pub fn new(clock: impl ReactorTime) -> Self {
        Self::builder(clock).build()
    }

    /// A builder, for a time slice or a cooperator that starts later.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, TimeSlice};
    /// let coop = Cooperator::builder(Clock::new()).time_slice(TimeSlice::Steps(5)).build();
    /// assert!(coop.running());
    /// ```
    pub fn builder(clock: impl ReactorTime) -> CooperatorBuilder {
        CooperatorBuilder {
            clock: Arc::new(clock),
            slice: TimeSlice::default(),
            started: true,
        }
    }

    /// Adds an iterator as a task and returns a Deferred that fires with `()` when it
    /// ends, or fails with its failure, [`TaskStopped`] or [`SchedulerStopped`]:
    /// Twisted's `coiterate` (which fires with the iterator; here the task owns it).
    ///
    /// ```
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::task::{Clock, Cooperator};
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::new(clock.clone());
    /// let ok = coop.coiterate((0..3).map(|_| ()));
    /// let failed = coop.coiterate([Ok(()), Err(Failure::msg("step 2 failed"))]);
    /// clock.advance(Cooperator::TICK_DELAY);
    /// success_result_of(ok);
    /// assert_eq!(failure_result_of(failed).error_message(), "step 2 failed");
    /// ```
    pub fn coiterate<I>(&self, iter: I) -> Deferred<()>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Into<Step> + 'static,
    {
        self.cooperate(iter).when_done()
    }

    /// Adds an iterator as a task and returns its handle: Twisted's `cooperate`.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let task = Cooperator::new(clock.clone()).cooperate(std::iter::repeat(()));
    /// task.pause().unwrap();
    /// clock.advance(Cooperator::TICK_DELAY); // nothing to do: no tick was scheduled
    /// assert!(clock.pending_calls().is_empty());
    /// task.resume().unwrap();
    /// assert_eq!(clock.pending_calls().len(), 1);
    /// task.stop().unwrap();
    /// ```
    pub fn cooperate<I>(&self, iter: I) -> CooperativeTask
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Into<Step> + 'static,
    {
        let task = Arc::new(TaskInner {
            coop: Arc::clone(&self.inner),
            state: Mutex::new(TaskState {
                iter: Some(Box::new(iter.into_iter().map(Into::into))),
                pause_count: 0,
                completion: None,
                result: None,
                waiters: Vec::new(),
            }),
        });
        self.inner.add_task(&task);
        CooperativeTask { inner: task }
    }

    /// Starts (or restarts after [`stop`](Self::stop)) scheduling ticks: Twisted's
    /// `start()`.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let coop = Cooperator::new(Clock::new());
    /// coop.stop();
    /// coop.start();
    /// assert!(coop.running());
    /// ```
    pub fn start(&self) {
        let mut st = lock(&self.inner.state);
        st.stopped = false;
        st.started = true;
        if std::mem::take(&mut st.must_schedule_on_start) {
            self.inner.reschedule(&mut st);
        }
    }

    /// Fails every task it runs with [`SchedulerStopped`] and cancels the pending tick;
    /// tasks added afterwards fail at once, until [`start`](Self::start): Twisted's
    /// `stop()`. Paused tasks are not running: they fail when resumed.
    ///
    /// (Twisted's own `stop()` skips every other task, because it removes tasks from the
    /// list it is iterating over; here every task fails, as documented there.)
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, SchedulerStopped};
    /// use tokio_twisted::testing::failure_result_of;
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::new(clock.clone());
    /// let tasks: Vec<_> = (0..4).map(|_| coop.coiterate(std::iter::repeat(()))).collect();
    /// coop.stop();
    /// for d in tasks {
    ///     assert!(failure_result_of(d).check::<SchedulerStopped>());
    /// }
    /// assert!(clock.pending_calls().is_empty());
    /// ```
    pub fn stop(&self) {
        let (tasks, delayed) = {
            let mut st = lock(&self.inner.state);
            st.stopped = true;
            st.cursor = 0;
            (std::mem::take(&mut st.tasks), st.delayed.take())
        };
        if let Some(call) = delayed {
            let _ = call.cancel();
        }
        for task in tasks {
            task.complete_with(Completion::SchedulerStopped, Err(Failure::new(SchedulerStopped)));
        }
    }

    /// Whether it is started and not stopped (Twisted's `running`).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let coop = Cooperator::new(Clock::new());
    /// assert!(coop.running());
    /// coop.stop();
    /// assert!(!coop.running());
    /// ```
    pub fn running(&self) -> bool {
        let st = lock(&self.inner.state);
        st.started && !st.stopped
    }
}

impl fmt::Debug for Cooperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner.state);
        f.debug_struct("Cooperator")
            .field("tasks", &st.tasks.len())
            .field("slice", &self.inner.slice)
            .field("running", &(st.started && !st.stopped))
            .finish()
    }
}

impl CoopInner {
    fn add_task(self: &Arc<Self>, task: &Arc<TaskInner>) {
        let mut st = lock(&self.state);
        if st.stopped {
            drop(st);
            task.complete_with(Completion::SchedulerStopped, Err(Failure::new(SchedulerStopped)));
            return;
        }
        st.tasks.push(Arc::clone(task));
        self.reschedule(&mut st);
    }

    fn remove_task(&self, task: &Arc<TaskInner>) {
        let mut st = lock(&self.state);
        let Some(at) = st.tasks.iter().position(|t| Arc::ptr_eq(t, task)) else {
            return;
        };
        st.tasks.remove(at);
        if at < st.cursor {
            st.cursor -= 1;
        }
        // No work left: cancel the tick, so nothing is left pending on the clock.
        let delayed = if st.tasks.is_empty() {
            st.delayed.take()
        } else {
            None
        };
        drop(st);
        if let Some(call) = delayed {
            let _ = call.cancel();
        }
    }

    fn reschedule(self: &Arc<Self>, st: &mut CoopState) {
        if !st.started {
            st.must_schedule_on_start = true;
            return;
        }
        if st.delayed.is_none() && !st.tasks.is_empty() {
            let this = Arc::clone(self);
            st.delayed = Some(
                self.clock
                    .call_later_boxed(Cooperator::TICK_DELAY, Box::new(move || this.tick())),
            );
        }
    }

    /// One tick: steps tasks round-robin until the time slice is used up or no task is
    /// left, then schedules the next tick.
    fn tick(self: &Arc<Self>) {
        lock(&self.state).delayed = None;
        let mut done = self.slice.start(&self.clock);
        loop {
            let task = {
                let mut st = lock(&self.state);
                if st.tasks.is_empty() {
                    break;
                }
                if st.cursor >= st.tasks.len() {
                    st.cursor = 0;
                }
                let task = Arc::clone(&st.tasks[st.cursor]);
                st.cursor += 1;
                task
            };
            task.one_work_unit();
            if done() {
                break;
            }
        }
        let mut st = lock(&self.state);
        self.reschedule(&mut st);
    }
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completion {
    Done,
    Stopped,
    Failed,
    SchedulerStopped,
}

impl Completion {
    fn error(self) -> SchedulerError {
        match self {
            Completion::Done => TaskDone.into(),
            Completion::Stopped => TaskStopped.into(),
            Completion::Failed => TaskFailed.into(),
            Completion::SchedulerStopped => SchedulerStopped.into(),
        }
    }
}

type TaskIter = Box<dyn Iterator<Item = Step> + Send>;

/// A task running in a [`Cooperator`]: Twisted's `CooperativeTask`, from
/// [`Cooperator::cooperate`]. A cheap `Clone` handle.
///
/// ```
/// use tokio_twisted::task::{Clock, Cooperator, TaskStopped};
/// use tokio_twisted::testing::failure_result_of;
///
/// let clock = Clock::new();
/// let task = Cooperator::new(clock.clone()).cooperate(std::iter::repeat(()));
/// let done = task.when_done();
/// task.pause().unwrap();
/// task.pause().unwrap(); // pauses nest
/// task.resume().unwrap();
/// task.stop().unwrap();
/// assert!(failure_result_of(done).check::<TaskStopped>());
/// assert!(task.stop().is_err()); // TaskStopped
/// ```
#[derive(Clone)]
pub struct CooperativeTask {
    inner: Arc<TaskInner>,
}

struct TaskInner {
    coop: Arc<CoopInner>,
    state: Mutex<TaskState>,
}

struct TaskState {
    /// The work; taken out while a step runs, dropped when the task completes.
    iter: Option<TaskIter>,
    /// `pause()` minus `resume()` calls, including the internal pause while waiting on a
    /// yielded Deferred.
    pause_count: u32,
    /// Entered once, when the task ends; never left.
    completion: Option<Completion>,
    /// What every `when_done` Deferred fires with, once completed.
    result: Option<Result<(), Failure>>,
    waiters: Vec<Resolver<()>>,
}

impl CooperativeTask {
    /// A new Deferred that fires with `()` when the task's iterator ends, or fails with
    /// the task's failure, [`TaskStopped`] or [`SchedulerStopped`]: Twisted's `whenDone`.
    /// Each call returns a new Deferred; after completion it has already fired.
    ///
    /// ```
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::task::{Clock, Cooperator};
    /// use tokio_twisted::testing::failure_result_of;
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::new(clock.clone());
    /// let task = coop.cooperate(vec![(); 2]);
    /// let (a, b) = (task.when_done(), task.when_done());
    /// let failing = coop.cooperate([Ok(()), Err(Failure::msg("step 2 failed"))]);
    /// let failed = failing.when_done();
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(a.called() && b.called());
    /// assert!(task.when_done().called());
    /// assert_eq!(failure_result_of(failed).error_message(), "step 2 failed");
    /// ```
    #[doc(alias = "whenDone")]
    pub fn when_done(&self) -> Deferred<()> {
        let mut st = lock(&self.inner.state);
        match &st.result {
            Some(Ok(())) => succeed(()),
            Some(Err(f)) => fail(f.clone()),
            None => {
                let (d, r) = Deferred::new();
                st.waiters.push(r);
                d
            }
        }
    }

    /// Takes the task out of the round-robin until a matching [`resume`](Self::resume);
    /// pauses nest. While it waits on a yielded Deferred it is paused too.
    ///
    /// # Errors
    ///
    /// The [`SchedulerError`] recording how the task ended, if it has.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let task = Cooperator::new(clock.clone()).cooperate(vec![()]);
    /// task.pause().unwrap();
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(!task.when_done().called());
    /// task.resume().unwrap();
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(task.when_done().called());
    /// ```
    pub fn pause(&self) -> Result<(), SchedulerError> {
        self.inner.pause()
    }

    /// Undoes one [`pause`](Self::pause); the task rejoins the round-robin when the last
    /// pause is undone. Resuming a task that was stopped while paused does nothing more.
    ///
    /// # Errors
    ///
    /// [`NotPaused`] if the task is not paused.
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, NotPaused};
    ///
    /// let task = Cooperator::new(Clock::new()).cooperate(std::iter::repeat(()));
    /// task.pause().unwrap();
    /// assert_eq!(task.resume(), Ok(()));
    /// assert_eq!(task.resume(), Err(NotPaused));
    /// # task.stop().unwrap();
    /// ```
    pub fn resume(&self) -> Result<(), NotPaused> {
        self.inner.resume()
    }

    /// Ends the task: its `when_done` Deferreds fail with [`TaskStopped`] and its iterator
    /// is dropped. A task waiting on a Deferred is not resumed when it fires.
    ///
    /// # Errors
    ///
    /// The [`SchedulerError`] recording how the task ended, if it already has
    /// ([`TaskDone`], [`TaskStopped`], [`TaskFailed`] or [`SchedulerStopped`]).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, SchedulerError};
    ///
    /// let task = Cooperator::new(Clock::new()).cooperate(std::iter::repeat(()));
    /// # let _d = task.when_done();
    /// assert_eq!(task.stop(), Ok(()));
    /// assert!(matches!(task.stop(), Err(SchedulerError::TaskStopped(_))));
    /// ```
    pub fn stop(&self) -> Result<(), SchedulerError> {
        if let Some(c) = lock(&self.inner.state).completion {
            return Err(c.error());
        }
        self.inner
            .complete_with(Completion::Stopped, Err(Failure::new(TaskStopped)));
        Ok(())
    }
}

impl fmt::Debug for CooperativeTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner.state);
        f.debug_struct("CooperativeTask")
            .field("paused", &st.pause_count)
            .field("completion", &st.completion)
            .finish()
    }
}

impl TaskInner {
    fn pause(self: &Arc<Self>) -> Result<(), SchedulerError> {
        let mut st = lock(&self.state);
        if let Some(c) = st.completion {
            return Err(c.error());
        }
        st.pause_count += 1;
        let first = st.pause_count == 1;
        drop(st);
        if first {
            self.coop.remove_task(self);
        }
        Ok(())
    }

    fn resume(self: &Arc<Self>) -> Result<(), NotPaused> {
        let mut st = lock(&self.state);
        if st.pause_count == 0 {
            return Err(NotPaused);
        }
        st.pause_count -= 1;
        let rejoin = st.pause_count == 0 && st.completion.is_none();
        drop(st);
        if rejoin {
            self.coop.add_task(self);
        }
        Ok(())
    }

    /// Records how the task ended, takes it out of the round-robin and fires its
    /// `when_done` Deferreds, after everything else is updated, so that their callbacks
    /// may use the cooperator freely. Returns `false` if it had already ended.
    fn complete_with(self: &Arc<Self>, completion: Completion, result: Result<(), Failure>) -> bool {
        let mut st = lock(&self.state);
        if st.completion.is_some() {
            return false;
        }
        st.completion = Some(completion);
        let for_waiters = result.clone();
        st.result = Some(result);
        let iter = st.iter.take();
        let waiters = std::mem::take(&mut st.waiters);
        let paused = st.pause_count > 0;
        drop(st);
        if !paused {
            self.coop.remove_task(self);
        }
        drop(iter);
        for w in waiters {
            let _ = w.resolve(for_waiters.clone());
        }
        true
    }

    /// One step (Twisted's `_oneWorkUnit`).
    fn one_work_unit(self: &Arc<Self>) {
        // Taken out so that no lock is held while the iterator runs. Missing only if
        // this task is already being stepped further up the stack (a step that advanced
        // the clock into a nested tick): it skips this turn.
        let Some(mut iter) = lock(&self.state).iter.take() else {
            return;
        };
        let step = catch_unwind(AssertUnwindSafe(|| iter.next()));
        let (iter, outcome) = match step {
            Ok(Some(Step::Continue)) => (Some(iter), None),
            Ok(Some(Step::Wait(d))) => (Some(iter), Some(Ok(d))),
            Ok(Some(Step::Fail(f))) => (None, Some(Err((Completion::Failed, Err(f))))),
            Ok(None) => (None, Some(Err((Completion::Done, Ok(()))))),
            Err(panic) => (
                None,
                Some(Err((Completion::Failed, Err(Failure::from_panic(panic))))),
            ),
        };
        if let Some(iter) = iter {
            let mut st = lock(&self.state);
            // Stopped from inside the step: drop the iterator instead of keeping it.
            let leftover = if st.completion.is_some() {
                Some(iter)
            } else {
                st.iter = Some(iter);
                None
            };
            drop(st);
            drop(leftover);
        }
        match outcome {
            None => {}
            Some(Err((completion, result))) => {
                let failure = result.as_ref().err().cloned();
                if let (false, Some(f)) = (self.complete_with(completion, result), failure) {
                    crate::log::failure("cooperative task failed after it had ended", &f);
                }
            }
            Some(Ok(d)) => {
                if self.pause().is_err() {
                    // Ended from inside the step; nothing waits for this Deferred.
                    return;
                }
                let (resumer, failer) = (Arc::clone(self), Arc::clone(self));
                drop(d.add_callbacks(
                    move |()| {
                        let _ = resumer.resume();
                        Ok(())
                    },
                    move |f: Failure| {
                        if !failer.complete_with(Completion::Failed, Err(f.clone())) {
                            crate::log::failure("cooperative task failed after it had ended", &f);
                        }
                        Ok(())
                    },
                ));
            }
        }
    }
}
