//! Public behaviour of the `basic` protocols beyond the conformance port: Twisted's edge cases
//! (checked against Twisted 26.10), chunk independence against a one-chunk reference, and
//! hostile input with bounded memory.

#![allow(
    clippy::items_after_statements,
    reason = "each test declares its small receivers next to where it uses them"
)]

mod common;

use std::cell::RefCell;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use proptest::prelude::*;
use tokio_twisted::basic::{
    Delimiter, FileSender, IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix, LineCodec,
    LineControl, LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver, LineProtocol, LineReceiver,
    NetstringControl, NetstringParseError, NetstringProtocol, NetstringReceiver,
};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Producer, ProducerKind, Protocol, for_protocol};
use tokio_twisted::testing::{StringTransport, failure_result_of, success_result_of};
use tokio_util::codec::Framed;

fn connected<P: Protocol>(mut proto: P) -> (P, StringTransport) {
    let wire = StringTransport::new();
    proto.make_connection(wire.transport());
    (proto, wire)
}

/// What a receiver saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Line(Bytes),
    Raw(Bytes),
    TooLong(usize),
}

/// Records everything; `close_on` closes the connection when that line arrives; `raw_after`
/// switches to raw mode after a line equal to it; raw mode returns to line mode after each
/// raw chunk, passing back all but its first byte.
#[derive(Default)]
struct Recorder {
    events: Vec<Event>,
    close_on: Option<&'static [u8]>,
}

impl LineReceiver for Recorder {
    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        if line == "raw" {
            ctl.set_raw_mode();
        }
        if self.close_on == Some(&line[..]) {
            ctl.transport().lose_connection();
        }
        self.events.push(Event::Line(line));
    }

    fn raw_data_received(&mut self, data: Bytes, _: &mut LineControl<'_>) {
        self.events.push(Event::Raw(data));
    }

    fn line_length_exceeded(&mut self, data: Bytes, _: &mut LineControl<'_>) {
        self.events.push(Event::TooLong(data.len()));
    }
}

#[test]
fn no_lines_after_lose_connection() {
    // Twisted: lineReceived calling loseConnection ends the batch; the rest stays buffered.
    let (mut proto, wire) = connected(LineProtocol::new(Recorder {
        close_on: Some(b"a"),
        ..Recorder::default()
    }));
    proto.data_received(b"a\r\nb\r\nc\r\n");
    assert_eq!(proto.receiver().events, [Event::Line("a".into())]);
    assert!(wire.disconnecting());
}

#[test]
fn set_raw_mode_in_line_received_sends_the_rest_at_once() {
    let (mut proto, _) = connected(LineProtocol::new(Recorder::default()));
    proto.with_control(|_, ctl| ctl.set_delimiter(Delimiter::LF));
    proto.data_received(b"x\r\nraw\nrest\nmore");
    assert_eq!(
        proto.receiver().events,
        [
            Event::Line("x\r".into()), // a `\n` delimiter leaves the `\r` in the line
            Event::Line("raw".into()),
            Event::Raw("rest\nmore".into()),
        ]
    );
}

#[test]
fn acting_from_outside_parses_only_when_twisted_would() {
    // Twisted: proto.setLineMode(extra) and proto.resumeProducing() from outside run
    // dataReceived at once; setRawMode(), setLineMode() without bytes and sendLine() do not.
    let (mut proto, wire) = connected(LineProtocol::new(Recorder {
        close_on: Some(b"a"),
        ..Recorder::default()
    }));
    proto.data_received(b"a\r\nb\r\n");
    let line = |s: &'static str| Event::Line(s.into());
    assert_eq!(
        proto.receiver().events,
        [line("a")],
        "b waits: the transport is disconnecting"
    );
    proto.with_control(|_, ctl| {
        ctl.set_raw_mode();
        ctl.set_line_mode(b"");
        ctl.send_line("out");
    });
    assert_eq!(wire.value(), b"out\r\n");
    assert_eq!(proto.receiver().events, [line("a")]);
    proto.with_control(|_, ctl| ctl.resume_producing());
    assert_eq!(proto.receiver().events, [line("a"), line("b")]);
    proto.with_control(|_, ctl| ctl.set_line_mode(b"c\r\n"));
    assert_eq!(proto.receiver().events, [line("a"), line("b"), line("c")]);
}

#[test]
fn send_line_uses_the_current_delimiter_and_connection_made_can_write() {
    struct Greeter;
    impl LineReceiver for Greeter {
        const DELIMITER: Delimiter = Delimiter::LF;
        fn connection_made(&mut self, ctl: &mut LineControl<'_>) {
            ctl.send_line("hello");
        }
        fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
            ctl.send_line(line);
        }
    }
    let (mut proto, wire) = connected(LineProtocol::new(Greeter));
    assert_eq!(wire.value(), b"hello\n");
    proto.data_received(b"x\n");
    assert_eq!(wire.value(), b"hello\nx\n");
}

