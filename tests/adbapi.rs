//! `adbapi`: the connection pool over SQLite (and PostgreSQL with the `postgres` feature
//! and a server), on a reactor and from plain Tokio code, including its bad inputs and a
//! shutdown with a thousand queries in flight. Every test is time-bounded.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_twisted::adbapi::{ConnectionLost, ConnectionPool, PoolClosed, Sqlite, ZeroConnections};
use tokio_twisted::defer::Deferred;
use tokio_twisted::failure::{Failure, MessageError};
use tokio_twisted::testing::{LoggedErrors, failure_result_of};

use common::db::TempDb;
use common::db::fake::Fake;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A pool over a fresh database file with a `users` table.
async fn users_pool(db: &TempDb, max: usize) -> ConnectionPool<Sqlite> {
    let pool = ConnectionPool::builder(Sqlite::open(db.path()))
        .max(max)
        // Tests need no durability: no sync to disk per statement.
        .on_connect(|conn| Ok(conn.execute_batch("PRAGMA synchronous = OFF")?))
        .build()
        .unwrap();
    pool.run_operation(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, avatar BLOB)",
        (),
    )
    .await
    .unwrap();
    pool
}

fn count_users(pool: &ConnectionPool<Sqlite>) -> Deferred<Vec<i64>> {
    pool.run_query("SELECT count(*) FROM users", (), |row| row.get(0))
}

#[test]
fn typed_parameters_and_rows_round_trip() {
    common::bounded("typed_parameters_and_rows_round_trip", || {
        rt().block_on(async {
            let db = TempDb::new("typed");
            let pool = users_pool(&db, 2).await;
            let changed = pool
                .run_operation(
                    "INSERT INTO users VALUES (?1, ?2, ?3, ?4), (?5, ?6, NULL, NULL)",
                    (1, "glyph".to_owned(), 9.5, vec![1_u8, 2, 3], 2, "exarkun"),
                )
                .await
                .unwrap();
            assert_eq!(changed, 2);
            let rows = pool
                .run_query(
                    "SELECT id, name, score, avatar FROM users ORDER BY id",
                    (),
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, Option<f64>>(2)?,
                            row.get::<_, Option<Vec<u8>>>(3)?,
                        ))
                    },
                )
                .await
                .unwrap();
            assert_eq!(
                rows,
                [
                    (1, "glyph".to_owned(), Some(9.5), Some(vec![1, 2, 3])),
                    (2, "exarkun".to_owned(), None, None)
                ]
            );
            let by_iter = pool
                .run_query(
                    "SELECT name FROM users WHERE id IN (?1, ?2)",
                    rusqlite::params_from_iter(vec![2, 3]),
                    |row| row.get::<_, String>(0),
                )
                .await
                .unwrap();
            assert_eq!(by_iter, ["exarkun"]);
            pool.close();
        });
    });
}

