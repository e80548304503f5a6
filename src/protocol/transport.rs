// Tests: tests/protocol.rs, tests/tcp.rs, tests/producers.rs, tests/conformance/test_tcp.rs,
// tests/conformance/test_protocol.rs

//! `Transport`: the handle a protocol writes through, and the outbox behind it that a
//! connection driver drains (or [`StringTransport`](crate::testing::StringTransport)
//! records).

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;

use super::address::Address;
use super::producer::{Producer, ProducerAlreadyRegistered, ProducerKind};
use crate::lock::lock;

/// Writes shorter than this are copied into one growing buffer, longer ones become chunks
/// of their own; either way a flush is one vectored write.
const COALESCE_LIMIT: usize = 4096;

/// Twisted's `bufferSize` (`2**2**2**2`): above this many unsent bytes a streaming producer
/// is paused.
const HIGH_WATER: usize = 65536;

/// A connection's write side, as a handle: Twisted's `ITransport`, `ITCPTransport` and
/// `IConsumer`, and a push producer over its read side.
///
/// A `Transport` is `Clone + Send + Sync`, so a Deferred callback, a timer or another
/// thread can write to a connection whose protocol lives on the reactor thread. Writes are
/// only buffered: the connection flushes them when the current event (a protocol method,
/// a timer, a call from a thread) returns, as one vectored write, so many small writes
/// cost one system call.
///
/// Twisted's rules for the edges:
///
/// - after [`lose_connection`](Self::lose_connection) no more data is delivered to the
///   protocol; what was written, even after the call, is still sent, then the connection
///   closes;
/// - once the protocol has seen `connection_lost`, writes are ignored;
/// - [`abort_connection`](Self::abort_connection) drops unsent data and resets the
///   connection.
///
/// ```
/// use tokio_twisted::testing::StringTransport;
///
/// let t = StringTransport::new();
/// let transport = t.transport(); // what a protocol gets in connection_made
/// transport.write(b"hello ");
/// transport.write_sequence([bytes::Bytes::from_static(b"world")]);
/// transport.lose_connection();
/// assert!(transport.disconnecting());
/// assert_eq!(t.value(), b"hello world");
/// ```
#[doc(alias = "ITransport")]
#[doc(alias = "ITCPTransport")]
#[doc(alias = "IConsumer")]
#[derive(Clone)]
pub struct Transport {
    pub(crate) shared: Arc<TransportShared>,
}

/// What a transport shares with the connection driving it.
pub(crate) struct TransportShared {
    pub(crate) outbox: Mutex<Outbox>,
    /// Wakes the driver: data to flush, a close, a change of reading or of socket options.
    /// A permit is stored, so a wake-up from another thread is never lost.
    pub(crate) notify: Notify,
    pub(crate) peer: Address,
    pub(crate) host: Address,
    /// `StringTransport` records the producer calls instead of making them.
    pub(crate) recording: bool,
}

/// The registered producer and how it is driven.
pub(crate) struct ProducerSlot {
    /// `None` while the driver is calling it (outside the lock).
    pub(crate) producer: Option<Box<dyn Producer>>,
    pub(crate) kind: ProducerKind,
    /// Bumped by every register/unregister, so a producer handed back after a call
    /// that unregistered it is dropped instead of restored.
    pub(crate) generation: u64,
    /// Twisted's `producerPaused`: paused by this transport, owed a resume.
    pub(crate) paused: bool,
    /// Out of the slot for a `pause_producing` call: a write it makes past the mark does
    /// not pause it again (Twisted would recurse into `pauseProducing` without bound).
    pub(crate) pausing: bool,
    /// A write passed the mark while the producer could not be called there (it was out
    /// for another call, or the write came from another thread): the connection pauses
    /// it as soon as it is back, before anything else.
    pub(crate) pause_owed: bool,
}

