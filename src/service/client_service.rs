// Tests: tests/service_net.rs, tests/conformance/test_app_internet.rs (ClientServiceTests)

//! `ClientService`: keeps one connection to an endpoint up, reconnecting with a backoff.

use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use crate::defer::{CancelledError, Deferred, IntoOutcome, Resolver, fail, maybe_deferred, succeed};
use crate::endpoints::StreamClientEndpoint;
use crate::failure::Failure;
use crate::lock::lock;
use crate::protocol::{Factory, SharedFactory, Transport};
use crate::time::{DelayedCall, ReactorTime};

use super::backoff::{RetryPolicy, default_backoff_policy};
use super::disconnect::DisconnectFactory;
use super::service::{Service, ServiceState};
use super::thread_bound::ThreadBound;

type Prepare = Box<dyn Fn(&Transport) -> Deferred<()>>;

/// Keeps one connection to `endpoint` up while it runs, reconnecting after a delay when
/// an attempt fails or the connection is lost: Twisted's `internet.ClientService`.
///
/// - [`start_service`](Service::start_service) starts connecting; each failed attempt in a
///   row waits `retry_policy(failures)` before the next (see [`backoff_policy`](super::backoff_policy);
///   the default is Twisted's, 1.5 s growing by 1.5× to a minute, plus up to a second of
///   jitter); a connection made resets the count.
/// - [`when_connected`](Self::when_connected) fires with the connection's [`Transport`]
///   (Twisted's fires with the protocol; protocols here stay on the reactor thread, so
///   keep an `Rc` to yours if you need it), at once when connected, else when the next
///   connection is made; [`when_connected_or_fail_after`](Self::when_connected_or_fail_after)
///   fails instead after that many failed attempts. Both fail with
///   [`CancelledError`] when the service stops.
/// - [`stop_service`](Service::stop_service) cancels an attempt in progress or a pending
///   retry, or closes the connection, and fires once the connection is gone.
/// - [`with_prepare_connection`](Self::with_prepare_connection) runs a hook on each new
///   connection before it counts as made (to log in, say); a hook that fails makes the
///   attempt count as failed (and, unlike Twisted, closes that connection).
///
/// It schedules on any [`ReactorTime`] (a [`Clock`](crate::task::Clock) in tests) and
/// connects through any [`StreamClientEndpoint`]. The endpoint, the factory and the hook
/// stay on the thread that built the service (they need not be `Send`), which must be the
/// one it runs on: the reactor thread.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::endpoints::Tcp4ClientEndpoint;
/// use tokio_twisted::protocol::{for_protocol, Protocol, Transport};
/// use tokio_twisted::reactor::Reactor;
/// use tokio_twisted::service::{ClientService, Service};
///
/// struct Hello;
/// impl Protocol for Hello {
///     fn connection_made(&mut self, t: Transport) { t.write(b"hello\r\n"); }
///     fn data_received(&mut self, _: &[u8]) {}
/// }
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
/// let handle = reactor.handle();
/// let port = reactor.listen_tcp(0, for_protocol(|| Quiet)).unwrap();
/// let endpoint = Tcp4ClientEndpoint::new(&handle, "127.0.0.1", port.port());
/// let client = std::sync::Arc::new(ClientService::new(endpoint, for_protocol(|| Hello), handle.clone()));
/// client.start_service().unwrap();
/// let (stopping, stopper) = (client.clone(), handle.clone());
/// drop(client.when_connected().add_callback(move |_transport: Transport| {
///     stopping.stop_service().add_callback(move |()| { stopper.stop()?; Ok::<_, tokio_twisted::failure::Failure>(()) })
/// }));
/// reactor.run().unwrap();
/// assert!(!client.running());
/// ```
#[doc(alias = "twisted.application.internet.ClientService")]
pub struct ClientService<E: 'static, F: 'static> {
    state: ServiceState,
    core: Arc<Core<E, F>>,
}

