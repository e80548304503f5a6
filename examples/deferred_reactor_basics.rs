//! The three programs of seed 003 ("Notes on Twisted's Deferred mechanism"), one section
//! each, each on a fresh reactor that a timed `stop` ends, as in the seed:
//!
//! - **code-1, a single callback**: `call_later(2 s, callback with input * 3)` fires a
//!   Deferred while the reactor runs; prints "getDummyData called", "Starting the
//!   reactor", then "Result received: 9" at 2 s; the reactor stops at 4 s.
//! - **code-2, callbacks and errbacks**: a `Getter` fires its Deferred from a timed call,
//!   with `callback(x * 3)` for an even `x` and `errback(ValueError)` for an odd one. Both
//!   of the seed's calls run: `get_dummy_data(3)` takes the errback path and writes the
//!   failure to **stderr** (`[Failure instance: deferred_reactor_basics::ValueError: You
//!   used an odd number!]`) at 2 s, `get_dummy_data(4)` prints "Result: 12" (the callback
//!   path); stop at 4 s.
//! - **code-3, a thread**: `call_in_thread` runs `loadRemoteData` on a pool thread, which
//!   prints its thread and the URL and hands back "callback data"; the Deferred's callback
//!   prints its thread and the result. Stop at 4 s.
//!
//! Code-3 differs from the seed on purpose. There the pool thread calls `d.callback`
//! itself, so `getResult` runs *on the pool thread* (the seed's output shows
//! `thread[PoolThread-twisted.internet.reactor-0] result = callback data`). That is unsafe
//! in Twisted: Deferreds and almost all reactor APIs are not thread-safe (only
//! `callFromThread` is), callbacks run on whatever thread fires the Deferred, so they
//! would race with the reactor thread over any state they share, and a callback that
//! calls `callLater` or writes to a transport would corrupt the reactor. Here the worker
//! hands the result back with `call_from_thread`, so the Deferred fires, and `getResult`
//! runs, on the reactor thread: the output shows `thread[main] result = callback data`.
//! (`threads::defer_to_thread` does the same hand-over in one call.)
//!
//! The seed's delays (2 s and 4 s) are scaled to a tenth by default; `--real` uses them
//! as they are, and a section number runs one section:
//!
//! ```sh
//! cargo run --example deferred_reactor_basics             # the three programs, 0.4 s each
//! cargo run --example deferred_reactor_basics -- 2        # code-2 only
//! cargo run --example deferred_reactor_basics -- --real 3 # code-3 with its 4-second stop
//! ```

use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, Resolver};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};

type AnyError = Box<dyn std::error::Error>;

/// One of the seed's programs.
type Section = fn(Scale) -> Result<(), AnyError>;

/// Scales the seed's delays.
#[derive(Clone, Copy)]
struct Scale {
    divisor: u32,
}

impl Scale {
    fn secs(self, seed_seconds: u64) -> Duration {
        Duration::from_secs(seed_seconds) / self.divisor
    }
}

fn new_reactor() -> std::io::Result<Reactor> {
    Reactor::builder().without_signal_handlers().build()
}

/// The seed's `reactor.callLater(4, reactor.stop)`.
fn stop_later(reactor: &ReactorHandle, delay: Duration) {
    let stopper = reactor.clone();
    reactor.call_later(delay, move || {
        stopper
            .stop()
            .expect("the reactor is running and stops only here");
    });
}

// ------------------------------------------------------------------ code-1

/// `getDummyData`: a Deferred that a timed call fires with `input * 3`. The timed call
/// fires the Deferred through its resolver; a plain function there would leave the
/// Deferred's callbacks unrun, as the seed notes.
fn get_dummy_data(reactor: &ReactorHandle, input: i32, scale: Scale) -> Deferred<i32> {
    println!("getDummyData called");
    let (deferred, resolver) = Deferred::new();
    reactor.call_later(scale.secs(2), move || {
        let _ = resolver.callback(input * 3);
    });
    deferred
}

fn code_1(scale: Scale) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    let deferred = get_dummy_data(&reactor.handle(), 3, scale).add_callback(|result| {
        println!("Result received: {result}");
        Ok(())
    });
    // Set up the end of the process by hand: stop in 4 seconds.
    stop_later(&reactor.handle(), scale.secs(4));
    println!("Starting the reactor");
    reactor.run()?;
    assert!(deferred.called());
    Ok(())
}

// ------------------------------------------------------------------ code-2

/// Python's `ValueError`, the failure `Getter` reports for an odd number.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ValueError(&'static str);

/// The seed's `Getter`. It keeps the *resolver* of the Deferred it handed out (Python
/// keeps the Deferred itself in `self.d`), and takes it out before firing it, so it can
/// never fire twice: the seed's `d, self.d = self.d, None` idiom is `Option::take`.
struct Getter {
    d: Mutex<Option<Resolver<i32>>>,
}

