//! Public behaviour of `DeferredList`, `gather_results` and `race` beyond the conformance port:
//! the seed notebook's experiment 4, the flag combinations, ordering, cancellation and
//! unhandled-error reporting.

mod common;
use common::{cancel_counts, race_state};

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tokio_twisted::defer::{
    CancelledError, Deferred, DeferredList, FailureGroup, FirstError, FirstSuccess, fail, gather_results,
    race, succeed,
};
use tokio_twisted::failure::{Failure, MessageError};
use tokio_twisted::task::{Clock, defer_later};
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

#[derive(Debug, thiserror::Error)]
#[error("boom {0}")]
struct Boom(usize);

fn unfired<T: Send + 'static>(n: usize) -> (Vec<Deferred<T>>, Vec<tokio_twisted::defer::Resolver<T>>) {
    (0..n).map(|_| Deferred::new()).unzip()
}

/// Seed 000, experiments 4 and 4a: the list fires only when its last input fires, with every
/// value in input order.
#[test]
fn seed_experiment_4a_fires_when_the_last_input_fires() {
    let (ds, rs) = unfired::<usize>(5);
    let join = DeferredList::new(ds).build();
    for (i, r) in rs.iter().enumerate().take(4) {
        r.callback(i).unwrap();
        assert_no_result(&join);
    }
    rs[4].callback(4).unwrap();
    let values: Vec<usize> = success_result_of(join).into_iter().map(Result::unwrap).collect();
    assert_eq!(values, [0, 1, 2, 3, 4]);
}

/// Seed 000, experiment 4b: firing every input in one go gives the same list.
#[test]
fn seed_experiment_4b_all_fired_at_once() {
    let (ds, rs) = unfired::<usize>(5);
    let join = DeferredList::new(ds)
        .build()
        .add_callback(|results| Ok(results.len()));
    for (i, r) in rs.iter().enumerate() {
        r.callback(i).unwrap();
    }
    assert_eq!(success_result_of(join), 5);
}

/// Results are in input order whatever the firing order.
#[test]
fn results_in_input_order_not_firing_order() {
    let (ds, rs) = unfired::<&str>(3);
    let dl = DeferredList::new(ds).build();
    rs[2].callback("c").unwrap();
    rs[0].callback("a").unwrap();
    rs[1].callback("b").unwrap();
    let values: Vec<&str> = success_result_of(dl).into_iter().map(Result::unwrap).collect();
    assert_eq!(values, ["a", "b", "c"]);
}

/// The `FirstError` names the first input to fail in time, not the lowest index.
#[test]
fn first_error_is_first_in_time() {
    let (ds, rs) = unfired::<()>(3);
    let dl = DeferredList::new(ds)
        .fire_on_one_errback()
        .consume_errors()
        .build();
    rs[2].errback(Boom(2)).unwrap();
    rs[0].errback(Boom(0)).unwrap();
    let f = failure_result_of(dl);
    let first = f.downcast_ref::<FirstError>().unwrap();
    assert_eq!(first.index, 2);
    assert_eq!(first.failure.error_message(), "boom 2");
    assert_eq!(f.error_message(), "FirstError[#2, boom 2]");
}

/// `fire_on_one_callback` skips failures and fires with the first success and its index.
#[test]
fn fire_on_one_callback_after_failures() {
    let logged = LoggedErrors::capture();
    let (ds, rs) = unfired::<i32>(3);
    let dl = DeferredList::new(ds).consume_errors().fire_on_one_callback();
    rs[0].errback(Boom(0)).unwrap();
    assert_no_result(&dl);
    rs[2].callback(22).unwrap();
    assert!(matches!(
        success_result_of(dl),
        FirstSuccess::Found { index: 2, value: 22 }
    ));
    rs[1].errback(Boom(1)).unwrap();
    drop(rs);
    assert!(logged.is_empty(), "consume_errors keeps later failures quiet too");
}

/// `fire_on_one_callback` with every input failing gives every failure, in input order.
#[test]
fn fire_on_one_callback_all_failing() {
    let (ds, rs) = unfired::<i32>(3);
    let dl = DeferredList::new(ds).consume_errors().fire_on_one_callback();
    for i in [1, 2, 0] {
        rs[i].errback(Boom(i)).unwrap();
    }
    let FirstSuccess::AllFailed(failures) = success_result_of(dl) else {
        panic!("no input succeeded")
    };
    let messages: Vec<String> = failures.iter().map(Failure::error_message).collect();
    assert_eq!(messages, ["boom 0", "boom 1", "boom 2"]);
}

