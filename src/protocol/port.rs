// Tests: tests/tcp.rs, tests/conformance/test_tcp.rs

//! `ListeningPort`: a listening socket's handle (Twisted's `IListeningPort`).

use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::address::Address;
use crate::defer::{Deferred, Resolver, succeed};
use crate::error::NotListeningError;
use crate::lock::lock;

/// A listening socket: Twisted's `IListeningPort`, returned by
/// [`listen_tcp`](crate::reactor::ReactorHandle::listen_tcp).
///
/// It is `Clone + Send + Sync`. Dropping it does not close the socket (as in Twisted, the
/// reactor keeps the port); [`stop_listening`](Self::stop_listening) does, and reactor
/// shutdown closes every port. Connections already accepted stay open.
///
/// ```
/// use tokio_twisted::protocol::{Address, ListeningPort};
///
/// // A port with no socket behind it, as the memory reactor records them.
/// let port = ListeningPort::detached(Address::Tcp("127.0.0.1:8080".parse().unwrap()));
/// assert_eq!(port.port(), 8080);
/// assert!(port.stop_listening().called());
/// assert!(port.stop_listening().called()); // a second stop fires too
/// ```
#[doc(alias = "IListeningPort")]
#[derive(Clone)]
pub struct ListeningPort {
    pub(crate) shared: Arc<PortShared>,
}

pub(crate) struct PortShared {
    pub(crate) host: Address,
    pub(crate) state: Mutex<PortState>,
    /// Wakes the accept task to stop.
    pub(crate) notify: Notify,
}

/// A port's life: listening, stopping (the accept task is closing the socket), closed.
pub(crate) struct PortState {
    pub(crate) stop_requested: bool,
    pub(crate) closed: bool,
    /// Fired once the socket is closed.
    pub(crate) waiting: Vec<Resolver<()>>,
}

impl ListeningPort {
    pub(crate) fn new_shared(host: Address) -> Arc<PortShared> {
        Arc::new(PortShared {
            host,
            state: Mutex::new(PortState {
                stop_requested: false,
                closed: false,
                waiting: Vec::new(),
            }),
            notify: Notify::new(),
        })
    }

    /// A port with no socket behind it: stopping it fires at once. For tests and fakes
    /// (the memory reactor returns these).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, ListeningPort};
    /// let port = ListeningPort::detached(Address::Tcp("[::1]:1".parse().unwrap()));
    /// assert_eq!(port.host().port(), Some(1));
    /// ```
    pub fn detached(host: Address) -> ListeningPort {
        let shared = ListeningPort::new_shared(host);
        lock(&shared.state).closed = true;
        ListeningPort { shared }
    }

    /// The address it listens on, with the port the system chose for port 0: Twisted's
    /// `getHost()`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, ListeningPort};
    /// let a = Address::Tcp("0.0.0.0:80".parse().unwrap());
    /// assert_eq!(ListeningPort::detached(a.clone()).host(), a);
    /// ```
    #[doc(alias = "getHost")]
    pub fn host(&self) -> Address {
        self.shared.host.clone()
    }

    /// The port number it listens on (0 for a UNIX socket).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, ListeningPort};
    /// assert_eq!(ListeningPort::detached(Address::Unix(None)).port(), 0);
    /// ```
    pub fn port(&self) -> u16 {
        self.shared.host.port().unwrap_or(0)
    }

    /// Whether the socket is still open (no stop requested).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, ListeningPort};
    /// assert!(!ListeningPort::detached(Address::Unix(None)).listening());
    /// ```
    pub fn listening(&self) -> bool {
        let state = lock(&self.shared.state);
        !state.stop_requested && !state.closed
    }

    /// Closes the socket: Twisted's `stopListening()` (`loseConnection`). The Deferred
    /// fires once it is closed and the factory's `stop_factory` has run; connections
    /// already accepted stay open. Calling it again returns a Deferred that fires at the
    /// same moment (or at once if already closed).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, ListeningPort};
    /// let port = ListeningPort::detached(Address::Unix(None));
    /// assert!(port.stop_listening().called());
    /// ```
    #[doc(alias = "stopListening")]
    #[doc(alias = "loseConnection")]
    pub fn stop_listening(&self) -> Deferred<()> {
        let mut state = lock(&self.shared.state);
        if state.closed {
            return succeed(());
        }
        let (d, r) = Deferred::new();
        state.waiting.push(r);
        state.stop_requested = true;
        drop(state);
        self.shared.notify.notify_one();
        d
    }

    /// Like [`stop_listening`](Self::stop_listening), but refuses a port already
    /// stopped or stopping.
    ///
    /// # Errors
    ///
    /// [`NotListeningError`] if the port was already stopped.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, ListeningPort};
    /// let port = ListeningPort::detached(Address::Unix(None));
    /// assert!(port.try_stop_listening().is_err());
    /// ```
    pub fn try_stop_listening(&self) -> Result<Deferred<()>, NotListeningError> {
        if self.listening() {
            Ok(self.stop_listening())
        } else {
            Err(NotListeningError)
        }
    }
}

impl PortShared {
    /// Marks the port closed and fires every waiting `stop_listening` Deferred.
    pub(crate) fn mark_closed(&self) {
        let waiting = {
            let mut state = lock(&self.state);
            state.closed = true;
            std::mem::take(&mut state.waiting)
        };
        for r in waiting {
            let _ = r.callback(());
        }
    }

    pub(crate) fn stop_requested(&self) -> bool {
        lock(&self.state).stop_requested
    }
}

impl fmt::Debug for ListeningPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListeningPort")
            .field("host", &self.shared.host)
            .field("listening", &self.listening())
            .finish()
    }
}
