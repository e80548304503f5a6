//! The reactor as a program's main loop, two ways.
//!
//! 1. By hand: `Reactor::new()?.run()` until something calls `stop()` (the way the seed
//!    notes use `reactor.run()` and `reactor.callLater(4, reactor.stop)`), with a timed
//!    callback, work in a pool thread, and shutdown triggers. A stopped reactor cannot run
//!    again (`ReactorNotRestartable`).
//! 2. With `task::react`: run until the main Deferred (here an async block) completes, and
//!    turn its outcome into the exit code that `main` returns.
//!
//! SIGINT (Ctrl-C) or SIGTERM would stop either reactor gracefully. Delays are a few
//! milliseconds so the example ends at once.
//!
//! Run it with `cargo run --example reactor_basics`.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Event, Phase, Reactor, ReactorTime};
use tokio_twisted::task::react;
use tokio_twisted::threads::defer_to_thread;

/// Twisted's `getDummyData`: a Deferred that a timed call fires later.
fn get_dummy_data(reactor: &impl ReactorTime, input: i32) -> Deferred<i32> {
    println!("get_dummy_data called");
    let (d, resolver) = Deferred::new();
    reactor.call_later(Duration::from_millis(20), move || {
        let _ = resolver.callback(input * 3);
    });
    d
}

fn by_hand() -> Result<(), Box<dyn Error>> {
    let reactor = Reactor::new()?;
    reactor
        .add_system_event_trigger(Phase::Before, Event::Startup, || println!("before startup"))
        .unwrap();
    let handle = reactor.handle();
    reactor
        .call_when_running(move || println!("running: {}", handle.running()))
        .unwrap();

    let d = get_dummy_data(&reactor.handle(), 3).add_callback(|result| {
        println!("Result received: {result}");
        Ok(())
    });
    drop(d);

    // Blocking work in a pool thread; the result comes back to the reactor thread.
    let handle = reactor.handle();
    reactor.call_in_thread(move || {
        let name = std::thread::current().name().unwrap_or("?").to_owned();
        handle
            .call_from_thread(move || println!("a pool thread ({name}) reported back"))
            .expect("the reactor is still running");
    })?;

    // Stop in 40 ms: shutdown triggers run, then run() returns.
    let handle = reactor.handle();
    reactor.call_later(Duration::from_millis(40), move || {
        handle.stop().expect("stopped only once");
    });
    reactor
        .add_system_event_trigger(Phase::During, Event::Shutdown, || println!("shutting down"))
        .unwrap();
    println!("Starting the reactor");
    reactor.run()?;
    println!("run() returned after {:.3} s of reactor time", reactor.seconds());
    if let Err(e) = reactor.run() {
        println!("running it again: {e}");
    }
    Ok(())
}

fn main() -> ExitCode {
    if let Err(e) = by_hand() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }

    // The same kind of program under react(): it stops when main's future completes.
    react(|reactor| {
        let handle = reactor.handle();
        async move {
            let tripled = get_dummy_data(&handle, 4).await?;
            let squared = defer_to_thread(&handle, move || Ok(tripled * tripled)).await?;
            println!("react: {tripled} squared in a thread is {squared}");
            if squared == 144 {
                Ok(())
            } else {
                Err(Failure::msg("arithmetic is broken"))
            }
        }
    })
}
