// Tests: tests/tokio_net.rs, examples/tokio_net.rs

//! `WhenLost`: a protocol wrapper whose Deferred fires when the connection ends, so code
//! off the reactor thread (a Tokio task) can await a connection's end.

use std::fmt;

use super::protocol::Protocol;
use super::transport::Transport;
use crate::defer::{Deferred, Resolver};
use crate::error::ConnectionDone;
use crate::failure::Failure;

/// Wraps a protocol and fires a Deferred once its `connection_lost` has returned: how a
/// Tokio task (or a Deferred chain) awaits the end of a connection whose protocol lives on
/// the reactor thread.
///
/// The Deferred fires with `()` when the connection closed cleanly
/// ([`ConnectionDone`]), and fails with the reason otherwise
/// ([`ConnectionLost`](crate::error::ConnectionLost),
/// [`ConnectionAborted`](crate::error::ConnectionAborted), a panic in the protocol, ...):
/// what Twisted code does by hand with a Deferred fired from `connectionLost`. Every event
/// goes to the wrapped protocol unchanged, in the same order. `WhenLost<P>` is `Send` when
/// `P` is, so it can be built in a Tokio task and handed to
/// [`ReactorHandle::call_in_reactor`](crate::reactor::ReactorHandle::call_in_reactor).
///
/// ```
/// use tokio_twisted::error::ConnectionLost;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::protocol::{Protocol, WhenLost};
/// use tokio_twisted::testing::{StringTransport, failure_result_of, success_result_of};
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let (mut proto, lost) = WhenLost::new(Quiet);
/// proto.make_connection(StringTransport::new().transport());
/// assert!(!lost.called());
/// proto.connection_lost(Failure::new(tokio_twisted::error::ConnectionDone));
/// success_result_of(lost); // a clean close
///
/// let (mut proto, lost) = WhenLost::new(Quiet);
/// proto.connection_lost(Failure::new(ConnectionLost::new()));
/// assert!(failure_result_of(lost).check::<ConnectionLost>());
/// ```
pub struct WhenLost<P> {
    inner: P,
    lost: Option<Resolver<()>>,
}

impl<P: Protocol> WhenLost<P> {
    /// Wraps `inner`; the Deferred fires when the connection ends.
    ///
    /// ```
    /// use tokio_twisted::protocol::{Protocol, WhenLost};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let (_proto, lost) = WhenLost::new(Quiet);
    /// assert!(!lost.called());
    /// ```
    pub fn new(inner: P) -> (WhenLost<P>, Deferred<()>) {
        let (d, resolver) = Deferred::new();
        (
            WhenLost {
                inner,
                lost: Some(resolver),
            },
            d,
        )
    }

    /// The wrapped protocol.
    ///
    /// ```
    /// use tokio_twisted::protocol::{Protocol, WhenLost};
    ///
    /// struct Named(&'static str);
    /// impl Protocol for Named { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let (proto, _lost) = WhenLost::new(Named("alice"));
    /// assert_eq!(proto.inner().0, "alice");
    /// ```
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The wrapped protocol, mutably.
    ///
    /// ```
    /// use tokio_twisted::protocol::{Protocol, WhenLost};
    ///
    /// struct Count(usize);
    /// impl Protocol for Count { fn data_received(&mut self, d: &[u8]) { self.0 += d.len(); } }
    ///
    /// let (mut proto, _lost) = WhenLost::new(Count(0));
    /// proto.inner_mut().0 = 3;
    /// assert_eq!(proto.inner().0, 3);
    /// ```
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }
}

impl<P: Protocol> Protocol for WhenLost<P> {
    fn make_connection(&mut self, transport: Transport) {
        self.inner.make_connection(transport);
    }

    fn connection_made(&mut self, transport: Transport) {
        self.inner.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.inner.data_received(data);
    }

    fn connection_lost(&mut self, reason: Failure) {
        let outcome = if reason.check::<ConnectionDone>() {
            Ok(())
        } else {
            Err(reason.clone())
        };
        self.inner.connection_lost(reason);
        // After the protocol's own handler, as a Deferred fired from `connectionLost`'s
        // last line would be.
        if let Some(lost) = self.lost.take() {
            let _ = lost.resolve(outcome);
        }
    }

    fn half_closeable(&self) -> bool {
        self.inner.half_closeable()
    }

    fn read_connection_lost(&mut self) {
        self.inner.read_connection_lost();
    }

    fn write_connection_lost(&mut self) {
        self.inner.write_connection_lost();
    }
}

impl<P: fmt::Debug> fmt::Debug for WhenLost<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhenLost")
            .field("inner", &self.inner)
            .field("fired", &self.lost.is_none())
            .finish()
    }
}
