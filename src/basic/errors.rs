// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! The errors of the framers: what a peer did wrong, or what cannot be sent.

use std::io;

use bytes::Bytes;

/// A line grew past the receiver's `MAX_LENGTH`: what `lineLengthExceeded` is told.
///
/// [`data`](Self::data) holds the bytes the receiver gave up on: for
/// [`LineCodec`](super::LineCodec) and [`LineProtocol`](super::LineProtocol), the whole
/// buffer, starting with the over-long line (Twisted passes the same bytes to
/// `lineLengthExceeded`); for [`LineOnlyCodec`](super::LineOnlyCodec), the over-long line.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{LineCodec, LineCodecError};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = LineCodec::new().with_max_length(4);
/// let mut buf = BytesMut::from(&b"hello\r\n"[..]);
/// match codec.decode(&mut buf) {
///     Err(LineCodecError::LineLengthExceeded(e)) => {
///         assert_eq!(e.max_length(), 4);
///         assert_eq!(&e.data()[..], b"hello\r\n");
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[doc(alias = "lineLengthExceeded")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line length exceeded the maximum of {max_length} bytes")]
pub struct LineLengthExceeded {
    pub(crate) data: Bytes,
    pub(crate) max_length: usize,
}

impl LineLengthExceeded {
    /// The bytes the receiver gave up on, starting with the over-long line.
    ///
    /// ```
    /// let e = tokio_twisted::basic::LineCodec::new().with_max_length(1);
    /// # use tokio_util::codec::Decoder;
    /// # let mut e = e;
    /// let err = e.decode(&mut bytes::BytesMut::from(&b"abc"[..])).unwrap_err();
    /// assert!(matches!(err, tokio_twisted::basic::LineCodecError::LineLengthExceeded(x) if x.data() == "abc"));
    /// ```
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// Consumes the error and returns [`data`](Self::data).
    ///
    /// ```
    /// # use tokio_util::codec::Decoder;
    /// let mut codec = tokio_twisted::basic::LineCodec::new().with_max_length(1);
    /// let err = codec.decode(&mut bytes::BytesMut::from(&b"abc"[..])).unwrap_err();
    /// if let tokio_twisted::basic::LineCodecError::LineLengthExceeded(e) = err {
    ///     assert_eq!(e.into_data(), "abc");
    /// }
    /// ```
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// The limit that was exceeded (the receiver's `MAX_LENGTH`).
    ///
    /// ```
    /// # use tokio_util::codec::Decoder;
    /// let mut codec = tokio_twisted::basic::LineCodec::new().with_max_length(1);
    /// let err = codec.decode(&mut bytes::BytesMut::from(&b"abc"[..])).unwrap_err();
    /// assert!(matches!(err, tokio_twisted::basic::LineCodecError::LineLengthExceeded(e) if e.max_length() == 1));
    /// ```
    pub fn max_length(&self) -> usize {
        self.max_length
    }
}

/// Incoming data is not a valid netstring: Twisted's `NetstringParseError`.
///
/// A netstring is `<length>:<data>,` where the length is decimal without leading zeros. Each
/// variant is one of the ways a peer can break that rule; every one of them ends the
/// stream.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{NetstringCodec, NetstringCodecError, NetstringParseError};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = NetstringCodec::new();
/// let mut buf = BytesMut::from(&b"3:abcd"[..]);
/// assert!(matches!(
///     codec.decode(&mut buf),
///     Err(NetstringCodecError::Parse(NetstringParseError::MissingComma))
/// ));
/// ```
#[doc(alias = "twisted.protocols.basic.NetstringParseError")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetstringParseError {
    /// The netstring does not start with a length: a byte other than a digit or `:`, a
    /// `:` with no digits before it, or a leading zero followed by another digit.
    #[error("the netstring does not start with a length specification")]
    MissingLength,
    /// The announced length is larger than the receiver's `MAX_LENGTH`. Detected while the
    /// digits arrive, before any of the payload is buffered.
    #[error("the netstring is longer than the maximum of {max_length} bytes")]
    TooLong {
        /// The receiver's `MAX_LENGTH`.
        max_length: usize,
    },
    /// The byte after the announced number of data bytes is not `,`.
    #[error("the netstring is not terminated by a comma")]
    MissingComma,
}

/// A length prefix announced more than the receiver's `MAX_LENGTH`: the event Twisted reports
/// through `lengthLimitExceeded`.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{IntNCodec, IntNCodecError, LengthPrefix};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = IntNCodec::new(LengthPrefix::Int32);
/// let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
/// match codec.decode(&mut buf) {
///     Err(IntNCodecError::LengthLimitExceeded(e)) => assert_eq!(e.length(), 4_294_967_295),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[doc(alias = "lengthLimitExceeded")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("length prefix announced {length} bytes, more than the maximum of {max_length}")]
pub struct LengthLimitExceeded {
    pub(crate) length: u64,
    pub(crate) max_length: usize,
}

