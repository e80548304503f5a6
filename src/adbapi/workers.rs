// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs

//! The pool's threads, each owning at most one connection, and the way results get back
//! to the reactor thread.
//!
//! Twisted keeps one connection per pool thread (keyed by thread id); here each worker
//! owns its connection outright, so a connection is only ever touched by the thread that
//! opened it and no map or lock guards it.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::failure::Failure;
use crate::lock::lock;
use crate::reactor::{Event, Phase as TriggerPhase, ReactorHandle, TriggerId};

use super::backend::Backend;
use super::errors::PoolClosed;

/// A unit of work: run with the worker's connection, or refused (`None`) because the pool
/// closed before a worker took it. Either way it fires its Deferred.
pub(super) type Job<B> = Box<dyn FnOnce(&Inner<B>, Option<&mut Conn<B>>) + Send>;

/// A result ready to be handed to its Deferred (and the failures to log with it).
pub(super) type Delivery = Box<dyn FnOnce() + Send>;

/// A function run on every new connection: Twisted's `cp_openfun`.
pub(super) type OpenFun<B> =
    Arc<dyn Fn(&mut <B as Backend>::Connection) -> Result<(), Failure> + Send + Sync>;

/// Where a pool is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Built: calls queue up, no thread exists. Left by `start` (the reactor's startup, or
    /// the first call when there is no reactor), `close`, or the last handle's drop.
    Waiting,
    /// Threads exist (at least `min`, at most `max`). Left by `close` or the last drop.
    Started,
    /// The last handle was dropped: the threads finish the queue, close their connections
    /// and exit, unjoined. Never left.
    Draining,
    /// Closed: calls are refused with [`PoolClosed`], queued ones were refused, the
    /// threads finished their current call and were joined. Never left.
    Closed,
}

pub(super) struct State<B: Backend> {
    pub(super) phase: Phase,
    queue: VecDeque<Job<B>>,
    /// Live worker threads.
    workers: usize,
    /// Workers not running a job.
    idle: usize,
    handles: Vec<JoinHandle<()>>,
    spawned: u64,
    pub(super) start_trigger: Option<TriggerId>,
    pub(super) shutdown_trigger: Option<TriggerId>,
}

/// Everything the handles and the threads of one pool share.
pub(super) struct Inner<B: Backend> {
    pub(super) backend: B,
    pub(super) min: usize,
    pub(super) max: usize,
    pub(super) reconnect: bool,
    pub(super) openfun: Option<OpenFun<B>>,
    pub(super) name: String,
    pub(super) reactor: Option<ReactorHandle>,
    pub(super) state: Mutex<State<B>>,
    /// Signalled when work is queued or the pool closes.
    work: Condvar,
    /// Results waiting for the reactor thread (only used with a reactor).
    pending: Arc<Mutex<Vec<Delivery>>>,
}

impl<B: Backend> Inner<B> {
    pub(super) fn new(
        backend: B,
        min: usize,
        max: usize,
        reconnect: bool,
        openfun: Option<OpenFun<B>>,
        name: String,
        reactor: Option<ReactorHandle>,
    ) -> Self {
        Inner {
            backend,
            min,
            max,
            reconnect,
            openfun,
            name,
            reactor,
            state: Mutex::new(State {
                phase: Phase::Waiting,
                queue: VecDeque::new(),
                workers: 0,
                idle: 0,
                handles: Vec::new(),
                spawned: 0,
                start_trigger: None,
                shutdown_trigger: None,
            }),
            work: Condvar::new(),
            pending: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Queues `job`, starting the pool first when it has no reactor to start it. A closed
    /// pool refuses it on the spot.
    pub(super) fn submit(self: &Arc<Self>, job: Job<B>) {
        let mut st = lock(&self.state);
        match st.phase {
            Phase::Closed | Phase::Draining => {
                drop(st);
                job(self, None);
                return;
            }
            Phase::Waiting => {
                st.queue.push_back(job);
                if self.reactor.is_none() {
                    drop(st);
                    self.start();
                }
                return;
            }
            Phase::Started => {}
        }
        st.queue.push_back(job);
        self.grow(&mut st);
        if st.idle > 0 {
            self.work.notify_one();
        }
    }

    /// Twisted's `start`: the threads come up, and with a reactor the pool closes in its
    /// "during shutdown" phase. Starting a started or closed pool does nothing.
    pub(super) fn start(self: &Arc<Self>) {
        {
            let mut st = lock(&self.state);
            if st.phase != Phase::Waiting {
                return;
            }
            st.phase = Phase::Started;
            st.start_trigger = None;
            self.grow(&mut st);
        }
        if let Some(reactor) = &self.reactor {
            let weak = Arc::downgrade(self);
            let registered =
                reactor.add_system_event_trigger(TriggerPhase::During, Event::Shutdown, move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.close();
                    }
                });
            // Refused once the reactor has shut down: no shutdown is left to close the pool.
            let Ok(id) = registered else {
                return;
            };
            let mut st = lock(&self.state);
            if st.phase == Phase::Started {
                st.shutdown_trigger = Some(id);
            } else {
                // Closed meanwhile: the trigger would find nothing to do.
                drop(st);
                let _ = reactor.remove_system_event_trigger(id);
            }
        }
    }