#[test]
fn sql_errors_are_typed_and_leave_the_pool_usable() {
    common::bounded("sql_errors_are_typed_and_leave_the_pool_usable", || {
        rt().block_on(async {
            let db = TempDb::new("sqlerr");
            let pool = users_pool(&db, 1).await;
            let missing = pool.run_query("SELECT * FROM nowhere", (), |row| row.get::<_, i64>(0)).await;
            assert!(missing.unwrap_err().check::<rusqlite::Error>());
            let syntax = pool.run_operation("DELETEXXX FROM users", ()).await.unwrap_err();
            assert!(syntax.error_message().contains("syntax error"), "{syntax}");
            let constraint = pool.run_operation("INSERT INTO users (id) VALUES (1)", ()).await;
            assert!(matches!(
                constraint.unwrap_err().downcast_ref::<rusqlite::Error>(),
                Some(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation
            ));
            // The same (only) connection still works.
            assert_eq!(count_users(&pool).await.unwrap(), [0]);
            pool.close();
        });
    });
}

#[test]
fn an_interaction_commits_on_ok_and_rolls_back_on_err_or_panic() {
    common::bounded(
        "an_interaction_commits_on_ok_and_rolls_back_on_err_or_panic",
        || {
            rt().block_on(async {
                let db = TempDb::new("txn");
                let pool = users_pool(&db, 1).await;
                let failed = pool
                    .run_interaction(|txn| {
                        txn.execute("INSERT INTO users (id, name) VALUES (1, 'a')", ())?;
                        Err::<(), _>(Failure::msg("no"))
                    })
                    .await
                    .unwrap_err();
                assert!(failed.check::<MessageError>());
                let panicked = pool
                    .run_interaction(|txn| -> Result<(), Failure> {
                        txn.execute("INSERT INTO users (id, name) VALUES (2, 'b')", ())?;
                        panic!("interaction exploded");
                    })
                    .await
                    .unwrap_err();
                assert!(panicked.is_panic());
                assert!(panicked.error_message().contains("interaction exploded"));
                assert_eq!(count_users(&pool).await.unwrap(), [0], "both rolled back");
                let id = pool
                    .run_interaction(|txn| {
                        txn.execute("INSERT INTO users (id, name) VALUES (3, 'c')", ())?;
                        txn.execute("INSERT INTO users (id, name) VALUES (4, 'd')", ())?;
                        Ok(txn.last_insert_rowid())
                    })
                    .await
                    .unwrap();
                assert_eq!(id, 4);
                assert_eq!(count_users(&pool).await.unwrap(), [2], "committed");
                // An interaction may end its transaction itself.
                pool.run_interaction(|txn| {
                    txn.execute_batch("INSERT INTO users (id, name) VALUES (5, 'e'); COMMIT;")?;
                    Ok(())
                })
                .await
                .unwrap();
                assert_eq!(count_users(&pool).await.unwrap(), [3]);
                pool.close();
            });
        },
    );
}

#[test]
fn run_with_connection_uses_the_drivers_own_transactions() {
    common::bounded("run_with_connection_uses_the_drivers_own_transactions", || {
        rt().block_on(async {
            let db = TempDb::new("withconn");
            let pool = users_pool(&db, 1).await;
            let err = pool
                .run_with_connection(|conn| {
                    let txn = conn.transaction()?;
                    txn.execute("INSERT INTO users (id, name) VALUES (1, 'a')", ())?;
                    Err::<(), _>(Failure::msg("dropped, so rolled back"))
                })
                .await
                .unwrap_err();
            assert_eq!(err.error_message(), "dropped, so rolled back");
            // A transaction begun by hand and left open is rolled back after a failure.
            let err = pool
                .run_with_connection(|conn| {
                    conn.execute_batch("BEGIN; INSERT INTO users (id, name) VALUES (2, 'b');")?;
                    Err::<(), _>(Failure::msg("left open"))
                })
                .await
                .unwrap_err();
            assert_eq!(err.error_message(), "left open");
            assert_eq!(count_users(&pool).await.unwrap(), [0]);
            pool.close();
        });
    });
}

#[test]
fn zero_connections_is_a_typed_error() {
    let err = ConnectionPool::builder(Sqlite::open(":memory:"))
        .min(0)
        .max(0)
        .build()
        .unwrap_err();
    assert_eq!(err, ZeroConnections);
    assert_eq!(err.to_string(), "a connection pool needs at least one connection");
}

#[test]
fn calls_after_close_fail_at_once_with_pool_closed() {
    common::bounded("calls_after_close_fail_at_once_with_pool_closed", || {
        let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
        pool.start();
        assert_eq!(pool.thread_count(), 3);
        pool.close();
        assert_eq!(pool.thread_count(), 0, "threads joined");
        pool.close(); // again: nothing
        assert!(failure_result_of(pool.run_operation("SELECT 1", ())).check::<PoolClosed>());
        assert!(failure_result_of(pool.run_interaction(|_| Ok(()))).check::<PoolClosed>());
        assert!(failure_result_of(pool.run_with_connection(|_| Ok(()))).check::<PoolClosed>());
        pool.start(); // a closed pool stays closed
        assert!(!pool.running());
        assert_eq!(pool.thread_count(), 0);
    });
}

#[test]
fn the_on_connect_hook_runs_once_per_connection() {
    common::bounded("the_on_connect_hook_runs_once_per_connection", || {
        rt().block_on(async {
            let opened = Arc::new(Mutex::new(Vec::new()));
            let log = opened.clone();
            let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                .min(2)
                .max(2)
                .on_connect(move |conn| {
                    conn.execute_batch("CREATE TEMP TABLE hooked (x)")?;
                    log.lock().unwrap().push(std::thread::current().id());
                    Ok(())
                })
                .build()
                .unwrap();
            let mut calls = Vec::new();
            for _ in 0..20 {
                calls.push(pool.run_query("SELECT count(*) FROM hooked", (), |row| row.get::<_, i64>(0)));
            }
            for call in calls {
                assert_eq!(call.await.unwrap(), [0]);
            }
            let mut threads = opened.lock().unwrap().clone();
            let all = threads.len();
            threads.dedup();
            threads.sort_by_key(|t| format!("{t:?}"));
            threads.dedup();
            assert_eq!(threads.len(), all, "one hook call per thread's connection");
            assert!((1..=2).contains(&all));
            pool.close();
        });
    });
}

#[test]
fn a_failing_on_connect_hook_fails_the_call_and_is_tried_again() {
    common::bounded(
        "a_failing_on_connect_hook_fails_the_call_and_is_tried_again",
        || {
            rt().block_on(async {
                let tries = Arc::new(AtomicUsize::new(0));
                let counter = tries.clone();
                let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                    .max(1)
                    .on_connect(move |_| {
                        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                            return Err(Failure::msg("charset not supported"));
                        }
                        Ok(())
                    })
                    .build()
                    .unwrap();
                let first = pool.run_operation("SELECT 1", ()).await.unwrap_err();
                assert_eq!(first.error_message(), "charset not supported");
                pool.run_query("SELECT 1", (), |row| row.get::<_, i64>(0))
                    .await
                    .unwrap();
                assert_eq!(tries.load(Ordering::SeqCst), 2);
                pool.close();
            });
        },
    );
}

