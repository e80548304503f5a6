//! Port of Twisted's `twisted/test/test_failure.py` (Twisted 26.10).
//!
//! Most of that module tests Python traceback objects, frames and pickling, which a Rust
//! `Failure` (an error plus an optional `std::backtrace::Backtrace`) does not have.
//!
//! # Not applicable
//!
//! - FailureTests.test_ConstructionFails: type system forbids it: a Rust Failure is always
//!   built from an error value, never from "the exception being handled".
//! - FailureTests.test_printDetailedTraceback, .test_printBriefTraceback: Python-only: three
//!   traceback detail levels (`Failure::traceback` has one format, ported in
//!   `test_print_traceback`).
//! - FailureTests.test_printDetailedTracebackCapturedVars, .test_printBriefTracebackCapturedVars,
//!   .test_printTracebackCapturedVars, .test_printDetailedTracebackCapturedVarsCleaned:
//!   Python-only: captured locals and globals.
//! - FailureTests.test_invalidFormatFramesDetail: Python-only: `format_frames` detail names.
//! - FailureTests.test_RaiseExceptionWithTB: Python-only: re-raising with the original
//!   traceback's innermost source line (a Rust error is returned, not re-raised).
//! - FailureTests.test_getTracebackObjectFromCaptureVars, .test_getTracebackObjectFromClean,
//!   .test_getTracebackObjectFromCaptureVarsAndClean, .test_cleanFailureRemovesTracebackInPython3:
//!   Python-only: `captureVars` and `cleanFailure` (a Rust backtrace holds no objects to clean).
//! - FailureTests.test_tracebackFromExceptionInPython3: Python-only: an exception's own
//!   `__traceback__`; a Rust error carries no backtrace that a Failure could adopt.
//! - FailureTests.test_distb: Python-only: the bytecode disassembler.
//! - FailureTests.test_stackDeprecation: Python attribute deprecation.
//! - FailureTests.test_failureWithoutTraceback, .test_failurePickling,
//!   .test_failurePicklingIncludesParents, .test_settableFrames, .test_settableParents:
//!   Python-only: pickling and the `frames`/`parents` attributes.
//! - GetTracebackTests.test_brokenTypeBriefDetail, .test_brokenTypeDefaultDetail,
//!   .test_brokenTypeVerboseDetail: Python-only: a type whose `str` fails (Rust type names are
//!   static strings).
//! - FindFailureTests.test_failureConstructionWithMungedStackSucceeds: Cython stack frames.
//! - FormattableTracebackTests.test_singleFrame, .test_manyFrames,
//!   FakeAttributesTests.test_fakeFrameAttributes, .test_fakeCodeAttributes,
//!   .test_fakeTracebackFrame: Python-only: fake frame objects.
//! - DebugModeTests.test_regularFailure, .test_captureVars: Python-only: pdb post-mortem.
//! - ExtendedGeneratorTests.test_failureConstructionFindsOriginalFailure,
//!   .test_ambiguousFailureInGenerator: Python-only: `Failure()` finding the exception being
//!   handled inside a generator; async code holds the Failure it was given as a value (see
//!   `test_failure_value_from_found_failure`).

//!
//! Counts: 48 tests in Twisted's module; 14 ported here, 34 not applicable (above).

#![allow(
    clippy::doc_markdown,
    reason = "the docs quote Twisted's camelCase and snake_case test names verbatim"
)]

use std::fmt;

use tokio_twisted::defer::{Deferred, fail};
use tokio_twisted::failure::Failure;
use tokio_twisted::testing::success_result_of;

/// Stands in for Python's `NotImplementedError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotImplementedError(&'static str);

/// Stands in for Python's `RuntimeError`.
#[derive(Debug, thiserror::Error)]
#[error("runtime error")]
struct RuntimeError;

/// Stands in for Python's `ValueError`.
#[derive(Debug, thiserror::Error)]
#[error("value error")]
struct ValueError;

/// Stands in for Python's `ZeroDivisionError`.
#[derive(Debug, thiserror::Error)]
#[error("division by zero")]
struct ZeroDivisionError;

/// Twisted's `BrokenStr`: an exception whose string form fails.
#[derive(Debug)]
struct BrokenStr;

