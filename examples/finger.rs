//! The finger server of Twisted's tutorial, in its first six steps, as the user's notes on
//! Twisted build it up (a bare reactor; an endpoint; a `LineReceiver`; a factory with users;
//! a lookup returning a Deferred; an `Application` run by the `twistd`-style runner).
//!
//! Run a step (5 by default) on port 1079, then ask it about a user:
//!
//! ```text
//! cargo run --example finger -- 5
//! cargo run --example finger -- 4 --port 7979
//! printf 'moshez\r\n' | nc 127.0.0.1 1079     # Happy and well
//! ```
//!
//! Step 6 is the finger server as an application named "finger" with uid and gid 1,
//! listening through `strports::service("tcp:79", ...)`: started as root it binds port 79,
//! then drops to user and group 1, as `twistd` does; started as anyone else it does not
//! switch, and needs `--port` for a port above 1024:
//!
//! ```text
//! sudo cargo run --example finger -- 6
//! cargo run --example finger -- 6 --port 7979
//! ```
//!
//! Like the Python, the server prints nothing and runs until interrupted (Ctrl-C, which
//! stops step 6's services first). `--print-port` prints the port it listens on, for
//! scripts that pass `--port 0`. Step 6 exits with an error when it cannot listen.
//!
//! The tests drive each step over loopback through [`start`] and [`run_step_6`]
//! (`tests/finger.rs`).

use std::collections::HashMap;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
use tokio_twisted::defer::{Deferred, succeed};
use tokio_twisted::endpoints::{ServerEndpoint, StreamServerEndpoint, server_from_string};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Address, Factory, ListeningPort, Protocol, for_protocol};
use tokio_twisted::reactor::{Reactor, ReactorHandle};
use tokio_twisted::service::{
    Application, RunnerError, Service, StreamServerEndpointService, run_application,
};
use tokio_twisted::strports;

/// Step 2: a protocol that does nothing (the Python's `pass`): connections are accepted and
/// whatever they send is ignored.
struct DoNothing;

impl Protocol for DoNothing {
    fn data_received(&mut self, _data: &[u8]) {}
}

/// The finger factory of steps 3 to 5: the users, and how to look one up.
struct FingerFactory {
    step: u8,
    users: Rc<HashMap<Bytes, Bytes>>,
}

impl FingerFactory {
    /// Steps 3 and 4: the answer, at once.
    fn get_user(&self, user: &[u8]) -> Bytes {
        if self.step == 3 {
            return Bytes::from_static(b"No such user");
        }
        self.users
            .get(user)
            .cloned()
            .unwrap_or_else(|| Bytes::from_static(b"No such user"))
    }

    /// Step 5: the answer, as a Deferred (`defer.succeed`).
    fn get_user_deferred(&self, user: &[u8]) -> Deferred<Bytes> {
        succeed(
            self.users
                .get(user)
                .cloned()
                .unwrap_or_else(|| Bytes::from_static(b"No such user")),
        )
    }
}

/// Steps 3 to 5: a line receiver that answers one line, then hangs up.
pub(crate) struct FingerProtocol {
    factory: Rc<FingerFactory>,
}

impl LineReceiver for FingerProtocol {
    fn line_received(&mut self, user: Bytes, ctl: &mut LineControl<'_>) {
        let transport = ctl.transport().clone();
        if self.factory.step < 5 {
            let mut answer = self.factory.get_user(&user).to_vec();
            answer.extend_from_slice(b"\r\n");
            transport.write(&answer);
            transport.lose_connection();
            return;
        }
        let d = self.factory.get_user_deferred(&user);
        let d = d.add_errback(|_err: Failure| Ok(Bytes::from_static(b"Internal error in server")));
        // The callback runs whenever the lookup fires; it writes through its own handle.
        drop(d.add_callback(move |message: Bytes| {
            let mut line = message.to_vec();
            line.extend_from_slice(b"\r\n");
            transport.write(&line);
            transport.lose_connection();
            Ok(())
        }));
    }
}

/// The factory of steps 3 to 5 (Python's `FingerFactory` with `protocol = FingerProtocol`):
/// each connection's protocol gets the factory, as Twisted sets `protocol.factory`.
pub(crate) struct FingerServer(Rc<FingerFactory>);

impl Factory for FingerServer {
    type Protocol = LineProtocol<FingerProtocol>;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Self::Protocol> {
        Some(LineProtocol::new(FingerProtocol {
            factory: Rc::clone(&self.0),
        }))
    }
}