#[test]
fn the_pool_runs_at_most_max_calls_at_once() {
    common::bounded("the_pool_runs_at_most_max_calls_at_once", || {
        rt().block_on(async {
            let pool = ConnectionPool::builder(Fake::default())
                .min(1)
                .max(3)
                .build()
                .unwrap();
            let now = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let mut calls = Vec::new();
            for _ in 0..60 {
                let (now, peak) = (now.clone(), peak.clone());
                calls.push(pool.run_with_connection(move |conn| {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::yield_now();
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(conn.query()?)
                }));
            }
            for call in calls {
                assert!(call.await.unwrap() < 3, "at most three connections");
            }
            assert!(peak.load(Ordering::SeqCst) <= 3);
            assert!(pool.thread_count() <= 3);
            pool.close();
        });
    });
}

#[test]
fn deferreds_fire_on_the_reactor_thread_and_the_pool_follows_the_reactor() {
    common::bounded(
        "deferreds_fire_on_the_reactor_thread_and_the_pool_follows_the_reactor",
        || {
            let reactor = common::reactor();
            let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                .min(1)
                .max(2)
                .reactor(&reactor.handle())
                .build()
                .unwrap();
            let reactor_thread = std::thread::current().id();
            let queued_before_run = pool.run_query("SELECT 41 + 1", (), |row| row.get::<_, i64>(0));
            assert!(!pool.running());
            assert_eq!(pool.thread_count(), 0, "nothing starts before the reactor runs");
            let seen = Arc::new(Mutex::new(Vec::new()));
            let log = seen.clone();
            let handle = reactor.handle();
            let checks = pool.clone();
            let d = queued_before_run.add_callback(move |rows| {
                log.lock()
                    .unwrap()
                    .push(std::thread::current().id() == reactor_thread);
                assert!(checks.running());
                assert_eq!(checks.thread_count(), 1, "cp_min threads");
                handle.stop()?;
                Ok(rows)
            });
            reactor.run().unwrap();
            assert_eq!(d.result().unwrap().unwrap(), [42]);
            assert_eq!(*seen.lock().unwrap(), [true]);
            assert!(!pool.running(), "closed during shutdown");
            assert_eq!(pool.thread_count(), 0, "threads joined during shutdown");
            assert!(failure_result_of(pool.run_operation("SELECT 1", ())).check::<PoolClosed>());
        },
    );
}

