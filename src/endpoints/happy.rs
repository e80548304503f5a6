// Tests: unit tests below (on task::Clock); tests/endpoints.rs,
// tests/conformance/test_endpoints.rs (HostnameEndpoint*)

//! Happy Eyeballs: connection attempts to every resolved address, started one after another
//! `delay` apart, the first success winning and the others cancelled. This is the behaviour
//! of Twisted's `HostnameEndpoint.connect` (its `startConnectionAttempts`):
//!
//! - the first attempt starts at once, the next ones at every tick of `delay`;
//! - the first attempt to succeed fires the result, synchronously, and every other pending
//!   attempt is cancelled;
//! - the result fails, with the last failure seen, only when no attempt is pending and the
//!   tick after the last address has passed (Twisted's `LoopingCall` notices the end of
//!   the list one tick late, and this keeps that timing);
//! - cancelling the result fails it with the caller's error and cancels what is pending.
//!
//! Completions are callbacks on the attempts' Deferreds, so the winner is decided on the
//! stack that fires it, as in Twisted. Starting attempts needs the caller's (maybe `!Send`)
//! connect function, so that part is a future the caller runs on the reactor thread.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::Either;

use crate::defer::{Deferred, Resolver};
use crate::failure::Failure;
use crate::task::defer_later;
use crate::time::ReactorTime;

/// What the attempts share: the outcome so far, and what to cancel when it is decided.
struct Race<T> {
    /// Fires the caller's Deferred; set once.
    resolver: Resolver<T>,
    /// Set when the result has fired (success, failure or cancellation).
    done: bool,
    /// Attempts started and not finished, by id.
    pending: Vec<(u64, Deferred<()>)>,
    /// Whether the ticker may still start attempts (Twisted's `checkDoneEndpointsLeft`).
    endpoints_left: bool,
    /// The most recent failure of an attempt.
    last_failure: Option<Failure>,
    /// Wakes the ticker so it stops at once when the race is decided.
    stop_ticker: Option<oneshot::Sender<()>>,
}

type Shared<T> = Arc<Mutex<Race<T>>>;

fn lock<T>(race: &Shared<T>) -> std::sync::MutexGuard<'_, Race<T>> {
    // A panic while holding this lock can only come from this module's own code, which
    // does not call user code under it; recover the data anyway rather than panic again.
    race.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A decided-from-outside handle on a race: cancelling stops the ticker and cancels every
/// pending attempt (the caller fails its own Deferred first).
pub(crate) struct RaceHandle<T>(Shared<T>);

impl<T> RaceHandle<T> {
    pub(crate) fn cancel(&self) {
        finish(&self.0);
    }
}

/// Where a caller's canceller finds the race once it has started.
pub(crate) type RaceSlot<T> = Arc<Mutex<Option<RaceHandle<T>>>>;

/// A Deferred whose cancellation fails it with `cancelled()` and then cancels the race
/// registered in the returned slot, if any yet.
pub(crate) fn cancellable<T: Send + 'static>(
    cancelled: impl FnOnce() -> Failure + Send + 'static,
) -> (Deferred<T>, Resolver<T>, RaceSlot<T>) {
    let slot: RaceSlot<T> = Arc::default();
    let for_canceller = Arc::clone(&slot);
    let (d, r) = Deferred::with_canceller(move |resolver: &Resolver<T>| {
        let _ = resolver.errback(cancelled());
        let race = for_canceller
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(race) = race {
            race.cancel();
        }
    });
    (d, r, slot)
}

/// Starts the race, to fire `resolver`. Registers the race in `slot` (so a canceller can
/// stop it) and returns the ticker, a future that starts the attempts; the caller must run
/// it on the thread `attempt` may be called on. `addresses` must not be empty.
pub(crate) fn race_attempts<T, A, C, F>(
    time: C,
    addresses: Vec<A>,
    delay: Duration,
    mut attempt: F,
    resolver: Resolver<T>,
    slot: &RaceSlot<T>,
) -> impl Future<Output = ()> + 'static
where
    T: Send + 'static,
    A: 'static,
    C: ReactorTime,
    F: FnMut(A) -> Deferred<T> + 'static,
{
    let (stop_tx, stop_rx) = oneshot::channel();
    let already_called = resolver.called();
    let race: Shared<T> = Arc::new(Mutex::new(Race {
        resolver,
        done: already_called,
        pending: Vec::new(),
        endpoints_left: true,
        last_failure: None,
        stop_ticker: Some(stop_tx),
    }));
    *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(RaceHandle(Arc::clone(&race)));

    async move {
        let mut stop_rx = stop_rx;
        for (id, address) in (0u64..).zip(addresses) {
            if lock(&race).done {
                return;
            }
            start(&race, id, attempt(address));
            if !wait(&time, delay, &mut stop_rx).await {
                return;
            }
        }
        lock(&race).endpoints_left = false;
        check_done(&race);
    }
}

