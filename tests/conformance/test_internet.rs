//! Port of the reactor-level cases of `twisted/test/test_internet.py`: three-phase system
//! events, the reactor's time (`callLater`, `DelayedCall`), and `callFromThread`.
//!
//! Twisted's `ThreePhaseEventTests` exercise its private `_ThreePhaseEvent` helper; here the
//! same behaviour is checked through a reactor's custom events (`fire_system_event`), which
//! run on that helper's rules.
//!
//! Not ported:
//! - `ThreePhaseEventTests.test_addInvalidPhase`, `SystemEventTests.test_unknownPhase`:
//!   type system forbids it (`Phase` is an enum).
//! - `ThreePhaseEventTests.test_removeAlmostValidTrigger`: type system forbids it (a
//!   `TriggerId` cannot be forged with a bad phase).
//! - `ThreePhaseEventTests.test_finishedBeforeTriggersCleared`: checks private attributes of
//!   Twisted's helper (`finishedBefore`, `state`) that have no counterpart.
//! - `TimeTests.testDelayedCallSecondsOverride`: a `DelayedCall` is only made by a clock,
//!   never constructed with its own seconds function.
//! - `ResolveTests.testChildResolve`: name resolution in a child process; the reactor has
//!   no resolver (endpoints resolve through Tokio).
//! - `ProtocolTests.testFactory`, `ProducerTests.*` (6), `PortStringificationTests.*` (3),
//!   `ConnectorReprTests.test_tcp_repr`: protocols, transports and ports, not the reactor
//!   core; they belong to the networking modules' conformance files.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::{Failure, MessageError};
use tokio_twisted::reactor::{
    DelayedCall, DelayedCallError, Event, Phase, ReactorHandle, TriggerId, UnknownTriggerError,
};
use tokio_twisted::testing::LoggedErrors;

use crate::common::{paused_reactor, reactor, stop_call};

const TEST: Event = Event::Custom("test");

type Log = Arc<Mutex<Vec<&'static str>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn push(log: &Log, item: &'static str) -> impl FnOnce() + Send + use<> {
    let log = Arc::clone(log);
    move || log.lock().unwrap().push(item)
}

fn events(log: &Log) -> Vec<&'static str> {
    log.lock().unwrap().clone()
}

/// A trigger id filled in after the trigger that uses it is registered.
type Slot = Arc<Mutex<Option<TriggerId>>>;

fn remover(
    reactor: &ReactorHandle,
    slot: &Slot,
) -> impl FnOnce() -> Result<(), UnknownTriggerError> + Send + use<> {
    let (reactor, slot) = (reactor.clone(), Arc::clone(slot));
    move || reactor.remove_system_event_trigger(slot.lock().unwrap().expect("slot filled"))
}

// ---------------------------------------------------------------------------------------
// ThreePhaseEventTests

/// twisted: ThreePhaseEventTests.test_addBeforeTrigger
/// A *before* trigger runs ahead of a *during* trigger added earlier.
#[test]
fn test_add_before_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "before"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["before", "during"]);
}

/// twisted: ThreePhaseEventTests.test_addDuringTrigger
/// A *during* trigger runs between the *before* and *after* phases.
#[test]
fn test_add_during_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "before"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["before", "during", "after"]);
}

/// twisted: ThreePhaseEventTests.test_addAfterTrigger
/// An *after* trigger runs behind a *during* trigger added later.
#[test]
fn test_add_after_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["during", "after"]);
}

/// twisted: ThreePhaseEventTests.test_removeTrigger
/// A removed trigger does not run.
#[test]
fn test_remove_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let id = r
        .add_system_event_trigger(Phase::Before, TEST, push(&log, "removed"))
        .unwrap();
    r.remove_system_event_trigger(id).unwrap();
    r.fire_system_event("test");
    assert!(events(&log).is_empty());
}

