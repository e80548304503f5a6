//! The reactor loop and the scheduling snippets of seed 002 (part 1 "The Reactor", part 2
//! "Scheduling"), each section on a fresh reactor:
//!
//! 1. **The reactor loop**: `call_when_running(hello)`, `call_later(1 s, func)`, `run()`,
//!    `stop()` from inside a callback (the seed notes it only takes effect there), and a
//!    second `run()`, which fails with `ReactorNotRestartable`. Prints `stop() before
//!    run: ...`, `before run: running = False`, `hello: running = True`, `func: one
//!    second later`, `after run: running = False`, `second run: ReactorNotRestartable`.
//! 2. **callLater**: "this will run 3.5 seconds after it was scheduled: hello, world".
//! 3. **deferLater**: the same through a Deferred whose callback prints the function's
//!    result: "This will run 3.5 seconds after it was scheduled: hello, world".
//! 4. **`LoopingCall`** (the seed names it; the program is the one from Twisted's scheduling
//!    howto that the seed links to): a loop every second prints "A new second has
//!    passed." three times (the first at `start`, before the reactor runs), then stops
//!    itself, and the Deferred `start` returned prints "Loop done." and stops the reactor.
//! 5. **`LoopingCall` failing**: the same with `failInTheEnd = True`: the fourth call fails,
//!    which ends the loop and sends the failure down the errback path, which prints
//!    "Traceback: <type>: Failure during loop execution.".
//!
//! The seed's callLater / deferLater snippets never stop the reactor (they run until
//! Ctrl-C); here each stops it once its call has run, so the example ends by itself.
//! Delays are scaled to a tenth by default (3.5 s becomes 0.35 s, the loop runs every
//! 0.1 s), about 1.2 s in all; `--real` uses the seed's. `--forever` instead runs the
//! seed's first program, a bare `reactor.run()` with nothing to do, until Ctrl-C or
//! SIGTERM stops it gracefully (it has signal handlers, unlike the sections above):
//!
//! ```sh
//! cargo run --example reactor_scheduling
//! cargo run --example reactor_scheduling -- --real
//! cargo run --example reactor_scheduling -- --forever
//! ```

use std::process::ExitCode;
use std::time::Duration;

use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle, RunError};
use tokio_twisted::task::{LoopingCall, defer_later};

type AnyError = Box<dyn std::error::Error>;

/// One section of the example.
type Section = Box<dyn Fn() -> Result<(), AnyError>>;

fn new_reactor() -> std::io::Result<Reactor> {
    Reactor::builder().without_signal_handlers().build()
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A timed call that stops the reactor.
fn stop_later(reactor: &ReactorHandle, delay: Duration) {
    let stopper = reactor.clone();
    reactor.call_later(delay, move || {
        stopper
            .stop()
            .expect("the reactor is running and stops only here");
    });
}

/// Section 1: the reactor's life: not running, running, stopped, not restartable.
fn reactor_loop(second: Duration) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    if let Err(e) = reactor.stop() {
        println!("stop() before run: {e}");
    }
    let handle = reactor.handle();
    reactor
        .call_when_running(move || println!("hello: running = {}", python_bool(handle.running())))
        .unwrap();
    let handle = reactor.handle();
    reactor.call_later(second, move || {
        println!("func: one second later");
        handle.stop().expect("the reactor is running");
    });
    println!("before run: running = {}", python_bool(reactor.running()));
    reactor.run()?;
    println!("after run: running = {}", python_bool(reactor.running()));
    match reactor.run() {
        Err(RunError::NotRestartable(e)) => println!("second run: {e:?} ({e})"),
        other => return Err(format!("a second run should fail, got {other:?}").into()),
    }
    Ok(())
}

