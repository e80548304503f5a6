//! Port of `twisted/test/test_defer.py`, `twisted/internet/test/test_inlinecb.py` and
//! `twisted/internet/test/test_defer_await.py`.

use tokio_twisted::defer::{Deferred, succeed};

/// twisted: DeferredTests.testCallbackWithoutArgs
/// A callback added before firing receives the fired value.
#[test]
fn test_callback_without_args() {
    let (d, r) = Deferred::<&str>::new();
    let d = d.add_callback(|v| Ok(format!("{v}!")));
    r.callback("hello").unwrap();
    assert_eq!(d.result().unwrap().unwrap(), "hello!");
    assert_eq!(succeed(1).result().unwrap().unwrap(), 1);
}
