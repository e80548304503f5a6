// Tests: tests/protocol.rs, tests/conformance/test_protocol.rs

//! `MemoryReactor`: a fake reactor that records `listen_tcp`, `connect_tcp`, `listen_unix`
//! and `connect_unix` calls (Twisted's `twisted.internet.testing.MemoryReactor`).

use std::cell::{Ref, RefCell};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::error::ListenError;
use crate::protocol::{
    Address, ClientFactory, Connector, DynClientFactory, DynFactory, Factory, ListeningPort, ReactorTcp,
    ReactorUnix, TcpConnectOptions, TcpListenOptions, UnixConnectOptions, UnixListenOptions,
};
use crate::reactor::SpawnLocalError;

/// A fake reactor for tests: [`listen_tcp_with`](ReactorTcp::listen_tcp_with) and
/// [`connect_tcp_with`](ReactorTcp::connect_tcp_with) only record their arguments, with
/// the factory, so a test can check them and build protocols from the factory by hand
/// (Twisted's `MemoryReactor.tcpServers` and `tcpClients`).
///
/// Listening on port 0 records the port as given and returns a port whose host has port
/// 0. Ports and connectors are detached: stopping a port fires at once, and connectors
/// only change state.
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Address, Protocol, ReactorTcp, TcpConnectOptions};
/// use tokio_twisted::testing::MemoryReactor;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = MemoryReactor::new();
/// reactor
///     .connect_tcp_with("example.com", 1234, for_protocol(|| Quiet), TcpConnectOptions::new())
///     .unwrap();
/// let mut clients = reactor.take_tcp_clients();
/// assert_eq!((clients[0].host.as_str(), clients[0].port), ("example.com", 1234));
/// assert!(clients[0].factory.build_dyn_protocol(&Address::Unix(None)).is_some());
/// ```
#[derive(Default)]
pub struct MemoryReactor {
    servers: RefCell<Vec<TcpServer>>,
    clients: RefCell<Vec<TcpClient>>,
    unix_servers: RefCell<Vec<UnixServer>>,
    unix_clients: RefCell<Vec<UnixClient>>,
}

/// A recorded `listen_tcp` call.
///
/// ```
/// # use tokio_twisted::protocol::{for_protocol, Protocol, ReactorTcp, TcpListenOptions};
/// # use tokio_twisted::testing::MemoryReactor;
/// # struct Quiet;
/// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
/// let reactor = MemoryReactor::new();
/// reactor.listen_tcp_with(80, for_protocol(|| Quiet), TcpListenOptions::new().backlog(5)).unwrap();
/// assert_eq!(reactor.tcp_servers()[0].options.get_backlog(), 5);
/// ```
#[non_exhaustive]
pub struct TcpServer {
    /// The port asked for.
    pub port: u16,
    /// Backlog and interface.
    pub options: TcpListenOptions,
    /// The factory, type-erased.
    pub factory: Box<dyn DynFactory>,
    /// The port handle that was returned.
    pub listening: ListeningPort,
}

/// A recorded `connect_tcp` call.
///
/// ```
/// # use tokio_twisted::protocol::{for_protocol, Protocol, ReactorTcp, TcpConnectOptions};
/// # use tokio_twisted::testing::MemoryReactor;
/// # struct Quiet;
/// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
/// let reactor = MemoryReactor::new();
/// reactor.connect_tcp_with("h", 1, for_protocol(|| Quiet), TcpConnectOptions::new()).unwrap();
/// assert_eq!(reactor.take_tcp_clients()[0].options.get_timeout().as_secs(), 30);
/// ```
#[non_exhaustive]
pub struct TcpClient {
    /// The host asked for.
    pub host: String,
    /// The port asked for.
    pub port: u16,
    /// Timeout and bind address.
    pub options: TcpConnectOptions,
    /// The factory, type-erased.
    pub factory: Box<dyn DynClientFactory>,
    /// The connector that was returned (connecting).
    pub connector: Connector,
}

/// A recorded `listen_unix` call.
///
/// ```
/// # use std::path::Path;
/// # use tokio_twisted::protocol::{for_protocol, Protocol, ReactorUnix, UnixListenOptions};
/// # use tokio_twisted::testing::MemoryReactor;
/// # struct Quiet;
/// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
/// let reactor = MemoryReactor::new();
/// let options = UnixListenOptions::new().backlog(5);
/// reactor.listen_unix_with(Path::new("/run/s"), for_protocol(|| Quiet), options).unwrap();
/// assert_eq!(reactor.unix_servers()[0].options.get_backlog(), 5);
/// ```
#[non_exhaustive]
pub struct UnixServer {
    /// The socket path asked for.
    pub path: PathBuf,
    /// Backlog, mode and lock file as given.
    pub options: UnixListenOptions,
    /// The factory, type-erased.
    pub factory: Box<dyn DynFactory>,
    /// The (detached) port returned to the caller.
    pub listening: ListeningPort,
}

