// Tests: tests/task.rs, tests/time_limits.rs, tests/conformance/test_base.rs,
// tests/conformance/test_task.rs

//! [`DelayedCall`], the handle to one scheduled call, and [`DelayedCallError`].

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::lock::lock;

use super::queue::TimerQueue;
use super::reactor_time::TimedFn;

/// Why a [`DelayedCall`] could not be cancelled, reset or delayed.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::{task::Clock, time::DelayedCallError};
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
/// use tokio_twisted::task::Clock;
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
    pub(super) call: Arc<Call>,
}

pub(super) struct Call {
    pub(super) state: Mutex<CallState>,
    pub(super) queue: Weak<TimerQueue>,
}

/// One delayed call's state.
pub(super) struct CallState {
    /// When it is due, on its clock.
    pub(super) time: Duration,
    /// Bumped by every `reset`/`delay`; heap entries of older generations are stale.
    pub(super) generation: u64,
    /// Pending (`Some`), or run or cancelled (`None`, see `phase`).
    pub(super) func: Option<TimedFn>,
    pub(super) phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
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
    /// use tokio_twisted::{task::Clock, time::DelayedCallError};
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
    /// use tokio_twisted::task::Clock;
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
    /// use tokio_twisted::task::Clock;
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
    /// use tokio_twisted::task::Clock;
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
    /// use tokio_twisted::task::Clock;
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
/// [`pending_calls`](crate::task::Clock::pending_calls).
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::task::Clock;
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
