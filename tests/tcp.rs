//! TCP on the reactor over real loopback sockets (port 0): the connection driver's event
//! order, closes, aborts, half-close, producers, panics, shutdown, listen and connect.

#![allow(
    clippy::items_after_statements,
    reason = "each test declares its own small protocol or factory next to its use"
)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use tokio_twisted::error::{
    ConnectionAborted, ConnectionDone, ConnectionLost, ConnectionRefusedError, ListenError,
};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, Factory, Producer, ProducerKind, Protocol, SharedFactory,
    TcpListenOptions, Transport, for_protocol,
};
use tokio_twisted::reactor::{ReactorHandle, SpawnLocalError};

type Log = Rc<RefCell<Vec<String>>>;
type OnTransport = Option<Rc<dyn Fn(&Transport)>>;
type OnData = Option<Rc<dyn Fn(&Transport, &[u8])>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn reason_name(f: &Failure) -> String {
    if f.check::<ConnectionDone>() {
        "done".into()
    } else if f.check::<ConnectionLost>() {
        "lost".into()
    } else if f.check::<ConnectionAborted>() {
        "aborted".into()
    } else if f.check::<ConnectionRefusedError>() {
        "refused".into()
    } else if f.check::<PanicError>() {
        format!("panic {}", f.error_message())
    } else {
        format!("other {}", f.error_message())
    }
}

/// What a protocol does on each event, and what it saw.
#[derive(Default, Clone)]
struct Script {
    on_made: OnTransport,
    on_data: OnData,
    on_read_lost: OnTransport,
    on_lost: Option<Rc<dyn Fn()>>,
    half_close: bool,
}

struct Scripted {
    name: &'static str,
    log: Log,
    script: Script,
    transport: Option<Transport>,
}

impl Scripted {
    fn new(name: &'static str, log: &Log, script: Script) -> Self {
        Scripted {
            name,
            log: Rc::clone(log),
            script,
            transport: None,
        }
    }
    fn note(&self, what: &str) {
        self.log.borrow_mut().push(format!("{} {what}", self.name));
    }
}

