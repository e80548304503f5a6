//! Raw descriptors on the reactor (`add_reader`, `add_writer`, `remove_reader`,
//! `remove_writer`, `readers`, `writers`, `remove_all`) over UNIX socket pairs.

#![cfg(unix)]

mod common;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use tokio_twisted::error::{ConnectionDone, ConnectionLost};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{AddDescriptorError, FileDescriptor, ReadDescriptor, WriteDescriptor};
use tokio_twisted::reactor::ReactorHandle;

fn reason(f: &Failure) -> &'static str {
    if f.check::<ConnectionDone>() {
        "done"
    } else if f.check::<ConnectionLost>() {
        "lost"
    } else if f.check::<PanicError>() {
        "panic"
    } else {
        "other"
    }
}

/// Reads at most `chunk` bytes per call (so a call may leave data unread) and stops the
/// reactor when its connection is lost.
struct Reader {
    sock: UnixStream,
    chunk: usize,
    got: Vec<u8>,
    calls: usize,
    lost: Option<&'static str>,
    stop_on_lost: Option<ReactorHandle>,
    panic_on_read: bool,
}

impl Reader {
    fn new(sock: UnixStream, chunk: usize, stop: Option<ReactorHandle>) -> Rc<RefCell<Self>> {
        sock.set_nonblocking(true).unwrap();
        Rc::new(RefCell::new(Reader {
            sock,
            chunk,
            got: Vec::new(),
            calls: 0,
            lost: None,
            stop_on_lost: stop,
            panic_on_read: false,
        }))
    }
}

impl FileDescriptor for Reader {
    fn fileno(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
    fn connection_lost(&mut self, why: Failure) {
        self.lost = Some(reason(&why));
        if let Some(r) = &self.stop_on_lost {
            let _ = r.stop();
        }
    }
}

impl ReadDescriptor for Reader {
    fn do_read(&mut self) -> io::Result<()> {
        self.calls += 1;
        assert!(!self.panic_on_read, "reader exploded");
        let mut buf = vec![0; self.chunk];
        match (&self.sock).read(&mut buf)? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.got.extend_from_slice(&buf[..n]);
                Ok(())
            }
        }
    }
}

/// A reader with nothing to do.
struct Idle<T>(T);

impl<T: AsFd + 'static> FileDescriptor for Idle<T> {
    fn fileno(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl<T: AsFd + 'static> ReadDescriptor for Idle<T> {
    fn do_read(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 253) as u8).collect()
}

#[test]
fn reader_gets_everything_then_done() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let fd = ours.as_raw_fd();
    let reader = Reader::new(ours, 100, Some(reactor.handle()));
    reactor.add_reader(Rc::clone(&reader)).unwrap();
    assert_eq!(reactor.readers().len(), 1);
    assert_eq!(reactor.readers()[0].borrow().fileno().as_raw_fd(), fd);
    // More than one read's worth, and a reader that reads only 100 bytes a call: with
    // edge-triggered readiness, the rest must still be delivered.
    let data = pattern(10_000);
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        theirs.write_all(&sent).unwrap();
    });
    reactor.run().unwrap();
    writer.join().unwrap();
    let r = reader.borrow();
    assert!(r.got == data, "got {} of {} bytes", r.got.len(), data.len());
    assert_eq!(r.lost, Some("done"));
    assert!(reactor.readers().is_empty(), "an ended reader is removed");
}

#[test]
fn large_transfer_through_a_reader_that_reads_little() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let reader = Reader::new(ours, 4096, Some(reactor.handle()));
    reactor.add_reader(Rc::clone(&reader)).unwrap();
    let data = pattern(4 << 20);
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        for chunk in sent.chunks(65_536) {
            theirs.write_all(chunk).unwrap();
        }
    });
    reactor.run().unwrap();
    writer.join().unwrap();
    assert!(reader.borrow().got == data);
}

#[test]
fn remove_reader_stops_the_calls_without_connection_lost() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let reader = Reader::new(ours, 100, None);
    reactor.add_reader(Rc::clone(&reader)).unwrap();
    assert!(reactor.remove_reader(reader.borrow().fileno()));
    assert!(
        !reactor.remove_reader(reader.borrow().fileno()),
        "a second remove finds nothing"
    );
    assert!(reactor.readers().is_empty());
    theirs.write_all(b"ignored").unwrap();
    reactor.call_later(Duration::from_millis(30), common::stop_call(&reactor.handle()));
    reactor.run().unwrap();
    let r = reader.borrow();
    assert_eq!(r.calls, 0, "a removed reader is not called");
    assert_eq!(r.lost, None, "removing is not losing");
}

#[test]
fn remove_reader_from_a_timer_while_data_flows() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let reader = Reader::new(ours, 1, None);
    reactor.add_reader(Rc::clone(&reader)).unwrap();
    theirs.write_all(b"abc").unwrap();
    let handle = reactor.handle();
    let r2 = Rc::clone(&reader);
    // Reader objects are not `Send`: a local task (not a timed call) reaches them.
    reactor
        .spawn_local(async move {
            while r2.borrow().got.len() < 3 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(r2.borrow().got, b"abc");
            assert!(handle.remove_reader(r2.borrow().fileno()));
            theirs.write_all(b"def").unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            handle.stop().unwrap();
        })
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(reader.borrow().got, b"abc", "nothing is read after the removal");
}

