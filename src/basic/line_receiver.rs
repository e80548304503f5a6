// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `LineReceiver`: the trait a line protocol implements, its control object, and the adapter
//! that makes it a [`Protocol`].

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::line_codec::{Delimiter, LineCodec};
use super::line_control::{LineControl, LineState};
use crate::failure::Failure;
use crate::protocol::{Protocol, Transport};

/// A protocol made of lines, and optionally raw data: what a Twisted program writes as a
/// subclass of `LineReceiver`.
///
/// Implement [`line_received`](Self::line_received) (Twisted's `lineReceived`) and wrap the
/// value in a [`LineProtocol`], which is the [`Protocol`] a factory returns. Every method gets
/// a [`LineControl`]: the part of Twisted's `self` that the base class provides
/// (`sendLine`, `transport`, `setRawMode`, `clearLineBuffer`, `pauseProducing`, ...).
///
/// Twisted's class attributes are associated constants: [`DELIMITER`](Self::DELIMITER)
/// (`\r\n`) and [`MAX_LENGTH`](Self::MAX_LENGTH) (16,384). They can still be changed per
/// connection through [`LineControl::set_delimiter`] and [`LineControl::set_max_length`].
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// /// Answers each line with its length.
/// struct Lengths;
///
/// impl LineReceiver for Lengths {
///     fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
///         if line == "quit" {
///             ctl.transport().lose_connection();
///         } else {
///             ctl.send_line(line.len().to_string());
///         }
///     }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = LineProtocol::new(Lengths);
/// proto.make_connection(wire.transport());
/// proto.data_received(b"hello\r\nhi\r\nquit\r\nignored\r\n");
/// assert_eq!(wire.value(), b"5\r\n2\r\n");
/// assert!(wire.disconnecting());
/// ```
#[doc(alias = "twisted.protocols.basic.LineReceiver")]
pub trait LineReceiver: 'static {
    /// The bytes that end a line (Twisted's `delimiter`): `\r\n` unless overridden.
    const DELIMITER: Delimiter = Delimiter::CRLF;

    /// The longest line accepted, not counting the delimiter (Twisted's `MAX_LENGTH`).
    const MAX_LENGTH: usize = 16_384;

    /// The connection is up: Twisted's `connectionMade`. Lines sent here are written before
    /// any data is read.
    #[doc(alias = "connectionMade")]
    fn connection_made(&mut self, ctl: &mut LineControl<'_>) {
        let _ = ctl;
    }

    /// A line arrived, without its delimiter: Twisted's `lineReceived`.
    ///
    /// Lines stop being delivered once the protocol is paused or has called
    /// `lose_connection`; the rest stay buffered.
    #[doc(alias = "lineReceived")]
    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>);

    /// Raw data arrived while in raw mode: Twisted's `rawDataReceived`.
    ///
    /// A receiver that calls [`LineControl::set_raw_mode`] overrides this. The default
    /// treats raw data as a protocol error, as Twisted's raises `NotImplementedError`: it
    /// logs it and closes the connection.
    #[doc(alias = "rawDataReceived")]
    fn raw_data_received(&mut self, data: Bytes, ctl: &mut LineControl<'_>) {
        tracing::error!(
            bytes = data.len(),
            "raw data received by a LineReceiver that does not implement raw_data_received"
        );
        ctl.transport().lose_connection();
    }

    /// A line is longer than the maximum: Twisted's `lineLengthExceeded`. `data` is the whole
    /// buffer, starting with the over-long line (possibly only its beginning, if it is still
    /// arriving); the buffer is empty afterwards. The default closes the connection.
    #[doc(alias = "lineLengthExceeded")]
    fn line_length_exceeded(&mut self, data: Bytes, ctl: &mut LineControl<'_>) {
        let _ = data;
        ctl.transport().lose_connection();
    }

    /// The connection is closed: Twisted's `connectionLost`.
    #[doc(alias = "connectionLost")]
    fn connection_lost(&mut self, reason: Failure) {
        let _ = reason;
    }
}