/// twisted: ThreePhaseEventTests.test_removeNonexistentTrigger
/// An id this reactor never handed out (here, another reactor's) is rejected.
#[test]
fn test_remove_nonexistent_trigger() {
    let _limit = crate::common::time_limit();
    let (a, b) = (reactor(), reactor());
    let foreign = b.add_system_event_trigger(Phase::Before, TEST, || {}).unwrap();
    assert_eq!(a.remove_system_event_trigger(foreign), Err(UnknownTriggerError));
}

/// twisted: ThreePhaseEventTests.test_removeRemovedTrigger
/// Removing the same trigger twice fails the second time.
#[test]
fn test_remove_removed_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let id = r.add_system_event_trigger(Phase::Before, TEST, || {}).unwrap();
    r.remove_system_event_trigger(id).unwrap();
    assert_eq!(r.remove_system_event_trigger(id), Err(UnknownTriggerError));
}

/// twisted: ThreePhaseEventTests.test_fireEvent
/// Firing runs before, during and after triggers in that order, each in registration order.
#[test]
fn test_fire_event() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "first after"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "first during"))
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "first before"))
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "second before"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "second during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "second after"))
        .unwrap();
    assert!(events(&log).is_empty());
    r.fire_system_event("test");
    assert_eq!(
        events(&log),
        [
            "first before",
            "second before",
            "first during",
            "second during",
            "first after",
            "second after"
        ]
    );
}

/// twisted: ThreePhaseEventTests.test_asynchronousBefore
/// A Deferred returned by a *before* trigger holds the later phases until it fires.
#[test]
fn test_asynchronous_before() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (d, resolver) = Deferred::<()>::new();
    r.add_system_event_trigger(Phase::Before, TEST, move || d)
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.fire_system_event("test");
    assert!(events(&log).is_empty());
    resolver.callback(()).unwrap();
    assert_eq!(events(&log), ["during", "after"]);
}

/// twisted: ThreePhaseEventTests.test_beforeTriggerException
/// A failing *before* trigger is logged and the remaining triggers run.
#[test]
fn test_before_trigger_exception() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, TEST, || Err::<(), _>(Failure::msg("dummy")))
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "before"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["before", "during"]);
    assert_eq!(logged.flush::<MessageError>().len(), 1);
}

/// twisted: ThreePhaseEventTests.test_duringTriggerException
/// A failing *during* trigger is logged and the remaining triggers run.
#[test]
fn test_during_trigger_exception() {
    let _limit = crate::common::time_limit();
    let logged = LoggedErrors::capture();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::During, TEST, || Err::<(), _>(Failure::msg("dummy")))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["during", "after"]);
    assert_eq!(logged.flush::<MessageError>().len(), 1);
}

/// twisted: ThreePhaseEventTests.test_synchronousRemoveAlreadyExecutedBefore
/// Removing a *before* trigger that already ran fails (Twisted only warns, announcing
/// that it will raise), and the other triggers are unaffected.
#[test]
fn test_synchronous_remove_already_executed_before() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let slot = Slot::default();
    let first = r
        .add_system_event_trigger(Phase::Before, TEST, push(&log, "first before"))
        .unwrap();
    *slot.lock().unwrap() = Some(first);
    let outcome = Arc::new(Mutex::new(None));
    let (remove, o) = (remover(&r.handle(), &slot), Arc::clone(&outcome));
    r.add_system_event_trigger(Phase::Before, TEST, move || *o.lock().unwrap() = Some(remove()))
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "second before"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["first before", "second before"]);
    assert_eq!(*outcome.lock().unwrap(), Some(Err(UnknownTriggerError)));
}

/// twisted: ThreePhaseEventTests.test_synchronousRemovePendingBefore
/// A *before* trigger that removes a later *before* trigger stops it from running.
#[test]
fn test_synchronous_remove_pending_before() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let slot = Slot::default();
    r.add_system_event_trigger(Phase::Before, TEST, remover(&r.handle(), &slot))
        .unwrap();
    *slot.lock().unwrap() = Some(
        r.add_system_event_trigger(Phase::Before, TEST, push(&log, "first before"))
            .unwrap(),
    );
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "second before"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["second before"]);
}

