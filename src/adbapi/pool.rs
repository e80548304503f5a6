// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs

//! `ConnectionPool`: blocking database calls on a pool of threads, each result a Deferred.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::defer::Deferred;
use crate::failure::Failure;
use crate::lock::lock;
use crate::reactor::ReactorHandle;

use super::backend::{Backend, Transaction};
use super::errors::{ConnectionLost, ZeroConnections};
use super::workers::{Conn, Inner, Job, OpenFun, Phase, refused};

/// A pool of database connections, each on a thread of its own, running blocking
/// database calls and returning [`Deferred`]s: Twisted's `adbapi.ConnectionPool`.
///
/// - [`run_interaction`](Self::run_interaction) runs a function in a transaction,
///   committed when it returns `Ok`, rolled back when it returns `Err` or panics;
/// - [`run_with_connection`](Self::run_with_connection) hands a function the bare
///   connection;
/// - each driver adds `run_query` (rows through a typed mapping closure) and
///   `run_operation` (no rows), as [`Sqlite`](super::Sqlite) does.
///
/// Built with a reactor ([`ConnectionPoolBuilder::reactor`]), the pool starts its threads
/// when the reactor starts running, closes in the reactor's "during shutdown" phase, and
/// fires every Deferred on the reactor thread, as `defer_to_thread` does. Without one
/// (in a plain Tokio app, say) it starts on its first call, its Deferreds fire on the
/// pool's threads, and an `async fn` awaits them; the pool and its Deferreds are `Send`.
///
/// Each thread opens its connection when it first needs one, runs the on-connect hook
/// ([`ConnectionPoolBuilder::on_connect`], Twisted's `cp_openfun`) on it, and keeps it
/// until the pool closes. Clones share one pool. Dropping the last clone lets the threads
/// finish the queued calls and exit; [`close`](Self::close) is the orderly way.
///
/// Differences from Twisted: a call made after `close` (or one still queued when the pool
/// closes) fails with [`PoolClosed`](super::PoolClosed) instead of never firing; with
/// [`reconnect`](ConnectionPoolBuilder::reconnect), a call that broke its connection fails
/// with [`ConnectionLost`] (carrying the original error) where Twisted re-raises the
/// original error and only logs `ConnectionLost`.
///
/// ```
/// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
/// let answer = pool
///     .run_query("SELECT ?1 * 2", (21,), |row| row.get::<_, i64>(0))
///     .await
///     .unwrap();
/// assert_eq!(answer, [42]);
/// let err = pool.run_query("SELECT * FROM nowhere", (), |row| row.get::<_, i64>(0)).await;
/// assert!(err.unwrap_err().check::<rusqlite::Error>());
/// pool.close();
/// # });
/// ```
#[doc(alias = "twisted.enterprise.adbapi.ConnectionPool")]
pub struct ConnectionPool<B: Backend> {
    owner: Arc<Owner<B>>,
}

impl<B: Backend> Clone for ConnectionPool<B> {
    fn clone(&self) -> Self {
        ConnectionPool {
            owner: Arc::clone(&self.owner),
        }
    }
}

/// Releases the pool when the last handle goes away; the threads only hold `Inner`.
struct Owner<B: Backend> {
    inner: Arc<Inner<B>>,
}

impl<B: Backend> Drop for Owner<B> {
    fn drop(&mut self) {
        self.inner.release();
    }
}

/// Configures a [`ConnectionPool`]: Twisted's `cp_*` keyword arguments.
///
/// ```
/// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
///
/// let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
///     .min(1)
///     .max(4)
///     .reconnect()
///     .on_connect(|conn| { conn.execute_batch("PRAGMA foreign_keys = ON")?; Ok(()) })
///     .build()
///     .unwrap();
/// assert_eq!((pool.min(), pool.max()), (1, 4));
/// # pool.close();
/// ```
pub struct ConnectionPoolBuilder<B: Backend> {
    backend: B,
    min: usize,
    max: usize,
    reconnect: bool,
    openfun: Option<OpenFun<B>>,
    name: Option<String>,
    reactor: Option<ReactorHandle>,
}

