//! One test body, two clocks: the ports of Twisted's `deferLater`, `LoopingCall` and
//! `Cooperator` tests run on a `task::Clock` and on `time::TokioTime` over a paused Tokio
//! runtime, which the test drives by hand the same way.
//!
//! A test written as `fn test_x<C: TestClock>(clock: &C)` is listed in [`on_every_clock!`],
//! which makes one `#[test]` of it per clock (`on_clock::test_x`, `on_tokio_time::test_x`),
//! each run under the suite's time limit.
//!
//! Tokio's timers tick in milliseconds, so the shared tests use times that are whole
//! milliseconds; [`TestClock::tick`] is one Cooperator tick on either clock.

use std::sync::Arc;
use std::time::Duration;

use tokio_twisted::task::{Clock, Cooperator};
use tokio_twisted::time::{DelayedCall, ReactorTime, TokioTime};

/// A clock a test advances by hand.
pub(crate) trait TestClock: Clone + 'static {
    /// The clock itself, as handed to `defer_later`, `LoopingCall` and `Cooperator`.
    type Time: ReactorTime + Clone;

    fn time(&self) -> Self::Time;

    /// Moves time forward by `by` and runs every call that is then due, including those
    /// the calls schedule for a time already reached (as Twisted's `Clock.advance` does).
    fn advance(&self, by: Duration);

    /// The smallest advance that runs a Cooperator's scheduled tick but not the next one.
    fn tick(&self);

    fn pump(&self, steps: impl IntoIterator<Item = Duration>) {
        for step in steps {
            self.advance(step);
        }
    }

    fn call_later(&self, delay: Duration, f: impl FnOnce() + Send + 'static) -> DelayedCall {
        self.time().call_later(delay, f)
    }

    fn pending_calls(&self) -> Vec<DelayedCall>;
}

impl TestClock for Clock {
    type Time = Clock;

    fn time(&self) -> Clock {
        self.clone()
    }

    fn advance(&self, by: Duration) {
        Clock::advance(self, by);
    }

    fn tick(&self) {
        Clock::advance(self, Cooperator::TICK_DELAY);
    }

    fn pending_calls(&self) -> Vec<DelayedCall> {
        Clock::pending_calls(self)
    }
}

/// `TokioTime` on a current-thread runtime whose time is paused: advancing moves Tokio's
/// clock and runs the runtime until no call is due.
#[derive(Clone)]
pub(crate) struct PausedTokio {
    time: TokioTime,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl PausedTokio {
    pub(crate) fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let time = TokioTime::on(runtime.handle()).unwrap();
        PausedTokio {
            time,
            runtime: Arc::new(runtime),
        }
    }
}

/// Lets the clock's task run until no call is due; fails if due calls never run (a lost
/// wake-up, or a time between Tokio's millisecond ticks).
async fn settle(time: &TokioTime) {
    for _ in 0..10_000 {
        tokio::task::yield_now().await;
        let now = time.now();
        if time.pending_calls().iter().all(|call| call.time() > now) {
            return;
        }
    }
    panic!(
        "calls due by {:?} never ran: {:?}",
        time.now(),
        time.pending_calls()
    );
}

impl TestClock for PausedTokio {
    type Time = TokioTime;

    fn time(&self) -> TokioTime {
        self.time.clone()
    }

    fn advance(&self, by: Duration) {
        let time = self.time.clone();
        self.runtime.block_on(async move {
            tokio::time::advance(by).await;
            settle(&time).await;
        });
    }

    fn tick(&self) {
        // A tick scheduled `TICK_DELAY` after a whole millisecond comes due at the next one.
        self.advance(Duration::from_millis(1));
    }

    fn pending_calls(&self) -> Vec<DelayedCall> {
        self.time.pending_calls()
    }
}

/// Makes a `#[test]` per clock of each listed generic test body.
macro_rules! on_every_clock {
    ($($name:ident),+ $(,)?) => {
        /// The tests above, on `task::Clock`.
        mod on_clock {
            $(
                #[test]
                fn $name() {
                    super::$name(&tokio_twisted::task::Clock::new());
                }
            )+
        }

        /// The tests above, on `time::TokioTime` over paused Tokio time.
        mod on_tokio_time {
            $(
                #[test]
                fn $name() {
                    crate::common::bounded(stringify!($name), || {
                        super::$name(&crate::clocks::PausedTokio::new());
                    });
                }
            )+
        }
    };
}
