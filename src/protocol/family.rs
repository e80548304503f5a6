// Tests: tests/tcp.rs, tests/unix.rs, tests/conformance/test_tcp.rs,
// tests/conformance/test_unix.rs, tests/conformance/test_factories.rs

//! What TCP and UNIX sockets share on the reactor, generic over the socket family: starting
//! a listening port and its accept loop, and starting a connector and its attempts. Each
//! family says only how it accepts ([`Acceptor`]) and how it dials ([`Dialer`]).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::address::Address;
use super::connector::{Connector, ConnectorShared, ConnectorState};
use super::driver::{SocketStream, call_factory, run_connection};
use super::factory::{ClientFactory, Factory, do_start, do_stop};
use super::outbox::TransportShared;
use super::port::{ListeningPort, PortShared};
use super::protocol::Protocol;
use super::transport::Transport;
use crate::error::{ConnectingCancelledError, ListenError, TimeoutError};
use crate::failure::Failure;
use crate::lock::lock;
use crate::reactor::{ReactorHandle, SpawnLocalError};

/// How long the accept loop waits after running out of descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A family's listening socket, as the accept loop uses it.
pub(crate) trait Acceptor: 'static {
    /// The family's connected stream.
    type Stream: SocketStream + 'static;

    /// Accepts one connection: its stream, its peer, and its local address when the
    /// family knows it (otherwise the port's own address is used).
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, Address, Option<Address>)>>;

    /// Whether `e` concerns one incoming connection only (skip it and accept the next),
    /// not the listener.
    fn is_connection_error(e: &io::Error) -> bool;

    /// Closes the socket (and whatever the family undoes with it), logging that the port
    /// at `host` stopped.
    fn close(self, host: &Address);
}

/// A family's way to reach a destination, as the connector's attempts use it.
pub(crate) trait Dialer: 'static {
    /// The family's connected stream.
    type Stream: SocketStream + 'static;

    /// How long one attempt may take.
    fn timeout(&self) -> Duration;

    /// One attempt (name lookup, checks, connect); its failure goes to the factory.
    fn attempt(&self) -> impl Future<Output = Result<Self::Stream, Failure>>;

    /// The connection's peer and local addresses, given the connector's destination.
    fn addresses(&self, stream: &Self::Stream, destination: &Address) -> (Address, Address);
}

/// The reactor's shutdown token, if this is its thread and it has not begun shutting down:
/// what every `listen_*` and `connect_*` checks first.
pub(crate) fn reactor_token(reactor: &ReactorHandle) -> Result<CancellationToken, SpawnLocalError> {
    if !reactor.is_reactor_thread() {
        return Err(SpawnLocalError::NotReactorThread);
    }
    Ok(reactor.shutdown_token()?)
}

/// Starts a listening port on an already bound `acceptor` at `host`: `start_factory` now,
/// then the accept loop as a tracked task; on failure, `stop_factory` and a closed port.
pub(crate) fn start_port<A: Acceptor, F: Factory>(
    reactor: &ReactorHandle,
    shutdown: CancellationToken,
    acceptor: A,
    host: Address,
    factory: F,
) -> Result<ListeningPort, ListenError> {
    let port_shared = ListeningPort::new_shared(host.clone());
    let factory = Rc::new(RefCell::new(factory));
    call_factory("in start_factory", || do_start(&mut *factory.borrow_mut()));
    let task = accept_loop(
        reactor.clone(),
        acceptor,
        Rc::clone(&factory),
        Arc::clone(&port_shared),
        shutdown,
        host,
    );
    if let Err(e) = reactor.spawn_tracked_local(task) {
        call_factory("in stop_factory", || do_stop(&mut *factory.borrow_mut()));
        port_shared.mark_closed();
        return Err(ListenError::Reactor(e));
    }
    tracing::info!("{} starting on {}", std::any::type_name::<F>(), port_shared.host);
    Ok(ListeningPort { shared: port_shared })
}

fn connection_span(peer: &Address, local: &Address) -> tracing::Span {
    tracing::info_span!("connection", peer = %peer, local = %local)
}