impl<B: Backend> ConnectionPoolBuilder<B> {
    /// The number of threads (and connections) the pool keeps once started (Twisted's
    /// `cp_min`, default 3). It is lowered to the maximum if larger.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).min(9).max(2).build().unwrap();
    /// assert_eq!((pool.min(), pool.max()), (2, 2));
    /// ```
    #[doc(alias = "cp_min")]
    #[must_use]
    pub fn min(mut self, min: usize) -> Self {
        self.min = min;
        self
    }

    /// The most threads (and connections) the pool runs at once (Twisted's `cp_max`,
    /// default 5). It must be at least one.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).max(1).build().unwrap();
    /// assert_eq!(pool.max(), 1);
    /// ```
    #[doc(alias = "cp_max")]
    #[must_use]
    pub fn max(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Replaces connections that break (Twisted's `cp_reconnect=True`): when a call fails
    /// and the backend's [`ping`](Backend::ping) fails too, the connection is closed, the
    /// call fails with [`ConnectionLost`], and the next call opens a new connection. A
    /// connection found broken before an interaction starts is replaced at once (the
    /// interaction has not run, so nothing is repeated).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).reconnect().build().unwrap();
    /// assert!(pool.reconnects());
    /// ```
    #[doc(alias = "cp_reconnect")]
    #[must_use]
    pub fn reconnect(mut self) -> Self {
        self.reconnect = true;
        self
    }

    /// Runs `f` on every new connection before its first use (Twisted's `cp_openfun`), to
    /// set per-connection state. If it fails or panics, the connection is closed and the
    /// call that needed it fails with that error.
    ///
    /// ```
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    ///
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:"))
    ///     .on_connect(|conn| { conn.execute_batch("CREATE TABLE t (x)")?; Ok(()) })
    ///     .build()
    ///     .unwrap();
    /// let rows = pool.run_query("SELECT count(*) FROM t", (), |row| row.get::<_, i64>(0));
    /// assert_eq!(futures::executor::block_on(rows).unwrap(), [0]);
    /// # pool.close();
    /// ```
    #[doc(alias = "cp_openfun")]
    #[must_use]
    pub fn on_connect<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut B::Connection) -> Result<(), Failure> + Send + Sync + 'static,
    {
        self.openfun = Some(Arc::new(f));
        self
    }

    /// Names the pool's threads (Twisted's `cp_name`); the default is `adbapi`.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).name("users-db").build().unwrap();
    /// let thread = pool.run_with_connection(|_| Ok(std::thread::current().name().map(String::from)));
    /// assert!(futures::executor::block_on(thread).unwrap().unwrap().starts_with("users-db-"));
    /// # pool.close();
    /// ```
    #[doc(alias = "cp_name")]
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Ties the pool to a reactor (Twisted's `cp_reactor`): it starts when the reactor
    /// runs (calls made before wait), closes during its shutdown, and fires its Deferreds
    /// on the reactor thread.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).reactor(&reactor.handle()).build().unwrap();
    /// let reactor_thread = std::thread::current().id();
    /// let handle = reactor.handle();
    /// let d = pool.run_query("SELECT 1", (), |row| row.get::<_, i64>(0)).add_callback(move |rows| {
    ///     assert_eq!(std::thread::current().id(), reactor_thread);
    ///     handle.stop()?;
    ///     Ok(rows)
    /// });
    /// assert!(!pool.running()); // until the reactor runs
    /// reactor.run().unwrap();
    /// assert_eq!(d.result().unwrap().unwrap(), [1]);
    /// assert!(!pool.running()); // closed during shutdown
    /// ```
    #[doc(alias = "cp_reactor")]
    #[must_use]
    pub fn reactor(mut self, reactor: &ReactorHandle) -> Self {
        self.reactor = Some(reactor.clone());
        self
    }

    /// Builds the pool. With a reactor it registers to start when the reactor runs;
    /// otherwise it starts on its first call (or [`start`](ConnectionPool::start)).
    ///
    /// # Errors
    ///
    /// [`ZeroConnections`] if the maximum is zero.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite, ZeroConnections};
    /// assert!(ConnectionPool::builder(Sqlite::open(":memory:")).build().is_ok());
    /// assert_eq!(ConnectionPool::builder(Sqlite::open(":memory:")).max(0).build().unwrap_err(), ZeroConnections);
    /// ```
    pub fn build(self) -> Result<ConnectionPool<B>, ZeroConnections> {
        if self.max == 0 {
            return Err(ZeroConnections);
        }
        let min = self.min.min(self.max);
        let inner = Arc::new(Inner::new(
            self.backend,
            min,
            self.max,
            self.reconnect,
            self.openfun,
            self.name.unwrap_or_else(|| "adbapi".to_owned()),
            self.reactor.clone(),
        ));
        if let Some(reactor) = &self.reactor {
            let weak = Arc::downgrade(&inner);
            // Refused (`Err`) once the reactor was stopped: it will never run, and neither
            // does the pool's start.
            let id = reactor
                .call_when_running(move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.start();
                    }
                })
                .ok()
                .flatten();
            let mut st = lock(&inner.state);
            if st.phase == Phase::Waiting {
                st.start_trigger = id;
            }
        }
        Ok(ConnectionPool {
            owner: Arc::new(Owner { inner }),
        })
    }
}