#[test]
fn line_only_drops_the_rest_of_the_chunk_after_a_long_line() {
    // Twisted 26.10: [('line', b'a'), ('long', b'xxxxxx')] and b'part' stays buffered.
    #[derive(Default)]
    struct Rec(Vec<Event>);
    impl LineOnlyReceiver for Rec {
        const DELIMITER: Delimiter = Delimiter::LF;
        const MAX_LENGTH: usize = 4;
        fn line_received(&mut self, line: Bytes, _: &mut LineOnlyControl<'_>) {
            self.0.push(Event::Line(line));
        }
        fn line_length_exceeded(&mut self, line: Bytes, _: &mut LineOnlyControl<'_>) {
            self.0.push(Event::TooLong(line.len()));
        }
    }
    let (mut proto, _) = connected(LineOnlyProtocol::new(Rec::default()));
    proto.data_received(b"a\nxxxxxx\nb\nc\npart");
    assert_eq!(proto.receiver().0, [Event::Line("a".into()), Event::TooLong(6)]);
    proto.data_received(b"\n");
    assert_eq!(proto.receiver().0.last(), Some(&Event::Line("part".into())));
}

#[test]
fn netstrings_of_a_chunk_are_delivered_after_lose_connection() {
    // Twisted's NetstringReceiver does not look at `disconnecting`: [b'a', b'b'].
    #[derive(Default)]
    struct Closer(Vec<Bytes>);
    impl NetstringReceiver for Closer {
        fn string_received(&mut self, s: Bytes, ctl: &mut NetstringControl<'_>) {
            self.0.push(s);
            ctl.transport().lose_connection();
        }
    }
    let (mut proto, _) = connected(NetstringProtocol::new(Closer::default()));
    proto.data_received(b"1:a,1:b,");
    assert_eq!(proto.receiver().0, ["a", "b"]);
}

#[test]
fn broken_netstring_peer_gets_nothing_more() {
    #[derive(Default)]
    struct Rec {
        got: Vec<Bytes>,
        lost: Option<Failure>,
    }
    impl NetstringReceiver for Rec {
        fn string_received(&mut self, s: Bytes, _: &mut NetstringControl<'_>) {
            self.got.push(s);
        }
        fn connection_lost(&mut self, reason: Failure) {
            self.lost = Some(reason);
        }
    }
    let (mut proto, wire) = connected(NetstringProtocol::new(Rec::default()));
    proto.data_received(b"1:a,x1:b,");
    proto.data_received(b"1:c,");
    assert_eq!(proto.receiver().got, ["a"]);
    assert_eq!(proto.broken_peer(), Some(NetstringParseError::MissingLength));
    assert!(wire.disconnecting());
    wire.lose_connection_with(&mut proto, Failure::msg("closed"));
    assert!(proto.receiver().lost.is_some());
}

#[derive(Default)]
struct Strings {
    got: Vec<Bytes>,
    limits: Vec<u64>,
}

impl IntNStringReceiver for Strings {
    const PREFIX: LengthPrefix = LengthPrefix::Int8;
    const MAX_LENGTH: usize = 10;
    fn string_received(&mut self, s: Bytes, _: &mut IntNControl<'_>) {
        self.got.push(s);
    }
    fn length_limit_exceeded(&mut self, length: u64, _: &mut IntNControl<'_>) {
        self.limits.push(length);
    }
}

#[test]
fn length_limit_is_reported_per_chunk_without_redelivery() {
    // Twisted 26.10 reports 11 on each chunk, but also delivers b'a' again each time (its
    // buffer keeps the strings parsed before the bad prefix); here `a` arrives once.
    let (mut proto, _) = connected(IntNProtocol::new(Strings::default()));
    proto.data_received(b"\x01a\x0bxx");
    proto.data_received(b"yy");
    proto.data_received(b"");
    assert_eq!(proto.receiver().got, ["a"]);
    assert_eq!(proto.receiver().limits, [11, 11, 11]);
}

