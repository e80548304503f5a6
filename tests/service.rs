//! `service`: stop ordering and waiting in `MultiService`, failures, `TimerService` on a
//! reactor, and the `twistd -n`-style runner (startup, shutdown waiting for services,
//! startup errors). Tests that run a reactor are time-bounded.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, Resolver, succeed};
use tokio_twisted::failure::Failure;
use tokio_twisted::service::{
    Application, BasicService, MultiService, NoSuchService, NotAChild, RunnerError, Service, ServiceError,
    ServiceState, TimerService, run_application,
};
use tokio_twisted::testing::{LoggedErrors, assert_no_result, failure_result_of, success_result_of};

type Log = Arc<Mutex<Vec<String>>>;

/// A service that logs its calls and whose stop waits for a resolver the test holds.
struct Slow {
    state: ServiceState,
    log: Log,
    pending: Mutex<Option<Resolver<()>>>,
}

impl Slow {
    fn new(name: &str, log: &Log) -> Arc<Slow> {
        Arc::new(Slow {
            state: ServiceState::named(name),
            log: log.clone(),
            pending: Mutex::new(None),
        })
    }
    fn finish_stop(&self) {
        self.pending.lock().unwrap().take().unwrap().callback(()).unwrap();
    }
}

impl Service for Slow {
    fn state(&self) -> &ServiceState {
        &self.state
    }
    fn privileged_start_service(&self) -> Result<(), Failure> {
        self.log
            .lock()
            .unwrap()
            .push(format!("privileged {}", self.state.name().unwrap()));
        Ok(())
    }
    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        self.log
            .lock()
            .unwrap()
            .push(format!("start {}", self.state.name().unwrap()));
        Ok(())
    }
    fn stop_service(&self) -> Deferred<()> {
        self.log
            .lock()
            .unwrap()
            .push(format!("stop {}", self.state.name().unwrap()));
        let (d, r) = Deferred::new();
        *self.pending.lock().unwrap() = Some(r);
        let state = self.state.clone();
        d.add_callback(move |()| {
            state.set_running(false);
            Ok(())
        })
    }
}

#[test]
fn children_start_in_order_and_stop_in_reverse_all_at_once() {
    let log = Log::default();
    let root = MultiService::new();
    let (a, b, c) = (Slow::new("a", &log), Slow::new("b", &log), Slow::new("c", &log));
    for s in [&a, &b, &c] {
        s.clone().set_service_parent(&root).unwrap();
    }
    root.privileged_start_service().unwrap();
    root.start_service().unwrap();
    let stopped = root.stop_service();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "privileged a",
            "privileged b",
            "privileged c",
            "start a",
            "start b",
            "start c",
            "stop c",
            "stop b",
            "stop a"
        ]
    );
    // Every stop was issued without waiting; the MultiService waits for all of them.
    assert_no_result(&stopped);
    c.finish_stop();
    a.finish_stop();
    assert_no_result(&stopped);
    b.finish_stop();
    success_result_of(stopped);
    assert!(!a.running() && !b.running() && !c.running());
}

#[test]
fn removing_a_running_child_returns_its_stop() {
    let log = Log::default();
    let root = MultiService::new();
    let a = Slow::new("a", &log);
    a.clone().set_service_parent(&root).unwrap();
    root.start_service().unwrap();
    let removed = a.clone().disown_service_parent();
    assert_no_result(&removed);
    a.finish_stop();
    success_result_of(removed);
    assert!(matches!(root.get_service_named("a"), Err(NoSuchService(n)) if n == "a"));
    // Removing it again: not a child.
    let again = root.remove_service(&(a as Arc<dyn Service>));
    assert!(failure_result_of(again).check::<NotAChild>());
}

struct Failing {
    state: ServiceState,
}

