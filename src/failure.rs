// Tests: tests/failure.rs, tests/anyhow.rs, tests/conformance/test_failure.rs,
// tests/unhandled_stderr.rs

//! [`Failure`]: the one type-erased error that travels down a Deferred's errback chain.
//!
//! A `Failure` is Twisted's `twisted.python.failure.Failure` in Rust clothes, built the way
//! `anyhow::Error` is: any `Error + Send + Sync + 'static` (and a message, a boxed error or an
//! `anyhow::Error`) converts into it, so `?` works inside callbacks (with the `anyhow`
//! feature, `?` also turns a Failure into an `anyhow::Error`). It can be asked what it holds
//! with [`check`](Failure::check), [`trap`](Failure::trap),
//! [`downcast_ref`](Failure::downcast_ref) and [`downcast`](Failure::downcast).
//!
//! It is cheap: creating one allocates once and captures a backtrace only when
//! `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) asks for one (Twisted #5011). Cloning is a
//! reference-count increment, because a Failure, like Twisted's, is a shared record: a
//! `DeferredList` keeps the Failure it reports while the input Deferred keeps it too.
//!
//! A Failure that reaches the end of a Deferred's chain with nobody handling it is reported
//! once, when the Deferred is dropped: through `tracing` when a subscriber is installed,
//! otherwise on standard error as "Unhandled error in Deferred:" followed by its
//! [`traceback`](Failure::traceback) (the message, each `caused by:`, and the backtrace when
//! `RUST_BACKTRACE` asks), so that it is never lost because logging was not set up. Tests
//! capture such reports with [`LoggedErrors`](crate::testing::LoggedErrors).
//!
//! ```
//! use tokio_twisted::defer::fail;
//! use tokio_twisted::failure::Failure;
//!
//! // With a subscriber, the report is a `tracing` error event (this one discards it);
//! // without one, the same drop would print the report on stderr.
//! let subscriber = tracing_subscriber::fmt().with_writer(std::io::sink).finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     drop(fail::<()>(Failure::msg("nobody handled me")));
//! });
//! ```
//!
//! Two error types of its own mark where a Failure came from: [`PanicError`] (a callback
//! panicked, as a raised exception becomes a Failure in Twisted) and [`MessageError`]
//! ([`Failure::msg`], a bare message).
//!
//! ```
//! use tokio_twisted::defer::succeed;
//! use tokio_twisted::failure::{Failure, PanicError};
//!
//! let f = Failure::from(std::io::Error::other("disk on fire"));
//! assert!(f.check::<std::io::Error>());
//! assert_eq!(f.error_message(), "disk on fire");
//!
//! // `?` turns any error into a Failure; a panic becomes a PanicError.
//! let parsed = succeed("12").add_callback(|s| Ok::<_, Failure>(s.parse::<u8>()?));
//! assert_eq!(parsed.result().unwrap().unwrap(), 12);
//! let failed = succeed("x").add_callback(|s| Ok::<_, Failure>(s.parse::<u8>()?));
//! assert!(failed.result().unwrap().unwrap_err().check::<std::num::ParseIntError>());
//! # tokio_twisted::testing::failure_result_of(failed);
//! let panicked = succeed(0_u8).add_callback(|_| -> Result<u8, Failure> { panic!("bug") });
//! assert!(tokio_twisted::testing::failure_result_of(panicked).check::<PanicError>());
//! ```

use std::any::{Any, type_name};
use std::backtrace::{Backtrace, BacktraceStatus};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A type-erased, cheaply cloned error: the value that flows down an errback chain.
///
/// Build one from any error with `From`/`?`, from a message with [`Failure::msg`], or from a
/// caught panic with [`Failure::from_panic`]. Callbacks that panic produce a Failure holding
/// a [`PanicError`], exactly as a raised exception becomes a Failure in Twisted.
///
/// `Failure` deliberately does not implement [`std::error::Error`] (as `anyhow::Error` does
/// not): that keeps the blanket `From` conversion from every error coherent. Use
/// [`Failure::as_error`] or [`Failure::into_boxed`] where a `dyn Error` is needed.
///
/// ```
/// use tokio_twisted::failure::Failure;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("no such user: {0}")]
/// struct NoSuchUser(String);
///
/// let f: Failure = NoSuchUser("moshez".into()).into();
/// // Twisted's `f.trap(NoSuchUser)`: returns the error, or passes the Failure on via `?`.
/// fn handle(f: &Failure) -> Result<String, Failure> {
///     let e = f.trap::<NoSuchUser>()?;
///     Ok(format!("sorry, {}", e.0))
/// }
/// assert_eq!(handle(&f).unwrap(), "sorry, moshez");
/// assert!(handle(&Failure::msg("other")).is_err());
/// ```
#[doc(alias = "twisted.python.failure.Failure")]
#[derive(Clone)]
pub struct Failure {
    inner: Arc<Inner>,
}