/// A [`LineReceiver`] as a [`Protocol`]: buffers incoming bytes and delivers lines (or raw
/// data) with Twisted's rules. Build one per connection in a factory.
///
/// Delivery follows `LineReceiver.dataReceived`:
/// - in line mode each complete line goes to `line_received`; delivery stops while paused
///   and once the transport is disconnecting (no lines after `lose_connection`);
/// - a line longer than the maximum, or `MAX_LENGTH + len(delimiter)` bytes without a
///   delimiter, goes to `line_length_exceeded` with the whole buffer, and this batch ends;
/// - in raw mode everything buffered goes to `raw_data_received` at once;
/// - switching mode or adding bytes from inside a callback takes effect in the same batch,
///   without recursion (Twisted's `_busyReceiving` guard holds by construction: a callback
///   has no way back into `data_received`).
///
/// Each byte is scanned once however the data is chunked, and at most `MAX_LENGTH +
/// len(delimiter)` bytes are kept for an unfinished line.
///
/// A receiver paused from a hook stays paused until something resumes it: a later hook, or
/// code holding the adapter. In Twisted that code holds the protocol object; here a
/// connection owns its protocol, so keep it as `Rc<RefCell<LineProtocol<P>>>` (also a
/// `Protocol`) and call [`resume_producing`](Self::resume_producing) from the reactor thread,
/// for example from a task started with the reactor's `spawn_local`.
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// #[derive(Default)]
/// struct Collect(Vec<Bytes>);
/// impl LineReceiver for Collect {
///     fn line_received(&mut self, line: Bytes, _: &mut LineControl<'_>) { self.0.push(line); }
/// }
///
/// let mut proto = LineProtocol::new(Collect::default());
/// proto.make_connection(StringTransport::new().transport());
/// for chunk in [&b"fir"[..], b"st\r", b"\nsecond\r\n"] {
///     proto.data_received(chunk);
/// }
/// assert_eq!(proto.receiver().0, ["first", "second"]);
/// ```
#[doc(alias = "LineReceiver")]
pub struct LineProtocol<P> {
    receiver: P,
    state: LineState,
    transport: Transport,
}

impl<P: LineReceiver> LineProtocol<P> {
    /// Wraps `receiver`, with its `DELIMITER` and `MAX_LENGTH`, in line mode.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// struct Quiet;
    /// impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// let proto = LineProtocol::new(Quiet);
    /// assert!(!proto.is_paused());
    /// ```
    pub fn new(receiver: P) -> Self {
        LineProtocol {
            receiver,
            state: LineState {
                codec: LineCodec::new()
                    .with_delimiter(P::DELIMITER)
                    .with_max_length(P::MAX_LENGTH),
                buffer: BytesMut::new(),
                paused: false,
                wants_delivery: false,
            },
            // Replaced by make_connection; until then writes go nowhere.
            transport: crate::testing::StringTransport::new().transport(),
        }
    }

    /// The wrapped receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// struct Named(&'static str);
    /// impl LineReceiver for Named { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// assert_eq!(LineProtocol::new(Named("finger")).receiver().0, "finger");
    /// ```
    pub fn receiver(&self) -> &P {
        &self.receiver
    }

    /// The wrapped receiver, mutably.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// struct Count(u32);
    /// impl LineReceiver for Count { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// let mut proto = LineProtocol::new(Count(0));
    /// proto.receiver_mut().0 += 1;
    /// assert_eq!(proto.into_inner().0, 1);
    /// ```
    pub fn receiver_mut(&mut self) -> &mut P {
        &mut self.receiver
    }

    /// Unwraps the receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// struct Quiet;
    /// impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// let _quiet: Quiet = LineProtocol::new(Quiet).into_inner();
    /// ```
    pub fn into_inner(self) -> P {
        self.receiver
    }