/// What stays on the reactor thread.
struct Bound<E, F> {
    endpoint: E,
    factory: SharedFactory<F>,
}

struct Core<E: 'static, F: 'static> {
    bound: ThreadBound<Bound<E, F>>,
    prepare: Mutex<Option<Arc<ThreadBound<Prepare>>>>,
    clock: Arc<dyn ReactorTime>,
    policy: Mutex<RetryPolicy>,
    machine: Mutex<Machine>,
}

/// Twisted's `_ClientMachine` states. Each attempt gets a number; events of an older
/// attempt (a late disconnection, a late failure) are ignored.
enum Phase {
    /// Built, never started. Left by `start` (Connecting) or `stop` (Stopped).
    Init,
    /// An attempt is in progress; `pending` is its Deferred, to cancel on `stop`. Left
    /// when the attempt succeeds (Connected), fails (Waiting) or on `stop` (Disconnecting).
    Connecting {
        attempt: u64,
        pending: Option<Deferred<()>>,
    },
    /// Between attempts; `retry` is the scheduled next one (`None` only while it is being
    /// scheduled). Left when it runs (Connecting) or on `stop` (Stopped).
    Waiting {
        attempt: u64,
        retry: Option<DelayedCall>,
    },
    /// A connection is up. Left when it is lost (Waiting) or on `stop` (Disconnecting).
    Connected { attempt: u64, transport: Transport },
    /// Stopping: waiting for the connection to go or the attempt to end (Stopped), or for
    /// `start` (Restarting).
    Disconnecting { attempt: u64 },
    /// Started again while stopping: once the connection is gone, connects again.
    Restarting { attempt: u64 },
    /// Stopped; `start` connects again.
    Stopped,
}

struct Machine {
    phase: Phase,
    last_attempt: u64,
    failed_attempts: u32,
    stop_waiters: Vec<Resolver<()>>,
    awaiting: Vec<(Resolver<Transport>, Option<u32>)>,
}

impl<E, F> ClientService<E, F>
where
    E: StreamClientEndpoint + 'static,
    F: Factory,
{
    /// A service connecting to `endpoint` with `factory`, scheduling retries on `clock`
    /// with Twisted's default [`backoff_policy`](super::backoff_policy). Build it on the
    /// reactor thread.
    ///
    /// ```
    /// use tokio_twisted::endpoints::Tcp4ClientEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::{ClientService, Service};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let endpoint = Tcp4ClientEndpoint::new(&reactor.handle(), "127.0.0.1", 1079);
    /// let client = ClientService::new(endpoint, for_protocol(|| Quiet), reactor.handle());
    /// assert!(!client.running());
    /// ```
    pub fn new(endpoint: E, factory: F, clock: impl ReactorTime) -> Self {
        ClientService {
            state: ServiceState::default(),
            core: Arc::new(Core {
                bound: ThreadBound::new(Bound {
                    endpoint,
                    factory: SharedFactory::new(factory),
                }),
                prepare: Mutex::new(None),
                clock: Arc::new(clock),
                policy: Mutex::new(default_backoff_policy()),
                machine: Mutex::new(Machine {
                    phase: Phase::Init,
                    last_attempt: 0,
                    failed_attempts: 0,
                    stop_waiters: Vec::new(),
                    awaiting: Vec::new(),
                }),
            }),
        }
    }
}

