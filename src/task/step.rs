// Tests: tests/task.rs, tests/conformance/test_cooperator.rs

//! What a cooperative task's iterator yields ([`Step`]), how long a tick lasts
//! ([`TimeSlice`]), and an iterator several tasks can share ([`SharedIter`]).

use crate::lock::lock;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::defer::Deferred;
use crate::failure::Failure;
use crate::time::ReactorTime;

#[cfg(doc)]
use super::Cooperator;

/// What one step of a cooperative task yields: keep going, wait for a Deferred, or fail.
///
/// Iterators given to a [`Cooperator`] yield anything that converts into a `Step`: `()`
/// (Twisted's "any other value": go on), a [`Deferred`] of any type (Twisted's yielded
/// Deferred: the task pauses until it fires; its value is dropped, a failure fails the
/// task), a `Result<_, Failure>` (an `Err` fails the task, as an exception raised by
/// `next()` does), or a `Step`.
///
/// ```
/// use tokio_twisted::defer::succeed;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::task::Step;
///
/// assert!(matches!(Step::from(()), Step::Continue));
/// assert!(matches!(Step::from(succeed("ignored")), Step::Wait(_)));
/// assert!(matches!(Step::from(Err::<(), _>(Failure::msg("broken"))), Step::Fail(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Step {
    /// Nothing to wait for: the task gets its next turn in the round-robin.
    Continue,
    /// Pause the task until this Deferred fires; a failure fails the task.
    Wait(Deferred<()>),
    /// End the task with this failure.
    Fail(Failure),
}

impl From<()> for Step {
    fn from((): ()) -> Self {
        Step::Continue
    }
}

impl<T: Send + 'static> From<Deferred<T>> for Step {
    fn from(d: Deferred<T>) -> Self {
        Step::Wait(d.add_callback(|_| Ok(())))
    }
}

impl<S: Into<Step>> From<Result<S, Failure>> for Step {
    fn from(r: Result<S, Failure>) -> Self {
        match r {
            Ok(s) => s.into(),
            Err(f) => Step::Fail(f),
        }
    }
}

/// An iterator several tasks can pull from: each clone takes the next item of the one
/// shared iterator.
///
/// This is how Twisted code caps concurrency by handing one generator to several
/// `coiterate` calls: with five workers over one `SharedIter` of jobs that each yield a
/// Deferred, at most five jobs are in flight.
///
/// `next()` runs the inner iterator under a mutex: the inner iterator must not pull from
/// the same `SharedIter` again.
///
/// ```
/// use tokio_twisted::task::SharedIter;
///
/// let jobs = SharedIter::new(1..=4);
/// let (mut a, mut b) = (jobs.clone(), jobs.clone());
/// assert_eq!((a.next(), b.next(), a.next()), (Some(1), Some(2), Some(3)));
/// assert_eq!(jobs.collect::<Vec<_>>(), [4]);
/// ```
pub struct SharedIter<I> {
    inner: Arc<Mutex<I>>,
}

impl<I: Iterator> SharedIter<I> {
    /// Shares `iter`.
    ///
    /// ```
    /// let shared = tokio_twisted::task::SharedIter::new(vec!["a", "b"]);
    /// assert_eq!(shared.clone().next(), Some("a"));
    /// ```
    pub fn new(iter: impl IntoIterator<IntoIter = I>) -> Self {
        SharedIter {
            inner: Arc::new(Mutex::new(iter.into_iter())),
        }
    }
}

impl<I: Iterator> Iterator for SharedIter<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        // The inner iterator's own panic poisons nothing it relies on.
        lock(&self.inner).next()
    }
}

impl<I> Clone for SharedIter<I> {
    fn clone(&self) -> Self {
        SharedIter {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<I> fmt::Debug for SharedIter<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedIter({} handles)", Arc::strong_count(&self.inner))
    }
}

/// How much work one tick of a [`Cooperator`] does before giving the event loop back
/// (Twisted's `terminationPredicateFactory`). At least one step runs per tick.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::task::TimeSlice;
///
/// assert!(matches!(TimeSlice::default(), TimeSlice::WallTime(d) if d == Duration::from_millis(10)));
/// let mut every_other = TimeSlice::custom(|| {
///     let mut n = 0;
///     move || { n += 1; n % 2 == 0 }
/// });
/// # let _ = every_other;
/// ```
#[doc(alias = "terminationPredicateFactory")]
#[derive(Clone)]
#[non_exhaustive]
pub enum TimeSlice {
    /// Up to this much real (wall-clock) time per tick; the default is 10 ms, as in
    /// Twisted. It ends every tick even under a `Clock` whose time stands still.
    WallTime(Duration),
    /// Up to this much of the cooperator's own clock's time per tick. Under a
    /// [`Clock`](crate::task::Clock) that nobody advances during the tick, a tick runs
    /// until every task is finished or waiting: use it only with tasks that end.
    ClockTime(Duration),
    /// At most this many steps per tick (0 counts as 1): deterministic.
    Steps(usize),
    /// Your own predicate: the factory runs at the start of each tick and returns a
    /// function that says, after each step, whether the tick should end.
    Custom(Arc<dyn Fn() -> Box<dyn FnMut() -> bool> + Send + Sync>),
}

impl TimeSlice {
    /// A slice ended by your own predicate (Twisted's `terminationPredicateFactory`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::task::{Clock, Cooperator, TimeSlice};
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::builder(clock.clone())
    ///     .time_slice(TimeSlice::custom(|| || true)) // one step per tick
    ///     .build();
    /// let d = coop.coiterate((0..3).map(|_| ()));
    /// for _ in 0..3 {
    ///     clock.advance(Cooperator::TICK_DELAY);
    /// }
    /// assert!(!d.called()); // three steps done; the fourth finds the end
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(d.called());
    /// ```
    #[doc(alias = "terminationPredicateFactory")]
    pub fn custom<F, P>(factory: F) -> Self
    where
        F: Fn() -> P + Send + Sync + 'static,
        P: FnMut() -> bool + 'static,
    {
        TimeSlice::Custom(Arc::new(move || Box::new(factory())))
    }

    /// The predicate for one tick, started now.
    pub(super) fn start(&self, clock: &Arc<dyn ReactorTime>) -> Box<dyn FnMut() -> bool> {
        match self {
            TimeSlice::WallTime(d) => {
                // A slice too long to represent never ends on time.
                match Instant::now().checked_add(*d) {
                    Some(end) => Box::new(move || Instant::now() >= end),
                    None => Box::new(|| false),
                }
            }
            TimeSlice::ClockTime(d) => {
                let clock = Arc::clone(clock);
                let end = clock.now().saturating_add(*d);
                Box::new(move || clock.now() >= end)
            }
            TimeSlice::Steps(n) => {
                let mut left = (*n).max(1);
                Box::new(move || {
                    left -= 1;
                    left == 0
                })
            }
            TimeSlice::Custom(factory) => factory(),
        }
    }
}

impl Default for TimeSlice {
    fn default() -> Self {
        TimeSlice::WallTime(Duration::from_millis(10))
    }
}

impl fmt::Debug for TimeSlice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeSlice::WallTime(d) => f.debug_tuple("WallTime").field(d).finish(),
            TimeSlice::ClockTime(d) => f.debug_tuple("ClockTime").field(d).finish(),
            TimeSlice::Steps(n) => f.debug_tuple("Steps").field(n).finish(),
            TimeSlice::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}
