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
use tokio_twisted::reactor::ReactorHandle;

/// On a thread of its own: connects to `port`, sends `request`, half-closes, sends back
/// all the server sent before it closed the connection, and stops the reactor.
fn client(port: u16, request: &'static [u8], tx: mpsc::Sender<Vec<u8>>, handle: ReactorHandle) {
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
}

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
                    client(port, request, tx, handle);
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

/// Runs step 6 (the application, through the runner) on a port the system picks, asks it
/// about `user` once it listens (the port `--print-port` prints), and stops the reactor.
fn ask_step_6(user: &'static [u8]) -> Vec<u8> {
    common::bounded("finger step 6", move || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let (tx, rx) = mpsc::channel();
        let (application, service) = finger::application(
            &handle,
            "tcp:0:interface=127.0.0.1",
            finger::Privileges::DropToUser1,
        );
        assert_eq!(
            tokio_twisted::service::Service::name(&**application.service()).as_deref(),
            Some("finger")
        );
        assert_eq!((application.uid(), application.gid()), (Some(1), Some(1)));
        drop((application, service));
        // `run_step_6` runs the application until the client's answer stops the reactor;
        // without the tutorial's uid and gid, so that a test run as root stays root.
        finger::run_step_6(
            &reactor,
            "tcp:0:interface=127.0.0.1",
            finger::Privileges::Keep,
            move |port| client(port, user, tx, handle),
        )
        .unwrap();
        rx.recv().unwrap()
    })
}

#[test]
fn step_6_is_an_application_run_by_the_runner() {
    assert_eq!(ask_step_6(b"moshez\r\n"), b"Happy and well\r\n");
    assert_eq!(ask_step_6(b"glyph\r\n"), b"No such user\r\n");
}

#[test]
fn step_6_on_a_port_in_use_fails_to_start() {
    common::bounded("finger step 6 on a taken port", || {
        let reactor = common::reactor();
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let description = format!("tcp:{port}:interface=127.0.0.1");
        let err = finger::run_step_6(&reactor, &description, finger::Privileges::Keep, |_| {
            panic!("it never listens");
        })
        .unwrap_err();
        assert!(
            matches!(err, tokio_twisted::service::RunnerError::PrivilegedStart(_)),
            "{err}"
        );
    });
}