struct Writer {
    sock: UnixStream,
    left: Vec<u8>,
    calls: usize,
    lost: Option<&'static str>,
    stop: ReactorHandle,
}

impl FileDescriptor for Writer {
    fn fileno(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
    fn connection_lost(&mut self, why: Failure) {
        self.lost = Some(reason(&why));
        let _ = self.stop.stop();
    }
}

impl WriteDescriptor for Writer {
    fn do_write(&mut self) -> io::Result<()> {
        self.calls += 1;
        if self.left.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let n = (&self.sock).write(&self.left)?;
        self.left.drain(..n);
        Ok(())
    }
}

#[test]
fn writer_fills_the_socket_and_resumes_when_drained() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let data = pattern(8 << 20);
    let writer = Rc::new(RefCell::new(Writer {
        sock: ours,
        left: data.clone(),
        calls: 0,
        lost: None,
        stop: reactor.handle(),
    }));
    reactor.add_writer(Rc::clone(&writer)).unwrap();
    assert_eq!(reactor.writers().len(), 1);
    let total = data.len();
    let peer = std::thread::spawn(move || {
        let mut got = vec![0; total];
        theirs.read_exact(&mut got).unwrap();
        got
    });
    reactor.run().unwrap();
    assert!(peer.join().unwrap() == data);
    assert_eq!(writer.borrow().lost, Some("done"));
    assert!(reactor.writers().is_empty());
}

#[test]
fn a_panic_in_do_read_ends_that_descriptor_only() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (a, mut a_peer) = UnixStream::pair().unwrap();
    let (b, mut b_peer) = UnixStream::pair().unwrap();
    let bad = Reader::new(a, 100, None);
    bad.borrow_mut().panic_on_read = true;
    let good = Reader::new(b, 100, Some(reactor.handle()));
    reactor.add_reader(Rc::clone(&bad)).unwrap();
    reactor.add_reader(Rc::clone(&good)).unwrap();
    a_peer.write_all(b"boom").unwrap();
    let handle = reactor.handle();
    reactor.call_later(Duration::from_millis(30), move || {
        // The panicking reader is gone; the other still reads.
        assert_eq!(handle.readers().len(), 1);
        b_peer.write_all(b"fine").unwrap();
        drop(b_peer);
    });
    reactor.run().unwrap();
    assert_eq!(bad.borrow().lost, Some("panic"));
    assert_eq!(good.borrow().got, b"fine");
    assert_eq!(good.borrow().lost, Some("done"));
}

#[test]
fn shutdown_tells_every_descriptor_connection_lost() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (a, _a_peer) = UnixStream::pair().unwrap();
    let reader = Reader::new(a, 100, None);
    reactor.add_reader(Rc::clone(&reader)).unwrap();
    reactor.call_later(Duration::from_millis(10), common::stop_call(&reactor.handle()));
    reactor.run().unwrap();
    assert_eq!(reader.borrow().lost, Some("lost"));
}

#[test]
fn remove_all_returns_readers_and_writers() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    let (a, _a_peer) = UnixStream::pair().unwrap();
    let (b, _b_peer) = UnixStream::pair().unwrap();
    reactor.add_reader(Reader::new(a, 1, None)).unwrap();
    b.set_nonblocking(true).unwrap();
    let writer = Rc::new(RefCell::new(Writer {
        sock: b,
        left: Vec::new(),
        calls: 0,
        lost: None,
        stop: reactor.handle(),
    }));
    reactor.add_writer(Rc::clone(&writer)).unwrap();
    let (readers, writers) = reactor.remove_all();
    assert_eq!((readers.len(), writers.len()), (1, 1));
    assert!(reactor.readers().is_empty() && reactor.writers().is_empty());
    reactor.call_later(Duration::from_millis(20), common::stop_call(&reactor.handle()));
    reactor.run().unwrap();
    assert_eq!(writer.borrow().calls, 0, "removed before the reactor ran");
}

#[test]
fn add_reader_errors_are_typed() {
    let _limit = common::time_limit();
    let reactor = common::reactor();
    // A regular file cannot be watched by epoll.
    let path = std::env::temp_dir().join(format!("tokio-twisted-descriptor-{}", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let err = reactor.add_reader(Rc::new(RefCell::new(Idle(file)))).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(err, AddDescriptorError::Register { .. }), "{err}");
    // Off the reactor thread.
    let handle = reactor.handle();
    let off = std::thread::spawn(move || {
        let (a, _b) = UnixStream::pair().unwrap();
        matches!(
            handle.add_reader(Rc::new(RefCell::new(Idle(a)))),
            Err(AddDescriptorError::Reactor(_))
        )
    });
    assert!(off.join().unwrap());
}
