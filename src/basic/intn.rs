// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `IntNStringReceiver`: length-prefixed strings (`Int32StringReceiver` and its Int16/Int8
//! siblings), the trait and its adapter.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::intn_codec::{IntNCodec, LengthPrefix};
use super::intn_control::{IntNControl, IntNState};
use crate::failure::Failure;
use crate::protocol::{Protocol, Transport};

/// A protocol made of length-prefixed strings: what a Twisted program writes as a subclass
/// of `Int32StringReceiver`, `Int16StringReceiver` or `Int8StringReceiver`.
///
/// [`PREFIX`](Self::PREFIX) chooses the subclass; wrap the value in an [`IntNProtocol`].
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// struct Echo;
/// impl IntNStringReceiver for Echo {
///     const PREFIX: LengthPrefix = LengthPrefix::Int32;
///     fn string_received(&mut self, string: Bytes, ctl: &mut IntNControl<'_>) {
///         ctl.send_string(&string).expect("what fits in, fits out");
///     }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = IntNProtocol::new(Echo);
/// proto.make_connection(wire.transport());
/// proto.data_received(b"\x00\x00\x00\x04ubar");
/// assert_eq!(wire.value(), b"\x00\x00\x00\x04ubar");
/// ```
#[doc(
    alias = "twisted.protocols.basic.IntNStringReceiver",
    alias = "Int32StringReceiver",
    alias = "Int16StringReceiver",
    alias = "Int8StringReceiver"
)]
pub trait IntNStringReceiver: 'static {
    /// The size of the length prefix (Twisted's `structFormat`/`prefixLength`).
    const PREFIX: LengthPrefix;

    /// The longest string accepted (Twisted's `MAX_LENGTH`).
    const MAX_LENGTH: usize = 99_999;

    /// The connection is up: Twisted's `connectionMade`.
    #[doc(alias = "connectionMade")]
    fn connection_made(&mut self, ctl: &mut IntNControl<'_>) {
        let _ = ctl;
    }

    /// A complete string arrived: Twisted's `stringReceived`. Not called while paused.
    #[doc(alias = "stringReceived")]
    fn string_received(&mut self, string: Bytes, ctl: &mut IntNControl<'_>);

    /// A prefix announced `length` bytes, more than the maximum: Twisted's
    /// `lengthLimitExceeded`. Nothing more is delivered on this connection. The default
    /// closes the connection.
    #[doc(alias = "lengthLimitExceeded")]
    fn length_limit_exceeded(&mut self, length: u64, ctl: &mut IntNControl<'_>) {
        let _ = length;
        ctl.transport().lose_connection();
    }

    /// The connection is closed: Twisted's `connectionLost`.
    #[doc(alias = "connectionLost")]
    fn connection_lost(&mut self, reason: Failure) {
        let _ = reason;
    }
}

/// An [`IntNStringReceiver`] as a [`Protocol`].
///
/// Delivery follows `IntNStringReceiver.dataReceived`: each complete frame goes to
/// `string_received` unless paused; a prefix over the maximum goes to
/// `length_limit_exceeded` (checked before any memory is set aside for the frame) and ends
/// delivery on this connection. Twisted keeps appending what arrives afterwards and
/// reports the same prefix again for each chunk; this adapter reports it again too but
/// drops the bytes, so memory stays bounded.
///
/// ```
/// use bytes::Bytes;
/// use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
/// use tokio_twisted::protocol::Protocol;
/// use tokio_twisted::testing::StringTransport;
///
/// #[derive(Default)]
/// struct Collect(Vec<Bytes>);
/// impl IntNStringReceiver for Collect {
///     const PREFIX: LengthPrefix = LengthPrefix::Int8;
///     const MAX_LENGTH: usize = 10;
///     fn string_received(&mut self, s: Bytes, _: &mut IntNControl<'_>) { self.0.push(s); }
/// }
///
/// let wire = StringTransport::new();
/// let mut proto = IntNProtocol::new(Collect::default());
/// proto.make_connection(wire.transport());
/// proto.data_received(b"\x03foo\x00\x0bxxxxxxxxxxx");
/// assert_eq!(proto.receiver().0, ["foo", ""]);
/// assert!(wire.disconnecting());
/// ```
#[doc(
    alias = "Int32StringReceiver",
    alias = "Int16StringReceiver",
    alias = "Int8StringReceiver"
)]
pub struct IntNProtocol<P> {
    receiver: P,
    state: IntNState,
    transport: Transport,
}

impl<P: IntNStringReceiver> IntNProtocol<P> {
    /// Wraps `receiver`, with its `PREFIX` and `MAX_LENGTH`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// struct Quiet;
    /// impl IntNStringReceiver for Quiet {
    ///     const PREFIX: LengthPrefix = LengthPrefix::Int32;
    ///     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// }
    /// assert!(!IntNProtocol::new(Quiet).is_paused());
    /// ```
    pub fn new(receiver: P) -> Self {
        IntNProtocol {
            receiver,
            state: IntNState {
                codec: IntNCodec::new(P::PREFIX).with_max_length(P::MAX_LENGTH),
                buffer: BytesMut::new(),
                paused: false,
            },
            // Replaced by make_connection; until then writes go nowhere.
            transport: crate::testing::StringTransport::new().transport(),
        }
    }