struct Inner {
    error: Box<dyn StdError + Send + Sync + 'static>,
    type_name: &'static str,
    backtrace: Option<Backtrace>,
}

/// The error held by a [`Failure`] made from a panic inside a callback.
///
/// ```
/// use tokio_twisted::failure::{Failure, PanicError};
///
/// let caught = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
/// let f = Failure::from_panic(caught);
/// assert!(f.is_panic());
/// assert_eq!(f.downcast_ref::<PanicError>().unwrap().message(), "boom");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicError {
    message: String,
}

impl PanicError {
    /// The panic's message, or `"Box<dyn Any>"` when the payload was not a string.
    ///
    /// ```
    /// # use tokio_twisted::failure::{Failure, PanicError};
    /// let f = Failure::from_panic(Box::new(7_u8));
    /// assert_eq!(f.downcast_ref::<PanicError>().unwrap().message(), "Box<dyn Any>");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panicked: {}", self.message)
    }
}

impl StdError for PanicError {}

/// The error held by [`Failure::msg`]: a plain message, like Twisted's `errback("text")`.
///
/// ```
/// # use tokio_twisted::failure::{Failure, MessageError};
/// assert!(Failure::msg("nope").check::<MessageError>());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError(pub String);

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for MessageError {}

impl Failure {
    /// Wraps an error.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::new(std::fmt::Error);
    /// assert!(f.check::<std::fmt::Error>());
    /// ```
    pub fn new<E>(error: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        Self::from_parts(Box::new(error), type_name::<E>())
    }

    /// A Failure carrying only a message ([`MessageError`]).
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert_eq!(Failure::msg("bad input").to_string(), "bad input");
    /// ```
    pub fn msg(message: impl Into<String>) -> Self {
        Self::new(MessageError(message.into()))
    }

    /// Wraps an already boxed error, keeping its dynamic type visible to
    /// [`check`](Self::check) and [`downcast_ref`](Self::downcast_ref).
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(std::fmt::Error);
    /// assert!(Failure::from_boxed(boxed).check::<std::fmt::Error>());
    /// ```
    pub fn from_boxed(error: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        // A Failure boxed by `into_boxed` comes back as itself rather than as an opaque
        // wrapper that `check` and `downcast_ref` could not see through (Twisted's
        // `Failure(aFailure)`). Test: tests/failure.rs, boxed_round_trip.
        match error.downcast::<FailureError>() {
            Ok(wrapped) => wrapped.0,
            Err(error) => Self::from_parts(error, "dyn Error"),
        }
    }

