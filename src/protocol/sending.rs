// Tests: tests/tcp.rs, tests/producers.rs, tests/load.rs, tests/conformance/test_tcp.rs

//! What a connection driver has taken from the outbox and not sent yet: the outbox's
//! chunks, then its small writes, sent with vectored writes.
//!
//! The small writes come over by swapping buffers with the outbox (the outbox gets this
//! side's emptied buffer back), so the copy a `write` makes is the only one and a
//! connection that answers each message with a small write allocates nothing per message.

use std::collections::VecDeque;
use std::io::{self, IoSlice};

use bytes::{Buf, Bytes, BytesMut};

use super::outbox::Outbox;

/// How many buffers one vectored write takes at most.
const MAX_IOVECS: usize = 64;
/// A sent buffer of small writes bigger than this is freed rather than handed back to
/// the outbox: one burst of writes does not pin its memory for the connection's life.
const KEEP_CAPACITY: usize = 256 * 1024;

/// The bytes a driver is sending, in order: `chunks`, then `tail`.
#[derive(Default)]
pub(crate) struct Sending {
    chunks: VecDeque<Bytes>,
    tail: BytesMut,
}

/// What one [`Sending::write_to`] achieved.
pub(crate) enum Sent {
    /// Everything was sent; that many bytes.
    All(usize),
    /// The socket would block after that many bytes.
    Blocked(usize),
}

impl Sending {
    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.tail.is_empty()
    }

    /// Takes everything buffered in `outbox` (only when nothing is left here, so the order
    /// of the bytes is kept).
    pub(crate) fn refill(&mut self, outbox: &mut Outbox) {
        if !self.is_empty() {
            return;
        }
        std::mem::swap(&mut self.chunks, &mut outbox.chunks);
        std::mem::swap(&mut self.tail, &mut outbox.tail);
    }

    /// Sends with vectored writes until everything is sent or the socket would block.
    ///
    /// # Errors
    ///
    /// The socket's error; a write that accepts nothing is `WriteZero`.
    pub(crate) fn write_to(
        &mut self,
        mut write: impl FnMut(&[IoSlice<'_>]) -> io::Result<usize>,
    ) -> io::Result<Sent> {
        let mut total = 0;
        while !self.is_empty() {
            let result = if self.chunks.is_empty() {
                // Only small writes (a request/response server's usual case): one slice,
                // without preparing the whole array.
                write(&[IoSlice::new(&self.tail)])
            } else {
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let mut count = 0;
                for (slot, chunk) in slices.iter_mut().zip(self.chunks.iter()) {
                    *slot = IoSlice::new(chunk);
                    count += 1;
                }
                if count < MAX_IOVECS && !self.tail.is_empty() {
                    slices[count] = IoSlice::new(&self.tail);
                    count += 1;
                }
                write(&slices[..count])
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    total += n;
                    self.advance(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Sent::Blocked(total)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Sent::All(total))
    }

    /// Drops `n` sent bytes from the front.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            if n >= front.len() {
                n -= front.len();
                self.chunks.pop_front();
            } else {
                front.advance(n);
                return;
            }
        }
        if n >= self.tail.len() {
            if self.tail.capacity() > KEEP_CAPACITY {
                self.tail = BytesMut::new();
            } else {
                // Keeps the buffer (and its capacity) for the next swap.
                self.tail.clear();
            }
        } else {
            self.tail.advance(n);
        }
    }

    /// Drops everything (the connection is closing or its write side is shut).
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.tail.clear();
    }
}