impl<E: 'static, F: 'static> ClientService<E, F> {
    /// Replaces the retry policy (Twisted's `retryPolicy`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio_twisted::endpoints::Tcp4ClientEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::{backoff_policy, no_jitter, ClientService};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let endpoint = Tcp4ClientEndpoint::new(&reactor.handle(), "127.0.0.1", 1079);
    /// let policy = backoff_policy(Duration::from_millis(10), Duration::from_secs(1), 2.0, no_jitter());
    /// let _client = ClientService::new(endpoint, for_protocol(|| Quiet), reactor.handle())
    ///     .with_retry_policy(policy);
    /// ```
    #[must_use]
    #[doc(alias = "retryPolicy")]
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        *lock(&self.core.policy) = policy;
        self
    }

    /// Runs `prepare` on each new connection before it counts as made (Twisted's
    /// `prepareConnection`): it may return `()`, `Ok`/`Err` or a Deferred, and
    /// [`when_connected`](Self::when_connected) waits for it. A failure (or panic) makes
    /// the attempt count as failed: the connection is closed and a retry scheduled. Call
    /// it on the reactor thread; the hook stays there and need not be `Send`.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use tokio_twisted::endpoints::Tcp4ClientEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol, Transport};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::ClientService;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let endpoint = Tcp4ClientEndpoint::new(&reactor.handle(), "127.0.0.1", 1079);
    /// let logins = Rc::new(Cell::new(0));
    /// let counter = logins.clone();
    /// let _client = ClientService::new(endpoint, for_protocol(|| Quiet), reactor.handle())
    ///     .with_prepare_connection(move |t: &Transport| {
    ///         t.write(b"LOGIN guest\r\n");
    ///         counter.set(counter.get() + 1);
    ///     });
    /// ```
    #[must_use]
    #[doc(alias = "prepareConnection")]
    pub fn with_prepare_connection<P, R, U>(self, prepare: P) -> Self
    where
        P: Fn(&Transport) -> R + 'static,
        R: IntoOutcome<U>,
        U: Send + 'static,
    {
        let hook: Prepare = Box::new(move |t: &Transport| {
            maybe_deferred(|| prepare(t)).add_callback(|_: U| Ok::<_, Failure>(()))
        });
        *lock(&self.core.prepare) = Some(Arc::new(ThreadBound::new(hook)));
        self
    }

    /// The current connection, or the next one: Twisted's `whenConnected()`. Fails with
    /// [`CancelledError`] if the service stops first (or has stopped).
    ///
    /// ```
    /// use tokio_twisted::defer::CancelledError;
    /// use tokio_twisted::endpoints::Tcp4ClientEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::{ClientService, Service};
    /// use tokio_twisted::testing::failure_result_of;
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let endpoint = Tcp4ClientEndpoint::new(&reactor.handle(), "127.0.0.1", 1079);
    /// let client = ClientService::new(endpoint, for_protocol(|| Quiet), reactor.handle());
    /// let waiting = client.when_connected();
    /// assert!(!waiting.called()); // not started yet: it waits
    /// assert!(client.stop_service().called());
    /// assert!(failure_result_of(client.when_connected()).check::<CancelledError>());
    /// # drop(waiting);
    /// ```
    #[doc(alias = "whenConnected")]
    pub fn when_connected(&self) -> Deferred<Transport> {
        self.core.when_connected(None)
    }

    /// Like [`when_connected`](Self::when_connected), but fails with the attempt's failure
    /// once `failures` attempts in a row have failed (1: the first failure): Twisted's
    /// `whenConnected(failAfterFailures=n)`. Connected already, it fires at once.
    ///
    /// ```
    /// use tokio_twisted::endpoints::Tcp4ClientEndpoint;
    /// use tokio_twisted::protocol::{for_protocol, Protocol};
    /// use tokio_twisted::reactor::Reactor;
    /// use tokio_twisted::service::{ClientService, Service};
    ///
    /// struct Quiet;
    /// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    ///
    /// let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    /// let handle = reactor.handle();
    /// // Port 1 on loopback: refused.
    /// let endpoint = Tcp4ClientEndpoint::new(&handle, "127.0.0.1", 1);
    /// let client = std::sync::Arc::new(ClientService::new(endpoint, for_protocol(|| Quiet), handle.clone()));
    /// client.start_service().unwrap();
    /// let (stopping, stopper) = (client.clone(), handle.clone());
    /// let refused = client.when_connected_or_fail_after(1).add_both(move |r| {
    ///     let failure = r.unwrap_err();
    ///     stopping.stop_service().add_callback(move |()| { stopper.stop()?; Ok(failure) })
    /// });
    /// reactor.run().unwrap();
    /// assert!(refused.result().unwrap().unwrap().check::<tokio_twisted::error::ConnectionRefusedError>());
    /// ```
    #[doc(alias = "whenConnected")]
    #[doc(alias = "failAfterFailures")]
    pub fn when_connected_or_fail_after(&self, failures: u32) -> Deferred<Transport> {
        self.core.when_connected(Some(failures))
    }
}