impl Protocol for Scripted {
    fn connection_made(&mut self, transport: Transport) {
        self.note("made");
        if let Some(f) = &self.script.on_made {
            f(&transport);
        }
        self.transport = Some(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.note(&format!("data {}", String::from_utf8_lossy(data)));
        if let Some(f) = &self.script.on_data {
            f(self.transport.as_ref().unwrap(), data);
        }
    }
    fn connection_lost(&mut self, reason: Failure) {
        self.note(&format!("lost {}", reason_name(&reason)));
        if let Some(f) = &self.script.on_lost {
            f();
        }
    }
    fn half_closeable(&self) -> bool {
        self.script.half_close
    }
    fn read_connection_lost(&mut self) {
        self.note("read lost");
        if let Some(f) = &self.script.on_read_lost {
            f(self.transport.as_ref().unwrap());
        }
    }
    fn write_connection_lost(&mut self) {
        self.note("write lost");
    }
}

/// A client factory that logs its hooks and stops the reactor when the connection is
/// over (lost or failed).
struct Client {
    log: Log,
    script: Script,
    reactor: ReactorHandle,
}

impl Factory for Client {
    type Protocol = Scripted;
    fn build_protocol(&mut self, _: &Address) -> Option<Scripted> {
        self.log.borrow_mut().push("factory build".into());
        Some(Scripted::new("client", &self.log, self.script.clone()))
    }
}

impl ClientFactory for Client {
    fn started_connecting(&mut self, _: &Connector) {
        self.log.borrow_mut().push("factory started".into());
    }
    fn client_connection_failed(&mut self, _: &Connector, reason: Failure) {
        self.log
            .borrow_mut()
            .push(format!("factory failed {}", reason_name(&reason)));
        let _ = self.reactor.stop();
    }
    fn client_connection_lost(&mut self, _: &Connector, reason: Failure) {
        self.log
            .borrow_mut()
            .push(format!("factory lost {}", reason_name(&reason)));
        let _ = self.reactor.stop();
    }
}

fn server(log: &Log, script: Script) -> impl Factory<Protocol = Scripted> + use<> {
    let log = Rc::clone(log);
    for_protocol(move || Scripted::new("server", &log, script.clone()))
}

/// Runs a server with `server_script` and a client with `client_script` until the
/// client's connection is over; returns everything logged, in order.
fn converse(server_script: Script, client_script: Script) -> Vec<String> {
    let reactor = common::reactor();
    let log = log();
    let port = reactor.listen_tcp(0, server(&log, server_script)).unwrap();
    let client = Client {
        log: Rc::clone(&log),
        script: client_script,
        reactor: reactor.handle(),
    };
    reactor.connect_tcp("127.0.0.1", port.port(), client).unwrap();
    reactor.run().unwrap();
    log.borrow().clone()
}

fn events_of(log: &[String], who: &str) -> Vec<String> {
    log.iter().filter(|e| e.starts_with(who)).cloned().collect()
}

fn on_made(f: impl Fn(&Transport) + 'static) -> Script {
    Script {
        on_made: Some(Rc::new(f)),
        ..Script::default()
    }
}

#[test]
fn client_factory_hears_twisted_order_and_both_sides_see_done() {
    common::bounded("client_factory_order", || {
        let log = converse(
            Script {
                on_data: Some(Rc::new(|t: &Transport, d: &[u8]| t.write(d))),
                ..Script::default()
            },
            Script {
                on_made: Some(Rc::new(|t: &Transport| t.write(b"hello"))),
                on_data: Some(Rc::new(|t: &Transport, _: &[u8]| t.lose_connection())),
                ..Script::default()
            },
        );
        let client: Vec<String> = log.iter().filter(|e| !e.starts_with("server")).cloned().collect();
        assert_eq!(
            client,
            [
                "factory started",
                "factory build",
                "client made",
                "client data hello",
                "client lost done",
                "factory lost done"
            ]
        );
        assert_eq!(
            events_of(&log, "server")[..2],
            ["server made", "server data hello"]
        );
    });
}

#[test]
fn writes_after_lose_connection_in_the_same_event_are_sent() {
    common::bounded("writes_after_lose", || {
        let log = converse(
            on_made(|t| {
                t.write(b"before ");
                t.lose_connection();
                t.write(b"after");
                assert!(t.disconnecting());
            }),
            Script::default(),
        );
        let client = events_of(&log, "client").join("|");
        assert!(
            client.contains("before after") || client.contains("data after"),
            "{client}"
        );
        assert!(client.ends_with("client lost done"), "{client}");
        assert_eq!(events_of(&log, "server").last().unwrap(), "server lost done");
    });
}

#[test]
fn abort_gives_aborted_here_and_lost_at_the_peer() {
    common::bounded("abort", || {
        let log = converse(
            on_made(|t| {
                t.write(b"never sent");
                t.abort_connection();
                t.write(b"ignored");
            }),
            Script::default(),
        );
        assert_eq!(events_of(&log, "server"), ["server made", "server lost aborted"]);
        assert_eq!(events_of(&log, "client"), ["client made", "client lost lost"]);
        assert_eq!(log.last().unwrap(), "factory lost lost");
    });
}

#[test]
fn peer_half_close_is_done_for_a_plain_protocol() {
    common::bounded("half_close_plain", || {
        let log = converse(
            Script::default(),
            on_made(|t| {
                t.write(b"bye");
                t.lose_write_connection();
            }),
        );
        let server = events_of(&log, "server");
        assert_eq!(server.last().unwrap(), "server lost done", "{server:?}");
    });
}

#[test]
fn half_closeable_protocols_hear_read_and_write_connection_lost() {
    common::bounded("half_close", || {
        let log = converse(
            Script {
                half_close: true,
                on_read_lost: Some(Rc::new(|t: &Transport| {
                    t.write(b"pong");
                    t.lose_connection();
                })),
                ..Script::default()
            },
            Script {
                half_close: true,
                on_made: Some(Rc::new(|t: &Transport| {
                    t.write(b"ping");
                    t.lose_write_connection();
                    // Accepted until the write side is actually shut (Twisted too).
                    t.write(b" and more");
                })),
                // Both directions are closed now, but as in Twisted the connection
                // stays until the protocol loses it.
                on_read_lost: Some(Rc::new(|t: &Transport| t.lose_connection())),
                ..Script::default()
            },
        );
        let server = events_of(&log, "server").join("|");
        assert!(server.contains("ping and more"), "{server}");
        assert!(server.contains("server read lost"), "{server}");
        assert!(server.ends_with("server lost done"), "{server}");
        let client = events_of(&log, "client");
        assert_eq!(
            client,
            [
                "client made",
                "client write lost",
                "client data pong",
                "client read lost",
                "client lost done"
            ]
        );
    });
}

#[test]
fn refused_connection_fails_the_factory() {
    common::bounded("refused", || {
        let reactor = common::reactor();
        let log = log();
        // A port that was just closed refuses connections.
        let port = reactor.listen_tcp(0, server(&log, Script::default())).unwrap();
        let number = port.port();
        let closed = port.stop_listening();
        let handle = reactor.handle();
        let log2 = Rc::clone(&log);
        reactor
            .spawn_local(async move {
                closed.await.unwrap();
                let client = Client {
                    log: log2,
                    script: Script::default(),
                    reactor: handle.clone(),
                };
                handle.connect_tcp("127.0.0.1", number, client).unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(*log.borrow(), ["factory started", "factory failed refused"]);
    });
}

#[test]
fn connector_connect_retries_from_client_connection_failed() {
    struct Retry {
        attempts: Rc<RefCell<u32>>,
        reactor: ReactorHandle,
    }
    impl Factory for Retry {
        type Protocol = Scripted;
        fn build_protocol(&mut self, _: &Address) -> Option<Scripted> {
            None
        }
    }
    impl ClientFactory for Retry {
        fn started_connecting(&mut self, _: &Connector) {
            *self.attempts.borrow_mut() += 1;
        }
        fn client_connection_failed(&mut self, c: &Connector, _: Failure) {
            if *self.attempts.borrow() < 3 {
                c.connect().unwrap();
            } else {
                self.reactor.stop().unwrap();
            }
        }
    }
    common::bounded("retry", || {
        let reactor = common::reactor();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let number = listener.local_addr().unwrap().port();
        drop(listener);
        let attempts = Rc::new(RefCell::new(0));
        let connector = reactor
            .connect_tcp(
                "127.0.0.1",
                number,
                Retry {
                    attempts: Rc::clone(&attempts),
                    reactor: reactor.handle(),
                },
            )
            .unwrap();
        drop(connector);
        reactor.run().unwrap();
        assert_eq!(*attempts.borrow(), 3);
    });
}

#[test]
fn a_refused_protocol_closes_the_connection() {
    common::bounded("build_none", || {
        let reactor = common::reactor();
        let log = log();
        let refusing = for_protocol(|| -> Scripted { unreachable!() });
        struct Refuse<F>(F);
        impl<F: Factory<Protocol = Scripted>> Factory for Refuse<F> {
            type Protocol = Scripted;
            fn build_protocol(&mut self, _: &Address) -> Option<Scripted> {
                None
            }
        }
        let port = reactor.listen_tcp(0, Refuse(refusing)).unwrap();
        let client = Client {
            log: Rc::clone(&log),
            script: Script::default(),
            reactor: reactor.handle(),
        };
        reactor.connect_tcp("127.0.0.1", port.port(), client).unwrap();
        reactor.run().unwrap();
        let entries = log.borrow();
        assert_eq!(entries.last().unwrap(), "factory lost done", "{entries:?}");
    });
}

#[test]
fn a_panic_in_data_received_closes_only_that_connection() {
    common::bounded("panic", || {
        let reactor = common::reactor();
        let log = log();
        let port = reactor
            .listen_tcp(
                0,
                server(
                    &log,
                    Script {
                        on_data: Some(Rc::new(|t: &Transport, d: &[u8]| {
                            assert_ne!(d, b"boom", "protocol bug");
                            t.write(d);
                        })),
                        ..Script::default()
                    },
                ),
            )
            .unwrap();
        // The first client makes its server protocol panic; the second is echoed after.
        let handle = reactor.handle();
        let second_log = Rc::clone(&log);
        let p = port.port();
        let first = Client {
            log: Rc::clone(&log),
            script: on_made(|t| t.write(b"boom")),
            reactor: reactor.handle(),
        };
        struct ThenSecond {
            inner: Client,
            next: Option<Box<dyn FnOnce()>>,
        }
        impl Factory for ThenSecond {
            type Protocol = Scripted;
            fn build_protocol(&mut self, a: &Address) -> Option<Scripted> {
                self.inner.build_protocol(a)
            }
        }
        impl ClientFactory for ThenSecond {
            fn client_connection_lost(&mut self, _: &Connector, reason: Failure) {
                self.inner
                    .log
                    .borrow_mut()
                    .push(format!("first lost {}", reason_name(&reason)));
                (self.next.take().unwrap())();
            }
        }
        let second = move || {
            let client = Client {
                log: second_log,
                script: Script {
                    on_made: Some(Rc::new(|t: &Transport| t.write(b"fine"))),
                    on_data: Some(Rc::new(|t: &Transport, _: &[u8]| t.lose_connection())),
                    ..Script::default()
                },
                reactor: handle.clone(),
            };
            handle.connect_tcp("127.0.0.1", p, client).unwrap();
        };
        reactor
            .connect_tcp(
                "127.0.0.1",
                p,
                ThenSecond {
                    inner: first,
                    next: Some(Box::new(second)),
                },
            )
            .unwrap();
        reactor.run().unwrap();
        let entries = log.borrow().join("|");
        assert!(
            entries.contains("server lost panic panicked: assertion"),
            "{entries}"
        );
        assert!(entries.contains("protocol bug"), "{entries}");
        assert!(entries.contains("first lost done"), "{entries}");
        assert!(entries.contains("client data fine"), "{entries}");
        assert!(entries.contains("factory lost done"), "{entries}");
    });
}

#[test]
fn shutdown_delivers_connection_lost_before_run_returns() {
    common::bounded("shutdown", || {
        #[derive(Default)]
        struct Counts {
            starts: u32,
            stops: u32,
        }
        struct Counting(Log, Rc<RefCell<Counts>>);
        impl Factory for Counting {
            type Protocol = Scripted;
            fn build_protocol(&mut self, _: &Address) -> Option<Scripted> {
                Some(Scripted::new("server", &self.0, Script::default()))
            }
            fn start_factory(&mut self) {
                self.1.borrow_mut().starts += 1;
            }
            fn stop_factory(&mut self) {
                self.1.borrow_mut().stops += 1;
            }
        }
        let reactor = common::reactor();
        let log = log();
        let counts = Rc::new(RefCell::new(Counts::default()));
        let shared = SharedFactory::new(Counting(Rc::clone(&log), Rc::clone(&counts)));
        let port = reactor.listen_tcp(0, shared.clone()).unwrap();
        let _other = reactor.listen_tcp(0, shared.clone()).unwrap();
        assert_eq!(counts.borrow().starts, 1);
        let handle = reactor.handle();
        let client = Client {
            log: Rc::clone(&log),
            // Once connected, stop the reactor with the connection open.
            script: on_made(move |_| handle.stop().unwrap()),
            reactor: reactor.handle(),
        };
        reactor.connect_tcp("127.0.0.1", port.port(), client).unwrap();
        reactor.run().unwrap();
        let entries = log.borrow().join("|");
        assert!(entries.contains("client lost lost"), "{entries}");
        assert!(
            entries.contains("server lost lost") || !entries.contains("server made"),
            "{entries}"
        );
        assert_eq!((counts.borrow().starts, counts.borrow().stops), (1, 1));
        assert_eq!(shared.num_ports(), 0);
        assert!(!port.listening());
    });
}

#[test]
fn stop_listening_fires_once_closed_and_refuses_new_connections() {
    common::bounded("stop_listening", || {
        let reactor = common::reactor();
        let log = log();
        let port = reactor.listen_tcp(0, server(&log, Script::default())).unwrap();
        assert!(port.listening());
        let fired = Rc::new(RefCell::new(false));
        let f2 = Rc::clone(&fired);
        let d = port.stop_listening();
        let handle = reactor.handle();
        let checker = port.clone();
        reactor
            .call_when_running(move || {
                drop(d.add_callback(move |()| {
                    assert!(!checker.listening());
                    handle.stop()?;
                    Ok::<_, Failure>(())
                }));
            })
            .unwrap();
        reactor.run().unwrap();
        *f2.borrow_mut() = true;
        assert!(*fired.borrow());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port.port())).is_err());
        assert!(port.try_stop_listening().is_err());
    });
}

