//! Port of `twisted/application/test/test_internet.py`: `EndpointServiceTests`,
//! `TimerServiceTests` and `ClientServiceTests`.
//!
//! Twisted's fakes are rebuilt here: `FakeServer` (a server endpoint whose `listen`
//! returns a Deferred the test fires) and `endpointForTesting` (a client endpoint whose
//! `connect` returns a Deferred the test fires, building the protocol over a
//! `StringTransport` when it does). Where Twisted compares protocols by identity, these
//! tests compare transports (`ClientService` fires with the connection's transport).
//!
//! Not ported:
//! - `TimerServiceTests.test_startServiceUsesGlobalReactor`: there is no global reactor;
//!   the clock is given to `TimerService::new`.
//! - `TimerServiceTests.test_pickleTimerServiceNotPickleLoop`,
//!   `test_pickleTimerServiceNotPickleLoopFinished`: services are not pickled.
//!
//! Ported with a difference:
//! - `ClientServiceTests.test_interfacesForTransport` checks the one marker interface that
//!   exists here (`half_closeable`); `IFileDescriptorReceiver` does not.
//! - `ClientServiceTests.test_clientConnected` checks the connection, not the `repr` of
//!   Twisted's proxy objects.
//! - `ClientServiceTests.test_prepareConnectionThrows` also checks that the rejected
//!   connection is closed (Twisted leaves it open).
//!
//! Totals: `EndpointServiceTests` 11 tests, 11 ported; `TimerServiceTests` 8 tests, 5
//! ported, 3 not applicable; `ClientServiceTests` 31 tests, 31 ported. In all 50 tests,
//! 47 ported, 3 not applicable.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{Deferred, Resolver};
use tokio_twisted::failure::Failure;
use tokio_twisted::service::{Service, TimerService};
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{LoggedErrors, assert_no_result, success_result_of};

/// A timer every 2 seconds whose function returns one pending Deferred (Twisted's
/// `self.deferred`), and that Deferred's resolver.
fn setup() -> (TimerService, Clock, Resolver<()>, Arc<Mutex<Vec<()>>>) {
    let clock = Clock::new();
    let (d, r) = Deferred::<()>::new();
    let d = Mutex::new(Some(d));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    let timer = TimerService::new(Duration::from_secs(2), clock.clone(), move || {
        log.lock().unwrap().push(());
        d.lock()
            .unwrap()
            .take()
            .unwrap_or_else(|| tokio_twisted::defer::succeed(()))
    });
    (timer, clock, r, calls)
}

/// twisted: TimerServiceTests.test_startService
/// Starting marks the service running and schedules the loop on its clock.
#[test]
fn test_start_service() {
    let (timer, clock, r, _) = setup();
    timer.start_service().unwrap();
    assert!(timer.running(), "Service is started");
    r.callback(()).unwrap();
    assert_eq!(
        clock.pending_calls().len(),
        1,
        "LoopingCall is started on the clock"
    );
    success_result_of(timer.stop_service());
}

/// twisted: TimerServiceTests.test_startServiceRunsCallImmediately
/// Starting calls the function at once.
#[test]
fn test_start_service_runs_call_immediately() {
    let (timer, _clock, r, calls) = setup();
    timer.start_service().unwrap();
    assert_eq!(calls.lock().unwrap().len(), 1);
    r.callback(()).unwrap();
    success_result_of(timer.stop_service());
}

/// twisted: TimerServiceTests.test_stopServiceWaits
/// Stopping during a call in progress fires only once that call finishes.
#[test]
fn test_stop_service_waits() {
    let (timer, _clock, r, _) = setup();
    timer.start_service().unwrap();
    let d = timer.stop_service();
    assert_no_result(&d);
    assert!(timer.running());
    r.callback(()).unwrap();
    success_result_of(d);
    assert!(!timer.running());
}

/// twisted: TimerServiceTests.test_stopServiceImmediately
/// Stopping between calls fires at once.
#[test]
fn test_stop_service_immediately() {
    let (timer, _clock, r, _) = setup();
    timer.start_service().unwrap();
    r.callback(()).unwrap();
    success_result_of(timer.stop_service());
}

/// twisted: TimerServiceTests.test_failedCallLogsError
/// A call whose Deferred fails is logged, and stopping afterwards succeeds.
#[test]
fn test_failed_call_logs_error() {
    let logged = LoggedErrors::capture();
    let (timer, _clock, r, _) = setup();
    timer.start_service().unwrap();
    r.errback(Failure::new(std::fmt::Error)).unwrap();
    assert_eq!(logged.flush::<std::fmt::Error>().len(), 1);
    success_result_of(timer.stop_service());
}

/// Errors the fakes fail with (Twisted's tests use `ZeroDivisionError` and
/// `IndentationError` as arbitrary exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ZeroDivisionError;

impl std::fmt::Display for ZeroDivisionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("division by zero")
    }
}

impl std::error::Error for ZeroDivisionError {}