/// Issues 1,000 queries and stops the reactor in the same iteration: each Deferred fires,
/// with rows or [`PoolClosed`], before `run()` returns, and the threads are joined.
#[test]
fn shutdown_with_a_thousand_queries_in_flight() {
    common::bounded("shutdown_with_a_thousand_queries_in_flight", || {
        let db = TempDb::new("shutdown");
        {
            let mut conn = rusqlite::Connection::open(db.path()).unwrap();
            // One transaction: one sync to disk, not a hundred.
            let txn = conn.transaction().unwrap();
            txn.execute_batch("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)")
                .unwrap();
            for k in 0..100 {
                txn.execute("INSERT INTO kv VALUES (?1, ?2)", (k, k * k)).unwrap();
            }
            txn.commit().unwrap();
        }
        let reactor = common::reactor();
        let pool = ConnectionPool::builder(Sqlite::open(db.path()))
            .max(4)
            .name("shutdown1k")
            .reactor(&reactor.handle())
            .build()
            .unwrap();
        let results = Arc::new(Mutex::new(Vec::new()));
        let (issuer, sink, handle) = (pool.clone(), results.clone(), reactor.handle());
        // After the first answers arrive, so some are in progress when the stop comes.
        reactor
            .call_when_running(move || {
                let first = issuer.run_query("SELECT 1", (), |row| row.get::<_, i64>(0));
                first.add_callback(move |_| {
                    for i in 0..1000_i64 {
                        let sink = sink.clone();
                        drop(
                            issuer
                                .run_query("SELECT v FROM kv WHERE k = ?1", (i % 100,), |row| {
                                    row.get::<_, i64>(0)
                                })
                                .add_both(move |r| {
                                    sink.lock().unwrap().push((i, r));
                                    Ok(())
                                }),
                        );
                    }
                    handle.stop()?;
                    Ok(())
                })
            })
            .unwrap();
        reactor.run().unwrap();
        let results = results.lock().unwrap();
        assert_eq!(results.len(), 1000, "every Deferred fired before run() returned");
        let mut answered = 0;
        for (i, r) in results.iter() {
            match r {
                Ok(rows) => {
                    assert_eq!(rows, &[(i % 100) * (i % 100)]);
                    answered += 1;
                }
                Err(f) => assert!(f.check::<PoolClosed>(), "{f}"),
            }
        }
        assert!(answered <= 1000);
        assert_eq!(pool.thread_count(), 0, "threads joined");
        assert_eq!(live_threads_named("shutdown1k-"), 0, "no pool thread is left");
    });
}

#[test]
fn close_from_tokio_with_a_thousand_queries_in_flight() {
    common::bounded("close_from_tokio_with_a_thousand_queries_in_flight", || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                .max(4)
                .name("close1k")
                .build()
                .unwrap();
            let mut tasks = Vec::new();
            for i in 0..1000_i64 {
                let d = pool.run_query("SELECT ?1", (i,), |row| row.get::<_, i64>(0));
                tasks.push(tokio::spawn(async move { (i, d.await) }));
            }
            let closer = pool.clone();
            tokio::task::spawn_blocking(move || closer.close()).await.unwrap();
            assert_eq!(pool.thread_count(), 0);
            assert_eq!(live_threads_named("close1k-"), 0, "no pool thread is left");
            for task in tasks {
                let (i, r) = task.await.unwrap();
                match r {
                    Ok(rows) => assert_eq!(rows, [i]),
                    Err(f) => assert!(f.check::<PoolClosed>(), "{f}"),
                }
            }
        });
    });
}

