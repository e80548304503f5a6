// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs

//! The errors a [`ConnectionPool`](super::ConnectionPool) reports besides the driver's own.

use std::error::Error as StdError;
use std::fmt;

use crate::failure::Failure;

/// A database connection broke while a call was using it: Twisted's
/// `adbapi.ConnectionLost`.
///
/// Only a pool built with [`reconnect`](super::ConnectionPoolBuilder::reconnect) reports
/// it: when a call fails, the pool checks its connection with the backend's
/// [`ping`](super::Backend::ping); if that fails too, the connection is closed, the next
/// call opens a new one, and the failing call fails with this error, whose
/// [`cause`](Self::cause) (also its `source()`) is the call's original error. The call is
/// not retried: it may have had effects, so whether to send it again is the caller's
/// decision.
///
/// ```
/// use std::error::Error;
/// use tokio_twisted::adbapi::ConnectionLost;
/// use tokio_twisted::failure::Failure;
///
/// let lost = ConnectionLost::new(Failure::msg("server closed the connection"));
/// assert_eq!(lost.to_string(), "database connection lost");
/// assert_eq!(lost.cause().error_message(), "server closed the connection");
/// assert!(lost.source().is_some());
/// ```
#[doc(alias = "twisted.enterprise.adbapi.ConnectionLost")]
#[derive(Debug, Clone)]
pub struct ConnectionLost {
    cause: Failure,
}

impl ConnectionLost {
    /// A `ConnectionLost` caused by `cause`.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::ConnectionLost;
    /// # use tokio_twisted::failure::Failure;
    /// let lost = ConnectionLost::new(Failure::msg("eof"));
    /// assert_eq!(lost.cause().error_message(), "eof");
    /// ```
    pub fn new(cause: Failure) -> Self {
        ConnectionLost { cause }
    }

    /// The error the call failed with before the connection was found broken.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::ConnectionLost;
    /// # use tokio_twisted::failure::Failure;
    /// assert!(ConnectionLost::new(Failure::msg("x")).cause().check::<tokio_twisted::failure::MessageError>());
    /// ```
    pub fn cause(&self) -> &Failure {
        &self.cause
    }
}

impl fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database connection lost")
    }
}

impl StdError for ConnectionLost {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.cause.as_error())
    }
}

/// The pool is closed: the call was made after [`close`](super::ConnectionPool::close)
/// (or the reactor's shutdown, which closes it), or was still waiting for a connection
/// when the pool closed.
///
/// Twisted's pool returns Deferreds that never fire in these cases; here they fail with
/// this error, so nothing waits forever.
///
/// ```
/// use tokio_twisted::adbapi::{ConnectionPool, PoolClosed, Sqlite};
/// use tokio_twisted::testing::failure_result_of;
///
/// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
/// pool.close();
/// let d = pool.run_operation("CREATE TABLE t (x INTEGER)", ());
/// assert!(failure_result_of(d).check::<PoolClosed>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("connection pool is closed")]
pub struct PoolClosed;

/// A pool was configured with a maximum of zero connections, so no call could ever run
/// (Twisted's pool would queue every call forever).
///
/// ```
/// use tokio_twisted::adbapi::{ConnectionPool, Sqlite, ZeroConnections};
///
/// let err = ConnectionPool::builder(Sqlite::open(":memory:")).max(0).build().unwrap_err();
/// assert_eq!(err, ZeroConnections);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("a connection pool needs at least one connection")]
pub struct ZeroConnections;
