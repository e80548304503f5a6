//! The networking from a plain multi-threaded Tokio application: `call_in_reactor` (run on
//! the reactor thread, awaited here, cancelled the Tokio way, refused after shutdown),
//! `WhenLost` over a real connection, the auto traits the handles promise, and the
//! `tokio_net` example driven end to end.

mod common;

#[path = "../examples/tokio_net.rs"]
#[allow(dead_code, reason = "the example's main is not called here")]
mod tokio_net;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_twisted::defer::{CancelledError, Deferred};
use tokio_twisted::endpoints::{StreamClientEndpoint, Tcp4ClientEndpoint, connect_protocol};
use tokio_twisted::error::{ConnectingCancelledError, ConnectionLost};
use tokio_twisted::failure::{Failure, PanicError};
use tokio_twisted::protocol::{Connector, ListeningPort, Protocol, Transport, WhenLost, for_protocol};
use tokio_twisted::reactor::{Reactor, ReactorNotRunning};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn network_handles_cross_threads() {
    assert_send_sync::<Transport>();
    assert_send_sync::<ListeningPort>();
    assert_send_sync::<Connector>();
    assert_send_sync::<Deferred<Transport>>();
    assert_send::<WhenLost<Quiet>>();
}

struct Quiet;
impl Protocol for Quiet {
    fn data_received(&mut self, _: &[u8]) {}
}

