// Tests: tests/task.rs, tests/conformance/test_cooperator.rs

//! The errors of the cooperative scheduler: Twisted's `SchedulerError` hierarchy.

#[cfg(doc)]
use super::CooperativeTask;

macro_rules! scheduler_error {
    ($(#[$doc:meta])* $name:ident, $msg:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
        #[error($msg)]
        pub struct $name;
    };
}

scheduler_error!(
    /// The cooperator was stopped: the failure of every task it had, and of every task
    /// added afterwards (Twisted's `SchedulerStopped`).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, SchedulerStopped};
    ///
    /// let coop = Cooperator::new(Clock::new());
    /// coop.stop();
    /// let d = coop.coiterate(std::iter::empty::<()>());
    /// assert!(tokio_twisted::testing::failure_result_of(d).check::<SchedulerStopped>());
    /// ```
    SchedulerStopped,
    "the cooperator was stopped"
);
scheduler_error!(
    /// The task had already run to its end (Twisted's `TaskDone`).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, SchedulerError};
    ///
    /// let clock = Clock::new();
    /// let task = Cooperator::new(clock.clone()).cooperate(std::iter::empty::<()>());
    /// clock.advance(tokio_twisted::task::Cooperator::TICK_DELAY);
    /// assert_eq!(task.stop(), Err(SchedulerError::TaskDone(Default::default())));
    /// ```
    TaskDone,
    "the task has already completed"
);
scheduler_error!(
    /// The task was stopped: the failure its `when_done` Deferreds get, and the error of
    /// later operations on it (Twisted's `TaskStopped`).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, TaskStopped};
    ///
    /// let task = Cooperator::new(Clock::new()).cooperate(std::iter::repeat(()));
    /// let done = task.when_done();
    /// task.stop().unwrap();
    /// assert!(tokio_twisted::testing::failure_result_of(done).check::<TaskStopped>());
    /// ```
    TaskStopped,
    "the task was stopped"
);
scheduler_error!(
    /// The task had failed (Twisted's `TaskFailed`).
    ///
    /// ```
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::task::{Clock, Cooperator, SchedulerError};
    ///
    /// let clock = Clock::new();
    /// let task = Cooperator::new(clock.clone()).cooperate([Err::<(), _>(Failure::msg("boom"))]);
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(matches!(task.pause(), Err(SchedulerError::TaskFailed(_))));
    /// # tokio_twisted::testing::failure_result_of(task.when_done());
    /// ```
    TaskFailed,
    "the task failed"
);
scheduler_error!(
    /// `resume` on a task that is not paused (Twisted's `NotPaused`).
    ///
    /// ```
    /// use tokio_twisted::task::{Clock, Cooperator, NotPaused};
    ///
    /// let task = Cooperator::new(Clock::new()).cooperate(std::iter::repeat(()));
    /// assert_eq!(task.resume(), Err(NotPaused));
    /// ```
    NotPaused,
    "the task is not paused"
);

/// Why an operation on a [`CooperativeTask`] was refused: Twisted's `SchedulerError`
/// hierarchy (`TaskDone`, `TaskStopped` and `TaskFailed` are its `TaskFinished`).
///
/// ```
/// use tokio_twisted::task::{Clock, Cooperator, SchedulerError};
///
/// let task = Cooperator::new(Clock::new()).cooperate(std::iter::repeat(()));
/// task.stop().unwrap();
/// let err = task.pause().unwrap_err();
/// assert!(matches!(err, SchedulerError::TaskStopped(_)));
/// assert!(err.is_task_finished());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SchedulerError {
    /// See [`SchedulerStopped`].
    #[error("{0}")]
    SchedulerStopped(#[from] SchedulerStopped),
    /// See [`TaskDone`].
    #[error("{0}")]
    TaskDone(#[from] TaskDone),
    /// See [`TaskStopped`].
    #[error("{0}")]
    TaskStopped(#[from] TaskStopped),
    /// See [`TaskFailed`].
    #[error("{0}")]
    TaskFailed(#[from] TaskFailed),
    /// See [`NotPaused`].
    #[error("{0}")]
    NotPaused(#[from] NotPaused),
}

impl SchedulerError {
    /// Whether this is one of Twisted's `TaskFinished` errors (done, stopped or failed).
    ///
    /// ```
    /// use tokio_twisted::task::{NotPaused, SchedulerError, TaskDone};
    /// assert!(SchedulerError::from(TaskDone).is_task_finished());
    /// assert!(!SchedulerError::from(NotPaused).is_task_finished());
    /// ```
    #[doc(alias = "TaskFinished")]
    pub fn is_task_finished(&self) -> bool {
        matches!(
            self,
            Self::TaskDone(_) | Self::TaskStopped(_) | Self::TaskFailed(_)
        )
    }
}
