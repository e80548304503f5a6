//! Port of `twisted/protocols/test/test_basic.py`: `LineReceiver`, `LineOnlyReceiver`,
//! `NetstringReceiver`, `Int32/16/8StringReceiver`, pausing, and `FileSender`, each driven
//! through a `StringTransport`.
//!
//! Not ported here (8 of 89):
//! - `LineReceiverTests.test_lineReceivedNotImplemented`,
//!   `LineOnlyReceiverTests.test_lineReceivedNotImplemented`,
//!   `NetstringReceiverTests.test_stringReceivedNotImplemented`, and
//!   `Int32Tests`/`Int16Tests`/`Int8Tests.test_stringReceivedNotImplemented` (6): these are
//!   required trait methods, so leaving one out is a compile error, not a runtime
//!   `NotImplementedError`.
//! - `LineReceiverTests.test_rawDataError`: it checks that a value returned by
//!   `rawDataReceived` is passed on from `dataReceived`, a channel Twisted deprecates (the
//!   reactor warns when `dataReceived` returns anything); handlers return `()` here and close
//!   the connection through the transport.
//! - `FileSenderTests.test_interface`: `verifyObject(IProducer, ...)` checks an interface at
//!   run time; the sender's producer implements the `Producer` trait, which the compiler
//!   checks.
//!
//! Adapted: `self.transport.registerProducer(self, False)` (the line receiver registering
//! itself) registers a stand-in producer, because a protocol lives on the reactor thread and
//! a producer must be `Send`; Twisted's `_payloadComplete()` assertions (a private method)
//! are replaced by what they imply about delivery.

#![allow(
    clippy::doc_markdown,
    reason = "the doc lines naming the ported Twisted tests quote them verbatim, for grep"
)]

use std::io::Cursor;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio_twisted::basic::{
    Delimiter, FileSender, IntNControl, IntNProtocol, IntNStringReceiver, LengthPrefix, LineControl,
    LineOnlyControl, LineOnlyProtocol, LineOnlyReceiver, LineProtocol, LineReceiver, NetstringControl,
    NetstringParseError, NetstringProtocol, NetstringReceiver, TransferStoppedError,
};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Producer, ProducerKind, ProducerState, Protocol};
use tokio_twisted::task::Clock;
use tokio_twisted::testing::{StringTransport, failure_result_of, success_result_of};

/// Feeds `data` to `proto` in pieces of `size` bytes, as Twisted's tests slice their buffers.
fn feed_in_packets(proto: &mut impl Protocol, data: &[u8], size: usize) {
    for i in 0..=data.len() / size {
        let end = ((i + 1) * size).min(data.len());
        proto.data_received(&data[(i * size).min(data.len())..end]);
    }
}

fn feed_bytewise(proto: &mut impl Protocol, data: &[u8]) {
    for byte in data {
        proto.data_received(std::slice::from_ref(byte));
    }
}

fn connected<P: Protocol>(mut proto: P) -> (P, StringTransport) {
    let wire = StringTransport::new();
    proto.make_connection(wire.transport());
    (proto, wire)
}

/// A producer standing in for a protocol that registers itself.
struct StandIn;

impl Producer for StandIn {
    fn resume_producing(&mut self) {}
    fn stop_producing(&mut self) {}
}

// ---- LineReceiver ----

type Shared<P> = Arc<Mutex<LineProtocol<P>>>;

/// Twisted's `LineTester`: acts on tokens (`pause`, `rawpause`, `stop`, `len N`, `produce`,
/// `unproduce`) and reads `len N` raw bytes after an empty line.
#[derive(Default)]
struct LineTester {
    received: Vec<Vec<u8>>,
    length: usize,
    /// The clock and the protocol itself, for `callLater(0, self.resumeProducing)`.
    clock: Option<(Clock, Weak<Mutex<LineProtocol<LineTester>>>)>,
}

impl LineTester {
    fn resume_soon(&self) {
        if let Some((clock, me)) = &self.clock {
            let me = me.clone();
            clock.call_later(Duration::ZERO, move || {
                if let Some(me) = me.upgrade() {
                    me.lock().unwrap().resume_producing();
                }
            });
        }
    }
}

impl LineReceiver for LineTester {
    const DELIMITER: Delimiter = Delimiter::LF;
    const MAX_LENGTH: usize = 64;

    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        self.received.push(line.to_vec());
        match &line[..] {
            b"" => ctl.set_raw_mode(),
            b"pause" => {
                ctl.pause_producing();
                self.resume_soon();
            }
            b"rawpause" => {
                ctl.pause_producing();
                ctl.set_raw_mode();
                self.received.push(Vec::new());
                self.resume_soon();
            }
            b"stop" => ctl.stop_producing(),
            l if l.starts_with(b"len ") => {
                self.length = std::str::from_utf8(&l[4..]).unwrap().parse().unwrap();
            }
            l if l.starts_with(b"produce") => {
                ctl.transport()
                    .register_producer(StandIn, ProducerKind::Pull)
                    .unwrap();
            }
            l if l.starts_with(b"unproduce") => ctl.transport().unregister_producer(),
            _ => {}
        }
    }

    fn raw_data_received(&mut self, data: Bytes, ctl: &mut LineControl<'_>) {
        let take = self.length.min(data.len());
        let (data, rest) = data.split_at(take);
        self.length -= data.len();
        self.received.last_mut().unwrap().extend_from_slice(data);
        if self.length == 0 {
            ctl.set_line_mode(rest);
        }
    }

    fn line_length_exceeded(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        let max = ctl.max_length();
        if line.len() > max + 1 {
            ctl.set_line_mode(&line[max + 1..]);
        }
    }
}

fn line_tester_with_clock(clock: &Clock) -> (Shared<LineTester>, StringTransport) {
    let (proto, wire) = connected(LineProtocol::new(LineTester::default()));
    let shared = Arc::new(Mutex::new(proto));
    shared.lock().unwrap().receiver_mut().clock = Some((clock.clone(), Arc::downgrade(&shared)));
    (shared, wire)
}

