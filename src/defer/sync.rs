// Tests: tests/defer_sync.rs, tests/conformance/test_defer_primitives.rs (OtherPrimitivesTests)

//! Concurrency primitives for event-driven code: [`DeferredLock`], [`DeferredSemaphore`]
//! and [`DeferredQueue`] (Twisted's `defer.DeferredLock`, `DeferredSemaphore`,
//! `DeferredQueue`).
//!
//! Each is a cheap `Clone` handle to shared state, `Send + Sync`. Waiting is a Deferred:
//! it fires at once when the resource is free, otherwise when it is handed over, in FIFO
//! order. The hand-over is synchronous: the waiter's callbacks run inside the
//! `release()`/`put()` that serves it, as in Twisted. Cancelling a waiting Deferred removes
//! it from the queue and fails it with [`CancelledError`](super::CancelledError);
//! cancelling one that was already served does nothing.
//!
//! No lock of this module is held while user code runs, so callbacks may acquire, release,
//! put and get re-entrantly.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::failure::Failure;

use super::deferred::{Deferred, IntoOutcome, Resolver, maybe_deferred, succeed};

/// `release()` was called on a lock or semaphore that was not acquired (Twisted asserts
/// instead).
///
/// ```
/// use tokio_twisted::defer::{DeferredLock, NotAcquiredError};
///
/// assert_eq!(DeferredLock::new().release(), Err(NotAcquiredError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("released a lock or semaphore that was not acquired")]
pub struct NotAcquiredError;

/// A [`DeferredSemaphore`] was asked for zero tokens (Twisted's `ValueError` for
/// `tokens < 1`).
///
/// ```
/// use tokio_twisted::defer::{DeferredSemaphore, InvalidTokensError};
///
/// assert_eq!(DeferredSemaphore::new(0).unwrap_err(), InvalidTokensError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("a semaphore needs at least one token")]
pub struct InvalidTokensError;

/// [`DeferredQueue::put`] on a full queue (Twisted's `QueueOverflow`). The rejected item
/// is handed back.
///
/// ```
/// use tokio_twisted::defer::DeferredQueue;
///
/// let queue = DeferredQueue::new().with_size(0);
/// let overflow = queue.put("item").unwrap_err();
/// assert_eq!(overflow.into_inner(), "item");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueOverflow<T>(pub T);

impl<T> QueueOverflow<T> {
    /// The item that did not fit.
    ///
    /// ```
    /// # use tokio_twisted::defer::QueueOverflow;
    /// assert_eq!(QueueOverflow(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueOverflow<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueOverflow(..)")
    }
}

impl<T> fmt::Display for QueueOverflow<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is full")
    }
}

impl<T> std::error::Error for QueueOverflow<T> {}

/// [`DeferredQueue::get`] on an empty queue whose backlog of waiting gets is full
/// (Twisted's `QueueUnderflow`).
///
/// ```
/// use tokio_twisted::defer::{DeferredQueue, QueueUnderflow};
///
/// let queue = DeferredQueue::<i32>::new().with_backlog(0);
/// assert_eq!(queue.get().unwrap_err(), QueueUnderflow);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("too many gets are already waiting on the queue")]
pub struct QueueUnderflow;

fn lock<S>(m: &Mutex<S>) -> MutexGuard<'_, S> {
    // User code never runs under these locks, so a poisoned one is still consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// FIFO waiters, each with an id so that its canceller can find it.
struct Waiters<V> {
    next_id: u64,
    queue: VecDeque<(u64, Resolver<V>)>,
}

impl<V> Default for Waiters<V> {
    fn default() -> Self {
        Waiters {
            next_id: 0,
            queue: VecDeque::new(),
        }
    }
}

impl<V: Send + 'static> Waiters<V> {
    fn pop(&mut self) -> Option<Resolver<V>> {
        self.queue.pop_front().map(|(_, r)| r)
    }

    fn len(&self) -> usize {
        self.queue.len()
    }
}

