//! Conformance with Twisted's TCP tests: `twisted/test/test_tcp.py` (36 tests) and the
//! transport behaviour of `twisted/internet/test/test_tcp.py` (97 tests): listening,
//! connecting, the `ClientFactory` order, half-close, abort, producers, pausing and the
//! connection-loss reasons, over real loopback sockets on port 0.
//!
//! Not ported from `twisted/test/test_tcp.py` (9 of 36):
//! - `ListeningTests.testPortRepr`, `test_serverRepr`, `LogTests.test_logstrClientSetup`:
//!   Python `repr`s and log prefixes; connections log inside a `tracing` span instead.
//! - `ListeningTests.test_directConnectionLostCall`, `test_exceptInConnectionLostCall`:
//!   call the port's internal `connectionLost` directly; there is no such method.
//! - `LoopbackTests.test_connectByServiceFail`, `test_connectByService`: service names
//!   (`"http"` for a port) are not accepted; ports are numbers.
//! - `ProperlyCloseFilesTests.test_properlyCloseFiles`: inspects Python's socket objects
//!   after the test; sockets here are closed by ownership (dropping the stream).
//! - `WriteDataTests.test_writeAfterShutdownWithoutReading`: relies on Twisted noticing,
//!   while not reading, that a peer which already closed resets the connection after a
//!   write; this port reports the reset on the next write or read instead.
//!
//! Not ported from `twisted/internet/test/test_tcp.py` (60 of 97), by group:
//! - TLS (`TCPServerTests.test_writeAfterDisconnectAfterTLS`,
//!   `test_writeSequenceAfterDisconnectAfterTLS`, `TCPConnectionTests.test_noTLSBeforeStartTLS`,
//!   `test_tlsAfterStartTLS`, `TCPClientTestsBase.test_badContext`): TLS comes later (5).
//! - Port-number validation by Python's `getaddrinfo` (`TCPClientTestsBase.test_connectPortUnderflow`,
//!   `test_connectPortOverflow`, `test_connectPortZero`, `test_connectPortNotNumeric`,
//!   `test_getaddrinfo_negative_port`, `test_getaddrinfo_overflow_port`): a port is a `u16`,
//!   so these inputs do not type-check (6).
//! - Name resolution through a pluggable resolver (`TCPClientTestsBase.test_addresses`,
//!   `TCPConnectorTestsBuilder.test_invalidServiceName`, `SimpleUtilityTests.test_resolveNumericHost`,
//!   `test_resolveNumericService`, `test_resolveIPv6`, `test_resolveIPv6OverflowPort`,
//!   `test_resolveIPv6UnderflowPort`): the system resolver is used, with no pluggable
//!   resolver and no service names (7).
//! - `TestBindAddressBuilder` (`test_bindAddressListenInconsistent`,
//!   `test_bindAddressListenConsistent`, `test_bindAddressLegacy`,
//!   `test_bindAddressLegacyServerDefault`, `test_bindAddressBasic`,
//!   `test_bindAddressReusePort`, `test_bindAddressReuseAddr`,
//!   `test_bindAddressReuseAddrPort`): `SO_REUSEPORT`/`SO_REUSEADDR` variants of Twisted's
//!   `bindAddress` tuple forms; the bind address here is one `SocketAddr`, tested by
//!   `test_clientBind` (8).
//! - `TCPConnectorTestsBuilder.test_connectorIdentity`: the connector handed to the
//!   hooks is a clone of the one returned (same state), not the same object (1).
//! - Twisted's EMFILE machinery: `ExhaustsFileDescriptorsTests` (8),
//!   `AssertPeerClosedOnEMFILETests` (2), `StreamTransportTestsMixin.test_closePeerOnEMFILE`
//!   (1), `FileDescriptorReservationTests` (9), `NullFileDescriptorReservationTests` (3),
//!   `BuffersLogsTests` (3): a reserved descriptor and buffered logs; the accept loop here
//!   logs once and backs off on descriptor exhaustion instead (26).
//! - `StreamTransportTestsMixin.test_startedListeningLogMessage`,
//!   `test_connectionLostLogMsg`: log message formats (2).
//! - IPv6 scope ids (`TCPPortTestsMixin.test_portGetHostOnIPv6ScopeID`,
//!   `test_buildProtocolIPv6AddressScopeID`, `test_serverGetHostOnIPv6ScopeID`,
//!   `test_serverGetPeerOnIPv6ScopeID`): need a link-local interface; tests only use the
//!   loopback (4).
//! - `WriteSequenceTestsMixin.test_writeSequenceWithUnicodeRaisesException`:
//!   `write_sequence` takes `Bytes`; text does not type-check (1).

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim
#![allow(
    clippy::field_reassign_with_default,
    clippy::items_after_statements,
    clippy::unnecessary_wraps,
    reason = "each test configures its probes step by step, next to where they are used"
)]

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use tokio_twisted::error::{
    ConnectionAborted, ConnectionDone, ConnectionLost, ConnectionRefusedError, ListenError,
};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, Factory, Producer, ProducerKind, Protocol, TcpConnectOptions,
    TcpListenOptions, Transport, for_protocol,
};
use tokio_twisted::reactor::{Reactor, ReactorHandle};

use crate::common;

/// What one protocol saw.
#[derive(Default)]
struct Seen {
    events: Vec<String>,
    data: Vec<u8>,
    transport: Option<Transport>,
    reason: Option<Failure>,
}

type Shared = Rc<RefCell<Seen>>;
type Hook = Rc<dyn Fn(&Transport, &Shared)>;
type OnLost = Option<Rc<dyn Fn(&Failure)>>;

/// A protocol recording everything into a shared `Seen`, with optional actions.
#[derive(Clone, Default)]
struct Probe {
    seen: Shared,
    on_made: Option<Hook>,
    on_data: Option<Hook>,
    on_read_lost: Option<Hook>,
    on_write_lost: Option<Hook>,
    on_lost: OnLost,
    half_close: bool,
}

impl Probe {
    fn new() -> (Probe, Shared) {
        let p = Probe::default();
        let seen = Rc::clone(&p.seen);
        (p, seen)
    }
    fn t(&self) -> Transport {
        self.seen.borrow().transport.clone().unwrap()
    }
}

fn reason_name(f: &Failure) -> &'static str {
    if f.check::<ConnectionDone>() {
        "done"
    } else if f.check::<ConnectionLost>() {
        "lost"
    } else if f.check::<ConnectionAborted>() {
        "aborted"
    } else if f.check::<ConnectionRefusedError>() {
        "refused"
    } else if f.check::<PanicError>() {
        "panic"
    } else {
        "other"
    }
}

impl Protocol for Probe {
    fn connection_made(&mut self, t: Transport) {
        self.seen.borrow_mut().events.push("made".into());
        self.seen.borrow_mut().transport = Some(t.clone());
        if let Some(f) = self.on_made.clone() {
            f(&t, &self.seen);
        }
    }
    fn data_received(&mut self, data: &[u8]) {
        self.seen.borrow_mut().data.extend_from_slice(data);
        if let Some(f) = self.on_data.clone() {
            f(&self.t(), &self.seen);
        }
    }
    fn connection_lost(&mut self, reason: Failure) {
        let name = reason_name(&reason);
        self.seen.borrow_mut().events.push(format!("lost {name}"));
        self.seen.borrow_mut().reason = Some(reason.clone());
        if let Some(f) = self.on_lost.clone() {
            f(&reason);
        }
    }
    fn half_closeable(&self) -> bool {
        self.half_close
    }
    fn read_connection_lost(&mut self) {
        self.seen.borrow_mut().events.push("read lost".into());
        if let Some(f) = self.on_read_lost.clone() {
            f(&self.t(), &self.seen);
        }
    }
    fn write_connection_lost(&mut self) {
        self.seen.borrow_mut().events.push("write lost".into());
        if let Some(f) = self.on_write_lost.clone() {
            f(&self.t(), &self.seen);
        }
    }
}

