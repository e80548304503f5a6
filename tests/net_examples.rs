//! The networking examples driven over loopback on port 0: the echo server and client
//! (each against the other, and the client against a closed port), and the server against
//! a plain blocking socket; the chat server with a client that does not read; one reactor
//! per core on one port.

// Each example is a program of its own and loads the shared `--port` parser itself; here
// three of them sit in one crate, so that file is compiled once per example.
#![allow(
    clippy::duplicate_mod,
    reason = "each included example brings its own copy of examples/support"
)]

mod common;

#[path = "../examples/chat_server.rs"]
#[allow(dead_code, reason = "the example's main is not called here")]
mod chat_server;
#[path = "../examples/echo_client.rs"]
#[allow(dead_code, reason = "the example's main is not called here")]
mod echo_client;
#[path = "../examples/echo_server.rs"]
#[allow(dead_code, reason = "the example's main is not called here")]
mod echo_server;
#[cfg(target_os = "linux")]
#[path = "../examples/multi_reactor.rs"]
#[allow(dead_code, reason = "the example's main is not called here")]
mod multi_reactor;

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

use echo_client::{EchoClientFactory, Say};
use echo_server::EchoFactory;

/// A `Say` that records the lines instead of printing them.
fn recorder() -> (Say, Rc<RefCell<Vec<String>>>) {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&lines);
    (
        Rc::new(move |line: &str| sink.borrow_mut().push(line.to_owned())),
        lines,
    )
}

#[test]
fn echo_client_talks_to_echo_server() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let port = reactor.listen_tcp(0, EchoFactory).unwrap().port();
    let (say, lines) = recorder();
    reactor
        .connect_tcp("localhost", port, EchoClientFactory::new(reactor.handle(), say))
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(
        *lines.borrow(),
        ["Server said: Hello, world!", "Connection lost."],
        "the client prints the echo, then the factory hears the loss and stops the reactor"
    );
}

#[test]
fn echo_client_reports_a_refused_connection() {
    let _limit = common::time_limit();
    // A port that was free a moment ago and has no listener now.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let reactor = common::reactor();
    let (say, lines) = recorder();
    reactor
        .connect_tcp("127.0.0.1", port, EchoClientFactory::new(reactor.handle(), say))
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(*lines.borrow(), ["Connection failed."]);
}

#[test]
fn echo_server_returns_every_byte_in_order() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let port = reactor.listen_tcp(0, EchoFactory).unwrap().port();
    let handle = reactor.handle();
    let client = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Several writes of different sizes, read back as one stream.
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut got = vec![0; sent.len()];
        let writer = {
            let mut stream = stream.try_clone().unwrap();
            let sent = sent.clone();
            std::thread::spawn(move || {
                for chunk in sent.chunks(7_919) {
                    stream.write_all(chunk).unwrap();
                }
            })
        };
        stream.read_exact(&mut got).unwrap();
        writer.join().unwrap();
        let stopper = handle.clone();
        handle.call_from_thread(move || stopper.stop()).unwrap();
        (sent, got)
    });
    reactor.run().unwrap();
    let (sent, got) = client.join().unwrap();
    assert!(sent == got, "the echo differs from what was sent");
}

#[test]
fn echo_programs_take_a_port_flag_defaulting_to_8000() {
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(echo_server::port_from_args(args(&[])), Ok(8000));
    assert_eq!(echo_server::port_from_args(args(&["--port", "0"])), Ok(0));
    assert_eq!(echo_client::port_from_args(args(&[])), Ok(8000));
    assert_eq!(echo_client::port_from_args(args(&["-p", "9000"])), Ok(9000));
    assert!(echo_server::port_from_args(args(&["--port", "x"])).is_err());
    assert!(echo_client::port_from_args(args(&["--port"])).is_err());
    assert!(echo_server::port_from_args(args(&["--bogus"])).is_err());
}

/// Waits (without sleeping) until `done` holds, failing after the time limit.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + common::limit();
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within the limit"
        );
        std::thread::yield_now();
    }
}

#[test]
fn chat_broadcasts_and_a_slow_client_pauses_the_room() {
    const LINES: usize = 100_000;
    let _limit = common::time_limit();
    let room = chat_server::Room::default();
    let server_room = std::sync::Arc::clone(&room);
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let reactor = common::reactor();
        let port = reactor
            .listen_tcp(0, chat_server::ChatFactory { room: server_room })
            .unwrap();
        tx.send((port.port(), reactor.handle())).unwrap();
        reactor.run().unwrap();
    });
    let (port, handle) = rx.recv_timeout(common::limit()).unwrap();
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(common::limit())).unwrap();
        s
    };
    let (mut talker, fast, mut slow) = (connect(), connect(), connect());
    wait_until("three members", || room.lock().unwrap().members_len() == 3);
    let line = |i: usize| format!("line {i:08} {}\r\n", "x".repeat(80));
    let expected: Vec<u8> = (0..LINES).flat_map(|i| line(i).into_bytes()).collect();
    let total = expected.len();
    let writer = std::thread::spawn(move || {
        for i in 0..LINES {
            talker.write_all(line(i).as_bytes()).unwrap();
        }
        talker
    });
    let reader = std::thread::spawn(move || {
        let mut fast = fast;
        let mut got = vec![0; total];
        fast.read_exact(&mut got).unwrap();
        got
    });
    // The slow client reads nothing until the room has been paused for it.
    wait_until("the room pauses", || room.lock().unwrap().pauses >= 1);
    let mut got = vec![0; total];
    slow.read_exact(&mut got).unwrap();
    let _talker = writer.join().unwrap();
    let fast_got = reader.join().unwrap();
    let stopper = handle.clone();
    handle.call_from_thread(move || stopper.stop()).unwrap();
    server.join().unwrap();
    assert!(fast_got == expected, "the fast client got every line in order");
    assert!(got == expected, "the slow client got every line in order");
    let max = room.lock().unwrap().max_buffered;
    // The room is paused by the write that passes 64 KiB; the rest of the talker's last
    // read (at most 64 KiB of lines) is still delivered, as in Twisted, and then nothing.
    assert!(
        max <= 2 * 65_536 + 4096,
        "the slow client's buffer grew to {max} of {total} bytes"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn reactors_sharing_a_port_serve_every_client_and_stop() {
    // Three reactors on one port (SO_REUSEPORT); each client's echo is checked by the
    // example itself. How the kernel spreads the clients is its own choice, so only the
    // total is asserted.
    let served = common::bounded("multi_reactor", || {
        multi_reactor::serve_on_one_port(3, 12).map_err(|e| e.to_string())
    })
    .expect("every reactor listens, every client is echoed, every reactor stops");
    assert_eq!(served.len(), 3);
    assert_eq!(served.iter().sum::<usize>(), 12);
}