/// Appends a waiter to `field(state)` and returns its Deferred, whose canceller removes
/// it. Called with the state locked; creating a Deferred runs no user code.
fn enqueue<S, V>(shared: &Arc<Mutex<S>>, state: &mut S, field: fn(&mut S) -> &mut Waiters<V>) -> Deferred<V>
where
    S: Send + 'static,
    V: Send + 'static,
{
    let waiters = field(state);
    let id = waiters.next_id;
    waiters.next_id += 1;
    let weak = Arc::downgrade(shared);
    let (d, resolver) = Deferred::with_canceller(move |_: &Resolver<V>| {
        if let Some(shared) = weak.upgrade() {
            let removed = {
                let mut st = lock(&shared);
                let q = &mut field(&mut st).queue;
                q.iter().position(|(i, _)| *i == id).and_then(|at| q.remove(at))
            };
            // Dropped here, with the state unlocked.
            drop(removed);
        }
    });
    field(state).queue.push_back((id, resolver));
    d
}

/// Releases after `run`'s function finished, passing its result on (a failed release
/// replaces it, as Twisted's assertion would).
fn release_and_return<U>(
    released: Result<(), NotAcquiredError>,
    result: Result<U, Failure>,
) -> Result<U, Failure> {
    released?;
    result
}

/// A lock for event-driven code: Twisted's `DeferredLock`.
///
/// [`acquire`](Self::acquire) returns a Deferred that fires with the lock (a clone of this
/// handle) once it is yours: at once if it is free, otherwise after the earlier waiters,
/// in order. [`release`](Self::release) hands it straight to the next waiter, whose
/// callbacks run inside `release`. [`run`](Self::run) wraps a function in acquire and
/// release.
///
/// In async code, `lock.acquire().await?` then `lock.release()?` is Twisted's
/// `async with lock:`; [`acquire_guard`](Self::acquire_guard) gives a guard that releases
/// when dropped, so an early return or `?` cannot leak the lock.
///
/// ```
/// use tokio_twisted::defer::{CancelledError, DeferredLock};
/// use tokio_twisted::testing::failure_result_of;
///
/// let lock = DeferredLock::new();
/// let first = lock.acquire();
/// assert!(first.called() && lock.locked());
/// let second = lock.acquire(); // queued
/// assert!(!second.called());
/// let third = lock.acquire();
/// third.cancel(); // leaves the queue
/// assert!(failure_result_of(third).check::<CancelledError>());
/// lock.release().unwrap(); // handed to `second`
/// assert!(second.called() && lock.locked());
/// lock.release().unwrap();
/// assert!(!lock.locked());
/// assert!(lock.release().is_err()); // not held: NotAcquiredError
/// ```
#[doc(alias = "twisted.internet.defer.DeferredLock")]
#[derive(Clone, Default)]
pub struct DeferredLock {
    shared: Arc<Mutex<LockState>>,
}

#[derive(Default)]
struct LockState {
    /// Entered by an acquire that finds the lock free; left by a release with no waiter.
    locked: bool,
    waiters: Waiters<DeferredLock>,
}