/// twisted: ThreePhaseEventTests.test_synchronousBeforeRemovesDuring
/// A *before* trigger that removes a *during* trigger stops it from running.
#[test]
fn test_synchronous_before_removes_during() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let slot = Slot::default();
    r.add_system_event_trigger(Phase::Before, TEST, remover(&r.handle(), &slot))
        .unwrap();
    *slot.lock().unwrap() = Some(
        r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
            .unwrap(),
    );
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["after"]);
}

/// twisted: ThreePhaseEventTests.test_asynchronousBeforeRemovesDuring
/// A *during* trigger removed while a *before* Deferred is pending does not run.
#[test]
fn test_asynchronous_before_removes_during() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (d, resolver) = Deferred::<()>::new();
    r.add_system_event_trigger(Phase::Before, TEST, move || d)
        .unwrap();
    let during = r
        .add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.fire_system_event("test");
    r.remove_system_event_trigger(during).unwrap();
    resolver.callback(()).unwrap();
    assert_eq!(events(&log), ["after"]);
}

/// twisted: ThreePhaseEventTests.test_synchronousBeforeRemovesConspicuouslySimilarDuring
/// Removal is by id: removing a *during* trigger identical to a *before* one that already
/// ran removes only the *during* one, without complaint.
#[test]
fn test_synchronous_before_removes_conspicuously_similar_during() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let slot = Slot::default();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "trigger"))
        .unwrap();
    let outcome = Arc::new(Mutex::new(None));
    let (remove, o) = (remover(&r.handle(), &slot), Arc::clone(&outcome));
    r.add_system_event_trigger(Phase::Before, TEST, move || *o.lock().unwrap() = Some(remove()))
        .unwrap();
    *slot.lock().unwrap() = Some(
        r.add_system_event_trigger(Phase::During, TEST, push(&log, "trigger"))
            .unwrap(),
    );
    r.fire_system_event("test");
    assert_eq!(events(&log), ["trigger"]);
    assert_eq!(*outcome.lock().unwrap(), Some(Ok(())));
}

/// twisted: ThreePhaseEventTests.test_synchronousRemovePendingDuring
/// A *during* trigger that removes a later *during* trigger stops it from running.
#[test]
fn test_synchronous_remove_pending_during() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let slot = Slot::default();
    r.add_system_event_trigger(Phase::During, TEST, remover(&r.handle(), &slot))
        .unwrap();
    *slot.lock().unwrap() = Some(
        r.add_system_event_trigger(Phase::During, TEST, push(&log, "first during"))
            .unwrap(),
    );
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "second during"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["second during"]);
}

/// twisted: ThreePhaseEventTests.test_triggersRunOnce
/// Firing an event twice runs each trigger once.
#[test]
fn test_triggers_run_once() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "before"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.fire_system_event("test");
    r.fire_system_event("test");
    assert_eq!(events(&log), ["before", "during", "after"]);
}

// ---------------------------------------------------------------------------------------
// SystemEventTests

fn add_system_event_trigger_test(phase: Phase) {
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(phase, TEST, push(&log, "fired"))
        .unwrap();
    assert!(events(&log).is_empty());
    r.fire_system_event("test");
    assert_eq!(events(&log), ["fired"]);
}

/// twisted: SystemEventTests.test_beforePhase
/// A *before* trigger is not called until its event fires.
#[test]
fn test_before_phase() {
    let _limit = crate::common::time_limit();
    add_system_event_trigger_test(Phase::Before);
}

/// twisted: SystemEventTests.test_duringPhase
/// A *during* trigger is not called until its event fires.
#[test]
fn test_during_phase() {
    let _limit = crate::common::time_limit();
    add_system_event_trigger_test(Phase::During);
}

/// twisted: SystemEventTests.test_afterPhase
/// An *after* trigger is not called until its event fires.
#[test]
fn test_after_phase() {
    let _limit = crate::common::time_limit();
    add_system_event_trigger_test(Phase::After);
}

