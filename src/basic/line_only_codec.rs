// Tests: unit tests below, tests/basic.rs, tests/basic_hostile.rs, tests/conformance/test_basic.rs

//! `LineOnlyCodec`: `LineOnlyReceiver`'s framing rules (no raw mode, a stricter limit on a
//! partial line) as a resumable scanner and a tokio-util codec.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::errors::{LineCodecError, LineLengthExceeded};
use super::line_codec::{DEFAULT_LINE_MAX_LENGTH, Delimiter, DelimiterFinder};

/// `LineOnlyReceiver`'s framing as a tokio-util [`Decoder`]/[`Encoder`].
///
/// It differs from [`LineCodec`](super::LineCodec) where Twisted's two receivers differ:
/// - there is no raw mode;
/// - a partial line fails as soon as it is longer than `max_length` (the delimiter's length is
///   not allowed for), so `max_length` bytes followed by the first byte of `\r\n` already fail;
/// - a complete over-long line is reported alone: [`LineLengthExceeded::data`] is that line,
///   without its delimiter or what follows.
///
/// Lines of exactly `max_length` bytes are accepted. Each byte is examined once, however the
/// input is chunked. A partial line at the end of the stream is dropped.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{Delimiter, LineCodecError, LineOnlyCodec};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = LineOnlyCodec::new().with_delimiter(Delimiter::LF).with_max_length(4);
/// let mut buf = BytesMut::from(&b"abcd\nabcdef\nok\n"[..]);
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "abcd");
/// match codec.decode(&mut buf) {
///     Err(LineCodecError::LineLengthExceeded(e)) => assert_eq!(&e.data()[..], b"abcdef"),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[doc(alias = "LineOnlyReceiver")]
#[derive(Debug, Clone)]
pub struct LineOnlyCodec {
    finder: DelimiterFinder,
    max_length: usize,
    /// Where the next search starts; no delimiter begins before it.
    next_index: usize,
    /// Set after a partial line was reported too long, until its delimiter arrives: the
    /// bytes of that line are dropped as they come, so memory stays bounded.
    discarding: bool,
}

impl LineOnlyCodec {
    /// A codec for `\r\n`-terminated lines of at most 16,384 bytes.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::LineOnlyCodec::new().max_length(), 16_384);
    /// ```
    pub fn new() -> Self {
        LineOnlyCodec {
            finder: DelimiterFinder::new(Delimiter::CRLF),
            max_length: DEFAULT_LINE_MAX_LENGTH,
            next_index: 0,
            discarding: false,
        }
    }

    /// The same codec with another delimiter.
    ///
    /// ```
    /// use tokio_twisted::basic::{Delimiter, LineOnlyCodec};
    ///
    /// let codec = LineOnlyCodec::new().with_delimiter(Delimiter::LF);
    /// assert_eq!(codec.delimiter(), &Delimiter::LF);
    /// ```
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: Delimiter) -> Self {
        self.set_delimiter(delimiter);
        self
    }

    /// The same codec with another maximum line length (`MAX_LENGTH`).
    ///
    /// ```
    /// let codec = tokio_twisted::basic::LineOnlyCodec::new().with_max_length(64);
    /// assert_eq!(codec.max_length(), 64);
    /// ```
    #[must_use]
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// The delimiter that ends lines.
    ///
    /// ```
    /// use tokio_twisted::basic::{Delimiter, LineOnlyCodec};
    ///
    /// assert_eq!(LineOnlyCodec::new().delimiter(), &Delimiter::CRLF);
    /// ```
    pub fn delimiter(&self) -> &Delimiter {
        self.finder.delimiter()
    }

    /// Changes the delimiter.
    ///
    /// ```
    /// use tokio_twisted::basic::{Delimiter, LineOnlyCodec};
    ///
    /// let mut codec = LineOnlyCodec::new();
    /// codec.set_delimiter(Delimiter::LF);
    /// assert_eq!(codec.delimiter().as_bytes(), b"\n");
    /// ```
    pub fn set_delimiter(&mut self, delimiter: Delimiter) {
        self.finder = DelimiterFinder::new(delimiter);
        self.next_index = 0;
    }

    /// The longest line accepted, not counting the delimiter (`MAX_LENGTH`).
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::LineOnlyCodec::new().max_length(), 16_384);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Changes the maximum line length.
    ///
    /// ```
    /// let mut codec = tokio_twisted::basic::LineOnlyCodec::new();
    /// codec.set_max_length(10);
    /// assert_eq!(codec.max_length(), 10);
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.max_length = max_length;
    }

    /// The next line, `None` when more bytes are needed, or the over-long line (complete) or
    /// buffer (partial). After a partial over-long line the codec discards until the next
    /// delimiter, so a receiver that keeps the connection open keeps bounded memory.
    pub(crate) fn next_line(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LineLengthExceeded> {
        let dlen = self.finder.len();
        if self.discarding {
            match self.finder.find(buf) {
                Some(p) => {
                    buf.advance(p + dlen);
                    self.discarding = false;
                    self.next_index = 0;
                }
                None => {
                    // Keep the bytes that may begin a delimiter split across reads.
                    let keep = buf.len().min(dlen - 1);
                    buf.advance(buf.len() - keep);
                    return Ok(None);
                }
            }
        }
        let start = if self.next_index > buf.len() {
            0
        } else {
            self.next_index
        };
        match self.finder.find(&buf[start..]) {
            Some(offset) => {
                self.next_index = 0;
                let line = buf.split_to(start + offset).freeze();
                buf.advance(dlen);
                if line.len() > self.max_length {
                    return Err(LineLengthExceeded {
                        data: line,
                        max_length: self.max_length,
                    });
                }
                Ok(Some(line))
            }
            None if buf.len() > self.max_length => {
                self.next_index = 0;
                self.discarding = true;
                // Report the whole buffer, but keep (a copy of) the bytes that may begin a
                // delimiter split across reads.
                let data = buf.split().freeze();
                let keep = data.len().min(dlen - 1);
                buf.extend_from_slice(&data[data.len() - keep..]);
                Err(LineLengthExceeded {
                    data,
                    max_length: self.max_length,
                })
            }
            None => {
                self.next_index = buf.len().saturating_sub(dlen - 1);
                Ok(None)
            }
        }
    }

    /// Whether the codec is dropping the rest of a partial line it reported too long.
    pub(crate) fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Drops every complete line left in `buf`, keeping the partial one: what Twisted does to
    /// the rest of a chunk after an over-long line.
    pub(crate) fn drop_complete_lines(&mut self, buf: &mut BytesMut) {
        if let Some(p) = self.finder.rfind(buf) {
            buf.advance(p + self.finder.len());
            self.next_index = 0;
        }
    }
}