#[test]
fn dropping_the_last_handle_finishes_the_queued_calls() {
    common::bounded("dropping_the_last_handle_finishes_the_queued_calls", || {
        rt().block_on(async {
            let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                .max(2)
                .build()
                .unwrap();
            let calls: Vec<_> = (0..50_i64)
                .map(|i| pool.run_query("SELECT ?1", (i,), |row| row.get::<_, i64>(0)))
                .collect();
            drop(pool);
            for (call, i) in calls.into_iter().zip(0_i64..) {
                assert_eq!(call.await.unwrap(), [i]);
            }
        });
    });
}

#[test]
fn a_broken_connection_is_replaced_and_the_call_fails_with_connection_lost() {
    common::bounded(
        "a_broken_connection_is_replaced_and_the_call_fails_with_connection_lost",
        || {
            rt().block_on(async {
                let fake = Fake::default();
                let pool = ConnectionPool::builder(fake.clone())
                    .max(1)
                    .reconnect()
                    .build()
                    .unwrap();
                assert_eq!(pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap(), 0);
                fake.break_all();
                let lost = pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap_err();
                let lost = lost.downcast_ref::<ConnectionLost>().expect("a ConnectionLost");
                assert!(
                    lost.cause().check::<std::io::Error>(),
                    "the original error is kept"
                );
                assert_eq!(
                    Fake::count(&fake.knobs.closes),
                    1,
                    "the broken connection was closed"
                );
                // Not retried; the next call gets a new connection.
                assert_eq!(pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap(), 1);
                // An ordinary error on a working connection is not a lost connection.
                let plain = pool
                    .run_with_connection(|_| Err::<(), _>(Failure::msg("bad sql")))
                    .await
                    .unwrap_err();
                assert!(!plain.check::<ConnectionLost>());
                assert_eq!(Fake::count(&fake.knobs.connects), 2);
                pool.close();
                assert_eq!(Fake::count(&fake.knobs.closes), 2);
            });
        },
    );
}

#[test]
fn without_reconnect_a_broken_connection_is_kept_and_errors_pass_through() {
    common::bounded(
        "without_reconnect_a_broken_connection_is_kept_and_errors_pass_through",
        || {
            rt().block_on(async {
                let fake = Fake::default();
                let pool = ConnectionPool::builder(fake.clone()).max(1).build().unwrap();
                pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap();
                fake.break_all();
                for _ in 0..2 {
                    let err = pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap_err();
                    assert!(err.check::<std::io::Error>());
                }
                assert_eq!(Fake::count(&fake.knobs.connects), 1);
                pool.close();
            });
        },
    );
}

#[test]
fn an_interaction_on_a_broken_connection_reconnects_before_it_runs() {
    common::bounded(
        "an_interaction_on_a_broken_connection_reconnects_before_it_runs",
        || {
            rt().block_on(async {
                let fake = Fake::default();
                let pool = ConnectionPool::builder(fake.clone())
                    .max(1)
                    .reconnect()
                    .build()
                    .unwrap();
                pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap();
                fake.break_all();
                // `begin` fails on the dead connection: replaced, then the interaction runs once.
                let ran = Arc::new(AtomicUsize::new(0));
                let runs = ran.clone();
                let id = pool
                    .run_interaction(move |txn| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok(txn.query()?)
                    })
                    .await
                    .unwrap();
                assert_eq!((id, ran.load(Ordering::SeqCst)), (1, 1));
                assert_eq!(Fake::count(&fake.knobs.commits), 1);
                // A connection known to be closed is replaced before any call.
                fake.knobs.closed_is_known.store(true, Ordering::SeqCst);
                fake.break_all();
                assert_eq!(pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap(), 2);
                pool.close();
            });
        },
    );
}

