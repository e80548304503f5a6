// Tests: tests/conformance/test_factories.rs

//! `ReconnectingClientFactory`: a client factory that reconnects with exponential
//! back-off (Twisted's `twisted.internet.protocol.ReconnectingClientFactory`).

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use super::address::Address;
use super::connector::Connector;
use super::factory::{ClientFactory, Factory, do_start, do_stop};
use crate::error::NotConnectingError;
use crate::failure::Failure;
use crate::time::{DelayedCall, ReactorTime};

/// Twisted's `factor`: e.
const FACTOR: f64 = std::f64::consts::E;
/// Twisted's `jitter`.
const JITTER: f64 = 0.119_626_565_582;

/// A client factory that reconnects after every failed or lost connection, waiting
/// `initial_delay` first and then `factor` times longer each time, up to `max_delay`:
/// Twisted's `ReconnectingClientFactory`.
///
/// It wraps the factory that builds the protocols and schedules retries on a clock (the
/// reactor's handle, or a [`task::Clock`](crate::task::Clock) in tests). Twisted's
/// defaults: 1 s initial delay, factor e, jitter 0.1196, 3600 s maximum, no retry limit.
/// A protocol should call [`Reconnection::reset_delay`] once connected (it gets the
/// [`Reconnection`] handle from [`reconnection`](Self::reconnection) through its factory).
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::failure::Failure;
/// use tokio_twisted::protocol::{for_protocol, Address, ClientFactory, Connector, Protocol, ReconnectingClientFactory};
/// use tokio_twisted::task::Clock;
///
/// struct Quiet;
/// impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
///
/// let clock = Clock::new();
/// let mut factory = ReconnectingClientFactory::new(for_protocol(|| Quiet), clock.clone())
///     .jitter(None);
/// let connector = Connector::detached(Address::Tcp("127.0.0.1:1".parse().unwrap()));
/// factory.client_connection_failed(&connector, Failure::msg("refused"));
/// assert_eq!(clock.pending_calls()[0].time(), Duration::from_secs(1)); // initialDelay
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(connector.state(), tokio_twisted::protocol::ConnectorState::Connecting);
/// ```
pub struct ReconnectingClientFactory<F, C> {
    inner: F,
    clock: C,
    state: Rc<RefCell<RetryState>>,
}

/// The back-off settings and where the retries are.
struct RetryState {
    initial_delay: Duration,
    max_delay: Duration,
    factor: f64,
    jitter: Option<f64>,
    max_retries: Option<u32>,
    delay: Duration,
    retries: u32,
    continue_trying: bool,
    call: Option<DelayedCall>,
    connector: Option<Connector>,
    seed: u64,
}

/// A handle on a [`ReconnectingClientFactory`]'s retries, for its protocols: Twisted's
/// `resetDelay` and `stopTrying`, reachable while the factory itself is owned by the
/// connection attempt.
///
/// ```
/// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
/// # use tokio_twisted::task::Clock;
/// # struct Quiet;
/// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
/// let factory = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new());
/// let control = factory.reconnection();
/// control.stop_trying();
/// assert!(!control.continue_trying());
/// ```
#[derive(Clone)]
pub struct Reconnection {
    state: Rc<RefCell<RetryState>>,
}

impl<F: Factory, C: ReactorTime> ReconnectingClientFactory<F, C> {
    /// Wraps `inner`, scheduling retries on `clock`, with Twisted's defaults.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new());
    /// assert_eq!(f.reconnection().delay().as_secs(), 1);
    /// ```
    pub fn new(inner: F, clock: C) -> Self {
        let seed = std::collections::hash_map::RandomState::new();
        let seed = std::hash::BuildHasher::hash_one(&seed, 0_u8);
        ReconnectingClientFactory {
            inner,
            clock,
            state: Rc::new(RefCell::new(RetryState {
                initial_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(3600),
                factor: FACTOR,
                jitter: Some(JITTER),
                max_retries: None,
                delay: Duration::from_secs(1),
                retries: 0,
                continue_trying: true,
                call: None,
                connector: None,
                seed: seed | 1,
            })),
        }
    }

