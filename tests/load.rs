//! Load, faults and hostile peers over loopback, bounded in count and time: a thousand
//! concurrent connections through the echo server, a slow reader against a fast writer
//! (memory stays bounded because the writer is paused), a peer that resets mid-write, a
//! refused connection, and a panic inside `data_received` that ends only its connection.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_twisted::error::{ConnectionLost, ConnectionRefusedError};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, Factory, Producer, ProducerKind, Protocol, TcpListenOptions,
    Transport, for_protocol,
};
use tokio_twisted::reactor::ReactorHandle;

/// A reactor serving `factory` on 127.0.0.1 (backlog 1024, so a thousand simultaneous
/// connects are not dropped) on a thread of its own; returns the port, a handle to stop
/// it, and the thread.
fn serve<F, M>(make: M) -> (u16, ReactorHandle, std::thread::JoinHandle<()>)
where
    F: Factory,
    M: FnOnce(&ReactorHandle) -> F + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let reactor = common::reactor();
        let factory = make(&reactor.handle());
        let opts = TcpListenOptions::new()
            .backlog(1024)
            .interface("127.0.0.1".parse().unwrap());
        let port = reactor.listen_tcp_with(0, factory, opts).unwrap();
        tx.send((port.port(), reactor.handle())).unwrap();
        reactor.run().unwrap();
    });
    let (port, handle) = rx.recv_timeout(common::limit()).expect("the server starts");
    (port, handle, thread)
}

fn stop(handle: &ReactorHandle, thread: std::thread::JoinHandle<()>) {
    let stopper = handle.clone();
    handle.call_from_thread(move || stopper.stop()).unwrap();
    thread.join().unwrap();
}

#[derive(Default)]
struct Echo(Option<Transport>);

impl Protocol for Echo {
    fn connection_made(&mut self, t: Transport) {
        self.0 = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.0 {
            t.write(data);
        }
    }
}

/// The 16-byte message `seq` of connection `conn`.
fn message(conn: u32, seq: u32) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[..4].copy_from_slice(&conn.to_be_bytes());
    m[4..8].copy_from_slice(&seq.to_be_bytes());
    m[8..].copy_from_slice(b"echo\r\n!!");
    m
}

