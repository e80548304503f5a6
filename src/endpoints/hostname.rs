// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs (HostnameEndpoint*),
// src/endpoints/happy.rs (the attempt race, on task::Clock)

//! `HostnameEndpoint`: resolve a name, then connect to the fastest of its addresses.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::description::DEFAULT_TIMEOUT;
use super::endpoint::StreamClientEndpoint;
use super::happy::{cancellable, race_attempts};
use super::tcp::{Tcp4ClientEndpoint, Tcp6ClientEndpoint};
use crate::defer::{Deferred, fail};
use crate::error::{ConnectingCancelledError, DnsLookupError, NotReactorThreadError};
use crate::failure::Failure;
use crate::protocol::{Address, Factory, SharedFactory, Transport};
use crate::reactor::ReactorHandle;
use crate::threads::defer_to_thread;

/// Resolves a host name and port to the addresses to try, in order.
type Resolve = Arc<dyn Fn(&str, u16) -> Deferred<Vec<SocketAddr>> + Send + Sync>;

/// The delay between connection attempts Twisted uses: 0.3 seconds.
pub const DEFAULT_ATTEMPT_DELAY: Duration = Duration::from_millis(300);

/// A client endpoint that resolves a host name and connects to whichever of its addresses
/// answers first: Twisted's `HostnameEndpoint`, the endpoint to use for names.
///
/// After resolution (on the reactor's thread pool, through the system resolver, unless
/// [`with_resolver`](Self::with_resolver) replaces it), one attempt starts at once and one
/// more every [`attempt_delay`](Self::with_attempt_delay) (0.3 s) on the reactor's clock,
/// in the resolver's order, IPv4 and IPv6 alike ("Happy Eyeballs"). The first connection made wins;
/// the other attempts are cancelled. If all fail, the Deferred fails with the last failure
/// (a `DnsLookupError` if the name does not resolve or resolves to nothing).
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::endpoints::HostnameEndpoint;
/// use tokio_twisted::reactor::Reactor;
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let e = HostnameEndpoint::new(&reactor.handle(), "localhost", 1079)
///     .with_timeout(Duration::from_secs(5))
///     .with_attempt_delay(Duration::from_millis(100));
/// assert_eq!((e.host(), e.port()), ("localhost", 1079));
/// assert_eq!(format!("{e:?}"), "HostnameEndpoint(localhost:1079)");
/// ```
#[derive(Clone)]
pub struct HostnameEndpoint {
    reactor: ReactorHandle,
    host: String,
    port: u16,
    timeout: Duration,
    bind_address: Option<String>,
    attempt_delay: Duration,
    resolve: Resolve,
}

impl HostnameEndpoint {
    /// An endpoint for `host:port`, with a 30 second timeout per attempt.
    pub fn new(reactor: &ReactorHandle, host: impl Into<String>, port: u16) -> Self {
        let pool_reactor = reactor.clone();
        HostnameEndpoint {
            reactor: reactor.clone(),
            host: host.into(),
            port,
            timeout: DEFAULT_TIMEOUT,
            bind_address: None,
            attempt_delay: DEFAULT_ATTEMPT_DELAY,
            resolve: Arc::new(move |host: &str, port: u16| {
                let host = host.to_owned();
                defer_to_thread(&pool_reactor, move || system_resolve(&host, port))
            }),
        }
    }

    /// Sets how long each attempt waits for its connection.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Binds the local end to `address` (any port) before connecting.
    #[must_use]
    pub fn with_bind_address(mut self, address: impl Into<String>) -> Self {
        self.bind_address = Some(address.into());
        self
    }