fn hook(f: impl Fn(&Transport, &Shared) + 'static) -> Option<Hook> {
    Some(Rc::new(f))
}

/// A server factory handing out clones of `probe` (all sharing one `Seen`).
fn serve(probe: &Probe) -> impl Factory<Protocol = Probe> + use<> {
    let probe = probe.clone();
    for_protocol(move || probe.clone())
}

/// Listens on 127.0.0.1 with a server `probe`.
fn listen(reactor: &Reactor, probe: &Probe) -> u16 {
    let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
    reactor.listen_tcp_with(0, serve(probe), opts).unwrap().port()
}

/// A client factory logging its hooks into `log` and handing out `probe`.
struct Client {
    probe: Option<Probe>,
    log: Rc<RefCell<Vec<String>>>,
    stop_on_end: Option<ReactorHandle>,
}

impl Factory for Client {
    type Protocol = Probe;
    fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
        self.log.borrow_mut().push("build".into());
        self.probe.take()
    }
    fn start_factory(&mut self) {
        self.log.borrow_mut().push("start".into());
    }
    fn stop_factory(&mut self) {
        self.log.borrow_mut().push("stop".into());
    }
}

impl ClientFactory for Client {
    fn started_connecting(&mut self, _: &Connector) {
        self.log.borrow_mut().push("started".into());
    }
    fn client_connection_failed(&mut self, _: &Connector, reason: Failure) {
        self.log
            .borrow_mut()
            .push(format!("failed {}", reason_name(&reason)));
        if let Some(r) = &self.stop_on_end {
            let _ = r.stop();
        }
    }
    fn client_connection_lost(&mut self, _: &Connector, reason: Failure) {
        self.log
            .borrow_mut()
            .push(format!("client lost {}", reason_name(&reason)));
        if let Some(r) = &self.stop_on_end {
            let _ = r.stop();
        }
    }
}

fn client(probe: Probe, reactor: &Reactor) -> (Client, Rc<RefCell<Vec<String>>>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    (
        Client {
            probe: Some(probe),
            log: Rc::clone(&log),
            stop_on_end: Some(reactor.handle()),
        },
        log,
    )
}

/// Connects `client_probe` to a server `server_probe` and runs until the client's
/// connection is over (the factory stops the reactor).
fn converse(server_probe: &Probe, client_probe: Probe) -> Rc<RefCell<Vec<String>>> {
    let reactor = common::reactor();
    let port = listen(&reactor, server_probe);
    let (factory, log) = client(client_probe, &reactor);
    reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
    reactor.run().unwrap();
    log
}

/// A stop once both `a` and `b` have lost their connections.
fn stop_when_both_lost(reactor: &Reactor, a: &mut Probe, b: &mut Probe) {
    let count = Rc::new(RefCell::new(0));
    for p in [a, b] {
        let count = Rc::clone(&count);
        let handle = reactor.handle();
        p.on_lost = Some(Rc::new(move |_| {
            *count.borrow_mut() += 1;
            if *count.borrow() == 2 {
                handle.stop().unwrap();
            }
        }));
    }
}

fn events(seen: &Shared) -> Vec<String> {
    seen.borrow().events.clone()
}

// ---------------------------------------------------------------- twisted/test/test_tcp.py

/// twisted: ListeningTests.test_listen
/// `listen_tcp` returns a listening port whose host is the interface and the chosen port.
#[test]
fn test_listen() {
    common::bounded("test_listen", || {
        let reactor = common::reactor();
        let (probe, _) = Probe::new();
        let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
        let port = reactor.listen_tcp_with(0, serve(&probe), opts).unwrap();
        assert!(port.listening());
        assert_eq!(port.host().to_string(), format!("tcp:127.0.0.1:{}", port.port()));
        assert!(std::net::TcpStream::connect(("127.0.0.1", port.port())).is_ok());
    });
}

