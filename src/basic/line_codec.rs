// Tests: unit tests below, tests/basic.rs, tests/basic_hostile.rs, tests/conformance/test_basic.rs

//! `LineCodec`: `LineReceiver`'s framing rules as a resumable scanner and a tokio-util codec.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use memchr::memmem;
use tokio_util::codec::{Decoder, Encoder};

use super::errors::{EmptyDelimiterError, LineCodecError, LineLengthExceeded};

/// The bytes that end a line: Twisted's `delimiter` class attribute. Never empty.
///
/// ```
/// use tokio_twisted::basic::Delimiter;
///
/// assert_eq!(Delimiter::CRLF.as_bytes(), b"\r\n");
/// assert_eq!(Delimiter::LF.as_bytes(), b"\n");
/// const NUL: Delimiter = Delimiter::from_static(b"\0");
/// assert_eq!(Delimiter::new(b"\0".to_vec()).unwrap(), NUL);
/// assert!(Delimiter::new(Vec::new()).is_err());
/// ```
#[doc(alias = "delimiter")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Delimiter(Bytes);

impl Delimiter {
    /// `\r\n`, the default of every line receiver.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::Delimiter::CRLF.as_bytes(), b"\r\n");
    /// ```
    pub const CRLF: Delimiter = Delimiter(Bytes::from_static(b"\r\n"));
    /// `\n`.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::Delimiter::LF.as_bytes(), b"\n");
    /// ```
    pub const LF: Delimiter = Delimiter(Bytes::from_static(b"\n"));

    /// A delimiter from any bytes.
    ///
    /// # Errors
    ///
    /// [`EmptyDelimiterError`] if `bytes` is empty.
    ///
    /// ```
    /// use tokio_twisted::basic::Delimiter;
    ///
    /// assert_eq!(Delimiter::new("\r\n").unwrap(), Delimiter::CRLF);
    /// ```
    pub fn new(bytes: impl Into<Bytes>) -> Result<Delimiter, EmptyDelimiterError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Err(EmptyDelimiterError)
        } else {
            Ok(Delimiter(bytes))
        }
    }

    /// A delimiter from a byte-string literal, usable in a `const` (so an empty literal is a
    /// compile error there).
    ///
    /// # Panics
    ///
    /// If `bytes` is empty; in a `const` item that is a compile-time error.
    ///
    /// ```
    /// use tokio_twisted::basic::Delimiter;
    ///
    /// const RECORD_SEPARATOR: Delimiter = Delimiter::from_static(b"\x1e");
    /// assert_eq!(RECORD_SEPARATOR.len(), 1);
    /// ```
    pub const fn from_static(bytes: &'static [u8]) -> Delimiter {
        assert!(!bytes.is_empty(), "a line delimiter cannot be empty");
        Delimiter(Bytes::from_static(bytes))
    }

    /// The delimiter's bytes.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::Delimiter::LF.as_bytes(), b"\n");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// How many bytes the delimiter has (at least one).
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::Delimiter::CRLF.len(), 2);
    /// ```
    #[allow(clippy::len_without_is_empty, reason = "a delimiter is never empty")]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl Default for Delimiter {
    fn default() -> Self {
        Delimiter::CRLF
    }
}

impl fmt::Debug for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delimiter({:?})", self.0)
    }
}

/// Finds a delimiter in a slice: `memchr` for one or two bytes, a prebuilt `memmem` searcher
/// for longer ones.
#[derive(Clone)]
pub(crate) struct DelimiterFinder {
    delimiter: Delimiter,
    finder: Option<memmem::Finder<'static>>,
}

impl DelimiterFinder {
    pub(crate) fn new(delimiter: Delimiter) -> Self {
        let finder = (delimiter.len() > 2).then(|| memmem::Finder::new(delimiter.as_bytes()).into_owned());
        DelimiterFinder { delimiter, finder }
    }

    pub(crate) fn delimiter(&self) -> &Delimiter {
        &self.delimiter
    }

