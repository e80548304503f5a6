//! Unhandled errors are visible by default: with no `tracing` subscriber installed, a
//! Deferred dropped with a failure nobody handled prints "Unhandled error in Deferred", the
//! failure and its causes to standard error (a backtrace only when `RUST_BACKTRACE` asks);
//! with a subscriber, the report goes only through `tracing`.
//!
//! Each case runs in a child process (this test binary, re-executed to run one test) so
//! that what reaches the real stderr can be checked, and so that a global subscriber does
//! not leak into other tests.

mod common;

use std::process::{Command, Output};

use tokio_twisted::defer::fail;
use tokio_twisted::failure::Failure;

/// Set in the child process; names what the child should do.
const CHILD: &str = "TOKIO_TWISTED_UNHANDLED_CHILD";

#[derive(Debug, thiserror::Error)]
#[error("could not reach the database")]
struct DatabaseDown(#[source] std::io::Error);

fn drop_an_unhandled_failure() {
    let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    drop(fail::<u32>(Failure::new(DatabaseDown(cause))));
}

/// The child half of the tests below: passes at once unless run as their child.
#[test]
fn child() {
    let _limit = common::time_limit();
    match std::env::var(CHILD).as_deref() {
        Ok("no-subscriber") => drop_an_unhandled_failure(),
        Ok("subscriber") => {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(std::io::stdout)
                .with_ansi(false)
                .finish();
            tracing::subscriber::with_default(subscriber, drop_an_unhandled_failure);
        }
        Ok("timed-call") => {
            let reactor = common::paused_reactor();
            reactor.call_later(std::time::Duration::ZERO, || panic!("the timed call failed"));
            reactor.call_later(
                std::time::Duration::from_secs(1),
                common::stop_call(&reactor.handle()),
            );
            reactor.run().unwrap();
        }
        _ => {}
    }
}

fn run_child(what: &str, backtrace: &str) -> Output {
    let out = Command::new(std::env::current_exe().unwrap())
        // `--nocapture`: the report is an `eprint!`, which the harness would otherwise keep.
        .args(["child", "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD, what)
        .env("RUST_BACKTRACE", backtrace)
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// With no subscriber, the report, the failure and its cause go to stderr, without a
/// backtrace unless asked for.
#[test]
fn without_a_subscriber_the_report_goes_to_stderr() {
    let _limit = common::time_limit();
    let out = run_child("no-subscriber", "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unhandled error in Deferred:\nFailure "),
        "{stderr}"
    );
    assert!(
        stderr.contains("DatabaseDown: could not reach the database"),
        "{stderr}"
    );
    assert!(stderr.contains("  caused by: connection refused"), "{stderr}");
    assert!(
        !stderr.contains("stack backtrace") && !stderr.contains(" 0: "),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Unhandled"));
}

/// With `RUST_BACKTRACE=1`, the report carries the backtrace taken where the failure was
/// made.
#[test]
fn the_backtrace_is_printed_when_asked_for() {
    let _limit = common::time_limit();
    let out = run_child("no-subscriber", "1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Unhandled error in Deferred:\nFailure "),
        "{stderr}"
    );
    assert!(stderr.contains(" 0: "), "a backtrace's first frame: {stderr}");
    assert!(stderr.contains("drop_an_unhandled_failure"), "{stderr}");
}

/// With a subscriber installed, the report goes through `tracing` only.
#[test]
fn with_a_subscriber_the_report_goes_only_through_tracing() {
    let _limit = common::time_limit();
    let out = run_child("subscriber", "0");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("ERROR"), "{stdout}");
    assert!(
        stdout.contains("Unhandled error in Deferred: could not reach the database"),
        "{stdout}"
    );
    assert!(!stderr.contains("Unhandled"), "{stderr}");
}

/// Failures the library catches outside any Deferred (here a failing timed call) are
/// visible the same way.
#[test]
fn a_failing_timed_call_is_reported_on_stderr() {
    let _limit = common::time_limit();
    let out = run_child("timed-call", "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("while handling timed call:\nFailure "),
        "{stderr}"
    );
    assert!(stderr.contains("panicked: the timed call failed"), "{stderr}");
}