    /// Turns a panic payload (from [`std::panic::catch_unwind`]) into a Failure holding a
    /// [`PanicError`] with the panic's message.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::from_panic(Box::new(String::from("oops")));
    /// assert_eq!(f.error_message(), "panicked: oops");
    /// ```
    #[allow(
        clippy::needless_pass_by_value,
        reason = "takes the payload as `catch_unwind` returns it"
    )]
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        Self::new(PanicError { message })
    }

    fn from_parts(error: Box<dyn StdError + Send + Sync + 'static>, type_name: &'static str) -> Self {
        // `Backtrace::capture` reads the environment once and is a cheap no-op afterwards
        // when backtraces are off, so the hot path never walks the stack.
        let bt = Backtrace::capture();
        let backtrace = (bt.status() == BacktraceStatus::Captured).then_some(bt);
        Failure {
            inner: Arc::new(Inner {
                error,
                type_name,
                backtrace,
            }),
        }
    }

    /// Twisted's `check`: whether the wrapped error is an `E`.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::new(std::fmt::Error);
    /// assert!(f.check::<std::fmt::Error>());
    /// assert!(!f.check::<std::io::Error>());
    /// ```
    pub fn check<E: StdError + 'static>(&self) -> bool {
        self.inner.error.is::<E>()
    }

    /// Twisted's `trap`: the wrapped `E`, or this Failure back as the error so that `?`
    /// passes it on down the errback chain.
    ///
    /// # Errors
    ///
    /// Returns a clone of this Failure when it does not hold an `E`.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::new(std::fmt::Error);
    /// assert!(f.trap::<std::fmt::Error>().is_ok());
    /// assert!(f.trap::<std::io::Error>().is_err());
    /// ```
    pub fn trap<E: StdError + 'static>(&self) -> Result<&E, Failure> {
        self.inner.error.downcast_ref::<E>().ok_or_else(|| self.clone())
    }

    /// A reference to the wrapped error if it is an `E`.
    ///
    /// ```
    /// # use tokio_twisted::failure::{Failure, MessageError};
    /// let f = Failure::msg("x");
    /// assert_eq!(f.downcast_ref::<MessageError>().unwrap().0, "x");
    /// ```
    #[doc(alias = "value")]
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.inner.error.downcast_ref::<E>()
    }

    /// Takes the wrapped error out if it is an `E` and this is the only handle to it.
    ///
    /// # Errors
    ///
    /// Gives the Failure back unchanged when it holds another type or is shared.
    ///
    /// ```
    /// # use tokio_twisted::failure::{Failure, MessageError};
    /// let e: MessageError = Failure::msg("x").downcast().unwrap();
    /// assert_eq!(e.0, "x");
    /// ```
    pub fn downcast<E: StdError + 'static>(self) -> Result<E, Failure> {
        if !self.check::<E>() {
            return Err(self);
        }
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => match inner.error.downcast::<E>() {
                Ok(e) => Ok(*e),
                Err(error) => Err(Failure {
                    inner: Arc::new(Inner {
                        error,
                        type_name: inner.type_name,
                        backtrace: inner.backtrace,
                    }),
                }),
            },
            Err(inner) => Err(Failure { inner }),
        }
    }

    /// Whether this Failure came from a panic inside a callback.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert!(!Failure::msg("x").is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        self.check::<PanicError>()
    }

    /// Twisted's `getErrorMessage`: the error's `Display` text.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert_eq!(Failure::msg("x").error_message(), "x");
    /// ```
    #[doc(alias = "getErrorMessage")]
    pub fn error_message(&self) -> String {
        // Like Twisted's `safe_str`: an error whose `Display` fails must not turn reporting
        // it into a panic. Test: tests/failure.rs, broken_display_is_survivable.
        let mut message = String::new();
        if fmt::write(&mut message, format_args!("{}", self.inner.error)).is_err() {
            return format!("<{} with a failing Display>", self.inner.type_name);
        }
        message
    }

    /// The name of the wrapped error's type, as far as it was known statically
    /// (`"dyn Error"` for [`from_boxed`](Self::from_boxed)).
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert!(Failure::new(std::fmt::Error).type_name().ends_with("Error"));
    /// ```
    #[doc(alias = "type")]
    pub fn type_name(&self) -> &'static str {
        self.inner.type_name
    }

    /// The wrapped error as a trait object.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::msg("x");
    /// assert_eq!(f.as_error().to_string(), "x");
    /// ```
    pub fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner.error
    }

    /// The wrapped error's own `source()`.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert!(Failure::msg("x").source().is_none());
    /// ```
    pub fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.error.source()
    }

    /// The wrapped error followed by every `source()` below it.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert_eq!(Failure::msg("x").chain().count(), 1);
    /// ```
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        let first: &(dyn StdError + 'static) = &*self.inner.error;
        std::iter::successors(Some(first), |e: &&(dyn StdError + 'static)| (*e).source())
    }

    /// The backtrace taken when the Failure was created, if `RUST_BACKTRACE` or
    /// `RUST_LIB_BACKTRACE` asked for one.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::msg("x");
    /// match f.backtrace() {
    ///     Some(bt) => assert!(f.traceback().contains(&bt.to_string())),
    ///     None => assert_eq!(f.traceback(), "Failure tokio_twisted::failure::MessageError: x"),
    /// }
    /// ```
    #[doc(alias = "getTracebackObject")]
    pub fn backtrace(&self) -> Option<&Backtrace> {
        self.inner.backtrace.as_ref()
    }

    /// Twisted's `getTraceback`: the message, its sources, and the backtrace when present.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// assert!(Failure::msg("x").traceback().contains("x"));
    /// ```
    #[doc(alias = "getTraceback")]
    #[doc(alias = "printTraceback")]
    pub fn traceback(&self) -> String {
        format!("{self:?}")
    }

    /// Whether two handles share one underlying Failure (Twisted's identity `is`).
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let f = Failure::msg("x");
    /// assert!(f.ptr_eq(&f.clone()));
    /// assert!(!f.ptr_eq(&Failure::msg("x")));
    /// ```
    pub fn ptr_eq(&self, other: &Failure) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Boxes the wrapped error back up, for APIs that take `Box<dyn Error>`.
    ///
    /// ```
    /// # use tokio_twisted::failure::Failure;
    /// let boxed = Failure::msg("x").into_boxed();
    /// assert_eq!(boxed.to_string(), "x");
    /// ```
    pub fn into_boxed(self) -> Box<dyn StdError + Send + Sync + 'static> {
        Box::new(FailureError(self))
    }
}

/// Adapter that lets a Failure stand where a `dyn Error` is required.
#[derive(Debug)]
struct FailureError(Failure);

