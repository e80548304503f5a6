//! Framing: Twisted's `twisted.protocols.basic`, as sans-I/O codecs and protocol adapters.
//!
//! Bytes arrive from the network in arbitrary chunks; a framer turns them into messages.
//! This module has Twisted's framers with Twisted's exact rules:
//!
//! | format | codec | Twisted class |
//! |---|---|---|
//! | lines, with a raw mode | [`LineCodec`] | `LineReceiver` |
//! | lines only | [`LineOnlyCodec`] | `LineOnlyReceiver` |
//! | netstrings (`5:hello,`) | [`NetstringCodec`] | `NetstringReceiver` |
//! | big-endian length prefixes | [`IntNCodec`] with [`LengthPrefix`] | `Int32StringReceiver`, `Int16StringReceiver`, `Int8StringReceiver` |
//!
//! Each codec is a state machine over a [`bytes::BytesMut`] that never looks at a byte twice
//! (a megabyte line arriving one byte at a time costs a megabyte of work, not a terabyte),
//! checks every limit before it allocates, and implements tokio-util's
//! [`Decoder`](tokio_util::codec::Decoder) and [`Encoder`](tokio_util::codec::Encoder), so a
//! Tokio program can frame a `TcpStream` with `tokio_util::codec::Framed` and Twisted's rules.
//!
//! [`Protocol`]: crate::protocol::Protocol
//!
//! # Protocols: "subclass `LineReceiver` and override `lineReceived`"
//!
//! A Twisted program subclasses a receiver and overrides its hooks. Here the hooks are a
//! trait, and the base class is split in two: an adapter that is the [`Protocol`] (it owns the
//! buffer and the framing state and calls the hooks), and a small control object each hook
//! receives, which does what Twisted's inherited methods do (`sendLine`, `setRawMode`,
//! `transport`, `pauseProducing`, ...).
//!
//! | implement | wrap in (the `Protocol`) | hooks get | Twisted class |
//! |---|---|---|---|
//! | [`LineReceiver`] | [`LineProtocol`] | [`LineControl`] | `LineReceiver` |
//! | [`LineOnlyReceiver`] | [`LineOnlyProtocol`] | [`LineOnlyControl`] | `LineOnlyReceiver` |
//! | [`NetstringReceiver`] | [`NetstringProtocol`] | [`NetstringControl`] | `NetstringReceiver` |
//! | [`IntNStringReceiver`] | [`IntNProtocol`] | [`IntNControl`] | `Int32StringReceiver`, `Int16StringReceiver`, `Int8StringReceiver` |
//!
//! Twisted's class attributes (`delimiter`, `MAX_LENGTH`, the prefix size) are associated
//! constants of the trait, changeable per connection through the control object. The
//! adapters are built on the codecs above, so they share their rules and their costs.
//! [`FileSender`] streams a reader to a transport as a pull producer.
//!
//! ```
//! use bytes::Bytes;
//! use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
//! use tokio_twisted::protocol::Protocol;
//! use tokio_twisted::testing::StringTransport;
//!
//! /// Twisted's finger server, step 3: every user is unknown.
//! struct Finger;
//!
//! impl LineReceiver for Finger {
//!     fn line_received(&mut self, _user: Bytes, ctl: &mut LineControl<'_>) {
//!         ctl.send_line("No such user");
//!         ctl.transport().lose_connection();
//!     }
//! }
//!
//! // A factory would return `LineProtocol::new(Finger)` for each connection.
//! let wire = StringTransport::new();
//! let mut proto = LineProtocol::new(Finger);
//! proto.make_connection(wire.transport());
//! proto.data_received(b"moshez\r\n");
//! assert_eq!(wire.value(), b"No such user\r\n");
//! assert!(wire.disconnecting());
//! ```
//!
//! # Codecs on their own
//!
//! ```
//! use bytes::BytesMut;
//! use tokio_twisted::basic::NetstringCodec;
//! use tokio_util::codec::Decoder;
//!
//! let mut codec = NetstringCodec::new();
//! let mut buf = BytesMut::new();
//! let mut strings = Vec::new();
//! for chunk in [&b"5:hel"[..], b"lo,3:", b"abc,"] {
//!     buf.extend_from_slice(chunk);
//!     while let Some(s) = codec.decode(&mut buf).unwrap() {
//!         strings.push(s);
//!     }
//! }
//! assert_eq!(strings, ["hello", "abc"]);
//! ```

mod errors;
mod file_sender;
mod intn;
mod intn_codec;
mod intn_control;
mod line_codec;
mod line_control;
mod line_only;
mod line_only_codec;
mod line_receiver;
mod netstring;
mod netstring_codec;

pub use errors::{
    EmptyDelimiterError, IntNCodecError, LengthLimitExceeded, LineCodecError, LineLengthExceeded,
    NetstringCodecError, NetstringParseError, StringTooLongError,
};
pub use file_sender::{FileSender, TransferStoppedError};
pub use intn::{IntNProtocol, IntNStringReceiver};
pub use intn_codec::{IntNCodec, LengthPrefix};
pub use intn_control::IntNControl;
pub use line_codec::{Delimiter, LineCodec};
pub use line_control::LineControl;
pub use line_only::{LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver};
pub use line_only_codec::LineOnlyCodec;
pub use line_receiver::{LineProtocol, LineReceiver};
pub use netstring::{NetstringControl, NetstringProtocol, NetstringReceiver};
pub use netstring_codec::NetstringCodec;