/// Waits `delay` on `time`, or until the race is decided. Returns whether to go on.
async fn wait<C: ReactorTime>(time: &C, delay: Duration, stop: &mut oneshot::Receiver<()>) -> bool {
    let tick = defer_later(time, delay, || ());
    match futures::future::select(tick, stop).await {
        Either::Left(_) => true,
        Either::Right((_, tick)) => {
            // The race is over; cancel the timer so nothing stays scheduled.
            tick.cancel();
            drop(tick.add_both(|_| ()));
            false
        }
    }
}

/// Registers a started attempt and hooks its outcome to the race.
fn start<T: Send + 'static>(race: &Shared<T>, id: u64, attempt: Deferred<T>) {
    let hooked = Arc::clone(race);
    let watched = attempt.add_both(move |outcome: Result<T, Failure>| {
        settle(&hooked, id, outcome);
    });
    let mut state = lock(race);
    if state.done {
        // Decided while the attempt was being started (or by the attempt itself).
        drop(state);
        watched.cancel();
        return;
    }
    // An attempt that finished synchronously has already settled; keep only pending ones.
    if !watched.called() {
        state.pending.push((id, watched));
    }
}

/// One attempt finished.
fn settle<T: Send + 'static>(race: &Shared<T>, id: u64, outcome: Result<T, Failure>) {
    let mut state = lock(race);
    state.pending.retain(|(pending, _)| *pending != id);
    if state.done || state.resolver.called() {
        return;
    }
    match outcome {
        Ok(value) => {
            state.done = true;
            let resolver = state.resolver.clone();
            drop(state);
            // Callbacks on the caller's Deferred run here, outside the lock.
            let _ = resolver.callback(value);
            finish(race);
        }
        Err(failure) => {
            state.last_failure = Some(failure);
            drop(state);
            check_done(race);
        }
    }
}

/// Fails the race with the last failure once nothing is pending and nothing is left.
fn check_done<T: Send + 'static>(race: &Shared<T>) {
    let mut state = lock(race);
    if state.done || state.endpoints_left || !state.pending.is_empty() {
        return;
    }
    state.done = true;
    let failure = state
        .last_failure
        .take()
        .unwrap_or_else(|| Failure::msg("no connection attempt was made"));
    let resolver = state.resolver.clone();
    drop(state);
    let _ = resolver.errback(failure);
    finish(race);
}

