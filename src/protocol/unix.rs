// Tests: tests/conformance/test_unix.rs, tests/endpoints.rs, tests/conformance/test_endpoints.rs

//! UNIX sockets on the reactor: `listen_unix` and `connect_unix` (Twisted's
//! `IReactorUNIX`), with Twisted's lock file (`wantPID` / `checkPID`). Binding, the lock
//! and the addresses are UNIX's own; the accept loop, the connector and the connection
//! driver are TCP's (the private `family` and `driver` modules).

use std::io::{self, IoSlice};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, SockAddr, SockRef, Socket, Type};
use tokio::io::Interest;
use tokio::net::{UnixListener, UnixStream};

use super::address::Address;
use super::connector::Connector;
use super::driver::{SocketStream, read_once};
use super::factory::{ClientFactory, Factory};
use super::family::{Acceptor, Dialer, reactor_token, start_connector, start_port};
use super::port::ListeningPort;
use crate::error::{BadFileError, CannotListenError, ListenError, connect_error};
use crate::failure::Failure;
use crate::reactor::{ReactorHandle, SpawnLocalError};

/// Twisted's default `listenUNIX` backlog and mode, and `connectUNIX` timeout.
const DEFAULT_BACKLOG: i32 = 50;
const DEFAULT_MODE: u32 = 0o666;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl SocketStream for UnixStream {
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        UnixStream::poll_read_ready(self, cx)
    }

    fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        UnixStream::poll_write_ready(self, cx)
    }

    fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        let sock = SockRef::from(self);
        let mut partial = None;
        let result = self.try_io(Interest::READABLE, || read_once(&sock, buf, &mut partial));
        partial.map_or(result, Ok)
    }

    fn write_vectored_now(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        UnixStream::try_write_vectored(self, bufs)
    }

    fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        UnixStream::try_write(self, buf)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        SockRef::from(self).shutdown(std::net::Shutdown::Write)
    }

    fn reset_on_close(&self) -> io::Result<()> {
        // A UNIX stream has no reset: closing it is all an abort can do.
        Ok(())
    }

    fn set_nodelay(&self, _enabled: bool) -> io::Result<()> {
        Ok(())
    }

    fn set_keepalive(&self, _enabled: bool) -> io::Result<()> {
        Ok(())
    }
}

/// Options of [`ReactorHandle::listen_unix_with`]: Twisted's `backlog`, `mode` and
/// `wantPID`.
///
/// ```
/// use tokio_twisted::protocol::UnixListenOptions;
///
/// let opts = UnixListenOptions::new().mode(0o600).want_pid(true);
/// assert_eq!(opts.get_mode(), 0o600);
/// assert_eq!(UnixListenOptions::default().get_backlog(), 50);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixListenOptions {
    backlog: i32,
    mode: u32,
    want_pid: bool,
}

impl Default for UnixListenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl UnixListenOptions {
    /// Backlog 50, mode `0o666`, no lock file: Twisted's defaults.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// assert!(!UnixListenOptions::new().get_want_pid());
    /// ```
    pub fn new() -> Self {
        UnixListenOptions {
            backlog: DEFAULT_BACKLOG,
            mode: DEFAULT_MODE,
            want_pid: false,
        }
    }

    /// The length of the queue of connections not yet accepted.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// assert_eq!(UnixListenOptions::new().backlog(5).get_backlog(), 5);
    /// ```
    #[must_use]
    pub fn backlog(mut self, backlog: i32) -> Self {
        self.backlog = backlog;
        self
    }

    /// The permissions given to the socket file (`chmod`), `0o666` by default.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// assert_eq!(UnixListenOptions::new().mode(0o660).get_mode(), 0o660);
    /// ```
    #[must_use]
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Hold a lock file (`<path>.lock`, a symbolic link naming this process) while
    /// listening: Twisted's `wantPID`. A second server on the same path is refused; a lock
    /// left by a process that is gone is taken over, and its socket file removed.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// assert!(UnixListenOptions::new().want_pid(true).get_want_pid());
    /// ```
    #[must_use]
    pub fn want_pid(mut self, want: bool) -> Self {
        self.want_pid = want;
        self
    }

    /// The backlog.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// let _ = UnixListenOptions::new().get_backlog();
    /// ```
    pub fn get_backlog(&self) -> i32 {
        self.backlog
    }

    /// The mode.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// assert_eq!(UnixListenOptions::new().get_mode(), 0o666);
    /// ```
    pub fn get_mode(&self) -> u32 {
        self.mode
    }

