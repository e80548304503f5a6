//! Compile-time checks of the auto traits the design promises: Deferreds, resolvers,
//! Failures and aggregates cross threads, and a resolver can be cloned and shared.

use std::panic::{RefUnwindSafe, UnwindSafe};

use tokio_twisted::defer::{
    AlreadyCalledError, CancelledError, Deferred, DeferredList, FailureGroup, FirstError, FirstSuccess,
    NotPausedError, Outcome, Resolver, TimeoutError,
};
use tokio_twisted::failure::{Failure, MessageError, PanicError};
use tokio_twisted::task::Clock;

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}
fn assert_clone<T: Clone>() {}
fn assert_unpin<T: Unpin>() {}
fn assert_static<T: 'static>() {}
fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
fn assert_future<T: std::future::Future<Output = Result<U, Failure>> + Send, U>() {}
fn assert_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

/// A type that is `Send` but not `Sync`: what a Deferred may carry.
type SendOnly = std::cell::Cell<i32>;

#[test]
fn deferred_is_send_sync_unpin_and_a_send_future() {
    assert_send::<Deferred<i32>>();
    assert_sync::<Deferred<i32>>();
    assert_unpin::<Deferred<i32>>();
    assert_static::<Deferred<i32>>();
    assert_future::<Deferred<i32>, i32>();
    // A value that is only Send still gives a Send + Sync Deferred (DESIGN.md decision 4).
    assert_send::<Deferred<SendOnly>>();
    assert_sync::<Deferred<SendOnly>>();
}

#[test]
fn resolver_is_send_sync_and_clone() {
    assert_send::<Resolver<i32>>();
    assert_sync::<Resolver<i32>>();
    assert_clone::<Resolver<i32>>();
    assert_send::<Resolver<SendOnly>>();
    assert_sync::<Resolver<SendOnly>>();
    assert_clone::<Resolver<SendOnly>>();
}

#[test]
fn failure_is_send_sync_and_clone() {
    assert_send::<Failure>();
    assert_sync::<Failure>();
    assert_clone::<Failure>();
}

#[test]
fn handles_are_unwind_safe() {
    assert_unwind_safe::<Resolver<i32>>();
    assert_unwind_safe::<Deferred<i32>>();
}

#[test]
fn aggregates_are_send() {
    assert_send::<DeferredList<i32>>();
    assert_sync::<DeferredList<i32>>();
    assert_send::<FirstSuccess<i32>>();
    assert_send::<Outcome<i32>>();
    assert_send::<Clock>();
    assert_sync::<Clock>();
    assert_clone::<Clock>();
}

#[test]
fn named_errors_are_errors() {
    assert_error::<AlreadyCalledError>();
    assert_error::<CancelledError>();
    assert_error::<NotPausedError>();
    assert_error::<TimeoutError>();
    assert_error::<FirstError>();
    assert_error::<FailureGroup>();
    assert_error::<MessageError>();
    assert_error::<PanicError>();
}
