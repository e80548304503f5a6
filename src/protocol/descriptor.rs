// Tests: tests/descriptor.rs

//! Raw descriptors on the reactor: Twisted's `IReactorFDSet` (`addReader`, `addWriter`,
//! ...) and the `IReadDescriptor`/`IWriteDescriptor` objects it calls, over Tokio's
//! `AsyncFd`.
//!
//! Each registered descriptor number gets one task on the reactor thread, owning an
//! `AsyncFd` registered for reading and writing; the reader and writer slots live in a
//! per-thread registry (descriptors are not `Send`, and a reactor runs on one thread),
//! keyed by the reactor and the number. Readiness is edge-triggered: the task clears it
//! only when `do_read`/`do_write` reports `WouldBlock`, so a descriptor that did some work
//! and returned `Ok` is called again at once (as a level-triggered reactor would).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, Ready};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::{ConnectionDone, ConnectionLost};
use crate::failure::Failure;
use crate::reactor::{ReactorHandle, SpawnLocalError};

/// Something with a file descriptor the reactor can watch: the part Twisted's
/// `IReadDescriptor` and `IWriteDescriptor` share (`fileno`, `connectionLost`).
///
/// The reactor never closes the descriptor: its owner does, after removing it.
///
/// ```
/// use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
/// use std::os::unix::net::UnixStream;
/// use tokio_twisted::protocol::FileDescriptor;
///
/// struct Side(UnixStream);
/// impl FileDescriptor for Side {
///     fn fileno(&self) -> BorrowedFd<'_> { self.0.as_fd() }
/// }
/// let (a, _b) = UnixStream::pair().unwrap();
/// let side = Side(a);
/// assert_eq!(side.fileno().as_raw_fd(), side.0.as_raw_fd());
/// ```
#[doc(alias = "IFileDescriptor")]
pub trait FileDescriptor: 'static {
    /// The descriptor (Twisted's `fileno`), borrowed. It must stay the same while the
    /// descriptor is registered.
    fn fileno(&self) -> BorrowedFd<'_>;

    /// The reactor stopped watching this descriptor because `do_read`/`do_write` ended it
    /// ([`ConnectionDone`] for `UnexpectedEof`, [`ConnectionLost`] for another error, the
    /// panic for a panic) or because the reactor shut down ([`ConnectionLost`]).
    #[doc(alias = "connectionLost")]
    fn connection_lost(&mut self, reason: Failure) {
        let _ = reason;
    }
}

/// A descriptor the reactor reads for: Twisted's `IReadDescriptor`.
///
/// ```
/// use std::io::Read;
/// use std::os::fd::{AsFd, BorrowedFd};
/// use std::os::unix::net::UnixStream;
/// use tokio_twisted::protocol::{FileDescriptor, ReadDescriptor};
///
/// /// Counts the bytes it reads until end of input.
/// struct Counter { sock: UnixStream, seen: usize }
/// impl FileDescriptor for Counter {
///     fn fileno(&self) -> BorrowedFd<'_> { self.sock.as_fd() }
/// }
/// impl ReadDescriptor for Counter {
///     fn do_read(&mut self) -> std::io::Result<()> {
///         let mut buf = [0; 4096];
///         match (&self.sock).read(&mut buf)? {
///             0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
///             n => { self.seen += n; Ok(()) }
///         }
///     }
/// }
/// # let (a, _b) = UnixStream::pair().unwrap();
/// # let _ = Counter { sock: a, seen: 0 };
/// ```
#[doc(alias = "IReadDescriptor")]
pub trait ReadDescriptor: FileDescriptor {
    /// The descriptor is readable: read some of it (Twisted's `doRead`). The descriptor
    /// should be non-blocking.
    ///
    /// # Errors
    ///
    /// Return `WouldBlock` when there is nothing more to read now (the reactor then waits
    /// for the next readiness), `UnexpectedEof` at the end of input (the descriptor is
    /// removed and hears `connection_lost` with [`ConnectionDone`]), any other error to be
    /// removed with [`ConnectionLost`]. `Ok(())` means "called again as soon as the
    /// reactor's other work allows".
    #[doc(alias = "doRead")]
    fn do_read(&mut self) -> io::Result<()>;
}