/// twisted: ListeningTests.testStopListening
/// After `stop_listening`'s Deferred fires, the port number can be listened on again.
#[test]
fn test_stop_listening() {
    common::bounded("test_stop_listening", || {
        let reactor = common::reactor();
        let (probe, _) = Probe::new();
        let number = listen(&reactor, &probe);
        let port = reactor.listen_tcp(0, serve(&probe)).unwrap();
        let handle = reactor.handle();
        let d = port.stop_listening();
        let probe2 = probe.clone();
        reactor
            .spawn_local(async move {
                d.await.unwrap();
                let again = handle.listen_tcp(port.port(), serve(&probe2));
                assert!(again.is_ok(), "{again:?}");
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert_ne!(number, 0);
    });
}

/// twisted: ListeningTests.testNumberedInterface
/// Listening on the numbered interface 127.0.0.1 works and reports it.
#[test]
fn test_numbered_interface() {
    common::bounded("test_numbered_interface", || {
        let reactor = common::reactor();
        let (probe, _) = Probe::new();
        let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
        let port = reactor.listen_tcp_with(0, serve(&probe), opts).unwrap();
        assert!(port.host().socket_addr().unwrap().ip().is_loopback());
    });
}

/// twisted: ListeningTests.test_restartListening
/// A port stopped and then listened on again (same number) accepts connections.
#[test]
fn test_restart_listening() {
    common::bounded("test_restart_listening", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        let handle = reactor.handle();
        server.on_made = hook(move |t, _| {
            t.lose_connection();
            let _ = &handle;
        });
        let port = reactor.listen_tcp(0, serve(&server)).unwrap();
        let number = port.port();
        let d = port.stop_listening();
        let handle = reactor.handle();
        let (client_probe, client_seen) = Probe::new();
        let server2 = server.clone();
        reactor
            .spawn_local(async move {
                d.await.unwrap();
                handle.listen_tcp(number, serve(&server2)).unwrap();
                let log = Rc::new(RefCell::new(Vec::new()));
                let factory = Client {
                    probe: Some(client_probe),
                    log,
                    stop_on_end: Some(handle.clone()),
                };
                handle.connect_tcp("127.0.0.1", number, factory).unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(events(&client_seen), ["made", "lost done"]);
        assert_eq!(events(&server_seen)[0], "made");
    });
}

/// twisted: ListeningTests.test_exceptInStop
/// A `stop_factory` that panics does not keep `stop_listening` from completing.
#[test]
fn test_except_in_stop() {
    struct Buggy;
    impl Factory for Buggy {
        type Protocol = Probe;
        fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
            None
        }
        fn stop_factory(&mut self) {
            panic!("Stop failure");
        }
    }
    common::bounded("test_except_in_stop", || {
        let logged = tokio_twisted::testing::LoggedErrors::capture();
        let reactor = common::reactor();
        let port = reactor.listen_tcp(0, Buggy).unwrap();
        let handle = reactor.handle();
        let d = port.stop_listening();
        reactor
            .spawn_local(async move {
                d.await.unwrap();
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert!(!port.listening());
        let failures = logged.flush_all();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].error_message().contains("Stop failure"));
    });
}

/// twisted: ListeningTests.test_restartAfterExcept
/// After a `stop_factory` failure, the port number can be listened on again.
#[test]
fn test_restart_after_except() {
    struct Buggy;
    impl Factory for Buggy {
        type Protocol = Probe;
        fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
            None
        }
        fn stop_factory(&mut self) {
            panic!("Stop failure");
        }
    }
    common::bounded("test_restart_after_except", || {
        let logged = tokio_twisted::testing::LoggedErrors::capture();
        let reactor = common::reactor();
        let port = reactor.listen_tcp(0, Buggy).unwrap();
        let number = port.port();
        let handle = reactor.handle();
        let d = port.stop_listening();
        reactor
            .spawn_local(async move {
                d.await.unwrap();
                let again = handle.listen_tcp(number, Buggy).unwrap();
                assert_eq!(again.port(), number);
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        // The second port's stop_factory panics at shutdown too.
        assert_eq!(logged.flush_all().len(), 2);
    });
}

/// twisted: LoopbackTests.test_closePortInProtocolFactory
/// A factory may stop its own port from `build_protocol`; the connection still works.
#[test]
fn test_close_port_in_protocol_factory() {
    struct Closing {
        port: Rc<RefCell<Option<tokio_twisted::protocol::ListeningPort>>>,
        probe: Probe,
    }
    impl Factory for Closing {
        type Protocol = Probe;
        fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
            drop(self.port.borrow().as_ref().unwrap().stop_listening());
            Some(self.probe.clone())
        }
    }
    common::bounded("test_close_port_in_protocol_factory", || {
        let reactor = common::reactor();
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        let slot = Rc::new(RefCell::new(None));
        let port = reactor
            .listen_tcp(
                0,
                Closing {
                    port: Rc::clone(&slot),
                    probe: server,
                },
            )
            .unwrap();
        *slot.borrow_mut() = Some(port.clone());
        let (probe, seen) = Probe::new();
        let (factory, _) = client(probe, &reactor);
        reactor.connect_tcp("127.0.0.1", port.port(), factory).unwrap();
        reactor.run().unwrap();
        assert_eq!(events(&seen), ["made", "lost done"]);
        assert!(!port.listening());
    });
}

/// twisted: LoopbackTests.test_tcpNoDelay
/// `set_tcp_nodelay` turns `TCP_NODELAY` on and off, and `tcp_nodelay` reports it.
#[test]
fn test_tcp_no_delay() {
    common::bounded("test_tcp_no_delay", || {
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| {
            assert!(!t.tcp_nodelay());
            t.set_tcp_nodelay(true);
            assert!(t.tcp_nodelay());
            t.set_tcp_nodelay(false);
            assert!(!t.tcp_nodelay());
            t.set_tcp_nodelay(true);
            t.lose_connection();
        });
        let (probe, seen) = Probe::new();
        converse(&server, probe);
        assert_eq!(events(&seen).last().unwrap(), "lost done");
    });
}

/// twisted: LoopbackTests.test_tcpKeepAlive
/// `set_tcp_keepalive` turns `SO_KEEPALIVE` on and off, and `tcp_keepalive` reports it.
#[test]
fn test_tcp_keep_alive() {
    common::bounded("test_tcp_keep_alive", || {
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| {
            assert!(!t.tcp_keepalive());
            t.set_tcp_keepalive(true);
            assert!(t.tcp_keepalive());
            t.set_tcp_keepalive(false);
            assert!(!t.tcp_keepalive());
            t.lose_connection();
        });
        let (probe, seen) = Probe::new();
        converse(&server, probe);
        assert_eq!(events(&seen).last().unwrap(), "lost done");
    });
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// twisted: LoopbackTests.testFailing
/// Connecting to a port nobody listens on calls `client_connection_failed`.
#[test]
fn test_failing() {
    common::bounded("test_failing", || {
        let reactor = common::reactor();
        let (probe, _) = Probe::new();
        let (factory, log) = client(probe, &reactor);
        reactor.connect_tcp("127.0.0.1", free_port(), factory).unwrap();
        reactor.run().unwrap();
        assert_eq!(*log.borrow(), ["start", "started", "failed refused", "stop"]);
    });
}

/// twisted: LoopbackTests.test_connectionRefusedErrorNumber
/// A refused connection is reported as `ConnectionRefusedError`.
#[test]
fn test_connection_refused_error_number() {
    common::bounded("test_connection_refused_error_number", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let d = handle
            .connect_protocol(
                "127.0.0.1",
                free_port(),
                Probe::default(),
                TcpConnectOptions::new(),
            )
            .add_errback(move |f| {
                handle.stop()?;
                Err(f)
            });
        reactor.run().unwrap();
        let f = tokio_twisted::testing::failure_result_of(d);
        assert!(f.check::<ConnectionRefusedError>(), "{f:?}");
    });
}

#[derive(Default)]
struct Counts {
    started: u32,
    stopped: u32,
}

/// twisted: FactoryTests.test_serverStartStop
/// A server factory is started when its port opens and stopped when the port closes.
#[test]
fn test_server_start_stop() {
    struct StartStop(Rc<RefCell<Counts>>);
    impl Factory for StartStop {
        type Protocol = Probe;
        fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
            None
        }
        fn start_factory(&mut self) {
            self.0.borrow_mut().started += 1;
        }
        fn stop_factory(&mut self) {
            self.0.borrow_mut().stopped += 1;
        }
    }
    common::bounded("test_server_start_stop", || {
        let reactor = common::reactor();
        let counts = Rc::new(RefCell::new(Counts::default()));
        let port = reactor.listen_tcp(0, StartStop(Rc::clone(&counts))).unwrap();
        assert_eq!((counts.borrow().started, counts.borrow().stopped), (1, 0));
        let handle = reactor.handle();
        let d = port.stop_listening();
        reactor
            .spawn_local(async move {
                d.await.unwrap();
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!((counts.borrow().started, counts.borrow().stopped), (1, 1));
    });
}

/// twisted: FactoryTests.test_clientStartStop
/// A client factory is started before connecting and stopped after the connection ends.
#[test]
fn test_client_start_stop() {
    common::bounded("test_client_start_stop", || {
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        let log = converse(&server, Probe::default());
        assert_eq!(
            *log.borrow(),
            ["start", "started", "build", "client lost done", "stop"]
        );
    });
}

/// twisted: CannotBindTests.test_cannotBind
/// Listening on a port already in use fails with `CannotListenError` naming it.
#[test]
fn test_cannot_bind() {
    common::bounded("test_cannot_bind", || {
        let reactor = common::reactor();
        let (probe, _) = Probe::new();
        let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
        let port = reactor.listen_tcp_with(0, serve(&probe), opts).unwrap();
        match reactor.listen_tcp_with(port.port(), serve(&probe), opts) {
            Err(ListenError::CannotListen(e)) => {
                assert_eq!(e.port(), port.port());
                assert_eq!(e.interface(), "127.0.0.1");
                assert_eq!(e.io_error().kind(), std::io::ErrorKind::AddrInUse);
            }
            other => panic!("expected CannotListen, got {other:?}"),
        }
    });
}

/// twisted: CannotBindTests.test_clientBind
/// A client bound to a local address connects from it; the server sees it as the peer.
#[test]
fn test_client_bind() {
    common::bounded("test_client_bind", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        let port = listen(&reactor, &server);
        let bind = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (probe, client_seen) = Probe::new();
        let (factory, _) = client(probe, &reactor);
        let opts = TcpConnectOptions::new().bind_address(bind);
        reactor
            .connect_tcp_with("127.0.0.1", port, factory, opts)
            .unwrap();
        reactor.run().unwrap();
        let client_host = client_seen.borrow().transport.as_ref().unwrap().host();
        assert_eq!(client_host, Address::Tcp(bind));
        let server_peer = server_seen.borrow().transport.as_ref().unwrap().peer();
        assert_eq!(server_peer, Address::Tcp(bind));
    });
}

