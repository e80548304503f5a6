//! The ten-jobs demo of seed 004 ("deferred demo 1"): ten time-wasting jobs started at
//! once with `defer_later`, each followed by a "plus 1" callback, joined by a
//! `DeferredList` whose callback stops the reactor.
//!
//! It prints, as the seed does: "begin time-wasted jon0" .. "jon9" and "all jobs have
//! started!" before the reactor runs; then, when the 3-second jobs are done, ten pairs of
//! "time-wasted job<i>done!" / "result plus 1!"; then the `DeferredList`'s result in
//! Python's notation, `[(True, 1), (True, 2), ..., (True, 10)]`, the reactor (Python
//! prints its class, `<class 'twisted.internet.epollreactor.EPollReactor'>`; here its
//! `Debug` form), "all jobs are done!", and `True`: the reactor is still running right
//! after `stop()`, which only takes effect once the current callbacks are done. After
//! `run()` returns: "www" and `False`.
//!
//! The job labels keep the seed's typos and missing spaces ("jon", "job0done!") so the
//! lines match. The seed's `all_jobs_done` also sleeps for a second (blocking the reactor
//! thread, which a real program must never do) after calling `stop()`; its file forgets
//! `import time`, so in Twisted that sleep raises a `NameError` instead. This example
//! does the sleep the seed meant.
//!
//! The seed's delays (3 s per job, the 1-second sleep) are scaled to a tenth by default,
//! so it runs in 0.4 s; `--real` uses them as they are (4 s):
//!
//! ```sh
//! cargo run --example ten_jobs
//! cargo run --example ten_jobs -- --real
//! ```

use std::process::ExitCode;
use std::time::Duration;

use tokio_twisted::defer::{Deferred, DeferredList};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::task::defer_later;

/// `time_wasted_wrapper`: starts a long job and returns the Deferred of its result.
fn time_wasted_wrapper(reactor: &ReactorHandle, job_id: i32, job_time: Duration) -> Deferred<i32> {
    // What runs when the job is done: `on_done`.
    let on_done = move || {
        println!("time-wasted job{job_id}done!");
        Ok(job_id)
    };
    println!("begin time-wasted jon{job_id}");
    defer_later(reactor, job_time, on_done)
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "a callback returns Result; this one never fails"
)]
fn on_one_job_done(result: i32) -> Result<i32, Failure> {
    println!("result plus 1!");
    Ok(result + 1)
}

/// Python's `str()` of a `DeferredList` result: `[(True, 1), (False, <failure>)]`.
fn python_list(results: &[Result<i32, Failure>]) -> String {
    let items: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(v) => format!("(True, {v})"),
            Err(f) => format!("(False, <Failure {}>)", f.error_message()),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `install_jobs`: starts ten jobs and says what happens when they are all done.
fn install_jobs(reactor: &ReactorHandle, job_time: Duration, sleep: Duration) {
    let jobs_list: Vec<Deferred<i32>> = (0..10)
        .map(|i| time_wasted_wrapper(reactor, i, job_time).add_callback(on_one_job_done))
        .collect();
    let handle = reactor.clone();
    // `all_jobs_done`
    let deferred_list = DeferredList::new(jobs_list).build().add_callback(move |result| {
        println!("{}", python_list(&result));
        println!("{handle:?}");
        println!("all jobs are done!");
        handle.stop()?;
        // Blocks the reactor thread, as the seed does: nothing else can run meanwhile.
        std::thread::sleep(sleep);
        println!("{}", python_bool(handle.running()));
        Ok::<_, Failure>(())
    });
    // As in the seed, nobody keeps the DeferredList: its chain runs without this handle.
    drop(deferred_list);
}

fn run_module(job_time: Duration, sleep: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let reactor = Reactor::builder().without_signal_handlers().build()?;
    install_jobs(&reactor.handle(), job_time, sleep);
    println!("all jobs have started!");
    reactor.run()?;
    println!("www");
    println!("{}", python_bool(reactor.running()));
    Ok(())
}

fn main() -> ExitCode {
    let divisor = match std::env::args().nth(1).as_deref() {
        None => 10,
        Some("--real") => 1,
        Some(other) => {
            eprintln!("unexpected argument {other:?}");
            eprintln!("usage: cargo run --example ten_jobs -- [--real]");
            return ExitCode::from(2);
        }
    };
    if divisor == 1 {
        println!("The seed's delays: 3 s per job, then a 1-second sleep.");
    } else {
        println!("Delays scaled to 1/{divisor} of the seed's (--real for the seed's 3 s jobs).");
    }
    if let Err(e) = run_module(Duration::from_secs(3) / divisor, Duration::from_secs(1) / divisor) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