    /// Whether a lock file is held.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixListenOptions;
    /// let _ = UnixListenOptions::new().get_want_pid();
    /// ```
    pub fn get_want_pid(&self) -> bool {
        self.want_pid
    }
}

/// Options of [`ReactorHandle::connect_unix_with`]: Twisted's `timeout` and `checkPID`.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::protocol::UnixConnectOptions;
///
/// let opts = UnixConnectOptions::new().timeout(Duration::from_secs(2)).check_pid(true);
/// assert!(opts.get_check_pid());
/// assert_eq!(UnixConnectOptions::default().get_timeout(), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixConnectOptions {
    timeout: Duration,
    check_pid: bool,
}

impl Default for UnixConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl UnixConnectOptions {
    /// A 30-second timeout, no lock check: Twisted's defaults.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixConnectOptions;
    /// assert!(!UnixConnectOptions::new().get_check_pid());
    /// ```
    pub fn new() -> Self {
        UnixConnectOptions {
            timeout: DEFAULT_TIMEOUT,
            check_pid: false,
        }
    }

    /// How long the attempt may take before failing with
    /// [`error::TimeoutError`](crate::error::TimeoutError).
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixConnectOptions;
    /// # use std::time::Duration;
    /// assert_eq!(UnixConnectOptions::new().timeout(Duration::ZERO).get_timeout(), Duration::ZERO);
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Fail with [`BadFileError`] unless a server holds the path's lock file: Twisted's
    /// `checkPID`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixConnectOptions;
    /// assert!(UnixConnectOptions::new().check_pid(true).get_check_pid());
    /// ```
    #[must_use]
    pub fn check_pid(mut self, check: bool) -> Self {
        self.check_pid = check;
        self
    }

    /// The timeout.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixConnectOptions;
    /// let _ = UnixConnectOptions::new().get_timeout();
    /// ```
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the lock file is checked.
    ///
    /// ```
    /// # use tokio_twisted::protocol::UnixConnectOptions;
    /// let _ = UnixConnectOptions::new().get_check_pid();
    /// ```
    pub fn get_check_pid(&self) -> bool {
        self.check_pid
    }
}

/// The lock file of a UNIX server (Twisted's `FilesystemLock`): a symbolic link whose
/// target is the holder's process id, created atomically.
struct PidLock {
    path: PathBuf,
}

