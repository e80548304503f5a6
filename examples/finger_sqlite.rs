//! The finger server of Twisted's tutorial (step 5, a lookup returning a Deferred) with its
//! users in SQLite instead of an in-memory map: each lookup is a `run_query` on an `adbapi`
//! `ConnectionPool`, with the user name as a typed parameter.
//!
//! ```text
//! cargo run --example finger_sqlite
//! cargo run --example finger_sqlite -- --port 7979
//! printf 'moshez\r\n' | nc 127.0.0.1 1079     # Happy and well
//! printf '\r\n' | nc 127.0.0.1 1079           # every user, one "user: status" line each
//! ```
//!
//! The database is SQLite in memory, one connection, filled by the pool's on-connect hook
//! (Twisted's `cp_openfun`). An unknown user gets "No such user"; a database error gets
//! "Internal error in server", as the tutorial's errback answers.
//!
//! Like the Python, the server prints nothing and runs until interrupted (Ctrl-C).
//! `--print-port` prints the port it listens on, for scripts that pass `--port 0`.
//!
//! The tests drive it over loopback through [`users_pool`] and [`start`]
//! (`tests/finger_sqlite.rs`).

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
use tokio_twisted::defer::Deferred;
use tokio_twisted::endpoints::{StreamServerEndpoint, server_from_string};
use tokio_twisted::protocol::{Address, Factory, ListeningPort};
use tokio_twisted::reactor::{Reactor, ReactorHandle};

/// The users the database starts with.
const USERS: &[(&str, &str)] = &[
    ("moshez", "Happy and well"),
    ("glyph", "Designing the next reactor"),
];

/// A pool over an in-memory SQLite database holding [`USERS`], tied to `reactor` (it starts
/// when the reactor runs, closes at shutdown, and fires its Deferreds on the reactor thread).
///
/// An in-memory database belongs to one connection, so the pool keeps exactly one, and the
/// on-connect hook creates and fills the table on it.
pub(crate) fn users_pool(reactor: &ReactorHandle) -> ConnectionPool<Sqlite> {
    ConnectionPool::builder(Sqlite::open(":memory:"))
        .min(1)
        .max(1)
        .name("finger-db")
        .on_connect(|conn| {
            let txn = conn.transaction()?;
            txn.execute(
                "CREATE TABLE users (user TEXT PRIMARY KEY, status TEXT NOT NULL)",
                (),
            )?;
            for (user, status) in USERS {
                txn.execute("INSERT INTO users VALUES (?1, ?2)", (user, status))?;
            }
            txn.commit()?;
            Ok(())
        })
        .reactor(reactor)
        .build()
        .expect("one connection is not zero")
}

/// The finger factory: how to look users up.
struct FingerFactory {
    db: ConnectionPool<Sqlite>,
}

impl FingerFactory {
    /// The answer for `user` as a Deferred: its status, or "No such user". An empty name
    /// (a bare finger request) lists every user as "user: status" lines.
    fn get_user(&self, user: &[u8]) -> Deferred<Bytes> {
        if user.is_empty() {
            return self
                .db
                .run_query("SELECT user, status FROM users ORDER BY user", (), |row| {
                    Ok(format!(
                        "{}: {}",
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?
                    ))
                })
                .add_callback(|lines: Vec<String>| Ok(Bytes::from(lines.join("\r\n"))));
        }
        // The name is a typed parameter, never spliced into the SQL. Names that are not
        // UTF-8 match no TEXT key (the query still runs, so errors are reported alike).
        let user = String::from_utf8_lossy(user).into_owned();
        self.db
            .run_query("SELECT status FROM users WHERE user = ?1", (user,), |row| {
                row.get::<_, String>(0)
            })
            .add_callback(|statuses: Vec<String>| {
                Ok(statuses
                    .into_iter()
                    .next()
                    .map_or_else(|| Bytes::from_static(b"No such user"), Bytes::from))
            })
    }
}

/// A line receiver that answers one line, then hangs up.
struct FingerProtocol {
    factory: Rc<FingerFactory>,
}

impl LineReceiver for FingerProtocol {
    fn line_received(&mut self, user: Bytes, ctl: &mut LineControl<'_>) {
        let transport = ctl.transport().clone();
        let d = self.factory.get_user(&user);
        let d = d.add_errback(|err| {
            tracing::error!(%err, "finger lookup failed");
            Ok(Bytes::from_static(b"Internal error in server"))
        });
        // The callback runs whenever the query's result reaches the reactor thread.
        drop(d.add_callback(move |message: Bytes| {
            let mut line = message.to_vec();
            line.extend_from_slice(b"\r\n");
            transport.write(&line);
            transport.lose_connection();
            Ok(())
        }));
    }
}

/// Each connection's protocol gets the factory, as Twisted sets `protocol.factory`.
struct FingerServer(Rc<FingerFactory>);

impl Factory for FingerServer {
    type Protocol = LineProtocol<FingerProtocol>;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Self::Protocol> {
        Some(LineProtocol::new(FingerProtocol {
            factory: Rc::clone(&self.0),
        }))
    }
}

/// Listens on `description` with a finger server looking users up in `db`, on the reactor
/// thread.
///
/// # Panics
///
/// If `description` is not a server description.
pub(crate) fn start(
    reactor: &ReactorHandle,
    description: &str,
    db: ConnectionPool<Sqlite>,
) -> Deferred<ListeningPort> {
    let endpoint = server_from_string(reactor, description).expect("a valid server description");
    endpoint.listen(FingerServer(Rc::new(FingerFactory { db })))
}

fn main() {
    let mut port = 1079;
    let mut print_port = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port NUMBER"),
            "--print-port" => print_port = true,
            other => panic!("unknown argument {other:?} (--port NUMBER, --print-port)"),
        }
    }
    let reactor = Reactor::builder().build().expect("a reactor");
    let handle = reactor.handle();
    let db = users_pool(&handle);
    let failed = Arc::new(AtomicBool::new(false));
    let failed_listen = failed.clone();
    reactor
        .call_when_running(move || {
            let stopper = handle.clone();
            let listening = start(&handle, &format!("tcp:{port}"), db);
            drop(listening.add_callbacks(
                move |port: ListeningPort| {
                    if print_port {
                        println!("listening on port {}", port.port());
                    }
                    Ok(())
                },
                move |err| {
                    eprintln!("finger_sqlite: cannot listen: {err}");
                    failed_listen.store(true, Ordering::SeqCst);
                    stopper.stop()?;
                    Ok(())
                },
            ));
        })
        .expect("the reactor has not run yet");
    reactor.run().expect("the reactor runs");
    if failed.load(Ordering::SeqCst) {
        std::process::exit(1);
    }
}