impl DeferredLock {
    /// A new, unlocked lock.
    ///
    /// ```
    /// assert!(!tokio_twisted::defer::DeferredLock::new().locked());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the lock is held (Twisted's `locked`).
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredLock;
    ///
    /// let lock = DeferredLock::new();
    /// let _held = lock.acquire();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        lock(&self.shared).locked
    }

    /// How many acquires are waiting.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredLock;
    ///
    /// let lock = DeferredLock::new();
    /// let (_a, _b) = (lock.acquire(), lock.acquire());
    /// assert_eq!(lock.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        lock(&self.shared).waiters.len()
    }

    /// Asks for the lock: the Deferred fires with the lock once it is yours. Cancelling
    /// it while it waits withdraws the request (it fails with `CancelledError`);
    /// cancelling it once granted does nothing, and you still hold the lock.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredLock;
    ///
    /// let lock = DeferredLock::new();
    /// let granted = lock.acquire();
    /// granted.cancel(); // already granted: no effect
    /// assert!(granted.result().unwrap().is_ok());
    /// assert!(lock.locked());
    /// ```
    pub fn acquire(&self) -> Deferred<DeferredLock> {
        let mut st = lock(&self.shared);
        if st.locked {
            return enqueue(&self.shared, &mut st, |s| &mut s.waiters);
        }
        st.locked = true;
        drop(st);
        succeed(self.clone())
    }

    /// Releases the lock, handing it to the oldest waiter if there is one (its callbacks
    /// run before this returns, and the lock stays locked).
    ///
    /// # Errors
    ///
    /// [`NotAcquiredError`] if the lock is not held.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tokio_twisted::defer::DeferredLock;
    ///
    /// let lock = DeferredLock::new();
    /// let _mine = lock.acquire();
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let l = log.clone();
    /// let _next = lock.acquire().add_callback(move |_lock| {
    ///     l.lock().unwrap().push("waiter runs inside release");
    ///     Ok(())
    /// });
    /// lock.release().unwrap();
    /// assert_eq!(log.lock().unwrap().len(), 1);
    /// ```
    pub fn release(&self) -> Result<(), NotAcquiredError> {
        loop {
            let mut st = lock(&self.shared);
            if !st.locked {
                return Err(NotAcquiredError);
            }
            let Some(next) = st.waiters.pop() else {
                st.locked = false;
                return Ok(());
            };
            drop(st);
            // Still locked: ownership passes to `next`. It can only refuse if it was
            // cancelled at this very moment on another thread; then try the next one.
            if next.callback(self.clone()).is_ok() {
                return Ok(());
            }
        }
    }

    /// Acquires, calls `f`, and releases when `f`'s result is known (after the Deferred
    /// it returns fires, if it returns one), on success and failure alike: Twisted's
    /// `run`. The result of `f` passes through.
    ///
    /// ```
    /// use tokio_twisted::defer::{Deferred, DeferredLock};
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let lock = DeferredLock::new();
    /// let (work, done) = Deferred::<i32>::new();
    /// let d = lock.run(move || work); // held until `work` fires
    /// assert!(lock.locked());
    /// done.callback(7).unwrap();
    /// assert!(!lock.locked());
    /// assert_eq!(success_result_of(d), 7);
    ///
    /// let d = lock.run(|| Err::<i32, _>(Failure::msg("disk full")));
    /// assert!(!lock.locked()); // released on the failure path too
    /// assert_eq!(failure_result_of(d).error_message(), "disk full");
    /// ```
    pub fn run<U, R, F>(&self, f: F) -> Deferred<U>
    where
        U: Send + 'static,
        R: IntoOutcome<U>,
        F: FnOnce() -> R + Send + 'static,
    {
        let this = self.clone();
        self.acquire().add_callback(move |_| {
            maybe_deferred(f).add_both(move |result| release_and_return(this.release(), result))
        })
    }

    /// Acquires the lock for a guard that releases it when dropped: the RAII form of
    /// Twisted's `async with lock:`.
    ///
    /// If the Deferred is dropped while still waiting, the lock is released again as soon
    /// as it is handed to this request.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredLock;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = DeferredLock::new();
    /// {
    ///     let _guard = lock.acquire_guard().await.unwrap();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// # });
    /// ```
    #[doc(alias = "__aenter__")]
    pub fn acquire_guard(&self) -> Deferred<DeferredLockGuard> {
        self.acquire().add_callback(|lock| Ok(DeferredLockGuard { lock }))
    }
}

impl fmt::Debug for DeferredLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.shared);
        f.debug_struct("DeferredLock")
            .field("locked", &st.locked)
            .field("waiting", &st.waiters.len())
            .finish()
    }
}

