// Tests: tests/defer_sync.rs, tests/conformance/test_defer_primitives.rs (OtherPrimitivesTests)

//! The FIFO waiting list that [`DeferredLock`](super::DeferredLock),
//! [`DeferredSemaphore`](super::DeferredSemaphore) and [`DeferredQueue`](super::DeferredQueue)
//! share: each waiter is a Deferred whose cancellation takes it off the list.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::deferred::Deferred;
use super::resolver::Resolver;
use crate::lock::lock;

/// FIFO waiters, each with an id so that its canceller can find it.
pub(super) struct Waiters<V> {
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

impl<V> Waiters<V> {
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }
}

impl<V: Send + 'static> Waiters<V> {
    pub(super) fn pop(&mut self) -> Option<Resolver<V>> {
        self.queue.pop_front().map(|(_, r)| r)
    }
}

/// Appends a waiter to `field(state)` and returns its Deferred, whose canceller removes
/// it. Called with the state locked; creating a Deferred runs no user code.
pub(super) fn enqueue<S, V>(
    shared: &Arc<Mutex<S>>,
    state: &mut S,
    field: fn(&mut S) -> &mut Waiters<V>,
) -> Deferred<V>
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
