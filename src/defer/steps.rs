// Tests: tests/defer.rs, tests/conformance/test_defer.rs (long chains), benches/defer.rs

//! The pending callback/errback pairs of a Deferred.
//!
//! Most Deferreds hold one step, and most of the rest a handful, and live briefly. So the
//! first step is stored inline, and the others in a `VecDeque` whose buffer comes from, and
//! goes back to, a small thread-local pool: allocating, growing and freeing a buffer for
//! each chain would cost about as much as running the steps (and freeing fresh blocks next
//! to the heap's top makes glibc consolidate its free lists, which showed up as 10% of the
//! `deferred_chain` benchmark).

use std::cell::RefCell;
use std::collections::VecDeque;

use super::core::{Outcome, StepOut};

/// One callback/errback pair, already joined into a single function of the outcome.
pub(crate) type StepFn = Box<dyn FnOnce(Outcome) -> StepOut + Send>;

/// Buffers kept per thread, and the largest capacity worth keeping.
const POOL_LEN: usize = 64;
const POOL_MAX_CAPACITY: usize = 64;
const INITIAL_CAPACITY: usize = 8;

thread_local! {
    static POOL: RefCell<Vec<VecDeque<StepFn>>> = const { RefCell::new(Vec::new()) };
}

/// Pending steps in running order: `first`, then `rest`.
#[derive(Default)]
pub(crate) struct Chain {
    first: Option<StepFn>,
    rest: VecDeque<StepFn>,
}

impl Chain {
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }

    pub(crate) fn push(&mut self, step: StepFn) {
        if self.is_empty() {
            self.first = Some(step);
            return;
        }
        if self.rest.capacity() == 0 {
            self.rest = POOL
                .try_with(|p| p.borrow_mut().pop())
                .ok()
                .flatten()
                .unwrap_or_else(|| VecDeque::with_capacity(INITIAL_CAPACITY));
        }
        self.rest.push_back(step);
    }

    pub(crate) fn pop_front(&mut self) -> Option<StepFn> {
        self.first.take().or_else(|| self.rest.pop_front())
    }

    /// Puts `front` (unrun steps of an earlier batch) before this chain's steps.
    pub(crate) fn prepend(&mut self, mut front: Chain) {
        if front.is_empty() {
            return;
        }
        while let Some(step) = self.pop_front() {
            front.push(step);
        }
        std::mem::swap(self, &mut front);
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let rest = std::mem::take(&mut self.rest);
        if !rest.is_empty() || rest.capacity() == 0 || rest.capacity() > POOL_MAX_CAPACITY {
            return;
        }
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL_LEN {
                p.push(rest);
            }
        });
    }
}
