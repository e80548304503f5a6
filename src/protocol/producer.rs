// Tests: tests/protocol.rs, tests/tcp.rs, tests/producers.rs, tests/conformance/test_tcp.rs

//! Producers: Twisted's `IPushProducer` and `IPullProducer`, as one trait and a kind.

use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Something that writes to a transport at its own pace and can be asked to pause:
/// Twisted's `IProducer` (`IPushProducer` with [`ProducerKind::Streaming`],
/// `IPullProducer` with [`ProducerKind::Pull`]).
///
/// The transport calls these methods on the reactor thread, never while one of its locks
/// is held, so a producer may write to the transport from inside them. A producer is
/// `Send` because the transport holding it is.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tokio_twisted::protocol::{Producer, ProducerKind, Transport};
/// use tokio_twisted::testing::StringTransport;
///
/// /// Writes one chunk per resume (a pull producer).
/// struct Countdown { transport: Transport, left: u32 }
/// impl Producer for Countdown {
///     fn resume_producing(&mut self) {
///         if self.left == 0 {
///             self.transport.unregister_producer();
///         } else {
///             self.transport.write(self.left.to_string().as_bytes());
///             self.left -= 1;
///         }
///     }
///     fn stop_producing(&mut self) { self.left = 0; }
/// }
///
/// let t = StringTransport::new();
/// let transport = t.transport();
/// transport.register_producer(Countdown { transport: transport.clone(), left: 3 }, ProducerKind::Pull).unwrap();
/// // A StringTransport does not drive producers; a connection resumes it each time its
/// // buffer empties.
/// assert_eq!(t.producer_kind(), Some(ProducerKind::Pull));
/// ```
#[doc(alias = "IProducer")]
#[doc(alias = "IPushProducer")]
#[doc(alias = "IPullProducer")]
pub trait Producer: Send + 'static {
    /// Stop producing until [`resume_producing`](Self::resume_producing): the transport's
    /// buffer is full. Only streaming producers are paused, from inside the write that
    /// filled the buffer past 64 KiB (so the writer sees the pause as soon as its write
    /// returns).
    #[doc(alias = "pauseProducing")]
    fn pause_producing(&mut self) {}

    /// A streaming producer: go on after a pause. A pull producer: write the next piece.
    #[doc(alias = "resumeProducing")]
    fn resume_producing(&mut self);

    /// Stop for good: the connection is lost.
    #[doc(alias = "stopProducing")]
    fn stop_producing(&mut self);
}

impl Producer for Box<dyn Producer> {
    fn pause_producing(&mut self) {
        (**self).pause_producing();
    }

    fn resume_producing(&mut self) {
        (**self).resume_producing();
    }

    fn stop_producing(&mut self) {
        (**self).stop_producing();
    }
}

/// How a registered producer is driven (Twisted's `streaming` flag of
/// `registerProducer`).
///
/// ```
/// use tokio_twisted::protocol::ProducerKind;
/// assert_ne!(ProducerKind::Streaming, ProducerKind::Pull);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProducerKind {
    /// A push producer (`streaming=True`): it writes on its own and is paused above the
    /// high-water mark, resumed when the buffer is empty.
    Streaming,
    /// A pull producer (`streaming=False`): it writes only when resumed, which happens
    /// at registration and each time the buffer empties.
    Pull,
}

/// [`Transport::register_producer`](crate::protocol::Transport::register_producer) while
/// another producer is registered (Twisted raises `RuntimeError`). Holds the refused
/// producer.
///
/// ```
/// use tokio_twisted::protocol::{Producer, ProducerKind};
/// use tokio_twisted::testing::StringTransport;
///
/// struct P;
/// impl Producer for P { fn resume_producing(&mut self) {} fn stop_producing(&mut self) {} }
/// let t = StringTransport::new();
/// t.transport().register_producer(P, ProducerKind::Pull).unwrap();
/// let err = t.transport().register_producer(P, ProducerKind::Pull).unwrap_err();
/// assert_eq!(err.to_string(), "a producer is already registered");
/// let _refused: Box<dyn Producer> = err.into_producer();
/// ```
#[derive(thiserror::Error)]
#[error("a producer is already registered")]
pub struct ProducerAlreadyRegistered {
    // A Mutex only to make the error `Sync`, so it can become a `Failure`.
    producer: Mutex<Box<dyn Producer>>,
}

impl ProducerAlreadyRegistered {
    pub(crate) fn new(producer: Box<dyn Producer>) -> Self {
        Self {
            producer: Mutex::new(producer),
        }
    }

    /// The producer that was refused.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Producer, ProducerKind};
    /// # use tokio_twisted::testing::StringTransport;
    /// # struct P;
    /// # impl Producer for P { fn resume_producing(&mut self) {} fn stop_producing(&mut self) {} }
    /// # let t = StringTransport::new();
    /// # t.transport().register_producer(P, ProducerKind::Pull).unwrap();
    /// let back = t.transport().register_producer(P, ProducerKind::Pull).unwrap_err().into_producer();
    /// # drop(back);
    /// ```
    pub fn into_producer(self) -> Box<dyn Producer> {
        self.producer.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ProducerAlreadyRegistered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerAlreadyRegistered")
            .finish_non_exhaustive()
    }
}
