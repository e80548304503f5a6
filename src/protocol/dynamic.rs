// Tests: tests/protocol.rs, tests/conformance/test_protocol.rs

//! `ReactorTcp` and `ReactorUnix` (Twisted's `IReactorTCP` and `IReactorUNIX`), so code can
//! listen and connect through the real reactor or a fake one; and type-erased factories for
//! code that stores factories of different types.

use std::path::Path;

use super::address::Address;
use super::connector::Connector;
use super::factory::{ClientFactory, Factory};
use super::port::ListeningPort;
use super::protocol::Protocol;
use super::tcp_options::{TcpConnectOptions, TcpListenOptions};
use super::unix::{UnixConnectOptions, UnixListenOptions};
use crate::error::ListenError;
use crate::failure::Failure;
use crate::reactor::{Reactor, ReactorHandle, SpawnLocalError};

/// Listening and connecting over TCP: Twisted's `IReactorTCP`, implemented by
/// [`ReactorHandle`], [`Reactor`] and the fake
/// [`MemoryReactor`](crate::testing::MemoryReactor), so code that takes an
/// `impl ReactorTcp` can be tested without sockets.
///
/// ```
/// use tokio_twisted::error::ListenError;
/// use tokio_twisted::protocol::{for_protocol, ListeningPort, Protocol, ReactorTcp, TcpListenOptions};
/// use tokio_twisted::testing::MemoryReactor;
///
/// struct Finger;
/// impl Protocol for Finger { fn data_received(&mut self, _: &[u8]) {} }
///
/// fn serve(reactor: &impl ReactorTcp) -> Result<ListeningPort, ListenError> {
///     reactor.listen_tcp_with(1079, for_protocol(|| Finger), TcpListenOptions::new())
/// }
///
/// let fake = MemoryReactor::new();
/// serve(&fake).unwrap();
/// assert_eq!(fake.tcp_servers()[0].port, 1079);
/// ```
#[doc(alias = "IReactorTCP")]
pub trait ReactorTcp {
    /// Twisted's `listenTCP(port, factory, backlog, interface)`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::listen_tcp_with`].
    fn listen_tcp_with<F: Factory>(
        &self,
        port: u16,
        factory: F,
        options: TcpListenOptions,
    ) -> Result<ListeningPort, ListenError>;

    /// Twisted's `connectTCP(host, port, factory, timeout, bindAddress)`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::connect_tcp_with`].
    fn connect_tcp_with<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
        options: TcpConnectOptions,
    ) -> Result<Connector, SpawnLocalError>;
}

impl ReactorTcp for ReactorHandle {
    fn listen_tcp_with<F: Factory>(
        &self,
        port: u16,
        factory: F,
        options: TcpListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        ReactorHandle::listen_tcp_with(self, port, factory, options)
    }

    fn connect_tcp_with<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
        options: TcpConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        ReactorHandle::connect_tcp_with(self, host, port, factory, options)
    }
}

impl ReactorTcp for Reactor {
    fn listen_tcp_with<F: Factory>(
        &self,
        port: u16,
        factory: F,
        options: TcpListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        Reactor::listen_tcp_with(self, port, factory, options)
    }

    fn connect_tcp_with<F: ClientFactory>(
        &self,
        host: &str,
        port: u16,
        factory: F,
        options: TcpConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        Reactor::connect_tcp_with(self, host, port, factory, options)
    }
}

/// Listening and connecting on UNIX sockets: Twisted's `IReactorUNIX`, implemented by
/// [`ReactorHandle`], [`Reactor`] and the fake [`MemoryReactor`](crate::testing::MemoryReactor), so code
/// that takes an `impl ReactorUnix` can be tested without sockets.
///
/// ```
/// use std::path::Path;
/// use tokio_twisted::protocol::{connect_protocol_unix, Protocol, UnixConnectOptions};
/// use tokio_twisted::testing::MemoryReactor;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let fake = MemoryReactor::new();
/// let _d = connect_protocol_unix(&fake, "/run/finger.sock", Quiet, UnixConnectOptions::new());
/// assert_eq!(fake.unix_clients()[0].path, Path::new("/run/finger.sock"));
/// ```
#[doc(alias = "IReactorUNIX")]
pub trait ReactorUnix {
    /// Twisted's `listenUNIX(address, factory, backlog, mode, wantPID)`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::listen_unix_with`].
    fn listen_unix_with<F: Factory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixListenOptions,
    ) -> Result<ListeningPort, ListenError>;

    /// Twisted's `connectUNIX(address, factory, timeout, checkPID)`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::connect_unix_with`].
    fn connect_unix_with<F: ClientFactory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixConnectOptions,
    ) -> Result<Connector, SpawnLocalError>;
}

