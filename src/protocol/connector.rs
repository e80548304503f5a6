// Tests: tests/tcp.rs, tests/conformance/test_factories.rs

//! `Connector`: one client connection's handle, able to retry (Twisted's `IConnector`).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::address::Address;
use super::transport::Transport;
use crate::error::{ConnectorBusyError, NotConnectingError};
use crate::lock::lock;

/// Where a [`Connector`] is (Twisted's `connector.state`).
///
/// ```
/// use tokio_twisted::protocol::{Address, Connector, ConnectorState};
/// let c = Connector::detached(Address::Tcp("127.0.0.1:1".parse().unwrap()));
/// assert_eq!(c.state(), ConnectorState::Disconnected);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectorState {
    /// Not connecting and not connected: [`Connector::connect`] starts an attempt.
    Disconnected,
    /// An attempt is under way.
    Connecting,
    /// Connected; the protocol is running.
    Connected,
}

/// A client connection attempt and its outcome, which can be retried: Twisted's
/// `IConnector`, passed to every [`ClientFactory`](crate::protocol::ClientFactory) hook
/// and returned by [`connect_tcp`](crate::reactor::ReactorHandle::connect_tcp).
///
/// It is `Clone + Send + Sync`. Calling [`connect`](Self::connect) from
/// `client_connection_failed` or `client_connection_lost` (or later, from a timer, as a
/// reconnecting factory does) starts a new attempt with the same factory; the attempt's
/// task ends once the connector is disconnected and no clone of it is left.
///
/// ```
/// use tokio_twisted::error::NotConnectingError;
/// use tokio_twisted::protocol::{Address, Connector, ConnectorState};
///
/// // A connector with nothing behind it, as the memory reactor records them.
/// let c = Connector::detached(Address::Tcp("127.0.0.1:80".parse().unwrap()));
/// assert_eq!(c.stop_connecting(), Err(NotConnectingError));
/// c.connect().unwrap();
/// assert_eq!(c.state(), ConnectorState::Connecting);
/// c.stop_connecting().unwrap();
/// assert_eq!(c.state(), ConnectorState::Disconnected);
/// ```
#[doc(alias = "IConnector")]
pub struct Connector {
    pub(crate) shared: Arc<ConnectorShared>,
}

/// What a connector shares with the task that makes its attempts.
pub(crate) struct ConnectorShared {
    pub(crate) destination: Address,
    pub(crate) state: Mutex<ConnectorInner>,
    /// Wakes the attempt task: a new attempt, a stop, or the last handle dropped.
    pub(crate) notify: Notify,
    /// Live `Connector` handles (the task holds the `Arc`, not a handle).
    handles: AtomicUsize,
}

pub(crate) struct ConnectorInner {
    pub(crate) state: ConnectorState,
    /// `stop_connecting` was called during the current attempt.
    pub(crate) stop_requested: bool,
    /// The transport while connected, for `disconnect`.
    pub(crate) transport: Option<Transport>,
}

impl ConnectorShared {
    pub(crate) fn handles(&self) -> usize {
        self.handles.load(Ordering::Acquire)
    }
}

impl Connector {
    /// A connector in state `state` for an attempt task to drive.
    pub(crate) fn new_shared(destination: Address, state: ConnectorState) -> Arc<ConnectorShared> {
        Arc::new(ConnectorShared {
            destination,
            state: Mutex::new(ConnectorInner {
                state,
                stop_requested: false,
                transport: None,
            }),
            notify: Notify::new(),
            handles: AtomicUsize::new(0),
        })
    }

    pub(crate) fn from_shared(shared: Arc<ConnectorShared>) -> Connector {
        shared.handles.fetch_add(1, Ordering::AcqRel);
        Connector { shared }
    }

