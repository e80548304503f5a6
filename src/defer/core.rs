// Tests: tests/defer.rs, tests/conformance/test_defer.rs, tests/defer_model.rs

//! The type-erased heart of a Deferred: its shared state and the chain runner.
//!
//! Every `Deferred<T>` that is not simply an already-known value points at one [`Inner`].
//! Values travel down the chain boxed as `Option<T>` inside a `Box<dyn Any + Send>`; each
//! typed step (see `callbacks.rs`) takes its input out of that slot and, when its output has
//! the same type, puts the result back into the same allocation. The types are fixed when
//! the steps are added, so the downcasts here can only fail if this module has a bug.
//!
//! # The re-entrancy rule
//!
//! No lock is ever held while user code runs: callbacks, cancellers, wakers and the `Drop`
//! of user values all run after the state's mutex has been released. A callback may
//! therefore add steps, fire other Deferreds, or cancel, on this or any other Deferred.
//! Steps added while the chain runs are appended and run after the current one returns.
//!
//! # No recursion
//!
//! When a step returns a Deferred that has not fired, the outer Deferred records what it is
//! waiting on and the inner one records the outer it must hand its result to. When the inner
//! chain finishes, the runner moves the result across and goes on running the outer chain in
//! the same loop, so a million nested Deferreds use a constant amount of stack
//! (Twisted #4593). Cancellation walks a waiting chain with a loop for the same reason.

use crate::lock::lock;
use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Waker;

use crate::failure::Failure;

use super::errors::{AlreadyCalledError, CancelledError};
use super::steps::Chain;

/// A value in flight: an `Option<T>` for the `T` of the step that produced it.
pub(crate) type Value = Box<dyn Any + Send>;

thread_local! {
    /// One emptied value box (an `Option<T>::None`), kept for the next value of the same
    /// type boxed on this thread. A Deferred's value is boxed when it fires and the box is
    /// freed when the result is taken; reusing it saves an allocation and a free per
    /// Deferred (most programs fire many Deferreds of one type).
    static SPARE: Cell<Option<Value>> = const { Cell::new(None) };
}

/// The largest value box worth keeping as the spare, in bytes.
const SPARE_MAX_SIZE: usize = 64;

/// Boxes a typed value for the chain, in the spare box when it has the right type.
#[inline]
pub(crate) fn boxed<U: Send + 'static>(value: U) -> Value {
    if let Ok(Some(mut spare)) = SPARE.try_with(Cell::take) {
        if let Some(cell) = spare.downcast_mut::<Option<U>>() {
            *cell = Some(value);
            return spare;
        }
        // Another type: keep it for a value of that type.
        let _ = SPARE.try_with(|s| s.set(Some(spare)));
    }
    Box::new(Some(value))
}

/// Takes the typed value out of a chain slot and keeps the emptied box as the spare.
#[inline]
pub(crate) fn unbox<T: 'static>(mut slot: Value) -> T {
    let value = slot
        .downcast_mut::<Option<T>>()
        .and_then(Option::take)
        .expect("invariant: a chain value has the type its step was added with");
    // Only an emptied `None` is kept, so no user value's `Drop` runs inside the cell; and
    // only a small one, so that a thread does not hold on to a large value's allocation.
    if size_of::<Option<T>>() <= SPARE_MAX_SIZE {
        let _ = SPARE.try_with(|s| s.set(Some(slot)));
    }
    value
}

/// A step's input and output: a value or a Failure.
pub(crate) type Outcome = Result<Value, Failure>;

/// What a step produced: a result, or an inner Deferred to wait on.
pub(crate) enum StepOut {
    Done(Outcome),
    Chain(Arc<Inner>),
}

/// One callback/errback pair, already joined into a single function of the outcome.
pub(crate) type StepFn = Box<dyn FnOnce(Outcome) -> StepOut + Send>;

/// A canceller run at most once.
pub(crate) type UserCanceller = Box<dyn FnOnce(&Arc<Inner>) + Send>;
/// A canceller that takes over cancellation.
pub(crate) type CustomCanceller = Arc<dyn Fn(&Arc<Inner>) + Send + Sync>;

/// What `cancel()` does before the default `CancelledError`.
pub(crate) enum CancelHook {
    /// Twisted's canceller: runs at most once; if the Deferred is still unfired afterwards
    /// it fails with `CancelledError`.
    User(UserCanceller),
    /// Replaces cancellation altogether (`DeferredList`, `from_future`): runs on every
    /// `cancel()` while the Deferred is unfired, and fires nothing by itself.
    Custom(CustomCanceller),
}

pub(crate) struct Inner {
    state: Mutex<State>,
    /// Set by anything that must interrupt a running chain between two steps (`pause`).
    /// The runner reads it after every step instead of taking the lock.
    interrupt: AtomicBool,
}

