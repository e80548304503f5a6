//! Streaming producers over real loopback sockets (port 0): the pause comes from inside
//! the write that passes 64 KiB, the resume once the buffer has drained, and a producer
//! may call back into its transport from either without deadlock or recursion.
//!
//! The expected orders were checked against Twisted 26.10 (`FileDescriptor.write` and
//! `doWrite` in `twisted.internet.abstract`) with the same scripts on its reactor.

#![allow(
    clippy::items_after_statements,
    reason = "each test declares its own small producer next to its use"
)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use tokio_twisted::error::ConnectionDone;
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{Producer, ProducerKind, Protocol, Transport, for_protocol};
use tokio_twisted::reactor::ReactorHandle;

type Calls = Arc<Mutex<Vec<String>>>;

fn note(calls: &Calls, what: impl Into<String>) {
    calls.lock().unwrap().push(what.into());
}

/// Stops the reactor once both sides of the connection have seen `connection_lost`.
#[derive(Clone, Default)]
struct BothLost(Rc<std::cell::Cell<u8>>);

impl BothLost {
    fn one_lost(&self) {
        self.0.set(self.0.get() + 1);
        if self.0.get() == 2 {
            let _ = ReactorHandle::current().unwrap().stop();
        }
    }
}

/// The server side: runs `on_made` with its transport, logs how it ended.
struct Server {
    calls: Calls,
    on_made: Rc<dyn Fn(&Transport)>,
    lost: BothLost,
}

impl Protocol for Server {
    fn connection_made(&mut self, t: Transport) {
        (self.on_made)(&t);
    }
    fn data_received(&mut self, _: &[u8]) {}
    fn connection_lost(&mut self, reason: Failure) {
        let how = if reason.check::<ConnectionDone>() {
            "done".to_owned()
        } else if reason.check::<PanicError>() {
            format!("panic {}", reason.error_message())
        } else {
            format!("other {}", reason.error_message())
        };
        note(&self.calls, format!("lost {how}"));
        self.lost.one_lost();
    }
}

/// The client side: reads `expect` bytes, then closes.
struct Reader {
    expect: usize,
    got: Rc<RefCell<usize>>,
    transport: Option<Transport>,
    lost: BothLost,
}

impl Protocol for Reader {
    fn connection_made(&mut self, t: Transport) {
        self.transport = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        *self.got.borrow_mut() += data.len();
        if *self.got.borrow() >= self.expect {
            self.transport.as_ref().unwrap().lose_connection();
        }
    }
    fn connection_lost(&mut self, _: Failure) {
        self.lost.one_lost();
    }
}

/// Serves one connection whose server runs `on_made`, reads `expect` bytes from it and
/// returns how many arrived.
fn run(calls: &Calls, expect: usize, on_made: impl Fn(&Transport) + 'static) -> usize {
    let reactor = common::reactor();
    let on_made: Rc<dyn Fn(&Transport)> = Rc::new(on_made);
    let server_calls = Arc::clone(calls);
    let lost = BothLost::default();
    let server_lost = lost.clone();
    let port = reactor
        .listen_tcp(
            0,
            for_protocol(move || Server {
                calls: Arc::clone(&server_calls),
                on_made: Rc::clone(&on_made),
                lost: server_lost.clone(),
            }),
        )
        .unwrap();
    let got = Rc::new(RefCell::new(0));
    let client_got = Rc::clone(&got);
    reactor
        .connect_tcp(
            "127.0.0.1",
            port.port(),
            for_protocol(move || Reader {
                expect,
                got: Rc::clone(&client_got),
                transport: None,
                lost: lost.clone(),
            }),
        )
        .unwrap();
    reactor.run().unwrap();
    got.take()
}

/// Logs each call with what its transport had buffered at that moment (reading
/// `buffered()` from inside a call also proves no lock is held around it).
struct Logging {
    calls: Calls,
    transport: Transport,
}

impl Producer for Logging {
    fn pause_producing(&mut self) {
        note(&self.calls, format!("pause {}", self.transport.buffered()));
    }
    fn resume_producing(&mut self) {
        note(&self.calls, format!("resume {}", self.transport.buffered()));
    }
    fn stop_producing(&mut self) {
        note(&self.calls, "stop");
    }
}