/// Holds a [`DeferredLock`] and releases it when dropped; from
/// [`DeferredLock::acquire_guard`].
///
/// ```
/// use tokio_twisted::defer::DeferredLock;
/// use tokio_twisted::testing::success_result_of;
///
/// let lock = DeferredLock::new();
/// let guard = success_result_of(lock.acquire_guard());
/// let waiter = lock.acquire();
/// drop(guard); // hands the lock to `waiter`
/// assert!(waiter.called());
/// ```
#[must_use = "dropping the guard releases the lock"]
#[derive(Debug)]
pub struct DeferredLockGuard {
    lock: DeferredLock,
}

impl Drop for DeferredLockGuard {
    fn drop(&mut self) {
        // Fails only if the holder also released by hand; the lock is free either way.
        let _ = self.lock.release();
    }
}

/// A semaphore for event-driven code: Twisted's `DeferredSemaphore`.
///
/// At most [`limit`](Self::limit) holders at a time; further acquires wait in FIFO
/// order. Otherwise it behaves as [`DeferredLock`]. To cap the concurrency of many jobs,
/// wrap each in [`run`](Self::run), or see [`Cooperator`](crate::task::Cooperator).
///
/// ```
/// use tokio_twisted::defer::{Deferred, DeferredSemaphore};
///
/// let sem = DeferredSemaphore::new(2).unwrap();
/// let jobs: Vec<_> = (0..3).map(|_| Deferred::<()>::new()).collect();
/// let mut resolvers = Vec::new();
/// let mut results = Vec::new();
/// for (d, r) in jobs {
///     results.push(sem.run(move || d));
///     resolvers.push(r);
/// }
/// assert_eq!(sem.tokens(), 0); // two jobs run, the third waits
/// resolvers[0].callback(()).unwrap(); // the third starts
/// assert!(results[0].called());
/// assert_eq!(sem.tokens(), 0);
/// resolvers[1].callback(()).unwrap();
/// resolvers[2].callback(()).unwrap();
/// assert_eq!(sem.tokens(), 2);
/// assert!(sem.release().is_err()); // more releases than acquires
/// ```
#[doc(alias = "twisted.internet.defer.DeferredSemaphore")]
#[derive(Clone)]
pub struct DeferredSemaphore {
    shared: Arc<Mutex<SemState>>,
}

struct SemState {
    /// Free tokens: `limit` minus the current holders.
    tokens: usize,
    limit: usize,
    waiters: Waiters<DeferredSemaphore>,
}

impl DeferredSemaphore {
    /// A semaphore with `tokens` free tokens, which is also its limit.
    ///
    /// # Errors
    ///
    /// [`InvalidTokensError`] if `tokens` is 0.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredSemaphore;
    ///
    /// let sem = DeferredSemaphore::new(3).unwrap();
    /// assert_eq!((sem.tokens(), sem.limit()), (3, 3));
    /// assert!(DeferredSemaphore::new(0).is_err());
    /// ```
    pub fn new(tokens: usize) -> Result<Self, InvalidTokensError> {
        if tokens == 0 {
            return Err(InvalidTokensError);
        }
        Ok(DeferredSemaphore {
            shared: Arc::new(Mutex::new(SemState {
                tokens,
                limit: tokens,
                waiters: Waiters::default(),
            })),
        })
    }

    /// Free tokens (Twisted's `tokens`).
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredSemaphore;
    ///
    /// let sem = DeferredSemaphore::new(2).unwrap();
    /// let _held = sem.acquire();
    /// assert_eq!(sem.tokens(), 1);
    /// ```
    pub fn tokens(&self) -> usize {
        lock(&self.shared).tokens
    }

    /// The most holders at once (Twisted's `limit`).
    ///
    /// ```
    /// assert_eq!(tokio_twisted::defer::DeferredSemaphore::new(4).unwrap().limit(), 4);
    /// ```
    pub fn limit(&self) -> usize {
        lock(&self.shared).limit
    }

