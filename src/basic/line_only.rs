// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `LineOnlyReceiver`: lines without raw mode or pausing, and its adapter.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::line_codec::Delimiter;
use super::line_only_codec::LineOnlyCodec;
use crate::failure::Failure;
use crate::protocol::{Protocol, Transport};

/// A protocol made only of lines: Twisted's `LineOnlyReceiver`, the lighter sibling of
/// [`LineReceiver`](super::LineReceiver) with no raw mode and no pausing.
///
/// Wrap it in a [`LineOnlyProtocol`]. Its edges are Twisted's:
/// - a partial line longer than `MAX_LENGTH` is reported at once (the delimiter's length is
///   not allowed for);
/// - a complete over-long line is reported alone, and the other complete lines of the same
///   chunk are dropped;
/// - no line is delivered once the transport is disconnecting.
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// struct Shout;
/// impl LineOnlyReceiver for Shout {
///     fn line_received(&mut self, line: Bytes, ctl: &mut LineOnlyControl<'_>) {
///         ctl.send_line(line.to_ascii_uppercase());
///     }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = LineOnlyProtocol::new(Shout);
/// proto.make_connection(wire.transport());
/// proto.data_received(b"hi\r\n");
/// assert_eq!(wire.value(), b"HI\r\n");
/// ```
#[doc(alias = "twisted.protocols.basic.LineOnlyReceiver")]
pub trait LineOnlyReceiver: 'static {
    /// The bytes that end a line (Twisted's `delimiter`).
    const DELIMITER: Delimiter = Delimiter::CRLF;

    /// The longest line accepted (Twisted's `MAX_LENGTH`).
    const MAX_LENGTH: usize = 16_384;

    /// The connection is up: Twisted's `connectionMade`.
    #[doc(alias = "connectionMade")]
    fn connection_made(&mut self, ctl: &mut LineOnlyControl<'_>) {
        let _ = ctl;
    }

    /// A line arrived, without its delimiter: Twisted's `lineReceived`.
    #[doc(alias = "lineReceived")]
    fn line_received(&mut self, line: Bytes, ctl: &mut LineOnlyControl<'_>);

    /// A line is too long: Twisted's `lineLengthExceeded`. `line` is the over-long line, or
    /// everything buffered when the line is not finished yet (its remaining bytes are then
    /// dropped as they arrive, up to its delimiter). The default closes the connection.
    #[doc(alias = "lineLengthExceeded")]
    fn line_length_exceeded(&mut self, line: Bytes, ctl: &mut LineOnlyControl<'_>) {
        let _ = line;
        ctl.transport().lose_connection();
    }

    /// The connection is closed: Twisted's `connectionLost`.
    #[doc(alias = "connectionLost")]
    fn connection_lost(&mut self, reason: Failure) {
        let _ = reason;
    }
}

/// The `LineOnlyReceiver` side of `self`: send lines, reach the transport, change the limits.
///
/// ```
/// # use bytes::Bytes;
/// use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyReceiver};
/// struct Unix;
/// impl LineOnlyReceiver for Unix {
///     fn connection_made(&mut self, ctl: &mut LineOnlyControl<'_>) {
///         ctl.set_delimiter(Delimiter::LF);
///     }
///     fn line_received(&mut self, line: Bytes, ctl: &mut LineOnlyControl<'_>) {
///         ctl.send_line(line);
///     }
/// }
/// ```
pub struct LineOnlyControl<'a> {
    transport: &'a Transport,
    codec: &'a mut LineOnlyCodec,
}

impl LineOnlyControl<'_> {
    /// The connection's transport (Twisted's `self.transport`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineOnlyProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.transport().lose_connection());
    /// assert!(wire.disconnecting());
    /// ```
    pub fn transport(&self) -> &Transport {
        self.transport
    }

    /// Writes `line` and the delimiter without joining them: Twisted's `sendLine`
    /// (`writeSequence((line, delimiter))`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineOnlyProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_line("hi"));
    /// assert_eq!(wire.value(), b"hi\r\n");
    /// ```
    #[doc(alias = "sendLine")]
    pub fn send_line(&self, line: impl Into<Bytes>) {
        let delimiter = Bytes::copy_from_slice(self.codec.delimiter().as_bytes());
        self.transport.write_sequence([line.into(), delimiter]);
    }

    /// The delimiter in use.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineOnlyProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert_eq!(proto.with_control(|_, ctl| ctl.delimiter().clone()), Delimiter::CRLF);
    /// ```
    pub fn delimiter(&self) -> &Delimiter {
        self.codec.delimiter()
    }

    /// Changes the delimiter for this connection.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineOnlyProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| { ctl.set_delimiter(Delimiter::LF); ctl.send_line("x") });
    /// assert_eq!(wire.value(), b"x\n");
    /// ```
    pub fn set_delimiter(&mut self, delimiter: Delimiter) {
        self.codec.set_delimiter(delimiter);
    }

    /// The maximum line length in use.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineOnlyProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert_eq!(proto.with_control(|_, ctl| ctl.max_length()), 16_384);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.codec.max_length()
    }

    /// Changes the maximum line length for this connection.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineOnlyProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.set_max_length(2));
    /// proto.data_received(b"abc");
    /// assert!(wire.disconnecting());
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.codec.set_max_length(max_length);
    }
}

