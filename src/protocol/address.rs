// Tests: tests/protocol.rs

//! `Address`: where a connection's ends are (Twisted's `twisted.internet.address`).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The address of one end of a connection, or of a listening port: Twisted's
/// `IPv4Address`, `IPv6Address` and `UNIXAddress`.
///
/// `Display` writes Twisted's endpoint-string spelling: `tcp:127.0.0.1:80`,
/// `tcp6:[::1]:80`, `unix:/path` (`unix:` alone for an unnamed socket).
///
/// ```
/// use tokio_twisted::protocol::Address;
///
/// let a = Address::Tcp("127.0.0.1:8080".parse().unwrap());
/// assert_eq!(a.port(), Some(8080));
/// assert_eq!(a.to_string(), "tcp:127.0.0.1:8080");
/// assert_eq!(Address::Tcp("[::1]:80".parse().unwrap()).to_string(), "tcp6:[::1]:80");
/// ```
#[doc(alias = "IPv4Address")]
#[doc(alias = "IPv6Address")]
#[doc(alias = "UNIXAddress")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Address {
    /// A TCP address, IPv4 or IPv6.
    Tcp(SocketAddr),
    /// A UNIX socket path; `None` for an unnamed socket (the client end, usually).
    Unix(Option<PathBuf>),
    /// A host name and port, before resolution: Twisted's `HostnameAddress` (what a
    /// [`HostnameEndpoint`](crate::endpoints::HostnameEndpoint) connects to).
    Hostname {
        /// The host name, as given.
        host: String,
        /// The port.
        port: u16,
    },
}

impl Address {
    /// The socket address of a TCP address.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Address;
    /// let sa: std::net::SocketAddr = "10.0.0.1:1".parse().unwrap();
    /// assert_eq!(Address::Tcp(sa).socket_addr(), Some(sa));
    /// assert_eq!(Address::Unix(None).socket_addr(), None);
    /// ```
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            Address::Tcp(sa) => Some(*sa),
            Address::Unix(_) | Address::Hostname { .. } => None,
        }
    }

    /// The port of a TCP address.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Address;
    /// assert_eq!(Address::Tcp("10.0.0.1:7".parse().unwrap()).port(), Some(7));
    /// ```
    pub fn port(&self) -> Option<u16> {
        match self {
            Address::Hostname { port, .. } => Some(*port),
            _ => self.socket_addr().map(|sa| sa.port()),
        }
    }
}

impl Address {
    /// Where a TCP client connecting to `host`:`port` goes, as its connector reports it
    /// (Twisted's `getDestination`): the address itself for a literal address, else the
    /// host name, not yet resolved.
    pub(crate) fn destination(host: &str, port: u16) -> Address {
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => Address::Tcp(SocketAddr::new(ip, port)),
            Err(_) => Address::Hostname {
                host: host.to_owned(),
                port,
            },
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(sa: SocketAddr) -> Self {
        Address::Tcp(sa)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(sa @ SocketAddr::V4(_)) => write!(f, "tcp:{sa}"),
            Address::Tcp(sa @ SocketAddr::V6(_)) => write!(f, "tcp6:{sa}"),
            Address::Unix(Some(path)) => write!(f, "unix:{}", path.display()),
            Address::Unix(None) => f.write_str("unix:"),
            Address::Hostname { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}