/// The race is decided: stop the ticker and cancel every pending attempt, outside the lock
/// (a cancelled attempt settles re-entrantly).
fn finish<T>(race: &Shared<T>) {
    let (pending, stop) = {
        let mut state = lock(race);
        state.done = true;
        (std::mem::take(&mut state.pending), state.stop_ticker.take())
    };
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    for (_, attempt) in pending {
        attempt.cancel();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;

    use super::*;
    use crate::task::Clock;

    const DELAY: Duration = Duration::from_millis(300);

    /// Attempts whose resolvers the test fires by hand, in start order.
    type Started = Rc<RefCell<Vec<(&'static str, Resolver<&'static str>)>>>;

    fn setup(addresses: Vec<&'static str>) -> (Clock, LocalPool, Started, Deferred<&'static str>) {
        let clock = Clock::new();
        let started: Started = Rc::default();
        let log = Rc::clone(&started);
        let (d, resolver, slot) = cancellable(|| Failure::msg("cancelled by the caller"));
        let ticker = race_attempts(
            clock.clone(),
            addresses,
            DELAY,
            move |address| {
                let (d, r) = Deferred::new();
                log.borrow_mut().push((address, r));
                d
            },
            resolver,
            &slot,
        );
        let mut pool = LocalPool::new();
        pool.spawner().spawn_local(ticker).unwrap();
        pool.run_until_stalled();
        (clock, pool, started, d)
    }

    fn advance(clock: &Clock, pool: &mut LocalPool, by: Duration) {
        clock.advance(by);
        pool.run_until_stalled();
    }

    fn names(started: &Started) -> Vec<&'static str> {
        started.borrow().iter().map(|(a, _)| *a).collect()
    }

    #[test]
    fn attempts_are_staggered_by_the_delay() {
        let (clock, mut pool, started, d) = setup(vec!["a", "b", "c"]);
        assert_eq!(names(&started), ["a"]);
        advance(&clock, &mut pool, Duration::from_millis(299));
        assert_eq!(names(&started), ["a"]);
        advance(&clock, &mut pool, Duration::from_millis(1));
        assert_eq!(names(&started), ["a", "b"]);
        advance(&clock, &mut pool, DELAY);
        assert_eq!(names(&started), ["a", "b", "c"]);
        assert!(!d.called());
    }

    #[test]
    fn first_success_wins_and_cancels_the_rest() {
        let (clock, mut pool, started, d) = setup(vec!["a", "b", "c"]);
        advance(&clock, &mut pool, DELAY);
        started.borrow()[1].1.callback("b won").unwrap();
        assert_eq!(d.result().unwrap().unwrap(), "b won");
        // "a" was cancelled (its resolver sees it), and "c" never starts.
        assert!(started.borrow()[0].1.called());
        advance(&clock, &mut pool, DELAY * 3);
        assert_eq!(names(&started), ["a", "b"]);
        assert!(clock.pending_calls().is_empty());
    }

    #[test]
    fn all_failing_reports_the_last_failure_one_tick_after_the_last_start() {
        let (clock, mut pool, started, d) = setup(vec!["a", "b"]);
        started.borrow()[0].1.errback(Failure::msg("a refused")).unwrap();
        advance(&clock, &mut pool, DELAY);
        started.borrow()[1].1.errback(Failure::msg("b refused")).unwrap();
        assert!(!d.called(), "the end of the list is noticed one tick later");
        advance(&clock, &mut pool, DELAY);
        let failure = d.result().unwrap().unwrap_err();
        assert_eq!(failure.error_message(), "b refused");
        assert!(clock.pending_calls().is_empty());
    }

    #[test]
    fn failure_after_the_last_tick_fires_at_once() {
        let (clock, mut pool, started, d) = setup(vec!["a"]);
        advance(&clock, &mut pool, DELAY);
        assert!(!d.called());
        started.borrow()[0].1.errback(Failure::msg("timed out")).unwrap();
        assert_eq!(d.result().unwrap().unwrap_err().error_message(), "timed out");
    }

    #[test]
    fn cancelling_fails_with_the_callers_error_and_cancels_attempts() {
        let (clock, mut pool, started, d) = setup(vec!["a", "b"]);
        d.cancel();
        assert_eq!(
            d.result().unwrap().unwrap_err().error_message(),
            "cancelled by the caller"
        );
        assert!(started.borrow()[0].1.called());
        pool.run_until_stalled();
        assert!(clock.pending_calls().is_empty());
        advance(&clock, &mut pool, DELAY * 2);
        assert_eq!(names(&started), ["a"]);
    }

    #[test]
    fn synchronous_success_wins_before_the_next_start() {
        let clock = Clock::new();
        let calls = Rc::new(RefCell::new(0));
        let counter = Rc::clone(&calls);
        let (d, resolver, slot) = cancellable(|| Failure::msg("cancelled"));
        let ticker = race_attempts(
            clock.clone(),
            vec![1, 2],
            DELAY,
            move |n: i32| {
                *counter.borrow_mut() += 1;
                crate::defer::succeed(n * 10)
            },
            resolver,
            &slot,
        );
        let mut pool = LocalPool::new();
        pool.spawner().spawn_local(ticker).unwrap();
        pool.run_until_stalled();
        assert_eq!(d.result().unwrap().unwrap(), 10);
        clock.advance(DELAY * 2);
        pool.run_until_stalled();
        assert_eq!(*calls.borrow(), 1);
        assert!(clock.pending_calls().is_empty());
    }
}
