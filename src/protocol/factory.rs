// Tests: tests/protocol.rs, tests/conformance/test_factories.rs, tests/conformance/test_protocol.rs

//! `Factory` and `ClientFactory`: what builds a protocol per connection.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use super::address::Address;
use super::connector::Connector;
use super::protocol::Protocol;
use crate::failure::Failure;

/// Builds one protocol per connection: Twisted's `Factory` (`IProtocolFactory`).
///
/// A factory lives on the reactor thread and need not be `Send`. Listening ports and
/// connectors call [`start_factory`](Self::start_factory) when they begin using it and
/// [`stop_factory`](Self::stop_factory) when they are done; wrap a factory shared by
/// several ports in a [`SharedFactory`] to get Twisted's counting (start on the first
/// port opened, stop on the last one closed).
///
/// [`for_protocol`] builds a factory from a closure, Twisted's `Factory.forProtocol`.
///
/// ```
/// use tokio_twisted::protocol::{Address, Factory, Protocol};
///
/// struct Hello;
/// impl Protocol for Hello { fn data_received(&mut self, _: &[u8]) {} }
///
/// /// Refuses connections from outside localhost.
/// struct LocalOnly;
/// impl Factory for LocalOnly {
///     type Protocol = Hello;
///     fn build_protocol(&mut self, addr: &Address) -> Option<Hello> {
///         let local = addr.socket_addr().is_some_and(|a| a.ip().is_loopback());
///         local.then_some(Hello)
///     }
/// }
///
/// let mut f = LocalOnly;
/// assert!(f.build_protocol(&Address::Tcp("127.0.0.1:5000".parse().unwrap())).is_some());
/// assert!(f.build_protocol(&Address::Tcp("192.0.2.1:5000".parse().unwrap())).is_none());
/// ```
#[doc(alias = "IProtocolFactory")]
#[doc(alias = "ServerFactory")]
pub trait Factory: 'static {
    /// The protocol built for each connection.
    type Protocol: Protocol;

    /// A protocol for a new connection from (or to) `addr`, or `None` to refuse it (the
    /// connection is closed; a client endpoint fails with
    /// [`NoProtocol`](crate::error::NoProtocol)): Twisted's `buildProtocol`.
    #[doc(alias = "buildProtocol")]
    fn build_protocol(&mut self, addr: &Address) -> Option<Self::Protocol>;

    /// Called before the factory is first used: Twisted's `startFactory` (through
    /// `doStart`).
    #[doc(alias = "startFactory")]
    #[doc(alias = "doStart")]
    fn start_factory(&mut self) {}

    /// Called after the factory was last used: Twisted's `stopFactory` (through
    /// `doStop`).
    #[doc(alias = "stopFactory")]
    #[doc(alias = "doStop")]
    fn stop_factory(&mut self) {}

    /// Whether starting and stopping the factory is logged: Twisted's `noisy`. When it is
    /// (the default), listening ports and connectors log "Starting factory NAME" before
    /// [`start_factory`](Self::start_factory) and "Stopping factory NAME" before
    /// [`stop_factory`](Self::stop_factory), at `tracing`'s info level, NAME being the
    /// factory's type. Return `false` to keep a busy client's log quiet.
    ///
    /// ```
    /// use tokio_twisted::protocol::{Address, Factory, Protocol};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// /// A factory whose starts and stops are not logged.
    /// struct Silent;
    /// impl Factory for Silent {
    ///     type Protocol = Quiet;
    ///     fn build_protocol(&mut self, _: &Address) -> Option<Quiet> { Some(Quiet) }
    ///     fn noisy(&self) -> bool { false }
    /// }
    /// assert!(!Silent.noisy());
    /// ```
    fn noisy(&self) -> bool {
        true
    }
}

/// Starts `factory` for one user (a listening port, a connector's attempt), as Twisted's
/// `doStart` does for a factory with no other user: logs "Starting factory" if it is noisy,
/// then calls `start_factory`. Wrappers pass their inner factory through this, so the log
/// names the factory the user wrote.
pub(crate) fn do_start<F: Factory + ?Sized>(factory: &mut F) {
    if factory.noisy() {
        tracing::info!("Starting factory {}", std::any::type_name::<F>());
    }
    factory.start_factory();
}

/// Stops `factory` after its one user, as Twisted's `doStop` does: logs "Stopping factory"
/// if it is noisy, then calls `stop_factory`.
pub(crate) fn do_stop<F: Factory + ?Sized>(factory: &mut F) {
    if factory.noisy() {
        tracing::info!("Stopping factory {}", std::any::type_name::<F>());
    }
    factory.stop_factory();
}