fn received(proto: &LineProtocol<LineTester>) -> Vec<Vec<u8>> {
    proto.receiver().received.clone()
}

fn strings(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.to_vec()).collect()
}

const LINE_BUFFER: &[u8] = b"len 10

0123456789len 5

1234
len 20
foo 123

0123456789
012345678len 0
foo 5

1234567890123456789012345678901234567890123456789012345678901234567890
len 1

a";

/// twisted: LineReceiverTests.test_buffer
/// Lines and raw data come out the same whatever the packet size.
#[test]
fn test_buffer() {
    let output = strings(&[
        b"len 10",
        b"0123456789",
        b"len 5",
        b"1234\n",
        b"len 20",
        b"foo 123",
        b"0123456789\n012345678",
        b"len 0",
        b"foo 5",
        b"",
        b"67890",
        b"len 1",
        b"a",
    ]);
    for packet_size in 1..10 {
        let (mut proto, _wire) = connected(LineProtocol::new(LineTester::default()));
        feed_in_packets(&mut proto, LINE_BUFFER, packet_size);
        assert_eq!(received(&proto), output, "packet size {packet_size}");
    }
}

/// twisted: LineReceiverTests.test_pausing
/// A line that pauses stops delivery until the clock resumes the receiver.
#[test]
fn test_pausing() {
    let buf = b"twiddle1\ntwiddle2\npause\ntwiddle3\n";
    let first = strings(&[b"twiddle1", b"twiddle2", b"pause"]);
    for packet_size in 1..10 {
        let clock = Clock::new();
        let (proto, _wire) = line_tester_with_clock(&clock);
        feed_in_packets(&mut *proto.lock().unwrap(), buf, packet_size);
        assert_eq!(received(&proto.lock().unwrap()), first);
        clock.advance(Duration::ZERO);
        let mut second = first.clone();
        second.push(b"twiddle3".to_vec());
        assert_eq!(received(&proto.lock().unwrap()), second);
    }
}

/// twisted: LineReceiverTests.test_rawPausing
/// Pausing while switching to raw mode holds the raw data until resumed.
#[test]
fn test_raw_pausing() {
    let buf = b"twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n";
    for packet_size in 1..10 {
        let clock = Clock::new();
        let (proto, _wire) = line_tester_with_clock(&clock);
        feed_in_packets(&mut *proto.lock().unwrap(), buf, packet_size);
        assert_eq!(
            received(&proto.lock().unwrap()),
            strings(&[b"twiddle1", b"twiddle2", b"len 5", b"rawpause", b""])
        );
        clock.advance(Duration::ZERO);
        assert_eq!(
            received(&proto.lock().unwrap()),
            strings(&[
                b"twiddle1",
                b"twiddle2",
                b"len 5",
                b"rawpause",
                b"12345",
                b"twiddle3"
            ])
        );
    }
}

/// twisted: LineReceiverTests.test_stopProducing
/// After stopProducing no further line is delivered.
#[test]
fn test_stop_producing() {
    let buf = b"twiddle1\ntwiddle2\nstop\nmore\nstuff\n";
    for packet_size in 1..10 {
        let (mut proto, wire) = connected(LineProtocol::new(LineTester::default()));
        feed_in_packets(&mut proto, buf, packet_size);
        assert_eq!(received(&proto), strings(&[b"twiddle1", b"twiddle2", b"stop"]));
        assert_eq!(wire.producer_state(), ProducerState::Stopped);
    }
}

/// twisted: LineReceiverTests.test_lineReceiverAsProducer
/// Registering and unregistering a producer from lineReceived does not disturb delivery.
#[test]
fn test_line_receiver_as_producer() {
    let (mut proto, wire) = connected(LineProtocol::new(LineTester::default()));
    proto.data_received(b"produce\nhello world\nunproduce\ngoodbye\n");
    assert_eq!(
        received(&proto),
        strings(&[b"produce", b"hello world", b"unproduce", b"goodbye"])
    );
    assert_eq!(wire.producer_kind(), None);
}

/// twisted: LineReceiverTests.test_clearLineBuffer
/// clearLineBuffer, called from lineReceived, returns and removes everything buffered.
#[test]
fn test_clear_line_buffer() {
    #[derive(Default)]
    struct ClearingReceiver {
        line: Bytes,
        rest: Bytes,
    }
    impl LineReceiver for ClearingReceiver {
        fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
            self.line = line;
            self.rest = ctl.clear_line_buffer();
        }
    }
    let (mut proto, _wire) = connected(LineProtocol::new(ClearingReceiver::default()));
    proto.data_received(b"foo\r\nbar\r\nbaz");
    assert_eq!(proto.receiver().line, "foo");
    assert_eq!(proto.receiver().rest, "bar\r\nbaz");
    proto.data_received(b"quux\r\n");
    assert_eq!(proto.receiver().line, "quux");
    assert_eq!(proto.receiver().rest, "");
}

/// Twisted's `FlippingLineTester`: raw mode after each line, line mode after one raw byte.
#[derive(Default)]
struct FlippingLineTester {
    lines: Vec<u8>,
}

impl LineReceiver for FlippingLineTester {
    const DELIMITER: Delimiter = Delimiter::LF;

    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        self.lines.extend_from_slice(&line);
        ctl.set_raw_mode();
    }

    fn raw_data_received(&mut self, data: Bytes, ctl: &mut LineControl<'_>) {
        ctl.set_line_mode(&data[1..]);
    }
}

/// twisted: LineReceiverTests.test_stackRecursion
/// Switching modes thousands of times within one chunk does not recurse.
#[test]
fn test_stack_recursion() {
    let limit = 5000;
    let (mut proto, _wire) = connected(LineProtocol::new(FlippingLineTester::default()));
    proto.data_received(&b"x\nx".repeat(limit));
    assert_eq!(proto.receiver().lines, b"x".repeat(limit));
}

/// A `LineReceiver` with every default: lines are ignored.
struct Plain;

impl LineReceiver for Plain {
    fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {}
}

