// Tests: tests/endpoints.rs, tests/conformance/test_endpoints.rs (UNIXEndpointsTests,
// ServerStringTests.test_unix, ClientStringTests.test_unix*)

//! UNIX socket endpoints: `UnixServerEndpoint` and `UnixClientEndpoint`, over the reactor's
//! `listen_unix_with`/`connect_unix_with`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::description::{DEFAULT_BACKLOG, DEFAULT_TIMEOUT, DEFAULT_UNIX_MODE};
use super::description::{UnixClientDescription, UnixServerDescription};
use super::endpoint::{StreamClientEndpoint, StreamServerEndpoint};
use super::io;
use super::wrapping::WrappingFactory;
use crate::defer::Deferred;
use crate::failure::Failure;
use crate::protocol::{Factory, ListeningPort, Transport, UnixConnectOptions, UnixListenOptions};
use crate::reactor::ReactorHandle;

/// A server listening on a UNIX socket file: Twisted's `UNIXServerEndpoint`.
///
/// Defaults are Twisted's: backlog 50, mode `0o666`, no lock file (a `unix:` description
/// string holds a lock file unless it says `lockfile=0`). Listening removes nothing that is
/// already at the path: a stale socket file makes `listen` fail with
/// [`CannotListenError`](crate::error::CannotListenError), unless the lock file shows that
/// its server is gone. The socket file (and the lock file) are removed when the port closes.
///
/// ```
/// use tokio_twisted::endpoints::{StreamServerEndpoint, UnixServerEndpoint};
/// use tokio_twisted::protocol::{for_protocol, ListeningPort, Protocol};
/// use tokio_twisted::reactor::Reactor;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let dir = std::env::temp_dir().join(format!("tt-doc-unix-server-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let endpoint = UnixServerEndpoint::new(&reactor.handle(), dir.join("finger.sock")).with_mode(0o600);
/// assert_eq!((endpoint.backlog(), endpoint.mode(), endpoint.want_pid()), (50, 0o600, false));
/// let stopper = reactor.handle();
/// endpoint.listen(for_protocol(|| Quiet)).add_callback(move |port: ListeningPort| {
///     assert_eq!(port.host().to_string(), format!("unix:{}", dir.join("finger.sock").display()));
///     port.stop_listening().add_callback(move |()| {
///         std::fs::remove_dir(&dir)?;
///         stopper.stop()?;
///         Ok::<_, tokio_twisted::failure::Failure>(())
///     });
///     Ok::<_, tokio_twisted::failure::Failure>(())
/// });
/// reactor.run().unwrap();
/// ```
#[doc(alias = "UNIXServerEndpoint")]
#[derive(Debug, Clone)]
pub struct UnixServerEndpoint {
    reactor: ReactorHandle,
    address: PathBuf,
    backlog: u32,
    mode: u32,
    want_pid: bool,
}

impl UnixServerEndpoint {
    /// An endpoint listening on the socket file `address`, with Twisted's defaults
    /// (backlog 50, mode `0o666`, no lock file).
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let e = UnixServerEndpoint::new(&reactor.handle(), "/run/finger.sock");
    /// assert_eq!(e.address().to_str(), Some("/run/finger.sock"));
    /// ```
    pub fn new(reactor: &ReactorHandle, address: impl Into<PathBuf>) -> Self {
        UnixServerEndpoint {
            reactor: reactor.clone(),
            address: address.into(),
            backlog: DEFAULT_BACKLOG,
            mode: DEFAULT_UNIX_MODE,
            want_pid: false,
        }
    }

    /// The endpoint a parsed description describes.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::{ServerDescription, UnixServerEndpoint};
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let ServerDescription::Unix(d) = "unix:/run/f:mode=660".parse().unwrap() else { unreachable!() };
    /// let e = UnixServerEndpoint::from_description(&reactor.handle(), &d);
    /// assert_eq!((e.mode(), e.want_pid()), (0o660, true));
    /// ```
    pub fn from_description(reactor: &ReactorHandle, description: &UnixServerDescription) -> Self {
        UnixServerEndpoint {
            reactor: reactor.clone(),
            address: description.address.clone(),
            backlog: description.backlog,
            mode: description.mode,
            want_pid: description.want_pid,
        }
    }

    /// Sets the listen queue length.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixServerEndpoint::new(&reactor.handle(), "s").with_backlog(7).backlog(), 7);
    /// ```
    #[must_use]
    pub fn with_backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Sets the socket file's permissions (`chmod`).
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixServerEndpoint::new(&reactor.handle(), "s").with_mode(0o600).mode(), 0o600);
    /// ```
    #[must_use]
    pub fn with_mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Holds a lock file (`<address>.lock`, naming this process) while listening:
    /// Twisted's `wantPID`. A second server on the same path is then refused, and a socket
    /// left by a server that died is taken over.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(UnixServerEndpoint::new(&reactor.handle(), "s").with_want_pid(true).want_pid());
    /// ```
    #[doc(alias = "wantPID")]
    #[must_use]
    pub fn with_want_pid(mut self, want_pid: bool) -> Self {
        self.want_pid = want_pid;
        self
    }

    /// The socket file's path.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixServerEndpoint::new(&reactor.handle(), "s").address(), std::path::Path::new("s"));
    /// ```
    pub fn address(&self) -> &Path {
        &self.address
    }

    /// The listen queue length.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixServerEndpoint::new(&reactor.handle(), "s").backlog(), 50);
    /// ```
    pub fn backlog(&self) -> u32 {
        self.backlog
    }

    /// The socket file's permissions.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixServerEndpoint::new(&reactor.handle(), "s").mode(), 0o666);
    /// ```
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// Whether a lock file is held while listening.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixServerEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!UnixServerEndpoint::new(&reactor.handle(), "s").want_pid());
    /// ```
    pub fn want_pid(&self) -> bool {
        self.want_pid
    }
}

