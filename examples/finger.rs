//! The finger server of Twisted's tutorial, in its first five steps, as the user's notes on
//! Twisted build it up (a bare reactor; an endpoint; a `LineReceiver`; a factory with users;
//! a lookup returning a Deferred).
//!
//! Run a step (5 by default) on port 1079, then ask it about a user:
//!
//! ```text
//! cargo run --example finger -- 5
//! cargo run --example finger -- 4 --port 7979
//! printf 'moshez\r\n' | nc 127.0.0.1 1079     # Happy and well
//! ```
//!
//! Like the Python, the server prints nothing and runs until interrupted (Ctrl-C).
//! `--print-port` prints the port it listens on, for scripts that pass `--port 0`.
//!
//! The tests drive each step over loopback through [`start`] (`tests/finger.rs`).

use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
use tokio_twisted::defer::{Deferred, succeed};
use tokio_twisted::endpoints::{StreamServerEndpoint, server_from_string};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Address, Factory, ListeningPort, Protocol, for_protocol};
use tokio_twisted::reactor::{Reactor, ReactorHandle};

/// Step 2: a protocol that does nothing (the Python's `pass`): connections are accepted and
/// whatever they send is ignored.
struct DoNothing;

impl Protocol for DoNothing {
    fn data_received(&mut self, _data: &[u8]) {}
}

/// The finger factory of steps 3 to 5: the users, and how to look one up.
struct FingerFactory {
    step: u8,
    users: Rc<HashMap<Bytes, Bytes>>,
}

impl FingerFactory {
    /// Steps 3 and 4: the answer, at once.
    fn get_user(&self, user: &[u8]) -> Bytes {
        if self.step == 3 {
            return Bytes::from_static(b"No such user");
        }
        self.users
            .get(user)
            .cloned()
            .unwrap_or_else(|| Bytes::from_static(b"No such user"))
    }

    /// Step 5: the answer, as a Deferred (`defer.succeed`).
    fn get_user_deferred(&self, user: &[u8]) -> Deferred<Bytes> {
        succeed(
            self.users
                .get(user)
                .cloned()
                .unwrap_or_else(|| Bytes::from_static(b"No such user")),
        )
    }
}

/// Steps 3 to 5: a line receiver that answers one line, then hangs up.
struct FingerProtocol {
    factory: Rc<FingerFactory>,
}

impl LineReceiver for FingerProtocol {
    fn line_received(&mut self, user: Bytes, ctl: &mut LineControl<'_>) {
        let transport = ctl.transport().clone();
        if self.factory.step < 5 {
            let mut answer = self.factory.get_user(&user).to_vec();
            answer.extend_from_slice(b"\r\n");
            transport.write(&answer);
            transport.lose_connection();
            return;
        }
        let d = self.factory.get_user_deferred(&user);
        let d = d.add_errback(|_err: Failure| Ok(Bytes::from_static(b"Internal error in server")));
        // The callback runs whenever the lookup fires; it writes through its own handle.
        drop(d.add_callback(move |message: Bytes| {
            let mut line = message.to_vec();
            line.extend_from_slice(b"\r\n");
            transport.write(&line);
            transport.lose_connection();
            Ok(())
        }));
    }
}

/// The factory of steps 3 to 5 (Python's `FingerFactory` with `protocol = FingerProtocol`):
/// each connection's protocol gets the factory, as Twisted sets `protocol.factory`.
struct FingerServer(Rc<FingerFactory>);

impl Factory for FingerServer {
    type Protocol = LineProtocol<FingerProtocol>;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Self::Protocol> {
        Some(LineProtocol::new(FingerProtocol {
            factory: Rc::clone(&self.0),
        }))
    }
}

/// Starts step `step` (1 to 5) listening on `description`, on the reactor thread. Step 1
/// listens on nothing and returns `None`.
///
/// # Panics
///
/// If `description` is not a server description or `step` is not 1 to 5.
pub(crate) fn start(step: u8, reactor: &ReactorHandle, description: &str) -> Option<Deferred<ListeningPort>> {
    let users: HashMap<Bytes, Bytes> = if step >= 4 {
        HashMap::from([(
            Bytes::from_static(b"moshez"),
            Bytes::from_static(b"Happy and well"),
        )])
    } else {
        HashMap::new()
    };
    if step == 1 {
        return None;
    }
    let endpoint = server_from_string(reactor, description).expect("a valid server description");
    Some(match step {
        // `class FingerFactory(protocol.ServerFactory): protocol = FingerProtocol`
        2 => endpoint.listen(for_protocol(|| DoNothing)),
        3..=5 => endpoint.listen(FingerServer(Rc::new(FingerFactory {
            step,
            users: Rc::new(users),
        }))),
        _ => panic!("the tutorial's steps are 1 to 5"),
    })
}

fn main() {
    let mut step = 5;
    let mut port = 1079;
    let mut print_port = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port NUMBER"),
            "--print-port" => print_port = true,
            other => step = other.parse().expect("a step number, 1 to 5"),
        }
    }
    let reactor = Reactor::builder().build().expect("a reactor");
    let handle = reactor.handle();
    reactor
        .call_when_running(move || {
            if let Some(listening) = start(step, &handle, &format!("tcp:{port}")) {
                drop(listening.add_callback(move |port: ListeningPort| {
                    if print_port {
                        println!("listening on port {}", port.port());
                    }
                    Ok(())
                }));
            }
        })
        .expect("the reactor has not run yet");
    reactor.run().expect("the reactor runs");
}