/// twisted: LineReceiverTests.test_maximumLineLength
/// A line longer than MAX_LENGTH disconnects.
#[test]
fn test_maximum_line_length() {
    let (mut proto, wire) = connected(LineProtocol::new(Plain));
    let mut data = vec![b'x'; Plain::MAX_LENGTH + 1];
    data.extend_from_slice(b"\r\nr");
    proto.data_received(&data);
    assert!(wire.disconnecting());
}

/// twisted: LineReceiverTests.test_maximumLineLengthPartialDelimiter
/// A MAX_LENGTH line whose delimiter arrives in pieces is delivered.
#[test]
fn test_maximum_line_length_partial_delimiter() {
    let (mut proto, wire) = connected(LineProtocol::new(LineTester::default()));
    proto.with_control(|_, ctl| ctl.set_max_length(4));
    let line = b"xxx";
    proto.data_received(line);
    proto.data_received(b""); // delimiter[:-1] of b"\n"
    let mut rest = b"\n".to_vec();
    rest.extend_from_slice(line);
    proto.data_received(&rest);
    assert!(!wire.disconnecting());
    assert_eq!(received(&proto), [line.to_vec()]);
}

/// twisted: LineReceiverTests.test_notQuiteMaximumLineLengthUnfinished
/// MAX_LENGTH bytes and the first byte of the delimiter do not disconnect.
#[test]
fn test_not_quite_maximum_line_length_unfinished() {
    let (mut proto, wire) = connected(LineProtocol::new(Plain));
    let mut data = vec![b'x'; Plain::MAX_LENGTH];
    data.push(b'\r');
    proto.data_received(&data);
    assert!(!wire.disconnecting());
}

/// twisted: LineReceiverTests.test_rawDataReceivedNotImplemented
/// Raw data for a receiver without a raw handler is a protocol error: the connection closes.
#[test]
fn test_raw_data_received_not_implemented() {
    let (mut proto, wire) = connected(LineProtocol::new(Plain));
    proto.with_control(|_, ctl| ctl.set_raw_mode());
    proto.data_received(b"foo");
    assert!(wire.disconnecting());
}

/// Twisted's `ExcessivelyLargeLineCatcher` with `MAX_LENGTH = 6`.
#[derive(Default)]
struct ExcessivelyLargeLineCatcher {
    long_lines: Vec<Bytes>,
}

impl LineReceiver for ExcessivelyLargeLineCatcher {
    const MAX_LENGTH: usize = 6;

    fn line_received(&mut self, _: Bytes, _: &mut LineControl<'_>) {}

    fn line_length_exceeded(&mut self, data: Bytes, _: &mut LineControl<'_>) {
        self.long_lines.push(data);
    }
}

fn catcher() -> LineProtocol<ExcessivelyLargeLineCatcher> {
    connected(LineProtocol::new(ExcessivelyLargeLineCatcher::default())).0
}

const EXCESSIVE: usize = 6 * 2 + 2;

/// twisted: LineReceiverLineLengthExceededTests.test_longUnendedLine
/// Too many bytes without a delimiter are passed whole to lineLengthExceeded.
#[test]
fn test_long_unended_line() {
    let mut proto = catcher();
    let excessive = vec![b'x'; EXCESSIVE];
    proto.data_received(&excessive);
    assert_eq!(proto.receiver().long_lines, [excessive]);
}

/// twisted: LineReceiverLineLengthExceededTests.test_longLineAfterShortLine
/// After a short line, the over-long rest is passed to lineLengthExceeded.
#[test]
fn test_long_line_after_short_line() {
    let mut proto = catcher();
    let excessive = vec![b'x'; EXCESSIVE];
    let mut data = b"x\r\n".to_vec();
    data.extend_from_slice(&excessive);
    proto.data_received(&data);
    assert_eq!(proto.receiver().long_lines, [excessive]);
}

/// twisted: LineReceiverLineLengthExceededTests.test_longLineWithDelimiter
/// An over-long line followed by a delimiter and more: the whole chunk is passed.
#[test]
fn test_long_line_with_delimiter() {
    let mut proto = catcher();
    let line = [b'x'; EXCESSIVE];
    let excessive = [&line[..], &line[..]].join(&b"\r\n"[..]);
    proto.data_received(&excessive);
    assert_eq!(proto.receiver().long_lines, [excessive]);
}

/// twisted: LineReceiverLineLengthExceededTests.test_multipleLongLines
/// Several over-long lines in one chunk: the whole chunk is passed once.
#[test]
fn test_multiple_long_lines() {
    let mut proto = catcher();
    let mut line = vec![b'x'; EXCESSIVE];
    line.extend_from_slice(b"\r\n");
    let excessive = line.repeat(2);
    proto.data_received(&excessive);
    assert_eq!(proto.receiver().long_lines, [excessive]);
}

/// twisted: LineReceiverLineLengthExceededTests.test_maximumLineLength
/// The default lineLengthExceeded disconnects on a too-long finished line.
#[test]
fn test_exceeded_maximum_line_length() {
    let (mut proto, wire) = connected(LineProtocol::new(Plain));
    let mut data = vec![b'x'; Plain::MAX_LENGTH + 1];
    data.extend_from_slice(b"\r\nr");
    proto.data_received(&data);
    assert!(wire.disconnecting());
}

/// twisted: LineReceiverLineLengthExceededTests.test_maximumLineLengthRemaining
/// The default lineLengthExceeded disconnects on MAX_LENGTH + len(delimiter) unfinished bytes.
#[test]
fn test_maximum_line_length_remaining() {
    let (mut proto, wire) = connected(LineProtocol::new(Plain));
    proto.data_received(&vec![b'x'; Plain::MAX_LENGTH + 2]);
    assert!(wire.disconnecting());
}

// ---- LineOnlyReceiver ----

#[derive(Default)]
struct LineOnlyTester {
    received: Vec<Bytes>,
}

impl LineOnlyReceiver for LineOnlyTester {
    const DELIMITER: Delimiter = Delimiter::LF;
    const MAX_LENGTH: usize = 64;