impl fmt::Display for BrokenStr {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

impl std::error::Error for BrokenStr {}

mod failure_tests {
    use super::*;

    /// twisted: FailureTests.test_failAndTrap
    /// Trapping the wrapped type gives it back and leaves the Failure's type unchanged;
    /// trapping other types does not match.
    #[test]
    fn test_fail_and_trap() {
        let f = Failure::new(NotImplementedError("test"));
        assert!(f.trap::<RuntimeError>().is_err());
        assert_eq!(f.trap::<NotImplementedError>().unwrap().0, "test");
        assert!(f.check::<NotImplementedError>());
        assert!(f.type_name().ends_with("NotImplementedError"));
    }

    /// twisted: FailureTests.test_trapRaisesWrappedException
    /// Trapping a type that does not match gives back the very same Failure, to pass on.
    #[test]
    fn test_trap_raises_wrapped_exception() {
        let f = Failure::new(ValueError);
        let untrapped = f.trap::<ZeroDivisionError>().unwrap_err();
        assert!(untrapped.ptr_eq(&f));
        let e1: *const ValueError = f.downcast_ref().unwrap();
        let e2: *const ValueError = untrapped.downcast_ref().unwrap();
        assert_eq!(e1, e2, "the same exception object");
    }

    /// twisted: FailureTests.test_failureValueFromFailure
    /// A Failure made from another Failure holds the same error.
    #[test]
    fn test_failure_value_from_failure() {
        let f1 = Failure::new(ValueError);
        let f3 = Failure::from_boxed(f1.clone().into_boxed());
        let e1: *const ValueError = f1.downcast_ref().unwrap();
        let e3: *const ValueError = f3.downcast_ref().expect("the same error is visible");
        assert_eq!(e1, e3);
    }

    /// twisted: FailureTests.test_failureValueFromFoundFailure
    /// A Failure passed on by a `trap` that did not match (`?` in an errback) is the
    /// original Failure, holding the original error.
    #[test]
    fn test_failure_value_from_found_failure() {
        fn handle(f: &Failure) -> Result<(), Failure> {
            f.trap::<ZeroDivisionError>()?;
            Ok(())
        }
        let f1 = Failure::new(ValueError);
        let f2 = handle(&f1).unwrap_err();
        assert!(f2.ptr_eq(&f1));
        let e1: *const ValueError = f1.downcast_ref().unwrap();
        let e2: *const ValueError = f2.downcast_ref().unwrap();
        assert_eq!(e1, e2);
    }

    /// Runs the test `name` of this binary again in a child process with `RUST_BACKTRACE`
    /// set to `backtrace` (a backtrace setting is read once per process), and checks that
    /// it passed there. Returns whether this is that child.
    fn in_child_with_backtrace(name: &str, backtrace: &str) -> bool {
        const CHILD: &str = "TOKIO_TWISTED_BACKTRACE_TEST_CHILD";
        if std::env::var_os(CHILD).is_some() {
            return true;
        }
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--test-threads=1"])
            .env(CHILD, "1")
            .env("RUST_BACKTRACE", backtrace)
            .env_remove("RUST_LIB_BACKTRACE")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(
            child.status.success() && out.contains("1 passed"),
            "the test failed in its own process: {out}{}",
            String::from_utf8_lossy(&child.stderr)
        );
        false
    }

    /// twisted: FailureTests.test_getTracebackObject
    /// With backtraces asked for (`RUST_BACKTRACE=1`), a Failure keeps the backtrace taken
    /// where it was created, and its traceback text includes it.
    #[test]
    fn test_get_traceback_object() {
        let _limit = crate::common::time_limit();
        if !in_child_with_backtrace("test_failure::failure_tests::test_get_traceback_object", "1") {
            return;
        }
        let f = Failure::new(ZeroDivisionError);
        let bt = f.backtrace().expect("a backtrace was asked for");
        assert_eq!(bt.status(), std::backtrace::BacktraceStatus::Captured);
        assert!(f.traceback().contains(&bt.to_string()));
    }

