// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs (WrappingFactoryTests)

//! The factory and protocol a client endpoint wraps around the caller's factory, so that
//! `connect` can return a Deferred that fires once the connection is made (Twisted's
//! `_WrappingFactory` and `_WrappingProtocol`).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use crate::defer::{Deferred, Resolver};
use crate::error::{ConnectingCancelledError, NoProtocol};
use crate::failure::Failure;
use crate::protocol::{Address, ClientFactory, Connector, Factory, Protocol, Transport, do_start, do_stop};

/// The connector of the attempt in progress (and where it goes, before there is one),
/// shared with the Deferred's canceller.
#[derive(Default)]
pub(crate) struct Attempt {
    connector: Option<Connector>,
    destination: Option<Address>,
}

pub(crate) type ConnectorSlot = Arc<Mutex<Attempt>>;

/// Locks a slot; nothing panics while holding it, but a poisoned one is still usable.
fn slot(attempt: &ConnectorSlot) -> std::sync::MutexGuard<'_, Attempt> {
    attempt.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A client factory around another factory, whose Deferred fires once a connection is
/// made: what every client endpoint's `connect` uses (Twisted's `_WrappingFactory`),
/// public so that an endpoint of your own can give the same guarantees.
///
/// - The Deferred fires with the connection's [`Transport`] right after the wrapped
///   protocol's `connection_made` returned.
/// - It fails with the reason of `client_connection_failed`, with [`NoProtocol`] if the
///   wrapped factory builds no protocol, or with the panic if building panics.
/// - Cancelling it stops the connector given to `started_connecting` and fails it with
///   [`ConnectingCancelledError`].
/// - `start_factory`/`stop_factory` pass through to the wrapped factory (and are logged
///   under its name when it is [`noisy`](Factory::noisy)).
///
/// ```
/// use tokio_twisted::endpoints::WrappingFactory;
/// use tokio_twisted::protocol::{for_protocol, Address, Factory, Protocol};
/// use tokio_twisted::testing::StringTransport;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let (mut factory, connected) = WrappingFactory::new(for_protocol(|| Quiet));
/// let mut protocol = factory.build_protocol(&Address::Unix(None)).unwrap();
/// assert!(!connected.called());
/// protocol.make_connection(StringTransport::new().transport());
/// assert!(connected.result().unwrap().is_ok());
/// ```
#[doc(alias = "_WrappingFactory")]
pub struct WrappingFactory<F> {
    wrapped: F,
    on_connection: Resolver<Transport>,
    connector: ConnectorSlot,
}

impl<F: Factory> WrappingFactory<F> {
    /// The factory, and the Deferred that fires with the connection's transport right after
    /// the wrapped protocol's `connection_made` returned. Cancelling the Deferred stops the
    /// connection attempt and fails it with [`ConnectingCancelledError`].
    pub fn new(wrapped: F) -> (Self, Deferred<Transport>) {
        let connector: ConnectorSlot = Arc::default();
        let for_canceller = Arc::clone(&connector);
        let (d, on_connection) = Deferred::with_canceller(move |r: &Resolver<Transport>| {
            let (connector, destination) = {
                let attempt = slot(&for_canceller);
                (attempt.connector.clone(), attempt.destination.clone())
            };
            let destination = connector
                .as_ref()
                .map(Connector::destination)
                .or(destination)
                .unwrap_or(Address::Unix(None));
            let _ = r.errback(ConnectingCancelledError::new(destination));
            if let Some(connector) = connector {
                let _ = connector.stop_connecting();
            }
        });
        let factory = WrappingFactory {
            wrapped,
            on_connection,
            connector,
        };
        (factory, d)
    }

    /// Names where the connection goes, for a cancellation before there is a connector
    /// (while a host name is being resolved).
    pub(crate) fn set_destination(&self, destination: Address) {
        slot(&self.connector).destination = Some(destination);
    }

    /// The slot the canceller reads, to register a connector from outside.
    pub(crate) fn connector_slot(&self) -> ConnectorSlot {
        Arc::clone(&self.connector)
    }

    /// A handle on the Deferred's resolver, to fail it once the factory has been moved.
    pub(crate) fn on_connection(&self) -> Resolver<Transport> {
        self.on_connection.clone()
    }

    /// Whether the Deferred has fired (connected, failed or cancelled).
    pub(crate) fn finished(&self) -> bool {
        self.on_connection.called()
    }