impl<B: Backend> ConnectionPool<B> {
    /// A pool with Twisted's defaults (3 to 5 connections, no reconnecting), without a
    /// reactor.
    ///
    /// # Errors
    ///
    /// None with the defaults; the `Result` is [`ConnectionPoolBuilder::build`]'s.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
    /// assert_eq!((pool.min(), pool.max()), (3, 5));
    /// ```
    pub fn new(backend: B) -> Result<ConnectionPool<B>, ZeroConnections> {
        Self::builder(backend).build()
    }

    /// A builder for a pool over `backend`, with Twisted's defaults.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).max(2).build().unwrap();
    /// assert_eq!(pool.max(), 2);
    /// ```
    pub fn builder(backend: B) -> ConnectionPoolBuilder<B> {
        ConnectionPoolBuilder {
            backend,
            min: 3,
            max: 5,
            reconnect: false,
            openfun: None,
            name: None,
            reactor: None,
        }
    }

    fn inner(&self) -> &Arc<Inner<B>> {
        &self.owner.inner
    }

    /// The backend the pool connects with.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::new(Sqlite::open("app.db")).unwrap();
    /// assert_eq!(pool.backend().path(), std::path::Path::new("app.db"));
    /// ```
    pub fn backend(&self) -> &B {
        &self.inner().backend
    }

    /// The number of threads kept once started (`cp_min`).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// assert_eq!(ConnectionPool::new(Sqlite::open(":memory:")).unwrap().min(), 3);
    /// ```
    pub fn min(&self) -> usize {
        self.inner().min
    }

    /// The most threads run at once (`cp_max`).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// assert_eq!(ConnectionPool::new(Sqlite::open(":memory:")).unwrap().max(), 5);
    /// ```
    pub fn max(&self) -> usize {
        self.inner().max
    }

    /// Whether broken connections are replaced (`cp_reconnect`).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// assert!(!ConnectionPool::new(Sqlite::open(":memory:")).unwrap().reconnects());
    /// ```
    pub fn reconnects(&self) -> bool {
        self.inner().reconnect
    }

    /// Whether the pool is started and not closed (Twisted's `running`).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
    /// assert!(!pool.running());
    /// pool.start();
    /// assert!(pool.running());
    /// pool.close();
    /// assert!(!pool.running());
    /// ```
    pub fn running(&self) -> bool {
        lock(&self.inner().state).phase == Phase::Started
    }

    /// How many threads the pool has now (each holds at most one connection).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).min(2).build().unwrap();
    /// assert_eq!(pool.thread_count(), 0);
    /// pool.start();
    /// assert_eq!(pool.thread_count(), 2);
    /// pool.close();
    /// assert_eq!(pool.thread_count(), 0);
    /// ```
    pub fn thread_count(&self) -> usize {
        self.inner().workers()
    }

    /// Starts the threads now (Twisted's `start`); needed only to start early, since a
    /// pool starts with its reactor or on its first call. With a reactor, it also
    /// registers the pool to close during the reactor's shutdown. A closed pool stays
    /// closed.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
    /// pool.start();
    /// assert_eq!(pool.thread_count(), 3);
    /// # pool.close();
    /// ```
    pub fn start(&self) {
        self.inner().start();
    }