/// The lock file's path for a socket at `socket`.
fn lock_path(socket: &Path) -> PathBuf {
    let mut name = socket.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether process `pid` is alive. Without `/proc`, every holder is presumed alive (a
/// stale lock is then never taken over, the safe side).
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

impl PidLock {
    /// Takes the lock at `path`: `Ok(Some((lock, clean)))`, where `clean` is false if a
    /// lock left by a dead process was broken; `Ok(None)` if a live process holds it.
    fn acquire(path: PathBuf) -> io::Result<Option<(PidLock, bool)>> {
        let me = std::process::id().to_string();
        let mut clean = true;
        // A bounded number of tries: each failure is another process racing for it.
        for _ in 0..16 {
            match std::os::unix::fs::symlink(&me, &path) {
                Ok(()) => return Ok(Some((PidLock { path }, clean))),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            let holder = match std::fs::read_link(&path) {
                Ok(target) => target,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let pid = holder.to_str().and_then(|s| s.parse::<u32>().ok());
            if pid.is_some_and(process_alive) {
                return Ok(None);
            }
            // Left by a process that is gone (or unreadable): break it, as Twisted does.
            match std::fs::remove_file(&path) {
                Ok(()) => clean = false,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Whether a live process holds the lock at `path` (Twisted's `isLocked`).
    fn is_locked(path: &Path) -> bool {
        match PidLock::acquire(path.to_owned()) {
            Ok(Some((lock, _))) => {
                drop(lock);
                false
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }
}

impl Drop for PidLock {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::debug!("removing the lock file {} failed: {e}", self.path.display());
        }
    }
}

fn unix_address(addr: &tokio::net::unix::SocketAddr) -> Address {
    Address::Unix(addr.as_pathname().map(Path::to_path_buf))
}

/// A listening UNIX socket with `backlog`, registered with the runtime.
fn bind_listener(path: &Path, backlog: i32) -> io::Result<UnixListener> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.bind(&SockAddr::unix(path)?)?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    UnixListener::from_std(std::os::unix::net::UnixListener::from(
        std::os::fd::OwnedFd::from(socket),
    ))
}

impl ReactorHandle {
    /// Listens for connections on the UNIX socket `path`, building a protocol per
    /// connection with `factory`: Twisted's `listenUNIX` with its defaults (backlog 50,
    /// mode `0o666`, no lock file). See [`listen_unix_with`](Self::listen_unix_with).
    ///
    /// # Errors
    ///
    /// As [`listen_unix_with`](Self::listen_unix_with).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let dir = std::env::temp_dir().join(format!("tt-doc-listen-unix-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("echo.sock");
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let port = reactor.handle().listen_unix(&path, for_protocol(|| Quiet)).unwrap();
    /// assert!(path.exists());
    /// let stopper = reactor.handle();
    /// port.stop_listening().add_callback(move |()| {
    ///     stopper.stop()?;
    ///     Ok::<_, tokio_twisted::failure::Failure>(())
    /// });
    /// reactor.run().unwrap();
    /// assert!(!path.exists(), "the socket file is removed when the port closes");
    /// std::fs::remove_dir(&dir).unwrap();
    /// ```
    #[doc(alias = "listenUNIX")]
    pub fn listen_unix<F: Factory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
    ) -> Result<ListeningPort, ListenError> {
        self.listen_unix_with(path, factory, UnixListenOptions::new())
    }

    /// Listens on the UNIX socket `path` with `options` (backlog, mode, lock file):
    /// Twisted's `listenUNIX(address, factory, backlog, mode, wantPID)`.
    ///
    /// The socket is bound at once and given `mode`; `factory.start_factory()` runs before
    /// this returns. When the port closes ([`stop_listening`](ListeningPort::stop_listening)
    /// or reactor shutdown), the socket file is removed, the lock file released and
    /// `factory.stop_factory()` runs. Must be called on the reactor thread.
    ///
    /// # Errors
    ///
    /// [`ListenError::CannotListen`] if the lock is held by a live process ("cannot
    /// acquire lock", `AddrInUse`) or the socket cannot be bound (the path exists, no
    /// permission); [`ListenError::Reactor`] off the reactor thread or after shutdown.
    ///
    /// ```
    /// use tokio_twisted::error::ListenError;
    /// use tokio_twisted::protocol::{for_protocol, Protocol, UnixListenOptions};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let dir = std::env::temp_dir().join(format!("tt-doc-listen-unix-with-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("locked.sock");
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = UnixListenOptions::new().want_pid(true).mode(0o600);
    /// let _port = reactor.handle().listen_unix_with(&path, for_protocol(|| Quiet), opts).unwrap();
    /// // A second server on the same path is refused by the lock.
    /// let again = reactor.handle().listen_unix_with(&path, for_protocol(|| Quiet), opts);
    /// assert!(matches!(again, Err(ListenError::CannotListen(_))));
    /// # drop(reactor);
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// ```
    #[doc(alias = "listenUNIX")]
    pub fn listen_unix_with<F: Factory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
        options: UnixListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        let path = path.as_ref().to_path_buf();
        let shutdown = reactor_token(self)?;
        let cannot = |e: io::Error| {
            ListenError::CannotListen(CannotListenError::new(path.display().to_string(), 0, e))
        };
        let pid_lock = if options.want_pid {
            match PidLock::acquire(lock_path(&path)).map_err(cannot)? {
                None => {
                    return Err(cannot(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        "cannot acquire lock",
                    )));
                }
                Some((pid_lock, clean)) => {
                    if !clean {
                        // A server that did not exit cleanly left its socket: remove it
                        // (only if it is a socket), so the bind below can succeed.
                        use std::os::unix::fs::FileTypeExt;
                        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                    Some(pid_lock)
                }
            }
        } else {
            None
        };
        let listener = {
            let _in_runtime = self.shared.rt.enter();
            bind_listener(&path, options.backlog).map_err(cannot)?
        };
        if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(options.mode)) {
            let _ = std::fs::remove_file(&path);
            return Err(cannot(e));
        }
        let host = Address::Unix(Some(path.clone()));
        let port = UnixPort {
            listener,
            _cleanup: Cleanup {
                path,
                _lock: pid_lock,
            },
        };
        start_port(self, shutdown, port, host, factory)
    }

    /// Connects to the UNIX socket `path`, reporting to `factory`: Twisted's
    /// `connectUNIX` with its defaults (30-second timeout, no lock check).
    ///
    /// # Errors
    ///
    /// As [`connect_unix_with`](Self::connect_unix_with).
    ///
    /// ```
    /// # let _limit = tokio_twisted::testing::time_limit(std::time::Duration::from_secs(20));
    /// use tokio_twisted::failure::Failure;
    /// use tokio_twisted::protocol::{for_protocol, Address, ClientFactory, Connector, Factory, Protocol};
    /// use tokio_twisted::reactor::{Reactor, ReactorHandle};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// /// Stops the reactor when the attempt fails.
    /// struct Report(ReactorHandle);
    /// impl Factory for Report {
    ///     type Protocol = Quiet;
    ///     fn build_protocol(&mut self, _: &Address) -> Option<Quiet> { Some(Quiet) }
    /// }
    /// impl ClientFactory for Report {
    ///     fn client_connection_failed(&mut self, _: &Connector, reason: Failure) {
    ///         assert!(reason.check::<tokio_twisted::error::ConnectError>());
    ///         self.0.stop().unwrap();
    ///     }
    /// }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let nowhere = std::env::temp_dir().join("tt-doc-no-such-socket");
    /// reactor.handle().connect_unix(&nowhere, Report(reactor.handle())).unwrap();
    /// reactor.run().unwrap();
    /// ```
    #[doc(alias = "connectUNIX")]
    pub fn connect_unix<F: ClientFactory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
    ) -> Result<Connector, SpawnLocalError> {
        self.connect_unix_with(path, factory, UnixConnectOptions::new())
    }

    /// Connects to the UNIX socket `path` with `options` (timeout, lock check): Twisted's
    /// `connectUNIX(address, factory, timeout, checkPID)`.
    ///
    /// The factory hears what it hears for TCP, in the same order: `started_connecting`,
    /// then `client_connection_failed` (no such socket: a
    /// [`ConnectError`](crate::error::ConnectError); refused; [`TimeoutError`](crate::error::TimeoutError);
    /// [`BadFileError`] with `check_pid` when no server holds the lock; stopped:
    /// [`ConnectingCancelledError`](crate::error::ConnectingCancelledError)) or a connection and, when it ends,
    /// `client_connection_lost`.
    ///
    /// # Errors
    ///
    /// [`SpawnLocalError`] off the reactor thread or after shutdown.
    ///
    /// ```
    /// use tokio_twisted::protocol::{for_protocol, Protocol, UnixConnectOptions};
    /// use tokio_twisted::reactor::Reactor;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = UnixConnectOptions::new().check_pid(true);
    /// let connector = reactor.handle().connect_unix_with("/nonexistent.sock", for_protocol(|| Quiet), opts).unwrap();
    /// assert_eq!(connector.destination().to_string(), "unix:/nonexistent.sock");
    /// ```
    #[doc(alias = "connectUNIX")]
    pub fn connect_unix_with<F: ClientFactory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
        options: UnixConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        let path = path.as_ref().to_path_buf();
        let destination = Address::Unix(Some(path.clone()));
        start_connector(self, destination, UnixDialer { path, options }, factory)
    }
}

/// What a UNIX port undoes when it closes: its socket file and its lock.
struct Cleanup {
    path: PathBuf,
    /// Released (the lock file removed) when dropped, after the socket file.
    _lock: Option<PidLock>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::debug!("removing the socket file {} failed: {e}", self.path.display());
        }
    }
}

