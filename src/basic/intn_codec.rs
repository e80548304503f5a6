// Tests: unit tests below, tests/basic.rs, tests/basic_hostile.rs, tests/conformance/test_basic.rs

//! `IntNCodec`: the length-prefixed framing of `Int32StringReceiver`, `Int16StringReceiver`
//! and `Int8StringReceiver` as a header/body state machine and a tokio-util codec.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::errors::{IntNCodecError, LengthLimitExceeded, StringTooLongError};

/// Twisted's `IntNStringReceiver.MAX_LENGTH`.
pub(crate) const DEFAULT_INTN_MAX_LENGTH: usize = 99_999;

/// The size of a big-endian length prefix: which of Twisted's `IntNStringReceiver` subclasses
/// a receiver is.
///
/// ```
/// use tokio_twisted::basic::LengthPrefix;
///
/// assert_eq!(LengthPrefix::Int16.len(), 2);
/// assert_eq!(LengthPrefix::Int16.max_string_length(), 65_535);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LengthPrefix {
    /// One byte (`Int8StringReceiver`, struct format `!B`): strings of up to 255 bytes.
    #[doc(alias = "Int8StringReceiver")]
    Int8,
    /// Two bytes, network order (`Int16StringReceiver`, `!H`): up to 65,535 bytes.
    #[doc(alias = "Int16StringReceiver")]
    Int16,
    /// Four bytes, network order (`Int32StringReceiver`, `!I`): up to 4,294,967,295 bytes.
    #[doc(alias = "Int32StringReceiver")]
    Int32,
}

impl LengthPrefix {
    /// The prefix's size in bytes (Twisted's `prefixLength`).
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::LengthPrefix::Int32.len(), 4);
    /// ```
    #[doc(alias = "prefixLength")]
    #[allow(clippy::len_without_is_empty, reason = "a prefix is never empty")]
    pub const fn len(self) -> usize {
        match self {
            LengthPrefix::Int8 => 1,
            LengthPrefix::Int16 => 2,
            LengthPrefix::Int32 => 4,
        }
    }

    /// The longest string the prefix can announce: `2^(8 * len) - 1`.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::LengthPrefix::Int8.max_string_length(), 255);
    /// ```
    pub const fn max_string_length(self) -> u64 {
        (1_u64 << (8 * self.len())) - 1
    }

    fn read(self, bytes: &[u8]) -> u64 {
        match self {
            LengthPrefix::Int8 => u64::from(bytes[0]),
            LengthPrefix::Int16 => u64::from(u16::from_be_bytes([bytes[0], bytes[1]])),
            LengthPrefix::Int32 => u64::from(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        }
    }

    /// The prefix for `data`, or `StringTooLongError` if it does not fit.
    pub(crate) fn check(self, length: usize) -> Result<(), StringTooLongError> {
        let max = self.max_string_length();
        match u64::try_from(length) {
            Ok(n) if n <= max => Ok(()),
            _ => Err(StringTooLongError {
                length,
                bits: 8 * self.len() as u32,
                max,
            }),
        }
    }

    fn put(self, length: usize, dst: &mut BytesMut) {
        // check() ran first, so the casts cannot truncate.
        match self {
            LengthPrefix::Int8 => dst.put_u8(length as u8),
            LengthPrefix::Int16 => dst.put_u16(length as u16),
            LengthPrefix::Int32 => dst.put_u32(length as u32),
        }
    }
}

/// Where the decoder is within the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a complete prefix. Entered at the start and after each frame.
    Head,
    /// The prefix at the front of the buffer announced this many bytes (already checked
    /// against the maximum); waiting for all of them.
    Data(usize),
    /// A prefix announced too much; the prefix is left in the buffer and reported again.
    Exceeded(LengthLimitExceeded),
}

/// Length-prefixed strings as a tokio-util [`Decoder`]/[`Encoder`], with the rules of
/// Twisted's `Int32StringReceiver`, `Int16StringReceiver` and `Int8StringReceiver`.
///
/// - Each frame is a big-endian [`LengthPrefix`] followed by that many bytes; empty frames are
///   delivered.
/// - A prefix announcing more than `max_length` (99,999 by default) is a
///   [`LengthLimitExceeded`] error and ends the stream. It is checked before any memory is
///   reserved for the frame, so a prefix announcing 4 GiB costs nothing.
/// - Encoding a string that does not fit the prefix (65,536 bytes with `Int16`) is a
///   [`StringTooLongError`] and writes nothing. The encoder does not check `max_length`,
///   as Twisted's `sendString` does not.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{IntNCodec, LengthPrefix};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = IntNCodec::new(LengthPrefix::Int16);
/// let mut out = BytesMut::new();
/// codec.encode("foo", &mut out).unwrap();
/// assert_eq!(&out[..], b"\x00\x03foo");
/// assert_eq!(codec.decode(&mut out).unwrap().unwrap(), "foo");
/// ```
#[doc(alias = "IntNStringReceiver", alias = "Int32StringReceiver")]
#[derive(Debug, Clone)]
pub struct IntNCodec {
    prefix: LengthPrefix,
    max_length: usize,
    state: State,
}