    /// twisted: FailureTests.test_getTracebackObjectWithoutTraceback
    /// Without backtraces asked for (`RUST_BACKTRACE=0`), a Failure has none, and its
    /// traceback text is just the error.
    #[test]
    fn test_get_traceback_object_without_traceback() {
        let _limit = crate::common::time_limit();
        if !in_child_with_backtrace(
            "test_failure::failure_tests::test_get_traceback_object_without_traceback",
            "0",
        ) {
            return;
        }
        let f = Failure::new(ZeroDivisionError);
        assert!(f.backtrace().is_none());
        assert_eq!(
            f.traceback(),
            format!("Failure {}: division by zero", f.type_name())
        );
    }

    /// twisted: FailureTests.test_printTraceback
    /// The traceback text ends with the error's type and message.
    #[test]
    fn test_print_traceback() {
        let f = Failure::new(ZeroDivisionError);
        let tb = f.traceback();
        assert!(
            tb.starts_with(&format!("Failure {}: division by zero", f.type_name())),
            "{tb}"
        );
    }

    /// twisted: FailureTests.test_ExplictPass
    /// Trapping a matching type leaves the Failure's value as it was.
    #[test]
    fn test_explict_pass() {
        let f = Failure::new(RuntimeError);
        let before: *const RuntimeError = f.downcast_ref().unwrap();
        let trapped: *const RuntimeError = f.trap::<RuntimeError>().unwrap();
        assert_eq!(before, trapped);
    }

    /// twisted: FailureTests.test_repr
    /// The Debug form shows the type's full name and the message.
    #[test]
    fn test_repr() {
        let f = Failure::new(ZeroDivisionError);
        let repr = format!("{f:?}");
        assert!(f.type_name().contains("::"), "a fully qualified name");
        assert!(
            repr.starts_with(&format!("Failure {}: division by zero", f.type_name())),
            "{repr}"
        );
    }
}

mod get_traceback_tests {
    use super::*;

    /// twisted: GetTracebackTests.test_brokenValueBriefDetail
    /// The message of an error whose Display fails is still a string.
    #[test]
    fn test_broken_value_brief_detail() {
        let f = Failure::new(BrokenStr);
        assert!(f.error_message().contains("BrokenStr"));
    }

    /// twisted: GetTracebackTests.test_brokenValueDefaultDetail
    /// The traceback of an error whose Display fails is still a string.
    #[test]
    fn test_broken_value_default_detail() {
        let f = Failure::new(BrokenStr);
        assert!(f.traceback().starts_with("Failure "));
    }

    /// twisted: GetTracebackTests.test_brokenValueVerboseDetail
    /// The verbose (alternate Debug) form of such an error is still a string.
    #[test]
    fn test_broken_value_verbose_detail() {
        let f = Failure::new(BrokenStr);
        assert!(format!("{f:#?}").contains("BrokenStr"));
    }
}

mod extended_generator_tests {
    use super::*;

    /// twisted: ExtendedGeneratorTests.test_throwExceptionIntoGenerator
    /// A Failure awaited in async code arrives at the await as the same error.
    #[test]
    fn test_throw_exception_into_generator() {
        let f = Failure::new(ZeroDivisionError);
        let expected = f.clone();
        let d = Deferred::from_future(async move {
            match fail::<()>(f).await {
                Err(got) => Ok::<_, Failure>(got),
                Ok(()) => panic!("yield should have raised"),
            }
        });
        let got = success_result_of(d);
        assert!(got.ptr_eq(&expected));
        assert!(got.check::<ZeroDivisionError>());
    }

    /// twisted: ExtendedGeneratorTests.test_ambiguousFailureFromGenerator
    /// Async code that is given one failure and fails with another reports the new one.
    #[test]
    fn test_ambiguous_failure_from_generator() {
        #[derive(Debug, thiserror::Error)]
        #[error("index out of range")]
        struct IndexError;
        let f = Failure::new(ZeroDivisionError);
        let d = Deferred::<()>::from_future(async move {
            match fail::<()>(f).await {
                Err(_) => Err(Failure::new(IndexError)),
                Ok(()) => panic!("yield should have raised"),
            }
        });
        let got = tokio_twisted::testing::failure_result_of(d);
        assert!(got.check::<IndexError>(), "{got:?}");
    }
}
