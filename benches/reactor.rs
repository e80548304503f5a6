//! Reactor benchmarks, printing the result lines of the shared bench harness.
//!
//! Each workload mirrors a raw-Tokio baseline of `tokio_baselines/` in the shared reference
//! benchmarks and its Twisted peer (`py/twisted_bench.py` there), and prints one line per
//! measurement in the same format and with the same keys: `workload=<name> impl=<impl> ops=<n>
//! secs=<t> ops_per_sec=<x> [key=value ...]`.
//!
//! - `call_later`: 100,000 [`ReactorTime::call_later`] calls on a fresh [`Reactor`] (no
//!   signal handlers), at uniform random delays in [0, 100 ms) drawn from the baseline's
//!   xorshift64* generator with seed 42 (so the delays are the baseline's); the last call
//!   to fire stops the reactor. Scheduling happens in `call_when_running`, as in Twisted;
//!   `secs` runs from before the first `call_later` to `run()` returning, `schedule_secs`
//!   covers the scheduling loop alone (`impl=tokio-twisted`).
//! - `wordpress_tale`, variant `all`: 10,000 customers, each a
//!   [`defer_later`]`(&handle, 50 ms, || Ok(served(i)))` whose `add_callback` adds the
//!   value to a running sum, all in a [`DeferredList`] whose callback checks the sum and
//!   stops the reactor (`impl=tokio-twisted-defer_later-DeferredList`).
//! - `wordpress_tale`, variant `limited`: the same customers behind one [`SharedIter`],
//!   handed to 100 [`Cooperator::coiterate`] workers; each step yields the customer's
//!   `defer_later` Deferred, so at most 100 are in flight
//!   (`impl=tokio-twisted-Cooperator-coiterate`).
//!
//! `peak_rss_kb` is the process's `VmHWM` and is only meaningful for one measurement per
//! process, so with no workload argument the bench re-executes itself once per workload,
//! variant and rep (workloads interleaved inside each rep) and passes the children's lines
//! through.
//!
//! ```sh
//! cargo bench --bench reactor                       # 3 reps, one process per measurement
//! cargo bench --bench reactor -- 5                  # REPS=5
//! cargo bench --bench reactor -- call_later [N=100000] [REPS=1]
//! cargo bench --bench reactor -- wordpress_tale all|limited [N=10000] [WORKERS=100]
//! ```
//!
//! (`call_later` with REPS > 1 runs the reps in one process, each on a fresh reactor, and
//! draws each rep's delays from where the previous rep left the generator, as the
//! baseline binary does; its `peak_rss_kb` is then the maximum so far.)
//!
//! # Running beside the baselines
//!
//! Compare only figures taken in the same session (the host's speed drifts by tens of
//! percent), pinned to one CPU as `run_baselines.sh` does, and read them as per-rep
//! ratios. From the crate root, with `BENCH_DIR` set to the shared reference benchmarks:
//!
//! ```sh
//! (cd "$BENCH_DIR" && cargo build --release --workspace)
//! cargo bench --no-run                              # builds benches/defer.rs and reactor.rs
//! DEFER=$(ls -t target/release/deps/defer-* | grep -v '\.d$' | head -1)
//! REACTOR=$(ls -t target/release/deps/reactor-* | grep -v '\.d$' | head -1)
//! B=$BENCH_DIR/target/release OUT=/tmp/bench-results.txt
//! export RUST_BACKTRACE=0     # set on some machines; it changed no figure beyond noise
//! for rep in 1 2 3; do
//!   taskset -c 1 $B/deferred_chain 2000000 1 >>$OUT
//!   taskset -c 1 $B/inline_callbacks 100000 100 1 >>$OUT
//!   taskset -c 1 $B/deferred_list 2000 1 >>$OUT
//!   taskset -c 1 $B/call_later 100000 1 >>$OUT
//!   taskset -c 1 $B/wordpress_tale all 10000 >>$OUT
//!   taskset -c 1 $B/wordpress_tale limited 10000 100 >>$OUT
//!   taskset -c 1 $DEFER 1 >>$OUT
//!   taskset -c 1 $REACTOR 1 >>$OUT
//! done
//! ```
//!
//! The crate's lines carry `impl=tokio-twisted…`; the project's targets are ratios
//! to the raw-Tokio line of the same rep: `deferred_chain` ÷ `rust-vec-box-fnonce` ≥ 0.5,
//! `inline_callbacks` (`tokio-twisted-fired-new`: the `tokio-twisted` line awaits
//! `succeed(i)`, which the compiler folds into a loop like the baseline's `ready`) ÷
//! `tokio-async-await-fired-oneshot` ≥ 0.5, `deferred_list` ÷
//! `tokio-join_all-oneshot-poll-each` ≥ 1.0, `call_later` wall ÷ `tokio-spawn-sleep` wall
//! ≤ 1.0, `wordpress_tale all` wall ÷ `tokio-spawn-sleep-join_all` wall ≤ 1.5 and peak RSS
//! ≤ 2.0. The Twisted peers run with
//! `python $BENCH_DIR/py/twisted_bench.py call_later|wordpress_all|wordpress_coop`
//! (Twisted installed, e.g. the harness's `.venv` made by `run_baselines.sh`); their
//! result lines go in the same file.

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_twisted::defer::{Deferred, DeferredList};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::task::{Cooperator, SharedIter, defer_later};