/// twisted: SystemEventTests.test_beforePreceedsDuring
/// *Before* triggers run ahead of *during* ones.
#[test]
fn test_before_preceeds_during() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "before"))
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["before", "during"]);
}

/// twisted: SystemEventTests.test_duringPreceedsAfter
/// *During* triggers run ahead of *after* ones.
#[test]
fn test_during_preceeds_after() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.add_system_event_trigger(Phase::After, TEST, push(&log, "after"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["during", "after"]);
}

/// twisted: SystemEventTests.test_beforeReturnsDeferred
/// The *during* phase waits for a Deferred returned by a *before* trigger.
#[test]
fn test_before_returns_deferred() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (d, resolver) = Deferred::<()>::new();
    r.add_system_event_trigger(Phase::Before, TEST, move || d)
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.fire_system_event("test");
    assert!(events(&log).is_empty());
    resolver.callback(()).unwrap();
    assert_eq!(events(&log), ["during"]);
}

/// twisted: SystemEventTests.test_multipleBeforeReturnDeferred
/// The *during* phase waits for every *before* Deferred.
#[test]
fn test_multiple_before_return_deferred() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (first, first_r) = Deferred::<()>::new();
    let (second, second_r) = Deferred::<()>::new();
    r.add_system_event_trigger(Phase::Before, TEST, move || first)
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, move || second)
        .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.fire_system_event("test");
    first_r.callback(()).unwrap();
    assert!(events(&log).is_empty());
    second_r.callback(()).unwrap();
    assert_eq!(events(&log), ["during"]);
}

/// twisted: SystemEventTests.test_subsequentBeforeTriggerFiresPriorBeforeDeferred
/// A *before* trigger that fires an earlier trigger's Deferred does not end the phase
/// early: later *before* triggers run and their Deferreds are waited on too.
#[test]
fn test_subsequent_before_trigger_fires_prior_before_deferred() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (first, first_r) = Deferred::<()>::new();
    let (second, second_r) = Deferred::<()>::new();
    r.add_system_event_trigger(Phase::Before, TEST, move || first)
        .unwrap();
    r.add_system_event_trigger(Phase::Before, TEST, move || first_r.callback(()))
        .unwrap();
    let l = Arc::clone(&log);
    r.add_system_event_trigger(Phase::Before, TEST, move || {
        l.lock().unwrap().push("before");
        second
    })
    .unwrap();
    r.add_system_event_trigger(Phase::During, TEST, push(&log, "during"))
        .unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["before"]);
    second_r.callback(()).unwrap();
    assert_eq!(events(&log), ["before", "during"]);
}

/// twisted: SystemEventTests.test_removeSystemEventTrigger
/// A removed trigger is not called when its event fires.
#[test]
fn test_remove_system_event_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    r.add_system_event_trigger(Phase::Before, TEST, push(&log, "first"))
        .unwrap();
    let second = r
        .add_system_event_trigger(Phase::Before, TEST, push(&log, "second"))
        .unwrap();
    r.remove_system_event_trigger(second).unwrap();
    r.fire_system_event("test");
    assert_eq!(events(&log), ["first"]);
}

/// twisted: SystemEventTests.test_removeNonExistentSystemEventTrigger
/// Removing an already-removed trigger fails (ids of other types cannot be passed at all).
#[test]
fn test_remove_non_existent_system_event_trigger() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let b = r.add_system_event_trigger(Phase::During, TEST, || {}).unwrap();
    r.remove_system_event_trigger(b).unwrap();
    assert_eq!(r.remove_system_event_trigger(b), Err(UnknownTriggerError));
}

