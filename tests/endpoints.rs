//! Endpoints end to end over loopback: strings to listening ports and connections, the
//! reactor-thread rule, and `HostnameEndpoint` with the system resolver. Each test runs its
//! own reactor and is bounded.

mod common;

use std::sync::{Arc, Mutex};

use tokio_twisted::defer::Deferred;
use tokio_twisted::endpoints::{
    HostnameEndpoint, StreamClientEndpoint, StreamServerEndpoint, Tcp4ClientEndpoint, client_from_string,
    quote_string_argument, server_from_string,
};
use tokio_twisted::error::NotReactorThreadError;
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{ListeningPort, Protocol, Transport, for_protocol};
use tokio_twisted::reactor::ReactorHandle;

/// Writes back what it receives.
struct Echo(Option<Transport>);
impl Protocol for Echo {
    fn connection_made(&mut self, t: Transport) {
        self.0 = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.0 {
            t.write(data);
        }
    }
}

/// Collects what it receives and hands it over when the connection ends.
struct Collect {
    got: Vec<u8>,
    out: Arc<Mutex<Option<Vec<u8>>>>,
    reactor: ReactorHandle,
}
impl Protocol for Collect {
    fn data_received(&mut self, data: &[u8]) {
        self.got.extend_from_slice(data);
    }
    fn connection_lost(&mut self, _reason: Failure) {
        *self.out.lock().unwrap() = Some(std::mem::take(&mut self.got));
        let _ = self.reactor.stop();
    }
}

/// Listens with `server`, connects with `client` (both strings, `{port}` replaced), sends
/// `hello`, half-closes... and returns what came back once the server hung up.
fn echo_through_strings(server: String, client: String) -> Vec<u8> {
    common::bounded("echo through description strings", move || {
        let reactor = common::reactor();
        let h = reactor.handle();
        let out = Arc::new(Mutex::new(None));
        let result = Arc::clone(&out);
        reactor
            .call_when_running(move || {
                let listening = server_from_string(&h, &server)
                    .unwrap()
                    .listen(for_protocol(|| Echo(None)));
                drop(listening.add_callback(move |port: ListeningPort| {
                    let client = client.replace("{port}", &port.port().to_string());
                    let endpoint = client_from_string(&h, &client).unwrap();
                    let reactor = h.clone();
                    let d = endpoint.connect(for_protocol(move || Collect {
                        got: Vec::new(),
                        out: Arc::clone(&out),
                        reactor: reactor.clone(),
                    }));
                    drop(d.add_callback(|t: Transport| {
                        t.write(b"hello");
                        t.lose_connection();
                        Ok(())
                    }));
                    Ok(())
                }));
            })
            .unwrap();
        reactor.run().unwrap();
        let got = result.lock().unwrap().take();
        got.unwrap_or_default()
    })
}

#[test]
fn server_and_client_from_strings_talk() {
    // The client closes after writing; the echo may or may not arrive before the close,
    // so only what did arrive is checked to be a prefix of what was sent.
    let got = echo_through_strings(
        "tcp:0:interface=127.0.0.1".into(),
        "tcp:127.0.0.1:{port}:timeout=5".into(),
    );
    assert!(b"hello".starts_with(&got), "{got:?}");
}

#[cfg(unix)]
#[test]
fn unix_server_and_client_from_strings_talk() {
    // A server holding a lock file, and a client that checks it, over a real UNIX socket.
    let dir = common::TempDir::new("endpoint-strings");
    let path = quote_string_argument(&dir.path("echo.sock").to_string_lossy());
    let got = echo_through_strings(
        format!("unix:{path}:mode=600:lockfile=1"),
        format!("unix:{path}:timeout=5:lockfile=1"),
    );
    assert!(b"hello".starts_with(&got), "{got:?}");
    assert!(
        !dir.path("echo.sock").exists(),
        "the socket file is removed at shutdown"
    );
    assert!(
        !dir.path("echo.sock.lock").exists(),
        "the lock file is released at shutdown"
    );
}

#[test]
fn connect_off_the_reactor_thread_fails_for_names() {
    let reactor = common::reactor();
    let h = reactor.handle();
    let d: Deferred<Transport> = std::thread::spawn(move || {
        HostnameEndpoint::new(&h, "localhost", 1).connect(for_protocol(|| Echo(None)))
    })
    .join()
    .unwrap();
    assert!(d.result().unwrap().unwrap_err().check::<NotReactorThreadError>());
}

#[test]
fn tcp4_client_resolves_localhost() {
    let peer = common::bounded("tcp4 client with a host name", || {
        let reactor = common::reactor();
        let h = reactor.handle();
        let out = Arc::new(Mutex::new(None));
        let result = Arc::clone(&out);
        reactor
            .call_when_running(move || {
                let listening = server_from_string(&h, "tcp:0:interface=127.0.0.1")
                    .unwrap()
                    .listen(for_protocol(|| Echo(None)));
                drop(listening.add_callback(move |port: ListeningPort| {
                    let stop = h.clone();
                    let d = Tcp4ClientEndpoint::new(&h, "localhost", port.port())
                        .connect(for_protocol(|| Echo(None)));
                    drop(d.add_both(move |r: Result<Transport, Failure>| {
                        *out.lock().unwrap() = Some(
                            r.map(|t| {
                                t.lose_connection();
                                t.peer().to_string()
                            })
                            .map_err(|f| f.error_message()),
                        );
                        let _ = stop.stop();
                    }));
                    Ok(())
                }));
            })
            .unwrap();
        reactor.run().unwrap();
        let peer = result.lock().unwrap().take();
        peer.unwrap()
    });
    assert!(peer.unwrap().starts_with("tcp:127.0.0.1:"));
}

#[test]
fn a_wrapping_factory_logs_the_factory_it_wraps_once() {
    use tokio_twisted::endpoints::WrappingFactory;
    use tokio_twisted::protocol::Factory;
    let (mut wrapping, _connected) = WrappingFactory::new(for_protocol(|| Echo(None)));
    let log = common::logged_at_info(|| {
        wrapping.start_factory();
        wrapping.stop_factory();
    });
    assert_eq!(log.matches("Starting factory").count(), 1, "{log}");
    assert_eq!(log.matches("Stopping factory").count(), 1, "{log}");
    assert!(log.contains("ProtocolFactory"), "{log}");
    assert!(
        !log.contains("WrappingFactory"),
        "the wrapper is not what is named: {log}"
    );
}
