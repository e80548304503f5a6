// Tests: tests/service_net.rs, tests/conformance/test_application.rs (InternetTests)

//! The reactor-method services of `twisted.application.internet`: `TcpServer`,
//! `UnixServer` and `TcpClient`.

use std::fmt;
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Mutex;

use crate::defer::{Deferred, succeed};
use crate::endpoints::Tcp4ServerEndpoint;
#[cfg(unix)]
use crate::endpoints::UnixServerEndpoint;
use crate::failure::Failure;
use crate::lock::lock;
use crate::protocol::{ClientFactory, Connector, Factory, ListeningPort, SharedFactory, TcpConnectOptions};
use crate::reactor::ReactorHandle;

use super::endpoint_service::StreamServerEndpointService;
use super::service::{Service, ServiceState};
use super::thread_bound::ThreadBound;

/// Serves TCP on a port while it runs: Twisted's `internet.TCPServer(port, factory)`.
///
/// It listens in the privileged phase (so a runner binds a port below 1024 before it
/// drops privileges), and a port that cannot be bound fails the start itself, every
/// time. `stop_service` closes the port and fires once it is closed; started again, it
/// listens again. Built on the reactor thread, as
/// [`StreamServerEndpointService`] (which it is, over a [`Tcp4ServerEndpoint`]).
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Protocol};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{Service, TcpServer};
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let server = TcpServer::new(&reactor.handle(), 0, for_protocol(|| Quiet));
/// server.privileged_start_service().unwrap();
/// assert_ne!(server.listening_port().unwrap().port(), 0);
/// // A second server on the same port cannot start.
/// let port = server.listening_port().unwrap().port();
/// let clash = TcpServer::new(&reactor.handle(), port, for_protocol(|| Quiet));
/// assert!(clash.start_service().is_err());
/// server.start_service().unwrap();
/// assert!(server.running());
/// // Stopping clears `running` at once; the Deferred fires when the port has closed.
/// drop(server.stop_service());
/// assert!(!server.running());
/// ```
#[doc(alias = "TCPServer")]
#[doc(alias = "twisted.application.internet.TCPServer")]
pub struct TcpServer<F: 'static>(StreamServerEndpointService<Tcp4ServerEndpoint, F>);

impl<F: Factory> TcpServer<F> {
    /// A server on `port` (0: the system picks) of every IPv4 address, backlog 50.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::{Service, TcpServer};
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let server = TcpServer::new(&reactor.handle(), 1079, for_protocol(|| Quiet));
    /// assert!(!server.running());
    /// ```
    pub fn new(reactor: &ReactorHandle, port: u16, factory: F) -> Self {
        Self::from_endpoint(Tcp4ServerEndpoint::new(reactor, port), factory)
    }

    /// A server on `endpoint`, for an interface or a backlog of your choice.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::{Service, TcpServer};
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let endpoint = Tcp4ServerEndpoint::new(&reactor.handle(), 0).with_interface("127.0.0.1");
    /// let server = TcpServer::from_endpoint(endpoint, for_protocol(|| Quiet));
    /// server.start_service().unwrap();
    /// assert!(server.listening_port().unwrap().host().socket_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn from_endpoint(endpoint: Tcp4ServerEndpoint, factory: F) -> Self {
        TcpServer(StreamServerEndpointService::new(endpoint, factory))
    }
}

impl<F: 'static> TcpServer<F> {
    /// The listening port, while it listens (Twisted's `_port`, whose `getHost()` tells
    /// the port chosen for port 0).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::TcpServer;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(TcpServer::new(&reactor.handle(), 0, for_protocol(|| Quiet)).listening_port().is_none());
    /// ```
    pub fn listening_port(&self) -> Option<ListeningPort> {
        self.0.listening_port()
    }
}