async fn accept_loop<A: Acceptor, F: Factory>(
    reactor: ReactorHandle,
    acceptor: A,
    factory: Rc<RefCell<F>>,
    port: Arc<PortShared>,
    shutdown: CancellationToken,
    host: Address,
) {
    // Resource exhaustion is logged once per episode, not once per attempt.
    let mut exhausted = false;
    loop {
        if port.stop_requested() {
            break;
        }
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            () = port.notify.notified() => continue,
            accepted = acceptor.accept() => accepted,
        };
        let (stream, peer, local) = match accepted {
            Ok(accepted) => {
                exhausted = false;
                accepted
            }
            Err(e) if A::is_connection_error(&e) => continue,
            Err(e) => {
                if !exhausted {
                    tracing::error!("could not accept new connection ({e}); retrying");
                    exhausted = true;
                }
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let local = local.unwrap_or_else(|| host.clone());
        let built = call_factory("in build_protocol", || factory.borrow_mut().build_protocol(&peer));
        let Some(Some(protocol)) = built else {
            // Refused (or the factory panicked): close the socket at once.
            drop(stream);
            continue;
        };
        let Ok(token) = reactor.shutdown_token() else {
            break;
        };
        let transport = Transport::from_shared(TransportShared::new(peer.clone(), local.clone(), false));
        let span = connection_span(&peer, &local);
        let task = async move {
            run_connection(stream, protocol, transport, token, span).await;
        };
        if reactor.spawn_tracked_local(task).is_err() {
            break;
        }
    }
    acceptor.close(&host);
    call_factory("in stop_factory", || do_stop(&mut *factory.borrow_mut()));
    port.mark_closed();
}

/// Starts a connector to `destination`: its attempts run as a tracked task on the reactor
/// thread, reporting to `factory` in Twisted's order.
pub(crate) fn start_connector<D: Dialer, F: ClientFactory>(
    reactor: &ReactorHandle,
    destination: Address,
    dialer: D,
    factory: F,
) -> Result<Connector, SpawnLocalError> {
    let shutdown = reactor_token(reactor)?;
    let shared = Connector::new_shared(destination, ConnectorState::Connecting);
    let connector = Connector::from_shared(Arc::clone(&shared));
    reactor.spawn_tracked_local(connect_loop(dialer, factory, shared, shutdown))?;
    Ok(connector)
}

/// A stand-in for a refused client protocol (Twisted does the same): the connection is
/// closed at once and the factory hears `client_connection_lost`.
struct Refused;

impl Protocol for Refused {
    fn connection_made(&mut self, transport: Transport) {
        transport.lose_connection();
    }

    fn data_received(&mut self, _data: &[u8]) {}
}

/// One attempt under the dialer's timeout, given up when the connector is stopped or the
/// reactor shuts down.
async fn dial<D: Dialer>(
    dialer: &D,
    shared: &ConnectorShared,
    shutdown: &CancellationToken,
) -> Result<D::Stream, Failure> {
    let cancelled = || Failure::new(ConnectingCancelledError::new(shared.destination.clone()));
    if lock(&shared.state).state != ConnectorState::Connecting {
        return Err(cancelled());
    }
    let attempt = tokio::time::timeout(dialer.timeout(), dialer.attempt());
    let mut attempt = std::pin::pin!(attempt);
    loop {
        let notified = shared.notify.notified();
        if lock(&shared.state).stop_requested {
            return Err(cancelled());
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return Err(cancelled()),
            () = notified => {}
            result = &mut attempt => return match result {
                Ok(result) => result,
                Err(_elapsed) => Err(Failure::new(TimeoutError)),
            },
        }
    }
}

/// One connector's attempts, and its connection while connected.
async fn connect_loop<D: Dialer, F: ClientFactory>(
    dialer: D,
    mut factory: F,
    shared: Arc<ConnectorShared>,
    shutdown: CancellationToken,
) {
    loop {
        // State is Connecting here.
        let handle = Connector::from_shared(Arc::clone(&shared));
        call_factory("in start_factory", || do_start(&mut factory));
        call_factory("in started_connecting", || factory.started_connecting(&handle));
        match dial(&dialer, &shared, &shutdown).await {
            Err(reason) => {
                lock(&shared.state).state = ConnectorState::Disconnected;
                call_factory("in client_connection_failed", || {
                    factory.client_connection_failed(&handle, reason);
                });
            }
            Ok(stream) => {
                let (peer, local) = dialer.addresses(&stream, &shared.destination);
                let transport =
                    Transport::from_shared(TransportShared::new(peer.clone(), local.clone(), false));
                {
                    let mut state = lock(&shared.state);
                    state.state = ConnectorState::Connected;
                    state.transport = Some(transport.clone());
                }
                let span = connection_span(&peer, &local);
                let built = call_factory("in build_protocol", || factory.build_protocol(&peer)).flatten();
                let token = shutdown.child_token();
                let reason = match built {
                    Some(protocol) => run_connection(stream, protocol, transport, token, span).await,
                    None => run_connection(stream, Refused, transport, token, span).await,
                };
                {
                    let mut state = lock(&shared.state);
                    state.state = ConnectorState::Disconnected;
                    state.transport = None;
                }
                call_factory("in client_connection_lost", || {
                    factory.client_connection_lost(&handle, reason);
                });
            }
        }
        drop(handle);
        if lock(&shared.state).state == ConnectorState::Disconnected {
            call_factory("in stop_factory", || do_stop(&mut factory));
        }
        // Wait for a retry (`connect()`), or for the last handle to go.
        loop {
            let notified = shared.notify.notified();
            if lock(&shared.state).state == ConnectorState::Connecting {
                break;
            }
            if shared.handles() == 0 || shutdown.is_cancelled() {
                return;
            }
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                () = notified => {}
            }
        }
        if shutdown.is_cancelled() {
            return;
        }
    }
}