/// twisted: LocalRemoteAddressTests.test_hostAddress
/// Each side's `host()` is the other side's `peer()`.
#[test]
fn test_host_address() {
    common::bounded("test_host_address", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        let (probe, client_seen) = Probe::new();
        converse(&server, probe);
        let s = server_seen.borrow().transport.clone().unwrap();
        let c = client_seen.borrow().transport.clone().unwrap();
        assert_eq!(s.host(), c.peer());
        assert_eq!(s.peer(), c.host());
    });
}

/// twisted: WriteDataTests.test_writer
/// `write` and `write_sequence` deliver everything, in order, before a clean close.
#[test]
fn test_writer() {
    common::bounded("test_writer", || {
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| {
            t.write(b"Hello Cleveland!\n");
            t.write_sequence([
                bytes::Bytes::from_static(b"Goodbye"),
                bytes::Bytes::from_static(b" cruel"),
                bytes::Bytes::from_static(b" world"),
                bytes::Bytes::from_static(b"\n"),
            ]);
            t.lose_connection();
        });
        let (probe, seen) = Probe::new();
        converse(&server, probe);
        assert_eq!(seen.borrow().data, b"Hello Cleveland!\nGoodbye cruel world\n");
        assert_eq!(events(&seen).last().unwrap(), "lost done");
    });
}

/// twisted: AddressTests.test_buildProtocolClient
/// A client factory's `build_protocol` gets the server's address.
#[test]
fn test_build_protocol_client() {
    struct Remember(Rc<RefCell<Option<Address>>>, ReactorHandle);
    impl Factory for Remember {
        type Protocol = Probe;
        fn build_protocol(&mut self, a: &Address) -> Option<Probe> {
            *self.0.borrow_mut() = Some(a.clone());
            let handle = self.1.clone();
            let mut p = Probe::default();
            p.on_made = hook(move |t, _| {
                t.lose_connection();
                let _ = &handle;
            });
            Some(p)
        }
    }
    impl ClientFactory for Remember {
        fn client_connection_lost(&mut self, _: &Connector, _: Failure) {
            self.1.stop().unwrap();
        }
    }
    common::bounded("test_build_protocol_client", || {
        let reactor = common::reactor();
        let port = listen(&reactor, &Probe::default());
        let seen = Rc::new(RefCell::new(None));
        reactor
            .connect_tcp("127.0.0.1", port, Remember(Rc::clone(&seen), reactor.handle()))
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(
            seen.borrow().clone().unwrap(),
            Address::Tcp(([127, 0, 0, 1], port).into())
        );
    });
}

/// twisted: LargeBufferTests.testWriter
/// A large single write (far above the 64 KiB buffer mark) arrives whole.
#[test]
fn test_writer_large_buffer() {
    common::bounded("test_writer_large_buffer", || {
        const SIZE: usize = 4 << 20;
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| {
            t.write(&vec![b'x'; SIZE]);
            t.lose_connection();
        });
        let (probe, seen) = Probe::new();
        converse(&server, probe);
        assert_eq!(seen.borrow().data.len(), SIZE);
        assert_eq!(events(&seen).last().unwrap(), "lost done");
    });
}

/// twisted: HalfCloseTests.testCloseWriteCloser
/// After `lose_write_connection` takes effect, the half-closeable client hears
/// `write_connection_lost`, later writes are dropped, and the server hears
/// `read_connection_lost` with the data sent before.
#[test]
fn test_close_write_closer() {
    common::bounded("test_close_write_closer", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        server.half_close = true;
        server.on_read_lost = hook(|t, _| t.lose_connection());
        let (mut client_probe, client_seen) = Probe::new();
        client_probe.half_close = true;
        client_probe.on_made = hook(|t, _| {
            t.write(b"hello");
            t.lose_write_connection();
        });
        client_probe.on_write_lost = hook(|t, _| {
            t.write(b" world");
            t.write(b"lalala fooled you");
            assert_eq!(t.buffered(), 0);
        });
        client_probe.on_read_lost = hook(|t, _| t.lose_connection());
        stop_when_both_lost(&reactor, &mut server, &mut client_probe);
        let port = listen(&reactor, &server);
        let (factory, _) = client(client_probe, &reactor);
        let mut factory = factory;
        factory.stop_on_end = None;
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        reactor.run().unwrap();
        assert_eq!(server_seen.borrow().data, b"hello");
        assert_eq!(events(&server_seen), ["made", "read lost", "lost done"]);
        assert_eq!(
            events(&client_seen),
            ["made", "write lost", "read lost", "lost done"]
        );
    });
}

/// twisted: HalfCloseTests.testWriteCloseNotification
/// The server's `lose_write_connection` gives it `write_connection_lost` and the client
/// `read_connection_lost`; the server's read side stays open.
#[test]
fn test_write_close_notification() {
    common::bounded("test_write_close_notification", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        server.half_close = true;
        server.on_made = hook(|t, _| t.lose_write_connection());
        server.on_read_lost = hook(|t, _| t.lose_connection());
        let (mut client_probe, client_seen) = Probe::new();
        client_probe.half_close = true;
        client_probe.on_read_lost = hook(|t, _| t.lose_write_connection());
        client_probe.on_write_lost = hook(|t, _| t.lose_connection());
        stop_when_both_lost(&reactor, &mut server, &mut client_probe);
        let port = listen(&reactor, &server);
        let (mut factory, _) = client(client_probe, &reactor);
        factory.stop_on_end = None;
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        reactor.run().unwrap();
        let s = events(&server_seen);
        assert_eq!(s[..2], ["made", "write lost"]);
        assert!(s.contains(&"read lost".to_owned()), "{s:?}");
        let c = events(&client_seen);
        assert_eq!(c[..2], ["made", "read lost"]);
    });
}

/// twisted: HalfCloseNoNotificationAndShutdownExceptionTests.testNoNotification
/// A protocol that is not half-closeable sees a peer's half-close as a clean close,
/// after the data sent before it.
#[test]
fn test_no_notification() {
    common::bounded("test_no_notification", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        let (mut client_probe, client_seen) = Probe::new();
        client_probe.on_made = hook(|t, _| {
            t.write(b"hello");
            t.lose_write_connection();
        });
        stop_when_both_lost(&reactor, &mut server, &mut client_probe);
        let port = listen(&reactor, &server);
        let (mut factory, _) = client(client_probe, &reactor);
        factory.stop_on_end = None;
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        reactor.run().unwrap();
        assert_eq!(server_seen.borrow().data, b"hello");
        assert_eq!(events(&server_seen), ["made", "lost done"]);
        assert_eq!(events(&client_seen), ["made", "lost done"]);
    });
}

/// twisted: HalfCloseNoNotificationAndShutdownExceptionTests.testShutdownException
/// `lose_write_connection` after the peer has already closed passes silently.
#[test]
fn test_shutdown_exception() {
    common::bounded("test_shutdown_exception", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        let (mut client_probe, client_seen) = Probe::new();
        client_probe.on_made = hook(|t, _| {
            t.write(b"X");
            t.lose_write_connection();
        });
        stop_when_both_lost(&reactor, &mut server, &mut client_probe);
        let port = listen(&reactor, &server);
        let (mut factory, _) = client(client_probe, &reactor);
        factory.stop_on_end = None;
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        reactor.run().unwrap();
        assert_eq!(events(&server_seen), ["made", "lost done"]);
        assert!(events(&client_seen).last().unwrap().starts_with("lost"));
    });
}