#[test]
fn file_sender_edges() {
    // An empty reader finishes with no last byte.
    let wire = StringTransport::new();
    let done = FileSender::new().begin_file_transfer(Cursor::new(Vec::new()), &wire.transport());
    wire.with_producer(Producer::resume_producing);
    assert_eq!(success_result_of(done.unwrap()), None);
    assert_eq!(wire.producer_kind(), None);

    // A failing reader fails the Deferred with its error and unregisters.
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let wire = StringTransport::new();
    let done = FileSender::new()
        .begin_file_transfer(Broken, &wire.transport())
        .unwrap();
    wire.with_producer(Producer::resume_producing);
    let failure = failure_result_of(done);
    assert!(failure.check::<io::Error>());
    assert_eq!(wire.producer_kind(), None);

    // A second producer is refused and nothing is read.
    struct Other;
    impl Producer for Other {
        fn resume_producing(&mut self) {}
        fn stop_producing(&mut self) {}
    }
    let wire = StringTransport::new();
    wire.transport()
        .register_producer(Other, ProducerKind::Streaming)
        .unwrap();
    assert!(
        FileSender::new()
            .begin_file_transfer(Cursor::new(vec![1]), &wire.transport())
            .is_err()
    );
}

#[test]
fn line_protocol_serves_a_tokio_client_over_tcp() {
    // The adapter as a real server on the reactor (loopback, port 0), and a plain Tokio
    // client framing its TcpStream with LineCodec.
    common::bounded("line protocol over tcp", || {
        struct Lengths;
        impl LineReceiver for Lengths {
            fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
                if line == "quit" {
                    ctl.transport().lose_connection();
                } else {
                    ctl.send_line(line.len().to_string());
                }
            }
        }
        let reactor = common::reactor();
        let port = reactor
            .listen_tcp(0, for_protocol(|| LineProtocol::new(Lengths)))
            .unwrap();
        let number = port.port();
        let handle = reactor.handle();
        let replies = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&replies);
        reactor
            .spawn_local(async move {
                let socket = tokio::net::TcpStream::connect(("127.0.0.1", number))
                    .await
                    .unwrap();
                let mut lines = Framed::new(socket, LineCodec::new());
                for line in ["hello", "hi", "quit", "never answered"] {
                    lines.feed(line).await.unwrap();
                }
                SinkExt::<&str>::flush(&mut lines).await.unwrap();
                while let Some(reply) = lines.next().await {
                    seen.borrow_mut().push(reply.unwrap());
                }
                handle.stop().unwrap();
            })
            .unwrap();
        reactor.run().unwrap();
        assert_eq!(*replies.borrow(), ["5", "2"]);
    });
}

// ---- hostile input ----

