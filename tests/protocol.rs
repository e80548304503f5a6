//! The protocol model without sockets: `Protocol`, `Factory`, `Transport` over a
//! `StringTransport`, producers and the shared errors.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use tokio_twisted::error::{ConnectionAborted, ConnectionDone, ConnectionLost, connect_error};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{
    Address, Factory, Producer, ProducerKind, ProducerState, Protocol, SharedFactory, Transport, for_protocol,
};
use tokio_twisted::testing::StringTransport;

#[derive(Default)]
struct Recorder {
    transport: Option<Transport>,
    events: Vec<String>,
}

impl Protocol for Recorder {
    fn connection_made(&mut self, transport: Transport) {
        self.events.push("made".into());
        self.transport = Some(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.events
            .push(format!("data {}", String::from_utf8_lossy(data)));
    }
    fn connection_lost(&mut self, reason: Failure) {
        self.events.push(format!("lost {}", reason.error_message()));
    }
}

#[test]
fn writes_are_recorded_in_order_and_coalesced() {
    let wire = StringTransport::new();
    let t = wire.transport();
    t.write(b"a");
    t.write_sequence([Bytes::from(vec![b'b'; 5000]), Bytes::from_static(b"c")]);
    t.write(b"");
    t.write(&[b'd'; 4096]);
    let value = wire.value();
    assert_eq!(value.len(), 1 + 5000 + 1 + 4096);
    assert_eq!(value[0], b'a');
    assert_eq!(value[5001], b'c');
    assert_eq!(t.buffered(), value.len());
    wire.clear();
    assert!(wire.value().is_empty());
    assert_eq!(t.buffered(), 0);
}

#[test]
fn writes_after_lose_connection_are_kept_and_after_loss_ignored() {
    let wire = StringTransport::new();
    let mut p = Recorder::default();
    p.make_connection(wire.transport());
    let t = wire.transport();
    t.lose_connection();
    t.write(b"still sent");
    assert_eq!(wire.value(), b"still sent");
    wire.lose_connection_with(&mut p, Failure::new(ConnectionDone));
    t.write(b"dropped");
    assert_eq!(wire.value(), b"still sent");
    assert!(t.is_lost());
    assert_eq!(p.events, ["made", "lost connection was closed cleanly"]);
    // A second loss is not delivered.
    wire.lose_connection_with(&mut p, Failure::new(ConnectionLost::new()));
    assert_eq!(p.events.len(), 2);
}

#[test]
fn abort_sets_both_flags_and_write_disconnect_is_separate() {
    let wire = StringTransport::new();
    let t = wire.transport();
    t.lose_write_connection();
    assert!(wire.write_connection_lost());
    assert!(!wire.disconnecting());
    t.abort_connection();
    assert!(wire.aborted());
    assert!(wire.disconnecting());
}

#[derive(Default)]
struct Calls(Vec<&'static str>);

struct Logging(std::sync::Arc<std::sync::Mutex<Calls>>);

impl Producer for Logging {
    fn pause_producing(&mut self) {
        self.0.lock().unwrap().0.push("pause");
    }
    fn resume_producing(&mut self) {
        self.0.lock().unwrap().0.push("resume");
    }
    fn stop_producing(&mut self) {
        self.0.lock().unwrap().0.push("stop");
    }
}

#[test]
fn producer_registration_rules() {
    let wire = StringTransport::new();
    let t = wire.transport();
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Calls::default()));
    t.register_producer(Logging(calls.clone()), ProducerKind::Streaming)
        .unwrap();
    assert_eq!(wire.producer_kind(), Some(ProducerKind::Streaming));
    let refused = t
        .register_producer(Logging(calls.clone()), ProducerKind::Pull)
        .unwrap_err();
    drop(refused.into_producer());
    wire.with_producer(Producer::pause_producing).unwrap();
    assert_eq!(calls.lock().unwrap().0, ["pause"]);
    // Losing the connection stops the producer; registering afterwards stops at once.
    let mut p = Recorder::default();
    wire.lose_connection_with(&mut p, Failure::new(ConnectionDone));
    assert_eq!(calls.lock().unwrap().0, ["pause", "stop"]);
    t.register_producer(Logging(calls.clone()), ProducerKind::Pull)
        .unwrap();
    assert_eq!(calls.lock().unwrap().0, ["pause", "stop", "stop"]);
    assert!(wire.producer_kind().is_none());
}

#[test]
fn transport_is_a_push_producer_over_reading() {
    let wire = StringTransport::new();
    let mut t: Box<dyn Producer> = Box::new(wire.transport());
    t.pause_producing();
    assert_eq!(wire.producer_state(), ProducerState::Paused);
    t.resume_producing();
    assert_eq!(wire.producer_state(), ProducerState::Producing);
    t.stop_producing();
    assert_eq!(wire.producer_state(), ProducerState::Stopped);
    assert!(wire.disconnecting());
    t.resume_producing();
    assert_eq!(wire.producer_state(), ProducerState::Stopped);
}

#[test]
fn transport_is_send_sync_and_writes_from_another_thread() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Transport>();
    let wire = StringTransport::new();
    let t = wire.transport();
    std::thread::spawn(move || t.write(b"from a thread"))
        .join()
        .unwrap();
    assert_eq!(wire.value(), b"from a thread");
}

