// Tests: tests/reactor.rs, tests/threads.rs, tests/conformance/test_core.rs,
// tests/conformance/test_internet.rs, tests/conformance/test_threads.rs

//! `Shared`: the state a reactor shares between its thread and its handles, and the
//! operations on it that need its locks.

use crate::lock::lock;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::ThreadId;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::LocalSet;
use tokio::time::Instant;

use super::errors::{
    ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning, RunError, UnknownTriggerError,
};
use super::pool::ThreadPool;
use super::seat::Seat;
use super::triggers::{Event, Events, Phase, TriggerId, TriggerResult, run_logged};
use crate::time::{DelayedCall, TimedFn, TimerQueue};

/// What [`ReactorHandle::exit_signal`](crate::reactor::ReactorHandle::exit_signal) reports: the signal that stopped the reactor.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::reactor::{ExitSignal, Reactor, ReactorHandle};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// reactor.call_when_running(|| ReactorHandle::current().unwrap().stop()).unwrap();
/// reactor.run().unwrap();
/// // A shell's exit code for the signal, as a program's main might pick it.
/// let code = match reactor.exit_signal() {
///     Some(ExitSignal::Interrupt) => 130,
///     Some(ExitSignal::Terminate) => 143,
///     Some(_) | None => 0,
/// };
/// assert_eq!(code, 0); // stopped by `stop()`, not by a signal
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExitSignal {
    /// `SIGINT` (Ctrl-C).
    Interrupt,
    /// `SIGTERM`.
    Terminate,
}

/// Twisted's default maximum for the reactor's thread pool.
const DEFAULT_POOL_SIZE: usize = 10;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the reactor running on this thread (inside `run`, so inside its runtime's
    /// context), or 0. Lets the clock skip entering the runtime on the hot path.
    pub(crate) static RUNNING_HERE: Cell<u64> = const { Cell::new(0) };

    /// The reactors owned by this thread.
    static OWNERS: RefCell<Owners> = const {
        RefCell::new(Owners { current: Weak::new(), local_sets: Vec::new() })
    };
}

/// The reactors a thread owns: the `LocalSet` of each (so that a handle used on the reactor
/// thread can spawn futures that are not `Send`), and which one is current.
struct Owners {
    /// The reactor running on this thread, else the one most recently built here.
    current: Weak<Shared>,
    /// By reactor id; an owner's set dies with it.
    local_sets: Vec<(u64, std::rc::Weak<LocalSet>)>,
}

/// Registers a reactor built on this thread, with its `LocalSet`, and makes it current.
pub(crate) fn register_owner(shared: &Arc<Shared>, local: &Rc<LocalSet>) {
    OWNERS.with(|o| {
        let mut o = o.borrow_mut();
        o.local_sets.retain(|(_, set)| set.strong_count() > 0);
        o.local_sets.push((shared.id, Rc::downgrade(local)));
        o.current = Arc::downgrade(shared);
    });
}

/// Makes `shared` the current reactor of this thread, returning the previous one.
pub(crate) fn replace_current(shared: Weak<Shared>) -> Weak<Shared> {
    OWNERS.with(|o| std::mem::replace(&mut o.borrow_mut().current, shared))
}

/// Makes `previous` the current reactor again if its owner still exists; otherwise the
/// current one stays.
pub(crate) fn restore_current(previous: Weak<Shared>) {
    let alive = previous.upgrade().is_some_and(|p| local_set(p.id).is_some());
    if alive {
        replace_current(previous);
    }
}

/// The current reactor of this thread, if its owner still exists.
pub(crate) fn current() -> Option<Arc<Shared>> {
    let shared = OWNERS.try_with(|o| o.borrow().current.upgrade()).ok()??;
    local_set(shared.id).map(|_| shared)
}

/// Reactor `id`'s `LocalSet`, if this thread owns that reactor and it still exists.
pub(crate) fn local_set(id: u64) -> Option<Rc<LocalSet>> {
    OWNERS
        .try_with(|o| {
            o.borrow()
                .local_sets
                .iter()
                .find(|(owner, _)| *owner == id)
                .and_then(|(_, set)| set.upgrade())
        })
        .ok()
        .flatten()
}

