// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs (TCP4EndpointsTests,
// TCP6EndpointsTests)

//! TCP endpoints: `Tcp4ServerEndpoint`, `Tcp6ServerEndpoint`, `Tcp4ClientEndpoint`,
//! `Tcp6ClientEndpoint`.

use std::fmt;
use std::time::Duration;

use super::description::{DEFAULT_BACKLOG, DEFAULT_TIMEOUT, TcpClientDescription, TcpServerDescription};
use super::endpoint::{StreamClientEndpoint, StreamServerEndpoint};
use super::io;
use crate::defer::Deferred;
use crate::protocol::{Factory, ListeningPort, TcpListenOptions, Transport};
use crate::reactor::ReactorHandle;

/// What both TCP server endpoints hold.
#[derive(Clone)]
struct TcpServer {
    reactor: ReactorHandle,
    family: io::Family,
    port: u16,
    backlog: u32,
    interface: String,
    reuse_port: bool,
}

impl TcpServer {
    fn listen<F: Factory>(&self, factory: F) -> Deferred<ListeningPort> {
        let options = TcpListenOptions::new()
            .backlog(self.backlog)
            .reuse_port(self.reuse_port);
        io::listen_tcp(
            &self.reactor,
            self.family,
            self.port,
            factory,
            options,
            &self.interface,
        )
    }
}

impl fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpServer")
            .field("port", &self.port)
            .field("backlog", &self.backlog)
            .field("interface", &self.interface)
            .field("reuse_port", &self.reuse_port)
            .finish_non_exhaustive()
    }
}

macro_rules! server_endpoint {
    ($name:ident, $alias:literal, $family:expr, $any:literal, $doc:literal) => {
        #[doc = $doc]
        #[doc(alias = $alias)]
        #[derive(Debug, Clone)]
        pub struct $name(TcpServer);

        impl $name {
            /// An endpoint listening on `port` (0 picks a free one) with a backlog of 50,
            /// on every interface of its address family.
            pub fn new(reactor: &ReactorHandle, port: u16) -> Self {
                $name(TcpServer {
                    reactor: reactor.clone(),
                    family: $family,
                    port,
                    backlog: DEFAULT_BACKLOG,
                    interface: $any.to_owned(),
                    reuse_port: false,
                })
            }

            /// The endpoint a parsed description describes.
            pub fn from_description(reactor: &ReactorHandle, description: &TcpServerDescription) -> Self {
                $name(TcpServer {
                    reactor: reactor.clone(),
                    family: $family,
                    port: description.port,
                    backlog: description.backlog,
                    interface: description.interface.clone(),
                    reuse_port: false,
                })
            }

            /// Sets the listen queue length.
            #[must_use]
            pub fn with_backlog(mut self, backlog: u32) -> Self {
                self.0.backlog = backlog;
                self
            }

            /// Sets the address to bind (an address of the endpoint's family).
            #[must_use]
            pub fn with_interface(mut self, interface: impl Into<String>) -> Self {
                self.0.interface = interface.into();
                self
            }

            /// Lets other sockets listen on the same port at once (`SO_REUSEPORT`), for one
            /// reactor per core: see
            /// [`TcpListenOptions::reuse_port`](crate::protocol::TcpListenOptions::reuse_port).
            /// An extension: Twisted's endpoints (and their description strings) have no
            /// such option.
            ///
            /// ```
            /// use tokio_twisted::endpoints::Tcp4ServerEndpoint;
            /// use tokio_twisted::reactor::Reactor;
            ///
            /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
            /// let e = Tcp4ServerEndpoint::new(&reactor.handle(), 8000).with_reuse_port(true);
            /// assert!(e.reuse_port());
            /// ```
            #[doc(alias = "SO_REUSEPORT")]
            #[must_use]
            pub fn with_reuse_port(mut self, reuse_port: bool) -> Self {
                self.0.reuse_port = reuse_port;
                self
            }

            /// Whether the socket is bound with `SO_REUSEPORT`.
            pub fn reuse_port(&self) -> bool {
                self.0.reuse_port
            }

            /// The port given (0 if the system picks; the listening port knows which).
            pub fn port(&self) -> u16 {
                self.0.port
            }

            /// The listen queue length.
            pub fn backlog(&self) -> u32 {
                self.0.backlog
            }

            /// The address to bind.
            pub fn interface(&self) -> &str {
                &self.0.interface
            }
        }

        impl StreamServerEndpoint for $name {
            fn listen<F: Factory>(&self, factory: F) -> Deferred<ListeningPort> {
                self.0.listen(factory)
            }
        }
    };
}

server_endpoint!(
    Tcp4ServerEndpoint,
    "TCP4ServerEndpoint",
    io::Family::V4,
    "",
    "A TCP server over IPv4: Twisted's `TCP4ServerEndpoint`. The interface defaults to `\"\"`, every IPv4 address.\n\n```\nuse tokio_twisted::endpoints::Tcp4ServerEndpoint;\nuse tokio_twisted::reactor::Reactor;\n\nlet reactor = Reactor::builder().without_signal_handlers().build().unwrap();\nlet e = Tcp4ServerEndpoint::new(&reactor.handle(), 1079).with_interface(\"127.0.0.1\");\nassert_eq!((e.port(), e.backlog(), e.interface()), (1079, 50, \"127.0.0.1\"));\n```"
);
server_endpoint!(
    Tcp6ServerEndpoint,
    "TCP6ServerEndpoint",
    io::Family::V6,
    "::",
    "A TCP server over IPv6: Twisted's `TCP6ServerEndpoint`. The interface defaults to `\"::\"`, every IPv6 address.\n\n```\nuse tokio_twisted::endpoints::Tcp6ServerEndpoint;\nuse tokio_twisted::reactor::Reactor;\n\nlet reactor = Reactor::builder().without_signal_handlers().build().unwrap();\nlet e = Tcp6ServerEndpoint::new(&reactor.handle(), 1079).with_backlog(5);\nassert_eq!((e.port(), e.backlog(), e.interface()), (1079, 5, \"::\"));\n```"
);

