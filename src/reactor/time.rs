// Tests: tests/task.rs, tests/conformance/test_base.rs, tests/conformance/test_task.rs

//! Time as a trait: [`ReactorTime`], the [`DelayedCall`] handle, and the timer queue shared
//! by the reactor and [`Clock`](crate::task::Clock).

use crate::lock::lock;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// A scheduled function, boxed: what [`ReactorTime::call_later_boxed`] takes.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::reactor::{ReactorTime, TimedFn};
/// use tokio_twisted::task::Clock;
///
/// let clock = Clock::new();
/// let calls: Vec<TimedFn> = vec![Box::new(|| {}), Box::new(|| {})];
/// for (i, f) in calls.into_iter().enumerate() {
///     clock.call_later_boxed(Duration::from_secs(i as u64), f);
/// }
/// assert_eq!(clock.pending_calls().len(), 2);
/// ```
pub type TimedFn = Box<dyn FnOnce() + Send + 'static>;

/// Something that tells the time and runs functions later: Twisted's `IReactorTime`.
///
/// Implemented by the reactor's handle and by
/// [`task::Clock`](crate::task::Clock). Everything in this crate that schedules (timeouts,
/// `defer_later`, `LoopingCall`, `Cooperator`) takes one, so every time-based behaviour can
/// be tested with a `Clock`, without sleeping.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::reactor::ReactorTime;
/// use tokio_twisted::task::Clock;
///
/// fn schedule_hello(time: &impl ReactorTime) {
///     time.call_later(Duration::from_secs(2), || println!("hello"));
/// }
/// let clock = Clock::new();
/// schedule_hello(&clock);
/// assert_eq!(clock.pending_calls().len(), 1);
/// ```
#[doc(alias = "IReactorTime")]
pub trait ReactorTime: Send + Sync + 'static {
    /// The current time, as a duration since this clock's origin.
    ///
    /// ```
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    /// assert_eq!(Clock::new().now(), std::time::Duration::ZERO);
    /// ```
    #[doc(alias = "rightNow")]
    fn now(&self) -> Duration;

    /// Schedules `f` to run `delay` from now; the object-safe form of
    /// [`call_later`](Self::call_later).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    /// let clock = Clock::new();
    /// let call = clock.call_later_boxed(Duration::from_secs(1), Box::new(|| {}));
    /// assert!(call.active());
    /// ```
    #[doc(alias = "callLater")]
    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall;

    /// The current time in seconds: Twisted's `seconds()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    /// let clock = Clock::new();
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.seconds(), 1.5);
    /// ```
    fn seconds(&self) -> f64 {
        self.now().as_secs_f64()
    }

    /// Schedules `f` to run `delay` from now: Twisted's `callLater`. Calls due at the same
    /// time run in the order they were scheduled.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    ///
    /// let clock = Clock::new();
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// for name in ["a", "b"] {
    ///     let log = log.clone();
    ///     clock.call_later(Duration::from_secs(1), move || log.lock().unwrap().push(name));
    /// }
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(*log.lock().unwrap(), ["a", "b"]);
    /// ```
    #[doc(alias = "callLater")]
    fn call_later<F>(&self, delay: Duration, f: F) -> DelayedCall
    where
        F: FnOnce() + Send + 'static,
        Self: Sized,
    {
        self.call_later_boxed(delay, Box::new(f))
    }
}

impl<T: ReactorTime + ?Sized> ReactorTime for Arc<T> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        (**self).call_later_boxed(delay, f)
    }
}

impl<T: ReactorTime + ?Sized> ReactorTime for &'static T {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn call_later_boxed(&self, delay: Duration, f: TimedFn) -> DelayedCall {
        (**self).call_later_boxed(delay, f)
    }
}

/// Why a [`DelayedCall`] could not be cancelled, reset or delayed.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::{reactor::{DelayedCallError, ReactorTime}, task::Clock};
///
/// let clock = Clock::new();
/// let call = clock.call_later(Duration::from_secs(1), || {});
/// call.cancel().unwrap();
/// assert_eq!(call.cancel(), Err(DelayedCallError::AlreadyCancelled));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DelayedCallError {
    /// The call has already run (Twisted's `AlreadyCalled`).
    #[error("delayed call has already been called")]
    AlreadyCalled,
    /// The call was cancelled before (Twisted's `AlreadyCancelled`).
    #[error("delayed call has already been cancelled")]
    AlreadyCancelled,
}

