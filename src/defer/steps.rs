// Tests: tests/defer.rs, tests/conformance/test_defer.rs (long chains), benches/defer.rs

//! The pending callback/errback pairs of a Deferred.
//!
//! Most Deferreds hold one step, and most of the rest a handful, and live briefly. So the
//! first step is stored inline, and the others in a boxed `VecDeque` that comes from, and
//! goes back to, a small thread-local pool together with its buffer: allocating, growing
//! and freeing a buffer for each chain would cost about as much as running the steps (and
//! freeing fresh blocks next to the heap's top makes glibc consolidate its free lists,
//! which showed up as 10% of the `deferred_chain` benchmark). Boxing the queue keeps an
//! empty `Chain` at two words, so a Deferred's state stays small to build and to drop.
//! `pop_front` takes `first`, then the queue's front, without moving the next step into
//! `first`.
//!
//! This is the bottom of the module: it knows nothing of Deferreds. `Chain<S>` is generic
//! over the step type so that the state above it (`core.rs`) names what a step is, and
//! this file imports nothing from its siblings.

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;

/// Buffers kept per thread, and the largest capacity worth keeping.
const POOL_LEN: usize = 64;
const POOL_MAX_CAPACITY: usize = 64;
const INITIAL_CAPACITY: usize = 8;

thread_local! {
    /// Emptied queues, of whatever step type used them (one type in practice).
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Pending steps in running order: `first` (if any), then `rest`.
pub(crate) struct Chain<S: 'static> {
    /// A step that runs before everything in `rest`. Empty in a new chain, and after
    /// `pop_front` took it while `rest` still has steps.
    first: Option<S>,
    /// The steps after `first`, in a pooled queue taken at the first push that cannot go
    /// into `first`, and given back (emptied) when the chain is dropped.
    #[allow(
        clippy::box_collection,
        reason = "one word instead of four keeps an empty chain cheap to build and to drop"
    )]
    rest: Option<Box<VecDeque<S>>>,
}

impl<S: 'static> Chain<S> {
    pub(crate) const EMPTY: Chain<S> = Chain {
        first: None,
        rest: None,
    };

    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.as_ref().map_or(0, |r| r.len())
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.as_ref().is_none_or(|r| r.is_empty())
    }

    // `inline(always)`: these run once per step under the state's lock, and plain
    // `#[inline]` left them out of line in the chain benchmark.
    #[allow(clippy::inline_always, reason = "measured: see above")]
    #[inline(always)]
    pub(crate) fn push(&mut self, step: S) {
        match &mut self.rest {
            // `first` may hold the step only while nothing waits behind it.
            None if self.first.is_none() => self.first = Some(step),
            Some(rest) if self.first.is_none() && rest.is_empty() => self.first = Some(step),
            Some(rest) => rest.push_back(step),
            None => self.push_to_new_queue(step),
        }
    }

    /// The second step of a chain: the queue comes from the pool, or is allocated.
    #[cold]
    #[inline(never)]
    fn push_to_new_queue(&mut self, step: S) {
        let mut queue = POOL
            .try_with(|p| p.borrow_mut().pop())
            .ok()
            .flatten()
            .and_then(|q| q.downcast().ok())
            .unwrap_or_else(|| Box::new(VecDeque::with_capacity(INITIAL_CAPACITY)));
        queue.push_back(step);
        self.rest = Some(queue);
    }

    #[allow(clippy::inline_always, reason = "measured: see `push`")]
    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<S> {
        match self.first.take() {
            Some(step) => Some(step),
            None => self.rest.as_mut()?.pop_front(),
        }
    }

    /// Puts `front` (unrun steps of an earlier batch) before this chain's steps.
    pub(crate) fn prepend(&mut self, mut front: Chain<S>) {
        if front.is_empty() {
            return;
        }
        while let Some(step) = self.pop_front() {
            front.push(step);
        }
        std::mem::swap(self, &mut front);
    }
}

impl<S: 'static> Default for Chain<S> {
    fn default() -> Self {
        Chain::EMPTY
    }
}

impl<S: 'static> Drop for Chain<S> {
    #[inline]
    fn drop(&mut self) {
        if let Some(rest) = self.rest.take() {
            give_back(rest);
        }
    }
}

/// Returns an emptied queue to this thread's pool.
#[inline(never)]
#[allow(
    clippy::box_collection,
    reason = "the pool keeps boxed queues, see `Chain::rest`"
)]
fn give_back<S: 'static>(rest: Box<VecDeque<S>>) {
    if !rest.is_empty() || rest.capacity() > POOL_MAX_CAPACITY {
        return;
    }
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_LEN {
            p.push(rest);
        }
    });
}