/// With both "first" flags the first event decides: a failure fails the list.
#[test]
fn fire_on_one_callback_and_errback_together() {
    let (ds, rs) = unfired::<i32>(2);
    let dl = DeferredList::new(ds)
        .fire_on_one_errback()
        .consume_errors()
        .fire_on_one_callback();
    rs[1].errback(Boom(1)).unwrap();
    assert_eq!(
        failure_result_of(dl).downcast_ref::<FirstError>().unwrap().index,
        1
    );
    rs[0].callback(0).unwrap();
}

/// Without `consume_errors` each failed input reports its failure when it goes away; with it,
/// none does.
#[test]
fn consume_errors_controls_unhandled_reports() {
    let logged = LoggedErrors::capture();
    let dl = DeferredList::new(vec![fail::<()>(Boom(0)), fail(Boom(1))]).build();
    assert_eq!(success_result_of(dl).len(), 2);
    assert_eq!(logged.flush::<Boom>().len(), 2);
    let dl = DeferredList::new(vec![fail::<()>(Boom(0)), fail(Boom(1))])
        .consume_errors()
        .build();
    assert_eq!(success_result_of(dl).len(), 2);
    assert!(logged.is_empty());
}

/// An input waiting on a Deferred its callback returned is reported once that one fires.
#[test]
fn inputs_that_wait_on_other_deferreds() {
    let (inner, ri) = Deferred::<i32>::new();
    let input = succeed(1).add_callback(move |_| inner);
    let dl = DeferredList::new(vec![input, succeed(2)]).build();
    assert_no_result(&dl);
    ri.callback(10).unwrap();
    let values: Vec<i32> = success_result_of(dl).into_iter().map(Result::unwrap).collect();
    assert_eq!(values, [10, 2]);
}

/// Inputs fired from other threads complete the list on the thread of the last one.
#[test]
fn inputs_fired_from_threads() {
    let _limit = crate::common::time_limit();
    let (ds, rs) = unfired::<usize>(8);
    let dl = DeferredList::new(ds).build();
    let handles: Vec<_> = rs
        .into_iter()
        .enumerate()
        .map(|(i, r)| thread::spawn(move || r.callback(i).unwrap()))
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let values: Vec<usize> = success_result_of(dl).into_iter().map(Result::unwrap).collect();
    assert_eq!(values, (0..8).collect::<Vec<_>>());
}

/// A thousand inputs, fired in reverse, in order.
#[test]
fn a_thousand_inputs() {
    let (ds, rs) = unfired::<usize>(1000);
    let d = gather_results(ds);
    for (i, r) in rs.iter().enumerate().rev() {
        r.callback(i).unwrap();
    }
    assert_eq!(success_result_of(d), (0..1000).collect::<Vec<_>>());
}

/// Cancelling a list whose inputs have all fired does nothing; cancelling one that fired
/// leaves unfired inputs alone.
#[test]
fn cancel_after_the_list_fired() {
    let dl = DeferredList::new(vec![succeed(1), succeed(2)]).build();
    dl.cancel();
    assert_eq!(success_result_of(dl).len(), 2);
    let (ds, rs) = unfired::<i32>(2);
    let dl = DeferredList::new(ds).fire_on_one_callback();
    rs[0].callback(0).unwrap();
    dl.cancel();
    assert!(!rs[1].called());
}

/// Cancelling a list adds no `CancelledError` of its own: an input whose canceller succeeds
/// simply succeeds.
#[test]
fn cancel_adds_no_error_of_its_own() {
    let (a, _ra) = Deferred::<i32>::with_canceller(|r| r.callback(1).unwrap());
    let dl = DeferredList::new(vec![a, succeed(2)]).build();
    dl.cancel();
    let values: Vec<i32> = success_result_of(dl).into_iter().map(Result::unwrap).collect();
    assert_eq!(values, [1, 2]);
}

/// `gather_results` of nothing is an empty list at once; `DeferredList::gather` honours
/// `consume_errors`.
#[test]
fn gather_empty_and_consume_errors() {
    assert!(success_result_of(gather_results(Vec::<Deferred<i32>>::new())).is_empty());
    let logged = LoggedErrors::capture();
    let d = DeferredList::new(vec![succeed(1), fail(Failure::msg("no"))])
        .consume_errors()
        .gather();
    let f = failure_result_of(d);
    assert!(
        f.downcast_ref::<FirstError>()
            .unwrap()
            .failure
            .check::<MessageError>()
    );
    assert!(logged.is_empty());
}

/// An input that succeeded before the race was built wins, and every other input, before or
/// after it, is cancelled once.
#[test]
fn race_with_an_already_fired_winner() {
    let (counts, mut ds, _rs) = race_state(3);
    ds[1] = succeed(7);
    let d = race(ds);
    assert_eq!(success_result_of(d), (1, 7));
    assert_eq!(cancel_counts(&counts), [1, 0, 1]);
}

