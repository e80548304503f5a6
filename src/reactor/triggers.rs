// Tests: tests/reactor.rs, tests/conformance/test_internet.rs, tests/conformance/test_core.rs

//! System event triggers, the registry: Twisted's three-phase events ("startup",
//! "shutdown" and custom ones), what a trigger may return, and the triggers registered for
//! each. Firing them is [`events`](super::events), a layer above the reactor's state.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::defer::{Deferred, fail, succeed};
use crate::failure::Failure;

use super::errors::UnknownTriggerError;

/// The phase of a system event a trigger runs in.
///
/// When an event fires, every *before* trigger runs, in the order added; if any returned
/// an unfired [`Deferred`], the event waits (the reactor keeps running) until they have all
/// fired. Then the *during* triggers run, then the *after* triggers.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use std::sync::{Arc, Mutex};
/// use tokio_twisted::reactor::{Event, Phase, Reactor, ReactorHandle};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let log = Arc::new(Mutex::new(Vec::new()));
/// for (phase, what) in [(Phase::After, "closed"), (Phase::Before, "flushing")] {
///     let log = log.clone();
///     reactor.add_system_event_trigger(phase, Event::Shutdown, move || log.lock().unwrap().push(what)).unwrap();
/// }
/// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
/// reactor.run().unwrap();
/// assert_eq!(*log.lock().unwrap(), ["flushing", "closed"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Runs first; may delay the rest of the event by returning a Deferred.
    Before,
    /// Runs once every *before* Deferred has fired.
    During,
    /// Runs last.
    After,
}

/// A system event: Twisted's event types.
///
/// - [`Startup`](Event::Startup) fires when [`run`](crate::reactor::Reactor::run) starts:
///   *before* triggers see [`running`](crate::reactor::ReactorHandle::running) `== false`;
///   the reactor becomes running first thing in the *during* phase, so *during* and
///   *after* triggers (and [`call_when_running`](crate::reactor::ReactorHandle::call_when_running)
///   functions) see `true`.
/// - [`Shutdown`](Event::Shutdown) fires at the end of the reactor iteration in which
///   [`stop`](crate::reactor::ReactorHandle::stop) was called. *Before* triggers may return
///   Deferreds and the reactor keeps servicing timers, thread calls and I/O until they
///   fire; the reactor stops running first thing in the *during* phase, then closes its
///   thread-call queue and stops its thread pool after the *during* triggers.
/// - [`Custom`](Event::Custom) events fire only through
///   [`fire_system_event`](crate::reactor::ReactorHandle::fire_system_event).
///
/// ```
/// use tokio_twisted::reactor::Event;
/// assert_ne!(Event::Custom("startup"), Event::Startup);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// The reactor starts running.
    Startup,
    /// The reactor stops.
    Shutdown,
    /// An application-defined event, named.
    Custom(&'static str),
}

/// Identifies a registered trigger, for
/// [`remove_system_event_trigger`](crate::reactor::ReactorHandle::remove_system_event_trigger).
///
/// ```
/// use tokio_twisted::reactor::{Event, Phase, Reactor};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let id = reactor.add_system_event_trigger(Phase::After, Event::Startup, || {}).unwrap();
/// assert_eq!(id.event(), Event::Startup);
/// assert_eq!(id.phase(), Phase::After);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TriggerId {
    event: Event,
    phase: Phase,
    id: u64,
}

impl TriggerId {
    /// The event the trigger is registered for.
    ///
    /// ```
    /// # use tokio_twisted::reactor::{Event, Phase, Reactor};
    /// # let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let id = reactor.add_system_event_trigger(Phase::Before, Event::Custom("reload"), || {}).unwrap();
    /// assert_eq!(id.event(), Event::Custom("reload"));
    /// ```
    pub fn event(&self) -> Event {
        self.event
    }

    /// The phase the trigger runs in.
    ///
    /// ```
    /// # use tokio_twisted::reactor::{Event, Phase, Reactor};
    /// # let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let id = reactor.add_system_event_trigger(Phase::During, Event::Shutdown, || {}).unwrap();
    /// assert_eq!(id.phase(), Phase::During);
    /// ```
    pub fn phase(&self) -> Phase {
        self.phase
    }
}