/// A descriptor the reactor writes for: Twisted's `IWriteDescriptor`.
///
/// ```
/// use std::io::Write;
/// use std::os::fd::{AsFd, BorrowedFd};
/// use std::os::unix::net::UnixStream;
/// use tokio_twisted::protocol::{FileDescriptor, WriteDescriptor};
///
/// struct Greeter(UnixStream);
/// impl FileDescriptor for Greeter {
///     fn fileno(&self) -> BorrowedFd<'_> { self.0.as_fd() }
/// }
/// impl WriteDescriptor for Greeter {
///     fn do_write(&mut self) -> std::io::Result<()> {
///         (&self.0).write_all(b"hello")?;
///         // Done: end with a clean reason so the reactor stops watching.
///         Err(std::io::ErrorKind::UnexpectedEof.into())
///     }
/// }
/// # let (a, _b) = UnixStream::pair().unwrap();
/// # let _ = Greeter(a);
/// ```
#[doc(alias = "IWriteDescriptor")]
pub trait WriteDescriptor: FileDescriptor {
    /// The descriptor is writable: write some of what is pending (Twisted's `doWrite`).
    ///
    /// # Errors
    ///
    /// As [`ReadDescriptor::do_read`]: `WouldBlock` waits for the next readiness,
    /// `UnexpectedEof` removes it cleanly, other errors remove it as lost.
    #[doc(alias = "doWrite")]
    fn do_write(&mut self) -> io::Result<()>;
}

/// A reader as the reactor holds it.
pub type SharedReader = Rc<RefCell<dyn ReadDescriptor>>;
/// A writer as the reactor holds it.
pub type SharedWriter = Rc<RefCell<dyn WriteDescriptor>>;

/// Why [`ReactorHandle::add_reader`] or [`ReactorHandle::add_writer`] did not register a
/// descriptor.
///
/// ```
/// use tokio_twisted::protocol::AddDescriptorError;
/// let e = AddDescriptorError::InUse;
/// assert_eq!(e.to_string(), "the descriptor is borrowed (called from inside its own method)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddDescriptorError {
    /// The system refused to watch the descriptor (not open, or a regular file, which
    /// `epoll` does not support).
    #[error("cannot watch descriptor {fd}: {source}")]
    Register {
        /// The descriptor's number.
        fd: RawFd,
        /// What the system said.
        source: io::Error,
    },
    /// Its `fileno()` could not be asked because it is borrowed: `add_reader` was called
    /// from inside one of the descriptor's own methods.
    #[error("the descriptor is borrowed (called from inside its own method)")]
    InUse,
    /// Called off the reactor thread, or after the reactor shut down.
    #[error(transparent)]
    Reactor(#[from] SpawnLocalError),
}

/// The slots of one descriptor number.
struct Entry {
    reader: Option<SharedReader>,
    writer: Option<SharedWriter>,
    /// Wakes the descriptor's task when a slot changes.
    wake: Rc<Notify>,
}

type Key = (u64, RawFd);

thread_local! {
    /// Every watched descriptor of the reactors on this thread, by reactor and number
    /// (ordered, so `readers()` lists them in a stable order).
    static REGISTRY: RefCell<BTreeMap<Key, Entry>> = const { RefCell::new(BTreeMap::new()) };
}

/// Which slot an add or remove concerns.
#[derive(Clone, Copy)]
enum Slot {
    Read,
    Write,
}

fn same<A: ?Sized, B: ?Sized>(a: &Rc<RefCell<A>>, b: &Rc<RefCell<B>>) -> bool {
    std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b))
}

