//! The `twistd -n`-style runner (`service::run_application`) seen from outside the
//! process: SIGINT and SIGTERM each stop a running application's services, a stop that is
//! still pending delays the exit until it fires (a second signal meanwhile does not cut it
//! short), and the process then exits cleanly; a failed start is an error and a non-zero
//! exit.
//!
//! Each case runs in a child process (this test binary, re-executed to run [`child`]),
//! since a signal goes to a whole process. The child bounds itself with a shorter time
//! limit than the parent's, so a hung child ends by itself.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{ExitSignal, Reactor, ReactorHandle};
use tokio_twisted::service::{Application, Service, ServiceState, run_application};

/// Set in the child process; names what the child should do.
const CHILD: &str = "TOKIO_TWISTED_RUNNER_CHILD";

/// A service that takes a while to stop: its `stop_service` Deferred fires 100 ms after
/// the call, on the reactor, or (with `until_sigterm`) once the reactor has received a
/// SIGTERM. It reports each step on stdout for the parent to check.
struct SlowStop {
    state: ServiceState,
    reactor: ReactorHandle,
    until_sigterm: bool,
}

/// Runs `done` once `reactor` reports SIGTERM as its exit signal, looking every 5 ms.
fn when_sigterm_received(reactor: &ReactorHandle, done: Box<dyn FnOnce() + Send>) {
    if reactor.exit_signal() == Some(ExitSignal::Terminate) {
        done();
        return;
    }
    let again = reactor.clone();
    reactor.call_later(Duration::from_millis(5), move || {
        when_sigterm_received(&again, done);
    });
}

impl Service for SlowStop {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        println!("started");
        Ok(())
    }

    fn stop_service(&self) -> Deferred<()> {
        println!("stopping");
        let (d, resolver) = Deferred::new();
        let state = self.state.clone();
        let done = move || {
            state.set_running(false);
            println!("stopped");
            resolver.callback(()).unwrap();
        };
        if self.until_sigterm {
            when_sigterm_received(&self.reactor, Box::new(done));
        } else {
            self.reactor.call_later(Duration::from_millis(100), done);
        }
        d
    }
}

/// A service whose start fails.
#[derive(Default)]
struct FailsToStart {
    state: ServiceState,
}

impl Service for FailsToStart {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    fn start_service(&self) -> Result<(), Failure> {
        Err(Failure::msg("cannot open the log file"))
    }
}

/// The child half of the tests below: passes at once unless run as their child.
#[test]
fn child() {
    let _limit = common::time_limit();
    match std::env::var(CHILD).as_deref() {
        Ok(what @ ("signal" | "signal-twice")) => {
            // With signal handlers, as a program's main builds it.
            let reactor = Reactor::builder().build().unwrap();
            let app = Application::new("child");
            let service = Arc::new(SlowStop {
                state: ServiceState::named("slow"),
                reactor: reactor.handle(),
                until_sigterm: what == "signal-twice",
            });
            service.clone().set_service_parent(&app).unwrap();
            reactor.call_when_running(|| println!("running")).unwrap();
            let result = run_application(&reactor, &app);
            println!(
                "returned ok={} signal={:?} service_running={}",
                result.is_ok(),
                reactor.exit_signal(),
                service.running()
            );
            result.unwrap();
        }
        Ok("start-fails") => {
            let reactor = Reactor::builder().build().unwrap();
            let app = Application::new("child");
            Arc::new(FailsToStart::default())
                .set_service_parent(&app)
                .unwrap();
            reactor.call_when_running(|| println!("the reactor ran")).unwrap();
            if let Err(e) = run_application(&reactor, &app) {
                // As a program's main reports a failed start.
                eprintln!("startup failed: {e}");
                std::process::exit(1);
            }
        }
        _ => {}
    }
}

/// Runs the child `what`; each time it prints a line named in `signals`, sends it that
/// line's signal. Returns the child's stdout lines (its own lines only, not the test
/// harness's), its stderr and its exit status.
fn run_child(what: &str, signals: &[(&str, &str)]) -> (Vec<String>, String, ExitStatus) {
    let what = what.to_owned();
    let signals: Vec<(String, String)> = signals
        .iter()
        .map(|&(line, signal)| (line.to_owned(), signal.to_owned()))
        .collect();
    common::bounded("a runner child process", move || {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child", "--exact", "--test-threads=1", "--nocapture", "--quiet"])
            .env(CHILD, &what)
            // Shorter than the parent's limit: a hung child ends itself first.
            .env("TEST_TIME_LIMIT_SECS", "10")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            for (_, signal) in signals.iter().filter(|(at, _)| *at == line) {
                let sent = Command::new("kill")
                    .args([format!("-{signal}"), child.id().to_string()])
                    .status()
                    .unwrap();
                assert!(sent.success(), "kill -{signal} failed");
            }
            lines.push(line);
        }
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let status = child.wait().unwrap();
        let ours = ["started", "running", "stopping", "stopped", "the reactor ran"];
        // Whole lines, so the harness's own "running 1 test" is left out.
        lines.retain(|l| ours.contains(&l.as_str()) || l.starts_with("returned "));
        (lines, stderr, status)
    })
}

fn stops_cleanly_on(what: &str, signals: &[(&str, &str)], name: &str) {
    let (lines, stderr, status) = run_child(what, signals);
    assert!(status.success(), "exit {status}; stderr: {stderr}");
    assert_eq!(
        lines,
        [
            "started",
            "running",
            "stopping",
            // The pending stop delays the shutdown: run_application returns only after it.
            "stopped",
            &format!("returned ok=true signal=Some({name}) service_running=false"),
        ],
        "stderr: {stderr}"
    );
}

#[test]
fn sigint_stops_the_services_and_the_process_exits_cleanly() {
    stops_cleanly_on("signal", &[("running", "INT")], "Interrupt");
}

#[test]
fn sigterm_stops_the_services_and_the_process_exits_cleanly() {
    stops_cleanly_on("signal", &[("running", "TERM")], "Terminate");
}

/// A second signal while the services are stopping does not cut the stop short: the
/// shutdown under way still waits for the pending stop (which here waits for that very
/// signal to reach the reactor). The exit signal is the last one received, as Twisted's
/// `_exitSignal`.
#[test]
fn a_second_signal_during_the_stop_still_waits_for_it() {
    stops_cleanly_on(
        "signal-twice",
        &[("running", "INT"), ("stopping", "TERM")],
        "Terminate",
    );
}

#[test]
fn a_failed_start_is_an_error_and_a_non_zero_exit() {
    let (lines, stderr, status) = run_child("start-fails", &[]);
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("startup failed: the application failed to start: cannot open the log file"),
        "{stderr}"
    );
    assert!(
        lines.is_empty(),
        "nothing started, the reactor never ran: {lines:?}"
    );
}