/// Writes one line and hangs up, or aborts when asked to.
struct Greeter {
    abort: bool,
}
impl Protocol for Greeter {
    fn connection_made(&mut self, t: Transport) {
        t.write(b"hi\r\n");
        if self.abort {
            t.abort_connection();
        } else {
            t.lose_connection();
        }
    }
    fn data_received(&mut self, _: &[u8]) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_in_reactor_runs_on_the_reactor_thread_and_passes_results_back() {
    let _limit = common::time_limit();
    let mut background = Reactor::spawn_background().unwrap();
    let reactor = background.handle();
    let on_thread = reactor
        .call_in_reactor(|r| Ok::<_, Failure>(r.is_reactor_thread()))
        .await
        .unwrap();
    assert!(on_thread, "the function runs on the reactor thread");
    let failed = reactor
        .call_in_reactor(|_| Err::<(), _>(Failure::msg("no spam")))
        .await
        .unwrap_err();
    assert_eq!(failed.error_message(), "no spam");
    let panicked = reactor
        .call_in_reactor(|_| -> Result<(), Failure> { panic!("boom") })
        .await
        .unwrap_err();
    assert!(panicked.check::<PanicError>(), "a panic becomes the failure");
    // A Deferred the function returns is awaited through.
    let later = reactor
        .call_in_reactor(|r| {
            let (d, resolver) = Deferred::new();
            r.call_later(Duration::from_millis(1), move || {
                let _ = resolver.callback(7);
            });
            d
        })
        .await
        .unwrap();
    assert_eq!(later, 7);
    background.stop().unwrap();
    background.join().await.unwrap();
    let refused = reactor
        .call_in_reactor(|_| Ok::<_, Failure>(()))
        .await
        .unwrap_err();
    assert!(
        refused.check::<ReactorNotRunning>(),
        "after shutdown: {refused:?}"
    );
}

#[test]
fn call_in_reactor_cancelled_before_it_runs_never_runs() {
    let _limit = common::time_limit();
    // Built but not running: queued calls wait for run().
    let reactor = Reactor::builder().without_signal_handlers().build().unwrap();
    let handle = reactor.handle();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    let d = std::thread::spawn(move || {
        handle.call_in_reactor(move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok::<_, Failure>(())
        })
    })
    .join()
    .unwrap();
    d.cancel();
    assert!(tokio_twisted::testing::failure_result_of(d).check::<CancelledError>());
    let stopper = reactor.handle();
    reactor.call_from_thread(move || stopper.stop()).unwrap();
    reactor.run().unwrap();
    assert!(!ran.load(Ordering::SeqCst), "a cancelled call is skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_in_reactor_cancels_the_deferred_it_waits_on_and_shutdown_releases_it() {
    let _limit = common::time_limit();
    let mut background = Reactor::spawn_background().unwrap();
    let reactor = background.handle();
    // Cancelling the outer Deferred cancels the inner one, whose failure comes through.
    let inner_cancelled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&inner_cancelled);
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let outer = reactor.call_in_reactor(move |_| {
        let (d, _resolver) = Deferred::<()>::with_canceller(move |r| {
            flag.store(true, Ordering::SeqCst);
            let _ = r.errback(Failure::msg("stopped by its canceller"));
        });
        let _ = started_tx.send(());
        d
    });
    started.await.unwrap();
    // Let the reactor finish the call that started the Deferred.
    reactor.call_in_reactor(|_| Ok::<_, Failure>(())).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(20), outer.cancel_on_drop()).await;
    assert!(waited.is_err(), "the timeout dropped the wait");
    assert!(
        inner_cancelled.load(Ordering::SeqCst),
        "cancel reached the inner Deferred"
    );

    // A Deferred still waiting when the reactor shuts down fails with ReactorNotRunning.
    let pending = reactor.call_in_reactor(|_| Deferred::<()>::new().0);
    reactor.call_in_reactor(|_| Ok::<_, Failure>(())).await.unwrap();
    background.stop().unwrap();
    let released = pending.await.unwrap_err();
    assert!(released.check::<ReactorNotRunning>(), "{released:?}");
    background.join().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_endpoint_connect_from_tokio_stops_the_attempt() {
    let _limit = common::time_limit();
    let mut background = Reactor::spawn_background().unwrap();
    let reactor = background.handle();
    // A name whose lookup never answers: the attempt waits until it is cancelled.
    let endpoint =
        Tcp4ClientEndpoint::new(&reactor, "never.invalid", 7).with_resolver(|_, _| Deferred::new().0);
    let connecting = reactor.call_in_reactor(move |_| endpoint.connect(for_protocol(|| Quiet)));
    // Calls run in order: once this one has, the connect above has started.
    reactor.call_in_reactor(|_| Ok::<_, Failure>(())).await.unwrap();
    connecting.cancel();
    let reason = connecting.await.unwrap_err();
    assert!(reason.check::<ConnectingCancelledError>(), "{reason:?}");
    background.stop().unwrap();
    background.join().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_lost_fires_ok_on_a_clean_close_and_fails_on_an_abort() {
    let _limit = common::time_limit();
    let mut background = Reactor::spawn_background().unwrap();
    let reactor = background.handle();
    for abort in [false, true] {
        let port = reactor
            .call_in_reactor(move |r| {
                r.listen_tcp_with(
                    0,
                    for_protocol(move || Greeter { abort }),
                    tokio_twisted::protocol::TcpListenOptions::new().interface([127, 0, 0, 1].into()),
                )
                .map_err(Failure::new)
            })
            .await
            .unwrap();
        let (client, lost) = WhenLost::new(Quiet);
        let endpoint = Tcp4ClientEndpoint::new(&reactor, "127.0.0.1", port.port());
        reactor
            .call_in_reactor(move |_| connect_protocol(&endpoint, client))
            .await
            .unwrap();
        let ended = lost.await;
        if abort {
            let reason = ended.unwrap_err();
            assert!(
                reason.check::<ConnectionLost>(),
                "the peer's abort is a reset: {reason:?}"
            );
        } else {
            ended.unwrap();
        }
        port.stop_listening().await.unwrap();
    }
    background.stop().unwrap();
    background.join().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tokio_net_example_prints_its_conversation() {
    let _limit = common::time_limit();
    let mut lines = Vec::new();
    tokio_net::converse(&mut |line| lines.push(line)).await.unwrap();
    let expected = include_str!("../.ci/expected/tokio_net.txt");
    assert_eq!(lines.join("\n") + "\n", expected);
}
