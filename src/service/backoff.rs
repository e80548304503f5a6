// Tests: tests/service_net.rs, tests/conformance/test_app_internet.rs (ClientServiceTests)

//! Retry policies for [`ClientService`](super::ClientService): `backoff_policy` and its
//! jitter.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a [`ClientService`](super::ClientService) waits before its next attempt,
/// given how many attempts in a row have failed (1 for the first retry): the
/// `retryPolicy` callable of Twisted's `ClientService`.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tokio_twisted::service::RetryPolicy;
///
/// let every_second: RetryPolicy = Arc::new(|_attempt| Duration::from_secs(1));
/// assert_eq!(every_second(7), Duration::from_secs(1));
/// ```
#[doc(alias = "retryPolicy")]
pub type RetryPolicy = Arc<dyn Fn(u32) -> Duration + Send + Sync>;

/// An exponential backoff: `min(initial_delay × factor^attempt, max_delay) + jitter()`,
/// Twisted's `backoffPolicy(initialDelay, maxDelay, factor, jitter)`. The exponent is
/// capped at 100 (as Twisted caps it), so a long outage cannot overflow; `max_delay` is
/// the cap before the jitter is added.
///
/// Twisted's defaults are `backoff_policy(1 s, 60 s, 1.5, random_jitter())`, which
/// [`default_backoff_policy`] returns.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::service::{backoff_policy, no_jitter};
///
/// let policy = backoff_policy(Duration::from_secs(1), Duration::from_secs(10), 2.0, no_jitter());
/// let delays: Vec<u64> = (1..=5).map(|n| policy(n).as_secs()).collect();
/// assert_eq!(delays, [2, 4, 8, 10, 10]);
/// ```
#[doc(alias = "backoffPolicy")]
pub fn backoff_policy<J>(initial_delay: Duration, max_delay: Duration, factor: f64, jitter: J) -> RetryPolicy
where
    J: Fn() -> Duration + Send + Sync + 'static,
{
    Arc::new(move |attempt: u32| {
        let exponent = i32::try_from(attempt.min(100)).unwrap_or(100);
        let grown = initial_delay.as_secs_f64() * factor.powi(exponent);
        // A NaN or an infinity (a huge factor) waits the maximum, as Twisted's
        // OverflowError branch does.
        let delay = Duration::try_from_secs_f64(grown).map_or(max_delay, |d| d.min(max_delay));
        delay.saturating_add(jitter())
    })
}

/// Twisted's default policy: `backoff_policy(1 s, 60 s, 1.5, random_jitter())`.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::service::default_backoff_policy;
///
/// let policy = default_backoff_policy();
/// let first = policy(1);
/// assert!(first >= Duration::from_millis(1500) && first < Duration::from_millis(2500));
/// assert!(policy(50) < Duration::from_secs(61));
/// ```
pub fn default_backoff_policy() -> RetryPolicy {
    backoff_policy(
        Duration::from_secs(1),
        Duration::from_secs(60),
        1.5,
        random_jitter(),
    )
}

/// A jitter uniform in `[0, 1 s)`: Twisted's default, `random.random`. Each call draws a
/// new value from a generator seeded per process; the spread is for not retrying in step,
/// not for security.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::service::random_jitter;
///
/// let jitter = random_jitter();
/// assert!((0..100).map(|_| jitter()).all(|j| j < Duration::from_secs(1)));
/// ```
pub fn random_jitter() -> impl Fn() -> Duration + Send + Sync + 'static {
    // The standard library's per-process random hash keys make a seed without a
    // dependency; `| 1` keeps xorshift away from its all-zero fixed point.
    let seed = RandomState::new().hash_one(0x5eed_u64) | 1;
    let state = AtomicU64::new(seed);
    move || {
        let mut x = state.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.store(x, Ordering::Relaxed);
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        Duration::from_secs_f64(bits as f64 / (1_u64 << 53) as f64)
    }
}

/// No jitter: every delay is exactly the backoff's.
///
/// ```
/// use std::time::Duration;
/// use tokio_twisted::service::no_jitter;
/// assert_eq!(no_jitter()(), Duration::ZERO);
/// ```
pub fn no_jitter() -> impl Fn() -> Duration + Send + Sync + 'static {
    || Duration::ZERO
}
