//! `adbapi` benchmark, printing the result lines of the shared bench harness:
//! `workload=adbapi impl=<impl> ops=<n> secs=<t> ops_per_sec=<x> callers=<c> pool=<p>`.
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
//! Both run in one process, interleaved per rep, on fresh runtimes; compare per-rep
//! ratios taken in the same session.
//!
//! ```sh
//! cargo bench --bench adbapi                 # 3 reps
//! cargo bench --bench adbapi -- REPS [N=10000] [CALLERS=100] [POOL=4]
//! ```

#![allow(clippy::cast_possible_wrap, reason = "key counts far below i64::MAX")]

use std::sync::{Arc, Mutex};
use std::time::Instant;

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

fn report(imp: &str, n: usize, secs: f64, callers: usize, pool: usize) {
    println!(
        "workload=adbapi impl={imp} ops={n} secs={secs:.6} ops_per_sec={:.1} callers={callers} pool={pool}",
        n as f64 / secs
    );
}

fn bench_pool(path: &std::path::Path, n: usize, callers: usize, pool_size: usize) -> f64 {
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
        let started = Instant::now();
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
        let secs = started.elapsed().as_secs_f64();
        assert!(total > 0);
        pool.close();
        secs
    })
}

fn bench_spawn_blocking(path: &std::path::Path, n: usize, callers: usize, pool_size: usize) -> f64 {
    let rt = runtime(pool_size);
    rt.block_on(async {
        let conns: Vec<Connection> = (0..pool_size).map(|_| Connection::open(path).unwrap()).collect();
        for c in &conns {
            c.prepare_cached(QUERY).unwrap();
        }
        let conns = Arc::new(Mutex::new(conns));
        let started = Instant::now();
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
        let secs = started.elapsed().as_secs_f64();
        assert!(total > 0);
        secs
    })
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let reps = args.first().copied().unwrap_or(3);
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
    for _ in 0..reps {
        let secs = bench_pool(&path, n, callers, pool_size);
        report("tokio-twisted", n, secs, callers, pool_size);
        let secs = bench_spawn_blocking(&path, n, callers, pool_size);
        report("spawn-blocking", n, secs, callers, pool_size);
    }
    let _ = std::fs::remove_file(&path);
}
