// Tests: tests/reactor.rs, tests/conformance/test_core.rs, tests/conformance/test_internet.rs

//! The common calls of [`ReactorHandle`], as methods of the [`Reactor`] that owns it, so that
//! code on the reactor thread reads as in Twisted (`reactor.call_later(..)`) without a
//! `Deref` from the owner to its handle.

use std::future::Future;
use std::time::Duration;

use crate::time::DelayedCall;

use super::errors::{ReactorNotRunning, UnknownTriggerError};
use super::handle::ReactorHandle;
use super::pool::{ThreadPool, ThreadPoolStopped};
use super::runner::Reactor;
use super::seat::TaskHandle;
use super::shared::ExitSignal;
use super::triggers::{Event, Phase, TriggerId, TriggerResult};

impl Reactor {
    fn forward(&self) -> &ReactorHandle {
        &self.handle
    }

    /// [`ReactorHandle::running`]: Twisted's `running`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.running());
    /// ```
    pub fn running(&self) -> bool {
        self.forward().running()
    }

    /// [`ReactorHandle::stop`]: Twisted's `stop()`.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] before `run()`, and on every call after the first.
    ///
    /// ```
    /// # use tokio_twisted::reactor::{Reactor, ReactorNotRunning};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(reactor.stop(), Err(ReactorNotRunning));
    /// ```
    pub fn stop(&self) -> Result<(), ReactorNotRunning> {
        self.forward().stop()
    }

    /// [`ReactorHandle::crash`]: Twisted's `crash()`.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// # use tokio_twisted::reactor::{Reactor, ReactorHandle};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().crash()).unwrap();
    /// reactor.run().unwrap();
    /// reactor.crash(); // not running: nothing to do
    /// ```
    pub fn crash(&self) {
        self.forward().crash();
    }

