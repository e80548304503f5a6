// Tests: tests/service_net.rs, tests/conformance/test_app_internet.rs (EndpointServiceTests),
// tests/conformance/test_strports.rs

//! `StreamServerEndpointService`: a service that listens on a server endpoint while it runs.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::defer::{CancelledError, Deferred, succeed};
use crate::endpoints::StreamServerEndpoint;
use crate::error::NotReactorThreadError;
use crate::failure::Failure;
use crate::lock::lock;
use crate::protocol::{Factory, ListeningPort, SharedFactory};

use super::service::{Service, ServiceState};
use super::thread_bound::ThreadBound;

/// What stays on the reactor thread: the endpoint and the factory. The factory is shared
/// (Twisted passes the same factory object to every `listen`), so a service stopped and
/// started again listens with the same factory, and `start_factory`/`stop_factory` are
/// counted per open port.
struct Bound<E, F> {
    endpoint: E,
    factory: SharedFactory<F>,
}

/// Listens on `endpoint` with `factory` while it runs: Twisted's
/// `internet.StreamServerEndpointService`.
///
/// [`privileged_start_service`](Service::privileged_start_service) calls the endpoint's
/// `listen` (so a runner binds port 79 before dropping privileges);
/// [`start_service`](Service::start_service) sets `running` and listens only if the
/// privileged phase did not. A listen that fails is logged, unless the service was built
/// with [`raise_synchronously`](Self::raise_synchronously) (what
/// [`strports::service`](crate::strports::service) does) and the failure is already known
/// when `listen` returns: then the start itself fails with it, so a runner does not go
/// on. [`stop_service`](Service::stop_service) cancels a listen still in progress (a
/// cancellation is not logged) or closes the port, and its Deferred fires once the port is
/// closed.
///
/// The endpoint and the factory need not be `Send`: they stay on the thread that built
/// the service, which must be the reactor thread (where the runner starts services);
/// starting the service from another thread fails with
/// [`NotReactorThreadError`]. Unlike Twisted's, a service stopped and started again
/// listens again.
///
/// ```
/// use std::sync::Arc;
/// use tokio_twisted::endpoints::Tcp4ServerEndpoint;
/// use tokio_twisted::protocol::{for_protocol, Protocol};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{Service, StreamServerEndpointService};
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let endpoint = Tcp4ServerEndpoint::new(&reactor.handle(), 0).with_interface("127.0.0.1");
/// let service = Arc::new(StreamServerEndpointService::new(endpoint, for_protocol(|| Quiet)));
/// service.privileged_start_service().unwrap();
/// service.start_service().unwrap();
/// let port = service.listening_port().expect("TCP listens at once");
/// assert_ne!(port.port(), 0);
/// let (stopping, stopper) = (service.clone(), reactor.handle());
/// reactor.call_when_running(move || {
///     // Fires once the port is closed; then the reactor stops.
///     drop(stopping.stop_service().add_callback(move |()| {
///         stopper.stop()?;
///         Ok::<_, tokio_twisted::failure::Failure>(())
///     }));
/// }).unwrap();
/// reactor.run().unwrap();
/// assert!(!service.running() && !port.listening());
/// ```
#[doc(alias = "twisted.application.internet.StreamServerEndpointService")]
pub struct StreamServerEndpointService<E: 'static, F: 'static> {
    state: ServiceState,
    bound: ThreadBound<Bound<E, F>>,
    /// Twisted's `_waitingForPort`: the listen, its failure already handled (a port, or
    /// `None`). Set by the privileged start, taken by the stop.
    waiting_for_port: Mutex<Option<Deferred<Option<ListeningPort>>>>,
    /// Twisted's `_raiseSynchronously`: cleared by the first start.
    raise_synchronously: Arc<AtomicBool>,
    port: Arc<Mutex<Option<ListeningPort>>>,
}

impl<E, F> StreamServerEndpointService<E, F>
where
    E: StreamServerEndpoint + 'static,
    F: Factory,
{
    /// A service listening on `endpoint` with `factory`, built on the reactor thread.
    ///
    /// ```
    /// use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::{Service, StreamServerEndpointService};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let service = StreamServerEndpointService::new(
    ///     Tcp4ServerEndpoint::new(&reactor.handle(), 0), for_protocol(|| Quiet));
    /// assert!(!service.running() && !service.raises_synchronously());
    /// ```
    pub fn new(endpoint: E, factory: F) -> Self {
        StreamServerEndpointService {
            state: ServiceState::default(),
            bound: ThreadBound::new(Bound {
                endpoint,
                factory: SharedFactory::new(factory),
            }),
            waiting_for_port: Mutex::new(None),
            raise_synchronously: Arc::new(AtomicBool::new(false)),
            port: Arc::new(Mutex::new(None)),
        }
    }
}

impl<E: 'static, F: 'static> StreamServerEndpointService<E, F> {
    /// Makes a listen failure known when `listen` returns fail the start (once: the first
    /// start clears it), as [`strports::service`](crate::strports::service) does: Twisted's
    /// `_raiseSynchronously`. Failures that come later are logged as usual.
    ///
    /// ```
    /// use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::{Service, StreamServerEndpointService};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let taken = reactor.listen_tcp(0, for_protocol(|| Quiet)).unwrap();
    /// let endpoint = Tcp4ServerEndpoint::new(&reactor.handle(), taken.port());
    /// let service = StreamServerEndpointService::new(endpoint, for_protocol(|| Quiet)).raise_synchronously();
    /// let failure = service.start_service().unwrap_err();
    /// assert!(failure.check::<tokio_twisted::error::CannotListenError>());
    /// ```
    #[must_use]
    pub fn raise_synchronously(self) -> Self {
        self.raise_synchronously.store(true, Ordering::SeqCst);
        self
    }