mod endpoint_service_tests {
    //! `EndpointServiceTests`.

    use std::any::Any;
    use std::cell::RefCell;
    use std::rc::Rc;

    use tokio_twisted::defer::{CancelledError, Deferred, Resolver};
    use tokio_twisted::endpoints::StreamServerEndpoint;
    use tokio_twisted::failure::Failure;
    use tokio_twisted::protocol::{Address, Factory, ListeningPort, Protocol, SharedFactory, for_protocol};
    use tokio_twisted::service::{Service, StreamServerEndpointService};
    use tokio_twisted::testing::{LoggedErrors, assert_no_result};

    use super::ZeroDivisionError;
    use crate::common;

    struct Quiet;
    impl Protocol for Quiet {
        fn data_received(&mut self, _: &[u8]) {}
    }

    /// The application's factory, marked so the test can tell it from another.
    struct TestFactory {
        marker: Rc<()>,
    }

    impl Factory for TestFactory {
        type Protocol = Quiet;
        fn build_protocol(&mut self, _: &Address) -> Option<Quiet> {
            Some(Quiet)
        }
    }

    #[derive(Default)]
    struct FakeServerState {
        result: Option<Resolver<ListeningPort>>,
        factory: Option<Box<dyn Any>>,
        fail_immediately: Option<Failure>,
        cancel_with_zero_division: bool,
        listen_attempts: usize,
    }

    /// Twisted's `FakeServer`: `listen` returns a Deferred the test fires.
    #[derive(Clone, Default)]
    struct FakeServer(Rc<RefCell<FakeServerState>>);

    impl StreamServerEndpoint for FakeServer {
        fn listen<G: Factory>(&self, factory: G) -> Deferred<ListeningPort> {
            let zero = self.0.borrow().cancel_with_zero_division;
            let (d, r) = Deferred::with_canceller(move |r: &Resolver<ListeningPort>| {
                let failure = if zero {
                    Failure::new(ZeroDivisionError)
                } else {
                    Failure::new(CancelledError)
                };
                let _ = r.errback(failure);
            });
            let failing = {
                let mut st = self.0.borrow_mut();
                st.listen_attempts += 1;
                st.factory = Some(Box::new(factory));
                st.result = Some(r.clone());
                st.fail_immediately.clone()
            };
            if let Some(failure) = failing {
                r.errback(failure).unwrap();
            }
            d
        }
    }

    impl FakeServer {
        fn resolver(&self) -> Resolver<ListeningPort> {
            self.0.borrow().result.clone().expect("listen was called")
        }

        /// Whether `listen` got the service's factory (a `SharedFactory` over it).
        fn got_factory(&self, marker: &Rc<()>) -> bool {
            let st = self.0.borrow();
            let Some(shared) = st
                .factory
                .as_ref()
                .and_then(|f| f.downcast_ref::<SharedFactory<TestFactory>>())
            else {
                return false;
            };
            shared.with(|f| Rc::ptr_eq(&f.marker, marker))
        }
    }

    fn setup() -> (
        FakeServer,
        Rc<()>,
        StreamServerEndpointService<FakeServer, TestFactory>,
    ) {
        let server = FakeServer::default();
        let marker = Rc::new(());
        let svc = StreamServerEndpointService::new(
            server.clone(),
            TestFactory {
                marker: Rc::clone(&marker),
            },
        );
        (server, marker, svc)
    }

    /// twisted: EndpointServiceTests.test_privilegedStartService
    /// The privileged start listens on the endpoint with the service's factory.
    #[test]
    fn test_privileged_start_service() {
        let (server, marker, svc) = setup();
        svc.privileged_start_service().unwrap();
        assert!(server.got_factory(&marker));
    }

    fn synchronous_raise(privileged: bool) {
        let (server, _marker, svc) = setup();
        server.0.borrow_mut().fail_immediately = Some(Failure::new(ZeroDivisionError));
        let svc = svc.raise_synchronously();
        let outcome = if privileged {
            svc.privileged_start_service()
        } else {
            svc.start_service()
        };
        assert!(outcome.unwrap_err().check::<ZeroDivisionError>());
    }

    /// twisted: EndpointServiceTests.test_synchronousRaiseRaisesSynchronously
    /// With the strports flag, a listen that has already failed fails `start_service`.
    #[test]
    fn test_synchronous_raise_raises_synchronously() {
        synchronous_raise(false);
    }

    /// twisted: EndpointServiceTests.test_synchronousRaisePrivileged
    /// The same holds for `privileged_start_service`.
    #[test]
    fn test_synchronous_raise_privileged() {
        synchronous_raise(true);
    }

    /// twisted: EndpointServiceTests.test_failReportsError
    /// A listen that fails later is logged.
    #[test]
    fn test_fail_reports_error() {
        let logged = LoggedErrors::capture();
        let (server, _marker, svc) = setup();
        svc.start_service().unwrap();
        server.resolver().errback(ZeroDivisionError).unwrap();
        assert_eq!(logged.flush::<ZeroDivisionError>().len(), 1);
    }