/// The state of one Deferred.
///
/// Lifecycle: *unfired* (`called == false`) → *fired* (`called`, `result` set) → the
/// runner takes `result` out while it runs (`running`) → either *settled* (chain empty,
/// `result` back in place) or *waiting* (`waiting_on` set, `result` empty until the inner
/// Deferred hands its result over) → *consumed* when the result is moved to an outer
/// Deferred, an awaiting task or an aggregate.
struct State {
    /// The current result. Empty before firing, while the runner holds it, while waiting
    /// on an inner Deferred, and once consumed.
    result: Option<Outcome>,
    /// The task awaiting this Deferred, woken when the chain settles.
    waker: Option<Waker>,
    /// Pending callback/errback pairs, in running order.
    chain: Chain<StepFn>,
    /// What `cancel()` runs; dropped when the Deferred fires.
    canceller: Option<CancelHook>,
    /// Entered when a step returned an unfired Deferred; left when that Deferred hands
    /// its result over.
    waiting_on: Option<Weak<Inner>>,
    /// The outer Deferred waiting on this one, to receive the result when this chain ends.
    chained_to: Option<Arc<Inner>>,
    /// `pause()` minus `unpause()` calls. Steps run only while it is zero.
    paused: u32,
    /// Entered by the first `callback`/`errback`; never left.
    called: bool,
    /// Entered while a runner is executing this chain; left when it stops.
    running: bool,
    /// Entered when the result has been moved out; never left.
    consumed: bool,
    /// Set by a cancel without a user canceller: the next fire is silently absorbed.
    suppress_already_called: bool,
}

impl State {
    /// An unfired Deferred with no steps and no canceller. Built from constants so that
    /// `Inner::new` writes it straight into the new allocation.
    const EMPTY: State = State {
        result: None,
        waker: None,
        chain: Chain::EMPTY,
        canceller: None,
        waiting_on: None,
        chained_to: None,
        paused: 0,
        called: false,
        running: false,
        consumed: false,
        suppress_already_called: false,
    };

    #[inline]
    fn runnable(&self) -> bool {
        self.result.is_some() && !self.running && self.paused == 0 && self.waiting_on.is_none()
    }

    /// Fired, idle and with nothing left to run: the result is final.
    fn settled(&self) -> bool {
        self.runnable() && self.chain.is_empty()
    }
}

/// A read-only summary of a Deferred's state, for `Debug` and inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) called: bool,
    pub(crate) paused: u32,
    pub(crate) waiting: bool,
    pub(crate) pending: usize,
    pub(crate) has_result: bool,
    pub(crate) consumed: bool,
}

impl Inner {
    /// An unfired Deferred without a canceller.
    pub(crate) fn new() -> Arc<Inner> {
        // `Arc::default` allocates first and then builds the value in place; `Arc::new`
        // builds it on the stack and copies it over, which measured 9% slower on the
        // `inline_callbacks` benchmark.
        Arc::default()
    }

    /// An unfired Deferred with a canceller.
    pub(crate) fn with_canceller(hook: CancelHook) -> Arc<Inner> {
        Arc::new(Inner {
            state: Mutex::new(State {
                canceller: Some(hook),
                ..State::EMPTY
            }),
            interrupt: AtomicBool::new(false),
        })
    }

    /// A Deferred that has already fired with `outcome` and has no steps.
    pub(crate) fn fired(outcome: Outcome) -> Arc<Inner> {
        Arc::new(Inner {
            state: Mutex::new(State {
                result: Some(outcome),
                called: true,
                ..State::EMPTY
            }),
            interrupt: AtomicBool::new(false),
        })
    }

    #[inline]
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Appends a step and runs the chain if the Deferred has fired and is not paused.
    ///
    /// Inlined into the `add_*` methods: adding a step to an unfired Deferred is one lock
    /// round and a push, the same work as a `Mutex<Vec<_>>` push. (Plain `#[inline]` left
    /// it out of line, and its call cost 18 of its 70 instructions.)
    #[allow(clippy::inline_always, reason = "measured: see the doc comment")]
    #[inline(always)]
    pub(crate) fn push_step(self: &Arc<Self>, step: StepFn) {
        let mut st = self.lock();
        st.chain.push(step);
        let runnable = st.runnable();
        drop(st);
        if runnable {
            run(self);
        }
    }

    /// Unlocks this Deferred's state and runs the chain if it can make progress.
    fn unlock_and_run(self: &Arc<Self>, st: MutexGuard<'_, State>) {
        let runnable = st.runnable();
        drop(st);
        if runnable {
            run(self);
        }
    }