pub(crate) type ThreadCall = Box<dyn FnOnce() + Send>;
pub(crate) type Release = Box<dyn FnOnce() + Send>;

/// The reactor's run state: Twisted's flags, each with the moments it changes.
#[derive(Debug, Default)]
#[allow(clippy::struct_excessive_bools)] // Twisted's independent flags, kept for fidelity
pub(crate) struct Lifecycle {
    /// Set by `run()`; cleared by `crash()` (and so in "during shutdown"). The main loop
    /// runs while it is set, and `run()` refuses (`ReactorAlreadyRunning`) while it is.
    started: bool,
    /// Set by `run()`, cleared by `stop()`: `stop()` is allowed while it is set
    /// (Twisted's `not _stopped`).
    stoppable: bool,
    /// Set by `stop()`; cleared when the loop fires "shutdown" at the end of the iteration.
    stop_requested: bool,
    /// Set by the first `stop()` and never cleared: `run()` then refuses
    /// (`ReactorNotRestartable`).
    stopped_before: bool,
    /// Twisted's `running`: set first thing in "during startup", cleared by `crash()` and
    /// first thing in "during shutdown".
    running: bool,
    /// Set in "during shutdown" once the *during* triggers have run, while the reactor waits
    /// for its tracked tasks; cleared when the rest of shutdown runs.
    draining: bool,
}

/// Calls from other threads, and the threads blocked on the reactor.
#[derive(Default)]
struct CallQueue {
    /// Waiting for the next iteration, in call order.
    calls: Vec<ThreadCall>,
    /// Set in "during shutdown" (or when the reactor is dropped) and never cleared: calls
    /// are refused, and blocked threads released, from then on.
    closed: bool,
    /// How to release each thread blocked in `blocking_call_from_thread` with an error.
    blocked: HashMap<u64, Release>,
    next_ticket: u64,
}

/// Everything a reactor shares between its thread and its handles.
pub(crate) struct Shared {
    id: u64,
    pub(crate) origin: Instant,
    pub(crate) rt: tokio::runtime::Handle,
    thread: ThreadId,
    pub(crate) install_signals: bool,
    pub(crate) timers: Arc<TimerQueue>,
    pub(crate) wake: Arc<Notify>,
    calls: Mutex<CallQueue>,
    life: Mutex<Lifecycle>,
    pub(crate) events: Mutex<Events>,
    pool: Mutex<Option<ThreadPool>>,
    pub(crate) signals: Mutex<Option<tokio::task::JoinHandle<()>>>,
    exit_signal: Mutex<Option<ExitSignal>>,
    pub(crate) seat: Seat,
}

