// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `IntNControl`: the part of Twisted's `IntNStringReceiver` that a subclass inherits
//! (`sendString`, `recvd`, pausing), handed to every hook, and the state behind it.

use std::fmt;

use bytes::BytesMut;

use super::errors::StringTooLongError;
use super::intn_codec::IntNCodec;
use crate::protocol::Transport;

/// What Twisted's `IntNStringReceiver` keeps for a connection.
#[derive(Debug)]
pub(super) struct IntNState {
    pub(super) codec: IntNCodec,
    /// Received bytes not yet delivered (Twisted's `_unprocessed`, seen as `recvd`).
    pub(super) buffer: BytesMut,
    pub(super) paused: bool,
}

/// The `IntNStringReceiver` side of `self`: send strings, pause, reach the transport.
///
/// ```
/// # use bytes::Bytes;
/// use tokio_twisted::basic::{IntNControl, IntNStringReceiver, LengthPrefix};
/// struct OneAtATime;
/// impl IntNStringReceiver for OneAtATime {
///     const PREFIX: LengthPrefix = LengthPrefix::Int16;
///     fn string_received(&mut self, _: Bytes, ctl: &mut IntNControl<'_>) {
///         ctl.pause_producing(); // resumed by whoever owns the protocol
///     }
/// }
/// ```
pub struct IntNControl<'a> {
    pub(super) transport: &'a Transport,
    pub(super) state: &'a mut IntNState,
}

impl IntNControl<'_> {
    /// The connection's transport (Twisted's `self.transport`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.transport().lose_connection());
    /// assert!(wire.disconnecting());
    /// ```
    pub fn transport(&self) -> &Transport {
        self.transport
    }

    /// Writes `string` with its length prefix: Twisted's `sendString`.
    ///
    /// # Errors
    ///
    /// [`StringTooLongError`] (and nothing is written) if the string does not fit the
    /// prefix: 256 bytes or more with `Int8`, 65,536 or more with `Int16`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_string("abc")).unwrap();
    /// assert_eq!(wire.value(), b"\x03abc");
    /// assert!(proto.with_control(|_, ctl| ctl.send_string([0; 256])).is_err());
    /// ```
    #[doc(alias = "sendString")]
    pub fn send_string(&self, string: impl AsRef<[u8]>) -> Result<(), StringTooLongError> {
        let string = string.as_ref();
        let prefix = self.state.codec.prefix();
        let mut out = BytesMut::new();
        IntNCodec::encode_string(prefix, string, &mut out)?;
        self.transport.write_bytes(out.freeze());
        Ok(())
    }

    /// The maximum string length in use.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert_eq!(proto.with_control(|_, ctl| ctl.max_length()), 99_999);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.state.codec.max_length()
    }

    /// Changes the maximum for this connection (Twisted code assigns `self.MAX_LENGTH`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.set_max_length(2));
    /// proto.data_received(b"\x03");
    /// assert!(wire.disconnecting());
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.state.codec.set_max_length(max_length);
    }

    /// The bytes received and not yet delivered, from the start of the next prefix:
    /// Twisted's `recvd`. Inside `length_limit_exceeded` they start with the offending
    /// prefix.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.data_received(b"\x05ab");
    /// assert_eq!(proto.with_control(|_, ctl| ctl.recvd().to_vec()), b"\x05ab");
    /// ```
    pub fn recvd(&self) -> &[u8] {
        &self.state.buffer
    }

    /// Replaces the undelivered bytes: parsing goes on from `data` (Twisted code assigns
    /// `self.recvd`).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.data_received(b"\x05ab");
    /// proto.with_control(|_, ctl| ctl.set_recvd(b""));
    /// assert!(proto.with_control(|_, ctl| ctl.recvd().is_empty()));
    /// ```
    pub fn set_recvd(&mut self, data: &[u8]) {
        self.state.buffer.clear();
        self.state.buffer.extend_from_slice(data);
        self.state.codec.reset();
    }

    /// Stops delivering strings after this one and pauses the transport's reading:
    /// Twisted's `pauseProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.pause_producing());
    /// assert!(proto.is_paused());
    /// ```
    #[doc(alias = "pauseProducing")]
    pub fn pause_producing(&mut self) {
        self.state.paused = true;
        self.transport.pause_producing();
    }

    /// Undoes [`pause_producing`](Self::pause_producing): Twisted's `resumeProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| { ctl.pause_producing(); ctl.resume_producing() });
    /// assert!(!proto.is_paused());
    /// ```
    #[doc(alias = "resumeProducing")]
    pub fn resume_producing(&mut self) {
        self.state.paused = false;
        self.transport.resume_producing();
    }

    /// Stops delivery for good and stops the transport: Twisted's `stopProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
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
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// # let wire = StringTransport::new();
    /// # let mut proto = IntNProtocol::new(Quiet);
    /// # proto.make_connection(wire.transport());
    /// assert!(!proto.with_control(|_, ctl| ctl.is_paused()));
    /// ```
    pub fn is_paused(&self) -> bool {
        self.state.paused
    }
}

impl fmt::Debug for IntNControl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntNControl")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
