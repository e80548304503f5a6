// Tests: tests/threads.rs, tests/conformance/test_threads.rs

//! `ThreadPool`: a bounded pool of OS threads for blocking work, after Twisted's
//! `twisted.python.threadpool.ThreadPool`. Re-exported as [`crate::threads::ThreadPool`].

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::failure::Failure;

use crate::lock::lock;

/// The pool has been stopped and takes no more work.
///
/// ```
/// use tokio_twisted::threads::{ThreadPool, ThreadPoolStopped};
///
/// let pool = ThreadPool::new(2);
/// pool.stop();
/// assert_eq!(pool.call_in_thread(|| {}), Err(ThreadPoolStopped));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("thread pool has been stopped")]
pub struct ThreadPoolStopped;

type Job = Box<dyn FnOnce() + Send>;

/// A pool of at most `max` threads running blocking functions: Twisted's `ThreadPool`
/// (with `minthreads = 0`).
///
/// Threads are created on demand, one per queued job that no idle thread can take, up to
/// the maximum; idle threads wait for more work until the pool stops. Work submitted
/// before [`start`](Self::start) waits in the queue. [`stop`](Self::stop) refuses new work,
/// lets the threads finish what is queued, and joins them.
///
/// The reactor owns one (see
/// [`ReactorHandle::thread_pool`](crate::reactor::ReactorHandle::thread_pool)), started when
/// it runs and stopped when it shuts down; create your own for
/// [`defer_to_thread_pool`](crate::threads::defer_to_thread_pool). Clones share one pool;
/// when the last clone is dropped, the pool stops without waiting for its threads.
///
/// ```
/// use std::sync::mpsc;
/// use tokio_twisted::threads::ThreadPool;
///
/// let pool = ThreadPool::new(4);
/// let (tx, rx) = mpsc::channel();
/// pool.call_in_thread(move || tx.send(6 * 7).unwrap()).unwrap();
/// assert_eq!(pool.worker_count(), 0); // queued until started
/// pool.start();
/// assert_eq!(rx.recv().unwrap(), 42);
/// pool.stop();
/// assert!(pool.stopped());
/// ```
#[doc(alias = "twisted.python.threadpool.ThreadPool")]
#[derive(Clone)]
pub struct ThreadPool {
    owner: Arc<Owner>,
}

/// Stops the pool when the last public handle goes away; the workers only hold `Inner`.
struct Owner {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when work is queued, the maximum shrinks, or the pool stops.
    work: Condvar,
}

/// Where a pool is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Created: work queues up and no thread exists. Left by `start` or `stop`.
    Waiting,
    /// Threads are created on demand up to the maximum. Left by `stop`.
    Started,
    /// Refuses work; threads finish the queue and exit. Never left.
    Stopped,
}

struct State {
    phase: Phase,
    queue: VecDeque<Job>,
    max: usize,
    /// Live worker threads.
    workers: usize,
    /// Workers not running a job (waiting on `work`, or just spawned).
    idle: usize,
    handles: Vec<JoinHandle<()>>,
    spawned: u64,
}

impl ThreadPool {
    /// A pool of at most `max` threads, not started.
    ///
    /// ```
    /// use tokio_twisted::threads::ThreadPool;
    /// let pool = ThreadPool::new(10);
    /// assert_eq!(pool.max_threads(), 10);
    /// assert!(!pool.started());
    /// ```
    pub fn new(max: usize) -> ThreadPool {
        ThreadPool {
            owner: Arc::new(Owner {
                inner: Arc::new(Inner {
                    state: Mutex::new(State {
                        phase: Phase::Waiting,
                        queue: VecDeque::new(),
                        max,
                        workers: 0,
                        idle: 0,
                        handles: Vec::new(),
                        spawned: 0,
                    }),
                    work: Condvar::new(),
                }),
            }),
        }
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.owner.inner
    }

    /// Starts running queued and future work. Starting a started or stopped pool does
    /// nothing.
    ///
    /// ```
    /// use tokio_twisted::threads::ThreadPool;
    /// let pool = ThreadPool::new(1);
    /// pool.start();
    /// assert!(pool.started());
    /// # pool.stop();
    /// ```
    pub fn start(&self) {
        let mut st = lock(&self.inner().state);
        if st.phase == Phase::Waiting {
            st.phase = Phase::Started;
            Inner::grow(self.inner(), &mut st);
        }
    }

    /// Runs `f` on one of the pool's threads: Twisted's `callInThread`. A panic in `f` is
    /// logged and the thread carries on.
    ///
    /// # Errors
    ///
    /// [`ThreadPoolStopped`] once [`stop`](Self::stop) has been called.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use tokio_twisted::threads::ThreadPool;
    ///
    /// let pool = ThreadPool::new(2);
    /// pool.start();
    /// let (tx, rx) = mpsc::channel();
    /// pool.call_in_thread(move || tx.send(std::thread::current().id()).unwrap()).unwrap();
    /// assert_ne!(rx.recv().unwrap(), std::thread::current().id());
    /// pool.stop();
    /// ```
    #[doc(alias = "callInThread")]
    pub fn call_in_thread<F>(&self, f: F) -> Result<(), ThreadPoolStopped>
    where
        F: FnOnce() + Send + 'static,
    {
        let mut st = lock(&self.inner().state);
        if st.phase == Phase::Stopped {
            return Err(ThreadPoolStopped);
        }
        st.queue.push_back(Box::new(f));
        if st.phase == Phase::Started {
            Inner::grow(self.inner(), &mut st);
            if st.idle > 0 {
                self.inner().work.notify_one();
            }
        }
        Ok(())
    }