    /// twisted: EndpointServiceTests.test_asynchronousFailReportsError
    /// A listen that fails later is logged even with the strports flag.
    #[test]
    fn test_asynchronous_fail_reports_error() {
        let logged = LoggedErrors::capture();
        let (server, _marker, svc) = setup();
        let svc = svc.raise_synchronously();
        svc.start_service().unwrap();
        server.resolver().errback(ZeroDivisionError).unwrap();
        assert_eq!(logged.flush::<ZeroDivisionError>().len(), 1);
    }

    /// twisted: EndpointServiceTests.test_synchronousFailReportsError
    /// Without the flag, a listen that failed at once is logged, not raised.
    #[test]
    fn test_synchronous_fail_reports_error() {
        let logged = LoggedErrors::capture();
        let (server, _marker, svc) = setup();
        server.0.borrow_mut().fail_immediately = Some(Failure::new(ZeroDivisionError));
        svc.start_service().unwrap();
        assert_eq!(logged.flush::<ZeroDivisionError>().len(), 1);
    }

    /// twisted: EndpointServiceTests.test_startServiceUnstarted
    /// Starting an unstarted service sets `running` and listens with its factory.
    #[test]
    fn test_start_service_unstarted() {
        let (server, marker, svc) = setup();
        svc.start_service().unwrap();
        assert!(server.got_factory(&marker));
        assert!(svc.running());
    }

    /// twisted: EndpointServiceTests.test_startServiceStarted
    /// After the privileged start, starting sets `running` and does not listen again.
    #[test]
    fn test_start_service_started() {
        let (server, _marker, svc) = setup();
        svc.privileged_start_service().unwrap();
        svc.start_service().unwrap();
        assert_eq!(server.0.borrow().listen_attempts, 1);
        assert!(svc.running());
    }

    /// twisted: EndpointServiceTests.test_stopService
    /// Stopping closes the port; its Deferred fires once the port is closed, and
    /// `running` is cleared.
    #[test]
    fn test_stop_service() {
        let _limit = common::time_limit();
        let reactor = common::reactor();
        // A real port, so that its stop is pending until the reactor closes it (Twisted's
        // FakePort's `stoppedListening`).
        let port = reactor.listen_tcp(0, for_protocol(|| Quiet)).unwrap();
        let (server, _marker, svc) = setup();
        svc.privileged_start_service().unwrap();
        server.resolver().callback(port.clone()).unwrap();
        svc.start_service().unwrap();
        let result = svc.stop_service();
        assert_no_result(&result);
        let stopper = reactor.handle();
        let result = result.add_callback(move |()| {
            stopper.stop()?;
            Ok::<_, Failure>(())
        });
        reactor.run().unwrap();
        assert!(result.called());
        assert!(!port.listening());
        assert!(!svc.running());
    }

    /// twisted: EndpointServiceTests.test_stopServiceBeforeStartFinished
    /// Stopping before the listen finished cancels it; the cancellation is not logged.
    #[test]
    fn test_stop_service_before_start_finished() {
        let logged = LoggedErrors::capture();
        let (_server, _marker, svc) = setup();
        svc.privileged_start_service().unwrap();
        let result = svc.stop_service();
        assert_eq!(result.result().unwrap().unwrap(), ());
        assert!(logged.flush::<CancelledError>().is_empty());
    }

    /// twisted: EndpointServiceTests.test_stopServiceCancelStartError
    /// A cancellation that fails with another error is logged; the stop still fires.
    #[test]
    fn test_stop_service_cancel_start_error() {
        let logged = LoggedErrors::capture();
        let (server, _marker, svc) = setup();
        server.0.borrow_mut().cancel_with_zero_division = true;
        svc.privileged_start_service().unwrap();
        let result = svc.stop_service();
        assert_eq!(result.result().unwrap().unwrap(), ());
        assert_eq!(logged.flush::<ZeroDivisionError>().len(), 1);
    }
}

mod client_service_tests {
    //! `ClientServiceTests`.

    #![allow(clippy::many_single_char_names, reason = "the names of Twisted's test")]

    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio_twisted::defer::{CancelledError, Deferred, Resolver};
    use tokio_twisted::endpoints::StreamClientEndpoint;
    use tokio_twisted::error::NoProtocol;
    use tokio_twisted::failure::Failure;
    use tokio_twisted::protocol::{Address, Factory, Protocol, Transport};
    use tokio_twisted::service::{ClientService, Service};
    use tokio_twisted::task::Clock;
    use tokio_twisted::testing::{StringTransport, assert_no_result, failure_result_of, success_result_of};

    use super::ZeroDivisionError;

    /// Twisted's `AT_LEAST_ONE_ATTEMPT`: longer than any default retry delay.
    const AT_LEAST_ONE_ATTEMPT: Duration = Duration::from_secs(100);