    pub(crate) fn len(&self) -> usize {
        self.delimiter.len()
    }

    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        match (&self.finder, self.delimiter.as_bytes()) {
            // `\r\n` and other two-byte delimiters: look for the last byte with memchr and
            // check the one before, which costs less per line than a memmem searcher.
            (_, &[first, last]) => {
                let mut from = 1;
                while from < haystack.len() {
                    let at = from + memchr::memchr(last, &haystack[from..])?;
                    if haystack[at - 1] == first {
                        return Some(at - 1);
                    }
                    from = at + 1;
                }
                None
            }
            (Some(finder), _) => finder.find(haystack),
            (None, delimiter) => memchr::memchr(delimiter[0], haystack),
        }
    }

    pub(crate) fn rfind(&self, haystack: &[u8]) -> Option<usize> {
        match self.delimiter.as_bytes() {
            &[byte] => memchr::memrchr(byte, haystack),
            delimiter => memmem::rfind(haystack, delimiter),
        }
    }
}

impl fmt::Debug for DelimiterFinder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.delimiter.fmt(f)
    }
}

/// `LineReceiver`'s line-mode rules over a buffer that only grows between calls, scanning each
/// byte once.
///
/// Twisted splits the whole buffer on every call; the decision it reaches depends only on the
/// buffer, so this scanner reaches the same one by looking at a bounded window:
/// - a delimiter starting at index `p <= max_length` ends a line that is delivered;
/// - a delimiter starting later, or none within the first `max_length + delimiter.len()`
///   bytes once that many have arrived, means the line is too long, and the whole buffer is
///   handed over (Twisted passes `line + delimiter + rest`, which is the whole buffer too).
///
/// A delimiter starting at `p <= max_length` lies inside the first `max_length +
/// delimiter.len()` bytes, so nothing past that window is ever scanned.
#[derive(Debug, Clone)]
pub(crate) struct LineScanner {
    finder: DelimiterFinder,
    max_length: usize,
    /// Where the next search starts: no delimiter begins before it. Reset to 0 whenever bytes
    /// leave the front of the buffer. A two-byte delimiter split across two reads is still
    /// found because the search resumes `delimiter.len() - 1` bytes before the end.
    next_index: usize,
}

impl LineScanner {
    pub(crate) fn new(delimiter: Delimiter, max_length: usize) -> Self {
        LineScanner {
            finder: DelimiterFinder::new(delimiter),
            max_length,
            next_index: 0,
        }
    }

    pub(crate) fn delimiter(&self) -> &Delimiter {
        self.finder.delimiter()
    }

    pub(crate) fn set_delimiter(&mut self, delimiter: Delimiter) {
        self.finder = DelimiterFinder::new(delimiter);
        self.next_index = 0;
    }

    pub(crate) fn max_length(&self) -> usize {
        self.max_length
    }

    pub(crate) fn set_max_length(&mut self, max_length: usize) {
        // What was scanned holds no delimiter at all, whatever the limit: keep next_index.
        self.max_length = max_length;
    }

    /// Forget the scan position: bytes were removed from the buffer or replaced.
    pub(crate) fn reset(&mut self) {
        self.next_index = 0;
    }