    fn line_received(&mut self, line: Bytes, _: &mut LineOnlyControl<'_>) {
        self.received.push(line);
    }
}

/// twisted: LineOnlyReceiverTests.test_buffer
/// Lines fed one byte at a time come out whole.
#[test]
fn test_line_only_buffer() {
    let buffer = b"foo
    bleakness
    desolation
    plastic forks
    ";
    let (mut proto, _wire) = connected(LineOnlyProtocol::new(LineOnlyTester::default()));
    feed_bytewise(&mut proto, buffer);
    let expected: Vec<&[u8]> = buffer.split(|b| *b == b'\n').collect();
    assert_eq!(proto.receiver().received, expected[..expected.len() - 1]);
}

/// twisted: LineOnlyReceiverTests.test_greaterThanMaximumLineLength
/// A line longer than MAX_LENGTH + len(delimiter) disconnects.
#[test]
fn test_greater_than_maximum_line_length() {
    let (mut proto, wire) = connected(LineOnlyProtocol::new(LineOnlyTester::default()));
    let mut data = vec![b'x'; 64 + 1 + 1];
    data.extend_from_slice(b"\r\nr");
    proto.data_received(&data);
    assert!(wire.disconnecting());
}

// ---- NetstringReceiver ----

/// Twisted's `TestNetstring` (`TestMixin` with `MAX_LENGTH = 50`): records and echoes.
#[derive(Default)]
struct TestNetstring {
    received: Vec<Bytes>,
    closed: bool,
}

impl NetstringReceiver for TestNetstring {
    const MAX_LENGTH: usize = 50;

    fn string_received(&mut self, string: Bytes, ctl: &mut NetstringControl<'_>) {
        ctl.transport().write(&string);
        self.received.push(string);
    }