impl LengthLimitExceeded {
    /// The length the prefix announced.
    ///
    /// ```
    /// # use tokio_util::codec::Decoder;
    /// use tokio_twisted::basic::{IntNCodec, IntNCodecError, LengthPrefix};
    /// let err = IntNCodec::new(LengthPrefix::Int8).with_max_length(3).decode(&mut bytes::BytesMut::from(&b"\x04"[..]));
    /// assert!(matches!(err, Err(IntNCodecError::LengthLimitExceeded(e)) if e.length() == 4));
    /// ```
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The receiver's `MAX_LENGTH`.
    ///
    /// ```
    /// # use tokio_util::codec::Decoder;
    /// use tokio_twisted::basic::{IntNCodec, IntNCodecError, LengthPrefix};
    /// let err = IntNCodec::new(LengthPrefix::Int8).with_max_length(3).decode(&mut bytes::BytesMut::from(&b"\x04"[..]));
    /// assert!(matches!(err, Err(IntNCodecError::LengthLimitExceeded(e)) if e.max_length() == 3));
    /// ```
    pub fn max_length(&self) -> usize {
        self.max_length
    }
}

/// A string is too long for its length prefix: Twisted's `StringTooLongError`.
///
/// An Int16 prefix can announce at most 65,535 bytes, an Int8 prefix 255.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{IntNCodec, IntNCodecError, LengthPrefix};
/// use tokio_util::codec::Encoder;
///
/// let mut codec = IntNCodec::new(LengthPrefix::Int8);
/// let mut out = BytesMut::new();
/// let err = codec.encode(&[0_u8; 256][..], &mut out).unwrap_err();
/// assert!(matches!(err, IntNCodecError::StringTooLong(e) if e.length() == 256));
/// assert!(out.is_empty());
/// ```
#[doc(alias = "twisted.protocols.basic.StringTooLongError")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot send {length} bytes with a {bits}-bit length prefix (the maximum is {max})")]
pub struct StringTooLongError {
    pub(crate) length: usize,
    pub(crate) bits: u32,
    pub(crate) max: u64,
}

impl StringTooLongError {
    /// The length of the string that was refused.
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, IntNCodecError, LengthPrefix};
    /// use tokio_util::codec::Encoder;
    /// let err = IntNCodec::new(LengthPrefix::Int8).encode([0_u8; 300], &mut bytes::BytesMut::new());
    /// assert!(matches!(err, Err(IntNCodecError::StringTooLong(e)) if e.length() == 300));
    /// ```
    pub fn length(&self) -> usize {
        self.length
    }

    /// The largest length the prefix can carry.
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, IntNCodecError, LengthPrefix};
    /// use tokio_util::codec::Encoder;
    /// let err = IntNCodec::new(LengthPrefix::Int16).encode(vec![0_u8; 70_000], &mut bytes::BytesMut::new());
    /// assert!(matches!(err, Err(IntNCodecError::StringTooLong(e)) if e.max() == 65_535));
    /// ```
    pub fn max(&self) -> u64 {
        self.max
    }
}

/// A line delimiter must hold at least one byte.
///
/// ```
/// use tokio_twisted::basic::{Delimiter, EmptyDelimiterError};
///
/// assert_eq!(Delimiter::new(Vec::new()), Err(EmptyDelimiterError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a line delimiter cannot be empty")]
pub struct EmptyDelimiterError;

/// Why a [`LineCodec`](super::LineCodec) or [`LineOnlyCodec`](super::LineOnlyCodec) stream
/// ended.
///
/// ```
/// use tokio_twisted::basic::LineCodecError;
///
/// let e = LineCodecError::from(std::io::Error::other("reset"));
/// assert_eq!(e.to_string(), "i/o error: reset");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineCodecError {
    /// A line was longer than the codec's maximum.
    #[error(transparent)]
    LineLengthExceeded(#[from] LineLengthExceeded),
    /// Reading or writing the underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Why a [`NetstringCodec`](super::NetstringCodec) stream ended.
///
/// ```
/// use tokio_twisted::basic::{NetstringCodecError, NetstringParseError};
///
/// let e = NetstringCodecError::from(NetstringParseError::MissingLength);
/// assert_eq!(e.to_string(), "the netstring does not start with a length specification");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetstringCodecError {
    /// The peer sent something that is not a netstring.
    #[error(transparent)]
    Parse(#[from] NetstringParseError),
    /// Reading or writing the underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Why an [`IntNCodec`](super::IntNCodec) stream ended, or a string could not be sent.
///
/// ```
/// use tokio_twisted::basic::IntNCodecError;
///
/// let e = IntNCodecError::from(std::io::Error::other("reset"));
/// assert!(matches!(e, IntNCodecError::Io(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntNCodecError {
    /// A received prefix announced more than the codec's maximum.
    #[error(transparent)]
    LengthLimitExceeded(#[from] LengthLimitExceeded),
    /// A string given to the encoder does not fit the prefix.
    #[error(transparent)]
    StringTooLong(#[from] StringTooLongError),
    /// Reading or writing the underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}