#[test]
fn hundred_megabyte_line_keeps_memory_bounded() {
    common::bounded("100 MB line through LineProtocol", || {
        let chunk = vec![b'x'; 1 << 20];
        // A receiver that keeps the connection open sees one report per chunk, each no
        // larger than the chunk: nothing accumulates.
        let (mut proto, wire) = connected(LineProtocol::new(Recorder::default()));
        for _ in 0..100 {
            proto.data_received(&chunk);
        }
        assert!(!wire.disconnecting());
        let events = &proto.receiver().events;
        assert_eq!(events.len(), 100);
        assert!(events.iter().all(|e| *e == Event::TooLong(chunk.len())));

        // The default closes at the first chunk.
        struct Plain;
        impl LineReceiver for Plain {
            fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {}
        }
        let (mut proto, wire) = connected(LineProtocol::new(Plain));
        proto.data_received(&chunk);
        assert!(wire.disconnecting());

        // LineOnlyReceiver reports once and drops the rest of the line as it arrives.
        #[derive(Default)]
        struct Count(usize);
        impl LineOnlyReceiver for Count {
            fn line_received(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {}
            fn line_length_exceeded(&mut self, _: Bytes, _: &mut LineOnlyControl<'_>) {
                self.0 += 1;
            }
        }
        let (mut proto, _) = connected(LineOnlyProtocol::new(Count::default()));
        for _ in 0..100 {
            proto.data_received(&chunk);
        }
        assert_eq!(proto.receiver().0, 1);
    });
}

#[test]
fn megabyte_line_byte_by_byte_through_the_protocol() {
    common::bounded("1 MB line byte by byte through LineProtocol", || {
        struct Big(Vec<usize>);
        impl LineReceiver for Big {
            const MAX_LENGTH: usize = 1 << 20;
            fn line_received(&mut self, line: Bytes, _: &mut LineControl<'_>) {
                self.0.push(line.len());
            }
        }
        let (mut proto, _) = connected(LineProtocol::new(Big(Vec::new())));
        for _ in 0..1 << 20 {
            proto.data_received(b"x");
        }
        proto.data_received(b"\r");
        proto.data_received(b"\n");
        assert_eq!(proto.receiver().0, [1 << 20]);
    });
}

#[test]
fn absurd_lengths_close_without_allocating() {
    #[derive(Default)]
    struct Quiet;
    impl NetstringReceiver for Quiet {
        fn string_received(&mut self, _: Bytes, _: &mut NetstringControl<'_>) {}
    }
    let (mut proto, wire) = connected(NetstringProtocol::new(Quiet));
    proto.data_received(b"9223372036854775808:");
    assert!(matches!(
        proto.broken_peer(),
        Some(NetstringParseError::TooLong { .. })
    ));
    assert!(wire.disconnecting());

    struct Int32;
    impl IntNStringReceiver for Int32 {
        const PREFIX: LengthPrefix = LengthPrefix::Int32;
        fn string_received(&mut self, _: Bytes, _: &mut IntNControl<'_>) {}
    }
    let (mut proto, wire) = connected(IntNProtocol::new(Int32));
    proto.data_received(&[0xff, 0xff, 0xff, 0xff]);
    assert!(wire.disconnecting());
    // Later data is dropped, not buffered.
    proto.data_received(&vec![0; 1 << 20]);
    assert_eq!(proto.with_control(|_, ctl| ctl.recvd().len()), 4);
}

// ---- chunk independence of the protocols ----

/// `data` cut at the given points.
fn split_at_points<'a>(data: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (data.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for cut in cuts {
        out.push(&data[last..cut]);
        last = cut;
    }
    out.push(&data[last..]);
    out
}

/// A `len N` line switches to raw mode for N bytes, then back: Twisted's `LineTester` idea.
#[derive(Default)]
struct Blobs {
    events: Vec<Event>,
    want: usize,
    blob: Vec<u8>,
}

impl LineReceiver for Blobs {
    const MAX_LENGTH: usize = 32;
    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        if let Some(n) = line.strip_prefix(b"len ") {
            self.want = std::str::from_utf8(n).unwrap().parse().unwrap();
            if self.want > 0 {
                ctl.set_raw_mode();
            }
        }
        self.events.push(Event::Line(line));
    }
    fn raw_data_received(&mut self, data: Bytes, ctl: &mut LineControl<'_>) {
        let take = self.want.min(data.len());
        self.blob.extend_from_slice(&data[..take]);
        self.want -= take;
        if self.want == 0 {
            self.events
                .push(Event::Raw(std::mem::take(&mut self.blob).into()));
            ctl.set_line_mode(&data[take..]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn line_protocol_with_raw_blocks_is_chunk_independent(
        items in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(b'a'..=b'z', 0..30).prop_map(|l| (l, None)),
                prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| (Vec::new(), Some(b))),
            ],
            0..10,
        ),
        points in prop::collection::vec(any::<usize>(), 0..25),
    ) {
        let mut wire = Vec::new();
        for (line, blob) in &items {
            match blob {
                None => { wire.extend_from_slice(line); wire.extend_from_slice(b"\r\n"); }
                Some(blob) => {
                    wire.extend_from_slice(format!("len {}\r\n", blob.len()).as_bytes());
                    wire.extend_from_slice(blob);
                }
            }
        }
        let run = |chunks: &[&[u8]]| {
            let (mut proto, _) = connected(LineProtocol::new(Blobs::default()));
            for chunk in chunks { proto.data_received(chunk); }
            proto.into_inner().events
        };
        let reference = run(&[&wire]);
        let chunked = run(&split_at_points(&wire, &points));
        prop_assert_eq!(reference, chunked);
    }

    #[test]
    fn netstring_and_intn_protocols_are_chunk_independent(
        strings in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..10),
        points in prop::collection::vec(any::<usize>(), 0..25),
    ) {
        #[derive(Default)]
        struct N(Vec<Bytes>);
        impl NetstringReceiver for N {
            fn string_received(&mut self, s: Bytes, _: &mut NetstringControl<'_>) { self.0.push(s); }
        }
        let (mut sender, out) = connected(NetstringProtocol::new(N::default()));
        let (mut int_sender, int_out) = connected(IntNProtocol::new(Strings::default()));
        for s in &strings {
            sender.with_control(|_, ctl| ctl.send_string(s));
            int_sender.with_control(|_, ctl| ctl.send_string(s)).unwrap();
        }
        let wire = out.value();
        let (mut proto, _) = connected(NetstringProtocol::new(N::default()));
        for chunk in split_at_points(&wire, &points) { proto.data_received(chunk); }
        prop_assert_eq!(&proto.receiver().0, &strings);

        let wire = int_out.value();
        let (mut proto, _) = connected(IntNProtocol::new(Strings::default()));
        for chunk in split_at_points(&wire, &points) { proto.data_received(chunk); }
        // A string over MAX_LENGTH (10) ends delivery: compare up to the first of them.
        let first_long = strings.iter().position(|s| s.len() > 10).unwrap_or(strings.len());
        prop_assert_eq!(&proto.receiver().got[..], &strings[..first_long]);
    }
}
