// Tests: tests/task.rs, tests/time_limits.rs, tests/conformance/test_base.rs,
// tests/conformance/test_task.rs

//! The timer queue behind every clock: a min-heap of [`DelayedCall`]s, first in, first out
//! for equal times.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::lock::lock;

use super::delayed_call::{Call, CallState, DelayedCall, Phase};
use super::reactor_time::TimedFn;

/// A heap entry: due time, then scheduling order, so equal times run first in, first out.
struct Entry {
    time: Duration,
    seq: u64,
    generation: u64,
    call: Arc<Call>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// The timers of one clock or reactor: a min-heap of calls, with stale entries (after a
/// reset, delay or cancel) dropped lazily when they reach the top.
pub(crate) struct TimerQueue {
    inner: Mutex<QueueInner>,
    clock: Box<dyn Fn() -> Duration + Send + Sync>,
    /// Told when a push makes an entry the heap's earliest (the reactor wakes its sleep).
    /// Not told otherwise: a sleeper armed for the old top wakes no later than needed, and
    /// re-reads the deadline then (stale tops are pruned by `next_deadline`).
    on_change: Box<dyn Fn() + Send + Sync>,
}

struct QueueInner {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    live: usize,
    /// Set by [`TimerQueue::close`] and never cleared: nothing will run calls any more.
    closed: bool,
}

impl TimerQueue {
    pub(crate) fn new(
        clock: impl Fn() -> Duration + Send + Sync + 'static,
        on_change: impl Fn() + Send + Sync + 'static,
    ) -> Arc<TimerQueue> {
        Arc::new(TimerQueue {
            inner: Mutex::new(QueueInner {
                heap: BinaryHeap::new(),
                seq: 0,
                live: 0,
                closed: false,
            }),
            clock: Box::new(clock),
            on_change: Box::new(on_change),
        })
    }

    pub(crate) fn now(&self) -> Duration {
        (self.clock)()
    }

    /// Schedules `f` at `now + delay`.
    pub(crate) fn schedule(self: &Arc<Self>, delay: Duration, f: TimedFn) -> DelayedCall {
        // A delay too large to represent means "never": it saturates instead of panicking.
        let time = self.now().saturating_add(delay);
        let call = Arc::new(Call {
            state: Mutex::new(CallState {
                time,
                generation: 0,
                func: Some(f),
                phase: Phase::Pending,
            }),
            queue: Arc::downgrade(self),
        });
        let mut q = lock(&self.inner);
        if q.closed {
            drop(q);
            Self::discard(&call);
            return DelayedCall { call };
        }
        q.live += 1;
        let earliest = Self::push_locked(&mut q, time, 0, Arc::clone(&call));
        drop(q);
        if earliest {
            (self.on_change)();
        }
        DelayedCall { call }
    }

    pub(super) fn push(&self, time: Duration, generation: u64, call: Arc<Call>) {
        let mut q = lock(&self.inner);
        if q.closed {
            // Reset or delayed while the queue was closing: it would never run.
            drop(q);
            Self::discard(&call);
            return;
        }
        let earliest = Self::push_locked(&mut q, time, generation, call);
        drop(q);
        if earliest {
            (self.on_change)();
        }
    }

    /// Marks a call that will never run cancelled and drops its function (outside the
    /// call's lock: dropping it runs user code, such as a resolver's drop).
    fn discard(call: &Call) {
        let mut st = lock(&call.state);
        if st.phase == Phase::Pending {
            st.phase = Phase::Cancelled;
        }
        let f = st.func.take();
        drop(st);
        drop(f);
    }

    /// Drops every pending call, marking it cancelled, and cancels every call scheduled
    /// from now on: the loop that would run them is gone (its runtime shut down).
    pub(crate) fn close(&self) {
        let mut q = lock(&self.inner);
        q.closed = true;
        q.live = 0;
        let entries = std::mem::take(&mut q.heap);
        drop(q);
        for Reverse(entry) in entries {
            Self::discard(&entry.call);
        }
    }

