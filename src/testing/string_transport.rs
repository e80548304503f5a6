// Tests: tests/protocol.rs, tests/conformance/test_protocol.rs

//! `StringTransport`: a transport that records what a protocol writes (Twisted's
//! `twisted.internet.testing.StringTransport`).

use std::fmt;
use std::sync::Arc;

use bytes::BytesMut;

use crate::failure::Failure;
use crate::lock::lock;
use crate::protocol::{Address, Producer, ProducerKind, ProducerState, Protocol, Transport, TransportShared};

/// A transport with no socket: it records writes, closes and producer registrations, so a
/// protocol can be tested without I/O or real time: Twisted's `StringTransport`.
///
/// Hand [`transport`](Self::transport) to the protocol's `make_connection`, feed it data
/// by calling `data_received` directly, and inspect [`value`](Self::value).
/// `lose_connection` and `abort_connection` only set flags here ([`disconnecting`](Self::disconnecting),
/// [`aborted`](Self::aborted)); call [`lose_connection_with`](Self::lose_connection_with)
/// to deliver `connection_lost` too (Twisted's `StringTransportWithDisconnection`).
/// A registered producer is recorded, not driven; the transport's own
/// `pause_producing`/`resume_producing`/`stop_producing` are recorded as
/// [`producer_state`](Self::producer_state).
///
/// ```
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// struct Greeter;
/// impl Protocol for Greeter {
///     fn connection_made(&mut self, t: tokio_twisted::protocol::Transport) {
///         t.write(b"hello\r\n");
///         t.lose_connection();
///     }
///     fn data_received(&mut self, _: &[u8]) {}
/// }
///
/// let wire = StringTransport::new();
/// Greeter.make_connection(wire.transport());
/// assert_eq!(wire.value(), b"hello\r\n");
/// assert!(wire.disconnecting());
/// ```
#[doc(alias = "StringTransportWithDisconnection")]
#[derive(Clone)]
pub struct StringTransport {
    shared: Arc<TransportShared>,
}

impl Default for StringTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl StringTransport {
    /// A transport whose host is `10.0.0.1:12345` and peer `192.168.1.1:54321`
    /// (Twisted's defaults).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// assert_eq!(StringTransport::new().transport().peer().port(), Some(54321));
    /// ```
    pub fn new() -> Self {
        Self::with_addresses(
            Address::Tcp(([10, 0, 0, 1], 12345).into()),
            Address::Tcp(([192, 168, 1, 1], 54321).into()),
        )
    }

    /// A transport with the given host and peer addresses.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// use tokio_twisted::protocol::Address;
    /// let t = StringTransport::with_addresses(Address::Unix(None), Address::Unix(None));
    /// assert_eq!(t.transport().host(), Address::Unix(None));
    /// ```
    pub fn with_addresses(host: Address, peer: Address) -> Self {
        StringTransport {
            shared: TransportShared::new(peer, host, true),
        }
    }

    /// The transport handle to give the protocol.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write(b"x");
    /// assert_eq!(t.value(), b"x");
    /// ```
    pub fn transport(&self) -> Transport {
        Transport::from_shared(Arc::clone(&self.shared))
    }

    /// Everything written so far (since the last [`clear`](Self::clear)): Twisted's
    /// `value()`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write(b"a");
    /// t.transport().write(b"b");
    /// assert_eq!(t.value(), b"ab");
    /// ```
    pub fn value(&self) -> Vec<u8> {
        let mut outbox = lock(&self.shared.outbox);
        outbox.seal_tail();
        let mut all = BytesMut::with_capacity(outbox.len);
        for chunk in &outbox.chunks {
            all.extend_from_slice(chunk);
        }
        all.to_vec()
    }

    /// Forgets what was written: Twisted's `clear()`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write(b"a");
    /// t.clear();
    /// assert!(t.value().is_empty());
    /// ```
    pub fn clear(&self) {
        let mut outbox = lock(&self.shared.outbox);
        outbox.chunks.clear();
        outbox.tail.clear();
        outbox.len = 0;
    }

