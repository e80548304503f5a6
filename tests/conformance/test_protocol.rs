//! Conformance with Twisted's `twisted/internet/test/test_protocol.py`: `ClientCreator`
//! (here [`connect_protocol`] and [`connect_protocol_unix`]), `Protocol.makeConnection` and
//! `Factory`.
//!
//! Not ported (14 of 25):
//! - `ClientCreatorTests.test_connectSSL`, `test_cancelConnectSSL`,
//!   `test_cancelConnectSSLTimeout`, `test_cancelConnectSSLFailedTimeout`: TLS comes later.
//! - `ClientCreatorTests.test_cancelConnectTCPFailedTimeout`,
//!   `test_cancelConnectUNIXFailedTimeout`: the Deferred fails as soon
//!   as the factory hears the failure; there is no `callLater(0)` window in which a cancel
//!   could replace the failure (the connected counterpart is ported below with the same
//!   difference).
//! - `ProtocolTests.test_interfaces`, `FactoryTests.test_interfaces`: zope interfaces; the
//!   Rust traits are checked by the compiler.
//! - `ProtocolTests.test_logPrefix`, `FactoryTests.test_logPrefix`: no `logPrefix`; each
//!   connection logs inside a `tracing` span naming its addresses.
//! - `AdapterTests.test_protocolToConsumer`, `test_consumerToProtocol`: the
//!   protocol/consumer adapters are not ported (a protocol writes to its `Transport`).
//! - `FileWrapperTests.test_write`, `test_writeSequence`: `FileWrapper` (a transport over
//!   a file object) is not ported; `StringTransport` records writes instead.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio_twisted::defer::CancelledError;
use tokio_twisted::protocol::{
    Address, ConnectorState, Factory, Protocol, SharedFactory, TcpConnectOptions, Transport,
    UnixConnectOptions, connect_protocol, connect_protocol_unix, for_protocol,
};
use tokio_twisted::testing::{MemoryReactor, StringTransport, failure_result_of, success_result_of};

use crate::common;

struct SomeProtocol {
    made: Rc<RefCell<Vec<String>>>,
}

impl Protocol for SomeProtocol {
    fn connection_made(&mut self, transport: Transport) {
        self.made.borrow_mut().push(transport.peer().to_string());
    }
    fn data_received(&mut self, _: &[u8]) {}
}

fn some_protocol() -> (SomeProtocol, Rc<RefCell<Vec<String>>>) {
    let made = Rc::new(RefCell::new(Vec::new()));
    (
        SomeProtocol {
            made: Rc::clone(&made),
        },
        made,
    )
}

/// twisted: ClientCreatorTests.test_connectTCP
/// `connect_protocol` passes host, port, timeout and bind address to the reactor's
/// `connect_tcp`, with a factory that builds the given protocol.
#[test]
fn test_connect_tcp() {
    let reactor = MemoryReactor::new();
    let (protocol, made) = some_protocol();
    let bind: SocketAddr = "1.2.3.4:9876".parse().unwrap();
    let options = TcpConnectOptions::new()
        .timeout(Duration::from_secs(4321))
        .bind_address(bind);
    let d = connect_protocol(&reactor, "example.com", 1234, protocol, options);
    let mut client = reactor.take_tcp_clients().pop().unwrap();
    assert_eq!(client.host, "example.com");
    assert_eq!(client.port, 1234);
    assert_eq!(client.options.get_timeout(), Duration::from_secs(4321));
    assert_eq!(client.options.get_bind_address(), Some(bind));
    let mut built = client.factory.build_dyn_protocol(&Address::Unix(None)).unwrap();
    let wire = StringTransport::new();
    built.make_connection(wire.transport());
    assert_eq!(made.borrow().len(), 1);
    // The Deferred fires with the transport once connection_made has returned.
    let transport = success_result_of(d);
    assert_eq!(transport.peer(), wire.transport().peer());
}

/// twisted: ClientCreatorTests.test_cancelConnectTCP
/// Cancelling the Deferred before the connection is made disconnects the connector and
/// fails the Deferred with `CancelledError`.
#[test]
fn test_cancel_connect_tcp() {
    let reactor = MemoryReactor::new();
    let (protocol, _) = some_protocol();
    let d = connect_protocol(&reactor, "example.com", 1234, protocol, TcpConnectOptions::new());
    let client = reactor.take_tcp_clients().pop().unwrap();
    assert_eq!(client.connector.state(), ConnectorState::Connecting);
    d.cancel();
    assert_eq!(client.connector.state(), ConnectorState::Disconnected);
    assert!(failure_result_of(d).check::<CancelledError>());
}

/// twisted: ClientCreatorTests.test_cancelConnectTCPTimeout
/// Once the protocol is connected the Deferred has fired with the transport, so a late
/// cancel changes nothing (Twisted fires through `callLater(0)` and can still cancel in
/// that window; this port fires right after `connection_made`).
#[test]
fn test_cancel_connect_tcp_timeout() {
    let reactor = MemoryReactor::new();
    let (protocol, _) = some_protocol();
    let d = connect_protocol(&reactor, "example.com", 1234, protocol, TcpConnectOptions::new());
    let mut client = reactor.take_tcp_clients().pop().unwrap();
    let mut built = client.factory.build_dyn_protocol(&Address::Unix(None)).unwrap();
    let wire = StringTransport::new();
    built.make_connection(wire.transport());
    d.cancel();
    assert!(!wire.disconnecting());
    drop(success_result_of(d));
}

