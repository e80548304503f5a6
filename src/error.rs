// Tests: tests/protocol.rs, tests/tcp.rs, tests/conformance/test_tcp.rs

//! Network errors, named after Twisted's `twisted.internet.error`.
//!
//! Transports, endpoints and services share these types, and every reason a
//! [`Protocol`](crate::protocol::Protocol) sees in
//! [`connection_lost`](crate::protocol::Protocol::connection_lost) is one of them, wrapped in
//! a [`Failure`]:
//!
//! - [`ConnectionDone`]: the connection was closed cleanly, by either side;
//! - [`ConnectionLost`]: it was lost uncleanly (a reset, a socket error, reactor shutdown);
//! - [`ConnectionAborted`]: this side called
//!   [`abort_connection`](crate::protocol::Transport::abort_connection).
//!
//! Connecting fails with [`ConnectionRefusedError`], [`TimeoutError`], [`DnsLookupError`],
//! [`NoRouteError`], [`ConnectBindError`] or, for anything else, [`ConnectError`];
//! [`connect_error`] sorts an I/O error into the right one. Listening fails with
//! [`CannotListenError`].
//!
//! ```
//! use tokio_twisted::error::{ConnectionDone, ConnectionLost};
//! use tokio_twisted::failure::Failure;
//!
//! let reason = Failure::new(ConnectionDone);
//! // Twisted's `reason.check(ConnectionDone)`:
//! assert!(reason.check::<ConnectionDone>());
//! assert!(!reason.check::<ConnectionLost>());
//! assert_eq!(reason.error_message(), "connection was closed cleanly");
//! ```

use std::io;

use crate::failure::Failure;
use crate::protocol::Address;
use crate::reactor::SpawnLocalError;

/// The connection was closed cleanly: Twisted's `ConnectionDone` (`connectionDone`).
///
/// The reason a protocol sees when either side closed the connection after flushing its
/// data, and, for a protocol that does not opt in to half-close, when the peer closes
/// its write side.
///
/// ```
/// # use tokio_twisted::error::ConnectionDone;
/// assert_eq!(ConnectionDone.to_string(), "connection was closed cleanly");
/// ```
#[doc(alias = "connectionDone")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("connection was closed cleanly")]
pub struct ConnectionDone;

/// The connection was lost in a non-clean fashion: Twisted's `ConnectionLost`.
///
/// A reset by the peer (the peer of an aborted connection sees this), a socket error, or
/// the reactor shutting down with the connection still open. [`source`](std::error::Error::source)
/// is the I/O error, when there was one.
///
/// ```
/// # use tokio_twisted::error::ConnectionLost;
/// use std::error::Error;
/// let reset = ConnectionLost::from_io(std::io::ErrorKind::ConnectionReset.into());
/// assert!(reset.source().is_some());
/// assert!(ConnectionLost::new().to_string().starts_with("connection to the other side was lost"));
/// ```
#[derive(Debug, Default, thiserror::Error)]
#[error("connection to the other side was lost in a non-clean fashion{}", detail(.source.as_ref()))]
pub struct ConnectionLost {
    #[source]
    source: Option<io::Error>,
}

impl ConnectionLost {
    /// A loss with no underlying I/O error (reactor shutdown, for instance).
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectionLost;
    /// assert!(ConnectionLost::new().io_error().is_none());
    /// ```
    pub fn new() -> Self {
        Self { source: None }
    }

    /// A loss caused by the I/O error `error`.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectionLost;
    /// let lost = ConnectionLost::from_io(std::io::ErrorKind::BrokenPipe.into());
    /// assert_eq!(lost.io_error().unwrap().kind(), std::io::ErrorKind::BrokenPipe);
    /// ```
    pub fn from_io(error: io::Error) -> Self {
        Self { source: Some(error) }
    }

    /// The I/O error behind the loss, if any.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectionLost;
    /// assert!(ConnectionLost::default().io_error().is_none());
    /// ```
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }
}