fn buggy_half_close(read: bool) -> (Vec<String>, Vec<Failure>) {
    let logged = tokio_twisted::testing::LoggedErrors::capture();
    let reactor = common::reactor();
    let (mut server, server_seen) = Probe::new();
    server.half_close = true;
    let (mut client_probe, client_seen) = Probe::new();
    client_probe.half_close = true;
    if read {
        client_probe.on_read_lost = hook(|_, _| panic!("ONO I AM BUGGY CODE"));
        server.on_made = hook(|t, _| t.lose_write_connection());
        server.on_read_lost = hook(|t, _| t.lose_connection());
    } else {
        client_probe.on_made = hook(|t, _| t.lose_write_connection());
        client_probe.on_write_lost = hook(|_, _| panic!("ONO I AM BUGGY CODE"));
        server.on_read_lost = hook(|t, _| t.lose_connection());
    }
    stop_when_both_lost(&reactor, &mut server, &mut client_probe);
    let port = listen(&reactor, &server);
    let (mut factory, _) = client(client_probe, &reactor);
    factory.stop_on_end = None;
    reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
    reactor.run().unwrap();
    drop(server_seen);
    (events(&client_seen), logged.flush_all())
}

/// twisted: HalfCloseBuggyApplicationTests.test_readNotificationRaises
/// A panic in `read_connection_lost` closes the connection with the panic as the reason.
#[test]
fn test_read_notification_raises() {
    common::bounded("test_read_notification_raises", || {
        let (client, _logged) = buggy_half_close(true);
        assert_eq!(client, ["made", "read lost", "lost panic"]);
    });
}

/// twisted: HalfCloseBuggyApplicationTests.test_writeNotificationRaises
/// A panic in `write_connection_lost` closes the connection with the panic as the reason.
#[test]
fn test_write_notification_raises() {
    common::bounded("test_write_notification_raises", || {
        let (client, _logged) = buggy_half_close(false);
        assert_eq!(client, ["made", "write lost", "lost panic"]);
    });
}

/// twisted: PauseProducingTests.test_pauseProducingInConnectionMade
/// `pause_producing` from a client's `connection_made` is honoured: no data arrives.
#[test]
fn test_pause_producing_in_connection_made() {
    common::bounded("test_pause_producing_in_connection_made", || {
        let reactor = common::reactor();
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| t.write(b"unread"));
        let (mut client_probe, client_seen) = Probe::new();
        client_probe.on_made = hook(|t, _| t.pause_producing());
        let port = listen(&reactor, &server);
        let (factory, _) = client(client_probe, &reactor);
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        let handle = reactor.handle();
        reactor
            .spawn_local(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert!(client_seen.borrow().data.is_empty());
        // Shutdown ended the paused connection.
        assert_eq!(events(&client_seen), ["made", "lost lost"]);
    });
}

/// twisted: CallBackOrderTests.test_loseOrder
/// The protocol's `connection_lost` runs before the factory's `client_connection_lost`.
#[test]
fn test_lose_order() {
    common::bounded("test_lose_order", || {
        let order = Rc::new(RefCell::new(Vec::new()));
        let o = Rc::clone(&order);
        let (mut probe, _) = Probe::new();
        probe.on_made = hook(|t, _| t.lose_connection());
        probe.on_lost = Some(Rc::new(move |_| o.borrow_mut().push("CL".to_owned())));
        let log = converse(&Probe::default(), probe);
        order.borrow_mut().push(log.borrow()[3].clone());
        assert_eq!(*order.borrow(), ["CL", "client lost done"]);
    });
}

// ------------------------------------------------------- twisted/internet/test/test_tcp.py

/// twisted: TCPPortTests.test_bindFailure
/// Binding a port in use fails synchronously with `CannotListenError`.
#[test]
fn test_bind_failure() {
    common::bounded("test_bind_failure", || {
        let reactor = common::reactor();
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
        let r = reactor.listen_tcp_with(port, serve(&Probe::default()), opts);
        assert!(matches!(r, Err(ListenError::CannotListen(_))));
    });
}

/// twisted: TCPPortTests.test_createFailure
/// A socket that cannot be created (here: an interface that is not local) is a
/// `CannotListenError`, not a panic.
#[test]
fn test_create_failure() {
    common::bounded("test_create_failure", || {
        let reactor = common::reactor();
        let opts = TcpListenOptions::new().interface("192.0.2.1".parse().unwrap());
        let r = reactor.listen_tcp_with(0, serve(&Probe::default()), opts);
        assert!(matches!(r, Err(ListenError::CannotListen(_))), "{r:?}");
    });
}

/// twisted: TCPServerTests.test_writeAfterDisconnect
/// Writes after the connection is lost are ignored.
#[test]
fn test_write_after_disconnect() {
    common::bounded("test_write_after_disconnect", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        let (probe, _) = Probe::new();
        converse(&server, probe);
        let t = server_seen.borrow().transport.clone().unwrap();
        assert!(t.is_lost());
        t.write(b"hello world");
        assert_eq!(t.buffered(), 0);
    });
}

/// twisted: TCPServerTests.test_writeSequenceAfterDisconnect
/// `write_sequence` after the connection is lost is ignored.
#[test]
fn test_write_sequence_after_disconnect() {
    common::bounded("test_write_sequence_after_disconnect", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        converse(&server, Probe::default());
        let t = server_seen.borrow().transport.clone().unwrap();
        t.write_sequence([bytes::Bytes::from_static(b"hello world")]);
        assert_eq!(t.buffered(), 0);
    });
}

/// twisted: TCPPortTestsMixin.test_portGetHostOnIPv4
/// An IPv4 port's host is the IPv4 address and the port it listens on.
#[test]
fn test_port_get_host_on_ipv4() {
    common::bounded("test_port_get_host_on_ipv4", || {
        let reactor = common::reactor();
        let port = reactor.listen_tcp(0, serve(&Probe::default())).unwrap();
        let host = port.host().socket_addr().unwrap();
        assert!(host.is_ipv4());
        assert_eq!(host.port(), port.port());
    });
}

/// twisted: TCPPortTestsMixin.test_portGetHostOnIPv6
/// An IPv6 port's host is the IPv6 address and the port it listens on.
#[test]
fn test_port_get_host_on_ipv6() {
    common::bounded("test_port_get_host_on_ipv6", || {
        let reactor = common::reactor();
        let opts = TcpListenOptions::new().interface("::1".parse().unwrap());
        let Ok(port) = reactor.listen_tcp_with(0, serve(&Probe::default()), opts) else {
            return; // no IPv6 loopback here
        };
        assert_eq!(port.host().to_string(), format!("tcp6:[::1]:{}", port.port()));
    });
}

fn server_sees(interface: &str, connect_to: &str) -> Option<(Address, Address, Address)> {
    let reactor = common::reactor();
    let built = Rc::new(RefCell::new(None));
    struct Remember(Rc<RefCell<Option<Address>>>);
    impl Factory for Remember {
        type Protocol = Probe;
        fn build_protocol(&mut self, a: &Address) -> Option<Probe> {
            *self.0.borrow_mut() = Some(a.clone());
            let mut p = Probe::default();
            p.on_made = hook(|t, _| t.lose_connection());
            Some(p)
        }
    }
    let factory = Rc::new(RefCell::new(None::<Shared>));
    let _ = &factory;
    let opts = TcpListenOptions::new().interface(interface.parse().unwrap());
    let port = reactor
        .listen_tcp_with(0, Remember(Rc::clone(&built)), opts)
        .ok()?;
    let (probe, seen) = Probe::new();
    let (f, _) = client(probe, &reactor);
    reactor.connect_tcp(connect_to, port.port(), f).unwrap();
    reactor.run().unwrap();
    let t = seen.borrow().transport.clone()?;
    let peer = built.borrow().clone()?;
    Some((peer, t.host(), t.peer()))
}