impl ReactorHandle {
    /// Watches `reader`'s descriptor and calls its `do_read` whenever it is readable:
    /// Twisted's `addReader`. Adding a reader for a number that already has one replaces
    /// it. Must be called on the reactor thread.
    ///
    /// # Errors
    ///
    /// [`AddDescriptorError::Register`] if the system cannot watch the descriptor,
    /// [`AddDescriptorError::InUse`] if `reader` is borrowed,
    /// [`AddDescriptorError::Reactor`] off the reactor thread or after shutdown.
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::cell::RefCell;
    /// use std::io::{Read, Write};
    /// use std::os::fd::{AsFd, BorrowedFd};
    /// use std::os::unix::net::UnixStream;
    /// use std::rc::Rc;
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::protocol::{FileDescriptor, ReadDescriptor};
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// struct Reader { sock: UnixStream, got: Vec<u8>, reactor: ReactorHandle }
    /// impl FileDescriptor for Reader {
    ///     fn fileno(&self) -> BorrowedFd<'_> { self.sock.as_fd() }
    ///     fn connection_lost(&mut self, _: Failure) { self.reactor.stop().unwrap(); }
    /// }
    /// impl ReadDescriptor for Reader {
    ///     fn do_read(&mut self) -> std::io::Result<()> {
    ///         let mut buf = [0; 64];
    ///         match (&self.sock).read(&mut buf)? {
    ///             0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
    ///             n => { self.got.extend_from_slice(&buf[..n]); Ok(()) }
    ///         }
    ///     }
    /// }
    ///
    /// let (ours, mut theirs) = UnixStream::pair().unwrap();
    /// ours.set_nonblocking(true).unwrap();
    /// theirs.write_all(b"poem").unwrap();
    /// drop(theirs);
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let reader = Rc::new(RefCell::new(Reader { sock: ours, got: vec![], reactor: reactor.handle() }));
    /// reactor.handle().add_reader(reader.clone()).unwrap();
    /// assert_eq!(reactor.handle().readers().len(), 1);
    /// reactor.run().unwrap();
    /// assert_eq!(reader.borrow().got, b"poem");
    /// ```
    #[doc(alias = "addReader")]
    pub fn add_reader<R: ReadDescriptor>(&self, reader: Rc<RefCell<R>>) -> Result<(), AddDescriptorError> {
        let (fd, copy) = number_and_copy(&*reader.try_borrow().map_err(|_| AddDescriptorError::InUse)?);
        let reader: SharedReader = reader;
        self.add_descriptor(fd, copy, |entry| entry.reader = Some(reader))
    }

    /// Watches `writer`'s descriptor and calls its `do_write` whenever it is writable:
    /// Twisted's `addWriter`. Remove it (or end it from `do_write`) once nothing is left
    /// to write, or it is called again and again.
    ///
    /// # Errors
    ///
    /// As [`add_reader`](Self::add_reader).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use std::cell::RefCell;
    /// use std::io::{Read, Write};
    /// use std::os::fd::{AsFd, BorrowedFd};
    /// use std::os::unix::net::UnixStream;
    /// use std::rc::Rc;
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::protocol::{FileDescriptor, WriteDescriptor};
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// struct Greeter(UnixStream, ReactorHandle);
    /// impl FileDescriptor for Greeter {
    ///     fn fileno(&self) -> BorrowedFd<'_> { self.0.as_fd() }
    ///     fn connection_lost(&mut self, _: Failure) { self.1.stop().unwrap(); }
    /// }
    /// impl WriteDescriptor for Greeter {
    ///     fn do_write(&mut self) -> std::io::Result<()> {
    ///         (&self.0).write_all(b"hi")?;
    ///         Err(std::io::ErrorKind::UnexpectedEof.into()) // all written: done
    ///     }
    /// }
    ///
    /// let (ours, mut theirs) = UnixStream::pair().unwrap();
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// reactor.handle().add_writer(Rc::new(RefCell::new(Greeter(ours, reactor.handle())))).unwrap();
    /// reactor.run().unwrap();
    /// let mut got = [0; 2];
    /// theirs.read_exact(&mut got).unwrap();
    /// assert_eq!(&got, b"hi");
    /// ```
    #[doc(alias = "addWriter")]
    pub fn add_writer<W: WriteDescriptor>(&self, writer: Rc<RefCell<W>>) -> Result<(), AddDescriptorError> {
        let (fd, copy) = number_and_copy(&*writer.try_borrow().map_err(|_| AddDescriptorError::InUse)?);
        let writer: SharedWriter = writer;
        self.add_descriptor(fd, copy, |entry| entry.writer = Some(writer))
    }