/// twisted: SystemEventTests.test_interactionBetweenDifferentEvents
/// One event waiting on a *before* Deferred does not hold up another event.
#[test]
fn test_interaction_between_different_events() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (first, first_r) = Deferred::<()>::new();
    let (second, second_r) = Deferred::<()>::new();
    let l = Arc::clone(&log);
    r.add_system_event_trigger(Phase::Before, Event::Custom("first-event"), move || {
        l.lock().unwrap().push("before first");
        first
    })
    .unwrap();
    r.add_system_event_trigger(
        Phase::After,
        Event::Custom("first-event"),
        push(&log, "after first"),
    )
    .unwrap();
    let l = Arc::clone(&log);
    r.add_system_event_trigger(Phase::Before, Event::Custom("second-event"), move || {
        l.lock().unwrap().push("before second");
        second
    })
    .unwrap();
    r.add_system_event_trigger(
        Phase::After,
        Event::Custom("second-event"),
        push(&log, "after second"),
    )
    .unwrap();
    r.fire_system_event("first-event");
    assert_eq!(events(&log), ["before first"]);
    r.fire_system_event("second-event");
    assert_eq!(events(&log), ["before first", "before second"]);
    first_r.callback(()).unwrap();
    assert_eq!(events(&log), ["before first", "before second", "after first"]);
    second_r.callback(()).unwrap();
    assert_eq!(
        events(&log),
        ["before first", "before second", "after first", "after second"]
    );
}

// ---------------------------------------------------------------------------------------
// TimeTests

/// twisted: TimeTests.test_seconds
/// `seconds()` is the reactor's clock: it stands still while nothing runs on paused time
/// and moves by exactly what the timers waited for.
#[test]
fn test_seconds() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let start = r.now();
    assert_eq!(r.now(), start);
    assert!((r.seconds() - start.as_secs_f64()).abs() < 1e-9);
    r.call_later(Duration::from_secs(3), stop_call(&r.handle()));
    r.run().unwrap();
    assert!((3.0..3.01).contains(&(r.seconds() - start.as_secs_f64())));
}

/// twisted: TimeTests.test_callLaterUsesReactorSecondsInDelayedCall
/// A call's time is the reactor's time plus the delay.
#[test]
fn test_call_later_uses_reactor_seconds_in_delayed_call() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let call = r.call_later(Duration::from_secs(5), || {});
    assert_eq!(call.time(), r.now() + Duration::from_secs(5));
    call.cancel().unwrap();
}

/// twisted: TimeTests.test_callLaterUsesReactorSecondsAsDelayedCallSecondsFactory
/// A call's `reset` counts from the reactor's current time.
#[test]
fn test_call_later_uses_reactor_seconds_as_delayed_call_seconds_factory() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let call = r.call_later(Duration::from_secs(100), || {});
    r.call_later(Duration::from_secs(3), stop_call(&r.handle()));
    r.run().unwrap();
    let now = r.now();
    call.reset(Duration::from_secs(2)).unwrap();
    assert_eq!(call.time(), now + Duration::from_secs(2));
    call.cancel().unwrap();
}

/// twisted: TimeTests.test_callLater
/// A call made with `call_later` really runs its function.
#[test]
fn test_call_later() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (d, resolver) = Deferred::<&str>::new();
    r.call_later(Duration::ZERO, move || resolver.callback("called").unwrap());
    let h = r.handle();
    let d = d.add_callback(move |v| h.stop().map(|()| v).map_err(Failure::from));
    r.run().unwrap();
    assert_eq!(d.result().unwrap().unwrap(), "called");
}

/// twisted: TimeTests.test_callLater
/// Calls the reactor has due at the same time run in the order they were scheduled, as
/// Twisted's `Clock` promises (and its reactor does in practice).
#[test]
fn test_call_later_equal_deadlines_run_in_scheduling_order() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let order: Arc<Mutex<Vec<usize>>> = Arc::default();
    // Twenty calls due at 1 s: the first scheduled with a 1 s delay before the clock moved,
    // the rest with 0.5 s from 0.5 s, from a timed call.
    let first = Arc::clone(&order);
    r.call_later(Duration::from_secs(1), move || first.lock().unwrap().push(0));
    let (rest, h) = (Arc::clone(&order), r.handle());
    r.call_later(Duration::from_millis(500), move || {
        for i in 1..20 {
            let o = Arc::clone(&rest);
            h.call_later(Duration::from_millis(500), move || o.lock().unwrap().push(i));
        }
    });
    r.call_later(Duration::from_secs(2), stop_call(&r.handle()));
    r.run().unwrap();
    assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
}

