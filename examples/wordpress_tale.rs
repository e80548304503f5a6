//! The WordPress tale of seeds 000 and 001 ("Twisted - A Python tale", `deferreds.py 1..5`):
//! one developer installs WordPress for customers, and each installation is three seconds
//! of waiting. Five ways to get through the day, each printing the seed's lines in the
//! seed's order:
//!
//! 1. sequential, with a blocking sleep: 4 customers (Bill, Elon, Steve, Mark) one after
//!    the other, "Start installation for X" / "All done for X" (12 s);
//! 2. five developer threads sharing a list of 15 customers under a lock: "Goodmorning
//!    from developer i" ... "Bye from developer i" (9 s; the interleaving changes from run
//!    to run, as in the seed, though whole lines here: `println!` holds stdout's lock for a
//!    line, where the seed's Python 2 `print` statements mix words of different lines);
//! 3. the reactor, `defer_later` and a `DeferredList`: "Goodmorning", 15 "Scheduling"
//!    lines and "Bye" print *before* the reactor runs, then 15 pairs of "Callback:
//!    Finished installation" / "All done"; the `DeferredList`'s callback stops the reactor
//!    (3 s);
//! 4. the same with an async block per customer (`inlineCallbacks` is
//!    `Deferred::from_future`): each "Scheduling" line prints synchronously while the
//!    work is set up, before "Bye" (3 s);
//! 5. a `Cooperator` with five `coiterate`s over one shared iterator of 15 mode-4
//!    installations: "Goodmorning" and "Bye" first, then batches of five (9 s).
//!
//! Each mode prints "------ Running example N ------" first and "* Elapsed time: X.XX
//! seconds" last, like the seed's `deferreds.py N`.
//!
//! By default every mode runs, with the seed's delays scaled to a tenth (an installation
//! takes 0.3 s instead of 3 s), so the whole run takes about 3.6 s and each elapsed time
//! reads as a tenth of the seed's (1.20, 0.90, 0.30, 0.30, 0.90). `--real` uses the seed's
//! 3-second installations (about 36 s for all five), and a mode number runs one mode:
//!
//! ```sh
//! cargo run --example wordpress_tale             # all five modes, scaled down
//! cargo run --example wordpress_tale -- 3        # mode 3 only
//! cargo run --example wordpress_tale -- --real 5 # mode 5 with 3-second installations
//! ```
//!
//! Modes 3 to 5 each build a fresh [`Reactor`]: a stopped reactor cannot run again, as in
//! Twisted (`ReactorNotRestartable`), where each mode is a separate process. The reactors
//! are built without signal handlers, so Ctrl-C ends the whole program at once, in any
//! mode, instead of stopping only the current mode's reactor and carrying on with the
//! next one.

#![allow(clippy::doc_markdown, reason = "WordPress is a product name, not code")]

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tokio_twisted::defer::{Deferred, DeferredList};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::task::{Cooperator, SharedIter, defer_later};

/// How long one installation takes in the seed.
const SEED_INSTALL: Duration = Duration::from_secs(3);
/// The default: a tenth of the seed's delays.
const SCALE_DOWN: u32 = 10;

type AnyError = Box<dyn std::error::Error>;

fn customers() -> Vec<String> {
    (0..15).map(|i| format!("Customer {i}")).collect()
}

// ------------------------------------------------------------------ mode 1: blocking

/// The seed's `install_wordpress`: start, then wait for the installation, doing nothing
/// else meanwhile. `thread::sleep` is the point here: this is the *blocking* version.
fn install_wordpress(customer: &str, install: Duration) {
    println!("Start installation for {customer}");
    thread::sleep(install);
    println!("All done for {customer}");
}

/// Mode 1, `developer_day`: one customer after the other.
fn developer_day(customers: &[&str], install: Duration) {
    for customer in customers {
        install_wordpress(customer, install);
    }
}

// ------------------------------------------------------------------ mode 2: threads

/// Mode 2, `developers_day`: five developer threads take customers from one list under a
/// lock, and the day ends when every thread has been joined.
fn developers_day(customers: Vec<String>, install: Duration) {
    let customers = Arc::new(Mutex::new(VecDeque::from(customers)));
    let devs: Vec<_> = (0..5)
        .map(|id| {
            let customers = Arc::clone(&customers);
            thread::spawn(move || dev_day(id, &customers, install))
        })
        .collect();
    for dev in devs {
        dev.join().expect("a developer thread panicked");
    }
}

fn dev_day(id: usize, customers: &Mutex<VecDeque<String>>, install: Duration) {
    println!("Goodmorning from developer {id}");
    loop {
        // Hold the lock only while taking a customer, not during the installation (the
        // seed's acquire / pop / release dance). A separate statement, so the guard is
        // dropped before `install_wordpress` runs.
        let next = customers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        let Some(customer) = next else { break };
        install_wordpress(&customer, install);
    }
    println!("Bye from developer {id}");
}

// ------------------------------------------------------------------ mode 3: callbacks

