// Tests: tests/defer_sync.rs, tests/conformance/test_defer_primitives.rs (OtherPrimitivesTests)

//! [`DeferredQueue`]: an event-driven queue (Twisted's `defer.DeferredQueue`), and its
//! errors.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::deferred::Deferred;
use super::fired::succeed;
use super::waiters::{Waiters, enqueue};
use crate::lock::lock;

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
    #[doc(alias = "size")]
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
    #[doc(alias = "backlog")]
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
    #[doc(alias = "pending")]
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
            .field("waiting", &st.waiters.len())
            .field("size", &st.size)
            .field("backlog", &st.backlog)
            .finish()
    }
}
