// Tests: tests/adbapi.rs, tests/conformance/test_adbapi.rs (with the `postgres` feature and a
// server in TOKIO_TWISTED_PG_URL)

//! The PostgreSQL backend (the synchronous `postgres` crate), behind the `postgres`
//! feature, and its typed `run_query` and `run_operation`.

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row};

use crate::defer::Deferred;
use crate::failure::Failure;

use super::backend::Backend;
use super::pool::ConnectionPool;

/// PostgreSQL through the `postgres` crate (no TLS): a [`Backend`], with the `postgres`
/// cargo feature.
///
/// ```no_run
/// use tokio_twisted::adbapi::{ConnectionPool, Postgres};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let db = Postgres::new("postgresql://app@localhost/app").unwrap();
/// let pool = ConnectionPool::new(db).unwrap();
/// let names = pool
///     .run_query("SELECT name FROM users WHERE id = $1", (7_i32,), |row| row.try_get::<_, String>(0))
///     .await
///     .unwrap();
/// # pool.close();
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Postgres {
    config: Config,
}

impl Postgres {
    /// A backend connecting with `params`: a `postgresql://` URL or `key=value` pairs.
    ///
    /// # Errors
    ///
    /// The driver's error if `params` does not parse.
    ///
    /// ```
    /// use tokio_twisted::adbapi::Postgres;
    ///
    /// assert!(Postgres::new("host=/run/postgresql user=app dbname=app").is_ok());
    /// assert!(Postgres::new("host=x port=notaport").is_err());
    /// ```
    pub fn new(params: &str) -> Result<Self, postgres::Error> {
        Ok(Postgres {
            config: params.parse()?,
        })
    }

    /// A backend connecting with a `postgres::Config` built in code.
    ///
    /// ```
    /// use tokio_twisted::adbapi::Postgres;
    ///
    /// let mut config = postgres::Config::new();
    /// config.host("localhost").user("app").dbname("app");
    /// let db = Postgres::from_config(config);
    /// assert_eq!(db.config().get_user(), Some("app"));
    /// ```
    pub fn from_config(config: Config) -> Self {
        Postgres { config }
    }

    /// The connection parameters.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::Postgres;
    /// let db = Postgres::new("user=app dbname=shop").unwrap();
    /// assert_eq!(db.config().get_dbname(), Some("shop"));
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl Backend for Postgres {
    type Connection = Client;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Client, postgres::Error> {
        self.config.connect(NoTls)
    }

    fn begin(&self, conn: &mut Client) -> Result<(), postgres::Error> {
        conn.batch_execute("BEGIN")
    }

    fn commit(&self, conn: &mut Client) -> Result<(), postgres::Error> {
        conn.batch_execute("COMMIT")
    }

    fn rollback(&self, conn: &mut Client) -> Result<(), postgres::Error> {
        if conn.is_closed() {
            return Ok(()); // nothing to roll back on a dead connection; ping reports it
        }
        // Outside a transaction PostgreSQL only warns.
        conn.batch_execute("ROLLBACK")
    }

    fn ping(&self, conn: &mut Client) -> Result<(), postgres::Error> {
        conn.batch_execute("SELECT 1")
    }

    fn is_closed(&self, conn: &Client) -> bool {
        conn.is_closed()
    }

    fn close(&self, conn: Client) -> Result<(), postgres::Error> {
        conn.close()
    }
}

/// Parameters for [`Postgres`] statements that can be sent to a pool thread: `()`, tuples
/// of up to eight owned values implementing `postgres::types::ToSql` (`(7_i32,
/// "x".to_owned())`), or a `Vec` of boxed ones.
///
/// ```
/// use tokio_twisted::adbapi::PgParams;
///
/// let params = (1_i32, "two".to_owned());
/// params.with_params(|refs| assert_eq!(refs.len(), 2));
/// ```
pub trait PgParams: Send + 'static {
    /// Calls `f` with the parameters as the driver takes them.
    ///
    /// ```
    /// # use tokio_twisted::adbapi::PgParams;
    /// ().with_params(|refs| assert!(refs.is_empty()));
    /// ```
    fn with_params<R>(&self, f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> R) -> R;
}

impl PgParams for () {
    fn with_params<R>(&self, f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> R) -> R {
        f(&[])
    }
}

impl PgParams for Vec<Box<dyn ToSql + Sync + Send>> {
    fn with_params<R>(&self, f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> R) -> R {
        let refs: Vec<&(dyn ToSql + Sync)> = self.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
        f(&refs)
    }
}

macro_rules! pg_params_tuple {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: ToSql + Sync + Send + 'static),+> PgParams for ($($name,)+) {
            fn with_params<R>(&self, f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> R) -> R {
                f(&[$(&self.$idx),+])
            }
        }
    };
}

pg_params_tuple!(A 0);
pg_params_tuple!(A 0, B 1);
pg_params_tuple!(A 0, B 1, C 2);
pg_params_tuple!(A 0, B 1, C 2, D 3);
pg_params_tuple!(A 0, B 1, C 2, D 3, E 4);
pg_params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
pg_params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
pg_params_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

impl ConnectionPool<Postgres> {
    /// Runs one SQL statement with typed `params` and returns a Deferred of its rows,
    /// each made by `map` from a `postgres::Row`: Twisted's `runQuery`. The statement
    /// runs as its own transaction.
    ///
    /// ```no_run
    /// # use tokio_twisted::adbapi::{ConnectionPool, Postgres};
    /// # let pool = ConnectionPool::new(Postgres::new("user=app").unwrap()).unwrap();
    /// let d = pool.run_query("SELECT $1::INT + 1", (41_i32,), |row| row.try_get::<_, i32>(0));
    /// # drop(d);
    /// ```
    #[doc(alias = "runQuery")]
    pub fn run_query<P, T, F>(&self, sql: impl Into<String>, params: P, mut map: F) -> Deferred<Vec<T>>
    where
        P: PgParams,
        T: Send + 'static,
        F: FnMut(&Row) -> Result<T, postgres::Error> + Send + 'static,
    {
        let sql = sql.into();
        self.run_with_connection(move |conn| {
            let rows = params.with_params(|refs| conn.query(sql.as_str(), refs))?;
            rows.iter().map(|row| map(row).map_err(Failure::new)).collect()
        })
    }

    /// Runs one SQL statement that returns no rows, with typed `params`: Twisted's
    /// `runOperation`. The Deferred fires with the number of rows changed.
    ///
    /// ```no_run
    /// # use tokio_twisted::adbapi::{ConnectionPool, Postgres};
    /// # let pool = ConnectionPool::new(Postgres::new("user=app").unwrap()).unwrap();
    /// let d = pool.run_operation("DELETE FROM sessions WHERE id = $1", (7_i64,));
    /// # drop(d);
    /// ```
    #[doc(alias = "runOperation")]
    pub fn run_operation<P: PgParams>(&self, sql: impl Into<String>, params: P) -> Deferred<u64> {
        let sql = sql.into();
        self.run_with_connection(move |conn| {
            let changed = params.with_params(|refs| conn.execute(sql.as_str(), refs))?;
            Ok(changed)
        })
    }
}
