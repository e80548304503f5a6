//! Port of `twisted/test/test_application.py`: `Service`, `MultiService`, `Application`
//! and its process component, `TimerService`, the network services of
//! `twisted.application.internet` (`TcpServer`, `UnixServer`, `TcpClient`) over loopback,
//! and `backoff_policy`.
//!
//! Not ported (not applicable):
//! - `ServiceTests.testCopying`, `InternetTests.testVolatile`: services are not copied (a
//!   `ServiceState` clone shares its state on purpose), so there is no copy that drops
//!   its port or connection.
//! - `ProcessTests.testProcessName`, `ApplicationTests.testPersistableComponent`,
//!   `InternetTests.testPickledTimer`: process names and pickling (`sob`) are not part
//!   of this crate.
//! - `InternetTests.test_UDP`: there are no datagram transports, so no `UDPServer`.
//! - `InternetTests.test_importAll`: the services are ordinary Rust types, not classes
//!   made at import time from a list of names; the compiler checks that they exist.
//! - `LoadingTests.test_simpleStoreAndLoad`, `AppSupportTests.testPassphrase`,
//!   `testLoadApplication`, `test_convertStyle`, `test_startApplication`: saving and
//!   loading applications (`.tap` files, `sob`, `twistd` options) are not part of this
//!   crate; an application is built by the program that runs it.
//! - `PluggableReactorTests` (10 tests) and `HelpReactorsTests` (5 tests): there is one
//!   reactor, over a Tokio runtime, so there are no reactor plugins to list, select or
//!   install.
//!
//! Ported with a difference:
//! - `InternetTests.test_everythingThere` checks the services that exist (`TcpServer`,
//!   `TcpClient`, `UnixServer`); Twisted's `UNIXClient`, `SSLServer`, `SSLClient`,
//!   `UDPServer`, `UNIXDatagramServer`, `UNIXDatagramClient` and `MulticastServer` have no
//!   counterpart.
//! - `InternetTests.testUNIX`: there is no UNIX client service, so the client connects
//!   with `ReactorHandle::connect_unix` (what `UNIXClient` does when started).
//! - `InternetTests.test_reactorParametrization*`: the services take their reactor as a
//!   `ReactorHandle`, which `testing::MemoryReactor` is not, so these run a real reactor
//!   on port 0 and check what it did (the port listened, the connector's destination, the
//!   connection that arrived through the given factory).
//! - `InternetTests` tests in Twisted share one `TestEcho.d`; here each test counts its
//!   own events and stops its reactor when they are all in.
//!
//! `InternetTests.testStoppingServer` found a difference, fixed in the library:
//! `TcpServer` and `UnixServer` kept `running` set until the port had closed; Twisted's
//! `TCPServer` and `UNIXServer` clear it at once, and so do they now.
//!
//! Totals: 64 tests, 37 ported, 27 not applicable.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, succeed};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, Factory, ListeningPort, Protocol, Transport, for_protocol,
};
use tokio_twisted::reactor::{Reactor, ReactorHandle};
#[cfg(unix)]
use tokio_twisted::service::UnixServer;
use tokio_twisted::service::{
    Application, BasicService, MultiService, NameLocked, Service, ServiceError, ServiceState, TcpClient,
    TcpServer, TimerService, backoff_policy,
};
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{LoggedErrors, success_result_of};

fn service() -> Arc<BasicService> {
    Arc::new(BasicService::new())
}

fn named(name: &str) -> Arc<BasicService> {
    Arc::new(BasicService::named(name))
}