    /// Sets the maximum number of threads: Twisted's `adjustPoolsize(maxthreads=n)`.
    /// Growing starts threads for queued work; shrinking retires threads as they finish
    /// their current job.
    ///
    /// ```
    /// use tokio_twisted::threads::ThreadPool;
    /// let pool = ThreadPool::new(10);
    /// pool.adjust_max(4);
    /// assert_eq!(pool.max_threads(), 4);
    /// ```
    #[doc(alias = "adjustPoolsize")]
    pub fn adjust_max(&self, max: usize) {
        let mut st = lock(&self.inner().state);
        st.max = max;
        if st.phase == Phase::Started {
            Inner::grow(self.inner(), &mut st);
        }
        self.inner().work.notify_all();
    }

    /// The maximum number of threads (Twisted's `max`).
    ///
    /// ```
    /// # use tokio_twisted::threads::ThreadPool;
    /// assert_eq!(ThreadPool::new(3).max_threads(), 3);
    /// ```
    #[doc(alias = "max")]
    pub fn max_threads(&self) -> usize {
        lock(&self.inner().state).max
    }

    /// How many threads the pool has right now (Twisted's `len(threads)`).
    ///
    /// ```
    /// # use tokio_twisted::threads::ThreadPool;
    /// assert_eq!(ThreadPool::new(3).worker_count(), 0);
    /// ```
    #[doc(alias = "workers")]
    pub fn worker_count(&self) -> usize {
        lock(&self.inner().state).workers
    }

    /// Whether the pool is started and not stopped (Twisted's `started`).
    ///
    /// ```
    /// # use tokio_twisted::threads::ThreadPool;
    /// let pool = ThreadPool::new(1);
    /// pool.start();
    /// assert!(pool.started());
    /// pool.stop();
    /// assert!(!pool.started());
    /// ```
    pub fn started(&self) -> bool {
        lock(&self.inner().state).phase == Phase::Started
    }

    /// Whether [`stop`](Self::stop) has been called (Twisted's `joined`).
    ///
    /// ```
    /// # use tokio_twisted::threads::ThreadPool;
    /// let pool = ThreadPool::new(1);
    /// assert!(!pool.stopped());
    /// pool.stop();
    /// assert!(pool.stopped());
    /// ```
    #[doc(alias = "joined")]
    pub fn stopped(&self) -> bool {
        lock(&self.inner().state).phase == Phase::Stopped
    }

    /// Stops the pool: no more work is accepted, the threads finish the queued work and
    /// exit, and this call waits for them (except for the calling thread, if it is one of
    /// them). Work queued on a pool that never started is dropped.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use tokio_twisted::threads::ThreadPool;
    ///
    /// let pool = ThreadPool::new(2);
    /// pool.start();
    /// let done = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..5 {
    ///     let done = done.clone();
    ///     pool.call_in_thread(move || { done.fetch_add(1, Ordering::SeqCst); }).unwrap();
    /// }
    /// pool.stop(); // waits for the queued work
    /// assert_eq!(done.load(Ordering::SeqCst), 5);
    /// ```
    pub fn stop(&self) {
        self.inner().stop(true);
    }

    /// As [`stop`](Self::stop), without waiting for the threads.
    pub(crate) fn stop_detached(&self) {
        self.inner().stop(false);
    }
}

impl Inner {
    /// Starts threads for queued work no idle thread will take, up to the maximum.
    fn grow(self: &Arc<Self>, st: &mut State) {
        st.handles.retain(|h| !h.is_finished());
        // A new thread counts as idle from its spawn: it looks at the queue before waiting.
        while st.workers < st.max && st.queue.len() > st.idle {
            st.spawned += 1;
            let inner = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name(format!("tokio-twisted-pool-{}", st.spawned))
                .spawn(move || inner.work());
            match spawned {
                Ok(handle) => {
                    st.workers += 1;
                    st.idle += 1;
                    st.handles.push(handle);
                }
                Err(e) => {
                    // The work stays queued for the threads that exist or come later.
                    crate::log::failure("while starting a thread pool thread", &Failure::new(e));
                    return;
                }
            }
        }
    }

    fn work(self: Arc<Self>) {
        let mut st = lock(&self.state);
        loop {
            if st.workers > st.max {
                break;
            }
            if let Some(job) = st.queue.pop_front() {
                st.idle -= 1;
                drop(st);
                if let Err(panic) = catch_unwind(AssertUnwindSafe(job)) {
                    crate::log::failure("while running a thread pool job", &Failure::from_panic(panic));
                }
                st = lock(&self.state);
                st.idle += 1;
                continue;
            }
            if st.phase == Phase::Stopped {
                break;
            }
            st = self
                .work
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        st.idle -= 1;
        st.workers -= 1;
    }

    fn stop(&self, join: bool) {
        let mut st = lock(&self.state);
        let dropped = if st.phase == Phase::Waiting {
            std::mem::take(&mut st.queue)
        } else {
            VecDeque::new()
        };
        st.phase = Phase::Stopped;
        let handles = std::mem::take(&mut st.handles);
        drop(st);
        // Jobs may own values whose drop runs user code: never under the lock.
        drop(dropped);
        self.work.notify_all();
        if join {
            let me = std::thread::current().id();
            for h in handles {
                if h.thread().id() != me {
                    // A worker that panicked outside a job cannot happen: jobs are caught.
                    let _ = h.join();
                }
            }
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.stop(false);
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner().state);
        f.debug_struct("ThreadPool")
            .field("phase", &st.phase)
            .field("max", &st.max)
            .field("workers", &st.workers)
            .field("queued", &st.queue.len())
            .finish()
    }
}