/// twisted: TimeTests.test_callLaterReset
/// A reset call is scheduled at the new time.
#[test]
fn test_call_later_reset() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let call = r.call_later(Duration::from_secs(2), || {});
    let original = call.time();
    call.reset(Duration::from_secs(1)).unwrap();
    assert_ne!(call.time(), original);
    assert_eq!(r.pending_calls()[0].time(), call.time());
}

/// twisted: TimeTests.test_cancelDelayedCall
/// A cancelled call does not run, even two iterations later.
#[test]
fn test_cancel_delayed_call() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let called = Arc::new(AtomicBool::new(false));
    let c = Arc::clone(&called);
    let call = r.call_later(Duration::ZERO, move || c.store(true, Ordering::SeqCst));
    call.cancel().unwrap();
    let h = r.handle();
    r.call_later(Duration::ZERO, move || {
        h.call_later(Duration::ZERO, stop_call(&h));
    });
    r.run().unwrap();
    assert!(!called.load(Ordering::SeqCst));
}

/// twisted: TimeTests.test_cancelCancelledDelayedCall
/// Cancelling twice fails with `AlreadyCancelled`.
#[test]
fn test_cancel_cancelled_delayed_call() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let call = r.call_later(Duration::ZERO, || {});
    call.cancel().unwrap();
    assert_eq!(call.cancel(), Err(DelayedCallError::AlreadyCancelled));
}

/// twisted: TimeTests.test_cancelCalledDelayedCallSynchronous
/// Cancelling a call from inside its own function fails with `AlreadyCalled`.
#[test]
fn test_cancel_called_delayed_call_synchronous() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let slot: Arc<Mutex<Option<DelayedCall>>> = Arc::default();
    let outcome = Arc::new(Mutex::new(None));
    let (s, o, h) = (Arc::clone(&slot), Arc::clone(&outcome), r.handle());
    let call = r.call_later(Duration::ZERO, move || {
        *o.lock().unwrap() = Some(s.lock().unwrap().as_ref().unwrap().cancel());
        h.stop().unwrap();
    });
    *slot.lock().unwrap() = Some(call);
    r.run().unwrap();
    assert_eq!(
        *outcome.lock().unwrap(),
        Some(Err(DelayedCallError::AlreadyCalled))
    );
}

/// twisted: TimeTests.test_cancelCalledDelayedCallAsynchronous
/// Cancelling a call after it ran fails with `AlreadyCalled`.
#[test]
fn test_cancel_called_delayed_call_asynchronous() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let slot: Arc<Mutex<Option<DelayedCall>>> = Arc::default();
    let outcome = Arc::new(Mutex::new(None));
    let (s, o, h) = (Arc::clone(&slot), Arc::clone(&outcome), r.handle());
    let call = r.call_later(Duration::ZERO, move || {
        let stopper = h.clone();
        h.call_later(Duration::ZERO, move || {
            *o.lock().unwrap() = Some(s.lock().unwrap().as_ref().unwrap().cancel());
            stopper.stop().unwrap();
        });
    });
    *slot.lock().unwrap() = Some(call);
    r.run().unwrap();
    assert_eq!(
        *outcome.lock().unwrap(),
        Some(Err(DelayedCallError::AlreadyCalled))
    );
}

/// twisted: TimeTests.testCallLaterTime
/// A call ten seconds away is due ten seconds after the reactor's now.
#[test]
fn test_call_later_time() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let before = r.now();
    let call = r.call_later(Duration::from_secs(10), || {});
    let after = r.now();
    assert!(
        call.time() >= before + Duration::from_secs(10) && call.time() <= after + Duration::from_secs(10)
    );
    call.cancel().unwrap();
}