/// Twisted calls `pauseProducing` from inside each `write` that leaves more than
/// `bufferSize` (64 KiB) buffered, and `resumeProducing` once, when `doWrite` has sent
/// everything; connection loss stops a producer still registered.
#[test]
fn each_write_past_the_mark_pauses_inside_the_write_and_one_resume_follows_the_drain() {
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let got = common::bounded("pause_inside_write", move || {
        run(&c.clone(), 120_000, move |t| {
            t.register_producer(
                Logging {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            for i in 0..3 {
                note(&c, format!("write {i}"));
                t.write(&vec![b'x'; 40_000]);
                note(&c, format!("wrote {i}"));
            }
            note(&c, "event returns");
        })
    });
    assert_eq!(got, 120_000);
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "write 0",
            "wrote 0",
            "write 1",
            "pause 80000",
            "wrote 1",
            "write 2",
            "pause 120000",
            "wrote 2",
            "event returns",
            "resume 0",
            "stop",
            "lost done",
        ]
    );
}

/// `write_sequence` pauses as `write` does (Twisted's `writeSequence` calls
/// `_maybePauseProducer` once, after queueing every chunk).
#[test]
fn write_sequence_pauses_once_per_call() {
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let got = common::bounded("write_sequence_pauses", move || {
        run(&c.clone(), 100_000, move |t| {
            t.register_producer(
                Logging {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            let chunk = bytes::Bytes::from(vec![b'y'; 50_000]);
            t.write_sequence([chunk.clone(), chunk]);
        })
    });
    assert_eq!(got, 100_000);
    assert_eq!(
        *calls.lock().unwrap(),
        ["pause 100000", "resume 0", "stop", "lost done"]
    );
}

/// A producer that writes from `pause_producing` neither deadlocks nor is paused again
/// by its own write (Twisted would recurse until its stack runs out); its bytes are sent
/// and it is resumed once.
#[test]
fn a_producer_may_write_from_pause_producing() {
    struct Chatty {
        calls: Calls,
        transport: Transport,
    }
    impl Producer for Chatty {
        fn pause_producing(&mut self) {
            note(&self.calls, format!("pause {}", self.transport.buffered()));
            self.transport.write(b"0123456789");
            note(&self.calls, format!("wrote {}", self.transport.buffered()));
        }
        fn resume_producing(&mut self) {
            note(&self.calls, format!("resume {}", self.transport.buffered()));
        }
        fn stop_producing(&mut self) {
            note(&self.calls, "stop");
        }
    }
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let got = common::bounded("write_from_pause", move || {
        run(&c.clone(), 100_010, move |t| {
            t.register_producer(
                Chatty {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            t.write(&vec![b'x'; 100_000]);
        })
    });
    assert_eq!(got, 100_010);
    assert_eq!(
        *calls.lock().unwrap(),
        ["pause 100000", "wrote 100010", "resume 0", "stop", "lost done"]
    );
}

/// A producer may unregister itself, or pause and resume the transport's reading, from
/// `pause_producing`: nothing deadlocks, and an unregistered producer is neither resumed
/// nor stopped (Twisted's `unregisterProducer` forgets it).
#[test]
fn a_producer_may_unregister_itself_from_pause_producing() {
    struct Quitter {
        calls: Calls,
        transport: Transport,
    }
    impl Producer for Quitter {
        fn pause_producing(&mut self) {
            note(&self.calls, "pause");
            self.transport.pause_producing();
            self.transport.resume_producing();
            self.transport.unregister_producer();
        }
        fn resume_producing(&mut self) {
            note(&self.calls, "resume");
        }
        fn stop_producing(&mut self) {
            note(&self.calls, "stop");
        }
    }
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let got = common::bounded("unregister_from_pause", move || {
        run(&c.clone(), 200_000, move |t| {
            t.register_producer(
                Quitter {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            t.write(&vec![b'x'; 100_000]);
            // No producer any more: this write pauses nobody.
            t.write(&vec![b'x'; 100_000]);
        })
    });
    assert_eq!(got, 200_000);
    assert_eq!(*calls.lock().unwrap(), ["pause", "lost done"]);
}

/// A streaming producer whose `resume_producing` writes past the mark is paused again.
/// Twisted calls `pauseProducing` from inside that write, nested in `resumeProducing`;
/// a producer is never re-entered here, so the pause comes as soon as the resume
/// returns, before the buffer is sent. Every pause is followed by exactly one resume.
#[test]
fn a_producer_that_writes_past_the_mark_while_resumed_is_paused_after_the_resume() {
    struct Refill {
        calls: Calls,
        transport: Transport,
        left: u32,
    }
    impl Producer for Refill {
        fn pause_producing(&mut self) {
            note(&self.calls, format!("pause {}", self.transport.buffered()));
        }
        fn resume_producing(&mut self) {
            note(&self.calls, format!("resume {}", self.transport.buffered()));
            if self.left == 0 {
                self.transport.unregister_producer();
                self.transport.lose_connection();
                return;
            }
            self.left -= 1;
            self.transport.write(&vec![b'r'; 70_000]);
            note(&self.calls, "refilled");
        }
        fn stop_producing(&mut self) {
            note(&self.calls, "stop");
        }
    }
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let got = common::bounded("pause_after_resume", move || {
        run(&c.clone(), 3 * 70_000, move |t| {
            t.register_producer(
                Refill {
                    calls: Arc::clone(&c),
                    transport: t.clone(),
                    left: 2,
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            t.write(&vec![b'r'; 70_000]);
        })
    });
    assert_eq!(got, 3 * 70_000);
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "pause 70000",
            "resume 0",
            "refilled",
            "pause 70000",
            "resume 0",
            "refilled",
            "pause 70000",
            "resume 0",
            "lost done",
        ]
    );
}

/// A write from another thread that passes the mark does not call the producer on that
/// thread: the connection pauses it on the reactor thread, before sending.
#[test]
fn a_write_from_another_thread_pauses_the_producer_on_the_reactor_thread() {
    struct Where {
        calls: Calls,
        reactor_thread: ThreadId,
    }
    impl Producer for Where {
        fn pause_producing(&mut self) {
            let here = std::thread::current().id() == self.reactor_thread;
            note(&self.calls, format!("pause on reactor thread: {here}"));
        }
        fn resume_producing(&mut self) {
            let here = std::thread::current().id() == self.reactor_thread;
            note(&self.calls, format!("resume on reactor thread: {here}"));
        }
        fn stop_producing(&mut self) {
            note(&self.calls, "stop");
        }
    }
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    let got = common::bounded("write_from_thread", move || {
        run(&c.clone(), 100_000, move |t| {
            t.register_producer(
                Where {
                    calls: Arc::clone(&c),
                    reactor_thread: std::thread::current().id(),
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            let t = t.clone();
            std::thread::spawn(move || t.write(&vec![b'z'; 100_000]))
                .join()
                .unwrap();
        })
    });
    assert_eq!(got, 100_000);
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "pause on reactor thread: true",
            "resume on reactor thread: true",
            "stop",
            "lost done",
        ]
    );
}

/// A panic in `pause_producing` reaches the code that wrote (here `connection_made`, so
/// that connection closes with the panic as its reason, as an exception raised by
/// Twisted's `pauseProducing` propagates out of `write`); the producer stayed registered
/// and is stopped.
#[test]
fn a_panic_in_pause_producing_reaches_the_writer() {
    struct Grumpy {
        calls: Calls,
    }
    impl Producer for Grumpy {
        fn pause_producing(&mut self) {
            note(&self.calls, "pause");
            panic!("no pausing");
        }
        fn resume_producing(&mut self) {
            note(&self.calls, "resume");
        }
        fn stop_producing(&mut self) {
            note(&self.calls, "stop");
        }
    }
    let calls: Calls = Arc::default();
    let c = Arc::clone(&calls);
    common::bounded("panic_in_pause", move || {
        run(&c.clone(), 1, move |t| {
            t.register_producer(
                Grumpy {
                    calls: Arc::clone(&c),
                },
                ProducerKind::Streaming,
            )
            .unwrap();
            t.write(&vec![b'x'; 100_000]);
            note(&c, "not reached");
        })
    });
    assert_eq!(
        *calls.lock().unwrap(),
        ["pause", "stop", "lost panic panicked: no pausing"]
    );
}