    /// Stops calling `do_read` for descriptor `fd`, without telling it (Twisted's
    /// `removeReader`, keyed by the descriptor's number, as its epoll reactor does).
    /// Returns whether a reader was registered. On another thread than the reactor's,
    /// there is nothing to remove.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.handle().remove_reader(std::io::stdin()));
    /// ```
    #[doc(alias = "removeReader")]
    pub fn remove_reader(&self, fd: impl AsFd) -> bool {
        self.remove_slot(fd.as_fd().as_raw_fd(), Slot::Read)
    }

    /// Stops calling `do_write` for descriptor `fd` (Twisted's `removeWriter`). Returns
    /// whether a writer was registered.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.handle().remove_writer(std::io::stdout()));
    /// ```
    #[doc(alias = "removeWriter")]
    pub fn remove_writer(&self, fd: impl AsFd) -> bool {
        self.remove_slot(fd.as_fd().as_raw_fd(), Slot::Write)
    }

    /// The readers added with [`add_reader`](Self::add_reader) and not removed, by
    /// descriptor number (Twisted's `getReaders`; connections and listening ports are not
    /// listed, they are tasks of their own).
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.handle().readers().is_empty());
    /// ```
    #[doc(alias = "getReaders")]
    pub fn readers(&self) -> Vec<SharedReader> {
        let id = self.shared.id();
        REGISTRY.with(|r| {
            r.borrow()
                .range((id, RawFd::MIN)..=(id, RawFd::MAX))
                .filter_map(|(_, e)| e.reader.clone())
                .collect()
        })
    }

    /// The writers added with [`add_writer`](Self::add_writer) and not removed (Twisted's
    /// `getWriters`).
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.handle().writers().is_empty());
    /// ```
    #[doc(alias = "getWriters")]
    pub fn writers(&self) -> Vec<SharedWriter> {
        let id = self.shared.id();
        REGISTRY.with(|r| {
            r.borrow()
                .range((id, RawFd::MIN)..=(id, RawFd::MAX))
                .filter_map(|(_, e)| e.writer.clone())
                .collect()
        })
    }

    /// Removes every reader and writer and returns them (Twisted's `removeAll`); none of
    /// them hears `connection_lost`.
    ///
    /// ```
    /// use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let (readers, writers) = reactor.handle().remove_all();
    /// assert!(readers.is_empty() && writers.is_empty());
    /// ```
    #[doc(alias = "removeAll")]
    pub fn remove_all(&self) -> (Vec<SharedReader>, Vec<SharedWriter>) {
        let id = self.shared.id();
        let mut readers = Vec::new();
        let mut writers = Vec::new();
        let mut wakes = Vec::new();
        REGISTRY.with(|r| {
            for (_, entry) in r.borrow_mut().range_mut((id, RawFd::MIN)..=(id, RawFd::MAX)) {
                readers.extend(entry.reader.take());
                writers.extend(entry.writer.take());
                wakes.push(Rc::clone(&entry.wake));
            }
        });
        for wake in wakes {
            wake.notify_one();
        }
        (readers, writers)
    }

    fn add_descriptor(
        &self,
        fd: RawFd,
        copy: io::Result<OwnedFd>,
        fill: impl FnOnce(&mut Entry),
    ) -> Result<(), AddDescriptorError> {
        if !self.is_reactor_thread() {
            return Err(SpawnLocalError::NotReactorThread.into());
        }
        let key = (self.shared.id(), fd);
        let existing = REGISTRY.with(|r| r.borrow().get(&key).map(|entry| Rc::clone(&entry.wake)));
        if let Some(wake) = existing {
            // The number's task is running: fill the slot and let it see the change.
            REGISTRY.with(|r| {
                if let Some(entry) = r.borrow_mut().get_mut(&key) {
                    fill(entry);
                }
            });
            wake.notify_one();
            return Ok(());
        }
        let shutdown = self.shutdown_token().map_err(SpawnLocalError::from)?;
        let copy = copy.map_err(|source| AddDescriptorError::Register { fd, source })?;
        let watched = {
            let _in_runtime = self.shared.rt.enter();
            watch_copy(copy).map_err(|source| AddDescriptorError::Register { fd, source })?
        };
        let wake = Rc::new(Notify::new());
        let mut entry = Entry {
            reader: None,
            writer: None,
            wake: Rc::clone(&wake),
        };
        fill(&mut entry);
        REGISTRY.with(|r| r.borrow_mut().insert(key, entry));
        if let Err(e) = self.spawn_tracked_local(watch(key, watched, wake, shutdown)) {
            REGISTRY.with(|r| r.borrow_mut().remove(&key));
            return Err(e.into());
        }
        Ok(())
    }

    fn remove_slot(&self, fd: RawFd, slot: Slot) -> bool {
        let key = (self.shared.id(), fd);
        let removed = REGISTRY.with(|r| {
            let mut registry = r.borrow_mut();
            let entry = registry.get_mut(&key)?;
            let had = match slot {
                Slot::Read => entry.reader.take().is_some(),
                Slot::Write => entry.writer.take().is_some(),
            };
            Some((had, Rc::clone(&entry.wake)))
        });
        match removed {
            Some((had, wake)) => {
                wake.notify_one();
                had
            }
            None => false,
        }
    }
}

