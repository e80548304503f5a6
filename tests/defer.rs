//! Public behaviour of `defer::Deferred` and `Resolver` that the conformance port of
//! `test_defer.py` does not already cover: the seed notebook's experiments, typed chains, the
//! step-return forms, `Debug` output, pausing, cancelling, unhandled-error reporting and
//! firing from other threads.

mod common;

use std::sync::{Arc, Mutex};
use std::thread;

use tokio_twisted::defer::{
    AlreadyCalledError, CancelledError, Deferred, IntoOutcome, NotPausedError, Outcome, Resolver, fail,
    maybe_deferred, succeed,
};
use tokio_twisted::failure::{Failure, MessageError, PanicError};
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

/// A list the callbacks of one test append to.
struct Record<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Record<T> {
    fn clone(&self) -> Self {
        Record(Arc::clone(&self.0))
    }
}

impl<T: Clone> Record<T> {
    fn new() -> Self {
        Record(Arc::new(Mutex::new(Vec::new())))
    }
    fn push(&self, value: T) {
        self.0.lock().unwrap().push(value);
    }
    fn get(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

// --- The seed notebook (shared/seeds/000): experiments 1 to 3b ------------------------------

/// Experiment 1: `called`, `result`, and `AlreadyCalledError` on a second `callback`.
#[test]
fn seed_experiment_1_called_result_and_already_called() {
    let (d, r) = Deferred::<i32>::new();
    assert!(!d.called());
    assert!(d.result().is_none(), "no result before firing");
    r.callback(3).unwrap();
    assert!(d.called());
    assert_eq!(d.result().unwrap().unwrap(), 3);
    assert_eq!(r.callback(6), Err(AlreadyCalledError));
    assert_eq!(d.result().unwrap().unwrap(), 3, "the second fire changed nothing");
}

/// Experiment 2: a callback runs synchronously when the Deferred fires and its return value
/// becomes the result.
#[test]
fn seed_experiment_2_callback_runs_at_fire_time() {
    let printed = Record::new();
    let p = printed.clone();
    let (d, r) = Deferred::<i32>::new();
    let d = d.add_callback(move |v| {
        p.push("foo called");
        Ok(v + 1)
    });
    assert!(!d.called());
    assert!(printed.get().is_empty());
    r.callback(3).unwrap();
    assert_eq!(printed.get(), ["foo called"], "ran inside callback()");
    assert!(d.called());
    assert_eq!(d.result().unwrap().unwrap(), 4);
}

/// Experiments 3 and 3a: a callback that returns an unfired `b` holds `a`'s second callback
/// until `b` fires; `b`'s value then reaches it.
#[test]
fn seed_experiment_3a_fire_a_then_b() {
    let printed = Record::new();
    let (a, ra) = Deferred::<i32>::new();
    let (b, rb) = Deferred::<i32>::new();
    let (p1, p2) = (printed.clone(), printed.clone());
    let a = a
        .add_callback(move |arg| {
            p1.push(format!("b_callback called with arg = {arg}"));
            b
        })
        .add_callback(move |arg| {
            p2.push(format!("on_done called with arg = {arg}"));
            Ok(arg)
        });
    assert_eq!(a.pending_callbacks(), 2, "both callbacks wait; b has none");
    assert_eq!(rb.pending_callbacks(), 0);
    ra.callback(3).unwrap();
    assert_eq!(printed.get(), ["b_callback called with arg = 3"]);
    assert!(a.is_waiting());
    assert_eq!(a.pending_callbacks(), 1, "on_done waits for b");
    rb.callback(4).unwrap();
    assert_eq!(
        printed.get(),
        ["b_callback called with arg = 3", "on_done called with arg = 4"]
    );
    assert_eq!(a.result().unwrap().unwrap(), 4);
}

/// Experiment 3b: the same with `b` fired first; the result is the same and `b`'s value is
/// used as soon as `a` fires.
#[test]
fn seed_experiment_3b_fire_b_then_a() {
    let printed = Record::new();
    let (a, ra) = Deferred::<i32>::new();
    let (b, rb) = Deferred::<i32>::new();
    rb.callback(4).unwrap();
    assert_eq!(
        format!("{b:?}"),
        format!("<Deferred at {} current result: 4>", address(&b))
    );
    let (p1, p2) = (printed.clone(), printed.clone());
    let a = a
        .add_callback(move |arg| {
            p1.push(format!("b_callback called with arg = {arg}"));
            b
        })
        .add_callback(move |arg| {
            p2.push(format!("on_done called with arg = {arg}"));
            Ok(arg)
        });
    ra.callback(3).unwrap();
    assert_eq!(
        printed.get(),
        ["b_callback called with arg = 3", "on_done called with arg = 4"]
    );
    assert!(!a.is_waiting());
    assert_eq!(a.result().unwrap().unwrap(), 4);
}

fn address<T: std::fmt::Debug>(d: &T) -> String {
    let s = format!("{d:?}");
    let start = s.find("0x").unwrap();
    s[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

// --- Types through the chain and the step-return forms ---------------------------------------

/// Each step may change the value type; the final handle is typed by the last step.
#[test]
fn steps_change_the_value_type() {
    let (d, r) = Deferred::<u32>::new();
    let d: Deferred<String> = d
        .add_callback(|n| Ok(n * 2))
        .add_callback(|n| Ok(format!("{n} apples")));
    let d: Deferred<usize> = d.add_both(|r: Result<String, Failure>| r.map(|s| s.len()));
    r.callback(21).unwrap();
    assert_eq!(success_result_of(d), "42 apples".len());
}

/// A failure skips callbacks of every type until an errback of the right type recovers.
#[test]
fn failure_skips_retyped_callbacks() {
    let (d, r) = Deferred::<u32>::new();
    let d = d
        .add_callback(|n| Ok(i64::from(n)))
        .add_callback(|n| Ok(format!("{n}")))
        .add_errback(|f| Ok(format!("recovered from {}", f.error_message())));
    r.errback(Boom).unwrap();
    assert_eq!(success_result_of(d), "recovered from boom");
}

/// Every form a step may return: `Ok`, `Err`, `()`, a Deferred, and each `Outcome` variant.
#[test]
fn every_step_return_form() {
    assert_eq!(success_result_of(succeed(1).add_callback(|x| Ok(x + 1))), 2);
    assert!(
        failure_result_of(succeed(1).add_callback(|_| Err::<i32, _>(Failure::new(Boom)))).check::<Boom>()
    );
    success_result_of(succeed(1).add_callback(|_| ()));
    assert_eq!(success_result_of(succeed(1).add_callback(|x| succeed(x + 2))), 3);
    assert_eq!(
        success_result_of(succeed(1).add_callback(|x| Outcome::Value(x + 3))),
        4
    );
    let f = failure_result_of(succeed(1).add_callback(|_| Outcome::<i32>::Failure(Failure::new(Boom))));
    assert!(f.check::<Boom>());
    let (inner, ri) = Deferred::<i32>::new();
    let d = succeed(1).add_callback(move |_| Outcome::Deferred(inner));
    assert_no_result(&d);
    ri.callback(5).unwrap();
    assert_eq!(success_result_of(d), 5);
}

/// A helper returning `impl IntoOutcome` can pick the form per call.
#[test]
fn into_outcome_lets_one_step_mix_forms() {
    fn lookup(cached: bool, x: i32) -> impl IntoOutcome<i32> {
        if cached {
            Outcome::Value(x)
        } else {
            Outcome::Deferred(succeed(x * 10))
        }
    }
    assert_eq!(success_result_of(succeed(4).add_callback(|x| lookup(true, x))), 4);
    assert_eq!(
        success_result_of(succeed(4).add_callback(|x| lookup(false, x))),
        40
    );
    let out = Ok::<_, Failure>(1).into_outcome();
    assert!(matches!(out, Outcome::Value(1)));
    assert_eq!(format!("{:?}", Outcome::Value(1)), "Value(1)");
    assert_eq!(format!("{:?}", Outcome::Deferred(succeed(1))), "Deferred(..)");
}

/// `?` on any error type inside a callback converts it into a Failure that keeps its type.
#[test]
fn question_mark_in_callbacks() {
    let d = succeed("12x").add_callback(|s| {
        let n: i32 = s.parse()?;
        Ok(n)
    });
    assert!(failure_result_of(d).check::<std::num::ParseIntError>());
    let d = fail::<i32>(Boom).add_errback(|f| {
        f.trap::<MessageError>()?;
        Ok(0)
    });
    assert!(
        failure_result_of(d).check::<Boom>(),
        "trap passes other failures on"
    );
}

/// A panic in an errback, or in an `add_both` step, becomes a failure too.
#[test]
fn panics_in_errbacks_and_both_become_failures() {
    let d = fail::<i32>(Boom).add_errback(|_f| -> Result<i32, Failure> { panic!("errback broke") });
    let f = failure_result_of(d);
    assert!(f.check::<PanicError>());
    assert_eq!(f.downcast_ref::<PanicError>().unwrap().message(), "errback broke");
    let d = succeed(1).add_both(|_r: Result<i32, Failure>| -> Result<i32, Failure> { panic!("both broke") });
    assert!(failure_result_of(d).is_panic());
}

/// `maybe_deferred` takes every step-return form as well.
#[test]
fn maybe_deferred_forms() {
    success_result_of(maybe_deferred(|| ()));
    assert_eq!(success_result_of(maybe_deferred(|| Outcome::Value(3))), 3);
    let (d, r) = Deferred::<i32>::new();
    let md = maybe_deferred(move || Outcome::Deferred(d));
    r.callback(9).unwrap();
    assert_eq!(success_result_of(md), 9);
}

// --- Debug output -------------------------------------------------------------------------

/// Debug mirrors Twisted's repr, and adds what Twisted keeps private: pauses and pending
/// callbacks.
#[test]
fn debug_output_shapes() {
    let (d, r) = Deferred::<i32>::new();
    let at = address(&d);
    assert_eq!(format!("{d:?}"), format!("<Deferred at {at}>"));
    let mut d = d.add_callback(|x| Ok(x + 1));
    assert_eq!(format!("{d:?}"), format!("<Deferred at {at} callbacks: 1>"));
    d.pause();
    r.callback(1).unwrap();
    assert_eq!(
        format!("{d:?}"),
        format!("<Deferred at {at} current result: 1 paused: 1 callbacks: 1>")
    );
    d.unpause().unwrap();
    assert_eq!(format!("{d:?}"), format!("<Deferred at {at} current result: 2>"));
    assert_eq!(
        format!("{r:?}"),
        format!("{d:?}"),
        "the resolver shows its Deferred"
    );
    assert_eq!(format!("{:?}", succeed("x")), "<Deferred current result: \"x\">");
    let f = fail::<i32>(Failure::msg("bad"));
    assert!(format!("{f:?}").contains("current result: Failure"), "{f:?}");
    assert!(format!("{f:?}").contains("bad"), "{f:?}");
    failure_result_of(f);
}

/// After an awaiting task or an outer chain took the result, Debug says it is gone.
#[test]
fn debug_after_result_moved() {
    let (d, r) = Deferred::<i32>::new();
    let at = address(&d);
    let (inner, ri) = Deferred::<i32>::new();
    ri.callback(5).unwrap();
    let inner_repr = format!("{ri:?}");
    let d = d.add_callback(move |_| inner);
    r.callback(0).unwrap();
    assert_eq!(format!("{d:?}"), format!("<Deferred at {at} current result: 5>"));
    assert!(inner_repr.contains("current result: 5"));
    assert!(format!("{ri:?}").ends_with("current result: None>"), "{ri:?}");
}

// --- Pausing ------------------------------------------------------------------------------

/// Pauses nest: callbacks run only when every pause has been undone.
#[test]
fn pauses_nest() {
    let ran = Record::new();
    let ra = ran.clone();
    let (mut d, r) = Deferred::<i32>::new();
    d.pause();
    d.pause();
    assert!(d.paused());
    r.callback(1).unwrap();
    let mut d = d.add_callback(move |x| {
        ra.push(x);
        Ok(x)
    });
    d.unpause().unwrap();
    assert!(ran.get().is_empty() && d.paused());
    d.unpause().unwrap();
    assert_eq!(ran.get(), [1]);
    assert!(!d.paused());
    assert_eq!(d.unpause(), Err(NotPausedError));
    assert_eq!(success_result_of(d), 1);
}

/// `unpause` without a matching `pause` is an error and leaves the Deferred working (Twisted
/// would drive its counter negative and stick).
#[test]
fn unpause_without_pause_is_an_error() {
    let (mut d, r) = Deferred::<i32>::new();
    assert_eq!(d.unpause(), Err(NotPausedError));
    assert_eq!(
        NotPausedError.to_string(),
        "unpause called on a deferred that is not paused"
    );
    r.callback(1).unwrap();
    let mut d = d.add_callback(|x| Ok(x + 1));
    assert_eq!(d.unpause(), Err(NotPausedError));
    assert_eq!(success_result_of(d), 2);
    let mut ready = succeed(1);
    assert_eq!(ready.unpause(), Err(NotPausedError));
}

/// A callback that pauses its own Deferred stops the chain after it; unpausing resumes it.
#[test]
fn pause_from_inside_a_callback() {
    let ran = Record::new();
    let slot: Arc<Mutex<Option<Deferred<i32>>>> = Arc::new(Mutex::new(None));
    let (d, r) = Deferred::<i32>::new();
    let (r1, r2, s) = (ran.clone(), ran.clone(), Arc::clone(&slot));
    let d = d
        .add_callback(move |x| {
            r1.push(1);
            s.lock().unwrap().as_mut().unwrap().pause();
            Ok(x)
        })
        .add_callback(move |x| {
            r2.push(2);
            Ok(x)
        });
    *slot.lock().unwrap() = Some(d);
    r.callback(0).unwrap();
    assert_eq!(ran.get(), [1]);
    let mut d = slot.lock().unwrap().take().unwrap();
    assert!(d.paused());
    assert_eq!(d.pending_callbacks(), 1);
    d.unpause().unwrap();
    assert_eq!(ran.get(), [1, 2]);
}

/// `result()` is `None` while callbacks are held back; `try_result` gives the Deferred back.
#[test]
fn result_and_try_result_while_held() {
    let (mut d, r) = Deferred::<i32>::new();
    d.pause();
    r.callback(1).unwrap();
    let d = d.add_callback(|x| Ok(x + 1));
    assert!(d.result().is_none());
    let Err(mut d) = d.try_result() else {
        panic!("no final result while paused")
    };
    d.unpause().unwrap();
    assert_eq!(d.try_result().ok().unwrap().unwrap(), 2);
}

// --- Cancelling ---------------------------------------------------------------------------

/// Cancelling an already fired Deferred, or a `succeed` one, does nothing.
#[test]
fn cancel_of_fired_deferreds_does_nothing() {
    let d = succeed(1);
    d.cancel();
    assert_eq!(success_result_of(d), 1);
    let (d, r) = Deferred::<i32>::new();
    r.callback(2).unwrap();
    d.cancel();
    r.cancel();
    assert_eq!(success_result_of(d), 2);
}

/// Cancelling through the resolver is the same as through the Deferred.
#[test]
fn cancel_through_the_resolver() {
    let (d, r) = Deferred::<i32>::with_canceller(|r| r.callback(-1).unwrap());
    r.cancel();
    assert_eq!(success_result_of(d), -1);
}

/// Cancelling a Deferred that waits on one nobody can fire any more (its handles and resolvers
/// are all gone) fails it with `CancelledError`, as cancelling that inner Deferred would.
#[test]
fn cancel_reaches_an_inner_deferred_nobody_can_fire() {
    let (a, ra) = Deferred::<i32>::new();
    let a = a.add_callback(|_| Deferred::<i32>::new().0);
    ra.callback(0).unwrap();
    assert!(a.is_waiting());
    a.cancel();
    assert!(!a.is_waiting());
    assert!(failure_result_of(a).check::<CancelledError>());
}

/// Cancelling walks down a chain of waiting Deferreds to the innermost one.
#[test]
fn cancel_walks_nested_waits() {
    let cancelled = Record::new();
    let c = cancelled.clone();
    let (c_d, _rc) = Deferred::<i32>::with_canceller(move |_r| c.push("c"));
    let (b, rb) = Deferred::<i32>::with_canceller(|_| panic!("b is fired, not cancelled"));
    let b = b.add_callback(move |_| c_d);
    rb.callback(0).unwrap();
    let (a, ra) = Deferred::<i32>::with_canceller(|_| panic!("a is fired, not cancelled"));
    let a = a.add_callback(move |_| b).add_errback(|f| {
        f.trap::<CancelledError>()?;
        Ok(-1)
    });
    ra.callback(0).unwrap();
    a.cancel();
    assert_eq!(cancelled.get(), ["c"]);
    assert_eq!(success_result_of(a), -1);
}

/// A canceller that panics fails the Deferred with that panic (Twisted lets the exception
/// escape `cancel()` and leaves the Deferred unfired); a second cancel does not call it again.
#[test]
fn panicking_canceller() {
    let (d, _r) = Deferred::<i32>::with_canceller(|_| panic!("canceller broke"));
    d.cancel();
    d.cancel();
    let f = failure_result_of(d);
    assert_eq!(
        f.downcast_ref::<PanicError>().unwrap().message(),
        "canceller broke"
    );
}

// --- Unhandled errors ---------------------------------------------------------------------

/// A failure at the end of a chain is reported once, when the last handle goes away, wherever
/// that is.
#[test]
fn unhandled_failure_reported_once_on_last_drop() {
    let logged = LoggedErrors::capture();
    let (d, r) = Deferred::<i32>::new();
    let d = d.add_callback(|_| Err::<i32, _>(Failure::new(Boom)));
    r.callback(1).unwrap();
    let peek = d.result().unwrap().unwrap_err();
    assert!(peek.check::<Boom>(), "result() only looks");
    drop(d);
    assert!(logged.is_empty(), "the resolver still holds the Deferred");
    drop(r);
    let reported = logged.flush::<Boom>();
    assert_eq!(reported.len(), 1);
    assert!(reported[0].ptr_eq(&peek));
}

/// Handled, recovered, consumed or awaited failures are never reported.
#[test]
fn handled_failures_are_not_reported() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    drop(fail::<i32>(Boom).add_errback(|_f| Ok(0)));
    failure_result_of(fail::<i32>(Boom));
    let _ = fail::<i32>(Boom).try_result();
    drop(fail::<i32>(Boom).add_both(|r: Result<i32, Failure>| Ok(r.is_err())));
    let (outer, ro) = Deferred::<i32>::new();
    let outer = outer.add_callback(|_| fail::<i32>(Boom)).add_errback(|_f| Ok(1));
    ro.callback(0).unwrap();
    drop((outer, ro));
    let awaited = futures::executor::block_on(fail::<i32>(Boom));
    assert!(awaited.is_err());
    assert!(logged.is_empty());
}

/// A failure that is recovered from and then re-raised later is reported once, as the final
/// result.
#[test]
fn only_the_final_failure_is_reported() {
    let logged = LoggedErrors::capture();
    let d = fail::<i32>(Failure::msg("first"))
        .add_errback(|_f| Ok(1))
        .add_callback(|_| Err::<i32, _>(Failure::new(Boom)));
    drop(d);
    assert_eq!(logged.flush::<Boom>().len(), 1);
    assert!(logged.flush::<MessageError>().is_empty());
}

// --- Threads ------------------------------------------------------------------------------

/// Callbacks run on the thread that fires the Deferred.
#[test]
fn callbacks_run_on_the_firing_thread() {
    let _limit = crate::common::time_limit();
    let (d, r) = Deferred::<()>::new();
    let d = d.add_callback(|()| Ok(thread::current().id()));
    let firing = thread::spawn(move || {
        r.callback(()).unwrap();
        thread::current().id()
    })
    .join()
    .unwrap();
    assert_eq!(success_result_of(d), firing);
    assert_ne!(firing, thread::current().id());
}

/// Only one of several threads racing to fire wins; the others get `AlreadyCalledError`.
#[test]
fn racing_resolvers_fire_once() {
    let _limit = crate::common::time_limit();
    for _ in 0..50 {
        let (d, r) = Deferred::<usize>::new();
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let r: Resolver<usize> = r.clone();
                thread::spawn(move || r.callback(i).is_ok())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&w| w)
            .count();
        assert_eq!(wins, 1);
        assert!(success_result_of(d) < 4);
    }
}

/// Callbacks added from one thread while another fires each run exactly once, in the order
/// they were added.
#[test]
fn adding_callbacks_while_another_thread_fires() {
    let _limit = crate::common::time_limit();
    for _ in 0..20 {
        let ran = Record::new();
        let (d, r) = Deferred::<()>::new();
        let slot = Arc::new(Mutex::new(Some(d)));
        let adder = {
            let (slot, ran) = (Arc::clone(&slot), ran.clone());
            thread::spawn(move || {
                for i in 0..200 {
                    let ran = ran.clone();
                    let mut guard = slot.lock().unwrap();
                    let d = guard.take().unwrap();
                    *guard = Some(d.add_callback(move |()| ran.push(i)));
                }
            })
        };
        let firer = thread::spawn(move || r.callback(()).unwrap());
        adder.join().unwrap();
        firer.join().unwrap();
        assert_eq!(ran.get(), (0..200).collect::<Vec<_>>());
    }
}

/// A paused Deferred with nothing left to run still shows its result (Twisted's `d.result`),
/// but cannot be taken until it is unpaused.
#[test]
fn result_of_a_paused_deferred_with_nothing_pending() {
    let (mut d, r) = Deferred::<i32>::new();
    r.callback(1).unwrap();
    d.pause();
    assert_eq!(d.result().unwrap().unwrap(), 1);
    let Err(mut d) = d.try_result() else {
        panic!("a paused Deferred's result is not final")
    };
    d.unpause().unwrap();
    assert_eq!(success_result_of(d), 1);
}

/// Values of different types (small, large, changing type down a chain) fired and taken
/// one after another on one thread come out intact: the per-thread reuse of value boxes
/// never hands a box of one type to another.
#[test]
fn values_of_many_types_in_turn_on_one_thread() {
    for i in 0..3u8 {
        let (a, ra) = Deferred::<u8>::new();
        ra.callback(i).unwrap();
        assert_eq!(success_result_of(a), i);
        let (b, rb) = Deferred::<String>::new();
        rb.callback(format!("s{i}")).unwrap();
        assert_eq!(success_result_of(b), format!("s{i}"));
        let (c, rc) = Deferred::<[u8; 256]>::new();
        rc.callback([i; 256]).unwrap();
        assert_eq!(success_result_of(c), [i; 256]);
        let (d, rd) = Deferred::<u8>::new();
        let d = d
            .add_callback(|x| Ok::<_, Failure>(u64::from(x) * 1000))
            .add_callback(|x| Ok::<_, Failure>(x.to_string()));
        rd.callback(i).unwrap();
        assert_eq!(success_result_of(d), format!("{}", u64::from(i) * 1000));
    }
}