/// What a trigger, a [`call_from_thread`](crate::reactor::ReactorHandle::call_from_thread)
/// function or a [`call_when_running`](crate::reactor::ReactorHandle::call_when_running)
/// function may return: `()`, a `Result<(), E>` for any `E` that converts into a
/// [`Failure`], or a [`Deferred`] (only *before* triggers are waited on).
///
/// A failure (an `Err`, a failed Deferred, or a panic) is logged and does not stop the
/// other triggers, as in Twisted.
///
/// ```
/// use tokio_twisted::defer::Deferred;
/// use tokio_twisted::reactor::TriggerResult;
///
/// assert!(().into_deferred().called());
/// let (d, r) = Deferred::<()>::new();
/// let waited = d.into_deferred();
/// assert!(!waited.called());
/// r.callback(()).unwrap();
/// assert!(waited.called());
/// ```
pub trait TriggerResult {
    /// Converts into a `Deferred<()>` (already fired unless `self` is a pending Deferred).
    ///
    /// ```
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::reactor::TriggerResult;
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// success_result_of(Ok::<(), Failure>(()).into_deferred());
    /// let failed = Err::<(), _>(std::fmt::Error).into_deferred();
    /// assert!(failure_result_of(failed).check::<std::fmt::Error>());
    /// ```
    fn into_deferred(self) -> Deferred<()>;
}

impl TriggerResult for () {
    fn into_deferred(self) -> Deferred<()> {
        succeed(())
    }
}

impl<E: Into<Failure>> TriggerResult for Result<(), E> {
    fn into_deferred(self) -> Deferred<()> {
        match self {
            Ok(()) => succeed(()),
            Err(e) => fail(e.into()),
        }
    }
}

impl<T: Send + 'static> TriggerResult for Deferred<T> {
    fn into_deferred(self) -> Deferred<()> {
        self.add_callback(|_| Ok(()))
    }
}

/// Runs `f`, turning a panic into a failure and logging any failure (now, or when a
/// returned Deferred fails) under `context`. The returned Deferred never fails.
pub(crate) fn run_logged<R: TriggerResult>(context: &'static str, f: impl FnOnce() -> R) -> Deferred<()> {
    let d = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.into_deferred(),
        Err(panic) => fail(Failure::from_panic(panic)),
    };
    d.add_errback(move |failure| {
        crate::log::failure(context, &failure);
        Ok(())
    })
}

pub(crate) const TRIGGER_CONTEXT: &str = "While calling system event trigger handler";

type TriggerFn = Box<dyn FnOnce() -> Deferred<()> + Send>;

pub(crate) struct Trigger {
    id: u64,
    pub(crate) f: TriggerFn,
}

/// The triggers of one event, by phase. A trigger is removed when it runs, so each runs
/// at most once per registration.
#[derive(Default)]
struct ThreePhase {
    before: VecDeque<Trigger>,
    during: VecDeque<Trigger>,
    after: VecDeque<Trigger>,
}

impl ThreePhase {
    fn phase(&mut self, phase: Phase) -> &mut VecDeque<Trigger> {
        match phase {
            Phase::Before => &mut self.before,
            Phase::During => &mut self.during,
            Phase::After => &mut self.after,
        }
    }
}

/// Every registered trigger of one reactor.
#[derive(Default)]
pub(crate) struct Events {
    next_id: u64,
    events: HashMap<Event, ThreePhase>,
}

impl Events {
    pub(crate) fn add<F, R>(&mut self, phase: Phase, event: Event, f: F) -> TriggerId
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        let id = self.next_id;
        self.next_id += 1;
        self.events
            .entry(event)
            .or_default()
            .phase(phase)
            .push_back(Trigger {
                id,
                f: Box::new(move || f().into_deferred()),
            });
        TriggerId { event, phase, id }
    }

    /// Removes a trigger and hands it back: dropping it runs user drop code, which the
    /// caller does after unlocking.
    pub(crate) fn remove(&mut self, id: TriggerId) -> Result<impl Sized + use<>, UnknownTriggerError> {
        let list = self
            .events
            .get_mut(&id.event)
            .ok_or(UnknownTriggerError)?
            .phase(id.phase);
        let at = list
            .iter()
            .position(|t| t.id == id.id)
            .ok_or(UnknownTriggerError)?;
        list.remove(at).ok_or(UnknownTriggerError)
    }

    pub(crate) fn pop(&mut self, event: Event, phase: Phase) -> Option<Trigger> {
        self.events.get_mut(&event)?.phase(phase).pop_front()
    }
}
