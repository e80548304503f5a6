// Tests: tests/tcp.rs, tests/conformance/test_protocol.rs

//! `connect_protocol` and `connect_protocol_unix`: connect one protocol instance over TCP
//! or a UNIX socket and get a Deferred (Twisted's `ClientCreator`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::address::Address;
use super::connector::Connector;
use super::dynamic::{ReactorTcp, ReactorUnix};
use super::factory::{ClientFactory, Factory};
use super::protocol::Protocol;
use super::tcp_options::TcpConnectOptions;
use super::transport::Transport;
use super::unix::UnixConnectOptions;
use crate::defer::{Deferred, Resolver};
use crate::failure::Failure;
use crate::lock::lock;
use crate::reactor::{ReactorHandle, SpawnLocalError};

impl ReactorHandle {
    /// [`connect_protocol`] on this reactor.
    ///
    /// ```
    /// use tokio_twisted::protocol::{Protocol, TcpConnectOptions};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let d = reactor.handle().connect_protocol("127.0.0.1", 9, Quiet, TcpConnectOptions::new());
    /// d.cancel(); // stops the attempt
    /// assert!(tokio_twisted::testing::failure_result_of(d).check::<tokio_twisted::defer::CancelledError>());
    /// ```
    #[doc(alias = "ClientCreator")]
    pub fn connect_protocol<P: Protocol>(
        &self,
        host: &str,
        port: u16,
        protocol: P,
        options: TcpConnectOptions,
    ) -> Deferred<Transport> {
        connect_protocol(self, host, port, protocol, options)
    }
}

/// Connects `protocol` to `host`:`port` and returns a Deferred that fires with the
/// connection's [`Transport`] once the protocol's `connection_made` has returned, or
/// fails with the connection error ([`ConnectionRefusedError`](crate::error::ConnectionRefusedError),
/// [`TimeoutError`](crate::error::TimeoutError), ...): Twisted's
/// `ClientCreator(reactor, P).connectTCP(host, port)`, with the protocol instance made
/// beforehand.
///
/// Twisted's `connectProtocol(endpoint, protocol)`, which connects through any endpoint
/// (UNIX sockets, host names tried Happy-Eyeballs style, description strings), is
/// [`endpoints::connect_protocol`](crate::endpoints::connect_protocol); this one is the
/// shortcut for a TCP host and port, with [`TcpConnectOptions`] as `connectTCP`'s
/// arguments. Cancelling differs too: here it fails with a
/// [`CancelledError`](crate::defer::CancelledError), as `ClientCreator`'s Deferred does;
/// there with a [`ConnectingCancelledError`](crate::error::ConnectingCancelledError).
///
/// The protocol itself stays on the reactor thread (it need not be `Send`); pass an
/// `Rc<RefCell<P>>` and keep a clone to look at it later. Cancelling the Deferred
/// before it fires stops the attempt (its result is then a
/// [`CancelledError`](crate::defer::CancelledError)). The Deferred fires right after
/// `connection_made` (Twisted goes through `callLater(0)`).
///
/// Must be called on the reactor thread; otherwise (or after shutdown) the Deferred
/// fails with the [`SpawnLocalError`](crate::reactor::SpawnLocalError).
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::error::ConnectionRefusedError;
/// use tokio_twisted::protocol::{connect_protocol, Protocol, TcpConnectOptions};
/// use tokio_twisted::reactor::Reactor;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// // Nothing listens on a port that was just freed: the Deferred fails.
/// let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let d = connect_protocol(&handle, "127.0.0.1", free, Quiet, TcpConnectOptions::new())
///     .add_errback(move |f| {
///         handle.stop()?;
///         Err(f)
///     });
/// reactor.run().unwrap();
/// assert!(tokio_twisted::testing::failure_result_of(d).check::<ConnectionRefusedError>());
/// ```
#[doc(alias = "ClientCreator")]
pub fn connect_protocol<R, P>(
    reactor: &R,
    host: &str,
    port: u16,
    protocol: P,
    options: TcpConnectOptions,
) -> Deferred<Transport>
where
    R: ReactorTcp + ?Sized,
    P: Protocol,
{
    one_shot(protocol, |factory| {
        reactor.connect_tcp_with(host, port, factory, options)
    })
}

