// Tests: tests/tcp.rs, tests/producers.rs, tests/load.rs, tests/conformance/test_tcp.rs

//! The connection driver: one task per connection, on the reactor thread, owning the
//! socket, the read buffer and the protocol.
//!
//! Each turn of the loop waits (`select!`) for the reactor's shutdown token, the
//! transport's `Notify` (a write, a close or a pause from a handle) and the socket's
//! readiness; then it runs at most one protocol event synchronously and flushes the
//! outbox with vectored writes until it is empty or the socket would block. The outbox
//! lock is never held while the protocol or a producer runs.
//!
//! The connection's states, as flags on the driver and the outbox:
//!
//! - open: reading (unless paused through the transport) and writing;
//! - `read_closed`: the peer half-closed and the protocol is half-closeable; no more reads;
//! - `write_disconnected` (outbox): our write side is shut; writes are dropped;
//! - closed: `connection_lost` has been delivered (outbox `lost`); the task returns.

use std::future::Future;
use std::io::{self, IoSlice};
use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{Interest, Ready};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::producer::ProducerKind;
use super::protocol::Protocol;
use super::transport::Transport;
use crate::error::{ConnectionAborted, ConnectionDone, ConnectionLost};
use crate::failure::Failure;
use crate::lock::lock;

/// How many buffers one vectored write takes at most.
const MAX_IOVECS: usize = 64;
/// The first read reserves this much; a read that fills the buffer doubles it, up to
/// `MAX_READ` (Twisted reads up to 64 KiB per event).
const MIN_READ: usize = 4096;
const MAX_READ: usize = 65536;

/// A connected stream the driver can run: TCP now, UNIX sockets alike (tokio's
/// `TcpStream` and `UnixStream` have these methods).
pub(crate) trait SocketStream: 'static {
    /// Waits for any of `interest`; may report readiness spuriously.
    fn ready(&self, interest: Interest) -> impl Future<Output = io::Result<Ready>>;
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize>;
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// `shutdown(SHUT_WR)`: the half-close.
    fn shutdown_write(&self) -> io::Result<()>;
    /// Makes closing send a reset (`SO_LINGER` 0), for an abort.
    fn reset_on_close(&self) -> io::Result<()>;
    fn set_nodelay(&self, enabled: bool) -> io::Result<()>;
    fn set_keepalive(&self, enabled: bool) -> io::Result<()>;
}

/// How a connection ended, before it becomes the `Failure` the protocol sees.
enum End {
    Done,
    Lost(Option<io::Error>),
    Aborted,
    Panicked(Failure),
}

impl End {
    fn into_failure(self) -> Failure {
        match self {
            End::Done => Failure::new(ConnectionDone),
            End::Lost(None) => Failure::new(ConnectionLost::new()),
            End::Lost(Some(e)) => Failure::new(ConnectionLost::from_io(e)),
            End::Aborted => Failure::new(ConnectionAborted),
            End::Panicked(f) => f,
        }
    }
}

/// Runs one connection until it closes; returns the reason given to `connection_lost`
/// (already delivered). `span` carries the peer and local addresses.
pub(crate) async fn run_connection<S, P>(
    stream: S,
    protocol: P,
    transport: Transport,
    shutdown: CancellationToken,
    span: tracing::Span,
) -> Failure
where
    S: SocketStream,
    P: Protocol,
{
    let driver = Driver {
        stream: Some(stream),
        protocol,
        transport,
        read_buf: BytesMut::new(),
        read_size: MIN_READ,
        sending: std::collections::VecDeque::new(),
        read_closed: false,
        want_write: false,
    };
    driver.run(shutdown).instrument(span).await
}

struct Driver<S, P> {
    /// `None` once closed.
    stream: Option<S>,
    protocol: P,
    transport: Transport,
    read_buf: BytesMut,
    read_size: usize,
    /// Chunks taken from the outbox and not yet fully sent (their bytes still count in
    /// the outbox's `len`).
    sending: std::collections::VecDeque<Bytes>,
    read_closed: bool,
    /// The last write would have blocked: wait for writability.
    want_write: bool,
}

impl<S: SocketStream, P: Protocol> Driver<S, P> {
    async fn run(mut self, shutdown: CancellationToken) -> Failure {
        let end = self.main_loop(&shutdown).await;
        self.close(end)
    }

    async fn main_loop(&mut self, shutdown: &CancellationToken) -> End {
        lock(&self.transport.shared.outbox).home = Some(std::thread::current().id());
        let transport = self.transport.clone();
        if let Err(end) = self.event(|p| p.make_connection(transport)) {
            return end;
        }
        loop {
            if let Some(end) = self.after_event() {
                return end;
            }
            let interest = self.interest();
            let stream = self.stream.as_ref().expect("invariant: open until close()");
            let shared = &self.transport.shared;
            let ready = tokio::select! {
                biased;
                () = shutdown.cancelled() => return End::Lost(None),
                () = shared.notify.notified() => continue,
                ready = wait_ready(stream, interest) => ready,
            };
            match ready {
                Ok(ready) => {
                    if ready.is_writable() {
                        self.want_write = false;
                    }
                    if (ready.is_readable() || ready.is_read_closed())
                        && interest.is_some_and(Interest::is_readable)
                    {
                        if let Some(end) = self.read() {
                            return end;
                        }
                    }
                }
                Err(e) => return End::Lost(Some(e)),
            }
        }
    }