impl<F: Factory + ?Sized> Factory for Box<F> {
    type Protocol = F::Protocol;

    fn build_protocol(&mut self, addr: &Address) -> Option<F::Protocol> {
        (**self).build_protocol(addr)
    }

    fn start_factory(&mut self) {
        (**self).start_factory();
    }

    fn stop_factory(&mut self) {
        (**self).stop_factory();
    }

    fn noisy(&self) -> bool {
        (**self).noisy()
    }
}

/// A factory for client connections, told how each attempt goes: Twisted's
/// `ClientFactory`.
///
/// For a successful connection the order is: `started_connecting`, `build_protocol`,
/// `make_connection`/`connection_made`, …, `connection_lost`, `client_connection_lost`.
/// For a failed one: `started_connecting`, `client_connection_failed`. Calling
/// [`Connector::connect`] from either of the last two retries.
///
/// ```
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::protocol::{Address, ClientFactory, Connector, Factory, Protocol};
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// /// Retries refused connections up to three times.
/// struct Persistent { tries: u32 }
/// impl Factory for Persistent {
///     type Protocol = Quiet;
///     fn build_protocol(&mut self, _: &Address) -> Option<Quiet> { Some(Quiet) }
/// }
/// impl ClientFactory for Persistent {
///     fn client_connection_failed(&mut self, connector: &Connector, _reason: Failure) {
///         if self.tries < 3 {
///             self.tries += 1;
///             connector.connect().expect("disconnected after a failure");
///         }
///     }
/// }
///
/// let mut f = Persistent { tries: 0 };
/// let c = Connector::detached(Address::Tcp("127.0.0.1:1".parse().unwrap()));
/// f.client_connection_failed(&c, Failure::msg("refused"));
/// assert_eq!(f.tries, 1);
/// ```
pub trait ClientFactory: Factory {
    /// An attempt is starting: Twisted's `startedConnecting`.
    /// [`Connector::stop_connecting`] may be called from here.
    #[doc(alias = "startedConnecting")]
    fn started_connecting(&mut self, connector: &Connector) {
        let _ = connector;
    }

    /// The attempt failed for `reason` (refused, timed out, name not found, cancelled):
    /// Twisted's `clientConnectionFailed`.
    #[doc(alias = "clientConnectionFailed")]
    fn client_connection_failed(&mut self, connector: &Connector, reason: Failure) {
        let _ = (connector, reason);
    }

    /// An established connection was lost for `reason` (after the protocol's
    /// `connection_lost`): Twisted's `clientConnectionLost`.
    #[doc(alias = "clientConnectionLost")]
    fn client_connection_lost(&mut self, connector: &Connector, reason: Failure) {
        let _ = (connector, reason);
    }
}

/// A factory that builds each protocol with a closure: what
/// [`for_protocol`] returns.
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Address, Factory, Protocol};
///
/// struct Discard;
/// impl Protocol for Discard { fn data_received(&mut self, _: &[u8]) {} }
///
/// let mut f = for_protocol(|| Discard);
/// assert!(f.build_protocol(&Address::Unix(None)).is_some());
/// ```
pub struct ProtocolFactory<F> {
    build: F,
}

/// A factory building every protocol with `build`: Twisted's `Factory.forProtocol`.
/// The factory is also a [`ClientFactory`] whose hooks do nothing.
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Protocol};
///
/// #[derive(Default)]
/// struct Echo;
/// impl Protocol for Echo { fn data_received(&mut self, _: &[u8]) {} }
///
/// let factory = for_protocol(Echo::default);
/// # let _ = factory;
/// ```
#[doc(alias = "forProtocol")]
pub fn for_protocol<P, F>(build: F) -> ProtocolFactory<F>
where
    P: Protocol,
    F: FnMut() -> P + 'static,
{
    ProtocolFactory { build }
}

impl<P, F> Factory for ProtocolFactory<F>
where
    P: Protocol,
    F: FnMut() -> P + 'static,
{
    type Protocol = P;

    fn build_protocol(&mut self, _addr: &Address) -> Option<P> {
        Some((self.build)())
    }
}

impl<P, F> ClientFactory for ProtocolFactory<F>
where
    P: Protocol,
    F: FnMut() -> P + 'static,
{
}

impl<F> fmt::Debug for ProtocolFactory<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtocolFactory").finish_non_exhaustive()
    }
}