const IMPL: &str = "tokio-twisted";
const SERVICE: Duration = Duration::from_millis(50);

/// One result line, exactly as `tokio_baselines::report` prints it.
fn report(workload: &str, imp: &str, ops: u64, secs: f64, extra: &str) {
    let rate = if secs > 0.0 { ops as f64 / secs } else { 0.0 };
    let sep = if extra.is_empty() { "" } else { " " };
    println!("workload={workload} impl={imp} ops={ops} secs={secs:.6} ops_per_sec={rate:.1}{sep}{extra}");
}

/// A `/proc/self/status` field in KiB, or 0 where there is none.
fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Peak resident set size of this process so far (`VmHWM`), KiB.
fn peak_rss_kb() -> u64 {
    proc_status_kb("VmHWM:")
}

/// Current resident set size (`VmRSS`), KiB.
fn rss_kb() -> u64 {
    proc_status_kb("VmRSS:")
}

/// The baselines' xorshift64* generator, so that the same seed gives the same delays.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform duration in [0, max).
    fn duration_below(&mut self, max: Duration) -> Duration {
        Duration::from_nanos(self.next_u64() % (max.as_nanos() as u64))
    }
}

fn new_reactor() -> Reactor {
    Reactor::builder()
        .without_signal_handlers()
        .build()
        .expect("build the reactor")
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; every flag is ignored.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let num = |i: usize, default: u64| -> u64 {
        args.get(i).map_or(default, |s| {
            s.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("numeric argument expected, got {s:?}"))
        })
    };
    match args.first().map(String::as_str) {
        Some("call_later") => call_later(num(1, 100_000), num(2, 1)),
        Some("wordpress_tale") => {
            let variant = args.get(1).map_or("all", String::as_str);
            let limited = match variant {
                "all" => false,
                "limited" => true,
                other => {
                    eprintln!("unknown wordpress_tale variant {other:?}: all or limited");
                    return ExitCode::from(2);
                }
            };
            wordpress_tale(limited, num(2, 10_000), num(3, 100));
        }
        Some(other) if other.parse::<u64>().is_err() => {
            eprintln!("unknown workload {other:?}: call_later or wordpress_tale");
            return ExitCode::from(2);
        }
        _ => return run_all(num(0, 3)),
    }
    ExitCode::SUCCESS
}

