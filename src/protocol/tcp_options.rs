// Tests: tests/tcp.rs, tests/conformance/test_tcp.rs

//! The options of `listen_tcp_with` and `connect_tcp_with`: Twisted's `backlog`,
//! `interface`, `timeout` and `bindAddress`, and `SO_REUSEPORT` for one reactor per core.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

#[cfg(doc)]
use crate::reactor::ReactorHandle;

/// Twisted's default `listen` backlog.
const DEFAULT_BACKLOG: u32 = 50;
/// Twisted's default connection timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of [`ReactorHandle::listen_tcp_with`]: Twisted's `backlog` and `interface`.
///
/// ```
/// use tokio_twisted::protocol::TcpListenOptions;
///
/// let opts = TcpListenOptions::new().backlog(128).interface("::1".parse().unwrap());
/// assert_eq!(opts.get_backlog(), 128);
/// assert_eq!(TcpListenOptions::default().get_interface().to_string(), "0.0.0.0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpListenOptions {
    pub(super) backlog: u32,
    pub(super) interface: IpAddr,
    pub(super) reuse_port: bool,
}

impl Default for TcpListenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpListenOptions {
    /// Backlog 50 on every IPv4 address (`0.0.0.0`), Twisted's defaults, and no
    /// `SO_REUSEPORT`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpListenOptions;
    /// assert_eq!(TcpListenOptions::new().get_backlog(), 50);
    /// ```
    pub fn new() -> Self {
        TcpListenOptions {
            backlog: DEFAULT_BACKLOG,
            interface: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            reuse_port: false,
        }
    }

    /// The length of the queue of connections not yet accepted.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpListenOptions;
    /// assert_eq!(TcpListenOptions::new().backlog(5).get_backlog(), 5);
    /// ```
    #[must_use]
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// The address to listen on: `0.0.0.0`, `::` (IPv6, and IPv4 where the system maps
    /// it), or one address such as `127.0.0.1`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpListenOptions;
    /// let o = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap());
    /// assert!(o.get_interface().is_loopback());
    /// ```
    #[must_use]
    pub fn interface(mut self, interface: IpAddr) -> Self {
        self.interface = interface;
        self
    }

    /// Lets several sockets listen on the same port at once (`SO_REUSEPORT`), each in a
    /// reactor of its own, and the system spread the incoming connections over them: how
    /// a server runs one reactor per core (see the [module documentation](super)). Every
    /// socket sharing the port must ask for it, in a process of the same user. Off by
    /// default; Twisted has no such option.
    ///
    /// On a system without `SO_REUSEPORT`, listening with it fails with
    /// [`CannotListenError`](crate::error::CannotListenError) (an `Unsupported` error).
    ///
    /// ```
    /// use tokio_twisted::protocol::{for_protocol, Protocol, TcpListenOptions};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let opts = TcpListenOptions::new().interface("127.0.0.1".parse().unwrap()).reuse_port(true);
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let first = reactor.listen_tcp_with(0, for_protocol(|| Quiet), opts).unwrap();
    /// // A second socket on the same port: refused without the option, accepted with it.
    /// assert!(reactor.listen_tcp_with(first.port(), for_protocol(|| Quiet), opts.reuse_port(false)).is_err());
    /// let second = reactor.listen_tcp_with(first.port(), for_protocol(|| Quiet), opts).unwrap();
    /// assert_eq!(first.port(), second.port());
    /// ```
    #[doc(alias = "SO_REUSEPORT")]
    #[must_use]
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.reuse_port = reuse;
        self
    }

    /// The backlog.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpListenOptions;
    /// let _ = TcpListenOptions::new().get_backlog();
    /// ```
    pub fn get_backlog(&self) -> u32 {
        self.backlog
    }

    /// The interface.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpListenOptions;
    /// let _ = TcpListenOptions::new().get_interface();
    /// ```
    pub fn get_interface(&self) -> IpAddr {
        self.interface
    }

    /// Whether the socket is bound with `SO_REUSEPORT`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpListenOptions;
    /// assert!(!TcpListenOptions::new().get_reuse_port());
    /// ```
    pub fn get_reuse_port(&self) -> bool {
        self.reuse_port
    }
}

/// Options of [`ReactorHandle::connect_tcp_with`]: Twisted's `timeout` and
/// `bindAddress`.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::protocol::TcpConnectOptions;
///
/// let opts = TcpConnectOptions::new()
///     .timeout(Duration::from_secs(5))
///     .bind_address("127.0.0.1:0".parse().unwrap());
/// assert_eq!(opts.get_timeout(), Duration::from_secs(5));
/// assert_eq!(TcpConnectOptions::default().get_timeout(), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConnectOptions {
    pub(super) timeout: Duration,
    pub(super) bind_address: Option<SocketAddr>,
}

impl Default for TcpConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpConnectOptions {
    /// A 30-second timeout and no bind address, Twisted's defaults.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpConnectOptions;
    /// assert!(TcpConnectOptions::new().get_bind_address().is_none());
    /// ```
    pub fn new() -> Self {
        TcpConnectOptions {
            timeout: DEFAULT_TIMEOUT,
            bind_address: None,
        }
    }

    /// How long the attempt (name lookup included) may take before failing with
    /// [`error::TimeoutError`](crate::error::TimeoutError).
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpConnectOptions;
    /// # use std::time::Duration;
    /// assert_eq!(TcpConnectOptions::new().timeout(Duration::ZERO).get_timeout(), Duration::ZERO);
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The local address to bind before connecting.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpConnectOptions;
    /// let a = "127.0.0.1:0".parse().unwrap();
    /// assert_eq!(TcpConnectOptions::new().bind_address(a).get_bind_address(), Some(a));
    /// ```
    #[must_use]
    pub fn bind_address(mut self, address: SocketAddr) -> Self {
        self.bind_address = Some(address);
        self
    }

    /// The timeout.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpConnectOptions;
    /// let _ = TcpConnectOptions::new().get_timeout();
    /// ```
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The bind address.
    ///
    /// ```
    /// # use tokio_twisted::protocol::TcpConnectOptions;
    /// let _ = TcpConnectOptions::new().get_bind_address();
    /// ```
    pub fn get_bind_address(&self) -> Option<SocketAddr> {
        self.bind_address
    }
}