impl<E, F> Service for ClientService<E, F>
where
    E: StreamClientEndpoint + 'static,
    F: Factory,
{
    fn state(&self) -> &ServiceState {
        &self.state
    }

    /// Starts connecting; a second start while running only logs a warning.
    ///
    /// # Errors
    ///
    /// None: an attempt that cannot start (off the reactor thread, say) counts as a failed
    /// attempt and is retried.
    fn start_service(&self) -> Result<(), Failure> {
        if self.state.running() {
            tracing::warn!("Duplicate ClientService.startService");
            return Ok(());
        }
        self.state.set_running(true);
        self.core.start();
        Ok(())
    }

    /// Stops connecting and closes the connection; fires once it is closed.
    fn stop_service(&self) -> Deferred<()> {
        self.state.set_running(false);
        self.core.stop()
    }
}

impl<E, F> Core<E, F>
where
    E: StreamClientEndpoint + 'static,
    F: Factory,
{
    fn start(self: &Arc<Self>) {
        let mut m = lock(&self.machine);
        match m.phase {
            Phase::Init | Phase::Stopped => {
                drop(m);
                self.attempt_connection();
            }
            Phase::Disconnecting { attempt } => m.phase = Phase::Restarting { attempt },
            _ => {}
        }
    }

    fn stop(self: &Arc<Self>) -> Deferred<()> {
        let mut m = lock(&self.machine);
        let (waited, r) = Deferred::new();
        match std::mem::replace(&mut m.phase, Phase::Stopped) {
            Phase::Init | Phase::Stopped => return succeed(()),
            Phase::Connecting { attempt, pending } => {
                m.phase = Phase::Disconnecting { attempt };
                m.stop_waiters.push(r);
                drop(m);
                // The attempt's failure (a cancellation) moves on to Stopped.
                if let Some(pending) = pending {
                    pending.cancel();
                }
            }
            Phase::Waiting { retry, .. } => {
                m.stop_waiters.push(r);
                let (stop_waiters, awaiting) = (
                    std::mem::take(&mut m.stop_waiters),
                    std::mem::take(&mut m.awaiting),
                );
                drop(m);
                cancel_waiters(awaiting);
                if let Some(retry) = retry {
                    // Still pending: the phase said so, and only this stop cancels it.
                    let _ = retry.cancel();
                }
                fire(stop_waiters);
            }
            Phase::Connected { attempt, transport } => {
                m.phase = Phase::Disconnecting { attempt };
                m.stop_waiters.push(r);
                drop(m);
                transport.lose_connection();
            }
            Phase::Disconnecting { attempt } | Phase::Restarting { attempt } => {
                m.phase = Phase::Disconnecting { attempt };
                m.stop_waiters.push(r);
            }
        }
        waited
    }

    /// Enters Connecting: a new attempt through the endpoint.
    fn attempt_connection(self: &Arc<Self>) {
        let attempt = {
            let mut m = lock(&self.machine);
            m.last_attempt += 1;
            let attempt = m.last_attempt;
            m.phase = Phase::Connecting {
                attempt,
                pending: None,
            };
            attempt
        };
        let bound = match self.bound.get() {
            Ok(bound) => bound,
            Err(e) => return self.connection_failed(attempt, &Failure::new(e)),
        };
        let lost = Arc::clone(self);
        let factory = DisconnectFactory {
            inner: bound.factory.clone(),
            lost: Rc::new(move || lost.client_disconnected(attempt)),
        };
        let connecting = bound.endpoint.connect(factory);
        drop(bound);
        let prepare = lock(&self.prepare).clone();
        let (made, failed) = (Arc::clone(self), Arc::clone(self));
        let pending = connecting
            .add_callback(move |transport: Transport| prepared(prepare.as_deref(), transport))
            .add_callback(move |transport: Transport| {
                made.connection_made(attempt, &transport);
                Ok::<_, Failure>(())
            })
            .add_errback(move |failure: Failure| {
                failed.connection_failed(attempt, &failure);
                Ok(())
            });
        let mut m = lock(&self.machine);
        match &mut m.phase {
            Phase::Connecting {
                attempt: a,
                pending: slot,
            } if *a == attempt => *slot = Some(pending),
            // Stopped while `connect` ran: cancel now what the stop could not.
            Phase::Disconnecting { attempt: a } | Phase::Restarting { attempt: a } if *a == attempt => {
                drop(m);
                pending.cancel();
            }
            _ => {}
        }
    }

    fn connection_made(self: &Arc<Self>, attempt: u64, transport: &Transport) {
        let mut m = lock(&self.machine);
        match m.phase {
            Phase::Connecting { attempt: a, .. } if a == attempt => {
                m.phase = Phase::Connected {
                    attempt,
                    transport: transport.clone(),
                };
                m.failed_attempts = 0;
                let awaiting = std::mem::take(&mut m.awaiting);
                drop(m);
                for (r, _) in awaiting {
                    let _ = r.callback(transport.clone());
                }
            }
            // Made after a stop (or for an attempt given up): not wanted.
            _ => {
                drop(m);
                transport.lose_connection();
            }
        }
    }

    fn connection_failed(self: &Arc<Self>, attempt: u64, failure: &Failure) {
        let mut m = lock(&self.machine);
        match m.phase {
            Phase::Connecting { attempt: a, .. } if a == attempt => {
                let mut ready = Vec::new();
                let mut not_ready = Vec::new();
                for (r, remaining) in std::mem::take(&mut m.awaiting) {
                    match remaining {
                        Some(n) if n <= 1 => ready.push(r),
                        Some(n) => not_ready.push((r, Some(n - 1))),
                        None => not_ready.push((r, None)),
                    }
                }
                m.awaiting = not_ready;
                // In Waiting before the waiters hear of it: one that stops the service
                // finds nothing left to cancel, and no retry is scheduled.
                let failures = Self::enter_waiting(&mut m, attempt);
                drop(m);
                for r in ready {
                    let _ = r.errback(failure.clone());
                }
                self.schedule_retry(attempt, failures);
            }
            // Anywhere else a failure ends the connection as a disconnection does.
            _ => {
                drop(m);
                self.client_disconnected(attempt);
            }
        }
    }

    fn client_disconnected(self: &Arc<Self>, attempt: u64) {
        let m = lock(&self.machine);
        match m.phase {
            Phase::Connected { attempt: a, .. } if a == attempt => {
                drop(m);
                self.wait_for_retry(attempt);
            }
            Phase::Disconnecting { attempt: a } if a == attempt => Self::finish_stopped(m),
            Phase::Restarting { attempt: a } if a == attempt => self.restart(m),
            _ => {}
        }
    }

    /// Disconnecting → Stopped: the waiters for a connection fail, the stops fire.
    fn finish_stopped(mut m: std::sync::MutexGuard<'_, Machine>) {
        m.phase = Phase::Stopped;
        let (stop_waiters, awaiting) = (
            std::mem::take(&mut m.stop_waiters),
            std::mem::take(&mut m.awaiting),
        );
        drop(m);
        cancel_waiters(awaiting);
        fire(stop_waiters);
    }

    /// Restarting → Connecting: the stops fire, then a new attempt starts.
    fn restart(self: &Arc<Self>, mut m: std::sync::MutexGuard<'_, Machine>) {
        let stop_waiters = std::mem::take(&mut m.stop_waiters);
        drop(m);
        fire(stop_waiters);
        self.attempt_connection();
    }

    /// Enters Waiting (from `attempt`): counts the failure and schedules the next attempt.
    fn wait_for_retry(self: &Arc<Self>, attempt: u64) {
        let failures = Self::enter_waiting(&mut lock(&self.machine), attempt);
        self.schedule_retry(attempt, failures);
    }

    /// Enters Waiting, counting the failure; returns how many attempts in a row failed.
    fn enter_waiting(m: &mut Machine, attempt: u64) -> u32 {
        m.failed_attempts += 1;
        m.phase = Phase::Waiting { attempt, retry: None };
        m.failed_attempts
    }

    /// Schedules the next attempt, unless the service left Waiting meanwhile.
    fn schedule_retry(self: &Arc<Self>, attempt: u64, failures: u32) {
        let policy = lock(&self.policy).clone();
        let delay = policy(failures);
        tracing::info!(
            "Scheduling retry {failures} to connect {} in {} seconds.",
            std::any::type_name::<E>(),
            delay.as_secs_f64()
        );
        let core = Arc::clone(self);
        let retry = self
            .clock
            .call_later_boxed(delay, Box::new(move || core.reconnect(attempt)));
        let mut m = lock(&self.machine);
        match &mut m.phase {
            Phase::Waiting {
                attempt: a,
                retry: slot,
            } if *a == attempt && slot.is_none() => *slot = Some(retry),
            _ => {
                drop(m);
                let _ = retry.cancel();
            }
        }
    }

    fn reconnect(self: &Arc<Self>, attempt: u64) {
        let waiting = matches!(lock(&self.machine).phase, Phase::Waiting { attempt: a, .. } if a == attempt);
        if waiting {
            self.attempt_connection();
        }
    }
}