    /// `callback`/`errback`: records the result and runs the chain.
    pub(crate) fn fire(self: &Arc<Self>, outcome: Outcome) -> Result<(), AlreadyCalledError> {
        let mut st = self.lock();
        if st.called {
            if st.suppress_already_called {
                st.suppress_already_called = false;
                return Ok(());
            }
            return Err(AlreadyCalledError);
        }
        st.called = true;
        st.result = Some(outcome);
        // Firing drops the canceller, as Twisted does, to break reference cycles.
        let canceller = st.canceller.take();
        if st.settled() && st.chained_to.is_none() {
            // Nothing to run and nobody to hand the result to: the chain has settled
            // already. This is what the runner would do, without its lock rounds.
            let waker = st.waker.take();
            drop(st);
            drop(canceller);
            if let Some(w) = waker {
                w.wake();
            }
        } else if st.runnable() {
            let mut next = run_locked(self, st);
            drop(canceller);
            while let Some(outer) = next {
                next = run_one(&outer);
            }
        } else {
            drop(st);
            drop(canceller);
        }
        Ok(())
    }

    pub(crate) fn pause(&self) {
        let mut st = self.lock();
        st.paused += 1;
        if st.running {
            self.interrupt.store(true, Ordering::Release);
        }
    }

    /// Returns `false` when the Deferred was not paused.
    pub(crate) fn unpause(self: &Arc<Self>) -> bool {
        let mut st = self.lock();
        if st.paused == 0 {
            return false;
        }
        st.paused -= 1;
        self.unlock_and_run(st);
        true
    }

    /// Twisted's `cancel()`. Walks down a chain of waiting Deferreds with a loop.
    pub(crate) fn cancel(self: &Arc<Self>) {
        let mut current = Arc::clone(self);
        loop {
            let mut st = current.lock();
            if st.called {
                let inner = st.waiting_on.as_ref().map(Weak::upgrade);
                match inner {
                    Some(Some(inner)) => {
                        drop(st);
                        current = inner;
                        continue;
                    }
                    Some(None) if st.result.is_none() => {
                        // Waiting on a Deferred that is gone: no handle or resolver is left
                        // that could fire it. Twisted would cancel it, and without a
                        // canceller it fails with CancelledError, which moves here; deliver
                        // that directly instead of staying stuck.
                        // Test: tests/defer.rs, cancel_reaches_an_inner_deferred_nobody_can_fire.
                        st.waiting_on = None;
                        st.result = Some(Err(Failure::new(CancelledError)));
                        current.unlock_and_run(st);
                        return;
                    }
                    _ => return,
                }
            }
            let hook = match &st.canceller {
                Some(CancelHook::Custom(f)) => Some(CancelHook::Custom(Arc::clone(f))),
                Some(CancelHook::User(_)) => st.canceller.take(),
                None => None,
            };
            if hook.is_none() {
                st.suppress_already_called = true;
            }
            drop(st);
            match hook {
                Some(CancelHook::Custom(f)) => {
                    f(&current);
                    return;
                }
                Some(CancelHook::User(f)) => {
                    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&current)));
                    if let Err(payload) = caught {
                        // A panicking canceller leaves its panic as the Deferred's result
                        // (Twisted lets the exception escape `cancel()` instead).
                        let _ = current.fire(Err(Failure::from_panic(payload)));
                        return;
                    }
                }
                None => {}
            }
            // Still unfired after the canceller: fail with CancelledError. An
            // AlreadyCalledError here only means the canceller fired it.
            let _ = current.fire(Err(Failure::new(CancelledError)));
            return;
        }
    }

    /// Takes the result out if the chain has settled (fired, idle, nothing pending).
    /// Otherwise registers `waker` (when given) to be woken once it settles.
    pub(crate) fn take_settled(&self, waker: Option<&Waker>) -> Option<Outcome> {
        let mut st = self.lock();
        if st.settled() {
            st.consumed = true;
            return st.result.take();
        }
        if let Some(w) = waker {
            match &st.waker {
                Some(old) if old.will_wake(w) => {}
                _ => st.waker = Some(w.clone()),
            }
        }
        None
    }

    pub(crate) fn set_canceller(&self, hook: CancelHook) {
        let mut st = self.lock();
        if !st.called {
            st.canceller = Some(hook);
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let st = self.lock();
        Snapshot {
            called: st.called,
            paused: st.paused,
            waiting: st.waiting_on.is_some(),
            pending: st.chain.len(),
            has_result: st.result.is_some(),
            consumed: st.consumed,
        }
    }

    /// Runs `f` on the settled value without taking it out (inspection).
    pub(crate) fn with_result<R>(&self, f: impl FnOnce(Option<&Outcome>) -> R) -> R {
        let st = self.lock();
        if st.running || st.waiting_on.is_some() {
            return f(None);
        }
        f(st.result.as_ref())
    }

    /// The Deferred this one waits on, if any (for `Debug`).
    pub(crate) fn waiting_on(&self) -> Option<Arc<Inner>> {
        self.lock().waiting_on.as_ref().and_then(Weak::upgrade)
    }
}

