//! The network services over loopback on ports the system picks: `ClientService`
//! reconnecting to an echo server that restarts (the `client_service` example),
//! `TcpServer`, `UnixServer`, `TcpClient`, `strports::service` and `CooperatorService`,
//! and what happens off the reactor thread; `ClientService`'s retries on a `Clock`, and a
//! waiter that stops the service from inside a failure. Every test that runs a reactor
//! is bounded.

mod common;

#[path = "../examples/client_service.rs"]
#[allow(dead_code, reason = "the example's main is not called here")]
mod client_service;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_twisted::defer::{CancelledError, Deferred, fail};
use tokio_twisted::endpoints::{ParseError, StreamClientEndpoint};
use tokio_twisted::error::{CannotListenError, NotReactorThreadError};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, Factory, Protocol, Transport, for_protocol,
};
use tokio_twisted::reactor::ReactorHandle;
use tokio_twisted::service::{
    Application, ClientService, CooperatorService, RunnerError, Service, TcpClient, TcpServer, UnixServer,
    backoff_policy, no_jitter, run_application,
};
use tokio_twisted::strports;
use tokio_twisted::task::{Clock, Cooperator};
use tokio_twisted::testing::failure_result_of;

struct Quiet;
impl Protocol for Quiet {
    fn data_received(&mut self, _: &[u8]) {}
}

/// Says hello and hangs up.
struct Hello;
impl Protocol for Hello {
    fn connection_made(&mut self, t: Transport) {
        t.write(b"hello");
        t.lose_connection();
    }
    fn data_received(&mut self, _: &[u8]) {}
}

/// Collects what it receives into a shared buffer.
struct Collect(Arc<Mutex<Vec<u8>>>);
impl Protocol for Collect {
    fn data_received(&mut self, data: &[u8]) {
        self.0.lock().unwrap().extend_from_slice(data);
    }
}

#[test]
fn client_service_reconnects_when_the_echo_server_restarts() {
    let lines = common::bounded("the client_service example", || {
        let reactor = common::reactor();
        let demo = client_service::start(&reactor.handle(), 3);
        reactor.run().unwrap();
        demo.lines()
    });
    let wanted = [
        "client: connected (connection 1)",
        "client: when_connected fired",
        "client: echoed \"hello 1\"",
        "echo server: stopped",
        "client: connection 1 lost",
        "echo server: started again",
        "client: connected (connection 2)",
        "client: echoed \"hello 2\"",
        "client: connection 2 lost",
        "client: connected (connection 3)",
        "client: echoed \"hello 3\"",
        "client: connection 3 lost",
        "client: stopped",
    ];
    let mut at = 0;
    for line in &lines {
        if at < wanted.len() && line == wanted[at] {
            at += 1;
        }
    }
    assert_eq!(at, wanted.len(), "in order: {wanted:#?}\ngot: {lines:#?}");
}

/// Reports what a client connection received and stops the reactor when it ends.
struct Report(Arc<Mutex<Vec<u8>>>, ReactorHandle);

impl Factory for Report {
    type Protocol = Collect;
    fn build_protocol(&mut self, _: &Address) -> Option<Collect> {
        Some(Collect(Arc::clone(&self.0)))
    }
}

impl ClientFactory for Report {
    fn client_connection_lost(&mut self, _: &Connector, _: Failure) {
        self.1.stop().unwrap();
    }
    fn client_connection_failed(&mut self, _: &Connector, reason: Failure) {
        self.1.stop().unwrap();
        panic!("could not connect: {reason}");
    }
}

#[test]
fn tcp_server_serves_a_tcp_client_and_a_clash_fails_the_start() {
    common::bounded("TCP server and client services", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let server = TcpServer::new(&handle, 0, for_protocol(|| Hello));
        server.privileged_start_service().unwrap();
        server.start_service().unwrap();
        let port = server.listening_port().unwrap().port();
        let clash = TcpServer::new(&handle, port, for_protocol(|| Quiet));
        assert!(clash.start_service().unwrap_err().check::<CannotListenError>());

        let received = Arc::new(Mutex::new(Vec::new()));
        let client = TcpClient::new(
            &handle,
            "127.0.0.1",
            port,
            Report(Arc::clone(&received), handle.clone()),
        );
        client.start_service().unwrap();
        assert!(client.connector().is_some());
        reactor.run().unwrap();
        assert_eq!(&*received.lock().unwrap(), b"hello");
        assert!(client.stop_service().called());
        assert!(!client.running());
    });
}

#[test]
fn tcp_server_stopped_closes_its_port_and_started_again_listens_again() {
    common::bounded("a TCP server restarted", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let server = Arc::new(TcpServer::new(&handle, 0, for_protocol(|| Quiet)));
        server.start_service().unwrap();
        let first = server.listening_port().unwrap();
        let (s, h) = (Arc::clone(&server), handle.clone());
        let restarted = Arc::new(Mutex::new(None));
        let outcome = Arc::clone(&restarted);
        reactor
            .call_when_running(move || {
                drop(s.clone().stop_service().add_callback(move |()| {
                    assert!(!s.running());
                    s.start_service()?;
                    let again = s.listening_port().expect("listening again");
                    *outcome.lock().unwrap() = Some(again.listening() && again.port() != 0);
                    h.stop()?;
                    Ok::<_, Failure>(())
                }));
            })
            .unwrap();
        reactor.run().unwrap();
        assert!(!first.listening());
        assert_eq!(*restarted.lock().unwrap(), Some(true), "listening again");
    });
}

