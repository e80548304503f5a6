//! An echo server: every byte a client sends comes straight back (Twisted's `Echo`
//! protocol and `EchoFactory`, served with `reactor.listenTCP(8000, EchoFactory())`).
//!
//! Run it with `cargo run --example echo_server` (port 8000) or
//! `cargo run --example echo_server -- --port 9000`; `--port 0` lets the system pick one.
//! It serves until stopped with Ctrl-C. Talk to it with `cargo run --example echo_client`
//! or `nc localhost 8000`. The port it listens on is printed to stderr.

use std::process::ExitCode;

use tokio_twisted::protocol::{Address, Factory, Protocol, Transport};
use tokio_twisted::reactor::Reactor;

#[path = "support/port_flag.rs"]
mod port_flag;

/// Writes back whatever it receives (Twisted's `Echo`).
#[derive(Debug, Default)]
pub(crate) struct Echo {
    transport: Option<Transport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(transport) = &self.transport {
            transport.write(data);
        }
    }
}

/// Builds an [`Echo`] for each connection (Twisted's `EchoFactory.buildProtocol`).
#[derive(Debug, Default)]
pub(crate) struct EchoFactory;

impl Factory for EchoFactory {
    type Protocol = Echo;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Echo> {
        Some(Echo::default())
    }
}

/// The port to listen on: `--port N`, 8000 by default (the port of the original program).
pub(crate) fn port_from_args(args: impl IntoIterator<Item = String>) -> Result<u16, String> {
    port_flag::port_flag(args, 8000, "echo_server")
}

#[allow(
    dead_code,
    reason = "the echo client example includes this file for its server"
)]
fn main() -> ExitCode {
    let port = match port_from_args(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(e) => {
            eprintln!("echo_server: {e}");
            return ExitCode::from(2);
        }
    };
    let reactor = match Reactor::new() {
        Ok(reactor) => reactor,
        Err(e) => {
            eprintln!("echo_server: cannot start the reactor: {e}");
            return ExitCode::FAILURE;
        }
    };
    match reactor.listen_tcp(port, EchoFactory) {
        Ok(listening) => eprintln!("echo server listening on {}", listening.host()),
        Err(e) => {
            eprintln!("echo_server: {e}");
            return ExitCode::FAILURE;
        }
    }
    match reactor.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}