    /// Sets the time between the start of one attempt and the next (Twisted's
    /// `attemptDelay`).
    #[must_use]
    #[doc(alias = "attemptDelay")]
    pub fn with_attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = delay;
        self
    }

    /// Replaces the resolver: `resolve(host, port)` returns the addresses to try, in order
    /// (Twisted's pluggable `IHostnameResolver`). Tests use it to connect to chosen loopback
    /// addresses.
    ///
    /// ```
    /// use tokio_twisted::defer::succeed;
    /// use tokio_twisted::endpoints::HostnameEndpoint;
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let e = HostnameEndpoint::new(&reactor.handle(), "finger.example", 1079)
    ///     .with_resolver(|_host, port| succeed(vec![([127, 0, 0, 1], port).into()]));
    /// # let _ = e;
    /// ```
    #[must_use]
    pub fn with_resolver<R>(mut self, resolve: R) -> Self
    where
        R: Fn(&str, u16) -> Deferred<Vec<SocketAddr>> + Send + Sync + 'static,
    {
        self.resolve = Arc::new(resolve);
        self
    }

    /// The host name to resolve.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How long each attempt waits for its connection.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The local address bound before connecting, if any.
    pub fn bind_address(&self) -> Option<&str> {
        self.bind_address.as_deref()
    }

    /// The time between the start of one attempt and the next.
    pub fn attempt_delay(&self) -> Duration {
        self.attempt_delay
    }
}

/// The system resolver (`getaddrinfo`), run on a pool thread.
fn system_resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Failure> {
    (host, port)
        .to_socket_addrs()
        .map(Iterator::collect)
        .map_err(|e| Failure::new(DnsLookupError::new(host, Some(e))))
}

impl StreamClientEndpoint for HostnameEndpoint {
    fn connect<F: Factory>(&self, factory: F) -> Deferred<Transport> {
        if !self.reactor.is_reactor_thread() {
            return fail(Failure::new(NotReactorThreadError));
        }
        let destination = Address::Hostname {
            host: self.host.clone(),
            port: self.port,
        };
        let (d, resolver, slot) =
            cancellable(move || Failure::new(ConnectingCancelledError::new(destination)));
        let resolution = (self.resolve)(&self.host, self.port);
        let endpoint = self.clone();
        let task = self.reactor.spawn_local(async move {
            let addresses = resolution.await;
            if resolver.called() {
                return; // cancelled while resolving
            }
            let addresses = match addresses {
                Ok(addresses) if addresses.is_empty() => {
                    let _ = resolver.errback(DnsLookupError::new(
                        format!("no results for hostname lookup: {}", endpoint.host),
                        None,
                    ));
                    return;
                }
                Ok(addresses) => addresses,
                Err(failure) => {
                    let failure = if failure.check::<DnsLookupError>() {
                        failure
                    } else {
                        Failure::new(DnsLookupError::new(endpoint.host.clone(), None))
                    };
                    let _ = resolver.errback(failure);
                    return;
                }
            };
            let factory = SharedFactory::new(factory);
            let attempt_endpoint = endpoint.clone();
            let ticker = race_attempts(
                endpoint.reactor.clone(),
                addresses,
                endpoint.attempt_delay,
                move |address: SocketAddr| attempt_endpoint.attempt(address, factory.clone()),
                resolver,
                &slot,
            );
            ticker.await;
        });
        match task {
            Ok(_) => d,
            Err(e) => fail(Failure::new(e)),
        }
    }
}

impl HostnameEndpoint {
    /// One attempt, through the TCP endpoint of the address's family.
    fn attempt<F: Factory>(&self, address: SocketAddr, factory: SharedFactory<F>) -> Deferred<Transport> {
        let ip = address.ip().to_string();
        match address {
            SocketAddr::V4(_) => {
                let mut e =
                    Tcp4ClientEndpoint::new(&self.reactor, ip, address.port()).with_timeout(self.timeout);
                if let Some(bind) = &self.bind_address {
                    e = e.with_bind_address(bind.clone());
                }
                e.connect(factory)
            }
            SocketAddr::V6(_) => {
                let mut e =
                    Tcp6ClientEndpoint::new(&self.reactor, ip, address.port()).with_timeout(self.timeout);
                if let Some(bind) = &self.bind_address {
                    e = e.with_bind_address(bind.clone());
                }
                e.connect(factory)
            }
        }
    }
}

impl fmt::Debug for HostnameEndpoint {
    /// Twisted's `repr`: `<HostnameEndpoint host:port>`, with brackets around an IPv6 host.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "HostnameEndpoint([{}]:{})", self.host, self.port)
        } else {
            write!(f, "HostnameEndpoint({}:{})", self.host, self.port)
        }
    }
}