/// Mode 3, `schedule_install`: ask to be called back when the installation is done, and
/// say what happens next. Nothing waits here.
fn schedule_install(reactor: &ReactorHandle, customer: String, install: Duration) -> Deferred<()> {
    let done_for = customer.clone();
    println!("Scheduling: Installation for {customer}");
    defer_later(reactor, install, move || {
        println!("Callback: Finished installation for {customer}");
    })
    .add_callback(move |()| {
        println!("All done for {done_for}");
        Ok(())
    })
}

/// Modes 3 and 4, `twisted_developer_day`: schedule everything, turn the lights off when
/// the `DeferredList` of all the work fires, and go home before any of it has run.
fn twisted_developer_day(reactor: &ReactorHandle, work: Vec<Deferred<()>>) -> Deferred<()> {
    let stopper = reactor.clone();
    let join = DeferredList::new(work).build().add_callback(move |_| {
        stopper.stop()?;
        Ok(())
    });
    println!("Bye from Twisted developer!");
    join
}

// ------------------------------------------------------------------ mode 4: async

/// Mode 4, `inline_install` (`@inlineCallbacks`): the same steps, written top to bottom.
/// The async block runs synchronously up to its first pending `.await`, so "Scheduling"
/// prints before this function returns; the rest runs when the timer fires.
fn inline_install(reactor: &ReactorHandle, customer: String, install: Duration) -> Deferred<()> {
    let reactor = reactor.clone();
    Deferred::from_future(async move {
        println!("Scheduling: Installation for {customer}");
        defer_later(&reactor, install, || ()).await?;
        println!("Callback: Finished installation for {customer}");
        println!("All done for {customer}");
        Ok::<_, Failure>(())
    })
}

// ------------------------------------------------------------------ mode 5: Cooperator

/// Mode 5: the work as a lazy iterator of installations, shared by five `coiterate`
/// tasks, so at most five customers are served at a time.
fn cooperative_developer_day(reactor: &ReactorHandle, install: Duration) -> Deferred<()> {
    println!("Goodmorning from Twisted developer");
    let on_reactor = reactor.clone();
    // Nothing is scheduled yet: each task pulls the next installation when it is free.
    let work = SharedIter::new(
        customers()
            .into_iter()
            .map(move |customer| inline_install(&on_reactor, customer, install)),
    );
    let coop = Cooperator::new(reactor.clone());
    let workers: Vec<_> = (0..5).map(|_| coop.coiterate(work.clone())).collect();
    let stopper = reactor.clone();
    let join = DeferredList::new(workers).build().add_callback(move |_| {
        stopper.stop()?;
        Ok(())
    });
    println!("Bye from Twisted developer!");
    join
}

// ------------------------------------------------------------------ running the modes

fn new_reactor() -> std::io::Result<Reactor> {
    Reactor::builder().without_signal_handlers().build()
}

/// Runs one mode, timed like the seed's `deferreds.py`.
fn run_mode(mode: u8, install: Duration) -> Result<(), AnyError> {
    println!("------ Running example {mode} ------");
    let start = Instant::now();
    match mode {
        1 => developer_day(&["Bill", "Elon", "Steve", "Mark"], install),
        2 => developers_day(customers(), install),
        3 | 4 => {
            let reactor = new_reactor()?;
            let handle = reactor.handle();
            println!("Goodmorning from Twisted developer");
            let work = customers()
                .into_iter()
                .map(|customer| {
                    if mode == 3 {
                        schedule_install(&handle, customer, install)
                    } else {
                        inline_install(&handle, customer, install)
                    }
                })
                .collect();
            let join = twisted_developer_day(&handle, work);
            // The reactor, "our secretary", follows up on the events.
            reactor.run()?;
            ensure_fired(&join)?;
        }
        5 => {
            let reactor = new_reactor()?;
            let join = cooperative_developer_day(&reactor.handle(), install);
            reactor.run()?;
            ensure_fired(&join)?;
        }
        _ => unreachable!("modes are checked when parsing"),
    }
    println!("* Elapsed time: {:.2} seconds", start.elapsed().as_secs_f64());
    Ok(())
}

fn ensure_fired(join: &Deferred<()>) -> Result<(), AnyError> {
    if join.called() {
        Ok(())
    } else {
        Err("the reactor stopped before the work was done".into())
    }
}

struct Options {
    real: bool,
    mode: Option<u8>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        real: false,
        mode: None,
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--real" => options.real = true,
            "1" | "2" | "3" | "4" | "5" if options.mode.is_none() => {
                options.mode = arg.parse().ok();
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("usage: cargo run --example wordpress_tale -- [--real] [1|2|3|4|5]");
            return ExitCode::from(2);
        }
    };
    let install = if options.real {
        println!("Installations take 3 seconds, as in the seed.");
        SEED_INSTALL
    } else {
        let install = SEED_INSTALL / SCALE_DOWN;
        println!(
            "Delays scaled to 1/{SCALE_DOWN} of the seed's: an installation takes {:.1} s \
             instead of 3 s (--real for the seed's).",
            install.as_secs_f64()
        );
        install
    };
    let modes = match options.mode {
        Some(mode) => vec![mode],
        None => (1..=5).collect(),
    };
    for mode in modes {
        if let Err(e) = run_mode(mode, install) {
            eprintln!("example {mode} failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
