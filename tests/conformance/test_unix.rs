//! Conformance with Twisted's UNIX socket tests, `twisted/test/test_unix.py` (10 tests):
//! `listenUNIX`/`connectUNIX`, peer addresses, and the lock file of `wantPID`/`checkPID`,
//! over sockets in a fresh temporary directory per test. Also `test_mode` from
//! `twisted/internet/test/test_unix.py`.
//!
//! Not ported (4 of 10):
//! - `UnixSocketTests.test_reprWithNewStyleFactory`: Python `repr`s of ports and new-style
//!   classes; a port here shows its address through `Debug`.
//! - `DatagramUnixSocketTests.test_exchange`, `test_cannotListen`,
//!   `test_reprWithNewStyleProtocol`: UNIX datagram sockets (`listenUNIXDatagram`,
//!   `connectUNIXDatagram`) are not implemented (no datagram protocols yet).
//!
//! The "unclean server" tests start no child Python process: they leave behind what such
//! a process leaves (a socket file and a lock naming a process that has exited).

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim
#![allow(
    clippy::items_after_statements,
    reason = "a test declares its one-off factory next to its use"
)]

use std::cell::RefCell;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use tokio_twisted::error::{BadFileError, ListenError};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, Factory, Protocol, Transport, UnixConnectOptions, UnixListenOptions,
};
use tokio_twisted::reactor::ReactorHandle;

use crate::common::{self, TempDir};

