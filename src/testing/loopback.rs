// Tests: tests/protocol.rs, tests/conformance/test_protocol.rs

//! `Loopback`: a client and a server protocol wired together in memory (Twisted's
//! `twisted.test.iosim` and `twisted.protocols.loopback`).

use std::fmt;
use std::sync::Arc;

use crate::error::{ConnectionAborted, ConnectionDone, ConnectionLost};
use crate::failure::Failure;
use crate::lock::lock;
use crate::protocol::{Address, Protocol, Transport, TransportShared};

/// Two protocols connected through in-memory transports, with no socket and no clock:
/// [`pump`](Self::pump) moves what each side wrote to the other, until nothing is left to
/// move (Twisted's `iosim.connect` + `IOPump.flush`, or `loopback.loopbackAsync`).
///
/// Closing follows the socket rules: once a side has called `lose_connection` and its
/// writes were delivered, both sides see `connection_lost` with
/// [`ConnectionDone`]; a side that called `abort_connection` sees
/// [`ConnectionAborted`] and its peer [`ConnectionLost`]. A side whose transport is
/// paused (`pause_producing`) receives nothing until it resumes. Producers registered on
/// these transports are recorded, not driven.
///
/// ```
/// use tokio_twisted::protocol::{Protocol, Transport};
/// use tokio_twisted::testing::Loopback;
///
/// #[derive(Default)]
/// struct Echo(Option<Transport>);
/// impl Protocol for Echo {
///     fn connection_made(&mut self, t: Transport) { self.0 = Some(t); }
///     fn data_received(&mut self, d: &[u8]) { self.0.as_ref().unwrap().write(d); }
/// }
///
/// #[derive(Default)]
/// struct Ask { t: Option<Transport>, got: Vec<u8> }
/// impl Protocol for Ask {
///     fn connection_made(&mut self, t: Transport) { t.write(b"ping"); self.t = Some(t); }
///     fn data_received(&mut self, d: &[u8]) {
///         self.got.extend_from_slice(d);
///         self.t.as_ref().unwrap().lose_connection();
///     }
/// }
///
/// let mut pair = Loopback::connect(Echo::default(), Ask::default());
/// pair.pump();
/// assert_eq!(pair.client().got, b"ping");
/// assert!(pair.is_closed());
/// ```
#[doc(alias = "iosim")]
#[doc(alias = "loopbackAsync")]
#[doc(alias = "IOPump")]
pub struct Loopback<S, C> {
    server: Side<S>,
    client: Side<C>,
}

struct Side<P> {
    protocol: P,
    shared: Arc<TransportShared>,
    lost: bool,
}

impl<P: Protocol> Side<P> {
    fn new(protocol: P, host: Address, peer: Address) -> Self {
        Side {
            protocol,
            shared: TransportShared::new(peer, host, true),
            lost: false,
        }
    }

    fn transport(&self) -> Transport {
        Transport::from_shared(Arc::clone(&self.shared))
    }

    /// Takes what this side wrote (nothing once its write side is shut).
    fn take_written(&self) -> Vec<u8> {
        let mut outbox = lock(&self.shared.outbox);
        outbox.seal_tail();
        if outbox.aborted {
            // An abort drops what was not sent yet.
            outbox.chunks.clear();
            outbox.len = 0;
            return Vec::new();
        }
        let mut out = Vec::with_capacity(outbox.len);
        for chunk in outbox.chunks.drain(..) {
            out.extend_from_slice(&chunk);
        }
        outbox.len = 0;
        out
    }

    fn reading_paused(&self) -> bool {
        lock(&self.shared.outbox).reading_paused
    }

    fn lose(&mut self, reason: Failure) {
        if self.lost {
            return;
        }
        self.lost = true;
        let producer = {
            let mut outbox = lock(&self.shared.outbox);
            outbox.lost = true;
            outbox.set_disconnecting(&self.shared);
            outbox.producer.take()
        };
        if let Some(mut producer) = producer.and_then(|s| s.producer) {
            producer.stop_producing();
        }
        self.protocol.connection_lost(reason);
    }
}