    type Build = Box<dyn FnOnce() -> Option<Box<dyn Protocol>>>;
    type Hook = Box<dyn Fn(&Transport) -> Deferred<()>>;

    /// Twisted's `ConnectInformation`: the attempts in progress and what they built.
    #[derive(Default)]
    struct Info {
        /// Each attempt's resolver and protocol builder (taken when it is fired).
        queue: Vec<(Resolver<Transport>, Option<Build>)>,
        constructed: Vec<Rc<RefCell<Box<dyn Protocol>>>>,
        wires: Vec<StringTransport>,
        /// `start_factory` of each factory passed to the endpoint.
        passed_factories: Vec<Box<dyn Fn()>>,
        fire_immediately: bool,
    }

    /// Twisted's `endpointForTesting`: `connect` returns a Deferred the test fires; firing
    /// builds the protocol and connects it to a `StringTransport`.
    #[derive(Clone, Default)]
    struct TestEndpoint(Rc<RefCell<Info>>);

    impl StreamClientEndpoint for TestEndpoint {
        fn connect<G: Factory>(&self, factory: G) -> Deferred<Transport> {
            let (d, r) = Deferred::new();
            let factory = Rc::new(RefCell::new(factory));
            let builder = Rc::clone(&factory);
            let build: Build = Box::new(move || {
                builder
                    .borrow_mut()
                    .build_protocol(&Address::Unix(None))
                    .map(|p| Box::new(p) as Box<dyn Protocol>)
            });
            let immediately = {
                let mut info = self.0.borrow_mut();
                info.queue.push((r, Some(build)));
                info.passed_factories
                    .push(Box::new(move || factory.borrow_mut().start_factory()));
                info.fire_immediately
            };
            if immediately {
                let last = self.0.borrow().queue.len() - 1;
                self.fire(last);
            }
            d
        }
    }

    impl TestEndpoint {
        /// Fires attempt `i` with a connection (Twisted's `connectQueue[i].callback(None)`).
        fn fire(&self, i: usize) {
            let (r, build) = {
                let mut info = self.0.borrow_mut();
                let (r, build) = &mut info.queue[i];
                (r.clone(), build.take().expect("each attempt fires once"))
            };
            let Some(mut protocol) = build() else {
                r.errback(NoProtocol).unwrap();
                return;
            };
            let wire = StringTransport::new();
            protocol.make_connection(wire.transport());
            {
                let mut info = self.0.borrow_mut();
                info.constructed.push(Rc::new(RefCell::new(protocol)));
                info.wires.push(wire.clone());
            }
            r.callback(wire.transport()).unwrap();
        }

        /// Fails attempt `i` (Twisted's `connectQueue[i].errback(...)`).
        fn fail(&self, i: usize, failure: Failure) {
            let r = self.0.borrow().queue[i].0.clone();
            r.errback(failure).unwrap();
        }

        fn attempts(&self) -> usize {
            self.0.borrow().queue.len()
        }

        fn constructed(&self) -> usize {
            self.0.borrow().constructed.len()
        }

        fn wire(&self, i: usize) -> StringTransport {
            self.0.borrow().wires[i].clone()
        }

        /// Loses connection `i` (Twisted's `constructedProtocols[i].connectionLost(...)`).
        fn lose(&self, i: usize) {
            let protocol = Rc::clone(&self.0.borrow().constructed[i]);
            protocol
                .borrow_mut()
                .connection_lost(Failure::new(ZeroDivisionError));
        }

        /// Whether `transport` is connection `i`'s (Twisted compares protocols by identity).
        fn is_connection(&self, i: usize, transport: &Transport) -> bool {
            let wire = self.wire(i);
            let before = wire.value().len();
            transport.write(b"?");
            wire.value().len() == before + 1
        }
    }

    /// The application's protocol; `half_closeable` as asked.
    struct AppProtocol {
        half_closeable: bool,
    }

    impl Protocol for AppProtocol {
        fn data_received(&mut self, _: &[u8]) {}
        fn half_closeable(&self) -> bool {
            self.half_closeable
        }
    }

    /// Twisted's `RememberingFactory`: counts the protocols it built and its starts.
    struct RememberingFactory {
        built: Rc<Cell<usize>>,
        starts: Rc<Cell<usize>>,
        refuse: bool,
        half_closeable: bool,
    }

    impl Factory for RememberingFactory {
        type Protocol = AppProtocol;
        fn build_protocol(&mut self, _: &Address) -> Option<AppProtocol> {
            if self.refuse {
                return None;
            }
            self.built.set(self.built.get() + 1);
            Some(AppProtocol {
                half_closeable: self.half_closeable,
            })
        }
        fn start_factory(&mut self) {
            self.starts.set(self.starts.get() + 1);
        }
    }

    struct Setup {
        cq: TestEndpoint,
        service: ClientService<TestEndpoint, RememberingFactory>,
        clock: Clock,
        built: Rc<Cell<usize>>,
        starts: Rc<Cell<usize>>,
    }

