// Tests: tests/defer.rs (Debug output), tests/conformance/test_defer.rs (repr cases)

//! Twisted-style `Debug` output for a Deferred's shared state, shared by the `Deferred`
//! and `Resolver` handles.

use std::fmt;
use std::sync::Arc;

use super::core::Inner;

/// Twisted-style repr: `<Deferred at 0x.. current result: 3>`, `<Deferred at 0x..
/// waiting on Deferred at 0x..>`, or `<Deferred at 0x..>`.
pub(super) fn fmt_inner<T: fmt::Debug + 'static>(
    inner: &Arc<Inner>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    let s = inner.snapshot();
    write!(f, "<Deferred at {:p}", Arc::as_ptr(inner))?;
    if let Some(w) = inner.waiting_on() {
        write!(f, " waiting on Deferred at {:p}", Arc::as_ptr(&w))?;
    } else if s.consumed {
        f.write_str(" current result: None")?;
    } else if s.has_result {
        inner.with_result(|r| match r {
            Some(Ok(slot)) => match slot.downcast_ref::<Option<T>>().and_then(Option::as_ref) {
                Some(v) => write!(f, " current result: {v:?}"),
                // A unit result (the value went on to an aggregate) reads as Python's None.
                None if slot.is::<Option<()>>() => f.write_str(" current result: None"),
                None => f.write_str(" current result: <value>"),
            },
            Some(Err(e)) => write!(f, " current result: {e:?}"),
            None => Ok(()),
        })?;
    }
    if s.paused > 0 {
        write!(f, " paused: {}", s.paused)?;
    }
    if s.pending > 0 {
        write!(f, " callbacks: {}", s.pending)?;
    }
    f.write_str(">")
}