#[test]
fn listen_and_connect_over_ipv6() {
    common::bounded("ipv6", || {
        let reactor = common::reactor();
        let log = log();
        let opts = TcpListenOptions::new().interface("::1".parse().unwrap());
        let Ok(port) = reactor.listen_tcp_with(0, server(&log, Script::default()), opts) else {
            return; // no IPv6 loopback on this machine
        };
        assert!(port.host().to_string().starts_with("tcp6:[::1]:"));
        let client = Client {
            log: Rc::clone(&log),
            script: on_made(|t| {
                assert!(t.peer().to_string().starts_with("tcp6:[::1]:"));
                t.lose_connection();
            }),
            reactor: reactor.handle(),
        };
        reactor.connect_tcp("::1", port.port(), client).unwrap();
        reactor.run().unwrap();
        assert!(log.borrow().iter().any(|e| e == "factory lost done"));
    });
}

#[test]
fn listen_and_connect_refuse_other_threads() {
    common::bounded("off_thread", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let (listen, connect) = std::thread::spawn(move || {
            let listen = handle.listen_tcp(0, for_protocol(|| Scripted::new("x", &log(), Script::default())));
            let connect = handle.connect_tcp(
                "127.0.0.1",
                1,
                for_protocol(|| Scripted::new("x", &log(), Script::default())),
            );
            (
                matches!(
                    listen,
                    Err(ListenError::Reactor(SpawnLocalError::NotReactorThread))
                ),
                matches!(connect, Err(SpawnLocalError::NotReactorThread)),
            )
        })
        .join()
        .unwrap();
        assert!(listen && connect);
    });
}