/// The descriptor's number (the registry's key) and a duplicate of it for the reactor to
/// watch, so the `AsyncFd` owns what it watches.
fn number_and_copy<D: FileDescriptor + ?Sized>(descriptor: &D) -> (RawFd, io::Result<OwnedFd>) {
    let fd = descriptor.fileno();
    (fd.as_raw_fd(), fd.try_clone_to_owned())
}

/// Registers the reactor's own copy of a descriptor with Tokio.
#[allow(
    deprecated,
    reason = "the `AsyncFd` owns this `OwnedFd` for its whole life, which is exactly the I/O \
              safety condition of the unsafe `register_with_interest` it forwards to; the crate \
              forbids `unsafe`"
)]
fn watch_copy(copy: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    AsyncFd::with_interest(copy, Interest::READABLE | Interest::WRITABLE)
}

/// The reason a descriptor's method ended it with.
fn reason_of(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Failure::new(ConnectionDone)
    } else {
        Failure::new(ConnectionLost::from_io(e))
    }
}

/// What one call of `do_read`/`do_write` came to.
enum Outcome {
    /// Did some work: call again.
    Again,
    /// Nothing more now: clear the readiness.
    Drained,
    /// Remove it, with this reason.
    End(Failure),
}

fn outcome(result: std::thread::Result<io::Result<()>>) -> Outcome {
    match result {
        Ok(Ok(())) => Outcome::Again,
        Ok(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Outcome::Drained,
        Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Outcome::Again,
        Ok(Err(e)) => Outcome::End(reason_of(e)),
        Err(panic) => Outcome::End(Failure::from_panic(panic)),
    }
}

/// Removes `which` from whichever slots hold it and tells it `reason` (Twisted's
/// `_disconnectSelectable`).
fn disconnect<D: ?Sized + FileDescriptor>(key: Key, which: &Rc<RefCell<D>>, reason: Failure) {
    REGISTRY.with(|r| {
        if let Some(entry) = r.borrow_mut().get_mut(&key) {
            if entry.reader.as_ref().is_some_and(|x| same(x, which)) {
                entry.reader = None;
            }
            if entry.writer.as_ref().is_some_and(|x| same(x, which)) {
                entry.writer = None;
            }
        }
    });
    tell_lost(which, reason);
}

fn tell_lost<D: ?Sized + FileDescriptor>(which: &Rc<RefCell<D>>, reason: Failure) {
    let Ok(mut descriptor) = which.try_borrow_mut() else {
        tracing::error!("a descriptor was borrowed when its connection_lost was due");
        return;
    };
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| descriptor.connection_lost(reason))) {
        crate::log::failure("in connection_lost", &Failure::from_panic(panic));
    }
}