/// A handle to a scheduled call: Twisted's `IDelayedCall`.
///
/// Cheap to clone and `Send`; every clone controls the same call.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::{reactor::ReactorTime, task::Clock};
///
/// let clock = Clock::new();
/// let call = clock.call_later(Duration::from_secs(5), || {});
/// call.reset(Duration::from_secs(1)).unwrap();
/// assert_eq!(call.time(), Duration::from_secs(1));
/// clock.advance(Duration::from_secs(1));
/// assert!(!call.active());
/// ```
#[doc(alias = "IDelayedCall")]
#[derive(Clone)]
pub struct DelayedCall {
    call: Arc<Call>,
}

pub(crate) struct Call {
    state: Mutex<CallState>,
    queue: Weak<TimerQueue>,
}

/// One delayed call's state.
struct CallState {
    /// When it is due, on its clock.
    time: Duration,
    /// Bumped by every `reset`/`delay`; heap entries of older generations are stale.
    generation: u64,
    /// Pending (`Some`), or run or cancelled (`None`, see `phase`).
    func: Option<TimedFn>,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Scheduled and not yet due; left by running or cancelling.
    Pending,
    /// Ran (or is running): entered just before the function is called.
    Called,
    /// Cancelled; never left.
    Cancelled,
}

impl DelayedCall {
    /// Cancels the call: Twisted's `cancel()`.
    ///
    /// # Errors
    ///
    /// [`DelayedCallError::AlreadyCalled`] if it has run (or is running),
    /// [`DelayedCallError::AlreadyCancelled`] if it was cancelled before.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::{DelayedCallError, ReactorTime}, task::Clock};
    ///
    /// let clock = Clock::new();
    /// let call = clock.call_later(Duration::ZERO, || {});
    /// clock.advance(Duration::ZERO);
    /// assert_eq!(call.cancel(), Err(DelayedCallError::AlreadyCalled));
    /// ```
    pub fn cancel(&self) -> Result<(), DelayedCallError> {
        let mut st = lock(&self.call.state);
        Self::check(&st)?;
        st.phase = Phase::Cancelled;
        let f = st.func.take();
        drop(st);
        drop(f);
        if let Some(q) = self.call.queue.upgrade() {
            q.cancelled();
        }
        Ok(())
    }

    /// Reschedules the call to run `delay` from now: Twisted's `reset()`.
    ///
    /// # Errors
    ///
    /// As for [`cancel`](Self::cancel).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    ///
    /// let clock = Clock::new();
    /// let call = clock.call_later(Duration::from_secs(1), || {});
    /// clock.advance(Duration::from_millis(500));
    /// call.reset(Duration::from_secs(1)).unwrap();
    /// assert_eq!(call.time(), Duration::from_millis(1500));
    /// ```
    pub fn reset(&self, delay: Duration) -> Result<(), DelayedCallError> {
        let q = self.call.queue.upgrade();
        let now = q.as_ref().map_or(Duration::ZERO, |q| q.now());
        self.retime(|_| now.saturating_add(delay))
    }

    /// Moves the call `by` later than it was: Twisted's `delay()`.
    ///
    /// # Errors
    ///
    /// As for [`cancel`](Self::cancel).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    ///
    /// let clock = Clock::new();
    /// let call = clock.call_later(Duration::from_secs(1), || {});
    /// call.delay(Duration::from_secs(2)).unwrap();
    /// assert_eq!(call.time(), Duration::from_secs(3));
    /// ```
    pub fn delay(&self, by: Duration) -> Result<(), DelayedCallError> {
        self.retime(|t| t.saturating_add(by))
    }

    fn retime(&self, f: impl FnOnce(Duration) -> Duration) -> Result<(), DelayedCallError> {
        let mut st = lock(&self.call.state);
        Self::check(&st)?;
        st.time = f(st.time);
        st.generation += 1;
        let (time, generation) = (st.time, st.generation);
        drop(st);
        if let Some(q) = self.call.queue.upgrade() {
            q.push(time, generation, Arc::clone(&self.call));
        }
        Ok(())
    }

