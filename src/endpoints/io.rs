// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs

//! Where the endpoints meet the reactor's TCP: listening, and connecting after the name
//! resolution each TCP client endpoint does (a literal address needs none).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::wrapping::{WrappingFactory, register_connector};
use crate::defer::{Deferred, fail, succeed};
use crate::error::{CannotListenError, DnsLookupError, ListenError, NotReactorThreadError};
use crate::failure::Failure;
use crate::protocol::{
    Address, Connector, Factory, ListeningPort, TcpConnectOptions, TcpListenOptions, Transport,
};
use crate::reactor::ReactorHandle;
use crate::threads::defer_to_thread;

/// Resolves a host name and port to addresses, in order (a replaceable
/// `getaddrinfo`, Twisted's `IHostnameResolver`).
pub(crate) type NameResolver = std::sync::Arc<dyn Fn(&str, u16) -> Deferred<Vec<SocketAddr>> + Send + Sync>;

/// The address family a TCP client endpoint resolves its host in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    fn accepts(self, ip: IpAddr) -> bool {
        matches!(
            (self, ip),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        )
    }
}

/// `listenTCP`, with Twisted's `defer.execute` around it: the outcome as a Deferred.
pub(crate) fn listen_tcp<F: Factory>(
    reactor: &ReactorHandle,
    family: Family,
    port: u16,
    factory: F,
    options: TcpListenOptions,
    interface: &str,
) -> Deferred<ListeningPort> {
    listened(reactor_listen_tcp(
        reactor, family, port, factory, options, interface,
    ))
}

/// The Deferred a server endpoint's `listen` returns for the reactor's answer (Twisted's
/// `defer.execute` around `listenTCP`/`listenUNIX`): the port, or the `CannotListenError`
/// itself as the failure.
pub(crate) fn listened(outcome: Result<ListeningPort, ListenError>) -> Deferred<ListeningPort> {
    match outcome {
        Ok(port) => succeed(port),
        Err(ListenError::CannotListen(cannot)) => fail(Failure::new(cannot)),
        Err(other) => fail(Failure::new(other)),
    }
}

/// Starts a client endpoint's attempt with `connect` (a call of the reactor's
/// `connect_tcp`/`connect_unix` taking the wrapping factory) and registers its connector,
/// so that cancelling the endpoint's Deferred stops it; a call that fails at once fails
/// the Deferred.
pub(crate) fn start_attempt<F: Factory>(
    wrapping: WrappingFactory<F>,
    connect: impl FnOnce(WrappingFactory<F>) -> Result<Connector, Failure>,
) {
    let attempt = wrapping.connector_slot();
    let on_connection = wrapping.on_connection();
    match connect(wrapping) {
        Ok(connector) => register_connector(&attempt, &connector),
        Err(failure) => {
            let _ = on_connection.errback(failure);
        }
    }
}

/// Where and how a TCP client connects.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) timeout: Duration,
    pub(crate) bind_address: Option<&'a str>,
    pub(crate) resolver: Option<&'a NameResolver>,
}

