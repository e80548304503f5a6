// Tests: tests/protocol.rs, tests/tcp.rs, tests/conformance/test_protocol.rs,
// tests/conformance/test_factories.rs, tests/conformance/test_tcp.rs, tests/descriptor.rs,
// tests/net_examples.rs, tests/conformance/test_unix.rs

//! Protocols, factories and transports: Twisted's `twisted.internet.protocol` and the
//! transport interfaces.
//!
//! - [`Protocol`]: one connection's events (`connection_made`, `data_received`,
//!   `connection_lost`, and the half-close pair for protocols that opt in). Protocols run
//!   on the reactor thread and need not be `Send`.
//! - [`Factory`] builds a protocol per connection; [`ClientFactory`] also hears how
//!   each client attempt goes, through a [`Connector`] that can retry. [`for_protocol`]
//!   makes a factory from a closure and [`SharedFactory`] shares one between ports.
//! - [`Transport`]: the `Clone + Send + Sync` handle a protocol writes through, so a
//!   Deferred callback or another thread can write too. Writes are buffered and sent as
//!   one vectored write when the current event returns. [`Producer`]s
//!   ([`ProducerKind::Streaming`] or [`ProducerKind::Pull`]) feed a transport with
//!   backpressure at 64 KiB.
//! - Raw descriptors: [`ReadDescriptor`] and [`WriteDescriptor`] (Twisted's
//!   `IReadDescriptor`/`IWriteDescriptor`), watched by
//!   [`ReactorHandle::add_reader`](crate::reactor::ReactorHandle::add_reader) and
//!   [`ReactorHandle::add_writer`](crate::reactor::ReactorHandle::add_writer).
//! - [`Address`] is where a connection's ends are; a [`ListeningPort`] is a listening
//!   socket.
//! - [`WhenLost`] wraps a protocol so that the end of its connection is a Deferred, which
//!   Tokio code on other threads can await (with
//!   [`ReactorHandle::call_in_reactor`](crate::reactor::ReactorHandle::call_in_reactor) to
//!   listen and connect from there).
//!
//! The reasons a connection ends are in [`crate::error`]. TCP itself is
//! [`ReactorHandle::listen_tcp`](crate::reactor::ReactorHandle::listen_tcp) and
//! [`ReactorHandle::connect_tcp`](crate::reactor::ReactorHandle::connect_tcp), UNIX
//! sockets [`ReactorHandle::listen_unix`](crate::reactor::ReactorHandle::listen_unix) and
//! [`ReactorHandle::connect_unix`](crate::reactor::ReactorHandle::connect_unix); tests drive
//! protocols without sockets through [`crate::testing::StringTransport`].
//!
//! ```
//! use tokio_twisted::protocol::{for_protocol, Address, Factory, Protocol, Transport};
//! use tokio_twisted::testing::StringTransport;
//!
//! #[derive(Default)]
//! struct Upper { transport: Option<Transport> }
//! impl Protocol for Upper {
//!     fn connection_made(&mut self, t: Transport) { self.transport = Some(t); }
//!     fn data_received(&mut self, data: &[u8]) {
//!         let t = self.transport.as_ref().expect("connected");
//!         t.write(&data.to_ascii_uppercase());
//!         if data.contains(&b'.') { t.lose_connection(); }
//!     }
//! }
//!
//! let mut factory = for_protocol(Upper::default);
//! let mut proto = factory.build_protocol(&Address::Unix(None)).unwrap();
//! let wire = StringTransport::new();
//! proto.make_connection(wire.transport());
//! proto.data_received(b"hi.");
//! assert_eq!(wire.value(), b"HI.");
//! assert!(wire.disconnecting());
//! ```
//!
//! # More cores: one reactor per core
//!
//! A reactor runs every protocol on its one thread, so one reactor uses one core. To use
//! more, run several reactors, each on a thread of its own, and give each a listening
//! socket of its own on the same port with [`TcpListenOptions::reuse_port`]
//! (`SO_REUSEPORT`): the system spreads the incoming connections over the sockets, and a
//! connection stays on the reactor that accepted it. Protocols stay single-threaded and
//! lock-free; what they share across reactors must be `Send + Sync` (an `Arc` of atomics or
//! a `Mutex`, a channel), or be reached through another reactor's
//! [`ReactorHandle::call_from_thread`](crate::reactor::ReactorHandle::call_from_thread).
//! `examples/multi_reactor.rs` is a complete program (one reactor per available core,
//! serving echo). The other usual layout, one acceptor handing accepted sockets out to the
//! reactors in turn, needs a reactor to adopt a connected socket (Twisted's
//! `adoptStreamConnection`), which this crate does not offer yet.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use tokio_twisted::protocol::{for_protocol, Protocol, TcpListenOptions};
//! use tokio_twisted::reactor::Reactor;
//!
//! struct Quiet;
//! impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
//!
//! let options = TcpListenOptions::new().interface(Ipv4Addr::LOCALHOST.into()).reuse_port(true);
//! // Two reactors (on two threads in a real server), one port, a socket each.
//! let first = Reactor::builder().without_signal_handlers().build().unwrap();
//! let second = Reactor::builder().without_signal_handlers().build().unwrap();
//! let port = first.listen_tcp_with(0, for_protocol(|| Quiet), options).unwrap().port();
//! let shared = second.listen_tcp_with(port, for_protocol(|| Quiet), options).unwrap();
//! assert_eq!(shared.port(), port);
//! ```

mod address;
mod connector;
mod creator;
#[cfg(unix)]
mod descriptor;
mod driver;
mod dynamic;
mod factory;
mod family;
mod outbox;
mod port;
mod producer;
#[allow(
    clippy::module_inception,
    reason = "the Protocol trait's own file, as Twisted's module"
)]
mod protocol;
mod reconnecting;
mod sending;
mod tcp;
mod tcp_options;
mod transport;
#[cfg(unix)]
mod unix;
mod unix_forward;
mod when_lost;

pub use address::Address;
pub use connector::{Connector, ConnectorState};
pub use creator::{connect_protocol, connect_protocol_unix};
#[cfg(unix)]
pub use descriptor::{
    AddDescriptorError, FileDescriptor, ReadDescriptor, SharedReader, SharedWriter, WriteDescriptor,
};
pub use dynamic::{DynClientFactory, DynFactory, ReactorTcp, ReactorUnix};
pub use factory::{ClientFactory, Factory, ProtocolFactory, SharedFactory, for_protocol};
pub use outbox::ProducerState;
pub use port::ListeningPort;
pub use producer::{Producer, ProducerAlreadyRegistered, ProducerKind};
pub use protocol::Protocol;
pub use reconnecting::{ReconnectingClientFactory, Reconnection};
pub use tcp_options::{TcpConnectOptions, TcpListenOptions};
pub use transport::Transport;
#[cfg(unix)]
pub use unix::{UnixConnectOptions, UnixListenOptions};
pub use when_lost::WhenLost;

#[allow(
    unused_imports,
    reason = "for the UNIX transport, which drives its streams alike"
)]
pub(crate) use driver::{SocketStream, run_connection};
pub(crate) use factory::{do_start, do_stop};
pub(crate) use outbox::TransportShared;
