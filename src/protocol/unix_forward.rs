// Tests: tests/conformance/test_unix.rs, tests/conformance/test_protocol.rs (doc examples here)

//! The UNIX-socket calls of [`ReactorHandle`](crate::reactor::ReactorHandle), on the
//! [`Reactor`] that owns it, so code on the reactor thread reads as in Twisted
//! (`reactor.listen_unix(..)`), as the TCP calls do.

use std::path::Path;

use super::connector::Connector;
use super::factory::{ClientFactory, Factory};
use super::port::ListeningPort;
use super::unix::{UnixConnectOptions, UnixListenOptions};
use crate::error::ListenError;
use crate::reactor::{Reactor, SpawnLocalError};

impl Reactor {
    /// [`ReactorHandle::listen_unix`](crate::reactor::ReactorHandle::listen_unix): Twisted's
    /// `listenUNIX`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::listen_unix_with`](crate::reactor::ReactorHandle::listen_unix_with).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let dir = std::env::temp_dir().join(format!("tt-doc-reactor-unix-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let port = reactor.listen_unix(dir.join("s"), for_protocol(|| Quiet)).unwrap();
    /// assert!(port.listening());
    /// # drop(port); drop(reactor); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[doc(alias = "listenUNIX")]
    pub fn listen_unix<F: Factory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
    ) -> Result<ListeningPort, ListenError> {
        self.handle().listen_unix(path, factory)
    }

    /// [`ReactorHandle::listen_unix_with`](crate::reactor::ReactorHandle::listen_unix_with):
    /// `listenUNIX` with a backlog, a mode and a lock file.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::listen_unix_with`](crate::reactor::ReactorHandle::listen_unix_with).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, UnixListenOptions};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let dir = std::env::temp_dir().join(format!("tt-doc-reactor-unix-with-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = UnixListenOptions::new().backlog(5);
    /// let port = reactor.listen_unix_with(dir.join("s"), for_protocol(|| Quiet), opts).unwrap();
    /// assert!(port.host().to_string().starts_with("unix:"));
    /// # drop(port); drop(reactor); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[doc(alias = "listenUNIX")]
    pub fn listen_unix_with<F: Factory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
        options: UnixListenOptions,
    ) -> Result<ListeningPort, ListenError> {
        self.handle().listen_unix_with(path, factory, options)
    }

    /// [`ReactorHandle::connect_unix`](crate::reactor::ReactorHandle::connect_unix):
    /// Twisted's `connectUNIX`.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::connect_unix_with`](crate::reactor::ReactorHandle::connect_unix_with).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let connector = reactor.connect_unix("/nonexistent.sock", for_protocol(|| Quiet)).unwrap();
    /// assert_eq!(connector.destination().to_string(), "unix:/nonexistent.sock");
    /// ```
    #[doc(alias = "connectUNIX")]
    pub fn connect_unix<F: ClientFactory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
    ) -> Result<Connector, SpawnLocalError> {
        self.handle().connect_unix(path, factory)
    }

    /// [`ReactorHandle::connect_unix_with`](crate::reactor::ReactorHandle::connect_unix_with):
    /// `connectUNIX` with a timeout and a lock-file check.
    ///
    /// # Errors
    ///
    /// As [`ReactorHandle::connect_unix_with`](crate::reactor::ReactorHandle::connect_unix_with).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, UnixConnectOptions};
    /// # use tokio_twisted::reactor::Reactor;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let opts = UnixConnectOptions::new().check_pid(true);
    /// let connector = reactor.connect_unix_with("/nonexistent.sock", for_protocol(|| Quiet), opts).unwrap();
    /// assert_eq!(connector.destination().to_string(), "unix:/nonexistent.sock");
    /// ```
    #[doc(alias = "connectUNIX")]
    pub fn connect_unix_with<F: ClientFactory>(
        &self,
        path: impl AsRef<Path>,
        factory: F,
        options: UnixConnectOptions,
    ) -> Result<Connector, SpawnLocalError> {
        self.handle().connect_unix_with(path, factory, options)
    }
}
