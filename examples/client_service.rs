//! A `ClientService` that keeps a connection to an echo server up, and reconnects when
//! the server restarts (Twisted's `internet.ClientService` with a `backoffPolicy`).
//!
//! The program runs its own echo server on a loopback port the system picks. Each
//! connection the client makes sends one line; when the echo comes back, the server is
//! stopped (its port closed, its connections dropped) and started again on the same port
//! a moment later. The client notices the lost connection, retries with an exponential
//! backoff (its attempts are refused while the server is down), and connects again. After
//! three connections it stops the client and the server, and the program ends:
//!
//! ```text
//! cargo run --example client_service
//! ```
//!
//! `tests/service_net.rs` runs it over loopback.

use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio_twisted::endpoints::{Tcp4ClientEndpoint, Tcp4ServerEndpoint};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Address, Factory, Protocol, Transport, for_protocol};
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::service::{ClientService, Service, TcpServer, backoff_policy, no_jitter};

/// How long the echo server stays down between its runs.
const DOWNTIME: Duration = Duration::from_millis(100);

/// Writes back whatever it receives, and registers its connection so the server can drop
/// it when it stops.
struct Echo {
    open: Arc<Mutex<Vec<Transport>>>,
    transport: Option<Transport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.open.lock().expect("not poisoned").push(transport.clone());
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.transport {
            t.write(data);
        }
    }
}

struct EchoFactory {
    open: Arc<Mutex<Vec<Transport>>>,
}

impl Factory for EchoFactory {
    type Protocol = Echo;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Echo> {
        Some(Echo {
            open: Arc::clone(&self.open),
            transport: None,
        })
    }
}

/// The program's moving parts: the echo server (restarted on its port), the client
/// service, and what happened, line by line.
pub(crate) struct Demo {
    reactor: ReactorHandle,
    rounds: usize,
    port: Mutex<u16>,
    server: Mutex<Option<Arc<TcpServer<EchoFactory>>>>,
    open: Arc<Mutex<Vec<Transport>>>,
    client: OnceLock<Arc<dyn Service>>,
    lines: Mutex<Vec<String>>,
}

impl Demo {
    fn say(&self, line: String) {
        println!("{line}");
        self.lines.lock().expect("not poisoned").push(line);
    }

    /// Starts the echo server on the demo's port (the system picks one the first time).
    fn start_server(&self) {
        let port = *self.port.lock().expect("not poisoned");
        let endpoint = Tcp4ServerEndpoint::new(&self.reactor, port).with_interface("127.0.0.1");
        let server = Arc::new(TcpServer::from_endpoint(
            endpoint,
            EchoFactory {
                open: Arc::clone(&self.open),
            },
        ));
        server.start_service().expect("the echo server's port is free");
        let listening = server.listening_port().expect("TCP listens at once");
        *self.port.lock().expect("not poisoned") = listening.port();
        *self.server.lock().expect("not poisoned") = Some(server);
    }

    /// Stops the echo server and drops its connections, then starts it again on the same
    /// port after `DOWNTIME`.
    fn restart_server(self: &Arc<Self>) {
        self.say("echo server: stopping".to_owned());
        let server = self.server.lock().expect("not poisoned").take();
        let Some(server) = server else { return };
        let demo = Arc::clone(self);
        drop(server.stop_service().add_callback(move |()| {
            for t in demo.open.lock().expect("not poisoned").drain(..) {
                t.lose_connection();
            }
            demo.say("echo server: stopped".to_owned());
            let again = Arc::clone(&demo);
            demo.reactor.call_later(DOWNTIME, move || {
                again.start_server();
                again.say("echo server: started again".to_owned());
            });
            Ok::<_, Failure>(())
        }));
    }

    /// Stops the client, then the server, then the reactor.
    fn finish(self: &Arc<Self>) {
        let client = self.client.get().expect("the client is set before it connects");
        let demo = Arc::clone(self);
        drop(client.stop_service().add_callback(move |()| {
            demo.say("client: stopped".to_owned());
            let server = demo.server.lock().expect("not poisoned").take();
            let stopped = match server {
                Some(server) => server.stop_service(),
                None => tokio_twisted::defer::succeed(()),
            };
            let reactor = demo.reactor.clone();
            stopped.add_callback(move |()| {
                reactor.stop()?;
                Ok::<_, Failure>(())
            })
        }));
    }

    /// What happened, in order.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("not poisoned").clone()
    }
}

/// The client's protocol for connection number `n`: says hello, and acts on the echo.
struct Greeter {
    n: usize,
    demo: Arc<Demo>,
    received: Vec<u8>,
}

impl Protocol for Greeter {
    fn connection_made(&mut self, transport: Transport) {
        self.demo
            .say(format!("client: connected (connection {})", self.n));
        transport.write(format!("hello {}\n", self.n).as_bytes());
    }

    fn data_received(&mut self, data: &[u8]) {
        self.received.extend_from_slice(data);
        if !self.received.ends_with(b"\n") {
            return;
        }
        let line = String::from_utf8_lossy(&self.received).trim_end().to_owned();
        self.received.clear();
        self.demo.say(format!("client: echoed {line:?}"));
        if self.n < self.demo.rounds {
            self.demo.restart_server();
        } else {
            self.demo.finish();
        }
    }

    fn connection_lost(&mut self, _reason: Failure) {
        self.demo.say(format!("client: connection {} lost", self.n));
    }
}

/// Sets the demo up on `reactor` (call before it runs): the echo server, and a client
/// service that will make `rounds` connections. Run the reactor to play it.
pub(crate) fn start(reactor: &ReactorHandle, rounds: usize) -> Arc<Demo> {
    let demo = Arc::new(Demo {
        reactor: reactor.clone(),
        rounds,
        port: Mutex::new(0),
        server: Mutex::new(None),
        open: Arc::default(),
        client: OnceLock::new(),
        lines: Mutex::new(Vec::new()),
    });
    demo.start_server();
    let port = *demo.port.lock().expect("not poisoned");
    let endpoint = Tcp4ClientEndpoint::new(reactor, "127.0.0.1", port);
    let for_greeters = Arc::clone(&demo);
    let mut made = 0;
    let factory = for_protocol(move || {
        made += 1;
        Greeter {
            n: made,
            demo: Arc::clone(&for_greeters),
            received: Vec::new(),
        }
    });
    // Retries after 40 ms, 80 ms, 160 ms, ... (2× each time, at most a second), no
    // jitter: the second retry finds the server back.
    let policy = backoff_policy(
        Duration::from_millis(20),
        Duration::from_secs(1),
        2.0,
        no_jitter(),
    );
    let client = Arc::new(ClientService::new(endpoint, factory, reactor.clone()).with_retry_policy(policy));
    client.start_service().expect("starting a client cannot fail");
    let first = Arc::clone(&demo);
    drop(client.when_connected().add_callback(move |_t: Transport| {
        first.say("client: when_connected fired".to_owned());
        Ok::<_, Failure>(())
    }));
    let _ = demo.client.set(client);
    demo
}

fn main() -> ExitCode {
    let reactor = Reactor::builder().build().expect("a reactor");
    let demo = start(&reactor.handle(), 3);
    reactor.run().expect("the reactor runs");
    let connections = demo.lines().iter().filter(|l| l.contains("connected (")).count();
    if connections == 3 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