/// This side aborted the connection: Twisted's `ConnectionAborted`.
///
/// The reason seen by the protocol whose transport's
/// [`abort_connection`](crate::protocol::Transport::abort_connection) was called; the peer
/// sees [`ConnectionLost`].
///
/// ```
/// # use tokio_twisted::error::ConnectionAborted;
/// assert_eq!(ConnectionAborted.to_string(), "connection was aborted locally");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("connection was aborted locally")]
pub struct ConnectionAborted;

/// A connection attempt failed for a reason with no more specific type: Twisted's
/// `ConnectError`.
///
/// ```
/// # use tokio_twisted::error::ConnectError;
/// let e = ConnectError::new(std::io::Error::other("no luck"));
/// assert_eq!(e.to_string(), "an error occurred while connecting: no luck");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("an error occurred while connecting: {source}")]
pub struct ConnectError {
    #[source]
    source: io::Error,
}

impl ConnectError {
    /// Wraps the I/O error that made the attempt fail.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectError;
    /// let e = ConnectError::new(std::io::ErrorKind::Other.into());
    /// assert_eq!(e.io_error().kind(), std::io::ErrorKind::Other);
    /// ```
    pub fn new(source: io::Error) -> Self {
        Self { source }
    }

    /// The I/O error.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectError;
    /// # let e = ConnectError::new(std::io::ErrorKind::Other.into());
    /// let _kind = e.io_error().kind();
    /// ```
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

/// The peer refused the connection: Twisted's `ConnectionRefusedError`.
///
/// ```
/// # use tokio_twisted::error::ConnectionRefusedError;
/// assert_eq!(ConnectionRefusedError.to_string(), "connection was refused by other side");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("connection was refused by other side")]
pub struct ConnectionRefusedError;

/// The connection attempt did not finish within its timeout: Twisted's
/// `twisted.internet.error.TimeoutError`, distinct from
/// [`defer::TimeoutError`](crate::defer::TimeoutError).
///
/// ```
/// # use tokio_twisted::error::TimeoutError;
/// assert_eq!(TimeoutError.to_string(), "user timeout caused connection failure");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("user timeout caused connection failure")]
pub struct TimeoutError;

/// The host name could not be resolved: Twisted's `DNSLookupError`.
///
/// ```
/// # use tokio_twisted::error::DnsLookupError;
/// let e = DnsLookupError::new("nowhere.invalid", None);
/// assert_eq!(e.host(), "nowhere.invalid");
/// assert_eq!(e.to_string(), "dns lookup failed: nowhere.invalid");
/// ```
#[doc(alias = "DNSLookupError")]
#[derive(Debug, thiserror::Error)]
#[error("dns lookup failed: {host}{}", detail(.source.as_ref()))]
pub struct DnsLookupError {
    host: String,
    #[source]
    source: Option<io::Error>,
}

impl DnsLookupError {
    /// A failed lookup of `host`, with the resolver's error if there was one.
    ///
    /// ```
    /// # use tokio_twisted::error::DnsLookupError;
    /// let e = DnsLookupError::new("x.invalid", Some(std::io::Error::other("no such name")));
    /// assert!(e.to_string().ends_with("no such name"));
    /// ```
    pub fn new(host: impl Into<String>, source: Option<io::Error>) -> Self {
        Self {
            host: host.into(),
            source,
        }
    }