impl<E: 'static, F: 'static> Core<E, F> {
    fn when_connected(&self, fail_after: Option<u32>) -> Deferred<Transport> {
        let mut m = lock(&self.machine);
        match &m.phase {
            Phase::Connected { transport, .. } => succeed(transport.clone()),
            Phase::Stopped => fail(Failure::new(CancelledError)),
            _ => {
                let (d, r) = Deferred::new();
                m.awaiting.push((r, fail_after));
                d
            }
        }
    }
}

/// The hook's outcome, then the transport (a failed hook closes the connection).
fn prepared(prepare: Option<&ThreadBound<Prepare>>, transport: Transport) -> Deferred<Transport> {
    let Some(prepare) = prepare else {
        return succeed(transport);
    };
    let ran = match prepare.get() {
        Ok(hook) => hook(&transport),
        Err(e) => fail(Failure::new(e)),
    };
    ran.add_callbacks(
        {
            let transport = transport.clone();
            move |()| Ok::<_, Failure>(transport)
        },
        move |failure: Failure| {
            transport.lose_connection();
            Err(failure)
        },
    )
}

fn cancel_waiters(awaiting: Vec<(Resolver<Transport>, Option<u32>)>) {
    for (r, _) in awaiting {
        let _ = r.errback(CancelledError);
    }
}

fn fire(stop_waiters: Vec<Resolver<()>>) {
    for r in stop_waiters {
        let _ = r.callback(());
    }
}

impl<E, F> fmt::Debug for ClientService<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = lock(&self.core.machine);
        let phase = match m.phase {
            Phase::Init => "init",
            Phase::Connecting { .. } => "connecting",
            Phase::Waiting { .. } => "waiting",
            Phase::Connected { .. } => "connected",
            Phase::Disconnecting { .. } => "disconnecting",
            Phase::Restarting { .. } => "restarting",
            Phase::Stopped => "stopped",
        };
        f.debug_struct("ClientService")
            .field("state", &self.state)
            .field("phase", &phase)
            .field("failed_attempts", &m.failed_attempts)
            .finish_non_exhaustive()
    }
}