    /// How many acquires are waiting.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredSemaphore;
    ///
    /// let sem = DeferredSemaphore::new(1).unwrap();
    /// let (_a, _b) = (sem.acquire(), sem.acquire());
    /// assert_eq!(sem.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        lock(&self.shared).waiters.len()
    }

    /// Asks for a token: the Deferred fires with the semaphore once you have one.
    /// Cancelling it while it waits withdraws the request (it fails with
    /// `CancelledError`); cancelling it once granted does nothing.
    ///
    /// ```
    /// use tokio_twisted::defer::{CancelledError, DeferredSemaphore};
    /// use tokio_twisted::testing::failure_result_of;
    ///
    /// let sem = DeferredSemaphore::new(1).unwrap();
    /// let _held = sem.acquire();
    /// let waiting = sem.acquire();
    /// waiting.cancel();
    /// assert!(failure_result_of(waiting).check::<CancelledError>());
    /// assert_eq!(sem.waiting(), 0);
    /// ```
    pub fn acquire(&self) -> Deferred<DeferredSemaphore> {
        let mut st = lock(&self.shared);
        if st.tokens == 0 {
            return enqueue(&self.shared, &mut st, |s| &mut s.waiters);
        }
        st.tokens -= 1;
        drop(st);
        succeed(self.clone())
    }

    /// Gives a token back, handing it to the oldest waiter if there is one (its callbacks
    /// run before this returns).
    ///
    /// # Errors
    ///
    /// [`NotAcquiredError`] if every token is already free.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredSemaphore;
    ///
    /// let sem = DeferredSemaphore::new(1).unwrap();
    /// let _held = sem.acquire();
    /// let next = sem.acquire();
    /// sem.release().unwrap();
    /// assert!(next.called());
    /// assert_eq!(sem.tokens(), 0);
    /// ```
    pub fn release(&self) -> Result<(), NotAcquiredError> {
        let mut st = lock(&self.shared);
        if st.tokens >= st.limit {
            return Err(NotAcquiredError);
        }
        loop {
            let Some(next) = st.waiters.pop() else {
                st.tokens += 1;
                return Ok(());
            };
            drop(st);
            // The token passes to `next`, unless it was cancelled at this very moment on
            // another thread; then offer it to the next waiter.
            if next.callback(self.clone()).is_ok() {
                return Ok(());
            }
            st = lock(&self.shared);
        }
    }

    /// Acquires a token, calls `f`, and releases when `f`'s result is known, on success
    /// and failure alike: Twisted's `run`.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredSemaphore;
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let sem = DeferredSemaphore::new(1).unwrap();
    /// assert_eq!(success_result_of(sem.run(|| Ok(5))), 5);
    /// let failed = sem.run(|| Err::<i32, _>(Failure::msg("no")));
    /// assert_eq!(failure_result_of(failed).error_message(), "no");
    /// assert_eq!(sem.tokens(), 1);
    /// ```
    pub fn run<U, R, F>(&self, f: F) -> Deferred<U>
    where
        U: Send + 'static,
        R: IntoOutcome<U>,
        F: FnOnce() -> R + Send + 'static,
    {
        let this = self.clone();
        self.acquire().add_callback(move |_| {
            maybe_deferred(f).add_both(move |result| release_and_return(this.release(), result))
        })
    }

    /// Acquires a token for a guard that gives it back when dropped: the RAII form of
    /// Twisted's `async with semaphore:`.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredSemaphore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let sem = DeferredSemaphore::new(3).unwrap();
    /// let a = sem.acquire_guard().await.unwrap();
    /// let b = sem.acquire_guard().await.unwrap();
    /// assert_eq!(sem.tokens(), 1);
    /// drop((a, b));
    /// assert_eq!(sem.tokens(), 3);
    /// # });
    /// ```
    #[doc(alias = "__aenter__")]
    pub fn acquire_guard(&self) -> Deferred<DeferredSemaphoreGuard> {
        self.acquire()
            .add_callback(|sem| Ok(DeferredSemaphoreGuard { sem }))
    }
}

impl fmt::Debug for DeferredSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.shared);
        f.debug_struct("DeferredSemaphore")
            .field("tokens", &st.tokens)
            .field("limit", &st.limit)
            .field("waiting", &st.waiters.len())
            .finish()
    }
}