/// twisted: TCPPortTestsMixin.test_buildProtocolIPv4Address
/// The server factory's `build_protocol` gets the client's IPv4 address.
#[test]
fn test_build_protocol_ipv4_address() {
    common::bounded("test_build_protocol_ipv4_address", || {
        let (peer, client_host, _) = server_sees("127.0.0.1", "127.0.0.1").unwrap();
        assert_eq!(peer, client_host);
    });
}

/// twisted: TCPPortTestsMixin.test_buildProtocolIPv6Address
/// The server factory's `build_protocol` gets the client's IPv6 address.
#[test]
fn test_build_protocol_ipv6_address() {
    common::bounded("test_build_protocol_ipv6_address", || {
        if let Some((peer, client_host, _)) = server_sees("::1", "::1") {
            assert_eq!(peer, client_host);
            assert!(peer.to_string().starts_with("tcp6:[::1]:"));
        }
    });
}

/// twisted: TCPPortTestsMixin.test_serverGetHostOnIPv4
/// The server transport's host is the address the client connected to (IPv4).
#[test]
fn test_server_get_host_on_ipv4() {
    common::bounded("test_server_get_host_on_ipv4", || {
        let (_, _, client_peer) = server_sees("127.0.0.1", "127.0.0.1").unwrap();
        assert!(client_peer.to_string().starts_with("tcp:127.0.0.1:"));
    });
}

/// twisted: TCPPortTestsMixin.test_serverGetHostOnIPv6
/// The server transport's host is the address the client connected to (IPv6).
#[test]
fn test_server_get_host_on_ipv6() {
    common::bounded("test_server_get_host_on_ipv6", || {
        if let Some((_, _, client_peer)) = server_sees("::1", "::1") {
            assert!(client_peer.to_string().starts_with("tcp6:[::1]:"));
        }
    });
}

/// twisted: TCPPortTestsMixin.test_serverGetPeerOnIPv4
/// The server transport's peer is the client's address (IPv4).
#[test]
fn test_server_get_peer_on_ipv4() {
    common::bounded("test_server_get_peer_on_ipv4", || {
        let (peer, client_host, _) = server_sees("127.0.0.1", "127.0.0.1").unwrap();
        assert_eq!(peer.socket_addr().unwrap(), client_host.socket_addr().unwrap());
    });
}

/// twisted: TCPPortTestsMixin.test_serverGetPeerOnIPv6
/// The server transport's peer is the client's address (IPv6).
#[test]
fn test_server_get_peer_on_ipv6() {
    common::bounded("test_server_get_peer_on_ipv6", || {
        if let Some((peer, client_host, _)) = server_sees("::1", "::1") {
            assert_eq!(peer, client_host);
        }
    });
}

/// twisted: TCPTransportServerAddressTestMixin.test_serverAddressTCP4
/// Both ends of an IPv4 connection report IPv4 addresses.
#[test]
fn test_server_address_tcp4() {
    common::bounded("test_server_address_tcp4", || {
        let (peer, host, client_peer) = server_sees("127.0.0.1", "127.0.0.1").unwrap();
        for a in [peer, host, client_peer] {
            assert!(a.socket_addr().unwrap().is_ipv4());
        }
    });
}

/// twisted: TCPTransportServerAddressTestMixin.test_serverAddressTCP6
/// Both ends of an IPv6 connection report IPv6 addresses.
#[test]
fn test_server_address_tcp6() {
    common::bounded("test_server_address_tcp6", || {
        if let Some((peer, host, client_peer)) = server_sees("::1", "::1") {
            for a in [peer, host, client_peer] {
                assert!(a.socket_addr().unwrap().is_ipv6());
            }
        }
    });
}

/// twisted: TCPConnectionTestsBuilder.test_stopStartReading
/// Pausing a transport stops delivery; resuming delivers what arrived meanwhile.
#[test]
fn test_stop_start_reading() {
    common::bounded("test_stop_start_reading", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.pause_producing());
        let (mut client_probe, _) = Probe::new();
        client_probe.on_made = hook(|t, _| {
            t.write(b"x".repeat(100).as_slice());
        });
        let port = listen(&reactor, &server);
        let (factory, _) = client(client_probe, &reactor);
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        let handle = reactor.handle();
        let seen = Rc::clone(&server_seen);
        reactor
            .spawn_local(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                assert!(seen.borrow().data.is_empty());
                let t = seen.borrow().transport.clone().unwrap();
                t.resume_producing();
                while seen.borrow().data.len() < 100 {
                    tokio::task::yield_now().await;
                }
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(server_seen.borrow().data.len(), 100);
    });
}

/// twisted: TCPConnectionTestsBuilder.test_resumeProducing
/// `resume_producing` on a transport that was never paused keeps it reading.
#[test]
fn test_resume_producing() {
    common::bounded("test_resume_producing", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.resume_producing());
        server.on_data = hook(|t, _| t.lose_connection());
        let (mut probe, _) = Probe::new();
        probe.on_made = hook(|t, _| t.write(b"data"));
        converse(&server, probe);
        assert_eq!(server_seen.borrow().data, b"data");
    });
}

/// twisted: TCPConnectionTestsBuilder.test_resumeProducingWhileDisconnecting
/// `resume_producing` after `lose_connection` does not start reading again.
#[test]
fn test_resume_producing_while_disconnecting() {
    common::bounded("test_resume_producing_while_disconnecting", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| {
            t.lose_connection();
            t.resume_producing();
        });
        let (mut probe, _) = Probe::new();
        probe.on_made = hook(|t, _| t.write(b"ignored"));
        converse(&server, probe);
        assert!(server_seen.borrow().data.is_empty());
        assert_eq!(events(&server_seen)[1], "lost done");
    });
}

/// twisted: TCPConnectionTestsBuilder.test_resumeProducingWhileDisconnected
/// `resume_producing` after the connection is lost does nothing.
#[test]
fn test_resume_producing_while_disconnected() {
    common::bounded("test_resume_producing_while_disconnected", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| t.lose_connection());
        converse(&server, Probe::default());
        let t = server_seen.borrow().transport.clone().unwrap();
        t.resume_producing();
        assert!(t.is_lost());
        assert_eq!(events(&server_seen).len(), 2);
    });
}

/// twisted: TCPConnectionTestsBuilder.test_connectionLostAfterPausedTransport
/// A paused transport whose connection is closed locally still delivers
/// `connection_lost`.
#[test]
fn test_connection_lost_after_paused_transport() {
    common::bounded("test_connection_lost_after_paused_transport", || {
        let (mut server, server_seen) = Probe::new();
        server.on_made = hook(|t, _| {
            t.pause_producing();
            t.lose_connection();
        });
        converse(&server, Probe::default());
        assert_eq!(events(&server_seen), ["made", "lost done"]);
    });
}