/// One descriptor number's task: waits for the readiness its slots want and calls them.
async fn watch(key: Key, watched: AsyncFd<OwnedFd>, wake: Rc<Notify>, shutdown: CancellationToken) {
    loop {
        let slots = REGISTRY.with(|r| r.borrow().get(&key).map(|e| (e.reader.clone(), e.writer.clone())));
        let (reader, writer) = match slots {
            Some((None, None)) | None => break,
            Some(slots) => slots,
        };
        let interest = match (&reader, &writer) {
            (Some(_), Some(_)) => Interest::READABLE | Interest::WRITABLE,
            (Some(_), None) => Interest::READABLE,
            _ => Interest::WRITABLE,
        };
        let mut guard = tokio::select! {
            biased;
            () = shutdown.cancelled() => {
                // Twisted's disconnectAll at shutdown: each hears ConnectionLost.
                REGISTRY.with(|r| r.borrow_mut().remove(&key));
                let reader_too = reader.clone();
                if let Some(reader) = reader {
                    tell_lost(&reader, Failure::new(ConnectionLost::new()));
                }
                if let Some(writer) = writer {
                    if !reader_too.is_some_and(|r| same(&r, &writer)) {
                        tell_lost(&writer, Failure::new(ConnectionLost::new()));
                    }
                }
                return;
            }
            () = wake.notified() => continue,
            guard = watched.ready(interest) => match guard {
                Ok(guard) => guard,
                Err(e) => {
                    // The descriptor cannot be watched any more: both slots end.
                    let reason = Failure::new(ConnectionLost::from_io(e));
                    if let Some(reader) = &reader {
                        disconnect(key, reader, reason.clone());
                    }
                    if let Some(writer) = &writer {
                        if !reader.as_ref().is_some_and(|r| same(r, writer)) {
                            disconnect(key, writer, reason);
                        }
                    }
                    REGISTRY.with(|r| r.borrow_mut().remove(&key));
                    return;
                }
            },
        };
        let ready = guard.ready();
        let mut again = false;
        if let Some(reader) = &reader {
            if ready.is_readable() || ready.is_read_closed() || ready.is_error() {
                let result = match reader.try_borrow_mut() {
                    Ok(mut r) => catch_unwind(AssertUnwindSafe(|| r.do_read())),
                    Err(_) => Ok(Ok(())),
                };
                match outcome(result) {
                    Outcome::Again => again = true,
                    Outcome::Drained => guard.clear_ready_matching(Ready::READABLE),
                    Outcome::End(reason) => disconnect(key, reader, reason),
                }
            }
        }
        // The reader may have removed the writer (or itself) meanwhile.
        let writer = writer.filter(|w| {
            REGISTRY.with(|r| {
                r.borrow()
                    .get(&key)
                    .and_then(|e| e.writer.as_ref())
                    .is_some_and(|x| same(x, w))
            })
        });
        if let Some(writer) = &writer {
            if ready.is_writable() || ready.is_write_closed() || ready.is_error() {
                let result = match writer.try_borrow_mut() {
                    Ok(mut w) => catch_unwind(AssertUnwindSafe(|| w.do_write())),
                    Err(_) => Ok(Ok(())),
                };
                match outcome(result) {
                    Outcome::Again => again = true,
                    Outcome::Drained => guard.clear_ready_matching(Ready::WRITABLE),
                    Outcome::End(reason) => disconnect(key, writer, reason),
                }
            }
        }
        drop(guard);
        if again {
            // Still ready: let the reactor's other work run before calling it again.
            tokio::task::yield_now().await;
        }
    }
    REGISTRY.with(|r| {
        let mut registry = r.borrow_mut();
        if registry
            .get(&key)
            .is_some_and(|e| e.reader.is_none() && e.writer.is_none())
        {
            registry.remove(&key);
        }
    });
}

