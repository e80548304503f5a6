//! `adbapi` benchmark, printing the result lines of the shared bench harness:
//! `workload=adbapi impl=<impl> ops=<n> secs=<t> ops_per_sec=<x> callers=<c> pool=<p>
//! cpu_secs=<u>`, where `cpu_secs` is the process's user and system CPU time (all threads)
//! spent in the timed part.
//!
//! The workload: a SQLite file with a table of 10,000 rows keyed by an integer primary
//! key; 100 concurrent callers (Tokio tasks on a two-thread runtime) share 10,000 lookups
//! `SELECT v FROM kv WHERE k = ?1`, each caller awaiting its lookups one after the other.
//!
//! - `impl=tokio-twisted`: [`ConnectionPool::run_query`] on a pool of `POOL` connections
//!   (default 4, started and connected before timing), awaited as a Future.
//! - `impl=spawn-blocking`: the same statements through the same driver, each lookup a
//!   `tokio::task::spawn_blocking` closure on a runtime limited to `POOL` blocking threads,
//!   taking one of `POOL` open connections from a shared list (the statement cached per
//!   connection, as the pool caches it).
//!
//! Both run in one process, alternating (pool, direct, pool, direct, ...: one rep is one
//! of each), on fresh runtimes, so a machine whose load changes affects both alike. The
//! last line is the summary: the medians over the reps of each side's throughput and CPU
//! time per query, and the median of the per-rep throughput ratios (pool / direct).
//!
//! ```sh
//! cargo bench --bench adbapi                 # 7 reps
//! cargo bench --bench adbapi -- REPS [N=10000] [CALLERS=100] [POOL=4]
//! ```

#![allow(clippy::cast_possible_wrap, reason = "key counts far below i64::MAX")]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};
use rusqlite::Connection;
use tokio_twisted::adbapi::{ConnectionPool, Sqlite};

const QUERY: &str = "SELECT v FROM kv WHERE k = ?1";
const ROWS: i64 = 10_000;

fn runtime(pool: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(pool)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// The keys caller `c` of `callers` looks up: the lookups split evenly, spread over the
/// table.
fn keys(c: usize, callers: usize, n: usize) -> impl Iterator<Item = i64> {
    (c..n).step_by(callers).map(|i| (i as i64 * 7919) % ROWS)
}

/// Wall and CPU seconds of one timed run.
#[derive(Clone, Copy)]
struct Timing {
    secs: f64,
    cpu_secs: f64,
}

/// The process's CPU time so far (user + system, every thread, the finished ones too).
fn cpu_now() -> f64 {
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    secs(usage.user_time()) + secs(usage.system_time())
}

/// Times `f` in wall and CPU seconds.
struct Stopwatch {
    wall: Instant,
    cpu: f64,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: cpu_now(),
        }
    }

    fn stop(&self) -> Timing {
        Timing {
            secs: self.wall.elapsed().as_secs_f64(),
            cpu_secs: cpu_now() - self.cpu,
        }
    }
}

fn report(imp: &str, n: usize, t: Timing, callers: usize, pool: usize) {
    println!(
        "workload=adbapi impl={imp} ops={n} secs={:.6} ops_per_sec={:.1} callers={callers} pool={pool} cpu_secs={:.6}",
        t.secs,
        n as f64 / t.secs,
        t.cpu_secs
    );
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 0 {
        f64::midpoint(xs[mid - 1], xs[mid])
    } else {
        xs[mid]
    }
}

fn bench_pool(path: &std::path::Path, n: usize, callers: usize, pool_size: usize) -> Timing {
    let rt = runtime(pool_size);
    rt.block_on(async {
        let pool = ConnectionPool::builder(Sqlite::open(path))
            .min(pool_size)
            .max(pool_size)
            .build()
            .unwrap();
        // Open every connection (and cache the statement) before timing.
        let warm: Vec<_> = (0..pool_size * 4)
            .map(|i| pool.run_query(QUERY, (i as i64,), |row| row.get::<_, i64>(0)))
            .collect();
        for d in warm {
            d.await.unwrap();
        }
        let started = Stopwatch::start();
        let tasks: Vec<_> = (0..callers)
            .map(|c| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut sum = 0;
                    for k in keys(c, callers, n) {
                        let rows = pool
                            .run_query(QUERY, (k,), |row| row.get::<_, i64>(0))
                            .await
                            .unwrap();
                        sum += rows[0];
                    }
                    sum
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        let timing = started.stop();
        assert!(total > 0);
        pool.close();
        timing
    })
}

fn bench_spawn_blocking(path: &std::path::Path, n: usize, callers: usize, pool_size: usize) -> Timing {
    let rt = runtime(pool_size);
    rt.block_on(async {
        let conns: Vec<Connection> = (0..pool_size).map(|_| Connection::open(path).unwrap()).collect();
        for c in &conns {
            c.prepare_cached(QUERY).unwrap();
        }
        let conns = Arc::new(Mutex::new(conns));
        let started = Stopwatch::start();
        let tasks: Vec<_> = (0..callers)
            .map(|c| {
                let conns = conns.clone();
                tokio::spawn(async move {
                    let mut sum = 0;
                    for k in keys(c, callers, n) {
                        let conns = conns.clone();
                        let v = tokio::task::spawn_blocking(move || {
                            // At most `pool_size` blocking threads run, so one is free.
                            let conn = conns.lock().unwrap().pop().expect("a free connection");
                            let v: rusqlite::Result<i64> = conn
                                .prepare_cached(QUERY)
                                .and_then(|mut s| s.query_row((k,), |row| row.get(0)));
                            conns.lock().unwrap().push(conn);
                            v
                        })
                        .await
                        .unwrap()
                        .unwrap();
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        let timing = started.stop();
        assert!(total > 0);
        timing
    })
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let reps = args.first().copied().unwrap_or(7);
    let n = args.get(1).copied().unwrap_or(10_000);
    let callers = args.get(2).copied().unwrap_or(100);
    let pool_size = args.get(3).copied().unwrap_or(4);

    let path = std::env::temp_dir().join(format!("tokio-twisted-bench-adbapi-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    {
        let mut conn = Connection::open(&path).unwrap();
        let txn = conn.transaction().unwrap();
        txn.execute_batch("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            .unwrap();
        for k in 0..ROWS {
            txn.execute("INSERT INTO kv VALUES (?1, ?2)", (k, k + 1)).unwrap();
        }
        txn.commit().unwrap();
    }
    let (mut pools, mut directs) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let t = bench_pool(&path, n, callers, pool_size);
        report("tokio-twisted", n, t, callers, pool_size);
        pools.push(t);
        let t = bench_spawn_blocking(&path, n, callers, pool_size);
        report("spawn-blocking", n, t, callers, pool_size);
        directs.push(t);
    }
    let ops = |ts: &[Timing]| median(ts.iter().map(|t| n as f64 / t.secs).collect());
    let cpu_us = |ts: &[Timing]| median(ts.iter().map(|t| t.cpu_secs * 1e6 / n as f64).collect());
    let ratio = median(pools.iter().zip(&directs).map(|(p, d)| d.secs / p.secs).collect());
    println!(
        "summary reps={reps} pool_ops_per_sec={:.0} direct_ops_per_sec={:.0} ratio={ratio:.3} \
         pool_cpu_us_per_op={:.2} direct_cpu_us_per_op={:.2}",
        ops(&pools),
        ops(&directs),
        cpu_us(&pools),
        cpu_us(&directs)
    );
    let _ = std::fs::remove_file(&path);
}
