// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `NetstringReceiver`: the trait a netstring protocol implements, and its adapter.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::errors::NetstringParseError;
use super::netstring_codec::{NetstringCodec, encode_netstring};
use crate::failure::Failure;
use crate::protocol::{Protocol, Transport};

/// A protocol made of netstrings (`5:hello,`): what a Twisted program writes as a subclass
/// of `NetstringReceiver`.
///
/// Wrap it in a [`NetstringProtocol`]. A peer that breaks the format in any way (see
/// [`NetstringParseError`]) has its connection closed, and nothing it sends afterwards is
/// delivered; [`NetstringControl::broken_peer`] and [`NetstringProtocol::broken_peer`] say
/// which rule it broke. As in Twisted, strings that arrived in the same chunk before a
/// `lose_connection` are still delivered.
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// struct Echo;
/// impl NetstringReceiver for Echo {
///     fn string_received(&mut self, string: Bytes, ctl: &mut NetstringControl<'_>) {
///         ctl.send_string(&string);
///     }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = NetstringProtocol::new(Echo);
/// proto.make_connection(wire.transport());
/// proto.data_received(b"5:hello,");
/// assert_eq!(wire.value(), b"5:hello,");
/// proto.data_received(b"05:hello,");
/// assert!(wire.disconnecting());
/// ```
#[doc(alias = "twisted.protocols.basic.NetstringReceiver")]
pub trait NetstringReceiver: 'static {
    /// The longest netstring accepted (Twisted's `MAX_LENGTH`).
    const MAX_LENGTH: usize = 99_999;

    /// The connection is up: Twisted's `connectionMade`.
    #[doc(alias = "connectionMade")]
    fn connection_made(&mut self, ctl: &mut NetstringControl<'_>) {
        let _ = ctl;
    }

    /// A complete netstring arrived; `string` is its data: Twisted's `stringReceived`.
    #[doc(alias = "stringReceived")]
    fn string_received(&mut self, string: Bytes, ctl: &mut NetstringControl<'_>);

    /// The connection is closed: Twisted's `connectionLost`. After a parse error the reason
    /// is the transport's (a clean close); the parse error itself is
    /// [`NetstringProtocol::broken_peer`].
    #[doc(alias = "connectionLost")]
    fn connection_lost(&mut self, reason: Failure) {
        let _ = reason;
    }
}

/// The `NetstringReceiver` side of `self`: send netstrings, reach the transport.
///
/// ```
/// # use bytes::Bytes;
/// use tokio_twisted::basic::{NetstringControl, NetstringReceiver};
/// struct Hello;
/// impl NetstringReceiver for Hello {
///     fn connection_made(&mut self, ctl: &mut NetstringControl<'_>) {
///         ctl.send_string(b"hello");
///     }
///     fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {}
/// }
/// ```
pub struct NetstringControl<'a> {
    transport: &'a Transport,
    codec: &'a mut NetstringCodec,
}

impl NetstringControl<'_> {
    /// The connection's transport (Twisted's `self.transport`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = NetstringProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.transport().lose_connection());
    /// assert!(wire.disconnecting());
    /// ```
    pub fn transport(&self) -> &Transport {
        self.transport
    }

    /// Writes `string` as a netstring: Twisted's `sendString`. Its length is not checked
    /// against the maximum, as Twisted does not check it.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = NetstringProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_string("hello"));
    /// assert_eq!(wire.value(), b"5:hello,");
    /// ```
    #[doc(alias = "sendString")]
    pub fn send_string(&self, string: impl AsRef<[u8]>) {
        let string = string.as_ref();
        let mut out = BytesMut::with_capacity(string.len() + 24);
        encode_netstring(string, &mut out);
        self.transport.write_bytes(out.freeze());
    }

    /// The maximum netstring length in use.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = NetstringProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert_eq!(proto.with_control(|_, ctl| ctl.max_length()), 99_999);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.codec.max_length()
    }

    /// Changes the maximum for this connection (Twisted code assigns `self.MAX_LENGTH`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = NetstringProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.set_max_length(2));
    /// proto.data_received(b"3:");
    /// assert!(wire.disconnecting());
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.codec.set_max_length(max_length);
    }

    /// The error that broke the connection, if any (Twisted's `brokenPeer`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = NetstringProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert_eq!(proto.with_control(|_, ctl| ctl.broken_peer()), None);
    /// ```
    #[doc(alias = "brokenPeer")]
    pub fn broken_peer(&self) -> Option<NetstringParseError> {
        self.codec.broken_peer()
    }
}

impl fmt::Debug for NetstringControl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetstringControl")
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