    fn connection_lost(&mut self, _: Failure) {
        self.closed = true;
    }
}

fn netstring() -> (NetstringProtocol<TestNetstring>, StringTransport) {
    connected(NetstringProtocol::new(TestNetstring::default()))
}

const NETSTRINGS: [&[u8]; 7] = [
    b"hello",
    b"world",
    b"how",
    b"are",
    b"you123",
    b":today",
    &[b'a'; 515],
];

/// twisted: NetstringReceiverTests.test_buffer
/// Sent netstrings are received whole whatever the packet size.
#[test]
fn test_netstring_buffer() {
    for packet_size in 1..10 {
        let (mut proto, wire) = netstring();
        proto.with_control(|_, ctl| {
            ctl.set_max_length(699);
            for s in NETSTRINGS {
                ctl.send_string(s);
            }
        });
        let out = wire.value();
        wire.clear();
        for chunk in out.chunks(packet_size) {
            proto.data_received(chunk);
        }
        assert_eq!(proto.receiver().received, NETSTRINGS);
    }
}

/// twisted: NetstringReceiverTests.test_receiveEmptyNetstring
/// `0:,` is the empty string.
#[test]
fn test_receive_empty_netstring() {
    let (mut proto, _) = netstring();
    proto.data_received(b"0:,");
    assert_eq!(proto.receiver().received, [""]);
}

/// twisted: NetstringReceiverTests.test_receiveOneCharacter
/// One-character netstrings are received.
#[test]
fn test_receive_one_character() {
    let (mut proto, _) = netstring();
    proto.data_received(b"1:a,");
    assert_eq!(proto.receiver().received, ["a"]);
}

/// twisted: NetstringReceiverTests.test_receiveTwoCharacters
/// Two-character netstrings are received.
#[test]
fn test_receive_two_characters() {
    let (mut proto, _) = netstring();
    proto.data_received(b"2:ab,");
    assert_eq!(proto.receiver().received, ["ab"]);
}

/// twisted: NetstringReceiverTests.test_receiveNestedNetstring
/// `:` and `,` inside the data do not confuse the parser.
#[test]
fn test_receive_nested_netstring() {
    let (mut proto, _) = netstring();
    proto.data_received(b"4:1:a,,");
    assert_eq!(proto.receiver().received, ["1:a,"]);
}

fn assert_refused(data: &[u8], error: NetstringParseError) {
    let (mut proto, wire) = netstring();
    proto.data_received(data);
    assert!(wire.disconnecting(), "{data:?} should disconnect");
    assert_eq!(proto.broken_peer(), Some(error));
    assert!(proto.receiver().received.is_empty());
}

/// twisted: NetstringReceiverTests.test_moreDataThanSpecified
/// More data than announced is refused.
#[test]
fn test_more_data_than_specified() {
    assert_refused(b"2:aaa,", NetstringParseError::MissingComma);
}

/// twisted: NetstringReceiverTests.test_moreDataThanSpecifiedBorderCase
/// Data in a netstring announced empty is refused.
#[test]
fn test_more_data_than_specified_border_case() {
    assert_refused(b"0:a,", NetstringParseError::MissingComma);
}

/// twisted: NetstringReceiverTests.test_missingNumber
/// A netstring without its length is refused.
#[test]
fn test_missing_number() {
    assert_refused(b":aaa,", NetstringParseError::MissingLength);
}

/// twisted: NetstringReceiverTests.test_missingColon
/// A length without a colon is refused.
#[test]
fn test_missing_colon() {
    assert_refused(b"3aaa,", NetstringParseError::MissingLength);
}

/// twisted: NetstringReceiverTests.test_missingNumberAndColon
/// Neither length nor colon: refused.
#[test]
fn test_missing_number_and_colon() {
    assert_refused(b"aaa,", NetstringParseError::MissingLength);
}

/// twisted: NetstringReceiverTests.test_onlyData
/// Data alone is refused.
#[test]
fn test_only_data() {
    assert_refused(b"aaa", NetstringParseError::MissingLength);
}

/// twisted: NetstringReceiverTests.test_receiveNetstringPortions_1
/// A netstring in two portions is received once complete.
#[test]
fn test_receive_netstring_portions_1() {
    let (mut proto, _) = netstring();
    proto.data_received(b"4:aa");
    assert!(proto.receiver().received.is_empty());
    proto.data_received(b"aa,");
    assert_eq!(proto.receiver().received, ["aaaa"]);
}

/// twisted: NetstringReceiverTests.test_receiveNetstringPortions_2
/// The length itself may be split across portions.
#[test]
fn test_receive_netstring_portions_2() {
    let (mut proto, _) = netstring();
    for part in [&b"1"[..], b"0:01234", b"56789", b","] {
        proto.data_received(part);
    }
    assert_eq!(proto.receiver().received, ["0123456789"]);
}

/// twisted: NetstringReceiverTests.test_receiveNetstringPortions_3
/// A netstring can arrive one character at a time.
#[test]
fn test_receive_netstring_portions_3() {
    let (mut proto, _) = netstring();
    for part in [&b"2"[..], b":", b"a", b"b", b","] {
        proto.data_received(part);
    }
    assert_eq!(proto.receiver().received, ["ab"]);
}

/// twisted: NetstringReceiverTests.test_receiveTwoNetstrings
/// A chunk ending with the next length's first digit delivers the first netstring now.
#[test]
fn test_receive_two_netstrings() {
    let (mut proto, _) = netstring();
    proto.data_received(b"1:a,1");
    assert_eq!(proto.receiver().received, ["a"]);
    proto.data_received(b":b,");
    assert_eq!(proto.receiver().received, ["a", "b"]);
}

/// twisted: NetstringReceiverTests.test_maxReceiveLimit
/// A length above MAX_LENGTH is refused.
#[test]
fn test_max_receive_limit() {
    let too_long = TestNetstring::MAX_LENGTH + 1;
    let mut data = too_long.to_string().into_bytes();
    data.push(b':');
    data.extend(std::iter::repeat_n(b'a', too_long));
    assert_refused(&data, NetstringParseError::TooLong { max_length: 50 });
}

/// twisted: NetstringReceiverTests.test_consumeLength
/// `12:` announces twelve data bytes and a comma.
#[test]
fn test_consume_length() {
    let (mut proto, _) = netstring();
    proto.data_received(b"12:");
    proto.data_received(b"hello world!");
    assert!(
        proto.receiver().received.is_empty(),
        "the comma is still expected"
    );
    proto.data_received(b",");
    assert_eq!(proto.receiver().received, ["hello world!"]);
}

/// twisted: NetstringReceiverTests.test_consumeLengthBorderCase1
/// A length equal to MAX_LENGTH is accepted.
#[test]
fn test_consume_length_border_case1() {
    let (mut proto, wire) = netstring();
    proto.with_control(|_, ctl| ctl.set_max_length(12));
    proto.data_received(b"12:");
    assert_eq!(proto.broken_peer(), None);
    assert!(!wire.disconnecting());
}

/// twisted: NetstringReceiverTests.test_consumeLengthBorderCase2
/// A length one above MAX_LENGTH is refused.
#[test]
fn test_consume_length_border_case2() {
    let (mut proto, _) = netstring();
    proto.with_control(|_, ctl| ctl.set_max_length(11));
    proto.data_received(b"12:");
    assert_eq!(
        proto.broken_peer(),
        Some(NetstringParseError::TooLong { max_length: 11 })
    );
}

/// twisted: NetstringReceiverTests.test_consumeLengthBorderCase3
/// A length far above MAX_LENGTH is refused.
#[test]
fn test_consume_length_border_case3() {
    let (mut proto, _) = netstring();
    proto.with_control(|_, ctl| ctl.set_max_length(11));
    proto.data_received(b"1000:");
    assert_eq!(
        proto.broken_peer(),
        Some(NetstringParseError::TooLong { max_length: 11 })
    );
}

/// twisted: NetstringReceiverTests.test_illegal
/// Each illegal input, fed byte by byte, disconnects.
#[test]
fn test_netstring_illegal() {
    let mut long = b"51:".to_vec();
    long.extend_from_slice(&[b'a'; 50]);
    long.extend_from_slice(b"b,");
    for s in [&b"9999999999999999999999"[..], b"abc", b"4:abcde", &long] {
        let (mut proto, wire) = netstring();
        feed_bytewise(&mut proto, s);
        assert!(wire.disconnecting(), "{s:?}");
        assert!(proto.broken_peer().is_some());
    }
}

// ---- Int32/16/8StringReceiver ----

/// What a `TestInt` does beyond recording strings (Twisted's tests monkeypatch these).
#[derive(Default, Clone)]
enum Hook {
    #[default]
    None,
    /// Record `recvd` in each `string_received`.
    RecordRecvd,
    /// Replace `recvd` with this message in the first `string_received`.
    ReplaceRecvdOnce(Vec<u8>),
    /// Drop a four-byte switch marker from `recvd` after each string.
    SkipSwitch,
}

/// Twisted's `TestInt32`/`TestInt16`/`TestInt8` (`TestMixin` with `MAX_LENGTH = 50`);
/// `N` is the prefix length.
#[derive(Default)]
struct TestInt<const N: usize> {
    received: Vec<Bytes>,
    limits: Vec<u64>,
    recvds: Vec<Vec<u8>>,
    hook: Hook,
}

const fn prefix_of(n: usize) -> LengthPrefix {
    match n {
        1 => LengthPrefix::Int8,
        2 => LengthPrefix::Int16,
        _ => LengthPrefix::Int32,
    }
}

impl<const N: usize> IntNStringReceiver for TestInt<N> {
    const PREFIX: LengthPrefix = prefix_of(N);
    const MAX_LENGTH: usize = 50;

    fn string_received(&mut self, string: Bytes, ctl: &mut IntNControl<'_>) {
        self.received.push(string);
        match std::mem::take(&mut self.hook) {
            Hook::None => {}
            Hook::RecordRecvd => {
                self.recvds.push(ctl.recvd().to_vec());
                self.hook = Hook::RecordRecvd;
            }
            Hook::ReplaceRecvdOnce(message) => ctl.set_recvd(&message),
            Hook::SkipSwitch => {
                let rest = ctl.recvd()[4..].to_vec();
                ctl.set_recvd(&rest);
                self.hook = Hook::SkipSwitch;
            }
        }
    }

