// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs, benches/adbapi.rs

//! Asynchronous database access over threads: Twisted's `twisted.enterprise.adbapi`.
//!
//! Database drivers block, and the reactor thread must not. A [`ConnectionPool`] keeps a
//! few connections, each on a thread of its own, runs calls on them and returns
//! [`Deferred`](crate::defer::Deferred)s, which callbacks chain on and `async` code
//! awaits:
//!
//! - [`ConnectionPool::run_interaction`]: a function in a transaction, committed on `Ok`,
//!   rolled back on `Err` or a panic (the function gets a [`Transaction`]);
//! - [`ConnectionPool::run_with_connection`]: a function with the bare connection;
//! - `run_query` and `run_operation` for each built-in driver: one statement, with the
//!   driver's typed parameters, rows made by a typed closure.
//!
//! A driver is a [`Backend`]. [`Sqlite`] (SQLite compiled in, through `rusqlite`) is the
//! default; `Postgres` (the `postgres` crate) comes with the `postgres` cargo feature.
//!
//! Errors: the driver's own (`rusqlite::Error`, ...) inside the Deferred's
//! [`Failure`](crate::failure::Failure); [`ConnectionLost`] when a call broke its
//! connection and the pool replaced it; [`PoolClosed`] for calls made after (or queued at)
//! [`close`](ConnectionPool::close); [`ZeroConnections`] for a pool configured without
//! connections. Every one leaves the pool usable (a closed pool stays closed).
//!
//! ```
//! # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
//! use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
//! use tokio_twisted::reactor::Reactor;
//!
//! let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
//! let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
//!     .max(1)
//!     .reactor(&reactor.handle()) // started when the reactor runs, closed when it stops
//!     .build()
//!     .unwrap();
//! let handle = reactor.handle();
//! let reads = pool.clone();
//! let d = pool
//!     .run_operation("CREATE TABLE finger (user TEXT PRIMARY KEY, status TEXT)", ())
//!     .add_callback({
//!         let pool = pool.clone();
//!         move |_| pool.run_operation("INSERT INTO finger VALUES (?1, ?2)", ("moshez", "happy and well"))
//!     })
//!     .add_callback(move |_| {
//!         reads.run_query("SELECT status FROM finger WHERE user = ?1", ("moshez",), |row| row.get::<_, String>(0))
//!     })
//!     .add_both(move |result| {
//!         handle.stop()?;
//!         result
//!     });
//! reactor.run().unwrap();
//! assert_eq!(d.result().unwrap().unwrap(), ["happy and well"]);
//! ```

mod backend;
mod errors;
mod pool;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
mod workers;

pub use backend::{Backend, Transaction};
pub use errors::{ConnectionLost, PoolClosed, ZeroConnections};
pub use pool::{ConnectionPool, ConnectionPoolBuilder};
#[cfg(feature = "postgres")]
pub use postgres::{PgParams, Postgres};
pub use sqlite::Sqlite;