    /// The first delay (Twisted's `initialDelay`); also the current delay.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new())
    ///     .initial_delay(Duration::from_millis(10));
    /// assert_eq!(f.reconnection().delay(), Duration::from_millis(10));
    /// ```
    #[must_use]
    pub fn initial_delay(self, delay: Duration) -> Self {
        {
            let mut s = self.state.borrow_mut();
            s.initial_delay = delay;
            s.delay = delay;
        }
        self
    }

    /// The longest delay (Twisted's `maxDelay`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let _f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new())
    ///     .max_delay(Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn max_delay(self, delay: Duration) -> Self {
        self.state.borrow_mut().max_delay = delay;
        self
    }

    /// How much longer each delay is than the last (Twisted's `factor`, e by default).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let _f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new()).factor(2.0);
    /// ```
    #[must_use]
    pub fn factor(self, factor: f64) -> Self {
        self.state.borrow_mut().factor = factor;
        self
    }

    /// The relative spread of each delay (Twisted's `jitter`); `None` for none.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let _f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new()).jitter(None);
    /// ```
    #[must_use]
    pub fn jitter(self, jitter: Option<f64>) -> Self {
        self.state.borrow_mut().jitter = jitter;
        self
    }

    /// Gives up after this many consecutive retries (Twisted's `maxRetries`).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let _f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new()).max_retries(Some(3));
    /// ```
    #[must_use]
    pub fn max_retries(self, max: Option<u32>) -> Self {
        self.state.borrow_mut().max_retries = max;
        self
    }

    /// The handle protocols use to reset the delay or stop trying.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new());
    /// assert_eq!(f.reconnection().retries(), 0);
    /// ```
    pub fn reconnection(&self) -> Reconnection {
        Reconnection {
            state: Rc::clone(&self.state),
        }
    }

    /// Schedules `connector.connect()` after the current delay, then grows the delay:
    /// Twisted's `retry`. Does nothing once [`Reconnection::stop_trying`] was called or
    /// `max_retries` is exceeded.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Address, Connector, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let clock = Clock::new();
    /// let mut f = ReconnectingClientFactory::new(for_protocol(|| Quiet), clock.clone()).jitter(None);
    /// f.retry(&Connector::detached(Address::Unix(None)));
    /// assert_eq!(clock.pending_calls().len(), 1);
    /// assert!((f.reconnection().delay().as_secs_f64() - std::f64::consts::E).abs() < 1e-9);
    /// ```
    pub fn retry(&mut self, connector: &Connector) {
        let mut s = self.state.borrow_mut();
        if !s.continue_trying {
            tracing::info!("abandoning {connector:?} on explicit request");
            return;
        }
        s.connector = Some(connector.clone());
        s.retries += 1;
        if s.max_retries.is_some_and(|max| s.retries > max) {
            tracing::info!("abandoning {connector:?} after {} retries", s.retries);
            return;
        }
        if let Some(jitter) = s.jitter.filter(|j| *j != 0.0) {
            let mean = s.delay.as_secs_f64();
            let sample = mean + mean * jitter * standard_normal(&mut s.seed);
            s.delay = Duration::from_secs_f64(sample.max(0.0));
        }
        let retry = connector.clone();
        let call = self.clock.call_later(s.delay, move || {
            // Busy means a connection came up another way; nothing to do.
            let _ = retry.connect();
        });
        s.call = Some(call);
        let next = s.delay.as_secs_f64() * s.factor;
        s.delay = Duration::from_secs_f64(next.min(s.max_delay.as_secs_f64()));
    }
}