    fn length_limit_exceeded(&mut self, length: u64, ctl: &mut IntNControl<'_>) {
        self.limits.push(length);
        self.recvds.push(ctl.recvd().to_vec());
        ctl.transport().lose_connection();
    }
}

fn int_proto<const N: usize>() -> (IntNProtocol<TestInt<N>>, StringTransport) {
    connected(IntNProtocol::new(TestInt::<N>::default()))
}

fn make_message(n: usize, data: &[u8]) -> Vec<u8> {
    let len = data.len() as u32;
    let mut out = len.to_be_bytes()[4 - n..].to_vec();
    out.extend_from_slice(data);
    out
}

const INT_STRINGS: [&[u8]; 2] = [b"a", &[b'b'; 16]];

fn check_receive<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    for s in INT_STRINGS {
        feed_bytewise(&mut proto, &make_message(N, s));
    }
    assert_eq!(proto.receiver().received, INT_STRINGS);
}

fn check_partial<const N: usize>(partials: &[&[u8]]) {
    for s in partials {
        let (mut proto, _) = int_proto::<N>();
        feed_bytewise(&mut proto, s);
        assert!(proto.receiver().received.is_empty(), "{s:?}");
    }
}

fn check_send<const N: usize>() {
    let (mut proto, wire) = int_proto::<N>();
    proto.with_control(|_, ctl| ctl.send_string([b'b'; 16])).unwrap();
    assert_eq!(wire.value(), make_message(N, &[b'b'; 16]));
}

fn check_length_limit_exceeded<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    proto.with_control(|_, ctl| ctl.set_max_length(10));
    let mut prefix = make_message(N, &[0; 11]);
    prefix.truncate(N);
    proto.data_received(&prefix);
    assert_eq!(proto.receiver().limits, [11]);
}

fn check_long_string_not_delivered<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    proto.with_control(|_, ctl| ctl.set_max_length(10));
    proto.data_received(&make_message(N, &[b'x'; 11]));
    assert!(proto.receiver().received.is_empty());
}

fn check_illegal<const N: usize>(illegal: &[u8]) {
    let (mut proto, wire) = int_proto::<N>();
    feed_bytewise(&mut proto, illegal);
    assert!(wire.disconnecting());
}

fn check_data<const N: usize>(expected_sent: &[u8], incoming: &[u8]) {
    let (mut proto, wire) = int_proto::<N>();
    proto.with_control(|_, ctl| ctl.send_string(b"foo")).unwrap();
    assert_eq!(wire.value(), expected_sent);
    proto.data_received(incoming);
    assert_eq!(proto.receiver().received, ["ubar"]);
}

fn check_too_long_send<const N: usize>() {
    let (mut proto, wire) = int_proto::<N>();
    let too_long = vec![b'b'; (1 << (N * 8)) + 1];
    let err = proto
        .with_control(|_, ctl| ctl.send_string(&too_long))
        .unwrap_err();
    assert_eq!(err.length(), too_long.len());
    assert!(wire.value().is_empty());
}

fn check_recvd_contains_remaining_data<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    proto.receiver_mut().hook = Hook::RecordRecvd;
    let complete = make_message(N, &[b'a'; 5]);
    let mut incomplete = make_message(N, &[b'b'; 5]);
    incomplete.pop();
    proto.data_received(&[complete, incomplete.clone()].concat());
    assert_eq!(proto.receiver().recvds, [incomplete]);
}

fn check_recvd_changed<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    let message_c = make_message(N, &[b'c'; 5]);
    proto.receiver_mut().hook = Hook::ReplaceRecvdOnce(message_c);
    let message_a = make_message(N, &[b'a'; 5]);
    let message_b = make_message(N, &[b'b'; 5]);
    proto.data_received(&[message_a, message_b].concat());
    assert_eq!(proto.receiver().received, [&[b'a'; 5][..], &[b'c'; 5][..]]);
}

fn check_switching<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    proto.receiver_mut().hook = Hook::SkipSwitch;
    let mut mix = Vec::new();
    for s in INT_STRINGS {
        mix.extend_from_slice(&make_message(N, s));
        mix.extend_from_slice(b"\x00\x00\x00\x00");
    }
    proto.data_received(&mix);
    proto.data_received(b"\x01");
    assert_eq!(proto.receiver().received, INT_STRINGS);
    assert_eq!(proto.with_control(|_, ctl| ctl.recvd().to_vec()), b"\x01");
}

fn check_recvd_in_length_limit_exceeded<const N: usize>() {
    let (mut proto, _) = int_proto::<N>();
    let data = b"too long";
    proto.with_control(|_, ctl| ctl.set_max_length(data.len() - 1));
    let message = make_message(N, data);
    proto.data_received(&message);
    assert_eq!(proto.receiver().limits, [data.len() as u64]);
    assert_eq!(proto.receiver().recvds, [message]);
}

// Int32Tests (4-byte prefix)

/// twisted: Int32Tests.test_receive
/// Strings fed byte by byte are received.
#[test]
fn int32_receive() {
    check_receive::<4>();
}

/// twisted: Int32Tests.test_partial
/// Partial input delivers nothing.
#[test]
fn int32_partial() {
    check_partial::<4>(&[b"\x00\x00\x00", b"hello there", b""]);
}

/// twisted: Int32Tests.test_send
/// sendString writes the prefix and the string.
#[test]
fn int32_send() {
    check_send::<4>();
}

/// twisted: Int32Tests.test_lengthLimitExceeded
/// A prefix above MAX_LENGTH reaches lengthLimitExceeded with the length.
#[test]
fn int32_length_limit_exceeded() {
    check_length_limit_exceeded::<4>();
}

/// twisted: Int32Tests.test_longStringNotDelivered
/// A too-long string arriving whole is not delivered.
#[test]
fn int32_long_string_not_delivered() {
    check_long_string_not_delivered::<4>();
}