    /// [`ReactorHandle::call_when_running`]: Twisted's `callWhenRunning`.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has been stopped or has shut down.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// # use tokio_twisted::reactor::{Reactor, ReactorHandle};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "callWhenRunning")]
    pub fn call_when_running<F, R>(&self, f: F) -> Result<Option<TriggerId>, ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        self.forward().call_when_running(f)
    }

    /// [`ReactorHandle::add_system_event_trigger`]: Twisted's `addSystemEventTrigger`.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] for "startup" once the reactor has been stopped, and for
    /// "shutdown" once it has shut down.
    ///
    /// ```
    /// # use tokio_twisted::reactor::{Event, Phase, Reactor};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let id = reactor.add_system_event_trigger(Phase::Before, Event::Shutdown, || {}).unwrap();
    /// assert_eq!(id.event(), Event::Shutdown);
    /// ```
    #[doc(alias = "addSystemEventTrigger")]
    pub fn add_system_event_trigger<F, R>(
        &self,
        phase: Phase,
        event: Event,
        f: F,
    ) -> Result<TriggerId, ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        self.forward().add_system_event_trigger(phase, event, f)
    }

    /// [`ReactorHandle::remove_system_event_trigger`]: Twisted's
    /// `removeSystemEventTrigger`.
    ///
    /// # Errors
    ///
    /// [`UnknownTriggerError`] if it was removed before or has already run.
    ///
    /// ```
    /// # use tokio_twisted::reactor::{Event, Phase, Reactor};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let id = reactor.add_system_event_trigger(Phase::After, Event::Startup, || {}).unwrap();
    /// assert!(reactor.remove_system_event_trigger(id).is_ok());
    /// ```
    #[doc(alias = "removeSystemEventTrigger")]
    pub fn remove_system_event_trigger(&self, id: TriggerId) -> Result<(), UnknownTriggerError> {
        self.forward().remove_system_event_trigger(id)
    }

    /// [`ReactorHandle::fire_system_event`]: Twisted's `fireSystemEvent`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::{Event, Phase, Reactor};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.add_system_event_trigger(Phase::During, Event::Custom("reload"), || {}).unwrap();
    /// reactor.fire_system_event("reload");
    /// ```
    #[doc(alias = "fireSystemEvent")]
    pub fn fire_system_event(&self, name: &'static str) {
        self.forward().fire_system_event(name);
    }

    /// [`ReactorHandle::call_from_thread`]: Twisted's `callFromThread`.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has shut down.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// # use tokio_twisted::reactor::{Reactor, ReactorHandle};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_from_thread(|| ReactorHandle::current().unwrap().stop()).unwrap();
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "callFromThread")]
    pub fn call_from_thread<F, R>(&self, f: F) -> Result<(), ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        self.forward().call_from_thread(f)
    }

    /// [`ReactorHandle::call_in_thread`]: Twisted's `callInThread`.
    ///
    /// # Errors
    ///
    /// [`ThreadPoolStopped`] once the reactor has shut down.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_in_thread(|| {}).unwrap(); // runs once the reactor does
    /// ```
    #[doc(alias = "callInThread")]
    pub fn call_in_thread<F>(&self, f: F) -> Result<(), ThreadPoolStopped>
    where
        F: FnOnce() + Send + 'static,
    {
        self.forward().call_in_thread(f)
    }

    /// [`ReactorHandle::thread_pool`]: Twisted's `getThreadPool`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(reactor.thread_pool().max_threads(), 10);
    /// ```
    #[doc(alias = "getThreadPool")]
    pub fn thread_pool(&self) -> ThreadPool {
        self.forward().thread_pool()
    }

    /// [`ReactorHandle::suggest_thread_pool_size`]: Twisted's `suggestThreadPoolSize`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.suggest_thread_pool_size(2);
    /// assert_eq!(reactor.thread_pool().max_threads(), 2);
    /// ```
    #[doc(alias = "suggestThreadPoolSize")]
    pub fn suggest_thread_pool_size(&self, size: usize) {
        self.forward().suggest_thread_pool_size(size);
    }

    /// [`ReactorHandle::now`]: the time since the reactor was built.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.now() < std::time::Duration::from_secs(3600));
    /// ```
    #[doc(alias = "rightNow")]
    pub fn now(&self) -> Duration {
        self.forward().now()
    }

    /// [`ReactorHandle::seconds`]: Twisted's `seconds()`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.seconds() >= 0.0);
    /// ```
    pub fn seconds(&self) -> f64 {
        self.forward().seconds()
    }

    /// [`ReactorHandle::call_later`]: Twisted's `callLater`. Once the reactor has shut
    /// down, the call is refused: `f` is dropped and the returned call is not active.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// # use std::time::Duration;
    /// # use tokio_twisted::reactor::{Reactor, ReactorHandle};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.call_later(Duration::from_millis(1), || ReactorHandle::current().unwrap().stop().unwrap());
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "callLater")]
    pub fn call_later<F>(&self, delay: Duration, f: F) -> DelayedCall
    where
        F: FnOnce() + Send + 'static,
    {
        self.forward().call_later(delay, f)
    }

    /// [`ReactorHandle::pending_calls`]: Twisted's `getDelayedCalls`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let call = reactor.call_later(Duration::from_secs(1), || {});
    /// assert_eq!(reactor.pending_calls(), [call]);
    /// ```
    #[doc(alias = "getDelayedCalls")]
    pub fn pending_calls(&self) -> Vec<DelayedCall> {
        self.forward().pending_calls()
    }

    /// [`ReactorHandle::exit_signal`]: the signal that stopped the reactor, if one did.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(reactor.exit_signal(), None);
    /// ```
    #[doc(alias = "_exitSignal")]
    pub fn exit_signal(&self) -> Option<ExitSignal> {
        self.forward().exit_signal()
    }

    /// [`ReactorHandle::is_reactor_thread`]: Twisted's `isInIOThread`; always true for the
    /// owner, which lives on the reactor thread.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.is_reactor_thread());
    /// ```
    #[doc(alias = "isInIOThread")]
    pub fn is_reactor_thread(&self) -> bool {
        self.forward().is_reactor_thread()
    }

    /// [`ReactorHandle::spawn`]: runs a `Send` future on the reactor, tracked and cancelled
    /// at shutdown.
    ///
    /// # Errors
    ///
    /// [`ReactorNotRunning`] once the reactor has shut down.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// # use tokio_twisted::reactor::{Reactor, ReactorHandle};
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let task = reactor.spawn(async { ReactorHandle::current().unwrap().stop() }).unwrap();
    /// reactor.run().unwrap();
    /// assert!(task.is_finished());
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<TaskHandle<F::Output>, ReactorNotRunning>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.forward().spawn(future)
    }
}