    /// The next line (without its delimiter), `None` when more bytes are needed, or the whole
    /// buffer as a [`LineLengthExceeded`] when the line is too long.
    pub(crate) fn next_line(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LineLengthExceeded> {
        let dlen = self.finder.len();
        let limit = self.max_length.saturating_add(dlen);
        let window_end = buf.len().min(limit);
        let start = if self.next_index > window_end {
            0
        } else {
            self.next_index
        };
        if let Some(offset) = self.finder.find(&buf[start..window_end]) {
            self.next_index = 0;
            let line = buf.split_to(start + offset).freeze();
            let _delimiter = buf.split_to(dlen);
            return Ok(Some(line));
        }
        if buf.len() >= limit {
            self.next_index = 0;
            return Err(LineLengthExceeded {
                data: buf.split().freeze(),
                max_length: self.max_length,
            });
        }
        // A delimiter may still begin in the last dlen - 1 bytes.
        self.next_index = window_end.saturating_sub(dlen - 1);
        Ok(None)
    }
}

/// `LineReceiver`'s framing as a tokio-util [`Decoder`]/[`Encoder`]: lines end with a
/// [`Delimiter`], are at most `MAX_LENGTH` bytes long with Twisted's exact boundary, and a raw
/// mode passes bytes through unframed.
///
/// Use it to frame any `AsyncRead`/`AsyncWrite` (a Tokio `TcpStream`, say) with
/// `tokio_util::codec::Framed`. Defaults: [`Delimiter::CRLF`] and a maximum of 16,384 bytes.
///
/// The boundary is Twisted's:
/// - a line of exactly `max_length` bytes is accepted;
/// - a longer line is an error ([`LineLengthExceeded`], holding the whole buffer), as soon as
///   its delimiter arrives, or as soon as `max_length + delimiter.len()` bytes are buffered
///   with no delimiter among them (so a line of `max_length` bytes whose `\r\n` is split across
///   two reads still gets through).
///
/// An error ends the stream (the decoder contract); Twisted's default `lineLengthExceeded`
/// closes the connection. Each byte is examined once however the line is chunked, and no more
/// than `max_length + delimiter.len()` bytes are ever buffered for one line, so a peer sending
/// an endless line costs bounded memory. A limit of `usize::MAX` means no limit, and then
/// memory is unbounded.
///
/// At the end of the stream, a partial line is dropped, as Twisted drops it when the
/// connection closes; in raw mode the remaining bytes are delivered.
///
/// [`set_raw_mode`](Self::set_raw_mode) makes every later `decode` return all buffered bytes
/// as one item; [`set_line_mode`](Self::set_line_mode) switches back. Between items of a
/// `Framed` stream, reach the codec with `codec_mut()`.
///
/// ```
/// use bytes::BytesMut;
/// use tokio_twisted::basic::{Delimiter, LineCodec};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = LineCodec::new().with_delimiter(Delimiter::LF);
/// let mut buf = BytesMut::from(&b"len 3\nabcrest\n"[..]);
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "len 3");
/// codec.set_raw_mode();
/// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "abcrest\n");
///
/// let mut out = BytesMut::new();
/// codec.encode("hello", &mut out).unwrap();
/// assert_eq!(&out[..], b"hello\n");
/// ```
///
/// Framing a Tokio stream (here an in-memory pipe):
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use tokio_twisted::basic::LineCodec;
/// use tokio_util::codec::Framed;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (a, b) = tokio::io::duplex(64);
/// let mut client = Framed::new(a, LineCodec::new());
/// let mut server = Framed::new(b, LineCodec::new());
/// client.send("finger moshez").await.unwrap();
/// assert_eq!(server.next().await.unwrap().unwrap(), "finger moshez");
/// # });
/// ```
#[doc(alias = "LineReceiver")]
#[derive(Debug, Clone)]
pub struct LineCodec {
    scanner: LineScanner,
    raw_mode: bool,
}

/// Twisted's `LineReceiver.MAX_LENGTH`.
pub(crate) const DEFAULT_LINE_MAX_LENGTH: usize = 16_384;

impl LineCodec {
    /// A codec for `\r\n`-terminated lines of at most 16,384 bytes, in line mode.
    ///
    /// ```
    /// let codec = tokio_twisted::basic::LineCodec::new();
    /// assert_eq!(codec.max_length(), 16_384);
    /// ```
    pub fn new() -> Self {
        LineCodec {
            scanner: LineScanner::new(Delimiter::CRLF, DEFAULT_LINE_MAX_LENGTH),
            raw_mode: false,
        }
    }