/// twisted: TCPConnectionTestsBuilder.test_doubleHalfClose
/// Calling `lose_write_connection` twice half-closes once.
#[test]
fn test_double_half_close() {
    common::bounded("test_double_half_close", || {
        let reactor = common::reactor();
        let (mut server, server_seen) = Probe::new();
        server.half_close = true;
        server.on_made = hook(|t, _| {
            t.lose_write_connection();
            t.lose_write_connection();
        });
        server.on_read_lost = hook(|t, _| t.lose_connection());
        let (mut client_probe, _) = Probe::new();
        stop_when_both_lost(&reactor, &mut server, &mut client_probe);
        let port = listen(&reactor, &server);
        let (mut factory, _) = client(client_probe, &reactor);
        factory.stop_on_end = None;
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        reactor.run().unwrap();
        let s = events(&server_seen);
        assert_eq!(s.iter().filter(|e| *e == "write lost").count(), 1, "{s:?}");
    });
}

/// twisted: WriteSequenceTestsMixin.test_writeSequeceWithoutWrite
/// `write_sequence` alone sends its chunks.
#[test]
fn test_write_sequece_without_write() {
    common::bounded("test_write_sequece_without_write", || {
        let (mut server, _) = Probe::new();
        server.on_made = hook(|t, _| {
            t.write_sequence([bytes::Bytes::from_static(b"Some sequence splitted")]);
            t.lose_connection();
        });
        let (probe, seen) = Probe::new();
        converse(&server, probe);
        assert_eq!(seen.borrow().data, b"Some sequence splitted");
    });
}

/// Records the calls a producer gets; writes `chunk` per resume while `left` > 0.
struct Recorder {
    calls: Arc<Mutex<Vec<&'static str>>>,
    transport: Transport,
    left: u32,
}

impl Producer for Recorder {
    fn pause_producing(&mut self) {
        self.calls.lock().unwrap().push("pause");
    }
    fn resume_producing(&mut self) {
        self.calls.lock().unwrap().push("resume");
        if self.left > 0 {
            self.left -= 1;
            self.transport.write(b"x");
        } else {
            self.transport.unregister_producer();
            self.transport.lose_connection();
        }
    }
    fn stop_producing(&mut self) {
        self.calls.lock().unwrap().push("stop");
    }
}