fn lock_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Whether the lock file names a live process (Twisted's `lockfile.isLocked`, for the
/// lock files this crate writes: a symbolic link to the holder's pid).
fn is_locked(path: &Path) -> bool {
    std::fs::read_link(lock_of(path))
        .ok()
        .and_then(|t| t.to_str().and_then(|s| s.parse::<u32>().ok()))
        .is_some_and(|pid| Path::new("/proc").join(pid.to_string()).exists())
}

type Events = Rc<RefCell<Vec<String>>>;

/// Records its connection and hangs up when told; stops the reactor after `stop_after`
/// losses across all protocols sharing `events`.
struct Recorder {
    side: &'static str,
    events: Events,
    transport: Option<Transport>,
    hang_up: bool,
    stop: Option<(ReactorHandle, usize)>,
}

impl Protocol for Recorder {
    fn connection_made(&mut self, transport: Transport) {
        self.events
            .borrow_mut()
            .push(format!("{} made peer={}", self.side, transport.peer()));
        if self.hang_up {
            transport.lose_connection();
        }
        self.transport = Some(transport);
    }
    fn data_received(&mut self, _data: &[u8]) {}
    fn connection_lost(&mut self, _reason: Failure) {
        let mut events = self.events.borrow_mut();
        events.push(format!("{} lost", self.side));
        if let Some((reactor, n)) = &self.stop {
            if events.iter().filter(|e| e.ends_with(" lost")).count() == *n {
                reactor.stop().unwrap();
            }
        }
    }
}

/// Twisted's `MyServerFactory`/`MyClientFactory`: records the addresses it builds for.
struct Recording {
    side: &'static str,
    events: Events,
    addresses: Rc<RefCell<Vec<Address>>>,
    hang_up: bool,
    stop: Option<(ReactorHandle, usize)>,
}

impl Recording {
    fn new(side: &'static str, events: &Events) -> Self {
        Recording {
            side,
            events: Rc::clone(events),
            addresses: Rc::default(),
            hang_up: false,
            stop: None,
        }
    }
}

impl Factory for Recording {
    type Protocol = Recorder;
    fn build_protocol(&mut self, addr: &Address) -> Option<Recorder> {
        self.addresses.borrow_mut().push(addr.clone());
        Some(Recorder {
            side: self.side,
            events: Rc::clone(&self.events),
            transport: None,
            hang_up: self.hang_up,
            stop: self.stop.clone(),
        })
    }
}

impl ClientFactory for Recording {
    fn client_connection_failed(&mut self, _connector: &Connector, reason: Failure) {
        let what = if reason.check::<BadFileError>() {
            "bad file".to_owned()
        } else {
            reason.error_message()
        };
        self.events
            .borrow_mut()
            .push(format!("{} failed: {what}", self.side));
        if let Some((reactor, _)) = &self.stop {
            reactor.stop().unwrap();
        }
    }
}

/// twisted: UnixSocketTests.test_peerBind
/// The address given to `build_protocol` and the transport's peer are the path the
/// client socket is bound to.
#[test]
fn test_peer_bind() {
    let _limit = common::time_limit();
    let dir = TempDir::new("peer-bind");
    let (filename, peername) = (dir.path("server.sock"), dir.path("client.sock"));
    let reactor = common::reactor();
    let events = Events::default();
    let mut server = Recording::new("server", &events);
    server.stop = Some((reactor.handle(), 1));
    server.hang_up = true;
    let addresses = Rc::clone(&server.addresses);
    let _port = reactor.handle().listen_unix(&filename, server).unwrap();
    let client = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    client.bind(&socket2::SockAddr::unix(&peername).unwrap()).unwrap();
    // A UNIX connect completes once queued, before the server accepts.
    client
        .connect(&socket2::SockAddr::unix(&filename).unwrap())
        .unwrap();
    reactor.run().unwrap();
    let expected = Address::Unix(Some(peername.clone()));
    assert_eq!(*addresses.borrow(), std::slice::from_ref(&expected));
    assert_eq!(events.borrow()[0], format!("server made peer={expected}"));
}

/// twisted: UnixSocketTests.test_dumber
/// `connect_unix` connects a client to a server started with `listen_unix`; the client
/// factory builds for the server's path.
#[test]
fn test_dumber() {
    let _limit = common::time_limit();
    let dir = TempDir::new("dumber");
    let filename = dir.path("s.sock");
    let reactor = common::reactor();
    let events = Events::default();
    let mut server = Recording::new("server", &events);
    server.stop = Some((reactor.handle(), 2));
    let mut client = Recording::new("client", &events);
    client.hang_up = true;
    client.stop = Some((reactor.handle(), 2));
    let client_addresses = Rc::clone(&client.addresses);
    let _port = reactor.handle().listen_unix(&filename, server).unwrap();
    reactor.handle().connect_unix(&filename, client).unwrap();
    reactor.run().unwrap();
    assert_eq!(
        *client_addresses.borrow(),
        [Address::Unix(Some(filename.clone()))]
    );
    let events = events.borrow();
    assert!(events.contains(&format!("client made peer=unix:{}", filename.display())));
    assert!(events.iter().any(|e| e.starts_with("server made")));
    assert!(events.contains(&"client lost".to_owned()) && events.contains(&"server lost".to_owned()));
}

/// twisted: UnixSocketTests.test_pidFile
/// With `want_pid` a lock file is held while listening (so `check_pid` connects) and
/// released once `stop_listening`'s Deferred fires.
#[test]
fn test_pid_file() {
    let _limit = common::time_limit();
    let dir = TempDir::new("pid-file");
    let filename = dir.path("p.sock");
    let reactor = common::reactor();
    let events = Events::default();
    let server = Recording::new("server", &events);
    let port = reactor
        .handle()
        .listen_unix_with(&filename, server, UnixListenOptions::new().want_pid(true))
        .unwrap();
    assert!(is_locked(&filename), "locked while listening");
    let mut client = Recording::new("client", &events);
    client.hang_up = true;
    let client_addresses = Rc::clone(&client.addresses);
    let stopper = reactor.handle();
    let file = filename.clone();
    let lock_after = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&lock_after);
    // When the client's connection is over, stop listening, then look at the lock.
    struct Then<F>(Recording, Option<F>);
    impl<F: FnOnce() + 'static> Factory for Then<F> {
        type Protocol = Recorder;
        fn build_protocol(&mut self, addr: &Address) -> Option<Recorder> {
            self.0.build_protocol(addr)
        }
    }
    impl<F: FnOnce() + 'static> ClientFactory for Then<F> {
        fn client_connection_failed(&mut self, c: &Connector, reason: Failure) {
            self.0.client_connection_failed(c, reason);
            if let Some(f) = self.1.take() {
                f();
            }
        }
        fn client_connection_lost(&mut self, _: &Connector, _: Failure) {
            if let Some(f) = self.1.take() {
                f();
            }
        }
    }
    let then = move || {
        let _checked = port.stop_listening().add_callback(move |()| {
            *seen.lock().unwrap() = Some(is_locked(&file));
            stopper.stop()?;
            Ok::<_, Failure>(())
        });
    };
    reactor
        .handle()
        .connect_unix_with(
            &filename,
            Then(client, Some(then)),
            UnixConnectOptions::new().check_pid(true),
        )
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(
        *client_addresses.borrow(),
        [Address::Unix(Some(filename.clone()))]
    );
    assert_eq!(
        *lock_after.lock().unwrap(),
        Some(false),
        "unlocked once stop_listening fired"
    );
    assert!(!lock_of(&filename).exists() && !filename.exists());
}