    /// The same codec with another delimiter.
    ///
    /// ```
    /// use tokio_twisted::basic::{Delimiter, LineCodec};
    ///
    /// assert_eq!(LineCodec::new().with_delimiter(Delimiter::LF).delimiter(), &Delimiter::LF);
    /// ```
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: Delimiter) -> Self {
        self.set_delimiter(delimiter);
        self
    }

    /// The same codec with another maximum line length (`MAX_LENGTH`).
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::LineCodec::new().with_max_length(64).max_length(), 64);
    /// ```
    #[must_use]
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.set_max_length(max_length);
        self
    }

    /// The delimiter that ends lines.
    ///
    /// ```
    /// use tokio_twisted::basic::{Delimiter, LineCodec};
    ///
    /// assert_eq!(LineCodec::new().delimiter(), &Delimiter::CRLF);
    /// ```
    pub fn delimiter(&self) -> &Delimiter {
        self.scanner.delimiter()
    }

    /// Changes the delimiter, for the line being scanned too.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use tokio_twisted::basic::{Delimiter, LineCodec};
    /// use tokio_util::codec::Decoder;
    ///
    /// let mut codec = LineCodec::new();
    /// let mut buf = BytesMut::from(&b"a\r\nb\n"[..]);
    /// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "a");
    /// codec.set_delimiter(Delimiter::LF);
    /// assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), "b");
    /// ```
    pub fn set_delimiter(&mut self, delimiter: Delimiter) {
        self.scanner.set_delimiter(delimiter);
    }

    /// The longest line accepted, in bytes, not counting the delimiter (`MAX_LENGTH`).
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::LineCodec::new().max_length(), 16_384);
    /// ```
    #[doc(alias = "MAX_LENGTH")]
    pub fn max_length(&self) -> usize {
        self.scanner.max_length()
    }

    /// Changes the maximum line length, for the line being scanned too.
    ///
    /// ```
    /// let mut codec = tokio_twisted::basic::LineCodec::new();
    /// codec.set_max_length(4);
    /// assert_eq!(codec.max_length(), 4);
    /// ```
    pub fn set_max_length(&mut self, max_length: usize) {
        self.scanner.set_max_length(max_length);
    }

    /// Switches to raw mode: each `decode` returns every buffered byte as one item.
    ///
    /// ```
    /// let mut codec = tokio_twisted::basic::LineCodec::new();
    /// codec.set_raw_mode();
    /// assert!(codec.is_raw_mode());
    /// ```
    #[doc(alias = "setRawMode")]
    pub fn set_raw_mode(&mut self) {
        self.raw_mode = true;
    }

    /// Switches back to line mode; buffered bytes are parsed as lines by the next `decode`.
    ///
    /// ```
    /// let mut codec = tokio_twisted::basic::LineCodec::new();
    /// codec.set_raw_mode();
    /// codec.set_line_mode();
    /// assert!(!codec.is_raw_mode());
    /// ```
    #[doc(alias = "setLineMode")]
    pub fn set_line_mode(&mut self) {
        self.raw_mode = false;
    }

    /// Whether the codec is in raw mode (Twisted's `line_mode == 0`).
    ///
    /// ```
    /// assert!(!tokio_twisted::basic::LineCodec::new().is_raw_mode());
    /// ```
    #[doc(alias = "line_mode")]
    pub fn is_raw_mode(&self) -> bool {
        self.raw_mode
    }

    /// The scanner that finds lines, for the receivers built on this codec.
    pub(crate) fn scanner_mut(&mut self) -> &mut LineScanner {
        &mut self.scanner
    }
}

impl Default for LineCodec {
    fn default() -> Self {
        LineCodec::new()
    }
}