fn same(a: &Arc<dyn Service>, b: &Arc<BasicService>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// twisted: ServiceTests.testName
/// A service can be named.
#[test]
fn test_name() {
    let s = BasicService::new();
    s.set_name("hello").unwrap();
    assert_eq!(s.name().as_deref(), Some("hello"));
}

/// twisted: ServiceTests.testParent
/// Setting a parent adds the service to it and records the parent.
#[test]
fn test_parent() {
    let s = service();
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    let children = p.services();
    assert_eq!(children.len(), 1);
    assert!(same(&children[0], &s));
    assert!(Arc::ptr_eq(&s.parent().unwrap(), &p));
}

/// twisted: ServiceTests.testApplicationAsParent
/// An application works as a parent: the service joins its collection.
#[test]
fn test_application_as_parent() {
    let s = service();
    let app = Application::new("");
    s.clone().set_service_parent(&app).unwrap();
    assert!(same(&app.service().services()[0], &s));
    assert!(Arc::ptr_eq(&s.parent().unwrap(), app.service()));
}

/// twisted: ServiceTests.testNamedChild
/// A named child can be looked up by name.
#[test]
fn test_named_child() {
    let s = service();
    let p = MultiService::new();
    s.set_name("hello").unwrap();
    s.clone().set_service_parent(&p).unwrap();
    assert_eq!(p.services().len(), 1);
    assert!(same(&p.get_service_named("hello").unwrap(), &s));
}

/// twisted: ServiceTests.testDoublyNamedChild
/// A service with a parent cannot be renamed.
#[test]
fn test_doubly_named_child() {
    let s = named("hello");
    s.clone().set_service_parent(&MultiService::new()).unwrap();
    assert_eq!(s.set_name("lala"), Err(NameLocked));
}

/// twisted: ServiceTests.testDuplicateNamedChild
/// Two children of one parent cannot share a name.
#[test]
fn test_duplicate_named_child() {
    let p = MultiService::new();
    named("hello").set_service_parent(&p).unwrap();
    let err = named("hello").set_service_parent(&p).unwrap_err();
    assert!(matches!(err, ServiceError::DuplicateName(ref n) if n == "hello"));
    assert_eq!(p.services().len(), 1);
}

/// twisted: ServiceTests.testDisowning
/// Disowning removes the service from its parent and clears the parent.
#[test]
fn test_disowning() {
    let s = service();
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    assert_eq!(p.services().len(), 1);
    assert!(s.clone().disown_service_parent().called());
    assert!(p.services().is_empty());
    assert!(s.parent().is_none());
}

/// twisted: ServiceTests.testRunning
/// Starting and stopping set and clear `running`.
#[test]
fn test_running() {
    let s = BasicService::new();
    assert!(!s.running());
    s.start_service().unwrap();
    assert!(s.running());
    success_result_of(s.stop_service());
    assert!(!s.running());
}

/// twisted: ServiceTests.testRunningChildren1
/// A MultiService starts and stops its children with itself.
#[test]
fn test_running_children1() {
    let s = service();
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    assert!(!s.running() && !p.running());
    p.start_service().unwrap();
    assert!(s.running() && p.running());
    success_result_of(p.stop_service());
    assert!(!s.running() && !p.running());
}

/// A service that checks, when started and stopped, that an earlier sibling is running.
struct ChecksSibling {
    state: ServiceState,
    sibling: Arc<BasicService>,
    checks: AtomicUsize,
}

impl Service for ChecksSibling {
    fn state(&self) -> &ServiceState {
        &self.state
    }
    fn start_service(&self) -> Result<(), Failure> {
        assert!(self.sibling.running());
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn stop_service(&self) -> Deferred<()> {
        assert!(self.sibling.running());
        self.checks.fetch_add(1, Ordering::SeqCst);
        succeed(())
    }
}

/// twisted: ServiceTests.testRunningChildren2
/// Children start in insertion order and stop in reverse: the later one sees the earlier
/// one running both times.
#[test]
fn test_running_children2() {
    let s = service();
    let t = Arc::new(ChecksSibling {
        state: ServiceState::default(),
        sibling: s.clone(),
        checks: AtomicUsize::new(0),
    });
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    t.clone().set_service_parent(&p).unwrap();
    p.start_service().unwrap();
    success_result_of(p.stop_service());
    assert_eq!(t.checks.load(Ordering::SeqCst), 2);
}

/// twisted: ServiceTests.testAddingIntoRunning
/// A child added to a running MultiService starts at once and stops when disowned.
#[test]
fn test_adding_into_running() {
    let p = MultiService::new();
    p.start_service().unwrap();
    let s = service();
    assert!(!s.running());
    s.clone().set_service_parent(&p).unwrap();
    assert!(s.running());
    success_result_of(s.clone().disown_service_parent());
    assert!(!s.running());
}

struct Privileged {
    state: ServiceState,
    privileged_started: AtomicBool,
}

impl Service for Privileged {
    fn state(&self) -> &ServiceState {
        &self.state
    }
    fn privileged_start_service(&self) -> Result<(), Failure> {
        self.privileged_started.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// twisted: ServiceTests.testPrivileged
/// A MultiService's privileged start reaches its children.
#[test]
fn test_privileged() {
    let s = Arc::new(Privileged {
        state: ServiceState::default(),
        privileged_started: AtomicBool::new(false),
    });
    let p = MultiService::new();
    s.clone().set_service_parent(&p).unwrap();
    service().set_service_parent(&p).unwrap();
    p.privileged_start_service().unwrap();
    assert!(s.privileged_started.load(Ordering::SeqCst));
}

/// twisted: ProcessTests.testID
/// An application carries the uid and gid to run as.
#[test]
fn test_id() {
    let app = Application::new("p").with_uid(5).with_gid(6);
    assert_eq!((app.uid(), app.gid()), (Some(5), Some(6)));
}

/// twisted: ProcessTests.testDefaults
/// Either of uid and gid may be left out.
#[test]
fn test_defaults() {
    let p = Application::new("p").with_uid(5);
    assert_eq!((p.uid(), p.gid()), (Some(5), None));
    let p = Application::new("p").with_gid(5);
    assert_eq!((p.uid(), p.gid()), (None, Some(5)));
    let p = Application::new("p");
    assert_eq!((p.uid(), p.gid()), (None, None));
}

fn provides_service<S: Service + ?Sized>(_: &S) -> bool {
    true
}

/// twisted: InterfacesTests.testService
/// The plain service provides the service interface.
#[test]
fn test_service() {
    assert!(provides_service(&BasicService::new()));
}

/// twisted: InterfacesTests.testMultiService
/// A MultiService is a service and a collection of services.
#[test]
fn test_multi_service() {
    let m = MultiService::new();
    assert!(provides_service(&*m));
    m.add_service(service()).unwrap();
    assert_eq!(m.services().len(), 1);
}

/// twisted: InterfacesTests.testProcess
/// An application provides the process component (uid and gid).
#[test]
fn test_process() {
    let app = Application::new("p");
    assert_eq!((app.uid(), app.gid()), (None, None));
}

/// twisted: ApplicationTests.testConstructor
/// An application is built with a name and optionally a uid and a gid.
#[test]
fn test_constructor() {
    let _ = Application::new("hello");
    let _ = Application::new("hello").with_uid(5);
    let _ = Application::new("hello").with_uid(5).with_gid(6);
}

/// twisted: ApplicationTests.testProcessComponent
/// The process component reports the uid and gid given.
#[test]
fn test_process_component() {
    let a = Application::new("hello");
    assert_eq!((a.uid(), a.gid()), (None, None));
    let a = Application::new("hello").with_uid(5);
    assert_eq!((a.uid(), a.gid()), (Some(5), None));
    let a = Application::new("hello").with_uid(5).with_gid(6);
    assert_eq!((a.uid(), a.gid()), (Some(5), Some(6)));
}

/// twisted: ApplicationTests.testServiceComponent
/// The service component is the collection, named after the application, with no parent.
#[test]
fn test_service_component() {
    let a = Application::new("hello");
    assert_eq!(a.service().name().as_deref(), Some("hello"));
    assert!(a.service().parent().is_none());
}

/// twisted: TimerBasicTests.testTimerRuns
/// The timer calls its function; stopping clears `running`.
#[test]
fn test_timer_runs() {
    let clock = Clock::new();
    let (d, r) = Deferred::<&str>::new();
    let r = Mutex::new(Some(r));
    let t = TimerService::new(Duration::from_secs(1), clock.clone(), move || {
        if let Some(r) = r.lock().unwrap().take() {
            r.callback("hello").unwrap();
        }
    });
    t.start_service().unwrap();
    assert_eq!(success_result_of(d), "hello");
    success_result_of(t.stop_service());
    assert!(!t.running());
}

/// twisted: TimerBasicTests.testTimerRestart
/// A stopped timer can be started again and calls its function again.
#[test]
fn test_timer_restart() {
    let clock = Clock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let t = TimerService::new(Duration::from_secs(1), clock.clone(), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    t.start_service().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    success_result_of(t.stop_service());
    assert!(!t.running());
    clock.advance(Duration::from_secs(5));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "stopped");
    t.start_service().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    success_result_of(t.stop_service());
}

/// twisted: TimerBasicTests.testTimerLoops
/// The timer keeps calling every step.
#[test]
fn test_timer_loops() {
    let clock = Clock::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let t = TimerService::new(Duration::from_millis(10), clock.clone(), move || {
        s.lock().unwrap().push("hello");
    });
    t.start_service().unwrap();
    clock.pump([Duration::from_millis(10); 9]);
    assert_eq!(*seen.lock().unwrap(), ["hello"; 10]);
    success_result_of(t.stop_service());
}

/// twisted: InternetTests.testBrokenTimer
/// A function that raises is logged (here a panic) and the timer still stops cleanly.
#[test]
fn test_broken_timer() {
    let logged = LoggedErrors::capture();
    let clock = Clock::new();
    #[allow(
        clippy::unnecessary_operation,
        reason = "the division is the point: it panics"
    )]
    let t = TimerService::new(Duration::from_secs(1), clock.clone(), || {
        let zero = std::hint::black_box(0);
        let _ = 1 / zero;
    });
    t.start_service().unwrap();
    let errors = logged.flush::<PanicError>();
    assert_eq!(errors.len(), 1);
    assert!(clock.pending_calls().is_empty(), "the loop ended");
    success_result_of(t.stop_service());
}

/// `InternetTests` over loopback (in a module of their own: `testPrivileged` is also
/// the name of a `ServiceTests` test).
mod internet_tests {
    use super::*;

    /// What the echo exchanges of one test saw, and when the reactor may stop.
    struct Seen {
        /// The line each client got back (Twisted's `factory.line`), in order.
        lines: Vec<Vec<u8>>,
        /// Server-side echo connections that ended (Twisted's `TestEcho.d`).
        echoes_lost: usize,
        /// Stops of the services that completed.
        stops: usize,
        /// Client attempts that failed (`clientConnectionFailed`).
        failed: usize,
        /// Client attempts started through the given factory (`startedConnecting`).
        started: usize,
        /// Connections the server's factory built a protocol for.
        accepted: usize,
        /// When this holds, the test is over: the reactor is stopped (once).
        done: fn(&Seen) -> bool,
        over: bool,
        reactor: ReactorHandle,
    }

    type Shared = Arc<Mutex<Seen>>;

    fn seen(reactor: &ReactorHandle, done: fn(&Seen) -> bool) -> Shared {
        Arc::new(Mutex::new(Seen {
            lines: Vec::new(),
            echoes_lost: 0,
            stops: 0,
            failed: 0,
            started: 0,
            accepted: 0,
            done,
            over: false,
            reactor: reactor.clone(),
        }))
    }

    /// Records an event and stops the reactor once the test's condition holds.
    fn note(shared: &Shared, event: impl FnOnce(&mut Seen)) {
        let stop = {
            let mut s = shared.lock().unwrap();
            event(&mut s);
            let stop = !s.over && (s.done)(&s);
            s.over |= stop;
            stop.then(|| s.reactor.clone())
        };
        if let Some(reactor) = stop {
            reactor.stop().unwrap();
        }
    }

    /// Twisted's `TestEcho`: echoes what it receives and records the end of its connection.
    struct Echo {
        seen: Shared,
        transport: Option<Transport>,
    }

    impl Protocol for Echo {
        fn connection_made(&mut self, transport: Transport) {
            note(&self.seen, |s| s.accepted += 1);
            self.transport = Some(transport);
        }
        fn data_received(&mut self, data: &[u8]) {
            if let Some(t) = &self.transport {
                t.write(data);
            }
        }
        fn connection_lost(&mut self, _: Failure) {
            note(&self.seen, |s| s.echoes_lost += 1);
        }
    }

    fn echo_factory(seen: &Shared) -> impl Factory + use<> {
        let seen = Arc::clone(seen);
        for_protocol(move || Echo {
            seen: Arc::clone(&seen),
            transport: None,
        })
    }

    /// What a client does once its connection ended: Twisted's callbacks on `factory.d`.
    type Hook = Arc<dyn Fn(&Shared) + Send + Sync>;

    /// Twisted's `Foo`: sends `lalala`, keeps the line it gets back, hangs up, and runs the
    /// hook when the connection is lost.
    struct Foo {
        seen: Shared,
        on_lost: Hook,
        transport: Option<Transport>,
        received: Vec<u8>,
        line: Option<Vec<u8>>,
    }

    impl Protocol for Foo {
        fn connection_made(&mut self, transport: Transport) {
            transport.write(b"lalala\r\n");
            self.transport = Some(transport);
        }
        fn data_received(&mut self, data: &[u8]) {
            self.received.extend_from_slice(data);
            if let Some(end) = self.received.windows(2).position(|w| w == b"\r\n") {
                if self.line.is_none() {
                    self.line = Some(self.received[..end].to_vec());
                    if let Some(t) = &self.transport {
                        t.lose_connection();
                    }
                }
            }
        }
        fn connection_lost(&mut self, _: Failure) {
            let line = self.line.take().unwrap_or_default();
            note(&self.seen, |s| s.lines.push(line));
            (self.on_lost)(&self.seen);
        }
    }

    /// The client factory: builds `Foo`s and records attempts that start and fail.
    struct FooFactory {
        seen: Shared,
        on_lost: Hook,
    }

    impl Factory for FooFactory {
        type Protocol = Foo;
        fn build_protocol(&mut self, _: &Address) -> Option<Foo> {
            Some(Foo {
                seen: Arc::clone(&self.seen),
                on_lost: Arc::clone(&self.on_lost),
                transport: None,
                received: Vec::new(),
                line: None,
            })
        }
    }

    impl ClientFactory for FooFactory {
        fn started_connecting(&mut self, _: &Connector) {
            note(&self.seen, |s| s.started += 1);
        }
        fn client_connection_failed(&mut self, _: &Connector, _: Failure) {
            note(&self.seen, |s| s.failed += 1);
        }
    }

    fn foo_factory(seen: &Shared, on_lost: Hook) -> FooFactory {
        FooFactory {
            seen: Arc::clone(seen),
            on_lost,
        }
    }

    /// A hook that stops `services` in order once the client is done, and notes when the
    /// last stop has fired.
    fn stop_services(services: &Arc<Mutex<Vec<Arc<dyn Service>>>>) -> Hook {
        let services = Arc::clone(services);
        Arc::new(move |seen: &Shared| {
            let all = services.lock().unwrap().clone();
            let mut last = None;
            for s in all {
                last = Some(s.stop_service());
            }
            let seen = Arc::clone(seen);
            drop(
                last.expect("services to stop")
                    .add_callback(move |()| note(&seen, |s| s.stops += 1)),
            );
        })
    }

    /// twisted: InternetTests.testTCP
    /// A TCP server and a TCP client service in one running parent exchange a line; stopping
    /// the parent stops both and the server's connection ends.
    #[test]
    fn test_tcp() {
        let seen = crate::common::bounded("InternetTests.testTCP", || {
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.lines.len() == 1 && s.echoes_lost == 1 && s.stops == 1);
            let s = MultiService::new();
            s.start_service().unwrap();
            let t = Arc::new(TcpServer::new(&h, 0, echo_factory(&seen)));
            Arc::clone(&t).set_service_parent(&s).unwrap();
            let num = t.listening_port().expect("listening once its parent runs").port();
            let services: Arc<Mutex<Vec<Arc<dyn Service>>>> = Arc::new(Mutex::new(vec![s.clone()]));
            let client = TcpClient::new(&h, "127.0.0.1", num, foo_factory(&seen, stop_services(&services)));
            Arc::new(client).set_service_parent(&s).unwrap();
            reactor.run().unwrap();
            services.lock().unwrap().clear();
            assert!(!s.running() && !t.running());
            assert!(t.listening_port().is_none());
            let seen = seen.lock().unwrap();
            seen.lines.clone()
        });
        assert_eq!(seen, [b"lalala".to_vec()]);
    }

    /// twisted: InternetTests.testPrivileged
    /// A TCP server started in the privileged phase listens at once and serves a client
    /// service; stopping the client, then the server, ends the server's connection.
    #[test]
    fn test_privileged() {
        let seen = crate::common::bounded("InternetTests.testPrivileged", || {
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.lines.len() == 1 && s.echoes_lost == 1 && s.stops == 1);
            let t = Arc::new(TcpServer::new(&h, 0, echo_factory(&seen)));
            t.privileged_start_service().unwrap();
            assert!(!t.running(), "only the privileged phase ran");
            let num = t.listening_port().expect("bound in the privileged phase").port();
            let services: Arc<Mutex<Vec<Arc<dyn Service>>>> = Arc::new(Mutex::new(Vec::new()));
            let c = Arc::new(TcpClient::new(
                &h,
                "127.0.0.1",
                num,
                foo_factory(&seen, stop_services(&services)),
            ));
            services
                .lock()
                .unwrap()
                .extend([c.clone() as Arc<dyn Service>, t.clone()]);
            c.start_service().unwrap();
            reactor.run().unwrap();
            services.lock().unwrap().clear();
            assert!(!c.running());
            assert!(t.listening_port().is_none());
            let seen = seen.lock().unwrap();
            seen.lines.clone()
        });
        assert_eq!(seen, [b"lalala".to_vec()]);
    }

    /// twisted: InternetTests.testConnectionGettingRefused
    /// A client service aimed at a port whose server service stopped hears
    /// `client_connection_failed`.
    #[test]
    fn test_connection_getting_refused() {
        let failed = crate::common::bounded("InternetTests.testConnectionGettingRefused", || {
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.failed == 1);
            let t = TcpServer::new(&h, 0, echo_factory(&seen));
            t.start_service().unwrap();
            let num = t.listening_port().unwrap().port();
            let stopped = t.stop_service();
            assert!(stopped.called(), "the port closes at once");
            let c = TcpClient::new(
                &h,
                "127.0.0.1",
                num,
                foo_factory(&seen, Arc::new(|_: &Shared| {})),
            );
            c.start_service().unwrap();
            reactor.run().unwrap();
            let seen = seen.lock().unwrap();
            (seen.failed, seen.accepted)
        });
        assert_eq!(failed, (1, 0));
    }

    /// A fresh directory for one test's UNIX socket.
    fn socket_dir(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("conformance-application-{test}-{}", std::process::id()));
        drop(std::fs::remove_dir_all(&dir));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// twisted: InternetTests.testUNIX
    /// A UNIX server service in a running parent serves a client, and serves again after the
    /// parent is stopped and started again.
    #[cfg(unix)]
    #[test]
    fn test_unix() {
        let (seen, dir) = crate::common::bounded("InternetTests.testUNIX", || {
            let dir = socket_dir("unix");
            let path = dir.join("echo.skt");
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.lines.len() == 2 && s.echoes_lost == 2 && s.stops == 2);
            let s = MultiService::new();
            s.start_service().unwrap();
            let t = Arc::new(UnixServer::new(&h, &path, echo_factory(&seen)));
            Arc::clone(&t).set_service_parent(&s).unwrap();
            // There is no UNIX client service: the client connects through the reactor, as
            // Twisted's `UNIXClient` would when started.
            // The hook connects the second client with itself: it finds itself in `slot`.
            let slot: Arc<Mutex<Option<Hook>>> = Arc::new(Mutex::new(None));
            let on_lost: Hook = {
                let (s, h, path, slot) = (s.clone(), h.clone(), path.clone(), Arc::clone(&slot));
                Arc::new(move |seen: &Shared| {
                    let hook = slot.lock().unwrap().clone().expect("the hook is in its slot");
                    let round = seen.lock().unwrap().lines.len();
                    let (seen, s2, h, path) = (Arc::clone(seen), s.clone(), h.clone(), path.clone());
                    drop(s.stop_service().add_callback(move |()| {
                        note(&seen, |x| x.stops += 1);
                        if round == 1 {
                            s2.start_service()?;
                            let again = foo_factory(&seen, hook);
                            h.connect_unix(&path, again).map_err(Failure::new)?;
                        }
                        Ok::<_, Failure>(())
                    }));
                })
            };
            *slot.lock().unwrap() = Some(Arc::clone(&on_lost));
            h.connect_unix(&path, foo_factory(&seen, on_lost)).unwrap();
            reactor.run().unwrap();
            slot.lock().unwrap().take();
            assert!(!s.running());
            let seen = seen.lock().unwrap();
            (seen.lines.clone(), dir)
        });
        std::fs::remove_dir_all(dir).unwrap();
        assert_eq!(seen, [b"lalala".to_vec(), b"lalala".to_vec()]);
    }

    /// twisted: InternetTests.testStoppingServer
    /// A UNIX server service that was started and stopped is no longer running, and a client
    /// connecting to its path fails.
    #[cfg(unix)]
    #[test]
    fn test_stopping_server() {
        let (failed, dir) = crate::common::bounded("InternetTests.testStoppingServer", || {
            let dir = socket_dir("stopping");
            let path = dir.join("echo.skt");
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.failed == 1);
            let t = UnixServer::new(&h, &path, echo_factory(&seen));
            t.start_service().unwrap();
            drop(t.stop_service());
            assert!(!t.running());
            h.connect_unix(&path, foo_factory(&seen, Arc::new(|_: &Shared| {})))
                .unwrap();
            reactor.run().unwrap();
            let seen = seen.lock().unwrap();
            ((seen.failed, seen.accepted), dir)
        });
        std::fs::remove_dir_all(dir).unwrap();
        assert_eq!(failed, (1, 0));
    }

    /// Connects a client of the test to `port` on `reactor`; it hangs up at once.
    fn knock(reactor: &ReactorHandle, seen: &Shared, port: u16) {
        reactor
            .connect_tcp("127.0.0.1", port, foo_factory(seen, Arc::new(|_: &Shared| {})))
            .unwrap();
    }

    /// twisted: InternetTests.test_reactorParametrizationInServer
    /// A TCP server service listens on the reactor it was given, with the factory it was
    /// given (here a real reactor: the connection arrives when that reactor runs).
    #[test]
    fn test_reactor_parametrization_in_server() {
        let accepted = crate::common::bounded("InternetTests.test_reactorParametrizationInServer", || {
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.accepted == 1);
            let t = TcpServer::new(&h, 0, echo_factory(&seen));
            t.start_service().unwrap();
            let port = t.listening_port().expect("listening");
            assert!(port.listening() && port.port() != 0);
            knock(&h, &seen, port.port());
            reactor.run().unwrap();
            drop(t.stop_service());
            seen.lock().unwrap().accepted
        });
        assert_eq!(accepted, 1);
    }

    /// A server the client tests connect to: its connections count as accepted.
    fn listen(reactor: &Reactor, seen: &Shared) -> ListeningPort {
        reactor.listen_tcp(0, echo_factory(seen)).unwrap()
    }

    /// twisted: InternetTests.test_reactorParametrizationInClient
    /// A TCP client service connects with the reactor it was given, to the host and port it
    /// was given, through the factory it was given.
    #[test]
    fn test_reactor_parametrization_in_client() {
        let counts = crate::common::bounded("InternetTests.test_reactorParametrizationInClient", || {
            let reactor = crate::common::reactor();
            let h = reactor.handle();
            let seen = seen(&h, |s| s.accepted == 1);
            let server = listen(&reactor, &seen);
            let t = TcpClient::new(
                &h,
                "127.0.0.1",
                server.port(),
                foo_factory(&seen, Arc::new(|_: &Shared| {})),
            );
            t.start_service().unwrap();
            let to = t.connector().expect("connecting").destination();
            assert_eq!(to, Address::Tcp(([127, 0, 0, 1], server.port()).into()));
            reactor.run().unwrap();
            drop(t.stop_service());
            let seen = seen.lock().unwrap();
            (seen.started, seen.accepted)
        });
        assert_eq!(counts, (1, 1));
    }

    /// twisted: InternetTests.test_reactorParametrizationInServerMultipleStart
    /// Stopped and started again, a TCP server service listens again on the reactor it was
    /// given, with its factory.
    #[test]
    fn test_reactor_parametrization_in_server_multiple_start() {
        let accepted = crate::common::bounded(
            "InternetTests.test_reactorParametrizationInServerMultipleStart",
            || {
                let reactor = crate::common::reactor();
                let h = reactor.handle();
                let seen = seen(&h, |s| s.accepted == 2 && s.lines.len() == 2);
                let t = Arc::new(TcpServer::new(&h, 0, echo_factory(&seen)));
                t.start_service().unwrap();
                let first = t.listening_port().expect("listening");
                // Once the first client is done, the server is stopped, started again,
                // and a second client connects to its new port.
                let restart: Hook = {
                    let (t, h) = (Arc::clone(&t), h.clone());
                    Arc::new(move |seen: &Shared| {
                        let (t2, h, seen) = (Arc::clone(&t), h.clone(), Arc::clone(seen));
                        drop(t.stop_service().add_callback(move |()| {
                            t2.start_service()?;
                            let again = t2.listening_port().expect("listening again");
                            knock(&h, &seen, again.port());
                            Ok::<_, Failure>(())
                        }));
                    })
                };
                h.connect_tcp("127.0.0.1", first.port(), foo_factory(&seen, restart))
                    .unwrap();
                reactor.run().unwrap();
                assert!(!first.listening());
                drop(t.stop_service());
                seen.lock().unwrap().accepted
            },
        );
        assert_eq!(accepted, 2);
    }

    /// twisted: InternetTests.test_reactorParametrizationInClientMultipleStart
    /// Stopped and started again, a TCP client service connects again with the reactor,
    /// address and factory it was given.
    #[test]
    fn test_reactor_parametrization_in_client_multiple_start() {
        let counts = crate::common::bounded(
            "InternetTests.test_reactorParametrizationInClientMultipleStart",
            || {
                let reactor = crate::common::reactor();
                let h = reactor.handle();
                let seen = seen(&h, |s| s.accepted == 2 && s.lines.len() == 2);
                let server = listen(&reactor, &seen);
                // The client is stopped and started again once its first connection ended.
                let slot: Arc<Mutex<Option<Arc<TcpClient<FooFactory>>>>> = Arc::new(Mutex::new(None));
                let restart: Hook = {
                    let slot = Arc::clone(&slot);
                    Arc::new(move |seen: &Shared| {
                        if seen.lock().unwrap().lines.len() == 1 {
                            let t = slot.lock().unwrap().clone().expect("the client is in its slot");
                            assert!(t.stop_service().called());
                            t.start_service().unwrap();
                        }
                    })
                };
                let t = Arc::new(TcpClient::new(
                    &h,
                    "127.0.0.1",
                    server.port(),
                    foo_factory(&seen, restart),
                ));
                *slot.lock().unwrap() = Some(Arc::clone(&t));
                t.start_service().unwrap();
                reactor.run().unwrap();
                slot.lock().unwrap().take();
                let to = t.connector().expect("connected again").destination();
                assert_eq!(to, Address::Tcp(([127, 0, 0, 1], server.port()).into()));
                drop(t.stop_service());
                let seen = seen.lock().unwrap();
                (seen.started, seen.accepted)
            },
        );
        assert_eq!(counts, (2, 2));
    }

    /// twisted: InternetTests.test_everythingThere
    /// The server and client services of the transports this crate has exist and are
    /// services (the missing ones are listed at the top of this file).
    #[test]
    fn test_everything_there() {
        fn is_service(o: &dyn Service) -> bool {
            !o.running()
        }
        let reactor = crate::common::reactor();
        let h = reactor.handle();
        assert!(is_service(&TcpServer::new(&h, 0, for_protocol(|| Quiet))));
        assert!(is_service(&TcpClient::new(
            &h,
            "127.0.0.1",
            0,
            for_protocol(|| Quiet)
        )));
        #[cfg(unix)]
        assert!(is_service(&UnixServer::new(
            &h,
            "unused.skt",
            for_protocol(|| Quiet)
        )));
    }

    struct Quiet;
    impl Protocol for Quiet {
        fn data_received(&mut self, _: &[u8]) {}
    }
}

