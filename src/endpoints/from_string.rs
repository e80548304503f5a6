// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs (ServerStringTests,
// ClientStringTests)

//! `server_from_string` and `client_from_string`, and the endpoints they return.

use super::description::{ClientDescription, ServerDescription};
use super::endpoint::{StreamClientEndpoint, StreamServerEndpoint};
use super::errors::ParseError;
use super::tcp::{Tcp4ClientEndpoint, Tcp4ServerEndpoint, Tcp6ServerEndpoint};
#[cfg(unix)]
use super::unix::{UnixClientEndpoint, UnixServerEndpoint};
use crate::defer::Deferred;
use crate::protocol::{Factory, ListeningPort, Transport};
use crate::reactor::ReactorHandle;

/// A server endpoint built from a description string: one variant per endpoint type.
///
/// ```
/// use tokio_twisted::endpoints::{server_from_string, ServerEndpoint};
/// use tokio_twisted::reactor::Reactor;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let ServerEndpoint::Tcp6(e) = server_from_string(&reactor.handle(), "tcp6:0")? else { unreachable!() };
/// assert_eq!(e.interface(), "::");
/// # Ok::<(), tokio_twisted::endpoints::ParseError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerEndpoint {
    /// `tcp:`
    Tcp4(Tcp4ServerEndpoint),
    /// `tcp6:`
    Tcp6(Tcp6ServerEndpoint),
    /// `unix:`
    #[cfg(unix)]
    Unix(UnixServerEndpoint),
}

impl StreamServerEndpoint for ServerEndpoint {
    fn listen<F: Factory>(&self, factory: F) -> Deferred<ListeningPort> {
        match self {
            ServerEndpoint::Tcp4(e) => e.listen(factory),
            ServerEndpoint::Tcp6(e) => e.listen(factory),
            #[cfg(unix)]
            ServerEndpoint::Unix(e) => e.listen(factory),
        }
    }
}

/// A client endpoint built from a description string: one variant per endpoint type.
///
/// ```
/// use tokio_twisted::endpoints::{client_from_string, ClientEndpoint};
/// use tokio_twisted::reactor::Reactor;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let ClientEndpoint::Tcp4(e) = client_from_string(&reactor.handle(), "tcp:localhost:1079")? else { unreachable!() };
/// assert_eq!((e.host(), e.port()), ("localhost", 1079));
/// # Ok::<(), tokio_twisted::endpoints::ParseError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientEndpoint {
    /// `tcp:`
    Tcp4(Tcp4ClientEndpoint),
    /// `unix:`
    #[cfg(unix)]
    Unix(UnixClientEndpoint),
}

impl StreamClientEndpoint for ClientEndpoint {
    fn connect<F: Factory>(&self, factory: F) -> Deferred<Transport> {
        match self {
            ClientEndpoint::Tcp4(e) => e.connect(factory),
            #[cfg(unix)]
            ClientEndpoint::Unix(e) => e.connect(factory),
        }
    }
}

/// Builds a server endpoint from a description string: Twisted's `serverFromString`.
///
/// `"tcp:1079"` listens on port 1079 of every IPv4 interface and
/// `"unix:/var/run/finger"` on a UNIX socket file; see the [module documentation](super)
/// for the grammar and every type's arguments.
///
/// # Errors
///
/// A [`ParseError`] naming what is wrong with the string. On a system without UNIX
/// sockets, `unix:` strings parse (see [`ServerDescription`]) but give
/// [`ParseError::Unsupported`] here.
///
/// ```
/// use tokio_twisted::endpoints::{server_from_string, ParseError, ServerEndpoint};
/// use tokio_twisted::reactor::Reactor;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let endpoint = server_from_string(&reactor.handle(), "tcp:1079:interface=127.0.0.1")?;
/// assert!(matches!(server_from_string(&reactor.handle(), "tcp:finger"),
///                  Err(ParseError::BadNumber { name: "port", .. })));
/// let ServerEndpoint::Unix(unix) = server_from_string(&reactor.handle(), "unix:/run/finger:backlog=7")? else {
///     unreachable!()
/// };
/// assert_eq!((unix.backlog(), unix.want_pid()), (7, true));
/// # let _ = endpoint;
/// # Ok::<(), ParseError>(())
/// ```
#[doc(alias = "serverFromString")]
pub fn server_from_string(reactor: &ReactorHandle, description: &str) -> Result<ServerEndpoint, ParseError> {
    match description.parse::<ServerDescription>()? {
        ServerDescription::Tcp4(tcp) => Ok(ServerEndpoint::Tcp4(Tcp4ServerEndpoint::from_description(
            reactor, &tcp,
        ))),
        ServerDescription::Tcp6(tcp) => Ok(ServerEndpoint::Tcp6(Tcp6ServerEndpoint::from_description(
            reactor, &tcp,
        ))),
        #[cfg(unix)]
        ServerDescription::Unix(unix) => Ok(ServerEndpoint::Unix(UnixServerEndpoint::from_description(
            reactor, &unix,
        ))),
        #[cfg(not(unix))]
        ServerDescription::Unix(_) => Err(ParseError::Unsupported("unix".to_owned())),
    }
}

/// Builds a client endpoint from a description string: Twisted's `clientFromString`.
///
/// `"tcp:example.com:79"` connects to port 79 of `example.com` and
/// `"unix:/var/run/finger"` to a UNIX socket file; see the [module documentation](super)
/// for the grammar and every type's arguments.
///
/// # Errors
///
/// A [`ParseError`] naming what is wrong with the string. On a system without UNIX
/// sockets, `unix:` strings parse (see [`ClientDescription`]) but give
/// [`ParseError::Unsupported`] here.
///
/// ```
/// use tokio_twisted::endpoints::{client_from_string, ClientEndpoint, ParseError};
/// use tokio_twisted::reactor::Reactor;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let endpoint = client_from_string(&reactor.handle(), "tcp:host=localhost:port=1079:timeout=5")?;
/// assert!(matches!(client_from_string(&reactor.handle(), "tcp:localhost"),
///                  Err(ParseError::MissingArgument { name: "port", .. })));
/// let ClientEndpoint::Unix(unix) = client_from_string(&reactor.handle(), "unix:/run/finger:lockfile=1")? else {
///     unreachable!()
/// };
/// assert!(unix.check_pid());
/// # let _ = endpoint;
/// # Ok::<(), ParseError>(())
/// ```
#[doc(alias = "clientFromString")]
pub fn client_from_string(reactor: &ReactorHandle, description: &str) -> Result<ClientEndpoint, ParseError> {
    match description.parse::<ClientDescription>()? {
        ClientDescription::Tcp(tcp) => Ok(ClientEndpoint::Tcp4(Tcp4ClientEndpoint::from_description(
            reactor, &tcp,
        ))),
        #[cfg(unix)]
        ClientDescription::Unix(unix) => Ok(ClientEndpoint::Unix(UnixClientEndpoint::from_description(
            reactor, &unix,
        ))),
        #[cfg(not(unix))]
        ClientDescription::Unix(_) => Err(ParseError::Unsupported("unix".to_owned())),
    }
}