impl fmt::Debug for LineOnlyControl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineOnlyControl")
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

/// A [`LineOnlyReceiver`] as a [`Protocol`].
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// #[derive(Default)]
/// struct Collect(Vec<Bytes>);
/// impl LineOnlyReceiver for Collect {
///     const MAX_LENGTH: usize = 4;
///     fn line_received(&mut self, line: Bytes, _: &mut LineOnlyControl<'_>) { self.0.push(line); }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = LineOnlyProtocol::new(Collect::default());
/// proto.make_connection(wire.transport());
/// proto.data_received(b"ok\r\ntoo long\r\ndropped\r\n");
/// assert_eq!(proto.receiver().0, ["ok"]);
/// assert!(wire.disconnecting());
/// ```
#[doc(alias = "LineOnlyReceiver")]
pub struct LineOnlyProtocol<P> {
    receiver: P,
    codec: LineOnlyCodec,
    buffer: BytesMut,
    transport: Transport,
}

impl<P: LineOnlyReceiver> LineOnlyProtocol<P> {
    /// Wraps `receiver`, with its `DELIMITER` and `MAX_LENGTH`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// struct Quiet;
    /// impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// let _proto = LineOnlyProtocol::new(Quiet);
    /// ```
    pub fn new(receiver: P) -> Self {
        LineOnlyProtocol {
            receiver,
            codec: LineOnlyCodec::new()
                .with_delimiter(P::DELIMITER)
                .with_max_length(P::MAX_LENGTH),
            buffer: BytesMut::new(),
            // Replaced by make_connection; until then writes go nowhere.
            transport: crate::testing::StringTransport::new().transport(),
        }
    }

    /// The wrapped receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// struct Named(&'static str);
    /// impl LineOnlyReceiver for Named { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// assert_eq!(LineOnlyProtocol::new(Named("x")).receiver().0, "x");
    /// ```
    pub fn receiver(&self) -> &P {
        &self.receiver
    }

    /// The wrapped receiver, mutably.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// struct Count(u32);
    /// impl LineOnlyReceiver for Count { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// let mut proto = LineOnlyProtocol::new(Count(0));
    /// proto.receiver_mut().0 = 7;
    /// assert_eq!(proto.into_inner().0, 7);
    /// ```
    pub fn receiver_mut(&mut self) -> &mut P {
        &mut self.receiver
    }

    /// Unwraps the receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// let _quiet: Quiet = LineOnlyProtocol::new(Quiet).into_inner();
    /// ```
    pub fn into_inner(self) -> P {
        self.receiver
    }

    /// Runs `f` with the receiver and its control object (Twisted code calls
    /// `proto.sendLine(...)` directly).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineOnlyReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {} }
    /// let wire = StringTransport::new();
    /// let mut proto = LineOnlyProtocol::new(Quiet);
    /// proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_line("hi"));
    /// assert_eq!(wire.value(), b"hi\r\n");
    /// ```
    pub fn with_control<R>(&mut self, f: impl FnOnce(&mut P, &mut LineOnlyControl<'_>) -> R) -> R {
        f(
            &mut self.receiver,
            &mut LineOnlyControl {
                transport: &self.transport,
                codec: &mut self.codec,
            },
        )
    }
}

impl<P: LineOnlyReceiver> Protocol for LineOnlyProtocol<P> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = transport;
        self.with_control(LineOnlyReceiver::connection_made);
    }

    /// Twisted's `LineOnlyReceiver.dataReceived`: the lines of this chunk, in order, until the
    /// transport is disconnecting or a line is too long.
    fn data_received(&mut self, data: &[u8]) {
        let LineOnlyProtocol {
            receiver,
            codec,
            buffer,
            transport,
        } = self;
        buffer.extend_from_slice(data);
        loop {
            match codec.next_line(buffer) {
                Ok(Some(line)) => {
                    if transport.disconnecting() {
                        // Twisted disregards the rest of the chunk's lines.
                        codec.drop_complete_lines(buffer);
                        return;
                    }
                    receiver.line_received(line, &mut LineOnlyControl { transport, codec });
                }
                Ok(None) => return,
                Err(exceeded) => {
                    let partial = codec.is_discarding();
                    if !partial {
                        codec.drop_complete_lines(buffer);
                        if transport.disconnecting() {
                            return;
                        }
                    }
                    let line = exceeded.into_data();
                    receiver.line_length_exceeded(line, &mut LineOnlyControl { transport, codec });
                    return;
                }
            }
        }
    }

    fn connection_lost(&mut self, reason: Failure) {
        self.receiver.connection_lost(reason);
    }
}

impl<P: fmt::Debug> fmt::Debug for LineOnlyProtocol<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineOnlyProtocol")
            .field("receiver", &self.receiver)
            .field("codec", &self.codec)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}
