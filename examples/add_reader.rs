//! Raw descriptors on the reactor: several sockets, each watched with `add_reader`; a
//! reader that reaches the end of its input removes itself with `remove_reader`, and the
//! last one to finish sees that `readers()` is empty and stops the reactor (the
//! `addReader` / `removeReader` / `getReaders()` loop of Twisted's poetry client).
//!
//! The "servers" are threads writing a poem into one end of a socket pair each, in small
//! pieces, so the readers' calls interleave. Run it with `cargo run --example add_reader`;
//! it ends by itself and prints what each reader got.

use std::cell::RefCell;
use std::error::Error;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use tokio_twisted::protocol::{FileDescriptor, ReadDescriptor};
use tokio_twisted::reactor::{Reactor, ReactorHandle};

const POEMS: [&str; 3] = [
    "The sun rose late on the quiet bay,\nand the gulls had nothing more to say.\n",
    "A river runs beneath the stone;\nit does not know it runs alone.\n",
    "Three small words on a paper slip:\nhold the rope, and mind the ship.\n",
];

/// One poem's socket: Twisted's `PoetrySocket`, an `IReadDescriptor`.
struct PoetrySocket {
    task: usize,
    sock: UnixStream,
    poem: Vec<u8>,
    reads: usize,
    reactor: ReactorHandle,
}

impl FileDescriptor for PoetrySocket {
    fn fileno(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl ReadDescriptor for PoetrySocket {
    fn do_read(&mut self) -> io::Result<()> {
        let mut buf = [0; 16];
        let n = (&self.sock).read(&mut buf)?; // WouldBlock: wait for more
        if n > 0 {
            self.reads += 1;
            self.poem.extend_from_slice(&buf[..n]);
            return Ok(());
        }
        // End of the poem: stop monitoring this socket...
        self.reactor.remove_reader(&self.sock);
        // ...and see if there are any poetry sockets left.
        if self.reactor.readers().is_empty() {
            println!("no readers left: stopping the reactor");
            let _ = self.reactor.stop();
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let reactor = Reactor::new()?;
    let mut sockets = Vec::new();
    let mut servers = Vec::new();
    for (task, poem) in POEMS.iter().enumerate() {
        let (ours, mut theirs) = UnixStream::pair()?;
        ours.set_nonblocking(true)?;
        servers.push(std::thread::spawn(move || {
            for piece in poem.as_bytes().chunks(10) {
                // The reader may be gone if the reactor was stopped early; nothing to do.
                if theirs.write_all(piece).is_err() {
                    return;
                }
            }
        }));
        let socket = Rc::new(RefCell::new(PoetrySocket {
            task: task + 1,
            sock: ours,
            poem: Vec::new(),
            reads: 0,
            reactor: reactor.handle(),
        }));
        // Tell the reactor to monitor this socket for reading.
        reactor.add_reader(Rc::clone(&socket))?;
        sockets.push(socket);
    }
    println!("watching {} sockets", reactor.readers().len());
    reactor.run()?;
    for server in servers {
        server.join().map_err(|_| "a poetry server panicked")?;
    }
    for socket in &sockets {
        let s = socket.borrow();
        println!("task {}: {} bytes of poetry", s.task, s.poem.len());
        // How many reads it took depends on timing; that it took several does not.
        debug_assert!(s.reads > 1);
        print!("{}", String::from_utf8_lossy(&s.poem));
    }
    Ok(())
}
