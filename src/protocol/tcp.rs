// Tests: tests/tcp.rs, tests/conformance/test_tcp.rs, tests/conformance/test_factories.rs

//! TCP on the reactor: `listen_tcp` and `connect_tcp` (Twisted's `IReactorTCP`), as
//! methods of [`ReactorHandle`]. This file binds, accepts and dials; the port's accept loop
//! and the connector's attempts, shared with UNIX sockets, are in the `family` module.

use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::address::Address;
use super::connector::Connector;
use super::driver::{SocketStream, read_once};
use super::factory::{ClientFactory, Factory};
use super::family::{Acceptor, Dialer, reactor_token, start_connector, start_port};
use super::port::ListeningPort;
use super::tcp_options::{TcpConnectOptions, TcpListenOptions};
use crate::error::{CannotListenError, ConnectBindError, DnsLookupError, ListenError, connect_error};
use crate::failure::Failure;
use crate::reactor::{ReactorHandle, SpawnLocalError};

impl SocketStream for TcpStream {
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }

    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_write_ready(self, cx)
    }

    fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        let sock = SockRef::from(self);
        let mut partial = None;
        let result = self.try_io(Interest::READABLE, || read_once(&sock, buf, &mut partial));
        partial.map_or(result, Ok)
    }

    fn write_vectored_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        TcpStream::try_write_vectored(self, bufs)
    }

    fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        TcpStream::try_write(self, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        SockRef::from(self).shutdown(std::net::Shutdown::Write)
    }

    fn reset_on_close(&self) -> io::Result<()> {
        SockRef::from(self).set_linger(Some(Duration::ZERO))
    }

    fn set_nodelay(&self, enabled: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, enabled)
    }

    fn set_keepalive(&self, enabled: bool) -> io::Result<()> {
        SockRef::from(self).set_keepalive(enabled)
    }
}

impl ReactorHandle {
    /// Listens for TCP connections on `port` (0: the system picks one) on every IPv4
    /// address, building a protocol per connection with `factory`: Twisted's `listenTCP`.
    /// See [`listen_tcp_with`](Self::listen_tcp_with) for the backlog and interface.
    ///
    /// # Errors
    ///
    /// As [`listen_tcp_with`](Self::listen_tcp_with).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::protocol::{for_protocol, Protocol, Transport};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Echo(Option<Transport>);
    /// impl Protocol for Echo {
    ///     fn connection_made(&mut self, t: Transport) { self.0 = Some(t); }
    ///     fn data_received(&mut self, data: &[u8]) { self.0.as_ref().unwrap().write(data); }
    /// }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let port = reactor.listen_tcp(0, for_protocol(|| Echo(None))).unwrap();
    /// assert_ne!(port.port(), 0);
    /// let stopper = reactor.handle();
    /// let closed = port.stop_listening().add_callback(move |()| {
    ///     stopper.stop()?;
    ///     Ok::<_, tokio_twisted::failure::Failure>(())
    /// });
    /// reactor.run().unwrap();
    /// assert!(closed.called());
    /// ```
    #[doc(alias = "listenTCP")]
    pub fn listen_tcp<F: Factory>(&self, port: u16, factory: F) -> Result<ListeningPort, ListenError> {
        self.listen_tcp_with(port, factory, TcpListenOptions::new())
    }

    /// Listens for TCP connections on `port` with `options` (backlog, interface):
    /// Twisted's `listenTCP(port, factory, backlog, interface)`.
    ///
    /// The socket is bound at once (with `SO_REUSEADDR`, as Twisted does), and
    /// `factory.start_factory()` runs before this returns. Each accepted connection runs
    /// as its own task on the reactor thread. The port stops on
    /// [`stop_listening`](ListeningPort::stop_listening) or at reactor shutdown, then
    /// `factory.stop_factory()` runs. Factories and protocols are not `Send`, so this must
    /// be called on the reactor thread (from `call_when_running`, a timer, a protocol, or
    /// before `run()`); from another thread, use
    /// [`call_from_thread`](Self::call_from_thread) to get there.
    ///
    /// Accept errors are handled as Twisted does: a connection aborted before it was
    /// accepted is skipped, running out of descriptors or memory is logged once and
    /// retried after a short pause; the port never stops by itself.
    ///
    /// # Errors
    ///
    /// [`ListenError::CannotListen`] if the socket cannot be bound (address in use,
    /// permission denied); [`ListenError::Reactor`] off the reactor thread or once the
    /// reactor has shut down.
    ///
    /// ```
    /// use tokio_twisted::error::ListenError;
    /// use tokio_twisted::protocol::{for_protocol, Protocol, TcpListenOptions};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = TcpListenOptions::new().interface("::1".parse().unwrap()).backlog(10);
    /// let port = reactor.listen_tcp_with(0, for_protocol(|| Quiet), opts).unwrap();
    /// assert_eq!(port.host().socket_addr().unwrap().ip().to_string(), "::1");
    /// // The same port again is refused.
    /// let again = reactor.listen_tcp_with(port.port(), for_protocol(|| Quiet), opts);
    /// assert!(matches!(again, Err(ListenError::CannotListen(_))));
    /// ```
    #[doc(alias = "listenTCP")]
    pub fn listen_tcp_with<F: Factory>(
        &self,
        port: u16,
        factory: F,
        options: TcpListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        let shutdown = reactor_token(self)?;
        let addr = SocketAddr::new(options.interface, port);
        let cannot = |e: io::Error| {
            ListenError::CannotListen(CannotListenError::new(options.interface.to_string(), port, e))
        };
        let listener = {
            let _in_runtime = self.shared.rt.enter();
            bind_listener(addr, &options).map_err(cannot)?
        };
        let host = Address::Tcp(listener.local_addr().map_err(cannot)?);
        start_port(self, shutdown, listener, host, factory)
    }