#[test]
fn a_write_from_another_thread_wakes_the_connection() {
    common::bounded("thread_write", || {
        let log = converse(
            on_made(|t| {
                let t = t.clone();
                std::thread::spawn(move || {
                    t.write(b"from a thread");
                    t.lose_connection();
                });
            }),
            Script::default(),
        );
        let client = events_of(&log, "client").join("|");
        assert!(client.contains("from a thread"), "{client}");
        assert!(client.ends_with("client lost done"), "{client}");
    });
}

/// Records the calls a streaming producer gets.
struct Flood {
    calls: Arc<Mutex<Vec<&'static str>>>,
}

impl Producer for Flood {
    fn pause_producing(&mut self) {
        self.calls.lock().unwrap().push("pause");
    }
    fn resume_producing(&mut self) {
        self.calls.lock().unwrap().push("resume");
    }
    fn stop_producing(&mut self) {
        self.calls.lock().unwrap().push("stop");
    }
}

#[test]
fn a_streaming_producer_is_paused_above_64k_and_resumed_when_drained() {
    common::bounded("streaming_producer", || {
        const TOTAL: usize = 32 << 20;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c2 = Arc::clone(&calls);
        let received = Rc::new(RefCell::new(0_usize));
        let reactor = common::reactor();
        let port = reactor
            .listen_tcp(
                0,
                for_protocol(move || {
                    let calls = Arc::clone(&c2);
                    Scripted::new(
                        "server",
                        &log(),
                        on_made(move |t| {
                            t.register_producer(
                                Flood {
                                    calls: Arc::clone(&calls),
                                },
                                ProducerKind::Streaming,
                            )
                            .unwrap();
                            t.write_bytes(bytes::Bytes::from(vec![7_u8; TOTAL]));
                            t.lose_connection();
                        }),
                    )
                }),
            )
            .unwrap();
        struct Counter(Rc<RefCell<usize>>, ReactorHandle, Option<Transport>);
        impl Protocol for Counter {
            fn connection_made(&mut self, t: Transport) {
                self.2 = Some(t);
            }
            fn data_received(&mut self, d: &[u8]) {
                *self.0.borrow_mut() += d.len();
            }
            fn connection_lost(&mut self, _: Failure) {
                self.1.stop().unwrap();
            }
        }
        let received2 = Rc::clone(&received);
        let handle = reactor.handle();
        reactor
            .connect_tcp(
                "127.0.0.1",
                port.port(),
                for_protocol(move || Counter(Rc::clone(&received2), handle.clone(), None)),
            )
            .unwrap();
        reactor.run().unwrap();
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls.first(), Some(&"pause"), "{calls:?}");
        assert!(calls.contains(&"resume"), "{calls:?}");
        assert_eq!(*received.borrow(), TOTAL);
    });
}

