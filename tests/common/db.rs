//! Databases for the `adbapi` tests: SQLite files in the temporary directory, removed
//! afterwards, and the PostgreSQL server `.ci/run` starts (if any).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh SQLite database file, deleted (with its journal) when dropped.
pub(crate) struct TempDb {
    path: PathBuf,
}

impl TempDb {
    pub(crate) fn new(what: &str) -> TempDb {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tokio-twisted-{what}-{}-{n}.db", std::process::id()));
        let db = TempDb { path };
        db.remove();
        db
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn remove(&self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The connection string of the PostgreSQL server for the tests, from
/// `TOKIO_TWISTED_PG_URL` (set by `.ci/run`); `None`, after printing why, when unset.
pub(crate) fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("TOKIO_TWISTED_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!(
                "{test}: skipped: no PostgreSQL server (TOKIO_TWISTED_PG_URL is not set; .ci/run starts one)"
            );
            None
        }
    }
}

/// A fake driver for the pool's own logic: connections the test can break (as if the
/// server went away) and operations it can make fail, each counted.
pub(crate) mod fake {
    use std::io;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio_twisted::adbapi::Backend;

    #[derive(Default)]
    pub(crate) struct Knobs {
        pub(crate) connects: AtomicUsize,
        pub(crate) closes: AtomicUsize,
        pub(crate) rollbacks: AtomicUsize,
        pub(crate) commits: AtomicUsize,
        /// Rollback fails with "problem!".
        pub(crate) fail_rollback: AtomicBool,
        /// Close fails with "problem!".
        pub(crate) fail_close: AtomicBool,
        /// The next `begin` fails (as a cursor that cannot be created).
        pub(crate) fail_begin_once: AtomicBool,
        /// Broken connections say so without a round trip (`is_closed`).
        pub(crate) closed_is_known: AtomicBool,
        alive: Mutex<Vec<Arc<AtomicBool>>>,
    }

    #[derive(Clone, Default)]
    pub(crate) struct Fake {
        pub(crate) knobs: Arc<Knobs>,
    }

    #[derive(Debug)]
    pub(crate) struct FakeConn {
        pub(crate) id: usize,
        alive: Arc<AtomicBool>,
    }

    impl FakeConn {
        /// A "statement": the connection's id, or an error once it is broken.
        pub(crate) fn query(&self) -> io::Result<usize> {
            if self.alive.load(Ordering::SeqCst) {
                Ok(self.id)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "server closed the connection",
                ))
            }
        }
    }

    impl Fake {
        /// Breaks every connection opened so far (Twisted's tests close them by hand).
        pub(crate) fn break_all(&self) {
            for alive in self.knobs.alive.lock().unwrap().iter() {
                alive.store(false, Ordering::SeqCst);
            }
        }

        pub(crate) fn count(counter: &AtomicUsize) -> usize {
            counter.load(Ordering::SeqCst)
        }
    }

    fn problem() -> io::Error {
        io::Error::other("problem!")
    }

    impl Backend for Fake {
        type Connection = FakeConn;
        type Error = io::Error;

        fn connect(&self) -> io::Result<FakeConn> {
            let id = self.knobs.connects.fetch_add(1, Ordering::SeqCst);
            let alive = Arc::new(AtomicBool::new(true));
            self.knobs.alive.lock().unwrap().push(alive.clone());
            Ok(FakeConn { id, alive })
        }

        fn begin(&self, conn: &mut FakeConn) -> io::Result<()> {
            if self.knobs.fail_begin_once.swap(false, Ordering::SeqCst) {
                return Err(problem());
            }
            conn.query().map(drop)
        }

        fn commit(&self, conn: &mut FakeConn) -> io::Result<()> {
            self.knobs.commits.fetch_add(1, Ordering::SeqCst);
            conn.query().map(drop)
        }

        fn rollback(&self, conn: &mut FakeConn) -> io::Result<()> {
            self.knobs.rollbacks.fetch_add(1, Ordering::SeqCst);
            if self.knobs.fail_rollback.load(Ordering::SeqCst) {
                return Err(problem());
            }
            conn.query().map(drop)
        }

        fn ping(&self, conn: &mut FakeConn) -> io::Result<()> {
            conn.query().map(drop)
        }

        fn is_closed(&self, conn: &FakeConn) -> bool {
            self.knobs.closed_is_known.load(Ordering::SeqCst) && !conn.alive.load(Ordering::SeqCst)
        }

        fn close(&self, conn: FakeConn) -> io::Result<()> {
            self.knobs.closes.fetch_add(1, Ordering::SeqCst);
            drop(conn);
            if self.knobs.fail_close.load(Ordering::SeqCst) {
                return Err(problem());
            }
            Ok(())
        }
    }
}