/// Holds one token of a [`DeferredSemaphore`] and gives it back when dropped; from
/// [`DeferredSemaphore::acquire_guard`].
///
/// ```
/// use tokio_twisted::defer::DeferredSemaphore;
/// use tokio_twisted::testing::success_result_of;
///
/// let sem = DeferredSemaphore::new(1).unwrap();
/// let guard = success_result_of(sem.acquire_guard());
/// assert_eq!(sem.tokens(), 0);
/// drop(guard);
/// assert_eq!(sem.tokens(), 1);
/// ```
#[must_use = "dropping the guard gives the token back"]
#[derive(Debug)]
pub struct DeferredSemaphoreGuard {
    sem: DeferredSemaphore,
}

impl Drop for DeferredSemaphoreGuard {
    fn drop(&mut self) {
        // Fails only if the holder also released by hand.
        let _ = self.sem.release();
    }
}

/// An event-driven queue: Twisted's `DeferredQueue`.
///
/// [`get`](Self::get) returns a Deferred that fires with the next item: at once if one is
/// buffered, otherwise when a [`put`](Self::put) delivers it (synchronously, inside `put`),
/// oldest get first. [`with_size`](Self::with_size) bounds the buffer
/// ([`QueueOverflow`]) and [`with_backlog`](Self::with_backlog) the number of waiting gets
/// ([`QueueUnderflow`]); both errors are returned at once.
///
/// ```
/// use tokio_twisted::defer::DeferredQueue;
/// use tokio_twisted::testing::success_result_of;
///
/// let queue = DeferredQueue::new().with_size(1);
/// let waiting = queue.get().unwrap();
/// queue.put("first").unwrap(); // delivered to the waiting get
/// assert_eq!(success_result_of(waiting), "first");
/// queue.put("second").unwrap(); // buffered
/// assert!(queue.put("third").is_err()); // QueueOverflow: the buffer holds one
/// assert_eq!(success_result_of(queue.get().unwrap()), "second");
/// ```
#[doc(alias = "twisted.internet.defer.DeferredQueue")]
pub struct DeferredQueue<T> {
    shared: Arc<Mutex<QueueState<T>>>,
}

struct QueueState<T> {
    /// Items put while nobody was waiting, oldest first.
    pending: VecDeque<T>,
    /// Gets waiting for an item; non-empty only while `pending` is empty.
    waiters: Waiters<T>,
    size: Option<usize>,
    backlog: Option<usize>,
}