impl Default for LineOnlyCodec {
    fn default() -> Self {
        LineOnlyCodec::new()
    }
}

impl Decoder for LineOnlyCodec {
    type Item = Bytes;
    type Error = LineCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LineCodecError> {
        Ok(self.next_line(buf)?)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LineCodecError> {
        let item = self.decode(buf)?;
        if item.is_none() {
            buf.clear();
            self.next_index = 0;
        }
        Ok(item)
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for LineOnlyCodec {
    type Error = LineCodecError;

    /// Writes `line` and the delimiter, unchecked, as `sendLine` does.
    fn encode(&mut self, line: T, dst: &mut BytesMut) -> Result<(), LineCodecError> {
        let line = line.as_ref();
        let delimiter = self.finder.delimiter().as_bytes();
        dst.reserve(line.len() + delimiter.len());
        dst.put_slice(line);
        dst.put_slice(delimiter);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(max: usize) -> LineOnlyCodec {
        LineOnlyCodec::new()
            .with_delimiter(Delimiter::LF)
            .with_max_length(max)
    }

    #[test]
    fn partial_over_limit_fails_without_delimiter_allowance() {
        let mut c = LineOnlyCodec::new().with_max_length(4);
        let mut buf = BytesMut::from(&b"xxxx\r"[..]);
        let err = c.next_line(&mut buf).unwrap_err();
        assert_eq!(&err.data[..], b"xxxx\r");
        assert_eq!(&buf[..], b"\r", "the possible delimiter start is kept");
    }

    #[test]
    fn discards_until_the_delimiter() {
        let mut c = codec(4);
        let mut buf = BytesMut::from(&b"xxxxx"[..]);
        assert!(c.next_line(&mut buf).is_err());
        buf.extend_from_slice(b"yyyyyyyyy");
        assert_eq!(c.next_line(&mut buf).unwrap(), None);
        assert!(buf.is_empty());
        buf.extend_from_slice(b"y\nok\n");
        assert_eq!(c.next_line(&mut buf).unwrap().unwrap(), "ok");
    }

    #[test]
    fn discarding_finds_a_split_crlf() {
        let mut c = LineOnlyCodec::new().with_max_length(2);
        let mut buf = BytesMut::from(&b"xxx\r"[..]);
        assert!(c.next_line(&mut buf).is_err());
        buf.extend_from_slice(b"\nab\r\n");
        assert_eq!(c.next_line(&mut buf).unwrap().unwrap(), "ab");
    }

    #[test]
    fn drop_complete_lines_keeps_the_tail() {
        let mut c = codec(4);
        let mut buf = BytesMut::from(&b"b\nc\npart"[..]);
        c.drop_complete_lines(&mut buf);
        assert_eq!(&buf[..], b"part");
    }

    #[test]
    fn resumes_scanning() {
        let mut c = LineOnlyCodec::new();
        let mut buf = BytesMut::from(&b"ab\r"[..]);
        assert_eq!(c.next_line(&mut buf).unwrap(), None);
        assert_eq!(c.next_index, 2);
        buf.extend_from_slice(b"\n");
        assert_eq!(c.next_line(&mut buf).unwrap().unwrap(), "ab");
    }
}