#[test]
fn for_protocol_and_shared_factory_count_ports() {
    #[derive(Default)]
    struct Counting {
        starts: u32,
        stops: u32,
        built: u32,
    }
    impl Factory for Counting {
        type Protocol = Recorder;
        fn build_protocol(&mut self, _: &Address) -> Option<Recorder> {
            self.built += 1;
            Some(Recorder::default())
        }
        fn start_factory(&mut self) {
            self.starts += 1;
        }
        fn stop_factory(&mut self) {
            self.stops += 1;
        }
    }
    let shared = SharedFactory::new(Counting::default());
    let mut a = shared.clone();
    let mut b = shared.clone();
    a.start_factory();
    b.start_factory();
    assert_eq!(shared.num_ports(), 2);
    assert!(a.build_protocol(&Address::Unix(None)).is_some());
    b.stop_factory();
    assert_eq!(shared.with(|f| (f.starts, f.stops)), (1, 0));
    a.stop_factory();
    a.stop_factory(); // unbalanced: ignored
    assert_eq!(shared.with(|f| (f.starts, f.stops, f.built)), (1, 1, 1));

    let mut f = for_protocol(Recorder::default);
    let mut p = f.build_protocol(&Address::Unix(None)).unwrap();
    p.make_connection(StringTransport::new().transport());
    assert_eq!(p.events, ["made"]);
}

#[test]
fn shared_and_boxed_protocols_forward_every_event() {
    let shared = Rc::new(RefCell::new(Recorder::default()));
    let mut boxed: Box<dyn Protocol> = Box::new(Rc::clone(&shared));
    let wire = StringTransport::new();
    boxed.make_connection(wire.transport());
    boxed.data_received(b"x");
    boxed.connection_lost(Failure::new(ConnectionAborted));
    assert_eq!(
        shared.borrow().events,
        ["made", "data x", "lost connection was aborted locally"]
    );
    assert!(!boxed.half_closeable());
}

#[test]
fn connect_errors_are_sorted_into_twisted_types() {
    use std::io::ErrorKind;
    use tokio_twisted::error::{ConnectError, ConnectionRefusedError, NoRouteError, TimeoutError};
    assert!(connect_error(ErrorKind::ConnectionRefused.into()).check::<ConnectionRefusedError>());
    assert!(connect_error(ErrorKind::TimedOut.into()).check::<TimeoutError>());
    assert!(connect_error(ErrorKind::HostUnreachable.into()).check::<NoRouteError>());
    let other = connect_error(std::io::Error::other("x"));
    assert!(other.check::<ConnectError>());
    assert!(other.source().is_some());
}

mod loopback {
    use super::*;
    use tokio_twisted::testing::Loopback;

    #[derive(Default)]
    struct Side {
        transport: Option<Transport>,
        got: Vec<u8>,
        lost: Option<String>,
    }

    impl Protocol for Side {
        fn connection_made(&mut self, t: Transport) {
            self.transport = Some(t);
        }
        fn data_received(&mut self, data: &[u8]) {
            self.got.extend_from_slice(data);
        }
        fn connection_lost(&mut self, reason: Failure) {
            assert!(self.lost.is_none(), "connection_lost twice");
            self.lost = Some(reason.error_message());
        }
    }

    #[test]
    fn lose_connection_delivers_pending_writes_then_done_on_both_sides() {
        let mut pair = Loopback::connect(Side::default(), Side::default());
        let t = pair.client_transport();
        t.write(b"last words");
        t.lose_connection();
        t.write(b"!");
        pair.pump();
        assert_eq!(pair.server().got, b"last words!");
        assert!(pair.is_closed());
        assert_eq!(
            pair.server().lost.as_deref(),
            Some("connection was closed cleanly")
        );
        assert_eq!(
            pair.client().lost.as_deref(),
            Some("connection was closed cleanly")
        );
    }

    #[test]
    fn abort_drops_data_and_gives_aborted_and_lost() {
        let mut pair = Loopback::connect(Side::default(), Side::default());
        let t = pair.server_transport();
        t.write(b"dropped");
        t.abort_connection();
        pair.pump();
        assert!(pair.client().got.is_empty());
        assert_eq!(
            pair.server().lost.as_deref(),
            Some("connection was aborted locally")
        );
        assert!(
            pair.client()
                .lost
                .as_deref()
                .unwrap()
                .starts_with("connection to the other side was lost")
        );
    }

    #[test]
    fn a_paused_side_receives_nothing_until_resumed() {
        let mut pair = Loopback::connect(Side::default(), Side::default());
        pair.server_transport().pause_producing();
        pair.client_transport().write(b"held");
        assert!(!pair.pump());
        assert!(pair.server().got.is_empty());
        pair.server_transport().resume_producing();
        assert!(pair.pump());
        assert_eq!(pair.server().got, b"held");
        assert!(!pair.is_closed());
    }
}

mod memory_reactor {
    use super::*;
    use tokio_twisted::protocol::{ConnectorState, ReactorTcp, TcpConnectOptions, TcpListenOptions};
    use tokio_twisted::testing::MemoryReactor;

    #[test]
    fn records_listen_and_connect_calls_with_their_factories() {
        let reactor = MemoryReactor::new();
        let port = reactor
            .listen_tcp_with(
                8080,
                for_protocol(Recorder::default),
                TcpListenOptions::new().backlog(7),
            )
            .unwrap();
        assert_eq!(port.port(), 8080);
        let connector = reactor
            .connect_tcp_with(
                "10.0.0.2",
                25,
                for_protocol(Recorder::default),
                TcpConnectOptions::new(),
            )
            .unwrap();
        assert_eq!(connector.state(), ConnectorState::Connecting);
        assert_eq!(connector.destination().port(), Some(25));
        let mut servers = reactor.take_tcp_servers();
        assert_eq!((servers[0].port, servers[0].options.get_backlog()), (8080, 7));
        assert!(
            servers[0]
                .factory
                .build_dyn_protocol(&Address::Unix(None))
                .is_some()
        );
        assert!(reactor.tcp_servers().is_empty());
        assert_eq!(reactor.tcp_clients()[0].host, "10.0.0.2");
        assert!(port.stop_listening().called());
    }
}
