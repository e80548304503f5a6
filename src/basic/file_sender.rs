// Tests: tests/basic.rs, tests/conformance/test_basic.rs

//! `FileSender`: a pull producer that streams a reader to a transport.

use std::fmt;
use std::io::{self, Read};

use bytes::{Bytes, BytesMut};

use crate::defer::{Deferred, Resolver};
use crate::protocol::{Producer, ProducerAlreadyRegistered, ProducerKind, Transport};

/// What a transfer's Deferred fails with when the consumer stops it before the end: the
/// connection was lost mid-transfer.
///
/// ```
/// use tokio_twisted::basic::TransferStoppedError;
///
/// assert_eq!(TransferStoppedError.to_string(), "consumer asked us to stop producing");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("consumer asked us to stop producing")]
pub struct TransferStoppedError;

/// A function applied to each chunk before it is written.
type Transform = Box<dyn FnMut(Bytes) -> Bytes + Send>;

/// Streams anything [`Read`] to a transport, one chunk each time the transport asks for
/// more: Twisted's `FileSender`, a pull producer.
///
/// [`begin_file_transfer`](Self::begin_file_transfer) registers the sender with the
/// transport as a pull producer and returns a [`Deferred`] that fires, once the reader is
/// exhausted and the producer unregistered, with the last byte written (`None` for an
/// empty reader), as Twisted's fires with `lastSent`. It fails with
/// [`TransferStoppedError`] if the connection is lost first, or with the reader's
/// [`io::Error`].
///
/// A connection asks for the next chunk (`resume_producing`) each time its write buffer has
/// drained, so a slow peer slows the reads down instead of growing memory. Reads are
/// blocking calls on the reactor thread: use it for files and in-memory data, not for
/// readers that may stall.
///
/// ```
/// use std::io::Cursor;
/// use tokio_twisted::basic::FileSender;
/// use tokio_twisted::testing::{StringTransport, success_result_of};
///
/// let wire = StringTransport::new();
/// let done = FileSender::new()
///     .with_chunk_size(4)
///     .begin_file_transfer(Cursor::new(b"Test content".to_vec()), &wire.transport())
///     .unwrap();
/// // A StringTransport does not drive producers: pull chunks by hand.
/// while wire.with_producer(|p| p.resume_producing()).is_some() {}
/// assert_eq!(wire.value(), b"Test content");
/// assert_eq!(success_result_of(done), Some(b't'));
/// ```
#[doc(alias = "twisted.protocols.basic.FileSender")]
pub struct FileSender {
    chunk_size: usize,
    transform: Option<Transform>,
}

impl FileSender {
    /// Twisted's `CHUNK_SIZE`: 16 KiB per read.
    ///
    /// ```
    /// assert_eq!(tokio_twisted::basic::FileSender::CHUNK_SIZE, 16_384);
    /// ```
    pub const CHUNK_SIZE: usize = 1 << 14;

    /// A sender reading [`CHUNK_SIZE`](Self::CHUNK_SIZE) bytes at a time, with no transform.
    ///
    /// ```
    /// let _sender = tokio_twisted::basic::FileSender::new();
    /// ```
    pub fn new() -> Self {
        FileSender {
            chunk_size: Self::CHUNK_SIZE,
            transform: None,
        }
    }