/// A factory shared by several ports or connectors, counting them as Twisted's
/// `doStart`/`doStop` do: `start_factory` runs only when the first user starts, and
/// `stop_factory` only when the last one stops (Twisted's `numPorts`).
///
/// Clones share the factory. Each method borrows it mutably for the duration of the
/// call, on the reactor thread.
///
/// ```
/// use tokio_twisted::protocol::{Address, Factory, Protocol, SharedFactory};
///
/// struct P;
/// impl Protocol for P { fn data_received(&mut self, _: &[u8]) {} }
/// #[derive(Default)]
/// struct Counting { starts: u32, stops: u32 }
/// impl Factory for Counting {
///     type Protocol = P;
///     fn build_protocol(&mut self, _: &Address) -> Option<P> { Some(P) }
///     fn start_factory(&mut self) { self.starts += 1; }
///     fn stop_factory(&mut self) { self.stops += 1; }
/// }
///
/// let shared = SharedFactory::new(Counting::default());
/// let (mut a, mut b) = (shared.clone(), shared.clone());
/// a.start_factory();
/// b.start_factory();
/// a.stop_factory();
/// assert_eq!((shared.with(|f| f.starts), shared.with(|f| f.stops)), (1, 0));
/// b.stop_factory();
/// assert_eq!(shared.with(|f| f.stops), 1);
/// assert_eq!(shared.num_ports(), 0);
/// ```
#[doc(alias = "numPorts")]
pub struct SharedFactory<F> {
    inner: Rc<SharedInner<F>>,
}

struct SharedInner<F> {
    factory: RefCell<F>,
    users: Cell<usize>,
}

impl<F> SharedFactory<F> {
    /// Shares `factory`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::SharedFactory;
    /// let shared = SharedFactory::new(5_u8);
    /// assert_eq!(shared.with(|n| *n), 5);
    /// ```
    pub fn new(factory: F) -> Self {
        SharedFactory {
            inner: Rc::new(SharedInner {
                factory: RefCell::new(factory),
                users: Cell::new(0),
            }),
        }
    }

    /// Runs `f` with the factory borrowed mutably.
    ///
    /// # Panics
    ///
    /// If called from inside one of the factory's own methods (it is already borrowed).
    ///
    /// ```
    /// # use tokio_twisted::protocol::SharedFactory;
    /// let shared = SharedFactory::new(Vec::<u8>::new());
    /// shared.with(|v| v.push(1));
    /// assert_eq!(shared.with(|v| v.len()), 1);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&mut F) -> R) -> R {
        f(&mut self.inner.factory.borrow_mut())
    }

    /// How many ports or connectors have started the factory and not stopped it:
    /// Twisted's `numPorts`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::SharedFactory;
    /// assert_eq!(SharedFactory::new(()).num_ports(), 0);
    /// ```
    pub fn num_ports(&self) -> usize {
        self.inner.users.get()
    }
}

impl<F> Clone for SharedFactory<F> {
    fn clone(&self) -> Self {
        SharedFactory {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<F: Factory> Factory for SharedFactory<F> {
    type Protocol = F::Protocol;

    fn build_protocol(&mut self, addr: &Address) -> Option<F::Protocol> {
        self.inner.factory.borrow_mut().build_protocol(addr)
    }

    fn start_factory(&mut self) {
        let users = self.inner.users.get();
        self.inner.users.set(users + 1);
        if users == 0 {
            do_start(&mut *self.inner.factory.borrow_mut());
        }
    }

    fn stop_factory(&mut self) {
        let users = self.inner.users.get();
        if users == 0 {
            return;
        }
        self.inner.users.set(users - 1);
        if users == 1 {
            do_stop(&mut *self.inner.factory.borrow_mut());
        }
    }

    /// The shared factory logs its inner factory's first start and last stop itself.
    fn noisy(&self) -> bool {
        false
    }
}

impl<F: ClientFactory> ClientFactory for SharedFactory<F> {
    fn started_connecting(&mut self, connector: &Connector) {
        self.inner.factory.borrow_mut().started_connecting(connector);
    }

    fn client_connection_failed(&mut self, connector: &Connector, reason: Failure) {
        self.inner
            .factory
            .borrow_mut()
            .client_connection_failed(connector, reason);
    }

    fn client_connection_lost(&mut self, connector: &Connector, reason: Failure) {
        self.inner
            .factory
            .borrow_mut()
            .client_connection_lost(connector, reason);
    }
}

impl<F> fmt::Debug for SharedFactory<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFactory")
            .field("num_ports", &self.inner.users.get())
            .finish_non_exhaustive()
    }
}
