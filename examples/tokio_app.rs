//! Twisted-style code inside an ordinary multi-threaded Tokio application, two ways.
//!
//! First, with no reactor at all: `time::TokioTime` is a clock on the runtime the app
//! already runs, so `defer_later`, a `LoopingCall` and Deferred timeouts work right here, and
//! their Deferreds are awaited like any future. (Under `#[tokio::test(start_paused = true)]`
//! the same code runs in paused time, deterministically.)
//!
//! Second, with a reactor on a background thread; the application talks to it through a
//! `Send + Sync` handle: it schedules timed calls with `call_later`, gathers Deferreds with a
//! `DeferredList`, awaits Deferreds from `tokio::spawn`ed tasks, hands blocking work to the
//! reactor's thread pool, runs async code on the reactor with `spawn`, runs a `LoopingCall`
//! on the reactor, and stops the reactor gracefully at the end, awaiting its thread with
//! `join().await`. It finishes in a few tens of milliseconds.
//!
//! Run it with `cargo run --example tokio_app`.

use std::time::{Duration, Instant};

use tokio_twisted::defer::{Deferred, DeferredList};
use tokio_twisted::failure::Failure;
use tokio_twisted::reactor::{Event, Phase, Reactor, ReactorTime};
use tokio_twisted::task::{LoopingCall, defer_later};
use tokio_twisted::threads::defer_to_thread;
use tokio_twisted::time::TokioTime;

/// A "request" answered after `delay` on any clock: Twisted's `deferLater`, by hand.
fn answer_later(reactor: &impl ReactorTime, delay: Duration, answer: u64) -> Deferred<u64> {
    let (d, resolver) = Deferred::new();
    reactor.call_later(delay, move || {
        let _ = resolver.callback(answer);
    });
    d
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let started = Instant::now();

    // 1. On the host runtime, with no reactor: a clock on this Tokio runtime.
    let time = TokioTime::new()?;
    let greeting = defer_later(&time, Duration::from_millis(5), || Ok("hello from defer_later"))
        .add_callback(|s| Ok(s.to_uppercase()));
    println!("{}", greeting.await?);
    let mut beats = 0;
    let heartbeat = LoopingCall::with_handle(time.clone(), move |lc: &LoopingCall| {
        beats += 1;
        println!("  heartbeat {beats}");
        if beats == 3 {
            lc.stop()?;
        }
        Ok::<_, Failure>(())
    });
    heartbeat.start(Duration::from_millis(5))?.await?;
    // The same generic code as on the reactor below, with a timeout on the same clock.
    let answer = answer_later(&time, Duration::from_millis(5), 7).add_timeout(Duration::from_secs(5), &time);
    println!("answer on the host runtime: {}", answer.await?);

    // 2. A reactor on a background thread.
    let mut background = Reactor::spawn_background()?;
    let reactor = background.handle();
    assert!(!reactor.is_reactor_thread());
    println!("reactor started on its own thread");

    // Timed calls scheduled from the Tokio side, gathered in a DeferredList. Callbacks run on
    // the reactor thread when the timers fire.
    let jobs: Vec<Deferred<u64>> = (1..=5u64)
        .map(|i| {
            answer_later(&reactor, Duration::from_millis(10 * (6 - i)), i).add_callback(move |n| {
                println!("  job {i} done");
                Ok(n * n)
            })
        })
        .collect();
    let squares = DeferredList::new(jobs).gather();

    // Deferreds are Futures: await them from ordinary Tokio tasks, on any worker thread.
    let waiter = tokio::spawn(squares);
    let single = tokio::spawn(answer_later(&reactor, Duration::from_millis(5), 42));
    println!("single answer: {}", single.await??);
    let squares = waiter.await??;
    println!("squares (in job order, not firing order): {squares:?}");
    assert_eq!(squares, [1, 4, 9, 16, 25]);

    // Blocking work goes to the reactor's thread pool; the Deferred fires on the reactor
    // thread, and this task awaits it.
    let on_reactor = reactor.clone();
    let checksum = defer_to_thread(&reactor, || Ok((1..=1_000u64).sum::<u64>())).add_callback(move |sum| {
        assert!(on_reactor.is_reactor_thread());
        Ok::<_, Failure>(sum)
    });
    println!(
        "sum computed in a pool thread: {}",
        tokio::spawn(checksum).await??
    );

    // Async code spawned onto the reactor from this Tokio task: it runs on the reactor
    // thread, and its handle is awaited here.
    let on_reactor = reactor.clone();
    let task = reactor.spawn(async move {
        tokio::time::sleep(Duration::from_millis(2)).await;
        on_reactor.is_reactor_thread()
    })?;
    println!("task ran on the reactor thread: {}", task.await?);

    // A LoopingCall on the reactor: every 5 ms, stopping itself after three calls. With
    // `start_later` the first call comes one interval from now, so every call runs on the
    // reactor thread (`start` would make the first call right here, on this Tokio thread).
    let on_reactor = reactor.clone();
    let mut calls = 0;
    let ticker = LoopingCall::with_handle(reactor.clone(), move |lc: &LoopingCall| {
        assert!(on_reactor.is_reactor_thread());
        calls += 1;
        println!("  tick {calls}");
        if calls == 3 {
            lc.stop()?; // takes effect when this call returns
        }
        Ok::<_, Failure>(())
    });
    let stopped = ticker.start_later(Duration::from_millis(5))?;
    let ticker = tokio::spawn(stopped).await??;
    println!(
        "looping call stopped after three calls (running: {})",
        ticker.running()
    );

    // Graceful shutdown: a before-shutdown trigger may return a Deferred, and the reactor
    // keeps running its timers until it fires.
    let flusher = reactor.clone();
    reactor
        .add_system_event_trigger(Phase::Before, Event::Shutdown, move || {
            println!("shutting down: flushing for 5 ms");
            answer_later(&flusher, Duration::from_millis(5), 0)
        })
        .unwrap();
    reactor
        .add_system_event_trigger(Phase::After, Event::Shutdown, || println!("reactor stopped"))
        .unwrap();
    background.stop()?;
    // Waits for the reactor thread without blocking this runtime.
    background.join().await?;
    println!("done in {} ms", started.elapsed().as_millis());
    Ok(())
}