#[test]
fn unix_server_serves_and_removes_its_socket_when_stopped() {
    common::bounded("a UNIX server service", || {
        let dir = std::env::temp_dir().join(format!("service-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hello.sock");
        let reactor = common::reactor();
        let handle = reactor.handle();
        let server = Arc::new(UnixServer::new(&handle, &path, for_protocol(|| Hello)));
        server.privileged_start_service().unwrap();
        assert!(path.exists());
        let received = Arc::new(Mutex::new(Vec::new()));
        handle
            .connect_unix(&path, Report(Arc::clone(&received), handle.clone()))
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(&*received.lock().unwrap(), b"hello");
        drop(server.stop_service());
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn strports_service_runs_in_an_application_and_a_bad_description_is_a_parse_error() {
    common::bounded("strports in an application", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let bad = strports::service(&handle, "tcp:port=finger", for_protocol(|| Quiet));
        assert!(matches!(bad, Err(ParseError::BadNumber { name: "port", .. })));
        let app = Application::new("hello");
        let service = Arc::new(
            strports::service(&handle, "tcp:0:interface=127.0.0.1", for_protocol(|| Hello)).unwrap(),
        );
        Arc::clone(&service).set_service_parent(&app).unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (sink, h, s) = (Arc::clone(&received), handle.clone(), Arc::clone(&service));
        reactor
            .call_when_running(move || {
                let port = s.listening_port().expect("bound in the privileged phase").port();
                h.connect_tcp("127.0.0.1", port, Report(sink, h.clone())).unwrap();
            })
            .unwrap();
        run_application(&reactor, &app).unwrap();
        assert_eq!(&*received.lock().unwrap(), b"hello");
        assert!(!service.running(), "stopped during shutdown");
        assert!(service.listening_port().is_none());
    });
}

#[test]
fn strports_service_on_a_port_in_use_fails_the_runner() {
    common::bounded("strports on a port in use", || {
        let reactor = common::reactor();
        let handle = reactor.handle();
        let taken = reactor.listen_tcp(0, for_protocol(|| Quiet)).unwrap();
        let app = Application::new("clash");
        let service =
            strports::service(&handle, &format!("tcp:{}", taken.port()), for_protocol(|| Quiet)).unwrap();
        Arc::new(service).set_service_parent(&app).unwrap();
        let err = run_application(&reactor, &app).unwrap_err();
        assert!(
            matches!(err, RunnerError::PrivilegedStart(ref e) if e.failure().check::<CannotListenError>()),
            "{err}"
        );
    });
}

#[test]
fn network_services_started_off_their_thread_fail_with_a_typed_error() {
    let reactor = common::reactor();
    let handle = reactor.handle();
    let server = Arc::new(TcpServer::new(&handle, 0, for_protocol(|| Quiet)));
    let other = Arc::clone(&server);
    let failure = std::thread::spawn(move || other.start_service().unwrap_err())
        .join()
        .unwrap();
    assert!(failure.check::<NotReactorThreadError>());
    assert!(server.listening_port().is_none());
}

#[test]
fn cooperator_service_runs_tasks_only_while_running() {
    let clock = Clock::new();
    let service = CooperatorService::new(clock.clone());
    let done = service.coiterate(vec![(); 3]);
    clock.advance(Cooperator::TICK_DELAY);
    assert!(!done.called(), "not started");
    service.start_service().unwrap();
    assert!(service.running());
    clock.advance(Cooperator::TICK_DELAY);
    assert!(done.called());
    assert!(service.stop_service().called());
    assert!(!service.running() && !service.cooperator().running());
    // Started again, it runs new tasks.
    service.start_service().unwrap();
    let again = service.coiterate(vec![()]);
    clock.advance(Cooperator::TICK_DELAY);
    assert!(again.called());
}

/// An endpoint whose every attempt fails at once.
struct Refusing;

impl StreamClientEndpoint for Refusing {
    fn connect<G: Factory>(&self, _factory: G) -> Deferred<Transport> {
        fail(Failure::msg("refused"))
    }
}

#[test]
fn client_service_stopped_by_a_waiter_that_hears_of_a_failure_schedules_no_retry() {
    let clock = Clock::new();
    let service = Arc::new(ClientService::new(
        Refusing,
        for_protocol(|| Quiet),
        clock.clone(),
    ));
    let stopped = Arc::new(Mutex::new(None));
    let (stopping, slot) = (Arc::clone(&service), Arc::clone(&stopped));
    drop(service.when_connected_or_fail_after(1).add_both(move |result| {
        assert_eq!(result.unwrap_err().error_message(), "refused");
        *slot.lock().unwrap() = Some(stopping.stop_service());
        Ok::<_, Failure>(())
    }));
    service.start_service().unwrap();
    let stop = stopped
        .lock()
        .unwrap()
        .take()
        .expect("the waiter stopped the service");
    assert!(stop.called());
    assert!(!service.running());
    assert!(clock.pending_calls().is_empty(), "no retry after the stop");
    assert!(failure_result_of(service.when_connected()).check::<CancelledError>());
}

#[test]
fn client_service_retries_with_its_policy_until_stopped() {
    let clock = Clock::new();
    let policy = backoff_policy(Duration::from_secs(1), Duration::from_secs(4), 2.0, no_jitter());
    let service =
        ClientService::new(Refusing, for_protocol(|| Quiet), clock.clone()).with_retry_policy(policy);
    service.start_service().unwrap();
    let mut delays = Vec::new();
    for _ in 0..4 {
        let pending = clock.pending_calls();
        assert_eq!(pending.len(), 1);
        let due = pending[0].time().saturating_sub(clock.now());
        delays.push(due.as_secs());
        clock.advance(due);
    }
    assert_eq!(delays, [2, 4, 4, 4]);
    assert!(service.stop_service().called());
    assert!(clock.pending_calls().is_empty());
}