/// [`connect_protocol`] over a UNIX socket: Twisted's `ClientCreator.connectUNIX`.
///
/// Connects `protocol` to the UNIX socket at `path` through `reactor` (the reactor's
/// handle, or a [`MemoryReactor`](crate::testing::MemoryReactor) in tests) with
/// `options` (timeout, lock-file check), and returns a Deferred that fires with the
/// connection's [`Transport`] right after `connection_made` returned, or fails with why
/// the connection could not be made. Cancelling it before it fires stops the attempt.
///
/// # Errors
///
/// The Deferred fails with the reason the connection could not be made (for example,
/// nothing listens at `path`), with a
/// [`CancelledError`](crate::defer::CancelledError) when cancelled, or with the
/// [`SpawnLocalError`](crate::reactor::SpawnLocalError) off the reactor thread or after
/// shutdown.
///
/// ```
/// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
/// use tokio_twisted::protocol::{connect_protocol_unix, for_protocol, Protocol, UnixConnectOptions};
/// use tokio_twisted::reactor::Reactor;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let dir = std::env::temp_dir().join(format!("creator-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("s");
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// let _port = handle.listen_unix(&path, for_protocol(|| Quiet)).unwrap();
/// let d = connect_protocol_unix(&handle, &path, Quiet, UnixConnectOptions::new())
///     .add_callback(move |transport| {
///         handle.stop()?;
///         Ok(transport.peer().to_string())
///     });
/// reactor.run().unwrap();
/// assert!(tokio_twisted::testing::success_result_of(d).starts_with("unix:"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[doc(alias = "connectUNIX")]
pub fn connect_protocol_unix<R, P>(
    reactor: &R,
    path: impl AsRef<Path>,
    protocol: P,
    options: UnixConnectOptions,
) -> Deferred<Transport>
where
    R: ReactorUnix + ?Sized,
    P: Protocol,
{
    one_shot(protocol, |factory| {
        reactor.connect_unix_with(path.as_ref(), factory, options)
    })
}

/// What both connect functions share: a cancellable Deferred, fired by a factory that
/// hands out `protocol` once, and the connector `connect` starts with that factory.
fn one_shot<P: Protocol>(
    protocol: P,
    connect: impl FnOnce(OneShot<P>) -> Result<Connector, SpawnLocalError>,
) -> Deferred<Transport> {
    let slot: Arc<Mutex<Option<Connector>>> = Arc::new(Mutex::new(None));
    let cancel_slot = Arc::clone(&slot);
    let (d, resolver) = Deferred::with_canceller(move |_| {
        if let Some(connector) = lock(&cancel_slot).take() {
            connector.disconnect();
        }
    });
    let factory = OneShot {
        protocol: Some(protocol),
        resolver: resolver.clone(),
    };
    match connect(factory) {
        Ok(connector) => *lock(&slot) = Some(connector),
        Err(e) => {
            let _ = resolver.errback(e);
        }
    }
    d
}

/// A factory handing out one protocol instance and reporting the outcome.
struct OneShot<P> {
    protocol: Option<P>,
    resolver: Resolver<Transport>,
}

impl<P: Protocol> Factory for OneShot<P> {
    type Protocol = Announce<P>;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Announce<P>> {
        let inner = self.protocol.take()?;
        Some(Announce {
            inner,
            resolver: Some(self.resolver.clone()),
        })
    }

    /// Not logged, as Twisted's `ClientCreator` factory is not.
    fn noisy(&self) -> bool {
        false
    }
}

impl<P: Protocol> ClientFactory for OneShot<P> {
    fn client_connection_failed(&mut self, _connector: &Connector, reason: Failure) {
        // Already fired (cancelled) is fine.
        let _ = self.resolver.errback(reason);
    }
}

/// The protocol, announcing its connection once `connection_made` has returned.
struct Announce<P> {
    inner: P,
    resolver: Option<Resolver<Transport>>,
}

impl<P: Protocol> Protocol for Announce<P> {
    fn make_connection(&mut self, transport: Transport) {
        self.inner.make_connection(transport.clone());
        if let Some(resolver) = self.resolver.take() {
            let _ = resolver.callback(transport);
        }
    }

    fn connection_made(&mut self, transport: Transport) {
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.inner.data_received(data);
    }

    fn connection_lost(&mut self, reason: Failure) {
        self.inner.connection_lost(reason);
    }

    fn half_closeable(&self) -> bool {
        self.inner.half_closeable()
    }

    fn read_connection_lost(&mut self) {
        self.inner.read_connection_lost();
    }

    fn write_connection_lost(&mut self) {
        self.inner.write_connection_lost();
    }
}