impl fmt::Display for FailureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for FailureError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// Any error converts into a Failure, so `?` works in callbacks: every
/// `Error + Send + Sync + 'static` type, and everything else that converts into a
/// `Box<dyn Error + Send + Sync>` (a `String` or `&str` message, an already boxed error, and
/// `anyhow::Error` without any feature of this crate).
///
/// The error keeps its own type for [`check`](Failure::check) and
/// [`downcast_ref`](Failure::downcast_ref). With this crate's `anyhow` feature, so does the
/// error inside an `anyhow::Error`: one made from an `io::Error` gives a Failure for which
/// `check::<io::Error>()` is true (an error with `anyhow` context added keeps the original
/// in [`chain`](Failure::chain) instead); without the feature, an `anyhow::Error` keeps its
/// message and causes but not its type. A boxed Failure, or an `anyhow::Error` made from
/// one, comes back as that same Failure.
///
/// ```
/// use tokio_twisted::failure::Failure;
///
/// fn parse(s: &str) -> Result<u8, Failure> {
///     let n: u8 = s.parse()?; // a ParseIntError
///     if n == 0 {
///         Err("zero is not allowed")?; // a message
///     }
///     Ok(n)
/// }
/// assert!(parse("x").unwrap_err().check::<std::num::ParseIntError>());
/// assert_eq!(parse("0").unwrap_err().error_message(), "zero is not allowed");
/// ```
impl<E> From<E> for Failure
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>> + 'static,
{
    fn from(error: E) -> Self {
        // `Into<Box<dyn Error>>` rather than `E: Error` so that `anyhow::Error` (which is
        // not an `Error`, and which a second `From` impl could not be told apart from one
        // coherently) converts too. Every `Error` type is boxed as itself, so downcasting
        // still sees it. Test: tests/anyhow.rs, tests/failure.rs.
        #[cfg(feature = "anyhow")]
        if std::any::TypeId::of::<E>() == std::any::TypeId::of::<anyhow::Error>() {
            let any: Box<dyn Any> = Box::new(error);
            let error = any
                .downcast::<anyhow::Error>()
                .expect("invariant: the type ids matched");
            return Self::from_anyhow(*error);
        }
        match error.into().downcast::<FailureError>() {
            Ok(wrapped) => wrapped.0,
            Err(error) => Self::from_parts(error, type_name::<E>()),
        }
    }
}

/// With the `anyhow` feature, `?` turns a Failure into an `anyhow::Error`.
///
/// The `anyhow::Error` holds the Failure itself: its message and causes are the Failure's,
/// and converting it back with `Failure::from` gives the very same Failure, on which
/// [`check`](Failure::check) and [`downcast_ref`](Failure::downcast_ref) reach the original
/// error. (`anyhow::Error::downcast_ref` does not see through the Failure: convert back
/// first.)
///
/// ```
/// use tokio_twisted::defer::fail;
/// use tokio_twisted::failure::Failure;
///
/// async fn fetch() -> anyhow::Result<u32> {
///     let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
///     let n = fail::<u32>(Failure::new(missing)).await?; // Failure -> anyhow::Error
///     Ok(n)
/// }
///
/// let err = futures::executor::block_on(fetch()).unwrap_err();
/// assert_eq!(err.to_string(), "no such file");
/// // The original error, by converting back:
/// let f = Failure::from(err);
/// assert_eq!(f.downcast_ref::<std::io::Error>().unwrap().kind(), std::io::ErrorKind::NotFound);
/// ```
#[cfg(feature = "anyhow")]
impl Failure {
    /// The Failure an `anyhow::Error` holds, or one holding its error as that error's own
    /// type (anyhow's plain `Into<Box<dyn Error>>` would hide the type from downcasting).
    fn from_anyhow(error: anyhow::Error) -> Self {
        match error.downcast::<FailureError>() {
            Ok(wrapped) => wrapped.0,
            Err(error) => Self::from_parts(
                error.reallocate_into_boxed_dyn_error_without_backtrace(),
                "anyhow::Error",
            ),
        }
    }
}

#[cfg(feature = "anyhow")]
impl From<Failure> for anyhow::Error {
    fn from(failure: Failure) -> Self {
        anyhow::Error::new(FailureError(failure))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.error, f)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return f
                .debug_struct("Failure")
                .field("type", &self.inner.type_name)
                .field("error", &self.inner.error)
                .finish();
        }
        write!(f, "Failure {}: {}", self.inner.type_name, self.error_message())?;
        for cause in self.chain().skip(1) {
            write!(f, "\n  caused by: {cause}")?;
        }
        if let Some(bt) = &self.inner.backtrace {
            write!(f, "\n{bt}")?;
        }
        Ok(())
    }
}