impl IntNCodec {
    /// A codec for strings with the given prefix, of at most 99,999 bytes.
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, LengthPrefix};
    ///
    /// assert_eq!(IntNCodec::new(LengthPrefix::Int32).prefix(), LengthPrefix::Int32);
    /// ```
    pub fn new(prefix: LengthPrefix) -> Self {
        IntNCodec {
            prefix,
            max_length: DEFAULT_INTN_MAX_LENGTH,
            state: State::Head,
        }
    }

    /// The same codec with another maximum length (`MAX_LENGTH`).
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, LengthPrefix};
    ///
    /// assert_eq!(IntNCodec::new(LengthPrefix::Int8).with_max_length(10).max_length(), 10);
    /// ```
    #[must_use]
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// The prefix size.
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, LengthPrefix};
    ///
    /// assert_eq!(IntNCodec::new(LengthPrefix::Int8).prefix().len(), 1);
    /// ```
    pub fn prefix(&self) -> LengthPrefix {
        self.prefix
    }

    /// The longest frame accepted.
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, LengthPrefix};
    ///
    /// assert_eq!(IntNCodec::new(LengthPrefix::Int32).max_length(), 99_999);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Changes the maximum; it applies from the next prefix.
    ///
    /// ```
    /// use tokio_twisted::basic::{IntNCodec, LengthPrefix};
    ///
    /// let mut codec = IntNCodec::new(LengthPrefix::Int32);
    /// codec.set_max_length(1 << 20);
    /// assert_eq!(codec.max_length(), 1 << 20);
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.max_length = max_length;
    }

    /// The next frame, `None` when more bytes are needed, or the over-long prefix (left in
    /// `buf`, as Twisted leaves it in `recvd`).
    pub(crate) fn next_string(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LengthLimitExceeded> {
        loop {
            match self.state {
                State::Exceeded(e) => return Err(e),
                State::Head => {
                    let plen = self.prefix.len();
                    if buf.len() < plen {
                        return Ok(None);
                    }
                    let length = self.prefix.read(&buf[..plen]);
                    match usize::try_from(length) {
                        Ok(n) if n <= self.max_length => {
                            // Checked against the maximum: reserving is safe. The prefix
                            // stays in the buffer until the frame is complete, as in
                            // Twisted's `recvd`; it is not parsed again.
                            buf.reserve((plen + n).saturating_sub(buf.len()));
                            self.state = State::Data(n);
                        }
                        _ => {
                            let e = LengthLimitExceeded {
                                length,
                                max_length: self.max_length,
                            };
                            self.state = State::Exceeded(e);
                            return Err(e);
                        }
                    }
                }
                State::Data(n) => {
                    let plen = self.prefix.len();
                    if buf.len() < plen + n {
                        return Ok(None);
                    }
                    self.state = State::Head;
                    buf.advance(plen);
                    return Ok(Some(buf.split_to(n).freeze()));
                }
            }
        }
    }

    /// Whether a prefix announced too much (the state is final).
    pub(crate) fn exceeded(&self) -> bool {
        matches!(self.state, State::Exceeded(_))
    }

    /// Forget a partly read frame: the buffer was replaced. An exceeded limit stays.
    pub(crate) fn reset(&mut self) {
        if let State::Data(_) = self.state {
            self.state = State::Head;
        }
    }

    /// Appends `data` with its prefix.
    pub(crate) fn encode_string(
        prefix: LengthPrefix,
        data: &[u8],
        dst: &mut BytesMut,
    ) -> Result<(), StringTooLongError> {
        prefix.check(data.len())?;
        dst.reserve(prefix.len() + data.len());
        prefix.put(data.len(), dst);
        dst.put_slice(data);
        Ok(())
    }
}

impl Decoder for IntNCodec {
    type Item = Bytes;
    type Error = IntNCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, IntNCodecError> {
        Ok(self.next_string(buf)?)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, IntNCodecError> {
        let item = self.decode(buf)?;
        if item.is_none() {
            // An incomplete frame at the end is dropped, as Twisted drops it.
            buf.clear();
            self.state = State::Head;
        }
        Ok(item)
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for IntNCodec {
    type Error = IntNCodecError;

    fn encode(&mut self, data: T, dst: &mut BytesMut) -> Result<(), IntNCodecError> {
        Ok(IntNCodec::encode_string(self.prefix, data.as_ref(), dst)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_parsed_once() {
        let mut c = IntNCodec::new(LengthPrefix::Int32);
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x05ab"[..]);
        assert_eq!(c.next_string(&mut buf).unwrap(), None);
        assert_eq!(c.state, State::Data(5));
        assert_eq!(
            &buf[..],
            b"\x00\x00\x00\x05ab",
            "the prefix stays until the frame is whole"
        );
        buf.extend_from_slice(b"cdeX");
        assert_eq!(c.next_string(&mut buf).unwrap().unwrap(), "abcde");
        assert_eq!(&buf[..], b"X");
    }

    #[test]
    fn exceeded_keeps_the_prefix_and_is_sticky() {
        let mut c = IntNCodec::new(LengthPrefix::Int8).with_max_length(10);
        let mut buf = BytesMut::from(&b"\x0bxxxxxxxxxxx"[..]);
        let e = c.next_string(&mut buf).unwrap_err();
        assert_eq!(e.length(), 11);
        assert_eq!(buf.len(), 12);
        assert_eq!(c.next_string(&mut buf).unwrap_err(), e);
    }

    #[test]
    fn boundaries() {
        assert!(LengthPrefix::Int16.check(65_535).is_ok());
        assert_eq!(LengthPrefix::Int16.check(65_536).unwrap_err().max(), 65_535);
        assert!(LengthPrefix::Int8.check(256).is_err());
        assert!(LengthPrefix::Int32.check(u32::MAX as usize).is_ok());
    }
}
