// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `LineControl`: the part of Twisted's `LineReceiver` that a subclass inherits (`sendLine`,
//! `setRawMode`, `clearLineBuffer`, pausing), handed to every hook, and the per-connection
//! state behind it.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::line_codec::{Delimiter, LineCodec};
use crate::protocol::Transport;

/// What Twisted's `LineReceiver` base class keeps for a connection.
#[derive(Debug)]
pub(super) struct LineState {
    pub(super) codec: LineCodec,
    /// Received bytes not yet delivered (Twisted's `_buffer`).
    pub(super) buffer: BytesMut,
    /// `pause_producing` was called and `resume_producing` not yet (Twisted's `paused`).
    pub(super) paused: bool,
    /// `set_line_mode` added bytes or `resume_producing` was called: outside a delivery the
    /// buffer is parsed at once, as Twisted's `setLineMode(extra)` and `resumeProducing()`
    /// call `dataReceived`. Inside one, the running loop does it.
    pub(super) wants_delivery: bool,
}

/// The `LineReceiver` side of `self`, handed to every [`LineReceiver`](super::LineReceiver)
/// method: send lines, switch modes, reach the transport.
///
/// Calls made here while lines are being delivered take effect for the next line, as in
/// Twisted: [`set_raw_mode`](Self::set_raw_mode) sends the rest of the buffer to
/// `raw_data_received`, [`set_line_mode`](Self::set_line_mode)'s `extra` bytes are parsed
/// after what is buffered, and [`pause_producing`](Self::pause_producing) stops delivery
/// after the current line.
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// /// A header line `len N`, then N raw bytes, then lines again.
/// #[derive(Default)]
/// struct Blobs { want: usize, blobs: Vec<Bytes> }
///
/// impl LineReceiver for Blobs {
///     fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
///         if let Some(n) = line.strip_prefix(b"len ") {
///             self.want = std::str::from_utf8(n).unwrap().parse().unwrap();
///             ctl.set_raw_mode();
///         }
///     }
///     fn raw_data_received(&mut self, mut data: Bytes, ctl: &mut LineControl<'_>) {
///         let rest = data.split_off(self.want.min(data.len()));
///         self.want -= data.len();
///         self.blobs.push(data);
///         if self.want == 0 {
///             ctl.set_line_mode(&rest);
///         }
///     }
/// }
///
/// let mut proto = LineProtocol::new(Blobs::default());
/// proto.make_connection(StringTransport::new().transport());
/// proto.data_received(b"len 3\r\nabclen 2\r\nxy");
/// assert_eq!(proto.receiver().blobs, ["abc", "xy"]);
/// ```
pub struct LineControl<'a> {
    pub(super) transport: &'a Transport,
    pub(super) state: &'a mut LineState,
}