/// twisted: TimeTests.testDelayedCallStringification
/// A call can be formatted in every state, and the text shows the state.
#[test]
fn test_delayed_call_stringification() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let call = r.call_later(Duration::ZERO, || {});
    assert!(format!("{call:?}").contains("Pending"));
    call.reset(Duration::from_secs(5)).unwrap();
    assert!(format!("{call:?}").contains("Pending"));
    call.cancel().unwrap();
    assert!(format!("{call:?}").contains("Cancelled"));
    let h = r.handle();
    let ran = r.call_later(Duration::ZERO, move || h.stop().unwrap());
    r.run().unwrap();
    assert!(format!("{ran:?}").contains("Called"));
}

// ---------------------------------------------------------------------------------------
// CallFromThreadStopsAndWakeUpTests

/// twisted: CallFromThreadStopsAndWakeUpTests.testWakeUp
/// Another thread's `call_from_thread` wakes a reactor that has nothing else to do.
#[test]
fn test_wake_up() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let (d, resolver) = Deferred::<()>::new();
    let h = r.handle();
    let d = d.add_callback(move |()| h.stop().map_err(Failure::from));
    let h = r.handle();
    r.call_when_running(move || {
        // The reactor is idle (no timers) when this thread calls in.
        let waker = h.clone();
        std::thread::spawn(move || waker.call_from_thread(move || resolver.callback(())).unwrap());
    })
    .unwrap();
    r.run().unwrap();
    assert!(d.called());
}

/// twisted: CallFromThreadStopsAndWakeUpTests.testCallFromThreadStops
/// A `call_from_thread` made from inside one runs on the next iteration, after the timed
/// calls of this one, instead of looping forever.
#[test]
fn test_call_from_thread_stops() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let stopped = Arc::new(AtomicBool::new(false));
    let outcome = Arc::new(Mutex::new(None));
    let (h, s, o) = (r.handle(), Arc::clone(&stopped), Arc::clone(&outcome));
    r.call_from_thread(move || {
        let (h2, s2) = (h.clone(), Arc::clone(&s));
        h.call_from_thread(move || {
            *o.lock().unwrap() = Some(s2.load(Ordering::SeqCst));
            h2.stop()
        })
        .unwrap();
        h.call_later(Duration::ZERO, move || s.store(true, Ordering::SeqCst));
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(*outcome.lock().unwrap(), Some(true));
}

// ---------------------------------------------------------------------------------------
// DelayedTests

/// twisted: DelayedTests.testGetDelayedCalls
/// `pending_calls` holds every live call, through additions, runs and cancellations.
#[test]
fn test_get_delayed_calls() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let timers: Arc<Mutex<Vec<(usize, DelayedCall)>>> = Arc::default();
    let missing = Arc::new(Mutex::new(Vec::new()));
    let check = {
        let (h, timers, missing) = (r.handle(), Arc::clone(&timers), Arc::clone(&missing));
        move || {
            let pending = h.pending_calls();
            let timers = timers.lock().unwrap();
            for (tag, call) in timers.iter() {
                if !pending.contains(call) {
                    missing.lock().unwrap().push(*tag);
                }
            }
        }
    };
    let check = Arc::new(check);
    // A timer's function removes itself from `timers`, checks, then does `then`.
    let add_timer = {
        let (h, timers, check) = (r.handle(), Arc::clone(&timers), Arc::clone(&check));
        move |tag: usize, hundredths: u64, then: Box<dyn FnOnce() + Send>| {
            let (t, c) = (Arc::clone(&timers), Arc::clone(&check));
            let call = h.call_later(Duration::from_millis(hundredths * 10), move || {
                t.lock().unwrap().retain(|(x, _)| *x != tag);
                c();
                then();
            });
            timers.lock().unwrap().push((tag, call));
            check();
        }
    };
    let add_timer = Arc::new(add_timer);
    check();
    add_timer(0, 35, Box::new(stop_call(&r.handle())));
    add_timer(1, 20, Box::new(|| {}));
    add_timer(2, 30, Box::new(|| {}));
    add_timer(3, 29, Box::new(|| {}));
    let again = Arc::clone(&add_timer);
    add_timer(4, 25, Box::new(move || again(6, 15, Box::new(|| {}))));
    add_timer(5, 26, Box::new(|| {}));
    let cancelled = {
        let mut t = timers.lock().unwrap();
        let at = t.iter().position(|(tag, _)| *tag == 3).unwrap();
        t.remove(at).1
    };
    cancelled.cancel().unwrap();
    check();
    r.run().unwrap();
    check();
    assert!(missing.lock().unwrap().is_empty());
    // Timer 6 (added at 0.25 for 0.15 more) was still pending when the reactor stopped.
    assert_eq!(
        timers.lock().unwrap().iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [6]
    );
}

