//! One reactor per core: several reactors, each on a thread of its own, each with its own
//! listening socket on the same TCP port (`SO_REUSEPORT`), so the kernel spreads incoming
//! connections over them and every core runs protocols.
//!
//! A reactor runs on one thread; this is how a server uses more cores. The example starts
//! one reactor per available core (at least two), serves echo on 127.0.0.1 from all of
//! them, connects a few clients, checks every echo, prints how many connections each
//! reactor served (on stderr: the kernel's spread differs from run to run), then stops
//! every reactor and ends.
//!
//! ```text
//! cargo run --example multi_reactor
//! ```

use std::error::Error;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Protocol, TcpListenOptions, Transport, for_protocol};
use tokio_twisted::reactor::{BackgroundReactor, Reactor, ReactorHandle};
use tokio_twisted::threads::blocking_call_from_thread;

/// How many clients connect (a fixed number, so the output is the same on every machine).
const CLIENTS: usize = 8;
/// How long a client waits for its echo before the example gives up.
const PATIENCE: Duration = Duration::from_secs(10);

/// Writes back what it receives, counting its connections in its reactor's counter.
struct Echo {
    transport: Option<Transport>,
    served: Arc<AtomicUsize>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.served.fetch_add(1, Ordering::SeqCst);
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.transport {
            t.write(data);
        }
    }
}

/// One reactor on its own thread, and how many connections it served.
struct Worker {
    reactor: BackgroundReactor,
    served: Arc<AtomicUsize>,
}

/// Starts a reactor on a thread of its own and has it listen on `port` (0: any free port)
/// with `SO_REUSEPORT`; returns it with the port it listens on.
fn start_worker(port: u16) -> Result<(Worker, u16), Box<dyn Error>> {
    let reactor = Reactor::spawn_background()?;
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    // Factories and protocols live on their reactor's thread: the closure builds the
    // factory and listens there, and this thread waits for the port.
    let port = blocking_call_from_thread(&reactor.handle(), move || {
        let options = TcpListenOptions::new()
            .interface(Ipv4Addr::LOCALHOST.into())
            .reuse_port(true);
        let factory = for_protocol(move || Echo {
            transport: None,
            served: Arc::clone(&counter),
        });
        // The port keeps listening until its reactor stops.
        let handle = ReactorHandle::current().ok_or_else(|| Failure::msg("not on a reactor thread"))?;
        let listening = handle
            .listen_tcp_with(port, factory, options)
            .map_err(Failure::new)?;
        Ok::<_, Failure>(listening.port())
    })
    .map_err(|failure| failure.to_string())?;
    Ok((Worker { reactor, served }, port))
}

/// Connects, sends a greeting, and checks that the same bytes come back.
fn echo_client(port: u16, n: usize) -> Result<(), Box<dyn Error>> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    let greeting = format!("hello from client {n}");
    stream.write_all(greeting.as_bytes())?;
    let mut answer = vec![0; greeting.len()];
    stream.read_exact(&mut answer)?;
    if answer != greeting.as_bytes() {
        return Err(format!("client {n} got {answer:?} back").into());
    }
    Ok(())
}

/// Starts `reactors` reactors on one port (each on its own thread, with `SO_REUSEPORT`),
/// has `clients` clients check an echo each, then stops every reactor; returns how many
/// connections each reactor served.
///
/// # Errors
///
/// The first error met: a reactor that cannot start or listen (`SO_REUSEPORT` missing), a
/// client that cannot connect or gets the wrong echo, a reactor that fails.
pub(crate) fn serve_on_one_port(reactors: usize, clients: usize) -> Result<Vec<usize>, Box<dyn Error>> {
    // The first reactor picks a free port; the others listen on the same one.
    let (first, port) = start_worker(0)?;
    let mut workers = vec![first];
    for _ in 1..reactors {
        let (worker, _) = start_worker(port)?;
        workers.push(worker);
    }
    eprintln!("{reactors} reactors listening on 127.0.0.1:{port}");

    let echoed = (0..clients).try_for_each(|n| echo_client(port, n));
    let served = workers.iter().map(|w| w.served.load(Ordering::SeqCst)).collect();
    // Stop every reactor even if a client failed, then report the first error.
    let mut stopped = Ok(());
    for worker in workers {
        let outcome = worker
            .reactor
            .stop()
            .map_err(Box::<dyn Error>::from)
            .and_then(|()| worker.reactor.blocking_join().map_err(Box::<dyn Error>::from));
        stopped = stopped.and(outcome);
    }
    echoed?;
    stopped?;
    Ok(served)
}

fn main() -> Result<(), Box<dyn Error>> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let served = serve_on_one_port(cores.max(2), CLIENTS)?;
    println!("{CLIENTS} clients echoed by reactors sharing one port (SO_REUSEPORT)");
    for (i, n) in served.iter().enumerate() {
        // How the kernel spreads connections differs from run to run: not on stdout.
        eprintln!("reactor {i} served {n} connection(s)");
    }
    println!("{} connections served in all", served.iter().sum::<usize>());
    println!("every reactor stopped");
    Ok(())
}