/// The users of steps 4 to 6.
fn users() -> HashMap<Bytes, Bytes> {
    HashMap::from([(
        Bytes::from_static(b"moshez"),
        Bytes::from_static(b"Happy and well"),
    )])
}

/// Step 6's listening service.
pub(crate) type FingerService = StreamServerEndpointService<ServerEndpoint, FingerServer>;

/// Whether step 6's application names a user and group to run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Privileges {
    /// uid and gid 1, as the tutorial: the runner switches to them when started as root.
    DropToUser1,
    /// No uid or gid: the process stays who it is (for the tests, which may run as root
    /// and must not give up their user halfway through).
    #[allow(dead_code, reason = "only the tests keep their user; the program drops it")]
    Keep,
}

/// Step 6: the finger factory of step 5 served by `strports::service(description, ...)`,
/// in an application named "finger" with uid and gid 1 (Python:
/// `application = service.Application('finger', uid=1, gid=1)`). Build it on the reactor
/// thread.
///
/// # Panics
///
/// If `description` is not a server description.
pub(crate) fn application(
    reactor: &ReactorHandle,
    description: &str,
    privileges: Privileges,
) -> (Application, Arc<FingerService>) {
    let application = match privileges {
        Privileges::DropToUser1 => Application::new("finger").with_uid(1).with_gid(1),
        Privileges::Keep => Application::new("finger"),
    };
    let factory = FingerServer(Rc::new(FingerFactory {
        step: 6,
        users: Rc::new(users()),
    }));
    let service =
        Arc::new(strports::service(reactor, description, factory).expect("a valid server description"));
    Arc::clone(&service)
        .set_service_parent(&application)
        .expect("the application has no other service");
    (application, service)
}

/// Runs step 6 on `reactor` until it stops, as `twistd -n` would run the application;
/// `on_listening` gets the port once the reactor runs (what `--print-port` prints).
///
/// # Errors
///
/// The runner's error when the application cannot start (the port cannot be bound).
pub(crate) fn run_step_6<L>(
    reactor: &Reactor,
    description: &str,
    privileges: Privileges,
    on_listening: L,
) -> Result<(), RunnerError>
where
    L: FnOnce(u16) + Send + 'static,
{
    let (application, service) = application(&reactor.handle(), description, privileges);
    reactor
        .call_when_running(move || {
            if let Some(port) = service.listening_port() {
                on_listening(port.port());
            }
        })
        .expect("the reactor has not run yet");
    run_application(reactor, &application)
}

/// Starts step `step` (1 to 5) listening on `description`, on the reactor thread. Step 1
/// listens on nothing and returns `None`.
///
/// # Panics
///
/// If `description` is not a server description or `step` is not 1 to 5.
pub(crate) fn start(step: u8, reactor: &ReactorHandle, description: &str) -> Option<Deferred<ListeningPort>> {
    let users = if step >= 4 { users() } else { HashMap::new() };
    if step == 1 {
        return None;
    }
    let endpoint = server_from_string(reactor, description).expect("a valid server description");
    Some(match step {
        // `class FingerFactory(protocol.ServerFactory): protocol = FingerProtocol`
        2 => endpoint.listen(for_protocol(|| DoNothing)),
        3..=5 => endpoint.listen(FingerServer(Rc::new(FingerFactory {
            step,
            users: Rc::new(users),
        }))),
        _ => panic!("the tutorial's steps are 1 to 5"),
    })
}

fn main() -> ExitCode {
    let mut step = 5;
    let mut port = None;
    let mut print_port = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = Some(args.next().and_then(|p| p.parse().ok()).expect("--port NUMBER")),
            "--print-port" => print_port = true,
            other => step = other.parse().expect("a step number, 1 to 6"),
        }
    }
    let reactor = Reactor::builder().build().expect("a reactor");
    if step == 6 {
        // `strports.service("tcp:79", ...)`, unless another port was asked for.
        let description = format!("tcp:{}", port.unwrap_or(79));
        let printed = move |port: u16| {
            if print_port {
                println!("listening on port {port}");
            }
        };
        return match run_step_6(&reactor, &description, Privileges::DropToUser1, printed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("finger: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let port = port.unwrap_or(1079);
    let handle = reactor.handle();
    reactor
        .call_when_running(move || {
            if let Some(listening) = start(step, &handle, &format!("tcp:{port}")) {
                drop(listening.add_callback(move |port: ListeningPort| {
                    if print_port {
                        println!("listening on port {}", port.port());
                    }
                    Ok(())
                }));
            }
        })
        .expect("the reactor has not run yet");
    reactor.run().expect("the reactor runs");
    ExitCode::SUCCESS
}