/// Serves a UNIX stream socket while it runs: Twisted's
/// `internet.UNIXServer(address, factory)`. As [`TcpServer`], over a
/// [`UnixServerEndpoint`].
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Protocol};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{Service, UnixServer};
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let dir = std::env::temp_dir().join(format!("unix-server-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("s.sock");
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let server = std::sync::Arc::new(UnixServer::new(&reactor.handle(), &path, for_protocol(|| Quiet)));
/// server.start_service().unwrap();
/// assert!(path.exists());
/// let (stopping, stopper) = (server.clone(), reactor.handle());
/// reactor.call_when_running(move || {
///     drop(stopping.stop_service().add_callback(move |()| {
///         stopper.stop()?;
///         Ok::<_, tokio_twisted::failure::Failure>(())
///     }));
/// }).unwrap();
/// reactor.run().unwrap();
/// assert!(!path.exists());
/// std::fs::remove_dir(&dir).unwrap();
/// ```
#[cfg(unix)]
#[doc(alias = "UNIXServer")]
#[doc(alias = "twisted.application.internet.UNIXServer")]
pub struct UnixServer<F: 'static>(StreamServerEndpointService<UnixServerEndpoint, F>);

#[cfg(unix)]
impl<F: Factory> UnixServer<F> {
    /// A server on the socket `path`, with Twisted's defaults (backlog 50, mode 0o666).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::{Service, UnixServer};
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let server = UnixServer::new(&reactor.handle(), "/run/finger.sock", for_protocol(|| Quiet));
    /// assert!(!server.running());
    /// ```
    pub fn new(reactor: &ReactorHandle, path: impl Into<PathBuf>, factory: F) -> Self {
        Self::from_endpoint(UnixServerEndpoint::new(reactor, path), factory)
    }

    /// A server on `endpoint`, for a backlog, a mode or a lock file of your choice.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::{Service, UnixServer};
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let endpoint = UnixServerEndpoint::new(&reactor.handle(), "/run/finger.sock").with_mode(0o600);
    /// let server = UnixServer::from_endpoint(endpoint, for_protocol(|| Quiet));
    /// assert!(server.listening_port().is_none());
    /// ```
    pub fn from_endpoint(endpoint: UnixServerEndpoint, factory: F) -> Self {
        UnixServer(StreamServerEndpointService::new(endpoint, factory))
    }
}

#[cfg(unix)]
impl<F: 'static> UnixServer<F> {
    /// The listening port, while it listens.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::UnixServer;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(UnixServer::new(&reactor.handle(), "/tmp/x.sock", for_protocol(|| Quiet)).listening_port().is_none());
    /// ```
    pub fn listening_port(&self) -> Option<ListeningPort> {
        self.0.listening_port()
    }
}

/// The `Service` methods of the server services: the endpoint service's, with a listen
/// failure always failing the start (Twisted's `TCPServer` calls `listenTCP`, which
/// raises).
macro_rules! server_service {
    ($name:ident) => {
        impl<F: Factory> Service for $name<F> {
            fn state(&self) -> &ServiceState {
                self.0.state()
            }

            /// Listens.
            ///
            /// # Errors
            ///
            /// The listen's failure (a `CannotListenError`), or
            /// [`NotReactorThreadError`](crate::error::NotReactorThreadError) off the thread that built the service.
            fn privileged_start_service(&self) -> Result<(), Failure> {
                self.0.set_raise_synchronously();
                self.0.privileged_start_service()
            }

            /// Sets `running` and listens unless the privileged start did.
            ///
            /// # Errors
            ///
            /// As [`privileged_start_service`](Self::privileged_start_service).
            fn start_service(&self) -> Result<(), Failure> {
                self.0.set_raise_synchronously();
                self.0.start_service()
            }

            /// Clears `running` at once (as Twisted's `TCPServer` does, unlike its
            /// endpoint service) and closes the port; fires once it is closed.
            fn stop_service(&self) -> Deferred<()> {
                self.0.state().set_running(false);
                self.0.stop_service()
            }
        }

        impl<F> fmt::Debug for $name<F> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
    };
}

server_service!(TcpServer);
#[cfg(unix)]
server_service!(UnixServer);

/// Keeps a TCP connection attempt going while it runs: Twisted's
/// `internet.TCPClient(host, port, factory)`.
///
/// `start_service` calls [`connect_tcp_with`](ReactorHandle::connect_tcp_with); the
/// factory (a [`ClientFactory`]) hears how it goes and may retry through its
/// [`Connector`], as a [`ReconnectingClientFactory`](crate::protocol::ReconnectingClientFactory)
/// does. `stop_service` disconnects (stops the attempt or closes the connection) and
/// fires at once. For a client that reconnects by itself and reports the connection, see
/// [`ClientService`](super::ClientService).
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Protocol, TcpConnectOptions};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{Service, TcpClient};
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let client = TcpClient::new(&reactor.handle(), "127.0.0.1", 1, for_protocol(|| Quiet));
/// client.start_service().unwrap();
/// assert!(client.running() && client.connector().is_some());
/// assert!(client.stop_service().called());
/// assert!(client.connector().is_none());
/// ```
#[doc(alias = "TCPClient")]
#[doc(alias = "twisted.application.internet.TCPClient")]
pub struct TcpClient<F: 'static> {
    state: ServiceState,
    reactor: ReactorHandle,
    host: String,
    port: u16,
    options: TcpConnectOptions,
    factory: ThreadBound<SharedFactory<F>>,
    connector: Mutex<Option<Connector>>,
}