    /// Closes the pool (Twisted's `close`): calls made from now on, and calls still
    /// queued, fail with [`PoolClosed`](super::PoolClosed); calls in progress finish and
    /// deliver their results; the threads close their connections and are joined (so this
    /// waits for the calls in progress). The pool's reactor triggers are removed. Closing
    /// again does nothing.
    ///
    /// ```
    /// use tokio_twisted::adbapi::{ConnectionPool, PoolClosed, Sqlite};
    /// use tokio_twisted::testing::failure_result_of;
    ///
    /// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
    /// let done = pool.run_query("SELECT 1", (), |row| row.get::<_, i64>(0));
    /// pool.close();
    /// // Finished before the close, or refused by it: never left waiting.
    /// let result = futures::executor::block_on(done);
    /// assert!(result.as_ref().is_ok_and(|rows| rows == &[1]) || result.unwrap_err().check::<PoolClosed>());
    /// assert!(failure_result_of(pool.run_operation("SELECT 1", ())).check::<PoolClosed>());
    /// ```
    #[doc(alias = "finalClose")]
    pub fn close(&self) {
        self.inner().close();
    }

    /// Runs `interaction` on a pool thread inside a transaction and returns a Deferred of
    /// its result: Twisted's `runInteraction`.
    ///
    /// The transaction is committed when `interaction` returns `Ok`, and rolled back when
    /// it returns `Err` or panics (the panic becomes the Deferred's failure). A failed
    /// rollback is logged and the call fails with the interaction's own error. With
    /// [`reconnect`](ConnectionPoolBuilder::reconnect), a failure that left the connection
    /// broken is reported as [`ConnectionLost`].
    ///
    /// ```
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    /// use tokio_twisted::failure::Failure;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).max(1).build().unwrap();
    /// pool.run_operation("CREATE TABLE users (name TEXT)", ()).await.unwrap();
    /// // Fails half-way: the insert is rolled back.
    /// let failed = pool
    ///     .run_interaction(|txn| {
    ///         txn.execute("INSERT INTO users VALUES (?1)", ("alice",))?;
    ///         Err::<(), _>(Failure::msg("changed my mind"))
    ///     })
    ///     .await;
    /// assert_eq!(failed.unwrap_err().error_message(), "changed my mind");
    /// let count = pool.run_interaction(|txn| {
    ///     txn.execute("INSERT INTO users VALUES (?1)", ("bob",))?;
    ///     Ok(txn.query_row("SELECT count(*) FROM users", [], |row| row.get::<_, i64>(0))?)
    /// });
    /// assert_eq!(count.await.unwrap(), 1);
    /// # pool.close();
    /// # });
    /// ```
    #[doc(alias = "runInteraction")]
    pub fn run_interaction<T, F>(&self, interaction: F) -> Deferred<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Transaction<'_, B>) -> Result<T, Failure> + Send + 'static,
    {
        self.call(move |inner, conn| run_interaction(inner, conn, interaction))
    }