impl Default for Inner {
    /// An unfired Deferred without a canceller.
    fn default() -> Self {
        Inner {
            state: Mutex::new(State::EMPTY),
            interrupt: AtomicBool::new(false),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let st = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(Err(failure)) = st.result.take() {
            crate::log::unhandled_in_deferred(&failure);
        }
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Deferred at {self:p}>")
    }
}

/// Runs `start`'s chain, then every outer chain that was waiting on it, in one loop.
pub(crate) fn run(start: &Arc<Inner>) {
    let mut next = run_one(start);
    while let Some(outer) = next {
        next = run_one(&outer);
    }
}

/// Runs one chain until it ends, pauses or waits. Returns the outer Deferred to continue
/// with when this chain ended and handed its result over.
fn run_one(current: &Arc<Inner>) -> Option<Arc<Inner>> {
    let st = current.lock();
    if !st.runnable() {
        return None;
    }
    run_locked(current, st)
}

/// [`run_one`] for a caller that already holds the lock and has checked `runnable()`.
fn run_locked(current: &Arc<Inner>, mut st: MutexGuard<'_, State>) -> Option<Arc<Inner>> {
    let mut result = st.result.take().expect("invariant: runnable implies a result");
    st.running = true;
    current.interrupt.store(false, Ordering::Relaxed);
    let mut local = std::mem::take(&mut st.chain);
    drop(st);
    loop {
        let Some(step) = local.pop_front() else {
            // Pick up steps appended while this batch ran (re-entrant add_callback).
            let mut st = current.lock();
            if st.chain.is_empty() {
                return finish(st, result);
            }
            std::mem::swap(&mut local, &mut st.chain);
            continue;
        };
        match step(result) {
            StepOut::Done(out) => result = out,
            StepOut::Chain(inner) => match chain_to(current, &inner) {
                Some(out) => result = out,
                None => {
                    // Now waiting: keep the remaining steps in front of any added later.
                    let mut st = current.lock();
                    if let Some(out) = st.result.take() {
                        // The inner Deferred finished on another thread in the meantime.
                        st.waiting_on = None;
                        drop(st);
                        result = out;
                        continue;
                    }
                    restore(&mut st, local);
                    st.running = false;
                    return None;
                }
            },
        }
        if current.interrupt.load(Ordering::Acquire) {
            let mut st = current.lock();
            if st.paused > 0 {
                restore(&mut st, local);
                st.result = Some(result);
                st.running = false;
                return None;
            }
            current.interrupt.store(false, Ordering::Relaxed);
        }
    }
}

/// Puts unrun steps back in front of the ones appended meanwhile.
fn restore(st: &mut State, local: Chain<StepFn>) {
    st.chain.prepend(local);
}

/// The chain ran out of steps: hand the result to the waiting outer Deferred, or keep it
/// and wake the task awaiting it.
fn finish(mut st: MutexGuard<'_, State>, result: Outcome) -> Option<Arc<Inner>> {
    st.running = false;
    if let Some(outer) = st.chained_to.take() {
        st.consumed = true;
        drop(st);
        let mut ost = outer.lock();
        ost.result = Some(result);
        let outer_running = ost.running;
        if !outer_running {
            ost.waiting_on = None;
        }
        drop(ost);
        // A running outer is between its step and re-checking: it picks the result up.
        return (!outer_running).then_some(outer);
    }
    st.result = Some(result);
    let waker = st.waker.take();
    drop(st);
    if let Some(w) = waker {
        w.wake();
    }
    None
}

/// A step returned `inner`: take its result now if it has settled, otherwise make
/// `current` wait on it. Returns the result when it could be taken at once.
fn chain_to(current: &Arc<Inner>, inner: &Arc<Inner>) -> Option<Outcome> {
    if Arc::ptr_eq(current, inner) {
        // A callback returned the Deferred it is attached to (only possible by smuggling the
        // handle into the callback). Waiting on itself would leave it stuck forever and leak a
        // reference cycle; Twisted warns, and fails it when that warning is an error. Fail it.
        // Test: tests/conformance/test_defer.rs, test_circular_chain_exception.
        return Some(Err(Failure::msg(
            "callback returned the deferred it was attached to",
        )));
    }
    let mut ist = inner.lock();
    if ist.settled() {
        ist.consumed = true;
        return ist.result.take();
    }
    ist.chained_to = Some(Arc::clone(current));
    drop(ist);
    let mut st = current.lock();
    st.waiting_on = Some(Arc::downgrade(inner));
    None
}