impl StreamServerEndpoint for UnixServerEndpoint {
    fn listen<F: Factory>(&self, factory: F) -> Deferred<ListeningPort> {
        // The kernel caps the backlog far below i32::MAX anyway.
        let backlog = i32::try_from(self.backlog).unwrap_or(i32::MAX);
        let options = UnixListenOptions::new()
            .backlog(backlog)
            .mode(self.mode)
            .want_pid(self.want_pid);
        io::listened(self.reactor.listen_unix_with(&self.address, factory, options))
    }
}

/// A client connecting to a UNIX socket file: Twisted's `UNIXClientEndpoint`.
///
/// Defaults are Twisted's: a 30-second timeout and no lock check. `connect` fires with the
/// connection's [`Transport`] right after the protocol's `connection_made` returned; it
/// fails with a [`ConnectError`](crate::error::ConnectError) when nothing listens at the
/// path, with [`BadFileError`](crate::error::BadFileError) when `check_pid` is on and no
/// live server holds the lock file, and with
/// [`ConnectingCancelledError`](crate::error::ConnectingCancelledError) when cancelled.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::endpoints::{StreamClientEndpoint, UnixClientEndpoint};
/// use tokio_twisted::error::ConnectError;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::protocol::{for_protocol, Protocol, Transport};
/// use tokio_twisted::reactor::Reactor;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let nowhere = std::env::temp_dir().join("tt-doc-unix-client-nobody-listens");
/// let endpoint = UnixClientEndpoint::new(&reactor.handle(), nowhere).with_timeout(Duration::from_secs(5));
/// let stopper = reactor.handle();
/// let d = endpoint.connect(for_protocol(|| Quiet)).add_both(move |r: Result<Transport, Failure>| {
///     stopper.stop()?;
///     r
/// });
/// reactor.run().unwrap();
/// assert!(tokio_twisted::testing::failure_result_of(d).check::<ConnectError>());
/// ```
#[doc(alias = "UNIXClientEndpoint")]
#[derive(Debug, Clone)]
pub struct UnixClientEndpoint {
    reactor: ReactorHandle,
    path: PathBuf,
    timeout: Duration,
    check_pid: bool,
}

impl UnixClientEndpoint {
    /// An endpoint connecting to the socket file `path`, with a 30-second timeout and no
    /// lock check.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixClientEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let e = UnixClientEndpoint::new(&reactor.handle(), "/run/finger.sock");
    /// assert_eq!((e.timeout().as_secs(), e.check_pid()), (30, false));
    /// ```
    pub fn new(reactor: &ReactorHandle, path: impl Into<PathBuf>) -> Self {
        UnixClientEndpoint {
            reactor: reactor.clone(),
            path: path.into(),
            timeout: DEFAULT_TIMEOUT,
            check_pid: false,
        }
    }

    /// The endpoint a parsed description describes.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::{ClientDescription, UnixClientEndpoint};
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let ClientDescription::Unix(d) = "unix:/run/f:timeout=9".parse().unwrap() else { unreachable!() };
    /// assert_eq!(UnixClientEndpoint::from_description(&reactor.handle(), &d).timeout().as_secs(), 9);
    /// ```
    pub fn from_description(reactor: &ReactorHandle, description: &UnixClientDescription) -> Self {
        UnixClientEndpoint {
            reactor: reactor.clone(),
            path: description.path.clone(),
            timeout: description.timeout,
            check_pid: description.check_pid,
        }
    }

    /// Sets how long to wait for the connection.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::endpoints::UnixClientEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let e = UnixClientEndpoint::new(&reactor.handle(), "s").with_timeout(Duration::from_secs(2));
    /// assert_eq!(e.timeout(), Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Refuses to connect unless a live server holds the path's lock file: Twisted's
    /// `checkPID`.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixClientEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(UnixClientEndpoint::new(&reactor.handle(), "s").with_check_pid(true).check_pid());
    /// ```
    #[doc(alias = "checkPID")]
    #[must_use]
    pub fn with_check_pid(mut self, check_pid: bool) -> Self {
        self.check_pid = check_pid;
        self
    }

    /// The socket file's path.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixClientEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixClientEndpoint::new(&reactor.handle(), "s").path(), std::path::Path::new("s"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long to wait for the connection.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixClientEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert_eq!(UnixClientEndpoint::new(&reactor.handle(), "s").timeout().as_secs(), 30);
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether the lock file is checked before connecting.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::UnixClientEndpoint;
    /// # use tokio_twisted::reactor::Reactor;
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// assert!(!UnixClientEndpoint::new(&reactor.handle(), "s").check_pid());
    /// ```
    pub fn check_pid(&self) -> bool {
        self.check_pid
    }
}

impl StreamClientEndpoint for UnixClientEndpoint {
    fn connect<F: Factory>(&self, factory: F) -> Deferred<Transport> {
        let (wrapping, d) = WrappingFactory::new(factory);
        let options = UnixConnectOptions::new()
            .timeout(self.timeout)
            .check_pid(self.check_pid);
        io::start_attempt(wrapping, |wrapping| {
            self.reactor
                .connect_unix_with(&self.path, wrapping, options)
                .map_err(Failure::new)
        });
        d
    }
}