/// Runs every measurement in a process of its own, `reps` times, workloads interleaved
/// inside each rep; the children's lines go to our stdout.
fn run_all(reps: u64) -> ExitCode {
    let exe = std::env::current_exe().expect("path of the running bench");
    let measurements: [&[&str]; 3] = [
        &["call_later", "100000"],
        &["wordpress_tale", "all", "10000"],
        &["wordpress_tale", "limited", "10000", "100"],
    ];
    let mut failed = false;
    for _ in 0..reps {
        for args in measurements {
            match Command::new(&exe).args(args).status() {
                Ok(status) if status.success() => {}
                Ok(status) => {
                    eprintln!("# FAILED ({status}): reactor {}", args.join(" "));
                    failed = true;
                }
                Err(e) => {
                    eprintln!("# FAILED to start {}: {e}", exe.display());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What the last timed call to fire needs: the countdown and the reactor to stop.
struct Countdown {
    left: AtomicU64,
    handle: ReactorHandle,
}

/// Twisted's `call_later` peer: N timers, the last one stops the reactor.
fn call_later(n: u64, reps: u64) {
    // One generator for every rep, like the baseline binary.
    let rng = Arc::new(Mutex::new(Rng::new(42)));
    for _ in 0..reps {
        let reactor = new_reactor();
        let countdown = Arc::new(Countdown {
            left: AtomicU64::new(n),
            handle: reactor.handle(),
        });
        // (start, schedule_secs), written by the startup call.
        let started: Arc<Mutex<Option<(Instant, f64)>>> = Arc::default();
        {
            let (handle, rng, started) = (reactor.handle(), Arc::clone(&rng), Arc::clone(&started));
            reactor
                .call_when_running(move || {
                    let mut rng = rng.lock().unwrap_or_else(PoisonError::into_inner);
                    let start = Instant::now();
                    for _ in 0..n {
                        let delay = rng.duration_below(Duration::from_millis(100));
                        let countdown = Arc::clone(&countdown);
                        handle.call_later(delay, move || {
                            if countdown.left.fetch_sub(1, Ordering::Relaxed) == 1 {
                                countdown.handle.stop().expect("stopped once");
                            }
                        });
                    }
                    let sched = start.elapsed().as_secs_f64();
                    *started.lock().unwrap_or_else(PoisonError::into_inner) = Some((start, sched));
                })
                .unwrap();
        }
        // Safety bound, like the Twisted peer's `callLater(60, reactor.stop)`.
        let bound = {
            let handle = reactor.handle();
            reactor.call_later(Duration::from_secs(60), move || {
                let _ = handle.stop();
            })
        };
        reactor.run().expect("reactor runs");
        let end = Instant::now();
        assert!(bound.cancel().is_ok(), "did not finish in 60 s");
        let (start, sched) = started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("the startup call ran");
        let secs = (end - start).as_secs_f64();
        let peak = peak_rss_kb();
        drop(reactor);
        report(
            "call_later",
            IMPL,
            n,
            secs,
            &format!(
                "schedule_secs={sched:.6} overhead_secs={:.6} floor_secs=0.100 peak_rss_kb={peak}",
                secs - 0.1
            ),
        );
    }
}

/// The per-customer callback of every implementation.
fn served(i: u64) -> u64 {
    i * 2
}

/// What `wordpress_tale` shares between its callbacks.
struct Tale {
    sum: AtomicU64,
    end: Mutex<Option<Instant>>,
}

/// One customer: wait 50 ms on the reactor, then serve and record.
fn customer(handle: &ReactorHandle, tale: &Arc<Tale>, i: u64) -> Deferred<()> {
    let tale = Arc::clone(tale);
    defer_later(handle, SERVICE, move || Ok::<_, Failure>(served(i))).add_callback(move |v| {
        tale.sum.fetch_add(v, Ordering::Relaxed);
        Ok::<_, Failure>(())
    })
}

/// Twisted's `wordpress_all` / `wordpress_coop` peers.
fn wordpress_tale(limited: bool, n: u64, workers: u64) {
    let base_rss = rss_kb();
    let want: u64 = (0..n).map(served).sum();
    let reactor = new_reactor();
    let tale = Arc::new(Tale {
        sum: AtomicU64::new(0),
        end: Mutex::new(None),
    });
    let start: Arc<Mutex<Option<Instant>>> = Arc::default();
    {
        let (handle, tale, start) = (reactor.handle(), Arc::clone(&tale), Arc::clone(&start));
        reactor
            .call_when_running(move || {
                *start.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
                let waits: Vec<Deferred<()>> = if limited {
                    let coop = Cooperator::new(handle.clone());
                    let (h, t) = (handle.clone(), Arc::clone(&tale));
                    let jobs = SharedIter::new((0..n).map(move |i| customer(&h, &t, i)));
                    (0..workers).map(|_| coop.coiterate(jobs.clone())).collect()
                } else {
                    (0..n).map(|i| customer(&handle, &tale, i)).collect()
                };
                let done = DeferredList::new(waits).build().add_callback(move |results| {
                    assert!(results.iter().all(Result::is_ok), "a customer failed");
                    assert_eq!(tale.sum.load(Ordering::Relaxed), want);
                    *tale.end.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
                    handle.stop()?;
                    Ok::<_, Failure>(())
                });
                // The chain ends with the reactor's stop; nothing waits on it.
                drop(done);
            })
            .unwrap();
    }
    let bound = {
        let handle = reactor.handle();
        reactor.call_later(Duration::from_secs(120), move || {
            let _ = handle.stop();
        })
    };
    reactor.run().expect("reactor runs");
    let returned = Instant::now();
    assert!(bound.cancel().is_ok(), "did not finish in 120 s");
    assert!(
        tale.end.lock().unwrap_or_else(PoisonError::into_inner).is_some(),
        "the DeferredList never fired"
    );
    let start = start
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .expect("the startup call ran");
    let secs = (returned - start).as_secs_f64();
    let peak = peak_rss_kb();
    drop(reactor);
    let (imp, variant, floor, w) = if limited {
        (
            "tokio-twisted-Cooperator-coiterate",
            "limited",
            n.div_ceil(workers) as f64 * SERVICE.as_secs_f64(),
            workers,
        )
    } else {
        (
            "tokio-twisted-defer_later-DeferredList",
            "all",
            SERVICE.as_secs_f64(),
            n,
        )
    };
    report(
        "wordpress_tale",
        imp,
        n,
        secs,
        &format!(
            "variant={variant} workers={w} floor_secs={floor:.3} overhead_secs={:.6} base_rss_kb={base_rss} peak_rss_kb={peak}",
            secs - floor
        ),
    );
}