    /// Which readiness to wait for; `None` when only a wake-up can change anything.
    fn interest(&self) -> Option<Interest> {
        let outbox = lock(&self.transport.shared.outbox);
        let read = !self.read_closed && !outbox.reading_paused && !outbox.disconnecting;
        drop(outbox);
        match (read, self.want_write) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }

    /// One read and the `data_received` (or end of input) it causes.
    fn read(&mut self) -> Option<End> {
        let stream = self.stream.as_ref().expect("invariant: open until close()");
        self.read_buf.clear();
        self.read_buf.reserve(self.read_size);
        match stream.try_read_buf(&mut self.read_buf) {
            Ok(0) => self.read_eof(),
            Ok(n) => {
                if n == self.read_buf.capacity() && self.read_size < MAX_READ {
                    self.read_size *= 2;
                }
                let buf = std::mem::take(&mut self.read_buf);
                let result = self.event(|p| p.data_received(&buf));
                self.read_buf = buf;
                result.err()
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => None,
            Err(e) => Some(End::Lost(Some(e))),
        }
    }

    /// The peer closed its write side: a half-closeable protocol hears
    /// `read_connection_lost` and the connection stays open; any other protocol's
    /// connection is done.
    fn read_eof(&mut self) -> Option<End> {
        if !self.protocol.half_closeable() {
            return Some(End::Done);
        }
        self.read_closed = true;
        if let Err(end) = self.event(Protocol::read_connection_lost) {
            return Some(end);
        }
        None
    }

    /// Runs one protocol (or producer) call, with writes buffered until it returns; a
    /// panic ends the connection with the panic as the reason.
    fn event(&mut self, f: impl FnOnce(&mut P)) -> Result<(), End> {
        lock(&self.transport.shared.outbox).dispatching = true;
        let result = catch_unwind(AssertUnwindSafe(|| f(&mut self.protocol)));
        lock(&self.transport.shared.outbox).dispatching = false;
        result.map_err(|panic| End::Panicked(Failure::from_panic(panic)))
    }

    /// What follows every event and wake-up: socket options, the flush, the producer
    /// rules and a pending close, looping while producers or the half-close produce
    /// more events.
    fn after_event(&mut self) -> Option<End> {
        loop {
            self.apply_options();
            let mut outbox = lock(&self.transport.shared.outbox);
            if outbox.aborted {
                return Some(End::Aborted);
            }
            // A write past the mark that could not pause the producer itself (see
            // `Transport::write`) left the pause to us: it comes before the flush.
            let owed = match &mut outbox.producer {
                Some(slot) if slot.pause_owed && slot.producer.is_some() => {
                    slot.pause_owed = false;
                    slot.pausing = true;
                    slot.producer.take().map(|p| (p, slot.generation))
                }
                _ => None,
            };
            drop(outbox);
            if let Some((mut producer, generation)) = owed {
                let result = self.call_producer(|| producer.pause_producing());
                self.transport.restore_producer(producer, generation);
                if let Err(end) = result {
                    return Some(end);
                }
                continue;
            }
            if let Err(e) = self.flush() {
                return Some(End::Lost(Some(e)));
            }
            let mut outbox = lock(&self.transport.shared.outbox);
            if outbox.len > 0 {
                return None;
            }
            // The buffer is empty: Twisted's doWrite rules, in its order.
            let resume = match &mut outbox.producer {
                Some(slot) if (slot.kind == ProducerKind::Pull || slot.paused) && slot.producer.is_some() => {
                    slot.paused = false;
                    slot.producer.take().map(|p| (p, slot.generation))
                }
                _ => None,
            };
            if let Some((mut producer, generation)) = resume {
                drop(outbox);
                let result = self.call_producer(|| producer.resume_producing());
                self.transport.restore_producer(producer, generation);
                if let Err(end) = result {
                    return Some(end);
                }
                // A write past the mark from inside the resume owes a pause: make it.
                if owes_pause(&self.transport) {
                    continue;
                }
                // A pull producer that wrote nothing is not resumed again until it
                // writes. One that wrote is flushed now and resumed on the next turn
                // of the loop, after the other tasks had theirs.
                if lock(&self.transport.shared.outbox).len == 0 {
                    return self.close_if_requested();
                }
                if let Err(e) = self.flush() {
                    return Some(End::Lost(Some(e)));
                }
                self.want_write = true;
                return None;
            }
            if outbox.disconnecting {
                // Twisted closes here unless a pull (or paused) producer was just
                // resumed above; a streaming one that is not paused does not hold it.
                return Some(End::Done);
            }
            if outbox.write_disconnecting && !outbox.write_disconnected {
                outbox.write_disconnected = true;
                drop(outbox);
                let stream = self.stream.as_ref().expect("invariant: open until close()");
                // Already shut or reset: the read side will report it.
                let _ = stream.shutdown_write();
                // Even with both directions shut, the connection stays until the
                // protocol loses it, as in Twisted.
                if self.protocol.half_closeable() {
                    if let Err(end) = self.event(Protocol::write_connection_lost) {
                        return Some(end);
                    }
                }
                continue;
            }
            return None;
        }
    }

    /// After a pull producer's resume that wrote nothing: close now if that was asked.
    fn close_if_requested(&self) -> Option<End> {
        let outbox = lock(&self.transport.shared.outbox);
        let held = outbox
            .producer
            .as_ref()
            .is_some_and(|s| s.kind == ProducerKind::Pull || s.paused);
        (outbox.disconnecting && !held).then_some(End::Done)
    }

    fn call_producer(&mut self, f: impl FnOnce()) -> Result<(), End> {
        lock(&self.transport.shared.outbox).dispatching = true;
        let result = catch_unwind(AssertUnwindSafe(f));
        lock(&self.transport.shared.outbox).dispatching = false;
        result.map_err(|panic| End::Panicked(Failure::from_panic(panic)))
    }

    fn apply_options(&mut self) {
        let mut outbox = lock(&self.transport.shared.outbox);
        if !outbox.options_dirty {
            return;
        }
        outbox.options_dirty = false;
        let (nodelay, keepalive) = (outbox.nodelay, outbox.keepalive);
        drop(outbox);
        let stream = self.stream.as_ref().expect("invariant: open until close()");
        if let Err(e) = stream.set_nodelay(nodelay) {
            tracing::debug!("setting TCP_NODELAY failed: {e}");
        }
        if let Err(e) = stream.set_keepalive(keepalive) {
            tracing::debug!("setting SO_KEEPALIVE failed: {e}");
        }
    }

    /// Writes what is buffered until done or the socket would block.
    fn flush(&mut self) -> io::Result<()> {
        let stream = self.stream.as_ref().expect("invariant: open until close()");
        loop {
            if self.sending.is_empty() {
                let mut outbox = lock(&self.transport.shared.outbox);
                if outbox.write_disconnected {
                    // Nothing may be sent any more (Twisted drops such writes).
                    outbox.chunks.clear();
                    outbox.tail.clear();
                    outbox.len = 0;
                    return Ok(());
                }
                outbox.seal_tail();
                std::mem::swap(&mut outbox.chunks, &mut self.sending);
            }
            if self.sending.is_empty() {
                return Ok(());
            }
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let mut count = 0;
            for (slot, chunk) in slices.iter_mut().zip(self.sending.iter()) {
                *slot = IoSlice::new(chunk);
                count += 1;
            }
            match stream.try_write_vectored(&slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    lock(&self.transport.shared.outbox).len -= n;
                    advance(&mut self.sending, n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.want_write = true;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Closes the socket and delivers `connection_lost` exactly once: the producer is
    /// stopped first, then the protocol hears the reason (Twisted's order).
    fn close(mut self, end: End) -> Failure {
        let aborted = matches!(end, End::Aborted);
        if let Some(stream) = self.stream.take() {
            if aborted {
                // Already reset or closed: dropping it closes it all the same.
                let _ = stream.reset_on_close();
            }
            drop(stream);
        }
        let reason = end.into_failure();
        let producer = {
            let mut outbox = lock(&self.transport.shared.outbox);
            outbox.lost = true;
            outbox.disconnecting = true;
            outbox.chunks.clear();
            outbox.tail.clear();
            outbox.len = 0;
            outbox.producer.take()
        };
        if let Some(mut producer) = producer.and_then(|s| s.producer) {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| producer.stop_producing())) {
                crate::log::failure("while stopping a producer", &Failure::from_panic(panic));
            }
        }
        let given = reason.clone();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.protocol.connection_lost(given))) {
            crate::log::failure("in connection_lost", &Failure::from_panic(panic));
        }
        tracing::debug!(reason = %reason, "connection lost");
        reason
    }
}

/// Whether a pause is owed to a producer that is back in its slot.
fn owes_pause(transport: &Transport) -> bool {
    lock(&transport.shared.outbox)
        .producer
        .as_ref()
        .is_some_and(|slot| slot.pause_owed && slot.producer.is_some())
}

async fn wait_ready<S: SocketStream>(stream: &S, interest: Option<Interest>) -> io::Result<Ready> {
    match interest {
        Some(interest) => stream.ready(interest).await,
        None => std::future::pending().await,
    }
}

/// Drops `n` sent bytes from the front of `chunks`.
fn advance(chunks: &mut std::collections::VecDeque<Bytes>, mut n: usize) {
    while n > 0 {
        let Some(front) = chunks.front_mut() else {
            return;
        };
        if n >= front.len() {
            n -= front.len();
            chunks.pop_front();
        } else {
            front.advance(n);
            return;
        }
    }
}

/// Runs a factory method, logging a panic instead of unwinding into the reactor.
pub(super) fn call_factory<R>(context: &str, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(panic) => {
            crate::log::failure(context, &Failure::from_panic(panic));
            None
        }
    }
}