impl Shared {
    /// State for a reactor whose thread is the current one, on runtime `rt`.
    pub(crate) fn new(rt: tokio::runtime::Handle, install_signals: bool) -> Arc<Shared> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let origin = {
            let _in_runtime = rt.enter();
            Instant::now()
        };
        let wake = Arc::new(Notify::new());
        let clock_rt = rt.clone();
        let waker = Arc::clone(&wake);
        let timers = TimerQueue::new(
            move || now_on(id, &clock_rt).duration_since(origin),
            move || waker.notify_one(),
        );
        Arc::new(Shared {
            id,
            origin,
            rt,
            thread: std::thread::current().id(),
            install_signals,
            timers,
            wake,
            calls: Mutex::new(CallQueue::default()),
            life: Mutex::new(Lifecycle::default()),
            events: Mutex::new(Events::default()),
            pool: Mutex::new(None),
            signals: Mutex::new(None),
            exit_signal: Mutex::new(None),
            seat: Seat::new(),
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn now(&self) -> Duration {
        now_on(self.id, &self.rt).duration_since(self.origin)
    }

    pub(crate) fn is_reactor_thread(&self) -> bool {
        std::thread::current().id() == self.thread
    }

    pub(crate) fn started(&self) -> bool {
        lock(&self.life).started
    }

    pub(crate) fn running(&self) -> bool {
        lock(&self.life).running
    }

    pub(crate) fn exit_signal(&self) -> Option<ExitSignal> {
        *lock(&self.exit_signal)
    }

    /// Whether the reactor has shut down (or its owner was dropped): calls from threads are
    /// refused, and nothing scheduled runs any more.
    pub(crate) fn closed(&self) -> bool {
        lock(&self.calls).closed
    }

    /// Whether "startup" will never fire again: the reactor was stopped (reactors are not
    /// restartable) or has shut down.
    fn startup_over(&self) -> bool {
        self.closed() || lock(&self.life).stopped_before
    }

    /// Schedules `f` on the reactor's timers, or, once it has shut down, refuses it: `f` is
    /// dropped and the returned call is not active.
    pub(crate) fn call_later(&self, delay: Duration, f: TimedFn) -> Result<DelayedCall, DelayedCall> {
        if self.closed() {
            let refused = self.timers.schedule(delay, Box::new(|| {}));
            drop(f);
            let _ = refused.cancel();
            return Err(refused);
        }
        Ok(self.timers.schedule(delay, f))
    }

    pub(crate) fn add_trigger<F, R>(
        &self,
        phase: Phase,
        event: Event,
        f: F,
    ) -> Result<TriggerId, ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        let never_fires = match event {
            Event::Startup => self.startup_over(),
            Event::Shutdown => self.closed(),
            Event::Custom(_) => false,
        };
        if never_fires {
            return Err(ReactorNotRunning);
        }
        Ok(lock(&self.events).add(phase, event, f))
    }

    pub(crate) fn remove_trigger(&self, id: TriggerId) -> Result<(), UnknownTriggerError> {
        let removed = lock(&self.events).remove(id);
        removed.map(drop)
    }

    /// See [`ReactorHandle::call_when_running`](super::ReactorHandle::call_when_running).
    pub(crate) fn call_when_running<F, R>(&self, f: F) -> Result<Option<TriggerId>, ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        let closed = self.closed();
        // Holding `life` while registering: startup cannot pass its *after* phase between
        // the check and the registration.
        let life = lock(&self.life);
        if life.running {
            drop(life);
            if self.is_reactor_thread() {
                drop(run_logged("while calling a call_when_running function", f));
                Ok(None)
            } else {
                self.call_from_thread(f).map(|()| None)
            }
        } else if closed || life.stopped_before {
            drop(life);
            Err(ReactorNotRunning)
        } else {
            let id = lock(&self.events).add(Phase::After, Event::Startup, f);
            drop(life);
            Ok(Some(id))
        }
    }

    /// `run()`'s checks, in Twisted's order, and the move to "started".
    pub(crate) fn start_running(&self) -> Result<(), RunError> {
        let mut life = lock(&self.life);
        if life.started {
            return Err(RunError::AlreadyRunning(ReactorAlreadyRunning));
        }
        if life.stopped_before {
            return Err(RunError::NotRestartable(ReactorNotRestartable));
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(RunError::InsideRuntime);
        }
        life.started = true;
        life.stoppable = true;
        Ok(())
    }

    /// The reactor's own "during startup" work, before the user's *during* triggers.
    /// The reactor's first "during startup" work: it is running.
    pub(crate) fn begin_running(&self) {
        lock(&self.life).running = true;
    }

    /// Starts the thread pool, if one was created before startup.
    pub(crate) fn start_pool(&self) {
        let pool = lock(&self.pool).clone();
        if let Some(pool) = pool {
            pool.start();
        }
    }

    pub(crate) fn stop(&self) -> Result<(), ReactorNotRunning> {
        let mut life = lock(&self.life);
        if !life.stoppable {
            return Err(ReactorNotRunning);
        }
        life.stoppable = false;
        life.stop_requested = true;
        life.stopped_before = true;
        drop(life);
        self.wake.notify_one();
        Ok(())
    }

    /// Whether `stop()` was called since the loop last looked, clearing the request.
    pub(crate) fn take_stop_request(&self) -> bool {
        std::mem::take(&mut lock(&self.life).stop_requested)
    }

    /// The reactor's own first "during shutdown" work: it is no longer running, and every
    /// tracked task is asked to stop.
    pub(crate) fn begin_shutdown(&self) {
        lock(&self.life).running = false;
        self.seat.close();
    }

    /// After the *during* shutdown triggers: the main loop keeps running until the tracked
    /// tasks have finished, then runs the rest of shutdown.
    pub(crate) fn start_draining(&self) {
        lock(&self.life).draining = true;
        self.wake.notify_one();
    }

    pub(crate) fn draining(&self) -> bool {
        lock(&self.life).draining
    }