/// A [`NetstringReceiver`] as a [`Protocol`].
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{
///     NetstringControl, NetstringParseError, NetstringProtocol, NetstringReceiver,
/// };
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// #[derive(Default)]
/// struct Collect(Vec<Bytes>);
/// impl NetstringReceiver for Collect {
///     fn string_received(&mut self, s: Bytes, _: &mut NetstringControl<'_>) { self.0.push(s); }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = NetstringProtocol::new(Collect::default());
/// proto.make_connection(wire.transport());
/// for chunk in [&b"3:a"[..], b"bc,0:,2:ab"] {
///     proto.data_received(chunk);
/// }
/// assert_eq!(proto.receiver().0, ["abc", ""]);
/// proto.data_received(b"X");
/// assert_eq!(proto.broken_peer(), Some(NetstringParseError::MissingComma));
/// assert!(wire.disconnecting());
/// ```
#[doc(alias = "NetstringReceiver")]
pub struct NetstringProtocol<P> {
    receiver: P,
    codec: NetstringCodec,
    buffer: BytesMut,
    transport: Transport,
}

impl<P: NetstringReceiver> NetstringProtocol<P> {
    /// Wraps `receiver`, with its `MAX_LENGTH`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// struct Quiet;
    /// impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// assert_eq!(NetstringProtocol::new(Quiet).broken_peer(), None);
    /// ```
    pub fn new(receiver: P) -> Self {
        NetstringProtocol {
            receiver,
            codec: NetstringCodec::new().with_max_length(P::MAX_LENGTH),
            buffer: BytesMut::new(),
            // Replaced by make_connection; until then writes go nowhere.
            transport: crate::testing::StringTransport::new().transport(),
        }
    }

    /// The wrapped receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// struct Named(&'static str);
    /// impl NetstringReceiver for Named { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// assert_eq!(NetstringProtocol::new(Named("x")).receiver().0, "x");
    /// ```
    pub fn receiver(&self) -> &P {
        &self.receiver
    }

    /// The wrapped receiver, mutably.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// struct Count(u32);
    /// impl NetstringReceiver for Count { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// let mut proto = NetstringProtocol::new(Count(0));
    /// proto.receiver_mut().0 = 2;
    /// assert_eq!(proto.into_inner().0, 2);
    /// ```
    pub fn receiver_mut(&mut self) -> &mut P {
        &mut self.receiver
    }

    /// Unwraps the receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// let _quiet: Quiet = NetstringProtocol::new(Quiet).into_inner();
    /// ```
    pub fn into_inner(self) -> P {
        self.receiver
    }

    /// The error that broke the connection, if any (Twisted's `brokenPeer`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringParseError, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// let mut proto = NetstringProtocol::new(Quiet);
    /// proto.make_connection(StringTransport::new().transport());
    /// proto.data_received(b":");
    /// assert_eq!(proto.broken_peer(), Some(NetstringParseError::MissingLength));
    /// ```
    #[doc(alias = "brokenPeer")]
    pub fn broken_peer(&self) -> Option<NetstringParseError> {
        self.codec.broken_peer()
    }

    /// Runs `f` with the receiver and its control object (Twisted code calls
    /// `proto.sendString(...)` directly).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{NetstringControl, NetstringProtocol, NetstringReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl NetstringReceiver for Quiet { fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {} }
    /// let wire = StringTransport::new();
    /// let mut proto = NetstringProtocol::new(Quiet);
    /// proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_string("abc"));
    /// assert_eq!(wire.value(), b"3:abc,");
    /// ```
    pub fn with_control<R>(&mut self, f: impl FnOnce(&mut P, &mut NetstringControl<'_>) -> R) -> R {
        f(
            &mut self.receiver,
            &mut NetstringControl {
                transport: &self.transport,
                codec: &mut self.codec,
            },
        )
    }
}

impl<P: NetstringReceiver> Protocol for NetstringProtocol<P> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = transport;
        self.with_control(NetstringReceiver::connection_made);
    }

    fn data_received(&mut self, data: &[u8]) {
        let NetstringProtocol {
            receiver,
            codec,
            buffer,
            transport,
        } = self;
        if codec.broken_peer().is_some() {
            // Twisted re-parses and fails again; the result is the same without buffering.
            return;
        }
        buffer.extend_from_slice(data);
        loop {
            match codec.next_string(buffer) {
                Ok(Some(string)) => {
                    receiver.string_received(string, &mut NetstringControl { transport, codec });
                }
                Ok(None) => return,
                Err(error) => {
                    tracing::debug!(%error, "closing the connection of a broken netstring peer");
                    buffer.clear();
                    transport.lose_connection();
                    return;
                }
            }
        }
    }

    fn connection_lost(&mut self, reason: Failure) {
        self.receiver.connection_lost(reason);
    }
}

impl<P: fmt::Debug> fmt::Debug for NetstringProtocol<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetstringProtocol")
            .field("receiver", &self.receiver)
            .field("codec", &self.codec)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}
