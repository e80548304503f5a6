//! Conformance with Twisted's `twisted/test/test_factories.py`: `ReconnectingClientFactory`.
//!
//! Not ported (3 of 7):
//! - `ReconnectingFactoryTests.test_serializeUnused`, `test_serializeWithClock`,
//!   `test_deserializationResetsParameters`: pickling a factory; Rust factories are not
//!   serialized.

#![allow(clippy::doc_markdown)] // the `twisted:` lines name Twisted tests verbatim

use std::time::Duration;

use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{
    Address, ClientFactory, Connector, ConnectorState, Factory, Protocol, ReconnectingClientFactory,
    for_protocol,
};
use tokio_twisted::task::Clock;

struct Quiet;

impl Protocol for Quiet {
    fn data_received(&mut self, _: &[u8]) {}
}

fn connector() -> Connector {
    Connector::detached(Address::Tcp("127.0.0.1:1".parse().unwrap()))
}

/// twisted: ReconnectingFactoryTests.test_stopTryingWhenConnected
/// After `stop_trying` while connected, losing the connection schedules no retry.
#[test]
fn test_stop_trying_when_connected() {
    let clock = Clock::new();
    let mut f = ReconnectingClientFactory::new(for_protocol(|| Quiet), clock.clone());
    // Pretend we connected.
    assert!(f.build_protocol(&Address::Unix(None)).is_some());
    f.reconnection().stop_trying();
    let c = connector();
    f.client_connection_lost(&c, Failure::msg("lost"));
    assert!(!f.reconnection().continue_trying());
    assert!(clock.pending_calls().is_empty());
    assert_eq!(c.state(), ConnectorState::Disconnected);
}

/// twisted: ReconnectingFactoryTests.test_stopTryingDoesNotReconnect
/// `stop_trying` cancels a scheduled retry, so the connector is never asked to connect.
#[test]
fn test_stop_trying_does_not_reconnect() {
    let clock = Clock::new();
    let mut f = ReconnectingClientFactory::new(for_protocol(|| Quiet), clock.clone());
    let c = connector();
    f.client_connection_failed(&c, Failure::msg("refused"));
    assert_eq!(clock.pending_calls().len(), 1);
    f.reconnection().stop_trying();
    assert!(clock.pending_calls().is_empty());
    clock.advance(Duration::from_secs(3600));
    assert_eq!(c.state(), ConnectorState::Disconnected);
}

/// twisted: ReconnectingFactoryTests.test_parametrizedClock
/// Retries are scheduled on the clock the factory was given.
#[test]
fn test_parametrized_clock() {
    let clock = Clock::new();
    let mut f = ReconnectingClientFactory::new(for_protocol(|| Quiet), clock.clone());
    f.client_connection_lost(&connector(), Failure::msg("lost"));
    assert_eq!(clock.pending_calls().len(), 1);
}

/// twisted: ReconnectingFactoryTests.test_initialDelay
/// The first retry waits exactly `initial_delay` (Twisted 26.10's order: wait, then
/// grow the delay).
#[test]
fn test_initial_delay() {
    let clock = Clock::new();
    let mut f = ReconnectingClientFactory::new(for_protocol(|| Quiet), clock.clone()).jitter(None);
    let c = connector();
    f.client_connection_failed(&c, Failure::msg("refused"));
    let calls = clock.pending_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].time(), Duration::from_secs(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(c.state(), ConnectorState::Connecting);
    // Later delays grow by e, up to max_delay: 1, e, e², ...
    c.stop_connecting().unwrap();
    f.client_connection_failed(&c, Failure::msg("refused"));
    let second = clock.pending_calls()[0]
        .time()
        .checked_sub(Duration::from_secs(1))
        .unwrap();
    assert!((second.as_secs_f64() - std::f64::consts::E).abs() < 1e-6);
}