impl ProducerSlot {
    /// Twisted's `_maybePauseProducer`, for a write that left more than the mark
    /// buffered: marks a streaming producer paused and hands it out to be paused by the
    /// writer, or records the pause as owed when it cannot be called here.
    fn pause_for_write(&mut self, home: Option<ThreadId>) -> Option<(Box<dyn Producer>, u64)> {
        if self.kind != ProducerKind::Streaming {
            return None;
        }
        self.paused = true;
        if self.pausing {
            return None;
        }
        let here = home.is_some_and(|home| home == std::thread::current().id());
        match self.producer.take() {
            Some(producer) if here => {
                self.pausing = true;
                Some((producer, self.generation))
            }
            other => {
                self.producer = other;
                self.pause_owed = true;
                None
            }
        }
    }
}

/// The buffered writes and the flags set through the handle, read by the driver.
///
/// Flags, each set once and never cleared unless noted:
#[derive(Default)]
pub(crate) struct Outbox {
    /// Chunks waiting to be sent, in order; `tail` follows them.
    pub(crate) chunks: VecDeque<Bytes>,
    /// Small writes, copied together.
    pub(crate) tail: BytesMut,
    /// Bytes in `chunks` and `tail`, plus what the driver took but has not sent yet.
    pub(crate) len: usize,
    /// `lose_connection` was called (Twisted's `disconnecting`).
    pub(crate) disconnecting: bool,
    /// `lose_write_connection` was called (Twisted's `_writeDisconnecting`).
    pub(crate) write_disconnecting: bool,
    /// The write side is shut: writes are dropped (Twisted's `_writeDisconnected`).
    pub(crate) write_disconnected: bool,
    /// `abort_connection` was called.
    pub(crate) aborted: bool,
    /// The protocol has seen `connection_lost`: writes are ignored.
    pub(crate) lost: bool,
    /// Reading paused through the transport's own `pause_producing`; cleared by
    /// `resume_producing`.
    pub(crate) reading_paused: bool,
    /// Set while the driver runs an event: writes need no wake-up, the flush follows.
    pub(crate) dispatching: bool,
    /// The thread the connection runs on (set by its driver): a write made there pauses
    /// the producer at once; a write from another thread leaves the pause to the driver,
    /// so producers are only ever called on the reactor thread.
    pub(crate) home: Option<ThreadId>,
    pub(crate) producer: Option<ProducerSlot>,
    pub(crate) generation: u64,
    /// Socket options as last set (TCP); `options_dirty` until the driver applies them.
    pub(crate) nodelay: bool,
    pub(crate) keepalive: bool,
    pub(crate) options_dirty: bool,
    /// What `StringTransport` records of the transport-as-producer calls.
    pub(crate) producer_state: ProducerState,
}

/// The state of a transport seen as a push producer over its read side (Twisted's
/// `StringTransport.producerState`).
///
/// ```
/// use tokio_twisted::protocol::ProducerState;
/// use tokio_twisted::testing::StringTransport;
///
/// let t = StringTransport::new();
/// t.transport().pause_producing();
/// assert_eq!(t.producer_state(), ProducerState::Paused);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProducerState {
    /// Reading (the initial state).
    #[default]
    Producing,
    /// Paused by `pause_producing`.
    Paused,
    /// Stopped by `stop_producing`.
    Stopped,
}

impl Outbox {
    fn push_slice(&mut self, data: &[u8]) {
        if data.len() < COALESCE_LIMIT {
            self.tail.extend_from_slice(data);
        } else {
            self.seal_tail();
            self.chunks.push_back(Bytes::copy_from_slice(data));
        }
        self.len += data.len();
    }

    fn push_bytes(&mut self, data: Bytes) {
        if data.len() < COALESCE_LIMIT / 4 {
            self.tail.extend_from_slice(&data);
            self.len += data.len();
            return;
        }
        self.seal_tail();
        self.len += data.len();
        self.chunks.push_back(data);
    }

    /// Moves the small writes into `chunks`, keeping their order.
    pub(crate) fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            let tail = self.tail.split().freeze();
            self.chunks.push_back(tail);
        }
    }

    /// Whether writes are accepted (Twisted: connected and not write-disconnected).
    fn accepts_writes(&self) -> bool {
        !self.lost && !self.aborted && !self.write_disconnected
    }
}

