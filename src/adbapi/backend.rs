// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs

//! The boundary between the pool and a database driver: [`Backend`], and the
//! [`Transaction`] an interaction works in.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A database driver as the pool sees it: how to open a connection, delimit a
/// transaction, check that a connection still works, and close it. This is the part of a
/// DB-API module Twisted's `ConnectionPool` uses (`connect`, `commit`, `rollback`, `close`
/// and the `good_sql` check).
///
/// Every method runs on one of the pool's threads and may block. A driver is one small
/// module: implement these methods for a value that holds the connection parameters, and
/// the pool's [`run_interaction`](super::ConnectionPool::run_interaction) and
/// [`run_with_connection`](super::ConnectionPool::run_with_connection) work with it; the
/// built-in drivers add `run_query` and `run_operation` over those (see
/// [`Sqlite`](super::Sqlite)).
///
/// ```
/// use tokio_twisted::adbapi::{Backend, ConnectionPool};
/// use tokio_twisted::testing::success_result_of;
///
/// /// A "database" that is a list of strings.
/// struct Notes;
///
/// impl Backend for Notes {
///     type Connection = Vec<String>;
///     type Error = std::io::Error;
///     fn connect(&self) -> Result<Vec<String>, std::io::Error> { Ok(Vec::new()) }
///     fn begin(&self, _: &mut Vec<String>) -> Result<(), std::io::Error> { Ok(()) }
///     fn commit(&self, _: &mut Vec<String>) -> Result<(), std::io::Error> { Ok(()) }
///     fn rollback(&self, notes: &mut Vec<String>) -> Result<(), std::io::Error> {
///         notes.clear();
///         Ok(())
///     }
/// }
///
/// let pool = ConnectionPool::builder(Notes).max(1).build().unwrap();
/// let d = pool.run_interaction(|notes| { notes.push("hello".into()); Ok(notes.len()) });
/// assert_eq!(futures::executor::block_on(d).unwrap(), 1);
/// pool.close();
/// ```
#[doc(alias = "dbapi")]
#[doc(alias = "dbapiName")]
pub trait Backend: Send + Sync + 'static {
    /// An open connection; it stays on the pool thread that opened it.
    type Connection: Send + 'static;
    /// The driver's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Opens a connection (DB-API `connect`).
    ///
    /// # Errors
    ///
    /// The driver's error; the call that needed the connection fails with it.
    fn connect(&self) -> Result<Self::Connection, Self::Error>;

    /// Starts a transaction on `conn`, before an interaction runs.
    ///
    /// # Errors
    ///
    /// The driver's error; the interaction does not run.
    fn begin(&self, conn: &mut Self::Connection) -> Result<(), Self::Error>;

    /// Commits the transaction [`begin`](Self::begin) started.
    ///
    /// # Errors
    ///
    /// The driver's error; the interaction fails with it.
    fn commit(&self, conn: &mut Self::Connection) -> Result<(), Self::Error>;

    /// Rolls back the open transaction, if any: after a failed interaction, or a failed
    /// [`run_with_connection`](super::ConnectionPool::run_with_connection) function.
    ///
    /// # Errors
    ///
    /// The driver's error; it is logged and the call fails with its own error.
    fn rollback(&self, conn: &mut Self::Connection) -> Result<(), Self::Error>;

    /// Checks that `conn` still works, as Twisted runs `good_sql` (`select 1`). The pool
    /// asks only when it was built with
    /// [`reconnect`](super::ConnectionPoolBuilder::reconnect) and a call failed. The
    /// default says yes.
    ///
    /// # Errors
    ///
    /// Any error means the connection is broken: it is closed and replaced.
    fn ping(&self, conn: &mut Self::Connection) -> Result<(), Self::Error> {
        let _ = conn;
        Ok(())
    }

    /// Whether `conn` is known to be closed without asking the server (a local flag, no
    /// round trip). A pool built with
    /// [`reconnect`](super::ConnectionPoolBuilder::reconnect) asks before each call and
    /// replaces a closed connection first. The default says no.
    fn is_closed(&self, conn: &Self::Connection) -> bool {
        let _ = conn;
        false
    }

    /// Closes a connection, when the pool closes or replaces it. The default drops it.
    ///
    /// # Errors
    ///
    /// The driver's error; it is logged.
    fn close(&self, conn: Self::Connection) -> Result<(), Self::Error> {
        drop(conn);
        Ok(())
    }
}

/// The connection an interaction works with, inside a transaction the pool commits when
/// the interaction returns `Ok` and rolls back when it returns `Err` or panics: Twisted's
/// `adbapi.Transaction`, which wraps a cursor. It dereferences to the driver's connection
/// (a `rusqlite::Connection` for [`Sqlite`](super::Sqlite)), so every method of the driver
/// works on it, with its own typed parameters and rows.
///
/// ```
/// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
///
/// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
/// let n = pool.run_interaction(|txn| {
///     // `txn` is a `Transaction<Sqlite>`: a `rusqlite::Connection` in a transaction.
///     let n: i64 = txn.query_row("SELECT 6 * 7", [], |row| row.get(0))?;
///     Ok(n)
/// });
/// assert_eq!(futures::executor::block_on(n).unwrap(), 42);
/// pool.close();
/// ```
#[doc(alias = "twisted.enterprise.adbapi.Transaction")]
pub struct Transaction<'a, B: Backend> {
    conn: &'a mut B::Connection,
}

impl<'a, B: Backend> Transaction<'a, B> {
    pub(super) fn new(conn: &'a mut B::Connection) -> Self {
        Transaction { conn }
    }
}

impl<B: Backend> Deref for Transaction<'_, B> {
    type Target = B::Connection;
    fn deref(&self) -> &B::Connection {
        self.conn
    }
}

impl<B: Backend> DerefMut for Transaction<'_, B> {
    fn deref_mut(&mut self) -> &mut B::Connection {
        self.conn
    }
}

impl<B: Backend> fmt::Debug for Transaction<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("backend", &std::any::type_name::<B>())
            .finish_non_exhaustive()
    }
}