    /// Starts threads while there are fewer than `min`, or queued work no idle thread
    /// will take, up to `max`.
    fn grow(self: &Arc<Self>, st: &mut State<B>) {
        st.handles.retain(|h| !h.is_finished());
        while st.workers < self.max && (st.workers < self.min || st.queue.len() > st.idle) {
            st.spawned += 1;
            let inner = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name(format!("{}-{}", self.name, st.spawned))
                .spawn(move || inner.work());
            match spawned {
                Ok(handle) => {
                    st.workers += 1;
                    st.idle += 1;
                    st.handles.push(handle);
                }
                Err(e) => {
                    // The work stays queued for the threads that exist or come later.
                    crate::log::failure("while starting a connection pool thread", &Failure::new(e));
                    return;
                }
            }
        }
    }

    /// A worker thread: takes jobs until the pool closes (or drains), then closes its
    /// connection.
    fn work(self: Arc<Self>) {
        let mut conn = Conn { conn: None };
        let mut st = lock(&self.state);
        loop {
            if let Some(job) = st.queue.pop_front() {
                st.idle -= 1;
                drop(st);
                // Jobs catch the user's panics; this guards the thread's bookkeeping against
                // a panic in a captured value's drop.
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| job(&self, Some(&mut conn)))) {
                    crate::log::failure("while running a connection pool job", &Failure::from_panic(panic));
                }
                st = lock(&self.state);
                st.idle += 1;
                continue;
            }
            if matches!(st.phase, Phase::Closed | Phase::Draining) {
                break;
            }
            st = self
                .work
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        st.idle -= 1;
        st.workers -= 1;
        drop(st);
        conn.discard(&self);
    }

    /// Twisted's `close`/`finalClose`: refuses new and queued calls with [`PoolClosed`],
    /// waits for the calls in progress, joins the threads (which close their
    /// connections) and removes the pool's reactor triggers. Closing twice does nothing.
    pub(super) fn close(self: &Arc<Self>) {
        let (queued, handles, triggers) = {
            let mut st = lock(&self.state);
            if st.phase == Phase::Closed {
                return;
            }
            st.phase = Phase::Closed;
            (
                std::mem::take(&mut st.queue),
                std::mem::take(&mut st.handles),
                [st.start_trigger.take(), st.shutdown_trigger.take()],
            )
        };
        self.work.notify_all();
        if let Some(reactor) = &self.reactor {
            for id in triggers.into_iter().flatten() {
                // Unknown when it is the trigger running this close: nothing to remove.
                let _ = reactor.remove_system_event_trigger(id);
            }
        }
        for job in queued {
            job(self, None);
        }
        let me = std::thread::current().id();
        for h in handles {
            if h.thread().id() != me {
                // Jobs catch panics, so a worker never ends by panicking.
                let _ = h.join();
            }
        }
        // Results of the calls that were in progress: hand them over now when this is the
        // reactor thread (its queue of thread calls may close right after this trigger).
        if let Some(reactor) = &self.reactor {
            if reactor.is_reactor_thread() || !reactor.running() {
                drain(&self.pending);
            }
        }
    }

    /// What dropping the last handle does: no call can be made any more, so the threads
    /// finish what is queued and exit; an unstarted pool refuses its queue.
    pub(super) fn release(self: &Arc<Self>) {
        let (queued, triggers) = {
            let mut st = lock(&self.state);
            let queued = match st.phase {
                Phase::Waiting => std::mem::take(&mut st.queue),
                Phase::Started => VecDeque::new(),
                Phase::Draining | Phase::Closed => return,
            };
            st.phase = Phase::Draining;
            (queued, [st.start_trigger.take(), st.shutdown_trigger.take()])
        };
        self.work.notify_all();
        if let Some(reactor) = &self.reactor {
            for id in triggers.into_iter().flatten() {
                let _ = reactor.remove_system_event_trigger(id);
            }
        }
        for job in queued {
            job(self, None);
        }
    }

    /// Hands a result to its Deferred: on the reactor thread when the pool has a reactor
    /// (as `defer_to_thread` does), otherwise right here on the pool thread.
    pub(super) fn deliver(&self, delivery: Delivery) {
        let Some(reactor) = &self.reactor else {
            delivery();
            return;
        };
        let first = {
            let mut pending = lock(&self.pending);
            pending.push(delivery);
            pending.len() == 1
        };
        if first {
            // One reactor call per batch of results. If the reactor drops the call unrun
            // (it shut down), the guard's drop delivers them where it is dropped.
            let guard = DrainGuard(Arc::clone(&self.pending));
            let _ = reactor.call_from_thread(move || drop(guard));
        }
    }

    /// Logs a failure met on a pool thread: on the reactor thread, in order with the
    /// results, when the pool has a reactor (where tests can capture it), else here.
    pub(super) fn log(&self, context: &'static str, failure: Failure) {
        if self.reactor.is_some() {
            self.deliver(Box::new(move || crate::log::failure(context, &failure)));
        } else {
            crate::log::failure(context, &failure);
        }
    }

    /// The number of live threads.
    pub(super) fn workers(&self) -> usize {
        lock(&self.state).workers
    }
}