/// Connects to `host:port` in `family`, resolving `host` (and a bind address given as a
/// name) on the reactor's thread pool first when it is not a literal address.
pub(crate) fn connect_tcp<F: Factory>(
    reactor: &ReactorHandle,
    family: Family,
    target: &Target<'_>,
    factory: F,
) -> Deferred<Transport> {
    let Target {
        host,
        port,
        timeout,
        bind_address,
        resolver,
    } = *target;
    let (wrapping, d) = WrappingFactory::new(factory);
    wrapping.set_destination(Address::Hostname {
        host: host.to_owned(),
        port,
    });
    let literal = host.parse::<IpAddr>().ok().filter(|ip| family.accepts(*ip));
    let literal_bind = match bind_address {
        None => Some(None),
        Some(b) => b.parse::<IpAddr>().ok().map(Some),
    };
    if let (Some(ip), Some(bind)) = (literal, literal_bind) {
        start(reactor, SocketAddr::new(ip, port), wrapping, timeout, bind);
        return d;
    }
    if !reactor.is_reactor_thread() {
        return fail(Failure::new(NotReactorThreadError));
    }
    let lookup_host = host.to_owned();
    let lookup_bind = bind_address.map(str::to_owned);
    let custom = match resolver {
        Some(resolve) if literal.is_none() => Some(resolve(host, port)),
        _ => None,
    };
    let lookup = match custom {
        // A replaced resolver answers the host; a bind address must then be literal.
        Some(answer) => answer.add_callback(move |found: Vec<SocketAddr>| {
            let address = found
                .into_iter()
                .find(|a| family.accepts(a.ip()))
                .ok_or_else(|| Failure::new(DnsLookupError::new(lookup_host.clone(), None)))?;
            let bind = match lookup_bind.as_deref() {
                None => None,
                Some(b) => Some(
                    b.parse::<IpAddr>()
                        .map_err(|_| Failure::new(DnsLookupError::new(b, None)))?,
                ),
            };
            Ok((address, bind))
        }),
        None => defer_to_thread(reactor, move || {
            resolve(family, &lookup_host, port, lookup_bind.as_deref())
        }),
    };
    let handle = reactor.clone();
    let task = reactor.spawn_local(async move {
        let outcome = lookup.await;
        if wrapping.finished() {
            return; // cancelled while resolving
        }
        match outcome {
            Ok((address, bind)) => start(&handle, address, wrapping, timeout, bind),
            Err(failure) => wrapping.fail(failure),
        }
    });
    match task {
        Ok(_) => d,
        Err(e) => fail(Failure::new(e)),
    }
}

/// The first address of `family` for `host`, and the bind address resolved likewise.
fn resolve(
    family: Family,
    host: &str,
    port: u16,
    bind: Option<&str>,
) -> Result<(SocketAddr, Option<IpAddr>), Failure> {
    let first = |name: &str, port: u16| -> Result<SocketAddr, Failure> {
        let mut found = (name, port)
            .to_socket_addrs()
            .map_err(|e| Failure::new(DnsLookupError::new(name, Some(e))))?;
        found
            .find(|a| family.accepts(a.ip()))
            .ok_or_else(|| Failure::new(DnsLookupError::new(name, None)))
    };
    let address = first(host, port)?;
    let bind = match bind {
        None => None,
        Some(b) => Some(
            b.parse::<IpAddr>()
                .map_or_else(|_| first(b, 0).map(|a| a.ip()), Ok)?,
        ),
    };
    Ok((address, bind))
}

/// Starts the TCP connection attempt to `address`.
fn start<F: Factory>(
    reactor: &ReactorHandle,
    address: SocketAddr,
    wrapping: WrappingFactory<F>,
    timeout: Duration,
    bind: Option<IpAddr>,
) {
    start_attempt(wrapping, |wrapping| {
        reactor_connect_tcp(reactor, address, wrapping, timeout, bind)
    });
}

// ---- the reactor's TCP calls --------------------------------------------------------

fn reactor_listen_tcp<F: Factory>(
    reactor: &ReactorHandle,
    family: Family,
    port: u16,
    factory: F,
    options: TcpListenOptions,
    interface: &str,
) -> Result<ListeningPort, ListenError> {
    // Twisted's "" is every address of the family.
    let ip = if interface.is_empty() {
        Ok(match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        })
    } else {
        interface.parse::<IpAddr>()
    };
    let ip = ip.map_err(|_| {
        let invalid = io::Error::new(io::ErrorKind::InvalidInput, "the interface is not an IP address");
        CannotListenError::new(interface, port, invalid)
    })?;
    reactor.listen_tcp_with(port, factory, options.interface(ip))
}

fn reactor_connect_tcp<F: Factory>(
    reactor: &ReactorHandle,
    address: SocketAddr,
    wrapping: WrappingFactory<F>,
    timeout: Duration,
    bind: Option<IpAddr>,
) -> Result<Connector, Failure> {
    let mut options = TcpConnectOptions::new().timeout(timeout);
    if let Some(ip) = bind {
        options = options.bind_address(SocketAddr::new(ip, 0));
    }
    reactor
        .connect_tcp_with(&address.ip().to_string(), address.port(), wrapping, options)
        .map_err(Failure::new)
}