    /// The same sender reading at most `chunk_size` bytes per chunk (at least one).
    ///
    /// ```
    /// let _sender = tokio_twisted::basic::FileSender::new().with_chunk_size(4096);
    /// ```
    #[must_use]
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.max(1);
        self
    }

    /// The same sender passing each chunk through `transform` before writing it (Twisted's
    /// `transform` argument).
    ///
    /// ```
    /// use std::io::Cursor;
    /// use tokio_twisted::basic::FileSender;
    /// use tokio_twisted::testing::{StringTransport, success_result_of};
    ///
    /// let wire = StringTransport::new();
    /// let done = FileSender::new()
    ///     .with_transform(|chunk| chunk.to_ascii_uppercase().into())
    ///     .begin_file_transfer(Cursor::new(b"shout".to_vec()), &wire.transport())
    ///     .unwrap();
    /// while wire.with_producer(|p| p.resume_producing()).is_some() {}
    /// assert_eq!(wire.value(), b"SHOUT");
    /// assert_eq!(success_result_of(done), Some(b'T'));
    /// ```
    #[must_use]
    pub fn with_transform(mut self, transform: impl FnMut(Bytes) -> Bytes + Send + 'static) -> Self {
        self.transform = Some(Box::new(transform));
        self
    }

    /// Starts streaming `file` to `consumer`: Twisted's `beginFileTransfer`.
    ///
    /// # Errors
    ///
    /// [`ProducerAlreadyRegistered`] if the transport already has a producer; nothing is
    /// read then.
    ///
    /// ```
    /// use std::io::Cursor;
    /// use tokio_twisted::basic::FileSender;
    /// use tokio_twisted::protocol::ProducerKind;
    /// use tokio_twisted::testing::StringTransport;
    ///
    /// let wire = StringTransport::new();
    /// let _done = FileSender::new().begin_file_transfer(Cursor::new(vec![1, 2]), &wire.transport()).unwrap();
    /// assert_eq!(wire.producer_kind(), Some(ProducerKind::Pull));
    /// let again = FileSender::new().begin_file_transfer(Cursor::new(vec![3]), &wire.transport());
    /// assert!(again.is_err());
    /// ```
    #[doc(alias = "beginFileTransfer")]
    pub fn begin_file_transfer<R>(
        self,
        file: R,
        consumer: &Transport,
    ) -> Result<Deferred<Option<u8>>, ProducerAlreadyRegistered>
    where
        R: Read + Send + 'static,
    {
        let (done, resolver) = Deferred::new();
        let producer = FileProducer {
            file: Some(file),
            consumer: consumer.clone(),
            chunk_size: self.chunk_size,
            transform: self.transform,
            resolver: Some(resolver),
            last_sent: None,
        };
        consumer.register_producer(producer, ProducerKind::Pull)?;
        Ok(done)
    }
}

impl Default for FileSender {
    fn default() -> Self {
        FileSender::new()
    }
}

impl fmt::Debug for FileSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSender")
            .field("chunk_size", &self.chunk_size)
            .field("transform", &self.transform.is_some())
            .finish()
    }
}

/// The registered producer: one transfer in progress.
struct FileProducer<R> {
    /// `None` once the reader is exhausted or failed.
    file: Option<R>,
    consumer: Transport,
    chunk_size: usize,
    transform: Option<Transform>,
    /// `None` once the transfer's Deferred has fired.
    resolver: Option<Resolver<Option<u8>>>,
    last_sent: Option<u8>,
}

impl<R: Read> FileProducer<R> {
    fn read_chunk(file: &mut R, chunk_size: usize) -> io::Result<Bytes> {
        let mut buf = BytesMut::zeroed(chunk_size);
        loop {
            match file.read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf.freeze());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn finish(&mut self, result: io::Result<()>) {
        self.file = None;
        self.consumer.unregister_producer();
        if let Some(resolver) = self.resolver.take() {
            // The resolver is used once, here or in stop_producing.
            let _ = match result {
                Ok(()) => resolver.callback(self.last_sent),
                Err(e) => resolver.errback(e),
            };
        }
    }
}

impl<R: Read + Send + 'static> Producer for FileProducer<R> {
    fn resume_producing(&mut self) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let chunk = match Self::read_chunk(file, self.chunk_size) {
            Ok(chunk) if chunk.is_empty() => return self.finish(Ok(())),
            Ok(chunk) => chunk,
            Err(e) => return self.finish(Err(e)),
        };
        let chunk = match &mut self.transform {
            Some(transform) => transform(chunk),
            None => chunk,
        };
        self.last_sent = chunk.last().copied();
        self.consumer.write_bytes(chunk);
    }

    fn stop_producing(&mut self) {
        self.file = None;
        if let Some(resolver) = self.resolver.take() {
            let _ = resolver.errback(TransferStoppedError);
        }
    }
}
