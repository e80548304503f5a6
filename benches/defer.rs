//! Deferred micro-benchmarks, printing the result lines of the shared bench harness.
//!
//! Each workload mirrors a raw-Tokio baseline of `tokio_baselines/` in the shared reference
//! benchmarks and its Twisted peer, and prints one line per measurement in the same format:
//! `workload=<name> impl=<impl> ops=<n> secs=<t> ops_per_sec=<x> [key=value ...]`.
//!
//! - `deferred_chain`: `Deferred::new()`, 10 × `add_callback(x + k)`, fire with 0, read the
//!   result (`impl=tokio-twisted`); the same on `succeed(0)`, where each callback runs as it
//!   is added (`impl=tokio-twisted-succeed`).
//! - `inline_callbacks`: an async fn awaiting N Deferreds, driven by a current-thread Tokio
//!   runtime: `succeed(i)` (`impl=tokio-twisted`) or `Deferred::new()` fired before the
//!   await (`impl=tokio-twisted-fired-new`); and the same async fn run by
//!   `Deferred::from_future`, with no runtime (`impl=tokio-twisted-from-future`,
//!   `impl=tokio-twisted-from-future-fired-new`).
//! - `deferred_list`: 1,000 `Deferred::new()` inputs in a `DeferredList` (`.build()`), fired
//!   one by one, result read (`impl=tokio-twisted`); the same with `gather_results`
//!   (`impl=tokio-twisted-gather`).
//!
//! Run everything (3 reps):
//!
//! ```sh
//! cargo bench --bench defer
//! cargo bench --bench defer -- 5                                # REPS=5
//! ```
//!
//! Or one workload, with the baseline binary's positional arguments:
//!
//! ```sh
//! cargo bench --bench defer -- deferred_chain [N=2000000] [REPS=3] [IMPL]
//! cargo bench --bench defer -- inline_callbacks [N=100000] [REPS_INNER=100] [REPS=3]
//! cargo bench --bench defer -- deferred_list [LISTS=2000] [REPS=3]
//! ```
//!
//! `IMPL` runs one variant only (for instance `tokio-twisted`), so that an instruction
//! count (`valgrind --tool=callgrind`) covers that variant alone.

use std::hint::black_box;
use std::time::Instant;

use tokio_twisted::defer::{Deferred, DeferredList, gather_results, succeed};
use tokio_twisted::failure::Failure;

const IMPL: &str = "tokio-twisted";
const ITEMS: i64 = 1000;

/// One result line, exactly as `tokio_baselines::report` prints it.
fn report(workload: &str, imp: &str, ops: u64, secs: f64, extra: &str) {
    let rate = if secs > 0.0 { ops as f64 / secs } else { 0.0 };
    let sep = if extra.is_empty() { "" } else { " " };
    println!("workload={workload} impl={imp} ops={ops} secs={secs:.6} ops_per_sec={rate:.1}{sep}{extra}");
}

fn main() {
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
        Some("deferred_chain") => {
            deferred_chain(num(1, 2_000_000), num(2, 3), args.get(3).map(String::as_str));
        }
        Some("inline_callbacks") => inline_callbacks(num(1, 100_000), num(2, 100), num(3, 3)),
        Some("deferred_list") => deferred_list(num(1, 2_000), num(2, 3)),
        Some(other) if other.parse::<u64>().is_err() => {
            eprintln!("unknown workload {other:?}: deferred_chain, inline_callbacks or deferred_list");
            std::process::exit(2);
        }
        _ => {
            // Interleave the workloads inside each rep, as run_baselines.sh does.
            for _ in 0..num(0, 3) {
                deferred_chain(2_000_000, 1, None);
                inline_callbacks(100_000, 100, 1);
                deferred_list(2_000, 1);
            }
        }
    }
}