impl<F: ClientFactory> TcpClient<F> {
    /// A client of `host:port` with Twisted's defaults (30-second timeout).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::{Service, TcpClient};
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let client = TcpClient::new(&reactor.handle(), "localhost", 79, for_protocol(|| Quiet));
    /// assert!(!client.running());
    /// ```
    pub fn new(reactor: &ReactorHandle, host: impl Into<String>, port: u16, factory: F) -> Self {
        Self::with_options(reactor, host, port, TcpConnectOptions::new(), factory)
    }

    /// A client of `host:port` with `options` (timeout, bind address).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, TcpConnectOptions};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::{Service, TcpClient};
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = TcpConnectOptions::new().timeout(Duration::from_secs(5));
    /// let client = TcpClient::with_options(&reactor.handle(), "localhost", 79, opts, for_protocol(|| Quiet));
    /// assert!(client.connector().is_none());
    /// ```
    pub fn with_options(
        reactor: &ReactorHandle,
        host: impl Into<String>,
        port: u16,
        options: TcpConnectOptions,
        factory: F,
    ) -> Self {
        TcpClient {
            state: ServiceState::default(),
            reactor: reactor.clone(),
            host: host.into(),
            port,
            options,
            factory: ThreadBound::new(SharedFactory::new(factory)),
            connector: Mutex::new(None),
        }
    }
}

impl<F: 'static> TcpClient<F> {
    /// The connector of the current attempt, while the service runs (Twisted's
    /// `_connection`).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::TcpClient;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(TcpClient::new(&reactor.handle(), "::1", 79, for_protocol(|| Quiet)).connector().is_none());
    /// ```
    pub fn connector(&self) -> Option<Connector> {
        lock(&self.connector).clone()
    }
}

impl<F: ClientFactory> Service for TcpClient<F> {
    fn state(&self) -> &ServiceState {
        &self.state
    }

    /// Sets `running` and starts connecting.
    ///
    /// # Errors
    ///
    /// [`NotReactorThreadError`](crate::error::NotReactorThreadError) off the thread that built the service (or the reactor's
    /// thread), or once the reactor has shut down.
    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        let factory = self.factory.get().map_err(Failure::new)?;
        let connector = self
            .reactor
            .connect_tcp_with(&self.host, self.port, (*factory).clone(), self.options)
            .map_err(Failure::new)?;
        *lock(&self.connector) = Some(connector);
        Ok(())
    }

    /// Clears `running` and disconnects; fires at once.
    fn stop_service(&self) -> Deferred<()> {
        self.state.set_running(false);
        let connector = lock(&self.connector).take();
        if let Some(connector) = connector {
            connector.disconnect();
        }
        succeed(())
    }
}

impl<F> fmt::Debug for TcpClient<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpClient")
            .field("state", &self.state)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}
