// Tests: tests/protocol.rs, tests/conformance/test_protocol.rs

//! `Protocol`: the per-connection event handler.

use std::cell::RefCell;
use std::rc::Rc;

use super::transport::Transport;
use crate::failure::Failure;

/// The events of one connection: Twisted's `IProtocol` (`Protocol`, `BaseProtocol`) and,
/// opted into with [`half_closeable`](Self::half_closeable), `IHalfCloseableProtocol`.
///
/// A protocol lives on the reactor thread and its methods run there, synchronously, one
/// at a time: it needs no locks and need not be `Send`. It keeps the [`Transport`] it is
/// given in [`connection_made`](Self::connection_made) to write and to close.
///
/// The order of events on a connection is `make_connection` (which calls
/// `connection_made`), any number of `data_received`, then `connection_lost` exactly
/// once, with a [`Failure`] holding [`ConnectionDone`](crate::error::ConnectionDone) (a
/// clean close), [`ConnectionLost`](crate::error::ConnectionLost) (a reset, an error, or
/// reactor shutdown) or [`ConnectionAborted`](crate::error::ConnectionAborted) (this side
/// aborted). A panic inside a method closes that connection, with the panic as the reason.
///
/// ```
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::protocol::{Protocol, Transport};
/// use tokio_twisted::testing::StringTransport;
///
/// /// Twisted's Echo.
/// #[derive(Default)]
/// struct Echo { transport: Option<Transport> }
///
/// impl Protocol for Echo {
///     fn connection_made(&mut self, transport: Transport) {
///         self.transport = Some(transport);
///     }
///     fn data_received(&mut self, data: &[u8]) {
///         if let Some(t) = &self.transport { t.write(data); }
///     }
/// }
///
/// let wire = StringTransport::new();
/// let mut echo = Echo::default();
/// echo.make_connection(wire.transport());
/// echo.data_received(b"hello");
/// assert_eq!(wire.value(), b"hello");
/// ```
#[doc(alias = "IProtocol")]
#[doc(alias = "BaseProtocol")]
#[doc(alias = "IHalfCloseableProtocol")]
pub trait Protocol: 'static {
    /// Connects the protocol to its transport: Twisted's `makeConnection`. The default
    /// calls [`connection_made`](Self::connection_made); wrappers override it.
    #[doc(alias = "makeConnection")]
    fn make_connection(&mut self, transport: Transport) {
        self.connection_made(transport);
    }

    /// The connection is up; keep `transport` to write: Twisted's `connectionMade`.
    #[doc(alias = "connectionMade")]
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Some bytes arrived: Twisted's `dataReceived`. They come in arbitrary pieces, so a
    /// protocol buffers until it has a whole message (as the line and length-prefix
    /// receivers do).
    #[doc(alias = "dataReceived")]
    fn data_received(&mut self, data: &[u8]);

    /// The connection is closed, for `reason`: Twisted's `connectionLost`. Called exactly
    /// once; writes from here on are ignored.
    #[doc(alias = "connectionLost")]
    fn connection_lost(&mut self, reason: Failure) {
        let _ = reason;
    }

    /// Whether the protocol handles half-closed connections (Twisted's
    /// `IHalfCloseableProtocol`): then it gets
    /// [`read_connection_lost`](Self::read_connection_lost) when the peer closes its
    /// write side, instead of `connection_lost(ConnectionDone)`.
    fn half_closeable(&self) -> bool {
        false
    }

    /// The peer closed its write side (half-closeable protocols only): Twisted's
    /// `readConnectionLost`. The protocol may still write, and must call
    /// [`lose_connection`](Transport::lose_connection) when done.
    #[doc(alias = "readConnectionLost")]
    fn read_connection_lost(&mut self) {}

    /// This side's write side was closed by
    /// [`lose_write_connection`](Transport::lose_write_connection) (half-closeable
    /// protocols only): Twisted's `writeConnectionLost`.
    #[doc(alias = "writeConnectionLost")]
    fn write_connection_lost(&mut self) {}
}

impl Protocol for Box<dyn Protocol> {
    fn make_connection(&mut self, transport: Transport) {
        (**self).make_connection(transport);
    }
    fn connection_made(&mut self, transport: Transport) {
        (**self).connection_made(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        (**self).data_received(data);
    }
    fn connection_lost(&mut self, reason: Failure) {
        (**self).connection_lost(reason);
    }
    fn half_closeable(&self) -> bool {
        (**self).half_closeable()
    }
    fn read_connection_lost(&mut self) {
        (**self).read_connection_lost();
    }
    fn write_connection_lost(&mut self) {
        (**self).write_connection_lost();
    }
}

/// A shared protocol: the connection drives it while its owner keeps a clone to look at it
/// on the reactor thread. Each event borrows it mutably, so the owner must not hold a
/// borrow across the reactor running.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use tokio_twisted::protocol::{Protocol, Transport};
/// use tokio_twisted::testing::StringTransport;
///
/// #[derive(Default)]
/// struct Count(usize);
/// impl Protocol for Count { fn data_received(&mut self, d: &[u8]) { self.0 += d.len(); } }
///
/// let shared = Rc::new(RefCell::new(Count::default()));
/// let mut driven = Rc::clone(&shared);
/// driven.make_connection(StringTransport::new().transport());
/// driven.data_received(b"abc");
/// assert_eq!(shared.borrow().0, 3);
/// ```
impl<P: Protocol> Protocol for Rc<RefCell<P>> {
    fn make_connection(&mut self, transport: Transport) {
        self.borrow_mut().make_connection(transport);
    }
    fn connection_made(&mut self, transport: Transport) {
        self.borrow_mut().connection_made(transport);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.borrow_mut().data_received(data);
    }
    fn connection_lost(&mut self, reason: Failure) {
        self.borrow_mut().connection_lost(reason);
    }
    fn half_closeable(&self) -> bool {
        self.borrow().half_closeable()
    }
    fn read_connection_lost(&mut self) {
        self.borrow_mut().read_connection_lost();
    }
    fn write_connection_lost(&mut self) {
        self.borrow_mut().write_connection_lost();
    }
}
