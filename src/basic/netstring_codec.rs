// Tests: unit tests below, tests/basic.rs, tests/basic_hostile.rs, tests/conformance/test_basic.rs

//! `NetstringCodec`: `NetstringReceiver`'s parser as a two-state machine and a tokio-util
//! codec.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::errors::{NetstringCodecError, NetstringParseError};

/// Twisted's `NetstringReceiver.MAX_LENGTH`.
pub(crate) const DEFAULT_NETSTRING_MAX_LENGTH: usize = 99_999;

/// Where the parser is within the current netstring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the decimal length. Entered at the start and after each complete netstring;
    /// left on `:` (to `Payload`) or on a bad byte (to `Broken`). The digits are consumed as
    /// they arrive, so nothing is scanned twice.
    Length {
        /// The value of the digits so far, never above the maximum.
        value: usize,
        /// How many digits were seen.
        digits: usize,
    },
    /// Waiting for `length` data bytes and the comma. Left when all of them are buffered.
    Payload { length: usize },
    /// A parse error happened; every later call reports it again.
    Broken(NetstringParseError),
}

const START: State = State::Length { value: 0, digits: 0 };

/// Netstrings (`<length>:<data>,`) as a tokio-util [`Decoder`]/[`Encoder`], with
/// `NetstringReceiver`'s rules.
///
/// - The length is decimal with no leading zeros (`0:,` is the empty string; `03:abc,` is an
///   error) and at most `max_length` (99,999 by default). An over-long length is refused as
///   soon as its digits exceed the maximum, before any payload is buffered, so a peer claiming
///   2<sup>63</sup> bytes costs nothing.
/// - The byte after the data must be `,`.
/// - Every violation is a [`NetstringParseError`] and ends the stream; later calls report the
///   same error.
///
/// Length digits are consumed as they arrive and the payload is not scanned at all, so the
/// cost is linear however the input is chunked.
///
/// One difference from Twisted, which matches the partial length with a regular expression
/// whose `$` also matches before a final newline: Twisted waits on `12\n` and fails only when
/// the next byte arrives; this parser fails at the newline.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::NetstringCodec;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = NetstringCodec::new();
/// let mut buf = BytesMut::from(&b"3:abc,0:,1"[..]);
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "abc");
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "");
/// assert_eq!(codec.decode(&mut buf).unwrap(), None); // "1" is the start of a length
///
/// let mut out = BytesMut::new();
/// codec.encode("hello", &mut out).unwrap();
/// assert_eq!(&out[..], b"5:hello,");
/// ```
#[doc(alias = "NetstringReceiver")]
#[derive(Debug, Clone)]
pub struct NetstringCodec {
    max_length: usize,
    state: State,
}

impl NetstringCodec {
    /// A codec accepting netstrings of up to 99,999 bytes.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::NetstringCodec::new().max_length(), 99_999);
    /// ```
    pub fn new() -> Self {
        NetstringCodec {
            max_length: DEFAULT_NETSTRING_MAX_LENGTH,
            state: START,
        }
    }

    /// The same codec with another maximum length (`MAX_LENGTH`).
    ///
    /// ```
    /// let codec = tokio_twisted::basic::NetstringCodec::new().with_max_length(10);
    /// assert_eq!(codec.max_length(), 10);
    /// ```
    #[must_use]
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// The longest netstring accepted, in data bytes.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::NetstringCodec::new().max_length(), 99_999);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Changes the maximum length; a length being parsed is checked against the new value.
    ///
    /// ```
    /// let mut codec = tokio_twisted::basic::NetstringCodec::new();
    /// codec.set_max_length(12);
    /// assert_eq!(codec.max_length(), 12);
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.max_length = max_length;
    }

    /// The error that broke the stream, if one did (Twisted's `brokenPeer`).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use tokio_twisted::basic::{NetstringCodec, NetstringParseError};
    /// use tokio_util::codec::Decoder;
    ///
    /// let mut codec = NetstringCodec::new();
    /// assert_eq!(codec.broken_peer(), None);
    /// let _ = codec.decode(&mut BytesMut::from(&b"x"[..]));
    /// assert_eq!(codec.broken_peer(), Some(NetstringParseError::MissingLength));
    /// ```
    #[doc(alias = "brokenPeer")]
    pub fn broken_peer(&self) -> Option<NetstringParseError> {
        match self.state {
            State::Broken(e) => Some(e),
            _ => None,
        }
    }

    /// The next netstring's data, `None` when more bytes are needed, or the parse error.
    pub(crate) fn next_string(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, NetstringParseError> {
        loop {
            match self.state {
                State::Broken(e) => return Err(e),
                State::Length {
                    mut value,
                    mut digits,
                } => {
                    let mut consumed = 0;
                    let mut next = None;
                    for &byte in buf.iter() {
                        consumed += 1;
                        match byte {
                            b':' if digits > 0 => {
                                next = Some(State::Payload { length: value });
                                break;
                            }
                            // A leading zero must be the whole number.
                            b'0'..=b'9' if !(digits == 1 && value == 0) => {
                                value = match value
                                    .checked_mul(10)
                                    .and_then(|v| v.checked_add(usize::from(byte - b'0')))
                                {
                                    Some(v) if v <= self.max_length => v,
                                    _ => {
                                        return Err(self.fail(NetstringParseError::TooLong {
                                            max_length: self.max_length,
                                        }));
                                    }
                                };
                                digits += 1;
                            }
                            _ => return Err(self.fail(NetstringParseError::MissingLength)),
                        }
                    }
                    buf.advance(consumed);
                    match next {
                        Some(state) => self.state = state,
                        None => {
                            self.state = State::Length { value, digits };
                            return Ok(None);
                        }
                    }
                }
                State::Payload { length } => {
                    // The length was checked against the maximum before this reservation.
                    let needed = length + 1;
                    if buf.len() < needed {
                        buf.reserve(needed - buf.len());
                        return Ok(None);
                    }
                    if buf[length] != b',' {
                        return Err(self.fail(NetstringParseError::MissingComma));
                    }
                    let data = buf.split_to(length).freeze();
                    buf.advance(1);
                    self.state = START;
                    return Ok(Some(data));
                }
            }
        }
    }

    fn fail(&mut self, error: NetstringParseError) -> NetstringParseError {
        self.state = State::Broken(error);
        error
    }
}