    /// Runs `f` on a pool thread with the bare connection and returns a Deferred of its
    /// result: Twisted's `runWithConnection`.
    ///
    /// Twisted commits after the function and rolls back when it raises, because DB-API
    /// connections are always in a transaction. The drivers here are in autocommit mode
    /// and have transaction objects of their own, so `f` manages its transactions itself
    /// (a driver transaction left uncommitted rolls back when dropped, even by a panic).
    /// When `f` fails, the backend's [`rollback`](Backend::rollback) still runs to end
    /// anything left open, and with [`reconnect`](ConnectionPoolBuilder::reconnect) a
    /// broken connection is replaced and reported as [`ConnectionLost`].
    ///
    /// ```
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    ///
    /// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
    /// let d = pool.run_with_connection(|conn| {
    ///     let txn = conn.transaction()?; // rusqlite's own transaction
    ///     txn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);")?;
    ///     let n: i64 = txn.query_row("SELECT sum(x) FROM t", [], |row| row.get(0))?;
    ///     txn.commit()?;
    ///     Ok(n)
    /// });
    /// assert_eq!(futures::executor::block_on(d).unwrap(), 3);
    /// # pool.close();
    /// ```
    #[doc(alias = "runWithConnection")]
    pub fn run_with_connection<T, F>(&self, f: F) -> Deferred<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut B::Connection) -> Result<T, Failure> + Send + 'static,
    {
        self.call(move |inner, conn| {
            let c = conn.get(inner)?;
            let result = catch_unwind(AssertUnwindSafe(|| f(c)))
                .unwrap_or_else(|panic| Err(Failure::from_panic(panic)));
            match result {
                Ok(v) => Ok(v),
                Err(failure) => Err(after_failure(inner, conn, failure)),
            }
        })
    }

    /// Queues `work` for a pool thread; its result (or [`PoolClosed`](super::PoolClosed))
    /// fires the returned Deferred, on the reactor thread when the pool has a reactor.
    pub(super) fn call<T, F>(&self, work: F) -> Deferred<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner<B>, &mut Conn<B>) -> Result<T, Failure> + Send + 'static,
    {
        let (d, resolver) = Deferred::new();
        let job: Job<B> = Box::new(move |inner, conn| {
            let result = match conn {
                Some(conn) => work(inner, conn),
                None => Err(refused()),
            };
            inner.deliver(Box::new(move || {
                // Refused only if the Deferred was cancelled: the late result is dropped.
                let _ = resolver.resolve(result);
            }));
        });
        self.inner().submit(job);
        d
    }
}

fn run_interaction<B, T, F>(inner: &Inner<B>, conn: &mut Conn<B>, interaction: F) -> Result<T, Failure>
where
    B: Backend,
    F: FnOnce(&mut Transaction<'_, B>) -> Result<T, Failure>,
{
    if let Err(e) = inner.backend.begin(conn.get(inner)?) {
        // Twisted reopens a cursor that cannot be created on a fresh connection: the
        // interaction has not run, so nothing is repeated.
        if !inner.reconnect {
            return Err(Failure::new(e));
        }
        inner.log("connection lost, reconnecting", Failure::new(e));
        conn.discard(inner);
        inner.backend.begin(conn.get(inner)?).map_err(Failure::new)?;
    }
    let c = conn.get(inner)?;
    let result = catch_unwind(AssertUnwindSafe(|| interaction(&mut Transaction::new(c))))
        .unwrap_or_else(|panic| Err(Failure::from_panic(panic)));
    let result = result.and_then(|v| inner.backend.commit(c).map(|()| v).map_err(Failure::new));
    result.map_err(|failure| after_failure(inner, conn, failure))
}

/// After a failed call: rolls back (logging a failed rollback), then, when reconnecting,
/// replaces a connection that no longer works and reports [`ConnectionLost`].
pub(super) fn after_failure<B: Backend>(inner: &Inner<B>, conn: &mut Conn<B>, failure: Failure) -> Failure {
    let Some(c) = conn.current() else {
        return failure; // it never connected: nothing to roll back or replace
    };
    // As Twisted's reconnecting rollback: a rollback or a check that fails means the
    // connection is gone.
    let lost = match inner.backend.rollback(c) {
        Err(e) => {
            inner.log("rollback failed", Failure::new(e));
            inner.reconnect
        }
        Ok(()) if inner.reconnect => match inner.backend.ping(c) {
            Err(e) => {
                inner.log("connection check failed", Failure::new(e));
                true
            }
            Ok(()) => false,
        },
        Ok(()) => false,
    };
    if lost {
        conn.discard(inner);
        return Failure::new(ConnectionLost::new(failure));
    }
    failure
}

impl<B: Backend> fmt::Debug for ConnectionPool<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner();
        let st = lock(&inner.state);
        f.debug_struct("ConnectionPool")
            .field("name", &inner.name)
            .field("phase", &st.phase)
            .field("min", &inner.min)
            .field("max", &inner.max)
            .field("reconnect", &inner.reconnect)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> fmt::Debug for ConnectionPoolBuilder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPoolBuilder")
            .field("min", &self.min)
            .field("max", &self.max)
            .field("reconnect", &self.reconnect)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