/// The descriptor calls of [`ReactorHandle`], on the [`Reactor`](crate::reactor::Reactor)
/// that owns it.
impl crate::reactor::Reactor {
    /// [`ReactorHandle::add_reader`]: Twisted's `addReader`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::add_reader`].
    ///
    /// ```
    /// # use std::{cell::RefCell, os::fd::{AsFd, BorrowedFd}, os::unix::net::UnixStream, rc::Rc};
    /// # use tokio_twisted::protocol::{FileDescriptor, ReadDescriptor};
    /// # use tokio_twisted::reactor::Reactor;
    /// struct Idle(UnixStream);
    /// impl FileDescriptor for Idle { fn fileno(&self) -> BorrowedFd<'_> { self.0.as_fd() } }
    /// impl ReadDescriptor for Idle { fn do_read(&mut self) -> std::io::Result<()> { Ok(()) } }
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let idle = Rc::new(RefCell::new(Idle(a)));
    /// reactor.add_reader(idle.clone()).unwrap();
    /// assert!(reactor.remove_reader(&idle.borrow().0));
    /// ```
    #[doc(alias = "addReader")]
    pub fn add_reader<R: ReadDescriptor>(&self, reader: Rc<RefCell<R>>) -> Result<(), AddDescriptorError> {
        self.handle().add_reader(reader)
    }

    /// [`ReactorHandle::add_writer`]: Twisted's `addWriter`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::add_writer`].
    ///
    /// ```
    /// # use std::{cell::RefCell, os::fd::{AsFd, BorrowedFd}, os::unix::net::UnixStream, rc::Rc};
    /// # use tokio_twisted::protocol::{FileDescriptor, WriteDescriptor};
    /// # use tokio_twisted::reactor::Reactor;
    /// struct Idle(UnixStream);
    /// impl FileDescriptor for Idle { fn fileno(&self) -> BorrowedFd<'_> { self.0.as_fd() } }
    /// impl WriteDescriptor for Idle { fn do_write(&mut self) -> std::io::Result<()> { Ok(()) } }
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let idle = Rc::new(RefCell::new(Idle(a)));
    /// reactor.add_writer(idle.clone()).unwrap();
    /// assert_eq!(reactor.writers().len(), 1);
    /// assert!(reactor.remove_writer(idle.borrow().fileno()));
    /// ```
    #[doc(alias = "addWriter")]
    pub fn add_writer<W: WriteDescriptor>(&self, writer: Rc<RefCell<W>>) -> Result<(), AddDescriptorError> {
        self.handle().add_writer(writer)
    }

    /// [`ReactorHandle::remove_reader`]: Twisted's `removeReader`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.remove_reader(std::io::stdin()));
    /// ```
    #[doc(alias = "removeReader")]
    pub fn remove_reader(&self, fd: impl AsFd) -> bool {
        self.handle().remove_reader(fd)
    }

    /// [`ReactorHandle::remove_writer`]: Twisted's `removeWriter`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!reactor.remove_writer(std::io::stdin()));
    /// ```
    #[doc(alias = "removeWriter")]
    pub fn remove_writer(&self, fd: impl AsFd) -> bool {
        self.handle().remove_writer(fd)
    }

    /// [`ReactorHandle::readers`]: Twisted's `getReaders`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.readers().is_empty());
    /// ```
    #[doc(alias = "getReaders")]
    pub fn readers(&self) -> Vec<SharedReader> {
        self.handle().readers()
    }

    /// [`ReactorHandle::writers`]: Twisted's `getWriters`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(reactor.writers().is_empty());
    /// ```
    #[doc(alias = "getWriters")]
    pub fn writers(&self) -> Vec<SharedWriter> {
        self.handle().writers()
    }

    /// [`ReactorHandle::remove_all`]: Twisted's `removeAll`.
    ///
    /// ```
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(reactor.remove_all().0.len(), 0);
    /// ```
    #[doc(alias = "removeAll")]
    pub fn remove_all(&self) -> (Vec<SharedReader>, Vec<SharedWriter>) {
        self.handle().remove_all()
    }
}