/// A listening UNIX socket and what its port undoes when it closes.
struct UnixPort {
    listener: UnixListener,
    /// Dropped after the listener: the socket file, then the lock.
    _cleanup: Cleanup,
}

impl Acceptor for UnixPort {
    type Stream = UnixStream;

    async fn accept(&self) -> io::Result<(UnixStream, Address, Option<Address>)> {
        let (stream, peer) = self.listener.accept().await?;
        Ok((stream, unix_address(&peer), None))
    }

    fn is_connection_error(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
        )
    }

    fn close(self, host: &Address) {
        drop(self);
        tracing::info!("(UNIX port {} closed)", host);
    }
}

/// Where and how a UNIX connector connects.
struct UnixDialer {
    path: PathBuf,
    options: UnixConnectOptions,
}

impl Dialer for UnixDialer {
    type Stream = UnixStream;

    fn timeout(&self) -> Duration {
        self.options.timeout
    }

    /// One attempt: the lock check, then the connect.
    async fn attempt(&self) -> Result<UnixStream, Failure> {
        if self.options.check_pid && !PidLock::is_locked(&lock_path(&self.path)) {
            return Err(Failure::new(BadFileError::new(&self.path)));
        }
        UnixStream::connect(&self.path).await.map_err(connect_error)
    }

    fn addresses(&self, stream: &UnixStream, _destination: &Address) -> (Address, Address) {
        let peer = Address::Unix(Some(self.path.clone()));
        let local = stream
            .local_addr()
            .map_or(Address::Unix(None), |a| unix_address(&a));
        (peer, local)
    }
}