#[test]
fn thousand_connections_thousand_messages_each_come_back_in_order() {
    const CONNS: u32 = 1000;
    const MSGS: u32 = 1000;
    let _limit = common::time_limit();
    let (port, handle, server) = serve(|_| for_protocol(Echo::default));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ok = rt.block_on(common::within("1,000 × 1,000 echoes", async move {
        let mut streams = Vec::new();
        for _ in 0..CONNS {
            let s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            streams.push(s);
        }
        let mut tasks = Vec::new();
        for (conn, stream) in (0..CONNS).zip(streams) {
            tasks.push(tokio::spawn(async move {
                let (mut rd, mut wr) = stream.into_split();
                // All messages go out pipelined while the echoes are read back.
                let writer = tokio::spawn(async move {
                    let mut out = Vec::with_capacity((MSGS as usize) * 16);
                    for seq in 0..MSGS {
                        out.extend_from_slice(&message(conn, seq));
                    }
                    wr.write_all(&out).await.unwrap();
                    wr
                });
                let mut back = vec![0u8; (MSGS as usize) * 16];
                rd.read_exact(&mut back).await.unwrap();
                drop(writer.await.unwrap());
                back.chunks(16)
                    .zip(0..MSGS)
                    .all(|(m, seq)| m == message(conn, seq))
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap() {
                ok += 1;
            }
        }
        ok
    }));
    stop(&handle, server);
    assert_eq!(ok, CONNS, "every connection got every byte back, in order");
}

/// A streaming producer that writes 64 KiB chunks, without yielding, until it is paused
/// or `total` bytes are out, recording the most the transport ever had buffered and how often it was
/// paused.
struct Firehose {
    paused: Arc<AtomicBool>,
    pauses: Arc<AtomicUsize>,
    wake: Arc<tokio::sync::Notify>,
}

impl Producer for Firehose {
    fn pause_producing(&mut self) {
        self.paused.store(true, Ordering::SeqCst);
        self.pauses.fetch_add(1, Ordering::SeqCst);
    }
    fn resume_producing(&mut self) {
        self.paused.store(false, Ordering::SeqCst);
        self.wake.notify_one();
    }
    fn stop_producing(&mut self) {}
}

struct Stats {
    max_buffered: AtomicUsize,
    pauses: Arc<AtomicUsize>,
    first_pause: Mutex<Option<mpsc::Sender<()>>>,
}

struct Sender {
    total: usize,
    stats: Arc<Stats>,
    reactor: ReactorHandle,
}

impl Protocol for Sender {
    fn connection_made(&mut self, t: Transport) {
        let paused = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(tokio::sync::Notify::new());
        t.register_producer(
            Firehose {
                paused: Arc::clone(&paused),
                pauses: Arc::clone(&self.stats.pauses),
                wake: Arc::clone(&wake),
            },
            ProducerKind::Streaming,
        )
        .unwrap();
        let stats = Arc::clone(&self.stats);
        let total = self.total;
        let chunk = Bytes::from(vec![7u8; 65_536]);
        self.reactor
            .spawn_local(async move {
                let mut sent = 0;
                while sent < total {
                    if paused.load(Ordering::SeqCst) {
                        if let Some(tx) = stats.first_pause.lock().unwrap().take() {
                            let _ = tx.send(());
                        }
                        wake.notified().await;
                        continue;
                    }
                    let n = chunk.len().min(total - sent);
                    t.write_bytes(chunk.slice(..n));
                    sent += n;
                    stats.max_buffered.fetch_max(t.buffered(), Ordering::SeqCst);
                    // No yield: the write that passes 64 KiB pauses the producer before
                    // it returns, so the loop stops writing at once.
                }
                t.unregister_producer();
                t.lose_connection();
            })
            .unwrap();
    }
    fn data_received(&mut self, _: &[u8]) {}
}

#[test]
fn slow_reader_pauses_the_writer_and_memory_stays_bounded() {
    const TOTAL: usize = 100 << 20;
    let _limit = common::time_limit();
    let (paused_tx, paused_rx) = mpsc::channel();
    let stats = Arc::new(Stats {
        max_buffered: AtomicUsize::new(0),
        pauses: Arc::new(AtomicUsize::new(0)),
        first_pause: Mutex::new(Some(paused_tx)),
    });
    let server_stats = Arc::clone(&stats);
    let (port, handle, server) = serve(move |reactor| {
        let reactor = reactor.clone();
        for_protocol(move || Sender {
            total: TOTAL,
            stats: Arc::clone(&server_stats),
            reactor: reactor.clone(),
        })
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.set_read_timeout(Some(common::limit())).unwrap();
    // Not reading: the server fills the socket buffers and must pause its producer.
    paused_rx
        .recv_timeout(common::limit())
        .expect("the producer is paused while nobody reads");
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0;
    loop {
        match client.read(&mut buf).unwrap() {
            0 => break,
            n => {
                assert!(buf[..n].iter().all(|&b| b == 7));
                got += n;
            }
        }
    }
    stop(&handle, server);
    assert_eq!(got, TOTAL, "the whole transfer completes once the client reads");
    let max = stats.max_buffered.load(Ordering::SeqCst);
    // At most one chunk beyond the 64 KiB mark.
    assert!(max <= 2 * 65_536, "the outbox grew to {max} bytes");
    assert!(stats.pauses.load(Ordering::SeqCst) >= 1);
}

/// Records how its connection ended.
struct Lost {
    reasons: mpsc::Sender<String>,
    transport: Option<Transport>,
    write_on_connect: usize,
}

impl Protocol for Lost {
    fn connection_made(&mut self, t: Transport) {
        if self.write_on_connect > 0 {
            t.write_bytes(Bytes::from(vec![1u8; self.write_on_connect]));
        }
        self.transport = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        assert!(data != b"boom", "data_received exploded");
        if let Some(t) = &self.transport {
            t.write(data);
        }
    }
    fn connection_lost(&mut self, reason: Failure) {
        let name = if reason.check::<ConnectionLost>() {
            "lost".to_owned()
        } else if reason.check::<PanicError>() {
            format!("panic: {}", reason.error_message())
        } else {
            format!("other: {}", reason.error_message())
        };
        // The test may have stopped listening already; nothing to report to then.
        let _ = self.reasons.send(name);
    }
}

#[test]
fn a_peer_reset_mid_write_is_connection_lost() {
    let _limit = common::time_limit();
    let (tx, reasons) = mpsc::channel();
    let (port, handle, server) = serve(move |_| {
        for_protocol(move || Lost {
            reasons: tx.clone(),
            transport: None,
            write_on_connect: 32 << 20,
        })
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut some = [0u8; 1024];
    client.read_exact(&mut some).unwrap();
    // Close with unread data and SO_LINGER 0: the server gets a reset while writing.
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
    let reason = reasons
        .recv_timeout(common::limit())
        .expect("connection_lost comes");
    stop(&handle, server);
    assert_eq!(reason, "lost");
}

#[test]
fn a_panic_in_data_received_closes_only_that_connection() {
    let _limit = common::time_limit();
    let (tx, reasons) = mpsc::channel();
    let (port, handle, server) = serve(move |_| {
        for_protocol(move || Lost {
            reasons: tx.clone(),
            transport: None,
            write_on_connect: 0,
        })
    });
    let mut good = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut bad = TcpStream::connect(("127.0.0.1", port)).unwrap();
    for s in [&good, &bad] {
        s.set_read_timeout(Some(common::limit())).unwrap();
    }
    bad.write_all(b"boom").unwrap();
    let mut rest = Vec::new();
    // The panicking connection is closed by the server.
    let _ = bad.read_to_end(&mut rest);
    assert!(rest.is_empty());
    // The other connection and the reactor go on.
    good.write_all(b"still here").unwrap();
    let mut back = [0u8; 10];
    good.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"still here");
    let third = TcpStream::connect(("127.0.0.1", port));
    assert!(third.is_ok(), "the port still accepts");
    let first = reasons
        .recv_timeout(common::limit())
        .expect("connection_lost comes");
    stop(&handle, server);
    assert!(
        first.starts_with("panic: ") && first.contains("data_received exploded"),
        "{first}"
    );
}

/// Reports a failed connection attempt.
struct Failed(Arc<Mutex<Option<bool>>>, ReactorHandle);

impl Factory for Failed {
    type Protocol = Echo;
    fn build_protocol(&mut self, _: &Address) -> Option<Echo> {
        Some(Echo::default())
    }
}

impl ClientFactory for Failed {
    fn client_connection_failed(&mut self, _: &Connector, reason: Failure) {
        *self.0.lock().unwrap() = Some(reason.check::<ConnectionRefusedError>());
        self.1.stop().unwrap();
    }
}

#[test]
fn connection_refused_reaches_client_connection_failed() {
    let _limit = common::time_limit();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let reactor = common::reactor();
    let refused = Arc::new(Mutex::new(None));
    reactor
        .connect_tcp("127.0.0.1", port, Failed(Arc::clone(&refused), reactor.handle()))
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(*refused.lock().unwrap(), Some(true));
}
