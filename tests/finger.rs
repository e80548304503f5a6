//! The finger tutorial's steps (`examples/finger.rs`), each run over loopback on a port
//! the system picks, with a blocking client on a thread of its own; every test is bounded.

#![allow(clippy::doc_markdown, reason = "prose names Python and Twisted identifiers")]

mod common;
#[path = "../examples/finger.rs"]
#[allow(dead_code, reason = "the example's main is not used by the tests")]
mod finger;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use tokio_twisted::protocol::ListeningPort;

/// Runs step `step`, sends `request` from a client, half-closes, and returns all the
/// server sent before it closed the connection.
fn ask(step: u8, request: &'static [u8]) -> Vec<u8> {
    common::bounded("a finger exchange", move || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let (tx, rx) = mpsc::channel();
        reactor
            .call_when_running(move || {
                let listening =
                    finger::start(step, &handle, "tcp:0:interface=127.0.0.1").expect("steps 2 to 5 listen");
                drop(listening.add_callback(move |port: ListeningPort| {
                    let port = port.port();
                    std::thread::spawn(move || {
                        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                        stream.write_all(request).unwrap();
                        stream.shutdown(Shutdown::Write).unwrap();
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
        rx.recv().unwrap()
    })
}

#[test]
fn step_1_is_a_bare_reactor_listening_on_nothing() {
    common::bounded("step 1", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let stopper = handle.clone();
        reactor
            .call_when_running(move || {
                assert!(finger::start(1, &handle, "tcp:0").is_none());
                handle.call_later(Duration::ZERO, move || stopper.stop().unwrap());
            })
            .unwrap();
        reactor.run().unwrap();
    });
}

#[test]
fn step_2_accepts_and_ignores() {
    assert_eq!(ask(2, b"moshez\r\n"), b"");
}

#[test]
fn step_3_answers_no_such_user() {
    assert_eq!(ask(3, b"moshez\r\n"), b"No such user\r\n");
}

#[test]
fn step_4_looks_users_up() {
    assert_eq!(ask(4, b"moshez\r\n"), b"Happy and well\r\n");
    assert_eq!(ask(4, b"glyph\r\n"), b"No such user\r\n");
}

#[test]
fn step_5_answers_through_a_deferred() {
    assert_eq!(ask(5, b"moshez\r\n"), b"Happy and well\r\n");
    assert_eq!(ask(5, b"glyph\r\n"), b"No such user\r\n");
}