#[test]
fn the_pool_and_its_deferreds_are_send_and_work_across_tokio_tasks() {
    fn send_sync<T: Send + Sync + Clone>() {}
    fn send<T: Send>() {}
    send_sync::<ConnectionPool<Sqlite>>();
    send::<Deferred<Vec<i64>>>();
    common::bounded(
        "the_pool_and_its_deferreds_are_send_and_work_across_tokio_tasks",
        || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                    .max(2)
                    .build()
                    .unwrap();
                let tasks: Vec<_> = (0..10_i64)
                    .map(|i| {
                        let pool = pool.clone();
                        tokio::spawn(async move {
                            pool.run_query("SELECT ?1 * 2", (i,), |row| row.get::<_, i64>(0))
                                .await
                        })
                    })
                    .collect();
                for (task, i) in tasks.into_iter().zip(0_i64..) {
                    assert_eq!(task.await.unwrap().unwrap(), [i * 2]);
                }
                pool.close();
            });
        },
    );
}

#[test]
fn a_cancelled_call_still_runs_and_its_late_result_is_dropped() {
    common::bounded(
        "a_cancelled_call_still_runs_and_its_late_result_is_dropped",
        || {
            let reactor = common::reactor();
            let pool = ConnectionPool::builder(Fake::default())
                .max(1)
                .reactor(&reactor.handle())
                .build()
                .unwrap();
            let ran = Arc::new(AtomicUsize::new(0));
            let runs = ran.clone();
            let d = pool.run_with_connection(move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
            d.cancel();
            let after = pool.run_with_connection(|c| Ok(c.query()?));
            let handle = reactor.handle();
            let done = after.add_both(move |r| {
                handle.stop()?;
                r
            });
            reactor.run().unwrap();
            assert!(failure_result_of(d).check::<tokio_twisted::defer::CancelledError>());
            assert_eq!(done.result().unwrap().unwrap(), 0);
            assert_eq!(ran.load(Ordering::SeqCst), 1);
        },
    );
}

#[test]
fn a_failed_rollback_is_logged_on_the_reactor_thread() {
    common::bounded("a_failed_rollback_is_logged_on_the_reactor_thread", || {
        let reactor = common::reactor();
        let logged = LoggedErrors::capture();
        let fake = Fake::default();
        fake.knobs.fail_rollback.store(true, Ordering::SeqCst);
        let pool = ConnectionPool::builder(fake)
            .max(1)
            .reactor(&reactor.handle())
            .build()
            .unwrap();
        let handle = reactor.handle();
        let d = pool
            .run_interaction(|_| Err::<(), _>(Failure::msg("original")))
            .add_both(move |r| {
                handle.stop()?;
                Ok(r.map_err(|f| f.error_message()))
            });
        reactor.run().unwrap();
        assert_eq!(d.result().unwrap().unwrap(), Err("original".to_owned()));
        let errors = logged.flush::<std::io::Error>();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].error_message(), "problem!");
    });
}

#[test]
fn timers_keep_running_while_the_pool_works() {
    common::bounded("timers_keep_running_while_the_pool_works", || {
        let reactor = common::reactor();
        let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
            .max(1)
            .reactor(&reactor.handle())
            .build()
            .unwrap();
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        reactor.call_later(std::time::Duration::ZERO, move || {
            t.fetch_add(1, Ordering::SeqCst);
        });
        let handle = reactor.handle();
        let d = pool
            .run_query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) SELECT sum(x) FROM c", (), |row| {
                row.get::<_, i64>(0)
            })
            .add_both(move |r| {
                handle.stop()?;
                r
            });
        reactor.run().unwrap();
        assert_eq!(d.result().unwrap().unwrap(), [50_005_000]);
        assert_eq!(ticks.load(Ordering::SeqCst), 1);
    });
}

/// The threads of this process whose name starts with `prefix` (Linux names them in
/// `/proc/self/task/*/comm`, cut to 15 bytes): after a close, a pool's threads are gone,
/// not merely counted out.
fn live_threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| {
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with(prefix))
            .count()
    })
}