#[test]
fn a_pull_producer_is_resumed_each_time_the_buffer_empties() {
    struct Chunks {
        transport: Transport,
        left: u32,
    }
    impl Producer for Chunks {
        fn resume_producing(&mut self) {
            if self.left == 0 {
                self.transport.unregister_producer();
                self.transport.lose_connection();
            } else {
                self.left -= 1;
                self.transport.write(&[b'x'; 10_000]);
            }
        }
        fn stop_producing(&mut self) {}
    }
    common::bounded("pull_producer", || {
        let reactor = common::reactor();
        let port = reactor
            .listen_tcp(
                0,
                for_protocol(|| {
                    Scripted::new(
                        "server",
                        &log(),
                        on_made(|t| {
                            // lose_connection first: the pull producer holds the close.
                            t.lose_connection();
                            t.register_producer(
                                Chunks {
                                    transport: t.clone(),
                                    left: 50,
                                },
                                ProducerKind::Pull,
                            )
                            .unwrap();
                        }),
                    )
                }),
            )
            .unwrap();
        let received = Rc::new(RefCell::new(0_usize));
        let r2 = Rc::clone(&received);
        struct Counter(Rc<RefCell<usize>>, ReactorHandle);
        impl Protocol for Counter {
            fn data_received(&mut self, d: &[u8]) {
                *self.0.borrow_mut() += d.len();
            }
            fn connection_lost(&mut self, reason: Failure) {
                assert!(reason.check::<ConnectionDone>());
                self.1.stop().unwrap();
            }
        }
        let handle = reactor.handle();
        reactor
            .connect_tcp(
                "127.0.0.1",
                port.port(),
                for_protocol(move || Counter(Rc::clone(&r2), handle.clone())),
            )
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(*received.borrow(), 500_000);
    });
}