    /// Runs `f` with the receiver and its control object: the way to act on a line protocol
    /// from outside its callbacks (Twisted code calls `proto.setRawMode()`,
    /// `proto.sendLine(...)` or `proto.clearLineBuffer()` directly). As in Twisted, buffered
    /// lines are parsed before this returns only if `f` called
    /// [`LineControl::set_line_mode`] with bytes or [`LineControl::resume_producing`].
    ///
    /// ```
    /// # use bytes::Bytes;
    /// use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// use tokio_twisted::protocol::Protocol;
    /// use tokio_twisted::testing::StringTransport;
    ///
    /// struct Quiet;
    /// impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    ///
    /// let wire = StringTransport::new();
    /// let mut proto = LineProtocol::new(Quiet);
    /// proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_line("hello"));
    /// assert_eq!(wire.value(), b"hello\r\n");
    /// ```
    pub fn with_control<R>(&mut self, f: impl FnOnce(&mut P, &mut LineControl<'_>) -> R) -> R {
        let result = f(
            &mut self.receiver,
            &mut LineControl {
                transport: &self.transport,
                state: &mut self.state,
            },
        );
        if self.state.wants_delivery {
            self.deliver();
        }
        result
    }

    /// Pauses delivery and the transport's reading: Twisted's `pauseProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// #[derive(Default)]
    /// struct Collect(Vec<Bytes>);
    /// impl LineReceiver for Collect {
    ///     fn line_received(&mut self, line: Bytes, _: &mut LineControl<'_>) { self.0.push(line); }
    /// }
    /// let mut proto = LineProtocol::new(Collect::default());
    /// proto.make_connection(StringTransport::new().transport());
    /// proto.pause_producing();
    /// proto.data_received(b"a\r\nb\r\n");
    /// assert!(proto.receiver().0.is_empty());
    /// proto.resume_producing();
    /// assert_eq!(proto.receiver().0, ["a", "b"]);
    /// ```
    #[doc(alias = "pauseProducing")]
    pub fn pause_producing(&mut self) {
        self.state.paused = true;
        self.transport.pause_producing();
    }

    /// Resumes the transport's reading and delivers what was buffered while paused:
    /// Twisted's `resumeProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{Delimiter, LineControl, LineProtocol, LineReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.pause_producing();
    /// proto.resume_producing();
    /// assert!(!proto.is_paused());
    /// ```
    #[doc(alias = "resumeProducing")]
    pub fn resume_producing(&mut self) {
        self.state.paused = false;
        self.transport.resume_producing();
        self.deliver();
    }

    /// Stops delivery for good and stops the transport: Twisted's `stopProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// let wire = StringTransport::new();
    /// let mut proto = LineProtocol::new(Quiet);
    /// proto.make_connection(wire.transport());
    /// proto.stop_producing();
    /// assert!(wire.disconnecting());
    /// ```
    #[doc(alias = "stopProducing")]
    pub fn stop_producing(&mut self) {
        self.state.paused = true;
        self.transport.stop_producing();
    }

    /// Whether delivery is paused (Twisted's `paused`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
    /// # struct Quiet;
    /// # impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// assert!(!LineProtocol::new(Quiet).is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.state.paused
    }

    /// Twisted's `dataReceived` loop over what is buffered.
    fn deliver(&mut self) {
        self.deliver_buffered();
        // Whatever asked for delivery was served; bytes a hook added and this batch left
        // unparsed wait for the next data, as in Twisted.
        self.state.wants_delivery = false;
    }

    fn deliver_buffered(&mut self) {
        let LineProtocol {
            receiver,
            state,
            transport,
        } = self;
        while !state.buffer.is_empty() && !state.paused {
            if state.codec.is_raw_mode() {
                state.codec.scanner_mut().reset();
                let data = state.buffer.split().freeze();
                receiver.raw_data_received(data, &mut LineControl { transport, state });
                continue;
            }
            match state.codec.scanner_mut().next_line(&mut state.buffer) {
                Ok(Some(line)) => {
                    receiver.line_received(line, &mut LineControl { transport, state });
                    if transport.disconnecting() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(exceeded) => {
                    let data = exceeded.into_data();
                    receiver.line_length_exceeded(data, &mut LineControl { transport, state });
                    return;
                }
            }
        }
    }
}

impl<P: LineReceiver> Protocol for LineProtocol<P> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = transport;
        self.with_control(LineReceiver::connection_made);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.state.buffer.extend_from_slice(data);
        self.deliver();
    }

    fn connection_lost(&mut self, reason: Failure) {
        self.receiver.connection_lost(reason);
    }
}

impl<P: fmt::Debug> fmt::Debug for LineProtocol<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineProtocol")
            .field("receiver", &self.receiver)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