// --- BackoffPolicyTests ---------------------------------------------------------------

fn one_second() -> Duration {
    Duration::from_secs(1)
}

fn close(a: Duration, b: f64) -> bool {
    (a.as_secs_f64() - b).abs() < 1e-6
}

/// twisted: BackoffPolicyTests.test_calculates_correct_values
/// The delay grows by the factor from the initial delay, is capped at the maximum, and
/// gets the jitter added.
#[test]
fn test_calculates_correct_values() {
    let pol = backoff_policy(Duration::from_secs(1), Duration::from_secs(60), 1.5, one_second);
    assert!(close(pol(0), 2.0), "{:?}", pol(0));
    assert!(close(pol(1), 2.5), "{:?}", pol(1));
    assert!(close(pol(10), 58.665_039_062_5), "{:?}", pol(10));
    assert_eq!(pol(20), Duration::from_secs(61));
    assert_eq!(pol(100), Duration::from_secs(61));
}

/// twisted: BackoffPolicyTests.test_does_not_overflow_on_high_attempts
/// A very high attempt count waits the maximum plus the jitter, without overflowing.
#[test]
fn test_does_not_overflow_on_high_attempts() {
    let pol = backoff_policy(Duration::from_secs(1), Duration::from_secs(60), 1.5, one_second);
    assert_eq!(pol(1751), Duration::from_secs(61));
    assert_eq!(pol(1_000_000), Duration::from_secs(61));
    assert_eq!(pol(u32::MAX), Duration::from_secs(61));
}

/// twisted: BackoffPolicyTests.test_does_not_overflow_with_large_factor_value
/// A factor so large that the growth overflows waits the maximum plus the jitter.
#[test]
fn test_does_not_overflow_with_large_factor_value() {
    let pol = backoff_policy(Duration::from_secs(1), Duration::from_secs(60), 1e10, one_second);
    assert_eq!(pol(1751), Duration::from_secs(61));
}