#[test]
fn pausing_the_transport_stops_data_received_until_resumed() {
    common::bounded("pause_reading", || {
        let reactor = common::reactor();
        let log = log();
        let paused: Rc<RefCell<Option<Transport>>> = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&paused);
        let port = reactor
            .listen_tcp(
                0,
                server(
                    &log,
                    Script {
                        on_made: Some(Rc::new(move |t: &Transport| {
                            t.pause_producing();
                            *slot.borrow_mut() = Some(t.clone());
                        })),
                        on_data: Some(Rc::new(|t: &Transport, d: &[u8]| t.write(d))),
                        ..Script::default()
                    },
                ),
            )
            .unwrap();
        let client = Client {
            log: Rc::clone(&log),
            script: Script {
                on_made: Some(Rc::new(|t: &Transport| t.write(b"queued"))),
                on_data: Some(Rc::new(|t: &Transport, _: &[u8]| t.lose_connection())),
                ..Script::default()
            },
            reactor: reactor.handle(),
        };
        reactor.connect_tcp("127.0.0.1", port.port(), client).unwrap();
        // 50 ms later nothing has been delivered; then reading resumes.
        let check_log = Rc::clone(&log);
        reactor
            .spawn_local(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                assert!(!check_log.borrow().iter().any(|e| e.starts_with("server data")));
                paused.borrow().as_ref().unwrap().resume_producing();
            })
            .unwrap();
        reactor.run().unwrap();
        let entries = log.borrow().join("|");
        assert!(entries.contains("server data queued"), "{entries}");
        assert!(entries.contains("factory lost done"), "{entries}");
    });
}

