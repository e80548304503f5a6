// Tests: tests/service_net.rs

//! `CooperatorService`: a [`Cooperator`] that runs while the service does.

use std::fmt;

use crate::defer::{Deferred, succeed};
use crate::failure::Failure;
use crate::task::{CooperativeTask, Cooperator, Step};
use crate::time::ReactorTime;

use super::service::{Service, ServiceState};

/// A [`Cooperator`] tied to a service's life: Twisted's `internet.CooperatorService`.
///
/// The cooperator is built stopped; `start_service` starts it (tasks added before then
/// wait), and `stop_service` stops it, failing the tasks it still runs with
/// [`SchedulerStopped`](crate::task::SchedulerStopped). Unlike Twisted's (which leaves
/// `running` alone), the service's `running` flag follows.
///
/// ```
/// use tokio_twisted::service::{CooperatorService, Service};
/// use tokio_twisted::task::{Clock, Cooperator, SchedulerStopped};
/// use tokio_twisted::testing::failure_result_of;
///
/// let clock = Clock::new();
/// let service = CooperatorService::new(clock.clone());
/// let done = service.coiterate(vec![(), ()]);
/// clock.advance(Cooperator::TICK_DELAY);
/// assert!(!done.called()); // not started: nothing runs
/// service.start_service().unwrap();
/// clock.advance(Cooperator::TICK_DELAY);
/// assert!(done.called());
/// let endless = service.coiterate(std::iter::repeat(()));
/// assert!(service.stop_service().called());
/// assert!(failure_result_of(endless).check::<SchedulerStopped>());
/// ```
#[doc(alias = "twisted.application.internet.CooperatorService")]
pub struct CooperatorService {
    state: ServiceState,
    coop: Cooperator,
}

impl CooperatorService {
    /// A service whose cooperator ticks on `clock`, not yet started.
    ///
    /// ```
    /// use tokio_twisted::service::CooperatorService;
    /// use tokio_twisted::task::Clock;
    ///
    /// let service = CooperatorService::new(Clock::new());
    /// assert!(!service.cooperator().running());
    /// ```
    pub fn new(clock: impl ReactorTime) -> Self {
        CooperatorService {
            state: ServiceState::default(),
            coop: Cooperator::builder(clock).not_started().build(),
        }
    }

    /// The cooperator (Twisted's `coop`), a cheap handle.
    ///
    /// ```
    /// use tokio_twisted::service::{CooperatorService, Service};
    /// use tokio_twisted::task::Clock;
    ///
    /// let service = CooperatorService::new(Clock::new());
    /// service.start_service().unwrap();
    /// assert!(service.cooperator().running());
    /// ```
    pub fn cooperator(&self) -> &Cooperator {
        &self.coop
    }

    /// Runs `iter` a step at a time on the cooperator: [`Cooperator::coiterate`].
    ///
    /// ```
    /// use tokio_twisted::service::{CooperatorService, Service};
    /// use tokio_twisted::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let service = CooperatorService::new(clock.clone());
    /// service.start_service().unwrap();
    /// let d = service.coiterate((0..3).map(|_| ()));
    /// clock.advance(Cooperator::TICK_DELAY);
    /// assert!(d.called());
    /// ```
    pub fn coiterate<I>(&self, iter: I) -> Deferred<()>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Into<Step> + 'static,
    {
        self.coop.coiterate(iter)
    }

    /// Adds `iter` as a task and returns its handle: [`Cooperator::cooperate`].
    ///
    /// ```
    /// use tokio_twisted::service::CooperatorService;
    /// use tokio_twisted::task::Clock;
    ///
    /// let service = CooperatorService::new(Clock::new());
    /// let task = service.cooperate(std::iter::repeat(()));
    /// task.stop().unwrap();
    /// ```
    pub fn cooperate<I>(&self, iter: I) -> CooperativeTask
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Into<Step> + 'static,
    {
        self.coop.cooperate(iter)
    }
}

impl Service for CooperatorService {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    /// Starts the cooperator.
    ///
    /// # Errors
    ///
    /// None: starting a cooperator cannot fail.
    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        self.coop.start();
        Ok(())
    }

    /// Stops the cooperator; fires at once.
    fn stop_service(&self) -> Deferred<()> {
        self.coop.stop();
        self.state.set_running(false);
        succeed(())
    }
}

impl fmt::Debug for CooperatorService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CooperatorService")
            .field("state", &self.state)
            .field("coop", &self.coop)
            .finish()
    }
}