#[test]
fn a_panic_in_a_call_is_a_failure_and_the_connection_stays_usable() {
    common::bounded(
        "a_panic_in_a_call_is_a_failure_and_the_connection_stays_usable",
        || {
            rt().block_on(async {
                let db = TempDb::new("panics");
                let connects = Arc::new(AtomicUsize::new(0));
                let counter = connects.clone();
                let pool = ConnectionPool::builder(Sqlite::open(db.path()))
                    .max(1)
                    .on_connect(move |_| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .build()
                    .unwrap();
                pool.run_operation("CREATE TABLE t (x INTEGER)", ())
                    .await
                    .unwrap();
                pool.run_operation("INSERT INTO t VALUES (1), (2)", ())
                    .await
                    .unwrap();
                // A panic in the row mapping of a query.
                let mapped = pool
                    .run_query("SELECT x FROM t ORDER BY x", (), |row| {
                        let x: i64 = row.get(0)?;
                        assert!(x < 2, "row {x} is too big");
                        Ok(x)
                    })
                    .await
                    .unwrap_err();
                assert!(mapped.is_panic(), "{mapped}");
                assert!(mapped.error_message().contains("row 2 is too big"), "{mapped}");
                // A panic in a function given the bare connection, inside a transaction it
                // opened: the driver's transaction rolls back as the panic unwinds.
                let bare = pool
                    .run_with_connection(|conn| -> Result<(), Failure> {
                        let txn = conn.transaction()?;
                        txn.execute("DELETE FROM t", ())?;
                        panic!("half-way through");
                    })
                    .await
                    .unwrap_err();
                assert!(bare.is_panic() && bare.error_message().contains("half-way through"));
                // The one connection is still there and nothing was lost.
                let rows = pool
                    .run_query("SELECT x FROM t ORDER BY x", (), |row| row.get::<_, i64>(0))
                    .await
                    .unwrap();
                assert_eq!(rows, [1, 2]);
                assert_eq!(connects.load(Ordering::SeqCst), 1, "no reconnect was needed");
                pool.close();
            });
        },
    );
}

#[test]
fn a_panicking_on_connect_hook_fails_the_call_and_is_tried_again() {
    common::bounded(
        "a_panicking_on_connect_hook_fails_the_call_and_is_tried_again",
        || {
            rt().block_on(async {
                let fake = Fake::default();
                let tries = Arc::new(AtomicUsize::new(0));
                let counter = tries.clone();
                let pool = ConnectionPool::builder(fake.clone())
                    .max(1)
                    .on_connect(move |_| {
                        assert!(
                            counter.fetch_add(1, Ordering::SeqCst) > 0,
                            "first connection refused"
                        );
                        Ok(())
                    })
                    .build()
                    .unwrap();
                let first = pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap_err();
                assert!(first.is_panic() && first.error_message().contains("first connection refused"));
                assert_eq!(
                    Fake::count(&fake.knobs.closes),
                    1,
                    "the hooked connection was closed"
                );
                assert_eq!(pool.run_with_connection(|c| Ok(c.query()?)).await.unwrap(), 1);
                assert_eq!(tries.load(Ordering::SeqCst), 2);
                pool.close();
            });
        },
    );
}

#[test]
fn a_pool_with_no_minimum_opens_connections_on_demand() {
    common::bounded("a_pool_with_no_minimum_opens_connections_on_demand", || {
        rt().block_on(async {
            let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
                .min(0)
                .max(1)
                .name("ondemand")
                .build()
                .unwrap();
            pool.start();
            assert_eq!(pool.thread_count(), 0, "no thread before the first call");
            assert_eq!(
                pool.run_query("SELECT 1", (), |row| row.get::<_, i64>(0))
                    .await
                    .unwrap(),
                [1]
            );
            assert_eq!(pool.thread_count(), 1);
            if cfg!(target_os = "linux") {
                assert_eq!(live_threads_named("ondemand-"), 1);
            }
            pool.close();
            assert_eq!(pool.thread_count(), 0);
            assert_eq!(live_threads_named("ondemand-"), 0);
        });
    });
}

#[cfg(feature = "postgres")]
mod postgres_backend {
    use super::*;
    use tokio_twisted::adbapi::Postgres;

    fn pool(url: &str, max: usize) -> ConnectionPool<Postgres> {
        ConnectionPool::builder(Postgres::new(url).unwrap())
            .min(0)
            .max(max)
            .reconnect()
            .build()
            .unwrap()
    }

    #[test]
    fn postgres_typed_round_trip_and_transactions() {
        let Some(url) = common::db::postgres_url("postgres_typed_round_trip_and_transactions") else {
            return;
        };
        common::bounded("postgres_typed_round_trip_and_transactions", move || {
            rt().block_on(async {
                let pool = pool(&url, 2);
                pool.run_operation("DROP TABLE IF EXISTS adbapi_users", ())
                    .await
                    .unwrap();
                pool.run_operation(
                    "CREATE TABLE adbapi_users (id INT PRIMARY KEY, name TEXT NOT NULL)",
                    (),
                )
                .await
                .unwrap();
                let changed = pool
                    .run_operation(
                        "INSERT INTO adbapi_users VALUES ($1, $2), ($3, $4)",
                        (1_i32, "glyph".to_owned(), 2_i32, "hawkie"),
                    )
                    .await
                    .unwrap();
                assert_eq!(changed, 2);
                let rows = pool
                    .run_query(
                        "SELECT id, name FROM adbapi_users WHERE id > $1 ORDER BY id",
                        (0_i32,),
                        |row| Ok((row.try_get::<_, i32>(0)?, row.try_get::<_, String>(1)?)),
                    )
                    .await
                    .unwrap();
                assert_eq!(rows, [(1, "glyph".to_owned()), (2, "hawkie".to_owned())]);
                let failed = pool
                    .run_interaction(|txn| {
                        txn.execute("DELETE FROM adbapi_users", &[])?;
                        Err::<(), _>(Failure::msg("undo"))
                    })
                    .await
                    .unwrap_err();
                assert_eq!(failed.error_message(), "undo");
                let panicked = pool
                    .run_interaction(|txn| -> Result<(), Failure> {
                        txn.execute("DELETE FROM adbapi_users", &[])?;
                        panic!("boom")
                    })
                    .await
                    .unwrap_err();
                assert!(panicked.is_panic());
                let count = pool
                    .run_query("SELECT count(*) FROM adbapi_users", (), |row| {
                        row.try_get::<_, i64>(0)
                    })
                    .await
                    .unwrap();
                assert_eq!(count, [2], "rolled back");
                let bad = pool
                    .run_query("SELECT * FROM nowhere", (), |row| row.try_get::<_, i32>(0))
                    .await
                    .unwrap_err();
                assert!(bad.check::<postgres::Error>());
                assert!(!bad.check::<ConnectionLost>());
                pool.run_operation("DROP TABLE adbapi_users", ()).await.unwrap();
                pool.close();
            });
        });
    }

    #[test]
    fn postgres_a_terminated_connection_fails_with_connection_lost_and_is_replaced() {
        let Some(url) = common::db::postgres_url(
            "postgres_a_terminated_connection_fails_with_connection_lost_and_is_replaced",
        ) else {
            return;
        };
        common::bounded(
            "postgres_a_terminated_connection_fails_with_connection_lost_and_is_replaced",
            move || {
                rt().block_on(async {
                    let pool = pool(&url, 1);
                    let pid = pool
                        .run_query("SELECT pg_backend_pid()", (), |row| row.try_get::<_, i32>(0))
                        .await
                        .unwrap()[0];
                    let lost = pool
                        .run_query("SELECT pg_terminate_backend(pg_backend_pid())", (), |row| {
                            row.try_get::<_, bool>(0)
                        })
                        .await;
                    assert!(lost.unwrap_err().check::<ConnectionLost>());
                    let pid2 = pool
                        .run_query("SELECT pg_backend_pid()", (), |row| row.try_get::<_, i32>(0))
                        .await
                        .unwrap()[0];
                    assert_ne!(pid, pid2, "a new connection");
                    pool.close();
                });
            },
        );
    }
}