#[test]
fn connect_protocol_fires_with_the_transport_after_connection_made() {
    use tokio_twisted::protocol::TcpConnectOptions;
    common::bounded("connect_protocol", || {
        let reactor = common::reactor();
        let log = log();
        let port = reactor
            .listen_tcp(
                0,
                server(
                    &log,
                    Script {
                        on_data: Some(Rc::new(|t: &Transport, d: &[u8]| {
                            t.write(d);
                            t.lose_connection();
                        })),
                        ..Script::default()
                    },
                ),
            )
            .unwrap();
        let stopper = reactor.handle();
        let client = Rc::new(RefCell::new(Scripted::new(
            "client",
            &log,
            Script {
                on_lost: Some(Rc::new(move || stopper.stop().unwrap())),
                ..Script::default()
            },
        )));
        let handle = reactor.handle();
        let d = handle.connect_protocol(
            "127.0.0.1",
            port.port(),
            Rc::clone(&client),
            TcpConnectOptions::new(),
        );
        let seen = Rc::clone(&log);
        reactor
            .spawn_local(async move {
                let transport = d.await.unwrap();
                // connection_made has already run.
                assert_eq!(seen.borrow().iter().filter(|e| *e == "client made").count(), 1);
                transport.write(b"echo me");
            })
            .unwrap();
        reactor.run().unwrap();
        let entries = log.borrow().join("|");
        assert!(entries.contains("client data echo me"), "{entries}");
        assert!(entries.contains("client lost done"), "{entries}");
        assert!(client.borrow().transport.is_some());
    });
}

/// A protocol that runs a function when it is connected.
struct OnMade(Rc<dyn Fn()>);
impl Protocol for OnMade {
    fn connection_made(&mut self, _transport: Transport) {
        (self.0)();
    }
    fn data_received(&mut self, _data: &[u8]) {}
}

