//! Twisted networking inside an ordinary multi-threaded Tokio application.
//!
//! The application starts a reactor on a background thread and, from its own Tokio tasks:
//! - listens on 127.0.0.1 (a port the system picks) with a `LineReceiver` server, through a
//!   server endpoint; the factory is built on the reactor thread by `call_in_reactor`, and
//!   the listening port comes back as an awaited Deferred;
//! - connects a crate client (a `LineReceiver` that forwards the lines it receives to a Tokio
//!   channel) through a client endpoint, awaits its transport, writes to it from a spawned
//!   Tokio task, and awaits the end of the connection (`WhenLost`);
//! - talks to the same server with a plain `tokio::net::TcpStream`, framed by
//!   `basic::LineCodec` (Twisted's line rules as a tokio-util codec);
//! - stops listening, stops the reactor and awaits its thread.
//!
//! The output is the same on every run, and the program ends by itself.
//!
//! ```text
//! cargo run --example tokio_net
//! ```

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

use tokio_twisted::basic::{LineCodec, LineControl, LineProtocol, LineReceiver};
use tokio_twisted::endpoints::{
    StreamServerEndpoint, Tcp4ClientEndpoint, Tcp4ServerEndpoint, connect_protocol,
};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{WhenLost, for_protocol};
use tokio_twisted::reactor::Reactor;

/// The server: answers each line with its length, and `bye` with `goodbye` and a hang-up.
struct Lengths;

impl LineReceiver for Lengths {
    fn line_received(&mut self, line: Bytes, ctl: &mut LineControl<'_>) {
        if &line[..] == b"bye" {
            ctl.send_line("goodbye");
            ctl.transport().lose_connection();
        } else {
            ctl.send_line(format!("{} bytes", line.len()));
        }
    }
}

/// The crate client: hands every line it receives to the Tokio side.
struct Forward(mpsc::UnboundedSender<String>);

impl LineReceiver for Forward {
    fn line_received(&mut self, line: Bytes, _ctl: &mut LineControl<'_>) {
        // The receiver may be gone once the application has what it wants.
        let _ = self.0.send(String::from_utf8_lossy(&line).into_owned());
    }
}

/// A line the channel did not deliver: the client's connection ended first.
fn closed_early() -> Failure {
    Failure::msg("the connection ended before the answer came")
}

/// The whole conversation; each line of output goes to `say`.
///
/// # Errors
///
/// The first failure: the reactor cannot start, listening or connecting fails, a socket
/// error, an answer that does not come.
pub(crate) async fn converse(say: &mut (dyn FnMut(String) + Send)) -> Result<(), Failure> {
    let mut background = Reactor::spawn_background()?;
    let reactor = background.handle();
    say("reactor running on its own thread".into());

    // Listen from this task: the closure (which is Send) runs on the reactor thread, where
    // the factory and its protocols live; the port comes back here.
    let server = Tcp4ServerEndpoint::new(&reactor, 0).with_interface("127.0.0.1");
    let port = reactor
        .call_in_reactor(move |_| server.listen(for_protocol(|| LineProtocol::new(Lengths))))
        .await?;
    let interface = port
        .host()
        .socket_addr()
        .map_or_else(|| "?".to_owned(), |a| a.ip().to_string());
    say(format!("listening on {interface} (port picked by the system)"));

    // A crate client through a client endpoint. The protocol is built here (it is Send: a
    // channel sender), wrapped so that its end can be awaited, and connected on the reactor.
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    let (client, lost) = WhenLost::new(LineProtocol::new(Forward(lines_tx)));
    let endpoint = Tcp4ClientEndpoint::new(&reactor, "127.0.0.1", port.port());
    let transport = reactor
        .call_in_reactor(move |_| connect_protocol(&endpoint, client))
        .await?;
    say("crate client connected".into());

    // The transport is Send + Sync: any Tokio task may write to it.
    let writer = transport.clone();
    tokio::spawn(async move {
        writer.write(b"hello\r\n");
        writer.write_sequence([
            Bytes::from_static(b"from a "),
            Bytes::from_static(b"tokio task\r\n"),
        ]);
    })
    .await?;
    for _ in 0..2 {
        let answer = lines.recv().await.ok_or_else(closed_early)?;
        say(format!("crate client got: {answer}"));
    }
    transport.write(b"bye\r\n");
    let answer = lines.recv().await.ok_or_else(closed_early)?;
    say(format!("crate client got: {answer}"));
    // Fires once the protocol's connection_lost has returned; a clean close is Ok.
    lost.await?;
    say("crate client: connection closed cleanly".into());

    // The same server, from a plain Tokio stream framed with Twisted's line rules.
    let stream = TcpStream::connect(("127.0.0.1", port.port())).await?;
    let mut framed = Framed::new(stream, LineCodec::new());
    for line in ["tokio", "bye"] {
        framed.send(line).await?;
        let answer = framed.next().await.ok_or_else(closed_early)??;
        say(format!("tokio stream got: {}", String::from_utf8_lossy(&answer)));
    }
    if framed.next().await.is_none() {
        say("tokio stream: server closed the connection".into());
    }

    port.stop_listening().await?;
    say("stopped listening".into());
    background.stop()?;
    background.join().await?;
    say("reactor stopped".into());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    converse(&mut |line| println!("{line}")).await
}