/// twisted: Int32Tests.test_illegal
/// An illegal prefix, fed byte by byte, disconnects.
#[test]
fn int32_illegal() {
    check_illegal::<4>(b"\x10\x00\x00\x00aaaaaa");
}

/// twisted: Int32Tests.test_data
/// The prefix's size and byte order, both ways.
#[test]
fn int32_data() {
    check_data::<4>(b"\x00\x00\x00\x03foo", b"\x00\x00\x00\x04ubar");
}

/// twisted: Int32Tests.test_recvdContainsRemainingData
/// Inside stringReceived, recvd holds the data after the current string.
#[test]
fn int32_recvd_contains_remaining_data() {
    check_recvd_contains_remaining_data::<4>();
}

/// twisted: Int32Tests.test_recvdChanged
/// Replacing recvd inside stringReceived makes parsing go on from the new bytes.
#[test]
fn int32_recvd_changed() {
    check_recvd_changed::<4>();
}

/// twisted: Int32Tests.test_switching
/// Consuming part of recvd inside stringReceived is honoured; nothing is reparsed.
#[test]
fn int32_switching() {
    check_switching::<4>();
}

/// twisted: Int32Tests.test_recvdInLengthLimitExceeded
/// Inside lengthLimitExceeded, recvd holds the offending prefix and what follows.
#[test]
fn int32_recvd_in_length_limit_exceeded() {
    check_recvd_in_length_limit_exceeded::<4>();
}

// Int16Tests (2-byte prefix)

/// twisted: Int16Tests.test_receive
/// Strings fed byte by byte are received.
#[test]
fn int16_receive() {
    check_receive::<2>();
}

/// twisted: Int16Tests.test_partial
/// Partial input delivers nothing.
#[test]
fn int16_partial() {
    check_partial::<2>(&[b"\x00", b"hello there", b""]);
}

/// twisted: Int16Tests.test_send
/// sendString writes the prefix and the string.
#[test]
fn int16_send() {
    check_send::<2>();
}

/// twisted: Int16Tests.test_lengthLimitExceeded
/// A prefix above MAX_LENGTH reaches lengthLimitExceeded with the length.
#[test]
fn int16_length_limit_exceeded() {
    check_length_limit_exceeded::<2>();
}

/// twisted: Int16Tests.test_longStringNotDelivered
/// A too-long string arriving whole is not delivered.
#[test]
fn int16_long_string_not_delivered() {
    check_long_string_not_delivered::<2>();
}

/// twisted: Int16Tests.test_illegal
/// An illegal prefix, fed byte by byte, disconnects.
#[test]
fn int16_illegal() {
    check_illegal::<2>(b"\x10\x00aaaaaa");
}

/// twisted: Int16Tests.test_data
/// The prefix's size and byte order, both ways.
#[test]
fn int16_data() {
    check_data::<2>(b"\x00\x03foo", b"\x00\x04ubar");
}

/// twisted: Int16Tests.test_recvdContainsRemainingData
/// Inside stringReceived, recvd holds the data after the current string.
#[test]
fn int16_recvd_contains_remaining_data() {
    check_recvd_contains_remaining_data::<2>();
}

/// twisted: Int16Tests.test_recvdChanged
/// Replacing recvd inside stringReceived makes parsing go on from the new bytes.
#[test]
fn int16_recvd_changed() {
    check_recvd_changed::<2>();
}

/// twisted: Int16Tests.test_switching
/// Consuming part of recvd inside stringReceived is honoured; nothing is reparsed.
#[test]
fn int16_switching() {
    check_switching::<2>();
}

/// twisted: Int16Tests.test_recvdInLengthLimitExceeded
/// Inside lengthLimitExceeded, recvd holds the offending prefix and what follows.
#[test]
fn int16_recvd_in_length_limit_exceeded() {
    check_recvd_in_length_limit_exceeded::<2>();
}

/// twisted: Int16Tests.test_tooLongSend
/// Sending more than the prefix can announce is a StringTooLongError.
#[test]
fn int16_too_long_send() {
    check_too_long_send::<2>();
}

// Int8Tests (1-byte prefix)

/// twisted: Int8Tests.test_receive
/// Strings fed byte by byte are received.
#[test]
fn int8_receive() {
    check_receive::<1>();
}

/// twisted: Int8Tests.test_partial
/// Partial input delivers nothing.
#[test]
fn int8_partial() {
    check_partial::<1>(&[b"\x08", b"dzadz", b""]);
}

/// twisted: Int8Tests.test_send
/// sendString writes the prefix and the string.
#[test]
fn int8_send() {
    check_send::<1>();
}

/// twisted: Int8Tests.test_lengthLimitExceeded
/// A prefix above MAX_LENGTH reaches lengthLimitExceeded with the length.
#[test]
fn int8_length_limit_exceeded() {
    check_length_limit_exceeded::<1>();
}

/// twisted: Int8Tests.test_longStringNotDelivered
/// A too-long string arriving whole is not delivered.
#[test]
fn int8_long_string_not_delivered() {
    check_long_string_not_delivered::<1>();
}

/// twisted: Int8Tests.test_illegal
/// An illegal prefix, fed byte by byte, disconnects.
#[test]
fn int8_illegal() {
    check_illegal::<1>(b"\x00\x00aaaaaa");
}

/// twisted: Int8Tests.test_data
/// The prefix's size and byte order, both ways.
#[test]
fn int8_data() {
    check_data::<1>(b"\x03foo", b"\x04ubar");
}

/// twisted: Int8Tests.test_recvdContainsRemainingData
/// Inside stringReceived, recvd holds the data after the current string.
#[test]
fn int8_recvd_contains_remaining_data() {
    check_recvd_contains_remaining_data::<1>();
}

/// twisted: Int8Tests.test_recvdChanged
/// Replacing recvd inside stringReceived makes parsing go on from the new bytes.
#[test]
fn int8_recvd_changed() {
    check_recvd_changed::<1>();
}