/// With `reuse_port`, a second socket listens on the port a first one is listening on
/// (without the option that is refused), and both accept: the first before the second
/// exists, the second once the first has stopped. Which of two live listeners gets a
/// connection is the kernel's choice, so the test does not depend on it.
#[cfg(target_os = "linux")]
#[test]
fn reuse_port_lets_two_listeners_share_a_port() {
    let (accepted, refused_without) = common::bounded("reuse_port", || {
        let reactor = common::reactor();
        let h = reactor.handle();
        let opts = TcpListenOptions::new()
            .interface("127.0.0.1".parse().unwrap())
            .reuse_port(true);
        let accepted: Rc<RefCell<Vec<&'static str>>> = Rc::default();
        let refused_without = Rc::new(std::cell::Cell::new(false));
        let first_port: Rc<RefCell<Option<tokio_twisted::protocol::ListeningPort>>> = Rc::default();
        let clients: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();

        let first_made: Rc<dyn Fn()> = Rc::new({
            let (accepted, refused, first_port, clients) = (
                Rc::clone(&accepted),
                Rc::clone(&refused_without),
                Rc::clone(&first_port),
                Arc::clone(&clients),
            );
            let h = h.clone();
            move || {
                accepted.borrow_mut().push("first");
                let Some(first) = first_port.borrow_mut().take() else {
                    return;
                };
                let port = first.port();
                let quiet: Rc<dyn Fn()> = Rc::new(|| {});
                let plain = h.listen_tcp_with(
                    port,
                    for_protocol(move || OnMade(Rc::clone(&quiet))),
                    opts.reuse_port(false),
                );
                refused.set(matches!(plain, Err(ListenError::CannotListen(_))));
                let second_made: Rc<dyn Fn()> = Rc::new({
                    let (accepted, h) = (Rc::clone(&accepted), h.clone());
                    move || {
                        accepted.borrow_mut().push("second");
                        let _ = h.stop();
                    }
                });
                let second =
                    h.listen_tcp_with(port, for_protocol(move || OnMade(Rc::clone(&second_made))), opts);
                assert!(second.is_ok(), "a second listener on the same port: {second:?}");
                let clients = Arc::clone(&clients);
                drop(first.stop_listening().add_callback(move |()| {
                    // The handshake completes in the kernel; the second listener accepts.
                    clients
                        .lock()
                        .unwrap()
                        .push(std::net::TcpStream::connect(("127.0.0.1", port))?);
                    Ok::<_, Failure>(())
                }));
            }
        });
        let first = reactor
            .listen_tcp_with(0, for_protocol(move || OnMade(Rc::clone(&first_made))), opts)
            .unwrap();
        let port = first.port();
        *first_port.borrow_mut() = Some(first);
        clients
            .lock()
            .unwrap()
            .push(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
        reactor.run().unwrap();
        let accepted = accepted.borrow().clone();
        (accepted, refused_without.get())
    });
    assert_eq!(accepted, ["first", "second"]);
    assert!(refused_without, "without reuse_port the port in use is refused");
}

/// A connector for a host name reports the name as its destination (Twisted's
/// `getDestination` gives the host as it was passed), not an address.
#[test]
fn a_connector_to_a_host_name_reports_the_name() {
    let reactor = common::reactor();
    let quiet: Rc<dyn Fn()> = Rc::new(|| {});
    let connector = reactor
        .connect_tcp("localhost", 9, for_protocol(move || OnMade(Rc::clone(&quiet))))
        .unwrap();
    assert_eq!(
        connector.destination(),
        Address::Hostname {
            host: "localhost".into(),
            port: 9
        }
    );
    connector.disconnect();
    let literal = reactor
        .connect_tcp("127.0.0.1", 9, for_protocol(|| OnMade(Rc::new(|| {}))))
        .unwrap();
    assert_eq!(
        literal.destination(),
        Address::Tcp("127.0.0.1:9".parse().unwrap())
    );
    literal.disconnect();
}

/// A listening port logs its factory's start and stop ("Starting factory", "Stopping
/// factory", at info level) as Twisted's `doStart`/`doStop` do, unless the factory is not
/// noisy (the port's own "starting on" line is logged either way, as Twisted's).
#[test]
fn listening_logs_the_factory_start_and_stop_unless_it_is_quiet() {
    struct Silent;
    impl Factory for Silent {
        type Protocol = OnMade;
        fn build_protocol(&mut self, _addr: &Address) -> Option<OnMade> {
            None
        }
        fn noisy(&self) -> bool {
            false
        }
    }
    let log = common::bounded("factory logging", || {
        common::logged_at_info(|| {
            let reactor = common::reactor();
            let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
            let noisy = reactor
                .listen_tcp_with(0, for_protocol(|| OnMade(Rc::new(|| {}))), opts)
                .unwrap();
            let silent = reactor.listen_tcp_with(0, Silent, opts).unwrap();
            let stopper = reactor.handle();
            let both =
                tokio_twisted::defer::gather_results(vec![noisy.stop_listening(), silent.stop_listening()]);
            drop(both.add_callback(move |_| {
                stopper.stop()?;
                Ok::<_, Failure>(())
            }));
            reactor.run().unwrap();
        })
    });
    let lines = |what: &str| log.lines().filter(|l| l.contains(what)).count();
    assert_eq!(lines("Starting factory"), 1, "{log}");
    assert_eq!(lines("Stopping factory"), 1, "{log}");
    let starting = log
        .lines()
        .find(|l| l.contains("Starting factory"))
        .unwrap_or_default();
    assert!(
        starting.contains("INFO") && starting.contains("ProtocolFactory"),
        "{log}"
    );
}