/// twisted: DelayedTests.test_active
/// A call is active until it runs, and no longer active from inside its own run (checked
/// in a callback of the Deferred that the call fires, as Twisted's test does).
#[test]
fn test_active() {
    let _limit = crate::common::time_limit();
    let r = paused_reactor();
    let slot: Arc<Mutex<Option<DelayedCall>>> = Arc::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (d, resolver) = Deferred::<bool>::new();
    let call = r.call_later(Duration::from_millis(10), move || {
        resolver.callback(true).unwrap();
    });
    seen.lock().unwrap().push(call.active());
    *slot.lock().unwrap() = Some(call);
    let (later_slot, later_seen, h) = (Arc::clone(&slot), Arc::clone(&seen), r.handle());
    let _checked = d.add_callback(move |success| {
        let active = later_slot.lock().unwrap().as_ref().unwrap().active();
        later_seen.lock().unwrap().push(active);
        h.stop().unwrap();
        Ok(success)
    });
    r.run().unwrap();
    assert_eq!(*seen.lock().unwrap(), [true, false]);
}

// ---------------------------------------------------------------------------------------
// CallFromThreadTests

/// twisted: CallFromThreadTests.test_lotsOfThreadsAreScheduledCorrectly
/// A hundred calls from threads all run.
#[test]
fn test_lots_of_threads_are_scheduled_correctly() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let counter = Arc::new(Mutex::new(0));
    for _ in 0..100 {
        let (c, h) = (Arc::clone(&counter), r.handle());
        r.call_from_thread(move || {
            let mut c = c.lock().unwrap();
            *c += 1;
            if *c == 100 {
                h.stop().unwrap();
            }
        })
        .unwrap();
    }
    r.run().unwrap();
    assert_eq!(*counter.lock().unwrap(), 100);
}

/// twisted: CallFromThreadTests.test_threadsAreRunInScheduledOrder
/// Calls from threads run in the order they were made.
#[test]
fn test_threads_are_run_in_scheduled_order() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    for item in ["1", "2", "3"] {
        r.call_from_thread(push(&log, item)).unwrap();
    }
    let h = r.handle();
    r.call_from_thread(move || {
        let stopper = h.clone();
        h.call_from_thread(move || stopper.stop())
    })
    .unwrap();
    r.run().unwrap();
    assert_eq!(events(&log), ["1", "2", "3"]);
}

/// twisted: CallFromThreadTests.test_scheduledThreadsNotRunUntilReactorRuns
/// A call from a thread made before `run` waits for it.
#[test]
fn test_scheduled_threads_not_run_until_reactor_runs() {
    let _limit = crate::common::time_limit();
    let r = reactor();
    let log = log();
    let (l, h) = (Arc::clone(&log), r.handle());
    r.call_from_thread(move || {
        l.lock().unwrap().push("ran");
        h.stop()
    })
    .unwrap();
    assert!(events(&log).is_empty());
    r.run().unwrap();
    assert_eq!(events(&log), ["ran"]);
}
