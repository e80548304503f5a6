// Tests: tests/conformance/test_core.rs (test_signal_handlers_installed_during_startup),
// tests/conformance/test_base.rs

//! Signals: SIGINT and SIGTERM stop the reactor gracefully while it runs.

use std::sync::Arc;

use crate::failure::Failure;
use crate::lock::lock;

use super::shared::{ExitSignal, Shared};

/// Makes SIGINT and SIGTERM stop the reactor, for as long as it runs. Called in "during
/// startup" when the reactor was built with signal handlers.
pub(crate) fn install(shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    let _in_runtime = shared.rt.enter();
    #[cfg(unix)]
    let task = {
        use tokio::signal::unix::{SignalKind, signal};
        // Created here, not in the task, so the handlers are in place when startup ends.
        let (mut int, mut term) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(int), Ok(term)) => (int, term),
            (Err(e), _) | (_, Err(e)) => {
                crate::log::failure("while installing signal handlers", &Failure::new(e));
                return;
            }
        };
        shared.rt.spawn(async move {
            loop {
                let signal = tokio::select! {
                    Some(()) = int.recv() => ExitSignal::Interrupt,
                    Some(()) = term.recv() => ExitSignal::Terminate,
                    else => return,
                };
                match weak.upgrade() {
                    Some(shared) => shared.received_signal(signal),
                    None => return,
                }
            }
        })
    };
    #[cfg(not(unix))]
    let task = shared.rt.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            match weak.upgrade() {
                Some(shared) => shared.received_signal(ExitSignal::Interrupt),
                None => return,
            }
        }
    });
    if let Some(old) = lock(&shared.signals).replace(task) {
        old.abort();
    }
}
