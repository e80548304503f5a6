// Tests: tests/protocol.rs, tests/tcp.rs, tests/producers.rs, tests/conformance/test_tcp.rs,
// tests/conformance/test_protocol.rs

//! The state behind a [`Transport`](super::Transport): the outbox of buffered writes and
//! flags that a connection driver drains (or
//! [`StringTransport`](crate::testing::StringTransport) records), the registered
//! producer's slot, and how handles wake the driver.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::ThreadId;

use bytes::{Bytes, BytesMut};
use futures::task::AtomicWaker;

use super::address::Address;
use super::producer::{Producer, ProducerKind};

/// A borrowed write (`&[u8]`) up to this size is copied into the buffer of small writes,
/// which the connection hands back once sent, so a steady stream of writes allocates
/// nothing; a longer one gets a buffer of its own. Either way a flush is one vectored
/// write.
const COALESCE_LIMIT: usize = 65536;
/// A `Bytes` shorter than this is copied too (cheaper than a chunk of its own); longer
/// ones are queued as they are, without copying.
const COPY_BYTES_LIMIT: usize = 1024;

/// Twisted's `bufferSize` (`2**2**2**2`): above this many unsent bytes a streaming producer
/// is paused.
pub(super) const HIGH_WATER: usize = 65536;

/// What a transport shares with the connection driving it.
pub(crate) struct TransportShared {
    pub(crate) outbox: Mutex<Outbox>,
    /// Wakes the driver: data to flush, a close, a change of reading or of socket options.
    pub(crate) wake: DriverWake,
    /// Set while the driver runs an event: writes need no wake-up, the flush follows.
    /// Read with the outbox locked (the driver clears it before locking the outbox to
    /// flush), so a write that sees it set is always seen by that flush.
    pub(crate) dispatching: AtomicBool,
    /// The outbox's `disconnecting`, readable without the lock (framers ask after every
    /// message); set with the outbox locked, at the same time, and never cleared.
    pub(crate) disconnecting: AtomicBool,
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
    pub(super) fn pause_for_write(&mut self, home: Option<ThreadId>) -> Option<(Box<dyn Producer>, u64)> {
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
    pub(super) fn push_slice(&mut self, data: &[u8]) {
        if self.tail.len() + data.len() <= COALESCE_LIMIT {
            self.tail.extend_from_slice(data);
        } else if data.len() <= COALESCE_LIMIT {
            // The buffer of small writes never grows past the limit: growing it would copy
            // what it holds again.
            self.seal_tail();
            self.tail.extend_from_slice(data);
        } else {
            self.seal_tail();
            self.chunks.push_back(Bytes::copy_from_slice(data));
        }
        self.len += data.len();
    }

    pub(super) fn push_bytes(&mut self, data: Bytes) {
        if data.len() < COPY_BYTES_LIMIT {
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

    /// Sets `disconnecting`, and its lock-free copy in `shared`.
    pub(crate) fn set_disconnecting(&mut self, shared: &TransportShared) {
        self.disconnecting = true;
        shared.disconnecting.store(true, Ordering::Release);
    }

    /// Whether writes are accepted (Twisted: connected and not write-disconnected).
    pub(super) fn accepts_writes(&self) -> bool {
        !self.lost && !self.aborted && !self.write_disconnected
    }
}

/// How handles wake a connection's driver: a flag, so a wake-up from another thread is
/// never lost, and the driver's waker. Cheaper than a `Notify` for the driver, which
/// registers on every wait: registering the same waker again is two atomic operations.
#[derive(Default)]
pub(crate) struct DriverWake {
    woken: AtomicBool,
    waker: AtomicWaker,
}

impl DriverWake {
    pub(crate) fn wake(&self) {
        self.woken.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready (once) after a [`wake`](Self::wake); otherwise registers `cx`'s waker.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.woken.swap(false, Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.woken.swap(false, Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The waker the connection's driver gives the reactor's shutdown token: shutdown wakes
/// the driver the way a handle does, so the driver looks at the token only then.
impl std::task::Wake for TransportShared {
    fn wake(self: Arc<Self>) {
        self.wake.wake();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake.wake();
    }
}

impl TransportShared {
    pub(crate) fn new(peer: Address, host: Address, recording: bool) -> Arc<Self> {
        Arc::new(TransportShared {
            outbox: Mutex::new(Outbox::default()),
            wake: DriverWake::default(),
            dispatching: AtomicBool::new(false),
            disconnecting: AtomicBool::new(false),
            peer,
            host,
            recording,
        })
    }
}