impl Decoder for LineCodec {
    type Item = Bytes;
    type Error = LineCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LineCodecError> {
        if self.raw_mode {
            self.scanner.reset();
            if buf.is_empty() {
                return Ok(None);
            }
            return Ok(Some(buf.split().freeze()));
        }
        Ok(self.scanner.next_line(buf)?)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, LineCodecError> {
        let item = self.decode(buf)?;
        if item.is_none() {
            // Twisted never delivers a line its delimiter did not end.
            buf.clear();
            self.scanner.reset();
        }
        Ok(item)
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for LineCodec {
    type Error = LineCodecError;

    /// Writes `line` and the delimiter (`sendLine`). The line is not checked against the
    /// maximum length or for delimiters inside it, as Twisted does not check either.
    fn encode(&mut self, line: T, dst: &mut BytesMut) -> Result<(), LineCodecError> {
        let line = line.as_ref();
        let delimiter = self.scanner.delimiter().as_bytes();
        dst.reserve(line.len() + delimiter.len());
        dst.put_slice(line);
        dst.put_slice(delimiter);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(delimiter: &'static [u8], max: usize) -> LineScanner {
        LineScanner::new(Delimiter::from_static(delimiter), max)
    }

    #[test]
    fn resumes_where_it_stopped() {
        let mut s = scanner(b"\r\n", 100);
        let mut buf = BytesMut::from(&b"abc"[..]);
        assert_eq!(s.next_line(&mut buf).unwrap(), None);
        assert_eq!(s.next_index, 2, "the last byte could start the delimiter");
        buf.extend_from_slice(b"\r");
        assert_eq!(s.next_line(&mut buf).unwrap(), None);
        assert_eq!(s.next_index, 3);
        buf.extend_from_slice(b"\nrest");
        assert_eq!(s.next_line(&mut buf).unwrap().unwrap(), "abc");
        assert_eq!(&buf[..], b"rest");
        assert_eq!(s.next_index, 0);
    }

    #[test]
    fn never_scans_past_the_window() {
        let mut s = scanner(b"\n", 4);
        // Five bytes and no delimiter in the first 4 + 1: too long, though one follows.
        let mut buf = BytesMut::from(&b"xxxxx\n"[..]);
        let err = s.next_line(&mut buf).unwrap_err();
        assert_eq!(&err.data[..], b"xxxxx\n");
        assert!(buf.is_empty());
    }

    #[test]
    fn exact_boundary() {
        let mut s = scanner(b"\r\n", 4);
        let mut buf = BytesMut::from(&b"xxxx\r"[..]);
        assert_eq!(s.next_line(&mut buf).unwrap(), None, "4 + 1 < 4 + 2: wait");
        buf.extend_from_slice(b"\n");
        assert_eq!(s.next_line(&mut buf).unwrap().unwrap(), "xxxx");
        let mut buf = BytesMut::from(&b"xxxxx\r"[..]);
        assert!(
            s.next_line(&mut buf).is_err(),
            "6 bytes with no delimiter: too long"
        );
    }

    #[test]
    fn two_byte_search_matches_a_naive_one() {
        let finder = DelimiterFinder::new(Delimiter::CRLF);
        let cases: [&[u8]; 9] = [
            b"",
            b"\r",
            b"\n",
            b"\r\n",
            b"a\n\r\n",
            b"\n\n\r\r\n",
            b"ab\r",
            b"\r\r",
            b"x\ny\r\nz",
        ];
        for case in cases {
            let naive = case.windows(2).position(|w| w == b"\r\n");
            assert_eq!(finder.find(case), naive, "{case:?}");
        }
        let same = DelimiterFinder::new(Delimiter::from_static(b"aa"));
        assert_eq!(same.find(b"baaa"), Some(1));
        assert_eq!(same.find(b"a"), None);
    }

    #[test]
    fn unlimited_does_not_overflow() {
        let mut s = scanner(b"\r\n", usize::MAX);
        let mut buf = BytesMut::from(&b"abc\r\n"[..]);
        assert_eq!(s.next_line(&mut buf).unwrap().unwrap(), "abc");
    }

    #[test]
    fn shrinking_buffer_restarts_the_scan() {
        let mut s = scanner(b"\n", 100);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        assert_eq!(s.next_line(&mut buf).unwrap(), None);
        buf.clear();
        buf.extend_from_slice(b"a\n");
        assert_eq!(s.next_line(&mut buf).unwrap().unwrap(), "a");
    }
}