impl TransportShared {
    pub(crate) fn new(peer: Address, host: Address, recording: bool) -> Arc<Self> {
        Arc::new(TransportShared {
            outbox: Mutex::new(Outbox::default()),
            notify: Notify::new(),
            peer,
            host,
            recording,
        })
    }
}

impl Transport {
    pub(crate) fn from_shared(shared: Arc<TransportShared>) -> Self {
        Transport { shared }
    }

    /// Runs `f` on the outbox and wakes the driver when `f` says so and no event is being
    /// dispatched (the flush after the event picks the change up).
    fn update(&self, f: impl FnOnce(&mut Outbox) -> bool) {
        let mut outbox = lock(&self.shared.outbox);
        let wake = f(&mut outbox) && !outbox.dispatching;
        drop(outbox);
        if wake {
            self.shared.notify.notify_one();
        }
    }

    /// What every write does once its bytes are queued: wakes the driver (unless an event
    /// is being dispatched, whose flush follows), and pauses a streaming producer when the
    /// buffer now holds more than 64 KiB, from inside the write as Twisted's `write` does.
    /// The producer is taken out of the slot and called with no lock held, so it may
    /// write to this transport (or pause others) from `pause_producing`.
    fn after_write(&self, mut outbox: MutexGuard<'_, Outbox>) {
        let pause = if outbox.len > HIGH_WATER && !self.shared.recording {
            let home = outbox.home;
            outbox
                .producer
                .as_mut()
                .and_then(|slot| slot.pause_for_write(home))
        } else {
            None
        };
        let wake = !outbox.dispatching;
        drop(outbox);
        if wake {
            self.shared.notify.notify_one();
        }
        if let Some((mut producer, generation)) = pause {
            let result = catch_unwind(AssertUnwindSafe(|| producer.pause_producing()));
            self.restore_producer(producer, generation);
            if let Err(panic) = result {
                // The writer's caller sees the panic, as it would see the exception
                // raised by `pauseProducing` in Twisted; the producer stays registered.
                resume_unwind(panic);
            }
        }
    }