    /// A connector that no connection attempt drives, starting disconnected: its methods
    /// only change its state. For tests and fakes (the memory reactor returns these).
    ///
    /// ```
    /// use tokio_twisted::protocol::{Address, Connector};
    /// let c = Connector::detached(Address::Unix(None));
    /// assert_eq!(c.destination(), Address::Unix(None));
    /// ```
    pub fn detached(destination: Address) -> Connector {
        Connector::from_shared(Connector::new_shared(destination, ConnectorState::Disconnected))
    }

    /// Starts a new attempt: Twisted's `connect()`, used to retry from
    /// `client_connection_failed`/`client_connection_lost`.
    ///
    /// # Errors
    ///
    /// [`ConnectorBusyError`] if the connector is connecting or connected.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, Connector};
    /// let c = Connector::detached(Address::Unix(None));
    /// c.connect().unwrap();
    /// assert!(c.connect().is_err());
    /// ```
    pub fn connect(&self) -> Result<(), ConnectorBusyError> {
        let mut inner = lock(&self.shared.state);
        if inner.state != ConnectorState::Disconnected {
            return Err(ConnectorBusyError);
        }
        inner.state = ConnectorState::Connecting;
        inner.stop_requested = false;
        drop(inner);
        self.shared.notify.notify_one();
        Ok(())
    }

    /// Abandons the attempt under way: Twisted's `stopConnecting()`. The factory's
    /// `client_connection_failed` then gets a
    /// [`ConnectingCancelledError`](crate::error::ConnectingCancelledError) (Twisted's
    /// `UserError`).
    ///
    /// # Errors
    ///
    /// [`NotConnectingError`] if no attempt is under way.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, Connector};
    /// let c = Connector::detached(Address::Unix(None));
    /// assert!(c.stop_connecting().is_err());
    /// ```
    #[doc(alias = "stopConnecting")]
    pub fn stop_connecting(&self) -> Result<(), NotConnectingError> {
        let mut inner = lock(&self.shared.state);
        if inner.state != ConnectorState::Connecting {
            return Err(NotConnectingError);
        }
        inner.stop_requested = true;
        inner.state = ConnectorState::Disconnected;
        drop(inner);
        self.shared.notify.notify_one();
        Ok(())
    }

    /// Stops connecting, or closes the connection if connected: Twisted's `disconnect()`.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, Connector, ConnectorState};
    /// let c = Connector::detached(Address::Unix(None));
    /// c.connect().unwrap();
    /// c.disconnect();
    /// assert_eq!(c.state(), ConnectorState::Disconnected);
    /// ```
    pub fn disconnect(&self) {
        let inner = lock(&self.shared.state);
        match inner.state {
            ConnectorState::Connecting => {
                drop(inner);
                let _ = self.stop_connecting();
            }
            ConnectorState::Connected => {
                let transport = inner.transport.clone();
                drop(inner);
                if let Some(t) = transport {
                    t.lose_connection();
                }
            }
            ConnectorState::Disconnected => {}
        }
    }

    /// Where it connects to: Twisted's `getDestination()`. For a connection to a host
    /// name this is the name as given ([`Address::Hostname`]), as Twisted reports it, not
    /// the address it resolves to.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, Connector};
    /// let a = Address::Tcp("127.0.0.1:9".parse().unwrap());
    /// assert_eq!(Connector::detached(a.clone()).destination(), a);
    /// ```
    #[doc(alias = "getDestination")]
    pub fn destination(&self) -> Address {
        self.shared.destination.clone()
    }

    /// Its state.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{Address, Connector, ConnectorState};
    /// assert_eq!(Connector::detached(Address::Unix(None)).state(), ConnectorState::Disconnected);
    /// ```
    pub fn state(&self) -> ConnectorState {
        lock(&self.shared.state).state
    }
}

impl Clone for Connector {
    fn clone(&self) -> Self {
        Connector::from_shared(Arc::clone(&self.shared))
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.notify.notify_one();
        }
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("destination", &self.shared.destination)
            .field("state", &self.state())
            .finish()
    }
}