    /// Whether the next start fails with a listen failure known at once.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::StreamServerEndpointService;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let service = StreamServerEndpointService::new(
    ///     Tcp4ServerEndpoint::new(&reactor.handle(), 0), for_protocol(|| Quiet)).raise_synchronously();
    /// assert!(service.raises_synchronously());
    /// ```
    pub fn raises_synchronously(&self) -> bool {
        self.raise_synchronously.load(Ordering::SeqCst)
    }

    pub(super) fn set_raise_synchronously(&self) {
        self.raise_synchronously.store(true, Ordering::SeqCst);
    }

    /// The port it listens on, once the listen has succeeded and until the service stops.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::StreamServerEndpointService;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let service = StreamServerEndpointService::new(
    ///     Tcp4ServerEndpoint::new(&reactor.handle(), 0), for_protocol(|| Quiet));
    /// assert!(service.listening_port().is_none()); // not started
    /// ```
    pub fn listening_port(&self) -> Option<ListeningPort> {
        lock(&self.port).clone()
    }

    /// The factory it listens with (Twisted's `factory`), shared with the ports.
    ///
    /// # Errors
    ///
    /// [`NotReactorThreadError`] off the thread that built the service.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::StreamServerEndpointService;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let service = StreamServerEndpointService::new(
    ///     Tcp4ServerEndpoint::new(&reactor.handle(), 0), for_protocol(|| Quiet));
    /// assert_eq!(service.factory().unwrap().num_ports(), 0);
    /// ```
    pub fn factory(&self) -> Result<SharedFactory<F>, NotReactorThreadError> {
        Ok(self.bound.get()?.factory.clone())
    }

    /// The endpoint (Twisted's `endpoint`).
    ///
    /// # Errors
    ///
    /// [`NotReactorThreadError`] off the thread that built the service.
    ///
    /// ```
    /// # use tokio_twisted::endpoints::Tcp4ServerEndpoint;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol};
    /// # use tokio_twisted::reactor::Reactor;
    /// # use tokio_twisted::service::StreamServerEndpointService;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let service = StreamServerEndpointService::new(
    ///     Tcp4ServerEndpoint::new(&reactor.handle(), 1079), for_protocol(|| Quiet));
    /// assert_eq!(service.endpoint().unwrap().port(), 1079);
    /// ```
    pub fn endpoint(&self) -> Result<E, NotReactorThreadError>
    where
        E: Clone,
    {
        Ok(self.bound.get()?.endpoint.clone())
    }
}

impl<E, F> Service for StreamServerEndpointService<E, F>
where
    E: StreamServerEndpoint + 'static,
    F: Factory,
{
    fn state(&self) -> &ServiceState {
        &self.state
    }

    /// Listens on the endpoint.
    ///
    /// # Errors
    ///
    /// [`NotReactorThreadError`] off the thread that built the service; with
    /// [`raise_synchronously`](StreamServerEndpointService::raise_synchronously), the
    /// listen's failure if it is known at once (a `CannotListenError`, say).
    fn privileged_start_service(&self) -> Result<(), Failure> {
        let bound = self.bound.get().map_err(Failure::new)?;
        let listening = bound.endpoint.listen(bound.factory.clone());
        drop(bound);
        let raised: Arc<Mutex<Option<Failure>>> = Arc::default();
        let (flag, raise_into, port_slot) = (
            Arc::clone(&self.raise_synchronously),
            Arc::clone(&raised),
            Arc::clone(&self.port),
        );
        let waiting = listening
            .add_callback(move |port: ListeningPort| {
                *lock(&port_slot) = Some(port.clone());
                Ok::<_, Failure>(Some(port))
            })
            .add_errback(move |failure: Failure| {
                if flag.load(Ordering::SeqCst) {
                    *lock(&raise_into) = Some(failure);
                } else if !failure.check::<CancelledError>() {
                    crate::log::failure("StreamServerEndpointService could not listen", &failure);
                }
                Ok(None)
            });
        *lock(&self.waiting_for_port) = Some(waiting);
        if let Some(failure) = lock(&raised).take() {
            return Err(failure);
        }
        self.raise_synchronously.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Sets `running`, and listens unless the privileged start did.
    ///
    /// # Errors
    ///
    /// As [`privileged_start_service`](Self::privileged_start_service).
    fn start_service(&self) -> Result<(), Failure> {
        self.state.set_running(true);
        let listened = lock(&self.waiting_for_port).is_some();
        if listened {
            return Ok(());
        }
        self.privileged_start_service()
    }

    /// Cancels a listen in progress or closes the port; fires (and clears `running`)
    /// once the port is closed.
    fn stop_service(&self) -> Deferred<()> {
        let waiting = lock(&self.waiting_for_port).take();
        let state = self.state.clone();
        let Some(waiting) = waiting else {
            state.set_running(false);
            return succeed(());
        };
        waiting.cancel();
        let port_slot = Arc::clone(&self.port);
        waiting
            .add_callback(move |port: Option<ListeningPort>| {
                lock(&port_slot).take();
                match port {
                    Some(port) => port.stop_listening(),
                    None => succeed(()),
                }
            })
            .add_both(move |result: Result<(), Failure>| {
                state.set_running(false);
                result
            })
    }
}

impl<E, F> fmt::Debug for StreamServerEndpointService<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamServerEndpointService")
            .field("state", &self.state)
            .field("port", &*lock(&self.port))
            .field(
                "raise_synchronously",
                &self.raise_synchronously.load(Ordering::SeqCst),
            )
            .finish_non_exhaustive()
    }
}