/// twisted: WriteSequenceTestsMixin.test_streamingProducer
/// A streaming producer is paused when the buffer passes the high-water mark and
/// resumed when it drains; it is not resumed at registration.
#[test]
fn test_streaming_producer() {
    common::bounded("test_streaming_producer", || {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c = Arc::clone(&calls);
        let (mut server, _) = Probe::new();
        server.on_made = hook(move |t, _| {
            t.register_producer(
                Recorder {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                    left: 0,
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            assert!(c.lock().unwrap().is_empty());
            t.write(&vec![b'x'; 16 << 20]);
        });
        server.on_data = hook(|_, _| {});
        let (mut probe, seen) = Probe::new();
        probe.on_data = hook(|t, seen| {
            if seen.borrow().data.len() == 16 << 20 {
                t.lose_connection();
            }
        });
        converse(&server, probe);
        assert_eq!(seen.borrow().data.len(), 16 << 20);
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls[..2], ["pause", "resume"], "{calls:?}");
    });
}

/// twisted: WriteSequenceTestsMixin.test_nonStreamingProducer
/// A pull producer is resumed at registration and each time the buffer empties.
#[test]
fn test_non_streaming_producer() {
    common::bounded("test_non_streaming_producer", || {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c = Arc::clone(&calls);
        let (mut server, _) = Probe::new();
        server.on_made = hook(move |t, _| {
            t.register_producer(
                Recorder {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                    left: 2,
                },
                ProducerKind::Pull,
            )
            .unwrap();
            // Resumed at once, from inside register_producer.
            assert_eq!(*c.lock().unwrap(), ["resume"]);
        });
        let (probe, seen) = Probe::new();
        converse(&server, probe);
        assert_eq!(seen.borrow().data, b"xx");
        assert_eq!(*calls.lock().unwrap(), ["resume", "resume", "resume"]);
    });
}

fn abort_pair(server: Probe, client_probe: Probe) -> (Vec<String>, Vec<String>) {
    let reactor = common::reactor();
    let mut server = server;
    let mut client_probe = client_probe;
    let server_seen = Rc::clone(&server.seen);
    let client_seen = Rc::clone(&client_probe.seen);
    stop_when_both_lost(&reactor, &mut server, &mut client_probe);
    let port = listen(&reactor, &server);
    let (mut factory, _) = client(client_probe, &reactor);
    factory.stop_on_end = None;
    reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
    reactor.run().unwrap();
    (events(&server_seen), events(&client_seen))
}

/// twisted: AbortConnectionMixin.test_dataReceivedAbort
/// Aborting from `data_received` gives this side `ConnectionAborted` and the peer
/// `ConnectionLost`.
#[test]
fn test_data_received_abort() {
    common::bounded("test_data_received_abort", || {
        let mut server = Probe::default();
        server.on_made = hook(|t, _| t.write(b"hello"));
        let mut c = Probe::default();
        c.on_data = hook(|t, _| t.abort_connection());
        let (s, c) = abort_pair(server, c);
        assert_eq!(c, ["made", "lost aborted"]);
        assert_eq!(s, ["made", "lost lost"]);
    });
}

/// twisted: AbortConnectionMixin.test_clientAbortsConnectionTwice
/// A second `abort_connection` does nothing: one `connection_lost`.
#[test]
fn test_client_aborts_connection_twice() {
    common::bounded("test_client_aborts_connection_twice", || {
        let mut c = Probe::default();
        c.on_made = hook(|t, _| {
            t.abort_connection();
            t.abort_connection();
        });
        let (s, c) = abort_pair(Probe::default(), c);
        assert_eq!(c, ["made", "lost aborted"]);
        assert_eq!(s.last().unwrap(), "lost lost");
    });
}

/// twisted: AbortConnectionMixin.test_clientAbortsConnectionThenLosesConnection
/// `lose_connection` after `abort_connection` does not change the outcome.
#[test]
fn test_client_aborts_connection_then_loses_connection() {
    common::bounded("test_client_aborts_connection_then_loses_connection", || {
        let mut c = Probe::default();
        c.on_made = hook(|t, _| {
            t.abort_connection();
            t.lose_connection();
        });
        let (_, c) = abort_pair(Probe::default(), c);
        assert_eq!(c, ["made", "lost aborted"]);
    });
}

/// twisted: AbortConnectionMixin.test_serverAbortsConnectionTwice
/// A server aborting twice gets one `ConnectionAborted`; the client sees `ConnectionLost`.
#[test]
fn test_server_aborts_connection_twice() {
    common::bounded("test_server_aborts_connection_twice", || {
        let mut s = Probe::default();
        s.on_made = hook(|t, _| {
            t.abort_connection();
            t.abort_connection();
        });
        let (s, c) = abort_pair(s, Probe::default());
        assert_eq!(s, ["made", "lost aborted"]);
        assert_eq!(c.last().unwrap(), "lost lost");
    });
}

/// twisted: AbortConnectionMixin.test_serverAbortsConnectionThenLosesConnection
/// A server's `lose_connection` after `abort_connection` changes nothing.
#[test]
fn test_server_aborts_connection_then_loses_connection() {
    common::bounded("test_server_aborts_connection_then_loses_connection", || {
        let mut s = Probe::default();
        s.on_made = hook(|t, _| {
            t.abort_connection();
            t.lose_connection();
        });
        let (s, c) = abort_pair(s, Probe::default());
        assert_eq!(s, ["made", "lost aborted"]);
        assert_eq!(c.last().unwrap(), "lost lost");
    });
}

/// A pull producer that aborts the connection from `resume_producing`.
struct Aborting {
    transport: Transport,
    fail: bool,
}

impl Producer for Aborting {
    fn resume_producing(&mut self) {
        self.transport.write(b"x");
        self.transport.abort_connection();
        assert!(!self.fail, "ONO I AM BUGGY CODE");
    }
    fn stop_producing(&mut self) {}
}

/// twisted: AbortConnectionMixin.test_resumeProducingAbort
/// Aborting from a producer's `resume_producing` closes with `ConnectionAborted`.
#[test]
fn test_resume_producing_abort() {
    common::bounded("test_resume_producing_abort", || {
        let mut c = Probe::default();
        c.on_made = hook(|t, _| {
            t.register_producer(
                Aborting {
                    transport: t.clone(),
                    fail: false,
                },
                ProducerKind::Pull,
            )
            .unwrap();
        });
        let (s, c) = abort_pair(Probe::default(), c);
        assert_eq!(c, ["made", "lost aborted"]);
        assert_eq!(s.last().unwrap(), "lost lost");
    });
}

/// twisted: AbortConnectionMixin.test_resumeProducingAbortLater
/// Aborting from a producer resumed later (when the buffer drains) works the same.
#[test]
fn test_resume_producing_abort_later() {
    common::bounded("test_resume_producing_abort_later", || {
        let mut c = Probe::default();
        c.on_made = hook(|t, _| {
            t.write(b"first");
            t.register_producer(
                Aborting {
                    transport: t.clone(),
                    fail: false,
                },
                ProducerKind::Pull,
            )
            .unwrap();
        });
        let (_, c) = abort_pair(Probe::default(), c);
        assert_eq!(c, ["made", "lost aborted"]);
    });
}

/// twisted: AbortConnectionMixin.test_fullWriteBuffer
/// Aborting with a full write buffer (a peer that does not read) still closes at once.
#[test]
fn test_full_write_buffer() {
    common::bounded("test_full_write_buffer", || {
        let mut s = Probe::default();
        s.on_made = hook(|t, _| t.pause_producing());
        let (mut c, seen) = Probe::new();
        c.on_made = hook(|t, _| {
            t.write(&vec![b'x'; 32 << 20]);
            t.abort_connection();
        });
        // The server does not read, so it only notices at shutdown.
        converse(&s, c);
        assert_eq!(events(&seen), ["made", "lost aborted"]);
    });
}

/// twisted: AbortConnectionMixin.test_fullWriteBufferAfterByteExchange
/// The same after some bytes were exchanged both ways.
#[test]
fn test_full_write_buffer_after_byte_exchange() {
    common::bounded("test_full_write_buffer_after_byte_exchange", || {
        let mut s = Probe::default();
        s.on_data = hook(|t, _| {
            t.write(b"ack");
            t.pause_producing();
        });
        let (mut c, seen) = Probe::new();
        c.on_made = hook(|t, _| t.write(b"hello"));
        c.on_data = hook(|t, _| {
            t.write(&vec![b'x'; 32 << 20]);
            t.abort_connection();
        });
        converse(&s, c);
        assert_eq!(events(&seen), ["made", "lost aborted"]);
    });
}

/// twisted: AbortConnectionMixin.test_dataReceivedThrows
/// A panic in `data_received` closes the connection with the panic as the reason.
#[test]
fn test_data_received_throws() {
    common::bounded("test_data_received_throws", || {
        let mut s = Probe::default();
        s.on_made = hook(|t, _| t.write(b"hello"));
        let mut c = Probe::default();
        c.on_data = hook(|_, _| panic!("ONO I AM BUGGY CODE"));
        let (_, c) = abort_pair(s, c);
        assert_eq!(c, ["made", "lost panic"]);
    });
}

/// twisted: AbortConnectionMixin.test_resumeProducingThrows
/// A panic in a producer's `resume_producing` closes the connection with the panic.
#[test]
fn test_resume_producing_throws() {
    common::bounded("test_resume_producing_throws", || {
        let mut c = Probe::default();
        c.on_made = hook(|t, _| {
            t.write(b"first");
            t.register_producer(
                Aborting {
                    transport: t.clone(),
                    fail: true,
                },
                ProducerKind::Pull,
            )
            .unwrap();
        });
        let (_, c) = abort_pair(Probe::default(), c);
        assert_eq!(c, ["made", "lost panic"]);
    });
}

/// twisted: TCPClientTestsBase.test_buildProtocolReturnsNone
/// A client factory whose `build_protocol` refuses gets the connection closed and hears
/// `client_connection_lost` with `ConnectionDone`.
#[test]
fn test_build_protocol_returns_none() {
    common::bounded("test_build_protocol_returns_none", || {
        let reactor = common::reactor();
        let port = listen(&reactor, &Probe::default());
        let log = Rc::new(RefCell::new(Vec::new()));
        let factory = Client {
            probe: None,
            log: Rc::clone(&log),
            stop_on_end: Some(reactor.handle()),
        };
        reactor.connect_tcp("127.0.0.1", port, factory).unwrap();
        reactor.run().unwrap();
        assert_eq!(
            *log.borrow(),
            ["start", "started", "build", "client lost done", "stop"]
        );
    });
}

/// twisted: TCPConnectorTestsBuilder.test_userFail
/// `stop_connecting` from `started_connecting` fails the attempt: the factory hears
/// `client_connection_failed` with a cancellation (Twisted's `UserError`).
#[test]
fn test_user_fail() {
    struct Stopper(Rc<RefCell<Vec<String>>>, ReactorHandle);
    impl Factory for Stopper {
        type Protocol = Probe;
        fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
            self.0.borrow_mut().push("build".into());
            None
        }
    }
    impl ClientFactory for Stopper {
        fn started_connecting(&mut self, c: &Connector) {
            c.stop_connecting().unwrap();
        }
        fn client_connection_failed(&mut self, _: &Connector, reason: Failure) {
            assert!(reason.check::<tokio_twisted::error::ConnectingCancelledError>());
            self.0.borrow_mut().push("failed".into());
            self.1.stop().unwrap();
        }
    }
    common::bounded("test_user_fail", || {
        let reactor = common::reactor();
        let port = listen(&reactor, &Probe::default());
        let log = Rc::new(RefCell::new(Vec::new()));
        reactor
            .connect_tcp("127.0.0.1", port, Stopper(Rc::clone(&log), reactor.handle()))
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(*log.borrow(), ["failed"]);
    });
}

/// twisted: TCPConnectorTestsBuilder.test_reconnect
/// `connect()` from `client_connection_lost` makes a new connection with the same
/// factory.
#[test]
fn test_reconnect() {
    struct Twice {
        connections: u32,
        reactor: ReactorHandle,
    }
    impl Factory for Twice {
        type Protocol = Probe;
        fn build_protocol(&mut self, _: &Address) -> Option<Probe> {
            self.connections += 1;
            let mut p = Probe::default();
            p.on_made = hook(|t, _| t.lose_connection());
            Some(p)
        }
    }
    impl ClientFactory for Twice {
        fn client_connection_lost(&mut self, c: &Connector, _: Failure) {
            if self.connections < 2 {
                c.connect().unwrap();
            } else {
                self.reactor.stop().unwrap();
            }
        }
    }
    common::bounded("test_reconnect", || {
        let reactor = common::reactor();
        let port = listen(&reactor, &Probe::default());
        let counted = Rc::new(RefCell::new(0));
        let factory = tokio_twisted::protocol::SharedFactory::new(Twice {
            connections: 0,
            reactor: reactor.handle(),
        });
        reactor.connect_tcp("127.0.0.1", port, factory.clone()).unwrap();
        reactor.run().unwrap();
        *counted.borrow_mut() = factory.with(|f| f.connections);
        assert_eq!(*counted.borrow(), 2);
    });
}