impl Default for NetstringCodec {
    fn default() -> Self {
        NetstringCodec::new()
    }
}

impl Decoder for NetstringCodec {
    type Item = Bytes;
    type Error = NetstringCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, NetstringCodecError> {
        Ok(self.next_string(buf)?)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, NetstringCodecError> {
        let item = self.decode(buf)?;
        if item.is_none() {
            // An incomplete netstring at the end is dropped, as Twisted drops it.
            buf.clear();
        }
        Ok(item)
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for NetstringCodec {
    type Error = NetstringCodecError;

    /// Writes `<len>:<data>,` (`sendString`). The length is not checked against the maximum,
    /// as Twisted does not check it.
    fn encode(&mut self, data: T, dst: &mut BytesMut) -> Result<(), NetstringCodecError> {
        encode_netstring(data.as_ref(), dst);
        Ok(())
    }
}

/// Appends `data` as a netstring.
pub(crate) fn encode_netstring(data: &[u8], dst: &mut BytesMut) {
    let mut digits = itoa_buf(data.len());
    let digits = digits.as_slice();
    dst.reserve(digits.len() + data.len() + 2);
    dst.put_slice(digits);
    dst.put_u8(b':');
    dst.put_slice(data);
    dst.put_u8(b',');
}

/// The decimal digits of `n`, without allocating.
fn itoa_buf(mut n: usize) -> DigitBuf {
    let mut out = DigitBuf {
        bytes: [0; 20],
        start: 20,
    };
    loop {
        out.start -= 1;
        out.bytes[out.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return out;
        }
    }
}

struct DigitBuf {
    bytes: [u8; 20],
    start: usize,
}

impl DigitBuf {
    fn as_slice(&mut self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(max: usize, chunks: &[&[u8]]) -> (Vec<Bytes>, Option<NetstringParseError>) {
        let mut codec = NetstringCodec::new().with_max_length(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match codec.next_string(&mut buf) {
                    Ok(Some(s)) => out.push(s),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    #[test]
    fn twisted_table() {
        assert_eq!(
            parse(99_999, &[b"3:abc,0:,"]),
            (vec![Bytes::from("abc"), Bytes::new()], None)
        );
        assert_eq!(
            parse(99_999, &[b"03:abc,"]).1,
            Some(NetstringParseError::MissingLength)
        );
        assert_eq!(
            parse(99_999, &[b"3:abcd"]).1,
            Some(NetstringParseError::MissingComma)
        );
        assert_eq!(
            parse(99_999, &[b"x:"]).1,
            Some(NetstringParseError::MissingLength)
        );
        assert_eq!(
            parse(99_999, &[b"100000:"]).1,
            Some(NetstringParseError::TooLong { max_length: 99_999 })
        );
        assert_eq!(parse(99_999, &[b"3:ab"]), (vec![], None));
        assert_eq!(parse(99_999, &[b"5:ab"]), (vec![], None));
    }

    #[test]
    fn partial_length_over_the_limit_fails_early() {
        assert_eq!(
            parse(50, &[b"51"]).1,
            Some(NetstringParseError::TooLong { max_length: 50 })
        );
        assert_eq!(parse(50, &[b"5", b"0"]), (vec![], None));
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let digits = b"99999999999999999999999999999999999999";
        assert!(matches!(
            parse(usize::MAX, &[digits]).1,
            Some(NetstringParseError::TooLong { .. })
        ));
    }

    #[test]
    fn errors_are_sticky() {
        let mut codec = NetstringCodec::new();
        let mut buf = BytesMut::from(&b"x"[..]);
        assert!(codec.next_string(&mut buf).is_err());
        let mut buf = BytesMut::from(&b"1:a,"[..]);
        assert_eq!(
            codec.next_string(&mut buf),
            Err(NetstringParseError::MissingLength)
        );
    }

    #[test]
    fn digits() {
        for n in [0, 7, 10, 99_999, usize::MAX] {
            assert_eq!(itoa_buf(n).as_slice(), n.to_string().as_bytes());
        }
    }
}