    /// Fails the Deferred (a connection that could not even be attempted).
    pub(crate) fn fail(&self, failure: Failure) {
        let _ = self.on_connection.errback(failure);
    }
}

/// Registers the connector of an attempt started outside `started_connecting`.
pub(crate) fn register_connector(attempt: &ConnectorSlot, connector: &Connector) {
    slot(attempt).connector = Some(connector.clone());
}

impl<F: Factory> Factory for WrappingFactory<F> {
    type Protocol = WrappingProtocol<F::Protocol>;

    fn build_protocol(&mut self, addr: &Address) -> Option<Self::Protocol> {
        // Twisted's wrapper turns an exception in buildProtocol into the connect failure.
        match catch_unwind(AssertUnwindSafe(|| self.wrapped.build_protocol(addr))) {
            Ok(Some(protocol)) => Some(WrappingProtocol {
                wrapped: protocol,
                on_connection: Some(self.on_connection.clone()),
            }),
            Ok(None) => {
                let _ = self.on_connection.errback(NoProtocol);
                None
            }
            Err(panic) => {
                let _ = self.on_connection.errback(Failure::from_panic(panic));
                None
            }
        }
    }

    fn start_factory(&mut self) {
        do_start(&mut self.wrapped);
    }

    fn stop_factory(&mut self) {
        do_stop(&mut self.wrapped);
    }

    /// The wrapped factory's start and stop are logged (with its name), as Twisted's
    /// wrapper passes `doStart`/`doStop` on.
    fn noisy(&self) -> bool {
        false
    }
}

impl<F: Factory> ClientFactory for WrappingFactory<F> {
    fn started_connecting(&mut self, connector: &Connector) {
        register_connector(&self.connector, connector);
    }

    fn client_connection_failed(&mut self, _connector: &Connector, reason: Failure) {
        if !self.on_connection.called() {
            let _ = self.on_connection.errback(reason);
        }
    }
}

impl<F> fmt::Debug for WrappingFactory<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappingFactory")
            .field("connected", &self.on_connection.called())
            .finish_non_exhaustive()
    }
}

/// The protocol a [`WrappingFactory`] builds: passes every event to the wrapped protocol,
/// and fires the factory's Deferred once the wrapped protocol's `make_connection` returned
/// (Twisted's `_WrappingProtocol`).
///
/// ```
/// use tokio_twisted::endpoints::WrappingFactory;
/// use tokio_twisted::protocol::{for_protocol, Address, Factory, Protocol};
///
/// #[derive(Default)]
/// struct Count(usize);
/// impl Protocol for Count { fn data_received(&mut self, d: &[u8]) { self.0 += d.len(); } }
///
/// let (mut factory, _connected) = WrappingFactory::new(for_protocol(Count::default));
/// let mut protocol = factory.build_protocol(&Address::Unix(None)).unwrap();
/// protocol.data_received(b"abc");
/// assert_eq!(protocol.wrapped().0, 3);
/// ```
#[doc(alias = "_WrappingProtocol")]
pub struct WrappingProtocol<P> {
    wrapped: P,
    on_connection: Option<Resolver<Transport>>,
}

impl<P> WrappingProtocol<P> {
    /// The protocol inside.
    pub fn wrapped(&self) -> &P {
        &self.wrapped
    }

    /// The protocol inside, mutably.
    pub fn wrapped_mut(&mut self) -> &mut P {
        &mut self.wrapped
    }
}

impl<P> fmt::Debug for WrappingProtocol<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappingProtocol")
            .field("connected", &self.on_connection.is_none())
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Protocol for WrappingProtocol<P> {
    fn connection_made(&mut self, transport: Transport) {
        self.wrapped.make_connection(transport.clone());
        if let Some(resolver) = self.on_connection.take() {
            let _ = resolver.callback(transport);
        }
    }

    fn data_received(&mut self, data: &[u8]) {
        self.wrapped.data_received(data);
    }

    fn connection_lost(&mut self, reason: Failure) {
        self.wrapped.connection_lost(reason);
    }

    fn half_closeable(&self) -> bool {
        self.wrapped.half_closeable()
    }

    fn read_connection_lost(&mut self) {
        self.wrapped.read_connection_lost();
    }

    fn write_connection_lost(&mut self) {
        self.wrapped.write_connection_lost();
    }
}
