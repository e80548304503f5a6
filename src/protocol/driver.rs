// Tests: tests/tcp.rs, tests/producers.rs, tests/load.rs, tests/conformance/test_tcp.rs

//! The connection driver: one task per connection, on the reactor thread, owning the
//! socket, the read buffer and the protocol.
//!
//! Each turn of the loop waits for the socket's readiness (reading unless paused or
//! closing; writing while a flush is blocked), a wake-up from a transport handle (a write,
//! a close or a pause from another task or thread) or the reactor's shutdown token; then
//! it runs at most one protocol event synchronously and flushes the outbox with vectored
//! writes until it is empty or the socket would block. The outbox lock is never held while
//! the protocol or a producer runs.
//!
//! This is the per-message path of every server, so it avoids what the select-per-turn
//! shape costs: the futures it waits on are polled in place (nothing is registered and
//! deregistered per turn), the read buffer and the send buffers are reused, and the outbox
//! is locked twice per flush.
//!
//! The connection's states, as flags on the driver and the outbox:
//!
//! - open: reading (unless paused through the transport) and writing;
//! - `read_closed`: the peer half-closed and the protocol is half-closeable; no more reads;
//! - `write_disconnected` (outbox): our write side is shut; writes are dropped;
//! - closed: `connection_lost` has been delivered (outbox `lost`); the task returns.