/// A recorded `connect_unix` call.
///
/// ```
/// # use std::path::Path;
/// # use std::time::Duration;
/// # use tokio_twisted::protocol::{for_protocol, Protocol, ReactorUnix, UnixConnectOptions};
/// # use tokio_twisted::testing::MemoryReactor;
/// # struct Quiet;
/// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
/// let reactor = MemoryReactor::new();
/// let options = UnixConnectOptions::new().timeout(Duration::from_secs(3));
/// reactor.connect_unix_with(Path::new("/run/s"), for_protocol(|| Quiet), options).unwrap();
/// assert_eq!(reactor.unix_clients()[0].options.get_timeout(), Duration::from_secs(3));
/// ```
#[non_exhaustive]
pub struct UnixClient {
    /// The socket path asked for.
    pub path: PathBuf,
    /// Timeout and lock-file check as given.
    pub options: UnixConnectOptions,
    /// The factory, type-erased.
    pub factory: Box<dyn DynClientFactory>,
    /// The (detached) connector returned to the caller, in the connecting state.
    pub connector: Connector,
}

impl MemoryReactor {
    /// A reactor that has recorded nothing.
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().tcp_servers().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The `listen_tcp` calls so far, in order.
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert_eq!(MemoryReactor::new().tcp_servers().len(), 0);
    /// ```
    pub fn tcp_servers(&self) -> Ref<'_, Vec<TcpServer>> {
        self.servers.borrow()
    }

    /// Takes the recorded `listen_tcp` calls (to use their factories).
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().take_tcp_servers().is_empty());
    /// ```
    pub fn take_tcp_servers(&self) -> Vec<TcpServer> {
        std::mem::take(&mut self.servers.borrow_mut())
    }

    /// The `connect_tcp` calls so far, in order.
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert_eq!(MemoryReactor::new().tcp_clients().len(), 0);
    /// ```
    pub fn tcp_clients(&self) -> Ref<'_, Vec<TcpClient>> {
        self.clients.borrow()
    }

    /// Takes the recorded `connect_tcp` calls (to use their factories and connectors).
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().take_tcp_clients().is_empty());
    /// ```
    pub fn take_tcp_clients(&self) -> Vec<TcpClient> {
        std::mem::take(&mut self.clients.borrow_mut())
    }

    /// The recorded `listen_unix` calls, oldest first (Twisted's `unixServers`).
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().unix_servers().is_empty());
    /// ```
    pub fn unix_servers(&self) -> Ref<'_, Vec<UnixServer>> {
        self.unix_servers.borrow()
    }

    /// Takes the recorded `listen_unix` calls, leaving none.
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().take_unix_servers().is_empty());
    /// ```
    pub fn take_unix_servers(&self) -> Vec<UnixServer> {
        std::mem::take(&mut self.unix_servers.borrow_mut())
    }

    /// The recorded `connect_unix` calls, oldest first (Twisted's `unixClients`).
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().unix_clients().is_empty());
    /// ```
    pub fn unix_clients(&self) -> Ref<'_, Vec<UnixClient>> {
        self.unix_clients.borrow()
    }

    /// Takes the recorded `connect_unix` calls, leaving none.
    ///
    /// ```
    /// # use tokio_twisted::testing::MemoryReactor;
    /// assert!(MemoryReactor::new().take_unix_clients().is_empty());
    /// ```
    pub fn take_unix_clients(&self) -> Vec<UnixClient> {
        std::mem::take(&mut self.unix_clients.borrow_mut())
    }
}

impl ReactorTcp for MemoryReactor {
    fn listen_tcp_with<F: Factory>(
        &self,
        port: u16,
        factory: F,
        options: TcpListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        let host = Address::Tcp(SocketAddr::new(options.get_interface(), port));
        let listening = ListeningPort::detached(host);
        self.servers.borrow_mut().push(TcpServer {
            port,
            options,
            factory: Box::new(factory),
            listening: listening.clone(),
        });
        Ok(listening)
    }

    fn connect_tcp_with<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
        options: TcpConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        let connector = Connector::detached(Address::destination(host, port));
        // Recorded as connecting, as the real reactor's connector starts.
        let _ = connector.connect();
        self.clients.borrow_mut().push(TcpClient {
            host: host.to_owned(),
            port,
            options,
            factory: Box::new(factory),
            connector: connector.clone(),
        });
        Ok(connector)
    }
}

impl ReactorUnix for MemoryReactor {
    fn listen_unix_with<F: Factory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        let listening = ListeningPort::detached(Address::Unix(Some(path.to_path_buf())));
        self.unix_servers.borrow_mut().push(UnixServer {
            path: path.to_path_buf(),
            options,
            factory: Box::new(factory),
            listening: listening.clone(),
        });
        Ok(listening)
    }

    fn connect_unix_with<F: ClientFactory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        let connector = Connector::detached(Address::Unix(Some(path.to_path_buf())));
        // Recorded as connecting, as the real reactor's connector starts.
        let _ = connector.connect();
        self.unix_clients.borrow_mut().push(UnixClient {
            path: path.to_path_buf(),
            options,
            factory: Box::new(factory),
            connector: connector.clone(),
        });
        Ok(connector)
    }
}

impl fmt::Debug for MemoryReactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReactor")
            .field("tcp_servers", &self.servers.borrow().len())
            .field("tcp_clients", &self.clients.borrow().len())
            .field("unix_servers", &self.unix_servers.borrow().len())
            .field("unix_clients", &self.unix_clients.borrow().len())
            .finish()
    }
}

impl fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpServer")
            .field("port", &self.port)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for TcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for UnixServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixServer")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for UnixClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixClient")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
