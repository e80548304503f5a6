// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs

//! The embedded SQLite backend (`rusqlite`, with SQLite compiled in), and its typed
//! `run_query` and `run_operation`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Params, Row};

use crate::defer::Deferred;
use crate::failure::Failure;

use super::backend::Backend;
use super::pool::ConnectionPool;

/// SQLite through `rusqlite`: the embedded default [`Backend`]. SQLite is compiled into
/// the crate, so no system library is needed.
///
/// Each pool thread opens its own connection to the same database file. Waiting for a
/// lock held by another connection times out after five seconds by default
/// ([`busy_timeout`](Self::busy_timeout)). `":memory:"` gives every connection a
/// database of its own, so use it only with `max(1)` or for statements that need no
/// tables.
///
/// ```
/// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).max(1).build().unwrap();
/// pool.run_operation("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", ()).await.unwrap();
/// pool.run_operation("INSERT INTO users (id, name) VALUES (?1, ?2)", (7, "moshez")).await.unwrap();
/// let names = pool
///     .run_query("SELECT name FROM users WHERE id = ?1", (7,), |row| row.get::<_, String>(0))
///     .await
///     .unwrap();
/// assert_eq!(names, ["moshez"]);
/// # pool.close();
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Sqlite {
    path: PathBuf,
    flags: OpenFlags,
    busy_timeout: Duration,
}

impl Sqlite {
    /// The database at `path`, created if missing (`":memory:"` for a private in-memory
    /// one per connection).
    ///
    /// ```
    /// # use tokio_twisted::adbapi::Sqlite;
    /// let db = Sqlite::open("users.db");
    /// assert_eq!(db.path(), std::path::Path::new("users.db"));
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Self {
        Self::open_with_flags(path, OpenFlags::default())
    }

    /// The database at `path`, opened with `flags` (read-only, URI names, ...).
    ///
    /// ```
    /// use rusqlite::OpenFlags;
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    ///
    /// let db = Sqlite::open_with_flags("/nonexistent/dir/x.db", OpenFlags::SQLITE_OPEN_READ_ONLY);
    /// let pool = ConnectionPool::new(db).unwrap();
    /// let err = futures::executor::block_on(pool.run_operation("SELECT 1", ())).unwrap_err();
    /// assert!(err.check::<rusqlite::Error>()); // the connect error
    /// # pool.close();
    /// ```
    pub fn open_with_flags(path: impl AsRef<Path>, flags: OpenFlags) -> Self {
        Sqlite {
            path: path.as_ref().to_owned(),
            flags,
            busy_timeout: Duration::from_secs(5),
        }
    }

    /// How long a connection waits for another connection's lock before failing with
    /// `SQLITE_BUSY` (default five seconds).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::adbapi::Sqlite;
    /// let db = Sqlite::open("x.db").busy_timeout(Duration::from_millis(100));
    /// # let _ = db;
    /// ```
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The database file's path.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::Sqlite;
    /// assert_eq!(Sqlite::open(":memory:").path().to_str(), Some(":memory:"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Backend for Sqlite {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let conn = Connection::open_with_flags(&self.path, self.flags)?;
        conn.busy_timeout(self.busy_timeout)?;
        Ok(conn)
    }

    fn begin(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        conn.prepare_cached("BEGIN")?.execute([])?;
        Ok(())
    }

    fn commit(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        // The interaction may have ended the transaction itself.
        if !conn.is_autocommit() {
            conn.prepare_cached("COMMIT")?.execute([])?;
        }
        Ok(())
    }

    fn rollback(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        // Nothing is open after a statement that failed in autocommit mode, or after SQLite
        // rolled back by itself.
        if !conn.is_autocommit() {
            conn.prepare_cached("ROLLBACK")?.execute([])?;
        }
        Ok(())
    }

    fn ping(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))
    }

    fn close(&self, conn: Connection) -> Result<(), rusqlite::Error> {
        conn.close().map_err(|(_, e)| e)
    }
}

impl ConnectionPool<Sqlite> {
    /// Runs one SQL statement with typed `params` and returns a Deferred of its rows,
    /// each made by `map` from a `rusqlite::Row`: Twisted's `runQuery`.
    ///
    /// `params` is anything `rusqlite` takes as parameters and can be sent to another
    /// thread: a tuple of owned values (`(7, "name".to_owned())`), `()`, an array, or
    /// `rusqlite::params_from_iter(vec)`. The statement runs as its own transaction
    /// (SQLite's autocommit), so a failing one changes nothing; its statement is cached
    /// per connection.
    ///
    /// ```
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let pool = ConnectionPool::new(Sqlite::open(":memory:")).unwrap();
    /// let rows = pool
    ///     .run_query("SELECT ?1 + 1, ?2", (41, "x"), |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(rows, [(42, "x".to_owned())]);
    /// // A wrong column type is the driver's typed error.
    /// let wrong = pool.run_query("SELECT 'text'", (), |row| row.get::<_, i64>(0)).await;
    /// assert!(matches!(
    ///     wrong.unwrap_err().downcast_ref::<rusqlite::Error>(),
    ///     Some(rusqlite::Error::InvalidColumnType(..))
    /// ));
    /// # pool.close();
    /// # });
    /// ```
    #[doc(alias = "runQuery")]
    pub fn run_query<P, T, F>(&self, sql: impl Into<String>, params: P, mut map: F) -> Deferred<Vec<T>>
    where
        P: Params + Send + 'static,
        T: Send + 'static,
        F: FnMut(&Row<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let sql = sql.into();
        self.run_statement(move |conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params, |row| map(row))?;
            rows.collect()
        })
    }

    /// Runs one SQL statement that returns no rows (`INSERT`, `UPDATE`, `CREATE`, ...)
    /// with typed `params`: Twisted's `runOperation`. The Deferred fires with the number
    /// of rows changed (Twisted's fires with `None`).
    ///
    /// ```
    /// use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let pool = ConnectionPool::builder(Sqlite::open(":memory:")).max(1).build().unwrap();
    /// pool.run_operation("CREATE TABLE t (x INTEGER)", ()).await.unwrap();
    /// let changed = pool.run_operation("INSERT INTO t VALUES (?1), (?2)", (1, 2)).await.unwrap();
    /// assert_eq!(changed, 2);
    /// let err = pool.run_operation("DELETEXXX FROM t", ()).await.unwrap_err();
    /// assert!(err.check::<rusqlite::Error>());
    /// # pool.close();
    /// # });
    /// ```
    #[doc(alias = "runOperation")]
    pub fn run_operation<P>(&self, sql: impl Into<String>, params: P) -> Deferred<u64>
    where
        P: Params + Send + 'static,
    {
        let sql = sql.into();
        self.run_statement(move |conn| {
            let changed = conn.prepare_cached(&sql)?.execute(params)?;
            Ok(changed as u64)
        })
    }

    fn run_statement<T, F>(&self, f: F) -> Deferred<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.run_with_connection(move |conn| f(conn).map_err(Failure::new))
    }
}