use std::future::poll_fn;
use std::io::{self, IoSlice, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::MutexGuard;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use socket2::SockRef;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::outbox::Outbox;
use super::producer::ProducerKind;
use super::protocol::Protocol;
use super::sending::{Sending, Sent};
use super::transport::Transport;
use crate::error::{ConnectionAborted, ConnectionDone, ConnectionLost};
use crate::failure::Failure;
use crate::lock::lock;

/// The read buffer starts this big; a read that fills it doubles it, up to `MAX_READ`
/// (Twisted reads up to 64 KiB per event).
const MIN_READ: usize = 4096;
const MAX_READ: usize = 65536;

/// A connected stream the driver can run: TCP now, UNIX sockets alike (tokio's
/// `TcpStream` and `UnixStream` implement it over their inherent methods; the names
/// differ from those, so an impl can never resolve to itself).
pub(crate) trait SocketStream: 'static {
    /// Readiness to read (or a closed read side); may be spurious.
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Readiness to write; may be spurious.
    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// One read into `buf` if the socket is ready (else `WouldBlock`); see [`read_once`].
    fn read_now(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn write_vectored_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// One plain write (`send`): for a single buffer, cheaper in the kernel than `writev`.
    fn write_now(&self, buf: &[u8]) -> io::Result<usize>;
    /// `shutdown(SHUT_WR)`: the half-close.
    fn shutdown_write(&self) -> io::Result<()>;
    /// Makes closing send a reset (`SO_LINGER` 0), for an abort.
    fn reset_on_close(&self) -> io::Result<()>;
    fn set_nodelay(&self, enabled: bool) -> io::Result<()>;
    fn set_keepalive(&self, enabled: bool) -> io::Result<()>;
}

/// The read a [`SocketStream::read_now`] runs inside its stream's `try_io`: a read that
/// does not fill `buf` has drained the socket, so it is reported to `try_io` as
/// `WouldBlock` (which clears the readiness, sparing the next turn a read that would only
/// block) and its count is handed back through `partial`. Tokio's own `poll_read` does the
/// same with its edge-triggered readiness.
pub(crate) fn read_once(
    sock: &SockRef<'_>,
    buf: &mut [u8],
    partial: &mut Option<usize>,
) -> io::Result<usize> {
    let n = (&**sock).read(buf)?;
    if n > 0 && n < buf.len() {
        *partial = Some(n);
        return Err(io::ErrorKind::WouldBlock.into());
    }
    Ok(n)
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

/// What `after_event` does after a producer's resume.
enum Next {
    Again,
    Return(Option<End>),
}

/// What ended a wait.
enum Woke {
    Readable,
    Writable,
    /// A handle asked, or the shutdown token fired (or the wake-up was spurious).
    Handle,
    Failed(io::Error),
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
        read_buf: vec![0; MIN_READ],
        sending: Sending::default(),
        sent: 0,
        read_closed: false,
        want_read: false,
        want_write: false,
    };
    driver.run(shutdown).instrument(span).await
}

struct Driver<S, P> {
    /// `None` once closed.
    stream: Option<S>,
    protocol: P,
    transport: Transport,
    read_buf: Vec<u8>,
    /// Taken from the outbox and not yet sent (these bytes still count in its `len`).
    sending: Sending,
    /// Sent since the outbox was last locked: subtracted from its `len` under the next
    /// lock, before any other code can look.
    sent: usize,
    read_closed: bool,
    /// Reading is wanted: not paused, not closing, not half-closed (set by `after_event`).
    want_read: bool,
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
        // The shutdown token wakes this connection through its transport's wake-up (see
        // `TransportShared`'s `Wake`), so it is only looked at after such a wake-up and
        // costs nothing per message.
        let mut cancelled = pin!(shutdown.cancelled());
        let shutdown_waker = Waker::from(Arc::clone(&self.transport.shared));
        let mut shutdown_cx = Context::from_waker(&shutdown_waker);
        if cancelled.as_mut().poll(&mut shutdown_cx).is_ready() {
            return End::Lost(None);
        }
        loop {
            if let Some(end) = self.after_event() {
                return end;
            }
            let woke = {
                let stream = self.stream.as_ref().expect("invariant: open until close()");
                let (want_read, want_write) = (self.want_read, self.want_write);
                let wake = &self.transport.shared.wake;
                poll_fn(|cx| {
                    if want_write {
                        match stream.poll_writable(cx) {
                            Poll::Ready(Ok(())) => return Poll::Ready(Woke::Writable),
                            Poll::Ready(Err(e)) => return Poll::Ready(Woke::Failed(e)),
                            Poll::Pending => {}
                        }
                    }
                    if want_read {
                        match stream.poll_readable(cx) {
                            Poll::Ready(Ok(())) => return Poll::Ready(Woke::Readable),
                            Poll::Ready(Err(e)) => return Poll::Ready(Woke::Failed(e)),
                            Poll::Pending => {}
                        }
                    }
                    if wake.poll(cx).is_ready() {
                        return Poll::Ready(Woke::Handle);
                    }
                    Poll::Pending
                })
                .await
            };
            match woke {
                Woke::Readable => {
                    if let Some(end) = self.read() {
                        return end;
                    }
                }
                Woke::Writable => self.want_write = false,
                Woke::Handle => {
                    if cancelled.as_mut().poll(&mut shutdown_cx).is_ready() {
                        return End::Lost(None);
                    }
                }
                Woke::Failed(e) => return End::Lost(Some(e)),
            }
        }
    }

    /// One read and the `data_received` (or end of input) it causes.
    fn read(&mut self) -> Option<End> {
        let stream = self.stream.as_ref().expect("invariant: open until close()");
        match stream.read_now(&mut self.read_buf) {
            Ok(0) => self.read_eof(),
            Ok(n) => {
                let full = n == self.read_buf.len();
                let data = &self.read_buf[..n];
                let result = dispatch(&self.transport, &mut self.protocol, |p| p.data_received(data));
                if full && self.read_buf.len() < MAX_READ {
                    // More was waiting than fitted: read more at a time from now on.
                    self.read_buf.resize(self.read_buf.len() * 2, 0);
                }
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

    /// Runs one protocol call, with writes buffered until it returns; a panic ends the
    /// connection with the panic as the reason.
    fn event(&mut self, f: impl FnOnce(&mut P)) -> Result<(), End> {
        dispatch(&self.transport, &mut self.protocol, f)
    }

    /// What follows every event and wake-up: socket options, an owed producer pause, the
    /// flush, the producer rules and a pending close, looping while producers or the
    /// half-close produce more events; then what to wait for.
    fn after_event(&mut self) -> Option<End> {
        loop {
            let mut outbox = lock_outbox(&self.transport, &mut self.sent);
            if outbox.options_dirty {
                outbox.options_dirty = false;
                let (nodelay, keepalive) = (outbox.nodelay, outbox.keepalive);
                drop(outbox);
                self.apply_options(nodelay, keepalive);
                continue;
            }
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
            if let Some((mut producer, generation)) = owed {
                drop(outbox);
                let result = self.call_producer(|| producer.pause_producing());
                self.transport.restore_producer(producer, generation);
                if let Err(end) = result {
                    return Some(end);
                }
                continue;
            }
            if outbox.write_disconnected {
                // Nothing may be sent any more (Twisted drops such writes).
                outbox.chunks.clear();
                outbox.tail.clear();
                outbox.len = 0;
                self.sending.clear();
            } else if outbox.len > 0 {
                if self.want_write {
                    self.want_read = wants_read(self.read_closed, &outbox);
                    return None;
                }
                self.sending.refill(&mut outbox);
                drop(outbox);
                if let Err(e) = self.flush() {
                    return Some(End::Lost(Some(e)));
                }
                continue;
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
                match self.after_resume() {
                    Next::Return(end) => return end,
                    Next::Again => continue,
                }
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
            self.want_read = wants_read(self.read_closed, &outbox);
            return None;
        }
    }

    /// After a producer's resume: whether to go round the after-event loop again (a
    /// pause is owed) or return, and with what.
    fn after_resume(&mut self) -> Next {
        let mut outbox = lock_outbox(&self.transport, &mut self.sent);
        // A write past the mark from inside the resume owes a pause: make it.
        if outbox.producer.as_ref().is_some_and(|slot| slot.pause_owed) {
            return Next::Again;
        }
        // A pull producer that wrote nothing is not resumed again until it writes. One
        // that wrote is flushed now and resumed on the next turn of the loop, after the
        // other tasks had theirs.
        if outbox.len == 0 {
            let held = outbox
                .producer
                .as_ref()
                .is_some_and(|s| s.kind == ProducerKind::Pull || s.paused);
            if outbox.disconnecting && !held {
                return Next::Return(Some(End::Done));
            }
            self.want_read = wants_read(self.read_closed, &outbox);
            return Next::Return(None);
        }
        if !outbox.write_disconnected && !self.want_write {
            self.sending.refill(&mut outbox);
            drop(outbox);
            if let Err(e) = self.flush() {
                return Next::Return(Some(End::Lost(Some(e))));
            }
            outbox = lock_outbox(&self.transport, &mut self.sent);
        }
        self.want_write = true;
        self.want_read = wants_read(self.read_closed, &outbox);
        Next::Return(None)
    }

    fn call_producer(&mut self, f: impl FnOnce()) -> Result<(), End> {
        let dispatching = &self.transport.shared.dispatching;
        dispatching.store(true, Ordering::Relaxed);
        let result = catch_unwind(AssertUnwindSafe(f));
        dispatching.store(false, Ordering::Relaxed);
        result.map_err(|panic| End::Panicked(Failure::from_panic(panic)))
    }

    fn apply_options(&mut self, nodelay: bool, keepalive: bool) {
        let stream = self.stream.as_ref().expect("invariant: open until close()");
        if let Err(e) = stream.set_nodelay(nodelay) {
            tracing::debug!("setting TCP_NODELAY failed: {e}");
        }
        if let Err(e) = stream.set_keepalive(keepalive) {
            tracing::debug!("setting SO_KEEPALIVE failed: {e}");
        }
    }

    /// Writes what was taken from the outbox until done or the socket would block.
    fn flush(&mut self) -> io::Result<()> {
        let stream = self.stream.as_ref().expect("invariant: open until close()");
        match self.sending.write_to(|slices| match slices {
            [one] => stream.write_now(one),
            _ => stream.write_vectored_now(slices),
        })? {
            Sent::All(n) => self.sent += n,
            Sent::Blocked(n) => {
                self.sent += n;
                self.want_write = true;
            }
        }
        Ok(())
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
            outbox.set_disconnecting(&self.transport.shared);
            outbox.chunks.clear();
            outbox.tail.clear();
            outbox.len = 0;
            outbox.producer.take()
        };
        self.sending.clear();
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

/// Locks the outbox, first accounting for what was `sent` since the last lock.
fn lock_outbox<'a>(transport: &'a Transport, sent: &mut usize) -> MutexGuard<'a, Outbox> {
    let mut outbox = lock(&transport.shared.outbox);
    outbox.len -= std::mem::take(sent);
    outbox
}

/// Whether to wait for the socket to be readable.
fn wants_read(read_closed: bool, outbox: &Outbox) -> bool {
    !read_closed && !outbox.reading_paused && !outbox.disconnecting
}

/// Runs one protocol call for the connection of `transport`, with writes buffered until
/// it returns; a panic ends the connection with the panic as the reason.
fn dispatch<P>(transport: &Transport, protocol: &mut P, f: impl FnOnce(&mut P)) -> Result<(), End> {
    let dispatching = &transport.shared.dispatching;
    dispatching.store(true, Ordering::Relaxed);
    let result = catch_unwind(AssertUnwindSafe(|| f(protocol)));
    dispatching.store(false, Ordering::Relaxed);
    result.map_err(|panic| End::Panicked(Failure::from_panic(panic)))
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