    /// The name that was looked up.
    ///
    /// ```
    /// # use tokio_twisted::error::DnsLookupError;
    /// assert_eq!(DnsLookupError::new("h", None).host(), "h");
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// No route to the host: Twisted's `NoRouteError`.
///
/// ```
/// # use tokio_twisted::error::NoRouteError;
/// assert_eq!(NoRouteError.to_string(), "no route to host");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("no route to host")]
pub struct NoRouteError;

/// The local bind address of a connection attempt could not be bound: Twisted's
/// `ConnectBindError`.
///
/// ```
/// # use tokio_twisted::error::ConnectBindError;
/// let e = ConnectBindError::new(std::io::ErrorKind::AddrInUse.into());
/// assert!(e.to_string().starts_with("couldn't bind"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("couldn't bind: {source}")]
pub struct ConnectBindError {
    #[source]
    source: io::Error,
}

impl ConnectBindError {
    /// Wraps the bind error.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectBindError;
    /// let _ = ConnectBindError::new(std::io::ErrorKind::AddrInUse.into());
    /// ```
    pub fn new(source: io::Error) -> Self {
        Self { source }
    }
}

/// A listening socket could not be opened: Twisted's `CannotListenError`.
///
/// ```
/// # use tokio_twisted::error::CannotListenError;
/// let e = CannotListenError::new("127.0.0.1", 80, std::io::ErrorKind::PermissionDenied.into());
/// assert_eq!(e.port(), 80);
/// assert!(e.to_string().starts_with("couldn't listen on 127.0.0.1:80: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("couldn't listen on {interface}:{port}: {source}")]
pub struct CannotListenError {
    interface: String,
    port: u16,
    #[source]
    source: io::Error,
}

impl CannotListenError {
    /// Listening on `interface` (empty for every address) port `port` failed with `source`.
    ///
    /// ```
    /// # use tokio_twisted::error::CannotListenError;
    /// let e = CannotListenError::new("", 1, std::io::ErrorKind::AddrInUse.into());
    /// assert_eq!(e.interface(), "");
    /// ```
    pub fn new(interface: impl Into<String>, port: u16, source: io::Error) -> Self {
        Self {
            interface: interface.into(),
            port,
            source,
        }
    }