/// The losers are cancelled before the race fires, as Twisted's `race` does: a callback on
/// the race's result finds the slower `defer_later`'s timer already gone.
#[test]
fn race_cancels_the_losers_before_it_fires() {
    let clock = Clock::new();
    let slow = defer_later(&clock, Duration::from_secs(5), || Ok::<_, Failure>("slow"));
    let fast = defer_later(&clock, Duration::from_secs(1), || Ok::<_, Failure>("fast"));
    let seen = Arc::new(Mutex::new(None));
    let (seen2, clock2) = (Arc::clone(&seen), clock.clone());
    let d = race(vec![slow, fast]).add_callback(move |(index, value)| {
        *seen2.lock().unwrap() = Some((index, value, clock2.pending_calls().len()));
        Ok::<_, Failure>(())
    });
    clock.advance(Duration::from_secs(1));
    success_result_of(d);
    assert_eq!(
        *seen.lock().unwrap(),
        Some((1, "fast", 0)),
        "the 5 s timer must be cancelled before the race's callbacks run"
    );

    // The same order with plain cancellers: the loser's canceller runs first.
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    let (loser, _rl) = Deferred::<i32>::with_canceller(move |_| l.lock().unwrap().push("loser cancelled"));
    let (winner, rw) = Deferred::<i32>::new();
    let l = Arc::clone(&log);
    let d = race(vec![loser, winner]).add_callback(move |_| {
        l.lock().unwrap().push("race fired");
        Ok::<_, Failure>(())
    });
    rw.callback(1).unwrap();
    success_result_of(d);
    assert_eq!(*log.lock().unwrap(), ["loser cancelled", "race fired"]);
}

/// Failures before the first success do not end the race; later results are ignored.
#[test]
fn race_failures_then_a_success() {
    let logged = LoggedErrors::capture();
    let (counts, ds, rs) = race_state(3);
    let d = race(ds);
    rs[0].errback(Boom(0)).unwrap();
    assert_no_result(&d);
    rs[2].callback(2).unwrap();
    assert_eq!(success_result_of(d), (2, 2));
    assert_eq!(
        cancel_counts(&counts),
        [0, 1, 0],
        "the failed input is not cancelled again"
    );
    drop(rs);
    assert!(logged.is_empty(), "race consumes every input's result");
}

/// All failing, in any order: the `FailureGroup` lists them in input order.
#[test]
fn race_failure_group_in_input_order() {
    let (_counts, ds, rs) = race_state(3);
    let d = race(ds);
    for i in [2, 0, 1] {
        rs[i].errback(Boom(i)).unwrap();
    }
    let f = failure_result_of(d);
    let group = f.downcast_ref::<FailureGroup>().unwrap();
    let messages: Vec<String> = group.failures.iter().map(Failure::error_message).collect();
    assert_eq!(messages, ["boom 0", "boom 1", "boom 2"]);
    assert_eq!(
        group.to_string(),
        "all 3 deferreds failed; #0: boom 0; #1: boom 1; #2: boom 2"
    );
}

/// Cancelling a race cancels every input once; the race then fails with a `FailureGroup` of
/// `CancelledErrors`. A race of nothing never fires.
#[test]
fn race_cancel_and_empty() {
    let (counts, ds, _rs) = race_state(2);
    let d = race(ds);
    d.cancel();
    d.cancel();
    assert_eq!(cancel_counts(&counts), [1, 1]);
    let f = failure_result_of(d);
    assert!(
        f.downcast_ref::<FailureGroup>()
            .unwrap()
            .failures
            .iter()
            .all(Failure::check::<CancelledError>)
    );
    let d = race(Vec::<Deferred<i32>>::new());
    assert_no_result(&d);
    d.cancel();
    assert!(
        failure_result_of(d).check::<CancelledError>(),
        "an empty race has no input to fail, so its own cancellation fails it, as in Twisted"
    );
    let dl = DeferredList::new(Vec::<Deferred<i32>>::new()).fire_on_one_callback();
    dl.cancel();
    assert!(
        !dl.called(),
        "cancelling a list only cancels its inputs, and it has none"
    );
}

/// The builder's Debug output names its inputs and flags.
#[test]
fn deferred_list_debug() {
    let dl = DeferredList::new(vec![succeed(1)]).consume_errors();
    assert_eq!(
        format!("{dl:?}"),
        "DeferredList { inputs: 1, fire_on_one_errback: false, consume_errors: true }"
    );
    drop(dl.build());
}