    /// Buffers `data` to be sent: Twisted's `write`. Ignored once the connection is lost,
    /// aborted, or its write side is closed; never blocks.
    ///
    /// When this write leaves more than 64 KiB waiting to be sent and a streaming
    /// producer is registered, the producer's
    /// [`pause_producing`](Producer::pause_producing) is called before `write` returns
    /// (on every such write, as in Twisted), unless the producer is itself being called
    /// at that moment; see [`register_producer`](Self::register_producer).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write(b"abc");
    /// assert_eq!(t.value(), b"abc");
    /// ```
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut outbox = lock(&self.shared.outbox);
        if !outbox.accepts_writes() {
            return;
        }
        outbox.push_slice(data);
        self.after_write(outbox);
    }

    /// Buffers `data` without copying it (a [`Bytes`] is reference-counted).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write_bytes(bytes::Bytes::from(vec![1, 2, 3]));
    /// assert_eq!(t.value(), [1, 2, 3]);
    /// ```
    pub fn write_bytes(&self, data: Bytes) {
        self.write_sequence([data]);
    }

    /// Buffers each chunk, in order, without copying them into one buffer: Twisted's
    /// `writeSequence`. Pauses a streaming producer as [`write`](Self::write) does.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// use bytes::Bytes;
    /// let t = StringTransport::new();
    /// t.transport().write_sequence([Bytes::from_static(b"line"), Bytes::from_static(b"\r\n")]);
    /// assert_eq!(t.value(), b"line\r\n");
    /// ```
    #[doc(alias = "writeSequence")]
    pub fn write_sequence<I>(&self, chunks: I)
    where
        I: IntoIterator<Item = Bytes>,
    {
        let mut outbox = lock(&self.shared.outbox);
        if !outbox.accepts_writes() {
            return;
        }
        let before = outbox.len;
        for chunk in chunks {
            if !chunk.is_empty() {
                outbox.push_bytes(chunk);
            }
        }
        if outbox.len != before {
            self.after_write(outbox);
        }
    }

    /// Closes the connection once everything written has been sent: Twisted's
    /// `loseConnection`.
    ///
    /// Reading stops at once, so the protocol receives no more data. Writes made after this
    /// call, until `connection_lost`, are still sent. With a registered pull producer, or
    /// a streaming one that is paused, the connection stays open until the producer is
    /// unregistered (Twisted's rule). The protocol sees `connection_lost` with
    /// [`ConnectionDone`](crate::error::ConnectionDone). A second call does nothing.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().lose_connection();
    /// assert!(t.disconnecting());
    /// ```
    #[doc(alias = "loseConnection")]
    pub fn lose_connection(&self) {
        self.update(|o| {
            if o.lost || o.disconnecting {
                return false;
            }
            o.disconnecting = true;
            true
        });
    }

    /// Closes the write side (a TCP half-close, `shutdown(SHUT_WR)`) once everything
    /// written has been sent, keeping the read side open: Twisted's `loseWriteConnection`.
    /// A half-closeable protocol then sees
    /// [`write_connection_lost`](crate::protocol::Protocol::write_connection_lost).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().lose_write_connection();
    /// assert!(!t.disconnecting()); // still reading
    /// ```
    #[doc(alias = "loseWriteConnection")]
    pub fn lose_write_connection(&self) {
        self.update(|o| {
            if o.lost || o.write_disconnecting {
                return false;
            }
            o.write_disconnecting = true;
            true
        });
    }

    /// Closes the connection at once, dropping unsent data and resetting it (TCP `RST`):
    /// Twisted's `abortConnection`. The protocol sees `connection_lost` with
    /// [`ConnectionAborted`](crate::error::ConnectionAborted), after the current event
    /// returns (never from inside this call); the peer sees
    /// [`ConnectionLost`](crate::error::ConnectionLost).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write(b"dropped");
    /// t.transport().abort_connection();
    /// assert!(t.aborted());
    /// ```
    #[doc(alias = "abortConnection")]
    pub fn abort_connection(&self) {
        let recording = self.shared.recording;
        self.update(|o| {
            if o.lost || o.aborted {
                return false;
            }
            o.aborted = true;
            o.disconnecting = true;
            if !recording {
                o.chunks.clear();
                o.tail.clear();
                o.len = 0;
            }
            true
        });
    }

    /// Whether [`lose_connection`](Self::lose_connection) (or an abort) was called:
    /// Twisted's `disconnecting`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// assert!(!t.transport().disconnecting());
    /// ```
    pub fn disconnecting(&self) -> bool {
        lock(&self.shared.outbox).disconnecting
    }

    /// Whether the protocol has already seen `connection_lost` (or the connection was
    /// aborted): writes are ignored from then on.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// assert!(!StringTransport::new().transport().is_lost());
    /// ```
    pub fn is_lost(&self) -> bool {
        lock(&self.shared.outbox).lost
    }

    /// The address of the other end: Twisted's `getPeer`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// assert_eq!(t.transport().peer().to_string(), "tcp:192.168.1.1:54321");
    /// ```
    #[doc(alias = "getPeer")]
    pub fn peer(&self) -> Address {
        self.shared.peer.clone()
    }

    /// The address of this end: Twisted's `getHost`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// assert_eq!(t.transport().host().to_string(), "tcp:10.0.0.1:12345");
    /// ```
    #[doc(alias = "getHost")]
    pub fn host(&self) -> Address {
        self.shared.host.clone()
    }

    /// Bytes written but not yet sent.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().write(b"1234");
    /// assert_eq!(t.transport().buffered(), 4);
    /// ```
    pub fn buffered(&self) -> usize {
        lock(&self.shared.outbox).len
    }

    /// Turns Nagle's algorithm off (`true`) or on: Twisted's `setTcpNoDelay`. Applied by
    /// the connection after the current event; ignored by transports that are not TCP.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().set_tcp_nodelay(true);
    /// assert!(t.transport().tcp_nodelay());
    /// ```
    #[doc(alias = "setTcpNoDelay")]
    pub fn set_tcp_nodelay(&self, enabled: bool) {
        self.update(|o| {
            o.nodelay = enabled;
            o.options_dirty = true;
            true
        });
    }

    /// Whether `TCP_NODELAY` is set (or asked for): Twisted's `getTcpNoDelay`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// assert!(!StringTransport::new().transport().tcp_nodelay());
    /// ```
    #[doc(alias = "getTcpNoDelay")]
    pub fn tcp_nodelay(&self) -> bool {
        lock(&self.shared.outbox).nodelay
    }

    /// Turns `SO_KEEPALIVE` on or off: Twisted's `setTcpKeepAlive`. Applied by the
    /// connection after the current event.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().set_tcp_keepalive(true);
    /// assert!(t.transport().tcp_keepalive());
    /// ```
    #[doc(alias = "setTcpKeepAlive")]
    pub fn set_tcp_keepalive(&self, enabled: bool) {
        self.update(|o| {
            o.keepalive = enabled;
            o.options_dirty = true;
            true
        });
    }

    /// Whether `SO_KEEPALIVE` is set (or asked for): Twisted's `getTcpKeepAlive`.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// assert!(!StringTransport::new().transport().tcp_keepalive());
    /// ```
    #[doc(alias = "getTcpKeepAlive")]
    pub fn tcp_keepalive(&self) -> bool {
        lock(&self.shared.outbox).keepalive
    }

    /// Registers a producer feeding this transport: Twisted's `registerProducer`.
    ///
    /// A [`ProducerKind::Streaming`] (push) producer is paused by every
    /// [`write`](Self::write) or [`write_sequence`](Self::write_sequence) that leaves more
    /// than 64 KiB waiting to be sent, from inside that call (as in Twisted), and resumed
    /// once, when everything has been sent. A [`ProducerKind::Pull`] producer is resumed
    /// at once and then each time everything has been sent. Both are stopped when the
    /// connection is lost. Registering on a transport whose connection is already lost
    /// stops the producer at once.
    ///
    /// The producer is never called with a lock held and never re-entered: a write it
    /// makes from `pause_producing` does not pause it again (Twisted would recurse), and
    /// a write past the mark while it is being resumed, or from a thread other than the
    /// reactor's, pauses it as soon as that call returns (or on the reactor thread).
    ///
    /// # Errors
    ///
    /// [`ProducerAlreadyRegistered`] (handing the producer back) if another producer is
    /// registered and was not unregistered.
    ///
    /// ```
    /// use tokio_twisted::protocol::{Producer, ProducerKind};
    /// use tokio_twisted::testing::StringTransport;
    ///
    /// struct Quiet;
    /// impl Producer for Quiet {
    ///     fn resume_producing(&mut self) {}
    ///     fn stop_producing(&mut self) {}
    /// }
    /// let t = StringTransport::new();
    /// t.transport().register_producer(Quiet, ProducerKind::Streaming).unwrap();
    /// assert!(t.transport().register_producer(Quiet, ProducerKind::Streaming).is_err());
    /// t.transport().unregister_producer();
    /// assert!(t.producer_kind().is_none());
    /// ```
    #[doc(alias = "registerProducer")]
    pub fn register_producer<P: Producer>(
        &self,
        producer: P,
        kind: ProducerKind,
    ) -> Result<(), ProducerAlreadyRegistered> {
        let producer: Box<dyn Producer> = Box::new(producer);
        let mut outbox = lock(&self.shared.outbox);
        if outbox.producer.is_some() {
            return Err(ProducerAlreadyRegistered::new(producer));
        }
        if outbox.lost {
            drop(outbox);
            let mut producer = producer;
            producer.stop_producing();
            return Ok(());
        }
        outbox.generation += 1;
        let generation = outbox.generation;
        let call_now = kind == ProducerKind::Pull && !self.shared.recording;
        let (stored, held) = if call_now {
            (None, Some(producer))
        } else {
            (Some(producer), None)
        };
        outbox.producer = Some(ProducerSlot {
            producer: stored,
            kind,
            generation,
            paused: false,
            pausing: false,
            pause_owed: false,
        });
        drop(outbox);
        if let Some(mut producer) = held {
            // Twisted resumes a pull producer from inside registerProducer.
            producer.resume_producing();
            self.restore_producer(producer, generation);
        }
        Ok(())
    }

    /// Removes the registered producer without disconnecting: Twisted's
    /// `unregisterProducer`. If [`lose_connection`](Self::lose_connection) was waiting
    /// for it, the connection now closes once its buffer is sent.
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// StringTransport::new().transport().unregister_producer(); // nothing registered: fine
    /// ```
    #[doc(alias = "unregisterProducer")]
    pub fn unregister_producer(&self) {
        let removed = {
            let mut outbox = lock(&self.shared.outbox);
            outbox.generation += 1;
            let removed = outbox.producer.take();
            if removed.is_some() && !outbox.dispatching {
                self.shared.notify.notify_one();
            }
            removed
        };
        drop(removed);
    }

    /// Puts a producer back after calling it outside the lock, unless it was unregistered
    /// (or replaced) meanwhile.
    pub(crate) fn restore_producer(&self, producer: Box<dyn Producer>, generation: u64) {
        let mut outbox = lock(&self.shared.outbox);
        match &mut outbox.producer {
            Some(slot) if slot.generation == generation && slot.producer.is_none() => {
                slot.pausing = false;
                slot.producer = Some(producer);
            }
            _ => {
                drop(outbox);
                drop(producer);
            }
        }
    }

    /// Pauses reading: the transport as a push producer (Twisted's `pauseProducing`, which
    /// is `stopReading`). The protocol receives no data until
    /// [`resume_producing`](Self::resume_producing).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// # use tokio_twisted::protocol::ProducerState;
    /// let t = StringTransport::new();
    /// t.transport().pause_producing();
    /// t.transport().resume_producing();
    /// assert_eq!(t.producer_state(), ProducerState::Producing);
    /// ```
    #[doc(alias = "pauseProducing")]
    #[doc(alias = "stopReading")]
    pub fn pause_producing(&self) {
        self.update(|o| {
            if o.producer_state == ProducerState::Stopped {
                return false;
            }
            o.producer_state = ProducerState::Paused;
            o.reading_paused = true;
            true
        });
    }

    /// Resumes reading after [`pause_producing`](Self::pause_producing): Twisted's
    /// `resumeProducing` (`startReading`, unless disconnecting).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// StringTransport::new().transport().resume_producing();
    /// ```
    #[doc(alias = "resumeProducing")]
    #[doc(alias = "startReading")]
    pub fn resume_producing(&self) {
        self.update(|o| {
            if o.producer_state == ProducerState::Stopped {
                return false;
            }
            o.producer_state = ProducerState::Producing;
            o.reading_paused = false;
            true
        });
    }

    /// Stops the transport as a producer: Twisted's `stopProducing`, which is
    /// [`lose_connection`](Self::lose_connection).
    ///
    /// ```
    /// # use tokio_twisted::testing::StringTransport;
    /// let t = StringTransport::new();
    /// t.transport().stop_producing();
    /// assert!(t.disconnecting());
    /// ```
    #[doc(alias = "stopProducing")]
    pub fn stop_producing(&self) {
        lock(&self.shared.outbox).producer_state = ProducerState::Stopped;
        self.lose_connection();
    }
}

impl Producer for Transport {
    fn pause_producing(&mut self) {
        Transport::pause_producing(self);
    }

    fn resume_producing(&mut self) {
        Transport::resume_producing(self);
    }

    fn stop_producing(&mut self) {
        Transport::stop_producing(self);
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = lock(&self.shared.outbox);
        f.debug_struct("Transport")
            .field("peer", &self.shared.peer)
            .field("host", &self.shared.host)
            .field("buffered", &o.len)
            .field("disconnecting", &o.disconnecting)
            .field("lost", &o.lost)
            .finish_non_exhaustive()
    }
}