    /// Connects to `host` (a name or an address) on `port`, reporting to `factory`:
    /// Twisted's `connectTCP` with its defaults (30-second timeout, no bind address).
    ///
    /// # Errors
    ///
    /// As [`connect_tcp_with`](Self::connect_tcp_with).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::protocol::{for_protocol, Address, ClientFactory, Connector, Factory, Protocol, Transport};
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// /// Says hello, then hangs up.
    /// struct Hello;
    /// impl Protocol for Hello {
    ///     fn connection_made(&mut self, t: Transport) { t.write(b"hello"); t.lose_connection(); }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// /// Stops the reactor when the connection is over.
    /// struct Once(ReactorHandle);
    /// impl Factory for Once {
    ///     type Protocol = Hello;
    ///     fn build_protocol(&mut self, _: &Address) -> Option<Hello> { Some(Hello) }
    /// }
    /// impl ClientFactory for Once {
    ///     fn client_connection_lost(&mut self, _: &Connector, reason: Failure) {
    ///         assert!(reason.check::<tokio_twisted::error::ConnectionDone>());
    ///         self.0.stop().unwrap();
    ///     }
    /// }
    ///
    /// struct Sink;
    /// impl Protocol for Sink { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let port = reactor.listen_tcp(0, for_protocol(|| Sink)).unwrap();
    /// reactor.connect_tcp("127.0.0.1", port.port(), Once(reactor.handle())).unwrap();
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "connectTCP")]
    pub fn connect_tcp<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
    ) -> Result<Connector, SpawnLocalError> {
        self.connect_tcp_with(host, port, factory, TcpConnectOptions::new())
    }

    /// Connects to `host` on `port` with `options` (timeout, bind address): Twisted's
    /// `connectTCP(host, port, factory, timeout, bindAddress)`.
    ///
    /// The attempt runs as a task on the reactor thread. The factory hears, in Twisted's
    /// order: `start_factory`, `started_connecting`, then either
    /// `client_connection_failed` (refused, timed out, name not found, stopped:
    /// [`ConnectionRefusedError`](crate::error::ConnectionRefusedError),
    /// [`TimeoutError`](crate::error::TimeoutError), [`DnsLookupError`], [`ConnectingCancelledError`](crate::error::ConnectingCancelledError), ...) or
    /// `build_protocol`, the protocol's events, and `client_connection_lost`; then
    /// `stop_factory`, unless the hook called [`Connector::connect`] to retry. A name is
    /// looked up first and its first IPv4 address (else its first address) is used.
    ///
    /// Must be called on the reactor thread, like [`listen_tcp_with`](Self::listen_tcp_with).
    ///
    /// # Errors
    ///
    /// [`SpawnLocalError::NotReactorThread`] off the reactor thread,
    /// [`SpawnLocalError::NotRunning`] once the reactor has shut down. Connection errors
    /// go to the factory.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::protocol::{for_protocol, Protocol, TcpConnectOptions};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// let refused = std::thread::spawn(move || {
    ///     handle.connect_tcp_with("127.0.0.1", 1, for_protocol(|| Quiet), TcpConnectOptions::new()).is_err()
    /// });
    /// assert!(refused.join().unwrap()); // not the reactor thread
    /// let opts = TcpConnectOptions::new().timeout(Duration::from_secs(1));
    /// let connector = reactor.connect_tcp_with("127.0.0.1", 1, for_protocol(|| Quiet), opts).unwrap();
    /// assert_eq!(connector.destination().port(), Some(1));
    /// ```
    #[doc(alias = "connectTCP")]
    pub fn connect_tcp_with<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
        options: TcpConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        let dialer = TcpDialer {
            host: host.to_owned(),
            port,
            options,
        };
        start_connector(self, Address::destination(host, port), dialer, factory)
    }
}

/// A listening socket with `SO_REUSEADDR` (and `SO_REUSEPORT` if asked) and the options'
/// backlog, registered with the runtime.
fn bind_listener(addr: SocketAddr, options: &TcpListenOptions) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    if options.reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.bind(addr)?;
    socket.listen(options.backlog)
}