/// twisted: ClientCreatorTests.test_connectUNIX
/// `connect_protocol_unix` passes the path, timeout and lock-file check to the reactor's
/// `connect_unix`, with a factory that builds the given protocol.
#[test]
fn test_connect_unix() {
    let reactor = MemoryReactor::new();
    let (protocol, made) = some_protocol();
    let options = UnixConnectOptions::new()
        .timeout(Duration::from_secs(123))
        .check_pid(true);
    let d = connect_protocol_unix(&reactor, "/foo/bar", protocol, options);
    let mut client = reactor.take_unix_clients().pop().unwrap();
    assert_eq!(client.path, std::path::Path::new("/foo/bar"));
    assert_eq!(client.options.get_timeout(), Duration::from_secs(123));
    assert!(client.options.get_check_pid());
    let mut built = client.factory.build_dyn_protocol(&Address::Unix(None)).unwrap();
    built.make_connection(StringTransport::new().transport());
    assert_eq!(made.borrow().len(), 1);
    drop(success_result_of(d));
}

/// twisted: ClientCreatorTests.test_cancelConnectUNIX
/// Cancelling the Deferred of a UNIX connection attempt disconnects the connector and
/// fails the Deferred with `CancelledError`.
#[test]
fn test_cancel_connect_unix() {
    let reactor = MemoryReactor::new();
    let (protocol, _) = some_protocol();
    let d = connect_protocol_unix(&reactor, "/foo/bar", protocol, UnixConnectOptions::new());
    let client = reactor.take_unix_clients().pop().unwrap();
    assert_eq!(client.connector.state(), ConnectorState::Connecting);
    d.cancel();
    assert_eq!(client.connector.state(), ConnectorState::Disconnected);
    assert!(failure_result_of(d).check::<CancelledError>());
}

/// twisted: ClientCreatorTests.test_cancelConnectUNIXTimeout
/// Once the UNIX connection is made the Deferred has fired with the transport, so a late
/// cancel changes nothing (the same difference as the TCP case: no `callLater(0)` window).
#[test]
fn test_cancel_connect_unix_timeout() {
    let reactor = MemoryReactor::new();
    let (protocol, _) = some_protocol();
    let d = connect_protocol_unix(&reactor, "/foo/bar", protocol, UnixConnectOptions::new());
    let mut client = reactor.take_unix_clients().pop().unwrap();
    let mut built = client.factory.build_dyn_protocol(&Address::Unix(None)).unwrap();
    let wire = StringTransport::new();
    built.make_connection(wire.transport());
    d.cancel();
    assert!(!wire.disconnecting());
    drop(success_result_of(d));
}

/// twisted: ProtocolTests.test_makeConnection
/// `make_connection` hands the transport to the protocol and calls `connection_made`.
#[test]
fn test_make_connection() {
    let (mut protocol, made) = some_protocol();
    let wire = StringTransport::new();
    protocol.make_connection(wire.transport());
    assert_eq!(*made.borrow(), ["tcp:192.168.1.1:54321"]);
}

/// twisted: FactoryTests.test_defaultBuildProtocol
/// A factory made from a protocol constructor builds that protocol for each connection.
#[test]
fn test_default_build_protocol() {
    let made = Rc::new(RefCell::new(Vec::new()));
    let shared = Rc::clone(&made);
    let mut factory = for_protocol(move || SomeProtocol {
        made: Rc::clone(&shared),
    });
    let mut protocol = factory.build_protocol(&Address::Unix(None)).unwrap();
    protocol.make_connection(StringTransport::new().transport());
    assert_eq!(made.borrow().len(), 1);
}

/// twisted: FactoryTests.test_forProtocol
/// `for_protocol` passes along the arguments the protocol is built with (captured by
/// the closure, where Twisted passes `*args`/`**kwargs`).
#[test]
fn test_for_protocol() {
    struct ArgTaking {
        args: (i32, i32),
        foo: i32,
    }
    impl Protocol for ArgTaking {
        fn data_received(&mut self, _: &[u8]) {}
    }
    let (a, b, foo) = (1, 2, 12);
    let mut factory = for_protocol(move || ArgTaking { args: (a, b), foo });
    let built = factory.build_protocol(&Address::Unix(None)).unwrap();
    assert_eq!(built.args, (1, 2));
    assert_eq!(built.foo, 12);
}

/// A protocol that does nothing, for the factory logging tests.
struct Quiet;
impl Protocol for Quiet {
    fn data_received(&mut self, _: &[u8]) {}
}

/// twisted: FactoryTests.test_doStartLoggingStatement
/// Starting a factory for its first user logs "Starting factory" and the factory's name at
/// info level (`SharedFactory` counts users as `doStart` does).
#[test]
fn test_do_start_logging_statement() {
    let mut factory = SharedFactory::new(for_protocol(|| Quiet));
    let log = common::logged_at_info(|| factory.start_factory());
    let line = log.lines().next().unwrap_or_default();
    assert!(line.contains("INFO"), "{log}");
    assert!(
        line.contains("Starting factory tokio_twisted::protocol::"),
        "{log}"
    );
    assert!(line.contains("ProtocolFactory"), "{log}");
    factory.stop_factory();
}

/// twisted: FactoryTests.test_doStopLoggingStatement
/// Stopping a factory after its last user logs "Stopping factory" and the factory's name at
/// info level.
#[test]
fn test_do_stop_logging_statement() {
    let mut factory = SharedFactory::new(for_protocol(|| Quiet));
    factory.start_factory();
    let log = common::logged_at_info(|| factory.stop_factory());
    let line = log.lines().next().unwrap_or_default();
    assert!(line.contains("INFO"), "{log}");
    assert!(
        line.contains("Stopping factory tokio_twisted::protocol::"),
        "{log}"
    );
    assert!(line.contains("ProtocolFactory"), "{log}");
}