impl Service for Failing {
    fn state(&self) -> &ServiceState {
        &self.state
    }
    fn start_service(&self) -> Result<(), Failure> {
        Err(Failure::msg("cannot open the log file"))
    }
    fn stop_service(&self) -> Deferred<()> {
        tokio_twisted::defer::fail(Failure::msg("cannot flush"))
    }
}

#[test]
fn a_child_that_fails_to_start_in_a_running_parent_is_reported_and_kept() {
    let root = MultiService::new();
    root.start_service().unwrap();
    let err = Arc::new(Failing {
        state: ServiceState::default(),
    })
    .set_service_parent(&root)
    .unwrap_err();
    assert!(
        matches!(&err, ServiceError::StartFailed(e) if e.failure().error_message() == "cannot open the log file")
    );
    assert_eq!(root.services().len(), 1);
    // Its failing stop is logged; the parent's stop still fires.
    let logged = LoggedErrors::capture();
    success_result_of(root.stop_service());
    assert_eq!(logged.flush_all()[0].error_message(), "cannot flush");
}

#[test]
fn the_runner_starts_the_application_and_shutdown_waits_for_its_stop() {
    common::bounded(
        "the_runner_starts_the_application_and_shutdown_waits_for_its_stop",
        || {
            let reactor = common::reactor();
            let handle = reactor.handle();
            let log = Log::default();
            let app = Application::new("app");
            let slow = Slow::new("slow", &log);
            slow.clone().set_service_parent(&app).unwrap();
            // Stop the reactor once running; the slow service finishes stopping 5 ms later.
            let (stopper, finisher, timers) = (handle.clone(), slow.clone(), handle.clone());
            handle
                .call_when_running(move || {
                    stopper.stop().unwrap();
                    timers.call_later(Duration::from_millis(5), move || finisher.finish_stop());
                })
                .unwrap();
            run_application(&reactor, &app).unwrap();
            assert_eq!(
                *log.lock().unwrap(),
                ["privileged slow", "start slow", "stop slow"]
            );
            assert!(!slow.running(), "run() returned only after the service stopped");
            assert!(!app.service().running());
        },
    );
}

#[test]
fn the_runner_reports_a_failed_start_and_does_not_run() {
    common::bounded("the_runner_reports_a_failed_start_and_does_not_run", || {
        let reactor = common::reactor();
        let app = Application::new("app");
        Arc::new(Failing {
            state: ServiceState::default(),
        })
        .set_service_parent(&app)
        .unwrap();
        let err = run_application(&reactor, &app).unwrap_err();
        assert!(
            matches!(&err, RunnerError::Start(e) if e.failure().error_message() == "cannot open the log file")
        );
        assert!(!reactor.handle().running());
    });
}

#[test]
fn the_runner_without_uid_or_gid_keeps_the_user() {
    common::bounded("the_runner_without_uid_or_gid_keeps_the_user", || {
        let before = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .ok();
        let reactor = common::reactor();
        let app = Application::new("app");
        Arc::new(BasicService::new()).set_service_parent(&app).unwrap();
        let h = reactor.handle();
        reactor
            .handle()
            .call_when_running(move || h.stop().unwrap())
            .unwrap();
        run_application(&reactor, &app).unwrap();
        let after = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .ok();
        assert_eq!(before, after);
    });
}

#[test]
fn a_timer_service_on_the_reactor_ticks_until_shutdown() {
    common::bounded("a_timer_service_on_the_reactor_ticks_until_shutdown", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        let stopper = handle.clone();
        let app = Application::new("ticker");
        let timer = Arc::new(TimerService::new(
            Duration::from_millis(1),
            handle.clone(),
            move || {
                if t.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                    stopper.stop().unwrap();
                }
                succeed(())
            },
        ));
        timer.clone().set_service_parent(&app).unwrap();
        run_application(&reactor, &app).unwrap();
        assert_eq!(ticks.load(Ordering::SeqCst), 5);
        assert!(!timer.running());
        assert!(
            handle.pending_calls().is_empty(),
            "the loop's next call was cancelled"
        );
    });
}
