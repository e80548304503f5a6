// Tests: tests/reactor.rs, tests/conformance/test_internet.rs, tests/conformance/test_core.rs

//! Firing system events: the *before*, *during* and *after* phases of an event, with the
//! reactor's own work for startup and shutdown in its *during* phase.

use std::sync::Arc;

use crate::defer::DeferredList;
use crate::lock::lock;

use super::shared::Shared;
use super::signals;
use super::triggers::{Event, Phase, TRIGGER_CONTEXT, Trigger, run_logged};

/// Fires `event`: runs its *before* triggers now, then, once the Deferreds they returned
/// have fired, [`continue_firing`]. Triggers run with no lock held, and a trigger added or
/// removed by another trigger of the same phase is honoured (it runs, or does not).
pub(crate) fn fire(shared: &Arc<Shared>, event: Event) {
    let mut waits = Vec::new();
    while let Some(trigger) = pop(shared, event, Phase::Before) {
        waits.push(run_logged(TRIGGER_CONTEXT, trigger.f));
    }
    let firing_thread = std::thread::current().id();
    // Weak: a before-Deferred that never fires must not keep the reactor alive.
    let weak = Arc::downgrade(shared);
    let list = DeferredList::new(waits).build().add_callback(move |_| {
        let Some(shared) = weak.upgrade() else {
            return Ok(());
        };
        if std::thread::current().id() == firing_thread {
            continue_firing(&shared, event);
        } else {
            // A before-Deferred fired on another thread: the rest of the event (which for
            // shutdown joins the thread pool) belongs on the reactor thread.
            let again = Arc::clone(&shared);
            let _ = shared.call_from_thread(move || continue_firing(&again, event));
        }
        Ok(())
    });
    // The chain lives on in the inputs' callbacks; nothing is left to observe here.
    drop(list);
}

/// The rest of an event: the reactor's own *during* work, then the *during* triggers, then
/// the *after* triggers. For shutdown, the *during* phase ends only once the reactor's
/// tracked tasks have finished: the main loop keeps running meanwhile, and calls
/// [`finish_shutdown`] then.
fn continue_firing(shared: &Arc<Shared>, event: Event) {
    match event {
        Event::Startup => {
            shared.begin_running();
            if shared.install_signals {
                signals::install(shared);
            }
            shared.start_pool();
        }
        Event::Shutdown => shared.begin_shutdown(),
        Event::Custom(_) => {}
    }
    while let Some(trigger) = pop(shared, event, Phase::During) {
        drop(run_logged(TRIGGER_CONTEXT, trigger.f));
    }
    if event == Event::Shutdown {
        shared.start_draining();
        return;
    }
    run_after(shared, event);
}

/// The end of "during shutdown", once the tracked tasks have finished: the main loop stops
/// at the end of this iteration, calls from threads are refused and the thread pool is
/// stopped; then the *after* triggers run.
pub(crate) fn finish_shutdown(shared: &Arc<Shared>) {
    shared.crash();
    shared.close_threads();
    run_after(shared, Event::Shutdown);
}

fn run_after(shared: &Shared, event: Event) {
    while let Some(trigger) = pop(shared, event, Phase::After) {
        drop(run_logged(TRIGGER_CONTEXT, trigger.f));
    }
}

fn pop(shared: &Shared, event: Event, phase: Phase) -> Option<Trigger> {
    lock(&shared.events).pop(event, phase)
}