    /// Pushes an entry; returns whether it is now the earliest in the heap.
    fn push_locked(q: &mut QueueInner, time: Duration, generation: u64, call: Arc<Call>) -> bool {
        let seq = q.seq;
        q.seq += 1;
        // Sequence numbers only grow, so the new entry goes on top only if strictly earlier.
        let earliest = q.heap.peek().is_none_or(|Reverse(top)| time < top.time);
        q.heap.push(Reverse(Entry {
            time,
            seq,
            generation,
            call,
        }));
        earliest
    }

    // A cancellation never makes a deadline earlier, so the sleeper is not woken: at worst it
    // wakes at the cancelled call's time, finds nothing due and sleeps again (as Twisted's
    // reactor does).
    pub(super) fn cancelled(&self) {
        let mut q = lock(&self.inner);
        q.live = q.live.saturating_sub(1);
        if q.live == 0 {
            q.heap.clear();
        }
    }

    /// Drops stale entries from the top of the heap.
    fn prune(q: &mut QueueInner) {
        while let Some(Reverse(top)) = q.heap.peek() {
            let st = lock(&top.call.state);
            let stale = st.phase != Phase::Pending || st.generation != top.generation;
            drop(st);
            if !stale {
                return;
            }
            q.heap.pop();
        }
    }

    /// When the earliest pending call is due.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        let mut q = lock(&self.inner);
        Self::prune(&mut q);
        q.heap.peek().map(|Reverse(e)| e.time)
    }

    /// Takes the earliest call due at or before `now`, marking it called. The caller runs
    /// the returned function with no lock held.
    pub(crate) fn pop_due(&self, now: Duration) -> Option<TimedFn> {
        self.pop_due_before(now, u64::MAX)
    }

    /// The sequence number the next scheduled (or reset) call will get. The reactor reads it
    /// before running the due calls of an iteration and passes it to [`Self::pop_due_before`],
    /// so calls scheduled while timed calls run wait for the next iteration.
    pub(crate) fn next_seq(&self) -> u64 {
        lock(&self.inner).seq
    }

    /// As [`Self::pop_due`], but stops at the first entry pushed (scheduled, reset or
    /// delayed) at or after the sequence number `limit`: it and everything behind it wait
    /// for the caller's next round. Entries scheduled or reset during a round are due no
    /// earlier than the round's `now`, and equal times pop in sequence order, so in practice
    /// only they wait.
    pub(crate) fn pop_due_before(&self, now: Duration, limit: u64) -> Option<TimedFn> {
        let mut q = lock(&self.inner);
        loop {
            Self::prune(&mut q);
            let due = q
                .heap
                .peek()
                .is_some_and(|Reverse(e)| e.time <= now && e.seq < limit);
            if !due {
                return None;
            }
            let Reverse(entry) = q.heap.pop().expect("invariant: peeked just above");
            let mut st = lock(&entry.call.state);
            if st.phase != Phase::Pending || st.generation != entry.generation {
                continue;
            }
            st.phase = Phase::Called;
            q.live = q.live.saturating_sub(1);
            if let Some(f) = st.func.take() {
                return Some(f);
            }
        }
    }

    /// The pending calls, earliest first: Twisted's `getDelayedCalls()`.
    pub(crate) fn pending(&self) -> Vec<DelayedCall> {
        let q = lock(&self.inner);
        let mut live: Vec<&Entry> = q
            .heap
            .iter()
            .map(|Reverse(e)| e)
            .filter(|e| {
                let st = lock(&e.call.state);
                st.phase == Phase::Pending && st.generation == e.generation
            })
            .collect();
        live.sort();
        live.into_iter()
            .map(|e| DelayedCall {
                call: Arc::clone(&e.call),
            })
            .collect()
    }
}
