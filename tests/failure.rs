//! Public behaviour of `failure::Failure`: building one, asking what it holds, formatting,
//! sharing, and the round trip through `Box<dyn Error>`.

use std::error::Error as StdError;
use std::fmt;

use tokio_twisted::failure::{Failure, MessageError, PanicError};

#[derive(Debug, thiserror::Error)]
#[error("no such user: {0}")]
struct NoSuchUser(String);

#[derive(Debug, thiserror::Error)]
#[error("lookup failed")]
struct LookupFailed {
    #[source]
    cause: NoSuchUser,
}

/// An error whose `Display` fails.
#[derive(Debug)]
struct BrokenDisplay;

impl fmt::Display for BrokenDisplay {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

impl StdError for BrokenDisplay {}

/// Any error converts into a Failure, so `?` works, and the Failure keeps its type.
#[test]
fn from_any_error_and_question_mark() {
    fn parse(s: &str) -> Result<i32, Failure> {
        Ok(s.parse::<i32>()?)
    }
    let f = parse("x").unwrap_err();
    assert!(f.check::<std::num::ParseIntError>());
    assert!(!f.check::<NoSuchUser>());
    assert!(f.type_name().ends_with("ParseIntError"), "{}", f.type_name());
    assert_eq!(parse("7").unwrap(), 7);
}

/// `Failure::msg` holds a `MessageError` with the text.
#[test]
fn message_failures() {
    let f = Failure::msg("plain words");
    assert!(f.check::<MessageError>());
    assert_eq!(f.downcast_ref::<MessageError>().unwrap().0, "plain words");
    assert_eq!(f.error_message(), "plain words");
    assert_eq!(f.to_string(), "plain words");
}

/// `trap` hands back the error when it matches, or the same Failure for `?` to pass on.
#[test]
fn trap_matches_or_passes_on() {
    let f = Failure::new(NoSuchUser("moshez".into()));
    assert_eq!(f.trap::<NoSuchUser>().unwrap().0, "moshez");
    let passed_on = f.trap::<MessageError>().unwrap_err();
    assert!(passed_on.ptr_eq(&f));
}

/// `downcast` takes the error out only from the last handle.
#[test]
fn downcast_needs_the_only_handle() {
    let f = Failure::new(NoSuchUser("a".into()));
    let shared = f.clone();
    let f = f.downcast::<NoSuchUser>().unwrap_err();
    assert!(f.ptr_eq(&shared), "shared: given back unchanged");
    drop(shared);
    let f = f.downcast::<MessageError>().unwrap_err();
    assert!(f.check::<NoSuchUser>(), "wrong type: given back unchanged");
    assert_eq!(f.downcast::<NoSuchUser>().unwrap().0, "a");
}

/// Clones share one record; separately built Failures are distinct.
#[test]
fn clones_share_identity() {
    let f = Failure::msg("x");
    let g = f.clone();
    assert!(f.ptr_eq(&g));
    assert!(!f.ptr_eq(&Failure::msg("x")));
    let e1: *const MessageError = f.downcast_ref::<MessageError>().unwrap();
    let e2: *const MessageError = g.downcast_ref::<MessageError>().unwrap();
    assert_eq!(e1, e2);
}

/// A panic payload becomes a `PanicError` with the panic's message, whatever its type.
#[test]
fn panics_become_panic_errors() {
    let caught = std::panic::catch_unwind(|| panic!("static str")).unwrap_err();
    let f = Failure::from_panic(caught);
    assert!(f.is_panic());
    assert_eq!(f.downcast_ref::<PanicError>().unwrap().message(), "static str");
    let caught = std::panic::catch_unwind(|| panic!("formatted {}", 42)).unwrap_err();
    assert_eq!(
        Failure::from_panic(caught).error_message(),
        "panicked: formatted 42"
    );
    let f = Failure::from_panic(Box::new(3.5_f64));
    assert_eq!(f.downcast_ref::<PanicError>().unwrap().message(), "Box<dyn Any>");
    assert!(!Failure::msg("x").is_panic());
}

/// `source` and `chain` follow the wrapped error's causes; Debug lists them.
#[test]
fn sources_and_chain() {
    let f = Failure::new(LookupFailed {
        cause: NoSuchUser("glyph".into()),
    });
    assert_eq!(f.source().unwrap().to_string(), "no such user: glyph");
    let chain: Vec<String> = f.chain().map(ToString::to_string).collect();
    assert_eq!(chain, ["lookup failed", "no such user: glyph"]);
    let debug = format!("{f:?}");
    assert!(debug.starts_with("Failure "), "{debug}");
    assert!(debug.contains("LookupFailed: lookup failed"), "{debug}");
    assert!(debug.contains("\n  caused by: no such user: glyph"), "{debug}");
    assert!(
        f.traceback()
            .starts_with(&format!("Failure {}: lookup failed", f.type_name()))
    );
}

/// The alternate Debug form is a struct with the type and the error.
#[test]
fn alternate_debug() {
    let f = Failure::msg("x");
    let alt = format!("{f:#?}");
    assert!(alt.starts_with("Failure {"), "{alt}");
    assert!(alt.contains("MessageError"), "{alt}");
}

/// `as_error` and `into_boxed` give a `dyn Error` with the same text and sources.
#[test]
fn as_error_and_into_boxed() {
    let f = Failure::new(LookupFailed {
        cause: NoSuchUser("x".into()),
    });
    assert_eq!(f.as_error().to_string(), "lookup failed");
    assert!(f.as_error().is::<LookupFailed>());
    let boxed = f.clone().into_boxed();
    assert_eq!(boxed.to_string(), "lookup failed");
    assert_eq!(boxed.source().unwrap().to_string(), "no such user: x");
}

/// A boxed error keeps its dynamic type, and a Failure boxed with `into_boxed` comes back
/// as the same Failure (Twisted's `Failure(aFailure)`).
#[test]
fn boxed_round_trip() {
    let boxed: Box<dyn StdError + Send + Sync> = Box::new(NoSuchUser("x".into()));
    assert!(Failure::from_boxed(boxed).check::<NoSuchUser>());
    let f = Failure::new(NoSuchUser("y".into()));
    let back = Failure::from_boxed(f.clone().into_boxed());
    assert!(back.check::<NoSuchUser>());
    assert!(back.ptr_eq(&f));
}

/// An error whose `Display` fails still gives a message and a traceback instead of a
/// panic (Twisted's `safe_str`).
#[test]
fn broken_display_is_survivable() {
    let f = Failure::new(BrokenDisplay);
    let message = f.error_message();
    assert!(message.contains("BrokenDisplay"), "{message}");
    assert!(f.traceback().contains("BrokenDisplay"));
    assert!(format!("{f:#?}").contains("BrokenDisplay"));
}

/// Messages and boxed errors convert with `?` as well; a boxed Failure comes back as itself.
#[test]
fn messages_and_boxed_errors_convert() {
    fn msg() -> Result<(), Failure> {
        Err("plain text")?;
        Ok(())
    }
    assert_eq!(msg().unwrap_err().error_message(), "plain text");
    let owned = Failure::from(String::from("owned text"));
    assert_eq!(owned.error_message(), "owned text");
    let original = Failure::msg("boxed");
    let boxed: Box<dyn std::error::Error + Send + Sync> = original.clone().into_boxed();
    assert!(Failure::from(boxed).ptr_eq(&original));
    let io: Box<dyn std::error::Error + Send + Sync> = Box::new(std::io::Error::other("io"));
    assert!(Failure::from(io).check::<std::io::Error>());
}