    impl Setup {
        /// Stops the service while connection `i` is up: the stop fires once it is lost.
        fn stop_connected(&self, i: usize) {
            let d = self.service.stop_service();
            assert_no_result(&d);
            self.cq.lose(i);
            success_result_of(d);
        }
    }

    impl Drop for Setup {
        /// Twisted's cleanup: stop, and leave nothing scheduled.
        fn drop(&mut self) {
            if self.service.running() {
                drop(self.service.stop_service());
            }
            if !std::thread::panicking() {
                assert!(self.clock.pending_calls().is_empty(), "nothing left scheduled");
            }
        }
    }

    #[derive(Clone, Copy)]
    struct Options {
        fire_immediately: bool,
        start: bool,
        refuse: bool,
        half_closeable: bool,
    }

    const DEFAULT: Options = Options {
        fire_immediately: true,
        start: true,
        refuse: false,
        half_closeable: false,
    };
    const LATER: Options = Options {
        fire_immediately: false,
        ..DEFAULT
    };

    fn make(options: Options, prepare: Option<Hook>) -> Setup {
        let clock = Clock::new();
        let cq = TestEndpoint::default();
        cq.0.borrow_mut().fire_immediately = options.fire_immediately;
        let (built, starts) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let factory = RememberingFactory {
            built: Rc::clone(&built),
            starts: Rc::clone(&starts),
            refuse: options.refuse,
            half_closeable: options.half_closeable,
        };
        let mut service = ClientService::new(cq.clone(), factory, clock.clone());
        if let Some(prepare) = prepare {
            service = service.with_prepare_connection(move |t: &Transport| prepare(t));
        }
        if options.start {
            service.start_service().unwrap();
        }
        Setup {
            cq,
            service,
            clock,
            built,
            starts,
        }
    }

    /// twisted: ClientServiceTests.test_startService
    /// Starting makes a connection attempt.
    #[test]
    fn test_start_service() {
        let s = make(LATER, None);
        assert_eq!(s.cq.attempts(), 1);
    }

    /// twisted: ClientServiceTests.test_startStopFactory
    /// Starting the factory passed to the endpoint starts the application's factory.
    #[test]
    fn test_start_stop_factory() {
        let s = make(DEFAULT, None);
        assert_eq!(s.starts.get(), 0);
        (s.cq.0.borrow().passed_factories[0])();
        assert_eq!(s.starts.get(), 1);
    }

    /// twisted: ClientServiceTests.test_stopServiceWhileConnected
    /// Stopping while connected closes the connection; the stop fires once it is lost.
    #[test]
    fn test_stop_service_while_connected() {
        let s = make(DEFAULT, None);
        let d = s.service.stop_service();
        assert_no_result(&d);
        assert!(s.cq.wire(0).disconnecting());
        s.cq.lose(0);
        success_result_of(d);
    }

    /// twisted: ClientServiceTests.test_startServiceWaitsForDisconnect
    /// Started again while disconnecting, it connects only once the old connection is gone.
    #[test]
    fn test_start_service_waits_for_disconnect() {
        let s = make(DEFAULT, None);
        let d = s.service.stop_service();
        assert_no_result(&d);
        assert!(s.cq.wire(0).disconnecting());
        s.service.start_service().unwrap();
        assert_no_result(&d);
        assert_eq!(s.cq.constructed(), 1);
        s.cq.lose(0);
        assert_eq!(s.cq.constructed(), 2);
        success_result_of(d);
    }

    /// twisted: ClientServiceTests.test_startServiceWhileStopping
    /// Started while stopping: a new connection is made and new waiters get it.
    #[test]
    fn test_start_service_while_stopping() {
        let s = make(LATER, None);
        s.cq.fire(0);
        let stopped = s.service.stop_service();
        assert_no_result(&stopped);
        let next = s.service.when_connected();
        assert_no_result(&next);
        s.service.start_service().unwrap();
        assert_no_result(&next);
        assert_no_result(&stopped);
        assert!(s.cq.wire(0).disconnecting());
        s.cq.lose(0);
        success_result_of(stopped);
        s.cq.fire(1);
        assert_eq!(s.cq.constructed(), 2);
        let t = success_result_of(next);
        assert!(s.cq.is_connection(1, &t));
        let second = s.service.stop_service();
        assert_no_result(&second);
        s.cq.lose(1);
        success_result_of(second);
    }