/// `SO_REUSEPORT` on the systems known to have it (and tokio to set it); an `Unsupported`
/// error elsewhere.
#[allow(
    unreachable_code,
    reason = "the error is reached only where the system has no SO_REUSEPORT"
)]
fn set_reuse_port(socket: &TcpSocket) -> io::Result<()> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ))]
    return socket.set_reuseport(true);
    let _ = socket;
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this system",
    ))
}

impl Acceptor for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, Address, Option<Address>)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        let local = stream.local_addr().ok().map(Address::Tcp);
        Ok((stream, Address::Tcp(peer), local))
    }

    /// Hyper's `is_connection_error`: refused, aborted or reset before it was accepted.
    fn is_connection_error(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::Interrupted
                | io::ErrorKind::WouldBlock
        )
    }

    fn close(self, host: &Address) {
        drop(self);
        tracing::info!("({}) stopping", host);
    }
}

/// Where and how a TCP connector connects.
struct TcpDialer {
    host: String,
    port: u16,
    options: TcpConnectOptions,
}

impl Dialer for TcpDialer {
    type Stream = TcpStream;

    fn timeout(&self) -> Duration {
        self.options.timeout
    }

    /// One connection attempt: name lookup, bind, connect.
    async fn attempt(&self) -> Result<TcpStream, Failure> {
        let (host, port) = (self.host.as_str(), self.port);
        let addr = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => {
                let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                    .await
                    .map_err(|e| Failure::new(DnsLookupError::new(host, Some(e))))?
                    .collect();
                let first = found.iter().find(|a| a.is_ipv4()).or_else(|| found.first());
                *first.ok_or_else(|| Failure::new(DnsLookupError::new(host, None)))?
            }
        };
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(connect_error)?;
        if let Some(bind) = self.options.bind_address {
            socket
                .bind(bind)
                .map_err(|e| Failure::new(ConnectBindError::new(e)))?;
        }
        socket.connect(addr).await.map_err(connect_error)
    }

    fn addresses(&self, stream: &TcpStream, destination: &Address) -> (Address, Address) {
        let peer = stream
            .peer_addr()
            .map_or_else(|_| destination.clone(), Address::Tcp);
        let local = stream.local_addr().map_or_else(
            |_| Address::Tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)),
            Address::Tcp,
        );
        (peer, local)
    }
}

/// The TCP calls of [`ReactorHandle`], on the [`Reactor`](crate::reactor::Reactor) that
/// owns it, so code on the reactor thread reads as in Twisted (`reactor.listen_tcp(..)`).
impl crate::reactor::Reactor {
    /// [`ReactorHandle::listen_tcp`]: Twisted's `listenTCP`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::listen_tcp_with`].
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let port = reactor.listen_tcp(0, for_protocol(|| Quiet)).unwrap();
    /// assert!(port.listening());
    /// ```
    #[doc(alias = "listenTCP")]
    pub fn listen_tcp<F: Factory>(&self, port: u16, factory: F) -> Result<ListeningPort, ListenError> {
        self.handle().listen_tcp(port, factory)
    }

    /// [`ReactorHandle::listen_tcp_with`]: `listenTCP` with a backlog and an interface.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::listen_tcp_with`].
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, TcpListenOptions};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
    /// let port = reactor.listen_tcp_with(0, for_protocol(|| Quiet), opts).unwrap();
    /// assert!(port.host().to_string().starts_with("tcp:127.0.0.1:"));
    /// ```
    #[doc(alias = "listenTCP")]
    pub fn listen_tcp_with<F: Factory>(
        &self,
        port: u16,
        factory: F,
        options: TcpListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        self.handle().listen_tcp_with(port, factory, options)
    }

    /// [`ReactorHandle::connect_tcp`]: Twisted's `connectTCP`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::connect_tcp_with`].
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let connector = reactor.connect_tcp("127.0.0.1", 9, for_protocol(|| Quiet)).unwrap();
    /// assert_eq!(connector.destination().port(), Some(9));
    /// ```
    #[doc(alias = "connectTCP")]
    pub fn connect_tcp<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
    ) -> Result<Connector, SpawnLocalError> {
        self.handle().connect_tcp(host, port, factory)
    }

    /// [`ReactorHandle::connect_tcp_with`]: `connectTCP` with a timeout and a bind address.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::connect_tcp_with`].
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, TcpConnectOptions};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = TcpConnectOptions::new().bind_address("127.0.0.1:0".parse().unwrap());
    /// let connector = reactor.connect_tcp_with("127.0.0.1", 9, for_protocol(|| Quiet), opts).unwrap();
    /// # drop(connector);
    /// ```
    #[doc(alias = "connectTCP")]
    pub fn connect_tcp_with<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
        options: TcpConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        self.handle().connect_tcp_with(host, port, factory, options)
    }
}