/// Section 2: `reactor.callLater(3.5, f, "hello, world")`.
fn call_later(delay: Duration) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    let f = |s: &str| println!("this will run 3.5 seconds after it was scheduled: {s}");
    reactor.call_later(delay, move || f("hello, world"));
    // f() will only be called if the event loop is started.
    stop_later(&reactor.handle(), delay);
    reactor.run()?;
    Ok(())
}

/// Section 3: `task.deferLater(reactor, 3.5, f, "hello, world")` and a callback.
fn defer_later_snippet(delay: Duration) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    let f = |s: &str| format!("This will run 3.5 seconds after it was scheduled: {s}");
    let d = defer_later(&reactor.handle(), delay, move || Ok(f("hello, world")));
    let stopper = reactor.handle();
    // `called`, plus the stop the seed leaves out.
    let d = d.add_callback(move |result| {
        println!("{result}");
        stopper.stop()?;
        Ok::<_, Failure>(())
    });
    reactor.run()?;
    assert!(d.called());
    Ok(())
}

/// Sections 4 and 5: the scheduling howto's `LoopingCall`.
fn looping_call(interval: Duration, fail_in_the_end: bool) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    let loop_times = 3;
    let mut loop_counter = 0;
    // `runEverySecond`, called at every loop interval. `with_handle` passes it the loop,
    // so it can stop it from inside (the howto calls the global `loop.stop()`).
    let run_every_second = move |lc: &LoopingCall| {
        if loop_counter < loop_times {
            loop_counter += 1;
            println!("A new second has passed.");
            return Ok(());
        }
        if fail_in_the_end {
            return Err(Failure::msg("Failure during loop execution."));
        }
        lc.stop()?;
        Ok(())
    };
    let lc = LoopingCall::with_handle(reactor.handle(), run_every_second);
    let loop_deferred = lc.start(interval)?;
    let (on_done, on_failed) = (reactor.handle(), reactor.handle());
    // `cbLoopDone`, then `ebLoopFailed`.
    let d = loop_deferred
        .add_callback(move |_lc| {
            println!("Loop done.");
            on_done.stop()?;
            Ok(())
        })
        .add_errback(move |failure| {
            println!("Traceback: {}: {}", failure.type_name(), failure.error_message());
            on_failed.stop()?;
            Ok(())
        });
    reactor.run()?;
    assert!(d.called());
    Ok(())
}

/// `--forever`: a bare reactor, as in `reactor.run()` with nothing scheduled, that only a
/// signal stops.
fn forever() -> Result<(), AnyError> {
    let reactor = Reactor::new()?;
    println!("Running a reactor with nothing to do; Ctrl-C (SIGINT) or SIGTERM stops it.");
    reactor.run()?;
    println!("stopped by {:?}", reactor.exit_signal());
    Ok(())
}

fn main() -> ExitCode {
    let mut divisor = 10;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--real" => divisor = 1,
            "--forever" => {
                return match forever() {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
            _ => {
                eprintln!("unexpected argument {arg:?}");
                eprintln!("usage: cargo run --example reactor_scheduling -- [--real | --forever]");
                return ExitCode::from(2);
            }
        }
    }
    if divisor == 1 {
        println!("The seed's delays: 1 s, 3.5 s, a loop every second.");
    } else {
        println!("Delays scaled to 1/{divisor} of the seed's (--real for the seed's).");
    }
    let second = Duration::from_secs(1) / divisor;
    let three_and_a_half = Duration::from_millis(3500) / divisor;
    let sections: [(&str, Section); 5] = [
        ("the reactor loop", Box::new(move || reactor_loop(second))),
        ("callLater", Box::new(move || call_later(three_and_a_half))),
        (
            "deferLater",
            Box::new(move || defer_later_snippet(three_and_a_half)),
        ),
        ("LoopingCall", Box::new(move || looping_call(second, false))),
        (
            "LoopingCall failing",
            Box::new(move || looping_call(second, true)),
        ),
    ];
    for (title, section) in sections {
        println!("------ {title} ------");
        if let Err(e) = section() {
            eprintln!("{title} failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