impl Getter {
    fn new() -> Arc<Self> {
        Arc::new(Getter { d: Mutex::new(None) })
    }

    fn got_results(&self, x: i32) {
        let Some(d) = self.d.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            println!("Nowhere to put results");
            return;
        };
        let _ = if x % 2 == 0 {
            d.callback(x * 3)
        } else {
            d.errback(ValueError("You used an odd number!"))
        };
    }

    #[allow(
        clippy::unnecessary_wraps,
        reason = "a callback returns Result; this one never fails"
    )]
    fn to_html(r: i32) -> Result<String, Failure> {
        Ok(format!("Result: {r}"))
    }

    fn get_dummy_data(self: &Arc<Self>, reactor: &ReactorHandle, x: i32, scale: Scale) -> Deferred<String> {
        let (d, resolver) = Deferred::new();
        *self.d.lock().unwrap_or_else(PoisonError::into_inner) = Some(resolver);
        let me = Arc::clone(self);
        reactor.call_later(scale.secs(2), move || me.got_results(x));
        d.add_callback(Getter::to_html)
    }
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a callback receives the chain's value by value"
)]
fn cb_print_data(result: String) {
    println!("{result}");
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "an errback receives the failure by value"
)]
fn eb_print_error(failure: Failure) {
    // Python's `str(failure)`, without the traceback.
    eprintln!(
        "[Failure instance: {}: {}]",
        failure.type_name(),
        failure.error_message()
    );
}

fn code_2(scale: Scale) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    let handle = reactor.handle();

    // This series of callbacks and errbacks prints an error message (on stderr).
    let g = Getter::new();
    let odd = g
        .get_dummy_data(&handle, 3, scale)
        .add_callback(cb_print_data)
        .add_errback(eb_print_error);

    // This one prints "Result: 12".
    let g = Getter::new();
    let even = g
        .get_dummy_data(&handle, 4, scale)
        .add_callback(cb_print_data)
        .add_errback(eb_print_error);

    stop_later(&handle, scale.secs(4));
    reactor.run()?;
    assert!(odd.called() && even.called());
    Ok(())
}

// ------------------------------------------------------------------ code-3

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("unnamed").to_owned()
}

/// `loadRemoteData`, run on a pool thread: it may call `callback` or `errback`, only one of
/// them (a second call would be an `AlreadyCalledError`).
fn load_remote_data(callback: impl FnOnce(String), _errback: impl FnOnce(Failure), url: &str) {
    println!("thread[{}] url = {url}", thread_name());
    callback("callback data".to_owned());
    // _errback(ValueError("errback dat").into());
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "a callback receives the chain's value by value"
)]
fn get_result(v: String) {
    println!("thread[{}] result = {v}", thread_name());
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "an errback receives the failure by value"
)]
fn get_error(e: Failure) {
    println!("thread[{}] error = {e}", thread_name());
}

fn code_3(scale: Scale) -> Result<(), AnyError> {
    let reactor = new_reactor()?;
    let handle = reactor.handle();
    let (d, resolver) = Deferred::<String>::new();
    let d = d.add_callback(get_result).add_errback(get_error);

    println!("main():thread[{}]", thread_name());
    // The pool thread never fires the Deferred itself: it asks the reactor thread to.
    let (on_success, on_failure) = (handle.clone(), handle.clone());
    let fail_with = resolver.clone();
    let callback = move |value: String| {
        let _ = on_success.call_from_thread(move || resolver.callback(value));
    };
    let errback = move |failure: Failure| {
        let _ = on_failure.call_from_thread(move || fail_with.errback(failure));
    };
    handle.call_in_thread(move || load_remote_data(callback, errback, "http://www.baidu.com"))?;
    stop_later(&handle, scale.secs(4));
    reactor.run()?;
    assert!(d.called());
    Ok(())
}

// ------------------------------------------------------------------ main

fn main() -> ExitCode {
    let mut real = false;
    let mut only = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--real" => real = true,
            "1" | "2" | "3" if only.is_none() => only = arg.parse::<u8>().ok(),
            _ => {
                eprintln!("unexpected argument {arg:?}");
                eprintln!("usage: cargo run --example deferred_reactor_basics -- [--real] [1|2|3]");
                return ExitCode::from(2);
            }
        }
    }
    let scale = Scale {
        divisor: if real { 1 } else { 10 },
    };
    if real {
        println!("The seed's delays: 2 s and 4 s.");
    } else {
        println!("Delays scaled to 1/10 of the seed's (--real for the seed's 2 s and 4 s).");
    }
    let sections: [(&str, Section); 3] = [
        ("code-1 (single callback)", code_1),
        ("code-2 (callbacks and errbacks)", code_2),
        ("code-3 (a thread)", code_3),
    ];
    for (number, (title, section)) in (1..).zip(sections) {
        if only.is_some_and(|n| n != number) {
            continue;
        }
        println!("------ {title} ------");
        if let Err(e) = section(scale) {
            eprintln!("{title} failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