impl LineControl<'_> {
    /// The connection's transport (Twisted's `self.transport`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineReceiver};
    /// struct Bye;
    /// impl LineReceiver for Bye {
    ///     fn line_received(&mut self, _: Bytes, ctl: &mut LineControl<'_>) {
    ///         ctl.transport().lose_connection();
    ///     }
    /// }
    /// ```
    pub fn transport(&self) -> &Transport {
        self.transport
    }

    /// Writes `line` and the delimiter: Twisted's `sendLine`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{LineControl, LineReceiver};
    /// struct Echo;
    /// impl LineReceiver for Echo {
    ///     fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
    ///         ctl.send_line(line);
    ///     }
    /// }
    /// ```
    #[doc(alias = "sendLine")]
    pub fn send_line(&self, line: impl AsRef<[u8]>) {
        // One write, as Twisted's `sendLine` (`write(line + delimiter)`).
        self.transport
            .write_joined(&[line.as_ref(), self.state.codec.delimiter().as_bytes()]);
    }

    /// Switches to raw mode: what is buffered, and what arrives later, goes to
    /// `raw_data_received`. Twisted's `setRawMode`.
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
    /// proto.with_control(|_, ctl| ctl.set_raw_mode());
    /// assert!(proto.with_control(|_, ctl| ctl.is_raw_mode()));
    /// ```
    #[doc(alias = "setRawMode")]
    pub fn set_raw_mode(&mut self) {
        self.state.codec.set_raw_mode();
    }

    /// Switches back to line mode, then parses `extra` (usually what `raw_data_received`
    /// did not consume) after whatever is still buffered. Twisted's `setLineMode`.
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
    /// proto.with_control(|_, ctl| { ctl.set_raw_mode(); ctl.set_line_mode(b"") });
    /// assert!(!proto.with_control(|_, ctl| ctl.is_raw_mode()));
    /// ```
    #[doc(alias = "setLineMode")]
    pub fn set_line_mode(&mut self, extra: &[u8]) {
        self.state.codec.set_line_mode();
        if !extra.is_empty() {
            self.state.buffer.extend_from_slice(extra);
            self.state.wants_delivery = true;
        }
    }

    /// Whether the receiver is in raw mode (Twisted's `line_mode == 0`).
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
    /// assert!(!proto.with_control(|_, ctl| ctl.is_raw_mode()));
    /// ```
    #[doc(alias = "line_mode")]
    pub fn is_raw_mode(&self) -> bool {
        self.state.codec.is_raw_mode()
    }

    /// Removes and returns everything buffered and not yet delivered: Twisted's
    /// `clearLineBuffer`.
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
    /// proto.data_received(b"partial");
    /// assert_eq!(proto.with_control(|_, ctl| ctl.clear_line_buffer()), "partial");
    /// ```
    #[doc(alias = "clearLineBuffer")]
    pub fn clear_line_buffer(&mut self) -> Bytes {
        self.state.codec.scanner_mut().reset();
        self.state.buffer.split().freeze()
    }

    /// The delimiter in use.
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
    /// assert_eq!(proto.with_control(|_, ctl| ctl.delimiter().clone()), Delimiter::CRLF);
    /// ```
    pub fn delimiter(&self) -> &Delimiter {
        self.state.codec.delimiter()
    }

    /// Changes the delimiter for this connection (Twisted code assigns `self.delimiter`).
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
    /// proto.with_control(|_, ctl| { ctl.set_delimiter(Delimiter::LF); ctl.send_line("x") });
    /// assert_eq!(wire.value(), b"x\n");
    /// ```
    pub fn set_delimiter(&mut self, delimiter: Delimiter) {
        self.state.codec.set_delimiter(delimiter);
    }

    /// The maximum line length in use.
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
    /// assert_eq!(proto.with_control(|_, ctl| ctl.max_length()), 16_384);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.state.codec.max_length()
    }

    /// Changes the maximum line length for this connection (Twisted code assigns
    /// `self.MAX_LENGTH`).
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
    /// proto.with_control(|_, ctl| ctl.set_max_length(4));
    /// proto.data_received(b"hello\r\n");
    /// assert!(wire.disconnecting());
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.state.codec.set_max_length(max_length);
    }

    /// Stops delivering lines after this one, and pauses the transport's reading: Twisted's
    /// `pauseProducing`.
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
    /// proto.with_control(|_, ctl| ctl.pause_producing());
    /// assert!(proto.is_paused());
    /// ```
    #[doc(alias = "pauseProducing")]
    pub fn pause_producing(&mut self) {
        self.state.paused = true;
        self.transport.pause_producing();
    }

    /// Undoes [`pause_producing`](Self::pause_producing); delivery goes on after the current
    /// line. Twisted's `resumeProducing`.
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
    /// proto.with_control(|_, ctl| { ctl.pause_producing(); ctl.resume_producing() });
    /// assert!(!proto.is_paused());
    /// ```
    #[doc(alias = "resumeProducing")]
    pub fn resume_producing(&mut self) {
        self.state.paused = false;
        self.state.wants_delivery = true;
        self.transport.resume_producing();
    }

    /// Stops delivering lines for good and stops the transport (which closes it): Twisted's
    /// `stopProducing`.
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
    /// proto.with_control(|_, ctl| ctl.stop_producing());
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
    /// # use tokio_twisted::basic::{Delimiter, LineControl, LineProtocol, LineReceiver};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl LineReceiver for Quiet { fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {} }
    /// # let wire = StringTransport::new();
    /// # let mut proto = LineProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert!(!proto.with_control(|_, ctl| ctl.is_paused()));
    /// ```
    pub fn is_paused(&self) -> bool {
        self.state.paused
    }
}

impl fmt::Debug for LineControl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineControl")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