    /// The wrapped receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// struct Named(&'static str);
    /// impl IntNStringReceiver for Named {
    ///     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    ///     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// }
    /// assert_eq!(IntNProtocol::new(Named("x")).receiver().0, "x");
    /// ```
    pub fn receiver(&self) -> &P {
        &self.receiver
    }

    /// The wrapped receiver, mutably.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// struct Count(u32);
    /// impl IntNStringReceiver for Count {
    ///     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    ///     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// }
    /// let mut proto = IntNProtocol::new(Count(0));
    /// proto.receiver_mut().0 = 3;
    /// assert_eq!(proto.into_inner().0, 3);
    /// ```
    pub fn receiver_mut(&mut self) -> &mut P {
        &mut self.receiver
    }

    /// Unwraps the receiver.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// let _quiet: Quiet = IntNProtocol::new(Quiet).into_inner();
    /// ```
    pub fn into_inner(self) -> P {
        self.receiver
    }

    /// Runs `f` with the receiver and its control object (Twisted code calls
    /// `proto.sendString(...)` or sets `proto.recvd` directly). Bytes put back with
    /// [`IntNControl::set_recvd`] are parsed when more data arrives or on
    /// [`resume_producing`](Self::resume_producing), as in Twisted.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int16;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// let wire = StringTransport::new();
    /// let mut proto = IntNProtocol::new(Quiet);
    /// proto.make_connection(wire.transport());
    /// proto.with_control(|_, ctl| ctl.send_string("foo")).unwrap();
    /// assert_eq!(wire.value(), b"\x00\x03foo");
    /// assert!(proto.with_control(|_, ctl| ctl.send_string(vec![0; 65_536])).is_err());
    /// ```
    pub fn with_control<R>(&mut self, f: impl FnOnce(&mut P, &mut IntNControl<'_>) -> R) -> R {
        f(
            &mut self.receiver,
            &mut IntNControl {
                transport: &self.transport,
                state: &mut self.state,
            },
        )
    }

    /// Pauses delivery and the transport's reading: Twisted's `pauseProducing`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// #[derive(Default)]
    /// struct Collect(Vec<Bytes>);
    /// impl IntNStringReceiver for Collect {
    ///     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    ///     fn string_received(&mut self, s: Bytes, _: &mut IntNControl<'_>) { self.0.push(s); }
    /// }
    /// let mut proto = IntNProtocol::new(Collect::default());
    /// proto.make_connection(StringTransport::new().transport());
    /// proto.pause_producing();
    /// proto.data_received(b"\x01a");
    /// assert!(proto.receiver().0.is_empty());
    /// proto.resume_producing();
    /// assert_eq!(proto.receiver().0, ["a"]);
    /// ```
    #[doc(alias = "pauseProducing")]
    pub fn pause_producing(&mut self) {
        self.state.paused = true;
        self.transport.pause_producing();
    }

    /// Resumes reading and delivers what was buffered: Twisted's `resumeProducing`.
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
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # use tokio_twisted::protocol::Protocol;
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// let wire = StringTransport::new();
    /// let mut proto = IntNProtocol::new(Quiet);
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
    /// # use tokio_twisted::basic::{IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix};
    /// # struct Quiet;
    /// # impl IntNStringReceiver for Quiet {
    /// #     const PREFIX: LengthPrefix = LengthPrefix::Int8;
    /// #     fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    /// # }
    /// assert!(!IntNProtocol::new(Quiet).is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.state.paused
    }

    /// Twisted's `dataReceived` loop over what is buffered.
    fn deliver(&mut self) {
        let IntNProtocol {
            receiver,
            state,
            transport,
        } = self;
        while !state.paused {
            match state.codec.next_string(&mut state.buffer) {
                Ok(Some(string)) => {
                    receiver.string_received(string, &mut IntNControl { transport, state });
                }
                Ok(None) => return,
                Err(exceeded) => {
                    let length = exceeded.length();
                    receiver.length_limit_exceeded(length, &mut IntNControl { transport, state });
                    return;
                }
            }
        }
    }
}

impl<P: IntNStringReceiver> Protocol for IntNProtocol<P> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = transport;
        self.with_control(IntNStringReceiver::connection_made);
    }

    fn data_received(&mut self, data: &[u8]) {
        if !self.state.codec.exceeded() {
            self.state.buffer.extend_from_slice(data);
        }
        self.deliver();
    }

    fn connection_lost(&mut self, reason: Failure) {
        self.receiver.connection_lost(reason);
    }
}

impl<P: fmt::Debug> fmt::Debug for IntNProtocol<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntNProtocol")
            .field("receiver", &self.receiver)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