/// twisted: Int8Tests.test_switching
/// Consuming part of recvd inside stringReceived is honoured; nothing is reparsed.
#[test]
fn int8_switching() {
    check_switching::<1>();
}

/// twisted: Int8Tests.test_recvdInLengthLimitExceeded
/// Inside lengthLimitExceeded, recvd holds the offending prefix and what follows.
#[test]
fn int8_recvd_in_length_limit_exceeded() {
    check_recvd_in_length_limit_exceeded::<1>();
}

/// twisted: Int8Tests.test_tooLongSend
/// Sending more than the prefix can announce is a StringTooLongError.
#[test]
fn int8_too_long_send() {
    check_too_long_send::<1>();
}

// ---- pausing ----

/// Twisted's `ConsumingProtocol`: echoes each line, then pauses.
struct ConsumingProtocol;

impl LineReceiver for ConsumingProtocol {
    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        ctl.transport().write(&line);
        ctl.pause_producing();
    }
}

/// twisted: ProducerTests.test_pauseResume
/// A paused receiver delivers no lines; resuming delivers one and it pauses again.
#[test]
fn test_pause_resume() {
    let (mut p, t) = connected(LineProtocol::new(ConsumingProtocol));
    let paused = |t: &StringTransport| t.producer_state() == ProducerState::Paused;

    p.data_received(b"hello, ");
    assert!(t.value().is_empty());
    assert!(!paused(&t));
    assert!(!p.is_paused());

    p.data_received(b"world\r\n");
    assert_eq!(t.value(), b"hello, world");
    assert!(paused(&t));
    assert!(p.is_paused());

    p.resume_producing();
    assert_eq!(t.value(), b"hello, world");
    assert!(!paused(&t));
    assert!(!p.is_paused());

    p.data_received(b"hello\r\nworld\r\n");
    assert_eq!(t.value(), b"hello, worldhello");
    assert!(paused(&t));
    assert!(p.is_paused());

    p.resume_producing();
    assert_eq!(t.value(), b"hello, worldhelloworld");
    assert!(paused(&t));
    assert!(p.is_paused());

    p.data_received(b"goodbye\r\n");
    assert_eq!(t.value(), b"hello, worldhelloworld");
    assert!(paused(&t));
    assert!(p.is_paused());

    p.resume_producing();
    assert_eq!(t.value(), b"hello, worldhelloworldgoodbye");
    assert!(paused(&t));
    assert!(p.is_paused());

    p.resume_producing();
    assert_eq!(t.value(), b"hello, worldhelloworldgoodbye");
    assert!(!paused(&t));
    assert!(!p.is_paused());
}

// ---- FileSender ----

fn pull(wire: &StringTransport) -> bool {
    wire.with_producer(Producer::resume_producing).is_some()
}

/// twisted: FileSenderTests.test_producerRegistered
/// beginFileTransfer registers the sender as a pull (non-streaming) producer.
#[test]
fn test_producer_registered() {
    let wire = StringTransport::new();
    let _done = FileSender::new()
        .begin_file_transfer(Cursor::new(b"Test content".to_vec()), &wire.transport())
        .unwrap();
    assert_eq!(wire.producer_kind(), Some(ProducerKind::Pull));
}

/// twisted: FileSenderTests.test_transfer
/// The content is written and the Deferred fires with the last byte, after a read at EOF.
#[test]
fn test_transfer() {
    let wire = StringTransport::new();
    let done = FileSender::new()
        .begin_file_transfer(Cursor::new(b"Test content".to_vec()), &wire.transport())
        .unwrap();
    assert!(pull(&wire));
    assert!(pull(&wire), "finishing takes a read at end of file");
    assert_eq!(wire.producer_kind(), None);
    assert_eq!(success_result_of(done), Some(b't'));
    assert_eq!(wire.value(), b"Test content");
}

/// twisted: FileSenderTests.test_transferMultipleChunks
/// Each resume reads at most CHUNK_SIZE bytes.
#[test]
fn test_transfer_multiple_chunks() {
    let wire = StringTransport::new();
    let done = FileSender::new()
        .with_chunk_size(4)
        .begin_file_transfer(Cursor::new(b"Test content".to_vec()), &wire.transport())
        .unwrap();
    pull(&wire);
    assert_eq!(wire.value(), b"Test");
    pull(&wire);
    assert_eq!(wire.value(), b"Test con");
    pull(&wire);
    assert_eq!(wire.value(), b"Test content");
    pull(&wire);
    assert_eq!(success_result_of(done), Some(b't'));
    assert_eq!(wire.value(), b"Test content");
}

/// twisted: FileSenderTests.test_transferWithTransform
/// A transform is applied to each chunk, and the last transformed byte is reported.
#[test]
fn test_transfer_with_transform() {
    let wire = StringTransport::new();
    let swapcase = |chunk: Bytes| -> Bytes {
        chunk
            .iter()
            .map(|b| {
                if b.is_ascii_lowercase() {
                    b.to_ascii_uppercase()
                } else {
                    b.to_ascii_lowercase()
                }
            })
            .collect()
    };
    let done = FileSender::new()
        .with_transform(swapcase)
        .begin_file_transfer(Cursor::new(b"Test content".to_vec()), &wire.transport())
        .unwrap();
    pull(&wire);
    pull(&wire);
    assert_eq!(success_result_of(done), Some(b'T'));
    assert_eq!(wire.value(), b"tEST CONTENT");
}

/// twisted: FileSenderTests.test_abortedTransfer
/// stopProducing before the end fails the Deferred.
#[test]
fn test_aborted_transfer() {
    let wire = StringTransport::new();
    let done = FileSender::new()
        .begin_file_transfer(Cursor::new(b"Test content".to_vec()), &wire.transport())
        .unwrap();
    wire.with_producer(Producer::stop_producing).unwrap();
    let failure = failure_result_of(done);
    assert!(failure.check::<TransferStoppedError>());
    assert_eq!(failure.error_message(), "consumer asked us to stop producing");
}
