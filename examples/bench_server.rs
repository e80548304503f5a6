//! A benchmark server for the shared load generator: the echo `Protocol` or a
//! `LineReceiver` answering each line with its length, on this crate's reactor, to be
//! measured beside the raw-Tokio `echo_server`/`line_server` and Twisted's servers.
//!
//! ```text
//! bench_server echo|line [ADDR=127.0.0.1:18103] [MAX_SECS=900]
//! ```
//!
//! It prints one line, `READY <addr>`, once listening (what the harness waits for), and
//! nothing else; it stops by itself after `MAX_SECS` seconds (or on Ctrl-C). Listening
//! uses backlog 1024 like the reference servers. Loopback addresses only.
//!
//! `benches/tcp_servers.sh` does all of the following in one command, for every workload
//! and against Twisted's servers too (see `benches/README.md`). By hand (release build,
//! pinned as the reference servers are; one run, next to the raw-Tokio servers, from the
//! repository root):
//!
//! ```text
//! cargo build --release --example bench_server
//! B=<path to the shared bench directory>   # it holds loadgen/ and tokio_baselines/
//! (cd $B && cargo build --release --workspace)
//! taskset -c 1 target/release/examples/bench_server echo 127.0.0.1:18103 &
//! taskset -c 1 $B/target/release/loadgen --addr 127.0.0.1:18103 --mode rr --conns 50 \
//!     --msgs 100000 --size 64 --duration 2 --label crate --workload tcp_echo
//! # also: --conns 1 --msgs 1000000, --conns 500 --msgs 10000, and --mode stream --conns 1
//! kill %1
//! taskset -c 1 target/release/examples/bench_server line 127.0.0.1:18104 &
//! taskset -c 1 $B/target/release/loadgen --addr 127.0.0.1:18104 --mode line --conns 50 \
//!     --msgs 100000 --size 64 --duration 2 --label crate --workload line_receiver
//! kill %1
//! ```
//!
//! and the same loadgen lines against `$B/target/release/echo_server 127.0.0.1:18101` and
//! `line_server 127.0.0.1:18102` in the same run; `py/summarize.py FILE --impl-col
//! 'crate=^crate'` puts the results side by side. Server CPU per message: read the
//! server's user+sys time (`/proc/<pid>/stat`, or `/usr/bin/time -v`) over the run.

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
use tokio_twisted::protocol::{Protocol, TcpListenOptions, Transport, for_protocol};
use tokio_twisted::reactor::Reactor;

/// Writes back whatever it receives (Twisted's `Echo`).
#[derive(Default)]
struct Echo(Option<Transport>);

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.0 = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.0 {
            t.write(data);
        }
    }
}

/// Answers each line with its length (`sendLine(b"%d" % len(line))`).
struct Lengths;

impl LineReceiver for Lengths {
    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        ctl.send_line(digits(line.len()).as_bytes());
    }
}

/// The decimal digits of `n`, without allocating.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn digits(mut n: usize) -> Digits {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Digits { buf, start: i }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "echo".into());
    let addr: SocketAddr = args.next().unwrap_or_else(|| "127.0.0.1:18103".into()).parse()?;
    let max_secs: u64 = args.next().map_or(Ok(900), |s| s.parse())?;
    if !addr.ip().is_loopback() {
        return Err("loopback addresses only".into());
    }
    let reactor = Reactor::new()?;
    let opts = TcpListenOptions::new().backlog(1024).interface(addr.ip());
    let port = match mode.as_str() {
        "echo" => reactor.listen_tcp_with(addr.port(), for_protocol(Echo::default), opts)?,
        "line" => reactor.listen_tcp_with(addr.port(), for_protocol(|| LineProtocol::new(Lengths)), opts)?,
        other => return Err(format!("unknown mode {other:?} (echo or line)").into()),
    };
    println!("READY {}", port.host().socket_addr().unwrap_or(addr));
    let stopper = reactor.handle();
    reactor.call_later(Duration::from_secs(max_secs), move || {
        let _ = stopper.stop();
    });
    reactor.run()?;
    Ok(())
}
