//! An echo client: connects, says "Hello, world!", prints what the server says back and
//! hangs up; its factory prints "Connection failed." or "Connection lost." and stops the
//! reactor (Twisted's `EchoClient` with a `ClientFactory`, run by
//! `reactor.connectTCP("localhost", 8000, EchoFactory())`).
//!
//! Run an echo server first (`cargo run --example echo_server`), then
//! `cargo run --example echo_client` (localhost, port 8000) or
//! `cargo run --example echo_client -- --port 9000`. It prints:
//!
//! ```text
//! Server said: Hello, world!
//! Connection lost.
//! ```
//!
//! With nothing listening it prints `Connection failed.` instead. Either way it ends by
//! itself.

use std::process::ExitCode;
use std::rc::Rc;

use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Address, ClientFactory, Connector, Factory, Protocol, Transport};
use tokio_twisted::reactor::{Reactor, ReactorHandle};

#[path = "support/port_flag.rs"]
mod port_flag;

/// Where the client's lines go: standard output in the program, a log in its tests.
pub(crate) type Say = Rc<dyn Fn(&str)>;

/// Sends a greeting, prints the answer and hangs up (Twisted's `EchoClient`).
pub(crate) struct EchoClient {
    transport: Option<Transport>,
    say: Say,
}

impl Protocol for EchoClient {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(b"Hello, world!");
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        (self.say)(&format!("Server said: {}", String::from_utf8_lossy(data)));
        if let Some(transport) = &self.transport {
            transport.lose_connection();
        }
    }
}

/// Builds the client protocol and stops the reactor when the connection fails or ends
/// (Twisted's client-side `EchoFactory`).
pub(crate) struct EchoClientFactory {
    reactor: ReactorHandle,
    say: Say,
}

impl EchoClientFactory {
    pub(crate) fn new(reactor: ReactorHandle, say: Say) -> Self {
        EchoClientFactory { reactor, say }
    }

    fn stop(&self) {
        // The reactor may already be stopping (Ctrl-C): nothing more to do then.
        let _ = self.reactor.stop();
    }
}

impl Factory for EchoClientFactory {
    type Protocol = EchoClient;

    fn build_protocol(&mut self, _addr: &Address) -> Option<EchoClient> {
        Some(EchoClient {
            transport: None,
            say: Rc::clone(&self.say),
        })
    }
}

impl ClientFactory for EchoClientFactory {
    fn client_connection_failed(&mut self, _connector: &Connector, _reason: Failure) {
        (self.say)("Connection failed.");
        self.stop();
    }

    fn client_connection_lost(&mut self, _connector: &Connector, _reason: Failure) {
        (self.say)("Connection lost.");
        self.stop();
    }
}

/// The port to connect to: `--port N`, 8000 by default (the port of the original program).
pub(crate) fn port_from_args(args: impl IntoIterator<Item = String>) -> Result<u16, String> {
    port_flag::port_flag(args, 8000, "echo_client")
}

#[allow(dead_code, reason = "tests include this file for its protocol and factory")]
fn main() -> ExitCode {
    let port = match port_from_args(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(e) => {
            eprintln!("echo_client: {e}");
            return ExitCode::from(2);
        }
    };
    let reactor = match Reactor::new() {
        Ok(reactor) => reactor,
        Err(e) => {
            eprintln!("echo_client: cannot start the reactor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let say: Say = Rc::new(|line| println!("{line}"));
    let factory = EchoClientFactory::new(reactor.handle(), say);
    if let Err(e) = reactor.connect_tcp("localhost", port, factory) {
        eprintln!("echo_client: {e}");
        return ExitCode::FAILURE;
    }
    match reactor.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {e}");
            ExitCode::FAILURE
        }
    }
}
