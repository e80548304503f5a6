//! The finger server with its users in SQLite (`examples/finger_sqlite.rs`), run over
//! loopback on a port the system picks, with a blocking client on a thread of its own;
//! every test is bounded.

mod common;
#[path = "../examples/finger_sqlite.rs"]
#[allow(dead_code, reason = "the example's main is not used by the tests")]
mod finger_sqlite;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;

use tokio_twisted::adbapi::{ConnectionPool, Sqlite};
use tokio_twisted::protocol::ListeningPort;
use tokio_twisted::reactor::ReactorHandle;

/// Serves finger from the pool `db` makes, sends `request` from a client and returns all
/// the server sent before it closed the connection. The reactor stops after
/// the answer, which closes the pool; the pool's thread is joined before this returns.
fn ask_with(
    request: &'static [u8],
    db: impl FnOnce(&ReactorHandle) -> ConnectionPool<Sqlite> + Send + 'static,
) -> Vec<u8> {
    common::bounded("a finger exchange over SQLite", move || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let pool = db(&handle);
        let server_pool = pool.clone();
        let (tx, rx) = mpsc::channel();
        reactor
            .call_when_running(move || {
                let listening = finger_sqlite::start(&handle, "tcp:0:interface=127.0.0.1", server_pool);
                drop(listening.add_callback(move |port: ListeningPort| {
                    let port = port.port();
                    std::thread::spawn(move || {
                        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                        // No half-close: the server would take the end of input for a
                        // closed connection (as Twisted does) before the lookup answers.
                        stream.write_all(request).unwrap();
                        let mut answer = Vec::new();
                        stream.read_to_end(&mut answer).unwrap();
                        tx.send(answer).unwrap();
                        let stopper = handle.clone();
                        handle.call_from_thread(move || stopper.stop()).unwrap();
                    });
                    Ok(())
                }));
            })
            .unwrap();
        reactor.run().unwrap();
        assert!(!pool.running(), "the pool closed with the reactor");
        assert_eq!(pool.thread_count(), 0, "and its thread was joined");
        rx.recv().unwrap()
    })
}

fn ask(request: &'static [u8]) -> Vec<u8> {
    ask_with(request, finger_sqlite::users_pool)
}

#[test]
fn a_user_is_looked_up_in_the_database() {
    assert_eq!(ask(b"moshez\r\n"), b"Happy and well\r\n");
    assert_eq!(ask(b"glyph\r\n"), b"Designing the next reactor\r\n");
}

#[test]
fn an_unknown_user_is_no_such_user() {
    assert_eq!(ask(b"nobody\r\n"), b"No such user\r\n");
    // The name is a parameter, not SQL: a quote in it is just part of a name.
    assert_eq!(ask(b"x' OR '1'='1\r\n"), b"No such user\r\n");
    assert_eq!(ask(b"\xff\xfe\r\n"), b"No such user\r\n");
}

#[test]
fn an_empty_request_lists_every_user() {
    assert_eq!(
        ask(b"\r\n"),
        b"glyph: Designing the next reactor\r\nmoshez: Happy and well\r\n"
    );
}

#[test]
fn a_database_error_is_an_internal_error_in_server() {
    // A database without the users table: every lookup fails with "no such table".
    let answer = ask_with(b"moshez\r\n", |reactor| {
        ConnectionPool::builder(Sqlite::open(":memory:"))
            .max(1)
            .reactor(reactor)
            .build()
            .unwrap()
    });
    assert_eq!(answer, b"Internal error in server\r\n");
}
