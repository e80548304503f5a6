// Tests: tests/defer_sync.rs, tests/conformance/test_defer_primitives.rs (OtherPrimitivesTests)

//! Concurrency primitives for event-driven code: [`DeferredLock`] and
//! [`DeferredSemaphore`] (Twisted's `defer.DeferredLock` and `DeferredSemaphore`).
//!
//! Each is a cheap `Clone` handle to shared state, `Send + Sync`. Waiting is a Deferred:
//! it fires at once when the resource is free, otherwise when it is handed over, in FIFO
//! order. The hand-over is synchronous: the waiter's callbacks run inside the
//! `release()`/`put()` that serves it, as in Twisted. Cancelling a waiting Deferred removes
//! it from the queue and fails it with [`CancelledError`](super::CancelledError);
//! cancelling one that was already served does nothing.
//!
//! No lock of this module is held while user code runs, so callbacks may acquire, release,
//! put and get re-entrantly. One difference from Twisted keeps the stack flat: a
//! `release()` made while another `release()` is handing a lock or semaphore over (from
//! the waiter's own callback, say) does not recurse into the next waiter; the hand-over in
//! progress applies it as soon as the current callback returns. So a long queue of `run`
//! calls whose work is synchronous is served by one loop, not by nested calls.

use crate::lock::lock;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::deferred::Deferred;
use super::fired::{maybe_deferred, succeed};
use super::outcome::IntoOutcome;
use super::waiters::{Waiters, enqueue};

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

/// The shared state of a lock or semaphore: tokens, FIFO waiters, and the hand-over loop.
struct Gate<V> {
    /// Free tokens (a lock has one). Tokens being handed to waiters are not free.
    free: usize,
    limit: usize,
    waiters: Waiters<V>,
    /// Entered while a `release()` hands tokens to waiters; left when it returns.
    delivering: bool,
    /// Releases made while `delivering` (from the waiters' callbacks, or other threads),
    /// applied by the delivering `release()` before it returns.
    pending: usize,
}

impl<V> Gate<V> {
    fn new(tokens: usize) -> Self {
        Gate {
            free: tokens,
            limit: tokens,
            waiters: Waiters::default(),
            delivering: false,
            pending: 0,
        }
    }
}

/// A handle to a [`Gate`]: the lock or the semaphore, which is also what the gate hands
/// to each holder. Their `acquire`, `release` and `run` are these methods.
trait Gated: Clone + Send + 'static {
    fn gate(&self) -> &Arc<Mutex<Gate<Self>>>;

    fn gate_acquire(&self) -> Deferred<Self> {
        let shared = self.gate();
        let mut st = lock(shared);
        if st.free == 0 {
            return enqueue(shared, &mut st, |g| &mut g.waiters);
        }
        st.free -= 1;
        drop(st);
        succeed(self.clone())
    }

    /// Gives one token back, handing it to the oldest waiter if there is one.
    ///
    /// A release made while another one is handing over (typically from inside the
    /// waiter's callback) is recorded and applied by that one's loop as soon as the
    /// callback returns, instead of recursing: a long queue of waiters that release at once
    /// never deepens the stack.
    fn gate_release(&self) -> Result<(), NotAcquiredError> {
        let shared = self.gate();
        let mut st = lock(shared);
        if st.pending >= st.limit - st.free {
            return Err(NotAcquiredError);
        }
        if st.delivering {
            st.pending += 1;
            return Ok(());
        }
        st.delivering = true;
        loop {
            if let Some(next) = st.waiters.pop() {
                drop(st);
                // The token passes to `next`. It can only refuse if it was cancelled at
                // this very moment on another thread; the token is then still ours to give.
                let accepted = next.callback(self.clone()).is_ok();
                // Dropped unlocked: it may hold the last reference to a guard, whose drop
                // releases again.
                drop(next);
                st = lock(shared);
                if !accepted {
                    continue;
                }
            } else {
                st.free += 1;
            }
            if st.pending == 0 {
                st.delivering = false;
                return Ok(());
            }
            st.pending -= 1;
        }
    }

    /// Acquires, calls `f`, and releases once its result is known, passing that result on
    /// (a failed release replaces it, as Twisted's assertion would).
    fn gate_run<U, R, F>(&self, f: F) -> Deferred<U>
    where
        U: Send + 'static,
        R: IntoOutcome<U>,
        F: FnOnce() -> R + Send + 'static,
    {
        let this = self.clone();
        self.gate_acquire().add_callback(move |_| {
            maybe_deferred(f).add_both(move |result| {
                this.gate_release()?;
                result
            })
        })
    }
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
#[derive(Clone)]
pub struct DeferredLock {
    shared: Arc<Mutex<Gate<DeferredLock>>>,
}

impl DeferredLock {
    /// A new, unlocked lock.
    ///
    /// ```
    /// assert!(!tokio_twisted::defer::DeferredLock::new().locked());
    /// ```
    pub fn new() -> Self {
        DeferredLock {
            shared: Arc::new(Mutex::new(Gate::new(1))),
        }
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
        lock(&self.shared).free == 0
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
        self.gate_acquire()
    }

    /// Releases the lock, handing it to the oldest waiter if there is one (its callbacks
    /// run before this returns, and the lock stays locked). Called while a hand-over is in
    /// progress (from a waiter's callback), it takes effect when that callback returns.
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
        self.gate_release()
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
        self.gate_run(f)
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

impl Default for DeferredLock {
    fn default() -> Self {
        Self::new()
    }
}

impl Gated for DeferredLock {
    fn gate(&self) -> &Arc<Mutex<Gate<Self>>> {
        &self.shared
    }
}

impl fmt::Debug for DeferredLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.shared);
        f.debug_struct("DeferredLock")
            .field("locked", &(st.free == 0))
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
#[doc(alias = "__aexit__")]
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
    shared: Arc<Mutex<Gate<DeferredSemaphore>>>,
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
            shared: Arc::new(Mutex::new(Gate::new(tokens))),
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
        lock(&self.shared).free
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
        self.gate_acquire()
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
        self.gate_release()
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
        self.gate_run(f)
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

impl Gated for DeferredSemaphore {
    fn gate(&self) -> &Arc<Mutex<Gate<Self>>> {
        &self.shared
    }
}

impl fmt::Debug for DeferredSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.shared);
        f.debug_struct("DeferredSemaphore")
            .field("tokens", &st.free)
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
#[doc(alias = "__aexit__")]
pub struct DeferredSemaphoreGuard {
    sem: DeferredSemaphore,
}

impl Drop for DeferredSemaphoreGuard {
    fn drop(&mut self) {
        // Fails only if the holder also released by hand.
        let _ = self.sem.release();
    }
}