    /// Whether `lose_connection` (or `abort_connection`) was called.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// assert!(!StringTransport::new().disconnecting());
    /// ```
    pub fn disconnecting(&self) -> bool {
        lock(&self.shared.outbox).disconnecting
    }

    /// Whether `abort_connection` was called.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().abort_connection();
    /// assert!(t.aborted() && t.disconnecting());
    /// ```
    pub fn aborted(&self) -> bool {
        lock(&self.shared.outbox).aborted
    }

    /// Whether `lose_write_connection` was called.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().lose_write_connection();
    /// assert!(t.write_connection_lost());
    /// ```
    pub fn write_connection_lost(&self) -> bool {
        lock(&self.shared.outbox).write_disconnecting
    }

    /// The kind of the registered producer, if any.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// assert!(StringTransport::new().producer_kind().is_none());
    /// ```
    pub fn producer_kind(&self) -> Option<ProducerKind> {
        lock(&self.shared.outbox).producer.as_ref().map(|s| s.kind)
    }

    /// Calls `f` with the registered producer, if any (to simulate what a connection
    /// would do: pause, resume or stop it).
    ///
    /// ```
    /// use tokio_twisted::protocol::{Producer, ProducerKind};
    /// # use tokio_twisted::testing::StringTransport;
    /// struct P(u32);
    /// impl Producer for P { fn resume_producing(&mut self) { self.0 += 1; } fn stop_producing(&mut self) {} }
    /// let t = StringTransport::new();
    /// t.transport().register_producer(P(0), ProducerKind::Pull).unwrap();
    /// assert!(t.with_producer(|p| p.resume_producing()).is_some());
    /// ```
    pub fn with_producer<R>(&self, f: impl FnOnce(&mut dyn Producer) -> R) -> Option<R> {
        let taken = {
            let mut outbox = lock(&self.shared.outbox);
            outbox
                .producer
                .as_mut()
                .and_then(|slot| slot.producer.take().map(|p| (p, slot.generation)))
        };
        let (mut producer, generation) = taken?;
        let result = f(producer.as_mut());
        self.transport().restore_producer(producer, generation);
        Some(result)
    }

    /// What the transport-as-producer calls left it in: Twisted's `producerState`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// use tokio_twisted::protocol::ProducerState;
    /// let t = StringTransport::new();
    /// t.transport().stop_producing();
    /// assert_eq!(t.producer_state(), ProducerState::Stopped);
    /// ```
    pub fn producer_state(&self) -> ProducerState {
        lock(&self.shared.outbox).producer_state
    }

    /// Ends the connection as a socket would: marks it lost (later writes are ignored),
    /// stops a registered producer and calls `protocol.connection_lost(reason)`. Twisted's
    /// `StringTransportWithDisconnection.loseConnection` does this for `ConnectionDone`.
    ///
    /// ```
    /// use tokio_twisted::error::ConnectionDone;
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    ///
    /// #[derive(Default)]
    /// struct P { lost: Option<Failure> }
    /// impl Protocol for P {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn connection_lost(&mut self, reason: Failure) { self.lost = Some(reason); }
    /// }
    /// let t = StringTransport::new();
    /// let mut p = P::default();
    /// p.make_connection(t.transport());
    /// t.lose_connection_with(&mut p, Failure::new(ConnectionDone));
    /// assert!(p.lost.unwrap().check::<ConnectionDone>());
    /// t.transport().write(b"ignored");
    /// assert!(t.value().is_empty());
    /// ```
    pub fn lose_connection_with<P: Protocol + ?Sized>(&self, protocol: &mut P, reason: Failure) {
        let slot = {
            let mut outbox = lock(&self.shared.outbox);
            if outbox.lost {
                return;
            }
            outbox.lost = true;
            outbox.set_disconnecting(&self.shared);
            outbox.producer.take()
        };
        if let Some(mut producer) = slot.and_then(|s| s.producer) {
            producer.stop_producing();
        }
        protocol.connection_lost(reason);
    }
}

impl fmt::Debug for StringTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StringTransport")
            .field("transport", &self.transport())
            .finish()
    }
}