fn deferred_chain(n: u64, reps: u64, only: Option<&str>) {
    let want = 10 * i64::try_from(n).expect("count fits in i64");
    let run = |imp: &str| only.is_none_or(|o| o == imp);
    for _ in 0..reps {
        if run(IMPL) {
            let start = Instant::now();
            let mut acc = 0i64;
            for _ in 0..n {
                let step = black_box(1i64);
                let (mut chain, resolver) = Deferred::<i64>::new();
                for _ in 0..10 {
                    chain = chain.add_callback(move |x| Ok::<_, Failure>(x + step));
                }
                resolver.callback(0).expect("fired once");
                let value = black_box(chain).try_result().expect("settled").expect("success");
                acc += black_box(value);
            }
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(acc, want);
            report("deferred_chain", IMPL, n, secs, "callbacks_per_op=10");
        }

        if run("tokio-twisted-succeed") {
            let start = Instant::now();
            let mut acc = 0i64;
            for _ in 0..n {
                let step = black_box(1i64);
                let mut chain = succeed(black_box(0i64));
                for _ in 0..10 {
                    chain = chain.add_callback(move |x| Ok::<_, Failure>(x + step));
                }
                let value = black_box(chain).try_result().expect("settled").expect("success");
                acc += black_box(value);
            }
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(acc, want);
            report(
                "deferred_chain",
                "tokio-twisted-succeed",
                n,
                secs,
                "callbacks_per_op=10",
            );
        }
    }
}

/// `total += yield succeed(i)`, N times.
async fn sum_succeed(n: u64) -> u64 {
    let mut total = 0u64;
    for i in 0..n {
        total += black_box(succeed(i)).await.expect("success");
    }
    total
}

/// The same with a Deferred made by `Deferred::new()` and fired before the await.
async fn sum_fired_new(n: u64) -> u64 {
    let mut total = 0u64;
    for i in 0..n {
        let (d, resolver) = Deferred::<u64>::new();
        resolver.callback(i).expect("fired once");
        total += black_box(d).await.expect("success");
    }
    total
}

fn inline_callbacks(n: u64, inner: u64, reps: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let want = n * (n - 1) / 2;
    let extra = format!("awaits_per_run={n}");
    for _ in 0..reps {
        for (name, fired_new) in [(IMPL, false), ("tokio-twisted-fired-new", true)] {
            let secs = rt.block_on(async {
                let start = Instant::now();
                for _ in 0..inner {
                    let sum = if fired_new {
                        sum_fired_new(n).await
                    } else {
                        sum_succeed(n).await
                    };
                    assert_eq!(black_box(sum), want);
                }
                start.elapsed().as_secs_f64()
            });
            report("inline_callbacks", name, n * inner, secs, &extra);
        }
        for (name, fired_new) in [
            ("tokio-twisted-from-future", false),
            ("tokio-twisted-from-future-fired-new", true),
        ] {
            let start = Instant::now();
            for _ in 0..inner {
                let d = Deferred::from_future(async move {
                    Ok::<_, Failure>(if fired_new {
                        sum_fired_new(n).await
                    } else {
                        sum_succeed(n).await
                    })
                });
                let sum = d.try_result().expect("ran to the end").expect("success");
                assert_eq!(black_box(sum), want);
            }
            let secs = start.elapsed().as_secs_f64();
            report("inline_callbacks", name, n * inner, secs, &extra);
        }
    }
}

fn deferred_list(lists: u64, reps: u64) {
    let want = (ITEMS - 1) * ITEMS / 2;
    for _ in 0..reps {
        let start = Instant::now();
        for _ in 0..lists {
            let (inputs, resolvers): (Vec<_>, Vec<_>) = (0..ITEMS).map(|_| Deferred::<i64>::new()).unzip();
            let list = DeferredList::new(inputs).build();
            for (i, resolver) in (0..).zip(&resolvers) {
                resolver.callback(i).expect("fired once");
            }
            let results = list.try_result().expect("all fired").expect("success");
            let sum: i64 = results.into_iter().map(|r| r.expect("ok")).sum();
            assert_eq!(black_box(sum), want);
        }
        let secs = start.elapsed().as_secs_f64();
        report("deferred_list", IMPL, lists, secs, "items_per_op=1000");

        let start = Instant::now();
        for _ in 0..lists {
            let (inputs, resolvers): (Vec<_>, Vec<_>) = (0..ITEMS).map(|_| Deferred::<i64>::new()).unzip();
            let list = gather_results(inputs);
            for (i, resolver) in (0..).zip(&resolvers) {
                resolver.callback(i).expect("fired once");
            }
            let values = list.try_result().expect("all fired").expect("success");
            let sum: i64 = values.into_iter().sum();
            assert_eq!(black_box(sum), want);
        }
        let secs = start.elapsed().as_secs_f64();
        report(
            "deferred_list",
            "tokio-twisted-gather",
            lists,
            secs,
            "items_per_op=1000",
        );
    }
}