    /// The interface that was asked for.
    ///
    /// ```
    /// # use tokio_twisted::error::CannotListenError;
    /// # let e = CannotListenError::new("::1", 1, std::io::ErrorKind::AddrInUse.into());
    /// assert_eq!(e.interface(), "::1");
    /// ```
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The port that was asked for.
    ///
    /// ```
    /// # use tokio_twisted::error::CannotListenError;
    /// # let e = CannotListenError::new("", 7, std::io::ErrorKind::AddrInUse.into());
    /// assert_eq!(e.port(), 7);
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The I/O error.
    ///
    /// ```
    /// # use tokio_twisted::error::CannotListenError;
    /// # let e = CannotListenError::new("", 7, std::io::ErrorKind::AddrInUse.into());
    /// assert_eq!(e.io_error().kind(), std::io::ErrorKind::AddrInUse);
    /// ```
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

/// Why [`listen_tcp`](crate::reactor::ReactorHandle::listen_tcp) did not listen.
///
/// ```
/// use tokio_twisted::error::{CannotListenError, ListenError};
/// let e = ListenError::from(CannotListenError::new("", 80, std::io::ErrorKind::AddrInUse.into()));
/// assert!(matches!(e, ListenError::CannotListen(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// The socket could not be opened: Twisted's `CannotListenError`.
    #[error(transparent)]
    CannotListen(#[from] CannotListenError),
    /// Called off the reactor thread, or after the reactor shut down.
    #[error(transparent)]
    Reactor(#[from] SpawnLocalError),
}

/// The factory refused to build a protocol for a connection: Twisted's `NoProtocol`.
///
/// ```
/// # use tokio_twisted::error::NoProtocol;
/// assert_eq!(NoProtocol.to_string(), "factory refused to build a protocol");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("factory refused to build a protocol")]
pub struct NoProtocol;

/// A connection attempt was cancelled before it finished: Twisted's
/// `ConnectingCancelledError`, naming the address being connected to.
///
/// ```
/// # use tokio_twisted::error::ConnectingCancelledError;
/// use tokio_twisted::protocol::Address;
/// let e = ConnectingCancelledError::new(Address::Tcp("127.0.0.1:80".parse().unwrap()));
/// assert_eq!(e.to_string(), "connecting to tcp:127.0.0.1:80 was cancelled");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("connecting to {address} was cancelled")]
pub struct ConnectingCancelledError {
    address: Address,
}

impl ConnectingCancelledError {
    /// Cancelled while connecting to `address`.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectingCancelledError;
    /// # use tokio_twisted::protocol::Address;
    /// let a = Address::Tcp("[::1]:1".parse().unwrap());
    /// assert_eq!(ConnectingCancelledError::new(a.clone()).address(), &a);
    /// ```
    pub fn new(address: Address) -> Self {
        Self { address }
    }

    /// The address that was being connected to.
    ///
    /// ```
    /// # use tokio_twisted::error::ConnectingCancelledError;
    /// # use tokio_twisted::protocol::Address;
    /// # let a = Address::Tcp("[::1]:1".parse().unwrap());
    /// let _ = ConnectingCancelledError::new(a).address();
    /// ```
    pub fn address(&self) -> &Address {
        &self.address
    }
}

/// [`ListeningPort::stop_listening`](crate::protocol::ListeningPort::stop_listening) on a
/// port that has already stopped: Twisted's `NotListeningError`.
///
/// ```
/// # use tokio_twisted::error::NotListeningError;
/// assert_eq!(NotListeningError.to_string(), "port is not listening");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("port is not listening")]
pub struct NotListeningError;

/// [`Connector::stop_connecting`](crate::protocol::Connector::stop_connecting) when no
/// attempt is in progress: Twisted's `NotConnectingError`.
///
/// ```
/// # use tokio_twisted::error::NotConnectingError;
/// assert_eq!(NotConnectingError.to_string(), "the connector is not connecting");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("the connector is not connecting")]
pub struct NotConnectingError;

/// [`Connector::connect`](crate::protocol::Connector::connect) while the connector is
/// already connecting or connected (Twisted asserts instead).
///
/// ```
/// # use tokio_twisted::error::ConnectorBusyError;
/// assert_eq!(ConnectorBusyError.to_string(), "the connector is already connecting or connected");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("the connector is already connecting or connected")]
pub struct ConnectorBusyError;

/// A networking call that must run on the reactor thread (where protocols and factories
/// live) was made from another thread, or with no reactor running there.
///
/// ```
/// # use tokio_twisted::error::NotReactorThreadError;
/// assert_eq!(NotReactorThreadError.to_string(), "must be called on the reactor thread");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, thiserror::Error)]
#[error("must be called on the reactor thread")]
pub struct NotReactorThreadError;

/// A UNIX socket's lock file says no server holds it (connecting with `check_pid`):
/// Twisted's `BadFileError`, naming the socket's path.
///
/// ```
/// # use tokio_twisted::error::BadFileError;
/// let e = BadFileError::new("/run/app.sock");
/// assert_eq!(e.to_string(), "no server holds the lock of /run/app.sock");
/// assert_eq!(e.path(), std::path::Path::new("/run/app.sock"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no server holds the lock of {}", path.display())]
pub struct BadFileError {
    path: std::path::PathBuf,
}

impl BadFileError {
    /// The lock of the socket at `path` is not held.
    ///
    /// ```
    /// # use tokio_twisted::error::BadFileError;
    /// let _ = BadFileError::new("x.sock");
    /// ```
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The socket's path.
    ///
    /// ```
    /// # use tokio_twisted::error::BadFileError;
    /// assert_eq!(BadFileError::new("a").path().to_str(), Some("a"));
    /// ```
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// Sorts the I/O error of a failed connection attempt into Twisted's types (its
/// `getConnectError`): refused → [`ConnectionRefusedError`], timed out → [`TimeoutError`],
/// no route → [`NoRouteError`], anything else → [`ConnectError`].
///
/// ```
/// use std::io::ErrorKind;
/// use tokio_twisted::error::{connect_error, ConnectError, ConnectionRefusedError};
///
/// assert!(connect_error(ErrorKind::ConnectionRefused.into()).check::<ConnectionRefusedError>());
/// assert!(connect_error(ErrorKind::Other.into()).check::<ConnectError>());
/// ```
#[doc(alias = "getConnectError")]
pub fn connect_error(error: io::Error) -> Failure {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => Failure::new(ConnectionRefusedError),
        io::ErrorKind::TimedOut => Failure::new(TimeoutError),
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => Failure::new(NoRouteError),
        _ => Failure::new(ConnectError::new(error)),
    }
}

fn detail(source: Option<&io::Error>) -> String {
    source.map(|e| format!(": {e}")).unwrap_or_default()
}
