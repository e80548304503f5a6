// Tests: tests/protocol.rs, tests/tcp.rs, tests/producers.rs, tests/conformance/test_tcp.rs,
// tests/conformance/test_protocol.rs

//! `Transport`: the handle a protocol writes through (the outbox behind it is in
//! `outbox.rs`).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use bytes::Bytes;

use super::address::Address;
use super::outbox::{HIGH_WATER, Outbox, ProducerSlot, ProducerState, TransportShared};
use super::producer::{Producer, ProducerAlreadyRegistered, ProducerKind};
use crate::lock::lock;

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

impl Transport {
    pub(crate) fn from_shared(shared: Arc<TransportShared>) -> Self {
        Transport { shared }
    }

    /// Runs `f` on the outbox and wakes the driver when `f` says so and no event is being
    /// dispatched (the flush after the event picks the change up).
    fn update(&self, f: impl FnOnce(&mut Outbox) -> bool) {
        let mut outbox = lock(&self.shared.outbox);
        let wake = f(&mut outbox) && !self.shared.dispatching.load(Ordering::Relaxed);
        drop(outbox);
        if wake {
            self.shared.wake.wake();
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
        let wake = !self.shared.dispatching.load(Ordering::Relaxed);
        drop(outbox);
        if wake {
            self.shared.wake.wake();
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
        self.write_joined(&[data]);
    }

    /// Buffers the concatenation of `parts` as one write (one producer check, one
    /// wake-up), as Twisted's `sendLine` writes `line + delimiter`.
    pub(crate) fn write_joined(&self, parts: &[&[u8]]) {
        let mut outbox = lock(&self.shared.outbox);
        if !outbox.accepts_writes() {
            return;
        }
        let before = outbox.len;
        for part in parts {
            if !part.is_empty() {
                outbox.push_slice(part);
            }
        }
        if outbox.len != before {
            self.after_write(outbox);
        }
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
            o.set_disconnecting(&self.shared);
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
            o.set_disconnecting(&self.shared);
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
        self.shared.disconnecting.load(Ordering::Acquire)
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
            if removed.is_some() && !self.shared.dispatching.load(Ordering::Relaxed) {
                self.shared.wake.wake();
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
