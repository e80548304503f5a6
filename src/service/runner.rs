// Tests: tests/service.rs

//! A `twistd -n`-style runner: starts an [`Application`] on a reactor and stops it when
//! the reactor shuts down.

use std::io;

use crate::reactor::{Event, Phase, Reactor, RunError};

use super::multi::Application;
use super::service::{Service, StartError};

/// Why [`run_application`] failed.
///
/// ```
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::service::{RunnerError, StartError};
///
/// let err = RunnerError::Start(StartError::new(Failure::msg("no config")));
/// assert_eq!(err.to_string(), "the application failed to start: no config");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// `privileged_start_service` failed (a port could not be bound, say).
    #[error("the application failed its privileged start: {0}")]
    PrivilegedStart(#[source] StartError),
    /// Switching to the application's group or user failed.
    #[error("could not switch to the application's user and group: {0}")]
    SwitchUser(#[source] io::Error),
    /// `start_service` failed.
    #[error("the application failed to start: {0}")]
    Start(#[source] StartError),
    /// The reactor could not run.
    #[error("the reactor could not run: {0}")]
    Run(#[source] RunError),
}

/// Runs `app` on `reactor` as `twistd -n` does: its `privileged_start_service`, then (when
/// the process runs as root and the application names them) a switch to its group and
/// user, then `start_service`, then the reactor until it stops. The application's
/// `stop_service` runs as a *before shutdown* trigger, so a Deferred it returns delays the
/// shutdown until the services have stopped; a reactor built with signal handlers (the
/// default) stops on SIGINT or SIGTERM, which therefore stops the services too.
///
/// # Errors
///
/// A [`RunnerError`]: the privileged start, the user switch, or the start failed (the
/// reactor then does not run), or the reactor could not run.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use std::time::Duration;
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{Application, Service, TimerService, run_application};
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// let app = Application::new("ticker");
/// let mut ticks = 0;
/// let stopper = handle.clone();
/// let timer = TimerService::new(Duration::from_millis(1), handle.clone(), move || {
///     ticks += 1;
///     if ticks == 3 {
///         stopper.stop().unwrap();
///     }
/// });
/// std::sync::Arc::new(timer).set_service_parent(&app).unwrap();
/// run_application(&reactor, &app).unwrap();
/// assert!(!app.service().running()); // stopped during shutdown
/// ```
#[doc(alias = "twistd")]
#[doc(alias = "startApplication")]
pub fn run_application(reactor: &Reactor, app: &Application) -> Result<(), RunnerError> {
    let service = app.service().clone();
    service
        .privileged_start_service()
        .map_err(|f| RunnerError::PrivilegedStart(StartError::new(f)))?;
    switch_user(is_root(), app.uid(), app.gid()).map_err(RunnerError::SwitchUser)?;
    service
        .start_service()
        .map_err(|f| RunnerError::Start(StartError::new(f)))?;
    let stopping = service.clone();
    let registered = reactor
        .handle()
        .add_system_event_trigger(Phase::Before, Event::Shutdown, move || stopping.stop_service());
    if registered.is_err() {
        // The reactor has already shut down: it cannot run (`run` reports why), and no
        // shutdown is left to stop the services, so stop them now.
        drop(service.stop_service());
    }
    reactor.run().map_err(RunnerError::Run)
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// What the runner switches to: nothing unless the process is root and the application
/// names a user or group (as `twistd`, which cannot switch otherwise).
fn switch_plan(root: bool, uid: Option<u32>, gid: Option<u32>) -> Option<(Option<u32>, Option<u32>)> {
    (root && (uid.is_some() || gid.is_some())).then_some((uid, gid))
}

/// Drops to `gid` then `uid` (the group first: once the user changes, changing the group
/// is no longer permitted), replacing the supplementary groups with `gid`.
fn switch_user(root: bool, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let Some((uid, gid)) = switch_plan(root, uid, gid) else {
        return Ok(());
    };
    if let Some(gid) = gid {
        let gid = nix::unistd::Gid::from_raw(gid);
        nix::unistd::setgroups(&[gid]).map_err(io::Error::from)?;
        nix::unistd::setgid(gid).map_err(io::Error::from)?;
    }
    if let Some(uid) = uid {
        nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)).map_err(io::Error::from)?;
    }
    tracing::info!(?uid, ?gid, "switched user and group");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::switch_plan;

    #[test]
    fn switches_only_as_root_and_only_when_asked() {
        assert_eq!(switch_plan(false, Some(1), Some(1)), None);
        assert_eq!(switch_plan(true, None, None), None);
        assert_eq!(switch_plan(true, Some(1), None), Some((Some(1), None)));
        assert_eq!(switch_plan(true, None, Some(2)), Some((None, Some(2))));
    }
}