impl Reconnection {
    /// Call after a successful connection: the delay and the retry count start over, and
    /// trying is on again (Twisted's `resetDelay`).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new());
    /// f.reconnection().reset_delay();
    /// assert!(f.reconnection().continue_trying());
    /// ```
    #[doc(alias = "resetDelay")]
    pub fn reset_delay(&self) {
        let mut s = self.state.borrow_mut();
        s.delay = s.initial_delay;
        s.retries = 0;
        s.call = None;
        s.continue_trying = true;
    }

    /// Stops reconnecting: cancels a scheduled retry and stops the connector's attempt
    /// in progress (Twisted's `stopTrying`).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// let f = ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new());
    /// f.reconnection().stop_trying();
    /// ```
    #[doc(alias = "stopTrying")]
    pub fn stop_trying(&self) {
        let (call, connector) = {
            let mut s = self.state.borrow_mut();
            s.continue_trying = false;
            (s.call.take(), s.connector.clone())
        };
        if let Some(call) = call {
            let _ = call.cancel();
        }
        if let Some(connector) = connector {
            let _: Result<(), NotConnectingError> = connector.stop_connecting();
        }
    }

    /// Whether it still reconnects (Twisted's `continueTrying`).
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// assert!(ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new()).reconnection().continue_trying());
    /// ```
    #[doc(alias = "continueTrying")]
    pub fn continue_trying(&self) -> bool {
        self.state.borrow().continue_trying
    }

    /// The delay before the next retry.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// assert_eq!(ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new()).reconnection().delay().as_secs(), 1);
    /// ```
    pub fn delay(&self) -> std::time::Duration {
        self.state.borrow().delay
    }

    /// Consecutive retries so far.
    ///
    /// ```
    /// # use tokio_twisted::protocol::{for_protocol, Protocol, ReconnectingClientFactory};
    /// # use tokio_twisted::task::Clock;
    /// # struct Quiet;
    /// # impl Protocol for Quiet { fn data_received(&mut self, _: &[u8]) {} }
    /// assert_eq!(ReconnectingClientFactory::new(for_protocol(|| Quiet), Clock::new()).reconnection().retries(), 0);
    /// ```
    pub fn retries(&self) -> u32 {
        self.state.borrow().retries
    }
}

impl<F: Factory, C: ReactorTime> Factory for ReconnectingClientFactory<F, C> {
    type Protocol = F::Protocol;

    fn build_protocol(&mut self, addr: &Address) -> Option<F::Protocol> {
        self.inner.build_protocol(addr)
    }

    fn start_factory(&mut self) {
        do_start(&mut self.inner);
    }

    fn stop_factory(&mut self) {
        do_stop(&mut self.inner);
    }

    /// The inner factory's start and stop are logged (with its name), not the wrapper's.
    fn noisy(&self) -> bool {
        false
    }
}

impl<F: Factory, C: ReactorTime> ClientFactory for ReconnectingClientFactory<F, C> {
    fn client_connection_failed(&mut self, connector: &Connector, _reason: Failure) {
        if self.state.borrow().continue_trying {
            self.retry(connector);
        }
    }

    fn client_connection_lost(&mut self, connector: &Connector, _reason: Failure) {
        if self.state.borrow().continue_trying {
            self.retry(connector);
        }
    }
}

/// A standard normal sample (Box–Muller over xorshift64*), for the jitter; the delays
/// need spread, not cryptographic randomness.
fn standard_normal(seed: &mut u64) -> f64 {
    let mut uniform = || {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        let bits = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (bits as f64 + 0.5) / (1_u64 << 53) as f64
    };
    let (u1, u2) = (uniform(), uniform());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl<F, C> fmt::Debug for ReconnectingClientFactory<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("ReconnectingClientFactory")
            .field("delay", &s.delay)
            .field("retries", &s.retries)
            .field("continue_trying", &s.continue_trying)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Reconnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Reconnection")
            .field("delay", &s.delay)
            .field("retries", &s.retries)
            .finish_non_exhaustive()
    }
}