/// Delivers every pending result when dropped: run by the reactor, or dropped unrun.
struct DrainGuard(Arc<Mutex<Vec<Delivery>>>);

impl Drop for DrainGuard {
    fn drop(&mut self) {
        drain(&self.0);
    }
}

fn drain(pending: &Mutex<Vec<Delivery>>) {
    let batch = std::mem::take(&mut *lock(pending));
    for delivery in batch {
        delivery();
    }
}

/// A worker's connection, opened on first use and replaced after it breaks.
pub(super) struct Conn<B: Backend> {
    conn: Option<B::Connection>,
}

impl<B: Backend> Conn<B> {
    /// The connection, opened (and passed to the on-connect hook) if there is none.
    pub(super) fn get(&mut self, inner: &Inner<B>) -> Result<&mut B::Connection, Failure> {
        if inner.reconnect && self.conn.as_ref().is_some_and(|c| inner.backend.is_closed(c)) {
            // Known dead without asking the server (Twisted's failing `cursor()`): replace
            // it before the call runs.
            inner.log(
                "connection lost, reconnecting",
                Failure::msg("database connection is closed"),
            );
            self.discard(inner);
        }
        if self.conn.is_none() {
            let mut conn = inner.backend.connect().map_err(Failure::new)?;
            if let Some(openfun) = &inner.openfun {
                let hooked = catch_unwind(AssertUnwindSafe(|| openfun(&mut conn)))
                    .unwrap_or_else(|panic| Err(Failure::from_panic(panic)));
                if let Err(failure) = hooked {
                    if let Err(e) = inner.backend.close(conn) {
                        inner.log("connection close failed", Failure::new(e));
                    }
                    return Err(failure);
                }
            }
            tracing::debug!(pool = %inner.name, "adbapi connecting");
            self.conn = Some(conn);
        }
        Ok(self
            .conn
            .as_mut()
            .expect("invariant: the connection was just opened"))
    }

    /// The open connection, if any.
    pub(super) fn current(&mut self) -> Option<&mut B::Connection> {
        self.conn.as_mut()
    }

    /// Closes the connection, if open; the next [`get`](Self::get) opens a new one.
    pub(super) fn discard(&mut self, inner: &Inner<B>) {
        if let Some(conn) = self.conn.take() {
            tracing::debug!(pool = %inner.name, "adbapi closing");
            if let Err(e) = inner.backend.close(conn) {
                inner.log("connection close failed", Failure::new(e));
            }
        }
    }
}

/// The failure a refused job fires with.
pub(super) fn refused() -> Failure {
    Failure::new(PoolClosed)
}