impl<T: Send + 'static> DeferredQueue<T> {
    /// An unbounded queue.
    ///
    /// ```
    /// let queue = tokio_twisted::defer::DeferredQueue::<u8>::new();
    /// assert!(queue.is_empty());
    /// ```
    pub fn new() -> Self {
        DeferredQueue {
            shared: Arc::new(Mutex::new(QueueState {
                pending: VecDeque::new(),
                waiters: Waiters::default(),
                size: None,
                backlog: None,
            })),
        }
    }

    /// Buffers at most `size` items (Twisted's `size`); `0` makes every put that finds
    /// no waiting get overflow.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredQueue;
    ///
    /// let queue = DeferredQueue::new().with_size(2);
    /// assert_eq!(queue.size(), Some(2));
    /// queue.put(1).unwrap();
    /// queue.put(2).unwrap();
    /// assert!(queue.put(3).is_err());
    /// ```
    #[must_use]
    pub fn with_size(self, size: usize) -> Self {
        lock(&self.shared).size = Some(size);
        self
    }

    /// Lets at most `backlog` gets wait at once (Twisted's `backlog`); `0` makes every
    /// get of an empty queue underflow.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredQueue;
    ///
    /// let queue = DeferredQueue::<i32>::new().with_backlog(1);
    /// let _waiting = queue.get().unwrap();
    /// assert!(queue.get().is_err());
    /// ```
    #[must_use]
    pub fn with_backlog(self, backlog: usize) -> Self {
        lock(&self.shared).backlog = Some(backlog);
        self
    }

    /// The buffer limit, if any.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::defer::DeferredQueue::<i32>::new().size(), None);
    /// ```
    pub fn size(&self) -> Option<usize> {
        lock(&self.shared).size
    }

    /// The limit on waiting gets, if any.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredQueue;
    /// assert_eq!(DeferredQueue::<i32>::new().with_backlog(3).backlog(), Some(3));
    /// ```
    pub fn backlog(&self) -> Option<usize> {
        lock(&self.shared).backlog
    }

    /// How many items are buffered (Twisted's `len(pending)`).
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredQueue;
    ///
    /// let queue = DeferredQueue::new();
    /// queue.put('x').unwrap();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.shared).pending.len()
    }

    /// Whether no item is buffered.
    ///
    /// ```
    /// assert!(tokio_twisted::defer::DeferredQueue::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many gets are waiting (Twisted's `len(waiting)`).
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredQueue;
    ///
    /// let queue = DeferredQueue::<i32>::new();
    /// let _d = queue.get().unwrap();
    /// assert_eq!(queue.waiting(), 1);
    /// ```
    pub fn waiting(&self) -> usize {
        lock(&self.shared).waiters.len()
    }

    /// Adds an item: it goes to the oldest waiting get (whose callbacks run before this
    /// returns), or into the buffer.
    ///
    /// # Errors
    ///
    /// [`QueueOverflow`], holding the item, if nobody is waiting and the buffer is full.
    ///
    /// ```
    /// use tokio_twisted::defer::DeferredQueue;
    ///
    /// let queue = DeferredQueue::new().with_size(0);
    /// let d = queue.get().unwrap();
    /// queue.put(1).unwrap(); // a waiting get takes it even with size 0
    /// assert!(d.called());
    /// assert_eq!(queue.put(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn put(&self, item: T) -> Result<(), QueueOverflow<T>> {
        let mut st = lock(&self.shared);
        if let Some(waiter) = st.waiters.pop() {
            drop(st);
            // Refused only if this get is being cancelled on another thread at this very
            // moment; the item then goes with it, as it would have a moment later.
            let _ = waiter.callback(item);
            return Ok(());
        }
        if st.size.is_some_and(|size| st.pending.len() >= size) {
            return Err(QueueOverflow(item));
        }
        st.pending.push_back(item);
        Ok(())
    }

    /// Takes the next item: a fired Deferred if one is buffered, otherwise one that fires
    /// when an item is put. Cancelling a waiting get removes it, so no item is delivered
    /// to it.
    ///
    /// # Errors
    ///
    /// [`QueueUnderflow`] if the queue is empty and the backlog of waiting gets is full.
    ///
    /// ```
    /// use tokio_twisted::defer::{CancelledError, DeferredQueue};
    /// use tokio_twisted::testing::{failure_result_of, success_result_of};
    ///
    /// let queue = DeferredQueue::new();
    /// let cancelled = queue.get().unwrap();
    /// let next = queue.get().unwrap();
    /// cancelled.cancel();
    /// assert!(failure_result_of(cancelled).check::<CancelledError>());
    /// queue.put("item").unwrap();
    /// assert_eq!(success_result_of(next), "item");
    /// ```
    pub fn get(&self) -> Result<Deferred<T>, QueueUnderflow> {
        let mut st = lock(&self.shared);
        if let Some(item) = st.pending.pop_front() {
            drop(st);
            return Ok(succeed(item));
        }
        if st.backlog.is_some_and(|backlog| st.waiters.len() >= backlog) {
            return Err(QueueUnderflow);
        }
        Ok(enqueue(&self.shared, &mut st, |s| &mut s.waiters))
    }
}

impl<T: Send + 'static> Default for DeferredQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for DeferredQueue<T> {
    fn clone(&self) -> Self {
        DeferredQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for DeferredQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.shared);
        f.debug_struct("DeferredQueue")
            .field("pending", &st.pending.len())
            .field("waiting", &st.waiters.queue.len())
            .field("size", &st.size)
            .field("backlog", &st.backlog)
            .finish()
    }
}
