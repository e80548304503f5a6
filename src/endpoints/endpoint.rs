// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs

//! The two endpoint traits and `connect_protocol`.

use crate::defer::Deferred;
use crate::protocol::{Address, Factory, ListeningPort, Protocol, Transport};

/// Somewhere a server can listen: Twisted's `IStreamServerEndpoint`.
///
/// `listen` runs on the reactor thread (factories and protocols are not `Send`); called
/// anywhere else, its Deferred fails.
///
/// ```no_run
/// use tokio_twisted::endpoints::{StreamServerEndpoint, Tcp4ServerEndpoint};
/// use tokio_twisted::protocol::{for_protocol, Protocol, Transport};
/// use tokio_twisted::reactor::Reactor;
///
/// struct Echo(Option<Transport>);
/// impl Protocol for Echo {
///     fn connection_made(&mut self, t: Transport) { self.0 = Some(t); }
///     fn data_received(&mut self, data: &[u8]) { self.0.as_ref().unwrap().write(data); }
/// }
///
/// let reactor = Reactor::builder().build().unwrap();
/// let endpoint = Tcp4ServerEndpoint::new(&reactor.handle(), 8000);
/// reactor.call_when_running(move || {
///     endpoint.listen(for_protocol(|| Echo(None)));
/// }).expect("the reactor has not run yet");
/// reactor.run().unwrap();
/// ```
#[doc(alias = "IStreamServerEndpoint")]
pub trait StreamServerEndpoint {
    /// Starts listening with `factory`: Twisted's `listen`. The Deferred fires with the
    /// listening port, or fails with `CannotListenError` (or
    /// `NotReactorThreadError` off the reactor thread).
    fn listen<F: Factory>(&self, factory: F) -> Deferred<ListeningPort>;
}

/// Somewhere a client can connect: Twisted's `IStreamClientEndpoint`.
///
/// `connect` runs on the reactor thread (factories and protocols are not `Send`).
/// Twisted's Deferred fires with the connected protocol; protocols here stay on the
/// reactor thread, so it fires with the connection's [`Transport`] instead, right after the
/// protocol's `connection_made` returned. To reach the protocol itself afterwards, build
/// it as an `Rc<RefCell<P>>` and keep a clone.
///
/// Cancelling the Deferred before the connection is made stops the attempt and fails it
/// with `ConnectingCancelledError`.
#[doc(alias = "IStreamClientEndpoint")]
pub trait StreamClientEndpoint {
    /// Connects, building the protocol with `factory`: Twisted's `connect`.
    fn connect<F: Factory>(&self, factory: F) -> Deferred<Transport>;
}

/// Connects `protocol` itself through `endpoint`, without writing a factory: Twisted's
/// `connectProtocol`. The Deferred is the endpoint's `connect` Deferred: it fires with the
/// transport after `connection_made`, and cancelling it gives
/// [`ConnectingCancelledError`](crate::error::ConnectingCancelledError).
///
/// For a TCP host and port without an endpoint,
/// [`protocol::connect_protocol`](crate::protocol::connect_protocol) is Twisted's
/// `ClientCreator(reactor, P).connectTCP(...)`.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use tokio_twisted::endpoints::{connect_protocol, StreamClientEndpoint};
/// use tokio_twisted::protocol::{Factory, Protocol, Transport};
/// use tokio_twisted::defer::{Deferred, succeed};
///
/// // An endpoint that "connects" at once, to show what connect_protocol passes through.
/// struct Immediate;
/// impl StreamClientEndpoint for Immediate {
///     fn connect<F: Factory>(&self, mut factory: F) -> Deferred<Transport> {
///         let addr = tokio_twisted::protocol::Address::Unix(None);
///         let mut p = factory.build_protocol(&addr).unwrap();
///         let wire = tokio_twisted::testing::StringTransport::new();
///         p.make_connection(wire.transport());
///         succeed(wire.transport())
///     }
/// }
///
/// #[derive(Default)]
/// struct Greeter { made: bool }
/// impl Protocol for Greeter {
///     fn connection_made(&mut self, _t: Transport) { self.made = true; }
///     fn data_received(&mut self, _data: &[u8]) {}
/// }
///
/// let greeter = Rc::new(RefCell::new(Greeter::default()));
/// let d = connect_protocol(&Immediate, Rc::clone(&greeter));
/// assert!(d.result().unwrap().is_ok());
/// assert!(greeter.borrow().made);
/// ```
#[doc(alias = "connectProtocol")]
pub fn connect_protocol<E, P>(endpoint: &E, protocol: P) -> Deferred<Transport>
where
    E: StreamClientEndpoint + ?Sized,
    P: Protocol,
{
    endpoint.connect(OneShotFactory(Some(protocol)))
}

/// A factory that hands out one protocol, then refuses.
struct OneShotFactory<P>(Option<P>);

impl<P: Protocol> Factory for OneShotFactory<P> {
    type Protocol = P;

    fn build_protocol(&mut self, _addr: &Address) -> Option<P> {
        self.0.take()
    }
}
