//! The `inlineCallbacks` demo of seed 004: a coroutine that waits for two blocking loads,
//! each done in a pool thread, and returns their sum (`returnValue(r1 + r2)`); a callback
//! prints it, and a timed call stops the reactor at 4 s.
//!
//! It prints, as the seed does: "start execute r1!" (before the reactor runs: the async
//! block runs synchronously up to its first pending `.await`), "r1 = 1" after the first
//! 1-second load, "start execute r2!", "r2 = 2" after the second, then "result= 3".
//!
//! `@inlineCallbacks` is an async block given to `Deferred::from_future`; `yield d` is
//! `d.await?`, and `returnValue(x)` is the block's `Ok(x)`. The seed's threads fire their
//! Deferreds themselves (`callInThread(loadRemoteData, d1.callback)`), which in Twisted runs
//! the rest of the coroutine on the pool thread, racing the reactor. Here the results come
//! back to the reactor thread, two ways:
//!
//! - `r1`: `call_in_thread` runs the seed's callback-style loader, and its callback hands
//!   the value over with `call_from_thread`;
//! - `r2`: `threads::defer_to_thread` does the same in one call, for a loader that simply
//!   returns its value.
//!
//! The seed's delays (1 s per load, stop at 4 s) are scaled to a tenth by default;
//! `--real` uses them as they are:
//!
//! ```sh
//! cargo run --example inline_callbacks_threads
//! cargo run --example inline_callbacks_threads -- --real
//! ```

use std::process::ExitCode;
use std::time::Duration;

use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::threads::defer_to_thread;

/// `loadRemoteData`: blocking work that reports through a callback.
fn load_remote_data(callback: impl FnOnce(i32), load_time: Duration) {
    std::thread::sleep(load_time);
    callback(1);
}

/// `loadRemoteData2`, as a function that returns its result (for `defer_to_thread`).
fn load_remote_data_2(load_time: Duration) -> i32 {
    std::thread::sleep(load_time);
    2
}

/// `getRemoteData`, the `@inlineCallbacks` coroutine.
fn get_remote_data(reactor: &ReactorHandle, load_time: Duration) -> Deferred<i32> {
    let reactor = reactor.clone();
    Deferred::from_future(async move {
        let (d1, resolver) = Deferred::new();
        println!("start execute r1!");
        let on_reactor = reactor.clone();
        reactor.call_in_thread(move || {
            load_remote_data(
                move |v| {
                    // Fire d1 on the reactor thread, not here on the pool thread.
                    let _ = on_reactor.call_from_thread(move || resolver.callback(v));
                },
                load_time,
            );
        })?;
        let r1 = d1.await?;
        println!("r1 = {r1}");

        println!("start execute r2!");
        let r2 = defer_to_thread(&reactor, move || Ok(load_remote_data_2(load_time))).await?;
        println!("r2 = {r2}");

        Ok::<_, Failure>(r1 + r2)
    })
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "a callback returns Result; this one never fails"
)]
fn get_result(v: i32) -> Result<(), Failure> {
    println!("result= {v}");
    Ok(())
}

fn run(load_time: Duration, stop_after: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let reactor = Reactor::builder().without_signal_handlers().build()?;
    let d = get_remote_data(&reactor.handle(), load_time).add_callback(get_result);
    let stopper = reactor.handle();
    reactor.call_later(stop_after, move || {
        stopper
            .stop()
            .expect("the reactor is running and stops only here");
    });
    reactor.run()?;
    if d.called() {
        Ok(())
    } else {
        Err("the reactor stopped before the result came".into())
    }
}

fn main() -> ExitCode {
    let divisor = match std::env::args().nth(1).as_deref() {
        None => 10,
        Some("--real") => 1,
        Some(other) => {
            eprintln!("unexpected argument {other:?}");
            eprintln!("usage: cargo run --example inline_callbacks_threads -- [--real]");
            return ExitCode::from(2);
        }
    };
    if divisor == 1 {
        println!("The seed's delays: 1 s per load, stop at 4 s.");
    } else {
        println!("Delays scaled to 1/{divisor} of the seed's (--real for the seed's 1 s loads).");
    }
    if let Err(e) = run(Duration::from_secs(1) / divisor, Duration::from_secs(4) / divisor) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
