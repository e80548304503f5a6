//! `anyhow` interop: `?` from `anyhow::Error` into `Failure` (always) and from `Failure`
//! into `anyhow::Error` (the `anyhow` feature), with the original error still reachable.

#![cfg(feature = "anyhow")]

use std::io;

use anyhow::Context as _;
use tokio_twisted::defer::{Deferred, fail, succeed};
use tokio_twisted::failure::Failure;
use tokio_twisted::testing::{failure_result_of, success_result_of};

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file")
}

/// An anyhow error made from an `io::Error` becomes a Failure that `check`s as one and
/// downcasts to it.
#[test]
fn anyhow_into_failure_keeps_the_original_type() {
    let f = Failure::from(anyhow::Error::new(not_found()));
    assert!(f.check::<io::Error>());
    assert_eq!(
        f.downcast_ref::<io::Error>().unwrap().kind(),
        io::ErrorKind::NotFound
    );
    assert_eq!(f.error_message(), "no such file");
}

/// `?` on an `anyhow::Result` inside a callback fails the Deferred with that error.
#[test]
fn question_mark_from_anyhow_in_a_callback() {
    fn open(_: u32) -> anyhow::Result<u32> {
        Err(not_found().into())
    }
    let d = succeed(1_u32).add_callback(|x| Ok::<_, Failure>(open(x)?));
    assert!(failure_result_of(d).check::<io::Error>());
}

/// Context added with anyhow stays in the message, and the original error stays in the
/// Failure's chain of causes.
#[test]
fn anyhow_context_keeps_the_cause_in_the_chain() {
    let err = Err::<(), _>(not_found())
        .context("reading the config")
        .unwrap_err();
    let f = Failure::from(err);
    assert_eq!(f.error_message(), "reading the config");
    assert!(f.chain().any(<dyn std::error::Error>::is::<io::Error>));
}

/// `?` turns a Failure into an `anyhow::Error`; converting it back gives the very same
/// Failure, so the original error is reachable with `downcast_ref`.
#[test]
fn failure_into_anyhow_and_back_is_the_same_failure() {
    fn passes_on(f: Failure) -> anyhow::Result<()> {
        Err(f)?;
        Ok(())
    }
    let original = Failure::new(not_found());
    let err = passes_on(original.clone()).unwrap_err();
    assert_eq!(err.to_string(), "no such file");
    let back = Failure::from(err);
    assert!(back.ptr_eq(&original));
    assert_eq!(
        back.downcast_ref::<io::Error>().unwrap().kind(),
        io::ErrorKind::NotFound
    );
}

/// The causes below the Failure's error are the anyhow error's causes too.
#[test]
fn failure_into_anyhow_keeps_the_causes() {
    #[derive(Debug, thiserror::Error)]
    #[error("could not load")]
    struct Load(#[source] io::Error);
    let err = anyhow::Error::from(Failure::new(Load(not_found())));
    let texts: Vec<String> = err.chain().map(ToString::to_string).collect();
    assert_eq!(texts, ["could not load", "no such file"]);
}

/// Awaiting a failed Deferred in anyhow code: `?` both ways in one program.
#[test]
fn await_with_question_mark_into_anyhow() {
    async fn run(d: Deferred<u32>) -> anyhow::Result<u32> {
        Ok(d.await? + 1)
    }
    let ok = futures::executor::block_on(run(succeed(1)));
    assert_eq!(ok.unwrap(), 2);
    let err = futures::executor::block_on(run(fail(Failure::new(not_found())))).unwrap_err();
    assert!(Failure::from(err).check::<io::Error>());
    let d = Deferred::from_future(async { Ok::<_, Failure>(run(succeed(41)).await?) });
    assert_eq!(success_result_of(d), 42);
}