/// What both TCP client endpoints hold.
#[derive(Clone)]
struct TcpClient {
    reactor: ReactorHandle,
    resolver: Option<io::NameResolver>,
    host: String,
    port: u16,
    timeout: Duration,
    bind_address: Option<String>,
}

impl fmt::Debug for TcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("timeout", &self.timeout)
            .field("bind_address", &self.bind_address)
            .finish_non_exhaustive()
    }
}

macro_rules! client_endpoint {
    ($name:ident, $alias:literal, $family:expr, $doc:literal) => {
        #[doc = $doc]
        #[doc(alias = $alias)]
        #[derive(Debug, Clone)]
        pub struct $name(TcpClient);

        impl $name {
            /// An endpoint connecting to `host:port` with a 30 second timeout.
            pub fn new(reactor: &ReactorHandle, host: impl Into<String>, port: u16) -> Self {
                $name(TcpClient {
                    reactor: reactor.clone(),
                    resolver: None,
                    host: host.into(),
                    port,
                    timeout: DEFAULT_TIMEOUT,
                    bind_address: None,
                })
            }

            /// The endpoint a parsed description describes.
            pub fn from_description(reactor: &ReactorHandle, description: &TcpClientDescription) -> Self {
                $name(TcpClient {
                    reactor: reactor.clone(),
                    resolver: None,
                    host: description.host.clone(),
                    port: description.port,
                    timeout: description.timeout,
                    bind_address: description.bind_address.clone(),
                })
            }

            /// Sets how long to wait for the connection.
            #[must_use]
            pub fn with_timeout(mut self, timeout: Duration) -> Self {
                self.0.timeout = timeout;
                self
            }

            /// Binds the local end to `address` (any port) before connecting.
            #[must_use]
            pub fn with_bind_address(mut self, address: impl Into<String>) -> Self {
                self.0.bind_address = Some(address.into());
                self
            }

            /// Replaces the system resolver for a host name: `resolve(host, port)` returns the
            /// addresses, in order, and the first of the endpoint's family is used (Twisted
            /// tests replace `_nameResolution` the same way). A bind address must then be a
            /// literal address.
            #[must_use]
            pub fn with_resolver<R>(mut self, resolve: R) -> Self
            where
                R: Fn(&str, u16) -> Deferred<Vec<std::net::SocketAddr>> + Send + Sync + 'static,
            {
                self.0.resolver = Some(std::sync::Arc::new(resolve));
                self
            }

            /// The host to connect to.
            pub fn host(&self) -> &str {
                &self.0.host
            }

            /// The port to connect to.
            pub fn port(&self) -> u16 {
                self.0.port
            }

            /// How long to wait for the connection.
            pub fn timeout(&self) -> Duration {
                self.0.timeout
            }

            /// The local address bound before connecting, if any.
            pub fn bind_address(&self) -> Option<&str> {
                self.0.bind_address.as_deref()
            }
        }

        impl StreamClientEndpoint for $name {
            fn connect<F: Factory>(&self, factory: F) -> Deferred<Transport> {
                let c = &self.0;
                let target = io::Target {
                    host: &c.host,
                    port: c.port,
                    timeout: c.timeout,
                    bind_address: c.bind_address.as_deref(),
                    resolver: c.resolver.as_ref(),
                };
                io::connect_tcp(&c.reactor, $family, &target, factory)
            }
        }
    };
}

client_endpoint!(
    Tcp4ClientEndpoint,
    "TCP4ClientEndpoint",
    io::Family::V4,
    "A TCP client over IPv4: Twisted's `TCP4ClientEndpoint`. A host name is resolved to its first IPv4 address.\n\n```\nuse std::time::Duration;\nuse tokio_twisted::endpoints::Tcp4ClientEndpoint;\nuse tokio_twisted::reactor::Reactor;\n\nlet reactor = Reactor::builder().without_signal_handlers().build().unwrap();\nlet e = Tcp4ClientEndpoint::new(&reactor.handle(), \"127.0.0.1\", 1079).with_timeout(Duration::from_secs(5));\nassert_eq!((e.host(), e.port(), e.timeout().as_secs(), e.bind_address()), (\"127.0.0.1\", 1079, 5, None));\n```"
);
client_endpoint!(
    Tcp6ClientEndpoint,
    "TCP6ClientEndpoint",
    io::Family::V6,
    "A TCP client over IPv6: Twisted's `TCP6ClientEndpoint`. A host name is resolved to its first IPv6 address.\n\n```\nuse tokio_twisted::endpoints::Tcp6ClientEndpoint;\nuse tokio_twisted::reactor::Reactor;\n\nlet reactor = Reactor::builder().without_signal_handlers().build().unwrap();\nlet e = Tcp6ClientEndpoint::new(&reactor.handle(), \"::1\", 1079).with_bind_address(\"::1\");\nassert_eq!((e.host(), e.port(), e.bind_address()), (\"::1\", 1079, Some(\"::1\")));\n```"
);