impl ReactorUnix for ReactorHandle {
    fn listen_unix_with<F: Factory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        ReactorHandle::listen_unix_with(self, path, factory, options)
    }

    fn connect_unix_with<F: ClientFactory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        ReactorHandle::connect_unix_with(self, path, factory, options)
    }
}

impl ReactorUnix for Reactor {
    fn listen_unix_with<F: Factory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        Reactor::listen_unix_with(self, path, factory, options)
    }

    fn connect_unix_with<F: ClientFactory>(
        &self,
        path: &Path,
        factory: F,
        options: UnixConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        Reactor::connect_unix_with(self, path, factory, options)
    }
}

/// A [`Factory`] with its protocol type erased, so factories of different types can be
/// stored together; every `Factory` is one.
///
/// ```
/// use tokio_twisted::protocol::{for_protocol, Address, DynFactory, Protocol};
///
/// struct A;
/// impl Protocol for A { fn data_received(&mut self, _: &[u8]) {} }
/// struct B;
/// impl Protocol for B { fn data_received(&mut self, _: &[u8]) {} }
///
/// let mut all: Vec<Box<dyn DynFactory>> = vec![Box::new(for_protocol(|| A)), Box::new(for_protocol(|| B))];
/// assert!(all[1].build_dyn_protocol(&Address::Unix(None)).is_some());
/// ```
pub trait DynFactory {
    /// [`Factory::build_protocol`], boxed.
    fn build_dyn_protocol(&mut self, addr: &Address) -> Option<Box<dyn Protocol>>;
    /// [`Factory::start_factory`].
    fn start_dyn_factory(&mut self);
    /// [`Factory::stop_factory`].
    fn stop_dyn_factory(&mut self);
}

impl<F: Factory> DynFactory for F {
    fn build_dyn_protocol(&mut self, addr: &Address) -> Option<Box<dyn Protocol>> {
        self.build_protocol(addr)
            .map(|p| Box::new(p) as Box<dyn Protocol>)
    }

    fn start_dyn_factory(&mut self) {
        self.start_factory();
    }

    fn stop_dyn_factory(&mut self) {
        self.stop_factory();
    }
}

/// A [`ClientFactory`] with its protocol type erased; every `ClientFactory` is one.
///
/// ```
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::protocol::{for_protocol, Address, Connector, DynClientFactory, Protocol};
///
/// struct A;
/// impl Protocol for A { fn data_received(&mut self, _: &[u8]) {} }
/// let mut f: Box<dyn DynClientFactory> = Box::new(for_protocol(|| A));
/// let c = Connector::detached(Address::Unix(None));
/// f.client_connection_failed_dyn(&c, Failure::msg("refused"));
/// ```
pub trait DynClientFactory: DynFactory {
    /// [`ClientFactory::started_connecting`].
    fn started_connecting_dyn(&mut self, connector: &Connector);
    /// [`ClientFactory::client_connection_failed`].
    fn client_connection_failed_dyn(&mut self, connector: &Connector, reason: Failure);
    /// [`ClientFactory::client_connection_lost`].
    fn client_connection_lost_dyn(&mut self, connector: &Connector, reason: Failure);
}

impl<F: ClientFactory> DynClientFactory for F {
    fn started_connecting_dyn(&mut self, connector: &Connector) {
        self.started_connecting(connector);
    }

    fn client_connection_failed_dyn(&mut self, connector: &Connector, reason: Failure) {
        self.client_connection_failed(connector, reason);
    }

    fn client_connection_lost_dyn(&mut self, connector: &Connector, reason: Failure) {
        self.client_connection_lost(connector, reason);
    }
}