    fn check(st: &CallState) -> Result<(), DelayedCallError> {
        match st.phase {
            Phase::Pending => Ok(()),
            Phase::Called => Err(DelayedCallError::AlreadyCalled),
            Phase::Cancelled => Err(DelayedCallError::AlreadyCancelled),
        }
    }

    /// Whether the call is still scheduled: Twisted's `active()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    ///
    /// let clock = Clock::new();
    /// let call = clock.call_later(Duration::from_secs(1), || {});
    /// assert!(call.active());
    /// call.cancel().unwrap();
    /// assert!(!call.active());
    /// ```
    pub fn active(&self) -> bool {
        lock(&self.call.state).phase == Phase::Pending
    }

    /// When the call is due, on its clock: Twisted's `getTime()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::{reactor::ReactorTime, task::Clock};
    ///
    /// let clock = Clock::new();
    /// assert_eq!(clock.call_later(Duration::from_secs(3), || {}).time(), Duration::from_secs(3));
    /// ```
    #[doc(alias = "getTime")]
    pub fn time(&self) -> Duration {
        lock(&self.call.state).time
    }
}

/// A `DelayedCall` equals only itself and its clones (Twisted's `DelayedCall.__eq__` is
/// identity), so a handle can be found in
/// [`pending_calls`](crate::reactor::ReactorHandle::pending_calls).
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::{reactor::ReactorTime, task::Clock};
///
/// let clock = Clock::new();
/// let a = clock.call_later(Duration::from_secs(1), || {});
/// let b = clock.call_later(Duration::from_secs(1), || {});
/// assert_eq!(a, a.clone());
/// assert_ne!(a, b);
/// assert!(clock.pending_calls().contains(&b));
/// ```
impl PartialEq for DelayedCall {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.call, &other.call)
    }
}

impl Eq for DelayedCall {}

impl std::hash::Hash for DelayedCall {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.call), state);
    }
}

impl fmt::Debug for DelayedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.call.state);
        f.debug_struct("DelayedCall")
            .field("time", &st.time)
            .field("state", &st.phase)
            .finish()
    }
}

/// A heap entry: due time, then scheduling order, so equal times run first in, first out.
struct Entry {
    time: Duration,
    seq: u64,
    generation: u64,
    call: Arc<Call>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// The timers of one clock or reactor: a min-heap of calls, with stale entries (after a
/// reset, delay or cancel) dropped lazily when they reach the top.
pub(crate) struct TimerQueue {
    inner: Mutex<QueueInner>,
    clock: Box<dyn Fn() -> Duration + Send + Sync>,
    /// Told when a push makes an entry the heap's earliest (the reactor wakes its sleep).
    /// Not told otherwise: a sleeper armed for the old top wakes no later than needed, and
    /// re-reads the deadline then (stale tops are pruned by `next_deadline`).
    on_change: Box<dyn Fn() + Send + Sync>,
}

struct QueueInner {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    live: usize,
}

impl TimerQueue {
    pub(crate) fn new(
        clock: impl Fn() -> Duration + Send + Sync + 'static,
        on_change: impl Fn() + Send + Sync + 'static,
    ) -> Arc<TimerQueue> {
        Arc::new(TimerQueue {
            inner: Mutex::new(QueueInner {
                heap: BinaryHeap::new(),
                seq: 0,
                live: 0,
            }),
            clock: Box::new(clock),
            on_change: Box::new(on_change),
        })
    }

    pub(crate) fn now(&self) -> Duration {
        (self.clock)()
    }

    /// Schedules `f` at `now + delay`.
    pub(crate) fn schedule(self: &Arc<Self>, delay: Duration, f: TimedFn) -> DelayedCall {
        // A delay too large to represent means "never": it saturates instead of panicking.
        let time = self.now().saturating_add(delay);
        let call = Arc::new(Call {
            state: Mutex::new(CallState {
                time,
                generation: 0,
                func: Some(f),
                phase: Phase::Pending,
            }),
            queue: Arc::downgrade(self),
        });
        let mut q = lock(&self.inner);
        q.live += 1;
        let earliest = Self::push_locked(&mut q, time, 0, Arc::clone(&call));
        drop(q);
        if earliest {
            (self.on_change)();
        }
        DelayedCall { call }
    }