impl<S: Protocol, C: Protocol> Loopback<S, C> {
    /// Connects `server` and `client`: the server's `make_connection` runs first, then the
    /// client's (as Twisted's `iosim.connect`). Nothing is delivered until
    /// [`pump`](Self::pump).
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let pair = Loopback::connect(Quiet, Quiet);
    /// assert!(!pair.is_closed());
    /// ```
    pub fn connect(server: S, client: C) -> Self {
        let server_addr = Address::Tcp(([127, 0, 0, 1], 80).into());
        let client_addr = Address::Tcp(([127, 0, 0, 1], 54321).into());
        let mut pair = Loopback {
            server: Side::new(server, server_addr.clone(), client_addr.clone()),
            client: Side::new(client, client_addr, server_addr),
        };
        let t = pair.server.transport();
        pair.server.protocol.make_connection(t);
        let t = pair.client.transport();
        pair.client.protocol.make_connection(t);
        pair
    }

    /// Moves data both ways until neither side has anything to deliver, then applies
    /// closes. Returns whether anything happened.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let mut pair = Loopback::connect(Quiet, Quiet);
    /// assert!(!pair.pump()); // nothing was written
    /// ```
    #[doc(alias = "flush")]
    pub fn pump(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            if !self.client.lost && !self.client.reading_paused() {
                let data = self.server.take_written();
                if !data.is_empty() {
                    self.client.protocol.data_received(&data);
                    moved = true;
                }
            }
            if !self.server.lost && !self.server.reading_paused() {
                let data = self.client.take_written();
                if !data.is_empty() {
                    self.server.protocol.data_received(&data);
                    moved = true;
                }
            }
            if !moved {
                moved = self.apply_closes();
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    /// Closes the connection when a side aborted, or asked to lose it with its writes
    /// delivered.
    fn apply_closes(&mut self) -> bool {
        if self.server.lost && self.client.lost {
            return false;
        }
        let (s_abort, s_lose, s_pending) = close_state(&self.server.shared);
        let (c_abort, c_lose, c_pending) = close_state(&self.client.shared);
        if s_abort || c_abort {
            let (here, there) = if s_abort {
                (
                    &mut self.server as &mut dyn LoseSide,
                    &mut self.client as &mut dyn LoseSide,
                )
            } else {
                (
                    &mut self.client as &mut dyn LoseSide,
                    &mut self.server as &mut dyn LoseSide,
                )
            };
            here.lose_with(Failure::new(ConnectionAborted));
            there.lose_with(Failure::new(ConnectionLost::new()));
            return true;
        }
        if (s_lose && !s_pending) || (c_lose && !c_pending) {
            self.server.lose(Failure::new(ConnectionDone));
            self.client.lose(Failure::new(ConnectionDone));
            return true;
        }
        false
    }

    /// The server protocol.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// struct Quiet(u8);
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let mut pair = Loopback::connect(Quiet(1), Quiet(2));
    /// assert_eq!(pair.server().0, 1);
    /// ```
    pub fn server(&mut self) -> &mut S {
        &mut self.server.protocol
    }

    /// The client protocol.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// struct Quiet(u8);
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let mut pair = Loopback::connect(Quiet(1), Quiet(2));
    /// assert_eq!(pair.client().0, 2);
    /// ```
    pub fn client(&mut self) -> &mut C {
        &mut self.client.protocol
    }

    /// The server's transport.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let pair = Loopback::connect(Quiet, Quiet);
    /// assert_eq!(pair.server_transport().host().port(), Some(80));
    /// ```
    pub fn server_transport(&self) -> Transport {
        self.server.transport()
    }

    /// The client's transport.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let pair = Loopback::connect(Quiet, Quiet);
    /// assert_eq!(pair.client_transport().peer().port(), Some(80));
    /// ```
    pub fn client_transport(&self) -> Transport {
        self.client.transport()
    }

    /// Whether both sides have seen `connection_lost`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::Loopback;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let mut pair = Loopback::connect(Quiet, Quiet);
    /// pair.client_transport().abort_connection();
    /// pair.pump();
    /// assert!(pair.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.server.lost && self.client.lost
    }
}

/// (aborted, disconnecting, data still to deliver) of one side.
fn close_state(shared: &TransportShared) -> (bool, bool, bool) {
    let outbox = lock(&shared.outbox);
    (
        outbox.aborted && !outbox.lost,
        outbox.disconnecting && !outbox.lost,
        outbox.len > 0,
    )
}

/// Either side, for closing them in either order.
trait LoseSide {
    fn lose_with(&mut self, reason: Failure);
}

impl<P: Protocol> LoseSide for Side<P> {
    fn lose_with(&mut self, reason: Failure) {
        self.lose(reason);
    }
}

impl<S, C> fmt::Debug for Loopback<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loopback")
            .field("server_lost", &self.server.lost)
            .field("client_lost", &self.client.lost)
            .finish_non_exhaustive()
    }
}