    /// twisted: ClientServiceTests.test_startServiceWhileStopped
    /// Stopped, waiters fail; started again, a new connection is made and reported.
    #[test]
    fn test_start_service_while_stopped() {
        let s = make(LATER, None);
        success_result_of(s.service.stop_service());
        assert!(failure_result_of(s.service.when_connected()).check::<CancelledError>());
        s.service.start_service().unwrap();
        let last = s.cq.attempts() - 1;
        s.cq.fire(last);
        let t = success_result_of(s.service.when_connected());
        assert!(s.cq.is_connection(0, &t));
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_interfacesForTransport
    /// The protocol given to the transport is half-closeable when the application's is.
    #[test]
    fn test_interfaces_for_transport() {
        let s = make(
            Options {
                half_closeable: true,
                ..DEFAULT
            },
            None,
        );
        assert!(s.cq.0.borrow().constructed[0].borrow().half_closeable());
        let plain = make(DEFAULT, None);
        assert!(!plain.cq.0.borrow().constructed[0].borrow().half_closeable());
        for s in [s, plain] {
            let d = s.service.stop_service();
            s.cq.lose(0);
            success_result_of(d);
        }
    }

    /// twisted: ClientServiceTests.test_stopServiceWhileRetrying
    /// Stopped while an attempt after a retry is in progress, the attempt is cancelled.
    #[test]
    fn test_stop_service_while_retrying() {
        let s = make(LATER, None);
        s.cq.fail(0, Failure::new(ZeroDivisionError));
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(s.cq.attempts(), 2);
        let d = s.service.stop_service();
        // The cancellation already failed the attempt: a second failure is refused.
        assert!(s.cq.0.borrow().queue[1].0.called());
        success_result_of(d);
    }

    /// twisted: ClientServiceTests.test_stopServiceWhileConnecting
    /// Stopped during the first attempt, the attempt is cancelled and the stop fires.
    #[test]
    fn test_stop_service_while_connecting() {
        let s = make(LATER, None);
        assert_eq!(s.cq.attempts(), 1);
        let d = s.service.stop_service();
        success_result_of(d);
    }

    /// twisted: ClientServiceTests.test_clientConnected
    /// A connection is reported to waiters and nothing stays scheduled.
    #[test]
    fn test_client_connected() {
        let s = make(DEFAULT, None);
        let awaiting = s.service.when_connected();
        assert!(s.clock.pending_calls().is_empty());
        let t = success_result_of(awaiting);
        assert!(s.cq.is_connection(0, &t));
        assert_eq!(s.built.get(), 1);
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_clientConnectionFailed
    /// A failed attempt is retried after a delay.
    #[test]
    fn test_client_connection_failed() {
        let s = make(LATER, None);
        assert_eq!(s.cq.attempts(), 1);
        s.cq.fail(0, Failure::new(ZeroDivisionError));
        let when = s.service.when_connected();
        assert_no_result(&when);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(s.cq.attempts(), 2);
        drop(s.service.stop_service());
        assert!(failure_result_of(when).check::<CancelledError>());
    }

    /// twisted: ClientServiceTests.test_clientConnectionLost
    /// A lost connection is replaced after a delay, and the new one reported.
    #[test]
    fn test_client_connection_lost() {
        let s = make(LATER, None);
        assert_eq!(s.cq.attempts(), 1);
        s.cq.fire(0);
        assert_eq!(s.cq.attempts(), 1);
        let t = success_result_of(s.service.when_connected());
        assert!(s.cq.is_connection(0, &t));
        s.cq.lose(0);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(s.cq.attempts(), 2);
        s.cq.fire(1);
        let t = success_result_of(s.service.when_connected());
        assert!(s.cq.is_connection(1, &t));
        s.stop_connected(1);
    }

    /// twisted: ClientServiceTests.test_clientConnectionRefused
    /// A factory refusing to build a protocol makes the attempt fail, and it is retried.
    #[test]
    fn test_client_connection_refused() {
        let s = make(
            Options {
                refuse: true,
                ..LATER
            },
            None,
        );
        assert_eq!(s.cq.attempts(), 1);
        s.cq.fire(0);
        assert_eq!(s.cq.attempts(), 1);
        let when = s.service.when_connected();
        assert_no_result(&when);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(s.cq.attempts(), 2);
        s.cq.fire(1);
        assert_no_result(&when);
        drop(s.service.stop_service());
        assert!(failure_result_of(when).check::<CancelledError>());
    }

    /// twisted: ClientServiceTests.test_clientConnectionLostWhileStopping
    /// Losing the connection while stopping fires the stop and fails new waiters.
    #[test]
    fn test_client_connection_lost_while_stopping() {
        let s = make(DEFAULT, None);
        let d = s.service.stop_service();
        s.cq.lose(0);
        assert!(failure_result_of(s.service.when_connected()).check::<CancelledError>());
        assert!(d.called());
    }

    /// twisted: ClientServiceTests.test_startTwice
    /// A second start while running logs a complaint and makes no new attempt.
    #[test]
    fn test_start_twice() {
        let s = make(
            Options {
                start: false,
                ..LATER
            },
            None,
        );
        assert_eq!(s.cq.attempts(), 0);
        s.service.start_service().unwrap();
        assert_eq!(s.cq.attempts(), 1);
        let messages = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&messages);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Writer(Arc::clone(&sink)))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || s.service.start_service().unwrap());
        assert_eq!(s.cq.attempts(), 1);
        let text = String::from_utf8(messages.lock().unwrap().clone()).unwrap();
        assert!(text.contains("Duplicate ClientService.startService"), "{text}");
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// twisted: ClientServiceTests.test_whenConnectedLater
    /// Waiters added before the connection all get it when it is made.
    #[test]
    fn test_when_connected_later() {
        let s = make(LATER, None);
        let a = s.service.when_connected();
        let b = s.service.when_connected();
        let c = s.service.when_connected_or_fail_after(1);
        assert_no_result(&a);
        assert_no_result(&b);
        assert_no_result(&c);
        s.cq.fire(0);
        for d in [a, b, c] {
            let t = success_result_of(d);
            assert!(s.cq.is_connection(0, &t));
        }
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_whenConnectedFails
    /// A waiter with a failure budget fails with the attempt's failure when it runs out;
    /// the others wait for the connection.
    #[test]
    fn test_when_connected_fails() {
        let s = make(LATER, None);
        let a0 = s.service.when_connected();
        let a1 = s.service.when_connected_or_fail_after(1);
        let a2 = s.service.when_connected_or_fail_after(2);
        let a3 = s.service.when_connected_or_fail_after(3);
        for d in [&a0, &a1, &a2, &a3] {
            assert_no_result(d);
        }
        s.cq.fail(0, Failure::msg("f1"));
        assert_no_result(&a0);
        assert_eq!(failure_result_of(a1).error_message(), "f1");
        assert_no_result(&a2);
        assert_no_result(&a3);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(s.cq.attempts(), 2);
        s.cq.fail(1, Failure::msg("f2"));
        assert_no_result(&a0);
        assert_eq!(failure_result_of(a2).error_message(), "f2");
        assert_no_result(&a3);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(s.cq.attempts(), 3);
        assert_no_result(&a0);
        assert_no_result(&a3);
        s.cq.fire(2);
        assert!(s.cq.is_connection(0, &success_result_of(a0)));
        assert!(s.cq.is_connection(0, &success_result_of(a3)));
        // Connected already: a waiter with a budget fires at once.
        assert!(s.cq.is_connection(0, &success_result_of(s.service.when_connected_or_fail_after(1))));
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_whenConnectedStopService
    /// Stopping fails every waiter with `CancelledError`.
    #[test]
    fn test_when_connected_stop_service() {
        let s = make(LATER, None);
        let a = s.service.when_connected();
        let b = s.service.when_connected();
        let c = s.service.when_connected_or_fail_after(1);
        assert_no_result(&a);
        assert_no_result(&b);
        assert_no_result(&c);
        drop(s.service.stop_service());
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        for d in [a, b, c] {
            assert!(failure_result_of(d).check::<CancelledError>());
        }
    }

    /// twisted: ClientServiceTests.test_retryCancelled
    /// Stopped between attempts, the retry is cancelled and the stop fires at once.
    #[test]
    fn test_retry_cancelled() {
        let s = make(LATER, None);
        s.cq.fail(0, Failure::msg("no connection"));
        let d = s.service.stop_service();
        assert!(s.clock.pending_calls().is_empty());
        success_result_of(d);
    }

    /// twisted: ClientServiceTests.test_stopServiceBeforeStartService
    /// Stopping a service never started fires at once.
    #[test]
    fn test_stop_service_before_start_service() {
        let s = make(
            Options {
                start: false,
                ..LATER
            },
            None,
        );
        success_result_of(s.service.stop_service());
    }

    /// twisted: ClientServiceTests.test_whenConnectedErrbacksOnStopService
    /// Stopped between attempts, waiters from before and after fail with `CancelledError`.
    #[test]
    fn test_when_connected_errbacks_on_stop_service() {
        let s = make(LATER, None);
        let before = s.service.when_connected();
        s.cq.fail(0, Failure::msg("no connection"));
        drop(s.service.stop_service());
        let after = s.service.when_connected();
        assert!(failure_result_of(before).check::<CancelledError>());
        assert!(failure_result_of(after).check::<CancelledError>());
    }

    /// twisted: ClientServiceTests.test_stopServiceWhileDisconnecting
    /// Two stops while disconnecting both fire once the connection is gone.
    #[test]
    fn test_stop_service_while_disconnecting() {
        let s = make(LATER, None);
        s.cq.fire(0);
        let first = s.service.stop_service();
        let second = s.service.stop_service();
        s.cq.lose(0);
        success_result_of(first);
        success_result_of(second);
    }

    /// twisted: ClientServiceTests.test_stopServiceWhileRestarting
    /// Stop, start, stop: both stops fire once the connection is gone.
    #[test]
    fn test_stop_service_while_restarting() {
        let s = make(LATER, None);
        s.cq.fire(0);
        let first = s.service.stop_service();
        s.service.start_service().unwrap();
        let second = s.service.stop_service();
        s.cq.lose(0);
        success_result_of(first);
        success_result_of(second);
    }

    /// twisted: ClientServiceTests.test_stopServiceOnStoppedService
    /// Stopping twice before any connection fires both at once.
    #[test]
    fn test_stop_service_on_stopped_service() {
        let s = make(LATER, None);
        success_result_of(s.service.stop_service());
        success_result_of(s.service.stop_service());
    }

    fn counting(count: &Rc<Cell<usize>>) -> Hook {
        let count = Rc::clone(count);
        Box::new(move |_t: &Transport| {
            count.set(count.get() + 1);
            tokio_twisted::defer::succeed(())
        })
    }

    /// twisted: ClientServiceTests.test_prepareConnectionCalledWhenServiceStarts
    /// The hook runs once the first connection is made.
    #[test]
    fn test_prepare_connection_called_when_service_starts() {
        let prepares = Rc::new(Cell::new(0));
        let s = make(DEFAULT, Some(counting(&prepares)));
        assert_eq!(prepares.get(), 1);
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_prepareConnectionCalledWithProtocol
    /// The hook gets the new connection.
    #[test]
    fn test_prepare_connection_called_with_protocol() {
        let seen: Rc<RefCell<Vec<Transport>>> = Rc::default();
        let log = Rc::clone(&seen);
        let s = make(
            DEFAULT,
            Some(Box::new(move |t: &Transport| {
                log.borrow_mut().push(t.clone());
                tokio_twisted::defer::succeed(())
            })),
        );
        assert!(s.cq.is_connection(0, &seen.borrow()[0]));
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_prepareConnectionCalledAfterConnectionMade
    /// The hook does not run for a failed attempt, only for the connection made.
    #[test]
    fn test_prepare_connection_called_after_connection_made() {
        let prepares = Rc::new(Cell::new(0));
        let s = make(LATER, Some(counting(&prepares)));
        s.cq.fail(0, Failure::msg("connection attempt failed"));
        assert_eq!(prepares.get(), 0);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        s.cq.fire(1);
        assert_eq!(prepares.get(), 1);
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_prepareConnectionCalledOnReconnect
    /// The hook runs again for each new connection.
    #[test]
    fn test_prepare_connection_called_on_reconnect() {
        let prepares = Rc::new(Cell::new(0));
        let s = make(DEFAULT, Some(counting(&prepares)));
        assert_eq!(prepares.get(), 1);
        s.cq.lose(0);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_eq!(prepares.get(), 2);
        s.stop_connected(1);
    }

    /// twisted: ClientServiceTests.test_prepareConnectionReturnValueIgnored
    /// What the hook returns does not replace the connection waiters get.
    #[test]
    fn test_prepare_connection_return_value_ignored() {
        let clock = Clock::new();
        let cq = TestEndpoint::default();
        cq.0.borrow_mut().fire_immediately = true;
        let factory = RememberingFactory {
            built: Rc::default(),
            starts: Rc::default(),
            refuse: false,
            half_closeable: false,
        };
        let service = ClientService::new(cq.clone(), factory, clock.clone())
            .with_prepare_connection(|_t: &Transport| Ok::<_, Failure>("sentinel"));
        service.start_service().unwrap();
        let t = success_result_of(service.when_connected());
        assert!(cq.is_connection(0, &t));
        let d = service.stop_service();
        cq.lose(0);
        success_result_of(d);
        assert!(clock.pending_calls().is_empty());
    }

    /// twisted: ClientServiceTests.test_prepareConnectionReturningADeferred
    /// Waiters wait for the Deferred the hook returns.
    #[test]
    fn test_prepare_connection_returning_a_deferred() {
        let (gate, open) = Deferred::<()>::new();
        let gate = RefCell::new(Some(gate));
        let s = make(
            DEFAULT,
            Some(Box::new(move |_t: &Transport| {
                gate.borrow_mut().take().expect("one connection")
            })),
        );
        let when = s.service.when_connected();
        assert_no_result(&when);
        open.callback(()).unwrap();
        assert!(s.cq.is_connection(0, &success_result_of(when)));
        s.stop_connected(0);
    }

    /// twisted: ClientServiceTests.test_prepareConnectionThrows
    /// A failing hook counts as a failed attempt (and waiters with a budget fail with it).
    #[test]
    fn test_prepare_connection_throws() {
        let s = make(
            DEFAULT,
            Some(Box::new(|_t: &Transport| {
                tokio_twisted::defer::fail(Failure::new(ZeroDivisionError))
            })),
        );
        let when = s.service.when_connected_or_fail_after(2);
        assert_no_result(&when);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert_no_result(&when);
        s.clock.advance(AT_LEAST_ONE_ATTEMPT);
        assert!(failure_result_of(when).check::<ZeroDivisionError>());
        // Unlike Twisted, the rejected connections were closed.
        assert!(s.cq.wire(0).disconnecting());
    }
}
