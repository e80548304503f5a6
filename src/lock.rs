// Tests: every test exercises it; no behaviour of its own.

//! The one way this crate takes a mutex.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, ignoring poisoning.
///
/// User code never runs while one of the crate's locks is held (callbacks, cancellers,
/// timed calls and wakers all run after the guard is dropped), so a poisoned lock can only
/// come from a panic inside the crate itself, and the data it guards is still consistent
/// field by field.
pub(crate) fn lock<S: ?Sized>(m: &Mutex<S>) -> MutexGuard<'_, S> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
