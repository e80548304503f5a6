// Tests: tests/testing.rs

//! Capturing what the library logs, for `flushLoggedErrors`-style assertions.

use crate::failure::Failure;

/// Captures, on the current thread, the failures the library would otherwise report
/// (unhandled errors in Deferreds, failing timed calls and triggers) through `tracing` or,
/// with no subscriber installed, on standard error; like trial's `flushLoggedErrors`.
///
/// Captures nest; reports made on other threads are not captured. If a capture is dropped
/// with failures nobody flushed, it panics, failing the test, as trial fails a test that
/// logged errors it did not flush.
///
/// ```
/// use tokio_twisted::defer::fail;
/// use tokio_twisted::failure::{Failure, MessageError};
/// use tokio_twisted::testing::LoggedErrors;
///
/// let logged = LoggedErrors::capture();
/// drop(fail::<i32>(Failure::msg("nobody handled me")));
/// let flushed = logged.flush::<MessageError>();
/// assert_eq!(flushed.len(), 1);
/// assert_eq!(flushed[0].error_message(), "nobody handled me");
/// ```
#[doc(alias = "flushLoggedErrors")]
#[derive(Debug)]
#[must_use = "dropping the capture ends it"]
pub struct LoggedErrors {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl LoggedErrors {
    /// Starts capturing on this thread.
    ///
    /// ```
    /// let logged = tokio_twisted::testing::LoggedErrors::capture();
    /// assert!(logged.is_empty());
    /// ```
    pub fn capture() -> Self {
        crate::log::push_capture();
        LoggedErrors {
            _not_send: std::marker::PhantomData,
        }
    }

    /// Removes and returns the captured failures holding an `E`.
    ///
    /// ```
    /// # use tokio_twisted::{defer::fail, failure::{Failure, MessageError}, testing::LoggedErrors};
    /// let logged = LoggedErrors::capture();
    /// drop(fail::<()>(Failure::msg("x")));
    /// assert_eq!(logged.flush::<std::fmt::Error>().len(), 0);
    /// assert_eq!(logged.flush::<MessageError>().len(), 1);
    /// ```
    #[doc(alias = "flushLoggedErrors")]
    pub fn flush<E: std::error::Error + 'static>(&self) -> Vec<Failure> {
        crate::log::with_captured(|list| {
            let (matched, rest): (Vec<Failure>, Vec<Failure>) = list.drain(..).partition(Failure::check::<E>);
            *list = rest;
            matched
        })
        .unwrap_or_default()
    }

    /// Removes and returns every captured failure.
    ///
    /// ```
    /// # use tokio_twisted::{defer::fail, failure::Failure, testing::LoggedErrors};
    /// let logged = LoggedErrors::capture();
    /// drop(fail::<()>(Failure::msg("x")));
    /// assert_eq!(logged.flush_all().len(), 1);
    /// ```
    #[doc(alias = "flushLoggedErrors")]
    pub fn flush_all(&self) -> Vec<Failure> {
        crate::log::with_captured(std::mem::take).unwrap_or_default()
    }

    /// Whether nothing is captured and unflushed.
    ///
    /// ```
    /// # use tokio_twisted::testing::LoggedErrors;
    /// assert!(LoggedErrors::capture().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        crate::log::with_captured(|l| l.is_empty()).unwrap_or(true)
    }
}

impl Drop for LoggedErrors {
    fn drop(&mut self) {
        let left = crate::log::pop_capture();
        assert!(
            left.is_empty() || std::thread::panicking(),
            "{} logged error(s) were not flushed: {left:?}",
            left.len()
        );
    }
}