    /// Whether the tracked tasks have finished while draining, clearing the state: the
    /// caller runs the rest of shutdown.
    pub(crate) fn take_drained(&self) -> bool {
        let mut life = lock(&self.life);
        if life.draining && self.seat.is_empty() {
            life.draining = false;
            return true;
        }
        false
    }

    pub(crate) fn crash(&self) {
        let mut life = lock(&self.life);
        life.started = false;
        life.running = false;
        drop(life);
        self.wake.notify_one();
    }

    /// Whether the loop has something to do without waiting.
    pub(crate) fn has_work(&self) -> bool {
        if !lock(&self.calls).calls.is_empty() {
            return true;
        }
        let life = lock(&self.life);
        life.stop_requested || (life.draining && self.seat.is_empty())
    }

    pub(crate) fn call_from_thread<F, R>(&self, f: F) -> Result<(), ReactorNotRunning>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TriggerResult,
    {
        let call: ThreadCall = Box::new(move || drop(run_logged("while calling from thread", f)));
        let mut queue = lock(&self.calls);
        if queue.closed {
            drop(queue);
            return Err(ReactorNotRunning);
        }
        queue.calls.push(call);
        drop(queue);
        self.wake.notify_one();
        Ok(())
    }

    /// Swaps the queued thread calls into `into` (empty), leaving `into`'s allocation for
    /// the next iteration.
    pub(crate) fn take_thread_calls(&self, into: &mut Vec<ThreadCall>) {
        std::mem::swap(&mut lock(&self.calls).calls, into);
    }

    /// The reactor's own "during shutdown" work after the user's *during* triggers: refuse
    /// further thread calls, release every blocked thread with `ReactorNotRunning`, then
    /// stop the pool and join its threads.
    pub(crate) fn close_threads(&self) {
        self.close(true);
    }

    /// What dropping a reactor does: as [`Self::close_threads`], without joining.
    pub(crate) fn close_threads_detached(&self) {
        self.close(false);
    }

    fn close(&self, join: bool) {
        let (calls, blocked) = {
            let mut queue = lock(&self.calls);
            queue.closed = true;
            (
                std::mem::take(&mut queue.calls),
                std::mem::take(&mut queue.blocked),
            )
        };
        drop(calls);
        for release in blocked.into_values() {
            release();
        }
        let pool = lock(&self.pool).clone();
        if let Some(pool) = pool {
            if join {
                pool.stop();
            } else {
                pool.stop_detached();
            }
        }
    }

    /// Registers a thread about to block on the reactor; `None` if the reactor is closed.
    pub(crate) fn register_blocked(&self, release: Release) -> Option<u64> {
        let mut queue = lock(&self.calls);
        if queue.closed {
            return None;
        }
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.blocked.insert(ticket, release);
        Some(ticket)
    }

    pub(crate) fn unregister_blocked(&self, ticket: u64) {
        let release = lock(&self.calls).blocked.remove(&ticket);
        drop(release);
    }

    pub(crate) fn thread_pool(&self) -> ThreadPool {
        let mut slot = lock(&self.pool);
        if let Some(pool) = &*slot {
            return pool.clone();
        }
        let pool = ThreadPool::new(DEFAULT_POOL_SIZE);
        if lock(&self.calls).closed {
            pool.stop();
        } else if lock(&self.life).running {
            pool.start();
        }
        *slot = Some(pool.clone());
        pool
    }

    pub(crate) fn received_signal(&self, signal: ExitSignal) {
        let name = match signal {
            ExitSignal::Interrupt => "SIGINT",
            ExitSignal::Terminate => "SIGTERM",
        };
        tracing::info!("Received {name}, shutting down.");
        *lock(&self.exit_signal) = Some(signal);
        // Already stopping (or stopped) is fine: the signal asks for what is under way.
        let _ = self.stop();
    }
}

/// The reactor's clock: Tokio's `Instant`, read inside the reactor's runtime so paused
/// test time is honoured from any thread.
fn now_on(id: u64, rt: &tokio::runtime::Handle) -> Instant {
    if RUNNING_HERE.with(Cell::get) == id {
        Instant::now()
    } else {
        let _in_runtime = rt.enter();
        Instant::now()
    }
}