    fn push(&self, time: Duration, generation: u64, call: Arc<Call>) {
        let mut q = lock(&self.inner);
        let earliest = Self::push_locked(&mut q, time, generation, call);
        drop(q);
        if earliest {
            (self.on_change)();
        }
    }

    /// Pushes an entry; returns whether it is now the earliest in the heap.
    fn push_locked(q: &mut QueueInner, time: Duration, generation: u64, call: Arc<Call>) -> bool {
        let seq = q.seq;
        q.seq += 1;
        // Sequence numbers only grow, so the new entry goes on top only if strictly earlier.
        let earliest = q.heap.peek().is_none_or(|Reverse(top)| time < top.time);
        q.heap.push(Reverse(Entry {
            time,
            seq,
            generation,
            call,
        }));
        earliest
    }

    // A cancellation never makes a deadline earlier, so the sleeper is not woken: at worst it
    // wakes at the cancelled call's time, finds nothing due and sleeps again (as Twisted's
    // reactor does).
    fn cancelled(&self) {
        let mut q = lock(&self.inner);
        q.live = q.live.saturating_sub(1);
        if q.live == 0 {
            q.heap.clear();
        }
    }

    /// Drops stale entries from the top of the heap.
    fn prune(q: &mut QueueInner) {
        while let Some(Reverse(top)) = q.heap.peek() {
            let st = lock(&top.call.state);
            let stale = st.phase != Phase::Pending || st.generation != top.generation;
            drop(st);
            if !stale {
                return;
            }
            q.heap.pop();
        }
    }

    /// When the earliest pending call is due.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        let mut q = lock(&self.inner);
        Self::prune(&mut q);
        q.heap.peek().map(|Reverse(e)| e.time)
    }

    /// Takes the earliest call due at or before `now`, marking it called. The caller runs
    /// the returned function with no lock held.
    pub(crate) fn pop_due(&self, now: Duration) -> Option<TimedFn> {
        self.pop_due_before(now, u64::MAX)
    }

    /// The sequence number the next scheduled (or reset) call will get. The reactor reads it
    /// before running the due calls of an iteration and passes it to [`Self::pop_due_before`],
    /// so calls scheduled while timed calls run wait for the next iteration.
    pub(crate) fn next_seq(&self) -> u64 {
        lock(&self.inner).seq
    }

    /// As [`Self::pop_due`], but stops at the first entry pushed (scheduled, reset or
    /// delayed) at or after the sequence number `limit`: it and everything behind it wait
    /// for the caller's next round. Entries scheduled or reset during a round are due no
    /// earlier than the round's `now`, and equal times pop in sequence order, so in practice
    /// only they wait.
    pub(crate) fn pop_due_before(&self, now: Duration, limit: u64) -> Option<TimedFn> {
        let mut q = lock(&self.inner);
        loop {
            Self::prune(&mut q);
            let due = q
                .heap
                .peek()
                .is_some_and(|Reverse(e)| e.time <= now && e.seq < limit);
            if !due {
                return None;
            }
            let Reverse(entry) = q.heap.pop().expect("invariant: peeked just above");
            let mut st = lock(&entry.call.state);
            if st.phase != Phase::Pending || st.generation != entry.generation {
                continue;
            }
            st.phase = Phase::Called;
            q.live = q.live.saturating_sub(1);
            if let Some(f) = st.func.take() {
                return Some(f);
            }
        }
    }

    /// The pending calls, earliest first: Twisted's `getDelayedCalls()`.
    pub(crate) fn pending(&self) -> Vec<DelayedCall> {
        let q = lock(&self.inner);
        let mut live: Vec<&Entry> = q
            .heap
            .iter()
            .map(|Reverse(e)| e)
            .filter(|e| {
                let st = lock(&e.call.state);
                st.phase == Phase::Pending && st.generation == e.generation
            })
            .collect();
        live.sort();
        live.into_iter()
            .map(|e| DelayedCall {
                call: Arc::clone(&e.call),
            })
            .collect()
    }
}