/// twisted: UnixSocketTests.test_socketLocking
/// A second `listen_unix` with `want_pid` on a path being served fails with
/// `CannotListenError`; after `stop_listening`, listening there works again.
#[test]
fn test_socket_locking() {
    let _limit = common::time_limit();
    let dir = TempDir::new("socket-locking");
    let filename = dir.path("l.sock");
    let reactor = common::reactor();
    let events = Events::default();
    let opts = UnixListenOptions::new().want_pid(true);
    let port = reactor
        .handle()
        .listen_unix_with(&filename, Recording::new("a", &events), opts)
        .unwrap();
    let again = reactor
        .handle()
        .listen_unix_with(&filename, Recording::new("b", &events), opts);
    assert!(matches!(again, Err(ListenError::CannotListen(_))), "{again:?}");
    let handle = reactor.handle();
    let ok = Arc::new(Mutex::new(false));
    let seen = Arc::clone(&ok);
    let _relistened = port.stop_listening().add_callback(move |()| {
        let third = handle.listen_unix_with(&filename, Recording::new("c", &Events::default()), opts);
        *seen.lock().unwrap() = third.is_ok();
        let stopper = handle.clone();
        if let Ok(port) = third {
            let _stopped = port.stop_listening().add_callback(move |()| {
                stopper.stop()?;
                Ok::<_, Failure>(())
            });
        } else {
            handle.stop()?;
        }
        Ok::<_, Failure>(())
    });
    reactor.run().unwrap();
    assert!(*ok.lock().unwrap(), "listening again after stop_listening");
}

/// What a server that did not exit cleanly leaves: its socket file and a lock naming a
/// process that has exited.
fn leave_unclean_server(filename: &Path) {
    let listener = std::os::unix::net::UnixListener::bind(filename).unwrap();
    drop(listener); // the socket file stays
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::os::unix::fs::symlink(dead.to_string(), lock_of(filename)).unwrap();
    assert!(filename.exists() && !is_locked(filename));
}

/// twisted: UnixSocketTests.test_uncleanServerSocketLocking
/// With `want_pid`, a server can listen on the path of a previous server that left its
/// socket file and a stale lock behind.
#[test]
fn test_unclean_server_socket_locking() {
    let _limit = common::time_limit();
    let dir = TempDir::new("unclean-listen");
    let filename = dir.path("u.sock");
    leave_unclean_server(&filename);
    let reactor = common::reactor();
    let port = reactor
        .handle()
        .listen_unix_with(
            &filename,
            Recording::new("server", &Events::default()),
            UnixListenOptions::new().want_pid(true),
        )
        .unwrap();
    assert!(is_locked(&filename), "the stale lock was taken over");
    let stopper = reactor.handle();
    let _stopped = port.stop_listening().add_callback(move |()| {
        stopper.stop()?;
        Ok::<_, Failure>(())
    });
    reactor.run().unwrap();
    assert!(!filename.exists() && !lock_of(&filename).exists());
}

/// twisted: UnixSocketTests.test_connectToUncleanServer
/// With `check_pid`, connecting to a path whose lock no live process holds fails with
/// `BadFileError`.
#[test]
fn test_connect_to_unclean_server() {
    let _limit = common::time_limit();
    let dir = TempDir::new("unclean-connect");
    let filename = dir.path("u.sock");
    leave_unclean_server(&filename);
    let reactor = common::reactor();
    let events = Events::default();
    let mut client = Recording::new("client", &events);
    client.stop = Some((reactor.handle(), 1));
    reactor
        .handle()
        .connect_unix_with(&filename, client, UnixConnectOptions::new().check_pid(true))
        .unwrap();
    reactor.run().unwrap();
    assert_eq!(*events.borrow(), ["client failed: bad file"]);
}

/// twisted: UNIXTestsBuilder.test_mode
/// The socket file is created with the mode asked for.
#[test]
fn test_mode() {
    let _limit = common::time_limit();
    let dir = TempDir::new("mode");
    let filename = dir.path("m.sock");
    let reactor = common::reactor();
    let _port = reactor
        .handle()
        .listen_unix_with(
            &filename,
            Recording::new("server", &Events::default()),
            UnixListenOptions::new().mode(0o600),
        )
        .unwrap();
    let mode = std::fs::metadata(&filename).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
